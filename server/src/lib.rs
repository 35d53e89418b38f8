//! ikd-server: the IKD reference backend.
//!
//! - a SIAK simulator (synthetic residents, seeded deterministically: [`seed`]);
//! - the enrollment API the resident's app talks to ([`api::enroll`]);
//! - the officer desk: login, rotating desk QR, queue, approve/reject ([`api::officer`]);
//! - activation code by email (SMTP and/or a dev outbox: [`mail`]);
//! - an OpenID4VCI 1.0 issuer (pre-authorised code flow) of SD-JWT VC KTP and KK
//!   ([`api::oid4vci`]).
//!
//! [`start`] runs it in-process (tests, the app's demo mode); the `ikd-server` binary
//! wraps it with commands.
#![forbid(unsafe_code)]

pub mod api;
pub mod config;
pub mod console;
pub mod crypto;
pub mod demo;
pub mod deskqr;
pub mod mail;
pub mod openapi;
pub mod portrait;
pub mod ratelimit;
pub mod seed;
pub mod store;
pub mod villages;

pub use config::{Config, Limits, SmtpConfig, TlsMode};

use ikd_proto::clock::Clock;
use ikd_proto::jose::EcKeyPair;
use std::net::SocketAddr;
use std::sync::Arc;
use store::{SqliteStore, Store};

/// Everything a handler needs.
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    /// Public base URL, also the `credential_issuer` identifier.
    pub issuer: String,
    pub issuer_key: EcKeyPair,
    /// Server secret for HMACs (desk QR, codes, derived offer codes).
    pub hmac_key: ring::hmac::Key,
    pub mailer: mail::Mailer,
    pub limits: Limits,
    pub limiter: ratelimit::RateLimiter,
    pub desks: deskqr::Desks,
    pub dev_mode: bool,
    /// Serialises enrollment state transitions (scan, approve, code checks).
    pub transition: std::sync::Mutex<()>,
}

impl AppState {
    pub fn transition_lock(&self) -> std::sync::MutexGuard<'_, ()> {
        self.transition.lock().unwrap_or_else(|p| p.into_inner())
    }
}

pub type SharedState = Arc<AppState>;

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("storage: {0}")]
    Store(#[from] store::StoreError),
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    #[error("key: {0}")]
    Key(String),
    #[error("config: {0}")]
    Config(String),
    #[error("mail: {0}")]
    Mail(String),
}

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

/// Opens (or creates) the data dir's database and keys, without serving.
pub fn open_state(config: &Config, issuer: String) -> Result<AppState, ServerError> {
    std::fs::create_dir_all(&config.data_dir)?;
    let store = SqliteStore::open(&config.data_dir.join("ikd-server.sqlite3"))?;
    let store: Arc<dyn Store> = Arc::new(store);
    let issuer_key = crypto::load_or_create_issuer_key(&config.data_dir)?;
    let hmac_key = crypto::load_or_create_hmac_key(&config.data_dir)?;
    let mailer = mail::Mailer::new(config.smtp.clone(), config.dev_outbox, store.clone())?;
    Ok(AppState {
        store,
        clock: config.clock.clone(),
        issuer,
        issuer_key,
        hmac_key,
        mailer,
        limits: config.limits.clone(),
        limiter: ratelimit::RateLimiter::default(),
        desks: deskqr::Desks::default(),
        dev_mode: config.dev_outbox,
        transition: std::sync::Mutex::new(()),
    })
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
        demo::ensure_demo(&state, config.seed_residents, config.seed)?;
    }
    let state: SharedState = Arc::new(state);
    let app = api::router(state.clone());
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
    tracing::info!(%addr, "ikd-server listening");
    Ok(RunningServer {
        addr,
        base_url,
        state,
        shutdown: Some(tx),
        handle: Some(handle),
    })
}
