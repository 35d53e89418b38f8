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

use crate::error::{ErrorCode, UiError};
use crate::secret::SecretBytes;
pub use crate::view::KeyStoreKind;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use ring::rand::{SecureRandom, SystemRandom};
use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use zeroize::Zeroizing;

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

impl From<KeyStoreError> for UiError {
    fn from(e: KeyStoreError) -> Self {
        UiError::new(ErrorCode::KeyStore, e.to_string())
    }
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

/// A static test implementation: secrets in memory, gone when dropped.
#[derive(Default)]
pub struct MemoryKeyStore {
    items: Mutex<BTreeMap<String, SecretBytes>>,
}

impl MemoryKeyStore {
    pub fn new() -> Self {
        Self::default()
    }
}

impl std::fmt::Debug for MemoryKeyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let items = self.items.lock().unwrap_or_else(|p| p.into_inner());
        f.debug_struct("MemoryKeyStore")
            .field("names", &items.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl KeyStore for MemoryKeyStore {
    fn get(&self, name: &str) -> Result<Option<SecretBytes>, KeyStoreError> {
        check_name(name)?;
        let items = self.items.lock().unwrap_or_else(|p| p.into_inner());
        Ok(items.get(name).cloned())
    }
    fn put(&self, name: &str, value: &SecretBytes) -> Result<(), KeyStoreError> {
        check_name(name)?;
        let mut items = self.items.lock().unwrap_or_else(|p| p.into_inner());
        items.insert(name.to_owned(), value.clone());
        Ok(())
    }
    fn delete(&self, name: &str) -> Result<(), KeyStoreError> {
        check_name(name)?;
        let mut items = self.items.lock().unwrap_or_else(|p| p.into_inner());
        items.remove(name);
        Ok(())
    }
    fn kind(&self) -> KeyStoreKind {
        KeyStoreKind::Memory
    }
}

/// Secrets in one file (mode 0600 on Unix) in the app data dir: one `name=base64`
/// line per secret. Every change writes a temp file (0600) in the same directory,
/// syncs it and renames it over the old file, so a crash leaves the old or the new
/// file, never half of one.
///
/// Where it is used: on desktop only as the fallback when no OS key store answers
/// ([`open_desktop_keystore`] puts it outside the data folder and logs it); on phones
/// in the app's private dir (no hardware store is built yet). Its protection is the
/// OS user account or app sandbox (and disk encryption), not hardware.
pub struct FileKeyStore {
    path: PathBuf,
    lock: Mutex<()>,
}

impl std::fmt::Debug for FileKeyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileKeyStore")
            .field("path", &self.path)
            .finish()
    }
}

type Items = BTreeMap<String, SecretBytes>;

impl FileKeyStore {
    /// The store kept at `path` (the file is created on the first `put`).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            lock: Mutex::new(()),
        }
    }

    /// The conventional file name inside `dir`.
    pub fn in_dir(dir: impl AsRef<Path>) -> Self {
        Self::new(dir.as_ref().join("keystore"))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every stored secret (for moving them into another store).
    pub fn entries(&self) -> Result<Vec<(String, SecretBytes)>, KeyStoreError> {
        let _g = self.guard();
        Ok(self.load()?.into_iter().collect())
    }

    /// Deletes the file (after its secrets moved elsewhere).
    pub fn remove_file(&self) -> Result<(), KeyStoreError> {
        let _g = self.guard();
        match std::fs::remove_file(&self.path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    fn load(&self) -> Result<Items, KeyStoreError> {
        let text = match std::fs::read(&self.path) {
            Ok(b) => Zeroizing::new(b),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Items::new()),
            Err(e) => return Err(e.into()),
        };
        let text = std::str::from_utf8(&text).map_err(|_| KeyStoreError::Malformed)?;
        let mut items = Items::new();
        for line in text.lines().filter(|l| !l.is_empty()) {
            let (name, value) = line.split_once('=').ok_or(KeyStoreError::Malformed)?;
            check_name(name).map_err(|_| KeyStoreError::Malformed)?;
            let bytes = B64.decode(value).map_err(|_| KeyStoreError::Malformed)?;
            items.insert(name.to_owned(), SecretBytes::new(bytes));
        }
        Ok(items)
    }

    fn save(&self, items: &Items) -> Result<(), KeyStoreError> {
        let mut text = Zeroizing::new(String::new());
        for (name, value) in items {
            text.push_str(name);
            text.push('=');
            B64.encode_string(value.expose(), &mut text);
            text.push('\n');
        }
        let dir = match self.path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&dir)?;
        let mut tmp_name = self
            .path
            .file_name()
            .map(|n| n.to_os_string())
            .unwrap_or_else(|| "keystore".into());
        tmp_name.push(".tmp");
        let tmp = dir.join(tmp_name);
        let _ = std::fs::remove_file(&tmp);
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            opts.mode(0o600);
        }
        let mut f = opts.open(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, &self.path)?;
        // Make the rename itself durable.
        if let Ok(d) = std::fs::File::open(&dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }

    fn guard(&self) -> std::sync::MutexGuard<'_, ()> {
        self.lock.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl KeyStore for FileKeyStore {
    fn get(&self, name: &str) -> Result<Option<SecretBytes>, KeyStoreError> {
        check_name(name)?;
        let _g = self.guard();
        Ok(self.load()?.remove(name))
    }
    fn put(&self, name: &str, value: &SecretBytes) -> Result<(), KeyStoreError> {
        check_name(name)?;
        let _g = self.guard();
        let mut items = self.load()?;
        items.insert(name.to_owned(), value.clone());
        self.save(&items)
    }
    fn delete(&self, name: &str) -> Result<(), KeyStoreError> {
        check_name(name)?;
        let _g = self.guard();
        let mut items = self.load()?;
        if items.remove(name).is_some() {
            self.save(&items)?;
        }
        Ok(())
    }
    fn kind(&self) -> KeyStoreKind {
        KeyStoreKind::File
    }
}

#[cfg(not(any(target_os = "android", target_os = "ios")))]
mod os;
#[cfg(not(any(target_os = "android", target_os = "ios")))]
pub use os::{open_desktop_keystore, DesktopKeyStorePaths, OsKeyStore, SERVICE};

/// Phones: the [`FileKeyStore`] in the app's private dir, under its own name. Not
/// the Android Keystore or the iOS Keychain: those (a StrongBox/TEE key wrapping the
/// device secret, Keychain items with `kSecAttrAccessibleWhenPasscodeSetThisDeviceOnly`)
/// need platform code (JNI or a Kotlin/Swift plugin) that is not built; until then a
/// rooted or jailbroken phone exposes the device secret. Backups: the Android rules in
/// `src-tauri/gen/android/` exclude the private dir; on iOS the dir must carry
/// `NSURLIsExcludedFromBackupKey` (see `src-tauri/gen/ios/README.md`). Unverified on a
/// phone.
#[cfg(any(target_os = "android", target_os = "ios"))]
pub fn mobile_file_keystore(private_dir: impl AsRef<Path>) -> FileKeyStore {
    FileKeyStore::in_dir(private_dir)
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
