//! JOSE on ring: P-256 keys, JWK, ES256 compact JWS (RFC 7515, RFC 7518 §3.4), and
//! JWK thumbprints (RFC 7638).
//!
//! Only ES256 is accepted; `alg: none` and every other algorithm are rejected, as is
//! any `crit` header (we understand no extensions). Nothing here panics on input.

use crate::secret::SecretBytes;
use crate::wire::EcJwk;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ring::rand::SystemRandom;
use ring::signature::{
    EcdsaKeyPair, KeyPair as _, UnparsedPublicKey, ECDSA_P256_SHA256_FIXED,
    ECDSA_P256_SHA256_FIXED_SIGNING,
};
use serde_json::{Map, Value};
use std::sync::Arc;

/// The only signing algorithm we produce or accept.
pub const ES256: &str = "ES256";

/// Upper bound on a compact JWS we are willing to parse (a KK with photos stays well below).
pub const MAX_JWS_LEN: usize = 4 * 1024 * 1024;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum JoseError {
    #[error("invalid key")]
    InvalidKey,
    #[error("malformed JWS")]
    Malformed,
    #[error("bad signature")]
    BadSignature,
    #[error("unsupported JWS algorithm")]
    UnsupportedAlg,
    #[error("signing failed")]
    Signing,
}

/// base64url without padding (JOSE's encoding).
pub fn b64u_encode(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Strict base64url-without-padding decoding.
pub fn b64u_decode(s: &str) -> Result<Vec<u8>, JoseError> {
    URL_SAFE_NO_PAD.decode(s).map_err(|_| JoseError::Malformed)
}

/// A P-256 key pair (ES256). The PKCS#8 document is a secret.
#[derive(Clone)]
pub struct EcKeyPair {
    pkcs8: SecretBytes,
    pair: Arc<EcdsaKeyPair>,
}

impl std::fmt::Debug for EcKeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EcKeyPair(<redacted>)")
    }
}

impl EcKeyPair {
    /// A fresh key from the system CSPRNG.
    pub fn generate() -> Result<Self, JoseError> {
        let rng = SystemRandom::new();
        let doc = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .map_err(|_| JoseError::InvalidKey)?;
        Self::from_pkcs8(SecretBytes::new(doc.as_ref().to_vec()))
    }

    /// Loads a key from its PKCS#8 v1/v2 document (as made by [`EcKeyPair::generate`]).
    pub fn from_pkcs8(pkcs8: SecretBytes) -> Result<Self, JoseError> {
        let rng = SystemRandom::new();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.expose(), &rng)
            .map_err(|_| JoseError::InvalidKey)?;
        Ok(Self {
            pkcs8,
            pair: Arc::new(pair),
        })
    }

    /// The PKCS#8 document, for the key store.
    pub fn pkcs8(&self) -> &SecretBytes {
        &self.pkcs8
    }

    /// The public key as a JWK (`x`, `y` of the uncompressed point, base64url).
    pub fn public_jwk(&self) -> EcJwk {
        // ring's P-256 public key is the uncompressed point 0x04 || x (32) || y (32).
        let point = self.pair.public_key().as_ref();
        let (x, y) = if point.len() == 65 {
            (&point[1..33], &point[33..65])
        } else {
            (&[][..], &[][..])
        };
        EcJwk {
            kty: "EC".into(),
            crv: "P-256".into(),
            x: b64u_encode(x),
            y: b64u_encode(y),
        }
    }

    /// Raw ES256 signature (r || s, 64 bytes) over `msg`.
    pub fn sign_raw(&self, msg: &[u8]) -> Result<Vec<u8>, JoseError> {
        let rng = SystemRandom::new();
        let sig = self.pair.sign(&rng, msg).map_err(|_| JoseError::Signing)?;
        Ok(sig.as_ref().to_vec())
    }

    /// Signs `header` (alg ES256 is set) and `payload` as a compact JWS.
    /// `header` must be a JSON object (or null for an empty one).
    pub fn sign_jws(
        &self,
        header: serde_json::Value,
        payload: serde_json::Value,
    ) -> Result<String, JoseError> {
        let mut header = match header {
            Value::Object(m) => m,
            Value::Null => Map::new(),
            _ => return Err(JoseError::Malformed),
        };
        header.insert("alg".into(), Value::String(ES256.into()));
        let h = serde_json::to_vec(&Value::Object(header)).map_err(|_| JoseError::Malformed)?;
        let p = serde_json::to_vec(&payload).map_err(|_| JoseError::Malformed)?;
        let signing_input = format!("{}.{}", b64u_encode(h), b64u_encode(p));
        let sig = self.sign_raw(signing_input.as_bytes())?;
        Ok(format!("{signing_input}.{}", b64u_encode(sig)))
    }
}

