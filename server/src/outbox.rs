//! The mail worker: one per node, sending the rows of the store's mail queue
//! (`store::outbox`) over SMTP ([`crate::mail::Mailer`]).
//!
//! - It claims due rows (PostgreSQL `FOR UPDATE SKIP LOCKED`, SQLite `BEGIN
//!   IMMEDIATE`) under a random claim token with a lease, sends them side by side,
//!   and records each outcome under that token: `sent`, or another attempt after an
//!   exponential backoff with jitter ([`backoff`]), or `failed` after
//!   `outbox.max_attempts` or a permanent refusal (a 5xx reply, a bad address).
//! - A row is claimed by one node at a time. A node that dies mid-send leaves its
//!   rows due again when the lease ends, so a mail goes out at least once; it goes
//!   out twice only if a node dies between the SMTP server's "250 OK" and the
//!   `sent` mark (one UPDATE). A new code supersedes its enrollment's unsent code
//!   mails, so no dead code is mailed after an outage.
//! - It wakes at once when this node queues a mail (the store's notify), and polls
//!   every `outbox.poll_ms` for rows other nodes queued or that came due.
//! - In dev mode without SMTP the dev outbox (GET /dev/outbox) is the only
//!   destination: rows are marked sent when claimed. Without either, no worker runs
//!   and mails stay queued (logged at start).
//!
//! Neither the body nor the code is logged; a failure's text is the SMTP error.

use crate::config::OutboxConfig;
use crate::state::SharedState;
use crate::store::outbox::{ClaimRules, ClaimedMail, Retry};
use chrono::{DateTime, Utc};
use std::sync::Arc;
use std::time::Duration;

/// The wait before attempt `attempts + 1` after `attempts` failed ones: the base
/// doubled per attempt, capped, then "equal jitter" (half of it fixed, the other
/// half drawn from `jitter`, a number in [0, 1)), so nodes retrying after one outage
/// spread out instead of hitting the relay together.
pub fn backoff(cfg: &OutboxConfig, attempts: u32, jitter: f64) -> Duration {
    let exp = attempts.saturating_sub(1).min(30);
    let full = cfg
        .retry_base_ms
        .saturating_mul(1u64 << exp)
        .min(cfg.retry_max_secs.saturating_mul(1000));
    let half = full / 2;
    let drawn = (half as f64 * jitter.clamp(0.0, 1.0)) as u64;
    Duration::from_millis(half + drawn)
}

fn rules(state: &SharedState) -> ClaimRules {
    let cfg = &state.outbox;
    ClaimRules {
        lease: chrono::Duration::seconds(i64::try_from(cfg.lease_secs).unwrap_or(120)),
        max_attempts: cfg.max_attempts.max(1),
        limit: cfg.batch.max(1),
        keep_bodies: state.dev_mode,
    }
}

/// A number in [0, 1) from the OS random source.
fn jitter() -> f64 {
    let b = crate::crypto::random_bytes::<4>();
    f64::from(u32::from_le_bytes(b)) / (f64::from(u32::MAX) + 1.0)
}

/// Starts this node's worker (if mail can go anywhere); it ends when the state is
/// dropped.
pub fn spawn_worker(state: &SharedState) {
    if state.mailer.is_none() && !state.dev_mode {
        tracing::warn!("no SMTP relay configured: mails stay queued in the outbox");
        return;
    }
    let poll = Duration::from_millis(state.outbox.poll_ms.max(10));
    spawn_queue_worker(
        state,
        state.store.mail_wakeup(),
        poll,
        "outbox",
        |state| async move {
            let n = run_once(&state).await?;
            Ok(n >= rules(&state).limit)
        },
    );
}

/// The loop of a queue's worker on this node (the mail queue's, the face checks'):
/// `round` claims and works one batch and answers whether more may be due at once;
/// otherwise the loop waits for `wake` (this node queued work) or `poll` (another
/// node's work, or rows that came due). It ends when the state is dropped.
pub fn spawn_queue_worker<F, Fut>(
    state: &SharedState,
    wake: Arc<tokio::sync::Notify>,
    poll: Duration,
    queue: &'static str,
    round: F,
) where
    F: Fn(SharedState) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<bool, crate::store::StoreError>> + Send,
{
    let weak = Arc::downgrade(state);
    tokio::spawn(async move {
        loop {
            let Some(state) = weak.upgrade() else { break };
            let more = match round(state).await {
                Ok(more) => more,
                Err(e) => {
                    tracing::warn!(queue, error = %e, "queue claim failed");
                    false
                }
            };
            if !more {
                // A notify that came while working left a permit: nothing is missed.
                tokio::select! {
                    _ = wake.notified() => {}
                    _ = tokio::time::sleep(poll) => {}
                }
            }
        }
    });
}

