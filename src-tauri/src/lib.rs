//! ikd-app: the Tauri 2 shell over ikd-core.
//!
//! Nothing is decided here: the shell opens the [`Wallet`] in the app data dir, exposes
//! its methods as commands (`commands.rs`, the one list; its contract is generated into
//! `gen/COMMANDS.md` and `gen/ts/commands.ts`), and turns platform events into
//! `wallet.on_background()` / `wallet.lock_if_idle()` plus a `locked` event. What
//! differs between desktop and phone is in `platform/`.
//!
//! Environment (development and tests):
//! - `IKD_BACKEND_URL` (development builds only: `debug_assertions` or the `demo` feature):
//!   the backend to use (overrides the built-in default and the demo backend);
//! - `IKD_DATA_DIR`: the app data dir (default: the platform's app data dir);
//! - `IKD_MOCK_CAMERA=1` (Linux): WebKitGTK's mock capture devices, camera permission allowed;
//! - `IKD_STARTUP_TRACE=FILE`: start-up timestamps for `scripts/startup` (`startup_trace.rs`).
//!
//! Lock on background: on phones, `WindowEvent::Focused(false)` (the activity/scene left
//! the foreground); on desktop, when the window is minimised (`platform::desktop`).

#[cfg(test)]
mod bindings;
mod commands;
#[cfg(target_os = "linux")]
mod mock_camera;
mod platform;
mod startup_trace;

use ikd_core::clock::SystemClock;
use ikd_core::error::{ErrorCode, UiError};
use ikd_core::view::AppState;
use ikd_core::wallet::{Wallet, WalletConfig};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tauri::{AppHandle, Emitter, Manager, RunEvent, WindowEvent};

/// The backend a release build talks to unless configured otherwise.
pub const DEFAULT_BACKEND_URL: &str = "https://api.ikd.go.id";
/// The event the UI listens for to show the PIN pad.
pub const LOCKED_EVENT: &str = "locked";
/// Event to the UI carrying an `openid4vp://` link the app was opened with (phones).
pub const PRESENTATION_LINK_EVENT: &str = "presentation-link";
/// How often the idle timer looks at the wallet.
const IDLE_CHECK_EVERY: Duration = Duration::from_secs(2);

