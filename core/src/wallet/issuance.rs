//! OpenID4VCI issuance and the device's tokens: activation with the mailed code,
//! refreshing the documents, and releasing the device. "Lupa PIN" is in `reset`.

use super::records::{
    to_json, EnrollmentRecord, Held, Issuer, StoredTokens, DOC_KK, DOC_KTP, DOC_TOKENS, KV_ISSUER,
    KV_PENDING, KV_STATE,
};
use super::steps::{kv_step, refresh_steps, STEP_REFRESH, STEP_RELEASE};
use super::{err, internal, Wallet};
use crate::client::{BackendClient, IdempotencyKey, Prepared, Tokens};
use crate::enrollment::EnrollmentState;
use crate::error::{ErrorCode, UiError};
use crate::sdjwt;
use crate::secret::SecretString;
use crate::store::db;
use crate::view::{AppState, HistoryKind};
use crate::wire::{DisplayEntry, EcJwk, KK_CONFIGURATION, KK_VCT, KTP_CONFIGURATION, KTP_VCT};
use crate::x509::{Cert, TrustAnchors};

/// The Dukcapil root in the data directory (the deployment's configuration).
pub const ISSUER_ROOT_FILE: &str = "dukcapil-root.pem";
/// Development builds: a PEM file holding the Dukcapil root.
pub const ISSUER_ROOT_ENV: &str = "IKD_ISSUER_ROOT";

impl Wallet {
    /// Fetches KTP and KK with `access_token`, each with a fresh nonce and proof, and
    /// checks each as it arrives ([`Self::check_received`]).
    pub(super) async fn fetch_credentials(
        &self,
        client: &BackendClient,
        issuer: &Issuer,
        access_token: &SecretString,
    ) -> Result<(String, String), UiError> {
        let mut out = Vec::with_capacity(2);
        for (conf, vct) in [(KTP_CONFIGURATION, KTP_VCT), (KK_CONFIGURATION, KK_VCT)] {
            // A kept step: a retry (also after a restart) resends the same request.
            let c = self
                .credential_step(client, &issuer.id, access_token, conf)
                .await?;
            self.check_received(&c, issuer, vct)?;
            out.push(c);
        }
        let kk = out.pop().ok_or_else(|| internal("credential"))?;
        let ktp = out.pop().ok_or_else(|| internal("credential"))?;
        Ok((ktp, kk))
    }

    /// A received credential is the issuer's and the one asked for: signed by the
    /// issuer key, bound to this device's key, `iss` = the issuer, the `vct` of the
    /// configuration asked for, and, when the issuer has a Dukcapil root pinned, an
    /// `x5c` chain to that root whose first certificate holds the issuer key.
    pub(super) fn check_received(
        &self,
        sd_jwt: &str,
        issuer: &Issuer,
        vct: &str,
    ) -> Result<sdjwt::Verified, UiError> {
        let v = sdjwt::verify(
            sd_jwt,
            &issuer.jwk,
            Some(&self.device().public_jwk()),
            self.now(),
        )?;
        if v.issuer != issuer.id {
            return Err(err(
                ErrorCode::CredentialInvalid,
                "the credential's iss is not the issuer",
            ));
        }
        if v.vct != vct {
            return Err(err(
                ErrorCode::CredentialInvalid,
                "the credential's vct is not the one asked for",
            ));
        }
        if let Some(root) = &issuer.root {
            let root = Cert::from_x5c(root).map_err(|_| internal("pinned root"))?;
            check_x5c(sd_jwt, &root, &issuer.jwk, self.now())?;
        }
        Ok(v)
    }

    /// The configured Dukcapil root: `dukcapil-root.pem` in the data directory (the
    /// deployment's configuration), and in development builds the PEM file named by
    /// `IKD_ISSUER_ROOT` (e.g. the demo server's `dukcapil-root.pem`).
    pub(super) fn configured_issuer_root(&self) -> Result<Option<Cert>, UiError> {
        let mut files = vec![self.data_dir.join(ISSUER_ROOT_FILE)];
        if self.dev_build {
            if let Some(p) = std::env::var_os(ISSUER_ROOT_ENV) {
                files.push(p.into());
            }
        }
        for f in files {
            let Ok(text) = std::fs::read_to_string(&f) else {
                continue;
            };
            let certs = crate::x509::parse_pem(&text).map_err(|e| {
                err(
                    ErrorCode::Internal,
                    &format!("bad Dukcapil root {}: {e}", f.display()),
                )
            })?;
            if let Some(c) = certs.into_iter().next() {
                return Ok(Some(c));
            }
        }
        Ok(None)
    }

