//! SD-JWT VC (IETF SD-JWT, RFC 9901, and SD-JWT VC, media type `dc+sd-jwt`), ES256,
//! holder binding via `cnf.jwk`.
//!
//! Issued form: `<issuer-jwt>~<disclosure>~…~<disclosure>~` where each disclosure is
//! base64url(JSON `[salt, name, value]`) for an object property or `[salt, value]` for an
//! array element, and its digest is base64url(SHA-256(ASCII of the disclosure)).
//!
//! A trailing Key Binding JWT (`…~<kb-jwt>`) is tolerated and ignored by [`verify`]:
//! it is syntactically checked (three dot-separated parts) but not verified. Verifiers
//! that need key binding use [`verify_presentation`]; holders add one with
//! [`add_key_binding`] (RFC 9901 §4.3: `typ: kb+jwt`, `iat`, `aud`, `nonce`, `sd_hash`).

use crate::error::{ErrorCode, UiError};
use crate::jose::{self, b64u_decode, b64u_encode, EcKeyPair, JoseError};
use crate::status_list::StatusRef;
use crate::wire::EcJwk;
use chrono::{DateTime, Utc};
use ring::rand::{SecureRandom, SystemRandom};
use serde_json::{json, Map, Value};
use std::collections::{HashMap, HashSet};

/// The header `typ` we issue.
pub const TYP: &str = "dc+sd-jwt";
/// The older `typ`, still accepted on verification.
pub const LEGACY_TYP: &str = "vc+sd-jwt";
/// The only digest algorithm we produce or accept.
pub const SD_ALG: &str = "sha-256";

/// Claims that must stay in the clear (SD-JWT VC §3.2.2) and SD-JWT's own keys.
const NEVER_DISCLOSABLE: &[&str] = &[
    "iss",
    "nbf",
    "exp",
    "iat",
    "cnf",
    "vct",
    "vct#integrity",
    "status",
    "_sd",
    "_sd_alg",
    "...",
];

/// Claims that [`verify`] reports in [`Verified`] fields rather than in `claims`.
const REGISTERED: &[&str] = &[
    "iss",
    "nbf",
    "exp",
    "iat",
    "cnf",
    "vct",
    "vct#integrity",
    "status",
];

/// How deep disclosures may nest into each other (and JSON inside them).
const MAX_DEPTH: usize = 64;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SdJwtError {
    #[error("malformed SD-JWT")]
    Malformed,
    #[error("malformed disclosure")]
    MalformedDisclosure,
    #[error("unsupported algorithm")]
    UnsupportedAlg,
    #[error("wrong SD-JWT type header")]
    WrongType,
    #[error("issuer key unknown or invalid")]
    UnknownKey,
    #[error("bad issuer signature")]
    BadSignature,
    #[error("disclosure digest mismatch")]
    DigestMismatch,
    #[error("disclosure not referenced by the credential")]
    UnreferencedDisclosure,
    #[error("disclosure or digest appears more than once")]
    DuplicateDisclosure,
    #[error("disclosed claim name collides with an existing claim")]
    ClaimCollision,
    #[error("credential expired")]
    Expired,
    #[error("credential not yet valid")]
    NotYetValid,
    #[error("credential bound to another holder key")]
    HolderMismatch,
    #[error("claim may not be selectively disclosable")]
    ReservedClaim,
    #[error("signing failed")]
    Signing,
    #[error("key binding JWT missing")]
    KeyBindingMissing,
    #[error("key binding JWT invalid")]
    KeyBindingInvalid,
}

impl From<SdJwtError> for UiError {
    fn from(e: SdJwtError) -> Self {
        let code = match e {
            SdJwtError::Signing => ErrorCode::Internal,
            _ => ErrorCode::CredentialInvalid,
        };
        UiError::new(code, e.to_string())
    }
}

impl From<JoseError> for SdJwtError {
    fn from(e: JoseError) -> Self {
        match e {
            JoseError::InvalidKey => SdJwtError::UnknownKey,
            JoseError::Malformed => SdJwtError::Malformed,
            JoseError::BadSignature => SdJwtError::BadSignature,
            JoseError::UnsupportedAlg => SdJwtError::UnsupportedAlg,
            JoseError::Signing => SdJwtError::Signing,
        }
    }
}

