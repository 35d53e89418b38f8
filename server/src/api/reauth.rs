//! Re-authentication ("Lupa PIN", or documents wiped after 10 wrong PINs).
//!
//! The app keeps the device key and the enrollment id/token outside its vault; the
//! access and refresh tokens lived in the vault. So the request is authenticated by the
//! enrollment token (Bearer) AND a proof JWT signed by the enrolled device key (fresh
//! nonce, aud = issuer); and it only yields a credential offer whose `tx_code` goes to
//! the resident's email. The device alone is not enough: the wipe exists to stop
//! someone holding the phone, and they would also need the mailbox.
//!
//! Requesting re-authentication revokes every access and refresh token of the device
//! (a thief with the unlocked phone's tokens cannot keep refreshing). The new code
//! follows the activation rules: single use, 24 h, 5 tries, stored hashed. Rate limits:
//! per client IP (token bucket), and per enrollment one per
//! `resend_min_interval_secs` and `resend_per_day` a day.

use super::enroll::{authorized, new_code, offer_for, pre_authorized_code, send_code, CodeMail};
use super::oid4vci::check_proof;
use super::{mask_email, ApiErr, JsonBody};
use crate::crypto::{random_id, sha256_hex};
use crate::store::DeviceStatus;
use crate::SharedState;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use ikd_proto::wire::{DeviceRequest, EnrollmentStatusWire, ReauthResponse};
use std::net::SocketAddr;

/// POST /api/v1/enrollments/{id}/reauth
#[utoipa::path(post, path = "/api/v1/enrollments/{id}/reauth", tag = "device",
    params(("id" = String, Path, description = "Enrollment id")),
    security(("enrollment_token" = [])),
    request_body = ikd_proto::wire::DeviceRequest,
    responses(
        (status = 200, description = "A new code was mailed (\"Kode untuk mengatur ulang PIN IKD\"); the device's tokens are revoked; redeem the offer at /token with the code", body = ikd_proto::wire::ReauthResponse),
        (status = 400, description = "invalid_proof | invalid_nonce | invalid_request", body = ikd_proto::wire::ApiError),
        (status = 401, description = "No or unknown bearer token", body = ikd_proto::wire::ApiError),
        (status = 403, description = "device_revoked (released, blocked or replaced)", body = ikd_proto::wire::ApiError),
        (status = 404, description = "Unknown, or not this token's enrollment", body = ikd_proto::wire::ApiError),
        (status = 409, description = "invalid_state: not activated", body = ikd_proto::wire::ApiError),
        (status = 413, description = "Body too large", body = ikd_proto::wire::ApiError),
        (status = 415, description = "Not application/json", body = ikd_proto::wire::ApiError),
        (status = 429, description = "Rate limited (detail.retry_after_secs)", body = ikd_proto::wire::ApiError),
    ))]
pub async fn reauth(
    State(state): State<SharedState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(id): Path<String>,
    headers: HeaderMap,
    JsonBody(req): JsonBody<DeviceRequest>,
) -> Result<Response, ApiErr> {
    super::blocking(move || reauth_blocking(state, peer, id, headers, req)).await
}

fn reauth_blocking(
    state: SharedState,
    peer: SocketAddr,
    id: String,
    headers: HeaderMap,
    req: DeviceRequest,
) -> Result<Response, ApiErr> {
    let now = state.clock.now();
    let l = &state.limits;
    super::limit_per_ip(
        &state,
        "reauth",
        peer,
        l.reauth_burst,
        l.reauth_per_minute,
        now,
    )?;
    let (e, code) = {
        let _guard = state.transition_lock();
        let mut e = authorized(&state, &headers, &id)?;
        if e.status != EnrollmentStatusWire::Activated {
            return Err(ApiErr::invalid_state(
                "IKD belum diaktifkan di perangkat ini.",
            ));
        }
        let device = state
            .store
            .device(&e.device_thumb)?
            .filter(|d| d.enrollment_id == e.id && d.status == DeviceStatus::Active)
            .ok_or_else(ApiErr::device_revoked)?;
        check_proof(&state, &device, &req.proof)?;
        if let Some(last) = e.reauth_last_at {
            let wait = l.resend_min_interval_secs - (now - last).num_seconds();
            if wait > 0 {
                return Err(ApiErr::rate_limited(wait as u64));
            }
        }
        let today = now.date_naive().to_string();
        if e.reauth_day.as_deref() != Some(today.as_str()) {
            e.reauth_day = Some(today);
            e.reauth_count = 0;
        }
        if e.reauth_count >= l.resend_per_day {
            let secs = super::secs_until_tomorrow(now);
            return Err(ApiErr::rate_limited(secs));
        }
        e.reauth_count += 1;
        e.reauth_last_at = Some(now);
        e.reauth_pending = true;
        let code = new_code(&state, &mut e, now);
        e.offer_salt = Some(random_id());
        let pac = pre_authorized_code(&state, &e).ok_or_else(ApiErr::internal)?;
        e.offer_hash = Some(sha256_hex(pac.as_bytes()));
        let revoked = state.store.begin_reauth(&e, &device.thumb)?;
        tracing::info!(enrollment = %e.id, revoked_tokens = revoked, "re-authentication requested");
        (e, code)
    };
    send_code(&state, &e, code, now, CodeMail::Reauth);
    let offer = offer_for(&state, &e).ok_or_else(ApiErr::internal)?;
    Ok(super::no_store(axum::Json(ReauthResponse {
        enrollment_id: e.id.clone(),
        credential_offer: offer,
        code_expires_at: e
            .code_expires_at
            .map(|t| t.to_rfc3339())
            .unwrap_or_default(),
        code_attempts_left: e.code_attempts_left,
        email_masked: mask_email(&e.email),
    })))
}