/// One claim and its sends; returns how many rows were claimed.
pub async fn run_once(state: &SharedState) -> Result<usize, crate::store::StoreError> {
    let claim = crate::crypto::random_id();
    let rules = rules(state);
    let claimed = {
        let (st, claim) = (state.clone(), claim.clone());
        tokio::task::spawn_blocking(move || st.store.claim_mails(&claim, Utc::now(), &rules))
            .await
            .map_err(|e| crate::store::StoreError::Pool(e.to_string()))??
    };
    let n = claimed.len();
    let mut sends = tokio::task::JoinSet::new();
    for m in claimed {
        let state = state.clone();
        sends.spawn(async move { deliver(&state, m).await });
    }
    while sends.join_next().await.is_some() {}
    Ok(n)
}

/// Sends one claimed row and records the outcome.
async fn deliver(state: &SharedState, m: ClaimedMail) {
    let keep = state.dev_mode;
    let outcome = match &state.mailer {
        None => Ok(()),
        Some(mailer) => {
            // Half the lease: a send still running when the lease ends would be
            // claimed again by another node.
            let limit = Duration::from_secs(state.outbox.lease_secs.max(2) / 2);
            // The body goes to the SMTP server only.
            match tokio::time::timeout(limit, mailer.send(&m.to, &m.subject, m.body.expose())).await
            {
                Ok(r) => r,
                Err(_) => Err(crate::mail::MailError::Transport("timed out".into())),
            }
        }
    };
    let st = state.clone();
    let id = m.id;
    let attempts = m.attempts;
    let recorded = tokio::task::spawn_blocking(move || {
        let now: DateTime<Utc> = Utc::now();
        match &outcome {
            Ok(()) => st.store.mail_sent(m.id, &m.claim, now, keep),
            Err(e) => {
                let retry = if e.is_permanent() || m.attempts >= st.outbox.max_attempts.max(1) {
                    Retry::GiveUp
                } else {
                    let wait = backoff(&st.outbox, m.attempts, jitter());
                    Retry::At(now + chrono::Duration::from_std(wait).unwrap_or_default())
                };
                st.store
                    .mail_failed(m.id, &m.claim, &e.to_string(), retry, keep)
            }
        }
        .map(|ok| (ok, outcome.err()))
    })
    .await;
    match recorded {
        Ok(Ok((true, None))) => tracing::info!(mail = id, attempts, "mail sent"),
        Ok(Ok((true, Some(e)))) => {
            tracing::warn!(mail = id, attempts, error = %e, "mail not sent")
        }
        Ok(Ok((false, _))) => {
            tracing::warn!(mail = id, "mail claim lost before its outcome was recorded")
        }
        Ok(Err(e)) => tracing::warn!(mail = id, error = %e, "mail outcome not recorded"),
        Err(e) => tracing::warn!(mail = id, error = %e, "mail outcome task failed"),
    }
}

/// An enrollment's latest code mail, for the officer console.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct MailView {
    /// `pending`, `retrying`, `sent` or `failed` (given up; the resident can ask
    /// for a resend).
    pub state: String,
    /// The console's words for `state`.
    pub note: String,
    pub attempts: u32,
    /// RFC 3339, once sent.
    pub sent_at: Option<String>,
}

/// The console's view of the latest code mail about `enrollment_id`.
pub fn view(
    state: &crate::state::AppState,
    enrollment_id: &str,
) -> Result<Option<MailView>, crate::store::StoreError> {
    use crate::store::outbox::Delivery;
    Ok(state.store.mail_state(enrollment_id)?.map(|m| {
        let (s, note) = match m.delivery {
            Delivery::Pending => ("pending", "Menunggu pengiriman"),
            Delivery::Retrying => ("retrying", "Gagal, akan dicoba lagi"),
            Delivery::Sent => ("sent", "Email terkirim"),
            Delivery::Failed => (
                "failed",
                "Gagal terkirim; warga dapat meminta kode dikirim ulang",
            ),
        };
        MailView {
            state: s.into(),
            note: note.into(),
            attempts: m.attempts,
            sent_at: m.sent_at,
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_is_capped_and_jittered_within_half() {
        let cfg = OutboxConfig {
            retry_base_ms: 1_000,
            retry_max_secs: 10,
            ..OutboxConfig::default()
        };
        let at = |a, j| backoff(&cfg, a, j).as_millis();
        assert_eq!((at(1, 0.0), at(1, 0.999_999)), (500, 999));
        assert_eq!((at(2, 0.0), at(3, 0.0)), (1_000, 2_000));
        // Capped at 10 s: from the 5th attempt on, 5..10 s.
        assert_eq!((at(5, 0.0), at(9, 0.0), at(40, 0.0)), (5_000, 5_000, 5_000));
        assert!(at(40, 0.5) == 7_500);
        for a in 1..12 {
            let (lo, hi) = (at(a, 0.0), at(a, 0.999_999));
            assert!(
                lo <= hi && hi < 2 * lo.max(1) + 1,
                "attempt {a}: {lo}..{hi}"
            );
        }
        assert!((0..100).map(|_| jitter()).all(|j| (0.0..1.0).contains(&j)));
    }
}
