//! Credentials: SD-JWT VC (`dc+sd-jwt`) issuance and verification, and the typed
//! KTP and KK models.
pub mod claims;
pub mod model;
pub mod sdjwt;

pub use claims::{kk_to_claims, ktp_to_claims, ClaimsError, KK_ARRAY_CLAIMS};
