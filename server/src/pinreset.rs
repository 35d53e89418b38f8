//! "Lupa PIN" needs a factor that is not on the phone (issue 11 item 2). A thief with
//! the unlocked phone holds the enrollment token and the device key, and often the
//! mailbox too; so a re-authentication request ([`crate::activation::reauth`]) no
//! longer mails a code at once. It opens a [`PinReset`]:
//!
//! - **Review.** The request carries a fresh selfie (or none: the resident comes to the
//!   desk). An officer compares it with the SIAK photo in the console's review queue
//!   (or sees the resident at the desk) and approves or rejects; the decision is
//!   recorded (who, when, how). Only an approval makes the code and mails it.
//! - **Cooling-off.** The new code works only from `usable_at` =
//!   request + `limits.pin_reset_cooling_off_hours` (24 h by default); before that the
//!   token endpoint refuses it (`reset_cooling_off`) without spending a try.
//! - **Notices and cancel.** At the request, the registered email (through the outbox,
//!   in the request's transaction) and phone (SMS gateway) are told, with a link that
//!   cancels the reset (`POST /api/v1/pin-resets/cancel` with the token from the link;
//!   a small page at `GET /pin-reset/cancel` does it in a browser). A cancelled or
//!   rejected reset never yields tokens.

use crate::codes::{code_mail, new_code, CodeMail};
use crate::crypto::{b64, ct_eq, random_token, sha256_hex};
use crate::error::ApiErr;
use crate::notify::Notice;
use crate::state::AppState;
use crate::store::{Enrollment, Officer};
use axum::http::StatusCode;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PinResetStatus {
    /// Waiting for an officer.
    Review,
    /// Approved: the code was mailed; it works from `usable_at`.
    Approved,
    Rejected,
    /// Cancelled from the notice's link.
    Cancelled,
}

/// A PIN reset under way (kept in the enrollment's record).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PinReset {
    pub status: PinResetStatus,
    pub requested_at: DateTime<Utc>,
    /// The new code works from here (the cooling-off's end).
    pub usable_at: DateTime<Utc>,
    /// The fresh selfie, base64 JPEG (None: a desk visit); dropped once decided.
    #[serde(default)]
    pub selfie_jpeg: Option<String>,
    #[serde(default)]
    pub face: Option<crate::face::FaceCheck>,
    /// SHA-256 of the cancel link's secret.
    pub cancel_hash: String,
    #[serde(default)]
    pub decided_by: Option<String>,
    #[serde(default)]
    pub decided_at: Option<DateTime<Utc>>,
    /// "selfie" (reviewed remotely) or "desk" (seen at the desk).
    #[serde(default)]
    pub method: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
}

/// A new reset for `e` at `now` with the checked selfie (if any): the reset, and the
/// cancel token for the notice's link (`<enrollment id>.<secret>`).
pub fn open(
    state: &AppState,
    e: &Enrollment,
    selfie: Option<Vec<u8>>,
    now: DateTime<Utc>,
) -> (PinReset, String) {
    let secret = random_token();
    let hours = state.limits.pin_reset_cooling_off_hours.max(0);
    // Checked off the request path (crate::facework): queued by the reset's write.
    let face = selfie.as_ref().map(|_| crate::face::FaceCheck::Pending);
    let reset = PinReset {
        status: PinResetStatus::Review,
        requested_at: now,
        usable_at: now + Duration::hours(hours),
        selfie_jpeg: selfie.as_deref().map(b64),
        face,
        cancel_hash: sha256_hex(secret.as_bytes()),
        decided_by: None,
        decided_at: None,
        method: None,
        reason: None,
    };
    (reset, format!("{}.{secret}", e.id))
}

/// A request's checked fresh selfie.
pub struct FreshSelfie {
    pub jpeg: Vec<u8>,
    /// The upload's key when it came as one (the request's transaction uses it up).
    pub upload_key: Option<String>,
}

