//! An open vault session with an idle timeout (lock after 120 s without activity).

use super::UnlockedKey;
use chrono::{DateTime, Duration, Utc};

/// Default idle timeout.
pub const DEFAULT_IDLE_TIMEOUT_SECS: i64 = 120;

/// The open key and when the resident last did something. Drop it to lock.
#[derive(Debug)]
pub struct Session {
    key: UnlockedKey,
    last_activity: DateTime<Utc>,
}

impl Session {
    pub fn new(key: UnlockedKey, now: DateTime<Utc>) -> Self {
        Self {
            key,
            last_activity: now,
        }
    }

    pub fn key(&self) -> &UnlockedKey {
        &self.key
    }

    /// Resident activity.
    pub fn touch(&mut self, now: DateTime<Utc>) {
        self.last_activity = now;
    }

    /// No activity for `timeout` (or the clock went back further than that, which
    /// is treated the same way: lock).
    pub fn is_idle(&self, now: DateTime<Utc>, timeout: Duration) -> bool {
        let since = now - self.last_activity;
        since >= timeout || since < -timeout
    }

    /// [`Self::is_idle`] with the default 120 s.
    pub fn is_idle_default(&self, now: DateTime<Utc>) -> bool {
        self.is_idle(now, Duration::seconds(DEFAULT_IDLE_TIMEOUT_SECS))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn idles_after_timeout() {
        let t = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let mut s = Session::new(UnlockedKey::from_slice(&[7; 32]).unwrap(), t);
        assert!(!s.is_idle_default(t + Duration::seconds(119)));
        assert!(s.is_idle_default(t + Duration::seconds(120)));
        s.touch(t + Duration::seconds(100));
        assert!(!s.is_idle_default(t + Duration::seconds(200)));
        assert!(s.is_idle_default(t - Duration::hours(1)));
        assert!(!format!("{s:?}").contains("7, 7"));
    }
}
