//! Desktop (Linux, macOS, Windows): a file key store, lock when minimised, no plugins.

use ikd_core::vault::{FileKeyStore, KeyStore};
use std::path::Path;
use std::sync::Arc;
use tauri::{Runtime, WindowEvent};

/// The key store: a file in the app data dir (mode 0600 on Unix).
pub fn keystore(data_dir: &Path) -> Arc<dyn KeyStore> {
    Arc::new(FileKeyStore::in_dir(data_dir))
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
