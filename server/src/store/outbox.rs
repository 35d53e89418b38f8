//! The mail queue: table `outbox` ([`OutboxStore`]; SQLite migration 9, PostgreSQL
//! migration 4). A mail is written in the same transaction as what it tells (the
//! approval's code, a resend, a re-authentication), and sent later by a worker on any
//! node ([`crate::outbox`]).
//!
//! A row's life: `pending` (due at `next_at`) → claimed: `sending`, `attempts` + 1, a
//! random `claim` token and a lease (`next_at` moves to the lease's end, so a row whose
//! node died is due again) → `sent` (with `sent_at`), or back to `pending` with a later
//! `next_at` (backoff), or `failed` after the last attempt. A new code mail for an
//! enrollment turns its earlier unsent code mails `superseded` (their code is dead).
//! Once a row is done with, its `body` (which holds the code) is emptied, except in
//! dev mode (the dev outbox, GET /dev/outbox, shows them).
//!
//! **To send a mail from your own store write** (one transaction with it): take
//! `mails: &[Mail]` in the store method and, inside its transaction, call
//! [`enqueue_sqlite`] / [`enqueue_pg`] for each; after the commit call
//! `self.mail_wakeup().notify_one()` so this node's worker sends it at once. Or use
//! [`OutboxStore::update_enrollment_mailing`] (an enrollment update plus mails) or
//! [`OutboxStore::enqueue_mails`] (mails alone).

use super::lease::{Lease, Queue};
use super::postgres::{pool_err, PgStore};
use super::sqlite::SqliteStore;
use super::{Enrollment, StoreError, StoreResult};
use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use ikd_proto::secret::SecretString;
use rusqlite::{params, Connection, TransactionBehavior};

/// What a mail is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailPurpose {
    /// The activation code (approval, resend).
    Activation,
    /// The re-authentication ("Lupa PIN") code.
    Reauth,
    /// A notice without a code (a new activation, a PIN reset under way, ...).
    Notice,
}

impl MailPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Activation => "activation",
            Self::Reauth => "reauth",
            Self::Notice => "notice",
        }
    }

    /// A mail with a code: a newer one for the same enrollment supersedes it.
    pub fn carries_code(self) -> bool {
        matches!(self, Self::Activation | Self::Reauth)
    }
}

/// One mail to queue.
#[derive(Debug, Clone)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    /// Plain text (CRLF lines). May hold a code: a secret until sent.
    pub body: SecretString,
    pub purpose: MailPurpose,
    /// The enrollment it is about (the officer console shows its mail's state).
    pub enrollment_id: Option<String>,
}

/// A row a worker claimed: send it, then report with [`OutboxStore::mail_sent`] or
/// [`OutboxStore::mail_failed`] under `claim`.
#[derive(Debug)]
pub struct ClaimedMail {
    pub id: i64,
    pub claim: String,
    pub to: String,
    pub subject: String,
    pub body: SecretString,
    /// Attempts so far, this one included.
    pub attempts: u32,
}

/// Where an enrollment's latest code mail is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Queued, not tried yet (or being sent for the first time).
    Pending,
    /// Tried and failed; it will be tried again.
    Retrying,
    Sent,
    /// Given up after the last attempt (the resident can ask for a resend).
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailState {
    pub delivery: Delivery,
    pub attempts: u32,
    /// RFC 3339, when sent.
    pub sent_at: Option<String>,
}

fn delivery(status: &str, attempts: u32) -> StoreResult<Delivery> {
    Ok(match status {
        "sent" => Delivery::Sent,
        "failed" => Delivery::Failed,
        "pending" if attempts == 0 => Delivery::Pending,
        "pending" => Delivery::Retrying,
        "sending" if attempts <= 1 => Delivery::Pending,
        "sending" => Delivery::Retrying,
        other => return Err(StoreError::Corrupt(format!("outbox status {other}"))),
    })
}

/// How a failed attempt ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Due again at this time.
    At(DateTime<Utc>),
    /// No more attempts: `failed`.
    GiveUp,
}

/// The claim's rules, the same for every node.
#[derive(Debug, Clone, Copy)]
pub struct ClaimRules {
    /// How long a claim holds a row (longer than a send may take).
    pub lease: chrono::Duration,
    /// A row is not claimed again after this many attempts (a lost lease then ends
    /// the row `failed`).
    pub max_attempts: u32,
    /// Rows per claim.
    pub limit: usize,
    /// Keep the bodies of rows done with (dev mode: the dev outbox shows them).
    pub keep_bodies: bool,
}

