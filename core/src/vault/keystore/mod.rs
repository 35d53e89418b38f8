//! Where the device's own secrets live (the device secret that binds the vault to
//! this device, the device signing key, and the PIN failure count's second copy).
//!
//! - [`MemoryKeyStore`]: a static test implementation, in memory only.
//! - [`OsKeyStore`] (desktop, `os.rs`): the OS key store through the `keyring` crate:
//!   Secret Service on Linux (tested against a real gnome-keyring-daemon), Keychain on
//!   macOS, Credential Manager on Windows (those two unverified here). The desktop app
//!   opens its store with [`open_desktop_keystore`].
//! - [`FileKeyStore`]: a file with mode 0600, written atomically. On desktop only the
//!   logged fallback when no OS key store answers, kept outside the data folder. On
//!   Android and iOS it is what the app uses today, in the app's private dir: the
//!   hardware-backed stores (Android Keystore, iOS Keychain) are not built, so the
//!   device secret there is as safe as the app sandbox, no more.

use crate::secret::SecretBytes;
use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

mod file;
mod memory;
#[cfg(not(any(target_os = "android", target_os = "ios")))]
mod os;

pub use file::FileKeyStore;
pub use memory::MemoryKeyStore;
#[cfg(not(any(target_os = "android", target_os = "ios")))]
pub use os::{open_desktop_keystore, DesktopKeyStorePaths, OsKeyStore, SERVICE};

/// Where the device secret (and the device key) are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum KeyStoreKind {
    /// The OS key store (Secret Service, macOS Keychain, Windows Credential Manager).
    Os,
    /// A file (mode 0600) outside the data folder: the fallback when no OS key store
    /// answers, and on phones until their hardware stores are built.
    File,
    /// In memory only (tests).
    Memory,
    /// The OS key store held the secret before and does not answer now: nothing opens
    /// until it does (a new secret would make the vault unreadable).
    Unavailable,
}

