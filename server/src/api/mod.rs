//! HTTP API: routes, extractors and small answer helpers. A handler extracts the
//! request, calls a service ([`crate::enrollment`], [`crate::issuance`],
//! [`crate::auth`]) and answers; the error answers are [`ApiErr`] ([`crate::error`]).

pub mod enroll;
pub mod health;
pub mod officer;
pub mod oid4vci;
pub mod pinreset;
pub mod reauth;
pub mod status_list;
pub mod uploads;

pub use crate::error::ApiErr;
use crate::state::SharedState;
use axum::extract::rejection::{FormRejection, JsonRejection};
use axum::extract::{DefaultBodyLimit, FromRequest, Request};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use ikd_proto::wire::paths;
use serde::de::DeserializeOwned;

/// Request bodies above this are refused with 413 (a selfie is ≤ 200 KB base64).
pub const BODY_LIMIT: usize = 512 * 1024;

pub fn router(state: SharedState) -> Router {
    // Every state-changing POST of the wallet honours an Idempotency-Key.
    let idem = || axum::middleware::from_fn_with_state(state.clone(), crate::idempotency::layer);
    Router::new()
        .route(paths::ENROLLMENTS, post(enroll::submit).layer(idem()))
        .route(paths::ENROLLMENT, get(enroll::status))
        .route(paths::ENROLLMENT_SCAN, post(enroll::scan).layer(idem()))
        .route(paths::ENROLLMENT_RESEND, post(enroll::resend).layer(idem()))
        .route(paths::ENROLLMENT_REAUTH, post(reauth::reauth).layer(idem()))
        .route(paths::DEVICE_RELEASE, post(oid4vci::release).layer(idem()))
        .route(
            paths::CREDENTIAL_ISSUER_METADATA,
            get(oid4vci::issuer_metadata),
        )
        .route(paths::JWT_VC_ISSUER_METADATA, get(oid4vci::jwt_vc_issuer))
        .route(status_list::PATH, get(status_list::serve))
        .route(
            paths::AUTHORIZATION_SERVER_METADATA,
            get(oid4vci::as_metadata),
        )
        .route(paths::TOKEN, post(oid4vci::token).layer(idem()))
        .route(paths::NONCE, post(oid4vci::nonce))
        .route(paths::CREDENTIAL, post(oid4vci::credential).layer(idem()))
        .route(paths::OFFICER_LOGIN, post(officer::login))
        .route("/officer/api/logout", post(officer::logout))
        .route("/officer/api/me", get(officer::me))
        .route(paths::OFFICER_DESK_QR, get(officer::desk_qr))
        .route(paths::OFFICER_DESK_QR_PNG, get(officer::desk_qr_png))
        .route(paths::OFFICER_QUEUE, get(officer::queue))
        .route("/officer/api/enrollments/{id}", get(officer::detail))
        .route(
            "/officer/api/residents/check",
            post(officer::resident_check),
        )
        .route(paths::OFFICER_APPROVE, post(officer::approve))
        .route(paths::OFFICER_REJECT, post(officer::reject))
        .route(
            "/officer/api/devices/{nik}/block",
            post(officer::block_device),
        )
        .route("/officer/api/blocks", get(officer::blocks))
        .route("/officer/api/resets", get(pinreset::queue))
        .route("/officer/api/resets/{id}", get(pinreset::detail))
        .route("/officer/api/resets/{id}/approve", post(pinreset::approve))
        .route("/officer/api/resets/{id}/reject", post(pinreset::reject))
        .route("/api/v1/pin-resets/cancel", post(pinreset::cancel))
        .route("/pin-reset/cancel", get(pinreset::cancel_page))
        .route("/officer", get(crate::console::page))
        .route("/", get(crate::console::home))
        .route("/openapi.json", get(crate::openapi::serve))
        .merge(health_routes())
        .route(paths::DEV_OUTBOX, get(officer::dev_outbox))
        .merge(uploads::routes())
        .fallback(not_found_route)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::clientip::rewrite,
        ))
        // Answers compressed (br, gzip) when the client accepts it and they are worth
        // it: `COMPRESS_FROM` bytes and up (a credential, the metadata, an enrollment's
        // status, a status list). Images (the desk QR PNG) are left as they are.
        .layer(
            tower_http::compression::CompressionLayer::new()
                .br(true)
                .gzip(true)
                .compress_when(compress_when()),
        )
        .with_state(state)
}

