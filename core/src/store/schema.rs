//! Schema as code. `MIGRATIONS[i]` moves the database from version `i` to `i + 1`;
//! the version is kept in `PRAGMA user_version`. Never edit a released migration:
//! add a new one.

use super::StoreError;
use rusqlite::{Connection, TransactionBehavior};

/// Version 1: the first schema.
pub const V1: &str = "
CREATE TABLE kv (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);
CREATE TABLE history (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    at     TEXT NOT NULL,
    kind   TEXT NOT NULL,
    detail TEXT
);
CREATE TABLE envelope (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    data BLOB NOT NULL
);
CREATE TABLE documents (
    id         TEXT PRIMARY KEY NOT NULL,
    version    INTEGER NOT NULL,
    nonce      BLOB NOT NULL,
    ciphertext BLOB NOT NULL
);
CREATE TABLE pin_attempts (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    failures        INTEGER NOT NULL DEFAULT 0,
    last_failure_at TEXT,
    locked_until    TEXT
);
";

/// Version 2: documents get `updated_at`; PIN attempts get `last_seen_at` (the latest
/// wall-clock time seen, so a clock turned back cannot shorten a lockout) and a
/// never-reset `total_attempts` counter; history gets an index for newest-first reads.
pub const V2: &str = "
ALTER TABLE documents ADD COLUMN updated_at TEXT NOT NULL DEFAULT '1970-01-01T00:00:00Z';
ALTER TABLE pin_attempts ADD COLUMN last_seen_at TEXT;
ALTER TABLE pin_attempts ADD COLUMN total_attempts INTEGER NOT NULL DEFAULT 0;
UPDATE pin_attempts SET last_seen_at = COALESCE(last_failure_at, locked_until);
CREATE INDEX history_at ON history (at);
";

/// All migrations, in order. `MIGRATIONS.len()` is the latest version.
pub const MIGRATIONS: &[&str] = &[V1, V2];

/// The version a freshly migrated database has.
pub fn latest_version() -> u32 {
    // Two migrations; the cast cannot truncate.
    MIGRATIONS.len() as u32
}

/// The schema version of `conn` (0 for an empty database).
pub fn version(conn: &Connection) -> Result<u32, StoreError> {
    let v: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    u32::try_from(v).map_err(|_| StoreError::Malformed("user_version"))
}

/// Brings `conn` to the latest version. Each step and its version bump is one
/// transaction, so a crash leaves the database at a whole version.
pub fn migrate(conn: &mut Connection) -> Result<u32, StoreError> {
    let latest = latest_version();
    loop {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let current = version(&tx)?;
        if current > latest {
            return Err(StoreError::TooNew {
                found: current,
                latest,
            });
        }
        if current == latest {
            tx.commit()?;
            return Ok(current);
        }
        let step = MIGRATIONS
            .get(current as usize)
            .ok_or(StoreError::Malformed("migration index"))?;
        tx.execute_batch(step)?;
        tx.pragma_update(None, "user_version", current + 1)?;
        tx.commit()?;
    }
}