pub trait OutboxStore {
    /// Queues `mails`, one transaction.
    fn enqueue_mails(&self, mails: &[Mail]) -> StoreResult<()>;
    /// [`super::Store::update_enrollment`] and queues `mails`, one transaction (a
    /// [`StoreError::Conflict`] writes neither).
    fn update_enrollment_mailing(&self, e: &Enrollment, mails: &[Mail]) -> StoreResult<()>;
    /// Claims up to `rules.limit` due rows under the token `claim`, one transaction
    /// (PostgreSQL: `FOR UPDATE SKIP LOCKED`, so nodes claiming at once get different
    /// rows; SQLite: `BEGIN IMMEDIATE`). Rows whose lease ran out with no attempts
    /// left become `failed` first.
    fn claim_mails(
        &self,
        claim: &str,
        now: DateTime<Utc>,
        rules: &ClaimRules,
    ) -> StoreResult<Vec<ClaimedMail>>;
    /// Marks a claimed row sent; false when the claim was lost (the lease ran out
    /// and another claim took the row).
    fn mail_sent(
        &self,
        id: i64,
        claim: &str,
        now: DateTime<Utc>,
        keep_body: bool,
    ) -> StoreResult<bool>;
    /// Records a failed attempt of a claimed row: `error` (no secrets in it) and when
    /// to try again, or `failed`. False when the claim was lost.
    fn mail_failed(
        &self,
        id: i64,
        claim: &str,
        error: &str,
        retry: Retry,
        keep_body: bool,
    ) -> StoreResult<bool>;
    /// The state of the latest code mail about an enrollment (superseded ones left out).
    fn mail_state(&self, enrollment_id: &str) -> StoreResult<Option<MailState>>;
    /// Every row's (status, attempts, last_error), oldest first (tests, the load bench).
    fn mail_rows(&self) -> StoreResult<Vec<(String, u32, Option<String>)>>;
    /// Notified after each commit that queued a mail on this store (this node's worker
    /// waits on it; other nodes' rows are found by polling).
    fn mail_wakeup(&self) -> std::sync::Arc<tokio::sync::Notify>;
}

/// The mail queue's table, claimed with [`super::lease`].
const OUTBOX: Queue = Queue {
    table: "outbox",
    busy: "sending",
};

fn lease(now: DateTime<Utc>, rules: &ClaimRules) -> Lease {
    Lease {
        claim_end: now + rules.lease,
        max_attempts: rules.max_attempts,
        limit: rules.limit,
    }
}

/// Error texts are kept short.
fn short(error: &str) -> String {
    error.chars().take(300).collect()
}

fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

/// Queues `m` on the SQLite connection (inside the caller's transaction).
pub fn enqueue_sqlite(conn: &Connection, m: &Mail, now: DateTime<Utc>) -> StoreResult<()> {
    if let (Some(id), true) = (&m.enrollment_id, m.purpose.carries_code()) {
        conn.execute(
            "UPDATE outbox SET status = 'superseded', body = '' WHERE enrollment_id = ?1
               AND status = 'pending' AND purpose IN ('activation', 'reauth')",
            [id],
        )?;
    }
    conn.execute(
        "INSERT INTO outbox (to_addr, subject, body, sent_at, status, purpose, enrollment_id,
           attempts, next_at, created_at)
         VALUES (?1, ?2, ?3, '', 'pending', ?4, ?5, 0, ?6, ?6)",
        params![
            m.to,
            m.subject,
            // Stored until sent: the worker reads it back.
            m.body.expose(),
            m.purpose.as_str(),
            m.enrollment_id,
            ms(now)
        ],
    )?;
    Ok(())
}

