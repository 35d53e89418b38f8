//! "Lupa PIN": asking the backend for a reset and redeeming its code.

use super::records::{Held, KV_ENROLLMENT, KV_PENDING, KV_SELFIE};
use super::steps::{input_of, STEP_REAUTH, STEP_UPLOAD};
use super::{err, internal, Wallet};
use crate::client::{IdempotencyKey, OnUpload, Prepared};
use crate::error::{ErrorCode, UiError};
use crate::secret::SecretString;
use crate::view::{AppState, EnrollmentView, HistoryKind};
use crate::wire::DeviceRequest;

impl Wallet {
    /// "Lupa PIN" (and the way back after 10 wrong PINs wiped the documents): asks the
    /// backend for a reset, authenticated by the enrollment token and a proof from this
    /// device's key, with the selfie taken last ([`Self::process_selfie`], kept across a
    /// restart) for an officer's remote review, or none (the resident goes to the
    /// desk). The backend revokes
    /// the device's tokens and tells the registered email and phone; the code comes by
    /// email only after the review, and works only after the cooling-off
    /// (`pin_reset_usable_at`). The old vault stays (the old PIN still opens it) until a
    /// new PIN replaces it, so nothing is lost if the reset never completes.
    pub async fn forgot_pin(&self) -> Result<EnrollmentView, UiError> {
        self.forgot_pin_counted(None).await
    }

    /// [`Self::forgot_pin`], telling `on` the selfie upload's progress: the bytes the
    /// server has stored, of the photo's size. The photo goes first as a resumable
    /// upload ([`Self::upload_selfie`], its id kept, so a restart resumes it), then the
    /// request names it. The request is a kept step: after a lost answer and a restart
    /// the same key and body go again (the same upload), and the server replays its
    /// answer (one reset, one mail).
    pub async fn forgot_pin_counted(
        &self,
        on: Option<OnUpload>,
    ) -> Result<EnrollmentView, UiError> {
        if !(self.vault.exists()? || self.vault.documents_wiped()?) {
            return Err(err(ErrorCode::InvalidState, "no PIN to reset"));
        }
        let mut rec = self.record_required()?;
        let issuer = self.issuer()?;
        // The selfie taken for this request (kept sealed, so a restart in between
        // still sends it).
        let selfie = self.selfie_taken()?;
        let client = self.client();
        let input = input_of(&[
            rec.id.as_bytes(),
            rec.token.expose().as_bytes(),
            selfie.as_deref().unwrap_or_default(),
        ]);
        let resp = self
            .run_step(
                STEP_REAUTH,
                &input,
                || async {
                    // The photo first (resumed if an upload of it is kept), then the
                    // proof over a fresh nonce.
                    let upload = match &selfie {
                        Some(photo) => Some(self.upload_selfie(&client, photo, on.as_ref()).await?),
                        None => None,
                    };
                    let nonce = client.nonce().await?;
                    let proof = self.device().proof_jwt(&issuer.id, &nonce, self.now())?;
                    let body = DeviceRequest {
                        proof,
                        selfie_jpeg: None,
                        selfie_upload: upload,
                    };
                    Ok(Prepared::json(IdempotencyKey::random(), &body)?)
                },
                |p| {
                    let (client, rec) = (&client, &rec);
                    async move { client.reauth_prepared(&rec.id, &rec.token, &p, None).await }
                },
            )
            .await?;
        {
            let mut inner = self.inner();
            inner.session = None;
            inner.selfie = None;
        }
        rec.pin_reset_usable_at = resp.reset_usable_at;
        rec.offer = Some(resp.credential_offer);
        rec.code_expires_at = Some(resp.code_expires_at);
        rec.code_attempts_left = Some(resp.code_attempts_left);
        rec.email_masked = Some(resp.email_masked);
        rec.pin_reset_pending = true;
        let state = self.state()?;
        // The record, the history entry, the end of the kept steps (the request and
        // the upload it used up) and of the kept selfie (sent): one write.
        self.save_with_history_ending(
            &state,
            &rec,
            HistoryKind::PinResetRequested,
            &[STEP_REAUTH, STEP_UPLOAD],
            &[KV_SELFIE],
        )?;
        Self::view_of(&state, &rec).ok_or_else(|| internal("enrollment view"))
    }

    /// The code from the "Lupa PIN" email: fetches KTP and KK again (checked against
    /// the issuer key pinned at activation, not whatever the backend now says) and
    /// holds them sealed until [`Self::set_pin`] replaces the old vault with a new one.
    pub async fn reset_pin_with_code(&self, code: SecretString) -> Result<AppState, UiError> {
        let state = self.state()?;
        let mut rec = self.record_required()?;
        if !rec.pin_reset_pending {
            return Err(err(ErrorCode::InvalidState, "no PIN reset asked for"));
        }
        let client = self.client();
        let issuer = self.issuer()?;
        let tokens = self.redeem(&client, &state, &rec, &code).await?;
        let (ktp, kk) = self
            .fetch_credentials(&client, &issuer, &tokens.access_token)
            .await?;
        let held = Held {
            ktp,
            kk,
            tokens: tokens.into(),
        };
        rec.pin_reset_pending = false;
        rec.offer = None;
        let sealed_held = self.seal_json(KV_PENDING, &held)?;
        let sealed_rec = self.seal_json(KV_ENROLLMENT, &rec)?;
        // Held credentials and the cleared reset flag: one write. The old vault goes
        // only when the new PIN's vault replaces it (`set_pin`, one transaction). The
        // code entry's kept steps end in the same write.
        self.commit(
            &[
                (KV_PENDING, sealed_held.as_str()),
                (KV_ENROLLMENT, sealed_rec.as_str()),
            ],
            &[],
            &super::steps::activation_steps(),
        )?;
        self.app_state()
    }
}
