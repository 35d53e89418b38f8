//! Verifier side: [`split`] an SD-JWT, [`verify`] its signature, digests and times.

use super::{
    digest, SdJwtError, LEGACY_TYP, MAX_DEPTH, NEVER_DISCLOSABLE, REGISTERED, SD_ALG, TYP,
};
use crate::jose::{self, b64u_decode};
use crate::status_list::StatusRef;
use crate::wire::EcJwk;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};

/// A verified credential with its disclosed claims reassembled.
#[derive(Debug, Clone)]
pub struct Verified {
    pub issuer: String,
    pub vct: String,
    /// The disclosed (and always-visible) claims, with `_sd`/`_sd_alg` removed and
    /// without the registered claims reported in the other fields (`iss`, `iat`, `exp`,
    /// `nbf`, `vct`, `cnf`, `status`).
    pub claims: serde_json::Map<String, serde_json::Value>,
    pub holder_jwk: EcJwk,
    pub issued_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    /// The Token Status List entry, when the credential has one (the verifier fetches
    /// the list; the holder's wallet does not need it to show the document).
    pub status: Option<StatusRef>,
}

/// An SD-JWT split into its parts (no checks beyond syntax).
#[derive(Debug, Clone)]
pub struct Parts<'a> {
    pub jwt: &'a str,
    pub disclosures: Vec<&'a str>,
    pub kb_jwt: Option<&'a str>,
}

/// Splits `<jwt>~<d>~…~[<kb-jwt>]`.
pub fn split(sd_jwt: &str) -> Result<Parts<'_>, SdJwtError> {
    if sd_jwt.len() > jose::MAX_JWS_LEN {
        return Err(SdJwtError::Malformed);
    }
    let mut parts: Vec<&str> = sd_jwt.split('~').collect();
    if parts.len() < 2 {
        return Err(SdJwtError::Malformed);
    }
    let last = parts.pop().unwrap_or_default();
    let kb_jwt = if last.is_empty() {
        None
    } else {
        if last.split('.').count() != 3 {
            return Err(SdJwtError::Malformed);
        }
        Some(last)
    };
    let jwt = parts.remove(0);
    if jwt.is_empty() || parts.iter().any(|d| d.is_empty()) {
        return Err(SdJwtError::Malformed);
    }
    Ok(Parts {
        jwt,
        disclosures: parts,
        kb_jwt,
    })
}

pub(super) struct Disclosure {
    pub(super) name: Option<String>,
    pub(super) value: Value,
    used: bool,
}

pub(super) fn parse_disclosure(d: &str) -> Result<Disclosure, SdJwtError> {
    let bytes = b64u_decode(d).map_err(|_| SdJwtError::MalformedDisclosure)?;
    let v: Value = serde_json::from_slice(&bytes).map_err(|_| SdJwtError::MalformedDisclosure)?;
    let Value::Array(mut a) = v else {
        return Err(SdJwtError::MalformedDisclosure);
    };
    if !matches!(a.first(), Some(Value::String(_))) {
        return Err(SdJwtError::MalformedDisclosure);
    }
    match a.len() {
        2 => Ok(Disclosure {
            name: None,
            value: a.pop().unwrap_or(Value::Null),
            used: false,
        }),
        3 => {
            let value = a.pop().unwrap_or(Value::Null);
            let Some(Value::String(name)) = a.pop() else {
                return Err(SdJwtError::MalformedDisclosure);
            };
            if name == "_sd" || name == "..." {
                return Err(SdJwtError::MalformedDisclosure);
            }
            Ok(Disclosure {
                name: Some(name),
                value,
                used: false,
            })
        }
        _ => Err(SdJwtError::MalformedDisclosure),
    }
}

struct Resolver {
    by_digest: HashMap<String, Disclosure>,
    seen: HashSet<String>,
}

impl Resolver {
    fn note(&mut self, digest: &str) -> Result<(), SdJwtError> {
        if !self.seen.insert(digest.to_owned()) {
            return Err(SdJwtError::DuplicateDisclosure);
        }
        Ok(())
    }

