//! The facade the app calls: one method per Tauri command (see `src-tauri/COMMANDS.md`).
//!
//! The shell holds one [`Wallet`] in managed state; each command is a one-liner over it.
//! The wallet owns the store (SQLite in the app data dir), the key store, the clock, the
//! backend client, the device key (PKCS#8 in the key store), the enrollment state
//! (persisted, so a restart resumes), the pending selfie, the credentials held between
//! `activate` and `set_pin` (sealed under a device-secret-derived key), and the unlocked
//! document key (dropped on `lock`, idle timeout and `on_background`).
//!
//! `Send + Sync`: state sits behind std `Mutex`es that are never held across `.await`.

mod documents;
mod enroll;
mod issuance;
mod records;
mod reset;
mod steps;

pub mod inspect;
pub mod present;
pub use issuance::{ISSUER_ROOT_ENV, ISSUER_ROOT_FILE};

use crate::client::BackendClient;
use crate::clock::Clock;
use crate::device_key::DeviceKey;
use crate::enrollment::EnrollmentState;
use crate::error::{ErrorCode, UiError};
use crate::secret::SecretString;
use crate::selfie::Processed;
use crate::store::Store;
use crate::vault::{self, KdfParams, KeyStore, UnlockedKey, Vault};
use crate::view::{AppState, HistoryKind, Settings, Stage};
use crate::wire::EnrollmentStatusWire;
use chrono::{DateTime, NaiveDate, Utc};
use records::{to_json, KS_DEVICE_KEY, KV_PENDING, KV_SETTINGS};
#[allow(unused_imports)] // for `present`
use records::{DOC_KK, DOC_KTP};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

/// Default idle time before the documents lock again.
pub const DEFAULT_AUTO_LOCK_SECS: u32 = 120;
/// Shortest and longest auto-lock the settings accept.
pub const MIN_AUTO_LOCK_SECS: u32 = 15;
pub const MAX_AUTO_LOCK_SECS: u32 = 3600;
/// The SQLite file in the data dir.
pub const DB_FILE: &str = "ikd-wallet.sqlite3";

/// The one default of the settings: Bahasa Indonesia, 2 minutes, the given backend.
pub fn default_settings(backend_url: &str) -> Settings {
    Settings {
        language: "id".into(),
        auto_lock_secs: DEFAULT_AUTO_LOCK_SECS,
        backend_url: backend_url.to_owned(),
        verifier_url: String::new(),
    }
}

/// The backend client: DPoP (RFC 9449) with the device key, so the server binds the
/// tokens to it; with a configured issuer URL, that is the proofs' `htu` base.
fn backend_client(
    backend_url: &str,
    issuer_url: Option<&str>,
    device: &DeviceKey,
    clock: &Arc<dyn Clock>,
) -> Result<BackendClient, UiError> {
    let c = BackendClient::new(backend_url)?.with_dpop(device.clone(), clock.clone());
    Ok(match issuer_url {
        Some(u) => c.with_htu_base(u),
        None => c,
    })
}

/// How the wallet is opened.
pub struct WalletConfig {
    /// The app's data directory; the SQLite file lives here.
    pub data_dir: PathBuf,
    /// The backend's base URL unless the settings say otherwise (dev builds only).
    pub backend_url: String,
    /// Dev builds may change the backend URL in the settings.
    pub dev_build: bool,
    pub clock: Arc<dyn Clock>,
    pub keystore: Arc<dyn KeyStore>,
    /// Argon2 cost for the PIN; `None` is the vault's default.
    pub kdf: Option<KdfParams>,
    /// The credential issuer's identifier the metadata's `credential_issuer` must be
    /// (it may differ from the backend URL behind a proxy); `None`: the backend URL.
    pub issuer_url: Option<String>,
}

struct Inner {
    settings: Settings,
    last_activity: DateTime<Utc>,
    session: Option<UnlockedKey>,
    selfie: Option<Processed>,
    client: Arc<BackendClient>,
    /// The device key (its private half in the key store): replaced by a new one when
    /// the device is released, so a later registration is bound to a key the server
    /// has not revoked, and is the key the wallet opens with next time.
    device: Arc<DeviceKey>,
    /// The checked presentation request the consent screen shows (see `present`).
    presenting: Option<present::PendingPresentation>,
    /// The "Periksa KTP" check started last (id, which check), until its result.
    checking: Option<(String, String)>,
}

/// The wallet.
pub struct Wallet {
    dev_build: bool,
    data_dir: PathBuf,
    clock: Arc<dyn Clock>,
    keystore: Arc<dyn KeyStore>,
    store: Arc<Store>,
    vault: Vault,
    issuer_url: Option<String>,
    inner: Mutex<Inner>,
    /// Bumped by `cancel_network` (see `steps`).
    cancel: tokio::sync::watch::Sender<u64>,
}

