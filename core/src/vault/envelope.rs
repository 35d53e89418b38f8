//! The envelope: the document key wrapped under the PIN-derived KEK, with everything
//! needed to derive the KEK again (so the KDF parameters can be raised later and old
//! vaults still open with the parameters they were made with).
//!
//! Binary layout (big-endian):
//!
//! ```text
//! "IKDE" | format u8 (=1) | kdf alg u8 (1 = Argon2id v0x13) | m_kib u32 | t u32 | p u32
//!        | salt_len u8 (16..=64) | salt | nonce [12] | wrapped_len u16 (=48) | wrapped
//!        | mac [32]
//! ```
//!
//! `wrapped` = AES-256-GCM(KEK, nonce, aad = every byte before `wrapped_len`,
//! document key). `mac` = HMAC-SHA256(K_mac, every byte before it), with
//! `K_mac = HKDF-SHA256(device secret, info = "ikd-envelope-mac-v1")`.
//!
//! Why the MAC: for AES-GCM, a tampered envelope and a wrong PIN look the same (the
//! tag fails). The MAC is checked first and needs only the device secret, not the
//! PIN, so tampering (or a database copied to another device) is reported as
//! `VaultCorrupt` and does not burn a PIN attempt; a failing tag after a good MAC
//! can only be a wrong PIN.

use super::document::UnlockedKey;
use super::kdf::{self, KdfParams, ALG_ARGON2ID};
use crate::secret::SecretBytes;
use ring::aead::{Aad, Nonce, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};
use ring::{hkdf, hmac};

const MAGIC: &[u8; 4] = b"IKDE";
/// Current envelope format.
pub const FORMAT_V1: u8 = 1;
/// Salt length written for new envelopes.
pub const SALT_LEN: usize = 16;
const MIN_SALT: usize = 16;
const MAX_SALT: usize = 64;
const TAG_LEN: usize = 16;
const WRAPPED_LEN: usize = super::document::KEY_LEN + TAG_LEN;
const MAC_LEN: usize = 32;
const MAC_INFO: &[u8] = b"ikd-envelope-mac-v1";

/// Why an envelope could not be opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    /// Malformed, tampered with, or made on another device.
    #[error("vault envelope is corrupt or from another device")]
    Corrupt,
    /// The MAC is good but the key did not unwrap: the PIN is wrong.
    #[error("wrong PIN")]
    WrongPin,
    /// Refused parameters or a failing random generator while sealing.
    #[error("could not seal the vault envelope")]
    Seal,
}

/// A parsed, MAC-checked envelope. Holds no plaintext secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Envelope {
    pub format: u8,
    pub kdf: KdfParams,
    pub salt: Vec<u8>,
    nonce: [u8; NONCE_LEN],
    wrapped: Vec<u8>,
    /// Bytes before `wrapped_len` (the AAD of the wrap).
    header: Vec<u8>,
}

impl std::fmt::Debug for Envelope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Envelope")
            .field("format", &self.format)
            .field("kdf", &self.kdf)
            .field("salt", &"<redacted>")
            .field("wrapped", &"<redacted>")
            .finish()
    }
}

fn mac_key(device_secret: &SecretBytes) -> Result<hmac::Key, EnvelopeError> {
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, MAC_INFO).extract(device_secret.expose());
    let okm = prk
        .expand(&[MAC_INFO], hmac::HMAC_SHA256)
        .map_err(|_| EnvelopeError::Seal)?;
    Ok(hmac::Key::from(okm))
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], EnvelopeError> {
        if self.0.len() < n {
            return Err(EnvelopeError::Corrupt);
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Ok(a)
    }
    fn u8(&mut self) -> Result<u8, EnvelopeError> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, EnvelopeError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }
    fn u32(&mut self) -> Result<u32, EnvelopeError> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
}

impl Envelope {
    /// Wraps `key` under `pin` with fresh salt and nonce; returns the stored bytes.
    pub fn seal(
        key: &UnlockedKey,
        pin: &str,
        params: &KdfParams,
        device_secret: &SecretBytes,
    ) -> Result<Vec<u8>, EnvelopeError> {
        let rng = SystemRandom::new();
        let mut salt = [0u8; SALT_LEN];
        rng.fill(&mut salt).map_err(|_| EnvelopeError::Seal)?;
        let mut nonce = [0u8; NONCE_LEN];
        rng.fill(&mut nonce).map_err(|_| EnvelopeError::Seal)?;

        let mut out = Vec::with_capacity(128);
        out.extend_from_slice(MAGIC);
        out.push(FORMAT_V1);
        out.push(ALG_ARGON2ID);
        out.extend_from_slice(&params.m_kib.to_be_bytes());
        out.extend_from_slice(&params.t.to_be_bytes());
        out.extend_from_slice(&params.p.to_be_bytes());
        out.push(SALT_LEN as u8);
        out.extend_from_slice(&salt);
        out.extend_from_slice(&nonce);

        let kek =
            kdf::derive_kek(pin, &salt, params, device_secret).map_err(|_| EnvelopeError::Seal)?;
        let mut wrapped = Vec::with_capacity(WRAPPED_LEN);
        wrapped.extend_from_slice(key.bytes());
        kek.seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(&out[..]),
            &mut wrapped,
        )
        .map_err(|_| EnvelopeError::Seal)?;