    fn take(&mut self, digest: &str) -> Option<(Option<String>, Value)> {
        let d = self.by_digest.get_mut(digest)?;
        d.used = true;
        Some((d.name.clone(), std::mem::take(&mut d.value)))
    }

    fn resolve(&mut self, v: Value, depth: usize) -> Result<Value, SdJwtError> {
        if depth > MAX_DEPTH {
            return Err(SdJwtError::Malformed);
        }
        match v {
            Value::Object(m) => self.resolve_object(m, depth).map(Value::Object),
            Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    if let Value::Object(ref m) = item {
                        if m.contains_key("...") {
                            let (1, Some(Value::String(dg))) = (m.len(), m.get("...")) else {
                                return Err(SdJwtError::Malformed);
                            };
                            let dg = dg.clone();
                            self.note(&dg)?;
                            match self.take(&dg) {
                                Some((None, value)) => out.push(self.resolve(value, depth + 1)?),
                                Some((Some(_), _)) => return Err(SdJwtError::MalformedDisclosure),
                                // Not disclosed (or a decoy): the element is left out.
                                None => {}
                            }
                            continue;
                        }
                    }
                    out.push(self.resolve(item, depth + 1)?);
                }
                Ok(Value::Array(out))
            }
            other => Ok(other),
        }
    }

    fn resolve_object(
        &mut self,
        mut m: Map<String, Value>,
        depth: usize,
    ) -> Result<Map<String, Value>, SdJwtError> {
        let sd = match m.remove("_sd") {
            None => Vec::new(),
            Some(Value::Array(a)) => a,
            Some(_) => return Err(SdJwtError::Malformed),
        };
        let mut out = Map::new();
        for (k, v) in m {
            out.insert(k, self.resolve(v, depth + 1)?);
        }
        for dg in sd {
            let Value::String(dg) = dg else {
                return Err(SdJwtError::Malformed);
            };
            self.note(&dg)?;
            match self.take(&dg) {
                Some((Some(name), value)) => {
                    // iss, vct, cnf, exp, nbf, iat, status … stay in the clear
                    // (SD-JWT VC §3.2.2): a credential that hides one is refused.
                    if depth == 0 && NEVER_DISCLOSABLE.contains(&name.as_str()) {
                        return Err(SdJwtError::ReservedClaim);
                    }
                    if out.contains_key(&name) {
                        return Err(SdJwtError::ClaimCollision);
                    }
                    let value = self.resolve(value, depth + 1)?;
                    out.insert(name, value);
                }
                Some((None, _)) => return Err(SdJwtError::MalformedDisclosure),
                None => {}
            }
        }
        Ok(out)
    }
}

/// Whether `v` holds an `_sd` array or a `{"...": digest}` element anywhere.
fn has_digests(v: &Value, depth: usize) -> bool {
    if depth > MAX_DEPTH {
        return true;
    }
    match v {
        Value::Object(m) => {
            m.contains_key("_sd")
                || m.contains_key("...")
                || m.values().any(|x| has_digests(x, depth + 1))
        }
        Value::Array(a) => a.iter().any(|x| has_digests(x, depth + 1)),
        _ => false,
    }
}

fn numeric_date(v: Option<&Value>) -> Result<Option<DateTime<Utc>>, SdJwtError> {
    let Some(v) = v else { return Ok(None) };
    let secs = match v {
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => i,
            (None, Some(f)) if f.is_finite() && f.abs() < 1e15 => f.floor() as i64,
            _ => return Err(SdJwtError::Malformed),
        },
        _ => return Err(SdJwtError::Malformed),
    };
    DateTime::from_timestamp(secs, 0)
        .map(Some)
        .ok_or(SdJwtError::Malformed)
}

