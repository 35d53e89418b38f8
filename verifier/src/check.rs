//! What the verifier checks in an OpenID4VP response, for SD-JWT VC:
//!
//! 1. the `vp_token` answers the DCQL query: only ids it asked for, one presentation
//!    each (unless `multiple`), every required credential query (or credential set);
//! 2. per presentation: the issuer's signature with a trusted key (the `x5c` chain to a
//!    configured Dukcapil root, or the `kid` in `/.well-known/jwt-vc-issuer` of a
//!    configured issuer), every disclosure digest, `exp`/`nbf`, the `vct`;
//! 3. the KB-JWT: `typ kb+jwt`, signed by the `cnf.jwk` holder key, `aud` = our client
//!    id, our `nonce`, `iat` fresh, `sd_hash` over exactly what was presented;
//! 4. that what was disclosed answers the claim query and nothing more was disclosed
//!    (an over-disclosure is refused, so a wallet cannot leak more than was asked);
//! 5. the status list entry (`status.status_list`), fetched and cached for its `ttl`.

use chrono::{DateTime, Duration, Utc};
use ikd_proto::dcql::{self, ClaimQuery, CredentialQuery, DcqlQuery};
use ikd_proto::jose;
use ikd_proto::sdjwt;
use ikd_proto::sdjwt_present;
use ikd_proto::wire::EcJwk;
use ikd_proto::x509::{Cert, TrustAnchors};
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::io::Read as _;
use std::sync::Mutex;

/// Why a response was refused (stable codes; the page words them).
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "code", content = "detail", rename_all = "snake_case")]
pub enum Refusal {
    #[error("the response does not answer the query: {0}")]
    NotAnswered(String),
    #[error("more was disclosed than was asked")]
    OverDisclosure,
    #[error("issuer not trusted: {0}")]
    UntrustedIssuer(String),
    #[error("credential invalid: {0}")]
    Credential(String),
    #[error("key binding invalid (nonce, audience, freshness, holder key or sd_hash)")]
    KeyBinding,
    #[error("credential revoked")]
    Revoked,
    #[error("status list unavailable: {0}")]
    Status(String),
    #[error("unknown or already used state")]
    Replay,
    #[error("malformed response: {0}")]
    Malformed(String),
}

/// What the verifier expects from this one response.
pub struct Expectation<'a> {
    pub client_id: &'a str,
    pub nonce: &'a str,
    pub query: &'a DcqlQuery,
    pub now: DateTime<Utc>,
    /// Oldest KB-JWT `iat` accepted.
    pub max_age: Duration,
}

/// One verified credential, as shown on the result page.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Checked {
    pub query_id: String,
    pub vct: String,
    pub issuer: String,
    /// The disclosed claims (and the always-visible ones, registered claims removed).
    pub claims: Map<String, Value>,
    /// The status list reference, when the credential has one.
    #[serde(skip)]
    pub status_ref: Option<(String, usize)>,
}

/// Issuer keys the verifier trusts.
#[derive(Debug, Clone, Default)]
pub struct IssuerTrust {
    /// Dukcapil roots for the `x5c` header.
    pub roots: TrustAnchors,
    /// Issuers (`iss`) whose `/.well-known/jwt-vc-issuer` keys are trusted.
    pub issuers: Vec<String>,
}

/// Where the issuer key is to be found.
#[derive(Debug, Clone, PartialEq)]
pub enum KeySource {
    /// Verified against the roots already.
    Chain(EcJwk),
    /// `kid` (if any) in the metadata of `iss`.
    Metadata { iss: String, kid: Option<String> },
}

