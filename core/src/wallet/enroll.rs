//! Enrollment: the form checks, the selfie, submit, the desk QR, status and resend,
//! and starting over.

use super::records::{EnrollmentRecord, KV_DRAFT, KV_ENROLLMENT, KV_PENDING, KV_SELFIE, KV_STATE};
use super::steps::{
    all_steps, input_of, kv_step, STEP_RESEND, STEP_SCAN, STEP_SUBMIT, STEP_UPLOAD,
};
use super::{err, internal, Wallet};
use crate::client::{IdempotencyKey, OnUpload, Prepared};
use crate::enrollment::{Desk, EnrollmentState};
use crate::error::{ErrorCode, UiError};
use crate::identity::{email, nik, phone};
use crate::secret::SecretString;
use crate::selfie;
use crate::store::{db, StoreError};
use crate::view::{AppState, EnrollmentView, HistoryKind, NikInfo, RegisterForm, SelfieView};
use crate::wire::{EnrollRequest, EnrollmentStatusResponse, EnrollmentStatusWire};
use base64::Engine as _;

impl Wallet {
    pub(super) fn view_of(
        state: &EnrollmentState,
        rec: &EnrollmentRecord,
    ) -> Option<EnrollmentView> {
        let status = state.wire_status()?;
        Some(EnrollmentView {
            status,
            desk_name: state
                .desk()
                .map(|d| d.name.clone())
                .filter(|n| !n.is_empty()),
            reject_reason: state.reject_reason().map(str::to_owned),
            code_expires_at: rec.code_expires_at.clone(),
            code_attempts_left: rec.code_attempts_left,
            email_masked: rec.email_masked.clone(),
            desk_confirm_code: matches!(state, EnrollmentState::Scanned { .. })
                .then(|| rec.desk_confirm_code.clone())
                .flatten(),
            pin_reset_usable_at: rec
                .pin_reset_pending
                .then(|| rec.pin_reset_usable_at.clone())
                .flatten(),
        })
    }

    pub(super) fn enrollment_view(&self) -> Result<EnrollmentView, UiError> {
        let state = self.state()?;
        let rec = self.record()?.unwrap_or_default();
        Self::view_of(&state, &rec).ok_or_else(|| err(ErrorCode::InvalidState, "no enrollment yet"))
    }

    /// Folds a status answer in; records history on each step; one transaction.
    pub(super) fn apply(&self, resp: &EnrollmentStatusResponse) -> Result<EnrollmentView, UiError> {
        self.apply_ending(resp, None)
    }

    /// [`Self::apply`], ending the kept `step` in the same write.
    pub(super) fn apply_ending(
        &self,
        resp: &EnrollmentStatusResponse,
        step: Option<&str>,
    ) -> Result<EnrollmentView, UiError> {
        let before = self.state()?;
        let mut rec = self.record_required()?;
        let after = before.apply_status(resp);
        rec.code_expires_at = resp.code_expires_at.clone().or(rec.code_expires_at);
        rec.code_attempts_left = resp.code_attempts_left.or(rec.code_attempts_left);
        rec.email_masked = resp.email_masked.clone().or(rec.email_masked);
        // The desk confirmation code lives only while scanned (a new scan, a new code).
        rec.desk_confirm_code = match resp.status {
            EnrollmentStatusWire::Scanned => resp.desk_confirm_code.clone(),
            _ => None,
        };
        if resp.credential_offer.is_some() {
            rec.offer = resp.credential_offer.clone();
        }
        let sealed = self.seal_json(KV_ENROLLMENT, &rec)?;
        let state_json = after.to_json();
        let steps: Vec<String> = step.iter().map(|s| (*s).to_owned()).collect();
        self.commit(
            &[
                (KV_STATE, state_json.as_str()),
                (KV_ENROLLMENT, sealed.as_str()),
            ],
            &[],
            &steps,
        )?;
        if after != before {
            let kind = match &after {
                EnrollmentState::Scanned { .. } => Some(HistoryKind::DeskScanned),
                EnrollmentState::Approved { .. } => Some(HistoryKind::Approved),
                EnrollmentState::Rejected { .. } => Some(HistoryKind::Rejected),
                _ => None,
            };
            if let Some(kind) = kind {
                let desk = after.desk().map(|d| d.name.clone());
                self.history_add(kind, desk.as_deref())?;
            }
        }
        Self::view_of(&after, &rec).ok_or_else(|| internal("enrollment view"))
    }

