//! Resumable uploads (tus 1.0, [`crate::upload`] is the HTTP side): one row per upload
//! in table `uploads` (SQLite migration 12, PostgreSQL migration 7), so any node takes
//! any chunk. The row is keyed by the SHA-256 of the upload's capability id (the id
//! itself is never stored), holds the declared length, how many bytes were received
//! (the offset) and an expiry; the bytes are one row per chunk in `upload_chunks`
//! (SQLite migration 13, PostgreSQL migration 9), so an append writes only its own
//! chunk: linear in the upload's size, however small the chunks (4 KB on 2G; until
//! migration 13/9 each append rewrote every byte so far). Each append is a
//! compare-and-swap on the offset (PostgreSQL: one statement, an UPDATE of `received`
//! whose condition is the offset and the chunk's INSERT when it matched; SQLite: one
//! IMMEDIATE transaction). The submit that uses a finished upload deletes it (its chunks
//! with it) in the transaction that inserts the enrollment (one upload, one enrollment;
//! on PostgreSQL the chunks are assembled into the enrollment's selfie inside the
//! database, so the bytes do not travel to the node and back), and a "Lupa PIN" request
//! that uses one deletes it in the transaction that opens the reset (one upload, one
//! reset request).

use super::sqlite::SqliteStore;
use super::{Enrollment, Mail, PgStore, StoreResult};
use chrono::{DateTime, TimeZone, Utc};
use rusqlite::{params, OptionalExtension, TransactionBehavior};

/// An upload as the protocol sees it (no data).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UploadInfo {
    /// Declared length (`Upload-Length`).
    pub length: u64,
    /// Bytes received and stored (`Upload-Offset`).
    pub offset: u64,
    pub expires_at: DateTime<Utc>,
}

/// What an append found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Append {
    /// Stored: the upload now (its new offset).
    Appended(UploadInfo),
    /// The request's offset is not the stored one (nothing written): the stored one.
    OffsetMismatch(u64),
    /// The chunk would go past the declared length (nothing written).
    TooLong,
    /// No such upload, or expired.
    Gone,
}

