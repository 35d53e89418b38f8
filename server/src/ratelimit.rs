//! In-memory token buckets keyed by a string ("submit:127.0.0.1", …).

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
        let rate = f64::from(per_minute.max(1)) / 60.0;
        let entry = b.entry(key.to_owned()).or_insert((f64::from(burst), now));
        let elapsed = (now - entry.1).num_milliseconds().max(0) as f64 / 1000.0;
        entry.0 = (entry.0 + elapsed * rate).min(f64::from(burst));
        entry.1 = now;
        if entry.0 >= 1.0 {
            entry.0 -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - entry.0) / rate).ceil().max(1.0) as u64)
        }
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
