//! The KTP and KK models as SD-JWT claim maps, so issuer and wallet agree.
//!
//! KTP: every field is a top-level, selectively disclosable claim.
//! KK: every header field is a top-level disclosable claim, and `anggota` is an array
//! whose *elements* are each disclosable (see [`KK_ARRAY_CLAIMS`]).

use super::model::{Kk, Ktp};
use crate::sdjwt::IssueRequest;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};

/// Array claims of the KK whose elements are each disclosable.
pub const KK_ARRAY_CLAIMS: &[&str] = &["anggota"];

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ClaimsError {
    /// A claim is missing (not disclosed) or has the wrong type. Carries the serde
    /// message with claim *names* only, never values.
    #[error("credential claims do not form a document")]
    Incomplete,
    #[error("document could not be turned into claims")]
    Encode,
}

fn to_claims<T: Serialize>(doc: &T) -> Result<Map<String, Value>, ClaimsError> {
    match serde_json::to_value(doc) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(ClaimsError::Encode),
    }
}

fn from_claims<T: DeserializeOwned>(claims: Map<String, Value>) -> Result<T, ClaimsError> {
    serde_json::from_value(Value::Object(claims)).map_err(|_| ClaimsError::Incomplete)
}

/// The KTP as claims (one per field).
pub fn ktp_to_claims(ktp: &Ktp) -> Map<String, Value> {
    // A struct of strings always serializes to an object.
    to_claims(ktp).unwrap_or_default()
}

/// The KK as claims (header fields, and `anggota` as an array of member objects).
pub fn kk_to_claims(kk: &Kk) -> Map<String, Value> {
    to_claims(kk).unwrap_or_default()
}

impl Ktp {
    /// Rebuilds a KTP from verified claims. Extra claims are ignored; a missing one is
    /// [`ClaimsError::Incomplete`].
    pub fn from_claims(claims: Map<String, Value>) -> Result<Self, ClaimsError> {
        from_claims(claims)
    }

    /// An issue request for this KTP (every field disclosable).
    pub fn issue_request<'a>(
        &self,
        issuer: &'a str,
        holder_jwk: &'a crate::wire::EcJwk,
        issued_at: chrono::DateTime<chrono::Utc>,
        expires_at: chrono::DateTime<chrono::Utc>,
    ) -> IssueRequest<'a> {
        IssueRequest::new(
            issuer,
            crate::wire::KTP_VCT,
            ktp_to_claims(self),
            holder_jwk,
            issued_at,
            expires_at,
        )
    }
}

impl Kk {
    /// Rebuilds a KK from verified claims. Members whose disclosure was withheld are
    /// simply not in `anggota`.
    pub fn from_claims(claims: Map<String, Value>) -> Result<Self, ClaimsError> {
        from_claims(claims)
    }

    /// An issue request for this KK (header fields and each `anggota` element disclosable).
    pub fn issue_request<'a>(
        &self,
        issuer: &'a str,
        holder_jwk: &'a crate::wire::EcJwk,
        issued_at: chrono::DateTime<chrono::Utc>,
        expires_at: chrono::DateTime<chrono::Utc>,
    ) -> IssueRequest<'a> {
        IssueRequest::new(
            issuer,
            crate::wire::KK_VCT,
            kk_to_claims(self),
            holder_jwk,
            issued_at,
            expires_at,
        )
        .with_array_elements(KK_ARRAY_CLAIMS.iter().copied())
    }
}
