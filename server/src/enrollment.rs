//! The enrollment service: submit, status, scan at the desk, the officer's queue,
//! detail, approval and rejection, and expiry.
//!
//! Every change of an enrollment's status goes through [`transition`], which asks the
//! one state machine ([`ikd_proto::enrollment::EnrollmentState`], shared with the
//! wallet) whether the step is legal and what it leads to. The service adds the
//! server's own rules around it (who may take a step, desk QR single use, expiry after
//! `limits.enrollment_ttl_days`), and [`crate::activation`] the code's steps.

use crate::codes::{code_mail, new_code, offer_for, pre_authorized_code, CodeMail};
use crate::crypto::{b64, b64_decode, ct_eq, jwk_thumbprint, random_id, random_token, sha256_hex};
use crate::deskqr::{self, QrError};
use crate::error::ApiErr;
use crate::siak::eligibility;
use crate::state::{AppState, SharedState};
use crate::store::{Enrollment, Officer};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use ikd_proto::enrollment::{Desk, EnrollmentError, EnrollmentState};
use ikd_proto::identity::{email, nik, phone};
use ikd_proto::wire::{
    EcJwk, EnrollRequest, EnrollResponse, EnrollmentStatusResponse, EnrollmentStatusWire,
};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;

/// A selfie is at most this many bytes (decoded JPEG).
pub const SELFIE_MAX_BYTES: usize = 200 * 1024;

/// A step of the enrollment state machine, with its data.
#[derive(Debug, Clone)]
pub enum Step {
    /// Queued at a desk (from submitted, or scanned again at another desk).
    Scan(Desk),
    /// The officer approved; the code is mailed.
    Approve,
    /// The officer refused, with a reason.
    Reject(String),
    /// Not approved in time.
    Expire,
    /// The activation code was redeemed.
    Activate,
}

/// The enrollment's place in the state machine.
fn machine_state(e: &Enrollment) -> EnrollmentState {
    let desk = || Desk {
        id: e.desk_id.clone(),
        name: e.desk_name.clone().unwrap_or_default(),
    };
    match e.status {
        EnrollmentStatusWire::Submitted => EnrollmentState::Submitted,
        EnrollmentStatusWire::Scanned => EnrollmentState::Scanned { desk: desk() },
        EnrollmentStatusWire::Approved => EnrollmentState::Approved {
            desk: e.desk_name.is_some().then(desk),
        },
        EnrollmentStatusWire::Activated => EnrollmentState::Activated,
        EnrollmentStatusWire::Rejected => EnrollmentState::Rejected {
            reason: e.reject_reason.clone().unwrap_or_default(),
        },
        EnrollmentStatusWire::Expired => EnrollmentState::Expired,
    }
}

/// Where `step` would take `e`, if the state machine allows it (nothing changes).
pub fn next_state(e: &Enrollment, step: &Step) -> Result<EnrollmentState, EnrollmentError> {
    let from = machine_state(e);
    match step {
        Step::Scan(desk) => from.scan(desk.clone()),
        Step::Approve => from.approve(),
        Step::Reject(reason) => from.reject(reason.clone()),
        Step::Expire => from.expire(),
        Step::Activate => from.activate(),
    }
}

/// THE enrollment transition: takes `step` on `e` (status, desk, reason) if the state
/// machine allows it, else changes nothing. The caller saves `e`.
pub fn transition(e: &mut Enrollment, step: Step) -> Result<(), EnrollmentError> {
    let to = next_state(e, &step)?;
    if let Some(status) = to.wire_status() {
        e.status = status;
    }
    match to {
        EnrollmentState::Scanned { desk } => {
            e.desk_id = desk.id;
            e.desk_name = Some(desk.name);
        }
        EnrollmentState::Rejected { reason } => e.reject_reason = Some(reason),
        _ => {}
    }
    Ok(())
}

fn field_error(field: &str, message: &str) -> ApiErr {
    ApiErr::bad_request(message).detail(serde_json::json!({ "field": field }))
}

