//! Storage behind the [`Store`] trait: the records and the one interface every handler
//! and service goes through. Two implementations: [`sqlite::SqliteStore`] (rusqlite,
//! WAL, a small pool; the embedded default) and [`postgres::PgStore`] (tokio-postgres
//! with deadpool-postgres; for several nodes). Migrations are code ([`schema`]), counted
//! in a version. Every multi-step write is one transaction.
//!
//! The trait is synchronous: handlers call services on tokio's blocking pool
//! (`api::blocking`), so a store call never holds an async worker. Enrollments carry a
//! revision ([`Enrollment::rev`]): every write of one is a compare-and-swap on it, so
//! two nodes changing the same enrollment at once cannot both win ([`StoreError::Conflict`];
//! the service is retried on a fresh read).

pub mod facequeue;
pub mod idempotency;
pub mod lease;
pub mod outbox;
pub mod postgres;
pub mod schema;
pub mod sqlite;
pub mod uploads;

pub use facequeue::{FacePurpose, FaceQueueStore};
pub use idempotency::{IdemClaim, IdempotencyStore};
pub use outbox::{Mail, MailPurpose, OutboxStore};
pub use postgres::PgStore;
pub use sqlite::SqliteStore;
pub use uploads::{Append, UploadHead, UploadInfo, UploadStore, HEAD_LEN};

