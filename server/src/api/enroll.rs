//! Enrollment API: submit, status, scan the desk QR, resend the code.

use super::{bearer, mask_email, mask_nik, ApiErr, JsonBody};
use crate::crypto::{
    b64_decode, b64url, ct_eq, hmac_hex, hmac_raw, jwk_thumbprint, random_code, random_id,
    random_token, sha256_hex,
};
use crate::deskqr::{self, QrError};
use crate::seed::eligibility;
use crate::store::Enrollment;
use crate::{AppState, SharedState};
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, Utc};
use ikd_proto::identity::{email, nik, phone};
use ikd_proto::wire::{
    ApiErrorCode, CredentialOffer, EcJwk, EnrollRequest, EnrollResponse, EnrollmentStatusResponse,
    EnrollmentStatusWire, Grants, PreAuthorizedCodeGrant, ScanRequest, TxCode, KK_CONFIGURATION,
    KTP_CONFIGURATION,
};
use std::net::SocketAddr;

/// A selfie is at most this many bytes (decoded JPEG).
pub const SELFIE_MAX_BYTES: usize = 200 * 1024;
pub const CODE_TTL_HOURS: i64 = 24;
pub const CODE_TRIES: u32 = 5;

fn field_error(field: &str, message: &str) -> ApiErr {
    ApiErr::bad_request(message).detail(serde_json::json!({ "field": field }))
}

fn jwk_ok(jwk: &EcJwk) -> bool {
    let coord = |s: &str| crate::crypto::b64url_decode(s).is_some_and(|b| b.len() == 32);
    jwk.kty == "EC" && jwk.crv == "P-256" && coord(&jwk.x) && coord(&jwk.y)
}

/// The pre-authorised code of an approved enrollment, derived from its salt.
pub fn pre_authorized_code(state: &AppState, e: &Enrollment) -> Option<String> {
    let salt = e.offer_salt.as_ref()?;
    Some(b64url(&hmac_raw(
        &state.hmac_key,
        format!("offer|{}|{salt}", e.id).as_bytes(),
    )))
}

pub fn code_hash(state: &AppState, enrollment_id: &str, code: &str) -> String {
    hmac_hex(
        &state.hmac_key,
        &[b"code", enrollment_id.as_bytes(), code.as_bytes()],
    )
}

/// Gives `e` a fresh activation code (5 tries, 24 h); returns it for the mail.
pub fn new_code(state: &AppState, e: &mut Enrollment, now: DateTime<Utc>) -> String {
    let code = random_code();
    e.code_hash = Some(code_hash(state, &e.id, &code));
    e.code_expires_at = Some(now + Duration::hours(CODE_TTL_HOURS));
    e.code_attempts_left = CODE_TRIES;
    e.code_void = false;
    code
}

/// The credential offer of an enrollment with a live pre-authorised code.
pub fn offer_for(state: &AppState, e: &Enrollment) -> Option<CredentialOffer> {
    pre_authorized_code(state, e).map(|code| CredentialOffer {
        credential_issuer: state.issuer.clone(),
        credential_configuration_ids: vec![KTP_CONFIGURATION.into(), KK_CONFIGURATION.into()],
        grants: Grants {
            pre_authorized_code: Some(PreAuthorizedCodeGrant {
                pre_authorized_code: code,
                tx_code: Some(TxCode {
                    input_mode: Some("numeric".into()),
                    length: Some(6),
                    description: Some(
                        "Masukkan kode aktivasi 6 angka yang dikirim ke email Anda".into(),
                    ),
                }),
            }),
        },
    })
}

pub fn status_response(state: &AppState, e: &Enrollment) -> EnrollmentStatusResponse {
    let approved = e.status == EnrollmentStatusWire::Approved;
    let credential_offer = if approved { offer_for(state, e) } else { None };
    EnrollmentStatusResponse {
        enrollment_id: e.id.clone(),
        status: e.status,
        desk_name: e.desk_name.clone(),
        reject_reason: e.reject_reason.clone(),
        credential_offer,
        code_expires_at: approved
            .then(|| e.code_expires_at.map(|t| t.to_rfc3339()))
            .flatten(),
        code_attempts_left: approved.then_some(if e.code_void { 0 } else { e.code_attempts_left }),
        email_masked: Some(mask_email(&e.email)),
    }
}

