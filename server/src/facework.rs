//! The face-check worker: one per node, working the store's queue of pending face
//! checks (`store::facequeue`) off the request path.
//!
//! - A submit (or a PIN reset with a selfie) stores [`FaceCheck::Pending`] and answers
//!   at once; its write queued the check. This worker claims one check at a time
//!   (a lease; PostgreSQL `FOR UPDATE SKIP LOCKED`, shared with the mail queue:
//!   `store::lease`), has [`FaceCheck::of_jpeg`] run on the node's face thread (one:
//!   a node spends at most one core on face checks; Linux `SCHED_IDLE`: it runs when
//!   no request wants the core), and writes the verdict into the enrollment in the
//!   same transaction that marks the row done (a compare-and-swap on the enrollment:
//!   a request that wrote it meanwhile makes the worker read it again, never lose
//!   that write). The store calls and the enrollment's lock are taken at normal
//!   priority on tokio's blocking pool, never by the idle thread: a request never
//!   waits on a lock held by a thread that only runs when the machine is idle.
//! - A machine that is never idle starves the face thread (the kernel still gives
//!   `SCHED_IDLE` a sliver, ~0.3 % of a busy core): the checks wait in the queue
//!   (the store, not memory: nothing is lost), the officer sees "pending". Every
//!   [`BACKLOG_EVERY`] the worker logs a warning with the queue's depth when its
//!   oldest check has waited over [`BACKLOG_ALARM_SECS`]; the cure is a `face`
//!   node (`ikd-server serve --role face`) on other cores.
//! - A node that dies mid-check leaves its row due again when the lease ends
//!   ([`LEASE_SECS`]); another node checks it. A selfie that was claimed
//!   [`MAX_ATTEMPTS`] times without a verdict (say it crashed the nodes) is recorded
//!   `unreadable` without decoding it again.
//! - It wakes at once when this node queues a check, and polls every
//!   `outbox.poll_ms` for checks other nodes queued (a `face` node, which queues none,
//!   every [`FACE_NODE_POLL`]).

use crate::face::FaceCheck;
use crate::state::{AppState, SharedState};
use crate::store::facequeue::{ClaimedFaceCheck, FacePurpose};
use crate::store::lease::Lease;
use crate::store::{Enrollment, StoreError, StoreResult};
use chrono::Utc;
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a claim holds a check (a check takes tens of milliseconds).
pub const LEASE_SECS: i64 = 60;
/// Claims of one check before it is recorded unreadable unchecked.
pub const MAX_ATTEMPTS: u32 = 3;
/// A check waiting unclaimed longer than this is the face workers falling behind.
pub const BACKLOG_ALARM_SECS: i64 = 60;
/// A `face` node looks for due checks at least this often (others wait `outbox.poll_ms`
/// for other nodes' checks: they are woken by their own).
pub const FACE_NODE_POLL: Duration = Duration::from_millis(200);
/// How often the worker looks at the queue's backlog.
pub const BACKLOG_EVERY: Duration = Duration::from_secs(30);

/// A selfie for the face thread, and where its verdict goes.
type Job = (Vec<u8>, mpsc::SyncSender<FaceCheck>);

/// The node's face thread: decodes selfies and looks for faces, at idle priority. It
/// holds no lock and makes no store call: only CPU.
pub struct FaceThread {
    jobs: Mutex<mpsc::Sender<Job>>,
}

impl FaceThread {
    /// Starts the thread (named `ikd-face`), at [`lower_priority`]'s policy.
    pub fn spawn() -> std::io::Result<Self> {
        let (jobs, inbox) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("ikd-face".into())
            .spawn(move || {
                lower_priority();
                // Ends when the last sender (the worker) is gone.
                while let Ok((jpeg, answer)) = inbox.recv() {
                    let _ = answer.send(FaceCheck::of_jpeg(&jpeg));
                }
            })?;
        Ok(Self {
            jobs: Mutex::new(jobs),
        })
    }

    /// The verdict on `jpeg`, computed on the face thread (the caller waits); on the
    /// caller's thread if the face thread is gone.
    pub fn verdict(&self, jpeg: &[u8]) -> FaceCheck {
        let (tx, rx) = mpsc::sync_channel(1);
        let sent = self
            .jobs
            .lock()
            .map_err(|_| ())
            .and_then(|j| j.send((jpeg.to_vec(), tx)).map_err(|_| ()));
        match sent.and_then(|()| rx.recv().map_err(|_| ())) {
            Ok(v) => v,
            Err(()) => FaceCheck::of_jpeg(jpeg),
        }
    }
}

