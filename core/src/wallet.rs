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

use crate::client::{BackendClient, Tokens};
use crate::clock::Clock;
use crate::credential::model::{Kk, Ktp};
use crate::sdjwt;
use crate::device_key::DeviceKey;
use crate::enrollment::{Desk, EnrollmentState};
use crate::error::{ErrorCode, UiError};
use crate::identity::{email, nik, phone};
use crate::secret::{SecretBytes, SecretString};
use crate::selfie::{self, Processed};
use crate::store::Store;
use crate::vault::{self, KdfParams, KeyStore, Pin, UnlockedKey, Vault};
use crate::view::{
    AppState, EnrollmentView, HistoryEntry, HistoryKind, HomeView, KkView, KtpView, NikInfo,
    RegisterForm, SelfieView, Settings, Stage,
};
use crate::wire::{
    CredentialOffer, EcJwk, EnrollRequest, EnrollmentStatusResponse, EnrollmentStatusWire,
    KK_CONFIGURATION, KTP_CONFIGURATION,
};
use base64::Engine as _;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

/// Default idle time before the documents lock again.
pub const DEFAULT_AUTO_LOCK_SECS: u32 = 120;
/// Shortest and longest auto-lock the settings accept.
pub const MIN_AUTO_LOCK_SECS: u32 = 15;
pub const MAX_AUTO_LOCK_SECS: u32 = 3600;
/// The SQLite file in the data dir.
pub const DB_FILE: &str = "ikd-wallet.sqlite3";

const KS_DEVICE_KEY: &str = "ikd.device_key";
const KV_SETTINGS: &str = "wallet.settings";
const KV_STATE: &str = "enrollment.state";
const KV_ENROLLMENT: &str = "enrollment.sealed";
const KV_PENDING: &str = "activation.sealed";
const KV_ISSUER: &str = "issuer";
const DOC_KTP: &str = "ktp";
const DOC_KK: &str = "kk";
const DOC_TOKENS: &str = "tokens";

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
}

/// The enrollment's secrets and last status, sealed in the store.
#[derive(Serialize, Deserialize, Default, Clone)]
struct EnrollmentRecord {
    id: String,
    token: String,
    email_masked: Option<String>,
    code_expires_at: Option<String>,
    code_attempts_left: Option<u32>,
    offer: Option<CredentialOffer>,
    /// "Lupa PIN" asked for: `offer` is the re-authentication offer whose code went by
    /// email.
    #[serde(default)]
    pin_reset_pending: bool,
}

/// Credentials fetched at activation, kept (sealed) until a PIN is set.
#[derive(Serialize, Deserialize)]
struct Held {
    ktp: String,
    kk: String,
    tokens: StoredTokens,
}

#[derive(Serialize, Deserialize, Clone)]
struct StoredTokens {
    access_token: String,
    refresh_token: Option<String>,
}

impl From<Tokens> for StoredTokens {
    fn from(t: Tokens) -> Self {
        Self {
            // Kept sealed (store) or in the vault only.
            access_token: t.access_token.expose().clone(),
            refresh_token: t.refresh_token.map(|r| r.expose().clone()),
        }
    }
}

#[derive(Serialize, Deserialize, Clone)]
struct Issuer {
    id: String,
    jwk: EcJwk,
    /// The issuer's display name from its metadata (`display[].name`), if it has one.
    #[serde(default)]
    name: Option<String>,
}

/// How the documents screen names the issuer: its display name with its host, or the
/// host alone (never a bare URL).
fn issuer_label(name: Option<&str>, issuer_url: &str) -> String {
    let host = url::Url::parse(issuer_url)
        .ok()
        .and_then(|u| {
            u.host_str().map(|h| match u.port() {
                Some(p) => format!("{h}:{p}"),
                None => h.to_owned(),
            })
        })
        .unwrap_or_else(|| issuer_url.to_owned());
    match name {
        Some(n) => format!("{n} ({host})"),
        None => host,
    }
}

struct Inner {
    settings: Settings,
    last_activity: DateTime<Utc>,
    session: Option<UnlockedKey>,
    selfie: Option<Processed>,
    client: Arc<BackendClient>,
}