/// POST /api/v1/enrollments
#[utoipa::path(post, path = "/api/v1/enrollments", tag = "enrollment",
    request_body = ikd_proto::wire::EnrollRequest,
    responses(
        (status = 201, description = "Submitted", body = ikd_proto::wire::EnrollResponse),
        (status = 400, description = "Invalid input (detail.field)", body = ikd_proto::wire::ApiError),
        (status = 403, description = "Ineligible (detail.reason: under_age | not_recorded | deceased)", body = ikd_proto::wire::ApiError),
        (status = 404, description = "Not verifiable (generic)", body = ikd_proto::wire::ApiError),
        (status = 413, description = "Body or selfie too large", body = ikd_proto::wire::ApiError),
        (status = 415, description = "Content-Type is not application/json", body = ikd_proto::wire::ApiError),
        (status = 429, description = "Rate limited (detail.retry_after_secs)", body = ikd_proto::wire::ApiError),
    ))]
pub async fn submit(
    State(state): State<SharedState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    JsonBody(req): JsonBody<EnrollRequest>,
) -> Result<Response, ApiErr> {
    let now = state.clock.now();
    let l = &state.limits;
    super::limit_per_ip(
        &state,
        "submit",
        peer,
        l.submit_burst,
        l.submit_per_minute,
        now,
    )?;
    let nik = nik::parse(&req.nik, now.date_naive())
        .map_err(|e| field_error("nik", "NIK tidak valid.").with_reason(e.reason()))?
        .nik;
    let email = email::normalize(&req.email)
        .map_err(|e| field_error("email", "Alamat email tidak valid.").with_reason(e.reason()))?;
    let phone = phone::normalize(&req.phone)
        .map_err(|e| field_error("phone", "Nomor ponsel tidak valid.").with_reason(e.reason()))?;
    if !jwk_ok(&req.device_jwk) {
        return Err(field_error("device_jwk", "Kunci perangkat tidak valid."));
    }
    let selfie = b64_decode(&req.selfie_jpeg)
        .filter(|b| b.len() >= 4 && b[..2] == [0xFF, 0xD8])
        .ok_or_else(|| field_error("selfie_jpeg", "Foto swafoto tidak valid."))?;
    if selfie.len() > SELFIE_MAX_BYTES {
        return Err(ApiErr::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ApiErrorCode::PayloadTooLarge,
            "Foto swafoto terlalu besar.",
        )
        .detail(serde_json::json!({ "field": "selfie_jpeg" })));
    }
    let resident = state.store.resident(&nik)?.ok_or_else(|| {
        tracing::info!(nik = %mask_nik(&nik), "enrollment refused: not verifiable");
        ApiErr::not_found()
    })?;
    if let Err(why) = eligibility(&resident, now.date_naive()) {
        tracing::info!(nik = %mask_nik(&nik), reason = why.reason(), "enrollment refused: ineligible");
        return Err(ApiErr::new(
            StatusCode::FORBIDDEN,
            ApiErrorCode::Ineligible,
            why.message(),
        )
        .detail(serde_json::json!({ "reason": why.reason() })));
    }
    let token = random_token();
    let e = Enrollment {
        id: random_id(),
        token_hash: sha256_hex(token.as_bytes()),
        nik,
        email,
        phone,
        selfie,
        device_thumb: jwk_thumbprint(&req.device_jwk),
        device_jwk: req.device_jwk.clone(),
        status: EnrollmentStatusWire::Submitted,
        created_at: now,
        desk_id: None,
        desk_name: None,
        scanned_at: None,
        reject_reason: None,
        decided_by: None,
        code_hash: None,
        code_expires_at: None,
        code_attempts_left: 0,
        code_void: false,
        offer_salt: None,
        offer_hash: None,
        resend_last_at: None,
        resend_day: None,
        resend_count: 0,
        reauth_pending: false,
        reauth_last_at: None,
        reauth_day: None,
        reauth_count: 0,
    };
    state.store.insert_enrollment(&e)?;
    tracing::info!(enrollment = %e.id, nik = %mask_nik(&e.nik), "enrollment submitted");
    Ok((
        StatusCode::CREATED,
        axum::Json(EnrollResponse {
            enrollment_id: e.id,
            enrollment_token: token,
            status: e.status,
        }),
    )
        .into_response())
}

/// Loads an enrollment for its own bearer token; any mismatch is a generic 404. A
/// stale one (see [`is_stale`]) is marked `expired` first.
pub fn authorized(state: &AppState, headers: &HeaderMap, id: &str) -> Result<Enrollment, ApiErr> {
    let token = bearer(headers).ok_or_else(ApiErr::unauthorized)?;
    let mut e = state.store.enrollment(id)?.ok_or_else(ApiErr::not_found)?;
    if !ct_eq(&e.token_hash, &sha256_hex(token.as_bytes())) {
        return Err(ApiErr::not_found());
    }
    expire_if_stale(state, &mut e, state.clock.now())?;
    Ok(e)
}

