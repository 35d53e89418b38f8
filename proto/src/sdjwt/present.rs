//! Holder side: [`present`] a subset of disclosures and [`add_key_binding`]; and the
//! verifier's [`verify_presentation`] of a key-bound presentation.

use super::verify::{parse_disclosure, split, verify, Verified};
use super::{digest, SdJwtError, MAX_DEPTH};
use crate::jose::{self, EcKeyPair};
use crate::wire::EcJwk;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use std::collections::HashMap;

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
pub const KB_MAX_FUTURE_SKEW_SECS: i64 = jose::MAX_FUTURE_SKEW_SECS;

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
    let window = jose::TimeWindow::fresh(max_age.num_seconds(), KB_MAX_FUTURE_SKEW_SECS);
    jose::check_time_window(now.timestamp(), Some(iat), None, None, window)
        .map_err(|_| SdJwtError::KeyBindingInvalid)?;
    Ok(verified)
}
