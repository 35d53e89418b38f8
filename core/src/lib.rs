//! ikd-core: every rule and all state of the IKD wallet.
//!
//! No Tauri and no UI here. Platform services (key store, clock, HTTP base URL)
//! come in as traits, with in-memory versions for tests. See ARCHITECTURE.md.
#![forbid(unsafe_code)]

pub mod clock;
pub mod error;
pub mod secret;

pub mod enrollment;
pub mod identity;

pub mod store;
pub mod vault;

pub mod credential;
// OpenID4VP presentation (issue 10); these move to ikd-proto with the rest of the
// protocol code.
pub mod dcql;
pub mod oid4vp;
pub mod sdjwt_present;
pub mod x509;
pub use credential::sdjwt;
pub mod device_key;
pub mod jose;

pub mod client;
pub mod wire;

pub mod qr;
pub mod selfie;

pub mod view;
pub mod wallet;