fn jwk_ok(jwk: &EcJwk) -> bool {
    let coord = |s: &str| crate::crypto::b64url_decode(s).is_some_and(|b| b.len() == 32);
    jwk.kty == "EC" && jwk.crv == "P-256" && coord(&jwk.x) && coord(&jwk.y)
}

fn mask_nik(n: &str) -> String {
    nik::mask(n)
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
        email_masked: Some(email::mask(&e.email)),
        desk_confirm_code: desk_confirm_code(state, e),
    }
}

/// The live desk confirmation code of a scanned enrollment (for its own app only).
fn desk_confirm_code(state: &AppState, e: &Enrollment) -> Option<String> {
    if e.status != EnrollmentStatusWire::Scanned {
        return None;
    }
    let salt = e.desk_confirm_salt.as_deref()?;
    Some(deskqr::confirm_code(&state.hmac_key, &e.id, salt))
}

/// A new enrollment: checks the form and the selfie, asks the SIAK whether the NIK may
/// enrol, and stores it submitted. The token is the resident's bearer from now on.
pub fn submit(
    state: &AppState,
    peer: SocketAddr,
    req: EnrollRequest,
) -> Result<EnrollResponse, ApiErr> {
    let now = state.clock.now();
    let l = &state.limits;
    state.limit_per_ip("submit", peer, l.submit_burst, l.submit_per_minute, now)?;
    let nik = nik::parse(&req.nik, now.date_naive())
        .map_err(|e| field_error("nik", "NIK tidak valid.").with_reason(e.reason()))?
        .nik;
    // Per NIK, whatever the address (the same for every NIK, known or not).
    state.limit_per_subject("submit-nik", &nik, l.nik_burst, l.nik_per_minute, now)?;
    let email = email::normalize(&req.email)
        .map_err(|e| field_error("email", "Alamat email tidak valid.").with_reason(e.reason()))?;
    let phone = phone::normalize(&req.phone)
        .map_err(|e| field_error("phone", "Nomor ponsel tidak valid.").with_reason(e.reason()))?;
    if !jwk_ok(&req.device_jwk) {
        return Err(field_error("device_jwk", "Kunci perangkat tidak valid."));
    }
    // The selfie inline (base64) or as a finished resumable upload (crate::upload):
    // exactly one of the two. An upload is checked on its length and first bytes; its
    // bytes go from the upload to the enrollment inside the store (the insert below).
    let (selfie, upload_key) = match (&req.selfie_jpeg, &req.selfie_upload) {
        (Some(b64), None) => {
            let selfie = b64_decode(b64)
                .filter(|b| looks_like_jpeg(b))
                .ok_or_else(|| field_error("selfie_jpeg", "Foto swafoto tidak valid."))?;
            if selfie.len() > SELFIE_MAX_BYTES {
                return Err(selfie_too_large("selfie_jpeg"));
            }
            (selfie, None)
        }
        (None, Some(id)) => {
            let key = crate::upload::key_of(id);
            let head = match &key {
                Some(k) => state.store.upload_head(k, now)?,
                None => None,
            };
            let (Some(head), Some(key)) = (head, key) else {
                return Err(field_error(
                    "selfie_upload",
                    "Unggahan swafoto tidak ditemukan, belum selesai, atau sudah dipakai.",
                )
                .with_reason("upload_unusable"));
            };
            if !looks_like_jpeg(&head.head) {
                return Err(field_error("selfie_upload", "Foto swafoto tidak valid."));
            }
            if head.length > SELFIE_MAX_BYTES as u64 {
                return Err(selfie_too_large("selfie_upload"));
            }
            (Vec::new(), Some(key))
        }
        _ => {
            return Err(field_error(
                "selfie_jpeg",
                "Kirim swafoto sebagai selfie_jpeg atau selfie_upload (tepat satu).",
            ))
        }
    };
    // The device holds the key it enrolls: a proof over a fresh server nonce. Without
    // it, anyone could enroll with another resident's public key (device takeover).
    crate::tokens::check_key_proof(state, &req.device_jwk, &req.device_proof)
        .map_err(|e| e.with_field("device_proof"))?;
    // One answer for every NIK that cannot enroll: one lookup and one eligibility
    // verdict on every refused path, the same 404 `not_verifiable` body. The reason is
    // logged (masked NIK) and shown to the officer at the desk (`resident_check`),
    // never sent to the caller.
    if let Err(reason) = can_enroll(state, &nik, now)? {
        tracing::info!(nik = %mask_nik(&nik), reason, "enrollment refused: not verifiable online");
        return Err(ApiErr::not_verifiable());
    }
    let status = EnrollmentState::Draft
        .submit()
        .ok()
        .and_then(|s| s.wire_status())
        .ok_or_else(ApiErr::internal)?;
    // Checked off the request path (crate::facework): queued by the insert below.
    let face = crate::face::FaceCheck::Pending;
    let token = random_token();
    let e = Enrollment {
        id: random_id(),
        token_hash: sha256_hex(token.as_bytes()),
        nik,
        email,
        phone,
        selfie,
        face: Some(face),
        device_thumb: jwk_thumbprint(&req.device_jwk),
        device_jwk: req.device_jwk,
        status,
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
        code_failures: 0,
        code_wait_until: None,
        desk_confirm_salt: None,
        desk_confirm_failures: 0,
        pin_reset: None,
        rev: Default::default(),
    };
    match &upload_key {
        // One transaction: the enrollment in, the upload used up (another submit of the
        // same upload finds it gone).
        Some(key) => {
            if !state.store.insert_enrollment_from_upload(&e, key, now)? {
                return Err(field_error(
                    "selfie_upload",
                    "Unggahan swafoto tidak ditemukan, belum selesai, atau sudah dipakai.",
                )
                .with_reason("upload_unusable"));
            }
        }
        None => state.store.insert_enrollment(&e)?,
    }
    tracing::info!(enrollment = %e.id, nik = %mask_nik(&e.nik), "enrollment submitted");
    Ok(EnrollResponse {
        enrollment_id: e.id,
        enrollment_token: token,
        status: e.status,
    })
}

