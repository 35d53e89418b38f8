//! The desktop OS key store, and how the desktop app picks its key store.
//!
//! [`OsKeyStore`] keeps each secret as one item of the OS key store through the
//! `keyring` crate: the Secret Service on Linux (gnome-keyring, KWallet; D-Bus, with
//! the session encrypted by Diffie-Hellman), the Keychain on macOS, the Credential
//! Manager on Windows. Only the Secret Service is tested here (a real
//! gnome-keyring-daemon in `tests/tests/os_keystore.rs`); macOS and Windows are
//! unverified.
//!
//! What it protects against: a copy of the data folder (a backup, roaming profile, a
//! forensic image) holds no device secret, so the PIN alone does not open it. What
//! it does not: a program running as the same user while the key ring is unlocked
//! can ask the Secret Service for the item like the app does.

use super::{FileKeyStore, KeyStore, KeyStoreError, KeyStoreKind};
use crate::secret::SecretBytes;
use ring::digest;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The service name of every item the app stores.
pub const SERVICE: &str = "id.go.ikd.wallet";
/// The probe item's name (never written): a read of it tells whether the store answers.
const PROBE: &str = "ikd.probe";
/// The marker in the data folder that records the OS key store holds the secrets.
const MARKER: &str = "keystore-in-os";

/// Secrets in the OS key store, one item per name, scoped to one data folder.
pub struct OsKeyStore {
    scope: String,
}

impl std::fmt::Debug for OsKeyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OsKeyStore")
            .field("scope", &self.scope)
            .finish()
    }
}

fn os_error(e: keyring::Error) -> KeyStoreError {
    // Never the payload: `BadEncoding` carries the stored bytes.
    let msg = match e {
        keyring::Error::PlatformFailure(e) => format!("platform failure: {e}"),
        keyring::Error::NoStorageAccess(e) => format!("no access: {e}"),
        keyring::Error::NoEntry => "no entry".to_owned(),
        keyring::Error::BadEncoding(_) => "bad encoding".to_owned(),
        keyring::Error::TooLong(a, n) => format!("{a} longer than {n}"),
        keyring::Error::Invalid(a, why) => format!("{a} invalid: {why}"),
        keyring::Error::Ambiguous(v) => format!("{} items match", v.len()),
        _ => "unknown error".to_owned(),
    };
    KeyStoreError::Os(msg)
}

impl OsKeyStore {
    /// Connects to the OS key store for the data folder `data_dir` and checks that it
    /// answers (one read). Each data folder gets its own items, so two wallets of one
    /// user (or a copied folder at another path) never share a device secret.
    pub fn connect(data_dir: &Path) -> Result<Self, KeyStoreError> {
        let abs = std::path::absolute(data_dir).unwrap_or_else(|_| data_dir.to_path_buf());
        let d = digest::digest(&digest::SHA256, abs.as_os_str().as_encoded_bytes());
        let scope = d.as_ref()[..12]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>();
        let ks = Self { scope };
        ks.get(PROBE)?;
        Ok(ks)
    }

    /// The item's `username` attribute for `name` (its `service` is [`SERVICE`]).
    pub fn account(&self, name: &str) -> String {
        format!("{}/{name}", self.scope)
    }

    fn entry(&self, name: &str) -> Result<keyring::Entry, KeyStoreError> {
        super::check_name(name)?;
        keyring::Entry::new(SERVICE, &self.account(name)).map_err(os_error)
    }
}

impl KeyStore for OsKeyStore {
    fn get(&self, name: &str) -> Result<Option<SecretBytes>, KeyStoreError> {
        match self.entry(name)?.get_secret() {
            Ok(v) => Ok(Some(SecretBytes::new(v))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(os_error(e)),
        }
    }
    fn put(&self, name: &str, value: &SecretBytes) -> Result<(), KeyStoreError> {
        self.entry(name)?
            .set_secret(value.expose())
            .map_err(os_error)
    }
    fn delete(&self, name: &str) -> Result<(), KeyStoreError> {
        match self.entry(name)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(os_error(e)),
        }
    }
    fn kind(&self) -> KeyStoreKind {
        KeyStoreKind::Os
    }
}

/// The key store of a wallet whose OS key store held its secrets and no longer
/// answers: every call fails, so no new device secret is made over the old one.
#[derive(Debug)]
struct Unavailable(String);

impl KeyStore for Unavailable {
    fn get(&self, _: &str) -> Result<Option<SecretBytes>, KeyStoreError> {
        Err(KeyStoreError::Unavailable(self.0.clone()))
    }
    fn put(&self, _: &str, _: &SecretBytes) -> Result<(), KeyStoreError> {
        Err(KeyStoreError::Unavailable(self.0.clone()))
    }
    fn delete(&self, _: &str) -> Result<(), KeyStoreError> {
        Err(KeyStoreError::Unavailable(self.0.clone()))
    }
    fn kind(&self) -> KeyStoreKind {
        KeyStoreKind::Unavailable
    }
}

/// Where the desktop app's key stores live.
#[derive(Debug, Clone)]
pub struct DesktopKeyStorePaths {
    /// The data folder (the SQLite wallet; what backups take).
    pub data_dir: PathBuf,
    /// The fallback file's folder, outside the data folder (e.g. `$XDG_STATE_HOME/…`).
    pub fallback_dir: PathBuf,
}