/// What to issue. `disclosable` claims each become a disclosure; array values listed in
/// `disclosable_array_elements` have each element made disclosable instead; claims
/// listed in `disclosable_fields` have each of their object's fields made disclosable
/// (nested disclosures: the object's own disclosure carries `{"_sd": [...]}`, or, for
/// an array also in `disclosable_array_elements`, each element's disclosure does).
pub struct IssueRequest<'a> {
    pub issuer: &'a str,
    pub vct: &'a str,
    pub disclosable: serde_json::Map<String, serde_json::Value>,
    pub holder_jwk: &'a EcJwk,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// Names of array-valued claims in `disclosable` whose *elements* are each made
    /// disclosable (`{"...": digest}`) while the array itself stays in the clear.
    /// Empty by default (see [`IssueRequest::new`]).
    pub disclosable_array_elements: Vec<String>,
    /// Names of object-valued claims (or arrays of objects) in `disclosable` whose
    /// fields are each made disclosable. Empty by default.
    pub disclosable_fields: Vec<String>,
    /// The Token Status List entry (`status.status_list`), always in the clear.
    pub status: Option<StatusRef>,
    /// The `kid` header (the issuer key's id in its `jwt-vc-issuer` metadata).
    pub kid: Option<String>,
    /// The `x5c` header: base64 (standard) DER certificates, the issuer's first.
    pub x5c: Vec<String>,
}

impl<'a> IssueRequest<'a> {
    /// A request where every claim of `disclosable` is one disclosure.
    pub fn new(
        issuer: &'a str,
        vct: &'a str,
        disclosable: Map<String, Value>,
        holder_jwk: &'a EcJwk,
        issued_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Self {
        Self {
            issuer,
            vct,
            disclosable,
            holder_jwk,
            issued_at,
            expires_at,
            disclosable_array_elements: Vec::new(),
            disclosable_fields: Vec::new(),
            status: None,
            kid: None,
            x5c: Vec::new(),
        }
    }

    /// Makes each field of the named object claims (or of each element of the named
    /// arrays of objects) disclosable on its own.
    pub fn with_fields<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.disclosable_fields = names.into_iter().map(Into::into).collect();
        self
    }

    /// Adds the `status` claim pointing at a Token Status List entry.
    pub fn with_status(mut self, status: StatusRef) -> Self {
        self.status = Some(status);
        self
    }

    /// Sets the `kid` and `x5c` headers.
    pub fn with_key_headers(mut self, kid: Option<String>, x5c: Vec<String>) -> Self {
        self.kid = kid;
        self.x5c = x5c;
        self
    }

    /// Makes each element of the named array claims disclosable instead of the claim.
    pub fn with_array_elements<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.disclosable_array_elements = names.into_iter().map(Into::into).collect();
        self
    }
}

fn salt() -> Result<String, SdJwtError> {
    let mut b = [0u8; 16];
    SystemRandom::new()
        .fill(&mut b)
        .map_err(|_| SdJwtError::Signing)?;
    Ok(b64u_encode(b))
}

/// base64url(SHA-256(ascii(disclosure))).
pub fn digest(disclosure: &str) -> String {
    b64u_encode(ring::digest::digest(
        &ring::digest::SHA256,
        disclosure.as_bytes(),
    ))
}

/// A decoy digest (RFC 9901 §4.2.5): the digest of random bytes.
fn decoy() -> Result<String, SdJwtError> {
    Ok(digest(&salt()?))
}

/// 1 to 4 decoys, at random.
fn decoy_count() -> Result<usize, SdJwtError> {
    let mut b = [0u8; 1];
    SystemRandom::new()
        .fill(&mut b)
        .map_err(|_| SdJwtError::Signing)?;
    Ok(1 + usize::from(b[0] % 4))
}

