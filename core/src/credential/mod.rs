//! Credentials: SD-JWT VC (`dc+sd-jwt`) issuance and verification, and the typed
//! KTP and KK models.
pub mod model;
pub mod sdjwt;
