//! The one error the UI sees.
//!
//! Each module has its own typed error (thiserror). Each of those is mapped, once,
//! in this file (`impl From<ModError> for UiError`), to this small serializable
//! error with a stable `code`. The UI words the code in the resident's
//! language; `message` is an English developer message that never contains a secret
//! or personal data (no NIK, PIN, code or token).

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Stable error codes. Never rename one: the UI and tests depend on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ErrorCode {
    // input
    InvalidNik,
    InvalidKk,
    InvalidEmail,
    InvalidPhone,
    ConsentRequired,
    // PIN and vault
    PinPolicy,
    PinMismatch,
    WrongPin,
    LockedOut,
    VaultWiped,
    VaultLocked,
    VaultCorrupt,
    NoDocuments,
    // credentials
    CredentialInvalid,
    // network and backend
    Offline,
    Timeout,
    ServerBusy,
    RateLimited,
    InsecureUrl,
    NotFound,
    /// A NIK that cannot enroll online (one answer for every reason).
    NotVerifiable,
    Ineligible,
    Rejected,
    CodeWrong,
    CodeExpired,
    CodeVoid,
    QrInvalid,
    QrExpired,
    QrUsed,
    DeviceRevoked,
    /// "Lupa PIN": the reset waits for the officer's review or the cooling-off, or was
    /// cancelled (`detail.reason`, `detail.usable_at`).
    PinResetWaiting,
    /// The backend refused a proof made with another key than the enrolled device key.
    ProofKeyNotDevice,
    /// The request was stopped (the resident left the screen); its step is kept, so a
    /// retry resends the same request.
    Cancelled,
    // flow
    InvalidState,
    // selfie
    ImageTooLarge,
    ImageInvalid,
    // platform
    Storage,
    KeyStore,
    Internal,
}

/// The serializable error every Tauri command returns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct UiError {
    pub code: ErrorCode,
    /// English, for developers and logs. Never contains secrets or personal data.
    pub message: String,
    /// Structured extras the UI may show: e.g. `attempts_left`, `retry_after_secs`,
    /// `field`, `reason`.
    #[ts(type = "Record<string, unknown> | null")]
    pub detail: Option<serde_json::Value>,
}

impl UiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            detail: None,
        }
    }

    pub fn with_detail(mut self, detail: serde_json::Value) -> Self {
        self.detail = Some(detail);
        self
    }
}

impl std::fmt::Display for UiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}: {}", self.code, self.message)
    }
}

impl std::error::Error for UiError {}

// ------------------------------------------------------------- the one mapping
// Every internal error becomes a UiError here and nowhere else (ikd-proto knows
// nothing of the UI).

use crate::client::ClientError;
use crate::qr::QrError;
use crate::store::StoreError;
use crate::vault::keystore::KeyStoreError;
use crate::vault::{PinError, VaultError};
use crate::view::LockoutView;
use ikd_proto::credential::ClaimsError;
use ikd_proto::enrollment::EnrollmentError;
use ikd_proto::identity::email::EmailError;
use ikd_proto::identity::kk::KkError;
use ikd_proto::identity::nik::NikError;
use ikd_proto::identity::phone::PhoneError;
use ikd_proto::jose::JoseError;
use ikd_proto::proof::DeviceKeyError;
use ikd_proto::sdjwt::SdJwtError;
use serde_json::json;

impl From<DeviceKeyError> for UiError {
    fn from(e: DeviceKeyError) -> Self {
        let code = match e {
            DeviceKeyError::Key => ErrorCode::KeyStore,
            DeviceKeyError::Signing => ErrorCode::Internal,
            _ => ErrorCode::CredentialInvalid,
        };
        UiError::new(code, e.to_string())
    }
}

impl From<EnrollmentError> for UiError {
    fn from(e: EnrollmentError) -> Self {
        match &e {
            EnrollmentError::IllegalTransition { from, event } => {
                UiError::new(ErrorCode::InvalidState, e.to_string())
                    .with_detail(json!({"from": from.as_str(), "event": event.as_str()}))
            }
            EnrollmentError::Corrupt(_) => UiError::new(ErrorCode::Storage, e.to_string()),
        }
    }
}

