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
    /// atomically; an answer older than [`KEEP`] counts as none.
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
    /// Drops the answers stored before `before` (housekeeping off the request path:
    /// [`crate::state::spawn_pruning`]); how many.
    fn idem_prune(&self, before: DateTime<Utc>) -> StoreResult<usize>;
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

    fn idem_prune(&self, before: DateTime<Utc>) -> StoreResult<usize> {
        Ok(self.conn().execute(
            "DELETE FROM idempotency WHERE created_at < ?1",
            [before.to_rfc3339()],
        )?)
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
            let c = pool.get().await.map_err(super::postgres::pool_err)?;
            // The common case in one statement, no transaction: an unused key is
            // inserted; a row past KEEP (not yet pruned) or a claim of the same request
            // abandoned ABANDONED_AFTER ago is taken over. Of two nodes claiming the
            // same key at once, one wins (the row lock of the upsert).
            let claim = c.prepare_cached(
                "INSERT INTO idempotency AS i (scope, fingerprint, created_at) VALUES ($1, $2, $3)
                 ON CONFLICT (scope) DO UPDATE SET fingerprint = excluded.fingerprint,
                   status = NULL, answer = NULL, created_at = excluded.created_at
                 WHERE i.created_at < $4
                   OR (i.status IS NULL AND i.fingerprint = excluded.fingerprint AND i.created_at < $5)
                 RETURNING 1",
            )
            .await?;
            let look = c
                .prepare_cached(
                    "SELECT fingerprint, status, answer FROM idempotency WHERE scope = $1",
                )
                .await?;
            // A row released between the two statements: claim again (bounded).
            for _ in 0..3 {
                let won = c
                    .query_opt(
                        &claim,
                        &[&scope, &fingerprint, &now, &(now - KEEP), &(now - ABANDONED_AFTER)],
                    )
                    .await?
                    .is_some();
                if won {
                    return Ok(IdemClaim::New);
                }
                // Kept: answered, another body's, or still running.
                let Some(row) = c.query_opt(&look, &[&scope]).await? else {
                    continue;
                };
                let fp: String = row.try_get(0)?;
                let status: Option<i32> = row.try_get(1)?;
                let answer: Option<Vec<u8>> = row.try_get(2)?;
                return Ok(if fp != fingerprint {
                    IdemClaim::Mismatch
                } else if let Some(status) = status {
                    IdemClaim::Replay {
                        status: u16::try_from(status).unwrap_or(500),
                        sealed: answer.unwrap_or_default(),
                    }
                } else {
                    IdemClaim::InProgress
                });
            }
            Ok(IdemClaim::InProgress)
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

    fn idem_prune(&self, before: DateTime<Utc>) -> StoreResult<usize> {
        self.run(move |pool| async move {
            let c = pool.get().await.map_err(super::postgres::pool_err)?;
            let n = c
                .execute(
                    &c.prepare_cached("DELETE FROM idempotency WHERE created_at < $1")
                        .await?,
                    &[&before],
                )
                .await?;
            Ok(n as usize)
        })
    }
}
