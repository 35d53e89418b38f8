//! Wrong-PIN lockout.
//!
//! Failures are counted in SQLite (`pin_attempts`), so the count survives restarts,
//! and again in the key store (`ikd.pin_failures`, written with every failure); the
//! vault uses the larger of the two ([`raise_to`]), so deleting the row or restoring
//! an older database gives no fresh tries, only a fresh wait.
//! Failure #1 and #2 cost nothing; #3 → wait 30 s, #4 → 90 s, #5 → 5 min, #6 and
//! later → 15 min each. After [`WIPE_AFTER`] failures in all, the cached documents
//! are wiped. A right PIN resets the count.
//!
//! Clock turned back: the row keeps `locked_until` and `last_seen_at` (the latest
//! wall-clock time observed). Time only counts while the clock moves forward: when
//! `now < last_seen_at`, no time has passed; the remaining wait is carried over and
//! `locked_until` re-based on the new `now`. So turning the clock back never
//! shortens a wait. (Turning it forward does; without a trusted time source that
//! cannot be told apart from real waiting, and the 10-failure wipe still bounds the
//! number of guesses.)

use crate::store::db::fmt_time;
use crate::store::vault_rows::AttemptsRow;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Wrong PINs in all before the cached documents are wiped.
pub const WIPE_AFTER: u32 = 10;

/// The wait imposed right after failure number `failures` (1-based).
pub fn delay_after(failures: u32) -> Duration {
    match failures {
        0..=2 => Duration::zero(),
        3 => Duration::seconds(30),
        4 => Duration::seconds(90),
        5 => Duration::minutes(5),
        _ => Duration::minutes(15),
    }
}

/// Moves the row's notion of time to `now`. Returns `true` when the clock was found
/// turned back (the row changed in a way that must be saved).
pub fn observe(row: &mut AttemptsRow, now: DateTime<Utc>) -> bool {
    match row.last_seen_at {
        Some(seen) if now < seen => {
            if let Some(until) = row.locked_until {
                let remaining = (until - seen).max(Duration::zero());
                row.locked_until = Some(now + remaining);
            }
            row.last_seen_at = Some(now);
            true
        }
        _ => {
            row.last_seen_at = Some(now);
            false
        }
    }
}

/// The wait left at `now` (after [`observe`]), if any.
pub fn remaining(row: &AttemptsRow, now: DateTime<Utc>) -> Option<Duration> {
    let until = row.locked_until?;
    let left = until - now;
    (left > Duration::zero()).then_some(left)
}

/// Counts one more wrong PIN at `now` and sets the wait.
pub fn record_failure(row: &mut AttemptsRow, now: DateTime<Utc>) {
    row.failures = row.failures.saturating_add(1);
    row.total_attempts = row.total_attempts.saturating_add(1);
    row.last_failure_at = Some(now);
    row.last_seen_at = Some(now);
    let d = delay_after(row.failures);
    row.locked_until = (d > Duration::zero()).then_some(now + d);
}

/// The key store's copy of the count is larger than the row's (the row was deleted
/// or an older database restored): the row takes that count, and the wait that
/// count imposes starts at `now` (its original start is not known). Returns `true`
/// when the row changed.
pub fn raise_to(row: &mut AttemptsRow, failures: u32, now: DateTime<Utc>) -> bool {
    if failures <= row.failures {
        return false;
    }
    row.failures = failures;
    row.last_failure_at = Some(now);
    row.last_seen_at = Some(now);
    let d = delay_after(failures);
    if d > Duration::zero() && row.locked_until.is_none_or(|u| u < now + d) {
        row.locked_until = Some(now + d);
    }
    true
}

/// A right PIN: the count starts over.
pub fn reset(row: &mut AttemptsRow, now: DateTime<Utc>) {
    row.failures = 0;
    row.last_failure_at = None;
    row.locked_until = None;
    row.last_seen_at = Some(now);
}

/// What the PIN pad shows.
pub fn view(row: &AttemptsRow, now: DateTime<Utc>) -> LockoutView {
    let left = remaining(row, now);
    LockoutView {
        failures: row.failures,
        attempts_left: WIPE_AFTER.saturating_sub(row.failures),
        locked_until: left.map(|l| fmt_time(now + l)),
        retry_after_secs: left.map(|l| {
            // Round up: never tell the resident to come back too early.
            let ms = l.num_milliseconds().max(0) as u64;
            ms.div_ceil(1000)
        }),
    }
}

/// PIN lockout state, shown on the PIN pad.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct LockoutView {
    /// Consecutive wrong PINs so far.
    pub failures: u32,
    /// Wrong PINs left before the cached documents are wiped (10 in all).
    pub attempts_left: u32,
    /// RFC 3339; the PIN pad waits until then.
    pub locked_until: Option<String>,
    #[ts(type = "number | null")]
    pub retry_after_secs: Option<u64>,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 1, 8, 0, 0).unwrap()
    }

    #[test]
    fn schedule() {
        let secs: Vec<i64> = (1..=8).map(|n| delay_after(n).num_seconds()).collect();
        assert_eq!(secs, vec![0, 0, 30, 90, 300, 900, 900, 900]);
    }

    #[test]
    fn clock_back_keeps_the_wait() {
        let mut r = AttemptsRow::default();
        for _ in 0..3 {
            record_failure(&mut r, t0());
        }
        assert_eq!(view(&r, t0()).retry_after_secs, Some(30));
        // 10 s pass, then the clock is turned back an hour.
        let now = t0() + Duration::seconds(10);
        assert!(!observe(&mut r, now));
        let back = t0() - Duration::hours(1);
        assert!(observe(&mut r, back));
        assert_eq!(view(&r, back).retry_after_secs, Some(20));
        // 20 real seconds later (on the turned-back clock) the wait is over.
        let later = back + Duration::seconds(20);
        observe(&mut r, later);
        assert_eq!(remaining(&r, later), None);
    }

    #[test]
    fn view_counts_attempts_left() {
        let mut r = AttemptsRow::default();
        record_failure(&mut r, t0());
        let v = view(&r, t0());
        assert_eq!((v.failures, v.attempts_left), (1, 9));
        assert_eq!(v.locked_until, None);
        reset(&mut r, t0());
        assert_eq!(view(&r, t0()).attempts_left, 10);
    }
}
