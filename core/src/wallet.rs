//! The facade the app calls: one method per Tauri command (see `src-tauri/COMMANDS.md`).
//!
//! The shell holds one [`Wallet`] in managed state; each command is a one-liner over it.
//! The wallet owns the store, the key store, the clock, the backend client, the device
//! key, the enrollment state, the pending selfie and the unlocked document key.

use crate::clock::Clock;
use crate::error::{ErrorCode, UiError};
use crate::secret::SecretString;
use crate::view::{
    AppState, EnrollmentView, HistoryEntry, HomeView, KkView, KtpView, NikInfo, RegisterForm,
    SelfieView, Settings, Stage,
};
use chrono::{DateTime, Utc};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

/// Default idle time before the documents lock again.
pub const DEFAULT_AUTO_LOCK_SECS: u32 = 120;
/// Shortest and longest auto-lock the settings accept.
pub const MIN_AUTO_LOCK_SECS: u32 = 15;
pub const MAX_AUTO_LOCK_SECS: u32 = 3600;

/// How the wallet is opened.
pub struct WalletConfig {
    /// The app's data directory; the SQLite file and (desktop) key file live here.
    pub data_dir: PathBuf,
    /// The backend's base URL unless the settings say otherwise (dev builds only).
    pub backend_url: String,
    /// Dev builds may change the backend URL in the settings and may use plain http.
    pub dev_build: bool,
    pub clock: Arc<dyn Clock>,
}

struct Inner {
    settings: Settings,
    last_activity: DateTime<Utc>,
    unlocked: bool,
}

/// The wallet. `Send + Sync`: state sits behind `Mutex`es that are never held across
/// an `.await`.
pub struct Wallet {
    cfg: WalletConfig,
    inner: Mutex<Inner>,
}

impl std::fmt::Debug for Wallet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Wallet")
            .field("data_dir", &self.cfg.data_dir)
            .finish_non_exhaustive()
    }
}

fn not_ready(what: &str) -> UiError {
    UiError::new(ErrorCode::Internal, format!("{what} is not available yet"))
}

impl Wallet {
    pub fn open(cfg: WalletConfig) -> Result<Self, UiError> {
        std::fs::create_dir_all(&cfg.data_dir)
            .map_err(|e| UiError::new(ErrorCode::Storage, format!("data dir: {e}")))?;
        let settings = Settings {
            language: "id".into(),
            auto_lock_secs: DEFAULT_AUTO_LOCK_SECS,
            backend_url: cfg.backend_url.clone(),
        };
        let now = cfg.clock.now();
        Ok(Self {
            inner: Mutex::new(Inner {
                settings,
                last_activity: now,
                unlocked: false,
            }),
            cfg,
        })
    }

    fn inner(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn app_state(&self) -> Result<AppState, UiError> {
        let inner = self.inner();
        Ok(AppState {
            stage: if inner.unlocked {
                Stage::Unlocked
            } else {
                Stage::Welcome
            },
            enrollment: None,
            lockout: None,
            settings: inner.settings.clone(),
            dev_build: self.cfg.dev_build,
            documents_wiped: false,
        })
    }

    pub fn check_nik(&self, nik: &str) -> Result<NikInfo, UiError> {
        let _ = nik;
        Err(not_ready("check_nik"))
    }
    pub fn check_email(&self, email: &str) -> Result<String, UiError> {
        let _ = email;
        Err(not_ready("check_email"))
    }
    pub fn check_phone(&self, phone: &str) -> Result<String, UiError> {
        let _ = phone;
        Err(not_ready("check_phone"))
    }
    pub fn process_selfie(&self, bytes: &[u8]) -> Result<SelfieView, UiError> {
        let _ = bytes;
        Err(not_ready("process_selfie"))
    }
    pub async fn submit_enrollment(&self, form: RegisterForm) -> Result<EnrollmentView, UiError> {
        let _ = form;
        Err(not_ready("submit_enrollment"))
    }
    pub fn decode_qr_image(&self, bytes: &[u8]) -> Result<String, UiError> {
        Ok(crate::qr::decode_qr_image(bytes)?)
    }
    pub async fn scan_desk_qr(&self, text: &str) -> Result<EnrollmentView, UiError> {
        let _ = text;
        Err(not_ready("scan_desk_qr"))
    }
    pub async fn refresh_status(&self) -> Result<EnrollmentView, UiError> {
        Err(not_ready("refresh_status"))
    }
    pub async fn resend_code(&self) -> Result<EnrollmentView, UiError> {
        Err(not_ready("resend_code"))
    }
    pub async fn activate(&self, code: SecretString) -> Result<AppState, UiError> {
        let _ = code;
        Err(not_ready("activate"))
    }
    pub fn check_pin(&self, pin: &SecretString) -> Result<(), UiError> {
        let _ = pin;
        Err(not_ready("check_pin"))
    }
    pub fn set_pin(&self, pin: SecretString, confirm: SecretString) -> Result<AppState, UiError> {
        let _ = (pin, confirm);
        Err(not_ready("set_pin"))
    }
    pub fn unlock(&self, pin: SecretString) -> Result<AppState, UiError> {
        let _ = pin;
        Err(not_ready("unlock"))
    }
    pub fn lock(&self) -> Result<AppState, UiError> {
        self.inner().unlocked = false;
        self.app_state()
    }
    /// User activity: restarts the idle timer.
    pub fn touch(&self) {
        let now = self.cfg.clock.now();
        self.inner().last_activity = now;
    }
    pub fn home(&self) -> Result<HomeView, UiError> {
        Err(not_ready("home"))
    }
    pub fn ktp(&self) -> Result<KtpView, UiError> {
        Err(not_ready("ktp"))
    }
    pub fn kk(&self) -> Result<KkView, UiError> {
        Err(not_ready("kk"))
    }
    pub fn history(&self) -> Result<Vec<HistoryEntry>, UiError> {
        Ok(Vec::new())
    }
    pub fn change_pin(&self, old_pin: SecretString, new_pin: SecretString) -> Result<(), UiError> {
        let _ = (old_pin, new_pin);
        Err(not_ready("change_pin"))
    }
    pub fn settings(&self) -> Result<Settings, UiError> {
        Ok(self.inner().settings.clone())
    }
    pub fn set_settings(&self, settings: Settings) -> Result<Settings, UiError> {
        let mut inner = self.inner();
        inner.settings = settings;
        Ok(inner.settings.clone())
    }
    pub async fn refresh_documents(&self) -> Result<(), UiError> {
        Err(not_ready("refresh_documents"))
    }
    pub async fn release_device(&self) -> Result<AppState, UiError> {
        Err(not_ready("release_device"))
    }
    pub fn reset_enrollment(&self) -> Result<AppState, UiError> {
        self.app_state()
    }

    /// The app went to the background: lock now. Returns the new state when this
    /// locked the documents (so the shell emits `locked`), None when already locked.
    pub fn on_background(&self) -> Option<AppState> {
        let was = std::mem::replace(&mut self.inner().unlocked, false);
        if was {
            self.app_state().ok()
        } else {
            None
        }
    }

    /// Locks when the idle timeout has passed. Returns the new state when this locked.
    pub fn lock_if_idle(&self) -> Option<AppState> {
        let now = self.cfg.clock.now();
        let locked = {
            let mut inner = self.inner();
            let idle = now - inner.last_activity;
            if inner.unlocked
                && idle >= chrono::Duration::seconds(i64::from(inner.settings.auto_lock_secs))
            {
                inner.unlocked = false;
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
}