    pub async fn activate(&self, code: SecretString) -> Result<AppState, UiError> {
        let state = self.state()?;
        let next = state.activate()?;
        let rec = self.record_required()?;
        let client = self.client();
        let meta = client.issuer_metadata().await?;
        // The issuer is the configured one, not whatever the backend (or a proxy in
        // front of it) names.
        if meta.credential_issuer.trim_end_matches('/')
            != self.expected_issuer().trim_end_matches('/')
        {
            return Err(err(
                ErrorCode::CredentialInvalid,
                "the metadata's credential_issuer is not the configured issuer",
            ));
        }
        let issuer = Issuer {
            id: meta.credential_issuer.clone(),
            jwk: meta.issuer_jwk.clone(),
            name: DisplayEntry::pick_name(&meta.metadata.display),
            root: self.configured_issuer_root()?.map(|c| c.to_x5c()),
        };
        // The code is spent only once the issuer is the configured one.
        let tokens = self.redeem(&client, &state, &rec, &code).await?;
        let (ktp, kk) = self
            .fetch_credentials(&client, &issuer, &tokens.access_token)
            .await?;
        let held = Held {
            ktp,
            kk,
            tokens: tokens.into(),
        };
        let sealed = self.seal_json(KV_PENDING, &held)?;
        let issuer_sealed = self.seal_json(KV_ISSUER, &issuer)?;
        let state_json = next.to_json();
        // The held documents, and the end of the code entry's kept steps: one write.
        self.commit(
            &[
                (KV_PENDING, sealed.as_str()),
                (KV_ISSUER, issuer_sealed.as_str()),
                (KV_STATE, state_json.as_str()),
            ],
            &[],
            &super::steps::activation_steps(),
        )?;
        self.history_add(HistoryKind::Activated, None)?;
        self.app_state()
    }

    /// Redeems the record's offer (activation, or "Lupa PIN") with the mailed code; a
    /// wrong code saves the tries left (the backend's count) before the error goes back.
    pub(super) async fn redeem(
        &self,
        client: &BackendClient,
        state: &EnrollmentState,
        rec: &EnrollmentRecord,
        code: &SecretString,
    ) -> Result<Tokens, UiError> {
        let pac = rec
            .offer
            .as_ref()
            .and_then(|o| o.grants.pre_authorized_code.as_ref())
            .map(|g| g.pre_authorized_code.as_str())
            .ok_or_else(|| err(ErrorCode::InvalidState, "no code to redeem yet"))?;
        // A kept step: the same code after a lost answer spends no second try.
        match self.token_step(client, pac, code).await {
            Ok(t) => Ok(t),
            Err(e) => {
                let ui = e;
                if let Some(left) = ui
                    .detail
                    .as_ref()
                    .and_then(|d| d.get("attempts_left"))
                    .and_then(|v| v.as_u64())
                {
                    let rec = EnrollmentRecord {
                        code_attempts_left: u32::try_from(left).ok(),
                        ..rec.clone()
                    };
                    self.save(state, &rec)?;
                }
                Err(ui)
            }
        }
    }

