//! ikd-core: every rule and all state of the IKD wallet.
//!
//! No Tauri and no UI here. Platform services (key store, clock, HTTP base URL)
//! come in as traits, with in-memory versions for tests. See ARCHITECTURE.md.
#![forbid(unsafe_code)]

pub mod error;

// The protocol (wire types, JOSE, proofs, SD-JWT, models, identity rules, enrollment
// state machine, OpenID4VP, DCQL, X.509 checks, status lists) lives in ikd-proto; re-exported under the paths the wallet used.
pub use ikd_proto::proof as device_key;
pub use ikd_proto::{
    clock, credential, dcql, enrollment, identity, jose, oid4vp, sdjwt, sdjwt_present, secret,
    status_list, wire, x509,
};

pub mod store;
pub mod vault;

pub mod client;

pub mod qr;
pub mod selfie;

pub mod view;
pub mod wallet;