/// The wallet.
pub struct Wallet {
    dev_build: bool,
    data_dir: PathBuf,
    clock: Arc<dyn Clock>,
    keystore: Arc<dyn KeyStore>,
    store: Arc<Store>,
    vault: Vault,
    device: DeviceKey,
    inner: Mutex<Inner>,
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

// ---- sealing small records under a key derived from the device secret ----

fn seal_key(ds: &SecretBytes) -> Result<ring::aead::LessSafeKey, UiError> {
    let salt = ring::hkdf::Salt::new(ring::hkdf::HKDF_SHA256, b"ikd.wallet.seal.v1");
    let prk = salt.extract(ds.expose());
    let okm = prk
        .expand(&[b"held-records"], &ring::aead::AES_256_GCM)
        .map_err(|_| internal("key derivation"))?;
    Ok(ring::aead::LessSafeKey::new(ring::aead::UnboundKey::from(
        okm,
    )))
}

fn seal(ds: &SecretBytes, name: &str, plain: &[u8]) -> Result<String, UiError> {
    use ring::rand::SecureRandom;
    let key = seal_key(ds)?;
    let mut nonce = [0u8; 12];
    ring::rand::SystemRandom::new()
        .fill(&mut nonce)
        .map_err(|_| internal("random"))?;
    let mut buf = plain.to_vec();
    key.seal_in_place_append_tag(
        ring::aead::Nonce::assume_unique_for_key(nonce),
        ring::aead::Aad::from(name.as_bytes()),
        &mut buf,
    )
    .map_err(|_| internal("seal"))?;
    let mut out = nonce.to_vec();
    out.extend_from_slice(&buf);
    Ok(base64::engine::general_purpose::STANDARD.encode(out))
}

fn open(ds: &SecretBytes, name: &str, sealed: &str) -> Result<SecretBytes, UiError> {
    let corrupt = || err(ErrorCode::VaultCorrupt, "a sealed record does not open");
    let raw = base64::engine::general_purpose::STANDARD
        .decode(sealed)
        .map_err(|_| corrupt())?;
    if raw.len() < 12 + 16 {
        return Err(corrupt());
    }
    let key = seal_key(ds)?;
    let mut nonce = [0u8; 12];
    nonce.copy_from_slice(&raw[..12]);
    let mut buf = raw[12..].to_vec();
    let plain = key
        .open_in_place(
            ring::aead::Nonce::assume_unique_for_key(nonce),
            ring::aead::Aad::from(name.as_bytes()),
            &mut buf,
        )
        .map_err(|_| corrupt())?;
    Ok(SecretBytes::new(plain.to_vec()))
}

fn from_secret_json<T: for<'de> Deserialize<'de>>(b: &SecretBytes) -> Result<T, UiError> {
    serde_json::from_slice(b.expose()).map_err(|_| err(ErrorCode::VaultCorrupt, "record"))
}

fn to_json<T: Serialize>(v: &T) -> Result<String, UiError> {
    serde_json::to_string(v).map_err(|_| internal("serialize"))
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
        let mut settings = match store.get_kv(KV_SETTINGS)? {
            Some(j) => serde_json::from_str::<Settings>(&j).unwrap_or_else(|_| Settings {
                language: "id".into(),
                auto_lock_secs: DEFAULT_AUTO_LOCK_SECS,
                backend_url: cfg.backend_url.clone(),
            }),
            None => Settings {
                language: "id".into(),
                auto_lock_secs: DEFAULT_AUTO_LOCK_SECS,
                backend_url: cfg.backend_url.clone(),
            },
        };
        if !cfg.dev_build {
            settings.backend_url = cfg.backend_url.clone();
        }
        let client = Arc::new(BackendClient::new(&settings.backend_url)?);
        if let Some(j) = store.get_kv(KV_ISSUER)? {
            if let Ok(issuer) = serde_json::from_str::<Issuer>(&j) {
                client.pin_issuer_jwk(issuer.jwk);
            }
        }
        let now = cfg.clock.now();
        Ok(Self {
            dev_build: cfg.dev_build,
            data_dir: cfg.data_dir,
            clock: cfg.clock,
            keystore: cfg.keystore,
            store,
            vault,
            device,
            inner: Mutex::new(Inner {
                settings,
                last_activity: now,
                session: None,
                selfie: None,
                client,
            }),
        })
    }