/// The check of a selfie's bytes at submit and at a "Lupa PIN" request (the decoding is
/// the face check's): at least [`crate::store::HEAD_LEN`] bytes, starting with a JPEG's
/// SOI marker. An upload is checked on its first bytes alone
/// ([`crate::store::UploadStore::upload_head`]).
pub(crate) fn looks_like_jpeg(b: &[u8]) -> bool {
    b.len() >= crate::store::HEAD_LEN && b[..2] == [0xFF, 0xD8]
}

/// 413 for a selfie over [`SELFIE_MAX_BYTES`], naming the request's `field`.
pub(crate) fn selfie_too_large(field: &str) -> ApiErr {
    ApiErr::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        "Foto swafoto terlalu besar.",
    )
    .detail(serde_json::json!({ "field": field }))
}

/// Whether the NIK may enroll: `Err(reason)` (`unknown`, `under_age`, `not_recorded`,
/// `deceased`) if not. Only the officer at the desk sees the reason.
pub fn can_enroll(
    state: &AppState,
    nik: &str,
    now: DateTime<Utc>,
) -> Result<Result<(), &'static str>, ApiErr> {
    let resident = state.siak.resident(nik)?;
    Ok(match &resident {
        Some(r) => eligibility(r, now.date_naive()).map_err(|w| w.reason()),
        None => Err("unknown"),
    })
}

/// Why a NIK can or cannot enroll: for the officer at the desk only (the online answer
/// is the same `not_verifiable` for every refused NIK).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ResidentCheck {
    pub eligible: bool,
    /// `unknown` | `under_age` | `not_recorded` | `deceased`; absent when eligible.
    pub reason: Option<String>,
    /// The office's wording of the reason.
    pub message: Option<String>,
}

