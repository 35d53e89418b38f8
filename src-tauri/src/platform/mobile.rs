//! Phones (Android, iOS): the platform's key store, lock on focus loss, the barcode
//! scanner plugin.

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

/// The barcode scanner (the desk QR, with the phone camera).
pub fn plugins<R: Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    builder.plugin(tauri_plugin_barcode_scanner::init())
}

/// Nothing to do once the window exists.
pub fn setup(_app: &tauri::App) -> Result<(), Box<dyn std::error::Error>> {
    Ok(())
}
