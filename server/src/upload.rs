//! Resumable selfie uploads on tus 1.0 (<https://tus.io/protocols/resumable-upload>:
//! the core protocol with the creation, creation-with-upload and expiration
//! extensions). The resident's app creates an upload of the selfie's length with its
//! first chunk in the creation's body, appends the rest in chunks, and after a dropped
//! connection asks for the offset (HEAD) and goes on from there; the answer to each
//! chunk is the offset the server stored, so the app's progress is what the server
//! holds. The submit then names the upload (`selfie_upload`) instead of carrying the
//! JPEG ([`crate::enrollment::submit`]).
//!
//! An upload is unauthenticated (it comes before the enrollment): its id is a random
//! 128-bit capability, and only its SHA-256 is stored. Limits: at most
//! [`crate::enrollment::SELFIE_MAX_BYTES`] per upload (a larger `Upload-Length` is
//! refused at once with 413), creations per client address through the rate limiter
//! (the submit's numbers, its own bucket), and an expiry of [`UPLOAD_TTL`] after
//! creation (a sweep deletes the expired rows). An upload holds bytes only: no NIK, no
//! form, nothing that says whose it is.

use crate::crypto::{random_bytes, sha256_hex};
use crate::error::ApiErr;
use crate::state::AppState;
use crate::store::{Append, UploadInfo};
use axum::http::StatusCode;
use chrono::{DateTime, Duration, Utc};
use std::net::SocketAddr;

/// The protocol version spoken (`Tus-Resumable`, `Tus-Version`).
pub const TUS_VERSION: &str = "1.0.0";
/// The extensions offered (`Tus-Extension`).
pub const TUS_EXTENSIONS: &str = "creation,creation-with-upload,expiration";
/// An upload expires this long after its creation.
pub const UPLOAD_TTL: Duration = Duration::hours(24);
/// The largest upload (`Tus-Max-Size`): the selfie limit.
pub const MAX_SIZE: u64 = crate::enrollment::SELFIE_MAX_BYTES as u64;

/// A fresh upload id: 128 random bits, base64url (22 characters).
fn new_id() -> String {
    crate::crypto::b64url(&random_bytes::<16>())
}

/// The store key of an upload id, if `id` has the form of one (anything else is
/// unknown without a lookup).
pub fn key_of(id: &str) -> Option<String> {
    let ok = id.len() == 22
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    ok.then(|| sha256_hex(id.as_bytes()))
}

fn gone() -> ApiErr {
    ApiErr::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "Unggahan tidak ditemukan atau sudah kedaluwarsa.",
    )
}

/// A created upload: its id, the bytes it holds (those that came with the creation)
/// and its expiry.
#[derive(Debug, Clone)]
pub struct Created {
    pub id: String,
    pub offset: u64,
    pub expires_at: DateTime<Utc>,
}

/// Creates an upload of `length` bytes for the client at `peer`, holding `first`
/// (tus creation-with-upload; empty for a plain creation), one write. Nothing is
/// created when `length` is above [`MAX_SIZE`] (413), `first` is longer than `length`
/// (400: the request contradicts itself), or the address is over its limit (429).
pub fn create(
    state: &AppState,
    peer: SocketAddr,
    length: u64,
    first: &[u8],
) -> Result<Created, ApiErr> {
    if length > MAX_SIZE {
        return Err(ApiErr::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "Foto swafoto terlalu besar.",
        )
        .detail(serde_json::json!({ "max_size": MAX_SIZE })));
    }
    if first.len() as u64 > length {
        return Err(ApiErr::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Data melebihi panjang unggahan.",
        )
        .with_field("upload-length"));
    }
    let now = state.clock.now();
    let l = &state.limits;
    state.limit_per_ip("upload", peer, l.submit_burst, l.submit_per_minute, now)?;
    let id = new_id();
    let key = key_of(&id).ok_or_else(ApiErr::internal)?;
    let expires_at = now + UPLOAD_TTL;
    state
        .store
        .upload_create(&key, length, first, now, expires_at)?;
    Ok(Created {
        id,
        offset: first.len() as u64,
        expires_at,
    })
}

/// The upload `id` now (HEAD).
pub fn info(state: &AppState, id: &str) -> Result<UploadInfo, ApiErr> {
    let key = key_of(id).ok_or_else(gone)?;
    state
        .store
        .upload_info(&key, state.clock.now())?
        .ok_or_else(gone)
}

/// What an append answers: the new offset and the expiry.
#[derive(Debug, Clone, Copy)]
pub struct Appended {
    pub offset: u64,
    pub expires_at: DateTime<Utc>,
}

/// Appends `chunk` at `offset` to upload `id` (PATCH), one write: 409 with the
/// stored offset when `offset` is not it (a retried chunk the server already holds is
/// not appended twice), 413 past the declared length, 404 when unknown or expired.
pub fn append(state: &AppState, id: &str, offset: u64, chunk: &[u8]) -> Result<Appended, ApiErr> {
    let key = key_of(id).ok_or_else(gone)?;
    let now = state.clock.now();
    match state.store.upload_append(&key, offset, chunk, now)? {
        Append::Appended(info) => Ok(Appended {
            offset: info.offset,
            expires_at: info.expires_at,
        }),
        Append::OffsetMismatch(stored) => Err(ApiErr::new(
            StatusCode::CONFLICT,
            "invalid_state",
            "Posisi unggahan tidak cocok.",
        )
        .detail(serde_json::json!({ "upload_offset": stored }))),
        Append::TooLong => Err(ApiErr::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "Data melebihi panjang unggahan.",
        )),
        Append::Gone => Err(gone()),
    }
}

/// Every `every` (and once at the start), deletes the expired uploads. Ends when the
/// state is dropped.
pub fn spawn_sweep(state: &crate::state::SharedState, every: std::time::Duration) {
    let weak = std::sync::Arc::downgrade(state);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            let Some(state) = weak.upgrade() else { break };
            let swept =
                tokio::task::spawn_blocking(move || state.store.sweep_uploads(state.clock.now()))
                    .await;
            match swept {
                Ok(Ok(n)) if n > 0 => tracing::debug!(swept = n, "expired uploads deleted"),
                Ok(Err(e)) => tracing::warn!(error = %e, "upload sweep failed"),
                _ => {}
            }
        }
    });
}

/// An HTTP-date (RFC 9110 §5.6.7), as `Upload-Expires` carries it.
pub fn http_date(t: DateTime<Utc>) -> String {
    t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn ids_are_capabilities_of_one_form() {
        let a = new_id();
        assert_eq!(a.len(), 22);
        assert_ne!(a, new_id());
        assert_eq!(key_of(&a).unwrap().len(), 64);
        assert!(key_of("short").is_none());
        assert!(key_of("aaaaaaaaaaaaaaaaaaaaa/").is_none());
        let t = DateTime::parse_from_rfc3339("1994-11-06T08:49:37Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(http_date(t), "Sun, 06 Nov 1994 08:49:37 GMT");
    }
}