/// A compact JWS split and decoded, not yet verified.
#[derive(Debug, Clone)]
pub struct UnverifiedJws<'a> {
    pub header: Map<String, Value>,
    pub payload: Value,
    /// `b64(header).b64(payload)` as received.
    pub signing_input: &'a str,
    pub signature: Vec<u8>,
}

/// Splits a compact JWS, decodes header and payload, checks `alg` is ES256 and no
/// `crit` header is present, and that the signature has the ES256 length. Does NOT
/// verify the signature.
pub fn decode_unverified(jws: &str) -> Result<UnverifiedJws<'_>, JoseError> {
    if jws.len() > MAX_JWS_LEN {
        return Err(JoseError::Malformed);
    }
    let mut parts = jws.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JoseError::Malformed);
    };
    let header: Value =
        serde_json::from_slice(&b64u_decode(h)?).map_err(|_| JoseError::Malformed)?;
    let Value::Object(header) = header else {
        return Err(JoseError::Malformed);
    };
    match header.get("alg") {
        Some(Value::String(a)) if a == ES256 => {}
        Some(Value::String(_)) => return Err(JoseError::UnsupportedAlg),
        _ => return Err(JoseError::Malformed),
    }
    if header.contains_key("crit") {
        return Err(JoseError::Malformed);
    }
    let payload: Value =
        serde_json::from_slice(&b64u_decode(p)?).map_err(|_| JoseError::Malformed)?;
    let signature = b64u_decode(s)?;
    if signature.len() != 64 {
        return Err(JoseError::Malformed);
    }
    let signing_input = &jws[..h.len() + 1 + p.len()];
    Ok(UnverifiedJws {
        header,
        payload,
        signing_input,
        signature,
    })
}

/// The uncompressed SEC1 point of a P-256 JWK, after checking its shape.
pub fn jwk_point(jwk: &EcJwk) -> Result<Vec<u8>, JoseError> {
    if jwk.kty != "EC" || jwk.crv != "P-256" {
        return Err(JoseError::InvalidKey);
    }
    let x = b64u_decode(&jwk.x).map_err(|_| JoseError::InvalidKey)?;
    let y = b64u_decode(&jwk.y).map_err(|_| JoseError::InvalidKey)?;
    if x.len() != 32 || y.len() != 32 {
        return Err(JoseError::InvalidKey);
    }
    let mut point = Vec::with_capacity(65);
    point.push(0x04);
    point.extend_from_slice(&x);
    point.extend_from_slice(&y);
    Ok(point)
}

/// Parses a JWK JSON value into an [`EcJwk`] (P-256 public key). Rejects JWKs that
/// carry a private part (`d`).
pub fn jwk_from_value(v: &Value) -> Result<EcJwk, JoseError> {
    let Value::Object(m) = v else {
        return Err(JoseError::InvalidKey);
    };
    if m.contains_key("d") {
        return Err(JoseError::InvalidKey);
    }
    let s = |k: &str| match m.get(k) {
        Some(Value::String(s)) => Ok(s.clone()),
        _ => Err(JoseError::InvalidKey),
    };
    let jwk = EcJwk {
        kty: s("kty")?,
        crv: s("crv")?,
        x: s("x")?,
        y: s("y")?,
    };
    jwk_point(&jwk)?;
    Ok(jwk)
}

/// The JWK as a JSON value (`kty`, `crv`, `x`, `y`).
pub fn jwk_to_value(jwk: &EcJwk) -> Value {
    serde_json::json!({ "kty": jwk.kty, "crv": jwk.crv, "x": jwk.x, "y": jwk.y })
}

/// Verifies the ES256 signature of an already decoded JWS with `jwk`.
pub fn verify_decoded(jws: &UnverifiedJws<'_>, jwk: &EcJwk) -> Result<(), JoseError> {
    let point = jwk_point(jwk)?;
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &point)
        .verify(jws.signing_input.as_bytes(), &jws.signature)
        .map_err(|_| JoseError::BadSignature)
}

/// Verifies an ES256 compact JWS with `jwk`; returns (header, payload).
pub fn verify_jws(
    jws: &str,
    jwk: &EcJwk,
) -> Result<(serde_json::Value, serde_json::Value), JoseError> {
    // Check the key first so a bad pinned key is reported as such.
    jwk_point(jwk)?;
    let decoded = decode_unverified(jws)?;
    verify_decoded(&decoded, jwk)?;
    Ok((Value::Object(decoded.header), decoded.payload))
}

