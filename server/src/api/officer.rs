//! Officer desk API: login (session cookie), desk QR, queue, detail, approve, reject,
//! block a device; and the dev outbox. The services are [`crate::auth`],
//! [`crate::enrollment`] and [`crate::issuance`].

use super::{cookie, no_store, ApiErr, JsonBody};
use crate::auth::{self, SESSION_COOKIE, SESSION_HOURS};
use crate::clientip::Https;
use crate::enrollment::{self, EnrollmentDetail, QueueItem};
use crate::issuance;
use crate::state::{AppState, SharedState};
use crate::store::Officer;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use ikd_proto::wire::DeskQr;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OfficerView {
    pub username: String,
    pub desk_id: String,
    pub desk_name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RejectRequest {
    #[schema(min_length = 1)]
    pub reason: String,
}

/// The approval: the desk confirmation code the resident's app shows, as the officer
/// typed it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ApproveRequest {
    #[schema(min_length = 1, max_length = 32)]
    pub confirm_code: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DecisionResponse {
    pub enrollment_id: String,
    pub status: String,
}

/// Why the resident's devices are blocked (recorded with the officer and the time).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BlockRequest {
    #[schema(min_length = 1, max_length = 500)]
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BlockResponse {
    /// How many active devices were blocked.
    pub blocked: usize,
}

/// The session cookie's name over https: `__Host-` (Secure, Path=/, no Domain; a
/// browser keeps it only from https and no subdomain can set or shadow it).
pub const HOST_SESSION_COOKIE: &str = "__Host-ikd_officer";

/// The session id the request presents: the `__Host-` cookie, or (not when the public
/// URL is https) the plain one of an http deployment.
fn session_id<'a>(state: &AppState, headers: &'a HeaderMap) -> Option<&'a str> {
    cookie(headers, HOST_SESSION_COOKIE).or_else(|| {
        (!state.issuer.starts_with("https://"))
            .then(|| cookie(headers, SESSION_COOKIE))
            .flatten()
    })
}

/// The session cookie to set (`value`, `max_age` seconds; 0 clears it): `Secure` and
/// `__Host-` when the client came over https.
fn session_cookie(https: bool, value: &str, max_age: i64) -> String {
    if https {
        format!("{HOST_SESSION_COOKIE}={value}; Secure; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age}")
    } else {
        format!("{SESSION_COOKIE}={value}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age}")
    }
}

/// The officer of the request's session cookie.
fn officer_of(state: &AppState, headers: &HeaderMap) -> Result<Officer, ApiErr> {
    auth::officer_of(state, session_id(state, headers))
}

/// A state-changing officer request from a browser must come from the console's own
/// origin (the issuer URL): a cross-site page cannot act with the officer's cookie
/// even where SameSite does not hold. No `Origin` (a non-browser client) passes.
fn same_origin(state: &AppState, headers: &HeaderMap) -> Result<(), ApiErr> {
    match headers.get(header::ORIGIN).map(|v| v.to_str()) {
        None => Ok(()),
        Some(Ok(o)) if o.trim_end_matches('/') == state.issuer.trim_end_matches('/') => Ok(()),
        Some(_) => Err(ApiErr::new(
            StatusCode::FORBIDDEN,
            "invalid_request",
            "Permintaan dari situs lain ditolak.",
        )),
    }
}

/// The officer, for a desk action that reads or changes a resident's data (NIK check,
/// detail, approve, reject, block): rate limited per officer account.
pub(super) fn acting_officer(state: &AppState, headers: &HeaderMap) -> Result<Officer, ApiErr> {
    same_origin(state, headers)?;
    let o = officer_of(state, headers)?;
    let l = &state.limits;
    state.limit_per_subject(
        "officer",
        &o.username,
        l.officer_burst,
        l.officer_per_minute,
        state.clock.now(),
    )?;
    Ok(o)
}

fn view(o: &Officer) -> OfficerView {
    OfficerView {
        username: o.username.clone(),
        desk_id: o.desk_id.clone(),
        desk_name: o.desk_name.clone(),
    }
}

