//! Server configuration: built in code (tests, the app's demo mode) or read from a
//! TOML file (`ikd-server serve --config FILE`, [`FileConfig::from_toml`]).

use ikd_proto::clock::{Clock, SystemClock};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum TlsMode {
    /// Plain SMTP (loopback test receivers, local relays).
    #[default]
    None,
    Starttls,
    Tls,
}

#[derive(Clone, Serialize, Deserialize)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    #[serde(default)]
    pub tls: TlsMode,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    /// From address, e.g. "IKD Disdukcapil <noreply@ikd.example>".
    #[serde(default = "default_from")]
    pub from: String,
}

impl std::fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

fn default_from() -> String {
    "IKD Disdukcapil <noreply@ikd.localhost>".to_owned()
}

/// Rate limits (token buckets: `burst` requests, refilled at `per_minute`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Limits {
    /// Submit, per client IP.
    pub submit_burst: u32,
    pub submit_per_minute: u32,
    /// Token endpoint (code entry), per client IP.
    pub token_burst: u32,
    pub token_per_minute: u32,
    /// Resend: at most one per `resend_min_interval_secs`, and `resend_per_day` a day, per enrollment.
    pub resend_min_interval_secs: i64,
    pub resend_per_day: u32,
    /// Re-authentication requests ("Lupa PIN"), per client IP. Per enrollment, the
    /// resend rules apply (one per `resend_min_interval_secs`, `resend_per_day` a day).
    #[serde(default = "default_reauth_burst")]
    pub reauth_burst: u32,
    #[serde(default = "default_reauth_per_minute")]
    pub reauth_per_minute: u32,
    /// An enrollment not approved this many days after it was submitted expires: the
    /// resident starts over (status `expired`), the officer's queue drops it.
    #[serde(default = "default_enrollment_ttl_days")]
    pub enrollment_ttl_days: i64,
    /// POST /nonce, per client IP (each call stores a row until it expires).
    #[serde(default = "default_nonce_burst")]
    pub nonce_burst: u32,
    #[serde(default = "default_nonce_per_minute")]
    pub nonce_per_minute: u32,
    /// Submits per NIK (whatever the client address).
    #[serde(default = "default_nik_burst")]
    pub nik_burst: u32,
    #[serde(default = "default_nik_per_minute")]
    pub nik_per_minute: u32,
    /// Desk actions (NIK check, detail, approve, reject, block) per officer account.
    #[serde(default = "default_officer_burst")]
    pub officer_burst: u32,
    #[serde(default = "default_officer_per_minute")]
    pub officer_per_minute: u32,
    /// Reverse proxies (addresses or CIDR blocks) whose `Forwarded` /
    /// `X-Forwarded-For` name the client; from any other peer those headers are
    /// ignored. Empty: the TCP peer is the client.
    #[serde(default)]
    pub trusted_proxies: Vec<String>,
    /// "Lupa PIN": hours from the request until the new code works (the registered
    /// email and phone are told at once and can cancel meanwhile).
    #[serde(default = "default_pin_reset_cooling_off_hours")]
    pub pin_reset_cooling_off_hours: i64,
}

fn default_pin_reset_cooling_off_hours() -> i64 {
    24
}

fn default_nik_burst() -> u32 {
    10
}

fn default_nik_per_minute() -> u32 {
    1
}

fn default_officer_burst() -> u32 {
    120
}

fn default_officer_per_minute() -> u32 {
    20
}

fn default_nonce_burst() -> u32 {
    60
}

fn default_nonce_per_minute() -> u32 {
    60
}

fn default_enrollment_ttl_days() -> i64 {
    14
}

fn default_reauth_burst() -> u32 {
    10
}

fn default_reauth_per_minute() -> u32 {
    5
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            submit_burst: 20,
            submit_per_minute: 10,
            token_burst: 30,
            token_per_minute: 20,
            resend_min_interval_secs: 60,
            resend_per_day: 5,
            reauth_burst: default_reauth_burst(),
            reauth_per_minute: default_reauth_per_minute(),
            enrollment_ttl_days: default_enrollment_ttl_days(),
            nonce_burst: default_nonce_burst(),
            nonce_per_minute: default_nonce_per_minute(),
            nik_burst: default_nik_burst(),
            nik_per_minute: default_nik_per_minute(),
            officer_burst: default_officer_burst(),
            officer_per_minute: default_officer_per_minute(),
            trusted_proxies: Vec::new(),
            pin_reset_cooling_off_hours: default_pin_reset_cooling_off_hours(),
        }
    }
}

impl Limits {
    /// Limits for a load bench: many residents behind one loopback address.
    pub fn generous() -> Self {
        Self {
            submit_burst: 100_000,
            submit_per_minute: 100_000,
            token_burst: 100_000,
            token_per_minute: 100_000,
            nonce_burst: 100_000,
            nonce_per_minute: 100_000,
            nik_burst: 100_000,
            nik_per_minute: 100_000,
            officer_burst: 100_000,
            officer_per_minute: 100_000,
            ..Self::default()
        }
    }
}