/// RFC 7638 JWK thumbprint: base64url(SHA-256 of `{"crv","kty","x","y"}` in that order,
/// no whitespace).
pub fn jwk_thumbprint(jwk: &EcJwk) -> String {
    // serde_json escapes strings correctly; members are written in lexicographic order.
    let canon = format!(
        "{{\"crv\":{},\"kty\":{},\"x\":{},\"y\":{}}}",
        Value::String(jwk.crv.clone()),
        Value::String(jwk.kty.clone()),
        Value::String(jwk.x.clone()),
        Value::String(jwk.y.clone()),
    );
    b64u_encode(ring::digest::digest(
        &ring::digest::SHA256,
        canon.as_bytes(),
    ))
}

// ------------------------------------------------------------------ time windows

/// How far a JWT's `iat` may lie in the future (clock skew between signer and
/// verifier): proofs, KB-JWTs and credentials alike.
pub const MAX_FUTURE_SKEW_SECS: i64 = 60;

/// How a JWT's `iat`, `nbf` and `exp` are judged against the verifier's clock (seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeWindow {
    /// How old `iat` may be; `None`: any age.
    pub max_age_secs: Option<i64>,
    /// Clock skew allowed between signer and verifier: `iat` and `nbf` may lie this far
    /// in the future, and `exp` is honoured this long after it passed.
    pub skew_secs: i64,
}

impl TimeWindow {
    /// `iat` at most `max_age_secs` old and at most `skew_secs` in the future.
    pub const fn fresh(max_age_secs: i64, skew_secs: i64) -> Self {
        Self {
            max_age_secs: Some(max_age_secs),
            skew_secs,
        }
    }

    /// No age limit and no skew: `nbf ≤ now < exp` exactly.
    pub const EXACT: Self = Self {
        max_age_secs: None,
        skew_secs: 0,
    };
}

#[derive(Debug, thiserror::Error, Clone, Copy, PartialEq, Eq)]
pub enum TimeError {
    #[error("issued in the future")]
    IssuedInFuture,
    #[error("issued too long ago")]
    TooOld,
    #[error("not yet valid")]
    NotYetValid,
    #[error("expired")]
    Expired,
}

