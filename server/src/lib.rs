//! ikd-server: the IKD reference backend.
//!
//! - a SIAK simulator behind the [`siak::Siak`] trait (synthetic residents, seeded
//!   deterministically: [`siak::seed`]);
//! - the enrollment API the resident's app talks to ([`api::enroll`], service
//!   [`enrollment`]);
//! - the officer desk: login, rotating desk QR, queue, approve/reject ([`api::officer`],
//!   services [`auth`] and [`enrollment`]);
//! - activation code by email: queued in the store with the code, sent by a worker
//!   on any node over SMTP and/or into the dev outbox ([`outbox`], [`mail`],
//!   [`codes`], [`activation`]);
//! - an OpenID4VCI 1.0 issuer (pre-authorised code flow) of SD-JWT VC KTP and KK
//!   ([`api::oid4vci`], service [`issuance`]).
//!
//! Layers, each importing only those below it: `api` (extract, call a service, answer)
//! → services (`enrollment`, `activation`, `issuance`, `auth`, `demo`, `outbox`) → `codes`,
//! `tokens`, `credentials` → [`state`] and [`error`] → `siak`, `store`, `mail`,
//! `deskqr`, `ratelimit`, `crypto`, `config`.
//!
//! [`start`] runs it in-process (tests, the app's demo mode); the `ikd-server` binary
//! wraps it with commands.
#![forbid(unsafe_code)]

pub mod activation;
pub mod api;
pub mod auth;
pub mod clientip;
pub mod codes;
pub mod config;
pub mod conflict;
pub mod console;
pub mod credentials;
pub mod crypto;
pub mod demo;
pub mod deskqr;
pub mod dpop;
pub mod enrollment;
pub mod error;
pub mod face;
pub mod facework;
pub mod idempotency;
pub mod issuance;
pub mod mail;
pub mod notify;
pub mod openapi;
pub mod outbox;
pub mod pinreset;
pub mod ratelimit;
pub mod siak;
pub mod sms;
pub mod state;
pub mod status_list;
pub mod store;
pub mod tokens;
pub mod upload;
pub mod x5c;

pub use config::{Config, Limits, Role, SmtpConfig, TlsMode};
pub use error::{ApiErr, ServerError};
pub use state::{open_state, AppState, SharedState};

use std::net::SocketAddr;
use std::sync::Arc;

/// A server running on a tokio task. Drop or call [`RunningServer::shutdown`] to stop it.
pub struct RunningServer {
    pub addr: SocketAddr,
    pub base_url: String,
    pub state: SharedState,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<()>>,
}

impl RunningServer {
    /// Stops accepting, finishes in-flight requests, and waits for the server task.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.handle.take() {
            let _ = h.await;
        }
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Binds `config.addr` (use port 0 for an ephemeral port), opens the data dir, and
/// serves until shut down. Seeds the demo residents and officer when `config.demo`.
pub async fn start(config: Config) -> Result<RunningServer, ServerError> {
    let listener = tokio::net::TcpListener::bind(config.addr).await?;
    let addr = listener.local_addr()?;
    let base_url = match &config.public_url {
        Some(u) => u.trim_end_matches('/').to_owned(),
        None => format!("http://{addr}"),
    };
    let state = open_state(&config, base_url.clone())?;
    if config.demo {
        demo::ensure_demo(state.store.as_ref(), config.seed_residents, config.seed)?;
    }
    let state: SharedState = Arc::new(state);
    let role = config.role;
    if role.serves_api() {
        tokens::spawn_nonce_pruning(&state, std::time::Duration::from_secs(60));
        upload::spawn_sweep(&state, std::time::Duration::from_secs(600));
        state::spawn_pruning(&state, std::time::Duration::from_secs(600));
    }
    if config.workers && role.serves_api() {
        outbox::spawn_worker(&state);
    }
    if config.workers && role.checks_faces() {
        facework::spawn_worker(&state, role);
    }
    let app = if role.serves_api() {
        api::router(state.clone())
    } else {
        api::health_router(state.clone())
    };
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let handle = tokio::spawn(async move {
        let served = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            let _ = rx.await;
        })
        .await;
        if let Err(e) = served {
            tracing::error!(error = %e, "server stopped with an error");
        }
    });
    tracing::info!(%addr, ?role, "ikd-server listening");
    Ok(RunningServer {
        addr,
        base_url,
        state,
        shutdown: Some(tx),
        handle: Some(handle),
    })
}