        out.extend_from_slice(&(WRAPPED_LEN as u16).to_be_bytes());
        out.extend_from_slice(&wrapped);
        let tag = hmac::sign(&mac_key(device_secret)?, &out);
        out.extend_from_slice(tag.as_ref());
        Ok(out)
    }

    /// Checks the MAC (device secret only, no PIN) and parses. Any failure is
    /// [`EnvelopeError::Corrupt`].
    pub fn parse(bytes: &[u8], device_secret: &SecretBytes) -> Result<Self, EnvelopeError> {
        if bytes.len() < MAC_LEN {
            return Err(EnvelopeError::Corrupt);
        }
        let (body, mac) = bytes.split_at(bytes.len() - MAC_LEN);
        hmac::verify(&mac_key(device_secret)?, body, mac).map_err(|_| EnvelopeError::Corrupt)?;

        let mut r = Reader(body);
        if r.take(4)? != MAGIC {
            return Err(EnvelopeError::Corrupt);
        }
        let format = r.u8()?;
        let alg = r.u8()?;
        if format != FORMAT_V1 || alg != ALG_ARGON2ID {
            return Err(EnvelopeError::Corrupt);
        }
        let kdf = KdfParams::new(r.u32()?, r.u32()?, r.u32()?);
        if !kdf.within_limits() {
            return Err(EnvelopeError::Corrupt);
        }
        let salt_len = usize::from(r.u8()?);
        if !(MIN_SALT..=MAX_SALT).contains(&salt_len) {
            return Err(EnvelopeError::Corrupt);
        }
        let salt = r.take(salt_len)?.to_vec();
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(r.take(NONCE_LEN)?);
        let header = body[..body.len() - r.0.len()].to_vec();
        if usize::from(r.u16()?) != WRAPPED_LEN {
            return Err(EnvelopeError::Corrupt);
        }
        let wrapped = r.take(WRAPPED_LEN)?.to_vec();
        if !r.0.is_empty() {
            return Err(EnvelopeError::Corrupt);
        }
        Ok(Self {
            format,
            kdf,
            salt,
            nonce,
            wrapped,
            header,
        })
    }

    /// Derives the KEK from `pin` and unwraps the document key.
    pub fn unwrap_key(
        &self,
        pin: &str,
        device_secret: &SecretBytes,
    ) -> Result<UnlockedKey, EnvelopeError> {
        let kek = kdf::derive_kek(pin, &self.salt, &self.kdf, device_secret)
            .map_err(|_| EnvelopeError::Corrupt)?;
        let mut buf = SecretBytes::new(self.wrapped.clone());
        let plain = kek
            .open_in_place(
                Nonce::assume_unique_for_key(self.nonce),
                Aad::from(&self.header[..]),
                buf.expose_mut(),
            )
            .map_err(|_| EnvelopeError::WrongPin)?;
        UnlockedKey::from_slice(plain).ok_or(EnvelopeError::Corrupt)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn ds(b: u8) -> SecretBytes {
        SecretBytes::new(vec![b; 32])
    }

    #[test]
    fn seal_parse_unwrap() {
        let key = UnlockedKey::generate().unwrap();
        let p = KdfParams::insecure_for_tests();
        let bytes = Envelope::seal(&key, "135790", &p, &ds(1)).unwrap();
        let env = Envelope::parse(&bytes, &ds(1)).unwrap();
        assert!(env.kdf.same_cost(&p));
        assert_eq!(env.salt.len(), SALT_LEN);
        let back = env.unwrap_key("135790", &ds(1)).unwrap();
        assert_eq!(back.bytes(), key.bytes());
        assert_eq!(
            env.unwrap_key("135791", &ds(1)).map(|_| ()),
            Err(EnvelopeError::WrongPin)
        );
        assert_eq!(
            Envelope::parse(&bytes, &ds(2)).map(|_| ()),
            Err(EnvelopeError::Corrupt)
        );
        assert!(!format!("{env:?}").contains(&format!("{:?}", &env.salt[..4])));
    }

    #[test]
    fn every_flipped_bit_is_corrupt() {
        let key = UnlockedKey::generate().unwrap();
        let bytes =
            Envelope::seal(&key, "135790", &KdfParams::insecure_for_tests(), &ds(1)).unwrap();
        for i in 0..bytes.len() {
            for bit in [0u8, 7] {
                let mut t = bytes.clone();
                t[i] ^= 1 << bit;
                assert_eq!(
                    Envelope::parse(&t, &ds(1)).map(|_| ()),
                    Err(EnvelopeError::Corrupt),
                    "byte {i}"
                );
            }
        }
        for n in [0, 1, 31, 32, bytes.len() - 1] {
            assert!(Envelope::parse(&bytes[..n], &ds(1)).is_err());
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(Envelope::parse(&longer, &ds(1)).is_err());
    }
}