/// The desk's check of a NIK (the reason the online answer does not give).
pub fn resident_check(
    state: &AppState,
    o: &Officer,
    nik_text: &str,
) -> Result<ResidentCheck, ApiErr> {
    let now = state.clock.now();
    let nik = nik::parse(nik_text, now.date_naive())
        .map_err(|e| field_error("nik", "NIK tidak valid.").with_reason(e.reason()))?
        .nik;
    let check = match state.siak.resident(&nik)? {
        None => ResidentCheck {
            eligible: false,
            reason: Some("unknown".into()),
            message: Some("NIK tidak ditemukan di SIAK".into()),
        },
        Some(r) => match eligibility(&r, now.date_naive()) {
            Ok(()) => ResidentCheck {
                eligible: true,
                reason: None,
                message: None,
            },
            Err(why) => ResidentCheck {
                eligible: false,
                reason: Some(why.reason().into()),
                message: Some(why.message().into()),
            },
        },
    };
    tracing::info!(nik = %mask_nik(&nik), officer = %o.username, eligible = check.eligible, "resident checked at the desk");
    Ok(check)
}

/// Loads an enrollment for its own bearer `token`; any mismatch is a generic 404. A
/// stale one (see [`is_stale`]) is marked `expired` first.
pub fn authorized(state: &AppState, token: Option<&str>, id: &str) -> Result<Enrollment, ApiErr> {
    let token = token.ok_or_else(ApiErr::unauthorized)?;
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
    if !is_stale(state, e, now) || transition(e, Step::Expire).is_err() {
        return Ok(false);
    }
    state.store.update_enrollment(e)?;
    tracing::info!(enrollment = %e.id, "enrollment expired (not approved in time)");
    Ok(true)
}

/// Waiting for a decision (submitted or scanned), and not approved within
/// `limits.enrollment_ttl_days`. (An approved one's code has its own expiry.)
pub fn is_stale(state: &AppState, e: &Enrollment, now: DateTime<Utc>) -> bool {
    matches!(
        e.status,
        EnrollmentStatusWire::Submitted | EnrollmentStatusWire::Scanned
    ) && now - e.created_at > chrono::Duration::days(state.limits.enrollment_ttl_days)
}

/// The status of the enrollment `id`, for its own bearer `token`.
pub fn status(
    state: &AppState,
    token: Option<&str>,
    id: &str,
) -> Result<EnrollmentStatusResponse, ApiErr> {
    let e = authorized(state, token, id)?;
    Ok(status_response(state, &e))
}

/// The resident scanned a desk QR: queues the enrollment at that desk. Each QR admits
/// one enrollment.
pub fn scan(
    state: &SharedState,
    token: Option<&str>,
    id: &str,
    qr: &str,
) -> Result<EnrollmentStatusResponse, ApiErr> {
    let now = state.clock.now();
    // One read of the enrollment, under its transition lock. Authenticate before
    // looking at the QR: an unauthenticated caller must not learn whether a text is a
    // current desk QR (qr_invalid / qr_expired / qr_used oracle).
    let _guard = state.transition_lock(id);
    let mut e = authorized(state, token, id)?;
    let claims = deskqr::verify(&state.hmac_key, qr, now).map_err(|e| match e {
        QrError::Invalid => ApiErr::new(
            StatusCode::BAD_REQUEST,
            "qr_invalid",
            "Kode QR tidak dikenali. Pindai kode QR di loket Disdukcapil.",
        ),
        QrError::Expired => ApiErr::new(
            StatusCode::GONE,
            "qr_expired",
            "Kode QR sudah kedaluwarsa. Pindai kode QR yang sedang tampil di loket.",
        ),
    })?;
    let desk = Desk::new(
        claims.desk_id.clone(),
        deskqr::name(state.store.as_ref(), &claims.desk_id)?,
    );
    transition(&mut e, Step::Scan(desk))
        .map_err(|_| ApiErr::invalid_state("Permohonan ini tidak lagi menunggu pemindaian."))?;
    e.scanned_at = Some(now);
    // A fresh confirmation code for this scan; the officer types it before approving.
    e.desk_confirm_salt = Some(random_id());
    e.desk_confirm_failures = 0;
    if !state.store.scan(&e, &claims.nonce)? {
        return Err(ApiErr::new(
            StatusCode::CONFLICT,
            "qr_used",
            "Kode QR ini sudah dipakai. Pindai kode QR yang baru di loket.",
        ));
    }
    prepare_siak_photo(state, &e.nik);
    tracing::info!(enrollment = %e.id, desk = %claims.desk_id, "enrollment queued at desk");
    Ok(status_response(state, &e))
}