fn make_disclosure(parts: Value) -> Result<String, SdJwtError> {
    let s = serde_json::to_string(&parts).map_err(|_| SdJwtError::Malformed)?;
    Ok(b64u_encode(s))
}

/// Each field of `fields` as a disclosure (with decoys): `{"_sd": [sorted digests]}`.
fn disclose_fields(
    fields: &Map<String, Value>,
    disclosures: &mut Vec<String>,
) -> Result<Value, SdJwtError> {
    let mut sd = Vec::with_capacity(fields.len() + 4);
    for (name, value) in fields {
        if name == "_sd" || name == "..." {
            return Err(SdJwtError::ReservedClaim);
        }
        let d = make_disclosure(json!([salt()?, name, value]))?;
        sd.push(digest(&d));
        disclosures.push(d);
    }
    for _ in 0..decoy_count()? {
        sd.push(decoy()?);
    }
    // Sorted digests do not reveal the claims' order (nor which ones are decoys).
    sd.sort();
    Ok(json!({ "_sd": sd }))
}

/// Issues an SD-JWT VC (`<jwt>~<d1>~…~`), `typ` = `dc+sd-jwt`.
pub fn issue(key: &EcKeyPair, req: &IssueRequest<'_>) -> Result<String, SdJwtError> {
    let mut disclosures = Vec::new();
    let mut payload = Map::new();
    let mut sd = Vec::new();
    let fields_of = |name: &str| req.disclosable_fields.iter().any(|n| n == name);
    for (name, value) in &req.disclosable {
        if NEVER_DISCLOSABLE.contains(&name.as_str()) {
            return Err(SdJwtError::ReservedClaim);
        }
        if req.disclosable_array_elements.iter().any(|n| n == name) {
            let Value::Array(items) = value else {
                return Err(SdJwtError::Malformed);
            };
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                let item = match item {
                    Value::Object(m) if fields_of(name) => disclose_fields(m, &mut disclosures)?,
                    other => other.clone(),
                };
                let d = make_disclosure(json!([salt()?, item]))?;
                out.push(json!({ "...": digest(&d) }));
                disclosures.push(d);
            }
            // Decoys hide how many elements there are (e.g. family size). They go at
            // the end so that element positions stay those of the document.
            for _ in 0..decoy_count()? {
                out.push(json!({ "...": decoy()? }));
            }
            payload.insert(name.clone(), Value::Array(out));
        } else if let (Value::Object(m), true) = (value, fields_of(name)) {
            // Recursive: the object is a disclosure whose value has its own `_sd`, so
            // a presentation without any of its fields does not show it at all.
            let inner = disclose_fields(m, &mut disclosures)?;
            let d = make_disclosure(json!([salt()?, name, inner]))?;
            sd.push(digest(&d));
            disclosures.push(d);
        } else {
            let d = make_disclosure(json!([salt()?, name, value]))?;
            sd.push(digest(&d));
            disclosures.push(d);
        }
    }
    for _ in 0..decoy_count()? {
        sd.push(decoy()?);
    }
    // Sorted digests do not reveal the claims' order (nor which ones are decoys).
    sd.sort();
    payload.insert("iss".into(), json!(req.issuer));
    payload.insert("iat".into(), json!(req.issued_at.timestamp()));
    payload.insert("exp".into(), json!(req.expires_at.timestamp()));
    payload.insert("vct".into(), json!(req.vct));
    payload.insert(
        "cnf".into(),
        json!({ "jwk": jose::jwk_to_value(req.holder_jwk) }),
    );
    if let Some(status) = &req.status {
        payload.insert("status".into(), status.to_claim());
    }
    payload.insert("_sd_alg".into(), json!(SD_ALG));
    if !sd.is_empty() {
        payload.insert("_sd".into(), json!(sd));
    }
    let mut header = json!({ "typ": TYP });
    if let Some(kid) = &req.kid {
        header["kid"] = json!(kid);
    }
    if !req.x5c.is_empty() {
        header["x5c"] = json!(req.x5c);
    }
    let jwt = key.sign_jws(header, Value::Object(payload))?;
    let mut out = jwt;
    out.push('~');
    for d in &disclosures {
        out.push_str(d);
        out.push('~');
    }
    Ok(out)
}

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