impl From<JoseError> for UiError {
    fn from(e: JoseError) -> Self {
        let code = match e {
            JoseError::Signing => ErrorCode::Internal,
            JoseError::InvalidKey
            | JoseError::Malformed
            | JoseError::BadSignature
            | JoseError::UnsupportedAlg => ErrorCode::CredentialInvalid,
        };
        UiError::new(code, e.to_string())
    }
}

impl From<KkError> for UiError {
    fn from(e: KkError) -> Self {
        let detail = match &e {
            KkError::Length(n) => json!({"reason": e.reason(), "digits": n}),
            KkError::NonDigit { position, class } => {
                json!({"reason": e.reason(), "position": position, "class": class.as_str()})
            }
            KkError::UnknownProvince(code) => json!({"reason": e.reason(), "province": code}),
        };
        UiError::new(ErrorCode::InvalidKk, e.to_string()).with_detail(detail)
    }
}

impl From<PhoneError> for UiError {
    fn from(e: PhoneError) -> Self {
        let detail = match e {
            PhoneError::InvalidChar { position, class } => {
                json!({"reason": e.reason(), "position": position, "class": class.as_str()})
            }
            PhoneError::Length(n) => json!({"reason": e.reason(), "digits": n}),
            _ => json!({"reason": e.reason()}),
        };
        UiError::new(ErrorCode::InvalidPhone, e.to_string()).with_detail(detail)
    }
}

impl From<EmailError> for UiError {
    fn from(e: EmailError) -> Self {
        UiError::new(ErrorCode::InvalidEmail, e.to_string())
            .with_detail(json!({"reason": e.reason()}))
    }
}

impl From<NikError> for UiError {
    fn from(e: NikError) -> Self {
        let detail = match &e {
            NikError::Length(n) => json!({"reason": e.reason(), "digits": n}),
            NikError::NonDigit { position, class } => {
                json!({"reason": e.reason(), "position": position, "class": class.as_str()})
            }
            NikError::UnknownProvince(code) => json!({"reason": e.reason(), "province": code}),
            NikError::ImpossibleDate | NikError::SerialZero => json!({"reason": e.reason()}),
        };
        UiError::new(ErrorCode::InvalidNik, e.to_string()).with_detail(detail)
    }
}

impl From<SdJwtError> for UiError {
    fn from(e: SdJwtError) -> Self {
        let code = match e {
            SdJwtError::Signing => ErrorCode::Internal,
            _ => ErrorCode::CredentialInvalid,
        };
        UiError::new(code, e.to_string())
    }
}

impl From<ClaimsError> for UiError {
    fn from(e: ClaimsError) -> Self {
        let code = match e {
            ClaimsError::Incomplete => ErrorCode::CredentialInvalid,
            ClaimsError::Encode => ErrorCode::Internal,
        };
        UiError::new(code, e.to_string())
    }
}

impl From<VaultError> for UiError {
    fn from(e: VaultError) -> Self {
        let msg = e.to_string();
        match e {
            VaultError::Pin(p) => p.into(),
            VaultError::WrongPin(v) => {
                UiError::new(ErrorCode::WrongPin, msg).with_detail(lockout_json(&v))
            }
            VaultError::LockedOut(v) => {
                UiError::new(ErrorCode::LockedOut, msg).with_detail(lockout_json(&v))
            }
            VaultError::Wiped => UiError::new(ErrorCode::VaultWiped, msg),
            VaultError::NotCreated => UiError::new(ErrorCode::InvalidState, msg),
            VaultError::Corrupt => UiError::new(ErrorCode::VaultCorrupt, msg),
            VaultError::WeakKdfParams | VaultError::InvalidId | VaultError::Crypto => {
                UiError::new(ErrorCode::Internal, msg)
            }
            VaultError::Store(s) => s.into(),
            VaultError::KeyStore(k) => k.into(),
        }
    }
}

impl From<PinError> for UiError {
    fn from(e: PinError) -> Self {
        UiError::new(ErrorCode::PinPolicy, e.to_string())
            .with_detail(serde_json::json!({ "reason": e.reason() }))
    }
}