/// POST /officer/api/login
#[utoipa::path(post, path = "/officer/api/login", tag = "officer",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in; sets the session cookie (HttpOnly, SameSite=Strict; over https `__Host-ikd_officer` with Secure, else `ikd_officer`)", body = OfficerView),
        (status = 400, description = "Malformed body", body = ikd_proto::wire::ApiError),
        (status = 401, description = "Wrong name or password", body = ikd_proto::wire::ApiError),
        (status = 403, description = "From another origin", body = ikd_proto::wire::ApiError),
        (status = 413, description = "Body too large", body = ikd_proto::wire::ApiError),
        (status = 415, description = "Content-Type is not application/json", body = ikd_proto::wire::ApiError),
        (status = 429, description = "Rate limited", body = ikd_proto::wire::ApiError),
    ))]
pub async fn login(
    State(state): State<SharedState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Extension(Https(https)): Extension<Https>,
    headers: HeaderMap,
    JsonBody(req): JsonBody<LoginRequest>,
) -> Result<Response, ApiErr> {
    same_origin(&state, &headers)?;
    let (officer, sid) = auth::login(&state, peer, &req.username, &req.password).await?;
    let mut resp = axum::Json(view(&officer)).into_response();
    let c = session_cookie(https, &sid, SESSION_HOURS * 3600);
    if let Ok(v) = HeaderValue::from_str(&c) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(resp)
}

/// POST /officer/api/logout
#[utoipa::path(post, path = "/officer/api/logout", tag = "officer", responses((status = 204, description = "Session ended in the store (the cookie no longer opens anything, wherever it was copied) and the cookie cleared"), (status = 403, description = "From another origin", body = ikd_proto::wire::ApiError)))]
pub async fn logout(
    State(state): State<SharedState>,
    Extension(Https(https)): Extension<Https>,
    headers: HeaderMap,
) -> Result<Response, ApiErr> {
    same_origin(&state, &headers)?;
    if let Some(sid) = session_id(&state, &headers).map(str::to_owned) {
        let st = state.clone();
        super::blocking(move || {
            Ok(st
                .store
                .delete_session(&crate::crypto::sha256_hex(sid.as_bytes()))?)
        })
        .await?;
        tracing::info!("officer logged out");
    }
    let mut resp = StatusCode::NO_CONTENT.into_response();
    if let Ok(v) = HeaderValue::from_str(&session_cookie(https, "", 0)) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(resp)
}

/// GET /officer/api/me
#[utoipa::path(get, path = "/officer/api/me", tag = "officer", security(("officer_session" = [])),
    responses((status = 200, body = OfficerView), (status = 401, body = ikd_proto::wire::ApiError)))]
pub async fn me(State(state): State<SharedState>, headers: HeaderMap) -> Result<Response, ApiErr> {
    let o = officer_of(&state, &headers)?;
    Ok(axum::Json(view(&o)).into_response())
}

fn current_qr(state: &AppState, o: &Officer) -> Result<DeskQr, ApiErr> {
    let q = crate::deskqr::current(
        state.store.as_ref(),
        &state.hmac_key,
        &o.desk_id,
        &o.desk_name,
        state.clock.now(),
    )?;
    Ok(DeskQr {
        desk_id: o.desk_id.clone(),
        desk_name: o.desk_name.clone(),
        text: q.text,
        expires_at: q.claims.expires_at.to_rfc3339(),
    })
}

/// GET /officer/api/desk/qr
#[utoipa::path(get, path = "/officer/api/desk/qr", tag = "officer", security(("officer_session" = [])),
    responses((status = 200, description = "The desk's current QR (rotates every 30 s, expires after 90 s)", body = ikd_proto::wire::DeskQr), (status = 401, body = ikd_proto::wire::ApiError)))]
pub async fn desk_qr(
    State(state): State<SharedState>,
    headers: HeaderMap,
) -> Result<Response, ApiErr> {
    let o = officer_of(&state, &headers)?;
    let q = super::blocking(move || current_qr(&state, &o)).await?;
    Ok(no_store(axum::Json(q)))
}

/// Renders text as a QR PNG, large, with a quiet zone.
pub fn qr_png(text: &str) -> Option<Vec<u8>> {
    let code = qrcode::QrCode::new(text.as_bytes()).ok()?;
    let img = code
        .render::<image::Luma<u8>>()
        .quiet_zone(true)
        .min_dimensions(480, 480)
        .build();
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).ok()?;
    Some(out.into_inner())
}

/// GET /officer/api/desk/qr.png
#[utoipa::path(get, path = "/officer/api/desk/qr.png", tag = "officer", security(("officer_session" = [])),
    responses((status = 200, description = "The desk QR as PNG", content_type = "image/png", body = Vec<u8>), (status = 401, body = ikd_proto::wire::ApiError)))]