use chrono::{DateTime, Utc};
use ikd_proto::wire::{EcJwk, EnrollmentStatusWire, OutboxMail};
use serde::{Deserialize, Serialize};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("postgres: {0}")]
    Postgres(#[from] tokio_postgres::Error),
    #[error("postgres pool: {0}")]
    Pool(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The record changed since it was read (another request or node wrote it first).
    #[error("the record changed meanwhile")]
    Conflict,
    /// The store did not answer within the node's store timeout ([`PgStore::connect_with`]).
    #[error("the store did not answer in {0:?}")]
    TimedOut(std::time::Duration),
}

impl StoreError {
    /// Whether the store is unreachable or cannot take writes for now (a transient
    /// state, not a fault of the request or of the code): no connection (refused,
    /// closed, broken), the pool gave none in time, a call timed out, or PostgreSQL
    /// said so (SQLSTATE class 08 connection exception, 57P01–57P03 shutting down or
    /// starting, 53300 too many connections, 25006 read-only: a primary demoted in a
    /// failover); on SQLite, the file still locked by another writer after the busy
    /// timeout. The API answers these 503 with `Retry-After` (`crate::error`).
    pub fn is_unavailable(&self) -> bool {
        match self {
            Self::Pool(_) | Self::TimedOut(_) => true,
            Self::Postgres(e) => {
                if e.is_closed() {
                    return true;
                }
                if let Some(db) = e.as_db_error() {
                    let code = db.code().code();
                    return code.starts_with("08")
                        || matches!(code, "57P01" | "57P02" | "57P03" | "53300" | "25006");
                }
                // No answer from the server: an I/O error on the connection.
                std::error::Error::source(e).is_some_and(|s| s.is::<std::io::Error>())
            }
            // The file stayed locked past the busy timeout (another writer).
            Self::Sqlite(e) => matches!(
                e.sqlite_error_code(),
                Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
            ),
            Self::Corrupt(_) | Self::Conflict => false,
        }
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// One person in the SIAK simulator. Values as printed on the documents (CAPITALS).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resident {
    pub nik: String,
    pub kk: String,
    pub nama: String,
    pub tempat_lahir: String,
    /// YYYY-MM-DD
    pub tanggal_lahir: String,
    pub jenis_kelamin: String,
    pub golongan_darah: String,
    pub alamat: String,
    pub rt_rw: String,
    pub kel_desa: String,
    pub kecamatan: String,
    pub kabupaten_kota: String,
    pub provinsi: String,
    pub kode_pos: String,
    pub agama: String,
    pub status_perkawinan: String,
    pub tanggal_perkawinan: Option<String>,
    pub pekerjaan: String,
    pub pendidikan: String,
    pub kewarganegaraan: String,
    /// Status Hubungan Dalam Keluarga
    pub hubungan: String,
    pub ayah: String,
    pub ibu: String,
    /// KTP-el biometric recording done.
    pub recorded: bool,
    pub deceased: bool,
    /// YYYY-MM-DD the KK was issued.
    pub kk_tanggal_terbit: String,
    /// YYYY-MM-DD the KTP-el was issued (when recorded).
    pub ktp_tanggal_terbit: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Enrollment {
    pub id: String,
    /// SHA-256 hex of the enrollment token.
    pub token_hash: String,
    pub nik: String,
    pub email: String,
    pub phone: String,
    /// Written by [`Store::insert_enrollment`]; the store's reads leave it empty (it is
    /// ~100 KB, and only the face check and the officer's detail need it:
    /// [`Store::selfie`]).
    #[serde(skip)]
    pub selfie: Vec<u8>,
    /// The face check on the selfie at submit (`crate::face`): `Pending` until a worker
    /// checked it (store/facequeue.rs); none for enrollments stored before it existed.
    #[serde(default)]
    pub face: Option<crate::face::FaceCheck>,
    pub device_jwk: EcJwk,
    pub device_thumb: String,
    pub status: EnrollmentStatusWire,
    pub created_at: DateTime<Utc>,
    pub desk_id: Option<String>,
    pub desk_name: Option<String>,
    pub scanned_at: Option<DateTime<Utc>>,
    pub reject_reason: Option<String>,
    pub decided_by: Option<String>,
    /// HMAC of the activation code (tx_code).
    pub code_hash: Option<String>,
    pub code_expires_at: Option<DateTime<Utc>>,
    pub code_attempts_left: u32,
    pub code_void: bool,
    /// Random salt the pre-authorised code is derived from (HMAC with the server key).
    pub offer_salt: Option<String>,
    /// SHA-256 of the pre-authorised code, for lookup.
    pub offer_hash: Option<String>,
    pub resend_last_at: Option<DateTime<Utc>>,
    pub resend_day: Option<String>,
    pub resend_count: u32,
    /// A re-authentication ("Lupa PIN") is pending: the offer and code belong to it.
    #[serde(default)]
    pub reauth_pending: bool,
    #[serde(default)]
    pub reauth_last_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub reauth_day: Option<String>,
    #[serde(default)]
    pub reauth_count: u32,
    /// Wrong codes in all, across every resend and re-authentication (capped at
    /// `codes::CODE_LIFETIME_TRIES`).
    #[serde(default)]
    pub code_failures: u32,
    /// No code is checked before this (the escalating wait after wrong codes).
    #[serde(default)]
    pub code_wait_until: Option<DateTime<Utc>>,
    /// The salt of the desk confirmation code of the current scan
    /// ([`crate::deskqr::confirm_code`]); None when no code is live (not scanned, used,
    /// or void after too many wrong entries).
    #[serde(default)]
    pub desk_confirm_salt: Option<String>,
    /// Wrong confirmation codes the officer typed for the current scan.
    #[serde(default)]
    pub desk_confirm_failures: u32,
    /// The PIN reset under way, or the last one ([`crate::pinreset`]).
    #[serde(default)]
    pub pin_reset: Option<crate::pinreset::PinReset>,
    /// The stored revision this copy was read at (0 before insert); the store writes
    /// an update only if the row is still at it, and bumps it.
    #[serde(skip)]
    pub rev: Rev,
}

/// An enrollment's stored revision. Interior-mutable so that a store write through
/// `&Enrollment` can advance the caller's copy (a second write of the same copy then
/// succeeds, a write of a copy another request overtook fails).
#[derive(Debug, Default)]
pub struct Rev(std::sync::atomic::AtomicI64);

impl Rev {
    pub fn get(&self) -> i64 {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }
    pub fn set(&self, v: i64) {
        self.0.store(v, std::sync::atomic::Ordering::Relaxed);
    }
    /// The tail of a write that may be refused: takes the revision the write left
    /// (`Some`), or keeps this one when nothing was written (`None`); true if written.
    pub fn adopt(&self, written: Option<i64>) -> bool {
        match written {
            Some(v) => {
                self.set(v);
                true
            }
            None => false,
        }
    }
}

impl Clone for Rev {
    fn clone(&self) -> Self {
        Self(std::sync::atomic::AtomicI64::new(self.get()))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceStatus {
    Active,
    /// Released by the resident, or replaced by a newer device.
    Revoked,
    /// Blocked by an officer.
    Blocked,
}

impl DeviceStatus {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Revoked => "revoked",
            Self::Blocked => "blocked",
        }
    }
    pub(crate) fn parse(s: &str) -> StoreResult<Self> {
        match s {
            "active" => Ok(Self::Active),
            "revoked" => Ok(Self::Revoked),
            "blocked" => Ok(Self::Blocked),
            other => Err(StoreError::Corrupt(format!("device status {other}"))),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Device {
    pub thumb: String,
    pub nik: String,
    pub enrollment_id: String,
    pub jwk: EcJwk,
    pub status: DeviceStatus,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Access,
    Refresh,
}

#[derive(Debug, Clone)]
pub struct TokenRow {
    /// SHA-256 hex of the token.
    pub hash: String,
    pub kind: TokenKind,
    pub device_thumb: String,
    pub nik: String,
    pub enrollment_id: String,
    pub expires_at: DateTime<Utc>,
    /// The DPoP key (JWK thumbprint) the token is bound to; `None` for a Bearer token.
    pub dpop_jkt: Option<String>,
}

/// One issued credential's Token Status List entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialRow {
    /// The entry's index in the status list (random, unique).
    pub idx: u64,
    pub nik: String,
    pub vct: String,
    pub device_thumb: String,
    pub issued_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct Officer {
    pub username: String,
    /// Argon2id PHC string.
    pub password_hash: String,
    pub desk_id: String,
    pub desk_name: String,
}

/// The default bound of one call of the PostgreSQL store (config `store_timeout_ms`).
pub const STORE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Where the store is: `postgres://…` (a URL) or an SQLite file. `timeout`: how long
/// one call of the PostgreSQL store may take, waiting for a connection included
/// ([`PgStore::connect_with`]).
pub fn open(
    database_url: Option<&str>,
    sqlite_path: &std::path::Path,
    timeout: std::time::Duration,
    pool_size: Option<usize>,
) -> StoreResult<std::sync::Arc<dyn Store>> {
    Ok(match database_url {
        Some(url) => std::sync::Arc::new(PgStore::connect_sized(
            url,
            timeout,
            pool_size.unwrap_or_else(postgres::default_pool_size),
        )?),
        None => std::sync::Arc::new(SqliteStore::open(sqlite_path)?),
    })
}

/// Whether the store answers and its schema is the one this build migrates to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Readiness {
    pub schema_version: i64,
    pub expected_version: i64,
}

pub trait Store:
    IdempotencyStore + OutboxStore + FaceQueueStore + UploadStore + Send + Sync
{
    /// Takes one token from the rate-limit bucket `key` (`burst` deep, refilled at
    /// `per_minute`; see [`crate::ratelimit::take`]), one transaction with the row
    /// locked, so concurrent requests on any node count once each.
    /// `Ok(Err(retry_after_secs))` when empty.
    fn take_rate_token(
        &self,
        key: &str,
        burst: u32,
        per_minute: u32,
        now: DateTime<Utc>,
    ) -> StoreResult<Result<(), u64>>;
    /// Drops the rate-limit buckets last touched before `before` (they are full again).
    fn prune_rate_buckets(&self, before: DateTime<Utc>) -> StoreResult<usize>;
    /// The QR desk `candidate.desk_id` shows now (at `candidate.issued_at`), one
    /// transaction with the row locked: the stored one if [`DeskQrRow::still_shown`],
    /// else `candidate` (stored, and returned). Any node answers the same.
    fn desk_qr(&self, candidate: &DeskQrRow, rotate_secs: i64) -> StoreResult<DeskQrRow>;
    /// The name a desk was last shown under.
    fn desk_name(&self, desk_id: &str) -> StoreResult<Option<String>>;
    /// Which backend ("sqlite", "postgres"), for logs and /readyz.
    fn backend(&self) -> &'static str;
    /// Asks the database for its schema version (an error when unreachable).
    fn readiness(&self) -> StoreResult<Readiness>;

    fn resident_count(&self) -> StoreResult<usize>;
    /// Inserts residents (existing NIKs are kept as they are), in one transaction.
    fn insert_residents(&self, residents: &[Resident]) -> StoreResult<()>;
    fn resident(&self, nik: &str) -> StoreResult<Option<Resident>>;
    /// The members of a KK, head first.
    fn family(&self, kk: &str) -> StoreResult<Vec<Resident>>;

    fn insert_enrollment(&self, e: &Enrollment) -> StoreResult<()>;
    fn enrollment(&self, id: &str) -> StoreResult<Option<Enrollment>>;
    fn enrollment_by_offer(&self, offer_hash: &str) -> StoreResult<Option<Enrollment>>;
    fn update_enrollment(&self, e: &Enrollment) -> StoreResult<()>;
    /// The selfie stored at submit of enrollment `id` (the reads above leave
    /// [`Enrollment::selfie`] empty).
    fn selfie(&self, id: &str) -> StoreResult<Option<Vec<u8>>>;
    /// Records that `e` used the desk QR `qr_nonce`, marks the desk's current QR used
    /// (the desk shows a new one next) and saves `e`, in one transaction. False (and
    /// nothing written) when another enrollment already used that QR.
    fn scan(&self, e: &Enrollment, qr_nonce: &str) -> StoreResult<bool>;
    /// Activated enrollments whose PIN reset waits for an officer's review.
    fn resets_in_review(&self) -> StoreResult<Vec<Enrollment>>;
    /// Enrollments waiting at a desk (scanned, not decided), oldest first.
    fn queue(&self, desk_id: &str) -> StoreResult<Vec<Enrollment>>;
    /// Activation, one transaction: saves `e`, revokes the resident's other devices,
    /// adds `device`, stores `tokens`. A row already holding `device.thumb` keeps its
    /// `nik` and `status` (never un-blocked, never moved to another resident); only
    /// while it is active and of the same NIK does its enrollment id move to `e`'s.
    /// The caller refuses the other cases first. Queues `mails` (the notices to the
    /// replaced devices' addresses) in the same transaction.
    fn activate(
        &self,
        e: &Enrollment,
        device: &Device,
        tokens: &[TokenRow],
        mails: &[Mail],
    ) -> StoreResult<()>;

    /// Re-authentication requested, one transaction: saves `e` (new code and offer),
    /// deletes every token of the device `thumb` and queues `mails` (the code's mail);
    /// returns how many tokens were revoked.
    fn begin_reauth(&self, e: &Enrollment, thumb: &str, mails: &[Mail]) -> StoreResult<usize>;
    /// Re-authentication redeemed, one transaction: if the device `thumb` is still
    /// active, saves `e` and stores `tokens` (true); otherwise writes nothing (false).
    fn finish_reauth(&self, e: &Enrollment, thumb: &str, tokens: &[TokenRow]) -> StoreResult<bool>;

    fn device(&self, thumb: &str) -> StoreResult<Option<Device>>;
    /// The active devices of a resident: (thumbprint, enrollment id) each.
    fn active_devices_of(&self, nik: &str) -> StoreResult<Vec<(String, String)>>;
    /// Sets a device's status; a device no longer active also has its credentials'
    /// status entries set to invalid, in the same transaction.
    fn set_device_status(&self, thumb: &str, status: DeviceStatus) -> StoreResult<()>;
    /// Sets every active device of a resident to `status`; returns how many. As with
    /// [`Store::set_device_status`], their credentials become invalid (one transaction).
    fn set_devices_of(&self, nik: &str, status: DeviceStatus) -> StoreResult<usize>;

    /// Records an issued credential's status entry, one transaction: false (nothing
    /// written) when `row.idx` is taken; otherwise the resident's earlier credentials of
    /// the same `vct` (the ones this one replaces) become invalid and `row` is stored.
    fn record_credential(&self, row: &CredentialRow) -> StoreResult<bool>;
    /// The indexes of every invalid status entry.
    fn invalid_status_indexes(&self) -> StoreResult<Vec<u64>>;
    /// The status value (0 valid, 1 invalid) of entry `idx`, if issued.
    fn credential_status(&self, idx: u64) -> StoreResult<Option<u8>>;
    fn insert_token(&self, t: &TokenRow) -> StoreResult<()>;
    fn token(&self, hash: &str) -> StoreResult<Option<TokenRow>>;

    fn insert_nonce(&self, nonce: &str, expires_at: DateTime<Utc>) -> StoreResult<()>;
    /// Records a DPoP proof's jti `key` until `keep_until` (and drops those past their
    /// time); false when it was already recorded (a replay).
    fn use_dpop_jti(
        &self,
        key: &str,
        keep_until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// Consumes a nonce; true if it existed and had not expired.
    fn take_nonce(&self, nonce: &str, now: DateTime<Utc>) -> StoreResult<bool>;
    /// Deletes the nonces expired before `now` (by the `nonces_expiry` index); returns
    /// how many. Run in the background ([`crate::tokens::spawn_nonce_pruning`]), not on
    /// the request path.
    fn prune_expired_nonces(&self, now: DateTime<Utc>) -> StoreResult<usize>;

    fn put_officer(&self, o: &Officer) -> StoreResult<()>;
    fn officer(&self, username: &str) -> StoreResult<Option<Officer>>;
    fn insert_session(
        &self,
        hash: &str,
        username: &str,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()>;
    fn session(&self, hash: &str, now: DateTime<Utc>) -> StoreResult<Option<String>>;
    /// The officer of the live session `hash`: [`Store::session`] then
    /// [`Store::officer`]. PostgreSQL answers both in one statement (one round trip
    /// on every officer request).
    fn session_officer(&self, hash: &str, now: DateTime<Utc>) -> StoreResult<Option<Officer>> {
        match self.session(hash, now)? {
            Some(username) => self.officer(&username),
            None => Ok(None),
        }
    }
    /// The demo SMS gateway's outbox (`crate::sms::DevOutboxSms`): keeps one message.
    fn push_sms(&self, sms: &OutboxMail) -> StoreResult<()>;
    /// Every message of the demo SMS gateway, oldest first.
    fn sms_outbox(&self) -> StoreResult<Vec<OutboxMail>>;
    /// Ends a session (logout): its cookie no longer opens anything.
    fn delete_session(&self, hash: &str) -> StoreResult<()>;

    /// An officer blocks every active device of `block.nik`, one transaction: the
    /// devices blocked (their credentials invalid, as [`Store::set_devices_of`]) and
    /// `block` recorded with how many. Returns how many.
    fn block_devices(&self, block: &DeviceBlock) -> StoreResult<usize>;
    /// The latest device blocks, newest first.
    fn device_blocks(&self, limit: usize) -> StoreResult<Vec<DeviceBlock>>;

    /// The end of the login lock of `account` (a hash of the name), if locked at all.
    fn login_locked_until(&self, account: &str) -> StoreResult<Option<DateTime<Utc>>>;
    /// Counts a failed login of `account`, one transaction with the row locked (so it
    /// counts once per failure on any node); sets the lock [`crate::ratelimit::lock_for`]
    /// gives and returns its end when this failure locks the account.
    fn login_failed(&self, account: &str, now: DateTime<Utc>)
        -> StoreResult<Option<DateTime<Utc>>>;
    /// A successful login: the account's failures are forgotten.
    fn login_cleared(&self, account: &str) -> StoreResult<()>;

    /// The dev outbox: every queued mail but the superseded, oldest first (`sent_at`
    /// empty until sent). Bodies are kept only in dev mode.
    fn outbox(&self) -> StoreResult<Vec<OutboxMail>>;
}

/// An officer's block of a resident's devices: who, when, why, how many.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DeviceBlock {
    pub nik: String,
    pub officer: String,
    pub reason: String,
    /// How many active devices it blocked.
    pub devices: usize,
    pub blocked_at: DateTime<Utc>,
}

/// The QR a desk shows now (one row per desk; the desk's name is kept with it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeskQrRow {
    pub desk_id: String,
    pub desk_name: String,
    pub nonce: String,
    pub text: String,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub used: bool,
}

impl DeskQrRow {
    /// Whether this stored QR is still the one to show at `now`: unused, issued
    /// less than `rotate_secs` ago (and not in the future).
    pub fn still_shown(&self, now: DateTime<Utc>, rotate_secs: i64) -> bool {
        !self.used
            && now >= self.issued_at
            && now - self.issued_at < chrono::Duration::seconds(rotate_secs)
    }
}

/// Order of relationships on the KK.
pub fn hubungan_order(h: &str) -> i64 {
    match h {
        "KEPALA KELUARGA" => 0,
        "SUAMI" => 1,
        "ISTRI" => 2,
        "ANAK" => 3,
        "MENANTU" => 4,
        "CUCU" => 5,
        "ORANG TUA" => 6,
        "MERTUA" => 7,
        _ => 9,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unavailable_is_transient_store_trouble_only() {
        let sqlite = |code: i32| {
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(code),
                None,
            ))
        };
        for e in [
            StoreError::Pool("error connecting to server".into()),
            StoreError::TimedOut(std::time::Duration::from_secs(10)),
            sqlite(rusqlite::ffi::SQLITE_BUSY),
            sqlite(rusqlite::ffi::SQLITE_LOCKED),
        ] {
            assert!(e.is_unavailable(), "{e}");
        }
        for e in [
            StoreError::Corrupt("x".into()),
            StoreError::Conflict,
            sqlite(rusqlite::ffi::SQLITE_CONSTRAINT),
            StoreError::Sqlite(rusqlite::Error::QueryReturnedNoRows),
        ] {
            assert!(!e.is_unavailable(), "{e}");
        }
    }
}
