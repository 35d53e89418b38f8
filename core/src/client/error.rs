//! The client's typed errors, and how an error answer maps to one.

use crate::wire::{ApiError, ApiErrorCode};
use reqwest::StatusCode;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ClientError {
    #[error("backend URL must be https (or loopback)")]
    InsecureUrl,
    #[error("backend URL is not valid")]
    InvalidUrl,
    #[error("cannot reach the server")]
    Offline,
    #[error("the server did not answer in time")]
    Timeout,
    #[error("the server is busy")]
    ServerBusy,
    #[error("rate limited")]
    RateLimited { retry_after_secs: Option<u64> },
    #[error("not found or not verifiable")]
    NotFound,
    /// The one answer for a NIK that cannot enroll online (unknown, under age, not
    /// recorded, deceased): the resident goes to the Disdukcapil desk.
    #[error("data cannot be verified online")]
    NotVerifiable,
    #[error("not eligible: {reason}")]
    Ineligible { reason: String, message: String },
    #[error("enrollment rejected")]
    Rejected { reason: Option<String> },
    #[error("wrong code")]
    CodeWrong { attempts_left: u32 },
    #[error("code expired")]
    CodeExpired,
    #[error("code void")]
    CodeVoid,
    /// "Lupa PIN": the reset's code cannot be used yet or any more (`reason`:
    /// `in_review`, `cooling_off` until `usable_at`, `cancelled`); no try was spent.
    #[error("PIN reset not usable: {reason}")]
    PinResetWaiting {
        reason: String,
        usable_at: Option<String>,
    },
    #[error("desk QR not recognised")]
    QrInvalid,
    #[error("desk QR expired")]
    QrExpired,
    #[error("desk QR already used")]
    QrUsed,
    #[error("device revoked")]
    DeviceRevoked,
    #[error("the proof key is not the enrolled device key")]
    ProofKeyNotDevice,
    #[error("invalid request ({field:?})")]
    InvalidRequest { field: Option<String> },
    #[error("not allowed in this state")]
    InvalidState,
    #[error("not authorised")]
    Unauthorized,
    #[error("issuer key changed from the pinned key")]
    IssuerKeyChanged,
    #[error("device key: {0}")]
    DeviceKey(String),
    #[error("the server refused the device key proof")]
    ProofRefused,
    #[error("the server's nonce ran out; ask for a new one")]
    NonceRefused,
    #[error("server error {status}: {error}")]
    Api { status: u16, error: String },
    #[error("unexpected answer: {0}")]
    Protocol(String),
}

pub(super) fn transport_error(e: reqwest::Error) -> ClientError {
    if e.is_timeout() {
        ClientError::Timeout
    } else if e.is_connect() || e.is_request() || e.is_body() {
        // Not reached, refused, or the answer cut short: the link, not the server.
        ClientError::Offline
    } else {
        ClientError::Protocol("transport".into())
    }
}

/// Maps an error answer to a typed error.
pub fn map_error(
    status: StatusCode,
    body: Option<ApiError>,
    retry_after: Option<u64>,
) -> ClientError {
    let detail = body.as_ref().and_then(|b| b.detail.clone());
    let d_str = |k: &str| {
        detail
            .as_ref()
            .and_then(|d| d.get(k))
            .and_then(|v| v.as_str())
            .map(str::to_owned)
    };
    let d_u64 = |k: &str| {
        detail
            .as_ref()
            .and_then(|d| d.get(k))
            .and_then(|v| v.as_u64())
    };
    if status == StatusCode::TOO_MANY_REQUESTS {
        return ClientError::RateLimited {
            retry_after_secs: d_u64("retry_after_secs").or(retry_after),
        };
    }
    if status.is_server_error() {
        return ClientError::ServerBusy;
    }
    let Some(body) = body else {
        return match status {
            StatusCode::NOT_FOUND => ClientError::NotFound,
            StatusCode::PAYLOAD_TOO_LARGE => ClientError::InvalidRequest { field: None },
            _ => ClientError::Api {
                status: status.as_u16(),
                error: String::new(),
            },
        };
    };
    // An OAuth invalid_grant (or an invalid_proof, invalid_dpop_proof) carries our
    // finer code in detail.code.
    let code = match &body.error {
        c @ (ApiErrorCode::InvalidGrant
        | ApiErrorCode::InvalidProof
        | ApiErrorCode::InvalidDpopProof) => d_str("code")
            .map(|c| ApiErrorCode::parse(&c))
            .unwrap_or_else(|| c.clone()),
        other => other.clone(),
    };
    use ApiErrorCode as A;
    match code {
        A::NotFound => ClientError::NotFound,
        A::NotVerifiable => ClientError::NotVerifiable,
        A::Ineligible => ClientError::Ineligible {
            reason: d_str("reason").unwrap_or_default(),
            message: body.message,
        },
        A::Rejected => ClientError::Rejected {
            reason: d_str("reason"),
        },
        A::CodeWrong => ClientError::CodeWrong {
            attempts_left: d_u64("attempts_left").unwrap_or(0) as u32,
        },
        A::CodeExpired => ClientError::CodeExpired,
        A::CodeVoid | A::CodeUsed => ClientError::CodeVoid,
        A::QrInvalid => ClientError::QrInvalid,
        A::QrExpired => ClientError::QrExpired,
        A::QrUsed => ClientError::QrUsed,
        A::DeviceRevoked => ClientError::DeviceRevoked,
        A::ProofKeyNotDevice => ClientError::ProofKeyNotDevice,
        A::InvalidRequest | A::PayloadTooLarge => ClientError::InvalidRequest {
            field: d_str("field"),
        },
        A::InvalidState => ClientError::InvalidState,
        A::Unauthorized | A::InvalidToken | A::InvalidCredentials => ClientError::Unauthorized,
        A::InvalidProof | A::InvalidDpopProof => ClientError::ProofRefused,
        A::InvalidNonce => ClientError::NonceRefused,
        A::RateLimited => ClientError::RateLimited {
            retry_after_secs: d_u64("retry_after_secs").or(retry_after),
        },
        A::Other(ref s) if s.starts_with("reset_") => ClientError::PinResetWaiting {
            reason: s.trim_start_matches("reset_").to_owned(),
            usable_at: d_str("usable_at"),
        },
        // The same request still runs on the server (a retry came too early): wait.
        A::Other(ref s) if s == "idempotency_in_progress" => ClientError::ServerBusy,
        other @ (A::Internal
        | A::InvalidGrant
        | A::UnsupportedGrantType
        | A::UnknownCredentialConfiguration
        | A::Other(_)) => ClientError::Api {
            status: status.as_u16(),
            error: other.as_str().to_owned(),
        },
    }
}
