//! [`FileKeyStore`]: secrets in a 0600 file, written atomically.

use super::{check_name, KeyStore, KeyStoreError, KeyStoreKind};
use crate::secret::SecretBytes;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use zeroize::Zeroizing;

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