/// Marks a stale enrollment (see [`is_stale`]) `expired` and saves it; true if it was.
pub fn expire_if_stale(
    state: &AppState,
    e: &mut Enrollment,
    now: DateTime<Utc>,
) -> Result<bool, ApiErr> {
    if !is_stale(state, e, now) {
        return Ok(false);
    }
    e.status = EnrollmentStatusWire::Expired;
    state.store.update_enrollment(e)?;
    tracing::info!(enrollment = %e.id, "enrollment expired (not approved in time)");
    Ok(true)
}

/// Submitted or scanned, and not approved within `limits.enrollment_ttl_days`.
pub fn is_stale(state: &AppState, e: &Enrollment, now: DateTime<Utc>) -> bool {
    matches!(
        e.status,
        EnrollmentStatusWire::Submitted | EnrollmentStatusWire::Scanned
    ) && now - e.created_at > chrono::Duration::days(state.limits.enrollment_ttl_days)
}

/// GET /api/v1/enrollments/{id}
#[utoipa::path(get, path = "/api/v1/enrollments/{id}", tag = "enrollment",
    params(("id" = String, Path, description = "Enrollment id")),
    security(("enrollment_token" = [])),
    responses(
        (status = 200, description = "Status", body = ikd_proto::wire::EnrollmentStatusResponse),
        (status = 401, description = "No or unknown bearer token", body = ikd_proto::wire::ApiError),
        (status = 404, description = "Unknown, or not this token's enrollment", body = ikd_proto::wire::ApiError),
    ))]
pub async fn status(
    State(state): State<SharedState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiErr> {
    let e = authorized(&state, &headers, &id)?;
    Ok(super::no_store(axum::Json(status_response(&state, &e))))
}

/// POST /api/v1/enrollments/{id}/scan
#[utoipa::path(post, path = "/api/v1/enrollments/{id}/scan", tag = "enrollment",
    params(("id" = String, Path, description = "Enrollment id")),
    security(("enrollment_token" = [])),
    request_body = ikd_proto::wire::ScanRequest,
    responses(
        (status = 200, description = "Queued at the desk", body = ikd_proto::wire::EnrollmentStatusResponse),
        (status = 400, description = "qr_invalid, or a malformed body", body = ikd_proto::wire::ApiError),
        (status = 401, description = "No or unknown bearer token", body = ikd_proto::wire::ApiError),
        (status = 404, description = "Unknown, or not this token's enrollment", body = ikd_proto::wire::ApiError),
        (status = 409, description = "qr_used or invalid_state", body = ikd_proto::wire::ApiError),
        (status = 410, description = "qr_expired", body = ikd_proto::wire::ApiError),
        (status = 413, description = "Body too large", body = ikd_proto::wire::ApiError),
        (status = 415, description = "Content-Type is not application/json", body = ikd_proto::wire::ApiError),
    ))]
pub async fn scan(
    State(state): State<SharedState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    JsonBody(req): JsonBody<ScanRequest>,
) -> Result<Response, ApiErr> {
    let now = state.clock.now();
    // Authenticate before looking at the QR: an unauthenticated caller must not learn
    // whether a text is a current desk QR (qr_invalid / qr_expired / qr_used oracle).
    authorized(&state, &headers, &id)?;
    let claims = deskqr::verify(&state.hmac_key, &req.qr, now).map_err(|e| match e {
        QrError::Invalid => ApiErr::new(
            StatusCode::BAD_REQUEST,
            ApiErrorCode::QrInvalid,
            "Kode QR tidak dikenali. Pindai kode QR di loket Disdukcapil.",
        ),
        QrError::Expired => ApiErr::new(
            StatusCode::GONE,
            ApiErrorCode::QrExpired,
            "Kode QR sudah kedaluwarsa. Pindai kode QR yang sedang tampil di loket.",
        ),
    })?;
    let _guard = state.transition_lock();
    let mut e = authorized(&state, &headers, &id)?;
    if !matches!(
        e.status,
        EnrollmentStatusWire::Submitted | EnrollmentStatusWire::Scanned
    ) {
        return Err(ApiErr::invalid_state(
            "Permohonan ini tidak lagi menunggu pemindaian.",
        ));
    }
    e.status = EnrollmentStatusWire::Scanned;
    e.desk_name = Some(state.desks.name(&claims.desk_id));
    e.desk_id = Some(claims.desk_id.clone());
    e.scanned_at = Some(now);
    if !state.store.scan(&e, &claims.nonce)? {
        return Err(ApiErr::new(
            StatusCode::CONFLICT,
            ApiErrorCode::QrUsed,
            "Kode QR ini sudah dipakai. Pindai kode QR yang baru di loket.",
        ));
    }
    state.desks.mark_used(&claims.desk_id, &claims.nonce);
    prepare_siak_photo(&state, &e.nik);
    tracing::info!(enrollment = %e.id, desk = %claims.desk_id, "enrollment queued at desk");
    Ok(super::no_store(axum::Json(status_response(&state, &e))))
}

