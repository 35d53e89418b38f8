//! Enrollment: the form checks, the selfie, submit, the desk QR, status and resend,
//! and starting over.

use super::records::{EnrollmentRecord, KV_ENROLLMENT, KV_PENDING, KV_STATE};
use super::{err, internal, Wallet};
use crate::enrollment::{Desk, EnrollmentState};
use crate::error::{ErrorCode, UiError};
use crate::identity::{email, nik, phone};
use crate::secret::SecretString;
use crate::selfie;
use crate::store::{db, StoreError};
use crate::view::{AppState, EnrollmentView, HistoryKind, NikInfo, RegisterForm, SelfieView};
use crate::wire::{EnrollRequest, EnrollmentStatusResponse};
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
        })
    }

    pub(super) fn enrollment_view(&self) -> Result<EnrollmentView, UiError> {
        let state = self.state()?;
        let rec = self.record()?.unwrap_or_default();
        Self::view_of(&state, &rec).ok_or_else(|| err(ErrorCode::InvalidState, "no enrollment yet"))
    }

    /// Folds a status answer in; records history on each step; one transaction.
    pub(super) fn apply(&self, resp: &EnrollmentStatusResponse) -> Result<EnrollmentView, UiError> {
        let before = self.state()?;
        let mut rec = self.record_required()?;
        let after = before.apply_status(resp);
        rec.code_expires_at = resp.code_expires_at.clone().or(rec.code_expires_at);
        rec.code_attempts_left = resp.code_attempts_left.or(rec.code_attempts_left);
        rec.email_masked = resp.email_masked.clone().or(rec.email_masked);
        if resp.credential_offer.is_some() {
            rec.offer = resp.credential_offer.clone();
        }
        self.save(&after, &rec)?;
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
        self.inner().selfie = Some(processed);
        Ok(view)
    }

    pub async fn submit_enrollment(&self, form: RegisterForm) -> Result<EnrollmentView, UiError> {
        if !form.consent {
            return Err(err(ErrorCode::ConsentRequired, "consent is required"));
        }
        let info = nik::parse(&form.nik, self.today())?;
        let mail = email::normalize(&form.email)?;
        let phone = phone::normalize(&form.phone)?;
        let state = self.state()?;
        let next = state.submit()?;
        let jpeg = {
            let inner = self.inner();
            let s = inner
                .selfie
                .as_ref()
                .ok_or_else(|| err(ErrorCode::InvalidState, "take a selfie first"))?;
            base64::engine::general_purpose::STANDARD.encode(&s.jpeg)
        };
        // The proof that this device holds the key it enrolls (aud = the configured
        // issuer, whose metadata is checked to name the same URL at activation).
        let client = self.client();
        let nonce = client.nonce().await?;
        let device_proof = self
            .device
            .proof_jwt(&self.expected_issuer(), &nonce, self.now())?;
        let req = EnrollRequest {
            nik: info.nik,
            email: mail.clone(),
            phone,
            selfie_jpeg: jpeg,
            device_jwk: self.device.public_jwk(),
            device_proof,
        };
        let res = client.submit(&req).await?;
        let rec = EnrollmentRecord {
            id: res.enrollment_id,
            token: SecretString::new(res.enrollment_token),
            email_masked: Some(email::mask(&mail)),
            ..Default::default()
        };
        self.save(&next, &rec)?;
        self.inner().selfie = None;
        self.history_add(HistoryKind::Registered, None)?;
        Self::view_of(&next, &rec).ok_or_else(|| internal("enrollment view"))
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
        let resp = self.client().scan(&rec.id, &rec.token, text).await?;
        let view = self.apply(&resp)?;
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
        let resp = self.client().resend(&rec.id, &rec.token).await?;
        self.apply(&resp)
    }

    /// Start over after `rejected` or `expired` (or from a draft).
    pub fn reset_enrollment(&self) -> Result<AppState, UiError> {
        let state = self.state()?;
        let next = state.reset()?;
        self.store.with_tx(|tx| -> Result<(), StoreError> {
            db::delete_kv(tx, KV_ENROLLMENT)?;
            db::delete_kv(tx, KV_PENDING)?;
            db::set_kv(tx, KV_STATE, &next.to_json())?;
            Ok(())
        })?;
        self.inner().selfie = None;
        self.app_state()
    }
}
