//! [`Store`]: one SQLite file (WAL), its connection and the typed accessors for
//! settings (`kv`) and history.

use super::{schema, StoreError};
use crate::store::history::{HistoryEntry, HistoryKind};
use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

/// The app's database. Cheap to share behind an `Arc`; calls are serialized on one
/// connection.
pub struct Store {
    conn: Mutex<Connection>,
    path: Option<PathBuf>,
    /// Held across a whole PIN check (see [`Store::attempt_guard`]).
    attempts: Mutex<()>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

/// Formats a time the way every table stores it (RFC 3339, UTC, milliseconds), so
/// that text order is time order.
pub fn fmt_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Parses a stored time.
pub fn parse_time(s: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| StoreError::Malformed("timestamp"))
}

impl Store {
    /// Opens (or creates) the database file at `path`, creating its directory, turning
    /// on WAL and migrating to the latest schema.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref();
        if let Some(dir) = path.parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir)?;
            }
        }
        let conn = Connection::open(path)?;
        let _mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        Self::setup(conn, Some(path.to_path_buf()))
    }

    /// An in-memory database (tests and tools).
    pub fn open_in_memory() -> Result<Self, StoreError> {
        Self::setup(Connection::open_in_memory()?, None)
    }

    fn setup(mut conn: Connection, path: Option<PathBuf>) -> Result<Self, StoreError> {
        conn.busy_timeout(Duration::from_secs(5))?;
        // FULL: a committed PIN failure survives a power cut (no free guesses).
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.pragma_update(None, "secure_delete", "ON")?;
        schema::migrate(&mut conn)?;
        Ok(Self {
            conn: Mutex::new(conn),
            path,
            attempts: Mutex::new(()),
        })
    }

    /// The file this store lives in (`None` in memory).
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The schema version (the latest after `open`).
    pub fn schema_version(&self) -> Result<u32, StoreError> {
        schema::version(&self.lock())
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave a half transaction behind
        // (rusqlite rolls back on drop), so a poisoned lock is safe to reuse.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Serializes PIN checks on this store (held from the lockout gate until the
    /// outcome is recorded).
    pub(crate) fn attempt_guard(&self) -> MutexGuard<'_, ()> {
        self.attempts.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `f` on the connection (single statements; autocommit).
    pub(crate) fn with_conn<T, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, E>,
    ) -> Result<T, E> {
        f(&self.lock())
    }

    /// Runs `f` in one write transaction (`BEGIN IMMEDIATE`): committed when `f`
    /// returns `Ok`, rolled back otherwise.
    pub(crate) fn with_tx<T, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut conn = self.lock();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(StoreError::from)?;
        let out = f(&tx)?;
        tx.commit().map_err(StoreError::from)?;
        Ok(out)
    }

    // ---- kv: settings, enrollment state (JSON), other non-secret values ----

    pub fn get_kv(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.with_conn(|c| get_kv(c, key))
    }

    pub fn set_kv(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.with_conn(|c| set_kv(c, key, value))
    }

    /// Sets several keys in one transaction.
    pub fn set_kv_many(&self, pairs: &[(&str, &str)]) -> Result<(), StoreError> {
        self.with_tx(|tx| {
            for (k, v) in pairs {
                set_kv(tx, k, v)?;
            }
            Ok(())
        })
    }

    pub fn delete_kv(&self, key: &str) -> Result<(), StoreError> {
        self.with_conn(|c| delete_kv(c, key))
    }

    // ---- history ----

    pub fn append_history(
        &self,
        at: DateTime<Utc>,
        kind: HistoryKind,
        detail: Option<&str>,
    ) -> Result<(), StoreError> {
        self.with_conn(|c| append_history(c, at, kind, detail))
    }

    /// Every entry, newest first.
    pub fn history(&self) -> Result<Vec<HistoryEntry>, StoreError> {
        self.with_conn(|c| {
            let mut stmt = c.prepare("SELECT at, kind, detail FROM history ORDER BY id DESC")?;
            let rows = stmt.query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<String>>(2)?,
                ))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (at, kind, detail) = row?;
                out.push(HistoryEntry {
                    at,
                    kind: kind_from_str(&kind)?,
                    detail,
                });
            }
            Ok(out)
        })
    }

    /// Forgets the wallet (every row of every table: release of the device), keeps
    /// `keep` (the settings, as a kv pair) and records why in the history, in one
    /// transaction: a crash or a failed write leaves either the old wallet whole or
    /// the wiped one with its settings and its history entry, never a wallet without
    /// either.
    pub fn wipe_keeping(
        &self,
        keep: (&str, &str),
        at: DateTime<Utc>,
        kind: HistoryKind,
    ) -> Result<(), StoreError> {
        self.with_tx(|tx| {
            clear_tables(tx)?;
            set_kv(tx, keep.0, keep.1)?;
            append_history(tx, at, kind, None)
        })
    }
}

fn clear_tables(c: &Connection) -> Result<(), StoreError> {
    c.execute_batch(
        "DELETE FROM kv; DELETE FROM history; DELETE FROM envelope;
         DELETE FROM documents; DELETE FROM pin_attempts;",
    )?;
    Ok(())
}

