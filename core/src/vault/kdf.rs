//! The PIN KDF: Argon2id (RustCrypto `argon2`), then HKDF-SHA256 with the device
//! secret into the key-encryption key (KEK).
//!
//! `KEK = HKDF-SHA256(salt = device_secret, ikm = Argon2id(PIN, salt, m, t, p),
//! info = "ikd-kek-v1")`, used as an AES-256-GCM key. A PIN has only 10^6 values, so
//! the Argon2id cost alone cannot protect it offline; the device secret (kept in the
//! key store, not in the database) is what makes a copied database useless, and the
//! attempt counter is what stops guessing on the device.

use crate::secret::SecretBytes;
use ring::{aead, hkdf};
use zeroize::Zeroizing;

/// Argon2id output length.
pub const KDF_OUT_LEN: usize = 32;
/// The only KDF algorithm id so far (Argon2id, version 0x13).
pub const ALG_ARGON2ID: u8 = 1;
const KEK_INFO: &[u8] = b"ikd-kek-v1";

/// Largest parameters accepted when opening a stored envelope (guards against a
/// malformed envelope asking for absurd memory or time).
const MAX_M_KIB: u32 = 1 << 21; // 2 GiB
const MAX_T: u32 = 64;
const MAX_P: u32 = 16;

/// Argon2id cost parameters. `Default` is the OWASP floor (m = 19456 KiB, t = 2, p = 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfParams {
    /// Memory in KiB.
    pub m_kib: u32,
    /// Passes.
    pub t: u32,
    /// Lanes.
    pub p: u32,
    /// Set only by [`KdfParams::insecure_for_tests`]: lets a vault be created below
    /// the floor. Never stored.
    test_only: bool,
}

impl Default for KdfParams {
    fn default() -> Self {
        Self::FLOOR
    }
}

impl KdfParams {
    /// The OWASP minimum for Argon2id.
    pub const FLOOR: Self = Self {
        m_kib: 19_456,
        t: 2,
        p: 1,
        test_only: false,
    };

    /// Explicit parameters. Creating a vault refuses them below the floor.
    pub const fn new(m_kib: u32, t: u32, p: u32) -> Self {
        Self {
            m_kib,
            t,
            p,
            test_only: false,
        }
    }

    /// TEST ONLY: cheap parameters (m = 64 KiB, t = 1, p = 1) that a vault may be
    /// created with, so tests run fast. Production code must never call this.
    #[doc(hidden)]
    pub const fn insecure_for_tests() -> Self {
        Self {
            m_kib: 64,
            t: 1,
            p: 1,
            test_only: true,
        }
    }

    /// TEST ONLY: like [`Self::insecure_for_tests`] with explicit values.
    #[doc(hidden)]
    pub const fn insecure_for_tests_with(m_kib: u32, t: u32, p: u32) -> Self {
        Self {
            m_kib,
            t,
            p,
            test_only: true,
        }
    }

    /// At least the OWASP floor in every parameter.
    pub fn meets_floor(&self) -> bool {
        self.m_kib >= Self::FLOOR.m_kib && self.t >= Self::FLOOR.t && self.p >= Self::FLOOR.p
    }

    /// May a new vault be wrapped with these parameters?
    pub fn allowed_for_new_vault(&self) -> bool {
        self.meets_floor() || self.test_only
    }

    /// Weaker than `target` in any parameter (time to re-wrap).
    pub fn weaker_than(&self, target: &Self) -> bool {
        self.m_kib < target.m_kib || self.t < target.t || self.p < target.p
    }

    /// Plausible values for a stored envelope.
    pub fn within_limits(&self) -> bool {
        (1..=MAX_M_KIB).contains(&self.m_kib)
            && (1..=MAX_T).contains(&self.t)
            && (1..=MAX_P).contains(&self.p)
    }

    /// Same costs, ignoring how they were made.
    pub fn same_cost(&self, other: &Self) -> bool {
        (self.m_kib, self.t, self.p) == (other.m_kib, other.t, other.p)
    }
}

/// Argon2 refused the parameters or inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("key derivation failed (invalid parameters)")]
pub struct KdfError;

/// Argon2id(`pin`, `salt`) with `params`: 32 bytes, zeroized on drop.
pub fn argon2id(pin: &[u8], salt: &[u8], params: &KdfParams) -> Result<SecretBytes, KdfError> {
    let p = argon2::Params::new(params.m_kib, params.t, params.p, Some(KDF_OUT_LEN))
        .map_err(|_| KdfError)?;
    let a = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, p);
    let mut out = SecretBytes::new(vec![0u8; KDF_OUT_LEN]);
    a.hash_password_into(pin, salt, out.expose_mut())
        .map_err(|_| KdfError)?;
    Ok(out)
}

/// The KEK from the Argon2id output and the device secret.
pub fn kek(
    kdf_out: &SecretBytes,
    device_secret: &SecretBytes,
) -> Result<aead::LessSafeKey, KdfError> {
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, device_secret.expose()).extract(kdf_out.expose());
    let okm = prk
        .expand(&[KEK_INFO], &aead::AES_256_GCM)
        .map_err(|_| KdfError)?;
    Ok(aead::LessSafeKey::new(aead::UnboundKey::from(okm)))
}

/// Argon2id then HKDF: the KEK for `pin`.
pub fn derive_kek(
    pin: &str,
    salt: &[u8],
    params: &KdfParams,
    device_secret: &SecretBytes,
) -> Result<aead::LessSafeKey, KdfError> {
    // Copy into a zeroizing buffer so no stray copy of the PIN bytes outlives us.
    let pin_bytes = Zeroizing::new(pin.as_bytes().to_vec());
    let out = argon2id(&pin_bytes, salt, params)?;
    kek(&out, device_secret)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn default_is_the_owasp_floor() {
        let d = KdfParams::default();
        assert_eq!((d.m_kib, d.t, d.p), (19_456, 2, 1));
        assert!(d.meets_floor() && d.allowed_for_new_vault());
        assert!(!KdfParams::new(19_455, 2, 1).allowed_for_new_vault());
        assert!(!KdfParams::new(19_456, 1, 1).allowed_for_new_vault());
        assert!(KdfParams::insecure_for_tests().allowed_for_new_vault());
        assert!(!KdfParams::insecure_for_tests().meets_floor());
    }

    #[test]
    fn argon2id_is_deterministic_and_salted() {
        let p = KdfParams::insecure_for_tests();
        let a = argon2id(b"135790", b"0123456789abcdef", &p).unwrap();
        let b = argon2id(b"135790", b"0123456789abcdef", &p).unwrap();
        let c = argon2id(b"135790", b"0123456789abcdeX", &p).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn bad_params_are_an_error() {
        assert_eq!(
            argon2id(b"1", b"0123456789abcdef", &KdfParams::new(1, 1, 1)).map(|_| ()),
            Err(KdfError)
        );
        assert_eq!(
            argon2id(b"1", b"short", &KdfParams::insecure_for_tests()).map(|_| ()),
            Err(KdfError)
        );
    }
}
