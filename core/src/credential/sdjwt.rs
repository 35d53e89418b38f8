//! SD-JWT VC (IETF SD-JWT, media type `dc+sd-jwt`), ES256, holder binding via `cnf.jwk`.
//! STUB: owned by the credentials work.

use crate::jose::EcKeyPair;
use crate::wire::EcJwk;
use chrono::{DateTime, Utc};

#[derive(Debug, thiserror::Error)]
pub enum SdJwtError {
    #[error("malformed SD-JWT")]
    Malformed,
}

/// What to issue. `disclosable` claims each become a disclosure; array values listed in
/// `disclosable_array_elements` have each element made disclosable instead.
pub struct IssueRequest<'a> {
    pub issuer: &'a str,
    pub vct: &'a str,
    pub disclosable: serde_json::Map<String, serde_json::Value>,
    pub holder_jwk: &'a EcJwk,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// Issues an SD-JWT VC (`<jwt>~<d1>~…~`), `typ` = `dc+sd-jwt`.
pub fn issue(key: &EcKeyPair, req: &IssueRequest<'_>) -> Result<String, SdJwtError> {
    let _ = (key, req);
    Err(SdJwtError::Malformed)
}

/// A verified credential with its disclosed claims reassembled.
#[derive(Debug, Clone)]
pub struct Verified {
    pub issuer: String,
    pub vct: String,
    pub claims: serde_json::Map<String, serde_json::Value>,
    pub holder_jwk: EcJwk,
    pub issued_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// Verifies signature (against the pinned `issuer_jwk`), every disclosure digest, expiry
/// (against `now`) and, when `expected_holder` is given, that `cnf.jwk` is that key.
pub fn verify(
    sd_jwt: &str,
    issuer_jwk: &EcJwk,
    expected_holder: Option<&EcJwk>,
    now: DateTime<Utc>,
) -> Result<Verified, SdJwtError> {
    let _ = (sd_jwt, issuer_jwk, expected_holder, now);
    Err(SdJwtError::Malformed)
}
