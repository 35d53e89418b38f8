//! The face-check queue: table `face_checks` (SQLite migration 11, PostgreSQL
//! migration 6), worked by [`crate::facework`] on every node.
//!
//! The rule lives in one place: **every write of an enrollment whose record says a
//! check is pending ([`crate::face::FaceCheck::Pending`], the enrollment's selfie or
//! its PIN reset's) queues that check in the same transaction** (`write_enrollment`
//! calls [`queue_sqlite`] / [`queue_pg`]; an existing row is left alone unless it is
//! `done`, which a new PIN reset's selfie re-queues). So a pending verdict always has
//! a row, whatever path wrote it.
//!
//! A row's life: `pending` → claimed ([`super::lease`]): `checking`, `attempts` + 1,
//! a lease → `done`, in the same transaction as the verdict written into the
//! enrollment ([`FaceQueueStore::finish_face_check`], under the claim token and the
//! enrollment's revision). A node that dies mid-check leaves the row due again when
//! the lease ends.

use super::lease::{Lease, Queue};
use super::postgres::{pool_err, PgStore};
use super::sqlite::SqliteStore;
use super::{Enrollment, StoreError, StoreResult};
use crate::face::FaceCheck;
use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use rusqlite::{params, Connection, TransactionBehavior};

/// Which selfie of an enrollment a check is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FacePurpose {
    /// The enrollment's selfie (submit).
    Enrollment,
    /// The selfie of the PIN reset under way.
    PinReset,
}

impl FacePurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Enrollment => "enrollment",
            Self::PinReset => "pin_reset",
        }
    }

    fn parse(s: &str) -> StoreResult<Self> {
        match s {
            "enrollment" => Ok(Self::Enrollment),
            "pin_reset" => Ok(Self::PinReset),
            other => Err(StoreError::Corrupt(format!("face check purpose {other}"))),
        }
    }

    /// The checks `e`'s record says are pending.
    pub fn pending_in(e: &Enrollment) -> impl Iterator<Item = FacePurpose> {
        let own = e.face == Some(FaceCheck::Pending);
        let reset = e.pin_reset.as_ref().and_then(|r| r.face) == Some(FaceCheck::Pending);
        [(own, Self::Enrollment), (reset, Self::PinReset)]
            .into_iter()
            .filter_map(|(p, w)| p.then_some(w))
    }
}

/// A row a worker claimed: check it, then [`FaceQueueStore::finish_face_check`]
/// under `claim`.
#[derive(Debug, Clone)]
pub struct ClaimedFaceCheck {
    pub id: i64,
    pub claim: String,
    pub enrollment_id: String,
    pub purpose: FacePurpose,
    /// Attempts so far, this one included.
    pub attempts: u32,
}

/// The checks not done yet: an operator's view of whether the face workers keep up
/// ([`crate::facework`] logs it when they fall behind).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FaceBacklog {
    /// Rows `pending` or `checking`.
    pub waiting: u64,
    /// When the oldest `pending` row became due (none: nothing waits unclaimed).
    pub oldest_due: Option<DateTime<Utc>>,
}

/// One row as stored (tests, the load bench).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaceCheckRow {
    pub enrollment_id: String,
    pub purpose: String,
    pub status: String,
    pub attempts: u32,
}

pub const FACE_CHECKS: Queue = Queue {
    table: "face_checks",
    busy: "checking",
};

pub trait FaceQueueStore {
    /// Claims up to `lease.limit` due checks under the token `claim`, one
    /// transaction ([`super::lease`]).
    fn claim_face_checks(
        &self,
        claim: &str,
        now: DateTime<Utc>,
        lease: &Lease,
    ) -> StoreResult<Vec<ClaimedFaceCheck>>;
    /// Marks the claimed row `id` done and writes `e` (carrying the verdict; a
    /// compare-and-swap on its revision), one transaction. `Ok(false)`: the claim was
    /// lost (nothing written); [`StoreError::Conflict`]: `e` changed meanwhile
    /// (nothing written; read it again). `e` is `None` when the enrollment is gone.
    fn finish_face_check(&self, id: i64, claim: &str, e: Option<&Enrollment>) -> StoreResult<bool>;
    /// Every row, oldest first.
    fn face_check_rows(&self) -> StoreResult<Vec<FaceCheckRow>>;
    /// How many checks wait, and since when the oldest unclaimed one.
    fn face_backlog(&self) -> StoreResult<FaceBacklog>;
    /// Notified after a commit that queued a check on this store (this node's worker
    /// waits on it; other nodes' rows are found by polling).
    fn face_wakeup(&self) -> std::sync::Arc<tokio::sync::Notify>;
}

