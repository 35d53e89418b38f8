//! [`PgStore`]: the [`Store`] on PostgreSQL (tokio-postgres, pooled by deadpool-postgres),
//! for several stateless nodes sharing one database.
//!
//! The [`Store`] trait is synchronous (services run on tokio's blocking pool); this
//! store owns a small tokio runtime on which the pool's connections live, and each call
//! sends its future there and waits for the answer on a channel. So a call works from
//! any thread, in or out of an async context, and the connections never depend on the
//! caller's runtime.
//!
//! Isolation: READ COMMITTED, with the read-then-write steps made safe row by row:
//! `SELECT … FOR UPDATE` (rate-limit buckets, the desk QR, mail claims with
//! `SKIP LOCKED`), `INSERT … ON CONFLICT DO NOTHING` for the single-use rows (desk-QR
//! uses, status indexes, secrets), and the enrollment revision compare-and-swap.
//! Migrations run under a transaction-scoped advisory lock, so two nodes starting at
//! once apply them once.

use super::schema::PG_MIGRATIONS;
use super::{
    hubungan_order, CredentialRow, DeskQrRow, Device, DeviceBlock, DeviceStatus, Enrollment, Mail,
    Officer, Readiness, Resident, Store, StoreError, StoreResult, TokenKind, TokenRow,
};
use chrono::{DateTime, Utc};
use deadpool_postgres::{GenericClient, Manager, ManagerConfig, Pool, RecyclingMethod};
use ikd_proto::wire::{EnrollmentStatusWire, OutboxMail};
use serde::{Deserialize, Serialize};
use std::future::Future;
use tokio_postgres::NoTls;

/// Connections in the pool of one node, unless configured (`database_pool_size`): two
/// per core of the node, at least 2. A connection is a PostgreSQL backend, a process
/// that wants a core while it works; pipelined transactions keep each one busy, so more
/// connections than cores to run them add context switches, not throughput. On this
/// 2-core bench machine (node, PostgreSQL and the bench on the same cores), 16
/// connections cost about 10 to 15 % more machine CPU per resident than 4
/// (server/README.md, "Session 15"). Where PostgreSQL has cores of its own, size the
/// pools of all nodes together to about twice PostgreSQL's cores (deploy/README.md).
pub fn default_pool_size() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get() * 2)
        .unwrap_or(4)
        .max(2)
}
/// Advisory lock key of the migrations ("IKD" + 1).
const MIGRATION_LOCK: i64 = 0x494b_4401;

pub struct PgStore {
    pool: Pool,
    /// Woken after a commit that queued mail (`super::outbox`).
    pub(super) mail_wake: std::sync::Arc<tokio::sync::Notify>,
    /// Woken after a commit that queued a face check (`super::facequeue`).
    pub(super) face_wake: std::sync::Arc<tokio::sync::Notify>,
    /// Drives the pool's connections; `None` only while dropping.
    rt: Option<tokio::runtime::Runtime>,
    /// The most one call may take, waiting for a connection included.
    timeout: std::time::Duration,
}

impl Drop for PgStore {
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

fn status_str(s: EnrollmentStatusWire) -> &'static str {
    match s {
        EnrollmentStatusWire::Submitted => "submitted",
        EnrollmentStatusWire::Scanned => "scanned",
        EnrollmentStatusWire::Approved => "approved",
        EnrollmentStatusWire::Activated => "activated",
        EnrollmentStatusWire::Rejected => "rejected",
        EnrollmentStatusWire::Expired => "expired",
    }
}

