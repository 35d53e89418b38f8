//! The desk QR: `base64url("IKD1.<desk>.<nonce>.<exp>.<mac>")`, MAC = HMAC-SHA256 with the
//! server key (truncated to 128 bits). A desk shows a new QR every 30 s and after each
//! use; a QR expires 90 s after it was made; each QR admits one enrollment.

use crate::crypto::{b64url, b64url_decode, hmac_raw, random_id};
use chrono::{DateTime, Duration, Utc};
use std::collections::HashMap;
use std::sync::Mutex;

pub const ROTATE_SECS: i64 = 30;
pub const TTL_SECS: i64 = 90;

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

#[derive(Default)]
pub struct Desks {
    current: Mutex<HashMap<String, IssuedQr>>,
    names: Mutex<HashMap<String, String>>,
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

impl Desks {
    /// The QR a desk shows now: the same one for 30 s, a new one after that or once used.
    pub fn current(
        &self,
        key: &ring::hmac::Key,
        desk_id: &str,
        desk_name: &str,
        now: DateTime<Utc>,
    ) -> IssuedQr {
        self.names
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(desk_id.to_owned(), desk_name.to_owned());
        let mut cur = self.current.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(q) = cur.get(desk_id) {
            if !q.used && now - q.issued_at < Duration::seconds(ROTATE_SECS) && now >= q.issued_at {
                return q.clone();
            }
        }
        let nonce = random_id();
        let expires_at = now + Duration::seconds(TTL_SECS);
        let q = IssuedQr {
            text: make(key, desk_id, &nonce, expires_at),
            claims: QrClaims {
                desk_id: desk_id.to_owned(),
                nonce,
                expires_at: DateTime::from_timestamp(expires_at.timestamp(), 0)
                    .unwrap_or(expires_at),
            },
            issued_at: now,
            used: false,
        };
        cur.insert(desk_id.to_owned(), q.clone());
        q
    }

    /// Marks a QR as used so the desk shows a fresh one next.
    pub fn mark_used(&self, desk_id: &str, nonce: &str) {
        let mut cur = self.current.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(q) = cur.get_mut(desk_id) {
            if q.claims.nonce == nonce {
                q.used = true;
            }
        }
    }

    pub fn name(&self, desk_id: &str) -> String {
        self.names
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(desk_id)
            .cloned()
            .unwrap_or_else(|| desk_id.to_owned())
    }
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
        let d = Desks::default();
        let t0 = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let a = d.current(&key(), "loket-1", "Loket 1", t0);
        assert_eq!(
            d.current(&key(), "loket-1", "Loket 1", t0 + Duration::seconds(29))
                .text,
            a.text
        );
        let b = d.current(&key(), "loket-1", "Loket 1", t0 + Duration::seconds(30));
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
        d.mark_used("loket-1", &b.claims.nonce);
        assert_ne!(
            d.current(&key(), "loket-1", "Loket 1", t0 + Duration::seconds(31))
                .text,
            b.text
        );
    }
}
