//! OpenID4VCI issuance and the device's tokens: activation with the mailed code,
//! refreshing the documents, and releasing the device. "Lupa PIN" is in `reset`.

use super::records::{
    to_json, EnrollmentRecord, Held, Issuer, StoredTokens, DOC_KK, DOC_KTP, DOC_TOKENS, KV_ISSUER,
    KV_PENDING, KV_STATE,
};
use super::{err, internal, Wallet};
use crate::client::{BackendClient, Tokens};
use crate::enrollment::EnrollmentState;
use crate::error::{ErrorCode, UiError};
use crate::sdjwt;
use crate::secret::SecretString;
use crate::store::db;
use crate::view::{AppState, HistoryKind};
use crate::wire::{DisplayEntry, KK_CONFIGURATION, KTP_CONFIGURATION};

impl Wallet {
    /// Fetches KTP and KK with `access_token`, each with a fresh nonce and proof.
    pub(super) async fn fetch_credentials(
        &self,
        client: &BackendClient,
        issuer: &str,
        access_token: &SecretString,
    ) -> Result<(String, String), UiError> {
        let mut out = Vec::with_capacity(2);
        for conf in [KTP_CONFIGURATION, KK_CONFIGURATION] {
            // A kept step: a retry (also after a restart) resends the same request.
            out.push(
                self.credential_step(client, issuer, access_token, conf)
                    .await?,
            );
        }
        let kk = out.pop().ok_or_else(|| internal("credential"))?;
        let ktp = out.pop().ok_or_else(|| internal("credential"))?;
        Ok((ktp, kk))
    }

    pub async fn activate(&self, code: SecretString) -> Result<AppState, UiError> {
        let state = self.state()?;
        let next = state.activate()?;
        let rec = self.record_required()?;
        let client = self.client();
        let tokens = self.redeem(&client, &state, &rec, &code).await?;
        let meta = client.issuer_metadata().await?;
        let (ktp, kk) = self
            .fetch_credentials(&client, &meta.credential_issuer, &tokens.access_token)
            .await?;
        let device = self.device.public_jwk();
        for c in [&ktp, &kk] {
            sdjwt::verify(c, &meta.issuer_jwk, Some(&device), self.now())?;
        }
        let issuer = Issuer {
            id: meta.credential_issuer.clone(),
            jwk: meta.issuer_jwk.clone(),
            name: DisplayEntry::pick_name(&meta.metadata.display),
        };
        let held = Held {
            ktp,
            kk,
            tokens: tokens.into(),
        };
        let sealed = self.seal_json(KV_PENDING, &held)?;
        let issuer_json = to_json(&issuer)?;
        let state_json = next.to_json();
        // The held documents, and the end of the code entry's kept steps: one write.
        self.commit(
            &[
                (KV_PENDING, sealed.as_str()),
                (KV_ISSUER, issuer_json.as_str()),
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
        let tokens: StoredTokens = client.refresh(&refresh).await?.into();
        let issuer = self.issuer()?;
        let (ktp, kk) = self
            .fetch_credentials(&client, &issuer.id, &tokens.access_token)
            .await?;
        let fresh = self.verify(&ktp)?;
        self.verify(&kk)?;
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
        let nonce = client.nonce().await?;
        let proof = self.device.proof_jwt(&issuer.id, &nonce, self.now())?;
        client.release(&tokens.access_token, &proof).await?;
        self.wipe_local(HistoryKind::DeviceReleased)
    }
}

/// The NIK of a verified KTP (None when it has none).
fn ktp_nik(v: sdjwt::Verified) -> Option<String> {
    crate::credential::model::Ktp::from_claims(v.claims)
        .ok()
        .map(|k| k.nik)
}
