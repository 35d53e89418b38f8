//! The face check's own thread: one per process, started by [`start`] (from
//! `warm_up` or the first `process`). It reads the face model once into an
//! [`ikd_face::Checker`] and keeps it, so no picture pays for a copy of the 1.2 MB
//! model (with its ~300 fresh pages), and the model is read while the caller still
//! reads or decodes the picture. rustface's detector is not `Send`, hence a thread of
//! its own rather than a detector shared between threads.
//!
//! If the thread cannot be started, or is gone (a panic in the detector), the check
//! runs on the caller's thread instead ([`ikd_face::check_portrait`]).

use std::sync::mpsc;
use std::sync::OnceLock;

use ikd_face::{FaceError, Portrait};

type Outcome = Result<Portrait, FaceError>;

/// A grey picture to check, and where the outcome goes.
pub(crate) struct Job {
    gray: Vec<u8>,
    width: u32,
    height: u32,
    reply: mpsc::Sender<Outcome>,
}

/// The thread's queue (`None`: it could not be started).
fn queue() -> Option<&'static mpsc::Sender<Job>> {
    static QUEUE: OnceLock<Option<mpsc::Sender<Job>>> = OnceLock::new();
    QUEUE
        .get_or_init(|| {
            let (tx, rx) = mpsc::channel::<Job>();
            std::thread::Builder::new()
                .name("ikd-face".into())
                .spawn(move || serve(rx))
                .ok()
                .map(|_| tx)
        })
        .as_ref()
}

fn serve(jobs: mpsc::Receiver<Job>) {
    let mut checker = ikd_face::Checker::new();
    for job in jobs {
        let outcome = match &mut checker {
            Ok(c) => c.check_portrait(&job.gray, job.width, job.height),
            Err(e) => Err(e.clone()),
        };
        // The caller may have stopped waiting (its own error): nothing to do.
        let _ = job.reply.send(outcome);
    }
}

/// Starts the thread (it reads the model at once) unless it runs already.
pub(crate) fn start() {
    let _ = queue();
}

/// A check on its way.
pub(crate) enum Pending {
    Sent(mpsc::Receiver<Outcome>),
    Here(Job),
}

/// Hands `gray` (`width × height`) to the thread; [`Pending::wait`] gives the outcome.
pub(crate) fn submit(gray: Vec<u8>, width: u32, height: u32) -> Pending {
    let (reply, outcome) = mpsc::channel();
    let job = Job {
        gray,
        width,
        height,
        reply,
    };
    match queue() {
        Some(q) => match q.send(job) {
            Ok(()) => Pending::Sent(outcome),
            Err(mpsc::SendError(job)) => Pending::Here(job),
        },
        None => Pending::Here(job),
    }
}

impl Pending {
    pub(crate) fn wait(self) -> Outcome {
        match self {
            Pending::Sent(outcome) => match outcome.recv() {
                Ok(o) => o,
                // The thread is gone, and the picture with it: only after a panic there
                // (which aborts the release build). Counted as not seeing a face.
                Err(_) => Err(FaceError::Model(ikd_face::ModelError::Refused)),
            },
            Pending::Here(job) => ikd_face::check_portrait(&job.gray, job.width, job.height),
        }
    }
}