pub async fn desk_qr_png(
    State(state): State<SharedState>,
    headers: HeaderMap,
) -> Result<Response, ApiErr> {
    let o = officer_of(&state, &headers)?;
    let q = super::blocking(move || current_qr(&state, &o)).await?;
    let png = qr_png(&q.text).ok_or_else(ApiErr::internal)?;
    let mut resp = png.into_response();
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("image/png"));
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

/// GET /officer/api/queue
#[utoipa::path(get, path = "/officer/api/queue", tag = "officer", security(("officer_session" = [])),
    responses((status = 200, body = Vec<QueueItem>), (status = 401, body = ikd_proto::wire::ApiError)))]
pub async fn queue(
    State(state): State<SharedState>,
    headers: HeaderMap,
) -> Result<Response, ApiErr> {
    let o = officer_of(&state, &headers)?;
    let q = super::blocking(move || enrollment::queue(&state, &o)).await?;
    Ok(no_store(axum::Json(q)))
}

/// GET /officer/api/enrollments/{id}
#[utoipa::path(get, path = "/officer/api/enrollments/{id}", tag = "officer", security(("officer_session" = [])),
    params(("id" = String, Path, description = "Enrollment id")),
    responses((status = 200, body = EnrollmentDetail), (status = 401, description = "No officer session", body = ikd_proto::wire::ApiError), (status = 404, body = ikd_proto::wire::ApiError)))]
pub async fn detail(
    State(state): State<SharedState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiErr> {
    let o = acting_officer(&state, &headers)?;
    let d = super::retrying(move || enrollment::detail(&state, &o, &id)).await?;
    Ok(no_store(axum::Json(d)))
}

/// POST /officer/api/enrollments/{id}/approve: with the desk confirmation code the
/// resident's app shows; code by email, offer in the status.
#[utoipa::path(post, path = "/officer/api/enrollments/{id}/approve", tag = "officer", security(("officer_session" = [])),
    params(("id" = String, Path, description = "Enrollment id")),
    request_body = ApproveRequest,
    responses((status = 200, description = "Approved; the code is mailed", body = DecisionResponse), (status = 400, description = "confirm_wrong (detail.attempts_left), or a malformed body", body = ikd_proto::wire::ApiError), (status = 401, description = "No officer session", body = ikd_proto::wire::ApiError), (status = 403, description = "From another origin", body = ikd_proto::wire::ApiError), (status = 404, description = "Unknown enrollment", body = ikd_proto::wire::ApiError), (status = 409, description = "invalid_state, or confirm_void (the resident scans a new desk QR)", body = ikd_proto::wire::ApiError), (status = 413, description = "Body too large", body = ikd_proto::wire::ApiError), (status = 415, description = "Content-Type is not application/json", body = ikd_proto::wire::ApiError), (status = 429, description = "Rate limited", body = ikd_proto::wire::ApiError)))]
pub async fn approve(
    State(state): State<SharedState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    JsonBody(req): JsonBody<ApproveRequest>,
) -> Result<Response, ApiErr> {
    let o = acting_officer(&state, &headers)?;
    let e =
        super::retrying(move || enrollment::approve(&state, &o, &id, &req.confirm_code)).await?;
    Ok(axum::Json(DecisionResponse {
        enrollment_id: e.id,
        status: "approved".into(),
    })
    .into_response())
}

/// POST /officer/api/enrollments/{id}/reject
#[utoipa::path(post, path = "/officer/api/enrollments/{id}/reject", tag = "officer", security(("officer_session" = [])),
    params(("id" = String, Path, description = "Enrollment id")),
    request_body = RejectRequest,
    responses((status = 200, body = DecisionResponse), (status = 400, description = "Malformed body or empty reason", body = ikd_proto::wire::ApiError), (status = 401, description = "No officer session", body = ikd_proto::wire::ApiError), (status = 404, description = "Unknown enrollment", body = ikd_proto::wire::ApiError), (status = 409, body = ikd_proto::wire::ApiError), (status = 413, description = "Body too large", body = ikd_proto::wire::ApiError), (status = 415, description = "Content-Type is not application/json", body = ikd_proto::wire::ApiError)))]