/// Verifies signature (against the pinned `issuer_jwk`), every disclosure digest, expiry
/// (against `now`) and, when `expected_holder` is given, that `cnf.jwk` is that key.
///
/// Disclosures left out by the holder simply leave their claims absent. A disclosure
/// that the credential does not reference is an error ([`SdJwtError::UnreferencedDisclosure`]),
/// as is a digest referenced twice or a disclosed name that collides with a claim.
/// A trailing KB-JWT is tolerated and not verified.
pub fn verify(
    sd_jwt: &str,
    issuer_jwk: &EcJwk,
    expected_holder: Option<&EcJwk>,
    now: DateTime<Utc>,
) -> Result<Verified, SdJwtError> {
    jose::jwk_point(issuer_jwk).map_err(|_| SdJwtError::UnknownKey)?;
    let parts = split(sd_jwt)?;
    let jws = jose::decode_unverified(parts.jwt)?;
    match jws.header.get("typ") {
        Some(Value::String(t)) if t == TYP || t == LEGACY_TYP => {}
        _ => return Err(SdJwtError::WrongType),
    }
    jose::verify_decoded(&jws, issuer_jwk)?;
    let Value::Object(mut payload) = jws.payload else {
        return Err(SdJwtError::Malformed);
    };
    match payload.remove("_sd_alg") {
        None => {} // RFC 9901 §4.1.1: defaults to sha-256
        Some(Value::String(a)) if a == SD_ALG => {}
        Some(_) => return Err(SdJwtError::UnsupportedAlg),
    }

    // The holder key and the status reference stay wholly in the clear: no digest
    // anywhere inside `cnf` or `status` (the depth-0 names are checked in the resolver).
    for name in ["cnf", "status"] {
        if payload.get(name).is_some_and(|v| has_digests(v, 0)) {
            return Err(SdJwtError::ReservedClaim);
        }
    }
    let mut by_digest = HashMap::new();
    for d in &parts.disclosures {
        let parsed = parse_disclosure(d)?;
        if by_digest.insert(digest(d), parsed).is_some() {
            return Err(SdJwtError::DuplicateDisclosure);
        }
    }
    let mut resolver = Resolver {
        by_digest,
        seen: HashSet::new(),
    };
    let mut claims = resolver.resolve_object(payload, 0)?;
    if resolver.by_digest.values().any(|d| !d.used) {
        return Err(SdJwtError::UnreferencedDisclosure);
    }

    let issuer = match claims.get("iss") {
        Some(Value::String(s)) => s.clone(),
        _ => return Err(SdJwtError::Malformed),
    };
    let vct = match claims.get("vct") {
        Some(Value::String(s)) => s.clone(),
        _ => return Err(SdJwtError::Malformed),
    };
    let issued_at = numeric_date(claims.get("iat"))?.ok_or(SdJwtError::Malformed)?;
    let expires_at = numeric_date(claims.get("exp"))?;
    let not_before = numeric_date(claims.get("nbf"))?;
    // A credential's own iat may be old (a year), but not in the future beyond the
    // clock skew; nbf ≤ now < exp.
    jose::check_time_window(
        now.timestamp(),
        None,
        not_before.map(|t| t.timestamp()),
        expires_at.map(|t| t.timestamp()),
        jose::TimeWindow::EXACT,
    )
    .map_err(|e| match e {
        jose::TimeError::NotYetValid => SdJwtError::NotYetValid,
        _ => SdJwtError::Expired,
    })?;
    let skew_only = jose::TimeWindow {
        max_age_secs: None,
        skew_secs: jose::MAX_FUTURE_SKEW_SECS,
    };
    jose::check_time_window(
        now.timestamp(),
        Some(issued_at.timestamp()),
        None,
        None,
        skew_only,
    )
    .map_err(|_| SdJwtError::NotYetValid)?;
    let holder_jwk = claims
        .get("cnf")
        .and_then(|c| c.get("jwk"))
        .ok_or(SdJwtError::Malformed)
        .and_then(|j| jose::jwk_from_value(j).map_err(|_| SdJwtError::Malformed))?;
    if let Some(expected) = expected_holder {
        if expected != &holder_jwk {
            return Err(SdJwtError::HolderMismatch);
        }
    }
    let status = match claims.get("status") {
        None => None,
        Some(s) => StatusRef::from_claim(s).map_err(|_| SdJwtError::Malformed)?,
    };
    for r in REGISTERED {
        claims.remove(*r);
    }
    Ok(Verified {
        issuer,
        vct,
        claims,
        holder_jwk,
        issued_at,
        expires_at,
        status,
    })
}