/// Queues `e`'s pending checks on the SQLite connection (inside the caller's write).
pub fn queue_sqlite(conn: &Connection, e: &Enrollment, now: DateTime<Utc>) -> StoreResult<bool> {
    let mut any = false;
    for p in FacePurpose::pending_in(e) {
        conn.prepare_cached(
            "INSERT INTO face_checks (enrollment_id, purpose, status, attempts, next_at)
             VALUES (?1, ?2, 'pending', 0, ?3)
             ON CONFLICT (enrollment_id, purpose) DO UPDATE
               SET status = 'pending', attempts = 0, next_at = excluded.next_at, claim = NULL
               WHERE face_checks.status = 'done'",
        )?
        .execute(params![e.id, p.as_str(), now.timestamp_millis()])?;
        any = true;
    }
    Ok(any)
}

/// Queues `e`'s pending checks on PostgreSQL (inside the caller's write).
pub async fn queue_pg<C: GenericClient>(
    c: &C,
    e: &Enrollment,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let mut any = false;
    for p in FacePurpose::pending_in(e) {
        c.execute(
            &c.prepare_cached(
                "INSERT INTO face_checks (enrollment_id, purpose, status, attempts, next_at)
             VALUES ($1, $2, 'pending', 0, $3)
             ON CONFLICT (enrollment_id, purpose) DO UPDATE
               SET status = 'pending', attempts = 0, next_at = EXCLUDED.next_at, claim = NULL
               WHERE face_checks.status = 'done'",
            )
            .await?,
            &[&e.id, &p.as_str(), &now],
        )
        .await?;
        any = true;
    }
    Ok(any)
}

