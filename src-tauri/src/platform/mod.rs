//! What differs between desktop and phone, in the pattern of Tauri's plugins-workspace:
//! `desktop.rs` and `mobile.rs` each offer the same functions, and this module picks
//! one by the `desktop` / `mobile` cfg that tauri-build sets.
//!
//! - [`keystore`]: where the device secret and the device key live (Android Keystore,
//!   iOS Keychain, or a file in the app data dir on desktop);
//! - [`went_to_background`]: which window event means "the app left the foreground";
//! - [`plugins`]: the Tauri plugins of the platform (the barcode scanner on phones);
//! - [`setup`]: platform steps once the window exists (the mock camera on Linux).

#[cfg(desktop)]
mod desktop;
#[cfg(mobile)]
mod mobile;

#[cfg(desktop)]
pub use desktop::{keystore, plugins, setup, went_to_background};
#[cfg(mobile)]
pub use mobile::{keystore, plugins, setup, went_to_background};
