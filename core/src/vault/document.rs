//! The document key and document records.
//!
//! Each document is AES-256-GCM with a fresh random 96-bit nonce per write. The AAD
//! binds the record to its id and version: `"ikd-doc-v1" || len(id) u32 || id ||
//! version u64` (big-endian), so swapping rows between ids or editing the version
//! fails to decrypt. The stored ciphertext starts with a format byte (`1`).

use crate::secret::SecretBytes;
use crate::store::vault_rows::DocumentRow;
use ring::aead::{self, Aad, LessSafeKey, Nonce, UnboundKey, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};
use zeroize::{Zeroize, ZeroizeOnDrop};

/// Document key length (AES-256).
pub const KEY_LEN: usize = 32;
/// Format byte of a version-1 document record.
pub const DOC_FORMAT_V1: u8 = 1;
const DOC_AAD_PREFIX: &[u8] = b"ikd-doc-v1";
const TAG_LEN: usize = 16;

/// The unwrapped document key: the vault is open while one of these lives.
/// Zeroized on drop, not `Clone`, redacted in `Debug`. Drop it to lock.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct UnlockedKey([u8; KEY_LEN]);

impl std::fmt::Debug for UnlockedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UnlockedKey(<redacted>)")
    }
}

/// Document crypto failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DocumentError {
    #[error("document record is corrupt")]
    Corrupt,
    #[error("could not encrypt the document")]
    Seal,
}

impl UnlockedKey {
    /// A fresh random 256-bit key.
    pub(crate) fn generate() -> Result<Self, DocumentError> {
        let mut k = Self([0u8; KEY_LEN]);
        SystemRandom::new()
            .fill(&mut k.0)
            .map_err(|_| DocumentError::Seal)?;
        Ok(k)
    }

    pub(crate) fn from_slice(b: &[u8]) -> Option<Self> {
        let arr: [u8; KEY_LEN] = b.try_into().ok()?;
        Some(Self(arr))
    }

    pub(crate) fn bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    fn aead_key(&self) -> Result<LessSafeKey, DocumentError> {
        let k = UnboundKey::new(&aead::AES_256_GCM, &self.0).map_err(|_| DocumentError::Seal)?;
        Ok(LessSafeKey::new(k))
    }
}

fn aad(id: &str, version: u64) -> Vec<u8> {
    let mut a = Vec::with_capacity(DOC_AAD_PREFIX.len() + 4 + id.len() + 8);
    a.extend_from_slice(DOC_AAD_PREFIX);
    // Ids are at most MAX_ID_LEN bytes (checked by the vault), so this fits.
    a.extend_from_slice(&(id.len() as u32).to_be_bytes());
    a.extend_from_slice(id.as_bytes());
    a.extend_from_slice(&version.to_be_bytes());
    a
}

/// Encrypts `plaintext` as record `id` at `version`.
pub(crate) fn seal(
    key: &UnlockedKey,
    id: &str,
    version: u64,
    plaintext: &[u8],
) -> Result<DocumentRow, DocumentError> {
    let mut nonce = [0u8; NONCE_LEN];
    SystemRandom::new()
        .fill(&mut nonce)
        .map_err(|_| DocumentError::Seal)?;
    // Room for the format byte and tag up front: no reallocation leaves a stray copy.
    let mut buf = Vec::with_capacity(1 + plaintext.len() + TAG_LEN);
    buf.push(DOC_FORMAT_V1);
    buf.extend_from_slice(plaintext);
    let mut body = buf.split_off(1);
    key.aead_key()?
        .seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad(id, version)),
            &mut body,
        )
        .map_err(|_| DocumentError::Seal)?;
    buf.extend_from_slice(&body);
    Ok(DocumentRow {
        version,
        nonce: nonce.to_vec(),
        ciphertext: buf,
    })
}

/// Decrypts record `id`. Any mismatch (key, id, version, nonce, bytes) is `Corrupt`.
pub(crate) fn open(
    key: &UnlockedKey,
    id: &str,
    row: &DocumentRow,
) -> Result<SecretBytes, DocumentError> {
    let nonce: [u8; NONCE_LEN] = row
        .nonce
        .as_slice()
        .try_into()
        .map_err(|_| DocumentError::Corrupt)?;
    let (format, body) = row.ciphertext.split_first().ok_or(DocumentError::Corrupt)?;
    if *format != DOC_FORMAT_V1 || body.len() < TAG_LEN {
        return Err(DocumentError::Corrupt);
    }
    let mut buf = SecretBytes::new(body.to_vec());
    let n = key
        .aead_key()
        .map_err(|_| DocumentError::Corrupt)?
        .open_in_place(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad(id, row.version)),
            buf.expose_mut(),
        )
        .map_err(|_| DocumentError::Corrupt)?
        .len();
    buf.expose_mut().truncate(n);
    Ok(buf)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_binding() {
        let k = UnlockedKey::generate().unwrap();
        let row = seal(&k, "ktp", 3, b"hello").unwrap();
        assert_eq!(row.ciphertext[0], DOC_FORMAT_V1);
        assert_eq!(open(&k, "ktp", &row).unwrap().expose(), b"hello");
        assert_eq!(
            open(&k, "kk", &row).map(|_| ()),
            Err(DocumentError::Corrupt)
        );
        let mut v = row.clone();
        v.version = 4;
        assert_eq!(open(&k, "ktp", &v).map(|_| ()), Err(DocumentError::Corrupt));
        let other = UnlockedKey::generate().unwrap();
        assert_eq!(
            open(&other, "ktp", &row).map(|_| ()),
            Err(DocumentError::Corrupt)
        );
        let mut n = row.clone();
        n.nonce.pop();
        assert_eq!(open(&k, "ktp", &n).map(|_| ()), Err(DocumentError::Corrupt));
        let mut e = row;
        e.ciphertext.truncate(1);
        assert_eq!(open(&k, "ktp", &e).map(|_| ()), Err(DocumentError::Corrupt));
    }

    #[test]
    fn nonces_are_fresh() {
        let k = UnlockedKey::generate().unwrap();
        let a = seal(&k, "x", 1, b"same").unwrap();
        let b = seal(&k, "x", 1, b"same").unwrap();
        assert_ne!(a.nonce, b.nonce);
        assert_ne!(a.ciphertext, b.ciphertext);
    }

    #[test]
    fn debug_is_redacted() {
        let k = UnlockedKey::from_slice(&[0xAB; 32]).unwrap();
        let d = format!("{k:?}");
        assert_eq!(d, "UnlockedKey(<redacted>)");
    }
}
