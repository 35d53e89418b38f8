//! ikd-app. STUB: owned by the app work.