/// The resident is at the desk: draw their SIAK photo now, off the request path, so the
/// officer's detail view (and later the KTP credential) finds it ready. One drawing at
/// a time, so that a burst of arrivals cannot take every core away from the requests.
fn prepare_siak_photo(state: &SharedState, nik: &str) {
    let (state, nik) = (state.clone(), nik.to_owned());
    tokio::task::spawn_blocking(move || {
        static LANE: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let _one_at_a_time = LANE.lock().unwrap_or_else(|p| p.into_inner());
        if let Ok(Some(resident)) = state.store.resident(&nik) {
            crate::api::officer::siak_photo(&resident);
        }
    });
}

/// POST /api/v1/enrollments/{id}/resend: a new code by email (1 a minute, 5 a day).
#[utoipa::path(post, path = "/api/v1/enrollments/{id}/resend", tag = "enrollment",
    params(("id" = String, Path, description = "Enrollment id")),
    security(("enrollment_token" = [])),
    responses(
        (status = 200, description = "A new code was mailed", body = ikd_proto::wire::EnrollmentStatusResponse),
        (status = 401, description = "No or unknown bearer token", body = ikd_proto::wire::ApiError),
        (status = 404, description = "Unknown, or not this token's enrollment", body = ikd_proto::wire::ApiError),
        (status = 409, description = "Not approved", body = ikd_proto::wire::ApiError),
        (status = 429, description = "Rate limited (1 a minute, 5 a day)", body = ikd_proto::wire::ApiError),
    ))]
pub async fn resend(
    State(state): State<SharedState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiErr> {
    let now = state.clock.now();
    let (e, code) = {
        let _guard = state.transition_lock();
        let mut e = authorized(&state, &headers, &id)?;
        if e.status != EnrollmentStatusWire::Approved {
            return Err(ApiErr::invalid_state(
                "Belum ada kode aktivasi untuk dikirim ulang.",
            ));
        }
        let l = &state.limits;
        if let Some(last) = e.resend_last_at {
            let wait = l.resend_min_interval_secs - (now - last).num_seconds();
            if wait > 0 {
                return Err(ApiErr::rate_limited(wait as u64));
            }
        }
        let today = now.date_naive().to_string();
        if e.resend_day.as_deref() != Some(today.as_str()) {
            e.resend_day = Some(today);
            e.resend_count = 0;
        }
        if e.resend_count >= l.resend_per_day {
            return Err(ApiErr::rate_limited(super::secs_until_tomorrow(now)));
        }
        e.resend_count += 1;
        e.resend_last_at = Some(now);
        let code = new_code(&state, &mut e, now);
        state.store.update_enrollment(&e)?;
        (e, code)
    };
    send_code(&state, &e, code, now, CodeMail::Activation);
    tracing::info!(enrollment = %e.id, "activation code re-sent");
    Ok(super::no_store(axum::Json(status_response(&state, &e))))
}

/// Which mail carries a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeMail {
    /// "Kode Aktivasi IKD" after the officer's approval (or a resend).
    Activation,
    /// "Kode untuk mengatur ulang PIN IKD" after a re-authentication request.
    Reauth,
}

/// Mails a code in the background (the answer does not wait for SMTP); a failure is
/// logged, and the resident can ask again.
pub fn send_code(
    state: &SharedState,
    e: &Enrollment,
    code: String,
    now: DateTime<Utc>,
    kind: CodeMail,
) {
    let state = state.clone();
    let code = ikd_proto::secret::SecretString::new(code);
    let (id, email) = (e.id.clone(), e.email.clone());
    let expires = e.code_expires_at.unwrap_or(now);
    tokio::spawn(async move {
        // The code goes into the mail body only.
        let (subject, body) = match kind {
            CodeMail::Activation => (
                crate::mail::ACTIVATION_SUBJECT,
                crate::mail::activation_body(code.expose(), expires),
            ),
            CodeMail::Reauth => (
                crate::mail::REAUTH_SUBJECT,
                crate::mail::reauth_body(code.expose(), expires),
            ),
        };
        if let Err(err) = state.mailer.send(&email, subject, &body, now).await {
            tracing::warn!(enrollment = %id, error = %err, "code mail not sent");
        }
    });
}