pub async fn reject(
    State(state): State<SharedState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    JsonBody(req): JsonBody<RejectRequest>,
) -> Result<Response, ApiErr> {
    let o = acting_officer(&state, &headers)?;
    let e = super::retrying(move || enrollment::reject(&state, &o, &id, &req.reason)).await?;
    Ok(axum::Json(DecisionResponse {
        enrollment_id: e.id,
        status: "rejected".into(),
    })
    .into_response())
}

/// POST /officer/api/devices/{nik}/block (a NIK, or an enrollment id), with a reason;
/// recorded with the officer and the time.
#[utoipa::path(post, path = "/officer/api/devices/{nik}/block", tag = "officer", security(("officer_session" = [])),
    params(("nik" = String, Path, description = "NIK, or an enrollment id")),
    request_body = BlockRequest,
    responses((status = 200, body = BlockResponse), (status = 400, description = "No reason, or a malformed body", body = ikd_proto::wire::ApiError), (status = 401, description = "No officer session", body = ikd_proto::wire::ApiError), (status = 403, description = "From another origin", body = ikd_proto::wire::ApiError), (status = 404, body = ikd_proto::wire::ApiError), (status = 413, description = "Body too large", body = ikd_proto::wire::ApiError), (status = 415, description = "Content-Type is not application/json", body = ikd_proto::wire::ApiError), (status = 429, description = "Rate limited", body = ikd_proto::wire::ApiError)))]
pub async fn block_device(
    State(state): State<SharedState>,
    Path(key): Path<String>,
    headers: HeaderMap,
    JsonBody(req): JsonBody<BlockRequest>,
) -> Result<Response, ApiErr> {
    let o = acting_officer(&state, &headers)?;
    let blocked =
        super::blocking(move || issuance::block_devices(&state, &o, key, &req.reason)).await?;
    Ok(axum::Json(BlockResponse { blocked }).into_response())
}

/// GET /officer/api/blocks: the latest device blocks (who, when, why), newest first.
#[utoipa::path(get, path = "/officer/api/blocks", tag = "officer", security(("officer_session" = [])),
    responses((status = 200, body = Vec<crate::store::DeviceBlock>), (status = 401, description = "No officer session", body = ikd_proto::wire::ApiError), (status = 429, description = "Rate limited", body = ikd_proto::wire::ApiError)))]
pub async fn blocks(
    State(state): State<SharedState>,
    headers: HeaderMap,
) -> Result<Response, ApiErr> {
    acting_officer(&state, &headers)?;
    let list = super::blocking(move || Ok(state.store.device_blocks(50)?)).await?;
    Ok(no_store(axum::Json(list)))
}

/// GET /dev/outbox (dev mode only; 404 otherwise)
#[utoipa::path(get, path = "/dev/outbox", tag = "dev",
    responses((status = 200, description = "Dev mode only", body = Vec<ikd_proto::wire::OutboxMail>), (status = 404, body = ikd_proto::wire::ApiError)))]
pub async fn dev_outbox(State(state): State<SharedState>) -> Result<Response, ApiErr> {
    if !state.dev_mode {
        return Err(ApiErr::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "Alamat tidak ditemukan.",
        ));
    }
    let mut all = state.store.outbox()?;
    all.extend(state.store.sms_outbox()?);
    Ok(no_store(axum::Json(all)))
}

/// A NIK to check at the desk.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResidentCheckRequest {
    pub nik: String,
}

/// POST /officer/api/residents/check: why a NIK can or cannot enroll (the online
/// answer is the same `not_verifiable` for every refused NIK).
#[utoipa::path(post, path = "/officer/api/residents/check", tag = "officer", security(("officer_session" = [])),
    request_body = ResidentCheckRequest,
    responses((status = 200, body = crate::enrollment::ResidentCheck), (status = 400, description = "Malformed body or NIK", body = ikd_proto::wire::ApiError), (status = 401, description = "No officer session", body = ikd_proto::wire::ApiError), (status = 413, description = "Body too large", body = ikd_proto::wire::ApiError), (status = 415, description = "Content-Type is not application/json", body = ikd_proto::wire::ApiError)))]
pub async fn resident_check(
    State(state): State<SharedState>,
    headers: HeaderMap,
    JsonBody(req): JsonBody<ResidentCheckRequest>,
) -> Result<Response, ApiErr> {
    let o = acting_officer(&state, &headers)?;
    let check = super::blocking(move || enrollment::resident_check(&state, &o, &req.nik)).await?;
    Ok(no_store(axum::Json(check)))
}
