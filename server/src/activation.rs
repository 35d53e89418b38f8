//! The activation code's steps: resend it, redeem it at the token endpoint
//! (activation, or the end of a re-authentication), and re-authentication
//! ("Lupa PIN", or documents wiped after 10 wrong PINs).
//!
//! Re-authentication: the app keeps the device key and the enrollment id/token outside
//! its vault; the access and refresh tokens lived in the vault. So the request is
//! authenticated by the enrollment token (Bearer) AND a proof JWT signed by the
//! enrolled device key (fresh nonce, aud = issuer); and it only yields a credential
//! offer whose `tx_code` goes to the resident's email. The device alone is not enough:
//! the wipe exists to stop someone holding the phone, and they would also need the
//! mailbox. Requesting it revokes every access and refresh token of the device (a thief
//! with the unlocked phone's tokens cannot keep refreshing). The new code follows the
//! activation rules: single use, 24 h, 5 tries, stored hashed. Rate limits: per client
//! IP (token bucket), and per enrollment one per `resend_min_interval_secs` and
//! `resend_per_day` a day.

use crate::codes::{
    code_hash, code_mail, code_tries_exhausted, code_wait, new_code, offer_for,
    pre_authorized_code, secs_until_tomorrow, CodeMail, CODE_LIFETIME_TRIES, CODE_TRIES,
};
use crate::crypto::{ct_eq, random_id, sha256_hex};
use crate::enrollment::{authorized, next_state, status_response, transition, Step};
use crate::error::ApiErr;
use crate::state::{AppState, SharedState};
use crate::store::{Device, DeviceStatus, Enrollment, TokenKind};
use crate::tokens::{check_proof, new_token, token_response};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use ikd_proto::identity::{email, nik};
use ikd_proto::wire::{
    EnrollmentStatusResponse, EnrollmentStatusWire, ReauthResponse, TokenResponse,
};
use serde_json::json;
use std::net::SocketAddr;

/// A new code by email for an approved enrollment (1 a minute, 5 a day).
pub fn resend(
    state: &SharedState,
    token: Option<&str>,
    id: &str,
) -> Result<EnrollmentStatusResponse, ApiErr> {
    let now = state.clock.now();
    let e = {
        let _guard = state.transition_lock(id);
        let mut e = authorized(state, token, id)?;
        if e.status != EnrollmentStatusWire::Approved {
            return Err(ApiErr::invalid_state(
                "Belum ada kode aktivasi untuk dikirim ulang.",
            ));
        }
        if code_tries_exhausted(&e) {
            return Err(tries_exhausted());
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
            return Err(ApiErr::rate_limited(secs_until_tomorrow(now)));
        }
        e.resend_count += 1;
        e.resend_last_at = Some(now);
        let code = new_code(state, &mut e, now);
        let mail = code_mail(&e, &code, CodeMail::Activation);
        state.store.update_enrollment_mailing(&e, &[mail])?;
        e
    };
    tracing::info!(enrollment = %e.id, "activation code re-sent");
    Ok(status_response(state, &e))
}

/// Re-authentication requested: a new code by email and a new offer; the device's
/// tokens are revoked.
pub fn reauth(
    state: &SharedState,
    peer: SocketAddr,
    token: Option<&str>,
    id: &str,
    proof: &str,
    selfie: Option<&str>,
    selfie_upload: Option<&str>,
) -> Result<ReauthResponse, ApiErr> {
    let now = state.clock.now();
    let l = &state.limits;
    state.limit_per_ip("reauth", peer, l.reauth_burst, l.reauth_per_minute, now)?;
    // The caller, its device and its proof (the proof's nonce is single use), and the
    // selfie: checked once. The write below runs again after a conflict
    // (crate::conflict), from a fresh read under the lock.
    let (_, device) = reauth_target(state, token, id)?;
    check_proof(state, &device, proof)?;
    // The selfie is looked at only once the caller is known (401 before 400).
    let (selfie, upload_key) = match crate::pinreset::selfie(state, selfie, selfie_upload, now)? {
        Some(f) => (Some(f.jpeg), f.upload_key),
        None => (None, None),
    };
    let (e, notice) = crate::conflict::retry(|| {
        let _guard = state.transition_lock(id);
        let (mut e, now_device) = reauth_target(state, token, id)?;
        if now_device.thumb != device.thumb {
            return Err(ApiErr::device_revoked());
        }
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
            return Err(ApiErr::rate_limited(secs_until_tomorrow(now)));
        }
        e.reauth_count += 1;
        e.reauth_last_at = Some(now);
        e.reauth_pending = true;
        // No code yet: an officer reviews the request first (crate::pinreset), and the
        // code works only after the cooling-off. The offer is made now (the app keeps it).
        e.code_hash = None;
        e.code_expires_at = None;
        e.code_attempts_left = CODE_TRIES.min(CODE_LIFETIME_TRIES.saturating_sub(e.code_failures));
        e.offer_salt = Some(random_id());
        let pac = pre_authorized_code(state, &e).ok_or_else(ApiErr::internal)?;
        e.offer_hash = Some(sha256_hex(pac.as_bytes()));
        let (reset, cancel) = crate::pinreset::open(state, &e, selfie.clone(), now);
        let notice = crate::pinreset::requested_notice(state, &reset, &cancel);
        e.pin_reset = Some(reset);
        let mail = notice.mail(&e.email, &e.id);
        // With an upload: used up in the same transaction (a second request naming it
        // finds it gone: one upload, one reset request).
        let revoked = match &upload_key {
            Some(key) => state
                .store
                .begin_reauth_from_upload(&e, &device.thumb, &[mail], key, now)?
                .ok_or_else(crate::pinreset::upload_unusable)?,
            None => state.store.begin_reauth(&e, &device.thumb, &[mail])?,
        };
        tracing::info!(enrollment = %e.id, revoked_tokens = revoked, "re-authentication requested; waiting for review");
        Ok((e, notice))
    })?;
    crate::notify::sms(state, &e.id, &e.phone, &notice);
    let offer = offer_for(state, &e).ok_or_else(ApiErr::internal)?;
    Ok(ReauthResponse {
        enrollment_id: e.id.clone(),
        credential_offer: offer,
        code_expires_at: e
            .code_expires_at
            .map(|t| t.to_rfc3339())
            .unwrap_or_default(),
        code_attempts_left: e.code_attempts_left,
        email_masked: email::mask(&e.email),
        reset_usable_at: e.pin_reset.as_ref().map(|r| r.usable_at.to_rfc3339()),
    })
}