/// The resident is at the desk: fetch their SIAK photo now, off the request path, so
/// the officer's detail view (and later the KTP credential) finds it ready. One at a
/// time, so that a burst of arrivals cannot take every core away from the requests.
fn prepare_siak_photo(state: &SharedState, nik: &str) {
    let (state, nik) = (state.clone(), nik.to_owned());
    tokio::task::spawn_blocking(move || {
        static LANE: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let _one_at_a_time = LANE.lock().unwrap_or_else(|p| p.into_inner());
        if let Ok(Some(resident)) = state.siak.resident(&nik) {
            let _ = state.siak.photo(&resident);
        }
    });
}

// One line of a desk's queue (no doc comment: it would change the OpenAPI schema).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct QueueItem {
    pub enrollment_id: String,
    pub nama: String,
    pub nik: String,
    /// RFC 3339
    pub scanned_at: Option<String>,
}

// What the officer sees to decide: the selfie beside the SIAK photo and record.
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
    /// The face check on the selfie at submit: `pending` until a worker checked it
    /// (seconds; approval is allowed meanwhile, the officer sees the resident); null
    /// for enrollments stored before it.
    pub face_check: Option<crate::face::FaceCheck>,
    /// The console's words for `face_check`.
    pub face_note: String,
    /// The SIAK photo, base64 JPEG.
    pub siak_photo_jpeg: String,
    /// The SIAK record.
    #[schema(value_type = Object)]
    pub siak: serde_json::Value,
    /// Whether the latest code mail went out; null before approval.
    pub mail: Option<crate::outbox::MailView>,
}

