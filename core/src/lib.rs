//! ikd-core: every rule and all state of the IKD wallet.
//!
//! No Tauri and no UI here. Platform services (key store, clock, HTTP base URL)
//! come in as traits, with in-memory versions for tests. See ARCHITECTURE.md.
#![forbid(unsafe_code)]

pub mod error;

// The protocol (wire types, JOSE, proofs, SD-JWT, models, identity rules, enrollment
// state machine) lives in ikd-proto; re-exported under the paths the wallet used.
pub use ikd_proto::proof as device_key;
pub use ikd_proto::{clock, credential, enrollment, identity, jose, sdjwt, secret, wire};

pub mod store;
pub mod vault;

// OpenID4VP presentation (issue 10); these move to ikd-proto with the rest of the
// protocol code.
pub mod dcql;
pub mod oid4vp;
pub mod sdjwt_present;
pub mod x509;

pub mod client;

pub mod qr;
pub mod selfie;

pub mod view;
pub mod wallet;
