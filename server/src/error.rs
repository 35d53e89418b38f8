//! The server's errors and their one HTTP mapping.
//!
//! - [`ServerError`]: starting up (store, key files, mail transport, config).
//! - [`ApiErr`]: every error answer of the API, as `ApiError` JSON with a stable
//!   `error` code (OAuth endpoints add `error_description`). The services return it;
//!   lower layers' errors ([`StoreError`], [`SiakError`]) map to it here, once.

use crate::siak::SiakError;
use crate::store::StoreError;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use ikd_proto::wire::ApiError;

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("storage: {0}")]
    Store(#[from] StoreError),
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    #[error("key: {0}")]
    Key(#[from] crate::crypto::KeyError),
    #[error("config: {0}")]
    Config(String),
    #[error("mail: {0}")]
    Mail(#[from] crate::mail::MailError),
    #[error("officer account: {0}")]
    Auth(#[from] crate::auth::AuthError),
}

/// What the app shows for a NIK that cannot enroll online.
pub const NOT_VERIFIABLE_MESSAGE: &str =
    "Data tidak dapat diverifikasi. Silakan datang ke Disdukcapil dengan KTP-el dan KK.";

/// Every error answer: `ApiError` JSON (OAuth endpoints add `error_description`).
#[derive(Debug)]
pub struct ApiErr {
    pub status: StatusCode,
    pub body: ApiError,
    pub oauth: bool,
    pub retry_after: Option<u64>,
    /// From [`StoreError::Conflict`]: the record changed meanwhile; the service can be
    /// run again on a fresh read (`api::retrying`).
    pub conflict: bool,
}

impl ApiErr {
    pub fn new(status: StatusCode, code: &str, message: &str) -> Self {
        Self {
            status,
            body: ApiError {
                error: ikd_proto::wire::ApiErrorCode::parse(code),
                message: message.to_owned(),
                detail: None,
            },
            oauth: false,
            retry_after: None,
            conflict: false,
        }
    }

    /// Adds `reason` to the detail object (keeps other members).
    pub fn with_reason(self, reason: &str) -> Self {
        self.with_detail_member("reason", reason)
    }

    /// Adds `field` to the detail object (keeps other members).
    pub fn with_field(self, field: &str) -> Self {
        self.with_detail_member("field", field)
    }

    fn with_detail_member(mut self, key: &str, value: &str) -> Self {
        let mut d = match self.body.detail.take() {
            Some(serde_json::Value::Object(m)) => m,
            _ => serde_json::Map::new(),
        };
        d.insert(key.into(), serde_json::Value::String(value.to_owned()));
        self.body.detail = Some(serde_json::Value::Object(d));
        self
    }

    pub fn detail(mut self, d: serde_json::Value) -> Self {
        self.body.detail = Some(d);
        self
    }

    /// An RFC 6749 error (`error` is the OAuth code), with our finer code in `detail.code`.
    pub fn oauth(status: StatusCode, error: &str, message: &str) -> Self {
        let mut e = Self::new(status, error, message);
        e.oauth = true;
        e
    }

    pub fn bad_request(message: &str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", message)
    }

    pub fn not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "Data tidak dapat diverifikasi. Periksa kembali data Anda atau hubungi Disdukcapil.",
        )
    }

    /// The one answer for every NIK that cannot enroll online (unknown, under age,
    /// not recorded, deceased): same status and body, so the API does not tell who
    /// exists or who died. The reason is for the officer at the desk.
    pub fn not_verifiable() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_verifiable",
            NOT_VERIFIABLE_MESSAGE,
        )
    }

    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Silakan masuk terlebih dahulu.",
        )
    }

    pub fn rate_limited(retry_after_secs: u64) -> Self {
        let mut e = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "Terlalu banyak percobaan. Silakan coba lagi nanti.",
        )
        .detail(serde_json::json!({ "retry_after_secs": retry_after_secs }));
        e.retry_after = Some(retry_after_secs);
        e
    }

    pub fn invalid_state(message: &str) -> Self {
        Self::new(StatusCode::CONFLICT, "invalid_state", message)
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Terjadi kesalahan pada server. Silakan coba lagi.",
        )
    }

    pub fn device_revoked() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "device_revoked",
            "Perangkat ini sudah tidak terdaftar untuk IKD Anda.",
        )
    }
}

impl ApiErr {
    /// 503 "Server sedang sibuk" with `Retry-After: secs`: a transient refusal the
    /// client retries (a write that lost a race, an unavailable store).
    fn busy(secs: u64) -> Self {
        let mut err = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "internal",
            "Server sedang sibuk. Silakan coba lagi.",
        );
        err.retry_after = Some(secs);
        err
    }
}

impl From<StoreError> for ApiErr {
    fn from(e: StoreError) -> Self {
        if matches!(e, StoreError::Conflict) {
            tracing::info!("record changed meanwhile");
            let mut err = Self::busy(1);
            err.conflict = true;
            return err;
        }
        if e.is_unavailable() {
            unavailable_logged(&e);
            return Self::busy(STORE_RETRY_AFTER_SECS);
        }
        tracing::error!(error = %e, "storage error");
        Self::internal()
    }
}

/// `Retry-After` of a 503 while the store is unavailable.
pub const STORE_RETRY_AFTER_SECS: u64 = 2;

/// Logs an unavailable store at most once a second (an outage fails every request: one
/// line each would bury the log), with how many were not logged since.
fn unavailable_logged(e: &StoreError) {
    use std::sync::atomic::{AtomicU64, Ordering};
    static LAST_SEC: AtomicU64 = AtomicU64::new(0);
    static QUIET: AtomicU64 = AtomicU64::new(0);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let last = LAST_SEC.load(Ordering::Relaxed);
    if now != last
        && LAST_SEC
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
    {
        let not_logged = QUIET.swap(0, Ordering::Relaxed);
        tracing::warn!(error = %e, not_logged, "store unavailable: answering 503");
    } else {
        QUIET.fetch_add(1, Ordering::Relaxed);
    }
}

impl IntoResponse for ApiErr {
    fn into_response(self) -> Response {
        let mut body = serde_json::to_value(&self.body).unwrap_or_default();
        if self.oauth {
            if let Some(o) = body.as_object_mut() {
                o.insert(
                    "error_description".into(),
                    serde_json::Value::String(self.body.message.clone()),
                );
            }
        }
        let mut resp = (self.status, axum::Json(body)).into_response();
        let h = resp.headers_mut();
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Some(s) = self.retry_after {
            if let Ok(v) = HeaderValue::from_str(&s.to_string()) {
                h.insert(header::RETRY_AFTER, v);
            }
        }
        resp
    }
}

impl From<SiakError> for ApiErr {
    fn from(e: SiakError) -> Self {
        tracing::error!(error = %e, "SIAK error");
        Self::internal()
    }
}