/// Queues `m` on PostgreSQL (inside the caller's transaction), in one statement: a
/// mail that carries a code first supersedes the enrollment's pending code mails, as
/// [`enqueue_sqlite`] does in two.
pub async fn enqueue_pg<C: GenericClient>(c: &C, m: &Mail, now: DateTime<Utc>) -> StoreResult<()> {
    let supersede = m.enrollment_id.is_some() && m.purpose.carries_code();
    c.execute(
        &c.prepare_cached(
            "WITH superseded AS (
               UPDATE outbox SET status = 'superseded', body = ''
               WHERE $7 AND enrollment_id = $5 AND status = 'pending'
                 AND purpose IN ('activation', 'reauth'))
             INSERT INTO outbox (to_addr, subject, body, sent_at, status, purpose, enrollment_id,
               attempts, next_at, created_at)
             VALUES ($1, $2, $3, '', 'pending', $4, $5, 0, $6, $6)",
        )
        .await?,
        &[
            &m.to,
            &m.subject,
            // Stored until sent: the worker reads it back.
            m.body.expose(),
            &m.purpose.as_str(),
            &m.enrollment_id,
            &now,
            &supersede,
        ],
    )
    .await?;
    Ok(())
}

/// PostgreSQL text cannot hold NUL.
fn storable(m: &Mail) -> bool {
    !(m.to.contains('\0') || m.subject.contains('\0') || m.body.expose().contains('\0'))
}

/// The body stays (dev mode, `?4` true) or is emptied.
const KEEP_OR_EMPTY: &str = "CASE WHEN ?4 THEN body ELSE '' END";

impl OutboxStore for SqliteStore {
    fn enqueue_mails(&self, mails: &[Mail]) -> StoreResult<()> {
        let now = Utc::now();
        {
            let mut conn = self.conn();
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            for m in mails {
                enqueue_sqlite(&tx, m, now)?;
            }
            tx.commit()?;
        }
        self.mail_wake.notify_one();
        Ok(())
    }

    fn update_enrollment_mailing(&self, e: &Enrollment, mails: &[Mail]) -> StoreResult<()> {
        let now = Utc::now();
        {
            let mut conn = self.conn();
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let rev = e.rev.get();
            if let Err(err) = SqliteStore::write_enrollment(&tx, e, false) {
                e.rev.set(rev);
                return Err(err);
            }
            for m in mails {
                if let Err(err) = enqueue_sqlite(&tx, m, now) {
                    e.rev.set(rev);
                    return Err(err);
                }
            }
            if let Err(err) = tx.commit() {
                e.rev.set(rev);
                return Err(err.into());
            }
        }
        if !mails.is_empty() {
            self.mail_wake.notify_one();
        }
        Ok(())
    }