/// The mail queue's worker (`crate::outbox`): how often it looks for other nodes'
/// rows, how it retries.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OutboxConfig {
    /// Look for due rows at least this often (a node's own mails wake it at once).
    pub poll_ms: u64,
    /// Attempts per mail; then it is `failed`.
    pub max_attempts: u32,
    /// The first retry's wait; doubled per attempt, with jitter (half to all of it).
    pub retry_base_ms: u64,
    /// The longest wait between attempts.
    pub retry_max_secs: u64,
    /// A claim holds a row this long (more than a send may take); a node that dies
    /// mid-send leaves its rows due again after it.
    pub lease_secs: u64,
    /// Rows claimed at once (and sent side by side).
    pub batch: usize,
}

impl Default for OutboxConfig {
    fn default() -> Self {
        Self {
            poll_ms: 2_000,
            max_attempts: 10,
            retry_base_ms: 10_000,
            retry_max_secs: 1_800,
            lease_secs: 120,
            batch: 16,
        }
    }
}

/// What a node runs (`ikd-server serve --role`, or the config file's `role`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The API, the mail queue's worker and the face checks (one machine, the demo).
    #[default]
    All,
    /// The API and the mail queue's worker; no face checks (a `face` node does them).
    Api,
    /// Only the face checks of the shared store's queue, and `/healthz` and `/readyz`
    /// on `addr` for a load balancer's or an orchestrator's probe: no API.
    Face,
}

impl Role {
    /// Whether this node answers the API (and runs the mail queue's worker).
    pub fn serves_api(self) -> bool {
        self != Self::Face
    }

    /// Whether this node works the face-check queue.
    pub fn checks_faces(self) -> bool {
        self != Self::Api
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "all" => Ok(Self::All),
            "api" => Ok(Self::Api),
            "face" => Ok(Self::Face),
            other => Err(format!("role {other}: all, api or face")),
        }
    }
}

#[derive(Clone)]
pub struct Config {
    /// Where to listen; `127.0.0.1:0` for an ephemeral port.
    pub addr: SocketAddr,
    pub data_dir: PathBuf,
    /// Public base URL (the issuer identifier). Default: `http://<bound addr>`.
    pub public_url: Option<String>,
    pub smtp: Option<SmtpConfig>,
    /// Keep every mail in the dev outbox, readable at GET /dev/outbox.
    pub dev_outbox: bool,
    /// Seed residents (if the store is empty), the fixed demo residents and the demo officer.
    pub demo: bool,
    pub seed_residents: usize,
    pub seed: u64,
    pub limits: Limits,
    pub clock: Arc<dyn Clock>,
    /// PEM file: the issuer certificate (for the issuer key) first, then intermediates
    /// up to, not including, the Dukcapil root; put in the credentials' `x5c` header.
    /// None: the demo makes a root and certificate in the data dir (`x5c`), a non-demo
    /// server issues without `x5c`.
    pub issuer_certificates: Option<PathBuf>,
    /// `postgres://…`: the shared PostgreSQL store (several nodes). None: the SQLite
    /// file `ikd-server.sqlite3` in `data_dir`.
    pub database_url: Option<String>,
    /// The most one call of the PostgreSQL store may take, waiting for a connection
    /// and connecting included; past it the request is answered 503 with
    /// `Retry-After` (default [`crate::store::STORE_TIMEOUT`], 10 s).
    pub store_timeout: std::time::Duration,
    /// Connections in this node's PostgreSQL pool (None: two per core of the node,
    /// [`crate::store::postgres::default_pool_size`]). Unused on SQLite.
    pub database_pool_size: Option<std::num::NonZeroUsize>,
    pub outbox: OutboxConfig,
    /// Run this node's queue workers (the mail queue's, the face checks'). Always on
    /// from a config file; tests turn it off to play a node that leaves the queues to
    /// the others (or died holding a claim).
    pub workers: bool,
    /// What this node runs ([`Role`]; default all).
    pub role: Role,
}

impl Config {
    /// A loopback demo config on an ephemeral port.
    pub fn demo(data_dir: PathBuf) -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir,
            public_url: None,
            smtp: None,
            dev_outbox: true,
            demo: true,
            seed_residents: 200,
            seed: 42,
            limits: Limits::default(),
            clock: Arc::new(SystemClock),
            issuer_certificates: None,
            database_url: None,
            store_timeout: crate::store::STORE_TIMEOUT,
            database_pool_size: None,
            outbox: OutboxConfig::default(),
            workers: true,
            role: Role::All,
        }
    }
}

