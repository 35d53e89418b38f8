//! [`AppState`]: everything a service needs, opened once from the [`Config`].

use crate::config::{Config, Limits};
use crate::error::{ApiErr, ServerError};
use crate::siak::{Siak, SimulatedSiak};
use crate::store::Store;
use crate::{crypto, mail, ratelimit};
use ikd_proto::clock::Clock;
use ikd_proto::jose::EcKeyPair;
use std::sync::Arc;

/// How many transition locks a node has ([`AppState::transition_lock`]).
pub const TRANSITION_STRIPES: usize = 64;

/// Everything a handler needs.
pub struct AppState {
    pub store: Arc<dyn Store>,
    /// The population register (the simulator on `store`, or a deployment's adapter).
    pub siak: Arc<dyn Siak>,
    pub clock: Arc<dyn Clock>,
    /// Public base URL, also the `credential_issuer` identifier.
    pub issuer: String,
    pub issuer_key: EcKeyPair,
    /// The `x5c` chain put in the credentials' headers (base64 DER, the issuer
    /// certificate first); empty when none is configured.
    pub issuer_x5c: Vec<String>,
    /// Server secret for HMACs (desk QR, codes, derived offer codes).
    pub hmac_key: ring::hmac::Key,
    /// The SMTP relay the outbox worker sends through (`crate::outbox`); none
    /// without `[smtp]`.
    pub mailer: Option<mail::Mailer>,
    /// The outbox worker's polling and retries.
    pub outbox: crate::config::OutboxConfig,
    /// Text messages (security notices); the demo's go to the dev outbox.
    pub sms: Arc<dyn crate::sms::SmsGateway>,
    pub limits: Limits,
    /// Parsed `limits.trusted_proxies` (see [`crate::clientip`]).
    pub trusted_proxies: Vec<crate::clientip::Cidr>,
    pub dev_mode: bool,
    /// Demo mode (`Config::demo`): the console also offers the desk QR's text and PNG.
    pub demo: bool,
    /// Serialises the state transitions (scan, approve, code checks) of one
    /// enrollment on this node: [`TRANSITION_STRIPES`] locks, one per hash of the key.
    /// Correctness does not rest on it (the store's revision compare-and-swap does);
    /// it spares needless retries without queueing every resident behind one lock.
    pub transition: Vec<std::sync::Mutex<()>>,
}

impl AppState {
    /// The transition lock of the enrollment `key` names (its id, or its offer code).
    pub fn transition_lock(&self, key: &str) -> std::sync::MutexGuard<'_, ()> {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        key.hash(&mut h);
        let i = (h.finish() % self.transition.len().max(1) as u64) as usize;
        self.transition[i].lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The per-client-IP token bucket for `what` ("submit", "token", "reauth", "login"):
    /// `burst` requests, refilled at `per_minute`; a 429 with `retry_after_secs` when
    /// empty. The bucket is a store row, so it counts across nodes.
    pub fn limit_per_ip(
        &self,
        what: &str,
        peer: std::net::SocketAddr,
        burst: u32,
        per_minute: u32,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), ApiErr> {
        let key = format!("{what}:{}", ratelimit::ip_key(peer.ip()));
        self.store
            .take_rate_token(&key, burst, per_minute, now)?
            .map_err(ApiErr::rate_limited)
    }

    /// A token bucket for `what` keyed by something other than the address (a NIK, an
    /// officer account); `subject` is hashed, so no NIK is kept in the clear.
    pub fn limit_per_subject(
        &self,
        what: &str,
        subject: &str,
        burst: u32,
        per_minute: u32,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), ApiErr> {
        let key = format!("{what}:{}", crypto::sha256_hex(subject.as_bytes()));
        self.store
            .take_rate_token(&key, burst, per_minute, now)?
            .map_err(ApiErr::rate_limited)
    }
}

pub type SharedState = Arc<AppState>;

/// Opens (or creates) the data dir's database and keys, without serving.
pub fn open_state(config: &Config, issuer: String) -> Result<AppState, ServerError> {
    std::fs::create_dir_all(&config.data_dir)?;
    let store: Arc<dyn Store> = crate::store::open(
        config.database_url.as_deref(),
        &config.data_dir.join("ikd-server.sqlite3"),
        config.store_timeout,
        config.database_pool_size.map(std::num::NonZeroUsize::get),
    )?;
    let issuer_key = crypto::load_or_create_issuer_key(&config.data_dir)?;
    let hmac_key = crypto::load_or_create_hmac_key(&config.data_dir)?;
    let issuer_x5c = match &config.issuer_certificates {
        Some(path) => crate::x5c::load_chain(path, &issuer_key)?,
        None if config.demo => crate::x5c::demo_chain(&config.data_dir, &issuer_key, &issuer)?,
        None => Vec::new(),
    };
    let mailer = config.smtp.as_ref().map(mail::Mailer::new).transpose()?;
    let sms: Arc<dyn crate::sms::SmsGateway> = if config.dev_outbox {
        Arc::new(crate::sms::DevOutboxSms {
            store: store.clone(),
        })
    } else {
        // Said once here rather than at every notice (a node would log one line per
        // activation and reset).
        tracing::warn!("no SMS gateway configured: security notices go by email only");
        Arc::new(crate::sms::NoSms)
    };
    Ok(AppState {
        siak: Arc::new(SimulatedSiak::new(store.clone())),
        store,
        clock: config.clock.clone(),
        issuer,
        issuer_key,
        issuer_x5c,
        hmac_key,
        mailer,
        sms,
        outbox: config.outbox.clone(),
        limits: config.limits.clone(),
        trusted_proxies: parse_proxies(&config.limits.trusted_proxies)?,
        dev_mode: config.dev_outbox,
        demo: config.demo,
        transition: (0..TRANSITION_STRIPES)
            .map(|_| std::sync::Mutex::new(()))
            .collect(),
    })
}

fn parse_proxies(list: &[String]) -> Result<Vec<crate::clientip::Cidr>, ServerError> {
    list.iter()
        .map(|s| {
            crate::clientip::Cidr::parse(s).ok_or_else(|| {
                ServerError::Config(format!(
                    "trusted proxy {s:?} is not an address or CIDR block"
                ))
            })
        })
        .collect()
}

/// Drops rate-limit buckets untouched for a day (a full bucket is the same as none)
/// and idempotency answers past their [`crate::store::idempotency::KEEP`], every
/// `every`, on the blocking pool, while the state lives.
pub fn spawn_pruning(state: &SharedState, every: std::time::Duration) {
    let weak = Arc::downgrade(state);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            let Some(state) = weak.upgrade() else { break };
            let pruned = tokio::task::spawn_blocking(move || {
                let now = state.clock.now();
                state
                    .store
                    .prune_rate_buckets(now - chrono::Duration::days(1))
                    .and_then(|_| {
                        state
                            .store
                            .idem_prune(now - crate::store::idempotency::KEEP)
                    })
            })
            .await;
            if let Ok(Err(e)) = pruned {
                tracing::warn!(error = %e, "rate bucket or idempotency pruning failed");
            }
        }
    });
}
