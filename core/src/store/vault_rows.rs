//! The rows behind the vault: the wrapped-key envelope (one row), the encrypted
//! documents, the PIN-attempt counter (one row) and the `documents_wiped` flag.
//! Plain functions over a connection so the vault can combine them in one
//! transaction ([`Store::with_tx`](super::Store)). Nothing here is plaintext.

use super::db::{fmt_time, parse_time};
use super::StoreError;
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};

/// `kv` key of the flag set when the cached documents were wiped.
pub const KV_DOCUMENTS_WIPED: &str = "vault.documents_wiped";

/// One encrypted document as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentRow {
    pub version: u64,
    pub nonce: Vec<u8>,
    /// Format byte followed by the AES-GCM ciphertext and tag.
    pub ciphertext: Vec<u8>,
}

/// The PIN-attempt counter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AttemptsRow {
    /// Consecutive wrong PINs since the last right one.
    pub failures: u32,
    pub last_failure_at: Option<DateTime<Utc>>,
    /// The wait ends here (wall clock, re-based when the clock is turned back).
    pub locked_until: Option<DateTime<Utc>>,
    /// The latest wall-clock time seen by the lockout logic.
    pub last_seen_at: Option<DateTime<Utc>>,
    /// Every attempt ever started (never reset; for diagnostics).
    pub total_attempts: u64,
}

pub fn read_envelope(c: &Connection) -> Result<Option<Vec<u8>>, StoreError> {
    Ok(
        c.query_row("SELECT data FROM envelope WHERE id = 1", [], |r| r.get(0))
            .optional()?,
    )
}

pub fn write_envelope(c: &Connection, data: &[u8]) -> Result<(), StoreError> {
    c.execute(
        "INSERT INTO envelope (id, data) VALUES (1, ?1)
         ON CONFLICT (id) DO UPDATE SET data = excluded.data",
        [data],
    )?;
    Ok(())
}

pub fn delete_envelope(c: &Connection) -> Result<(), StoreError> {
    c.execute("DELETE FROM envelope", [])?;
    Ok(())
}

pub fn read_document(c: &Connection, id: &str) -> Result<Option<DocumentRow>, StoreError> {
    let row = c
        .query_row(
            "SELECT version, nonce, ciphertext FROM documents WHERE id = ?1",
            [id],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, Vec<u8>>(1)?,
                    r.get::<_, Vec<u8>>(2)?,
                ))
            },
        )
        .optional()?;
    row.map(|(v, nonce, ciphertext)| {
        Ok(DocumentRow {
            version: u64::try_from(v).map_err(|_| StoreError::Malformed("document version"))?,
            nonce,
            ciphertext,
        })
    })
    .transpose()
}

pub fn document_version(c: &Connection, id: &str) -> Result<Option<u64>, StoreError> {
    let v: Option<i64> = c
        .query_row("SELECT version FROM documents WHERE id = ?1", [id], |r| {
            r.get(0)
        })
        .optional()?;
    v.map(|v| u64::try_from(v).map_err(|_| StoreError::Malformed("document version")))
        .transpose()
}

pub fn write_document(
    c: &Connection,
    id: &str,
    row: &DocumentRow,
    updated_at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let version =
        i64::try_from(row.version).map_err(|_| StoreError::Malformed("document version"))?;
    c.execute(
        "INSERT INTO documents (id, version, nonce, ciphertext, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (id) DO UPDATE SET version = excluded.version, nonce = excluded.nonce,
             ciphertext = excluded.ciphertext, updated_at = excluded.updated_at",
        params![id, version, row.nonce, row.ciphertext, fmt_time(updated_at)],
    )?;
    Ok(())
}

pub fn document_ids(c: &Connection) -> Result<Vec<String>, StoreError> {
    let mut stmt = c.prepare("SELECT id FROM documents ORDER BY id")?;
    let ids = stmt
        .query_map([], |r| r.get(0))?
        .collect::<Result<Vec<String>, _>>()?;
    Ok(ids)
}

pub fn delete_document(c: &Connection, id: &str) -> Result<bool, StoreError> {
    Ok(c.execute("DELETE FROM documents WHERE id = ?1", [id])? > 0)
}

pub fn delete_documents(c: &Connection) -> Result<(), StoreError> {
    c.execute("DELETE FROM documents", [])?;
    Ok(())
}

fn opt_time(s: Option<String>) -> Result<Option<DateTime<Utc>>, StoreError> {
    s.as_deref().map(parse_time).transpose()
}

pub fn read_attempts(c: &Connection) -> Result<AttemptsRow, StoreError> {
    let row = c
        .query_row(
            "SELECT failures, last_failure_at, locked_until, last_seen_at, total_attempts
             FROM pin_attempts WHERE id = 1",
            [],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, Option<String>>(1)?,
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, i64>(4)?,
                ))
            },
        )
        .optional()?;
    let Some((failures, last_failure, locked_until, last_seen, total)) = row else {
        return Ok(AttemptsRow::default());
    };
    Ok(AttemptsRow {
        failures: u32::try_from(failures).map_err(|_| StoreError::Malformed("failures"))?,
        last_failure_at: opt_time(last_failure)?,
        locked_until: opt_time(locked_until)?,
        last_seen_at: opt_time(last_seen)?,
        total_attempts: u64::try_from(total).map_err(|_| StoreError::Malformed("attempts"))?,
    })
}

pub fn write_attempts(c: &Connection, a: &AttemptsRow) -> Result<(), StoreError> {
    let total = i64::try_from(a.total_attempts).map_err(|_| StoreError::Malformed("attempts"))?;
    c.execute(
        "INSERT INTO pin_attempts
             (id, failures, last_failure_at, locked_until, last_seen_at, total_attempts)
         VALUES (1, ?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (id) DO UPDATE SET failures = excluded.failures,
             last_failure_at = excluded.last_failure_at, locked_until = excluded.locked_until,
             last_seen_at = excluded.last_seen_at, total_attempts = excluded.total_attempts",
        params![
            a.failures,
            a.last_failure_at.map(fmt_time),
            a.locked_until.map(fmt_time),
            a.last_seen_at.map(fmt_time),
            total
        ],
    )?;
    Ok(())
}

pub fn documents_wiped(c: &Connection) -> Result<bool, StoreError> {
    Ok(super::db::get_kv(c, KV_DOCUMENTS_WIPED)?.as_deref() == Some("true"))
}

pub fn set_documents_wiped(c: &Connection, wiped: bool) -> Result<(), StoreError> {
    if wiped {
        super::db::set_kv(c, KV_DOCUMENTS_WIPED, "true")
    } else {
        c.execute("DELETE FROM kv WHERE key = ?1", [KV_DOCUMENTS_WIPED])?;
        Ok(())
    }
}

impl super::Store {
    /// The cached documents were wiped after too many wrong PINs (or on request);
    /// the wallet must fetch them again after the resident authenticates again.
    pub fn documents_wiped(&self) -> Result<bool, StoreError> {
        self.with_conn(documents_wiped)
    }

    /// Whether a vault (an envelope) exists.
    pub fn has_envelope(&self) -> Result<bool, StoreError> {
        self.with_conn(|c| Ok(read_envelope(c)?.is_some()))
    }
}