impl DesktopKeyStorePaths {
    /// The fallback file.
    pub fn fallback_file(&self) -> PathBuf {
        self.fallback_dir.join("keystore")
    }
    /// Where versions before the OS key store kept the file: inside the data folder.
    pub fn legacy_file(&self) -> PathBuf {
        self.data_dir.join("keystore")
    }
}

/// Moves every secret of the file at `path` into `to` (keeping what `to` already
/// has), then deletes the file.
fn move_file_into(path: &Path, to: &dyn KeyStore) -> Result<usize, KeyStoreError> {
    if !path.exists() {
        return Ok(0);
    }
    let file = FileKeyStore::new(path);
    let entries = file.entries()?;
    for (name, value) in &entries {
        if to.get(name)?.is_none() {
            to.put(name, value)?;
        }
    }
    file.remove_file()?;
    Ok(entries.len())
}

/// The desktop app's key store. `os` is the result of [`OsKeyStore::connect`] (the
/// caller passes it so tests can choose).
///
/// - The OS key store answers: it is used. Secrets in a file (the fallback, or the
///   data folder's file from versions before this one) move into it and the file is
///   deleted; a marker in the data folder records that the OS store holds them.
/// - It does not answer and the marker is there: a store whose every call fails
///   (making a new device secret would lock the resident out of the vault for good).
/// - It does not answer and never did: the fallback file outside the data folder,
///   logged as a warning and shown in Pengaturan ([`KeyStoreKind::File`]). A file
///   left in the data folder by an older version is moved there.
pub fn open_desktop_keystore(
    paths: &DesktopKeyStorePaths,
    os: Result<OsKeyStore, KeyStoreError>,
) -> Result<Arc<dyn KeyStore>, KeyStoreError> {
    let marker = paths.data_dir.join(MARKER);
    match os {
        Ok(os) => {
            let mut moved = move_file_into(&paths.legacy_file(), &os)?;
            moved += move_file_into(&paths.fallback_file(), &os)?;
            if moved > 0 {
                tracing::info!("moved {moved} secrets from a file into the OS key store");
            }
            std::fs::create_dir_all(&paths.data_dir)?;
            std::fs::write(&marker, b"the device secret is in the OS key store\n")?;
            Ok(Arc::new(os))
        }
        Err(e) if marker.exists() => {
            tracing::error!("the OS key store holds the device secret and does not answer: {e}");
            Ok(Arc::new(Unavailable(e.to_string())))
        }
        Err(e) => {
            let file = FileKeyStore::new(paths.fallback_file());
            tracing::warn!(
                "no OS key store answered ({e}); the device secret is kept in the file {}",
                file.path().display()
            );
            let moved = move_file_into(&paths.legacy_file(), &file)?;
            if moved > 0 {
                tracing::info!("moved {moved} secrets out of the data folder");
            }
            Ok(Arc::new(file))
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn paths(root: &Path) -> DesktopKeyStorePaths {
        DesktopKeyStorePaths {
            data_dir: root.join("data"),
            fallback_dir: root.join("state"),
        }
    }

    #[test]
    fn without_an_os_store_the_fallback_file_is_outside_the_data_folder() {
        let dir = tempfile::tempdir().unwrap();
        let p = paths(dir.path());
        let ks = open_desktop_keystore(&p, Err(KeyStoreError::Os("none".into()))).unwrap();
        assert_eq!(ks.kind(), KeyStoreKind::File);
        let s = super::super::device_secret(ks.as_ref()).unwrap();
        assert!(p.fallback_file().exists());
        assert!(!p.legacy_file().exists());
        assert!(!p.data_dir.join("keystore").exists());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(p.fallback_file())
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let again = open_desktop_keystore(&p, Err(KeyStoreError::Os("none".into()))).unwrap();
        assert_eq!(super::super::device_secret(again.as_ref()).unwrap(), s);
    }

    #[test]
    fn an_old_file_in_the_data_folder_moves_out() {
        let dir = tempfile::tempdir().unwrap();
        let p = paths(dir.path());
        let old = FileKeyStore::new(p.legacy_file());
        let s = super::super::device_secret(&old).unwrap();
        let ks = open_desktop_keystore(&p, Err(KeyStoreError::Os("none".into()))).unwrap();
        assert!(!p.legacy_file().exists());
        assert_eq!(super::super::device_secret(ks.as_ref()).unwrap(), s);
    }

    #[test]
    fn a_wallet_whose_os_store_went_away_gets_no_new_secret() {
        let dir = tempfile::tempdir().unwrap();
        let p = paths(dir.path());
        std::fs::create_dir_all(&p.data_dir).unwrap();
        std::fs::write(p.data_dir.join(MARKER), b"x").unwrap();
        let ks = open_desktop_keystore(&p, Err(KeyStoreError::Os("gone".into()))).unwrap();
        assert_eq!(ks.kind(), KeyStoreKind::Unavailable);
        assert!(matches!(
            super::super::device_secret(ks.as_ref()),
            Err(KeyStoreError::Unavailable(_))
        ));
        assert!(!p.fallback_file().exists());
    }
}