    pub async fn refresh_documents(&self) -> Result<(), UiError> {
        let old = self.tokens()?;
        let client = self.client();
        let refresh = old
            .refresh_token
            .clone()
            .ok_or_else(|| err(ErrorCode::InvalidState, "no refresh token"))?;
        // A kept step: a grant whose answer was lost is resent with the same key and
        // body after a restart, and the server replays its one rotation (the spent
        // refresh token would be refused).
        let input = super::steps::input_of(&[refresh.expose().as_bytes()]);
        let tokens: StoredTokens = self
            .run_step(
                STEP_REFRESH,
                &input,
                || async { Ok(Prepared::new(BackendClient::refresh_body(&refresh))) },
                |p| {
                    let client = &client;
                    async move { client.token_prepared(&p).await }
                },
            )
            .await?
            .into();
        let issuer = self.issuer()?;
        let (ktp, kk) = self
            .fetch_credentials(&client, &issuer, &tokens.access_token)
            .await?;
        let fresh = self.verify(&ktp)?;
        // The documents are the resident's: a KTP for another NIK (a backend that
        // mixed up or took over a device) replaces nothing.
        let held = self.verify(&self.doc(DOC_KTP)?)?;
        let same = matches!((ktp_nik(fresh), ktp_nik(held)), (Some(a), Some(b)) if a == b);
        if !same {
            return Err(err(
                ErrorCode::CredentialInvalid,
                "the refreshed KTP names another NIK",
            ));
        }
        let tokens = StoredTokens {
            refresh_token: tokens.refresh_token.or(old.refresh_token),
            ..tokens
        };
        let tokens_json = SecretString::new(to_json(&tokens)?);
        let now = self.now();
        // Both documents, the tokens and the history entry: one transaction.
        self.with_key(|key| {
            self.vault.put_documents(
                key,
                &[
                    (DOC_KTP, ktp.as_bytes()),
                    (DOC_KK, kk.as_bytes()),
                    (DOC_TOKENS, tokens_json.expose().as_bytes()),
                ],
                |tx| {
                    db::append_history(tx, now, HistoryKind::DocumentsRefreshed, None)?;
                    // The grant's and the credential requests' kept steps end here.
                    for step in refresh_steps() {
                        db::delete_kv(tx, &kv_step(&step))?;
                    }
                    Ok(())
                },
            )?;
            Ok(())
        })
    }

    /// Lepas Perangkat: tells the backend (needs the documents unlocked), then wipes
    /// every local record and makes a new device key.
    pub async fn release_device(&self) -> Result<AppState, UiError> {
        let tokens = self.tokens()?;
        let issuer = self.issuer()?;
        let client = self.client();
        // A kept step: after a lost answer and a restart the same request goes again
        // and the server replays "released" (the device is released once).
        let input = super::steps::input_of(&[tokens.access_token.expose().as_bytes()]);
        self.run_step(
            STEP_RELEASE,
            &input,
            || async {
                let nonce = client.nonce().await?;
                let proof = self.device().proof_jwt(&issuer.id, &nonce, self.now())?;
                let body = crate::wire::DeviceRequest {
                    proof,
                    selfie_jpeg: None,
                };
                Ok(Prepared::json(IdempotencyKey::random(), &body)?)
            },
            |p| {
                let (client, tokens) = (&client, &tokens);
                async move { client.release_prepared(&tokens.access_token, &p).await }
            },
        )
        .await?;
        // Every local record goes, the kept step with them.
        self.wipe_local(HistoryKind::DeviceReleased)
    }
}

/// The NIK of a verified KTP (None when it has none).
fn ktp_nik(v: sdjwt::Verified) -> Option<String> {
    crate::credential::model::Ktp::from_claims(v.claims)
        .ok()
        .map(|k| k.nik)
}

