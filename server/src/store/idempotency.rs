//! Stored answers of state-changing requests by `Idempotency-Key`
//! ([`IdempotencyStore`], table `idempotency`), kept 24 h: the same key and body get
//! the first answer again; the same key with another body is refused.
//! [`crate::idempotency`] is the HTTP side. Both stores implement it (SQLite
//! migration 8, PostgreSQL migration 3).

use super::sqlite::SqliteStore;
use super::StoreResult;
use chrono::{DateTime, Duration, Utc};
use rusqlite::{params, OptionalExtension};

/// How long an answer is kept.
pub const KEEP: Duration = Duration::hours(24);
/// A claimed key with no answer after this long is taken as abandoned (the node died
/// between the claim and the answer) and may be claimed again.
pub const ABANDONED_AFTER: Duration = Duration::seconds(60);

/// What a claim of a key found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdemClaim {
    /// Unused (or expired, or abandoned): claimed now; run the request, then
    /// [`IdempotencyStore::idem_finish`] or [`IdempotencyStore::idem_release`].
    New,
    /// Answered before for the same body: this status and (sealed) answer.
    Replay { status: u16, sealed: Vec<u8> },
    /// Used with another body.
    Mismatch,
    /// Claimed by a request still running.
    InProgress,
}

pub trait IdempotencyStore {
    /// Claims `scope` (a hash of method, path and key) for the request `fingerprint`,
    /// one transaction; also drops answers older than [`KEEP`].
    fn idem_claim(
        &self,
        scope: &str,
        fingerprint: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<IdemClaim>;
    /// Stores the answer of a claimed scope.
    fn idem_finish(&self, scope: &str, status: u16, sealed: &[u8]) -> StoreResult<()>;
    /// Drops a claim whose request gave no answer worth keeping (a 5xx, a 429).
    fn idem_release(&self, scope: &str) -> StoreResult<()>;
}

/// fingerprint, status, answer, created_at
type Row = (String, Option<u16>, Option<Vec<u8>>, String);

impl IdempotencyStore for SqliteStore {
    fn idem_claim(
        &self,
        scope: &str,
        fingerprint: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<IdemClaim> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.execute(
            "DELETE FROM idempotency WHERE created_at < ?1",
            [(now - KEEP).to_rfc3339()],
        )?;
        let row: Option<Row> = tx
            .query_row(
                "SELECT fingerprint, status, answer, created_at FROM idempotency WHERE scope = ?1",
                [scope],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        let claim = match row {
            Some((fp, _, _, _)) if fp != fingerprint => IdemClaim::Mismatch,
            Some((_, Some(status), answer, _)) => IdemClaim::Replay {
                status,
                sealed: answer.unwrap_or_default(),
            },
            Some((_, None, _, created)) => {
                let abandoned = DateTime::parse_from_rfc3339(&created)
                    .map(|t| t.with_timezone(&Utc) < now - ABANDONED_AFTER)
                    .unwrap_or(true);
                if abandoned {
                    tx.execute(
                        "UPDATE idempotency SET created_at = ?2 WHERE scope = ?1",
                        params![scope, now.to_rfc3339()],
                    )?;
                    IdemClaim::New
                } else {
                    IdemClaim::InProgress
                }
            }
            None => {
                tx.execute(
                    "INSERT INTO idempotency (scope, fingerprint, created_at) VALUES (?1, ?2, ?3)",
                    params![scope, fingerprint, now.to_rfc3339()],
                )?;
                IdemClaim::New
            }
        };
        tx.commit()?;
        Ok(claim)
    }

    fn idem_finish(&self, scope: &str, status: u16, sealed: &[u8]) -> StoreResult<()> {
        self.conn().execute(
            "UPDATE idempotency SET status = ?2, answer = ?3 WHERE scope = ?1",
            params![scope, status, sealed],
        )?;
        Ok(())
    }

    fn idem_release(&self, scope: &str) -> StoreResult<()> {
        self.conn()
            .execute("DELETE FROM idempotency WHERE scope = ?1", [scope])?;
        Ok(())
    }
}

impl IdempotencyStore for super::PgStore {
    fn idem_claim(
        &self,
        scope: &str,
        fingerprint: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<IdemClaim> {
        let (scope, fingerprint) = (scope.to_owned(), fingerprint.to_owned());
        self.run(move |pool| async move {
            let mut c = pool.get().await.map_err(super::postgres::pool_err)?;
            let tx = c.transaction().await?;
            tx.execute(
                &tx.prepare_cached("DELETE FROM idempotency WHERE created_at < $1").await?,
                &[&(now - KEEP)],
            )
            .await?;
            // One statement: of two nodes claiming the same key, one inserts it.
            let inserted = tx
                .execute(
                    &tx.prepare_cached("INSERT INTO idempotency (scope, fingerprint, created_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (scope) DO NOTHING").await?,
                    &[&scope, &fingerprint, &now],
                )
                .await?;
            if inserted == 1 {
                tx.commit().await?;
                return Ok(IdemClaim::New);
            }
            let row = tx
                .query_one(
                    &tx.prepare_cached("SELECT fingerprint, status, answer, created_at FROM idempotency \
                     WHERE scope = $1 FOR UPDATE").await?,
                    &[&scope],
                )
                .await?;
            let fp: String = row.get(0);
            let status: Option<i32> = row.get(1);
            let answer: Option<Vec<u8>> = row.get(2);
            let created: DateTime<Utc> = row.get(3);
            let claim = if fp != fingerprint {
                IdemClaim::Mismatch
            } else if let Some(status) = status {
                IdemClaim::Replay {
                    status: u16::try_from(status).unwrap_or(500),
                    sealed: answer.unwrap_or_default(),
                }
            } else if created < now - ABANDONED_AFTER {
                tx.execute(
                    &tx.prepare_cached("UPDATE idempotency SET created_at = $2 WHERE scope = $1").await?,
                    &[&scope, &now],
                )
                .await?;
                IdemClaim::New
            } else {
                IdemClaim::InProgress
            };
            tx.commit().await?;
            Ok(claim)
        })
    }

    fn idem_finish(&self, scope: &str, status: u16, sealed: &[u8]) -> StoreResult<()> {
        let (scope, sealed) = (scope.to_owned(), sealed.to_vec());
        self.run(move |pool| async move {
            let c = pool.get().await.map_err(super::postgres::pool_err)?;
            c.execute(
                &c.prepare_cached(
                    "UPDATE idempotency SET status = $2, answer = $3 WHERE scope = $1",
                )
                .await?,
                &[&scope, &i32::from(status), &sealed],
            )
            .await?;
            Ok(())
        })
    }

    fn idem_release(&self, scope: &str) -> StoreResult<()> {
        let scope = scope.to_owned();
        self.run(move |pool| async move {
            let c = pool.get().await.map_err(super::postgres::pool_err)?;
            c.execute(
                &c.prepare_cached("DELETE FROM idempotency WHERE scope = $1")
                    .await?,
                &[&scope],
            )
            .await?;
            Ok(())
        })
    }
}
