//! The OpenID4VCI 1.0 proof JWT (Appendix F.1, `openid4vci-proof+jwt`): made by the
//! wallet's device P-256 key ([`DeviceKey::proof_jwt`]) and checked by the server with
//! [`verify_proof`], the one definition of the rule.
//!
//! The key store is not used here: callers persist [`DeviceKey::to_pkcs8`] and load it
//! back with [`DeviceKey::from_pkcs8`].

use crate::jose::{self, EcKeyPair, JoseError};
use crate::secret::SecretBytes;
use crate::wire::EcJwk;
use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};

/// The proof JWT `typ` (OpenID4VCI 1.0 Appendix F.1).
pub const PROOF_TYP: &str = crate::wire::PROOF_JWT_TYP;

/// How far in the future a proof's `iat` may be (clock skew between device and server).
pub const MAX_FUTURE_SKEW_SECS: i64 = jose::MAX_FUTURE_SKEW_SECS;

/// How old a proof's `iat` may be when the server checks it (the c_nonce lifetime).
pub const PROOF_MAX_AGE_SECS: i64 = 300;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DeviceKeyError {
    #[error("device key unusable")]
    Key,
    #[error("signing failed")]
    Signing,
    #[error("malformed proof JWT")]
    Malformed,
    #[error("unsupported proof algorithm")]
    UnsupportedAlg,
    #[error("wrong proof JWT type")]
    WrongType,
    #[error("proof JWT carries no usable key")]
    BadKey,
    #[error("bad proof signature")]
    BadSignature,
    #[error("proof for another audience")]
    WrongAudience,
    #[error("proof nonce does not match")]
    WrongNonce,
    #[error("proof too old or from the future")]
    Stale,
    #[error("proof key is not the enrolled device key")]
    NotDeviceKey,
}

/// The device's signing key. Debug is redacted.
#[derive(Clone)]
pub struct DeviceKey {
    key: EcKeyPair,
}

impl std::fmt::Debug for DeviceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DeviceKey(<redacted>)")
    }
}

impl DeviceKey {
    /// A fresh key (first run).
    pub fn generate() -> Result<Self, DeviceKeyError> {
        Ok(Self {
            key: EcKeyPair::generate().map_err(|_| DeviceKeyError::Key)?,
        })
    }

    /// Loads the key kept in the key store.
    pub fn from_pkcs8(pkcs8: SecretBytes) -> Result<Self, DeviceKeyError> {
        Ok(Self {
            key: EcKeyPair::from_pkcs8(pkcs8).map_err(|_| DeviceKeyError::Key)?,
        })
    }

    /// The PKCS#8 document to keep in the key store.
    pub fn to_pkcs8(&self) -> &SecretBytes {
        self.key.pkcs8()
    }

    pub fn public_jwk(&self) -> EcJwk {
        self.key.public_jwk()
    }

    /// RFC 7638 thumbprint of the public key.
    pub fn thumbprint(&self) -> String {
        jose::jwk_thumbprint(&self.public_jwk())
    }

    /// The key pair, for signing other JWTs (e.g. an SD-JWT KB-JWT).
    pub fn key_pair(&self) -> &EcKeyPair {
        &self.key
    }

    /// An OpenID4VCI proof JWT: header `{typ, alg: ES256, jwk}`, payload `{aud, iat, nonce}`.
    pub fn proof_jwt(
        &self,
        aud: &str,
        nonce: &str,
        iat: DateTime<Utc>,
    ) -> Result<String, DeviceKeyError> {
        let header = proof_header(&self.public_jwk());
        let payload = proof_payload(aud, nonce, iat.timestamp());
        self.key.sign_jws(header, payload).map_err(|e| match e {
            JoseError::Signing => DeviceKeyError::Signing,
            _ => DeviceKeyError::Key,
        })
    }
}

/// The DPoP proof `typ` (RFC 9449).
pub const DPOP_TYP: &str = "dpop+jwt";