/// The TOML config file of `ikd-server serve --config FILE` (example in server/README.md).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FileConfig {
    pub addr: SocketAddr,
    pub data_dir: PathBuf,
    #[serde(default)]
    pub public_url: Option<String>,
    #[serde(default)]
    pub smtp: Option<SmtpConfig>,
    #[serde(default)]
    pub dev_outbox: bool,
    #[serde(default)]
    pub demo: bool,
    #[serde(default)]
    pub limits: Option<Limits>,
    /// See [`Config::issuer_certificates`].
    #[serde(default)]
    pub issuer_certificates: Option<PathBuf>,
    /// See [`Config::database_url`]; `--database-url` and `IKD_DATABASE_URL` override it.
    #[serde(default)]
    pub database_url: Option<String>,
    /// See [`Config::store_timeout`], in milliseconds (default 10000).
    #[serde(default)]
    pub store_timeout_ms: Option<u64>,
    /// See [`Config::database_pool_size`] (at least 1; default two per core).
    #[serde(default)]
    pub database_pool_size: Option<std::num::NonZeroUsize>,
    /// `[outbox]`: the mail queue's retries and polling.
    #[serde(default)]
    pub outbox: OutboxConfig,
    /// `all` (default), `api` or `face` ([`Role`]); `--role` overrides it.
    #[serde(default)]
    pub role: Role,
}

impl FileConfig {
    pub fn from_toml(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|e| format!("config: {e}"))
    }

    pub fn into_config(self) -> Config {
        Config {
            addr: self.addr,
            data_dir: self.data_dir,
            public_url: self.public_url,
            smtp: self.smtp,
            dev_outbox: self.dev_outbox,
            demo: self.demo,
            seed_residents: 200,
            seed: 42,
            limits: self.limits.unwrap_or_default(),
            clock: Arc::new(SystemClock),
            issuer_certificates: self.issuer_certificates,
            database_url: self.database_url,
            store_timeout: self
                .store_timeout_ms
                .map(std::time::Duration::from_millis)
                .unwrap_or(crate::store::STORE_TIMEOUT),
            database_pool_size: self.database_pool_size,
            outbox: self.outbox,
            workers: true,
            role: self.role,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn toml_config_parses_and_hides_the_smtp_password() {
        let fc = FileConfig::from_toml(
            r#"
addr = "127.0.0.1:0"
data_dir = "/tmp/x"
public_url = "https://ikd.example"
database_url = "postgres://ikd@db.internal/ikd"

[smtp]
host = "smtp.example"
port = 587
tls = "starttls"
username = "u"
password = "p4ss"
"#,
        )
        .unwrap();
        let c = fc.into_config();
        assert_eq!(
            c.database_url.as_deref(),
            Some("postgres://ikd@db.internal/ikd")
        );
        assert!(FileConfig::from_toml("addr = 1").is_err());
        let smtp = c.smtp.unwrap();
        assert_eq!(smtp.tls, TlsMode::Starttls);
        assert!(!format!("{smtp:?}").contains("p4ss"));
        assert!(!c.dev_outbox);
        assert_eq!(c.limits.resend_per_day, 5);
        assert_eq!(c.role, Role::All);
        assert_eq!(c.store_timeout, crate::store::STORE_TIMEOUT);
        let c = FileConfig::from_toml(
            "addr = \"127.0.0.1:0\"\ndata_dir = \"/tmp/x\"\nstore_timeout_ms = 1500\n",
        )
        .unwrap()
        .into_config();
        assert_eq!(c.store_timeout, std::time::Duration::from_millis(1500));
        assert_eq!(c.database_pool_size, None, "two per core, unless set");
        let c = FileConfig::from_toml(
            "addr = \"127.0.0.1:0\"\ndata_dir = \"/tmp/x\"\ndatabase_pool_size = 6\n",
        )
        .unwrap()
        .into_config();
        assert_eq!(c.database_pool_size.map(|n| n.get()), Some(6));
        let zero = FileConfig::from_toml(
            "addr = \"127.0.0.1:0\"\ndata_dir = \"/tmp/x\"\ndatabase_pool_size = 0\n",
        )
        .unwrap_err();
        assert!(zero.contains("database_pool_size"), "{zero}");
    }

    #[test]
    fn role_from_the_file_and_the_command_line() {
        let fc = FileConfig::from_toml(
            "addr = \"127.0.0.1:0\"\ndata_dir = \"/tmp/x\"\nrole = \"face\"\n",
        )
        .unwrap();
        let role = fc.into_config().role;
        assert_eq!(role, Role::Face);
        assert!(role.checks_faces() && !role.serves_api());
        let api: Role = "api".parse().unwrap();
        assert!(api.serves_api() && !api.checks_faces());
        assert!("worker".parse::<Role>().is_err());
        assert!(FileConfig::from_toml(
            "addr = \"127.0.0.1:0\"\ndata_dir = \"/tmp/x\"\nrole = \"worker\"\n"
        )
        .is_err());
    }
}