pub(crate) fn env_nonempty(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn emit_locked(app: &AppHandle, state: Option<AppState>) {
    if let Some(state) = state {
        if let Err(e) = app.emit(LOCKED_EVENT, state) {
            tracing::warn!("could not emit the locked event: {e}");
        }
    }
}

/// The embedded reference backend (feature `demo`): started in-process on loopback.
#[cfg(feature = "demo")]
fn start_demo_backend(data_dir: &std::path::Path) -> Result<ikd_server::RunningServer, String> {
    let config = ikd_server::Config::demo(data_dir.join("demo-backend"));
    let server = tauri::async_runtime::block_on(ikd_server::start(config))
        .map_err(|e| format!("demo backend: {e}"))?;
    // The wallet checks the credentials' x5c chain against the demo server's root.
    let root = data_dir
        .join("demo-backend")
        .join(ikd_server::x5c::DEMO_ROOT_FILE);
    let ours = data_dir.join(ikd_core::wallet::ISSUER_ROOT_FILE);
    if !ours.exists() {
        if let Err(e) = std::fs::copy(&root, &ours) {
            tracing::warn!("demo Dukcapil root not copied: {e}");
        }
    }
    println!(
        "[ikd-app] demo backend at {url}\n[ikd-app] officer console: {url}/officer  login {user} / {pass}\n[ikd-app] dev outbox (activation mails): {url}/dev/outbox\n[ikd-app] demo resident: NIK {nik} ({name})",
        url = server.base_url,
        user = ikd_server::demo::DEMO_OFFICER_USERNAME,
        pass = ikd_server::demo::DEMO_OFFICER_PASSWORD,
        nik = ikd_server::demo::SITI.nik,
        name = ikd_server::demo::SITI.name,
    );
    Ok(server)
}

/// The desktop fallback file's folder, outside the data folder that backups take:
/// `$XDG_STATE_HOME/<app id>` (default `~/.local/state/<app id>`) on Linux, else (and
/// with `IKD_DATA_DIR`) a sibling folder `<data dir>.keystore`.
fn fallback_dir(app: &tauri::App, data_dir: &std::path::Path, from_env: bool) -> PathBuf {
    let sibling = || {
        let mut name = data_dir
            .file_name()
            .map(|n| n.to_os_string())
            .unwrap_or_else(|| "ikd".into());
        name.push(".keystore");
        data_dir.with_file_name(name)
    };
    if from_env || !cfg!(target_os = "linux") {
        return sibling();
    }
    let state = env_nonempty("XDG_STATE_HOME")
        .map(PathBuf::from)
        .or_else(|| env_nonempty("HOME").map(|h| PathBuf::from(h).join(".local/state")));
    match state {
        Some(s) => s.join(&app.config().identifier),
        None => sibling(),
    }
}

/// A development build: `debug_assertions` or the `demo` feature.
const DEV_BUILD: bool = cfg!(debug_assertions) || cfg!(feature = "demo");

/// `IKD_BACKEND_URL` counts in development builds only.
fn backend_override(dev_build: bool, from_env: Option<String>) -> Option<String> {
    from_env.filter(|_| dev_build)
}

/// The wallet, opened off the main thread so that the window, the webview and the
/// first page do not wait for the key store (Secret Service over D-Bus on Linux) and
/// SQLite. Every command waits for it ([`WalletSlot::wallet`]); the UI shows its boot
/// screen meanwhile.
pub struct WalletSlot(tokio::sync::watch::Receiver<Option<Result<Arc<Wallet>, UiError>>>);

impl WalletSlot {
    /// The open wallet, once it is open; the error it failed with, if it could not be.
    pub async fn wallet(&self) -> Result<Arc<Wallet>, UiError> {
        let mut rx = self.0.clone();
        let opened = rx
            .wait_for(Option::is_some)
            .await
            .map_err(|_| UiError::new(ErrorCode::Internal, "the wallet was not opened"))?;
        match &*opened {
            Some(Ok(wallet)) => Ok(Arc::clone(wallet)),
            Some(Err(e)) => Err(e.clone()),
            None => Err(UiError::new(
                ErrorCode::Internal,
                "the wallet was not opened",
            )),
        }
    }

    /// The wallet if it is already open (window events do not wait).
    pub fn now(&self) -> Option<Arc<Wallet>> {
        match &*self.0.borrow() {
            Some(Ok(wallet)) => Some(Arc::clone(wallet)),
            _ => None,
        }
    }
}

fn setup(app: &mut tauri::App) -> Result<(), Box<dyn std::error::Error>> {
    startup_trace::mark("windows");
    let data_dir_env = env_nonempty("IKD_DATA_DIR");
    let from_env = data_dir_env.is_some();
    let data_dir = match data_dir_env {
        Some(d) => PathBuf::from(d),
        None => app.path().app_data_dir()?,
    };
    let fallback = fallback_dir(app, &data_dir, from_env);

    let (opened, slot) = tokio::sync::watch::channel(None);
    app.manage(WalletSlot(slot));
    let handle = app.handle().clone();
    std::thread::Builder::new()
        .name("ikd-wallet-open".into())
        .spawn(move || {
            let wallet = open_wallet(&handle, data_dir, fallback).map(Arc::new);
            match &wallet {
                Ok(wallet) => start_idle_timer(&handle, Arc::clone(wallet)),
                Err(e) => {
                    tracing::error!("the wallet could not be opened: {e:?}");
                    eprintln!("[ikd-app] the wallet could not be opened: {}", e.message);
                }
            }
            startup_trace::mark("wallet");
            // No receiver left means the app is closing: nothing to tell.
            let _ = opened.send(Some(wallet));
        })?;

    platform::setup(app)?;
    startup_trace::mark("setup");
    Ok(())
}

/// Opens the wallet (and, with the `demo` feature, starts the embedded backend).
fn open_wallet(
    #[allow(unused_variables)] handle: &AppHandle,
    data_dir: PathBuf,
    fallback: PathBuf,
) -> Result<Wallet, UiError> {
    std::fs::create_dir_all(&data_dir)
        .map_err(|e| UiError::new(ErrorCode::Storage, format!("data dir: {e}")))?;

    // Development builds (`debug_assertions` or the `demo` feature, as `dev_build`
    // below) may point the app at another backend; a release build ignores it.
    #[allow(unused_mut)]
    let mut backend_url = backend_override(DEV_BUILD, env_nonempty("IKD_BACKEND_URL"));
    #[cfg(feature = "demo")]
    if backend_url.is_none() {
        let server =
            start_demo_backend(&data_dir).map_err(|e| UiError::new(ErrorCode::Internal, e))?;
        backend_url = Some(server.base_url.clone());
        // Dropping the handle stops the server: keep it for the app's lifetime.
        handle.manage(server);
    }
    let backend_url = backend_url.unwrap_or_else(|| DEFAULT_BACKEND_URL.to_owned());
    tracing::info!("backend: {backend_url}");

    Wallet::open(WalletConfig {
        keystore: platform::keystore(&data_dir, fallback)?,
        data_dir,
        backend_url,
        dev_build: DEV_BUILD,
        clock: Arc::new(SystemClock),
        kdf: None,
        issuer_url: None,
    })
}

/// The idle timer: locks the documents after the configured quiet time.
fn start_idle_timer(handle: &AppHandle, wallet: Arc<Wallet>) {
    let handle = handle.clone();
    tauri::async_runtime::spawn(async move {
        let mut every = tokio::time::interval(IDLE_CHECK_EVERY);
        loop {
            every.tick().await;
            emit_locked(&handle, wallet.lock_if_idle());
        }
    });
}

fn on_page_load(_webview: &tauri::Webview, payload: &tauri::webview::PageLoadPayload<'_>) {
    match payload.event() {
        tauri::webview::PageLoadEvent::Started => {
            startup_trace::mark("page-started");
            startup_trace::mark_children();
        }
        tauri::webview::PageLoadEvent::Finished => startup_trace::mark("page-finished"),
    }
}

fn on_window_event(window: &tauri::Window, event: &WindowEvent) {
    if platform::went_to_background(window, event) {
        if let Some(wallet) = window.try_state::<WalletSlot>().and_then(|s| s.now()) {
            emit_locked(window.app_handle(), wallet.on_background());
        }
    }
}

#[cfg_attr(mobile, tauri::mobile_entry_point)]
pub fn run() {
    startup_trace::mark("main");
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .try_init();

    let app = platform::plugins(tauri::Builder::default())
        .setup(setup)
        .on_window_event(on_window_event)
        .on_page_load(on_page_load)
        .invoke_handler(commands::handler())
        .build(tauri::generate_context!());
    startup_trace::mark("built");
    let app = match app {
        Ok(app) => app,
        Err(e) => {
            eprintln!("[ikd-app] could not start: {e}");
            std::process::exit(1);
        }
    };
    app.run(|_handle, event| {
        if let RunEvent::Resumed = event {
            tracing::debug!("resumed");
        }
    });
}

#[cfg(test)]
mod backend_env_tests {
    #[test]
    fn ikd_backend_url_is_honoured_in_development_builds_only() {
        let env = || Some("http://127.0.0.1:9".to_owned());
        assert_eq!(super::backend_override(true, env()), env());
        assert_eq!(super::backend_override(false, env()), None);
    }
}