impl From<KeyStoreError> for UiError {
    fn from(e: KeyStoreError) -> Self {
        UiError::new(ErrorCode::KeyStore, e.to_string())
    }
}

impl From<QrError> for UiError {
    fn from(e: QrError) -> Self {
        // The contract (COMMANDS.md) has one code for every failure here; the reason
        // lets the UI say "too large" rather than "no QR found".
        let reason = match e {
            QrError::Empty | QrError::NotAnImage => "not_an_image",
            QrError::FileTooLarge(_) | QrError::TooManyPixels(_) => "too_large",
            QrError::NoQr => "no_qr",
            QrError::Unreadable => "unreadable",
        };
        UiError::new(ErrorCode::QrInvalid, e.to_string())
            .with_detail(serde_json::json!({ "reason": reason }))
    }
}

impl From<StoreError> for UiError {
    fn from(e: StoreError) -> Self {
        // rusqlite messages name tables and constraints, never bound values.
        UiError::new(ErrorCode::Storage, e.to_string())
    }
}

impl From<ClientError> for UiError {
    fn from(e: ClientError) -> Self {
        let msg = e.to_string();
        match e {
            ClientError::InsecureUrl => UiError::new(ErrorCode::InsecureUrl, msg),
            ClientError::InvalidUrl => UiError::new(ErrorCode::InsecureUrl, msg),
            ClientError::Offline => UiError::new(ErrorCode::Offline, msg),
            ClientError::Timeout => UiError::new(ErrorCode::Timeout, msg),
            ClientError::ServerBusy => UiError::new(ErrorCode::ServerBusy, msg),
            ClientError::RateLimited { retry_after_secs } => {
                UiError::new(ErrorCode::RateLimited, msg)
                    .with_detail(json!({ "retry_after_secs": retry_after_secs }))
            }
            ClientError::NotFound => UiError::new(ErrorCode::NotFound, msg),
            ClientError::NotVerifiable => UiError::new(ErrorCode::NotVerifiable, msg),
            ClientError::Ineligible { reason, .. } => {
                UiError::new(ErrorCode::Ineligible, "not eligible")
                    .with_detail(json!({ "reason": reason }))
            }
            ClientError::Rejected { reason } => {
                UiError::new(ErrorCode::Rejected, msg).with_detail(json!({ "reason": reason }))
            }
            ClientError::CodeWrong { attempts_left } => UiError::new(ErrorCode::CodeWrong, msg)
                .with_detail(json!({ "attempts_left": attempts_left })),
            ClientError::CodeExpired => UiError::new(ErrorCode::CodeExpired, msg),
            ClientError::CodeVoid => UiError::new(ErrorCode::CodeVoid, msg),
            ClientError::PinResetWaiting { reason, usable_at } => {
                UiError::new(ErrorCode::PinResetWaiting, msg)
                    .with_detail(json!({ "reason": reason, "usable_at": usable_at }))
            }
            ClientError::QrInvalid => UiError::new(ErrorCode::QrInvalid, msg),
            ClientError::QrExpired => UiError::new(ErrorCode::QrExpired, msg),
            ClientError::QrUsed => UiError::new(ErrorCode::QrUsed, msg),
            ClientError::DeviceRevoked => UiError::new(ErrorCode::DeviceRevoked, msg),
            ClientError::ProofKeyNotDevice => UiError::new(ErrorCode::ProofKeyNotDevice, msg),
            ClientError::InvalidRequest { field } => {
                let code = match field.as_deref() {
                    Some("nik") => ErrorCode::InvalidNik,
                    Some("email") => ErrorCode::InvalidEmail,
                    Some("phone") => ErrorCode::InvalidPhone,
                    Some("selfie_jpeg") => ErrorCode::ImageInvalid,
                    _ => ErrorCode::Internal,
                };
                UiError::new(code, msg).with_detail(json!({ "field": field }))
            }
            ClientError::InvalidState => UiError::new(ErrorCode::InvalidState, msg),
            ClientError::Unauthorized => UiError::new(ErrorCode::NotFound, msg),
            ClientError::IssuerKeyChanged => UiError::new(ErrorCode::CredentialInvalid, msg),
            ClientError::DeviceKey(_) | ClientError::ProofRefused => {
                UiError::new(ErrorCode::KeyStore, msg)
            }
            // The proof took longer than the nonce lives: "took too long, try again".
            ClientError::NonceRefused => UiError::new(ErrorCode::Timeout, msg),
            ClientError::Api { .. } | ClientError::Protocol(_) => {
                UiError::new(ErrorCode::Internal, msg)
            }
        }
    }
}

