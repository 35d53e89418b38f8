//! HTTP API: routes, the JSON error body, extractors and auth helpers.

pub mod credentials;
pub mod enroll;
pub mod officer;
pub mod oid4vci;
pub mod reauth;

use crate::store::StoreError;
use crate::SharedState;
use axum::extract::rejection::{FormRejection, JsonRejection};
use axum::extract::{DefaultBodyLimit, FromRequest, Request};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use ikd_proto::wire::{paths, ApiError, ApiErrorCode};
use serde::de::DeserializeOwned;

/// Request bodies above this are refused with 413 (a selfie is ≤ 200 KB base64).
pub const BODY_LIMIT: usize = 512 * 1024;

pub fn router(state: SharedState) -> Router {
    Router::new()
        .route(paths::ENROLLMENTS, post(enroll::submit))
        .route(paths::ENROLLMENT, get(enroll::status))
        .route(paths::ENROLLMENT_SCAN, post(enroll::scan))
        .route(paths::ENROLLMENT_RESEND, post(enroll::resend))
        .route(paths::ENROLLMENT_REAUTH, post(reauth::reauth))
        .route(paths::DEVICE_RELEASE, post(oid4vci::release))
        .route(
            paths::CREDENTIAL_ISSUER_METADATA,
            get(oid4vci::issuer_metadata),
        )
        .route(paths::JWT_VC_ISSUER_METADATA, get(oid4vci::jwt_vc_issuer))
        .route(
            paths::AUTHORIZATION_SERVER_METADATA,
            get(oid4vci::as_metadata),
        )
        .route(paths::TOKEN, post(oid4vci::token))
        .route(paths::NONCE, post(oid4vci::nonce))
        .route(paths::CREDENTIAL, post(oid4vci::credential))
        .route(paths::OFFICER_LOGIN, post(officer::login))
        .route(paths::OFFICER_LOGOUT, post(officer::logout))
        .route(paths::OFFICER_ME, get(officer::me))
        .route(paths::OFFICER_DESK_QR, get(officer::desk_qr))
        .route(paths::OFFICER_DESK_QR_PNG, get(officer::desk_qr_png))
        .route(paths::OFFICER_QUEUE, get(officer::queue))
        .route(paths::OFFICER_ENROLLMENT, get(officer::detail))
        .route(paths::OFFICER_APPROVE, post(officer::approve))
        .route(paths::OFFICER_REJECT, post(officer::reject))
        .route(paths::OFFICER_BLOCK_DEVICE, post(officer::block_device))
        .route("/officer", get(crate::console::page))
        .route("/", get(crate::console::home))
        .route("/openapi.json", get(crate::openapi::serve))
        .route(paths::DEV_OUTBOX, get(officer::dev_outbox))
        .fallback(not_found_route)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
}

async fn not_found_route() -> ApiErr {
    ApiErr::new(
        StatusCode::NOT_FOUND,
        ApiErrorCode::NotFound,
        "Alamat tidak ditemukan.",
    )
}

/// Runs a handler's synchronous part (SQLite, signing, hashing) on tokio's blocking
/// pool, so the async workers keep serving other requests meanwhile.
pub async fn blocking<T, F>(f: F) -> Result<T, ApiErr>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, ApiErr> + Send + 'static,
{
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "blocking task failed");
            Err(ApiErr::internal())
        }
    }
}

/// The per-client-IP token bucket for `what` ("submit", "token", "reauth", "login"):
/// `burst` requests, refilled at `per_minute`; a 429 with `retry_after_secs` when empty.
pub fn limit_per_ip(
    state: &crate::AppState,
    what: &str,
    peer: std::net::SocketAddr,
    burst: u32,
    per_minute: u32,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), ApiErr> {
    state
        .limiter
        .check(&format!("{what}:{}", peer.ip()), burst, per_minute, now)
        .map_err(ApiErr::rate_limited)
}

/// Seconds from `now` to the next UTC midnight (at least 1).
pub fn secs_until_tomorrow(now: chrono::DateTime<chrono::Utc>) -> u64 {
    let tomorrow = now.date_naive().succ_opt().unwrap_or(now.date_naive());
    (tomorrow
        .and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc())
        .unwrap_or(now)
        - now)
        .num_seconds()
        .max(1) as u64
}

/// Every error answer: `ApiError` JSON (OAuth endpoints add `error_description`).
#[derive(Debug)]
pub struct ApiErr {
    pub status: StatusCode,
    pub body: ApiError,
    pub oauth: bool,
    pub retry_after: Option<u64>,
}