struct Disclosure {
    name: Option<String>,
    value: Value,
    used: bool,
}

fn parse_disclosure(d: &str) -> Result<Disclosure, SdJwtError> {
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
    if let Some(exp) = expires_at {
        if now >= exp {
            return Err(SdJwtError::Expired);
        }
    }
    if let Some(nbf) = numeric_date(claims.get("nbf"))? {
        if now < nbf {
            return Err(SdJwtError::NotYetValid);
        }
    }
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

/// One step of a claim path: an object key, or a position in an issued array.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathSeg {
    Key(String),
    Index(usize),
}

/// One disclosure of an SD-JWT with where it sits in the credential.
#[derive(Debug, Clone)]
pub struct DisclosureInfo<'a> {
    /// The disclosure as issued (base64url).
    pub encoded: &'a str,
    /// Its claim path: e.g. `[Key("anggota"), Index(1), Key("nama")]` for the name of
    /// the second member (positions are those of the issued array).
    pub path: Vec<PathSeg>,
    /// The claim name (`None` for an array element).
    pub name: Option<String>,
    /// The disclosed value as issued (nested disclosures still as `_sd` digests).
    pub value: Value,
    /// The index (in the returned list) of the disclosure that contains this one.
    pub parent: Option<usize>,
}

struct PathWalker<'a> {
    by_digest: HashMap<String, (&'a str, Option<String>, Value)>,
    out: Vec<DisclosureInfo<'a>>,
}

impl<'a> PathWalker<'a> {
    fn found(
        &mut self,
        dg: &str,
        path: Vec<PathSeg>,
        parent: Option<usize>,
        depth: usize,
    ) -> Result<(), SdJwtError> {
        let Some((encoded, name, value)) = self.by_digest.remove(dg) else {
            return Ok(()); // a decoy, or withheld
        };
        let mut path = path;
        if let Some(n) = &name {
            path.push(PathSeg::Key(n.clone()));
        }
        self.out.push(DisclosureInfo {
            encoded,
            path: path.clone(),
            name,
            value: value.clone(),
            parent,
        });
        let me = Some(self.out.len() - 1);
        self.walk(&value, &path, me, depth + 1)
    }