/// Finds the issuer key source of an SD-JWT VC (the `x5c` chain is checked here).
pub fn key_source(
    sd_jwt: &str,
    trust: &IssuerTrust,
    now: DateTime<Utc>,
) -> Result<KeySource, Refusal> {
    let parts = sdjwt::split(sd_jwt).map_err(|e| Refusal::Credential(e.to_string()))?;
    let jws = jose::decode_unverified(parts.jwt).map_err(|e| Refusal::Credential(e.to_string()))?;
    let iss = jws
        .payload
        .get("iss")
        .and_then(Value::as_str)
        .ok_or(Refusal::Credential("no iss".into()))?
        .to_owned();
    let by_metadata = trust.issuers.iter().any(|i| i == &iss);
    if let Some(x5c) = jws.header.get("x5c") {
        let chained = Cert::chain_from_x5c(x5c)
            .map_err(|e| Refusal::UntrustedIssuer(e.to_string()))
            .and_then(|chain| {
                trust
                    .roots
                    .verify_chain(&chain, now)
                    .map_err(|e| Refusal::UntrustedIssuer(e.to_string()))?;
                chain
                    .first()
                    .ok_or(Refusal::UntrustedIssuer("x5c".into()))?
                    .public_jwk()
                    .map(KeySource::Chain)
                    .map_err(|e| Refusal::UntrustedIssuer(e.to_string()))
            });
        // A chain to a configured root, or else (when `iss` is trusted by its
        // jwt-vc-issuer metadata) the metadata key named by `kid`.
        match chained {
            Ok(source) => return Ok(source),
            Err(e) if !by_metadata => return Err(e),
            Err(_) => {}
        }
    }
    if !by_metadata {
        return Err(Refusal::UntrustedIssuer(iss));
    }
    let kid = jws
        .header
        .get("kid")
        .and_then(Value::as_str)
        .map(str::to_owned);
    Ok(KeySource::Metadata { iss, kid })
}

/// The key for `kid` in a `jwt-vc-issuer` metadata document for `iss`.
pub fn key_from_metadata(meta: &Value, iss: &str, kid: Option<&str>) -> Result<EcJwk, Refusal> {
    if meta.get("issuer").and_then(Value::as_str) != Some(iss) {
        return Err(Refusal::UntrustedIssuer("metadata issuer mismatch".into()));
    }
    let keys = meta
        .get("jwks")
        .and_then(|j| j.get("keys"))
        .and_then(Value::as_array)
        .ok_or(Refusal::UntrustedIssuer("metadata without jwks".into()))?;
    let key = match kid {
        Some(kid) => keys
            .iter()
            .find(|k| k.get("kid").and_then(Value::as_str) == Some(kid)),
        // Without a kid only a single key is unambiguous.
        None if keys.len() == 1 => keys.first(),
        None => None,
    }
    .ok_or(Refusal::UntrustedIssuer("no key for kid".into()))?;
    jose::jwk_from_value(key).map_err(|_| Refusal::UntrustedIssuer("bad key".into()))
}

/// `https://host/path` → `https://host/.well-known/jwt-vc-issuer/path` (SD-JWT VC §5).
pub fn metadata_url(iss: &str) -> Option<String> {
    let u = url::Url::parse(iss).ok()?;
    let path = u.path().trim_end_matches('/');
    let mut out = u.clone();
    out.set_path(&format!("/.well-known/jwt-vc-issuer{path}"));
    out.set_query(None);
    Some(out.to_string())
}

fn claim_paths(claims: &[ClaimQuery]) -> Vec<&[dcql::PathElement]> {
    claims.iter().map(|c| c.path.as_slice()).collect()
}

/// Which claim-query alternatives a credential query allows (claim_sets, or all).
fn alternatives(q: &CredentialQuery) -> Vec<Vec<ClaimQuery>> {
    let Some(claims) = &q.claims else {
        return vec![Vec::new()];
    };
    match &q.claim_sets {
        None => vec![claims.clone()],
        Some(sets) => sets
            .iter()
            .map(|set| {
                claims
                    .iter()
                    .filter(|c| c.id.as_ref().is_some_and(|id| set.contains(id)))
                    .cloned()
                    .collect()
            })
            .collect(),
    }
}