impl std::fmt::Debug for Wallet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Wallet")
            .field("data_dir", &self.data_dir)
            .finish_non_exhaustive()
    }
}

fn err(code: ErrorCode, msg: &str) -> UiError {
    UiError::new(code, msg)
}

fn internal(msg: &str) -> UiError {
    err(ErrorCode::Internal, msg)
}

/// Validates settings: language `id`/`en`, auto-lock within bounds.
pub fn validate_settings(s: &Settings) -> Result<(), UiError> {
    if s.language != "id" && s.language != "en" {
        return Err(err(ErrorCode::InvalidState, "language must be id or en")
            .with_detail(serde_json::json!({ "field": "language" })));
    }
    if !(MIN_AUTO_LOCK_SECS..=MAX_AUTO_LOCK_SECS).contains(&s.auto_lock_secs) {
        return Err(err(ErrorCode::InvalidState, "auto-lock out of range")
            .with_detail(serde_json::json!({ "field": "auto_lock_secs" })));
    }
    Ok(())
}

/// The stage the UI routes on, from what is stored.
pub fn stage_of(
    vault_exists: bool,
    unlocked: bool,
    documents_wiped: bool,
    holding_credentials: bool,
    state: &EnrollmentState,
) -> Stage {
    // Held credentials wait for a PIN: after activation, and after "Lupa PIN" (where
    // the old vault still exists until the new PIN replaces it).
    if holding_credentials && !unlocked {
        return Stage::NeedsPin;
    }
    if vault_exists || documents_wiped {
        return if unlocked {
            Stage::Unlocked
        } else {
            Stage::Locked
        };
    }
    if holding_credentials {
        return Stage::NeedsPin;
    }
    match state {
        EnrollmentState::Draft => Stage::Welcome,
        EnrollmentState::Activated | EnrollmentState::PinSet => Stage::NeedsPin,
        _ => Stage::Enrolling,
    }
}

impl Wallet {
    /// Opens (or creates) the wallet in `cfg.data_dir`.
    pub fn open(cfg: WalletConfig) -> Result<Self, UiError> {
        std::fs::create_dir_all(&cfg.data_dir)
            .map_err(|e| err(ErrorCode::Storage, &format!("data dir: {e}")))?;
        let store = Arc::new(Store::open(cfg.data_dir.join(DB_FILE))?);
        let mut vault = Vault::new(store.clone(), cfg.keystore.clone(), cfg.clock.clone());
        if let Some(p) = cfg.kdf {
            vault = vault.with_kdf_params(p);
        }
        let device = match cfg.keystore.get(KS_DEVICE_KEY)? {
            Some(pkcs8) => DeviceKey::from_pkcs8(pkcs8)?,
            None => {
                let k = DeviceKey::generate()?;
                cfg.keystore.put(KS_DEVICE_KEY, k.to_pkcs8())?;
                k
            }
        };
        let mut settings = store
            .get_kv(KV_SETTINGS)?
            .and_then(|j| serde_json::from_str::<Settings>(&j).ok())
            .unwrap_or_else(|| default_settings(&cfg.backend_url));
        if !cfg.dev_build {
            settings.backend_url = cfg.backend_url.clone();
        }
        if settings.verifier_url.is_empty() {
            settings.verifier_url = inspect::default_verifier_url(cfg.dev_build);
        }
        let client = Arc::new(backend_client(
            &settings.backend_url,
            cfg.issuer_url.as_deref(),
            &device,
            &cfg.clock,
        )?);
        // A record that does not open (tampered) is reported where it is used.
        if let Ok(Some(issuer)) = records::load_issuer(&vault, &store) {
            client.pin_issuer_jwk(issuer.jwk);
        }
        let now = cfg.clock.now();
        Ok(Self {
            dev_build: cfg.dev_build,
            data_dir: cfg.data_dir,
            clock: cfg.clock,
            keystore: cfg.keystore,
            store,
            vault,
            issuer_url: cfg.issuer_url,
            cancel: tokio::sync::watch::Sender::new(0),
            inner: Mutex::new(Inner {
                settings,
                last_activity: now,
                session: None,
                selfie: None,
                presenting: None,
                checking: None,
                client,
                device: Arc::new(device),
            }),
        })
    }