/// The activated enrollment a re-authentication is for (the bearer's) and its active
/// device, or why not.
fn reauth_target(
    state: &AppState,
    token: Option<&str>,
    id: &str,
) -> Result<(Enrollment, Device), ApiErr> {
    let e = authorized(state, token, id)?;
    if e.status != EnrollmentStatusWire::Activated {
        return Err(ApiErr::invalid_state(
            "IKD belum diaktifkan di perangkat ini.",
        ));
    }
    if code_tries_exhausted(&e) {
        return Err(tries_exhausted());
    }
    let device = state
        .store
        .device(&e.device_thumb)?
        .filter(|d| d.enrollment_id == e.id && d.status == DeviceStatus::Active)
        .ok_or_else(ApiErr::device_revoked)?;
    Ok((e, device))
}

/// No new code once the lifetime of code tries is used up.
fn tries_exhausted() -> ApiErr {
    ApiErr::invalid_state(
        "Kode aktivasi sudah terlalu sering salah. Silakan datang ke Disdukcapil dengan KTP-el.",
    )
}

fn grant_error(code: &str, message: &str) -> ApiErr {
    ApiErr::oauth(StatusCode::BAD_REQUEST, "invalid_grant", message).detail(json!({ "code": code }))
}

fn code_void() -> ApiErr {
    grant_error(
        "code_void",
        "Kode aktivasi tidak berlaku lagi karena 5 kali salah. Minta kode baru.",
    )
    .detail(json!({ "code": "code_void", "attempts_left": 0 }))
}

