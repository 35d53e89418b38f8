//! The KTP and KK models as SD-JWT claim maps, so issuer and wallet agree.
//!
//! KTP: every field is a top-level, selectively disclosable claim, plus the age
//! predicates `age_equal_or_over: {"17": bool, "18": bool, "21": bool}` (the SD-JWT VC
//! person identification data claim), each of them disclosable on its own, computed at
//! issuance from `tanggal_lahir`.
//! KK: every header field is a top-level disclosable claim, and `anggota` is an array
//! whose *elements* are each disclosable (see [`KK_ARRAY_CLAIMS`]) and whose members'
//! fields are each disclosable again (nested), so a verifier can get only `nama` and
//! `hubungan` of each member.

use super::model::{Kk, Ktp};
use crate::sdjwt::IssueRequest;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};

/// Array claims of the KK whose elements are each disclosable.
pub const KK_ARRAY_CLAIMS: &[&str] = &["anggota"];

/// The age predicate claim of the KTP.
pub const AGE_CLAIM: &str = "age_equal_or_over";

/// The ages the KTP states "equal or over" for.
pub const AGE_THRESHOLDS: &[u32] = &[17, 18, 21];

/// Age in whole years on `on` of someone born on `birth` (`YYYY-MM-DD`); `None` when
/// the date does not parse or lies after `on`. Born on 29 February: a year older on
/// 1 March in common years.
pub fn age_on(birth: &str, on: chrono::NaiveDate) -> Option<u32> {
    use chrono::Datelike as _;
    let b = chrono::NaiveDate::parse_from_str(birth, "%Y-%m-%d").ok()?;
    if b > on {
        return None;
    }
    let mut years = on.year() - b.year();
    if (on.month(), on.day()) < (b.month(), b.day()) {
        years -= 1;
    }
    u32::try_from(years).ok()
}

/// `{"17": …, "18": …, "21": …}` for someone born on `birth`, at `at`. The date is
/// taken in WIB (UTC+7), the westernmost Indonesian time zone, so a birthday never
/// counts before it has started anywhere in Indonesia. `None` for an unreadable date.
pub fn age_predicates(
    birth: &str,
    at: chrono::DateTime<chrono::Utc>,
) -> Option<Map<String, Value>> {
    let wib = chrono::FixedOffset::east_opt(7 * 3600)?;
    let age = age_on(birth, at.with_timezone(&wib).date_naive())?;
    Some(
        AGE_THRESHOLDS
            .iter()
            .map(|t| (t.to_string(), Value::Bool(age >= *t)))
            .collect(),
    )
}

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

    /// An issue request for this KTP (every field disclosable, and each age predicate
    /// of [`AGE_CLAIM`] as of `issued_at`).
    pub fn issue_request<'a>(
        &self,
        issuer: &'a str,
        holder_jwk: &'a crate::wire::EcJwk,
        issued_at: chrono::DateTime<chrono::Utc>,
        expires_at: chrono::DateTime<chrono::Utc>,
    ) -> IssueRequest<'a> {
        let mut claims = ktp_to_claims(self);
        if let Some(ages) = age_predicates(&self.tanggal_lahir, issued_at) {
            claims.insert(AGE_CLAIM.into(), Value::Object(ages));
        }
        IssueRequest::new(
            issuer,
            crate::wire::KTP_VCT,
            claims,
            holder_jwk,
            issued_at,
            expires_at,
        )
        .with_fields([AGE_CLAIM])
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
        .with_fields(KK_ARRAY_CLAIMS.iter().copied())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use chrono::{NaiveDate, TimeZone as _, Utc};

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn age_counts_whole_years() {
        assert_eq!(age_on("2009-06-15", d("2026-06-14")), Some(16));
        assert_eq!(age_on("2009-06-15", d("2026-06-15")), Some(17));
        assert_eq!(age_on("2008-02-29", d("2026-02-28")), Some(17));
        assert_eq!(age_on("2008-02-29", d("2027-02-28")), Some(18));
        assert_eq!(age_on("2008-02-29", d("2026-03-01")), Some(18));
        assert_eq!(age_on("2030-01-01", d("2026-03-01")), None);
        assert_eq!(age_on("15-06-2009", d("2026-03-01")), None);
    }

    #[test]
    fn predicates_turn_true_on_the_birthday_in_wib() {
        // 17 on 2026-06-15: 16:59 UTC on the 14th is 23:59 WIB, still 16.
        let before = Utc.with_ymd_and_hms(2026, 6, 14, 16, 59, 0).unwrap();
        let on = Utc.with_ymd_and_hms(2026, 6, 14, 17, 0, 0).unwrap();
        let p = age_predicates("2009-06-15", before).unwrap();
        assert_eq!(p["17"], false);
        let p = age_predicates("2009-06-15", on).unwrap();
        assert_eq!(p["17"], true);
        assert_eq!(p["18"], false);
        assert_eq!(p["21"], false);
        let p = age_predicates("1990-01-01", on).unwrap();
        assert!(p.values().all(|v| v == true));
        assert_eq!(p.len(), 3);
        assert!(age_predicates("bad", on).is_none());
    }
}
