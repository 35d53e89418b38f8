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

use crate::jose::{b64u_encode, JoseError};
use crate::status_list::StatusRef;
use crate::wire::EcJwk;
use chrono::{DateTime, Utc};
use ring::rand::{SecureRandom, SystemRandom};
use serde_json::{Map, Value};

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

mod issue;
mod present;
mod verify;

pub use issue::issue;
pub use present::{
    add_key_binding, disclosures, present, present_by, present_paths, present_with,
    verify_presentation, DisclosureInfo, PathSeg, KB_MAX_FUTURE_SKEW_SECS, KB_TYP,
};
pub use verify::{split, verify, Parts, Verified};

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::jose::{self, EcKeyPair};
    use chrono::Duration;
    use serde_json::json;

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

    /// A hand-made SD-JWT: `payload` signed by `ik`, with `disclosures` appended.
    fn hand_made(ik: &EcKeyPair, payload: Value, disclosures: &[String]) -> String {
        let jwt = ik.sign_jws(json!({ "typ": TYP }), payload).unwrap();
        let mut s = jwt;
        for d in disclosures {
            s.push('~');
            s.push_str(d);
        }
        s.push('~');
        s
    }

    fn disclosure(name: &str, value: Value) -> String {
        jose::b64u_encode(serde_json::to_vec(&json!(["c2FsdA", name, value])).unwrap())
    }

    /// Issue 11 item 12: a selectively disclosed iss, exp, nbf, cnf, vct or status is
    /// refused, at the top and anywhere inside `cnf` or `status`; before the fix a
    /// `cnf.jwk` hidden behind a digest was accepted.
    #[test]
    fn registered_claims_hidden_behind_digests_are_refused() {
        let ik = EcKeyPair::generate().unwrap();
        let hk = EcKeyPair::generate().unwrap().public_jwk();
        let jwk = jose::jwk_to_value(&hk);
        let base = || {
            json!({
                "iss": "https://issuer.example", "vct": "urn:ikd:ktp:1",
                "iat": now().timestamp(), "exp": now().timestamp() + 3600,
                "cnf": { "jwk": jwk.clone() },
            })
        };
        // The clear form is accepted.
        verify(
            &hand_made(&ik, base(), &[]),
            &ik.public_jwk(),
            Some(&hk),
            now(),
        )
        .unwrap();
        for (name, value) in [
            ("iss", json!("https://issuer.example")),
            ("exp", json!(now().timestamp() + 3600)),
            ("nbf", json!(now().timestamp())),
            ("cnf", json!({ "jwk": jwk.clone() })),
            ("vct", json!("urn:ikd:ktp:1")),
            (
                "status",
                json!({ "status_list": { "idx": 1, "uri": "https://i.example/s" } }),
            ),
        ] {
            let d = disclosure(name, value);
            let mut p = base();
            p.as_object_mut().unwrap().remove(name);
            p["_sd"] = json!([digest(&d)]);
            assert_eq!(
                verify(&hand_made(&ik, p, &[d]), &ik.public_jwk(), None, now()).unwrap_err(),
                SdJwtError::ReservedClaim,
                "{name}"
            );
        }
        // Nested: cnf.jwk, and status.status_list, behind a digest.
        let d = disclosure("jwk", jwk.clone());
        let mut p = base();
        p["cnf"] = json!({ "_sd": [digest(&d)] });
        assert_eq!(
            verify(&hand_made(&ik, p, &[d]), &ik.public_jwk(), Some(&hk), now()).unwrap_err(),
            SdJwtError::ReservedClaim
        );
        let d = disclosure(
            "status_list",
            json!({ "idx": 1, "uri": "https://i.example/s" }),
        );
        let mut p = base();
        p["status"] = json!({ "_sd": [digest(&d)] });
        assert_eq!(
            verify(&hand_made(&ik, p, &[d]), &ik.public_jwk(), None, now()).unwrap_err(),
            SdJwtError::ReservedClaim
        );
    }

    /// Issue 11 item 12: an `iat` beyond the clock skew in the future is refused (before
    /// the fix a credential's iat was not judged at all).
    #[test]
    fn a_credential_issued_in_the_future_is_refused() {
        let ik = EcKeyPair::generate().unwrap();
        let hk = ik.public_jwk();
        let at = |iat: i64| {
            json!({
                "iss": "https://issuer.example", "vct": "urn:ikd:ktp:1",
                "iat": iat, "exp": now().timestamp() + 3600,
                "cnf": { "jwk": jose::jwk_to_value(&hk) },
            })
        };
        let skew = jose::MAX_FUTURE_SKEW_SECS;
        let t = now().timestamp();
        verify(&hand_made(&ik, at(t + skew), &[]), &hk, None, now()).unwrap();
        assert_eq!(
            verify(&hand_made(&ik, at(t + skew + 1), &[]), &hk, None, now()).unwrap_err(),
            SdJwtError::NotYetValid
        );
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
