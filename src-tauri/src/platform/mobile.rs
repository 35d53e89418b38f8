//! Phones (Android, iOS): the platform's key store, lock on focus loss, the barcode
//! scanner plugin, and `openid4vp://` links (deep-link plugin; the scheme is declared in
//! `tauri.conf.json` > plugins > deep-link; unverified on a phone).

use ikd_core::vault::{KeyStore, KeyStoreError};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tauri::{Runtime, WindowEvent};

/// The key store: a 0600 file in the app's private dir, honestly named
/// (`mobile_file_keystore`): no Android Keystore key or Keychain item holds the device
/// secret yet (unverified on a phone; see ARCHITECTURE.md, threat model).
pub fn keystore(
    data_dir: &Path,
    _fallback_dir: PathBuf,
) -> Result<Arc<dyn KeyStore>, KeyStoreError> {
    Ok(Arc::new(ikd_core::vault::keystore::mobile_file_keystore(
        data_dir,
    )))
}

/// On a phone, the activity/scene left the foreground when the window loses focus.
pub fn went_to_background<R: Runtime>(_window: &tauri::Window<R>, event: &WindowEvent) -> bool {
    matches!(event, WindowEvent::Focused(false))
}

/// The barcode scanner (the desk QR, with the phone camera) and deep links.
pub fn plugins<R: Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    builder
        .plugin(tauri_plugin_barcode_scanner::init())
        .plugin(tauri_plugin_deep_link::init())
}

/// An `openid4vp://` link the app was opened with goes to the UI as the
/// [`crate::PRESENTATION_LINK_EVENT`] event (its text; the consent screen checks it like
/// a scanned QR). Links of other schemes are ignored. A link that starts the app cold,
/// before the UI listens, is not delivered yet.
pub fn setup(app: &tauri::App) -> Result<(), Box<dyn std::error::Error>> {
    use tauri::Emitter as _;
    use tauri_plugin_deep_link::DeepLinkExt as _;
    let handle = app.handle().clone();
    app.deep_link().on_open_url(move |event| {
        for url in event.urls() {
            if url.scheme() == "openid4vp" {
                let _ = handle.emit(crate::PRESENTATION_LINK_EVENT, url.as_str());
            }
        }
    });
    Ok(())
}
