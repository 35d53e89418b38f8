//! [`MemoryKeyStore`]: the in-memory key store for tests.

use super::{check_name, KeyStore, KeyStoreError, KeyStoreKind};
use crate::secret::SecretBytes;
use std::collections::BTreeMap;
use std::sync::Mutex;

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