/// Verifies one presentation against its credential query (all but the status list).
pub fn verify_one(
    sd_jwt: &str,
    issuer_key: &EcJwk,
    q: &CredentialQuery,
    exp: &Expectation<'_>,
) -> Result<Checked, Refusal> {
    let verified = sdjwt::verify_presentation(
        sd_jwt,
        issuer_key,
        exp.client_id,
        exp.nonce,
        exp.now,
        exp.max_age,
    )
    .map_err(|e| match e {
        sdjwt::SdJwtError::KeyBindingInvalid | sdjwt::SdJwtError::KeyBindingMissing => {
            Refusal::KeyBinding
        }
        other => Refusal::Credential(other.to_string()),
    })?;
    if q.format != dcql::FORMAT_SD_JWT_VC {
        return Err(Refusal::NotAnswered(format!("format of {}", q.id)));
    }
    if let Some(vcts) = &q.meta.vct_values {
        if !vcts.contains(&verified.vct) {
            return Err(Refusal::NotAnswered(format!("vct of {}", q.id)));
        }
    }
    // The disclosed claims must answer one alternative, and the presented disclosures
    // must be exactly what that alternative needs.
    let presented =
        sdjwt_present::disclosures(sd_jwt).map_err(|e| Refusal::Malformed(e.to_string()))?;
    let without_kb = {
        let kb_len = sdjwt::split(sd_jwt)
            .ok()
            .and_then(|p| p.kb_jwt.map(str::len))
            .unwrap_or(0);
        &sd_jwt[..sd_jwt.len() - kb_len]
    };
    let claims_value = Value::Object(verified.claims.clone());
    let mut answered = false;
    for alt in alternatives(q) {
        if !alt.iter().all(|c| dcql::claim_matches(&claims_value, c)) {
            continue;
        }
        answered = true;
        let needed = sdjwt_present::needed_disclosures(without_kb, &claim_paths(&alt))
            .map_err(|e| Refusal::Malformed(e.to_string()))?;
        if needed.is_some_and(|n| n == presented) {
            let status_ref = status_reference(sd_jwt);
            return Ok(Checked {
                query_id: q.id.clone(),
                vct: verified.vct,
                issuer: verified.issuer,
                claims: verified.claims,
                status_ref,
            });
        }
    }
    if answered {
        Err(Refusal::OverDisclosure)
    } else {
        Err(Refusal::NotAnswered(format!("claims of {}", q.id)))
    }
}

/// `status.status_list` {`uri`, `idx`} of the issuer payload.
pub fn status_reference(sd_jwt: &str) -> Option<(String, usize)> {
    let parts = sdjwt::split(sd_jwt).ok()?;
    let jws = jose::decode_unverified(parts.jwt).ok()?;
    let sl = jws.payload.get("status")?.get("status_list")?;
    let uri = sl.get("uri")?.as_str()?.to_owned();
    let idx = usize::try_from(sl.get("idx")?.as_u64()?).ok()?;
    Some((uri, idx))
}

/// The presentations of a `vp_token`, checked against the query's shape: only asked
/// ids, one each unless `multiple`, and every required credential (set) answered.
pub fn presentations<'a>(
    vp_token: &'a Value,
    query: &'a DcqlQuery,
) -> Result<Vec<(&'a CredentialQuery, &'a str)>, Refusal> {
    let obj = vp_token
        .as_object()
        .ok_or(Refusal::Malformed("vp_token is not an object".into()))?;
    let mut out = Vec::new();
    for (id, v) in obj {
        let q = query.credential(id).ok_or(Refusal::OverDisclosure)?;
        let arr = v
            .as_array()
            .ok_or(Refusal::Malformed("vp_token entry is not an array".into()))?;
        if arr.is_empty() || (arr.len() > 1 && !q.multiple) {
            return Err(Refusal::Malformed(format!("presentations for {id}")));
        }
        for p in arr {
            let s = p
                .as_str()
                .ok_or(Refusal::Malformed("presentation is not a string".into()))?;
            out.push((q, s));
        }
    }
    let has = |id: &str| obj.contains_key(id);
    match &query.credential_sets {
        None => {
            if let Some(q) = query.credentials.iter().find(|q| !has(&q.id)) {
                return Err(Refusal::NotAnswered(q.id.clone()));
            }
        }
        Some(sets) => {
            for set in sets.iter().filter(|s| s.required) {
                if !set.options.iter().any(|o| o.iter().all(|id| has(id))) {
                    return Err(Refusal::NotAnswered("credential set".into()));
                }
            }
            // Every answered id must belong to one option that is fully answered.
            for id in obj.keys() {
                let in_option = sets.iter().any(|s| {
                    s.options
                        .iter()
                        .any(|o| o.contains(id) && o.iter().all(|x| has(x)))
                });
                if !in_option {
                    return Err(Refusal::OverDisclosure);
                }
            }
        }
    }
    Ok(out)
}