/// The pre-authorised code grant: checks the offer and the activation code (`tx_code`;
/// 5 wrong tries void it), then activates the device, or ends a re-authentication.
pub fn redeem(
    state: &AppState,
    pac: Option<&str>,
    tx_code: Option<&str>,
    now: DateTime<Utc>,
    dpop: Option<&str>,
) -> Result<TokenResponse, ApiErr> {
    let pac = pac.ok_or_else(|| {
        ApiErr::oauth(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Kode penawaran tidak ada.",
        )
    })?;
    let tx_code = tx_code.ok_or_else(|| {
        ApiErr::oauth(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Kode aktivasi wajib diisi.",
        )
    })?;
    let _g = state.transition_lock(pac);
    let mut e = state
        .store
        .enrollment_by_offer(&sha256_hex(pac.as_bytes()))?
        .ok_or_else(|| grant_error("not_found", "Kode penawaran tidak dikenal."))?;
    // A DPoP key other than the enrolled device key (a generic wallet with its own
    // key): refused before the code is checked, so no attempt is spent.
    if dpop.is_some_and(|jkt| jkt != e.device_thumb) {
        return Err(crate::dpop::not_device_key(StatusCode::BAD_REQUEST));
    }
    let reauth = e.status == EnrollmentStatusWire::Activated && e.reauth_pending;
    if !reauth && next_state(&e, &Step::Activate).is_err() {
        return Err(if e.status == EnrollmentStatusWire::Activated {
            grant_error("code_used", "Kode aktivasi sudah dipakai.")
        } else {
            grant_error("invalid_state", "Permohonan belum disetujui.")
        });
    }
    // A re-authentication's code: only after an officer's approval and the cooling-off.
    if reauth {
        crate::pinreset::may_redeem(&e, now)?;
    }
    let Some(hash) = e.code_hash.clone() else {
        return Err(grant_error("code_used", "Kode aktivasi sudah dipakai."));
    };
    if e.code_void || e.code_attempts_left == 0 || code_tries_exhausted(&e) {
        return Err(code_void());
    }
    if let Some(until) = e.code_wait_until.filter(|t| *t > now) {
        return Err(ApiErr::rate_limited(
            (until - now).num_seconds().max(1) as u64
        ));
    }
    if e.code_expires_at.is_none_or(|t| now >= t) {
        return Err(grant_error(
            "code_expired",
            "Kode aktivasi sudah kedaluwarsa. Minta kode baru.",
        ));
    }
    let given: String = tx_code.chars().filter(|c| !c.is_whitespace()).collect();
    if !ct_eq(&hash, &code_hash(state, &e.id, &given)) {
        e.code_attempts_left = e.code_attempts_left.saturating_sub(1);
        e.code_failures = e.code_failures.saturating_add(1);
        e.code_wait_until = code_wait(e.code_failures).map(|w| now + w);
        if e.code_attempts_left == 0 || code_tries_exhausted(&e) {
            e.code_attempts_left = 0;
            e.code_void = true;
        }
        state.store.update_enrollment(&e)?;
        tracing::info!(enrollment = %e.id, attempts_left = e.code_attempts_left, "wrong activation code");
        if e.code_void {
            return Err(code_void());
        }
        return Err(grant_error("code_wrong", "Kode aktivasi salah.")
            .detail(json!({ "code": "code_wrong", "attempts_left": e.code_attempts_left })));
    }
    if reauth {
        return finish_reauth(state, e, now, dpop);
    }
    // Activation: single use, one device per resident. A key already registered
    // stays with its NIK and its status: another resident's key is refused (device
    // takeover), and a blocked or released device is not revived by enrolling again.
    if let Some(d) = state.store.device(&e.device_thumb)? {
        if d.nik != e.nik || d.status != DeviceStatus::Active {
            tracing::warn!(enrollment = %e.id, nik = %nik::mask(&e.nik), "activation refused: the device key is registered elsewhere or not active");
            return Err(grant_error(
                "device_revoked",
                "Kunci perangkat ini tidak dapat dipakai. Silakan datang ke Disdukcapil.",
            )
            .detail(json!({ "code": "device_revoked" })));
        }
    }
    transition(&mut e, Step::Activate).map_err(|_| ApiErr::internal())?;
    e.code_hash = None;
    let device = Device {
        thumb: e.device_thumb.clone(),
        nik: e.nik.clone(),
        enrollment_id: e.id.clone(),
        jwk: e.device_jwk.clone(),
        status: DeviceStatus::Active,
        created_at: now,
    };
    let (access, access_row) = new_token(TokenKind::Access, &device, now, dpop);
    let (refresh, refresh_row) = new_token(TokenKind::Refresh, &device, now, dpop);
    // The resident's other active devices, which this activation revokes: the email
    // and phone registered with each get a notice (a takeover does not go unnoticed).
    let notice = crate::notify::new_device(now);
    let mut replaced = Vec::new();
    for (thumb, enrollment) in state.store.active_devices_of(&e.nik)? {
        if thumb == device.thumb {
            continue;
        }
        if let Some(old) = state.store.enrollment(&enrollment)? {
            if !replaced
                .iter()
                .any(|o: &Enrollment| o.email == old.email && o.phone == old.phone)
            {
                replaced.push(old);
            }
        }
    }
    let mails: Vec<_> = replaced
        .iter()
        .map(|o| notice.mail(&o.email, &o.id))
        .collect();
    state
        .store
        .activate(&e, &device, &[access_row, refresh_row], &mails)?;
    tracing::info!(enrollment = %e.id, nik = %nik::mask(&e.nik), replaced = replaced.len(), "device activated");
    for o in &replaced {
        crate::notify::sms(state, &o.id, &o.phone, &notice);
    }
    Ok(token_response(access, Some(refresh), dpop.is_some()))
}

/// The re-authentication code was right: new tokens for the same, still active device.
fn finish_reauth(
    state: &AppState,
    mut e: Enrollment,
    now: DateTime<Utc>,
    dpop: Option<&str>,
) -> Result<TokenResponse, ApiErr> {
    let revoked = || {
        grant_error("device_revoked", "Perangkat ini sudah tidak terdaftar.")
            .detail(json!({ "code": "device_revoked" }))
    };
    let device = state
        .store
        .device(&e.device_thumb)?
        .filter(|d| d.enrollment_id == e.id)
        .ok_or_else(revoked)?;
    e.reauth_pending = false;
    e.code_hash = None;
    let (access, access_row) = new_token(TokenKind::Access, &device, now, dpop);
    let (refresh, refresh_row) = new_token(TokenKind::Refresh, &device, now, dpop);
    if !state
        .store
        .finish_reauth(&e, &device.thumb, &[access_row, refresh_row])?
    {
        return Err(revoked());
    }
    tracing::info!(enrollment = %e.id, "device re-authenticated");
    Ok(token_response(access, Some(refresh), dpop.is_some()))
}