impl FaceQueueStore for SqliteStore {
    fn claim_face_checks(
        &self,
        claim: &str,
        now: DateTime<Utc>,
        lease: &Lease,
    ) -> StoreResult<Vec<ClaimedFaceCheck>> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let rows = FACE_CHECKS.claim_sqlite(
            &tx,
            "enrollment_id, purpose, attempts",
            claim,
            now,
            lease,
            |r| {
                Ok((
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, u32>(3)?,
                ))
            },
        )?;
        tx.commit()?;
        rows.into_iter()
            .map(|(id, (enrollment_id, purpose, attempts))| {
                Ok(ClaimedFaceCheck {
                    id,
                    claim: claim.to_owned(),
                    enrollment_id,
                    purpose: FacePurpose::parse(&purpose)?,
                    attempts: attempts + 1,
                })
            })
            .collect()
    }

    fn finish_face_check(&self, id: i64, claim: &str, e: Option<&Enrollment>) -> StoreResult<bool> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        // The enrollment first, then the queue row: the order every other write of a
        // pending enrollment takes (no deadlock on PostgreSQL; the same here).
        let rev = e.map(|e| e.rev.get());
        let restore = || {
            if let (Some(e), Some(rev)) = (e, rev) {
                e.rev.set(rev);
            }
        };
        if let Some(e) = e {
            SqliteStore::write_enrollment(&tx, e, false).inspect_err(|_| restore())?;
        }
        let n = tx
            .execute(
                "UPDATE face_checks SET status = 'done', claim = NULL
                 WHERE id = ?1 AND claim = ?2 AND status = 'checking'",
                params![id, claim],
            )
            .inspect_err(|_| restore())?;
        if n == 0 {
            // The claim was lost: nothing is written (the transaction rolls back).
            restore();
            return Ok(false);
        }
        tx.commit().inspect_err(|_| restore())?;
        Ok(true)
    }

    fn face_check_rows(&self) -> StoreResult<Vec<FaceCheckRow>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT enrollment_id, purpose, status, attempts FROM face_checks ORDER BY id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(FaceCheckRow {
                enrollment_id: r.get(0)?,
                purpose: r.get(1)?,
                status: r.get(2)?,
                attempts: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn face_backlog(&self) -> StoreResult<FaceBacklog> {
        let conn = self.conn();
        let (waiting, oldest): (i64, Option<i64>) = conn
            .prepare_cached(
                "SELECT COUNT(*), MIN(CASE WHEN status = 'pending' THEN next_at END)
                 FROM face_checks WHERE status IN ('pending', 'checking')",
            )?
            .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(FaceBacklog {
            waiting: u64::try_from(waiting).unwrap_or_default(),
            oldest_due: oldest.and_then(DateTime::from_timestamp_millis),
        })
    }

    fn face_wakeup(&self) -> std::sync::Arc<tokio::sync::Notify> {
        self.face_wake.clone()
    }
}

impl FaceQueueStore for PgStore {
    fn claim_face_checks(
        &self,
        claim: &str,
        now: DateTime<Utc>,
        lease: &Lease,
    ) -> StoreResult<Vec<ClaimedFaceCheck>> {
        let claim = claim.to_owned();
        let lease = *lease;
        self.run(move |pool| async move {
            let mut c = pool.get().await.map_err(pool_err)?;
            let tx = c.transaction().await?;
            let rows = FACE_CHECKS
                .claim_pg(
                    &tx,
                    "id, enrollment_id, purpose, attempts",
                    &claim,
                    now,
                    &lease,
                )
                .await?;
            tx.commit().await?;
            rows.into_iter()
                .map(|r| {
                    let attempts: i32 = r.try_get(3)?;
                    let purpose: String = r.try_get(2)?;
                    Ok(ClaimedFaceCheck {
                        id: r.try_get(0)?,
                        claim: claim.clone(),
                        enrollment_id: r.try_get(1)?,
                        purpose: FacePurpose::parse(&purpose)?,
                        attempts: u32::try_from(attempts).unwrap_or(0),
                    })
                })
                .collect()
        })
    }

    fn finish_face_check(&self, id: i64, claim: &str, e: Option<&Enrollment>) -> StoreResult<bool> {
        let claim = claim.to_owned();
        let e2 = e.cloned();
        let done = self.run(move |pool| async move {
            let mut c = pool.get().await.map_err(pool_err)?;
            let tx = c.transaction().await?;
            // The enrollment first, then the queue row: the order of every other write
            // of a pending enrollment (which upserts its row), so the two never
            // deadlock.
            if let Some(e2) = &e2 {
                super::postgres::write_enrollment(&tx, e2, false).await?;
            }
            let n = tx
                .execute(
                    &tx.prepare_cached(
                        "UPDATE face_checks SET status = 'done', claim = NULL
                     WHERE id = $1 AND claim = $2 AND status = 'checking'",
                    )
                    .await?,
                    &[&id, &claim],
                )
                .await?;
            if n == 0 {
                // The claim was lost: rolled back, nothing written.
                return Ok(None);
            }
            tx.commit().await?;
            Ok(Some(e2.map(|e| e.rev.get())))
        })?;
        match done {
            None => Ok(false),
            Some(rev) => {
                if let (Some(e), Some(rev)) = (e, rev) {
                    e.rev.set(rev);
                }
                Ok(true)
            }
        }
    }

    fn face_check_rows(&self) -> StoreResult<Vec<FaceCheckRow>> {
        self.run(|pool| async move {
            let c = pool.get().await.map_err(pool_err)?;
            let rows = c
                .query(
                    &c.prepare_cached("SELECT enrollment_id, purpose, status, attempts FROM face_checks ORDER BY id").await?,
                    &[],
                )
                .await?;
            rows.into_iter()
                .map(|r| {
                    let attempts: i32 = r.try_get(3)?;
                    Ok(FaceCheckRow {
                        enrollment_id: r.try_get(0)?,
                        purpose: r.try_get(1)?,
                        status: r.try_get(2)?,
                        attempts: u32::try_from(attempts).unwrap_or(0),
                    })
                })
                .collect()
        })
    }

    fn face_backlog(&self) -> StoreResult<FaceBacklog> {
        self.run(|pool| async move {
            let c = pool.get().await.map_err(pool_err)?;
            let r = c
                .query_one(
                    &c.prepare_cached(
                        "SELECT COUNT(*), MIN(CASE WHEN status = 'pending' THEN next_at END)
                         FROM face_checks WHERE status IN ('pending', 'checking')",
                    )
                    .await?,
                    &[],
                )
                .await?;
            let waiting: i64 = r.try_get(0)?;
            Ok(FaceBacklog {
                waiting: u64::try_from(waiting).unwrap_or_default(),
                oldest_due: r.try_get(1)?,
            })
        })
    }

    fn face_wakeup(&self) -> std::sync::Arc<tokio::sync::Notify> {
        self.face_wake.clone()
    }
}