impl DeviceKey {
    /// A DPoP proof (RFC 9449 §4.2) for `htm` on `htu`: header `{typ: dpop+jwt, alg,
    /// jwk}`, payload `{jti, htm, htu, iat}` and, when an access token is presented,
    /// `ath` = base64url(SHA-256(token)).
    pub fn dpop_proof(
        &self,
        htm: &str,
        htu: &str,
        access_token: Option<&str>,
        iat: DateTime<Utc>,
    ) -> Result<String, DeviceKeyError> {
        use ring::rand::SecureRandom as _;
        let mut jti = [0u8; 16];
        ring::rand::SystemRandom::new()
            .fill(&mut jti)
            .map_err(|_| DeviceKeyError::Signing)?;
        let header = json!({ "typ": DPOP_TYP, "jwk": jose::jwk_to_value(&self.public_jwk()) });
        let mut payload = json!({
            "jti": jose::b64u_encode(jti), "htm": htm, "htu": htu, "iat": iat.timestamp(),
        });
        if let Some(t) = access_token {
            payload["ath"] = json!(dpop_ath(t));
        }
        self.key.sign_jws(header, payload).map_err(|e| match e {
            JoseError::Signing => DeviceKeyError::Signing,
            _ => DeviceKeyError::Key,
        })
    }
}

/// How old (or how far ahead) a DPoP proof's `iat` may be at the server.
pub const DPOP_MAX_AGE_SECS: i64 = 300;

/// The longest DPoP `jti` accepted.
pub const DPOP_MAX_JTI: usize = 256;

/// Why a DPoP proof (RFC 9449 §4.3) is refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DpopError {
    #[error("malformed DPoP proof")]
    Malformed,
    #[error("wrong DPoP proof type")]
    WrongType,
    #[error("DPoP proof carries no usable key")]
    BadKey,
    #[error("bad DPoP proof signature")]
    BadSignature,
    #[error("DPoP proof for another method")]
    WrongMethod,
    #[error("DPoP proof for another URI")]
    WrongUri,
    #[error("DPoP proof too old or from the future")]
    Stale,
    #[error("DPoP proof without the access token's hash (ath), or for another token")]
    WrongAth,
    #[error("DPoP proof without a usable jti")]
    BadJti,
}

/// A DPoP proof that passed [`verify_dpop`]: the key's thumbprint (`jkt`, what tokens
/// are bound to) and the `jti` the caller must see only once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedDpop {
    pub jkt: String,
    pub jti: String,
}

/// `ath`: base64url(SHA-256(access token)).
pub fn dpop_ath(access_token: &str) -> String {
    jose::b64u_encode(ring::digest::digest(
        &ring::digest::SHA256,
        access_token.as_bytes(),
    ))
}

/// The one check of a DPoP proof (RFC 9449 §4.3), for the server and anyone else:
/// ES256 and no `crit`; `typ` `dpop+jwt`; a public P-256 `jwk` header; its signature;
/// `htm`; `htu` (query and fragment ignored); `iat` within [`DPOP_MAX_AGE_SECS`] of
/// `now` either way; `ath` when an access token is presented; a `jti`. Single use of the
/// `jti` is the caller's (it needs storage).
pub fn verify_dpop(
    jwt: &str,
    htm: &str,
    htu: &str,
    access_token: Option<&str>,
    now: DateTime<Utc>,
) -> Result<VerifiedDpop, DpopError> {
    let jws = jose::decode_unverified(jwt).map_err(|_| DpopError::Malformed)?;
    match jws.header.get("typ") {
        Some(Value::String(t)) if t == DPOP_TYP => {}
        _ => return Err(DpopError::WrongType),
    }
    let jwk = jws
        .header
        .get("jwk")
        .ok_or(DpopError::BadKey)
        .and_then(|j| jose::jwk_from_value(j).map_err(|_| DpopError::BadKey))?;
    jose::verify_decoded(&jws, &jwk).map_err(|_| DpopError::BadSignature)?;
    let p = &jws.payload;
    let s = |k: &str| p.get(k).and_then(Value::as_str);
    if s("htm") != Some(htm) {
        return Err(DpopError::WrongMethod);
    }
    let got = s("htu").map(|u| u.split(['?', '#']).next().unwrap_or(u));
    if got != Some(htu) {
        return Err(DpopError::WrongUri);
    }
    let iat = p
        .get("iat")
        .and_then(Value::as_i64)
        .ok_or(DpopError::Stale)?;
    let window = jose::TimeWindow::fresh(DPOP_MAX_AGE_SECS, DPOP_MAX_AGE_SECS);
    jose::check_time_window(now.timestamp(), Some(iat), None, None, window)
        .map_err(|_| DpopError::Stale)?;
    if let Some(token) = access_token {
        // Not a secret (a hash of the token the request carries anyway).
        if s("ath") != Some(dpop_ath(token).as_str()) {
            return Err(DpopError::WrongAth);
        }
    }
    let jti = s("jti")
        .filter(|j| !j.is_empty() && j.len() <= DPOP_MAX_JTI)
        .ok_or(DpopError::BadJti)?;
    Ok(VerifiedDpop {
        jkt: jose::jwk_thumbprint(&jwk),
        jti: jti.to_owned(),
    })
}

