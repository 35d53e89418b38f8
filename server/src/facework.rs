//! The face-check worker: one per node, working the store's queue of pending face
//! checks (`store::facequeue`) off the request path.
//!
//! - A submit (or a PIN reset with a selfie) stores [`FaceCheck::Pending`] and answers
//!   at once; its write queued the check. This worker claims one check at a time
//!   (a lease; PostgreSQL `FOR UPDATE SKIP LOCKED`, shared with the mail queue:
//!   `store::lease`), runs [`FaceCheck::of_jpeg`] on a blocking thread (so a node
//!   spends at most one core on face checks and requests keep the other), and writes
//!   the verdict into the enrollment in the same transaction that marks the row done
//!   (a compare-and-swap on the enrollment: a request that wrote it meanwhile makes
//!   the worker read it again, never lose that write).
//! - A node that dies mid-check leaves its row due again when the lease ends
//!   ([`LEASE_SECS`]); another node checks it. A selfie that was claimed
//!   [`MAX_ATTEMPTS`] times without a verdict (say it crashed the nodes) is recorded
//!   `unreadable` without decoding it again.
//! - It wakes at once when this node queues a check, and polls every
//!   `outbox.poll_ms` for checks other nodes queued.

use crate::face::FaceCheck;
use crate::state::{AppState, SharedState};
use crate::store::facequeue::{ClaimedFaceCheck, FacePurpose};
use crate::store::lease::Lease;
use crate::store::{Enrollment, StoreError, StoreResult};
use chrono::Utc;
use std::time::Duration;

/// How long a claim holds a check (a check takes tens of milliseconds).
pub const LEASE_SECS: i64 = 60;
/// Claims of one check before it is recorded unreadable unchecked.
pub const MAX_ATTEMPTS: u32 = 3;

/// Starts this node's worker; it ends when the state is dropped.
pub fn spawn_worker(state: &SharedState) {
    let poll = Duration::from_millis(state.outbox.poll_ms.max(10));
    crate::outbox::spawn_queue_worker(
        state,
        state.store.face_wakeup(),
        poll,
        "face_checks",
        |state| async move {
            let st = state.clone();
            tokio::task::spawn_blocking(move || run_once(&st))
                .await
                .map_err(|e| StoreError::Pool(e.to_string()))?
        },
    );
}

/// Claims one due check and works it; true if one was claimed (more may be due).
pub fn run_once(state: &AppState) -> StoreResult<bool> {
    let claim = crate::crypto::random_id();
    let now = Utc::now();
    let lease = Lease {
        claim_end: now + chrono::Duration::seconds(LEASE_SECS),
        // One more than the bound: the last claim records `unreadable` unchecked.
        max_attempts: MAX_ATTEMPTS + 1,
        limit: 1,
    };
    let claimed = state.store.claim_face_checks(&claim, now, &lease)?;
    let any = !claimed.is_empty();
    for c in claimed {
        match check(state, &c) {
            Ok(true) => {
                tracing::info!(enrollment = %c.enrollment_id, purpose = c.purpose.as_str(), "face checked")
            }
            Ok(false) => tracing::warn!(enrollment = %c.enrollment_id, "face check claim lost"),
            Err(e) => {
                tracing::warn!(enrollment = %c.enrollment_id, error = %e, "face check not recorded")
            }
        }
    }
    Ok(any)
}

/// The selfie a check is for.
fn jpeg_of(e: &Enrollment, purpose: FacePurpose) -> Option<Vec<u8>> {
    match purpose {
        FacePurpose::Enrollment => Some(e.selfie.clone()),
        FacePurpose::PinReset => e
            .pin_reset
            .as_ref()
            .and_then(|r| r.selfie_jpeg.as_deref())
            .and_then(crate::crypto::b64_decode),
    }
}

/// The verdict of `jpeg` on the `attempts`-th claim.
fn verdict(jpeg: Option<&[u8]>, attempts: u32) -> Option<FaceCheck> {
    if attempts > MAX_ATTEMPTS {
        return Some(FaceCheck::Unreadable);
    }
    jpeg.map(FaceCheck::of_jpeg)
}

/// Writes `v` where `e` says the check is pending (a PIN reset decided meanwhile,
/// its selfie dropped, gets none).
fn apply(e: &mut Enrollment, purpose: FacePurpose, v: Option<FaceCheck>) {
    match purpose {
        FacePurpose::Enrollment => {
            if e.face == Some(FaceCheck::Pending) {
                e.face = Some(v.unwrap_or(FaceCheck::Unreadable));
            }
        }
        FacePurpose::PinReset => {
            if let Some(r) = e.pin_reset.as_mut() {
                if r.face == Some(FaceCheck::Pending) {
                    r.face = v;
                }
            }
        }
    }
}

/// Checks one claimed selfie and records the verdict; false if the claim was lost.
fn check(state: &AppState, c: &ClaimedFaceCheck) -> StoreResult<bool> {
    let first = state.store.enrollment(&c.enrollment_id)?;
    let mut jpeg = first.as_ref().and_then(|e| jpeg_of(e, c.purpose));
    let mut v = verdict(jpeg.as_deref(), c.attempts);
    let mut tries = 0;
    loop {
        tries += 1;
        // This node's requests on the enrollment wait meanwhile (fewer conflicts).
        let _g = state.transition_lock(&c.enrollment_id);
        let Some(mut e) = state.store.enrollment(&c.enrollment_id)? else {
            return state.store.finish_face_check(c.id, &c.claim, None);
        };
        let now_jpeg = jpeg_of(&e, c.purpose);
        if now_jpeg != jpeg {
            // A new PIN reset's selfie came meanwhile: check that one.
            v = verdict(now_jpeg.as_deref(), c.attempts);
            jpeg = now_jpeg;
        }
        apply(&mut e, c.purpose, v);
        match state.store.finish_face_check(c.id, &c.claim, Some(&e)) {
            Err(StoreError::Conflict) if tries < 5 => continue,
            r => return r,
        }
    }
}