pub trait UploadStore {
    /// Creates an upload `key` (a hash of its id) of `length` bytes holding `first`
    /// (tus creation-with-upload: the bytes that came with the creation; empty for a
    /// plain creation), one write. `first` is at most `length` bytes (the caller
    /// refuses more; here it is [`super::StoreError::Corrupt`], nothing written).
    fn upload_create(
        &self,
        key: &str,
        length: u64,
        first: &[u8],
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// The upload `key` if it exists and has not expired at `now`.
    fn upload_info(&self, key: &str, now: DateTime<Utc>) -> StoreResult<Option<UploadInfo>>;
    /// Appends `chunk` at `offset` as a row of its own (nothing received before is
    /// rewritten), a compare-and-swap on the offset.
    fn upload_append(
        &self,
        key: &str,
        offset: u64,
        chunk: &[u8],
        now: DateTime<Utc>,
    ) -> StoreResult<Append>;
    /// A finished (offset = length), unexpired upload's length and first bytes, without
    /// reading the rest.
    fn upload_head(&self, key: &str, now: DateTime<Utc>) -> StoreResult<Option<UploadHead>>;
    /// The bytes of a finished (offset = length), unexpired upload.
    fn upload_data(&self, key: &str, now: DateTime<Utc>) -> StoreResult<Option<Vec<u8>>>;
    /// Inserts `e` with the finished upload `key`'s bytes as its selfie (`e.selfie` is
    /// not read: on PostgreSQL the bytes go from the upload's chunks to the enrollment
    /// inside the database), its queued face check, and deletes the upload, one
    /// transaction; false (nothing written) when the upload is no longer there,
    /// unfinished or expired (another submit used it first).
    fn insert_enrollment_from_upload(
        &self,
        e: &Enrollment,
        key: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// [`super::Store::begin_reauth`] (the enrollment written, the device's tokens
    /// deleted, `mails` queued) and the finished upload `key` deleted, one transaction:
    /// the tokens revoked, or None (nothing written) when the upload is no longer
    /// there, unfinished or expired (another request used it first).
    fn begin_reauth_from_upload(
        &self,
        e: &Enrollment,
        thumb: &str,
        mails: &[Mail],
        key: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<usize>>;
    /// Deletes the uploads expired at `now`; how many.
    fn sweep_uploads(&self, now: DateTime<Utc>) -> StoreResult<usize>;
}

fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

fn from_ms(v: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(v).single().unwrap_or_default()
}

fn i64_of(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn u64_of(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// The offset after a creation holding `first`, if it fits the `length`.
fn first_fits(first: &[u8], length: u64) -> StoreResult<i64> {
    let n = first.len() as u64;
    if n > length {
        return Err(super::StoreError::Corrupt(
            "an upload's first bytes past its length".into(),
        ));
    }
    Ok(i64_of(n))
}

impl UploadStore for SqliteStore {
    fn upload_create(
        &self,
        key: &str,
        length: u64,
        first: &[u8],
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let received = first_fits(first, length)?;
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT INTO uploads (key, length, received, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![key, i64_of(length), received, ms(now), ms(expires_at)],
        )?;
        if !first.is_empty() {
            tx.execute(
                "INSERT INTO upload_chunks (key, off, data) VALUES (?1, 0, ?2)",
                params![key, first],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    fn upload_info(&self, key: &str, now: DateTime<Utc>) -> StoreResult<Option<UploadInfo>> {
        let row: Option<(i64, i64, i64)> = self
            .conn()
            .query_row(
                "SELECT length, received, expires_at FROM uploads WHERE key = ?1 AND expires_at > ?2",
                params![key, ms(now)],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        Ok(row.map(|(length, offset, exp)| UploadInfo {
            length: u64_of(length),
            offset: u64_of(offset),
            expires_at: from_ms(exp),
        }))
    }

    fn upload_append(
        &self,
        key: &str,
        offset: u64,
        chunk: &[u8],
        now: DateTime<Utc>,
    ) -> StoreResult<Append> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let row: Option<(i64, i64, i64)> = tx
            .query_row(
                "SELECT length, received, expires_at FROM uploads WHERE key = ?1 AND expires_at > ?2",
                params![key, ms(now)],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let Some((length, received, expires)) = row else {
            return Ok(Append::Gone);
        };
        let stored = u64_of(received);
        if stored != offset {
            return Ok(Append::OffsetMismatch(stored));
        }
        let new_offset = stored + chunk.len() as u64;
        if new_offset > u64_of(length) {
            return Ok(Append::TooLong);
        }
        // The chunk is a row of its own: nothing received before is read or rewritten.
        if !chunk.is_empty() {
            tx.execute(
                "INSERT INTO upload_chunks (key, off, data) VALUES (?1, ?2, ?3)",
                params![key, received, chunk],
            )?;
            tx.execute(
                "UPDATE uploads SET received = ?2 WHERE key = ?1",
                params![key, i64_of(new_offset)],
            )?;
        }
        tx.commit()?;
        Ok(Append::Appended(UploadInfo {
            length: u64_of(length),
            offset: new_offset,
            expires_at: from_ms(expires),
        }))
    }

    fn upload_head(&self, key: &str, now: DateTime<Utc>) -> StoreResult<Option<UploadHead>> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let Some(length) = finished_sqlite(&tx, key, now)? else {
            return Ok(None);
        };
        let mut head = Vec::with_capacity(HEAD_LEN);
        let mut q = tx.prepare_cached(
            "SELECT substr(data, 1, ?2) FROM upload_chunks WHERE key = ?1 AND off < ?2 ORDER BY off",
        )?;
        let mut rows = q.query(params![key, HEAD_LEN as i64])?;
        while let Some(r) = rows.next()? {
            let part: Vec<u8> = r.get(0)?;
            head.extend_from_slice(&part);
        }
        head.truncate(HEAD_LEN);
        Ok(Some(UploadHead {
            length: u64_of(length),
            head,
        }))
    }

    fn upload_data(&self, key: &str, now: DateTime<Utc>) -> StoreResult<Option<Vec<u8>>> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        if finished_sqlite(&tx, key, now)?.is_none() {
            return Ok(None);
        }
        Ok(Some(chunks_sqlite(&tx, key)?))
    }

    fn insert_enrollment_from_upload(
        &self,
        e: &Enrollment,
        key: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        {
            let mut conn = self.conn();
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            if finished_sqlite(&tx, key, now)?.is_none() {
                return Ok(false);
            }
            let with_selfie = Enrollment {
                selfie: chunks_sqlite(&tx, key)?,
                ..e.clone()
            };
            // The chunks go with the upload (ON DELETE CASCADE).
            tx.execute("DELETE FROM uploads WHERE key = ?1", [key])?;
            Self::write_enrollment(&tx, &with_selfie, true)?;
            tx.commit()?;
            e.rev.set(with_selfie.rev.get());
        }
        self.face_wake.notify_one();
        Ok(true)
    }

    fn begin_reauth_from_upload(
        &self,
        e: &Enrollment,
        thumb: &str,
        mails: &[Mail],
        key: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<usize>> {
        let n = {
            let mut conn = self.conn();
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            if finished_sqlite(&tx, key, now)?.is_none() {
                return Ok(None);
            }
            tx.execute("DELETE FROM uploads WHERE key = ?1", [key])?;
            Self::write_enrollment(&tx, e, false)?;
            let n = tx.execute("DELETE FROM tokens WHERE device_thumb = ?1", [thumb])?;
            let queued = Utc::now();
            for m in mails {
                super::outbox::enqueue_sqlite(&tx, m, queued)?;
            }
            tx.commit()?;
            n
        };
        if !mails.is_empty() {
            self.mail_wake.notify_one();
        }
        if super::FacePurpose::pending_in(e).next().is_some() {
            self.face_wake.notify_one();
        }
        Ok(Some(n))
    }

    fn sweep_uploads(&self, now: DateTime<Utc>) -> StoreResult<usize> {
        Ok(self
            .conn()
            .execute("DELETE FROM uploads WHERE expires_at <= ?1", [ms(now)])?)
    }
}

/// How many of an upload's first bytes [`UploadStore::upload_head`] gives.
pub const HEAD_LEN: usize = 4;

/// A finished upload without its data: what a submit checks before the store moves
/// the bytes into the enrollment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadHead {
    pub length: u64,
    /// The first [`HEAD_LEN`] bytes (fewer when the upload is shorter).
    pub head: Vec<u8>,
}

/// The declared length of upload `key` if it is finished and not expired, in the
/// caller's transaction.
fn finished_sqlite(
    tx: &rusqlite::Transaction<'_>,
    key: &str,
    now: DateTime<Utc>,
) -> rusqlite::Result<Option<i64>> {
    tx.query_row(
        "SELECT length FROM uploads WHERE key = ?1 AND expires_at > ?2 AND received = length",
        params![key, ms(now)],
        |r| r.get(0),
    )
    .optional()
}

/// The bytes of upload `key`, its chunks in order, in the caller's transaction.
fn chunks_sqlite(tx: &rusqlite::Transaction<'_>, key: &str) -> rusqlite::Result<Vec<u8>> {
    let mut q = tx.prepare_cached("SELECT data FROM upload_chunks WHERE key = ?1 ORDER BY off")?;
    let mut rows = q.query([key])?;
    let mut data = Vec::new();
    while let Some(r) = rows.next()? {
        let part = r.get_ref(0)?.as_blob()?;
        data.extend_from_slice(part);
    }
    Ok(data)
}

/// Deletes upload `key` (and with it its chunks) if it is finished and not expired,
/// in the caller's transaction: whether it was there to use.
async fn use_up_pg<C: deadpool_postgres::GenericClient>(
    tx: &C,
    key: &str,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let n = tx
        .execute(
            &tx.prepare_cached(
                "DELETE FROM uploads WHERE key = $1 AND expires_at > $2 AND received = length",
            )
            .await?,
            &[&key, &now],
        )
        .await?;
    Ok(n == 1)
}

impl UploadStore for PgStore {
    fn upload_create(
        &self,
        key: &str,
        length: u64,
        first: &[u8],
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let received = first_fits(first, length)?;
        let (key, first) = (key.to_owned(), first.to_vec());
        self.run(move |pool| async move {
            let c = pool.get().await.map_err(super::postgres::pool_err)?;
            // One statement: the upload and, when bytes came with the creation, its
            // first chunk (a data-modifying CTE runs whether or not the outer
            // statement reads it).
            c.execute(
                &c.prepare_cached(
                    "WITH u AS (INSERT INTO uploads (key, length, received, created_at, expires_at) \
                       VALUES ($1, $2, $3, $4, $5) RETURNING key) \
                     INSERT INTO upload_chunks (key, off, data) \
                       SELECT key, 0, $6 FROM u WHERE $3 > 0",
                )
                .await?,
                &[&key, &i64_of(length), &received, &now, &expires_at, &first],
            )
            .await?;
            Ok(())
        })
    }

    fn upload_info(&self, key: &str, now: DateTime<Utc>) -> StoreResult<Option<UploadInfo>> {
        if key.contains('\0') {
            return Ok(None);
        }
        let key = key.to_owned();
        self.run(move |pool| async move {
            let c = pool.get().await.map_err(super::postgres::pool_err)?;
            let row = c
                .query_opt(
                    &c.prepare_cached(
                        "SELECT length, received, expires_at FROM uploads \
                         WHERE key = $1 AND expires_at > $2",
                    )
                    .await?,
                    &[&key, &now],
                )
                .await?;
            Ok(row.map(|r| UploadInfo {
                length: u64_of(r.get(0)),
                offset: u64_of(r.get(1)),
                expires_at: r.get(2),
            }))
        })
    }

    fn upload_append(
        &self,
        key: &str,
        offset: u64,
        chunk: &[u8],
        now: DateTime<Utc>,
    ) -> StoreResult<Append> {
        if key.contains('\0') {
            return Ok(Append::Gone);
        }
        let (key, chunk) = (key.to_owned(), chunk.to_vec());
        let (offset, len) = (i64_of(offset), i64_of(chunk.len() as u64));
        self.run(move |pool| async move {
            let c = pool.get().await.map_err(super::postgres::pool_err)?;
            // One statement: the compare-and-swap on the offset is the UPDATE's own
            // condition (a concurrent append to the same row makes PostgreSQL re-check
            // it on the row that append wrote, READ COMMITTED), and the chunk is
            // inserted only when that UPDATE matched: a row of its own, so nothing
            // received before is rewritten (an empty chunk adds no row).
            let appended = c
                .query_opt(
                    &c.prepare_cached(
                        "WITH u AS (UPDATE uploads SET received = received + $5::BIGINT \
                           WHERE key = $1 AND expires_at > $2 \
                           AND received = $4::BIGINT AND $5::BIGINT <= length - $4::BIGINT \
                           RETURNING length, received, expires_at), \
                         c AS (INSERT INTO upload_chunks (key, off, data) \
                           SELECT $1, $4::BIGINT, $3 FROM u WHERE $5::BIGINT > 0) \
                         SELECT length, received, expires_at FROM u",
                    )
                    .await?,
                    &[&key, &now, &chunk, &offset, &len],
                )
                .await?;
            if let Some(row) = appended {
                return Ok(Append::Appended(UploadInfo {
                    length: u64_of(row.get(0)),
                    offset: u64_of(row.get(1)),
                    expires_at: row.get(2),
                }));
            }
            // Refused: why. `received` only grows and the length never changes, so
            // what this read finds explains the refusal.
            let row = c
                .query_opt(
                    &c.prepare_cached(
                        "SELECT length, received FROM uploads WHERE key = $1 AND expires_at > $2",
                    )
                    .await?,
                    &[&key, &now],
                )
                .await?;
            Ok(match row {
                None => Append::Gone,
                Some(r) => {
                    let (length, stored): (i64, i64) = (r.get(0), r.get(1));
                    if stored == offset && offset.saturating_add(len) > length {
                        Append::TooLong
                    } else {
                        Append::OffsetMismatch(u64_of(stored))
                    }
                }
            })
        })
    }

    fn upload_head(&self, key: &str, now: DateTime<Utc>) -> StoreResult<Option<UploadHead>> {
        if key.contains('\0') {
            return Ok(None);
        }
        let key = key.to_owned();
        self.run(move |pool| async move {
            let c = pool.get().await.map_err(super::postgres::pool_err)?;
            let sql = format!(
                "SELECT u.length, COALESCE((SELECT substring(string_agg(c.data, ''::bytea \
                   ORDER BY c.off) FROM 1 FOR {HEAD_LEN}) FROM upload_chunks c \
                   WHERE c.key = u.key AND c.off < {HEAD_LEN}), ''::bytea) \
                 FROM uploads u WHERE u.key = $1 AND u.expires_at > $2 AND u.received = u.length"
            );
            let row = c
                .query_opt(&c.prepare_cached(&sql).await?, &[&key, &now])
                .await?;
            Ok(row.map(|r| UploadHead {
                length: u64_of(r.get(0)),
                head: r.get(1),
            }))
        })
    }

    fn upload_data(&self, key: &str, now: DateTime<Utc>) -> StoreResult<Option<Vec<u8>>> {
        if key.contains('\0') {
            return Ok(None);
        }
        let key = key.to_owned();
        self.run(move |pool| async move {
            let c = pool.get().await.map_err(super::postgres::pool_err)?;
            let row = c
                .query_opt(
                    &c.prepare_cached(
                        "SELECT COALESCE((SELECT string_agg(c.data, ''::bytea ORDER BY c.off) \
                           FROM upload_chunks c WHERE c.key = u.key), ''::bytea) \
                         FROM uploads u WHERE u.key = $1 AND u.expires_at > $2 \
                         AND u.received = u.length",
                    )
                    .await?,
                    &[&key, &now],
                )
                .await?;
            Ok(row.map(|r| r.get(0)))
        })
    }

    fn insert_enrollment_from_upload(
        &self,
        e: &Enrollment,
        key: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        if key.contains('\0') {
            return Ok(false);
        }
        let (e2, key) = (e.clone(), key.to_owned());
        let done = self.run(move |pool| async move {
            let c = pool.get().await.map_err(super::postgres::pool_err)?;
            // One statement: the upload deleted (a concurrent submit of the same upload
            // waits on its row and then finds it gone), the enrollment inserted with
            // the upload's bytes, assembled here (the selfie never comes to the node),
            // and its face check queued. All parts read the statement's snapshot, so
            // the chunks the upload's deletion cascades to are still there for the
            // INSERT to read.
            if !super::postgres::insert_enrollment_using_upload(&c, &e2, &key, now).await? {
                return Ok(None);
            }
            Ok(Some(e2.rev.get()))
        })?;
        let Some(rev) = done else {
            return Ok(false);
        };
        e.rev.set(rev);
        self.face_wake.notify_one();
        Ok(true)
    }

    fn begin_reauth_from_upload(
        &self,
        e: &Enrollment,
        thumb: &str,
        mails: &[Mail],
        key: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<usize>> {
        if key.contains('\0') {
            return Ok(None);
        }
        let (e2, thumb, mails, key) = (e.clone(), thumb.to_owned(), mails.to_vec(), key.to_owned());
        let any = !mails.is_empty();
        let done = self.run(move |pool| async move {
            let mut c = pool.get().await.map_err(super::postgres::pool_err)?;
            let tx = c.transaction().await?;
            if !use_up_pg(&tx, &key, now).await? {
                return Ok(None);
            }
            super::postgres::write_enrollment(&tx, &e2, false).await?;
            let n = tx
                .execute(
                    &tx.prepare_cached("DELETE FROM tokens WHERE device_thumb = $1")
                        .await?,
                    &[&thumb],
                )
                .await?;
            let queued = Utc::now();
            for m in &mails {
                super::outbox::enqueue_pg(&tx, m, queued).await?;
            }
            tx.commit().await?;
            Ok(Some((n as usize, e2.rev.get())))
        })?;
        let Some((n, rev)) = done else {
            return Ok(None);
        };
        e.rev.set(rev);
        if any {
            self.mail_wake.notify_one();
        }
        if super::FacePurpose::pending_in(e).next().is_some() {
            self.face_wake.notify_one();
        }
        Ok(Some(n))
    }

    fn sweep_uploads(&self, now: DateTime<Utc>) -> StoreResult<usize> {
        self.run(move |pool| async move {
            let c = pool.get().await.map_err(super::postgres::pool_err)?;
            let n = c
                .execute(
                    &c.prepare_cached("DELETE FROM uploads WHERE expires_at <= $1")
                        .await?,
                    &[&now],
                )
                .await?;
            Ok(n as usize)
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn appends_compare_the_offset_and_expire() {
        let s = SqliteStore::open_in_memory().unwrap();
        let now = Utc::now();
        let exp = now + chrono::Duration::hours(24);
        s.upload_create("k", 5, &[], now, exp).unwrap();
        assert_eq!(s.upload_info("k", now).unwrap().unwrap().offset, 0);
        assert_eq!(
            s.upload_append("k", 0, &[0, 1, 0], now).unwrap(),
            Append::Appended(UploadInfo {
                length: 5,
                offset: 3,
                expires_at: from_ms(ms(exp))
            })
        );
        // A retry of the same chunk: refused, nothing appended twice.
        assert_eq!(
            s.upload_append("k", 0, &[0, 1, 0], now).unwrap(),
            Append::OffsetMismatch(3)
        );
        assert_eq!(
            s.upload_append("k", 3, &[9; 3], now).unwrap(),
            Append::TooLong
        );
        assert_eq!(s.upload_data("k", now).unwrap(), None, "unfinished");
        assert_eq!(
            s.upload_append("k", 3, &[0, 9], now).unwrap(),
            Append::Appended(UploadInfo {
                length: 5,
                offset: 5,
                expires_at: from_ms(ms(exp))
            })
        );
        assert_eq!(
            s.upload_data("k", now).unwrap().unwrap(),
            vec![0, 1, 0, 0, 9]
        );
        assert_eq!(s.upload_info("k", exp).unwrap(), None, "expired");
        assert_eq!(s.upload_append("k", 5, &[], exp).unwrap(), Append::Gone);
        assert_eq!(s.sweep_uploads(now).unwrap(), 0);
        assert_eq!(s.sweep_uploads(exp).unwrap(), 1);
        assert_eq!(s.upload_info("k", now).unwrap(), None, "swept");
    }
}