/// Starts this node's worker; it ends when the state is dropped. Each round (claim,
/// selfie, verdict written) runs on tokio's blocking pool; the verdict itself on the
/// [`FaceThread`].
pub fn spawn_worker(state: &SharedState, role: crate::config::Role) {
    let mut poll = Duration::from_millis(state.outbox.poll_ms.max(10));
    if role == crate::config::Role::Face {
        // Every check a face node does was queued by another node: polling is all it
        // has, so it polls often (one indexed query).
        poll = poll.min(FACE_NODE_POLL);
    }
    let faces = match FaceThread::spawn() {
        Ok(f) => Arc::new(f),
        Err(e) => {
            tracing::error!(error = %e, "no face-check thread: face checks stay pending");
            return;
        }
    };
    let looked = Arc::new(Mutex::new(Instant::now()));
    crate::outbox::spawn_queue_worker(
        state,
        state.store.face_wakeup(),
        poll,
        "face_checks",
        move |state| {
            let (faces, looked) = (faces.clone(), looked.clone());
            async move {
                tokio::task::spawn_blocking(move || {
                    watch_backlog(&state, &looked);
                    run_once(&state, &|jpeg| faces.verdict(jpeg))
                })
                .await
                .map_err(|e| StoreError::Pool(e.to_string()))?
            }
        },
    );
}

/// Every [`BACKLOG_EVERY`]: a warning with the queue's depth when its oldest check
/// waited over [`BACKLOG_ALARM_SECS`] (the face workers are not keeping up).
fn watch_backlog(state: &AppState, looked: &Mutex<Instant>) {
    let Ok(mut last) = looked.lock() else { return };
    if last.elapsed() < BACKLOG_EVERY {
        return;
    }
    *last = Instant::now();
    drop(last);
    match state.store.face_backlog() {
        Ok(b) => {
            let waited = b
                .oldest_due
                .map(|t| (Utc::now() - t).num_seconds())
                .unwrap_or(0);
            if waited > BACKLOG_ALARM_SECS {
                tracing::warn!(
                    waiting = b.waiting,
                    oldest_secs = waited,
                    "face checks falling behind (a busy machine starves the idle face thread; add a `--role face` node)"
                );
            }
        }
        Err(e) => tracing::warn!(error = %e, "face check backlog unknown"),
    }
}

/// Lowers the calling thread's scheduling to Linux `SCHED_IDLE` (per thread; threads
/// it starts inherit it): it runs only on a core no normal thread wants. Elsewhere,
/// or if refused, the lowest nice value the platform allows through the same crate.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        use thread_priority::{
            set_thread_priority_and_policy, thread_native_id, NormalThreadSchedulePolicy,
            ThreadPriority, ThreadSchedulePolicy,
        };
        let idle = ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Idle);
        if let Err(e) =
            set_thread_priority_and_policy(thread_native_id(), ThreadPriority::Min, idle)
        {
            tracing::warn!(error = ?e, "face-check thread keeps the normal priority");
        }
    }
}

/// Claims one due check and works it, the verdict from `of_jpeg`; true if one was
/// claimed (more may be due).
pub fn run_once(state: &AppState, of_jpeg: &dyn Fn(&[u8]) -> FaceCheck) -> StoreResult<bool> {
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
        match check(state, &c, of_jpeg) {
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
fn verdict(
    jpeg: Option<&[u8]>,
    attempts: u32,
    of_jpeg: &dyn Fn(&[u8]) -> FaceCheck,
) -> Option<FaceCheck> {
    if attempts > MAX_ATTEMPTS {
        return Some(FaceCheck::Unreadable);
    }
    jpeg.map(of_jpeg)
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
/// The verdict is computed with no lock held.
fn check(
    state: &AppState,
    c: &ClaimedFaceCheck,
    of_jpeg: &dyn Fn(&[u8]) -> FaceCheck,
) -> StoreResult<bool> {
    let mut jpeg = match c.purpose {
        FacePurpose::Enrollment => state.store.selfie(&c.enrollment_id)?,
        FacePurpose::PinReset => state
            .store
            .enrollment(&c.enrollment_id)?
            .as_ref()
            .and_then(reset_jpeg),
    };
    let mut v = verdict(jpeg.as_deref(), c.attempts, of_jpeg);
    let mut tries = 0;
    loop {
        tries += 1;
        // This node's requests on the enrollment wait meanwhile (fewer conflicts).
        let g = state.transition_lock(&c.enrollment_id);
        let Some(mut e) = state.store.enrollment(&c.enrollment_id)? else {
            return state.store.finish_face_check(c.id, &c.claim, None);
        };
        if c.purpose == FacePurpose::PinReset {
            let now_jpeg = reset_jpeg(&e);
            if now_jpeg != jpeg {
                // A new PIN reset's selfie came meanwhile: check that one (unlocked,
                // then look again; locked if it keeps changing).
                v = verdict(now_jpeg.as_deref(), c.attempts, of_jpeg);
                jpeg = now_jpeg;
                if tries < 5 {
                    drop(g);
                    continue;
                }
            }
        }
        apply(&mut e, c.purpose, v);
        match state.store.finish_face_check(c.id, &c.claim, Some(&e)) {
            Err(StoreError::Conflict) if tries < 5 => continue,
            r => return r,
        }
    }
}