/// The fresh selfie of a request, inline (`b64_jpeg`) or as a finished resumable
/// upload (`upload`, its id; at most one of the two), checked like the enrollment's
/// (JPEG, ≤ 200 KB): the bytes, and the upload's key when it came as one (the reauth's
/// transaction uses it up, [`crate::store::UploadStore::begin_reauth_from_upload`]).
pub fn selfie(
    state: &AppState,
    b64_jpeg: Option<&str>,
    upload: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Option<FreshSelfie>, ApiErr> {
    let field_error = |field: &str, message: &str| {
        ApiErr::bad_request(message).detail(serde_json::json!({ "field": field }))
    };
    let (bytes, key, field) = match (b64_jpeg, upload) {
        (None, None) => return Ok(None),
        (Some(s), None) => (crate::crypto::b64_decode(s), None, "selfie_jpeg"),
        (None, Some(id)) => {
            let key = crate::upload::key_of(id);
            let data = match &key {
                Some(k) => state.store.upload_data(k, now)?,
                None => None,
            };
            if data.is_none() {
                return Err(upload_unusable());
            }
            (data, key, "selfie_upload")
        }
        (Some(_), Some(_)) => {
            return Err(field_error(
                "selfie_jpeg",
                "Kirim swafoto sebagai selfie_jpeg atau selfie_upload (paling banyak satu).",
            ))
        }
    };
    let bytes = bytes
        .filter(|b| crate::enrollment::looks_like_jpeg(b))
        .ok_or_else(|| field_error(field, "Foto swafoto tidak valid."))?;
    if bytes.len() > crate::enrollment::SELFIE_MAX_BYTES {
        return Err(crate::enrollment::selfie_too_large(field));
    }
    Ok(Some(FreshSelfie {
        jpeg: bytes,
        upload_key: key,
    }))
}

/// 400 for a `selfie_upload` that is unknown, unfinished, expired or already used.
pub fn upload_unusable() -> ApiErr {
    ApiErr::bad_request("Unggahan swafoto tidak ditemukan, belum selesai, atau sudah dipakai.")
        .detail(serde_json::json!({ "field": "selfie_upload" }))
        .with_reason("upload_unusable")
}

pub const REQUESTED_SUBJECT: &str = "Permintaan atur ulang PIN IKD";

/// The notice of a reset request, with the cancel link.
pub fn requested_notice(state: &AppState, reset: &PinReset, cancel_token: &str) -> Notice {
    let link = format!("{}/pin-reset/cancel?t={cancel_token}", state.issuer);
    let when = crate::notify::wib(reset.requested_at);
    let usable = crate::notify::wib(reset.usable_at);
    Notice {
        subject: REQUESTED_SUBJECT.to_owned(),
        body: format!(
            "Yth. Bapak/Ibu,\r\n\r\n\
Pada {when} ada permintaan untuk mengatur ulang PIN IKD Anda dari perangkat yang\r\n\
terdaftar. Petugas Disdukcapil memeriksanya lebih dulu, dan PIN baru paling cepat\r\n\
berlaku {usable}.\r\n\r\n\
Jika BUKAN Anda yang meminta, batalkan sekarang:\r\n\r\n\
    {link}\r\n\r\n\
lalu segera hubungi Disdukcapil.\r\n\r\n\
Hormat kami,\r\n\
Dinas Kependudukan dan Pencatatan Sipil\r\n"
        ),
        sms: format!("IKD: ada permintaan atur ulang PIN ({when}). Bukan Anda? Batalkan: {link}"),
    }
}

/// The reset a request may still act on.
fn live(e: &Enrollment) -> Option<&PinReset> {
    e.pin_reset
        .as_ref()
        .filter(|r| matches!(r.status, PinResetStatus::Review | PinResetStatus::Approved))
}

fn reset_error(code: &str, message: &str) -> ApiErr {
    ApiErr::oauth(StatusCode::BAD_REQUEST, "invalid_grant", message)
        .detail(serde_json::json!({ "code": code }))
}

/// Whether the re-authentication code of `e` may be checked at `now`: only for an
/// approved reset past its cooling-off. Refused before a try is spent.
pub fn may_redeem(e: &Enrollment, now: DateTime<Utc>) -> Result<(), ApiErr> {
    let Some(r) = e.pin_reset.as_ref() else {
        return Err(reset_error(
            "reset_in_review",
            "Permintaan atur ulang PIN belum diperiksa petugas.",
        ));
    };
    match r.status {
        PinResetStatus::Review => Err(reset_error(
            "reset_in_review",
            "Permintaan atur ulang PIN belum diperiksa petugas.",
        )),
        PinResetStatus::Approved if now < r.usable_at => Err(ApiErr::oauth(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "PIN baru belum dapat dipakai: masa tunggu demi keamanan belum selesai.",
        )
        .detail(serde_json::json!({
            "code": "reset_cooling_off",
            "usable_at": r.usable_at.to_rfc3339(),
            "retry_after_secs": (r.usable_at - now).num_seconds().max(1),
        }))),
        PinResetStatus::Approved => Ok(()),
        PinResetStatus::Rejected | PinResetStatus::Cancelled => Err(reset_error(
            "reset_cancelled",
            "Permintaan atur ulang PIN ini dibatalkan atau ditolak.",
        )),
    }
}

// One line of the review queue.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ResetItem {
    pub enrollment_id: String,
    pub nik: String,
    pub nama: String,
    /// RFC 3339
    pub requested_at: String,
    /// RFC 3339: the new PIN works from here at the earliest.
    pub usable_at: String,
    /// False: no selfie, the resident comes to the desk.
    pub has_selfie: bool,
}

