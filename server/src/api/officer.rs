//! Officer desk API: login (session cookie), desk QR, queue, detail, approve, reject,
//! block a device; and the dev outbox.

use super::enroll::{new_code, send_code, CodeMail};
use super::{cookie, mask_nik, ApiErr, JsonBody};
use crate::crypto::{b64, random_id, random_token, sha256_hex};
use crate::store::{DeviceStatus, Officer, Resident};
use crate::{AppState, SharedState};
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Duration;
use ikd_proto::wire::{ApiErrorCode, DeskQr, EnrollmentStatusWire};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;

pub const SESSION_COOKIE: &str = "ikd_officer";
pub const SESSION_HOURS: i64 = 12;

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
pub struct QueueItem {
    pub enrollment_id: String,
    pub nama: String,
    pub nik: String,
    /// RFC 3339
    pub scanned_at: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EnrollmentDetail {
    pub enrollment_id: String,
    pub status: String,
    pub email: String,
    pub phone: String,
    /// RFC 3339
    pub submitted_at: String,
    pub scanned_at: Option<String>,
    /// The resident's selfie, base64 JPEG.
    pub selfie_jpeg: String,
    /// The SIAK photo, base64 JPEG.
    pub siak_photo_jpeg: String,
    /// The SIAK record.
    #[schema(value_type = Object)]
    pub siak: serde_json::Value,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RejectRequest {
    #[schema(min_length = 1)]
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DecisionResponse {
    pub enrollment_id: String,
    pub status: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BlockResponse {
    /// How many active devices were blocked.
    pub blocked: usize,
}

/// The officer of the request's session cookie.
pub fn officer_of(state: &AppState, headers: &HeaderMap) -> Result<Officer, ApiErr> {
    let sid = cookie(headers, SESSION_COOKIE).ok_or_else(ApiErr::unauthorized)?;
    let username = state
        .store
        .session(&sha256_hex(sid.as_bytes()), state.clock.now())?
        .ok_or_else(ApiErr::unauthorized)?;
    state
        .store
        .officer(&username)?
        .ok_or_else(ApiErr::unauthorized)
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
        (status = 200, description = "Logged in; sets the ikd_officer session cookie (HttpOnly, SameSite=Strict)", body = OfficerView),
        (status = 400, description = "Malformed body", body = ikd_proto::wire::ApiError),
        (status = 401, description = "Wrong name or password", body = ikd_proto::wire::ApiError),
        (status = 413, description = "Body too large", body = ikd_proto::wire::ApiError),
        (status = 415, description = "Content-Type is not application/json", body = ikd_proto::wire::ApiError),
        (status = 429, description = "Rate limited", body = ikd_proto::wire::ApiError),
    ))]
pub async fn login(
    State(state): State<SharedState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    JsonBody(req): JsonBody<LoginRequest>,
) -> Result<Response, ApiErr> {
    let now = state.clock.now();
    super::limit_per_ip(&state, "login", peer, 10, 10, now)?;
    let officer = state.store.officer(&req.username)?;
    let hash = officer
        .as_ref()
        .map(|o| o.password_hash.clone())
        // Verify against a dummy hash too, so unknown names take as long.
        .unwrap_or_else(dummy_hash);
    let password = req.password.clone();
    let ok = tokio::task::spawn_blocking(move || crate::demo::verify_password(&password, &hash))
        .await
        .unwrap_or(false);
    let officer = match (ok, officer) {
        (true, Some(o)) => o,
        _ => {
            tracing::info!("officer login refused");
            return Err(ApiErr::new(
                StatusCode::UNAUTHORIZED,
                ApiErrorCode::InvalidCredentials,
                "Nama pengguna atau kata sandi salah.",
            ));
        }
    };
    let sid = random_token();
    state.store.insert_session(
        &sha256_hex(sid.as_bytes()),
        &officer.username,
        now + Duration::hours(SESSION_HOURS),
    )?;
    tracing::info!(officer = %officer.username, "officer logged in");
    let mut resp = axum::Json(view(&officer)).into_response();
    let c = format!(
        "{SESSION_COOKIE}={sid}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}",
        SESSION_HOURS * 3600
    );
    if let Ok(v) = HeaderValue::from_str(&c) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(resp)
}

/// An Argon2id hash of a random password, so unknown names cost as much as wrong
/// passwords.
fn dummy_hash() -> String {
    static H: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    H.get_or_init(|| crate::demo::hash_password(&random_token()).unwrap_or_default())
        .clone()
}

/// POST /officer/api/logout
#[utoipa::path(post, path = "/officer/api/logout", tag = "officer", responses((status = 204, description = "Cookie cleared")))]
pub async fn logout() -> Response {
    let mut resp = StatusCode::NO_CONTENT.into_response();
    resp.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("ikd_officer=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"),
    );
    resp
}

/// GET /officer/api/me
#[utoipa::path(get, path = "/officer/api/me", tag = "officer", security(("officer_session" = [])),
    responses((status = 200, body = OfficerView), (status = 401, body = ikd_proto::wire::ApiError)))]
