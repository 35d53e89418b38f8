//! The typed KTP and KK models, and which of their claims are selectively disclosable
//! when issued as SD-JWT VC (see [`crate::sdjwt`]).
pub mod claims;
pub mod model;

pub use claims::{kk_to_claims, ktp_to_claims, ClaimsError, KK_ARRAY_CLAIMS};