/// Decodes a status list token's list and returns the status at `idx`.
pub fn status_at(
    token: &str,
    uri: &str,
    idx: usize,
    key: &EcJwk,
    now: DateTime<Utc>,
) -> Result<(u8, Option<i64>), Refusal> {
    let st = |m: &str| Refusal::Status(m.into());
    let jws = jose::decode_unverified(token.trim()).map_err(|_| st("malformed token"))?;
    if jws.header.get("typ").and_then(Value::as_str) != Some("statuslist+jwt") {
        return Err(st("wrong typ"));
    }
    jose::verify_decoded(&jws, key).map_err(|_| st("bad signature"))?;
    let p = &jws.payload;
    if p.get("sub").and_then(Value::as_str) != Some(uri) {
        return Err(st("sub mismatch"));
    }
    if let Some(e) = p.get("exp").and_then(Value::as_i64) {
        if now.timestamp() >= e {
            return Err(st("expired"));
        }
    }
    let sl = p.get("status_list").ok_or_else(|| st("no status_list"))?;
    let bits = sl
        .get("bits")
        .and_then(Value::as_u64)
        .ok_or_else(|| st("bits"))?;
    if !matches!(bits, 1 | 2 | 4 | 8) {
        return Err(st("bits"));
    }
    let lst = sl
        .get("lst")
        .and_then(Value::as_str)
        .ok_or_else(|| st("lst"))?;
    let compressed = jose::b64u_decode(lst).map_err(|_| st("lst"))?;
    let mut bytes = Vec::new();
    flate2::read::ZlibDecoder::new(compressed.as_slice())
        .take(16 * 1024 * 1024)
        .read_to_end(&mut bytes)
        .map_err(|_| st("lst inflate"))?;
    let bits = bits as usize;
    let bit = idx.checked_mul(bits).ok_or_else(|| st("idx"))?;
    let byte = *bytes.get(bit / 8).ok_or_else(|| st("idx out of range"))?;
    let mask = ((1u16 << bits) - 1) as u8;
    let value = (byte >> (bit % 8)) & mask;
    let ttl = p.get("ttl").and_then(Value::as_i64);
    Ok((value, ttl))
}

/// Status list tokens fetched, kept for their `ttl` (at most [`MAX_TTL_SECS`]).
#[derive(Default)]
pub struct StatusCache {
    entries: Mutex<HashMap<String, (String, DateTime<Utc>)>>,
}

pub const DEFAULT_TTL_SECS: i64 = 300;
pub const MAX_TTL_SECS: i64 = 24 * 3600;

