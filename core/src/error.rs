//! The one error the UI sees.
//!
//! Each module has its own typed error (thiserror). Each of those is mapped, once,
//! in its own module (`impl From<ModError> for UiError`), to this small
//! serializable error with a stable `code`. The UI words the code in the resident's
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
    Ineligible,
    Rejected,
    CodeWrong,
    CodeExpired,
    CodeVoid,
    QrInvalid,
    QrExpired,
    QrUsed,
    DeviceRevoked,
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