    pub fn check_nik(&self, input: &str) -> Result<NikInfo, UiError> {
        Ok(nik::parse(input, self.today())?)
    }

    pub fn check_email(&self, input: &str) -> Result<String, UiError> {
        Ok(email::normalize(input)?)
    }

    pub fn check_phone(&self, input: &str) -> Result<String, UiError> {
        Ok(phone::normalize(input)?)
    }

    pub fn process_selfie(&self, bytes: &[u8]) -> Result<SelfieView, UiError> {
        let processed = selfie::process(bytes)?;
        let view = SelfieView::from(&processed);
        // Kept (sealed) until submit, so a restart loses no photo.
        self.keep_selfie(&view)?;
        self.inner().selfie = Some(processed);
        Ok(view)
    }

    pub async fn submit_enrollment(&self, form: RegisterForm) -> Result<EnrollmentView, UiError> {
        self.submit_enrollment_counted(form, None).await
    }

    /// [`Self::submit_enrollment`], telling `on` the selfie upload's progress: the bytes
    /// the server has stored, of the photo's size. The photo goes first as a resumable
    /// upload ([`Self::upload_selfie`]), then the submit names it.
    pub async fn submit_enrollment_counted(
        &self,
        form: RegisterForm,
        on: Option<OnUpload>,
    ) -> Result<EnrollmentView, UiError> {
        if !form.consent {
            return Err(err(ErrorCode::ConsentRequired, "consent is required"));
        }
        let info = nik::parse(&form.nik, self.today())?;
        let mail = email::normalize(&form.email)?;
        let phone = phone::normalize(&form.phone)?;
        let state = self.state()?;
        let next = state.submit()?;
        let photo = self
            .selfie_taken()?
            .ok_or_else(|| err(ErrorCode::InvalidState, "take a selfie first"))?;
        let jpeg = base64::engine::general_purpose::STANDARD.encode(&photo);
        // The same form and photo resume the kept request (its key and body: the proof
        // over a nonce the server may already have spent).
        let input = input_of(&[
            info.nik.as_bytes(),
            mail.as_bytes(),
            phone.as_bytes(),
            jpeg.as_bytes(),
        ]);
        let client = self.client();
        let res = self
            .run_step(
                STEP_SUBMIT,
                &input,
                || async {
                    // The photo first (resumed if an upload of it is kept), then the
                    // proof that this device holds the key it enrolls (aud = the
                    // configured issuer).
                    let upload = self.upload_selfie(&client, &photo, on.as_ref()).await?;
                    let nonce = client.nonce().await?;
                    let device_proof =
                        self.device()
                            .proof_jwt(&self.expected_issuer(), &nonce, self.now())?;
                    let req = EnrollRequest {
                        nik: info.nik.clone(),
                        email: mail.clone(),
                        phone: phone.clone(),
                        selfie_jpeg: None,
                        selfie_upload: Some(upload),
                        device_jwk: self.device().public_jwk(),
                        device_proof,
                    };
                    Ok(Prepared::json(IdempotencyKey::random(), &req)?)
                },
                |p| {
                    let client = &client;
                    async move { client.submit_prepared(&p).await }
                },
            )
            .await?;
        let rec = EnrollmentRecord {
            id: res.enrollment_id,
            token: SecretString::new(res.enrollment_token),
            email_masked: Some(email::mask(&mail)),
            ..Default::default()
        };
        // State, record, the end of the step and of the kept form and photo: one write.
        let sealed = self.seal_json(KV_ENROLLMENT, &rec)?;
        let state_json = next.to_json();
        self.commit(
            &[
                (KV_STATE, state_json.as_str()),
                (KV_ENROLLMENT, sealed.as_str()),
            ],
            &[KV_DRAFT, KV_SELFIE],
            &[STEP_SUBMIT.to_owned(), STEP_UPLOAD.to_owned()],
        )?;
        self.inner().selfie = None;
        self.history_add(HistoryKind::Registered, None)?;
        Self::view_of(&next, &rec).ok_or_else(|| internal("enrollment view"))
    }

