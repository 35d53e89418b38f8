//! Resumable uploads (tus 1.0, [`crate::upload`] is the HTTP side): one row per upload
//! in table `uploads` (SQLite migration 12, PostgreSQL migration 7), so any node takes
//! any chunk. The row is keyed by the SHA-256 of the upload's capability id (the id
//! itself is never stored), holds the declared length, the bytes received so far (the
//! offset is their length) and an expiry. Each append is a compare-and-swap on the
//! offset (PostgreSQL: one UPDATE whose condition is the offset; SQLite: one IMMEDIATE
//! transaction); the submit that uses a finished upload deletes it
//! in the transaction that inserts the enrollment (one upload, one enrollment), and a
//! "Lupa PIN" request that uses one deletes it in the transaction that opens the reset
//! (one upload, one reset request).

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
    /// Creates an upload `key` (a hash of its id) of `length` bytes, empty.
    fn upload_create(
        &self,
        key: &str,
        length: u64,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// The upload `key` if it exists and has not expired at `now`.
    fn upload_info(&self, key: &str, now: DateTime<Utc>) -> StoreResult<Option<UploadInfo>>;
    /// Appends `chunk` at `offset`, one transaction with the row locked.
    fn upload_append(
        &self,
        key: &str,
        offset: u64,
        chunk: &[u8],
        now: DateTime<Utc>,
    ) -> StoreResult<Append>;
    /// The bytes of a finished (offset = length), unexpired upload.
    fn upload_data(&self, key: &str, now: DateTime<Utc>) -> StoreResult<Option<Vec<u8>>>;
    /// Inserts `e` (and its queued face check) and deletes the finished upload `key`,
    /// one transaction; false (nothing written) when the upload is no longer there,
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

impl UploadStore for SqliteStore {
    fn upload_create(
        &self,
        key: &str,
        length: u64,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.conn().execute(
            "INSERT INTO uploads (key, length, data, created_at, expires_at) VALUES (?1, ?2, x'', ?3, ?4)",
            params![key, i64_of(length), ms(now), ms(expires_at)],
        )?;
        Ok(())
    }

    fn upload_info(&self, key: &str, now: DateTime<Utc>) -> StoreResult<Option<UploadInfo>> {
        let row: Option<(i64, i64, i64)> = self
            .conn()
            .query_row(
                "SELECT length, length(data), expires_at FROM uploads WHERE key = ?1 AND expires_at > ?2",
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
        let row: Option<(i64, Vec<u8>, i64)> = tx
            .query_row(
                "SELECT length, data, expires_at FROM uploads WHERE key = ?1 AND expires_at > ?2",
                params![key, ms(now)],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let Some((length, mut data, expires)) = row else {
            return Ok(Append::Gone);
        };
        let stored = data.len() as u64;
        if stored != offset {
            return Ok(Append::OffsetMismatch(stored));
        }
        if stored + chunk.len() as u64 > u64_of(length) {
            return Ok(Append::TooLong);
        }
        data.extend_from_slice(chunk);
        tx.execute(
            "UPDATE uploads SET data = ?2 WHERE key = ?1",
            params![key, data],
        )?;
        tx.commit()?;
        Ok(Append::Appended(UploadInfo {
            length: u64_of(length),
            offset: data.len() as u64,
            expires_at: from_ms(expires),
        }))
    }

    fn upload_data(&self, key: &str, now: DateTime<Utc>) -> StoreResult<Option<Vec<u8>>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT data FROM uploads WHERE key = ?1 AND expires_at > ?2 AND length(data) = length",
                params![key, ms(now)],
                |r| r.get(0),
            )
            .optional()?)
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
            if !use_up_sqlite(&tx, key, now)? {
                return Ok(false);
            }
            Self::write_enrollment(&tx, e, true)?;
            if let Err(err) = tx.commit() {
                e.rev.set(0);
                return Err(err.into());
            }
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
            if !use_up_sqlite(&tx, key, now)? {
                return Ok(None);
            }
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

/// Deletes upload `key` if it is finished and not expired, in the caller's
/// transaction: whether it was there to use.
fn use_up_sqlite(
    tx: &rusqlite::Transaction<'_>,
    key: &str,
    now: DateTime<Utc>,
) -> rusqlite::Result<bool> {
    let n = tx.execute(
        "DELETE FROM uploads WHERE key = ?1 AND expires_at > ?2 AND length(data) = length",
        params![key, ms(now)],
    )?;
    Ok(n == 1)
}

/// [`use_up_sqlite`] on PostgreSQL.
async fn use_up_pg<C: deadpool_postgres::GenericClient>(
    tx: &C,
    key: &str,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let n = tx
        .execute(
            &tx.prepare_cached(
                "DELETE FROM uploads WHERE key = $1 AND expires_at > $2 \
                 AND octet_length(data) = length",
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
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let key = key.to_owned();
        self.run(move |pool| async move {
            let c = pool.get().await.map_err(super::postgres::pool_err)?;
            c.execute(
                &c.prepare_cached(
                    "INSERT INTO uploads (key, length, data, created_at, expires_at) \
                     VALUES ($1, $2, ''::bytea, $3, $4)",
                )
                .await?,
                &[&key, &i64_of(length), &now, &expires_at],
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
                        "SELECT length, octet_length(data)::BIGINT, expires_at FROM uploads \
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
            // it on the row that append wrote, READ COMMITTED), so no transaction with
            // the row locked across round trips (was 4 statements a chunk).
            let appended = c
                .query_opt(
                    &c.prepare_cached(
                        "UPDATE uploads SET data = data || $3 \
                         WHERE key = $1 AND expires_at > $2 \
                         AND octet_length(data)::BIGINT = $4::BIGINT \
                         AND $5::BIGINT <= length - $4::BIGINT \
                         RETURNING length, octet_length(data)::BIGINT, expires_at",
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
            // Refused: why. The stored bytes only grow and the length never changes,
            // so what this read finds explains the refusal.
            let row = c
                .query_opt(
                    &c.prepare_cached(
                        "SELECT length, octet_length(data)::BIGINT FROM uploads \
                         WHERE key = $1 AND expires_at > $2",
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
                        "SELECT data FROM uploads WHERE key = $1 AND expires_at > $2 \
                         AND octet_length(data) = length",
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
            let mut c = pool.get().await.map_err(super::postgres::pool_err)?;
            let tx = c.transaction().await?;
            if !use_up_pg(&tx, &key, now).await? {
                return Ok(None);
            }
            super::postgres::write_enrollment(&tx, &e2, true).await?;
            tx.commit().await?;
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
        s.upload_create("k", 5, now, exp).unwrap();
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