// What the officer compares: the fresh selfie beside the SIAK photo.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ResetDetail {
    #[serde(flatten)]
    pub item: ResetItem,
    /// base64 JPEG; absent for a desk visit.
    pub selfie_jpeg: Option<String>,
    /// The face check on the selfie (`pending` until a worker checked it); absent for
    /// a desk visit.
    pub face_check: Option<crate::face::FaceCheck>,
    pub face_note: String,
    /// base64 JPEG
    pub siak_photo_jpeg: String,
}

fn item(state: &AppState, e: &Enrollment, r: &PinReset) -> Result<ResetItem, ApiErr> {
    let nama = state
        .siak
        .resident(&e.nik)?
        .map(|r| r.nama)
        .unwrap_or_default();
    Ok(ResetItem {
        enrollment_id: e.id.clone(),
        nik: e.nik.clone(),
        nama,
        requested_at: r.requested_at.to_rfc3339(),
        usable_at: r.usable_at.to_rfc3339(),
        has_selfie: r.selfie_jpeg.is_some(),
    })
}

/// The resets waiting for an officer, oldest first.
pub fn queue(state: &AppState) -> Result<Vec<ResetItem>, ApiErr> {
    let mut out = Vec::new();
    for e in state.store.resets_in_review()? {
        if let Some(r) = e.pin_reset.as_ref() {
            out.push(item(state, &e, r)?);
        }
    }
    out.sort_by(|a, b| a.requested_at.cmp(&b.requested_at));
    Ok(out)
}

fn in_review(state: &AppState, id: &str) -> Result<(Enrollment, PinReset), ApiErr> {
    let e = state.store.enrollment(id)?.ok_or_else(ApiErr::not_found)?;
    let r = e
        .pin_reset
        .clone()
        .filter(|r| r.status == PinResetStatus::Review)
        .ok_or_else(ApiErr::not_found)?;
    Ok((e, r))
}

pub fn detail(state: &AppState, id: &str) -> Result<ResetDetail, ApiErr> {
    let (e, r) = in_review(state, id)?;
    let resident = state.siak.resident(&e.nik)?.ok_or_else(ApiErr::not_found)?;
    let photo = state.siak.photo(&resident)?;
    Ok(ResetDetail {
        item: item(state, &e, &r)?,
        selfie_jpeg: r.selfie_jpeg.clone(),
        face_check: r.face,
        face_note: r
            .face
            .map_or(
                "Datang ke loket (tanpa swafoto)",
                crate::face::FaceCheck::note,
            )
            .to_owned(),
        siak_photo_jpeg: b64(&photo),
    })
}