pub(crate) fn get_kv(c: &Connection, key: &str) -> Result<Option<String>, StoreError> {
    Ok(
        c.query_row("SELECT value FROM kv WHERE key = ?1", [key], |r| r.get(0))
            .optional()?,
    )
}

pub(crate) fn delete_kv(c: &Connection, key: &str) -> Result<(), StoreError> {
    c.execute("DELETE FROM kv WHERE key = ?1", [key])?;
    Ok(())
}

pub(crate) fn set_kv(c: &Connection, key: &str, value: &str) -> Result<(), StoreError> {
    c.execute(
        "INSERT INTO kv (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}

pub(crate) fn append_history(
    c: &Connection,
    at: DateTime<Utc>,
    kind: HistoryKind,
    detail: Option<&str>,
) -> Result<(), StoreError> {
    c.execute(
        "INSERT INTO history (at, kind, detail) VALUES (?1, ?2, ?3)",
        params![fmt_time(at), kind_to_str(kind)?, detail],
    )?;
    Ok(())
}

fn kind_to_str(kind: HistoryKind) -> Result<String, StoreError> {
    match serde_json::to_value(kind) {
        Ok(serde_json::Value::String(s)) => Ok(s),
        _ => Err(StoreError::Malformed("history kind")),
    }
}

fn kind_from_str(s: &str) -> Result<HistoryKind, StoreError> {
    serde_json::from_value(serde_json::Value::String(s.to_owned()))
        .map_err(|_| StoreError::Malformed("history kind"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn kv_round_trip_and_overwrite() {
        let s = Store::open_in_memory().unwrap();
        assert_eq!(s.get_kv("a").unwrap(), None);
        s.set_kv("a", "1").unwrap();
        s.set_kv("a", "2").unwrap();
        assert_eq!(s.get_kv("a").unwrap().as_deref(), Some("2"));
        s.set_kv_many(&[("b", "x"), ("c", "y")]).unwrap();
        assert_eq!(s.get_kv("c").unwrap().as_deref(), Some("y"));
        s.delete_kv("a").unwrap();
        assert_eq!(s.get_kv("a").unwrap(), None);
    }

    #[test]
    fn history_is_newest_first() {
        let s = Store::open_in_memory().unwrap();
        let t = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        s.append_history(t, HistoryKind::Registered, None).unwrap();
        s.append_history(t, HistoryKind::DeskScanned, Some("Desk 1"))
            .unwrap();
        let h = s.history().unwrap();
        assert_eq!(h.len(), 2);
        assert_eq!(h[0].kind, HistoryKind::DeskScanned);
        assert_eq!(h[0].detail.as_deref(), Some("Desk 1"));
        assert_eq!(h[1].kind, HistoryKind::Registered);
        assert_eq!(h[1].at, "2026-01-01T00:00:00.000Z");
    }

    #[test]
    fn wipe_keeps_the_settings_and_records_why() {
        let s = Store::open_in_memory().unwrap();
        let t = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        s.set_kv("settings", "{\"lang\":\"id\"}").unwrap();
        s.set_kv("enrollment", "{}").unwrap();
        s.append_history(t, HistoryKind::Registered, None).unwrap();
        s.wipe_keeping(
            ("settings", "{\"lang\":\"en\"}"),
            t,
            HistoryKind::DeviceReleased,
        )
        .unwrap();
        assert_eq!(s.get_kv("enrollment").unwrap(), None);
        assert_eq!(
            s.get_kv("settings").unwrap().as_deref(),
            Some("{\"lang\":\"en\"}")
        );
        let h = s.history().unwrap();
        assert_eq!(h.len(), 1);
        assert_eq!(h[0].kind, HistoryKind::DeviceReleased);
    }

    #[test]
    fn a_wipe_that_fails_half_way_leaves_the_wallet_whole() {
        let s = Store::open_in_memory().unwrap();
        let t = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        s.set_kv("settings", "old").unwrap();
        s.set_kv("enrollment", "{}").unwrap();
        s.append_history(t, HistoryKind::Registered, None).unwrap();
        // The last write of the wipe (its history entry) fails.
        s.with_conn(|c| {
            c.execute_batch(
                "CREATE TRIGGER refuse BEFORE INSERT ON history
                 BEGIN SELECT RAISE(ABORT, 'disk full'); END;",
            )
            .map_err(StoreError::from)
        })
        .unwrap();
        assert!(s
            .wipe_keeping(("settings", "new"), t, HistoryKind::DeviceReleased)
            .is_err());
        assert_eq!(s.get_kv("enrollment").unwrap().as_deref(), Some("{}"));
        assert_eq!(s.get_kv("settings").unwrap().as_deref(), Some("old"));
        assert_eq!(s.history().unwrap()[0].kind, HistoryKind::Registered);
    }

    #[test]
    fn fresh_store_is_at_latest_version() {
        let s = Store::open_in_memory().unwrap();
        assert_eq!(s.schema_version().unwrap(), schema::latest_version());
    }

    #[test]
    fn newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("ikd.sqlite3");
        {
            let c = Connection::open(&p).unwrap();
            c.pragma_update(None, "user_version", 99).unwrap();
        }
        assert!(matches!(
            Store::open(&p),
            Err(StoreError::TooNew { found: 99, .. })
        ));
    }
}