/// The payload of a proof JWT (OpenID4VCI 1.0 Appendix F.1): `{aud, nonce, iat}`.
pub fn proof_payload(issuer: &str, nonce: &str, iat: i64) -> Value {
    json!({ "aud": issuer, "nonce": nonce, "iat": iat })
}

/// The header of a proof JWT carrying the device's public key: `{typ, alg, jwk}`.
pub fn proof_header(device_jwk: &EcJwk) -> Value {
    json!({ "typ": PROOF_TYP, "alg": jose::ES256, "jwk": jose::jwk_to_value(device_jwk) })
}

/// What a proof must satisfy. The server checks every proof (credential, release,
/// reauth) with [`PROOF_MAX_AGE_SECS`] and the enrolled device key.
#[derive(Debug, Clone, Copy)]
pub struct ProofRules<'a> {
    /// The credential issuer identifier (`aud`, a string or an array containing it).
    pub aud: &'a str,
    /// The `nonce` expected, when the caller knows it; `None` when the caller redeems
    /// the returned nonce itself (the server's single-use nonce store).
    pub nonce: Option<&'a str>,
    /// The key the proof must be made with (the enrolled device key); `None` accepts
    /// the header `jwk` as it is (first contact).
    pub device_key: Option<&'a EcJwk>,
    pub now: DateTime<Utc>,
    /// How old `iat` may be; it may be at most [`MAX_FUTURE_SKEW_SECS`] in the future.
    pub max_age: Duration,
}

/// A proof that passed [`verify_proof`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedProof {
    /// The key it was signed with (the header `jwk`).
    pub jwk: EcJwk,
    /// Its `nonce` claim.
    pub nonce: String,
}

/// The one check of an OpenID4VCI proof JWT, for the server and anyone else.
///
/// Checks, in order: ES256 and no `crit` (see [`jose::decode_unverified`]); `typ` is
/// `openid4vci-proof+jwt`; no `kid` or `x5c` header (we bind to a bare key only); a
/// `jwk` header that is a public P-256 key and, when `device_key` is given, that key;
/// the signature with it; `aud`; `iat` within `max_age` before `now` and at most
/// [`MAX_FUTURE_SKEW_SECS`] after it; and the `nonce` when one is expected.
pub fn verify_proof(jwt: &str, rules: &ProofRules<'_>) -> Result<VerifiedProof, DeviceKeyError> {
    let jws = jose::decode_unverified(jwt).map_err(|e| match e {
        JoseError::UnsupportedAlg => DeviceKeyError::UnsupportedAlg,
        _ => DeviceKeyError::Malformed,
    })?;
    match jws.header.get("typ") {
        Some(Value::String(t)) if t == PROOF_TYP => {}
        _ => return Err(DeviceKeyError::WrongType),
    }
    if jws.header.contains_key("kid") || jws.header.contains_key("x5c") {
        return Err(DeviceKeyError::BadKey);
    }
    let jwk = jws
        .header
        .get("jwk")
        .ok_or(DeviceKeyError::BadKey)
        .and_then(|j| jose::jwk_from_value(j).map_err(|_| DeviceKeyError::BadKey))?;
    if let Some(device) = rules.device_key {
        if jose::jwk_thumbprint(&jwk) != jose::jwk_thumbprint(device) {
            return Err(DeviceKeyError::NotDeviceKey);
        }
    }
    jose::verify_decoded(&jws, &jwk).map_err(|_| DeviceKeyError::BadSignature)?;
    let p = &jws.payload;
    let aud_ok = match p.get("aud") {
        Some(Value::String(a)) => a == rules.aud,
        Some(Value::Array(a)) => a.iter().any(|x| x.as_str() == Some(rules.aud)),
        _ => false,
    };
    if !aud_ok {
        return Err(DeviceKeyError::WrongAudience);
    }
    let iat = p
        .get("iat")
        .and_then(Value::as_i64)
        .ok_or(DeviceKeyError::Malformed)?;
    let window = jose::TimeWindow::fresh(rules.max_age.num_seconds(), MAX_FUTURE_SKEW_SECS);
    jose::check_time_window(rules.now.timestamp(), Some(iat), None, None, window)
        .map_err(|_| DeviceKeyError::Stale)?;
    let nonce = match p.get("nonce") {
        Some(Value::String(n)) => n.clone(),
        _ => return Err(DeviceKeyError::WrongNonce),
    };
    // The c_nonce is not a secret: a plain comparison is fine.
    if rules.nonce.is_some_and(|want| want != nonce) {
        return Err(DeviceKeyError::WrongNonce);
    }
    Ok(VerifiedProof { jwk, nonce })
}