/// The officer approves (`method`: "selfie" after comparing the photos, "desk" after
/// seeing the resident with the KTP-el): the code is made and mailed in one write; it
/// works from the reset's `usable_at` until a day after.
pub fn approve(state: &AppState, o: &Officer, id: &str, method: &str) -> Result<(), ApiErr> {
    if method != "selfie" && method != "desk" {
        return Err(ApiErr::bad_request("Cara pemeriksaan tidak dikenal.")
            .detail(serde_json::json!({ "field": "method" })));
    }
    let now = state.clock.now();
    let _g = state.transition_lock(id);
    let (mut e, mut r) = in_review(state, id)?;
    if method == "selfie" && r.selfie_jpeg.is_none() {
        return Err(ApiErr::invalid_state(
            "Tidak ada swafoto: periksa warga di loket.",
        ));
    }
    // A remote review decides on the selfie alone: not before its face check is in
    // (a few seconds at most). At the desk the officer sees the resident.
    if method == "selfie" && r.face == Some(crate::face::FaceCheck::Pending) {
        return Err(ApiErr::invalid_state(
            "Wajah sedang diperiksa; coba lagi sebentar.",
        ));
    }
    r.status = PinResetStatus::Approved;
    r.decided_by = Some(o.username.clone());
    r.decided_at = Some(now);
    r.method = Some(method.to_owned());
    r.selfie_jpeg = None;
    let code = new_code(state, &mut e, now);
    e.code_expires_at = Some(r.usable_at.max(now) + Duration::hours(crate::codes::CODE_TTL_HOURS));
    let usable = r.usable_at;
    e.pin_reset = Some(r);
    let mail = code_mail(&e, &code, CodeMail::Reauth);
    state.store.update_enrollment_mailing(&e, &[mail])?;
    tracing::info!(enrollment = %e.id, officer = %o.username, method, usable_at = %usable.to_rfc3339(), "PIN reset approved");
    Ok(())
}

/// The officer rejects, with a reason (recorded).
pub fn reject(state: &AppState, o: &Officer, id: &str, reason: &str) -> Result<(), ApiErr> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(ApiErr::bad_request(
            "Alasan penolakan wajib diisi (maks. 500 karakter).",
        ));
    }
    let now = state.clock.now();
    let _g = state.transition_lock(id);
    let (mut e, mut r) = in_review(state, id)?;
    r.status = PinResetStatus::Rejected;
    r.decided_by = Some(o.username.clone());
    r.decided_at = Some(now);
    r.reason = Some(reason.to_owned());
    r.selfie_jpeg = None;
    e.pin_reset = Some(r);
    // `reauth_pending` stays: the token endpoint answers `reset_cancelled` for its offer.
    e.code_hash = None;
    state.store.update_enrollment(&e)?;
    tracing::info!(enrollment = %e.id, officer = %o.username, "PIN reset rejected");
    Ok(())
}

/// The notice's cancel link was used: the reset stops (no code works for it).
pub fn cancel(state: &AppState, token: &str) -> Result<(), ApiErr> {
    let (id, secret) = token.split_once('.').ok_or_else(ApiErr::not_found)?;
    let _g = state.transition_lock(id);
    let mut e = state.store.enrollment(id)?.ok_or_else(ApiErr::not_found)?;
    let Some(mut r) = live(&e).cloned() else {
        return Err(ApiErr::not_found());
    };
    if !ct_eq(&r.cancel_hash, &sha256_hex(secret.as_bytes())) {
        return Err(ApiErr::not_found());
    }
    r.status = PinResetStatus::Cancelled;
    r.decided_at = Some(state.clock.now());
    r.selfie_jpeg = None;
    e.pin_reset = Some(r);
    // `reauth_pending` stays: the token endpoint answers `reset_cancelled` for its offer.
    e.code_hash = None;
    state.store.update_enrollment(&e)?;
    tracing::warn!(enrollment = %e.id, "PIN reset cancelled from the notice");
    Ok(())
}

/// GET /pin-reset/cancel: a page whose button posts the link's token.
pub const CANCEL_PAGE: &str = r##"<!doctype html>
<html lang="id"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Batalkan atur ulang PIN IKD</title></head>
<body style="font-family:system-ui,sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem">
<h1>Batalkan atur ulang PIN IKD</h1>
<p>Jika Anda tidak meminta atur ulang PIN, tekan tombol di bawah. Setelah itu segera hubungi Disdukcapil.</p>
<button id="go" style="font-size:1.1rem;padding:.6rem 1.2rem">Batalkan permintaan</button>
<p id="out" role="status"></p>
<script>
"use strict";
document.getElementById("go").onclick = async () => {
  const t = new URLSearchParams(location.search).get("t") || "";
  const r = await fetch("/api/v1/pin-resets/cancel", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ token: t }) });
  document.getElementById("out").textContent = r.ok ? "Permintaan dibatalkan. PIN tidak diubah." : "Tautan tidak berlaku lagi.";
};
</script>
</body></html>
"##;
