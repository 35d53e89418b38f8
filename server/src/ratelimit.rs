//! Token buckets keyed by a string ("submit:127.0.0.1", …). The server keeps them in
//! the store (`Store::take_rate_token`, rows with their last refill time), so they count
//! across every node; [`take`] is the bucket arithmetic both backends use, and
//! [`RateLimiter`] an in-memory bucket set on the same arithmetic.

/// One bucket step: refills `tokens` (last at `at`) up to `burst` at `per_minute`, then
/// takes one. Returns the bucket's new token count and `Err(retry_after_secs)` when it
/// was empty (nothing taken).
pub fn take(
    tokens: f64,
    at: DateTime<Utc>,
    burst: u32,
    per_minute: u32,
    now: DateTime<Utc>,
) -> (f64, Result<(), u64>) {
    let rate = f64::from(per_minute.max(1)) / 60.0;
    let elapsed = (now - at).num_milliseconds().max(0) as f64 / 1000.0;
    let t = (tokens + elapsed * rate).min(f64::from(burst));
    if t >= 1.0 {
        (t - 1.0, Ok(()))
    } else {
        (t, Err(((1.0 - t) / rate).ceil().max(1.0) as u64))
    }
}

use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Default)]
pub struct RateLimiter {
    buckets: Mutex<HashMap<String, (f64, DateTime<Utc>)>>,
}

impl RateLimiter {
    /// Takes one token from `key`'s bucket (`burst` deep, refilled `per_minute`).
    /// `Err(retry_after_secs)` when empty.
    pub fn check(
        &self,
        key: &str,
        burst: u32,
        per_minute: u32,
        now: DateTime<Utc>,
    ) -> Result<(), u64> {
        let mut b = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if b.len() > 100_000 {
            b.clear();
        }
        let entry = b.entry(key.to_owned()).or_insert((f64::from(burst), now));
        let (tokens, taken) = take(entry.0, entry.1, burst, per_minute, now);
        *entry = (tokens, now);
        taken
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn bucket_empties_and_refills() {
        let r = RateLimiter::default();
        let t = Utc::now();
        assert!(r.check("k", 2, 60, t).is_ok());
        assert!(r.check("k", 2, 60, t).is_ok());
        assert_eq!(r.check("k", 2, 60, t), Err(1));
        assert!(r.check("other", 2, 60, t).is_ok());
        assert!(r
            .check("k", 2, 60, t + chrono::Duration::seconds(1))
            .is_ok());
    }
}
