//! The desk QR: `base64url("IKD1.<desk>.<nonce>.<exp>.<mac>")`, MAC = HMAC-SHA256 with the
//! server key (truncated to 128 bits). A desk shows a new QR every 30 s and after each
//! use; a QR expires 90 s after it was made; each QR admits one enrollment.
//!
//! The QR binds a desk, not a person: it can be photographed in the waiting room or
//! relayed. So each scan also gets a desk confirmation code ([`confirm_code`]): the
//! resident's app shows it, the officer types it before approving, and a wrong one
//! counts ([`CONFIRM_TRIES`], then the resident scans a new QR).

use crate::crypto::{b64url, b64url_decode, hmac_raw, random_id};
use crate::store::{DeskQrRow, Store, StoreResult};
use chrono::{DateTime, Duration, Utc};

pub const ROTATE_SECS: i64 = 30;
pub const TTL_SECS: i64 = 90;
/// Wrong confirmation codes the officer may type per scan.
pub const CONFIRM_TRIES: u32 = 3;
/// The confirmation code's letters: no I, O, B, G, S, Q, Z (read as 1, 0, 8, 6, 5).
const CONFIRM_ALPHABET: &[u8] = b"ACDEFHJKLMNPRTUVWXY";
pub const CONFIRM_LEN: usize = 4;

/// The desk confirmation code of enrollment `enrollment_id`'s scan `salt`: 4 letters
/// of [`CONFIRM_ALPHABET`] (19^4 = 130,321 codes), derived by HMAC with the server
/// key, so the store alone does not give it away and every node derives the same.
pub fn confirm_code(key: &ring::hmac::Key, enrollment_id: &str, salt: &str) -> String {
    let m = hmac_raw(
        key,
        format!("desk-confirm|{enrollment_id}|{salt}").as_bytes(),
    );
    m.chunks_exact(4)
        .take(CONFIRM_LEN)
        .map(|c| {
            let n = u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as usize;
            char::from(CONFIRM_ALPHABET[n % CONFIRM_ALPHABET.len()])
        })
        .collect()
}