    fn claim_mails(
        &self,
        claim: &str,
        now: DateTime<Utc>,
        rules: &ClaimRules,
    ) -> StoreResult<Vec<ClaimedMail>> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "UPDATE outbox SET status = 'failed', claim = NULL,
               last_error = 'the node sending it stopped; no attempts left',
               body = CASE WHEN ?3 THEN body ELSE '' END
             WHERE status = 'sending' AND next_at <= ?1 AND attempts >= ?2",
            params![ms(now), rules.max_attempts, rules.keep_bodies],
        )?;
        let rows = OUTBOX.claim_sqlite(
            &tx,
            "to_addr, subject, body, attempts",
            claim,
            now,
            &lease(now, rules),
            |r| {
                Ok((
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, u32>(4)?,
                ))
            },
        )?;
        let mut out = Vec::with_capacity(rows.len());
        for (id, (to, subject, body, attempts)) in rows {
            out.push(ClaimedMail {
                id,
                claim: claim.to_owned(),
                to,
                subject,
                body: SecretString::new(body),
                attempts: attempts + 1,
            });
        }
        tx.commit()?;
        Ok(out)
    }

    fn mail_sent(
        &self,
        id: i64,
        claim: &str,
        now: DateTime<Utc>,
        keep_body: bool,
    ) -> StoreResult<bool> {
        let n = self.conn().execute(
            &format!(
                "UPDATE outbox SET status = 'sent', sent_at = ?3, claim = NULL, last_error = NULL,
                   body = {KEEP_OR_EMPTY}
                 WHERE id = ?1 AND claim = ?2 AND status = 'sending'"
            ),
            params![id, claim, now.to_rfc3339(), keep_body],
        )?;
        Ok(n == 1)
    }

    fn mail_failed(
        &self,
        id: i64,
        claim: &str,
        error: &str,
        retry: Retry,
        keep_body: bool,
    ) -> StoreResult<bool> {
        let conn = self.conn();
        let n = match retry {
            Retry::At(at) => conn.execute(
                "UPDATE outbox SET status = 'pending', next_at = ?3, claim = NULL, last_error = ?4
                 WHERE id = ?1 AND claim = ?2 AND status = 'sending'",
                params![id, claim, ms(at), short(error)],
            )?,
            Retry::GiveUp => conn.execute(
                &format!(
                    "UPDATE outbox SET status = 'failed', claim = NULL, last_error = ?3,
                       body = {KEEP_OR_EMPTY}
                     WHERE id = ?1 AND claim = ?2 AND status = 'sending'"
                ),
                params![id, claim, short(error), keep_body],
            )?,
        };
        Ok(n == 1)
    }

    fn mail_state(&self, enrollment_id: &str) -> StoreResult<Option<MailState>> {
        use rusqlite::OptionalExtension;
        let row: Option<(String, u32, String)> = self
            .conn()
            .query_row(
                "SELECT status, attempts, sent_at FROM outbox WHERE enrollment_id = ?1
                   AND purpose IN ('activation', 'reauth') AND status <> 'superseded'
                 ORDER BY id DESC LIMIT 1",
                [enrollment_id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        row.map(|(status, attempts, sent_at)| {
            Ok(MailState {
                delivery: delivery(&status, attempts)?,
                attempts,
                sent_at: (!sent_at.is_empty()).then_some(sent_at),
            })
        })
        .transpose()
    }

    fn mail_rows(&self) -> StoreResult<Vec<(String, u32, Option<String>)>> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare_cached("SELECT status, attempts, last_error FROM outbox ORDER BY id")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn mail_wakeup(&self) -> std::sync::Arc<tokio::sync::Notify> {
        self.mail_wake.clone()
    }
}

impl OutboxStore for PgStore {
    fn enqueue_mails(&self, mails: &[Mail]) -> StoreResult<()> {
        if !mails.iter().all(storable) {
            return Err(StoreError::Corrupt("a mail with NUL".into()));
        }
        let mails = mails.to_vec();
        let now = Utc::now();
        self.run(move |pool| async move {
            let mut c = pool.get().await.map_err(pool_err)?;
            let tx = c.transaction().await?;
            for m in &mails {
                enqueue_pg(&tx, m, now).await?;
            }
            tx.commit().await?;
            Ok(())
        })?;
        self.mail_wake.notify_one();
        Ok(())
    }

    fn update_enrollment_mailing(&self, e: &Enrollment, mails: &[Mail]) -> StoreResult<()> {
        if !mails.iter().all(storable) {
            return Err(StoreError::Corrupt("a mail with NUL".into()));
        }
        let e2 = e.clone();
        let mails = mails.to_vec();
        let any = !mails.is_empty();
        let now = Utc::now();
        let rev = self.run(move |pool| async move {
            let mut c = pool.get().await.map_err(pool_err)?;
            let tx = c.transaction().await?;
            // Pipelined (one round trip for the enrollment and its mails): a refused
            // compare-and-swap drops the transaction unfinished, rolled back.
            tokio::try_join!(super::postgres::write_enrollment(&tx, &e2, false), async {
                for m in &mails {
                    enqueue_pg(&tx, m, now).await?;
                }
                Ok(())
            })?;
            tx.commit().await?;
            Ok(e2.rev.get())
        })?;
        e.rev.set(rev);
        if any {
            self.mail_wake.notify_one();
        }
        Ok(())
    }

    fn claim_mails(
        &self,
        claim: &str,
        now: DateTime<Utc>,
        rules: &ClaimRules,
    ) -> StoreResult<Vec<ClaimedMail>> {
        let claim = claim.to_owned();
        let rules = *rules;
        self.run(move |pool| async move {
            let mut c = pool.get().await.map_err(pool_err)?;
            let tx = c.transaction().await?;
            let max = i32::try_from(rules.max_attempts).unwrap_or(i32::MAX);
            tx.execute(
                &tx.prepare_cached(
                    "UPDATE outbox SET status = 'failed', claim = NULL,
                   last_error = 'the node sending it stopped; no attempts left',
                   body = CASE WHEN $3 THEN body ELSE '' END
                 WHERE status = 'sending' AND next_at <= $1 AND attempts >= $2",
                )
                .await?,
                &[&now, &max, &rules.keep_bodies],
            )
            .await?;
            let rows = OUTBOX
                .claim_pg(
                    &tx,
                    "id, to_addr, subject, body, attempts",
                    &claim,
                    now,
                    &lease(now, &rules),
                )
                .await?;
            tx.commit().await?;
            rows.into_iter()
                .map(|r| {
                    let attempts: i32 = r.try_get(4)?;
                    Ok(ClaimedMail {
                        id: r.try_get(0)?,
                        claim: claim.clone(),
                        to: r.try_get(1)?,
                        subject: r.try_get(2)?,
                        body: SecretString::new(r.try_get(3)?),
                        attempts: u32::try_from(attempts).unwrap_or(0),
                    })
                })
                .collect()
        })
    }

    fn mail_sent(
        &self,
        id: i64,
        claim: &str,
        now: DateTime<Utc>,
        keep_body: bool,
    ) -> StoreResult<bool> {
        let claim = claim.to_owned();
        self.run(move |pool| async move {
            let c = pool.get().await.map_err(pool_err)?;
            let n = c
                .execute(
                    &c.prepare_cached("UPDATE outbox SET status = 'sent', sent_at = $3, claim = NULL, last_error = NULL,
                       body = CASE WHEN $4 THEN body ELSE '' END
                     WHERE id = $1 AND claim = $2 AND status = 'sending'").await?,
                    &[&id, &claim, &now.to_rfc3339(), &keep_body],
                )
                .await?;
            Ok(n == 1)
        })
    }

    fn mail_failed(
        &self,
        id: i64,
        claim: &str,
        error: &str,
        retry: Retry,
        keep_body: bool,
    ) -> StoreResult<bool> {
        let (claim, error) = (claim.to_owned(), short(&error.replace('\0', "")));
        self.run(move |pool| async move {
            let c = pool.get().await.map_err(pool_err)?;
            let n = match retry {
                Retry::At(at) => {
                    c.execute(
                        &c.prepare_cached(
                            "UPDATE outbox SET status = 'pending', next_at = $3, claim = NULL,
                           last_error = $4
                         WHERE id = $1 AND claim = $2 AND status = 'sending'",
                        )
                        .await?,
                        &[&id, &claim, &at, &error],
                    )
                    .await?
                }
                Retry::GiveUp => {
                    c.execute(
                        &c.prepare_cached(
                            "UPDATE outbox SET status = 'failed', claim = NULL, last_error = $3,
                           body = CASE WHEN $4 THEN body ELSE '' END
                         WHERE id = $1 AND claim = $2 AND status = 'sending'",
                        )
                        .await?,
                        &[&id, &claim, &error, &keep_body],
                    )
                    .await?
                }
            };
            Ok(n == 1)
        })
    }

    fn mail_state(&self, enrollment_id: &str) -> StoreResult<Option<MailState>> {
        if enrollment_id.contains('\0') {
            return Ok(None);
        }
        let id = enrollment_id.to_owned();
        self.run(move |pool| async move {
            let c = pool.get().await.map_err(pool_err)?;
            let row = c
                .query_opt(
                    &c.prepare_cached(
                        "SELECT status, attempts, sent_at FROM outbox WHERE enrollment_id = $1
                       AND purpose IN ('activation', 'reauth') AND status <> 'superseded'
                     ORDER BY id DESC LIMIT 1",
                    )
                    .await?,
                    &[&id],
                )
                .await?;
            row.map(|r| {
                let status: String = r.try_get(0)?;
                let attempts = u32::try_from(r.try_get::<_, i32>(1)?).unwrap_or(0);
                let sent_at: String = r.try_get(2)?;
                Ok(MailState {
                    delivery: delivery(&status, attempts)?,
                    attempts,
                    sent_at: (!sent_at.is_empty()).then_some(sent_at),
                })
            })
            .transpose()
        })
    }

    fn mail_rows(&self) -> StoreResult<Vec<(String, u32, Option<String>)>> {
        self.run(|pool| async move {
            let c = pool.get().await.map_err(pool_err)?;
            let rows = c
                .query(
                    &c.prepare_cached(
                        "SELECT status, attempts, last_error FROM outbox ORDER BY id",
                    )
                    .await?,
                    &[],
                )
                .await?;
            rows.into_iter()
                .map(|r| {
                    let attempts: i32 = r.try_get(1)?;
                    Ok((
                        r.try_get(0)?,
                        u32::try_from(attempts).unwrap_or(0),
                        r.try_get(2)?,
                    ))
                })
                .collect()
        })
    }

    fn mail_wakeup(&self) -> std::sync::Arc<tokio::sync::Notify> {
        self.mail_wake.clone()
    }
}
