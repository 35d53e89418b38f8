//! The claim-with-a-lease step shared by the store's work queues: the mail queue
//! (`outbox`, [`super::outbox`]) and the face checks (`face_checks`,
//! [`super::facequeue`]).
//!
//! A queue table has `id` (its key), `status` (`pending`, the queue's busy state,
//! then its own end states), `attempts`, `next_at` (when due) and `claim`. A claim
//! takes due rows (`pending`, or busy with the lease run out) under a random token:
//! busy, `attempts` + 1, `next_at` moved to the lease's end (so the rows of a node that
//! died are due again then). PostgreSQL claims with `FOR UPDATE SKIP LOCKED` (nodes
//! claiming at once get different rows); SQLite inside the caller's `BEGIN IMMEDIATE`
//! transaction (one writer at a time). The caller records each outcome under its
//! token (`WHERE id = .. AND claim = ..`), so a claim lost to another node changes
//! nothing.

use super::StoreResult;
use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use rusqlite::{params, Connection};

/// One queue table and its busy state.
#[derive(Debug, Clone, Copy)]
pub struct Queue {
    pub table: &'static str,
    /// The status of a claimed row (`sending`, `checking`).
    pub busy: &'static str,
}

/// The claim's limits.
#[derive(Debug, Clone, Copy)]
pub struct Lease {
    pub claim_end: DateTime<Utc>,
    /// Rows with this many attempts are not claimed again.
    pub max_attempts: u32,
    pub limit: usize,
}

impl Queue {
    /// SQLite: claims the due rows, inside the caller's transaction; `cols` are read
    /// before the claim (so `attempts` in them is the count before this one) and
    /// mapped by `map`.
    pub fn claim_sqlite<T>(
        &self,
        tx: &Connection,
        cols: &str,
        claim: &str,
        now: DateTime<Utc>,
        lease: &Lease,
        mut map: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> StoreResult<Vec<(i64, T)>> {
        let rows: Vec<(i64, T)> = {
            let mut stmt = tx.prepare_cached(&format!(
                "SELECT id, {cols} FROM {t}
                 WHERE status IN ('pending', '{b}') AND next_at <= ?1 AND attempts < ?2
                 ORDER BY next_at LIMIT ?3",
                t = self.table,
                b = self.busy
            ))?;
            let it = stmt.query_map(
                params![
                    now.timestamp_millis(),
                    lease.max_attempts,
                    lease.limit as i64
                ],
                |r| Ok((r.get(0)?, map(r)?)),
            )?;
            it.collect::<Result<_, _>>()?
        };
        let mut stmt = tx.prepare_cached(&format!(
            "UPDATE {t} SET status = '{b}', attempts = attempts + 1, next_at = ?2, claim = ?3
             WHERE id = ?1",
            t = self.table,
            b = self.busy
        ))?;
        for (id, _) in &rows {
            stmt.execute(params![id, lease.claim_end.timestamp_millis(), claim])?;
        }
        Ok(rows)
    }

    /// PostgreSQL: claims the due rows (`FOR UPDATE SKIP LOCKED`) and returns `cols`
    /// of each (after the claim: `attempts` counts this one).
    pub async fn claim_pg<C: GenericClient>(
        &self,
        c: &C,
        cols: &str,
        claim: &str,
        now: DateTime<Utc>,
        lease: &Lease,
    ) -> StoreResult<Vec<tokio_postgres::Row>> {
        let max = i32::try_from(lease.max_attempts).unwrap_or(i32::MAX);
        let limit = i64::try_from(lease.limit).unwrap_or(i64::MAX);
        let sql = format!(
            "UPDATE {t} SET status = '{b}', attempts = attempts + 1, next_at = $4, claim = $5
             WHERE id IN (
               SELECT id FROM {t}
               WHERE status IN ('pending', '{b}') AND next_at <= $1 AND attempts < $2
               ORDER BY next_at LIMIT $3
               FOR UPDATE SKIP LOCKED)
             RETURNING {cols}",
            t = self.table,
            b = self.busy
        );
        Ok(c.query(
            &c.prepare_cached(&sql).await?,
            &[&now, &max, &limit, &lease.claim_end, &claim],
        )
        .await?)
    }
}
