//! Pending network steps and cancellation (issue 13).
//!
//! A state-changing request is prepared once: its idempotency key and its exact body
//! ([`Prepared`]). It is kept sealed in the store *before* it is sent, and every retry,
//! "Coba lagi" after an app restart included, resends that key and those bytes, so the
//! server replays its first answer (one enrollment, one code try, the same
//! credential). A step is resumed only for the same input (the same form and selfie,
//! the same QR, the same code). It ends, and its record is deleted, when the server
//! answered it: in the transaction that records the result, or, for a refusal, at once.
//! A lost answer (offline, timeout, busy, rate limited) or a cancelled request keeps it.
//!
//! Cancellation: [`Wallet::cancel_network`] stops the request in flight of every
//! [`Wallet::cancellable`] call (the future is dropped at its await point, so no
//! write after it runs); the step's record stays for the retry.

use super::records::{KV_DRAFT, KV_SELFIE};
use super::{err, Wallet};
use crate::client::{BackendClient, ClientError, Prepared, Tokens};
use crate::error::{ErrorCode, UiError};
use crate::secret::SecretString;
use crate::store::{db, StoreError};
use crate::view::{Draft, RegisterForm, SelfieView};
use serde::{Deserialize, Serialize};
use std::future::Future;

pub(super) const STEP_SUBMIT: &str = "submit";
pub(super) const STEP_SCAN: &str = "scan";
pub(super) const STEP_RESEND: &str = "resend";
pub(super) const STEP_TOKEN: &str = "token";
/// The refresh-token grant of "Perbarui dokumen" (ended when the documents are stored).
pub(super) const STEP_REFRESH: &str = "refresh";
/// Lepas Perangkat.
pub(super) const STEP_RELEASE: &str = "release";
/// "Lupa PIN": the reauth request (with its selfie).
pub(super) const STEP_REAUTH: &str = "reauth";
/// The selfie's resumable upload before the submit: its id (ended with the submit).
pub(super) const STEP_UPLOAD: &str = "upload";

/// The credential request step of `configuration`.
pub(super) fn step_credential(configuration: &str) -> String {
    format!("credential.{configuration}")
}

/// The steps of a code entry (activation or "Lupa PIN"): the token and both
/// credentials, ended together once the documents are held.
pub(super) fn activation_steps() -> [String; 3] {
    [
        STEP_TOKEN.to_owned(),
        step_credential(crate::wire::KTP_CONFIGURATION),
        step_credential(crate::wire::KK_CONFIGURATION),
    ]
}

/// The steps of "Perbarui dokumen": the grant and both credentials, ended together
/// when the documents are stored.
pub(super) fn refresh_steps() -> [String; 3] {
    [
        STEP_REFRESH.to_owned(),
        step_credential(crate::wire::KTP_CONFIGURATION),
        step_credential(crate::wire::KK_CONFIGURATION),
    ]
}

