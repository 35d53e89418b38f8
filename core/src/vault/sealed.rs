//! Small records sealed under a key derived from the device secret (not the PIN): the
//! enrollment record (its bearer token) and the credentials held between activation and
//! the PIN. One versioned format, as for documents ([`super::document`]):
//!
//! `base64(0x01 || nonce (12) || AES-256-GCM ciphertext and tag)`, AAD
//! `"ikd-sealed-v1" || len(name) u32 || name` (big-endian), key
//! HKDF-SHA256(device secret, salt `ikd.wallet.seal.v1`, info `held-records`). Swapping
//! two records, or editing one, fails to open.
//!
//! Records written before the format byte (`base64(nonce || ciphertext)`, AAD = name)
//! still open, and are written in the v1 format at their next save.

use crate::secret::SecretBytes;
use base64::Engine as _;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};

/// Format byte of a version-1 sealed record.
pub const SEALED_FORMAT_V1: u8 = 1;
const AAD_PREFIX: &[u8] = b"ikd-sealed-v1";
const TAG_LEN: usize = 16;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SealedError {
    #[error("a sealed record does not open")]
    Corrupt,
    #[error("could not seal the record")]
    Seal,
}

fn key(device_secret: &SecretBytes) -> Result<LessSafeKey, SealedError> {
    let salt = ring::hkdf::Salt::new(ring::hkdf::HKDF_SHA256, b"ikd.wallet.seal.v1");
    let prk = salt.extract(device_secret.expose());
    let okm = prk
        .expand(&[b"held-records"], &AES_256_GCM)
        .map_err(|_| SealedError::Seal)?;
    Ok(LessSafeKey::new(UnboundKey::from(okm)))
}

fn aad_v1(name: &str) -> Vec<u8> {
    let mut a = Vec::with_capacity(AAD_PREFIX.len() + 4 + name.len());
    a.extend_from_slice(AAD_PREFIX);
    a.extend_from_slice(&(name.len() as u32).to_be_bytes());
    a.extend_from_slice(name.as_bytes());
    a
}

/// Seals `plain` as record `name`.
pub fn seal(device_secret: &SecretBytes, name: &str, plain: &[u8]) -> Result<String, SealedError> {
    let key = key(device_secret)?;
    let mut nonce = [0u8; NONCE_LEN];
    SystemRandom::new()
        .fill(&mut nonce)
        .map_err(|_| SealedError::Seal)?;
    let mut buf = plain.to_vec();
    key.seal_in_place_append_tag(
        Nonce::assume_unique_for_key(nonce),
        Aad::from(aad_v1(name)),
        &mut buf,
    )
    .map_err(|_| SealedError::Seal)?;
    let mut out = Vec::with_capacity(1 + NONCE_LEN + buf.len());
    out.push(SEALED_FORMAT_V1);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&buf);
    Ok(base64::engine::general_purpose::STANDARD.encode(out))
}

fn open_raw(key: &LessSafeKey, aad: &[u8], raw: &[u8]) -> Option<Vec<u8>> {
    if raw.len() < NONCE_LEN + TAG_LEN {
        return None;
    }
    let mut nonce = [0u8; NONCE_LEN];
    nonce.copy_from_slice(&raw[..NONCE_LEN]);
    let mut buf = raw[NONCE_LEN..].to_vec();
    key.open_in_place(
        Nonce::assume_unique_for_key(nonce),
        Aad::from(aad),
        &mut buf,
    )
    .ok()
    .map(|p| p.to_vec())
}

/// Opens record `name` (v1, or the format before it).
pub fn open(
    device_secret: &SecretBytes,
    name: &str,
    sealed: &str,
) -> Result<SecretBytes, SealedError> {
    let raw = base64::engine::general_purpose::STANDARD
        .decode(sealed)
        .map_err(|_| SealedError::Corrupt)?;
    let key = key(device_secret)?;
    let v1 = match raw.split_first() {
        Some((&SEALED_FORMAT_V1, rest)) => open_raw(&key, &aad_v1(name), rest),
        _ => None,
    };
    v1.or_else(|| open_raw(&key, name.as_bytes(), &raw))
        .map(SecretBytes::new)
        .ok_or(SealedError::Corrupt)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn ds(b: u8) -> SecretBytes {
        SecretBytes::new(vec![b; 32])
    }

    #[test]
    fn opens_only_with_the_same_secret_and_name() {
        let s = seal(&ds(1), "enrollment.sealed", b"{\"id\":\"e1\"}").unwrap();
        let raw = base64::engine::general_purpose::STANDARD
            .decode(&s)
            .unwrap();
        assert_eq!(raw[0], SEALED_FORMAT_V1);
        assert_eq!(
            open(&ds(1), "enrollment.sealed", &s).unwrap().expose(),
            b"{\"id\":\"e1\"}"
        );
        assert_eq!(
            open(&ds(2), "enrollment.sealed", &s).unwrap_err(),
            SealedError::Corrupt
        );
        assert_eq!(
            open(&ds(1), "activation.sealed", &s).unwrap_err(),
            SealedError::Corrupt
        );
        for junk in ["", "AAAA", "not base64!"] {
            assert_eq!(open(&ds(1), "x", junk).unwrap_err(), SealedError::Corrupt);
        }
        let mut flipped = raw.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        let flipped = base64::engine::general_purpose::STANDARD.encode(flipped);
        assert_eq!(
            open(&ds(1), "x", &flipped).unwrap_err(),
            SealedError::Corrupt
        );
    }

    #[test]
    fn records_from_before_the_format_byte_still_open() {
        // The earlier format: base64(nonce || ciphertext), AAD = the record name.
        let key = key(&ds(1)).unwrap();
        let nonce = [7u8; NONCE_LEN];
        let mut buf = b"held".to_vec();
        key.seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(b"activation.sealed"),
            &mut buf,
        )
        .unwrap();
        let legacy = base64::engine::general_purpose::STANDARD.encode([&nonce[..], &buf].concat());
        assert_eq!(
            open(&ds(1), "activation.sealed", &legacy).unwrap().expose(),
            b"held"
        );
        assert!(open(&ds(1), "enrollment.sealed", &legacy).is_err());
    }
}