/// The one time check for JWTs (proofs, KB-JWTs, credentials): each of `iat`, `nbf`,
/// `exp` (NumericDate seconds) that is given is checked against `now` under `window`.
pub fn check_time_window(
    now: i64,
    iat: Option<i64>,
    nbf: Option<i64>,
    exp: Option<i64>,
    window: TimeWindow,
) -> Result<(), TimeError> {
    let skew = window.skew_secs;
    if let Some(iat) = iat {
        if iat > now.saturating_add(skew) {
            return Err(TimeError::IssuedInFuture);
        }
        if let Some(max_age) = window.max_age_secs {
            if iat < now.saturating_sub(max_age) {
                return Err(TimeError::TooOld);
            }
        }
    }
    if let Some(exp) = exp {
        if now >= exp.saturating_add(skew) {
            return Err(TimeError::Expired);
        }
    }
    if let Some(nbf) = nbf {
        if now < nbf.saturating_sub(skew) {
            return Err(TimeError::NotYetValid);
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sign_and_verify_round_trip() {
        let k = EcKeyPair::generate().unwrap();
        let jwk = k.public_jwk();
        assert_eq!(b64u_decode(&jwk.x).unwrap().len(), 32);
        let jws = k
            .sign_jws(json!({"typ": "JWT", "alg": "none"}), json!({"a": 1}))
            .unwrap();
        let (h, p) = verify_jws(&jws, &jwk).unwrap();
        assert_eq!(h["alg"], "ES256");
        assert_eq!(h["typ"], "JWT");
        assert_eq!(p, json!({"a": 1}));
    }

    #[test]
    fn pkcs8_round_trip_keeps_public_key() {
        let k = EcKeyPair::generate().unwrap();
        let k2 = EcKeyPair::from_pkcs8(k.pkcs8().clone()).unwrap();
        assert_eq!(k.public_jwk(), k2.public_jwk());
        assert_eq!(
            EcKeyPair::from_pkcs8(SecretBytes::new(vec![1, 2, 3])).unwrap_err(),
            JoseError::InvalidKey
        );
    }

    #[test]
    fn wrong_key_and_tampering_fail() {
        let k = EcKeyPair::generate().unwrap();
        let other = EcKeyPair::generate().unwrap();
        let jws = k.sign_jws(json!({}), json!({"a": 1})).unwrap();
        assert_eq!(
            verify_jws(&jws, &other.public_jwk()).unwrap_err(),
            JoseError::BadSignature
        );
        let parts: Vec<&str> = jws.split('.').collect();
        let forged = format!("{}.{}.{}", parts[0], b64u_encode(b"{\"a\":2}"), parts[2]);
        assert_eq!(
            verify_jws(&forged, &k.public_jwk()).unwrap_err(),
            JoseError::BadSignature
        );
    }

    #[test]
    fn alg_none_and_others_rejected() {
        let k = EcKeyPair::generate().unwrap();
        let jws = k.sign_jws(json!({}), json!({"a": 1})).unwrap();
        let parts: Vec<&str> = jws.split('.').collect();
        for alg in ["none", "HS256", "RS256", "ES384"] {
            let h = b64u_encode(format!("{{\"alg\":\"{alg}\"}}"));
            let forged = format!("{h}.{}.{}", parts[1], parts[2]);
            assert_eq!(
                verify_jws(&forged, &k.public_jwk()).unwrap_err(),
                JoseError::UnsupportedAlg
            );
            let unsigned = format!("{h}.{}.", parts[1]);
            assert!(verify_jws(&unsigned, &k.public_jwk()).is_err());
        }
    }

    #[test]
    fn malformed_inputs_rejected() {
        let jwk = EcKeyPair::generate().unwrap().public_jwk();
        for s in [
            "",
            ".",
            "..",
            "a.b.c",
            "a.b.c.d",
            "!!.??.**",
            "e30.e30.AAAA",
        ] {
            assert!(verify_jws(s, &jwk).is_err(), "{s}");
        }
        let bad = EcJwk {
            x: "AAAA".into(),
            ..jwk.clone()
        };
        assert_eq!(
            verify_jws("a.b.c", &bad).unwrap_err(),
            JoseError::InvalidKey
        );
    }

    #[test]
    fn thumbprint_matches_rfc7638_shape() {
        // RFC 7638 §3.1 uses RSA; check an EC example against a known value computed
        // from the canonical form.
        let jwk = EcJwk {
            kty: "EC".into(),
            crv: "P-256".into(),
            x: "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU".into(),
            y: "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0".into(),
        };
        let expected = b64u_encode(ring::digest::digest(
            &ring::digest::SHA256,
            br#"{"crv":"P-256","kty":"EC","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}"#,
        ));
        assert_eq!(jwk_thumbprint(&jwk), expected);
        assert_eq!(jwk_thumbprint(&jwk).len(), 43);
    }

    #[test]
    fn time_window_edges() {
        let w = TimeWindow::fresh(300, 60);
        let now = 1_800_000_000;
        assert_eq!(check_time_window(now, Some(now), None, None, w), Ok(()));
        assert_eq!(
            check_time_window(now, Some(now + 60), None, None, w),
            Ok(())
        );
        assert_eq!(
            check_time_window(now, Some(now + 61), None, None, w),
            Err(TimeError::IssuedInFuture)
        );
        assert_eq!(
            check_time_window(now, Some(now - 300), None, None, w),
            Ok(())
        );
        assert_eq!(
            check_time_window(now, Some(now - 301), None, None, w),
            Err(TimeError::TooOld)
        );
        let e = TimeWindow::EXACT;
        assert_eq!(
            check_time_window(now, Some(1), None, Some(now + 1), e),
            Ok(())
        );
        assert_eq!(
            check_time_window(now, None, None, Some(now), e),
            Err(TimeError::Expired)
        );
        assert_eq!(check_time_window(now, None, Some(now), None, e), Ok(()));
        assert_eq!(
            check_time_window(now, None, Some(now + 1), None, e),
            Err(TimeError::NotYetValid)
        );
        assert_eq!(
            check_time_window(i64::MAX, Some(i64::MIN), None, None, w),
            Err(TimeError::TooOld)
        );
    }

    #[test]
    fn debug_shows_no_key_bytes() {
        let k = EcKeyPair::generate().unwrap();
        let d = format!("{k:?}");
        assert_eq!(d, "EcKeyPair(<redacted>)");
    }

    #[test]
    fn jwk_value_round_trip_and_private_rejected() {
        let jwk = EcKeyPair::generate().unwrap().public_jwk();
        let v = jwk_to_value(&jwk);
        assert_eq!(jwk_from_value(&v).unwrap(), jwk);
        let mut with_d = v.clone();
        with_d["d"] = json!("AAAA");
        assert!(jwk_from_value(&with_d).is_err());
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_jws_never_panics(s in ".*", t in "[A-Za-z0-9_-]{0,60}\\.[A-Za-z0-9_-]{0,60}\\.[A-Za-z0-9_-]{0,90}") {
            let jwk = EcKeyPair::generate().unwrap().public_jwk();
            let _ = verify_jws(&s, &jwk);
            let _ = verify_jws(&t, &jwk);
            let _ = decode_unverified(&s);
        }
    }
}