pub async fn me(State(state): State<SharedState>, headers: HeaderMap) -> Result<Response, ApiErr> {
    let o = officer_of(&state, &headers)?;
    Ok(axum::Json(view(&o)).into_response())
}

fn current_qr(state: &AppState, o: &Officer) -> DeskQr {
    let q = state
        .desks
        .current(&state.hmac_key, &o.desk_id, &o.desk_name, state.clock.now());
    DeskQr {
        desk_id: o.desk_id.clone(),
        desk_name: o.desk_name.clone(),
        text: q.text,
        expires_at: q.claims.expires_at.to_rfc3339(),
    }
}

/// GET /officer/api/desk/qr
#[utoipa::path(get, path = "/officer/api/desk/qr", tag = "officer", security(("officer_session" = [])),
    responses((status = 200, description = "The desk's current QR (rotates every 30 s, expires after 90 s)", body = ikd_proto::wire::DeskQr), (status = 401, body = ikd_proto::wire::ApiError)))]
pub async fn desk_qr(
    State(state): State<SharedState>,
    headers: HeaderMap,
) -> Result<Response, ApiErr> {
    let o = officer_of(&state, &headers)?;
    Ok(super::no_store(axum::Json(current_qr(&state, &o))))
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
    let q = current_qr(&state, &o);
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
    let mut items = Vec::new();
    let now = state.clock.now();
    for e in state.store.queue(&o.desk_id)? {
        if super::enroll::is_stale(&state, &e, now) {
            continue;
        }
        let nama = state
            .store
            .resident(&e.nik)?
            .map(|r| r.nama)
            .unwrap_or_default();
        items.push(QueueItem {
            enrollment_id: e.id,
            nama,
            nik: e.nik,
            scanned_at: e.scanned_at.map(|t| t.to_rfc3339()),
        });
    }
    Ok(super::no_store(axum::Json(items)))
}

/// The SIAK photo of a resident (generated once, then cached).
pub fn siak_photo(r: &Resident) -> std::sync::Arc<Vec<u8>> {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex, OnceLock};
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<Vec<u8>>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(p) = cache.lock().unwrap_or_else(|p| p.into_inner()).get(&r.nik) {
        return p.clone();
    }
    let photo = Arc::new(draw_siak_photo(r));
    let mut c = cache.lock().unwrap_or_else(|p| p.into_inner());
    if c.len() > 10_000 {
        c.clear();
    }
    c.insert(r.nik.clone(), photo.clone());
    photo
}

fn draw_siak_photo(r: &Resident) -> Vec<u8> {
    let seed =
        u64::from_str_radix(&crate::crypto::sha256_hex(r.nik.as_bytes())[..16], 16).unwrap_or(0);
    let year: i32 = r
        .tanggal_lahir
        .get(..4)
        .and_then(|y| y.parse().ok())
        .unwrap_or(2000);
    crate::portrait::portrait_jpeg(seed, year, r.jenis_kelamin == "PEREMPUAN")
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
    let o = officer_of(&state, &headers)?;
    let e = state.store.enrollment(&id)?.ok_or_else(ApiErr::not_found)?;
    if e.desk_id.as_deref() != Some(o.desk_id.as_str()) {
        return Err(ApiErr::not_found());
    }
    let r = state
        .store
        .resident(&e.nik)?
        .ok_or_else(ApiErr::not_found)?;
    let d = EnrollmentDetail {
        enrollment_id: e.id.clone(),
        status: serde_json::to_value(e.status)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        email: e.email.clone(),
        phone: e.phone.clone(),
        submitted_at: e.created_at.to_rfc3339(),
        scanned_at: e.scanned_at.map(|t| t.to_rfc3339()),
        selfie_jpeg: b64(&e.selfie),
        siak_photo_jpeg: b64(&siak_photo(&r)),
        siak: serde_json::to_value(&r).unwrap_or_default(),
    };
    Ok(super::no_store(axum::Json(d)))
}

/// POST /officer/api/enrollments/{id}/approve: code by email, offer in the status.
#[utoipa::path(post, path = "/officer/api/enrollments/{id}/approve", tag = "officer", security(("officer_session" = [])),
    params(("id" = String, Path, description = "Enrollment id")),
    responses((status = 200, description = "Approved; the code is mailed", body = DecisionResponse), (status = 401, description = "No officer session", body = ikd_proto::wire::ApiError), (status = 404, description = "Unknown enrollment", body = ikd_proto::wire::ApiError), (status = 409, body = ikd_proto::wire::ApiError)))]
