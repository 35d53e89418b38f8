//! Holder side: [`present`] a subset of disclosures and [`add_key_binding`]; and the
//! verifier's [`verify_presentation`] of a key-bound presentation.

use super::verify::{parse_disclosure, split, verify, Verified};
use super::{digest, SdJwtError};
use crate::jose::{self, EcKeyPair};
use crate::wire::EcJwk;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

/// Makes a presentation: keeps the issuer JWT and only the disclosures for which
/// `keep(name)` is true (`name` is the claim name; array-element disclosures are all
/// kept — use [`present_by`] to choose among them). Drops any KB-JWT. The result ends
/// with `~`.
pub fn present(sd_jwt: &str, keep: impl Fn(&str) -> bool) -> Result<String, SdJwtError> {
    present_by(sd_jwt, |name, _| name.is_none_or(&keep))
}

/// Makes a presentation keeping the disclosures for which `keep(name, value)` is true:
/// `name` is `Some(claim)` for an object property, `None` for an array element (e.g.
/// one `anggota` of a KK, whose `value` is the member object). Drops any KB-JWT.
///
/// Note: keeping a nested disclosure whose parent disclosure is dropped is harmless
/// for us but makes [`verify`] reject it as unreferenced; callers keep parents.
pub fn present_by(
    sd_jwt: &str,
    keep: impl Fn(Option<&str>, &Value) -> bool,
) -> Result<String, SdJwtError> {
    let parts = split(sd_jwt)?;
    let mut out = String::from(parts.jwt);
    out.push('~');
    for d in parts.disclosures {
        let parsed = parse_disclosure(d)?;
        if keep(parsed.name.as_deref(), &parsed.value) {
            out.push_str(d);
            out.push('~');
        }
    }
    Ok(out)
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
    let window = jose::TimeWindow::fresh(max_age.num_seconds(), KB_MAX_FUTURE_SKEW_SECS);
    jose::check_time_window(now.timestamp(), Some(iat), None, None, window)
        .map_err(|_| SdJwtError::KeyBindingInvalid)?;
    Ok(verified)
}
