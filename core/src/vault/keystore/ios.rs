//! iOS. UNVERIFIED / NOT IMPLEMENTED: the Keychain version (items with
//! `kSecAttrAccessibleWhenUnlockedThisDeviceOnly`) needs Xcode and the iOS SDK, which
//! this machine does not have. For now this keeps the [`FileKeyStore`] file in the
//! app's sandboxed data dir (Data Protection applies to it).

use super::{FileKeyStore, KeyStore, KeyStoreError};
use crate::secret::SecretBytes;
use std::path::Path;

#[derive(Debug)]
pub struct IosKeychain(FileKeyStore);

impl IosKeychain {
    /// `private_dir`: the app's Application Support dir.
    pub fn new(private_dir: impl AsRef<Path>) -> Self {
        Self(FileKeyStore::in_dir(private_dir))
    }
}

impl KeyStore for IosKeychain {
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
