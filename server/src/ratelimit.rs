//! Token buckets keyed by a string ("submit:127.0.0.1", …). The server keeps them in
//! the store (`Store::take_rate_token`, rows with their last refill time), so they count
//! across every node; [`take`] is the bucket arithmetic both backends use, and
//! [`RateLimiter`] an in-memory bucket set on the same arithmetic, bounded: past
//! [`MAX_KEYS`] the least recently used bucket is evicted (never every bucket at
//! once). Client addresses are keyed by [`ip_key`] (IPv6 by its /64), after
//! [`crate::clientip`] found the client behind a trusted proxy. [`Lockout`] counts
//! failed officer logins per account.

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

use chrono::{DateTime, Duration, Utc};
use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::sync::Mutex;

/// How many buckets are kept at most.
pub const MAX_KEYS: usize = 100_000;

struct Bucket {
    tokens: f64,
    at: DateTime<Utc>,
    /// Position in the recency order.
    seq: u64,
}

#[derive(Default)]
struct Buckets {
    by_key: HashMap<String, Bucket>,
    /// seq → key, oldest first.
    order: BTreeMap<u64, String>,
    next_seq: u64,
}

pub struct RateLimiter {
    buckets: Mutex<Buckets>,
    capacity: usize,
}

impl Default for RateLimiter {
    fn default() -> Self {
        Self::with_capacity(MAX_KEYS)
    }
}

impl RateLimiter {
    /// A limiter keeping at most `capacity` buckets (least recently used evicted).
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            buckets: Mutex::new(Buckets::default()),
            capacity: capacity.max(1),
        }
    }

    /// Takes one token from `key`'s bucket (`burst` deep, refilled `per_minute`).
    /// `Err(retry_after_secs)` when empty.
    pub fn check(
        &self,
        key: &str,
        burst: u32,
        per_minute: u32,
        now: DateTime<Utc>,
    ) -> Result<(), u64> {
        let mut guard = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let b = &mut *guard;
        let seq = b.next_seq;
        b.next_seq += 1;
        if !b.by_key.contains_key(key) {
            while b.by_key.len() >= self.capacity {
                let Some((_, oldest)) = b.order.pop_first() else {
                    break;
                };
                b.by_key.remove(&oldest);
            }
        }
        let entry = b.by_key.entry(key.to_owned()).or_insert(Bucket {
            tokens: f64::from(burst),
            at: now,
            seq,
        });
        b.order.remove(&entry.seq);
        entry.seq = seq;
        b.order.insert(seq, key.to_owned());
        let (tokens, taken) = take(entry.tokens, entry.at, burst, per_minute, now);
        entry.tokens = tokens;
        entry.at = now;
        taken
    }

    /// How many buckets are kept now.
    pub fn len(&self) -> usize {
        self.buckets
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .by_key
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The rate-limit key of a client address: an IPv4 address as it is, an IPv6 address
/// by its /64 (one subscriber's prefix: rotating addresses inside it gains nothing),
/// an IPv4-mapped IPv6 address as the IPv4 address.
pub fn ip_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

/// How long an officer account is locked after `failures` failed logins in a row:
/// nothing before [`Lockout::AFTER`], then [`Lockout::FIRST_LOCK_MINUTES`], doubling
/// with each further failure (at most a day). The store's lockout
/// (`Store::login_failed`, across nodes) and [`Lockout`] both use it.
pub fn lock_for(failures: u32) -> Option<Duration> {
    let over = failures.checked_sub(Lockout::AFTER)?;
    let minutes = (Lockout::FIRST_LOCK_MINUTES << over.min(7)).min(24 * 60);
    Some(Duration::minutes(minutes))
}

/// Failed officer logins per account, in memory: after [`Lockout::AFTER`] failures in a row the
/// account is locked for [`Lockout::FIRST_LOCK_MINUTES`], doubling with each further
/// failure (at most a day). A successful login clears it. Bounded like the buckets.
#[derive(Default)]
pub struct Lockout {
    failures: Mutex<HashMap<String, Failures>>,
}

/// Failures in a row, and the end of the current lock.
type Failures = (u32, Option<DateTime<Utc>>);

impl Lockout {
    pub const AFTER: u32 = 5;
    pub const FIRST_LOCK_MINUTES: i64 = 15;

    /// `Err(retry_after_secs)` while `key` is locked.
    pub fn check(&self, key: &str, now: DateTime<Utc>) -> Result<(), u64> {
        let f = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        match f.get(key) {
            Some((_, Some(until))) if *until > now => {
                Err((*until - now).num_seconds().max(1) as u64)
            }
            _ => Ok(()),
        }
    }

    /// Counts a failure; returns the lock's end when this one locks the account.
    pub fn fail(&self, key: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let mut f = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if f.len() >= MAX_KEYS && !f.contains_key(key) {
            // Drop the unlocked entries first; they are the cheap ones to lose.
            f.retain(|_, (_, until)| until.is_some_and(|u| u > now));
            if f.len() >= MAX_KEYS {
                return None;
            }
        }
        let e = f.entry(key.to_owned()).or_insert((0, None));
        e.0 += 1;
        let until = now + lock_for(e.0)?;
        e.1 = Some(until);
        Some(until)
    }

    pub fn clear(&self, key: &str) {
        self.failures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(key);
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

    /// Issue 11 item 5: a flood of fresh keys evicts the least recently used bucket
    /// only; before the fix every bucket was cleared past 100,000 keys, so an empty
    /// bucket came back full.
    #[test]
    fn a_flood_of_keys_evicts_the_oldest_not_every_bucket() {
        let r = RateLimiter::with_capacity(3);
        let t = Utc::now();
        assert!(r.check("attacker", 1, 1, t).is_ok());
        assert!(r.check("attacker", 1, 1, t).is_err());
        assert!(r.check("old", 1, 1, t).is_ok());
        // The attacker's bucket is the most recently used: fresh keys push out "old".
        assert!(r.check("attacker", 1, 1, t).is_err());
        for k in ["f1", "f2"] {
            assert!(r.check(k, 1, 1, t).is_ok());
        }
        assert_eq!(r.len(), 3);
        assert!(r.check("attacker", 1, 1, t).is_err(), "still empty");
        // "old" was evicted: it starts again full.
        assert!(r.check("old", 1, 1, t).is_ok());
    }

    #[test]
    fn ipv6_is_keyed_by_its_64_and_mapped_ipv4_as_ipv4() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff:1:2:3".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(ip_key(a), ip_key(b));
        assert_ne!(ip_key(a), ip_key(c));
        let m: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(ip_key(m), "192.0.2.7");
    }

    #[test]
    fn five_failed_logins_lock_the_account_with_escalating_waits() {
        let l = Lockout::default();
        let t = Utc::now();
        for _ in 0..4 {
            assert_eq!(l.fail("siti", t), None);
            assert!(l.check("siti", t).is_ok());
        }
        let until = l.fail("siti", t).unwrap();
        assert_eq!(until - t, Duration::minutes(15));
        assert!(l.check("siti", t).is_err());
        assert!(l.check("budi", t).is_ok(), "per account");
        let later = until + Duration::seconds(1);
        assert!(l.check("siti", later).is_ok());
        assert_eq!(
            l.fail("siti", later).unwrap() - later,
            Duration::minutes(30)
        );
        l.clear("siti");
        assert!(l.check("siti", later).is_ok());
    }
}