/// Answers this size and up are compressed. Below it the encoding's framing and the
/// `content-encoding` and `vary` headers cost as much as they save or more (a token answer was
/// 37 B longer compressed, a submit's 113 B: `docs/net/profiles.md`), and each brotli
/// stream costs the node its buffers.
pub const COMPRESS_FROM: u16 = 512;

/// tower-http's default predicate (no images, gRPC or SSE), with `COMPRESS_FROM`.
fn compress_when() -> impl tower_http::compression::Predicate {
    use tower_http::compression::predicate::{DefaultPredicate, Predicate, SizeAbove};
    DefaultPredicate::new().and(SizeAbove::new(COMPRESS_FROM))
}

/// The routes of a node of role `face` (`crate::config::Role::Face`): only `/healthz`
/// and `/readyz`, for a probe; every other path is not found.
pub fn health_router(state: SharedState) -> Router {
    health_routes().fallback(not_found_route).with_state(state)
}

/// `/healthz` (the process is up) and `/readyz` (the store answers, migrations current):
/// on every node, whatever its role.
fn health_routes() -> Router<SharedState> {
    Router::new()
        .route(health::HEALTHZ, get(health::healthz))
        .route(health::READYZ, get(health::readyz))
}

async fn not_found_route() -> ApiErr {
    ApiErr::new(
        StatusCode::NOT_FOUND,
        "not_found",
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

/// [`blocking`] with the whole of `f` run again while the store answers that the
/// record changed meanwhile ([`crate::conflict::retry`]). Only for handlers with no
/// single-use check (a DPoP proof, a nonce, a rate-limit token): those run once, and
/// their handlers call [`crate::conflict::retry`] on the write part themselves.
pub async fn retrying<T, F>(f: F) -> Result<T, ApiErr>
where
    T: Send + 'static,
    F: Fn() -> Result<T, ApiErr> + Send + 'static,
{
    blocking(move || crate::conflict::retry(&f)).await
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
            "payload_too_large",
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
    ApiErr::new(status, "invalid_request", "Format permintaan tidak valid.")
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
                    "invalid_request",
                    "Format permintaan tidak valid.",
                ))
            }
        }
    }
}

/// The `Authorization: Bearer …` token, if any.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    authorization(headers, "bearer")
}

/// The credentials of an `Authorization: <scheme> <token>` header (scheme compared
/// case-insensitively), e.g. `Bearer` or `DPoP`.
pub fn authorization<'a>(headers: &'a HeaderMap, scheme: &str) -> Option<&'a str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (s, token) = v.split_once(' ')?;
    s.eq_ignore_ascii_case(scheme)
        .then_some(token.trim())
        .filter(|t| !t.is_empty())
}

/// The `DPoP` header's value, if any; a repeated (or non-ASCII) header gives `Some("")`,
/// which the check refuses (RFC 9449 §4.3: exactly one).
pub fn dpop_proof(headers: &HeaderMap) -> Option<&str> {
    let mut values = headers.get_all(crate::dpop::HEADER).iter();
    let first = values.next()?;
    if values.next().is_some() {
        return Some("");
    }
    Some(first.to_str().unwrap_or(""))
}

/// What a request to a protected endpoint presents: access token (Bearer or DPoP
/// scheme) and DPoP proof.
pub fn presented(headers: &HeaderMap) -> crate::tokens::Presented<'_> {
    let dpop = authorization(headers, "dpop");
    crate::tokens::Presented {
        token: dpop.or_else(|| bearer(headers)),
        dpop_scheme: dpop.is_some(),
        dpop_proof: dpop_proof(headers),
    }
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

pub fn no_store<T: IntoResponse>(t: T) -> Response {
    let mut r = t.into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}