/// Key-store failures. Messages never contain stored values.
#[derive(Debug, thiserror::Error)]
pub enum KeyStoreError {
    #[error("key store i/o error: {0}")]
    Io(#[from] std::io::Error),
    #[error("key store file is malformed")]
    Malformed,
    #[error("key name must be 1-64 characters of [A-Za-z0-9._-]")]
    InvalidName,
    #[error("stored device secret has the wrong length")]
    BadDeviceSecret,
    #[error("the system random generator failed")]
    Random,
    #[error("the OS key store failed: {0}")]
    Os(String),
    #[error("the OS key store holds the device secret but does not answer: {0}")]
    Unavailable(String),
}

/// A small named-secret store provided by the platform.
pub trait KeyStore: Send + Sync {
    fn get(&self, name: &str) -> Result<Option<SecretBytes>, KeyStoreError>;
    fn put(&self, name: &str, value: &SecretBytes) -> Result<(), KeyStoreError>;
    fn delete(&self, name: &str) -> Result<(), KeyStoreError>;
    /// Where the secrets are kept (shown in Pengaturan).
    fn kind(&self) -> KeyStoreKind;
}

/// The key-store name of the device secret.
pub const DEVICE_SECRET: &str = "ikd.device_secret";
/// Length of the device secret in bytes.
pub const DEVICE_SECRET_LEN: usize = 32;

/// The device secret: 32 random bytes made once and kept in `keystore`. It binds the
/// vault to this device (a copied database does not open elsewhere).
pub fn device_secret(keystore: &dyn KeyStore) -> Result<SecretBytes, KeyStoreError> {
    if let Some(s) = existing_device_secret(keystore)? {
        return Ok(s);
    }
    let mut s = SecretBytes::new(vec![0u8; DEVICE_SECRET_LEN]);
    SystemRandom::new()
        .fill(s.expose_mut())
        .map_err(|_| KeyStoreError::Random)?;
    keystore.put(DEVICE_SECRET, &s)?;
    Ok(s)
}

/// The device secret if it exists (never creates one).
pub fn existing_device_secret(
    keystore: &dyn KeyStore,
) -> Result<Option<SecretBytes>, KeyStoreError> {
    match keystore.get(DEVICE_SECRET)? {
        Some(s) if s.expose().len() == DEVICE_SECRET_LEN => Ok(Some(s)),
        Some(_) => Err(KeyStoreError::BadDeviceSecret),
        None => Ok(None),
    }
}

/// Phones: the [`FileKeyStore`] in the app's private dir, under its own name. Not
/// the Android Keystore or the iOS Keychain: those (a StrongBox/TEE key wrapping the
/// device secret, Keychain items with `kSecAttrAccessibleWhenPasscodeSetThisDeviceOnly`)
/// need platform code (JNI or a Kotlin/Swift plugin) that is not built; until then a
/// rooted or jailbroken phone exposes the device secret. Backups: the Android rules in
/// `src-tauri/gen/android/` exclude the private dir; on iOS the dir must carry
/// `NSURLIsExcludedFromBackupKey` (see `src-tauri/gen/ios/README.md`). Unverified on a
/// phone.
#[cfg(any(target_os = "android", target_os = "ios"))]
pub fn mobile_file_keystore(private_dir: impl AsRef<std::path::Path>) -> FileKeyStore {
    FileKeyStore::in_dir(private_dir)
}

fn check_name(name: &str) -> Result<(), KeyStoreError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(KeyStoreError::InvalidName)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn exercise(ks: &dyn KeyStore) {
        assert!(ks.get("a").unwrap().is_none());
        ks.put("a", &SecretBytes::new(vec![1, 2, 3])).unwrap();
        ks.put("b.c", &SecretBytes::new(vec![])).unwrap();
        assert_eq!(ks.get("a").unwrap().unwrap().expose(), &vec![1, 2, 3]);
        assert_eq!(ks.get("b.c").unwrap().unwrap().expose(), &Vec::<u8>::new());
        ks.delete("a").unwrap();
        assert!(ks.get("a").unwrap().is_none());
        assert!(matches!(ks.get("a=b"), Err(KeyStoreError::InvalidName)));
        assert!(matches!(ks.get(""), Err(KeyStoreError::InvalidName)));
        let s1 = device_secret(ks).unwrap();
        let s2 = device_secret(ks).unwrap();
        assert_eq!(s1.expose().len(), 32);
        assert_eq!(s1, s2);
    }

    #[test]
    fn memory_key_store_works() {
        exercise(&MemoryKeyStore::new());
    }

    #[test]
    fn file_key_store_works_and_persists() {
        let dir = tempfile::tempdir().unwrap();
        let ks = FileKeyStore::in_dir(dir.path().join("sub"));
        exercise(&ks);
        let again = FileKeyStore::in_dir(dir.path().join("sub"));
        assert_eq!(device_secret(&again).unwrap(), device_secret(&ks).unwrap());
    }

    #[test]
    fn malformed_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let ks = FileKeyStore::in_dir(dir.path());
        std::fs::write(ks.path(), b"no equals sign\n").unwrap();
        assert!(matches!(ks.get("a"), Err(KeyStoreError::Malformed)));
    }

    #[test]
    fn wrong_length_device_secret_is_an_error() {
        let ks = MemoryKeyStore::new();
        ks.put(DEVICE_SECRET, &SecretBytes::new(vec![1; 5]))
            .unwrap();
        assert!(matches!(
            device_secret(&ks),
            Err(KeyStoreError::BadDeviceSecret)
        ));
    }

    #[test]
    fn debug_shows_no_secret() {
        let ks = MemoryKeyStore::new();
        ks.put("k", &SecretBytes::new(b"TOPSECRET".to_vec()))
            .unwrap();
        let d = format!("{ks:?}");
        assert!(!d.contains("TOPSECRET") && !d.contains("84, 79, 80"));
    }
}