/// Every step (reset and wipe clear them all).
pub(super) fn all_steps() -> Vec<String> {
    let mut v: Vec<String> = [
        STEP_SUBMIT,
        STEP_SCAN,
        STEP_RESEND,
        STEP_REFRESH,
        STEP_RELEASE,
        STEP_REAUTH,
        STEP_UPLOAD,
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    v.extend(activation_steps());
    v
}

/// The store key of a step's sealed record.
pub(super) fn kv_step(step: &str) -> String {
    format!("step.{step}.sealed")
}

/// A step's record: the input it was made for (a SHA-256, so it says nothing by
/// itself) and the request as first sent.
#[derive(Serialize, Deserialize)]
struct PendingStep {
    input: String,
    request: Prepared,
}

/// The selfie upload's record: the photo it is for (a SHA-256) and the upload's id
/// (a capability on the server, so kept sealed like a request).
#[derive(Serialize, Deserialize)]
struct PendingUpload {
    input: String,
    id: SecretString,
}

/// SHA-256 over length-prefixed parts, hex.
pub(super) fn input_of(parts: &[&[u8]]) -> String {
    let mut c = ring::digest::Context::new(&ring::digest::SHA256);
    for p in parts {
        c.update(&(p.len() as u64).to_be_bytes());
        c.update(p);
    }
    c.finish()
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whether the answer was lost (the step stays for a retry with the same key); any
/// other error is the server's answer and ends the step.
pub(super) fn lost(e: &ClientError) -> bool {
    matches!(
        e,
        ClientError::Offline
            | ClientError::Timeout
            | ClientError::ServerBusy
            | ClientError::RateLimited { .. }
    )
}

/// A resumed request whose proof went stale (the first never reached the server and
/// the nonce ran out, or the proof aged past the server's window): made again once.
fn stale(e: &ClientError) -> bool {
    matches!(e, ClientError::NonceRefused | ClientError::ProofRefused)
}

impl Wallet {
    /// The kept request of `step` when it was made for `input`.
    pub(super) fn pending_step(
        &self,
        step: &str,
        input: &str,
    ) -> Result<Option<Prepared>, UiError> {
        let name = kv_step(step);
        let Some(sealed) = self.store.get_kv(&name)? else {
            return Ok(None);
        };
        let p: PendingStep = self.open_json(&name, &sealed)?;
        Ok((p.input == input).then_some(p.request))
    }

    /// Keeps `request` as step `step` for `input` (replacing another input's).
    pub(super) fn keep_step(
        &self,
        step: &str,
        input: &str,
        request: &Prepared,
    ) -> Result<(), UiError> {
        let name = kv_step(step);
        let sealed = self.seal_json(
            &name,
            &PendingStep {
                input: input.to_owned(),
                request: request.clone(),
            },
        )?;
        Ok(self.store.set_kv(&name, &sealed)?)
    }

    /// The kept upload id of [`STEP_UPLOAD`] when it was made for `input`.
    pub(super) fn pending_upload(&self, input: &str) -> Result<Option<String>, UiError> {
        let name = kv_step(STEP_UPLOAD);
        let Some(sealed) = self.store.get_kv(&name)? else {
            return Ok(None);
        };
        let p: PendingUpload = self.open_json(&name, &sealed)?;
        Ok((p.input == input).then(|| p.id.expose().clone()))
    }

    /// Keeps the upload `id` for `input` (so an app restart resumes it).
    pub(super) fn keep_upload(&self, input: &str, id: &str) -> Result<(), UiError> {
        let name = kv_step(STEP_UPLOAD);
        let sealed = self.seal_json(
            &name,
            &PendingUpload {
                input: input.to_owned(),
                id: SecretString::new(id.to_owned()),
            },
        )?;
        Ok(self.store.set_kv(&name, &sealed)?)
    }

    /// Ends `step` after a refusal (nothing to resend).
    pub(super) fn end_step(&self, step: &str) -> Result<(), UiError> {
        Ok(self.store.delete_kv(&kv_step(step))?)
    }

    /// Ends `step` when `r` is the server's answer; keeps it when the answer was lost.
    pub(super) fn settle<T>(&self, step: &str, r: &Result<T, ClientError>) -> Result<(), UiError> {
        match r {
            Err(e) if !lost(e) => self.end_step(step),
            _ => Ok(()),
        }
    }

    /// Writes `sets`, deletes `deletes` and ends `steps`: one transaction.
    pub(super) fn commit(
        &self,
        sets: &[(&str, &str)],
        deletes: &[&str],
        steps: &[String],
    ) -> Result<(), UiError> {
        self.store.with_tx(|tx| -> Result<(), StoreError> {
            for (k, v) in sets {
                db::set_kv(tx, k, v)?;
            }
            for k in deletes {
                db::delete_kv(tx, k)?;
            }
            for s in steps {
                db::delete_kv(tx, &kv_step(s))?;
            }
            Ok(())
        })?;
        Ok(())
    }

    /// Sends a kept step's request: the kept one for `input` if there is one, else the
    /// one `make` builds (kept before it is sent). A resumed request refused as stale
    /// is made and sent again once. The step is ended on a refusal; on success it is
    /// left to the caller to end with the result.
    pub(super) async fn run_step<T, Mk, MkF, Sd, SdF>(
        &self,
        step: &str,
        input: &str,
        make: Mk,
        send: Sd,
    ) -> Result<T, UiError>
    where
        Mk: Fn() -> MkF,
        MkF: Future<Output = Result<Prepared, UiError>>,
        Sd: Fn(Prepared) -> SdF,
        SdF: Future<Output = Result<T, ClientError>>,
    {
        let fresh = || async {
            let p = make().await?;
            self.keep_step(step, input, &p)?;
            Ok::<_, UiError>(p)
        };
        let (p, resumed) = match self.pending_step(step, input)? {
            Some(p) => (p, true),
            None => (fresh().await?, false),
        };
        let mut r = send(p).await;
        if resumed && matches!(&r, Err(e) if stale(e)) {
            r = send(fresh().await?).await;
        }
        self.settle(step, &r)?;
        Ok(r?)
    }

    /// The code entry at `/token` as a kept step (the same code after a lost answer or
    /// a restart resends the same key and body, and spends no second try). Kept after
    /// success until the documents are held ([`activation_steps`]).
    pub(super) async fn token_step(
        &self,
        client: &BackendClient,
        pre_authorized_code: &str,
        code: &SecretString,
    ) -> Result<Tokens, UiError> {
        let input = input_of(&[pre_authorized_code.as_bytes(), code.expose().as_bytes()]);
        self.run_step(
            STEP_TOKEN,
            &input,
            || async {
                Ok(Prepared::new(BackendClient::token_body(
                    pre_authorized_code,
                    code,
                )))
            },
            |p| async move { client.token_prepared(&p).await },
        )
        .await
    }

    /// One credential request as a kept step: a fresh nonce and proof the first time,
    /// the same body (and so the same credential from the server) on a retry.
    pub(super) async fn credential_step(
        &self,
        client: &BackendClient,
        issuer: &str,
        access_token: &SecretString,
        configuration: &str,
    ) -> Result<String, UiError> {
        let input = input_of(&[configuration.as_bytes(), access_token.expose().as_bytes()]);
        self.run_step(
            &step_credential(configuration),
            &input,
            || async {
                let nonce = client.nonce().await?;
                let proof = self.device().proof_jwt(issuer, &nonce, self.now())?;
                Ok(Prepared::json(
                    crate::client::IdempotencyKey::random(),
                    &BackendClient::credential_request(configuration, &proof),
                )?)
            },
            |p| async move { client.credential_prepared(access_token, &p).await },
        )
        .await
    }

    /// Runs `fut` until it ends or [`Self::cancel_network`] is called (then
    /// `cancelled`; `fut` is dropped at its await point, so nothing after it runs).
    pub async fn cancellable<T>(
        &self,
        fut: impl Future<Output = Result<T, UiError>>,
    ) -> Result<T, UiError> {
        let mut rx = self.cancel.subscribe();
        rx.borrow_and_update();
        tokio::select! {
            r = fut => r,
            _ = rx.changed() => Err(err(ErrorCode::Cancelled, "the request was cancelled")),
        }
    }

    /// Stops the network requests in flight (the resident left the screen). Their
    /// steps stay kept: a retry resends the same key and body.
    pub fn cancel_network(&self) {
        self.cancel.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Keeps the registration form (sealed) until it is submitted.
    pub fn save_draft(&self, form: RegisterForm) -> Result<(), UiError> {
        let sealed = self.seal_json(KV_DRAFT, &form)?;
        Ok(self.store.set_kv(KV_DRAFT, &sealed)?)
    }

    /// The form and selfie kept since before a restart, until submitted.
    pub fn draft(&self) -> Result<Draft, UiError> {
        let form = match self.store.get_kv(KV_DRAFT)? {
            Some(s) => Some(self.open_json::<RegisterForm>(KV_DRAFT, &s)?),
            None => None,
        };
        Ok(Draft {
            form,
            selfie: self.kept_selfie()?,
        })
    }

    /// Keeps the processed selfie, sealed, until submit.
    pub(super) fn keep_selfie(&self, view: &SelfieView) -> Result<(), UiError> {
        let sealed = self.seal_json(KV_SELFIE, view)?;
        Ok(self.store.set_kv(KV_SELFIE, &sealed)?)
    }

    /// The JPEG of the selfie taken last ([`Self::process_selfie`]): this session's, or
    /// the one kept sealed across a restart; None before one is taken (or once a
    /// submit or a "Lupa PIN" request has used it up).
    pub(super) fn selfie_taken(&self) -> Result<Option<Vec<u8>>, UiError> {
        if let Some(s) = self.inner().selfie.as_ref() {
            return Ok(Some(s.jpeg.clone()));
        }
        use base64::Engine as _;
        self.kept_selfie()?
            .map(|v| {
                base64::engine::general_purpose::STANDARD
                    .decode(v.preview_jpeg)
                    .map_err(|_| err(ErrorCode::ImageInvalid, "the kept selfie is not base64"))
            })
            .transpose()
    }

    pub(super) fn kept_selfie(&self) -> Result<Option<SelfieView>, UiError> {
        match self.store.get_kv(KV_SELFIE)? {
            Some(s) => Ok(Some(self.open_json(KV_SELFIE, &s)?)),
            None => Ok(None),
        }
    }
}