    fn inner(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn client(&self) -> Arc<BackendClient> {
        Arc::clone(&self.inner().client)
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    fn today(&self) -> NaiveDate {
        self.now().date_naive()
    }

    fn ds(&self) -> Result<SecretBytes, UiError> {
        Ok(vault::device_secret(self.keystore.as_ref())?)
    }

    fn history_add(&self, kind: HistoryKind, detail: Option<&str>) -> Result<(), UiError> {
        Ok(self.store.append_history(self.now(), kind, detail)?)
    }

    fn state(&self) -> Result<EnrollmentState, UiError> {
        match self.store.get_kv(KV_STATE)? {
            Some(j) => Ok(EnrollmentState::from_json(&j)?),
            None => Ok(EnrollmentState::Draft),
        }
    }

    fn record(&self) -> Result<Option<EnrollmentRecord>, UiError> {
        match self.store.get_kv(KV_ENROLLMENT)? {
            Some(s) => Ok(Some(from_secret_json(&open(
                &self.ds()?,
                KV_ENROLLMENT,
                &s,
            )?)?)),
            None => Ok(None),
        }
    }

    fn record_required(&self) -> Result<EnrollmentRecord, UiError> {
        self.record()?
            .ok_or_else(|| err(ErrorCode::InvalidState, "no enrollment yet"))
    }

    /// Writes state and record in one transaction.
    fn save(&self, state: &EnrollmentState, rec: &EnrollmentRecord) -> Result<(), UiError> {
        let sealed = seal(&self.ds()?, KV_ENROLLMENT, to_json(rec)?.as_bytes())?;
        let state_json = state.to_json();
        Ok(self.store.set_kv_many(&[
            (KV_STATE, state_json.as_str()),
            (KV_ENROLLMENT, sealed.as_str()),
        ])?)
    }

    /// [`Self::save`] and a history entry, in one transaction.
    fn save_with_history(
        &self,
        state: &EnrollmentState,
        rec: &EnrollmentRecord,
        kind: HistoryKind,
    ) -> Result<(), UiError> {
        let sealed = seal(&self.ds()?, KV_ENROLLMENT, to_json(rec)?.as_bytes())?;
        let state_json = state.to_json();
        let now = self.now();
        self.store
            .with_tx(|tx| -> Result<(), crate::store::StoreError> {
                crate::store::db::set_kv(tx, KV_STATE, &state_json)?;
                crate::store::db::set_kv(tx, KV_ENROLLMENT, &sealed)?;
                crate::store::db::append_history(tx, now, kind, None)?;
                Ok(())
            })?;
        Ok(())
    }

    fn held(&self) -> Result<Option<Held>, UiError> {
        match self.store.get_kv(KV_PENDING)? {
            Some(s) => Ok(Some(from_secret_json(&open(&self.ds()?, KV_PENDING, &s)?)?)),
            None => Ok(None),
        }
    }

    fn issuer(&self) -> Result<Issuer, UiError> {
        let j = self
            .store
            .get_kv(KV_ISSUER)?
            .ok_or_else(|| err(ErrorCode::InvalidState, "no issuer pinned"))?;
        serde_json::from_str(&j).map_err(|_| err(ErrorCode::VaultCorrupt, "issuer"))
    }

    fn view_of(state: &EnrollmentState, rec: &EnrollmentRecord) -> Option<EnrollmentView> {
        let status = state.wire_status()?;
        Some(EnrollmentView {
            status,
            desk_name: state
                .desk()
                .map(|d| d.name.clone())
                .filter(|n| !n.is_empty()),
            reject_reason: state.reject_reason().map(str::to_owned),
            code_expires_at: rec.code_expires_at.clone(),
            code_attempts_left: rec.code_attempts_left,
            email_masked: rec.email_masked.clone(),
        })
    }

    fn enrollment_view(&self) -> Result<EnrollmentView, UiError> {
        let state = self.state()?;
        let rec = self.record()?.unwrap_or_default();
        Self::view_of(&state, &rec).ok_or_else(|| err(ErrorCode::InvalidState, "no enrollment yet"))
    }

    /// Folds a status answer in; records history on each step; one transaction.
    fn apply(&self, resp: &EnrollmentStatusResponse) -> Result<EnrollmentView, UiError> {
        let before = self.state()?;
        let mut rec = self.record_required()?;
        let after = before.apply_status(resp);
        rec.code_expires_at = resp.code_expires_at.clone().or(rec.code_expires_at);
        rec.code_attempts_left = resp.code_attempts_left.or(rec.code_attempts_left);
        rec.email_masked = resp.email_masked.clone().or(rec.email_masked);
        if resp.credential_offer.is_some() {
            rec.offer = resp.credential_offer.clone();
        }
        self.save(&after, &rec)?;
        if after != before {
            let kind = match &after {
                EnrollmentState::Scanned { .. } => Some(HistoryKind::DeskScanned),
                EnrollmentState::Approved { .. } => Some(HistoryKind::Approved),
                EnrollmentState::Rejected { .. } => Some(HistoryKind::Rejected),
                _ => None,
            };
            if let Some(kind) = kind {
                let desk = after.desk().map(|d| d.name.clone());
                self.history_add(kind, desk.as_deref())?;
            }
        }
        Self::view_of(&after, &rec).ok_or_else(|| internal("enrollment view"))
    }

    /// Runs `f` with the unlocked document key (the lock is held only for `f`).
    fn with_key<T>(
        &self,
        f: impl FnOnce(&UnlockedKey) -> Result<T, UiError>,
    ) -> Result<T, UiError> {
        let inner = self.inner();
        let key = inner
            .session
            .as_ref()
            .ok_or_else(|| err(ErrorCode::VaultLocked, "the documents are locked"))?;
        f(key)
    }

    fn doc(&self, id: &str) -> Result<String, UiError> {
        let bytes = self
            .with_key(|key| Ok(self.vault.get_document(key, id)?))?
            .ok_or_else(|| err(ErrorCode::NoDocuments, "no documents"))?;
        String::from_utf8(bytes.expose().clone()).map_err(|_| err(ErrorCode::VaultCorrupt, "doc"))
    }

    fn verify(&self, sd_jwt: &str) -> Result<sdjwt::Verified, UiError> {
        let issuer = self.issuer()?;
        let device = self.device.public_jwk();
        Ok(sdjwt::verify(
            sd_jwt,
            &issuer.jwk,
            Some(&device),
            self.now(),
        )?)
    }

    fn issuer_display(&self, issuer_url: &str) -> String {
        let name = self.issuer().ok().and_then(|i| i.name);
        issuer_label(name.as_deref(), issuer_url)
    }

    fn birth_date_of(ktp: &Ktp) -> Option<NaiveDate> {
        NaiveDate::parse_from_str(&ktp.tanggal_lahir, "%Y-%m-%d").ok()
    }

    /// Fetches KTP and KK with `access_token`, each with a fresh nonce and proof.
    async fn fetch_credentials(
        &self,
        client: &BackendClient,
        issuer: &str,
        access_token: &SecretString,
    ) -> Result<(String, String), UiError> {
        let mut out = Vec::with_capacity(2);
        for conf in [KTP_CONFIGURATION, KK_CONFIGURATION] {
            let nonce = client.nonce().await?;
            let proof = self.device.proof_jwt(issuer, &nonce, self.now())?;
            out.push(client.credential(access_token, conf, &proof).await?);
        }
        let kk = out.pop().ok_or_else(|| internal("credential"))?;
        let ktp = out.pop().ok_or_else(|| internal("credential"))?;
        Ok((ktp, kk))
    }

    // ------------------------------------------------------------------ commands

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
            documents_wiped: wiped,
            pin_reset_pending,
        })
    }

    pub fn check_nik(&self, input: &str) -> Result<NikInfo, UiError> {
        Ok(nik::parse(input, self.today())?)
    }

    pub fn check_email(&self, input: &str) -> Result<String, UiError> {
        Ok(email::normalize(input)?)
    }

    pub fn check_phone(&self, input: &str) -> Result<String, UiError> {
        Ok(phone::normalize(input)?)
    }

    pub fn process_selfie(&self, bytes: &[u8]) -> Result<SelfieView, UiError> {
        let processed = selfie::process(bytes)?;
        let view = processed.view();
        self.inner().selfie = Some(processed);
        Ok(view)
    }

    pub async fn submit_enrollment(&self, form: RegisterForm) -> Result<EnrollmentView, UiError> {
        if !form.consent {
            return Err(err(ErrorCode::ConsentRequired, "consent is required"));
        }
        let info = nik::parse(&form.nik, self.today())?;
        let mail = email::normalize(&form.email)?;
        let phone = phone::normalize(&form.phone)?;
        let state = self.state()?;
        let next = state.submit()?;
        let jpeg = {
            let inner = self.inner();
            let s = inner
                .selfie
                .as_ref()
                .ok_or_else(|| err(ErrorCode::InvalidState, "take a selfie first"))?;
            base64::engine::general_purpose::STANDARD.encode(&s.jpeg)
        };
        let req = EnrollRequest {
            nik: info.nik,
            email: mail.clone(),
            phone,
            selfie_jpeg: jpeg,
            device_jwk: self.device.public_jwk(),
        };
        let res = self.client().submit(&req).await?;
        let rec = EnrollmentRecord {
            id: res.enrollment_id,
            token: res.enrollment_token,
            email_masked: Some(email::mask(&mail)),
            ..Default::default()
        };
        self.save(&next, &rec)?;
        self.inner().selfie = None;
        self.history_add(HistoryKind::Registered, None)?;
        Self::view_of(&next, &rec).ok_or_else(|| internal("enrollment view"))
    }

    pub fn decode_qr_image(&self, bytes: &[u8]) -> Result<String, UiError> {
        Ok(crate::qr::decode_qr_image(bytes)?)
    }

    pub async fn scan_desk_qr(&self, text: &str) -> Result<EnrollmentView, UiError> {
        let text = text.trim();
        if text.is_empty() || text.len() > 4096 {
            return Err(err(ErrorCode::QrInvalid, "not a desk QR"));
        }
        let rec = self.record_required()?;
        let token = SecretString::new(rec.token.clone());
        let resp = self.client().scan(&rec.id, &token, text).await?;
        let view = self.apply(&resp)?;
        // The scan answer names the desk; make sure the state knows it.
        if let (Some(name), EnrollmentState::Submitted) = (&resp.desk_name, self.state()?) {
            let st = EnrollmentState::Submitted.scan(Desk::named(name.clone()))?;
            self.save(&st, &self.record_required()?)?;
            self.history_add(HistoryKind::DeskScanned, Some(name))?;
            return self.enrollment_view();
        }
        Ok(view)
    }

    pub async fn refresh_status(&self) -> Result<EnrollmentView, UiError> {
        let rec = self.record_required()?;
        let token = SecretString::new(rec.token.clone());
        let resp = self.client().status(&rec.id, &token).await?;
        self.apply(&resp)
    }

    pub async fn resend_code(&self) -> Result<EnrollmentView, UiError> {
        let rec = self.record_required()?;
        let token = SecretString::new(rec.token.clone());
        let resp = self.client().resend(&rec.id, &token).await?;
        self.apply(&resp)
    }

    pub async fn activate(&self, code: SecretString) -> Result<AppState, UiError> {
        let state = self.state()?;
        let next = state.activate()?;
        let rec = self.record_required()?;
        let client = self.client();
        let tokens = self.redeem(&client, &state, &rec, &code).await?;
        let meta = client.issuer_metadata().await?;
        let (ktp, kk) = self
            .fetch_credentials(&client, &meta.credential_issuer, &tokens.access_token)
            .await?;
        let device = self.device.public_jwk();
        for c in [&ktp, &kk] {
            sdjwt::verify(c, &meta.issuer_jwk, Some(&device), self.now())?;
        }
        let issuer = Issuer {
            id: meta.credential_issuer.clone(),
            jwk: meta.issuer_jwk.clone(),
            name: crate::wire::DisplayEntry::pick_name(&meta.metadata.display),
        };
        let held = Held {
            ktp,
            kk,
            tokens: tokens.into(),
        };
        let sealed = seal(&self.ds()?, KV_PENDING, to_json(&held)?.as_bytes())?;
        let issuer_json = to_json(&issuer)?;
        let state_json = next.to_json();
        self.store.set_kv_many(&[
            (KV_PENDING, sealed.as_str()),
            (KV_ISSUER, issuer_json.as_str()),
            (KV_STATE, state_json.as_str()),
        ])?;
        self.history_add(HistoryKind::Activated, None)?;
        self.app_state()
    }

    /// Redeems the record's offer (activation, or "Lupa PIN") with the mailed code; a
    /// wrong code saves the tries left (the backend's count) before the error goes back.
    async fn redeem(
        &self,
        client: &BackendClient,
        state: &EnrollmentState,
        rec: &EnrollmentRecord,
        code: &SecretString,
    ) -> Result<Tokens, UiError> {
        let pac = rec
            .offer
            .as_ref()
            .and_then(|o| o.grants.pre_authorized_code.as_ref())
            .map(|g| g.pre_authorized_code.as_str())
            .ok_or_else(|| err(ErrorCode::InvalidState, "no code to redeem yet"))?;
        match client.token(pac, code).await {
            Ok(t) => Ok(t),
            Err(e) => {
                let ui: UiError = e.into();
                if let Some(left) = ui
                    .detail
                    .as_ref()
                    .and_then(|d| d.get("attempts_left"))
                    .and_then(|v| v.as_u64())
                {
                    let rec = EnrollmentRecord {
                        code_attempts_left: u32::try_from(left).ok(),
                        ..rec.clone()
                    };
                    self.save(state, &rec)?;
                }
                Err(ui)
            }
        }
    }

    /// "Lupa PIN" (and the way back after 10 wrong PINs wiped the documents): asks the
    /// backend for a code by email, authenticated by the enrollment token and a proof
    /// from this device's key. The backend revokes the device's tokens; the documents
    /// lock. The old vault stays (the old PIN still opens it) until a new PIN replaces
    /// it, so nothing is lost if the code never arrives.
    pub async fn forgot_pin(&self) -> Result<EnrollmentView, UiError> {
        if !(self.vault.exists()? || self.vault.documents_wiped()?) {
            return Err(err(ErrorCode::InvalidState, "no PIN to reset"));
        }
        let mut rec = self.record_required()?;
        let issuer = self.issuer()?;
        let token = SecretString::new(rec.token.clone());
        let resp = self
            .client()
            .reauth_device(&rec.id, &token, &self.device, &issuer.id, self.now())
            .await?;
        self.inner().session = None;
        rec.offer = Some(resp.credential_offer);
        rec.code_expires_at = Some(resp.code_expires_at);
        rec.code_attempts_left = Some(resp.code_attempts_left);
        rec.email_masked = Some(resp.email_masked);
        rec.pin_reset_pending = true;
        let state = self.state()?;
        self.save_with_history(&state, &rec, HistoryKind::PinResetRequested)?;
        Self::view_of(&state, &rec).ok_or_else(|| internal("enrollment view"))
    }

    /// The code from the "Lupa PIN" email: fetches KTP and KK again (checked against
    /// the issuer key pinned at activation, not whatever the backend now says) and
    /// holds them sealed until [`Self::set_pin`] replaces the old vault with a new one.
    pub async fn reset_pin_with_code(&self, code: SecretString) -> Result<AppState, UiError> {
        let state = self.state()?;
        let mut rec = self.record_required()?;
        if !rec.pin_reset_pending {
            return Err(err(ErrorCode::InvalidState, "no PIN reset asked for"));
        }
        let client = self.client();
        let issuer = self.issuer()?;
        let tokens = self.redeem(&client, &state, &rec, &code).await?;
        let (ktp, kk) = self
            .fetch_credentials(&client, &issuer.id, &tokens.access_token)
            .await?;
        self.verify(&ktp)?;
        self.verify(&kk)?;
        let held = Held {
            ktp,
            kk,
            tokens: tokens.into(),
        };
        rec.pin_reset_pending = false;
        rec.offer = None;
        let ds = self.ds()?;
        let sealed_held = seal(&ds, KV_PENDING, to_json(&held)?.as_bytes())?;
        let sealed_rec = seal(&ds, KV_ENROLLMENT, to_json(&rec)?.as_bytes())?;
        // Held credentials and the cleared reset flag: one write. The old vault goes
        // only when the new PIN's vault replaces it (`set_pin`, one transaction).
        self.store.set_kv_many(&[
            (KV_PENDING, sealed_held.as_str()),
            (KV_ENROLLMENT, sealed_rec.as_str()),
        ])?;
        self.app_state()
    }

    fn pending_birth_date(&self) -> Result<Option<NaiveDate>, UiError> {
        let Some(held) = self.held()? else {
            return Ok(None);
        };
        let v = self.verify(&held.ktp)?;
        Ok(Ktp::from_claims(v.claims)
            .ok()
            .as_ref()
            .and_then(Self::birth_date_of))
    }

    fn unlocked_birth_date(&self) -> Option<NaiveDate> {
        let ktp = self.doc(DOC_KTP).ok()?;
        let v = self.verify(&ktp).ok()?;
        Ktp::from_claims(v.claims)
            .ok()
            .as_ref()
            .and_then(Self::birth_date_of)
    }

    pub fn check_pin(&self, pin: &SecretString) -> Result<(), UiError> {
        let birth = self
            .pending_birth_date()?
            .or_else(|| self.unlocked_birth_date());
        vault::pin::check_policy(pin.expose(), birth)?;
        Ok(())
    }

    pub fn set_pin(&self, pin: SecretString, confirm: SecretString) -> Result<AppState, UiError> {
        if pin != confirm {
            return Err(err(ErrorCode::PinMismatch, "the PINs differ"));
        }
        let held = self
            .held()?
            .ok_or_else(|| err(ErrorCode::InvalidState, "nothing to protect yet"))?;
        let birth = self.pending_birth_date()?;
        let pin = Pin::from_secret(pin, birth)?;
        let next = match self.state()?.set_pin() {
            Ok(s) => s,
            Err(_) => EnrollmentState::PinSet,
        };
        let state_json = next.to_json();
        let tokens_json = SecretString::new(to_json(&held.tokens)?);
        let now = self.now();
        // One transaction: the vault, the three documents, the held credentials gone
        // and the state at PinSet, or (on any failure, or a crash) none of it: the
        // credentials stay sealed under the device key and the PIN can be set again.
        let key = self.vault.create_with(
            &pin,
            &[
                (DOC_KTP, held.ktp.as_bytes()),
                (DOC_KK, held.kk.as_bytes()),
                (DOC_TOKENS, tokens_json.expose().as_bytes()),
            ],
            |tx| {
                tx.execute("DELETE FROM kv WHERE key = ?1", [KV_PENDING])
                    .map_err(crate::store::StoreError::from)?;
                crate::store::db::set_kv(tx, KV_STATE, &state_json)?;
                crate::store::db::append_history(tx, now, HistoryKind::PinSet, None)?;
                Ok(())
            },
        )?;
        {
            let mut inner = self.inner();
            inner.session = Some(key);
            inner.last_activity = self.now();
        }
        self.app_state()
    }

    pub fn unlock(&self, pin: SecretString) -> Result<AppState, UiError> {
        match self.vault.unlock(&pin) {
            Ok(key) => {
                {
                    let mut inner = self.inner();
                    inner.session = Some(key);
                    inner.last_activity = self.now();
                }
                self.history_add(HistoryKind::Unlocked, None)?;
                self.app_state()
            }
            Err(e) => {
                if matches!(e, vault::VaultError::WrongPin(_)) {
                    self.history_add(HistoryKind::UnlockFailed, None)?;
                }
                Err(e.into())
            }
        }
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

    pub fn home(&self) -> Result<HomeView, UiError> {
        let ktp = self.ktp()?.ktp;
        Ok(HomeView {
            nik_masked: nik::mask(&ktp.nik),
            nama: ktp.nama,
            foto: ktp.foto,
        })
    }

    /// The KTP, its issuer signature checked again with the pinned key.
    pub fn ktp(&self) -> Result<KtpView, UiError> {
        let v = self.verify(&self.doc(DOC_KTP)?)?;
        let issuer = self.issuer_display(&v.issuer);
        Ok(KtpView {
            ktp: Ktp::from_claims(v.claims)?,
            verified: true,
            issuer,
        })
    }

    pub fn kk(&self) -> Result<KkView, UiError> {
        let v = self.verify(&self.doc(DOC_KK)?)?;
        let issuer = self.issuer_display(&v.issuer);
        Ok(KkView {
            kk: Kk::from_claims(v.claims)?,
            verified: true,
            issuer,
        })
    }

    pub fn history(&self) -> Result<Vec<HistoryEntry>, UiError> {
        Ok(self.store.history()?)
    }

    pub fn change_pin(&self, old_pin: SecretString, new_pin: SecretString) -> Result<(), UiError> {
        let birth = self.unlocked_birth_date();
        let new_pin = Pin::from_secret(new_pin, birth)?;
        let now = self.now();
        // The new envelope and its history entry: one write.
        self.vault.change_pin_with(&old_pin, &new_pin, |tx| {
            crate::store::db::append_history(tx, now, HistoryKind::PinChanged, None)?;
            Ok(())
        })?;
        Ok(())
    }

    pub fn settings(&self) -> Result<Settings, UiError> {
        Ok(self.inner().settings.clone())
    }

    pub fn set_settings(&self, mut settings: Settings) -> Result<Settings, UiError> {
        validate_settings(&settings)?;
        let current = self.settings()?;
        let new_client = if !self.dev_build {
            settings.backend_url = current.backend_url.clone();
            None
        } else if settings.backend_url != current.backend_url {
            Some(Arc::new(BackendClient::new(&settings.backend_url)?))
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

    fn tokens(&self) -> Result<StoredTokens, UiError> {
        let t = self.doc(DOC_TOKENS)?;
        serde_json::from_str(&t).map_err(|_| err(ErrorCode::VaultCorrupt, "tokens"))
    }

    pub async fn refresh_documents(&self) -> Result<(), UiError> {
        let old = self.tokens()?;
        let client = self.client();
        let refresh = old
            .refresh_token
            .clone()
            .ok_or_else(|| err(ErrorCode::InvalidState, "no refresh token"))?;
        let tokens: StoredTokens = client.refresh(&SecretString::new(refresh)).await?.into();
        let issuer = self.issuer()?;
        let access = SecretString::new(tokens.access_token.clone());
        let (ktp, kk) = self.fetch_credentials(&client, &issuer.id, &access).await?;
        self.verify(&ktp)?;
        self.verify(&kk)?;
        let tokens = StoredTokens {
            refresh_token: tokens.refresh_token.or(old.refresh_token),
            ..tokens
        };
        let tokens_json = SecretString::new(to_json(&tokens)?);
        let now = self.now();
        // Both documents, the tokens and the history entry: one transaction.
        self.with_key(|key| {
            self.vault.put_documents(
                key,
                &[
                    (DOC_KTP, ktp.as_bytes()),
                    (DOC_KK, kk.as_bytes()),
                    (DOC_TOKENS, tokens_json.expose().as_bytes()),
                ],
                |tx| {
                    crate::store::db::append_history(
                        tx,
                        now,
                        HistoryKind::DocumentsRefreshed,
                        None,
                    )?;
                    Ok(())
                },
            )?;
            Ok(())
        })
    }

    /// Lepas Perangkat: tells the backend (needs the documents unlocked), then wipes
    /// every local record and makes a new device key.
    pub async fn release_device(&self) -> Result<AppState, UiError> {
        let tokens = self.tokens()?;
        let issuer = self.issuer()?;
        let client = self.client();
        let nonce = client.nonce().await?;
        let proof = self.device.proof_jwt(&issuer.id, &nonce, self.now())?;
        client
            .release(&SecretString::new(tokens.access_token), &proof)
            .await?;
        self.wipe_local(HistoryKind::DeviceReleased)
    }

    fn wipe_local(&self, kind: HistoryKind) -> Result<AppState, UiError> {
        let settings = self.settings()?;
        self.store.clear_all()?;
        self.store.set_kv(KV_SETTINGS, &to_json(&settings)?)?;
        self.keystore.delete(KS_DEVICE_KEY)?;
        {
            let mut inner = self.inner();
            inner.session = None;
            inner.selfie = None;
        }
        self.history_add(kind, None)?;
        self.app_state()
    }

    /// Start over after `rejected` or `expired` (or from a draft).
    pub fn reset_enrollment(&self) -> Result<AppState, UiError> {
        let state = self.state()?;
        let next = state.reset()?;
        self.store
            .with_tx(|tx| -> Result<(), crate::store::StoreError> {
                tx.execute("DELETE FROM kv WHERE key = ?1", [KV_ENROLLMENT])?;
                tx.execute("DELETE FROM kv WHERE key = ?1", [KV_PENDING])?;
                tx.execute(
                    "INSERT INTO kv (key, value) VALUES (?1, ?2)
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    [KV_STATE, next.to_json().as_str()],
                )?;
                Ok(())
            })?;
        self.inner().selfie = None;
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
        let meta = [d("Dukcapil", Some("en")), d("Ditjen Dukcapil", Some("id-ID"))];
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

    #[test]
    fn sealed_records_open_only_with_the_same_secret_and_name() {
        let ds = SecretBytes::new(vec![7u8; 32]);
        let sealed = seal(&ds, "a", b"token").unwrap();
        assert!(!sealed.contains("token"));
        assert_eq!(open(&ds, "a", &sealed).unwrap().expose(), b"token");
        assert_eq!(
            open(&ds, "b", &sealed).unwrap_err().code,
            ErrorCode::VaultCorrupt
        );
        let other = SecretBytes::new(vec![8u8; 32]);
        assert!(open(&other, "a", &sealed).is_err());
        assert!(open(&ds, "a", "!!").is_err());
    }
}