impl StatusCache {
    pub fn get(&self, uri: &str, now: DateTime<Utc>) -> Option<String> {
        let m = self.entries.lock().ok()?;
        m.get(uri)
            .filter(|(_, until)| now < *until)
            .map(|(t, _)| t.clone())
    }
    pub fn put(&self, uri: &str, token: String, ttl: Option<i64>, now: DateTime<Utc>) {
        let ttl = ttl.unwrap_or(DEFAULT_TTL_SECS).clamp(0, MAX_TTL_SECS);
        if let Ok(mut m) = self.entries.lock() {
            m.insert(uri.to_owned(), (token, now + Duration::seconds(ttl)));
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use flate2::write::ZlibEncoder;
    use ikd_proto::jose::{b64u_encode, EcKeyPair};
    use serde_json::json;
    use std::io::Write as _;

    fn token(key: &EcKeyPair, uri: &str, bits: u64, bytes: &[u8], exp: Option<i64>) -> String {
        let mut z = ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(bytes).unwrap();
        let lst = b64u_encode(z.finish().unwrap());
        let mut payload = json!({"sub": uri, "iat": 1, "ttl": 600,
            "status_list": {"bits": bits, "lst": lst}});
        if let Some(e) = exp {
            payload["exp"] = json!(e);
        }
        key.sign_jws(json!({"typ": "statuslist+jwt"}), payload)
            .unwrap()
    }

    #[test]
    fn status_list_bits_and_refusals() {
        let k = EcKeyPair::generate().unwrap();
        let uri = "https://ikd.example/status/1";
        let now = Utc::now();
        // 1 bit per entry: entry 9 (byte 1, bit 1) is invalid.
        let t = token(&k, uri, 1, &[0b0000_0000, 0b0000_0010], None);
        assert_eq!(
            status_at(&t, uri, 9, &k.public_jwk(), now).unwrap(),
            (1, Some(600))
        );
        assert_eq!(status_at(&t, uri, 8, &k.public_jwk(), now).unwrap().0, 0);
        assert!(status_at(&t, uri, 99, &k.public_jwk(), now).is_err());
        // 2 bits: entry 1 = bits 2..3 of byte 0.
        let t = token(&k, uri, 2, &[0b0000_1000], None);
        assert_eq!(status_at(&t, uri, 1, &k.public_jwk(), now).unwrap().0, 2);
        // Another issuer's key, another list's sub, an expired list: refused.
        let other = EcKeyPair::generate().unwrap();
        assert!(status_at(&t, uri, 1, &other.public_jwk(), now).is_err());
        assert!(status_at(&t, "https://ikd.example/status/2", 1, &k.public_jwk(), now).is_err());
        let old = token(&k, uri, 1, &[0], Some(now.timestamp() - 1));
        assert!(status_at(&old, uri, 0, &k.public_jwk(), now).is_err());
    }

    #[test]
    fn status_cache_keeps_for_ttl() {
        let c = StatusCache::default();
        let now = Utc::now();
        c.put("u", "t".into(), Some(60), now);
        assert_eq!(
            c.get("u", now + Duration::seconds(59)).as_deref(),
            Some("t")
        );
        assert_eq!(c.get("u", now + Duration::seconds(61)), None);
    }

    #[test]
    fn metadata_url_and_key_by_kid() {
        assert_eq!(
            metadata_url("https://ikd.example/tenant").unwrap(),
            "https://ikd.example/.well-known/jwt-vc-issuer/tenant"
        );
        assert_eq!(
            metadata_url("http://127.0.0.1:8787").unwrap(),
            "http://127.0.0.1:8787/.well-known/jwt-vc-issuer"
        );
        let k = EcKeyPair::generate().unwrap();
        let mut jwk = jose::jwk_to_value(&k.public_jwk());
        jwk["kid"] = json!("k1");
        let meta = json!({"issuer": "https://i", "jwks": {"keys": [jwk]}});
        assert_eq!(
            key_from_metadata(&meta, "https://i", Some("k1")).unwrap(),
            k.public_jwk()
        );
        assert!(key_from_metadata(&meta, "https://i", Some("k2")).is_err());
        assert!(key_from_metadata(&meta, "https://other", Some("k1")).is_err());
        assert_eq!(
            key_from_metadata(&meta, "https://i", None).unwrap(),
            k.public_jwk()
        );
    }
}
