//! The selfie pipeline lives in its own crate, `ikd-selfie` (`selfie/`), so the
//! release profile builds it at opt-level 3. Re-exported here for the wallet, the
//! `ikd` CLI and the fuzzer; the mappings to the UI's `SelfieView` and `UiError`
//! live in `view.rs` and `error.rs`.

pub use ikd_selfie::*;