impl ApiErr {
    pub fn new(status: StatusCode, code: ApiErrorCode, message: &str) -> Self {
        Self {
            status,
            body: ApiError {
                error: code,
                message: message.to_owned(),
                detail: None,
            },
            oauth: false,
            retry_after: None,
        }
    }

    /// Adds `reason` to the detail object (keeps other members).
    pub fn with_reason(mut self, reason: &str) -> Self {
        let mut d = match self.body.detail.take() {
            Some(serde_json::Value::Object(m)) => m,
            _ => serde_json::Map::new(),
        };
        d.insert(
            "reason".into(),
            serde_json::Value::String(reason.to_owned()),
        );
        self.body.detail = Some(serde_json::Value::Object(d));
        self
    }

    pub fn detail(mut self, d: serde_json::Value) -> Self {
        self.body.detail = Some(d);
        self
    }

    /// An RFC 6749 error (`error` is the OAuth code), with our finer code in `detail.code`.
    pub fn oauth(status: StatusCode, error: ApiErrorCode, message: &str) -> Self {
        let mut e = Self::new(status, error, message);
        e.oauth = true;
        e
    }

    pub fn bad_request(message: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            ApiErrorCode::InvalidRequest,
            message,
        )
    }

    pub fn not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            ApiErrorCode::NotFound,
            "Data tidak dapat diverifikasi. Periksa kembali data Anda atau hubungi Disdukcapil.",
        )
    }

    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            ApiErrorCode::Unauthorized,
            "Silakan masuk terlebih dahulu.",
        )
    }

    pub fn rate_limited(retry_after_secs: u64) -> Self {
        let mut e = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            ApiErrorCode::RateLimited,
            "Terlalu banyak percobaan. Silakan coba lagi nanti.",
        )
        .detail(serde_json::json!({ "retry_after_secs": retry_after_secs }));
        e.retry_after = Some(retry_after_secs);
        e
    }

    pub fn invalid_state(message: &str) -> Self {
        Self::new(StatusCode::CONFLICT, ApiErrorCode::InvalidState, message)
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ApiErrorCode::Internal,
            "Terjadi kesalahan pada server. Silakan coba lagi.",
        )
    }

    pub fn device_revoked() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            ApiErrorCode::DeviceRevoked,
            "Perangkat ini sudah tidak terdaftar untuk IKD Anda.",
        )
    }
}

impl From<StoreError> for ApiErr {
    fn from(e: StoreError) -> Self {
        tracing::error!(error = %e, "storage error");
        Self::internal()
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

/// JSON body extractor whose rejections are `ApiError` JSON (400, 413, 415).
pub struct JsonBody<T>(pub T);

impl<S, T> FromRequest<S> for JsonBody<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiErr;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Self(v)),
            Err(rej) => Err(json_rejection(rej)),
        }
    }
}

fn json_rejection(rej: JsonRejection) -> ApiErr {
    let status = rej.status();
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiErr::new(
            status,
            ApiErrorCode::PayloadTooLarge,
            "Data yang dikirim terlalu besar.",
        );
    }
    // JSON of the wrong shape is a 400 like malformed JSON (axum says 422), so every
    // JSON body has one documented set of refusals: 400, 413, 415.
    let status = if status.is_server_error() || status == StatusCode::UNPROCESSABLE_ENTITY {
        StatusCode::BAD_REQUEST
    } else {
        status
    };
    ApiErr::new(
        status,
        ApiErrorCode::InvalidRequest,
        "Format permintaan tidak valid.",
    )
}

/// Form body extractor (the token endpoint) with RFC 6749 error answers.
pub struct FormBody<T>(pub T);

impl<S, T> FromRequest<S> for FormBody<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiErr;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Form::<T>::from_request(req, state).await {
            Ok(axum::Form(v)) => Ok(Self(v)),
            Err(rej) => {
                let status = match &rej {
                    FormRejection::BytesRejection(_) => rej.status(),
                    _ => StatusCode::BAD_REQUEST,
                };
                let status = if status.is_server_error() {
                    StatusCode::BAD_REQUEST
                } else {
                    status
                };
                Err(ApiErr::oauth(
                    status,
                    ApiErrorCode::InvalidRequest,
                    "Format permintaan tidak valid.",
                ))
            }
        }
    }
}

/// The `Authorization: Bearer …` token, if any.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
        .filter(|t| !t.is_empty())
}

/// A cookie's value, if present.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A NIK for logs (core's mask: first four and last four digits).
pub fn mask_nik(nik: &str) -> String {
    ikd_proto::identity::nik::mask(nik)
}

/// "s***@example.com"
pub fn mask_email(email: &str) -> String {
    ikd_proto::identity::email::mask(email)
}

pub fn no_store<T: IntoResponse>(t: T) -> Response {
    let mut r = t.into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}