/// The enrollments waiting at the officer's desk (stale ones left out), oldest first.
pub fn queue(state: &AppState, o: &Officer) -> Result<Vec<QueueItem>, ApiErr> {
    let mut items = Vec::new();
    let now = state.clock.now();
    for e in state.store.queue(&o.desk_id)? {
        if is_stale(state, &e, now) {
            continue;
        }
        let nama = state
            .siak
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
    Ok(items)
}

/// An enrollment scanned in at the officer's desk (any other is a 404).
fn at_desk(state: &AppState, o: &Officer, id: &str) -> Result<Enrollment, ApiErr> {
    let e = state.store.enrollment(id)?.ok_or_else(ApiErr::not_found)?;
    if e.desk_id.as_deref() != Some(o.desk_id.as_str()) {
        return Err(ApiErr::not_found());
    }
    Ok(e)
}

pub fn detail(state: &AppState, o: &Officer, id: &str) -> Result<EnrollmentDetail, ApiErr> {
    let e = at_desk(state, o, id)?;
    let r = state.siak.resident(&e.nik)?.ok_or_else(ApiErr::not_found)?;
    let photo = state.siak.photo(&r)?;
    Ok(EnrollmentDetail {
        enrollment_id: e.id.clone(),
        status: serde_json::to_value(e.status)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        email: e.email.clone(),
        phone: e.phone.clone(),
        submitted_at: e.created_at.to_rfc3339(),
        scanned_at: e.scanned_at.map(|t| t.to_rfc3339()),
        selfie_jpeg: b64(&state.store.selfie(&e.id)?.unwrap_or_default()),
        face_check: e.face,
        face_note: e
            .face
            .map_or("Wajah belum diperiksa", crate::face::FaceCheck::note)
            .to_owned(),
        siak_photo_jpeg: b64(&photo),
        siak: serde_json::to_value(&r).unwrap_or_default(),
        mail: crate::outbox::view(state, &e.id)?,
    })
}

const NOT_AWAITING_DECISION: &str = "Permohonan ini tidak sedang menunggu keputusan.";

/// Checks the desk confirmation code the officer typed against the one the resident's
/// app shows. A wrong one is counted (saved before the error goes back); after
/// [`deskqr::CONFIRM_TRIES`] the code is void and the resident scans a new desk QR.
fn check_desk_confirm(state: &AppState, e: &mut Enrollment, typed: &str) -> Result<(), ApiErr> {
    let void = || {
        ApiErr::new(
            StatusCode::CONFLICT,
            "confirm_void",
            "Kode konfirmasi tidak berlaku lagi. Minta pemohon memindai kode QR loket yang baru.",
        )
    };
    let Some(salt) = e.desk_confirm_salt.clone() else {
        return Err(void());
    };
    let expected = deskqr::confirm_code(&state.hmac_key, &e.id, &salt);
    if ct_eq(&expected, &deskqr::normalize_confirm(typed)) {
        e.desk_confirm_salt = None;
        return Ok(());
    }
    e.desk_confirm_failures = e.desk_confirm_failures.saturating_add(1);
    let left = deskqr::CONFIRM_TRIES.saturating_sub(e.desk_confirm_failures);
    if left == 0 {
        e.desk_confirm_salt = None;
    }
    state.store.update_enrollment(e)?;
    tracing::warn!(enrollment = %e.id, attempts_left = left, "wrong desk confirmation code");
    if left == 0 {
        return Err(void());
    }
    Err(ApiErr::new(
        StatusCode::BAD_REQUEST,
        "confirm_wrong",
        "Kode konfirmasi salah. Cocokkan dengan kode di ponsel pemohon yang ada di depan Anda.",
    )
    .detail(serde_json::json!({ "attempts_left": left })))
}

/// The officer approves, having typed the confirmation code the resident's app shows:
/// a fresh code and offer, saved, then the code is mailed.
pub fn approve(
    state: &SharedState,
    o: &Officer,
    id: &str,
    confirm: &str,
) -> Result<Enrollment, ApiErr> {
    let now = state.clock.now();
    let e = {
        let _g = state.transition_lock(id);
        let mut e = at_desk(state, o, id)?;
        next_state(&e, &Step::Approve).map_err(|_| ApiErr::invalid_state(NOT_AWAITING_DECISION))?;
        if expire_if_stale(state, &mut e, now)? {
            return Err(ApiErr::invalid_state(
                "Permohonan ini sudah kedaluwarsa; warga perlu mendaftar ulang.",
            ));
        }
        check_desk_confirm(state, &mut e, confirm)?;
        transition(&mut e, Step::Approve)
            .map_err(|_| ApiErr::invalid_state(NOT_AWAITING_DECISION))?;
        e.decided_by = Some(o.username.clone());
        let code = new_code(state, &mut e, now);
        e.offer_salt = Some(random_id());
        let pac = pre_authorized_code(state, &e).ok_or_else(ApiErr::internal)?;
        e.offer_hash = Some(sha256_hex(pac.as_bytes()));
        let mail = code_mail(&e, &code, CodeMail::Activation);
        state.store.update_enrollment_mailing(&e, &[mail])?;
        e
    };
    tracing::info!(enrollment = %e.id, nik = %mask_nik(&e.nik), officer = %o.username, "enrollment approved");
    Ok(e)
}

/// The officer refuses, with a reason the resident sees (1–500 characters).
pub fn reject(state: &AppState, o: &Officer, id: &str, reason: &str) -> Result<Enrollment, ApiErr> {
    let reason = reason.trim();
    if reason.is_empty() || reason.len() > 500 {
        return Err(ApiErr::bad_request(
            "Alasan penolakan wajib diisi (maks. 500 karakter).",
        ));
    }
    let _g = state.transition_lock(id);
    let mut e = at_desk(state, o, id)?;
    // At this desk means scanned in: the machine then allows a rejection only while
    // the enrollment is still scanned (not yet decided or expired).
    transition(&mut e, Step::Reject(reason.to_owned()))
        .map_err(|_| ApiErr::invalid_state(NOT_AWAITING_DECISION))?;
    e.decided_by = Some(o.username.clone());
    state.store.update_enrollment(&e)?;
    tracing::info!(enrollment = %e.id, officer = %o.username, "enrollment rejected");
    Ok(e)
}