    fn walk(
        &mut self,
        v: &Value,
        path: &[PathSeg],
        parent: Option<usize>,
        depth: usize,
    ) -> Result<(), SdJwtError> {
        if depth > MAX_DEPTH {
            return Err(SdJwtError::Malformed);
        }
        match v {
            Value::Object(m) => {
                for (k, child) in m {
                    if k == "_sd" {
                        for dg in child.as_array().into_iter().flatten() {
                            if let Some(dg) = dg.as_str() {
                                self.found(dg, path.to_vec(), parent, depth)?;
                            }
                        }
                    } else {
                        let mut p = path.to_vec();
                        p.push(PathSeg::Key(k.clone()));
                        self.walk(child, &p, parent, depth + 1)?;
                    }
                }
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    let mut p = path.to_vec();
                    p.push(PathSeg::Index(i));
                    match item.as_object().and_then(|m| m.get("...")) {
                        Some(Value::String(dg)) => self.found(dg, p, parent, depth)?,
                        _ => self.walk(item, &p, parent, depth + 1)?,
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }
}

/// Every disclosure of `sd_jwt` that its issuer JWT references (directly or through
/// another disclosure), with its claim path, parents before children. Checks syntax
/// only (no signature): this is the holder's view of what it could disclose.
pub fn disclosures(sd_jwt: &str) -> Result<Vec<DisclosureInfo<'_>>, SdJwtError> {
    let parts = split(sd_jwt)?;
    let jws = jose::decode_unverified(parts.jwt)?;
    let mut by_digest = HashMap::new();
    for d in &parts.disclosures {
        let parsed = parse_disclosure(d)?;
        by_digest.insert(digest(d), (*d, parsed.name, parsed.value));
    }
    let mut w = PathWalker {
        by_digest,
        out: Vec::new(),
    };
    w.walk(&jws.payload, &[], None, 0)?;
    Ok(w.out)
}

/// Makes a presentation keeping the disclosures for which `keep(info)` is true and,
/// so that it verifies, every disclosure that contains a kept one (a KK member's
/// element when one of its fields is kept). Drops any KB-JWT. Ends with `~`.
pub fn present_with(
    sd_jwt: &str,
    keep: impl Fn(&DisclosureInfo<'_>) -> bool,
) -> Result<String, SdJwtError> {
    let parts = split(sd_jwt)?;
    let infos = disclosures(sd_jwt)?;
    let mut kept = vec![false; infos.len()];
    for (i, info) in infos.iter().enumerate() {
        if keep(info) {
            let mut at = Some(i);
            while let Some(j) = at {
                if kept[j] {
                    break;
                }
                kept[j] = true;
                at = infos[j].parent;
            }
        }
    }
    let mut out = String::from(parts.jwt);
    out.push('~');
    for (info, k) in infos.iter().zip(kept) {
        if k {
            out.push_str(info.encoded);
            out.push('~');
        }
    }
    Ok(out)
}

/// Makes a presentation keeping the disclosures whose claim path `keep(path)` accepts
/// (and their parents, see [`present_with`]).
pub fn present_paths(
    sd_jwt: &str,
    keep: impl Fn(&[PathSeg]) -> bool,
) -> Result<String, SdJwtError> {
    present_with(sd_jwt, |i| keep(&i.path))
}

/// Makes a presentation: keeps the issuer JWT and only the disclosures for which
/// `keep(name)` is true (`name` is the claim name; array-element disclosures are all
/// kept — use [`present_by`] or [`present_paths`] to choose among them). Drops any
/// KB-JWT. The result ends with `~`.
pub fn present(sd_jwt: &str, keep: impl Fn(&str) -> bool) -> Result<String, SdJwtError> {
    present_by(sd_jwt, |name, _| name.is_none_or(&keep))
}

/// Makes a presentation keeping the disclosures for which `keep(name, value)` is true:
/// `name` is `Some(claim)` for an object property, `None` for an array element (e.g.
/// one `anggota` of a KK; its `value` is as issued, nested fields still digests), plus
/// the disclosures that contain kept ones. Drops any KB-JWT.
pub fn present_by(
    sd_jwt: &str,
    keep: impl Fn(Option<&str>, &Value) -> bool,
) -> Result<String, SdJwtError> {
    present_with(sd_jwt, |i| keep(i.name.as_deref(), &i.value))
}

/// The `typ` of a Key Binding JWT.
pub const KB_TYP: &str = "kb+jwt";

/// How far in the future a KB-JWT's `iat` may be (clock skew).
pub const KB_MAX_FUTURE_SKEW_SECS: i64 = 60;

/// Holder side: appends a KB-JWT signed by `holder` (the key in `cnf.jwk`) to a
/// presentation `<jwt>~<d>~…~` (as made by [`present`]).
pub fn add_key_binding(
    presentation: &str,
    holder: &EcKeyPair,
    aud: &str,
    nonce: &str,
    iat: DateTime<Utc>,
) -> Result<String, SdJwtError> {
    let parts = split(presentation)?;
    if parts.kb_jwt.is_some() {
        return Err(SdJwtError::Malformed);
    }
    let payload = json!({
        "iat": iat.timestamp(),
        "aud": aud,
        "nonce": nonce,
        "sd_hash": digest(presentation),
    });
    let kb = holder.sign_jws(json!({ "typ": KB_TYP }), payload)?;
    Ok(format!("{presentation}{kb}"))
}

/// Verifier side: [`verify`] plus a required KB-JWT signed by the `cnf.jwk` holder key,
/// for `aud` and `nonce`, with `iat` at most `max_age` old, and whose `sd_hash` covers
/// exactly the presented issuer JWT and disclosures.
pub fn verify_presentation(
    sd_jwt: &str,
    issuer_jwk: &EcJwk,
    aud: &str,
    nonce: &str,
    now: DateTime<Utc>,
    max_age: chrono::Duration,
) -> Result<Verified, SdJwtError> {
    let verified = verify(sd_jwt, issuer_jwk, None, now)?;
    let kb = split(sd_jwt)?.kb_jwt.ok_or(SdJwtError::KeyBindingMissing)?;
    let jws = jose::decode_unverified(kb).map_err(|_| SdJwtError::KeyBindingInvalid)?;
    match jws.header.get("typ") {
        Some(Value::String(t)) if t == KB_TYP => {}
        _ => return Err(SdJwtError::KeyBindingInvalid),
    }
    jose::verify_decoded(&jws, &verified.holder_jwk).map_err(|_| SdJwtError::KeyBindingInvalid)?;
    let p = &jws.payload;
    let covered = &sd_jwt[..sd_jwt.len() - kb.len()];
    let ok = p.get("aud").and_then(Value::as_str) == Some(aud)
        && p.get("nonce").and_then(Value::as_str) == Some(nonce)
        && p.get("sd_hash").and_then(Value::as_str) == Some(digest(covered).as_str());
    if !ok {
        return Err(SdJwtError::KeyBindingInvalid);
    }
    let iat = p
        .get("iat")
        .and_then(Value::as_i64)
        .ok_or(SdJwtError::KeyBindingInvalid)?;
    let now_s = now.timestamp();
    if iat > now_s.saturating_add(KB_MAX_FUTURE_SKEW_SECS)
        || iat < now_s.saturating_sub(max_age.num_seconds())
    {
        return Err(SdJwtError::KeyBindingInvalid);
    }
    Ok(verified)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap()
    }

    fn sample(issuer: &EcKeyPair, holder: &EcJwk) -> String {
        let mut claims = Map::new();
        claims.insert("nama".into(), json!("BUDI"));
        claims.insert("nik".into(), json!("3171234567890123"));
        claims.insert("anak".into(), json!([{"nama": "A"}, {"nama": "B"}]));
        claims.insert("alamat".into(), json!({"jalan": "JL. MERDEKA"}));
        let req = IssueRequest::new(
            "https://issuer.example",
            "urn:ikd:ktp:1",
            claims,
            holder,
            now(),
            now() + Duration::days(365),
        )
        .with_array_elements(["anak"]);
        issue(issuer, &req).unwrap()
    }

    #[test]
    fn round_trip() {
        let ik = EcKeyPair::generate().unwrap();
        let hk = EcKeyPair::generate().unwrap().public_jwk();
        let s = sample(&ik, &hk);
        assert!(s.ends_with('~'));
        let v = verify(&s, &ik.public_jwk(), Some(&hk), now()).unwrap();
        assert_eq!(v.issuer, "https://issuer.example");
        assert_eq!(v.vct, "urn:ikd:ktp:1");
        assert_eq!(v.holder_jwk, hk);
        assert_eq!(v.issued_at, now());
        assert_eq!(v.claims["nama"], "BUDI");
        assert_eq!(v.claims["anak"], json!([{"nama": "A"}, {"nama": "B"}]));
        assert_eq!(v.claims["alamat"], json!({"jalan": "JL. MERDEKA"}));
        assert!(!v.claims.contains_key("_sd"));
        assert!(!v.claims.contains_key("iss"));
        // nothing personal in the signed payload in the clear
        let payload = jose::decode_unverified(split(&s).unwrap().jwt)
            .unwrap()
            .payload
            .to_string();
        assert!(!payload.contains("BUDI"));
        // decoys: more digests than disclosed claims, more array entries than elements
        let p = jose::decode_unverified(split(&s).unwrap().jwt)
            .unwrap()
            .payload;
        let n_sd = p["_sd"].as_array().unwrap().len();
        let n_anak = p["anak"].as_array().unwrap().len();
        assert!((4..=7).contains(&n_sd), "{n_sd}");
        assert!((3..=6).contains(&n_anak), "{n_anak}");
        assert!(!payload.contains("3171234567890123"));
    }

    #[test]
    fn reserved_claims_cannot_be_disclosable() {
        let ik = EcKeyPair::generate().unwrap();
        let hk = ik.public_jwk();
        let mut c = Map::new();
        c.insert("exp".into(), json!(1));
        let req = IssueRequest::new("i", "v", c, &hk, now(), now());
        assert_eq!(issue(&ik, &req).unwrap_err(), SdJwtError::ReservedClaim);
    }

    #[test]
    fn kb_jwt_tolerated() {
        let ik = EcKeyPair::generate().unwrap();
        let hk = EcKeyPair::generate().unwrap();
        let s = sample(&ik, &hk.public_jwk());
        let kb = hk.sign_jws(json!({"typ": "kb+jwt"}), json!({})).unwrap();
        assert!(verify(&format!("{s}{kb}"), &ik.public_jwk(), None, now()).is_ok());
        assert_eq!(
            verify(&format!("{s}garbage"), &ik.public_jwk(), None, now()).unwrap_err(),
            SdJwtError::Malformed
        );
    }

    #[test]
    fn present_drops_unselected() {
        let ik = EcKeyPair::generate().unwrap();
        let hk = ik.public_jwk();
        let s = sample(&ik, &hk);
        let p = present(&s, |n| n == "nama").unwrap();
        let v = verify(&p, &ik.public_jwk(), None, now()).unwrap();
        assert_eq!(v.claims["nama"], "BUDI");
        assert!(!v.claims.contains_key("nik"));
        assert_eq!(v.claims["anak"].as_array().unwrap().len(), 2);
        // only the second child, and its enclosing claim stays in the clear
        let p = present_by(&s, |n, v| n.is_none() && v["nama"] == "B").unwrap();
        let v = verify(&p, &ik.public_jwk(), None, now()).unwrap();
        assert_eq!(v.claims["anak"], json!([{"nama": "B"}]));
        assert!(!v.claims.contains_key("nama"));
    }

    #[test]
    fn key_binding_round_trip_and_rejections() {
        let ik = EcKeyPair::generate().unwrap();
        let hk = EcKeyPair::generate().unwrap();
        let s = sample(&ik, &hk.public_jwk());
        let p = present(&s, |n| n == "nama").unwrap();
        let age = Duration::minutes(5);
        let kb = add_key_binding(&p, &hk, "https://rp", "n1", now()).unwrap();
        let v = verify_presentation(&kb, &ik.public_jwk(), "https://rp", "n1", now(), age).unwrap();
        assert_eq!(v.claims["nama"], "BUDI");
        let e = |s: &str, aud: &str, nonce: &str, at| {
            verify_presentation(s, &ik.public_jwk(), aud, nonce, at, age).unwrap_err()
        };
        assert_eq!(
            e(&p, "https://rp", "n1", now()),
            SdJwtError::KeyBindingMissing
        );
        assert_eq!(
            e(&kb, "https://other", "n1", now()),
            SdJwtError::KeyBindingInvalid
        );
        assert_eq!(
            e(&kb, "https://rp", "n2", now()),
            SdJwtError::KeyBindingInvalid
        );
        let later = now() + Duration::minutes(6);
        assert_eq!(
            e(&kb, "https://rp", "n1", later),
            SdJwtError::KeyBindingInvalid
        );
        // signed by someone else than the cnf key
        let thief = EcKeyPair::generate().unwrap();
        let stolen = add_key_binding(&p, &thief, "https://rp", "n1", now()).unwrap();
        assert_eq!(
            e(&stolen, "https://rp", "n1", now()),
            SdJwtError::KeyBindingInvalid
        );
        // KB-JWT moved onto a presentation with other disclosures
        let kb_part = kb.rsplit('~').next().unwrap();
        let p_all = present(&s, |_| true).unwrap();
        let moved = format!("{p_all}{kb_part}");
        assert_eq!(
            e(&moved, "https://rp", "n1", now()),
            SdJwtError::KeyBindingInvalid
        );
        // no double key binding
        assert!(add_key_binding(&kb, &hk, "a", "n", now()).is_err());
    }
}
