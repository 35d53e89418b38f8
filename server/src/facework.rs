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

/// The nice value of the face-check thread: the node's requests (nice 0) come first
/// when both want the cores, and the checks still move on (CFS gives nice 10 about a
/// tenth of a core that a nice-0 thread also wants).
pub const FACE_NICE: i32 = 10;

/// One face check for the face thread: the state, and where its result goes.
type Job = (SharedState, tokio::sync::oneshot::Sender<StoreResult<bool>>);

/// Starts this node's worker; it ends when the state is dropped. The checks run on a
/// thread of their own at [`FACE_NICE`] (not on tokio's blocking pool, whose threads
/// then serve requests), so that during a burst of requests they yield the cores.
pub fn spawn_worker(state: &SharedState) {
    let poll = Duration::from_millis(state.outbox.poll_ms.max(10));
    let (jobs, inbox) = std::sync::mpsc::channel::<Job>();
    let spawned = std::thread::Builder::new()
        .name("ikd-face".into())
        .spawn(move || {
            lower_priority();
            // Ends when the queue worker (the sender) is gone.
            while let Ok((state, answer)) = inbox.recv() {
                let _ = answer.send(run_once(&state));
            }
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "no face-check thread: face checks stay pending");
        return;
    }
    crate::outbox::spawn_queue_worker(
        state,
        state.store.face_wakeup(),
        poll,
        "face_checks",
        move |state| {
            let (tx, rx) = tokio::sync::oneshot::channel();
            let sent = jobs.send((state, tx));
            async move {
                sent.map_err(|e| StoreError::Pool(e.to_string()))?;
                rx.await.map_err(|e| StoreError::Pool(e.to_string()))?
            }
        },
    );
}

/// Lowers the calling thread's scheduling priority to [`FACE_NICE`] (Linux: the nice
/// value is per thread, and threads it starts inherit it). Elsewhere a no-op.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        let tid = rustix::thread::gettid();
        if let Err(e) = rustix::process::setpriority_process(Some(tid), FACE_NICE) {
            tracing::warn!(error = %e, "face-check thread keeps the normal priority");
        }
    }
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

/// The selfie of a PIN reset's check (the enrollment's own is read from the store
/// once: it never changes after submit).
fn reset_jpeg(e: &Enrollment) -> Option<Vec<u8>> {
    e.pin_reset
        .as_ref()
        .and_then(|r| r.selfie_jpeg.as_deref())
        .and_then(crate::crypto::b64_decode)
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
    let mut jpeg = match c.purpose {
        FacePurpose::Enrollment => state.store.selfie(&c.enrollment_id)?,
        FacePurpose::PinReset => state
            .store
            .enrollment(&c.enrollment_id)?
            .as_ref()
            .and_then(reset_jpeg),
    };
    let mut v = verdict(jpeg.as_deref(), c.attempts);
    let mut tries = 0;
    loop {
        tries += 1;
        // This node's requests on the enrollment wait meanwhile (fewer conflicts).
        let _g = state.transition_lock(&c.enrollment_id);
        let Some(mut e) = state.store.enrollment(&c.enrollment_id)? else {
            return state.store.finish_face_check(c.id, &c.claim, None);
        };
        if c.purpose == FacePurpose::PinReset {
            let now_jpeg = reset_jpeg(&e);
            if now_jpeg != jpeg {
                // A new PIN reset's selfie came meanwhile: check that one.
                v = verdict(now_jpeg.as_deref(), c.attempts);
                jpeg = now_jpeg;
            }
        }
        apply(&mut e, c.purpose, v);
        match state.store.finish_face_check(c.id, &c.claim, Some(&e)) {
            Err(StoreError::Conflict) if tries < 5 => continue,
            r => return r,
        }
    }
}
