//! Android. UNVERIFIED / NOT IMPLEMENTED: the hardware-backed version (a key in the
//! Android Keystore, reached over JNI, wrapping the secrets) needs the SDK/NDK, which
//! this machine does not have. For now this keeps the [`FileKeyStore`] file in the
//! app's private data dir (`Context.getFilesDir()`, passed in by the shell), which
//! other apps cannot read.

use super::{FileKeyStore, KeyStore, KeyStoreError};
use crate::secret::SecretBytes;
use std::path::Path;

#[derive(Debug)]
pub struct AndroidKeyStore(FileKeyStore);

impl AndroidKeyStore {
    /// `private_dir`: the app's private files dir.
    pub fn new(private_dir: impl AsRef<Path>) -> Self {
        Self(FileKeyStore::in_dir(private_dir))
    }
}

impl KeyStore for AndroidKeyStore {
    fn get(&self, name: &str) -> Result<Option<SecretBytes>, KeyStoreError> {
        self.0.get(name)
    }
    fn put(&self, name: &str, value: &SecretBytes) -> Result<(), KeyStoreError> {
        self.0.put(name, value)
    }
    fn delete(&self, name: &str) -> Result<(), KeyStoreError> {
        self.0.delete(name)
    }
}
