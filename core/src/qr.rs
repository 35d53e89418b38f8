//! Desk QR images decoded in Rust (rqrr). STUB: owned by the app work.
