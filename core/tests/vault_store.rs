//! The store: migration from the first schema, one-transaction changes, the key
//! store file mode.
#![allow(clippy::unwrap_used)]

mod vault_common;

use ikd_core::secret::SecretBytes;
use ikd_core::store::{schema, Store};
use ikd_core::vault::{FileKeyStore, KeyStore};
use ikd_core::view::HistoryKind;

/// The version-1 schema exactly as first released (kept here on purpose: the test
/// must not follow later edits of `schema::V1`).
const V1_SQL: &str = "
CREATE TABLE kv (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);
CREATE TABLE history (id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, kind TEXT NOT NULL, detail TEXT);
CREATE TABLE envelope (id INTEGER PRIMARY KEY CHECK (id = 1), data BLOB NOT NULL);
CREATE TABLE documents (id TEXT PRIMARY KEY NOT NULL, version INTEGER NOT NULL, nonce BLOB NOT NULL, ciphertext BLOB NOT NULL);
CREATE TABLE pin_attempts (id INTEGER PRIMARY KEY CHECK (id = 1), failures INTEGER NOT NULL DEFAULT 0, last_failure_at TEXT, locked_until TEXT);
PRAGMA user_version = 1;
";

#[test]
fn v1_database_migrates_with_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ikd.sqlite3");
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch(V1_SQL).unwrap();
        c.execute_batch(
            "INSERT INTO kv VALUES ('language', 'id');
             INSERT INTO history (at, kind, detail) VALUES ('2026-01-01T00:00:00.000Z', 'registered', NULL);
             INSERT INTO history (at, kind, detail) VALUES ('2026-01-02T00:00:00.000Z', 'desk_scanned', 'Desk 1');
             INSERT INTO envelope VALUES (1, x'0102');
             INSERT INTO documents VALUES ('ktp', 3, x'00', x'01ff');
             INSERT INTO pin_attempts (id, failures, last_failure_at, locked_until)
                 VALUES (1, 4, '2026-01-03T00:00:00.000Z', '2026-01-03T00:01:30.000Z');",
        )
        .unwrap();
    }
    let store = Store::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), schema::latest_version());
    assert!(schema::latest_version() >= 2);
    assert_eq!(store.get_kv("language").unwrap().as_deref(), Some("id"));
    let h = store.history().unwrap();
    assert_eq!(h.len(), 2);
    assert_eq!(h[0].kind, HistoryKind::DeskScanned);
    assert_eq!(h[0].detail.as_deref(), Some("Desk 1"));
    assert!(store.has_envelope().unwrap());
    drop(store);

    let c = rusqlite::Connection::open(&path).unwrap();
    let (v, nonce, ct, updated): (i64, Vec<u8>, Vec<u8>, String) = c
        .query_row(
            "SELECT version, nonce, ciphertext, updated_at FROM documents WHERE id = 'ktp'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert_eq!((v, nonce, ct), (3, vec![0], vec![1, 0xff]));
    assert_eq!(updated, "1970-01-01T00:00:00Z");
    let (failures, seen): (i64, Option<String>) = c
        .query_row("SELECT failures, last_seen_at FROM pin_attempts", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(failures, 4);
    assert_eq!(seen.as_deref(), Some("2026-01-03T00:00:00.000Z"));
    let mode: String = c
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");

    // Opening again is a no-op.
    let store = Store::open(&path).unwrap();
    assert_eq!(store.get_kv("language").unwrap().as_deref(), Some("id"));
}

#[test]
fn set_kv_many_is_all_or_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("db")).unwrap();
    store.set_kv_many(&[("a", "1"), ("b", "2")]).unwrap();
    assert_eq!(store.get_kv("b").unwrap().as_deref(), Some("2"));
    store
        .wipe_keeping(
            ("a", "kept"),
            chrono::Utc::now(),
            HistoryKind::DeviceReleased,
        )
        .unwrap();
    assert_eq!(store.get_kv("a").unwrap().as_deref(), Some("kept"));
    assert_eq!(store.get_kv("b").unwrap(), None);
}

#[cfg(unix)]
#[test]
fn file_key_store_is_0600_and_atomic() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let ks = FileKeyStore::in_dir(dir.path().join("app"));
    ks.put("ikd.device_secret", &SecretBytes::new(vec![9; 32]))
        .unwrap();
    let mode = std::fs::metadata(ks.path()).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    ks.put("other", &SecretBytes::new(vec![1])).unwrap();
    let mode = std::fs::metadata(ks.path()).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    // No temp file left behind.
    let names: Vec<_> = std::fs::read_dir(dir.path().join("app"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("keystore")]);
    assert_eq!(ks.get("other").unwrap().unwrap().expose(), &vec![1]);
}