    /// Uploads `photo` (tus, [`crate::client::BackendClient::upload`]): resumes the
    /// kept upload of this photo from the offset the server holds, or creates one and
    /// keeps its id first (so a restart resumes it too); an expired one is made anew.
    /// The upload's id, for the submit (or the "Lupa PIN" request).
    pub(super) async fn upload_selfie(
        &self,
        client: &crate::client::BackendClient,
        photo: &[u8],
        on: Option<&OnUpload>,
    ) -> Result<String, UiError> {
        let input = input_of(&[photo]);
        if let Some(id) = self.pending_upload(&input)? {
            match client.upload(&id, photo, on).await {
                Ok(()) => return Ok(id),
                Err(crate::client::ClientError::NotFound) => {}
                Err(e) => return Err(e.into()),
            }
        }
        // The first chunk goes with the creation; the id is kept before the rest. The
        // progress starts at 0 of the photo's size while the creation is under way (on
        // 2G its 16 KB take seconds).
        if let Some(on) = on {
            on(0, photo.len() as u64);
        }
        let new = client.create_upload_with(photo).await?;
        self.keep_upload(&input, &new.id)?;
        client.upload_new(&new, photo, on).await?;
        Ok(new.id)
    }

    pub fn decode_qr_image(&self, bytes: &[u8]) -> Result<String, UiError> {
        Ok(crate::qr::decode_qr_image(bytes)?)
    }

    pub async fn scan_desk_qr(&self, text: &str) -> Result<EnrollmentView, UiError> {
        let text = text.trim();
        if text.is_empty() || text.len() > 4096 {
            return Err(err(ErrorCode::QrInvalid, "not a desk QR"));
        }
        let rec = self.record_required()?;
        let client = self.client();
        let input = input_of(&[rec.id.as_bytes(), text.as_bytes()]);
        let resp = self
            .run_step(
                STEP_SCAN,
                &input,
                || async {
                    let body = crate::wire::ScanRequest {
                        qr: text.to_owned(),
                    };
                    Ok(Prepared::json(IdempotencyKey::random(), &body)?)
                },
                |p| {
                    let (client, rec) = (&client, &rec);
                    async move { client.scan_prepared(&rec.id, &rec.token, &p).await }
                },
            )
            .await?;
        let view = self.apply_ending(&resp, Some(STEP_SCAN))?;
        // The scan answer names the desk; make sure the state knows it.
        if let (Some(name), EnrollmentState::Submitted) = (&resp.desk_name, self.state()?) {
            let st = EnrollmentState::Submitted.scan(Desk::named(name.clone()))?;
            self.save(&st, &self.record_required()?)?;
            self.history_add(HistoryKind::DeskScanned, Some(name))?;
            return self.enrollment_view();
        }
        Ok(view)
    }

    pub async fn refresh_status(&self) -> Result<EnrollmentView, UiError> {
        let rec = self.record_required()?;
        let resp = self.client().status(&rec.id, &rec.token).await?;
        self.apply(&resp)
    }

    pub async fn resend_code(&self) -> Result<EnrollmentView, UiError> {
        let rec = self.record_required()?;
        let client = self.client();
        let input = input_of(&[rec.id.as_bytes()]);
        let resp = self
            .run_step(
                STEP_RESEND,
                &input,
                || async { Ok(Prepared::new(String::new())) },
                |p| {
                    let (client, rec) = (&client, &rec);
                    async move { client.resend_keyed(&rec.id, &rec.token, &p.key).await }
                },
            )
            .await?;
        self.apply_ending(&resp, Some(STEP_RESEND))
    }

    /// Start over after `rejected` or `expired` (or from a draft).
    pub fn reset_enrollment(&self) -> Result<AppState, UiError> {
        let state = self.state()?;
        let next = state.reset()?;
        self.store.with_tx(|tx| -> Result<(), StoreError> {
            db::delete_kv(tx, KV_ENROLLMENT)?;
            db::delete_kv(tx, KV_PENDING)?;
            db::delete_kv(tx, KV_DRAFT)?;
            db::delete_kv(tx, KV_SELFIE)?;
            for s in all_steps() {
                db::delete_kv(tx, &kv_step(&s))?;
            }
            db::set_kv(tx, KV_STATE, &next.to_json())?;
            Ok(())
        })?;
        self.inner().selfie = None;
        self.app_state()
    }
}
