//! Small crypto helpers on ring: random tokens, hashes, HMAC, key files, JWK thumbprints.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
/// RFC 7638 thumbprints come from the protocol crate (one definition).
pub use ikd_proto::jose::jwk_thumbprint;
use ikd_proto::jose::EcKeyPair;
use ikd_proto::secret::SecretBytes;
use ring::rand::{SecureRandom, SystemRandom};
use std::path::Path;

/// A key file that cannot be read, written or used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Invalid(String),
}

pub fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn b64url_decode(s: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(s).ok()
}

pub fn b64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

pub fn b64_decode(s: &str) -> Option<Vec<u8>> {
    STANDARD.decode(s.trim()).ok()
}

pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    // SystemRandom only fails when the OS has no randomness source, which the server
    // cannot run without: treat as an invariant.
    SystemRandom::new()
        .fill(&mut b)
        .expect("the OS random source is available");
    b
}

/// A random 256-bit token, base64url.
pub fn random_token() -> String {
    b64url(&random_bytes::<32>())
}

/// A random 128-bit id, base64url.
pub fn random_id() -> String {
    b64url(&random_bytes::<16>())
}

/// A uniform 6-digit code (rejection sampling, no modulo bias).
pub fn random_code() -> String {
    loop {
        let b = random_bytes::<4>();
        let v = u32::from_be_bytes(b);
        // 4_294_000_000 is the largest multiple of 1_000_000 below 2^32.
        if v < 4_294_000_000 {
            return format!("{:06}", v % 1_000_000);
        }
    }
}

pub fn sha256_hex(data: &[u8]) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, data);
    d.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

pub fn hmac_hex(key: &ring::hmac::Key, parts: &[&[u8]]) -> String {
    let mut ctx = ring::hmac::Context::with_key(key);
    for p in parts {
        ctx.update(&(p.len() as u32).to_be_bytes());
        ctx.update(p);
    }
    ctx.sign()
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub fn hmac_raw(key: &ring::hmac::Key, data: &[u8]) -> Vec<u8> {
    ring::hmac::sign(key, data).as_ref().to_vec()
}

/// Constant-time equality for hex digests.
pub fn ct_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn write_secret_file(path: &Path, data: &[u8]) -> Result<(), KeyError> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(data)?;
    f.sync_all()?;
    Ok(())
}

/// The issuer's P-256 key (PKCS#8 in `issuer-key.p8`, mode 0600), made on first start.
pub fn load_or_create_issuer_key(dir: &Path) -> Result<EcKeyPair, KeyError> {
    let path = dir.join("issuer-key.p8");
    let pkcs8 = if path.exists() {
        std::fs::read(&path)?
    } else {
        let rng = SystemRandom::new();
        let doc = ring::signature::EcdsaKeyPair::generate_pkcs8(
            &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            &rng,
        )
        .map_err(|_| KeyError::Invalid("cannot generate the issuer key".into()))?;
        write_secret_file(&path, doc.as_ref())?;
        doc.as_ref().to_vec()
    };
    EcKeyPair::from_pkcs8(SecretBytes::new(pkcs8))
        .map_err(|e| KeyError::Invalid(format!("issuer key: {e}")))
}

/// The server's HMAC secret (`hmac.key`, 32 random bytes, mode 0600).
pub fn load_or_create_hmac_key(dir: &Path) -> Result<ring::hmac::Key, KeyError> {
    let path = dir.join("hmac.key");
    let bytes = if path.exists() {
        std::fs::read(&path)?
    } else {
        let b = random_bytes::<32>();
        write_secret_file(&path, &b)?;
        b.to_vec()
    };
    if bytes.len() != 32 {
        return Err(KeyError::Invalid("hmac.key must hold 32 bytes".into()));
    }
    Ok(ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_six_digits() {
        for _ in 0..200 {
            let c = random_code();
            assert_eq!(c.len(), 6);
            assert!(c.bytes().all(|b| b.is_ascii_digit()));
        }
    }
}