/// What the officer typed, as a code: upper case, spaces and dashes dropped.
pub fn normalize_confirm(typed: &str) -> String {
    typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_uppercase)
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum QrError {
    #[error("not a desk QR")]
    Invalid,
    #[error("desk QR expired")]
    Expired,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QrClaims {
    pub desk_id: String,
    pub nonce: String,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct IssuedQr {
    pub text: String,
    pub claims: QrClaims,
    pub issued_at: DateTime<Utc>,
    pub used: bool,
}

fn mac(key: &ring::hmac::Key, payload: &str) -> String {
    let m = hmac_raw(key, payload.as_bytes());
    b64url(&m[..16])
}

/// Makes a desk QR text (also used by tests to craft QRs).
pub fn make(
    key: &ring::hmac::Key,
    desk_id: &str,
    nonce: &str,
    expires_at: DateTime<Utc>,
) -> String {
    let payload = format!("IKD1.{desk_id}.{nonce}.{}", expires_at.timestamp());
    let m = mac(key, &payload);
    b64url(format!("{payload}.{m}").as_bytes())
}

/// Checks a scanned desk QR: its MAC, then its expiry.
pub fn verify(key: &ring::hmac::Key, text: &str, now: DateTime<Utc>) -> Result<QrClaims, QrError> {
    if text.len() > 512 {
        return Err(QrError::Invalid);
    }
    let raw = b64url_decode(text.trim()).ok_or(QrError::Invalid)?;
    let s = String::from_utf8(raw).map_err(|_| QrError::Invalid)?;
    let (payload, m) = s.rsplit_once('.').ok_or(QrError::Invalid)?;
    let expected = mac(key, payload);
    if !crate::crypto::ct_eq(&expected, m) {
        return Err(QrError::Invalid);
    }
    let parts: Vec<&str> = payload.split('.').collect();
    let [tag, desk, nonce, exp] = parts.as_slice() else {
        return Err(QrError::Invalid);
    };
    if *tag != "IKD1" {
        return Err(QrError::Invalid);
    }
    let exp: i64 = exp.parse().map_err(|_| QrError::Invalid)?;
    let expires_at = DateTime::from_timestamp(exp, 0).ok_or(QrError::Invalid)?;
    if now >= expires_at {
        return Err(QrError::Expired);
    }
    Ok(QrClaims {
        desk_id: (*desk).to_owned(),
        nonce: (*nonce).to_owned(),
        expires_at,
    })
}

/// The QR a desk shows now: the same one for 30 s, a new one after that or once used.
/// Kept in the store (`desk_qrs`), so every node shows the same QR for a desk.
pub fn current(
    store: &dyn Store,
    key: &ring::hmac::Key,
    desk_id: &str,
    desk_name: &str,
    now: DateTime<Utc>,
) -> StoreResult<IssuedQr> {
    let nonce = random_id();
    let expires_at = now + Duration::seconds(TTL_SECS);
    let expires_at = DateTime::from_timestamp(expires_at.timestamp(), 0).unwrap_or(expires_at);
    let candidate = DeskQrRow {
        desk_id: desk_id.to_owned(),
        desk_name: desk_name.to_owned(),
        text: make(key, desk_id, &nonce, expires_at),
        nonce,
        issued_at: now,
        expires_at,
        used: false,
    };
    let row = store.desk_qr(&candidate, ROTATE_SECS)?;
    Ok(IssuedQr {
        text: row.text,
        claims: QrClaims {
            desk_id: row.desk_id,
            nonce: row.nonce,
            expires_at: row.expires_at,
        },
        issued_at: row.issued_at,
        used: row.used,
    })
}

/// The name desk `desk_id` was last shown under (its id when never shown).
pub fn name(store: &dyn Store, desk_id: &str) -> StoreResult<String> {
    Ok(store
        .desk_name(desk_id)?
        .unwrap_or_else(|| desk_id.to_owned()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn key() -> ring::hmac::Key {
        ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &[7u8; 32])
    }

    #[test]
    fn qr_verifies_rotates_and_expires() {
        let d = crate::store::SqliteStore::open_in_memory().unwrap();
        let t0 = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let a = current(&d, &key(), "loket-1", "Loket 1", t0).unwrap();
        assert_eq!(
            current(&d, &key(), "loket-1", "Loket 1", t0 + Duration::seconds(29))
                .unwrap()
                .text,
            a.text
        );
        assert_eq!(name(&d, "loket-1").unwrap(), "Loket 1");
        let b = current(&d, &key(), "loket-1", "Loket 1", t0 + Duration::seconds(30)).unwrap();
        assert_ne!(a.text, b.text);
        let c = verify(&key(), &a.text, t0 + Duration::seconds(89)).unwrap();
        assert_eq!(c.desk_id, "loket-1");
        assert_eq!(
            verify(&key(), &a.text, t0 + Duration::seconds(90)),
            Err(QrError::Expired)
        );
        assert_eq!(verify(&key(), "garbage", t0), Err(QrError::Invalid));
        let other = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &[8u8; 32]);
        assert_eq!(verify(&other, &a.text, t0), Err(QrError::Invalid));
        assert_ne!(b.text, a.text);
    }

    #[test]
    fn confirm_codes_are_four_unambiguous_letters_per_scan() {
        let a = confirm_code(&key(), "e1", "s1");
        assert_eq!(a.len(), CONFIRM_LEN);
        assert!(a.bytes().all(|b| CONFIRM_ALPHABET.contains(&b)), "{a}");
        assert_eq!(a, confirm_code(&key(), "e1", "s1"));
        let others: std::collections::HashSet<String> = (0..50)
            .map(|i| confirm_code(&key(), "e1", &format!("s{i}")))
            .collect();
        assert!(others.len() > 45, "codes differ per scan");
        assert_eq!(normalize_confirm(" ab-cd "), "ABCD");
    }
}
