//! A write that lost a race is run again.
//!
//! The store answers [`crate::store::StoreError::Conflict`] when the record changed
//! between a request's read and its write (another request, another node, or the face
//! worker recording its result wrote it first). Then the request's write part runs
//! again from a fresh read, up to [`TRIES`] times in all, so of two racing writers one
//! wins and the other sees its result.
//!
//! Only the write part goes in the loop. A request's single-use checks (its DPoP
//! `jti`, its proof's nonce, its rate-limit token) run once, before it: run again,
//! they would refuse the request's own proof as a replay. That was a real bug: an
//! activation whose enrollment the face worker updated meanwhile was answered "Bukti
//! DPoP sudah pernah dipakai" (`tests/tests/server_conflicts.rs`).

use crate::error::ApiErr;

/// Tries in all.
pub const TRIES: u32 = 5;

/// Runs `write` until it ends in anything but a conflict, at most [`TRIES`] times.
pub fn retry<T>(mut write: impl FnMut() -> Result<T, ApiErr>) -> Result<T, ApiErr> {
    let mut tries = 1;
    loop {
        match write() {
            Err(e) if e.conflict && tries < TRIES => tries += 1,
            r => return r,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::store::StoreError;

    #[test]
    fn a_conflict_runs_the_write_again_and_other_errors_do_not() {
        let mut runs = 0;
        let r = retry(|| {
            runs += 1;
            if runs < 3 {
                Err(ApiErr::from(StoreError::Conflict))
            } else {
                Ok(runs)
            }
        });
        assert_eq!(r.unwrap(), 3);

        let mut runs = 0;
        let r: Result<(), _> = retry(|| {
            runs += 1;
            Err(ApiErr::internal())
        });
        assert!(r.is_err());
        assert_eq!(runs, 1);
    }

    #[test]
    fn a_write_that_always_conflicts_ends_after_the_last_try() {
        let mut runs = 0;
        let r: Result<(), _> = retry(|| {
            runs += 1;
            Err(ApiErr::from(StoreError::Conflict))
        });
        assert!(r.unwrap_err().conflict);
        assert_eq!(runs, TRIES);
    }
}