/// The credential's `x5c` header chains to `root`, and its first certificate holds
/// `issuer_jwk` (the key the signature was checked with).
fn check_x5c(
    sd_jwt: &str,
    root: &Cert,
    issuer_jwk: &EcJwk,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), UiError> {
    let bad = |why: &str| err(ErrorCode::CredentialInvalid, &format!("issuer x5c: {why}"));
    let parts = sdjwt::split(sd_jwt).map_err(|_| bad("malformed"))?;
    let jws = crate::jose::decode_unverified(parts.jwt).map_err(|_| bad("malformed"))?;
    let x5c = jws.header.get("x5c").ok_or_else(|| bad("missing"))?;
    let chain = Cert::chain_from_x5c(x5c).map_err(|e| bad(&e.to_string()))?;
    TrustAnchors::new(vec![root.clone()])
        .verify_chain(&chain, now)
        .map_err(|e| bad(&e.to_string()))?;
    let leaf = chain.first().ok_or_else(|| bad("empty"))?;
    if leaf.public_jwk().map_err(|e| bad(&e.to_string()))? != *issuer_jwk {
        return Err(bad("the certificate is not the issuer key's"));
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::clock::SystemClock;
    use crate::jose::EcKeyPair;
    use crate::vault::MemoryKeyStore;
    use crate::wallet::WalletConfig;
    use chrono::{Duration, Utc};
    use serde_json::{json, Map};
    use std::sync::Arc;

    const ISS: &str = "https://ikd.example.go.id";
    /// A self-signed P-256 certificate ("IKD test root", made with openssl for this test).
    const ROOT_X5C: &str = "MIIBhzCCAS2gAwIBAgIUT1moq8SjHZLqdajOQjXVGLrnBWcwCgYIKoZIzj0EAwIwGDEWMBQGA1UEAwwNSUtEIHRlc3Qgcm9vdDAgFw0yNjEyMDExODA0NTdaGA8yMTI2MTEwNzE4MDQ1N1owGDEWMBQGA1UEAwwNSUtEIHRlc3Qgcm9vdDBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABOJODUqsxgcbEYSeZqDEHg3tBy1XhIgaRrNqmOuQBWtrhMAj/v0XqBWvGLCj/81WZp9YvGOjeWAK7QcZUreMxeOjUzBRMB0GA1UdDgQWBBSl7z6WiRegPfncfyNf6znZV2qxzDAfBgNVHSMEGDAWgBSl7z6WiRegPfncfyNf6znZV2qxzDAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCICzIH5QfNnb0MCeilZ1ENfIXp16yu6oRqp5hh1DYmR75AiEA+XcABvKk/G5QhEhVlPSvPc6xBLTBcPzVTg66U0sTkJs=";

    fn wallet(dir: &std::path::Path) -> Wallet {
        Wallet::open(WalletConfig {
            data_dir: dir.to_path_buf(),
            backend_url: ISS.into(),
            dev_build: false,
            clock: Arc::new(SystemClock),
            keystore: Arc::new(MemoryKeyStore::default()),
            kdf: None,
            issuer_url: None,
        })
        .unwrap()
    }

    fn credential(w: &Wallet, key: &EcKeyPair, iss: &str, vct: &str) -> String {
        let mut claims = Map::new();
        claims.insert("nama".into(), json!("SITI RAHMAWATI"));
        let holder = w.device().public_jwk();
        let now = Utc::now();
        let req = sdjwt::IssueRequest::new(iss, vct, claims, &holder, now, now + Duration::days(1));
        sdjwt::issue(key, &req).unwrap()
    }

    #[test]
    fn received_credentials_must_name_the_issuer_and_the_vct_asked_for() {
        let dir = tempfile::tempdir().unwrap();
        let w = wallet(dir.path());
        let key = EcKeyPair::generate().unwrap();
        let issuer = Issuer {
            id: ISS.into(),
            jwk: key.public_jwk(),
            name: None,
            root: None,
        };
        let good = credential(&w, &key, ISS, KTP_VCT);
        assert!(w.check_received(&good, &issuer, KTP_VCT).is_ok());
        // Another issuer's identifier, signed by the same key.
        let other_iss = credential(&w, &key, "https://elsewhere.example", KTP_VCT);
        let e = w.check_received(&other_iss, &issuer, KTP_VCT).unwrap_err();
        assert_eq!(e.code, ErrorCode::CredentialInvalid);
        assert!(e.message.contains("iss"), "{}", e.message);
        // A KK where a KTP was asked for.
        let kk = credential(&w, &key, ISS, KK_VCT);
        let e = w.check_received(&kk, &issuer, KTP_VCT).unwrap_err();
        assert_eq!(e.code, ErrorCode::CredentialInvalid);
        assert!(e.message.contains("vct"), "{}", e.message);
        // Another key's signature.
        let stranger = EcKeyPair::generate().unwrap();
        let forged = credential(&w, &stranger, ISS, KTP_VCT);
        assert!(w.check_received(&forged, &issuer, KTP_VCT).is_err());
    }

    #[test]
    fn a_pinned_root_requires_an_x5c_chain() {
        let dir = tempfile::tempdir().unwrap();
        let w = wallet(dir.path());
        let key = EcKeyPair::generate().unwrap();
        // Any certificate will do as the pinned root: the credential carries no x5c.
        let root = crate::x509::Cert::chain_from_x5c(&json!([ROOT_X5C]));
        let Ok(root) = root else {
            panic!("the test root parses")
        };
        let issuer = Issuer {
            id: ISS.into(),
            jwk: key.public_jwk(),
            name: None,
            root: Some(root[0].to_x5c()),
        };
        let c = credential(&w, &key, ISS, KTP_VCT);
        let e = w.check_received(&c, &issuer, KTP_VCT).unwrap_err();
        assert_eq!(e.code, ErrorCode::CredentialInvalid);
        assert!(e.message.contains("x5c"), "{}", e.message);
    }
}
