//! Phones (Android, iOS): the platform's key store, lock on focus loss, the barcode
//! scanner plugin.

use ikd_core::vault::KeyStore;
use std::path::Path;
use std::sync::Arc;
use tauri::{Runtime, WindowEvent};

/// The key store: Android Keystore or the iOS Keychain (wrapping keys; the sealed
/// blobs live in the app data dir).
pub fn keystore(data_dir: &Path) -> Arc<dyn KeyStore> {
    #[cfg(target_os = "android")]
    return Arc::new(ikd_core::vault::keystore::android::AndroidKeyStore::new(
        data_dir,
    ));
    #[cfg(target_os = "ios")]
    return Arc::new(ikd_core::vault::keystore::ios::IosKeychain::new(data_dir));
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
