//! Test support (Linux desktop, `IKD_MOCK_CAMERA=1`): WebKitGTK's mock capture devices,
//! and camera permission granted without a prompt. The phone camera cannot run here;
//! this is the one stand-in for it.

use webkit2gtk::glib::prelude::ObjectExt;
use webkit2gtk::{PermissionRequestExt, SettingsExt, UserMediaPermissionRequest, WebViewExt};

pub fn enable(webview: &tauri::WebviewWindow) -> tauri::Result<()> {
    webview.with_webview(|platform| {
        let view = platform.inner();
        if let Some(settings) = WebViewExt::settings(&view) {
            settings.set_enable_media_stream(true);
            settings.set_enable_mock_capture_devices(true);
        }
        view.connect_permission_request(|_, request| {
            if request.is::<UserMediaPermissionRequest>() {
                request.allow();
                true
            } else {
                false
            }
        });
    })?;
    tracing::info!("mock camera enabled (IKD_MOCK_CAMERA=1)");
    Ok(())
}