fn to_json<T: Serialize>(v: &T) -> StoreResult<serde_json::Value> {
    serde_json::to_value(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn from_json<T: for<'de> Deserialize<'de>>(v: serde_json::Value) -> StoreResult<T> {
    serde_json::from_value(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}

pub(super) fn pool_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Pool(e.to_string())
}

fn idx_i64(idx: u64) -> StoreResult<i64> {
    i64::try_from(idx).map_err(|_| StoreError::Corrupt("idx".into()))
}

/// PostgreSQL text cannot hold NUL; no stored key has one, so a key with one (hostile
/// input) finds nothing.
fn unstorable(key: &str) -> bool {
    key.contains('\0')
}

fn kind_str(k: TokenKind) -> &'static str {
    match k {
        TokenKind::Access => "access",
        TokenKind::Refresh => "refresh",
    }
}

impl PgStore {
    /// Connects to `url` (`postgres://user@host:port/db`) and migrates, with the
    /// default [`super::STORE_TIMEOUT`].
    pub fn connect(url: &str) -> StoreResult<Self> {
        Self::connect_with(url, super::STORE_TIMEOUT)
    }

    /// [`Self::connect`], where one call (waiting for a pooled connection, connecting,
    /// the statements) may take at most `timeout`, then fails with
    /// [`StoreError::TimedOut`] (the API's 503): a database that is down, hung or cut
    /// off by the network never holds a request longer. The same bounds the pool's
    /// wait, a new connection (`connect_timeout`, unless the URL sets one) and an
    /// unacknowledged write on a connection (`tcp_user_timeout`, Linux, unless set);
    /// an idle pooled connection is probed after 60 s (TCP keepalive, unless set), so
    /// one to a host gone in a failover is found dead and replaced. The migrations at
    /// connect have no bound (a large table's may take long).
    pub fn connect_with(url: &str, timeout: std::time::Duration) -> StoreResult<Self> {
        Self::connect_upto_with(url, PG_MIGRATIONS.len(), timeout, default_pool_size())
    }

    /// [`Self::connect_with`] with a pool of `pool_size` connections (at least 1).
    pub fn connect_sized(
        url: &str,
        timeout: std::time::Duration,
        pool_size: usize,
    ) -> StoreResult<Self> {
        Self::connect_upto_with(url, PG_MIGRATIONS.len(), timeout, pool_size.max(1))
    }

    /// Connects and migrates to at most version `upto` (tests of the migrations).
    pub fn connect_upto(url: &str, upto: usize) -> StoreResult<Self> {
        Self::connect_upto_with(url, upto, super::STORE_TIMEOUT, default_pool_size())
    }

    fn connect_upto_with(
        url: &str,
        upto: usize,
        timeout: std::time::Duration,
        pool_size: usize,
    ) -> StoreResult<Self> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("ikd-pg")
            .enable_all()
            .build()
            .map_err(pool_err)?;
        let mut pg: tokio_postgres::Config = url.parse()?;
        if pg.get_connect_timeout().is_none() {
            pg.connect_timeout(timeout);
        }
        if pg.get_tcp_user_timeout().is_none() {
            pg.tcp_user_timeout(timeout);
        }
        // tokio-postgres's default idle time before a probe is 2 h.
        if pg.get_keepalives_idle() == std::time::Duration::from_secs(2 * 60 * 60) {
            pg.keepalives_idle(std::time::Duration::from_secs(60));
        }
        let mgr = Manager::from_config(
            pg,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(mgr)
            .max_size(pool_size)
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .wait_timeout(Some(timeout))
            .create_timeout(Some(timeout))
            .recycle_timeout(Some(timeout))
            .build()
            .map_err(pool_err)?;
        let store = Self {
            pool,
            mail_wake: Default::default(),
            face_wake: Default::default(),
            rt: Some(rt),
            timeout,
        };
        store.run_within(None, move |pool| async move { migrate(&pool, upto).await })?;
        Ok(store)
    }

    /// Runs `f`'s future on the store's runtime and waits for it.
    /// [`write_enrollment`] alone: one statement, or a transaction when the record
    /// says a face check is pending (the row and the queued check); wakes the face
    /// worker then.
    fn write_enrollment_alone(&self, e: &Enrollment, insert: bool) -> StoreResult<()> {
        let pending = super::FacePurpose::pending_in(e).next().is_some();
        let e2 = e.clone();
        let rev = self.run(move |pool| async move {
            let mut c = pool.get().await.map_err(pool_err)?;
            if pending {
                let tx = c.transaction().await?;
                write_enrollment(&tx, &e2, insert).await?;
                tx.commit().await?;
            } else {
                write_enrollment(&c, &e2, insert).await?;
            }
            Ok(e2.rev.get())
        })?;
        e.rev.set(rev);
        if pending {
            self.face_wake.notify_one();
        }
        Ok(())
    }

    pub(super) fn run<T, F, Fut>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(Pool) -> Fut,
        Fut: Future<Output = StoreResult<T>> + Send + 'static,
    {
        self.run_within(Some(self.timeout), f)
    }

    /// [`Self::run`] bounded by `limit` (None: unbounded). At the limit the call's
    /// future is dropped: a transaction in it is rolled back (or ends with its
    /// connection), and its connection goes back to the pool, or away if broken.
    fn run_within<T, F, Fut>(&self, limit: Option<std::time::Duration>, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(Pool) -> Fut,
        Fut: Future<Output = StoreResult<T>> + Send + 'static,
    {
        let rt = self
            .rt
            .as_ref()
            .ok_or_else(|| StoreError::Pool("store closed".into()))?;
        let fut = f(self.pool.clone());
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        rt.spawn(async move {
            let out = match limit {
                Some(d) => tokio::time::timeout(d, fut)
                    .await
                    .unwrap_or(Err(StoreError::TimedOut(d))),
                None => fut.await,
            };
            let _ = tx.send(out);
        });
        rx.recv()
            .map_err(|_| StoreError::Pool("store task ended".into()))?
    }
}

async fn migrate(pool: &Pool, upto: usize) -> StoreResult<()> {
    let mut c = pool.get().await.map_err(pool_err)?;
    let tx = c.transaction().await?;
    tx.execute(
        &tx.prepare_cached("SELECT pg_advisory_xact_lock($1)")
            .await?,
        &[&MIGRATION_LOCK],
    )
    .await?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL);
         INSERT INTO schema_version (version)
           SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM schema_version);",
    )
    .await?;
    let version: i64 = tx
        .query_one(
            &tx.prepare_cached("SELECT version FROM schema_version")
                .await?,
            &[],
        )
        .await?
        .get(0);
    for (i, m) in PG_MIGRATIONS.iter().enumerate().take(upto) {
        let v = i as i64 + 1;
        if v > version {
            tx.batch_execute(m).await?;
            tx.execute(
                &tx.prepare_cached("UPDATE schema_version SET version = $1")
                    .await?,
                &[&v],
            )
            .await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

pub(super) async fn write_enrollment<C: GenericClient>(
    c: &C,
    e: &Enrollment,
    insert: bool,
) -> StoreResult<()> {
    if !insert {
        return update_enrollment(c, e).await;
    }
    let data = to_json(e)?;
    c.execute(
        &c.prepare_cached("INSERT INTO enrollments (id, nik, status, desk_id, offer_hash, scanned_at, selfie, data, rev)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1)").await?,
        &[&e.id, &e.nik, &status_str(e.status), &e.desk_id, &e.offer_hash, &e.scanned_at, &e.selfie, &data],
    )
    .await?;
    e.rev.set(1);
    super::facequeue::queue_pg(c, e, Utc::now()).await?;
    Ok(())
}

/// Writes an existing enrollment: a compare-and-swap on its revision
/// ([`StoreError::Conflict`] when another write came first), then its face checks
/// queued. Its `UPDATE` is sent at the first poll (the statement is cached after a
/// connection's first use), so it can go in a pipelined batch (`tokio::try_join!`).
async fn update_enrollment<C: GenericClient>(c: &C, e: &Enrollment) -> StoreResult<()> {
    let data = to_json(e)?;
    let rev = e.rev.get();
    let n = c
        .execute(
            &c.prepare_cached(
                "UPDATE enrollments SET status = $2, desk_id = $3, offer_hash = $4, scanned_at = $5,
                   data = $6, rev = rev + 1
                 WHERE id = $1 AND rev = $7",
            )
            .await?,
            &[
                &e.id,
                &status_str(e.status),
                &e.desk_id,
                &e.offer_hash,
                &e.scanned_at,
                &data,
                &rev,
            ],
        )
        .await?;
    if n == 0 {
        return Err(StoreError::Conflict);
    }
    e.rev.set(rev + 1);
    super::facequeue::queue_pg(c, e, Utc::now()).await?;
    Ok(())
}

/// A statement's future with the store's error, to join with [`update_enrollment`].
async fn pg<T>(f: impl Future<Output = Result<T, tokio_postgres::Error>>) -> StoreResult<T> {
    Ok(f.await?)
}

/// Inserts `e` and its queued face checks with the finished upload `key`'s bytes as
/// its selfie, deleting the upload: false (nothing written) when the upload is gone,
/// unfinished or expired at `now`. One statement for all three (atomic without a
/// transaction around it, one round trip): the DELETE locks the upload's row (a
/// concurrent submit of the same upload waits, then finds it gone), the INSERT
/// assembles the chunks from the statement's snapshot, where the chunks the DELETE
/// cascades to are still visible, and the face checks are queued as
/// [`super::facequeue::queue_pg`] queues them.
pub(super) async fn insert_enrollment_using_upload<C: GenericClient>(
    c: &C,
    e: &Enrollment,
    key: &str,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let data = to_json(e)?;
    let purposes: Vec<&str> = super::FacePurpose::pending_in(e)
        .map(super::FacePurpose::as_str)
        .collect();
    let n: i64 = c
        .query_one(
            &c.prepare_cached(
                "WITH gone AS (DELETE FROM uploads WHERE key = $8 AND expires_at > $9 \
                   AND received = length RETURNING key), \
                 ins AS (INSERT INTO enrollments (id, nik, status, desk_id, offer_hash, scanned_at, selfie, data, rev) \
                   SELECT $1, $2, $3, $4, $5, $6, COALESCE((SELECT string_agg(u.data, ''::bytea \
                     ORDER BY u.off) FROM upload_chunks u WHERE u.key = gone.key), ''::bytea), $7, 1 \
                   FROM gone RETURNING id), \
                 q AS (INSERT INTO face_checks (enrollment_id, purpose, status, attempts, next_at) \
                   SELECT ins.id, p, 'pending', 0, $10 FROM ins, unnest($11::text[]) AS p \
                   ON CONFLICT (enrollment_id, purpose) DO UPDATE \
                     SET status = 'pending', attempts = 0, next_at = EXCLUDED.next_at, claim = NULL \
                     WHERE face_checks.status = 'done') \
                 SELECT count(*) FROM ins",
            )
            .await?,
            &[
                &e.id,
                &e.nik,
                &status_str(e.status),
                &e.desk_id,
                &e.offer_hash,
                &e.scanned_at,
                &data,
                &key,
                &now,
                &Utc::now(),
                &purposes,
            ],
        )
        .await?
        .try_get(0)?;
    if n == 0 {
        return Ok(false);
    }
    e.rev.set(1);
    Ok(true)
}

async fn read_enrollments<C: GenericClient>(
    c: &C,
    sql: &str,
    p: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> StoreResult<Vec<Enrollment>> {
    let rows = c.query(&c.prepare_cached(sql).await?, p).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let e: Enrollment = from_json(r.try_get(0)?)?;
        e.rev.set(r.try_get(1)?);
        out.push(e);
    }
    Ok(out)
}

async fn insert_token<C: GenericClient>(c: &C, t: &TokenRow) -> StoreResult<()> {
    c.execute(
        &c.prepare_cached("INSERT INTO tokens (hash, kind, device_thumb, nik, enrollment_id, expires_at, dpop_jkt)
         VALUES ($1, $2, $3, $4, $5, $6, $7)").await?,
        &[
            &t.hash,
            &kind_str(t.kind),
            &t.device_thumb,
            &t.nik,
            &t.enrollment_id,
            &t.expires_at,
            &t.dpop_jkt,
        ],
    )
    .await?;
    Ok(())
}

/// An officer from `SELECT username, password_hash, desk_id, desk_name`.
fn officer_of_row(r: &tokio_postgres::Row) -> StoreResult<Officer> {
    Ok(Officer {
        username: r.try_get(0)?,
        password_hash: r.try_get(1)?,
        desk_id: r.try_get(2)?,
        desk_name: r.try_get(3)?,
    })
}

/// Several tokens in one statement ([`TokenColumns`]).
const INSERT_TOKENS: &str = "INSERT INTO tokens (hash, kind, device_thumb, nik, enrollment_id, expires_at, dpop_jkt)
 SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::text[])";

/// Token rows as columns, the parameters of [`INSERT_TOKENS`].
struct TokenColumns {
    hash: Vec<String>,
    kind: Vec<&'static str>,
    device_thumb: Vec<String>,
    nik: Vec<String>,
    enrollment_id: Vec<String>,
    expires_at: Vec<DateTime<Utc>>,
    dpop_jkt: Vec<Option<String>>,
}

impl TokenColumns {
    fn of(tokens: &[TokenRow]) -> Self {
        Self {
            hash: tokens.iter().map(|t| t.hash.clone()).collect(),
            kind: tokens.iter().map(|t| kind_str(t.kind)).collect(),
            device_thumb: tokens.iter().map(|t| t.device_thumb.clone()).collect(),
            nik: tokens.iter().map(|t| t.nik.clone()).collect(),
            enrollment_id: tokens.iter().map(|t| t.enrollment_id.clone()).collect(),
            expires_at: tokens.iter().map(|t| t.expires_at).collect(),
            dpop_jkt: tokens.iter().map(|t| t.dpop_jkt.clone()).collect(),
        }
    }

    fn params(&self) -> [&(dyn tokio_postgres::types::ToSql + Sync); 7] {
        [
            &self.hash,
            &self.kind,
            &self.device_thumb,
            &self.nik,
            &self.enrollment_id,
            &self.expires_at,
            &self.dpop_jkt,
        ]
    }
}

/// Sets the status entries of every credential of the devices matched by the
/// condition (on `devices`) to invalid.
const INVALIDATE_CREDENTIALS_OF: &str =
    "UPDATE credentials SET status = 1 WHERE status = 0 AND device_thumb IN (SELECT thumb FROM devices WHERE ";

impl Store for PgStore {
    fn take_rate_token(
        &self,
        key: &str,
        burst: u32,
        per_minute: u32,
        now: DateTime<Utc>,
    ) -> StoreResult<Result<(), u64>> {
        if unstorable(key) {
            return Ok(Err(1));
        }
        // A bucket without a row is full: its first request leaves burst - 1.
        let (fresh, first) = crate::ratelimit::take(f64::from(burst), now, burst, per_minute, now);
        if first.is_err() {
            return Ok(first);
        }
        let key = key.to_owned();
        self.run(move |pool| async move {
            let c = pool.get().await.map_err(pool_err)?;
            // One statement (the row lock is held inside PostgreSQL only, not across
            // round trips: a hot bucket, say one address behind a carrier's NAT, does
            // not queue its requests behind the network). `crate::ratelimit::take` in
            // SQL: refill by the whole milliseconds since `at` at `per_minute`, up to
            // `burst`, and take one if there is one. No row comes back when the bucket
            // was empty (the WHERE refuses the update): nothing taken.
            let taken = c
                .query_opt(
                    &c.prepare_cached(
                        "INSERT INTO rate_buckets AS b (key, tokens, at) VALUES ($1, $2, $3)
                         ON CONFLICT (key) DO UPDATE SET
                           tokens = LEAST(b.tokens + GREATEST(trunc(EXTRACT(EPOCH FROM ($3 - b.at)) * 1000), 0)::float8 / 1000.0 * $5, $4) - 1.0,
                           at = GREATEST($3, b.at)
                         WHERE LEAST(b.tokens + GREATEST(trunc(EXTRACT(EPOCH FROM ($3 - b.at)) * 1000), 0)::float8 / 1000.0 * $5, $4) >= 1.0
                         RETURNING 1",
                    )
                    .await?,
                    &[&key, &fresh, &now, &f64::from(burst), &(f64::from(per_minute.max(1)) / 60.0)],
                )
                .await?
                .is_some();
            if taken {
                return Ok(Ok(()));
            }
            // Empty: how long until it holds one again (a hint; the row as it is now).
            let row = c
                .query_opt(
                    &c.prepare_cached("SELECT tokens, at FROM rate_buckets WHERE key = $1")
                        .await?,
                    &[&key],
                )
                .await?;
            Ok(match row {
                Some(r) => {
                    let (tokens, at): (f64, DateTime<Utc>) = (r.try_get(0)?, r.try_get(1)?);
                    // Refilled meanwhile: still refused (another request may take it).
                    crate::ratelimit::take(tokens, at, burst, per_minute, now)
                        .1
                        .or(Err(1))
                }
                None => Err(1),
            })
        })
    }

    fn prune_rate_buckets(&self, before: DateTime<Utc>) -> StoreResult<usize> {
        self.run(move |pool| async move {
            let c = pool.get().await.map_err(pool_err)?;
            let n = c
                .execute(
                    &c.prepare_cached("DELETE FROM rate_buckets WHERE at < $1")
                        .await?,
                    &[&before],
                )
                .await?;
            Ok(n as usize)
        })
    }

    fn desk_qr(&self, candidate: &DeskQrRow, rotate_secs: i64) -> StoreResult<DeskQrRow> {
        let c = candidate.clone();
        self.run(move |pool| async move {
            let mut conn = pool.get().await.map_err(pool_err)?;
            let tx = conn.transaction().await?;
            tx.execute(
                &tx.prepare_cached("INSERT INTO desk_qrs (desk_id, desk_name, nonce, text, issued_at, expires_at, used)
                 VALUES ($1, $2, $3, $4, $5, $6, false) ON CONFLICT (desk_id) DO NOTHING").await?,
                &[&c.desk_id, &c.desk_name, &c.nonce, &c.text, &c.issued_at, &c.expires_at],
            )
            .await?;
            let r = tx
                .query_one(
                    &tx.prepare_cached("SELECT desk_id, desk_name, nonce, text, issued_at, expires_at, used FROM desk_qrs
                     WHERE desk_id = $1 FOR UPDATE").await?,
                    &[&c.desk_id],
                )
                .await?;
            let stored = DeskQrRow {
                desk_id: r.try_get(0)?,
                desk_name: r.try_get(1)?,
                nonce: r.try_get(2)?,
                text: r.try_get(3)?,
                issued_at: r.try_get(4)?,
                expires_at: r.try_get(5)?,
                used: r.try_get(6)?,
            };
            if stored.nonce == c.nonce
                || (stored.desk_name == c.desk_name && stored.still_shown(c.issued_at, rotate_secs))
            {
                tx.commit().await?;
                return Ok(stored);
            }
            tx.execute(
                &tx.prepare_cached("UPDATE desk_qrs SET desk_name = $2, nonce = $3, text = $4, issued_at = $5,
                   expires_at = $6, used = false WHERE desk_id = $1").await?,
                &[&c.desk_id, &c.desk_name, &c.nonce, &c.text, &c.issued_at, &c.expires_at],
            )
            .await?;
            tx.commit().await?;
            Ok(c)
        })
    }

    fn desk_name(&self, desk_id: &str) -> StoreResult<Option<String>> {
        if unstorable(desk_id) {
            return Ok(None);
        }
        let d = desk_id.to_owned();
        self.run(move |pool| async move {
            let c = pool.get().await.map_err(pool_err)?;
            let row = c
                .query_opt(
                    &c.prepare_cached("SELECT desk_name FROM desk_qrs WHERE desk_id = $1")
                        .await?,
                    &[&d],
                )
                .await?;
            Ok(row.map(|r| r.get(0)))
        })
    }

    fn backend(&self) -> &'static str {
        "postgres"
    }

    fn readiness(&self) -> StoreResult<Readiness> {
        let v = self.run(|pool| async move {
            let c = pool.get().await.map_err(pool_err)?;
            let v: i64 = c
                .query_one(
                    &c.prepare_cached("SELECT version FROM schema_version")
                        .await?,
                    &[],
                )
                .await?
                .get(0);
            Ok(v)
        })?;
        Ok(Readiness {
            schema_version: v,
            expected_version: PG_MIGRATIONS.len() as i64,
        })
    }

    fn resident_count(&self) -> StoreResult<usize> {
        self.run(|pool| async move {
            let c = pool.get().await.map_err(pool_err)?;
            let n: i64 = c
                .query_one(
                    &c.prepare_cached("SELECT COUNT(*) FROM residents").await?,
                    &[],
                )
                .await?
                .get(0);
            Ok(n as usize)
        })
    }

    fn insert_residents(&self, residents: &[Resident]) -> StoreResult<()> {
        let residents = residents.to_vec();
        self.run(|pool| async move {
            let mut c = pool.get().await.map_err(pool_err)?;
            let tx = c.transaction().await?;
            let stmt = tx
                .prepare(
                    "INSERT INTO residents (nik, kk, ord, data) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (nik) DO NOTHING",
                )
                .await?;
            for r in &residents {
                let ord = hubungan_order(&r.hubungan);
                tx.execute(&stmt, &[&r.nik, &r.kk, &ord, &to_json(r)?])
                    .await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    fn resident(&self, nik: &str) -> StoreResult<Option<Resident>> {
        if unstorable(nik) {
            return Ok(None);
        }
        let nik = nik.to_owned();
        self.run(|pool| async move {
            let c = pool.get().await.map_err(pool_err)?;
            let row = c
                .query_opt(
                    &c.prepare_cached("SELECT data FROM residents WHERE nik = $1")
                        .await?,
                    &[&nik],
                )
                .await?;
            row.map(|r| from_json(r.try_get(0)?)).transpose()
        })
    }

    fn family(&self, kk: &str) -> StoreResult<Vec<Resident>> {
        if unstorable(kk) {
            return Ok(Vec::new());
        }
        let kk = kk.to_owned();
        self.run(|pool| async move {
            let c = pool.get().await.map_err(pool_err)?;
            let rows = c
                .query(
                    &c.prepare_cached("SELECT data FROM residents WHERE kk = $1 ORDER BY ord, nik")
                        .await?,
                    &[&kk],
                )
                .await?;
            rows.into_iter().map(|r| from_json(r.try_get(0)?)).collect()
        })
    }

    fn insert_enrollment(&self, e: &Enrollment) -> StoreResult<()> {
        self.write_enrollment_alone(e, true)
    }

    fn resets_in_review(&self) -> StoreResult<Vec<Enrollment>> {
        self.run(|pool| async move {
            let c = pool.get().await.map_err(pool_err)?;
            read_enrollments(
                &c,
                "SELECT data, rev FROM enrollments WHERE status = 'activated'
                 AND data->'pin_reset'->>'status' = 'review'",
                &[],
            )
            .await
        })
    }

    fn enrollment(&self, id: &str) -> StoreResult<Option<Enrollment>> {
        if unstorable(id) {
            return Ok(None);
        }
        let id = id.to_owned();
        self.run(|pool| async move {
            let c = pool.get().await.map_err(pool_err)?;
            Ok(read_enrollments(
                &c,
                "SELECT data, rev FROM enrollments WHERE id = $1",
                &[&id],
            )
            .await?
            .pop())
        })
    }

    fn enrollment_by_offer(&self, offer_hash: &str) -> StoreResult<Option<Enrollment>> {
        if unstorable(offer_hash) {
            return Ok(None);
        }
        let h = offer_hash.to_owned();
        self.run(|pool| async move {
            let c = pool.get().await.map_err(pool_err)?;
            Ok(read_enrollments(
                &c,
                "SELECT data, rev FROM enrollments WHERE offer_hash = $1",
                &[&h],
            )
            .await?
            .pop())
        })
    }

    fn update_enrollment(&self, e: &Enrollment) -> StoreResult<()> {
        self.write_enrollment_alone(e, false)
    }

    fn selfie(&self, id: &str) -> StoreResult<Option<Vec<u8>>> {
        if unstorable(id) {
            return Ok(None);
        }
        let id = id.to_owned();
        self.run(|pool| async move {
            let c = pool.get().await.map_err(pool_err)?;
            let row = c
                .query_opt(
                    &c.prepare_cached("SELECT selfie FROM enrollments WHERE id = $1")
                        .await?,
                    &[&id],
                )
                .await?;
            Ok(row.map(|r| r.try_get(0)).transpose()?)
        })
    }

    fn scan(&self, e: &Enrollment, qr_nonce: &str) -> StoreResult<bool> {
        let e2 = e.clone();
        let nonce = qr_nonce.to_owned();
        let r = self.run(|pool| async move {
            let mut c = pool.get().await.map_err(pool_err)?;
            let tx = c.transaction().await?;
            let (use_qr, used_by, mark_used) = tokio::try_join!(
                tx.prepare_cached("INSERT INTO qr_uses (nonce, enrollment_id) VALUES ($1, $2) ON CONFLICT (nonce) DO NOTHING"),
                tx.prepare_cached("SELECT enrollment_id FROM qr_uses WHERE nonce = $1"),
                tx.prepare_cached("UPDATE desk_qrs SET used = true WHERE nonce = $1"),
            )?;
            // Pipelined (one round trip): the QR's use claimed, its owner read back, the
            // desk's QR marked used and the enrollment written (a compare-and-swap).
            // When the QR was another enrollment's, or the enrollment changed meanwhile,
            // the transaction is dropped unfinished: rolled back, nothing kept.
            let use_p: [&(dyn tokio_postgres::types::ToSql + Sync); 2] = [&nonce, &e2.id];
            let nonce_p: [&(dyn tokio_postgres::types::ToSql + Sync); 1] = [&nonce];
            let (_, owner, _, ()) = tokio::try_join!(
                pg(tx.execute(&use_qr, &use_p)),
                pg(tx.query_one(&used_by, &nonce_p)),
                pg(tx.execute(&mark_used, &nonce_p)),
                update_enrollment(&tx, &e2),
            )?;
            if owner.try_get::<_, String>(0)? != e2.id {
                return Ok(None);
            }
            tx.commit().await?;
            Ok(Some(e2.rev.get()))
        })?;
        Ok(e.rev.adopt(r))
    }

    fn queue(&self, desk_id: &str) -> StoreResult<Vec<Enrollment>> {
        if unstorable(desk_id) {
            return Ok(Vec::new());
        }
        let d = desk_id.to_owned();
        self.run(|pool| async move {
            let c = pool.get().await.map_err(pool_err)?;
            read_enrollments(
                &c,
                "SELECT data, rev FROM enrollments WHERE desk_id = $1 AND status = 'scanned'
                 ORDER BY scanned_at",
                &[&d],
            )
            .await
        })
    }

    fn activate(
        &self,
        e: &Enrollment,
        device: &Device,
        tokens: &[TokenRow],
        mails: &[Mail],
    ) -> StoreResult<()> {
        let e2 = e.clone();
        let device = device.clone();
        let tokens = tokens.to_vec();
        let mails = mails.to_vec();
        let any = !mails.is_empty();
        let rev = self.run(|pool| async move {
            let mut c = pool.get().await.map_err(pool_err)?;
            let tx = c.transaction().await?;
            let jwk = to_json(&device.jwk)?;
            let invalidate_sql =
                format!("{INVALIDATE_CREDENTIALS_OF} nik = $1 AND status = 'active' AND thumb <> $2)");
            let (invalidate, revoke, insert_device, insert_tokens) = tokio::try_join!(
                tx.prepare_cached(&invalidate_sql),
                tx.prepare_cached("UPDATE devices SET status = 'revoked' WHERE nik = $1 AND status = 'active' AND thumb <> $2"),
                tx.prepare_cached("INSERT INTO devices (thumb, nik, enrollment_id, jwk, status, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (thumb) DO UPDATE SET enrollment_id = excluded.enrollment_id,
                   created_at = excluded.created_at
                 WHERE devices.nik = excluded.nik AND devices.status = 'active'"),
                tx.prepare_cached(INSERT_TOKENS),
            )?;
            let cols = TokenColumns::of(&tokens);
            let device_status = device.status.as_str();
            let others_p: [&(dyn tokio_postgres::types::ToSql + Sync); 2] =
                [&device.nik, &device.thumb];
            let device_p: [&(dyn tokio_postgres::types::ToSql + Sync); 6] = [
                &device.thumb,
                &device.nik,
                &device.enrollment_id,
                &jwk,
                &device_status,
                &device.created_at,
            ];
            let tokens_p = cols.params();
            // The five statements pipelined: sent together, run by PostgreSQL in this
            // order inside the transaction (the invalidation reads the devices the
            // revocation then changes), answered in one round trip. The first error
            // aborts the transaction (dropped unfinished: rolled back).
            tokio::try_join!(
                update_enrollment(&tx, &e2),
                pg(tx.execute(&invalidate, &others_p)),
                pg(tx.execute(&revoke, &others_p)),
                pg(tx.execute(&insert_device, &device_p)),
                pg(tx.execute(&insert_tokens, &tokens_p)),
            )?;
            let now = Utc::now();
            for m in &mails {
                super::outbox::enqueue_pg(&tx, m, now).await?;
            }
            tx.commit().await?;
            Ok(e2.rev.get())
        })?;
        e.rev.set(rev);
        if any {
            self.mail_wake.notify_one();
        }
        Ok(())
    }

    fn push_sms(&self, sms: &OutboxMail) -> StoreResult<()> {
        let m = sms.clone();
        self.run(move |pool| async move {
            let c = pool.get().await.map_err(pool_err)?;
            c.execute(
                &c.prepare_cached(
                    "INSERT INTO sms_outbox (to_addr, body, sent_at) VALUES ($1, $2, $3)",
                )
                .await?,
                &[&m.to, &m.body, &m.sent_at],
            )
            .await?;
            Ok(())
        })
    }

    fn sms_outbox(&self) -> StoreResult<Vec<OutboxMail>> {
        self.run(move |pool| async move {
            let c = pool.get().await.map_err(pool_err)?;
            let rows = c
                .query(
                    &c.prepare_cached("SELECT to_addr, body, sent_at FROM sms_outbox ORDER BY id")
                        .await?,
                    &[],
                )
                .await?;
            rows.iter()
                .map(|r| {
                    Ok(OutboxMail {
                        to: r.try_get(0)?,
                        subject: crate::sms::SMS_SUBJECT.to_owned(),
                        body: r.try_get(1)?,
                        sent_at: r.try_get(2)?,
                    })
                })
                .collect()
        })
    }

    fn begin_reauth(&self, e: &Enrollment, thumb: &str, mails: &[Mail]) -> StoreResult<usize> {
        let e2 = e.clone();
        let thumb = thumb.to_owned();
        let mails = mails.to_vec();
        let any = !mails.is_empty();
        let (n, rev) = self.run(|pool| async move {
            let mut c = pool.get().await.map_err(pool_err)?;
            let tx = c.transaction().await?;
            write_enrollment(&tx, &e2, false).await?;
            let n = tx
                .execute(
                    &tx.prepare_cached("DELETE FROM tokens WHERE device_thumb = $1")
                        .await?,
                    &[&thumb],
                )
                .await?;
            let now = Utc::now();
            for m in &mails {
                super::outbox::enqueue_pg(&tx, m, now).await?;
            }
            tx.commit().await?;
            Ok((n as usize, e2.rev.get()))
        })?;
        e.rev.set(rev);
        if any {
            self.mail_wake.notify_one();
        }
        if super::FacePurpose::pending_in(e).next().is_some() {
            self.face_wake.notify_one();
        }
        Ok(n)
    }

    fn finish_reauth(&self, e: &Enrollment, thumb: &str, tokens: &[TokenRow]) -> StoreResult<bool> {
        let e2 = e.clone();
        let thumb = thumb.to_owned();
        let tokens = tokens.to_vec();
        let r = self.run(|pool| async move {
            let mut c = pool.get().await.map_err(pool_err)?;
            let tx = c.transaction().await?;
            let status: Option<String> = tx
                .query_opt(
                    &tx.prepare_cached("SELECT status FROM devices WHERE thumb = $1 FOR UPDATE")
                        .await?,
                    &[&thumb],
                )
                .await?
                .map(|r| r.get(0));
            if status.as_deref() != Some("active") {
                return Ok(None);
            }
            write_enrollment(&tx, &e2, false).await?;
            for t in &tokens {
                insert_token(&tx, t).await?;
            }
            tx.commit().await?;
            Ok(Some(e2.rev.get()))
        })?;
        Ok(e.rev.adopt(r))
    }

    fn device(&self, thumb: &str) -> StoreResult<Option<Device>> {
        if unstorable(thumb) {
            return Ok(None);
        }
        let thumb = thumb.to_owned();
        self.run(|pool| async move {
            let c = pool.get().await.map_err(pool_err)?;
            let row = c
                .query_opt(
                    &c.prepare_cached("SELECT thumb, nik, enrollment_id, jwk, status, created_at FROM devices WHERE thumb = $1").await?,
                    &[&thumb],
                )
                .await?;
            row.map(|r| {
                Ok(Device {
                    thumb: r.try_get(0)?,
                    nik: r.try_get(1)?,
                    enrollment_id: r.try_get(2)?,
                    jwk: from_json(r.try_get(3)?)?,
                    status: DeviceStatus::parse(r.try_get(4)?)?,
                    created_at: r.try_get(5)?,
                })
            })
            .transpose()
        })
    }

    fn active_devices_of(&self, nik: &str) -> StoreResult<Vec<(String, String)>> {
        let nik = nik.to_owned();
        self.run(|pool| async move {
            let c = pool.get().await.map_err(pool_err)?;
            let rows = c
                .query(
                    &c.prepare_cached("SELECT thumb, enrollment_id FROM devices WHERE nik = $1 AND status = 'active'").await?,
                    &[&nik],
                )
                .await?;
            rows.iter()
                .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
                .collect()
        })
    }

    fn set_device_status(&self, thumb: &str, status: DeviceStatus) -> StoreResult<()> {
        let thumb = thumb.to_owned();
        self.run(move |pool| async move {
            let mut c = pool.get().await.map_err(pool_err)?;
            let tx = c.transaction().await?;
            if status != DeviceStatus::Active {
                tx.execute(
                    &tx.prepare_cached(&format!("{INVALIDATE_CREDENTIALS_OF} thumb = $1)"))
                        .await?,
                    &[&thumb],
                )
                .await?;
            }
            tx.execute(
                &tx.prepare_cached("UPDATE devices SET status = $2 WHERE thumb = $1")
                    .await?,
                &[&thumb, &status.as_str()],
            )
            .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    fn set_devices_of(&self, nik: &str, status: DeviceStatus) -> StoreResult<usize> {
        let nik = nik.to_owned();
        self.run(move |pool| async move {
            let mut c = pool.get().await.map_err(pool_err)?;
            let tx = c.transaction().await?;
            if status != DeviceStatus::Active {
                tx.execute(
                    &tx.prepare_cached(&format!(
                        "{INVALIDATE_CREDENTIALS_OF} nik = $1 AND status = 'active')"
                    ))
                    .await?,
                    &[&nik],
                )
                .await?;
            }
            let n = tx
                .execute(
                    &tx.prepare_cached(
                        "UPDATE devices SET status = $2 WHERE nik = $1 AND status = 'active'",
                    )
                    .await?,
                    &[&nik, &status.as_str()],
                )
                .await?;
            tx.commit().await?;
            Ok(n as usize)
        })
    }

    fn record_credential(&self, row: &CredentialRow) -> StoreResult<bool> {
        let row = row.clone();
        let idx = idx_i64(row.idx)?;
        self.run(move |pool| async move {
            let c = pool.get().await.map_err(pool_err)?;
            // One statement (atomic without a transaction around it, and one round
            // trip): the row inserted, and only if it was, the holder's earlier
            // credential of this type invalidated.
            let n: i64 = c
                .query_one(
                    &c.prepare_cached(
                        "WITH ins AS (
                           INSERT INTO credentials (idx, nik, vct, device_thumb, status, issued_at)
                           VALUES ($1, $2, $3, $4, 0, $5) ON CONFLICT (idx) DO NOTHING RETURNING idx),
                         old AS (
                           UPDATE credentials SET status = 1
                           WHERE nik = $2 AND vct = $3 AND status = 0 AND idx <> $1
                             AND EXISTS (SELECT 1 FROM ins))
                         SELECT count(*) FROM ins",
                    )
                    .await?,
                    &[&idx, &row.nik, &row.vct, &row.device_thumb, &row.issued_at],
                )
                .await?
                .try_get(0)?;
            Ok(n > 0)
        })
    }

    fn invalid_status_indexes(&self) -> StoreResult<Vec<u64>> {
        self.run(|pool| async move {
            let c = pool.get().await.map_err(pool_err)?;
            let rows = c
                .query(
                    &c.prepare_cached("SELECT idx FROM credentials WHERE status <> 0")
                        .await?,
                    &[],
                )
                .await?;
            rows.into_iter()
                .map(|r| {
                    let i: i64 = r.try_get(0)?;
                    u64::try_from(i).map_err(|_| StoreError::Corrupt("idx".into()))
                })
                .collect()
        })
    }

    fn credential_status(&self, idx: u64) -> StoreResult<Option<u8>> {
        let Ok(idx) = i64::try_from(idx) else {
            return Ok(None);
        };
        self.run(move |pool| async move {
            let c = pool.get().await.map_err(pool_err)?;
            let v: Option<i32> = c
                .query_opt(
                    &c.prepare_cached("SELECT status FROM credentials WHERE idx = $1")
                        .await?,
                    &[&idx],
                )
                .await?
                .map(|r| r.get(0));
            Ok(v.map(|s| u8::try_from(s).unwrap_or(1)))
        })
    }

    fn insert_token(&self, t: &TokenRow) -> StoreResult<()> {
        let t = t.clone();
        self.run(|pool| async move {
            let c = pool.get().await.map_err(pool_err)?;
            insert_token(&c, &t).await
        })
    }

    fn token(&self, hash: &str) -> StoreResult<Option<TokenRow>> {
        if unstorable(hash) {
            return Ok(None);
        }
        let hash = hash.to_owned();
        self.run(|pool| async move {
            let c = pool.get().await.map_err(pool_err)?;
            let row = c
                .query_opt(
                    &c.prepare_cached("SELECT hash, kind, device_thumb, nik, enrollment_id, expires_at, dpop_jkt FROM tokens WHERE hash = $1").await?,
                    &[&hash],
                )
                .await?;
            row.map(|r| {
                let kind: &str = r.try_get(1)?;
                Ok(TokenRow {
                    hash: r.try_get(0)?,
                    kind: if kind == "refresh" {
                        TokenKind::Refresh
                    } else {
                        TokenKind::Access
                    },
                    device_thumb: r.try_get(2)?,
                    nik: r.try_get(3)?,
                    enrollment_id: r.try_get(4)?,
                    expires_at: r.try_get(5)?,
                    dpop_jkt: r.try_get(6)?,
                })
            })
            .transpose()
        })
    }

    fn insert_nonce(&self, nonce: &str, expires_at: DateTime<Utc>) -> StoreResult<()> {
        let nonce = nonce.to_owned();
        self.run(move |pool| async move {
            let c = pool.get().await.map_err(pool_err)?;
            c.execute(
                &c.prepare_cached("INSERT INTO nonces (nonce, expires_at) VALUES ($1, $2)")
                    .await?,
                &[&nonce, &expires_at],
            )
            .await?;
            Ok(())
        })
    }

    fn use_dpop_jti(
        &self,
        key: &str,
        keep_until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        if unstorable(key) {
            return Ok(false);
        }
        let key = key.to_owned();
        self.run(move |pool| async move {
            let c = pool.get().await.map_err(pool_err)?;
            c.execute(&c.prepare_cached("DELETE FROM dpop_jtis WHERE expires_at < $1").await?, &[&now])
                .await?;
            // One statement: of two nodes seeing the same jti, one inserts it.
            let n = c
                .execute(
                    &c.prepare_cached("INSERT INTO dpop_jtis (key, expires_at) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING").await?,
                    &[&key, &keep_until],
                )
                .await?;
            Ok(n == 1)
        })
    }

    fn take_nonce(&self, nonce: &str, now: DateTime<Utc>) -> StoreResult<bool> {
        if unstorable(nonce) {
            return Ok(false);
        }
        let nonce = nonce.to_owned();
        self.run(move |pool| async move {
            let c = pool.get().await.map_err(pool_err)?;
            // One statement: exactly one taker gets the row back.
            let exp: Option<DateTime<Utc>> = c
                .query_opt(
                    &c.prepare_cached("DELETE FROM nonces WHERE nonce = $1 RETURNING expires_at")
                        .await?,
                    &[&nonce],
                )
                .await?
                .map(|r| r.get(0));
            Ok(exp.is_some_and(|e| e > now))
        })
    }

    fn prune_expired_nonces(&self, now: DateTime<Utc>) -> StoreResult<usize> {
        self.run(move |pool| async move {
            let c = pool.get().await.map_err(pool_err)?;
            let n = c
                .execute(
                    &c.prepare_cached("DELETE FROM nonces WHERE expires_at < $1")
                        .await?,
                    &[&now],
                )
                .await?;
            Ok(n as usize)
        })
    }

    fn put_officer(&self, o: &Officer) -> StoreResult<()> {
        let o = o.clone();
        self.run(|pool| async move {
            let c = pool.get().await.map_err(pool_err)?;
            c.execute(
                &c.prepare_cached("INSERT INTO officers (username, password_hash, desk_id, desk_name) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (username) DO UPDATE SET password_hash = excluded.password_hash,
                   desk_id = excluded.desk_id, desk_name = excluded.desk_name").await?,
                &[&o.username, &o.password_hash, &o.desk_id, &o.desk_name],
            )
            .await?;
            Ok(())
        })
    }

    fn officer(&self, username: &str) -> StoreResult<Option<Officer>> {
        if unstorable(username) {
            return Ok(None);
        }
        let u = username.to_owned();
        self.run(|pool| async move {
            let c = pool.get().await.map_err(pool_err)?;
            let row = c
                .query_opt(
                    &c.prepare_cached("SELECT username, password_hash, desk_id, desk_name FROM officers WHERE username = $1").await?,
                    &[&u],
                )
                .await?;
            row.as_ref().map(officer_of_row).transpose()
        })
    }

    fn insert_session(
        &self,
        hash: &str,
        username: &str,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let (h, u) = (hash.to_owned(), username.to_owned());
        self.run(move |pool| async move {
            let c = pool.get().await.map_err(pool_err)?;
            c.execute(
                &c.prepare_cached(
                    "INSERT INTO sessions (hash, username, expires_at) VALUES ($1, $2, $3)",
                )
                .await?,
                &[&h, &u, &expires_at],
            )
            .await?;
            Ok(())
        })
    }

    fn session(&self, hash: &str, now: DateTime<Utc>) -> StoreResult<Option<String>> {
        if unstorable(hash) {
            return Ok(None);
        }
        let h = hash.to_owned();
        self.run(move |pool| async move {
            let c = pool.get().await.map_err(pool_err)?;
            let row = c
                .query_opt(
                    &c.prepare_cached(
                        "SELECT username FROM sessions WHERE hash = $1 AND expires_at > $2",
                    )
                    .await?,
                    &[&h, &now],
                )
                .await?;
            Ok(row.map(|r| r.get(0)))
        })
    }

    fn session_officer(&self, hash: &str, now: DateTime<Utc>) -> StoreResult<Option<Officer>> {
        if unstorable(hash) {
            return Ok(None);
        }
        let h = hash.to_owned();
        self.run(move |pool| async move {
            let c = pool.get().await.map_err(pool_err)?;
            let row = c
                .query_opt(
                    &c.prepare_cached(
                        "SELECT o.username, o.password_hash, o.desk_id, o.desk_name
                         FROM sessions s JOIN officers o ON o.username = s.username
                         WHERE s.hash = $1 AND s.expires_at > $2",
                    )
                    .await?,
                    &[&h, &now],
                )
                .await?;
            row.as_ref().map(officer_of_row).transpose()
        })
    }

    fn delete_session(&self, hash: &str) -> StoreResult<()> {
        let h = hash.to_owned();
        self.run(move |pool| async move {
            let c = pool.get().await.map_err(pool_err)?;
            c.execute(
                &c.prepare_cached("DELETE FROM sessions WHERE hash = $1")
                    .await?,
                &[&h],
            )
            .await?;
            Ok(())
        })
    }

    fn block_devices(&self, block: &DeviceBlock) -> StoreResult<usize> {
        let b = block.clone();
        self.run(move |pool| async move {
            let mut c = pool.get().await.map_err(pool_err)?;
            let tx = c.transaction().await?;
            tx.execute(
                &tx.prepare_cached(&format!("{INVALIDATE_CREDENTIALS_OF} nik = $1 AND status = 'active')")).await?,
                &[&b.nik],
            )
            .await?;
            let n = tx
                .execute(
                    &tx.prepare_cached("UPDATE devices SET status = 'blocked' WHERE nik = $1 AND status = 'active'").await?,
                    &[&b.nik],
                )
                .await?;
            tx.execute(
                &tx.prepare_cached("INSERT INTO device_blocks (nik, officer, reason, devices, blocked_at)
                 VALUES ($1, $2, $3, $4, $5)").await?,
                &[&b.nik, &b.officer, &b.reason, &(n as i64), &b.blocked_at],
            )
            .await?;
            tx.commit().await?;
            Ok(n as usize)
        })
    }

    fn device_blocks(&self, limit: usize) -> StoreResult<Vec<DeviceBlock>> {
        let limit = limit as i64;
        self.run(move |pool| async move {
            let c = pool.get().await.map_err(pool_err)?;
            let rows = c
                .query(
                    &c.prepare_cached(
                        "SELECT nik, officer, reason, devices, blocked_at FROM device_blocks
                     ORDER BY id DESC LIMIT $1",
                    )
                    .await?,
                    &[&limit],
                )
                .await?;
            rows.iter()
                .map(|r| {
                    Ok(DeviceBlock {
                        nik: r.try_get(0)?,
                        officer: r.try_get(1)?,
                        reason: r.try_get(2)?,
                        devices: usize::try_from(r.try_get::<_, i64>(3)?).unwrap_or(0),
                        blocked_at: r.try_get(4)?,
                    })
                })
                .collect()
        })
    }

    fn login_locked_until(&self, account: &str) -> StoreResult<Option<DateTime<Utc>>> {
        let a = account.to_owned();
        self.run(move |pool| async move {
            let c = pool.get().await.map_err(pool_err)?;
            let row = c
                .query_opt(
                    &c.prepare_cached("SELECT locked_until FROM login_failures WHERE account = $1")
                        .await?,
                    &[&a],
                )
                .await?;
            Ok(match row {
                Some(r) => r.try_get(0)?,
                None => None,
            })
        })
    }

    fn login_failed(
        &self,
        account: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<DateTime<Utc>>> {
        let a = account.to_owned();
        self.run(move |pool| async move {
            let mut c = pool.get().await.map_err(pool_err)?;
            let tx = c.transaction().await?;
            let failures: i64 = tx
                .query_one(
                    &tx.prepare_cached(
                        "INSERT INTO login_failures (account, failures) VALUES ($1, 1)
                     ON CONFLICT (account) DO UPDATE SET failures = login_failures.failures + 1
                     RETURNING failures",
                    )
                    .await?,
                    &[&a],
                )
                .await?
                .try_get(0)?;
            let until = crate::ratelimit::lock_for(u32::try_from(failures).unwrap_or(u32::MAX))
                .map(|d| now + d);
            if let Some(u) = until {
                tx.execute(
                    &tx.prepare_cached(
                        "UPDATE login_failures SET locked_until = $2 WHERE account = $1",
                    )
                    .await?,
                    &[&a, &u],
                )
                .await?;
            }
            tx.commit().await?;
            Ok(until)
        })
    }

    fn login_cleared(&self, account: &str) -> StoreResult<()> {
        let a = account.to_owned();
        self.run(move |pool| async move {
            let c = pool.get().await.map_err(pool_err)?;
            c.execute(
                &c.prepare_cached("DELETE FROM login_failures WHERE account = $1")
                    .await?,
                &[&a],
            )
            .await?;
            Ok(())
        })
    }

    fn outbox(&self) -> StoreResult<Vec<OutboxMail>> {
        self.run(|pool| async move {
            let c = pool.get().await.map_err(pool_err)?;
            let rows = c
                .query(
                    &c.prepare_cached("SELECT to_addr, subject, body, sent_at FROM outbox WHERE status <> 'superseded'
                     ORDER BY id").await?,
                    &[],
                )
                .await?;
            Ok(rows
                .into_iter()
                .map(|r| OutboxMail {
                    to: r.get(0),
                    subject: r.get(1),
                    body: r.get(2),
                    sent_at: r.get(3),
                })
                .collect())
        })
    }
}
