//! Desktop (Linux, macOS, Windows): the OS key store (a file outside the data folder
//! when none answers), lock when minimised, no plugins.

use ikd_core::vault::keystore::{open_desktop_keystore, DesktopKeyStorePaths, OsKeyStore};
use ikd_core::vault::{KeyStore, KeyStoreError};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tauri::{Runtime, WindowEvent};

/// The key store: the OS key store (Secret Service / Keychain / Credential Manager);
/// when none answers, a 0600 file in `fallback_dir`, outside the data folder (logged,
/// and `AppState.key_store` is `file` so Pengaturan says so).
pub fn keystore(
    data_dir: &Path,
    fallback_dir: PathBuf,
) -> Result<Arc<dyn KeyStore>, KeyStoreError> {
    let paths = DesktopKeyStorePaths {
        data_dir: data_dir.to_path_buf(),
        fallback_dir,
    };
    open_desktop_keystore(&paths, OsKeyStore::connect(data_dir))
}

/// Focus loss is too aggressive on desktop (a second window, a dialog): the app counts
/// as in the background when its window is minimised, and otherwise relies on the idle
/// timer. Tauri 2 has no "suspended" run event to use.
pub fn went_to_background<R: Runtime>(window: &tauri::Window<R>, event: &WindowEvent) -> bool {
    matches!(event, WindowEvent::Resized(_)) && window.is_minimized().unwrap_or(false)
}

/// No platform plugins on desktop (the QR comes from the webcam or an image file).
pub fn plugins<R: Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    builder
}

/// With `IKD_MOCK_CAMERA=1` on Linux, WebKitGTK's fake camera (tests).
pub fn setup(app: &tauri::App) -> Result<(), Box<dyn std::error::Error>> {
    #[cfg(target_os = "linux")]
    if crate::env_nonempty("IKD_MOCK_CAMERA").as_deref() == Some("1") {
        use tauri::Manager;
        if let Some(webview) = app.get_webview_window("main") {
            crate::mock_camera::enable(&webview)?;
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = app;
    Ok(())
}