pub async fn approve(
    State(state): State<SharedState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiErr> {
    let o = officer_of(&state, &headers)?;
    let now = state.clock.now();
    let (e, code) = {
        let _g = state.transition_lock();
        let mut e = state.store.enrollment(&id)?.ok_or_else(ApiErr::not_found)?;
        if e.desk_id.as_deref() != Some(o.desk_id.as_str()) {
            return Err(ApiErr::not_found());
        }
        if e.status != EnrollmentStatusWire::Scanned {
            return Err(ApiErr::invalid_state(
                "Permohonan ini tidak sedang menunggu keputusan.",
            ));
        }
        if super::enroll::expire_if_stale(&state, &mut e, now)? {
            return Err(ApiErr::invalid_state(
                "Permohonan ini sudah kedaluwarsa; warga perlu mendaftar ulang.",
            ));
        }
        e.status = EnrollmentStatusWire::Approved;
        e.decided_by = Some(o.username.clone());
        let code = new_code(&state, &mut e, now);
        let salt = random_id();
        e.offer_salt = Some(salt);
        let pac = super::enroll::pre_authorized_code(&state, &e).ok_or_else(ApiErr::internal)?;
        e.offer_hash = Some(sha256_hex(pac.as_bytes()));
        state.store.update_enrollment(&e)?;
        (e, code)
    };
    tracing::info!(enrollment = %e.id, nik = %mask_nik(&e.nik), officer = %o.username, "enrollment approved");
    send_code(&state, &e, code, now, CodeMail::Activation);
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
    let o = officer_of(&state, &headers)?;
    let reason = req.reason.trim();
    if reason.is_empty() || reason.len() > 500 {
        return Err(ApiErr::bad_request(
            "Alasan penolakan wajib diisi (maks. 500 karakter).",
        ));
    }
    let _g = state.transition_lock();
    let mut e = state.store.enrollment(&id)?.ok_or_else(ApiErr::not_found)?;
    if e.desk_id.as_deref() != Some(o.desk_id.as_str()) {
        return Err(ApiErr::not_found());
    }
    if e.status != EnrollmentStatusWire::Scanned {
        return Err(ApiErr::invalid_state(
            "Permohonan ini tidak sedang menunggu keputusan.",
        ));
    }
    e.status = EnrollmentStatusWire::Rejected;
    e.reject_reason = Some(reason.to_owned());
    e.decided_by = Some(o.username.clone());
    state.store.update_enrollment(&e)?;
    tracing::info!(enrollment = %e.id, officer = %o.username, "enrollment rejected");
    Ok(axum::Json(DecisionResponse {
        enrollment_id: e.id,
        status: "rejected".into(),
    })
    .into_response())
}

/// POST /officer/api/devices/{nik}/block (a NIK, or an enrollment id)
#[utoipa::path(post, path = "/officer/api/devices/{nik}/block", tag = "officer", security(("officer_session" = [])),
    params(("nik" = String, Path, description = "NIK, or an enrollment id")),
    responses((status = 200, body = BlockResponse), (status = 401, description = "No officer session", body = ikd_proto::wire::ApiError), (status = 404, body = ikd_proto::wire::ApiError)))]
pub async fn block_device(
    State(state): State<SharedState>,
    Path(key): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiErr> {
    let o = officer_of(&state, &headers)?;
    let nik = if key.len() == 16 && key.bytes().all(|b| b.is_ascii_digit()) {
        key
    } else {
        state
            .store
            .enrollment(&key)?
            .map(|e| e.nik)
            .ok_or_else(ApiErr::not_found)?
    };
    let blocked = state.store.set_devices_of(&nik, DeviceStatus::Blocked)?;
    tracing::info!(nik = %mask_nik(&nik), officer = %o.username, blocked, "devices blocked");
    Ok(axum::Json(BlockResponse { blocked }).into_response())
}

/// GET /dev/outbox (dev mode only; 404 otherwise)
#[utoipa::path(get, path = "/dev/outbox", tag = "dev",
    responses((status = 200, description = "Dev mode only", body = Vec<ikd_proto::wire::OutboxMail>), (status = 404, body = ikd_proto::wire::ApiError)))]
pub async fn dev_outbox(State(state): State<SharedState>) -> Result<Response, ApiErr> {
    if !state.dev_mode {
        return Err(ApiErr::new(
            StatusCode::NOT_FOUND,
            ApiErrorCode::NotFound,
            "Alamat tidak ditemukan.",
        ));
    }
    Ok(super::no_store(axum::Json(state.store.outbox()?)))
}
