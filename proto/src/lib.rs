//! ikd-proto: the IKD protocol, sans I/O.
//!
//! What the wallet (`ikd-core`), the server (`ikd-server`) and a verifier must agree on,
//! written once: the HTTP bodies and paths ([`wire`]), ES256/JWK/time windows ([`jose`]),
//! the OpenID4VCI proof JWT ([`proof`]), SD-JWT VC ([`sdjwt`]), the KTP/KK models
//! ([`credential`]), the identity rules ([`identity`]), the enrollment state machine
//! ([`enrollment`]) and OpenID4VP presentation ([`oid4vp`], [`dcql`], [`sdjwt_present`],
//! [`x509`], [`status_list`]). No network, no database, no files, no UI types: each module has
//! its own typed error, and the wallet maps those to its UI error in one place.
#![forbid(unsafe_code)]

pub mod clock;
pub mod secret;

pub mod jose;
pub mod wire;

pub mod credential;
pub mod proof;
pub mod sdjwt;

pub mod enrollment;
pub mod identity;

// OpenID4VP 1.0 presentation: DCQL, the request object and its X.509 client
// identifiers, SD-JWT presentations with key binding, Token Status Lists.
pub mod dcql;
pub mod oid4vp;
pub mod sdjwt_present;
pub mod status_list;
pub mod x509;