    fn inner(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn client(&self) -> Arc<BackendClient> {
        Arc::clone(&self.inner().client)
    }

    fn device(&self) -> Arc<DeviceKey> {
        Arc::clone(&self.inner().device)
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The issuer identifier the metadata must name: the configured one, or else the
    /// backend URL in the settings.
    fn expected_issuer(&self) -> String {
        match &self.issuer_url {
            Some(u) => u.clone(),
            None => self.inner().settings.backend_url.clone(),
        }
    }

    fn today(&self) -> NaiveDate {
        self.now().date_naive()
    }

    fn history_add(&self, kind: HistoryKind, detail: Option<&str>) -> Result<(), UiError> {
        Ok(self.store.append_history(self.now(), kind, detail)?)
    }

    pub fn app_state(&self) -> Result<AppState, UiError> {
        let vault_exists = self.vault.exists()?;
        let wiped = self.vault.documents_wiped()?;
        let held = self.store.get_kv(KV_PENDING)?.is_some();
        let state = self.state()?;
        let rec = if matches!(state, EnrollmentState::Draft) {
            None
        } else {
            self.record()?
        };
        let (unlocked, settings) = {
            let inner = self.inner();
            (inner.session.is_some(), inner.settings.clone())
        };
        let stage = stage_of(vault_exists, unlocked, wiped, held, &state);
        let pin_reset_pending =
            !held && (vault_exists || wiped) && rec.as_ref().is_some_and(|r| r.pin_reset_pending);
        let lockout = if vault_exists {
            Some(self.vault.lockout_state()?)
        } else {
            None
        };
        Ok(AppState {
            stage,
            enrollment: rec.as_ref().and_then(|r| Self::view_of(&state, r)),
            lockout,
            settings,
            dev_build: self.dev_build,
            key_store: self.keystore.kind(),
            documents_wiped: wiped,
            pin_reset_pending,
        })
    }

    pub fn unlock(&self, pin: SecretString) -> Result<AppState, UiError> {
        let key = self.open_vault(&pin)?;
        {
            let mut inner = self.inner();
            inner.session = Some(key);
            inner.last_activity = self.now();
        }
        self.history_add(HistoryKind::Unlocked, None)?;
        self.app_state()
    }

    /// Checks the PIN exactly like [`Self::unlock`] (a wrong PIN counts as an attempt and
    /// answers `wrong_pin` / `locked_out`) without changing the session ("Ubah PIN").
    pub fn verify_pin(&self, pin: SecretString) -> Result<(), UiError> {
        self.open_vault(&pin).map(drop)
    }

    fn open_vault(&self, pin: &SecretString) -> Result<UnlockedKey, UiError> {
        self.vault.unlock(pin).map_err(|e| {
            if matches!(e, vault::VaultError::WrongPin(_)) {
                if let Err(h) = self.history_add(HistoryKind::UnlockFailed, None) {
                    return h;
                }
            }
            e.into()
        })
    }

    pub fn lock(&self) -> Result<AppState, UiError> {
        self.inner().session = None;
        self.app_state()
    }

    /// User activity: restarts the idle timer.
    pub fn touch(&self) {
        let now = self.now();
        self.inner().last_activity = now;
    }

    pub fn settings(&self) -> Result<Settings, UiError> {
        Ok(self.inner().settings.clone())
    }

    pub fn set_settings(&self, mut settings: Settings) -> Result<Settings, UiError> {
        validate_settings(&settings)?;
        settings.verifier_url = settings.verifier_url.trim().to_owned();
        if !settings.verifier_url.is_empty() {
            inspect::validate_verifier_url(&settings.verifier_url, self.dev_build)?;
        }
        let current = self.settings()?;
        let new_client = if !self.dev_build {
            settings.backend_url = current.backend_url.clone();
            None
        } else if settings.backend_url != current.backend_url {
            Some(Arc::new(backend_client(
                &settings.backend_url,
                self.issuer_url.as_deref(),
                &self.device(),
                &self.clock,
            )?))
        } else {
            None
        };
        self.store.set_kv(KV_SETTINGS, &to_json(&settings)?)?;
        let mut inner = self.inner();
        if let Some(c) = new_client {
            inner.client = c;
        }
        inner.settings = settings.clone();
        Ok(settings)
    }

    fn wipe_local(&self, kind: HistoryKind) -> Result<AppState, UiError> {
        let settings = self.settings()?;
        // One transaction for the store. Then a new device key replaces the released
        // one (revoked at the server, and a later registration must not be linkable
        // to it) in the key store, then in memory with a client that signs with it.
        // A crash before the key is replaced leaves the released key, which the next
        // registration would be refused with (device revoked) until a release again.
        self.store
            .wipe_keeping((KV_SETTINGS, &to_json(&settings)?), self.now(), kind)?;
        let device = DeviceKey::generate()?;
        self.keystore.put(KS_DEVICE_KEY, device.to_pkcs8())?;
        let client = Arc::new(backend_client(
            &settings.backend_url,
            self.issuer_url.as_deref(),
            &device,
            &self.clock,
        )?);
        {
            let mut inner = self.inner();
            inner.session = None;
            inner.selfie = None;
            inner.presenting = None;
            inner.checking = None;
            inner.device = Arc::new(device);
            inner.client = client;
        }
        self.app_state()
    }

    /// The app went to the background: lock now. Returns the new state when this
    /// locked the documents (so the shell emits `locked`), None when already locked.
    pub fn on_background(&self) -> Option<AppState> {
        let was = self.inner().session.take().is_some();
        if was {
            self.app_state().ok()
        } else {
            None
        }
    }

    /// Locks when the idle timeout has passed. Returns the new state when this locked.
    pub fn lock_if_idle(&self) -> Option<AppState> {
        let now = self.now();
        let locked = {
            let mut inner = self.inner();
            let limit = chrono::Duration::seconds(i64::from(inner.settings.auto_lock_secs));
            if inner.session.is_some() && now - inner.last_activity >= limit {
                inner.session = None;
                true
            } else {
                false
            }
        };
        if locked {
            self.app_state().ok()
        } else {
            None
        }
    }

    /// Whether the wallet holds the unlocked document key.
    pub fn is_unlocked(&self) -> bool {
        self.inner().session.is_some()
    }

    /// The wallet's enrollment status as the backend last said it.
    pub fn enrollment_status(&self) -> Option<EnrollmentStatusWire> {
        self.state().ok().and_then(|s| s.wire_status())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::records::issuer_label;
    use super::*;

    #[test]
    fn stage_follows_what_is_stored() {
        let draft = EnrollmentState::Draft;
        let submitted = EnrollmentState::Submitted;
        assert_eq!(stage_of(false, false, false, false, &draft), Stage::Welcome);
        assert_eq!(
            stage_of(false, false, false, false, &submitted),
            Stage::Enrolling
        );
        assert_eq!(
            stage_of(false, false, false, true, &EnrollmentState::Activated),
            Stage::NeedsPin
        );
        assert_eq!(stage_of(true, false, false, false, &draft), Stage::Locked);
        assert_eq!(stage_of(true, true, false, false, &draft), Stage::Unlocked);
        assert_eq!(stage_of(false, false, true, false, &draft), Stage::Locked);
        // After "Lupa PIN": re-downloaded credentials wait for a new PIN even though
        // the old vault (or the wipe flag) is still there.
        let pin_set = EnrollmentState::PinSet;
        assert_eq!(
            stage_of(true, false, false, true, &pin_set),
            Stage::NeedsPin
        );
        assert_eq!(
            stage_of(false, false, true, true, &pin_set),
            Stage::NeedsPin
        );
    }

    #[test]
    fn settings_are_validated() {
        let ok = Settings {
            language: "id".into(),
            auto_lock_secs: DEFAULT_AUTO_LOCK_SECS,
            backend_url: "https://x".into(),
            verifier_url: String::new(),
        };
        validate_settings(&ok).unwrap();
        let bad_lang = Settings {
            language: "fr".into(),
            ..ok.clone()
        };
        assert!(validate_settings(&bad_lang).is_err());
        let too_short = Settings {
            auto_lock_secs: MIN_AUTO_LOCK_SECS - 1,
            ..ok
        };
        assert!(validate_settings(&too_short).is_err());
    }

    #[test]
    fn issuer_is_named_by_its_display_name_and_host() {
        use crate::wire::DisplayEntry;
        let d = |name: &str, locale: Option<&str>| DisplayEntry {
            name: Some(name.into()),
            locale: locale.map(str::to_owned),
        };
        let meta = [
            d("Dukcapil", Some("en")),
            d("Ditjen Dukcapil", Some("id-ID")),
        ];
        assert_eq!(
            DisplayEntry::pick_name(&meta).as_deref(),
            Some("Ditjen Dukcapil")
        );
        assert_eq!(
            DisplayEntry::pick_name(&[d("IKD", None)]).as_deref(),
            Some("IKD")
        );
        assert_eq!(DisplayEntry::pick_name(&[]), None);
        assert_eq!(
            issuer_label(Some("IKD"), "http://127.0.0.1:8787"),
            "IKD (127.0.0.1:8787)"
        );
        assert_eq!(issuer_label(None, "https://ikd.go.id/x"), "ikd.go.id");
        assert_eq!(issuer_label(None, "not a url"), "not a url");
    }
}