/// [`verify_proof`] with a known nonce and no enrolled key; returns the signing key.
pub fn verify_proof_jwt(
    jwt: &str,
    expected_aud: &str,
    expected_nonce: &str,
    now: DateTime<Utc>,
    max_age: Duration,
) -> Result<EcJwk, DeviceKeyError> {
    let rules = ProofRules {
        aud: expected_aud,
        nonce: Some(expected_nonce),
        device_key: None,
        now,
        max_age,
    };
    verify_proof(jwt, &rules).map(|p| p.jwk)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap()
    }
    const AUD: &str = "https://issuer.example";

    #[test]
    fn dpop_checks() {
        let k = DeviceKey::generate().unwrap();
        let htu = "https://issuer.example/credential";
        let p = k.dpop_proof("POST", htu, Some("tok"), now()).unwrap();
        let v = verify_dpop(&p, "POST", htu, Some("tok"), now()).unwrap();
        assert_eq!(v.jkt, k.thumbprint());
        assert!(!v.jti.is_empty());
        let e = |htm, u, t, at| verify_dpop(&p, htm, u, t, at).unwrap_err();
        assert_eq!(e("GET", htu, Some("tok"), now()), DpopError::WrongMethod);
        assert_eq!(
            e("POST", "https://issuer.example/token", Some("tok"), now()),
            DpopError::WrongUri
        );
        assert_eq!(e("POST", htu, Some("other"), now()), DpopError::WrongAth);
        assert_eq!(
            e("POST", htu, Some("tok"), now() + Duration::minutes(6)),
            DpopError::Stale
        );
        // A proof without ath for a request that presents a token.
        let no_ath = k.dpop_proof("POST", htu, None, now()).unwrap();
        assert_eq!(
            verify_dpop(&no_ath, "POST", htu, Some("tok"), now()).unwrap_err(),
            DpopError::WrongAth
        );
        // An OpenID4VCI proof is not a DPoP proof.
        let proof = k.proof_jwt(AUD, "n", now()).unwrap();
        assert_eq!(
            verify_dpop(&proof, "POST", htu, None, now()).unwrap_err(),
            DpopError::WrongType
        );
        assert_eq!(
            verify_dpop("a.b.c", "POST", htu, None, now()).unwrap_err(),
            DpopError::Malformed
        );
    }

    #[test]
    fn proof_round_trip() {
        let k = DeviceKey::generate().unwrap();
        let jwt = k.proof_jwt(AUD, "n-123", now()).unwrap();
        let jwk = verify_proof_jwt(&jwt, AUD, "n-123", now(), Duration::minutes(5)).unwrap();
        assert_eq!(jwk, k.public_jwk());
        let (h, _) = jose::verify_jws(&jwt, &jwk).unwrap();
        assert_eq!(h["typ"], PROOF_TYP);
        assert_eq!(h["alg"], "ES256");
    }

    #[test]
    fn proof_checks() {
        let k = DeviceKey::generate().unwrap();
        let jwt = k.proof_jwt(AUD, "n-123", now()).unwrap();
        let age = Duration::minutes(5);
        assert_eq!(
            verify_proof_jwt(&jwt, "https://other", "n-123", now(), age).unwrap_err(),
            DeviceKeyError::WrongAudience
        );
        assert_eq!(
            verify_proof_jwt(&jwt, AUD, "n-999", now(), age).unwrap_err(),
            DeviceKeyError::WrongNonce
        );
        assert_eq!(
            verify_proof_jwt(&jwt, AUD, "n-123", now() + Duration::minutes(6), age).unwrap_err(),
            DeviceKeyError::Stale
        );
        assert_eq!(
            verify_proof_jwt(&jwt, AUD, "n-123", now() - Duration::minutes(2), age).unwrap_err(),
            DeviceKeyError::Stale
        );
        // wrong typ
        let plain = k
            .key_pair()
            .sign_jws(
                json!({"typ": "JWT", "jwk": jose::jwk_to_value(&k.public_jwk())}),
                json!({"aud": AUD, "iat": now().timestamp(), "nonce": "n-123"}),
            )
            .unwrap();
        assert_eq!(
            verify_proof_jwt(&plain, AUD, "n-123", now(), age).unwrap_err(),
            DeviceKeyError::WrongType
        );
        // header jwk of another key than the signer
        let other = DeviceKey::generate().unwrap();
        let swapped = k
            .key_pair()
            .sign_jws(
                json!({"typ": PROOF_TYP, "jwk": jose::jwk_to_value(&other.public_jwk())}),
                json!({"aud": AUD, "iat": now().timestamp(), "nonce": "n-123"}),
            )
            .unwrap();
        assert_eq!(
            verify_proof_jwt(&swapped, AUD, "n-123", now(), age).unwrap_err(),
            DeviceKeyError::BadSignature
        );
        for junk in ["", "a.b.c", "....", "~~"] {
            assert!(verify_proof_jwt(junk, AUD, "n", now(), age).is_err());
        }
    }

    #[test]
    fn server_rules_bind_to_the_enrolled_key_and_refuse_kid_and_x5c() {
        let k = DeviceKey::generate().unwrap();
        let enrolled = k.public_jwk();
        let rules = |key| ProofRules {
            aud: AUD,
            nonce: None,
            device_key: Some(key),
            now: now(),
            max_age: Duration::seconds(PROOF_MAX_AGE_SECS),
        };
        let jwt = k.proof_jwt(AUD, "n-1", now()).unwrap();
        let ok = verify_proof(&jwt, &rules(&enrolled)).unwrap();
        assert_eq!(ok.nonce, "n-1");
        assert_eq!(ok.jwk, enrolled);
        let other = DeviceKey::generate().unwrap().public_jwk();
        assert_eq!(
            verify_proof(&jwt, &rules(&other)).unwrap_err(),
            DeviceKeyError::NotDeviceKey
        );
        let claims = json!({"aud": AUD, "iat": now().timestamp(), "nonce": "n-1"});
        let jwk = jose::jwk_to_value(&enrolled);
        for header in [
            json!({"typ": PROOF_TYP, "jwk": jwk, "kid": "k1"}),
            json!({"typ": PROOF_TYP, "jwk": jwk, "x5c": ["MII"]}),
            json!({"typ": PROOF_TYP, "kid": "k1"}),
            json!({"typ": PROOF_TYP}),
        ] {
            let jwt = k
                .key_pair()
                .sign_jws(header.clone(), claims.clone())
                .unwrap();
            assert_eq!(
                verify_proof(&jwt, &rules(&enrolled)).unwrap_err(),
                DeviceKeyError::BadKey,
                "{header}"
            );
        }
        // The stricter of the two old windows: at most 300 s old, at most 60 s ahead.
        let at = |secs: i64| {
            k.proof_jwt(AUD, "n-1", now() + Duration::seconds(secs))
                .unwrap()
        };
        assert!(verify_proof(&at(-300), &rules(&enrolled)).is_ok());
        assert!(verify_proof(&at(60), &rules(&enrolled)).is_ok());
        // 61 s to 300 s ahead was accepted by the server's old |now - iat| ≤ 300 rule.
        for secs in [-301, 61, 299] {
            assert_eq!(
                verify_proof(&at(secs), &rules(&enrolled)).unwrap_err(),
                DeviceKeyError::Stale,
                "{secs}"
            );
        }
    }

    #[test]
    fn pkcs8_round_trip_and_debug_redacted() {
        let k = DeviceKey::generate().unwrap();
        let k2 = DeviceKey::from_pkcs8(k.to_pkcs8().clone()).unwrap();
        assert_eq!(k.public_jwk(), k2.public_jwk());
        assert_eq!(k.thumbprint(), k2.thumbprint());
        assert_eq!(format!("{k:?}"), "DeviceKey(<redacted>)");
        assert_eq!(
            DeviceKey::from_pkcs8(SecretBytes::new(vec![0; 10])).unwrap_err(),
            DeviceKeyError::Key
        );
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_proofs_never_panic(s in ".*", t in "[A-Za-z0-9_.-]{0,200}") {
            let now = now();
            let _ = verify_proof_jwt(&s, AUD, "n", now, Duration::minutes(5));
            let _ = verify_proof_jwt(&t, AUD, "n", now, Duration::minutes(5));
        }
    }
}