fn lockout_json(v: &LockoutView) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

impl From<ikd_selfie::SelfieError> for UiError {
    fn from(e: ikd_selfie::SelfieError) -> Self {
        use ikd_selfie::SelfieError as E;
        let message = e.to_string();
        let invalid = |reason: &str| {
            UiError::new(ErrorCode::ImageInvalid, message.clone())
                .with_detail(serde_json::json!({ "reason": reason }))
        };
        match e {
            E::TooLarge { bytes } => UiError::new(ErrorCode::ImageTooLarge, message)
                .with_detail(serde_json::json!({ "bytes": bytes })),
            E::TooManyPixels { w, h } => UiError::new(ErrorCode::ImageTooLarge, message)
                .with_detail(serde_json::json!({ "width": w, "height": h })),
            E::Corrupt(_) => invalid("corrupt"),
            E::Truncated => invalid("truncated"),
            E::UnsupportedFormat => invalid("unsupported_format"),
            E::Encode(_) => UiError::new(ErrorCode::Internal, message),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use ikd_proto::enrollment::EnrollmentState;
    use ikd_proto::identity::{email, kk, nik, phone};

    #[test]
    fn identity_errors_map_to_input_codes_with_reasons() {
        let today = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        for (input, reason) in [
            ("123", "length"),
            ("1671a14509900001", "non_digit"),
            ("9971014509900001", "unknown_province"),
            ("1671013209900001", "impossible_date"),
            ("1671014509900000", "serial_zero"),
        ] {
            let ui: UiError = nik::parse(input, today).unwrap_err().into();
            assert_eq!(ui.code, ErrorCode::InvalidNik);
            assert_eq!(ui.detail.clone().unwrap()["reason"], reason);
            assert!(serde_json::to_string(&ui)
                .unwrap()
                .contains("\"invalid_nik\""));
            assert!(!ui.message.contains(input), "{}", ui.message);
        }
        let ui: UiError = nik::parse("123", today).unwrap_err().into();
        assert_eq!(ui.detail.unwrap()["digits"], 3);
        let ui: UiError = nik::parse("1671a14509900001", today).unwrap_err().into();
        assert_eq!(ui.detail.as_ref().unwrap()["position"], 5);
        assert_eq!(ui.detail.unwrap()["class"], "letter");

        let ui: UiError = kk::parse("12").unwrap_err().into();
        assert_eq!(ui.code, ErrorCode::InvalidKk);
        assert_eq!(ui.detail.unwrap()["reason"], "length");
        let ui: UiError = kk::parse("9971012304190007").unwrap_err().into();
        assert_eq!(ui.detail.unwrap()["reason"], "unknown_province");

        let ui: UiError = phone::normalize("0211234567").unwrap_err().into();
        assert_eq!(ui.code, ErrorCode::InvalidPhone);
        assert_eq!(ui.detail.unwrap()["reason"], "not_mobile");
        assert!(!ui.message.contains("021"));

        let ui: UiError = email::normalize("nope").unwrap_err().into();
        assert_eq!(ui.code, ErrorCode::InvalidEmail);
        assert_eq!(ui.detail.unwrap()["reason"], "at_count");
    }

    #[test]
    fn enrollment_errors_map_to_invalid_state_or_storage() {
        let ui = UiError::from(EnrollmentState::Draft.approve().unwrap_err());
        assert_eq!(ui.code, ErrorCode::InvalidState);
        let detail = ui.detail.unwrap();
        assert_eq!(detail["from"], "draft");
        assert_eq!(detail["event"], "approve");
        assert_eq!(serde_json::to_value(ui.code).unwrap(), "invalid_state");
        let err = EnrollmentState::from_json(r#"{"state":"flying"}"#).unwrap_err();
        assert_eq!(UiError::from(err).code, ErrorCode::Storage);
    }
}
