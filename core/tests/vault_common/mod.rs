//! Shared set-up for the vault tests.
#![allow(dead_code, clippy::unwrap_used)]

use chrono::{DateTime, TimeZone, Utc};
use ikd_core::clock::ManualClock;
use ikd_core::secret::SecretString;
use ikd_core::store::Store;
use ikd_core::vault::{KdfParams, KeyStore, MemoryKeyStore, Pin, Vault};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub const PIN: &str = "246813";
pub const PIN2: &str = "975310";

pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 5, 4, 9, 0, 0).unwrap()
}

pub fn pin(s: &str) -> Pin {
    Pin::new(s, None).unwrap()
}

pub fn secret(s: &str) -> SecretString {
    SecretString::new(s.to_owned())
}

pub struct Rig {
    pub dir: tempfile::TempDir,
    pub db: PathBuf,
    pub keystore: Arc<MemoryKeyStore>,
    pub clock: Arc<ManualClock>,
    pub vault: Vault,
}

pub fn open_vault(db: &Path, ks: Arc<dyn KeyStore>, clock: Arc<ManualClock>) -> Vault {
    let store = Arc::new(Store::open(db).unwrap());
    Vault::new(store, ks, clock).with_kdf_params(KdfParams::insecure_for_tests())
}

impl Rig {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("data").join("ikd.sqlite3");
        let keystore = Arc::new(MemoryKeyStore::new());
        let clock = Arc::new(ManualClock::new(t0()));
        let vault = open_vault(&db, keystore.clone(), clock.clone());
        Self {
            dir,
            db,
            keystore,
            clock,
            vault,
        }
    }

    /// Drops the vault and opens the same file again (an app restart).
    pub fn restart(&mut self) {
        self.vault = open_vault(&self.db, self.keystore.clone(), self.clock.clone());
    }

    pub fn raw(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(&self.db).unwrap()
    }

    pub fn document_rows(&self) -> Vec<(String, i64, Vec<u8>, Vec<u8>)> {
        let c = self.raw();
        let mut st = c
            .prepare("SELECT id, version, nonce, ciphertext FROM documents ORDER BY id")
            .unwrap();
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap()
    }

    pub fn envelope_bytes(&self) -> Vec<u8> {
        self.raw()
            .query_row("SELECT data FROM envelope", [], |r| r.get(0))
            .unwrap()
    }
}
