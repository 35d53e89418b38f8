//! The server's desk QR verifier (`ikd_server::deskqr::verify`).
//!
//! First byte even: the rest is the scanned text, verified as is. Odd: the rest is
//! split on 0x00 into desk id, nonce and an expiry offset, made into a correctly
//! MAC'd QR with `deskqr::make`, then optionally one byte of the text is changed
//! (4th part): a fresh, unchanged, well-formed QR must verify to the same claims; a
//! changed one must not verify to different claims.
#![no_main]

use chrono::{DateTime, Duration, Utc};
use ikd_server::deskqr::{self, QrError};
use libfuzzer_sys::fuzz_target;
use ring::hmac;
use std::sync::OnceLock;

fn key() -> &'static hmac::Key {
    static K: OnceLock<hmac::Key> = OnceLock::new();
    K.get_or_init(|| hmac::Key::new(hmac::HMAC_SHA256, b"ikd fuzz desk qr key (test only)"))
}

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000, 0).expect("a fixed in-range timestamp")
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, body)) = data.split_first() else {
        return;
    };
    if mode % 2 == 0 {
        let s = String::from_utf8_lossy(body);
        if let Ok(c) = deskqr::verify(key(), &s, now()) {
            assert!(c.expires_at > now());
            assert!(!c.desk_id.contains('.') && !c.nonce.contains('.'));
        }
        return;
    }
    let mut parts = body.splitn(4, |&b| b == 0);
    let desk = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let nonce = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let exp_raw = parts.next().unwrap_or_default();
    let edit = parts.next().unwrap_or_default();
    let mut e = [0u8; 4];
    for (d, s) in e.iter_mut().zip(exp_raw) {
        *d = *s;
    }
    let offset = i64::from(i32::from_le_bytes(e));
    let expires_at = now() + Duration::seconds(offset);
    let text = deskqr::make(key(), &desk, &nonce, expires_at);
    let fresh = deskqr::verify(key(), &text, now());
    let well_formed = !desk.contains('.') && !nonce.contains('.') && text.len() <= 512;
    if well_formed {
        if offset > 0 {
            let c = fresh.as_ref().expect("a fresh well-formed QR verifies");
            assert_eq!((c.desk_id.as_str(), c.nonce.as_str()), (desk.as_str(), nonce.as_str()));
            assert_eq!(c.expires_at.timestamp(), expires_at.timestamp());
        } else {
            assert_eq!(fresh.as_ref().err(), Some(&QrError::Expired));
        }
    }
    if edit.len() >= 3 && !text.is_empty() {
        let mut b = text.clone().into_bytes();
        let pos = usize::from(u16::from_le_bytes([edit[0], edit[1]])) % b.len();
        b[pos] = edit[2];
        let changed = String::from_utf8_lossy(&b).into_owned();
        if let Ok(c) = deskqr::verify(key(), &changed, now()) {
            // Only an edit that decodes to the same payload (e.g. trailing base64
            // bits, whitespace that is trimmed) may still verify, and then to the same
            // claims.
            assert_eq!(Ok(c), fresh, "an edited QR verified to other claims");
        }
    }
});
