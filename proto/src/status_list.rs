//! Token Status List (IETF draft-ietf-oauth-status-list), JWT form, sans I/O.
//!
//! - A credential refers to its entry with the claim
//!   `"status": {"status_list": {"idx": 4711, "uri": "https://…/status-lists/1"}}`
//!   ([`StatusRef`]).
//! - The list is a byte array of `bits`-wide entries (1, 2, 4 or 8); entry `i` lives in
//!   byte `i * bits / 8`, counted from the least significant bit ([`StatusList`]).
//! - The Status List Token is a JWT with `typ: statuslist+jwt`, `sub` = the `uri`,
//!   `iat`, `exp`, `ttl` and `status_list: {bits, lst}`, where `lst` is
//!   base64url(zlib(DEFLATE(bytes))) ([`sign_token`], [`verify_token`]).
//!
//! Values: 0 valid, 1 invalid (revoked, for good), 2 suspended.

use crate::jose::{self, b64u_decode, b64u_encode, EcKeyPair, JoseError};
use crate::wire::EcJwk;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use std::io::{Read as _, Write as _};

/// The JOSE `typ` of a Status List Token.
pub const TYP: &str = "statuslist+jwt";
/// The HTTP media type a Status List Token is served with.
pub const MEDIA_TYPE: &str = "application/statuslist+jwt";

/// The entry is valid.
pub const VALID: u8 = 0x00;
/// The entry is invalid: revoked for good.
pub const INVALID: u8 = 0x01;
/// The entry is suspended (may become valid again).
pub const SUSPENDED: u8 = 0x02;

/// The largest list (in bytes, uncompressed) we build or accept: 2^23 one-bit entries.
pub const MAX_LIST_BYTES: usize = 1 << 20;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StatusListError {
    #[error("malformed status list")]
    Malformed,
    #[error("status list too large")]
    TooLarge,
    #[error("unsupported bits per entry")]
    UnsupportedBits,
    #[error("index outside the status list")]
    OutOfRange,
    #[error("status value does not fit the bits per entry")]
    ValueTooWide,
    #[error("wrong status list token type")]
    WrongType,
    #[error("bad status list token signature")]
    BadSignature,
    #[error("status list token is for another uri")]
    WrongSubject,
    #[error("status list token expired")]
    Expired,
    #[error("signing failed")]
    Signing,
}

impl From<JoseError> for StatusListError {
    fn from(e: JoseError) -> Self {
        match e {
            JoseError::Signing => StatusListError::Signing,
            JoseError::BadSignature | JoseError::InvalidKey => StatusListError::BadSignature,
            JoseError::Malformed | JoseError::UnsupportedAlg => StatusListError::Malformed,
        }
    }
}

/// A credential's reference to its status list entry (`status.status_list`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusRef {
    pub idx: u64,
    pub uri: String,
}

impl StatusRef {
    /// The value of the credential's `status` claim.
    pub fn to_claim(&self) -> Value {
        json!({ "status_list": { "idx": self.idx, "uri": self.uri } })
    }

    /// Reads a `status` claim. `Ok(None)` when it carries no `status_list` (another
    /// status mechanism); an error when `status_list` is there but malformed.
    pub fn from_claim(status: &Value) -> Result<Option<Self>, StatusListError> {
        let Value::Object(m) = status else {
            return Err(StatusListError::Malformed);
        };
        let Some(sl) = m.get("status_list") else {
            return Ok(None);
        };
        let idx = sl
            .get("idx")
            .and_then(Value::as_u64)
            .ok_or(StatusListError::Malformed)?;
        let uri = sl
            .get("uri")
            .and_then(Value::as_str)
            .filter(|u| !u.is_empty())
            .ok_or(StatusListError::Malformed)?;
        Ok(Some(Self {
            idx,
            uri: uri.to_owned(),
        }))
    }
}

/// A list of `bits`-wide status values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusList {
    bits: u8,
    bytes: Vec<u8>,
}

fn check_bits(bits: u8) -> Result<(), StatusListError> {
    match bits {
        1 | 2 | 4 | 8 => Ok(()),
        _ => Err(StatusListError::UnsupportedBits),
    }
}

impl StatusList {
    /// A list of `len` entries, all valid.
    pub fn new(bits: u8, len: usize) -> Result<Self, StatusListError> {
        check_bits(bits)?;
        let n_bytes = len
            .checked_mul(usize::from(bits))
            .map(|b| b.div_ceil(8))
            .ok_or(StatusListError::TooLarge)?;
        if n_bytes > MAX_LIST_BYTES {
            return Err(StatusListError::TooLarge);
        }
        Ok(Self {
            bits,
            bytes: vec![0; n_bytes],
        })
    }

    pub fn bits(&self) -> u8 {
        self.bits
    }

    /// How many entries the list holds.
    pub fn len(&self) -> usize {
        self.bytes.len() * 8 / usize::from(self.bits)
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    fn locate(&self, idx: u64) -> Result<(usize, u32, u8), StatusListError> {
        let idx = usize::try_from(idx).map_err(|_| StatusListError::OutOfRange)?;
        if idx >= self.len() {
            return Err(StatusListError::OutOfRange);
        }
        let per_byte = 8 / usize::from(self.bits);
        let shift = (idx % per_byte) * usize::from(self.bits);
        let mask = if self.bits == 8 {
            0xff
        } else {
            (1u8 << self.bits) - 1
        };
        Ok((idx / per_byte, shift as u32, mask))
    }

    /// The status value at `idx`.
    pub fn get(&self, idx: u64) -> Result<u8, StatusListError> {
        let (byte, shift, mask) = self.locate(idx)?;
        Ok((self.bytes[byte] >> shift) & mask)
    }

    /// Sets the status value at `idx`.
    pub fn set(&mut self, idx: u64, value: u8) -> Result<(), StatusListError> {
        let (byte, shift, mask) = self.locate(idx)?;
        if value & !mask != 0 {
            return Err(StatusListError::ValueTooWide);
        }
        let b = &mut self.bytes[byte];
        *b = (*b & !(mask << shift)) | (value << shift);
        Ok(())
    }

    /// The `status_list` claim: `{"bits": …, "lst": base64url(zlib(bytes))}`.
    pub fn to_claim(&self) -> Result<Value, StatusListError> {
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        z.write_all(&self.bytes)
            .map_err(|_| StatusListError::Signing)?;
        let compressed = z.finish().map_err(|_| StatusListError::Signing)?;
        Ok(json!({ "bits": self.bits, "lst": b64u_encode(compressed) }))
    }

    /// Reads a `status_list` claim. Refuses more than [`MAX_LIST_BYTES`] once inflated.
    pub fn from_claim(v: &Value) -> Result<Self, StatusListError> {
        let bits = v
            .get("bits")
            .and_then(Value::as_u64)
            .and_then(|b| u8::try_from(b).ok())
            .ok_or(StatusListError::Malformed)?;
        check_bits(bits)?;
        let lst = v
            .get("lst")
            .and_then(Value::as_str)
            .ok_or(StatusListError::Malformed)?;
        let compressed = b64u_decode(lst).map_err(|_| StatusListError::Malformed)?;
        let mut bytes = Vec::new();
        flate2::read::ZlibDecoder::new(compressed.as_slice())
            .take(MAX_LIST_BYTES as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(|_| StatusListError::Malformed)?;
        if bytes.len() > MAX_LIST_BYTES {
            return Err(StatusListError::TooLarge);
        }
        Ok(Self { bits, bytes })
    }
}

/// What a Status List Token says besides the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenClaims {
    /// The list's URI (`sub`), equal to the `uri` in the credentials that point at it.
    pub sub: String,
    /// The issuer, when the token names one.
    pub iss: Option<String>,
    pub iat: DateTime<Utc>,
    pub exp: Option<DateTime<Utc>>,
    /// How long (seconds) a relying party may cache the token before fetching again.
    pub ttl: Option<u64>,
}

/// Signs a Status List Token (`typ: statuslist+jwt`, `kid` when given).
pub fn sign_token(
    key: &EcKeyPair,
    kid: Option<&str>,
    claims: &TokenClaims,
    list: &StatusList,
) -> Result<String, StatusListError> {
    let mut header = json!({ "typ": TYP });
    if let Some(kid) = kid {
        header["kid"] = json!(kid);
    }
    let mut payload = json!({
        "sub": claims.sub,
        "iat": claims.iat.timestamp(),
        "status_list": list.to_claim()?,
    });
    if let Some(iss) = &claims.iss {
        payload["iss"] = json!(iss);
    }
    if let Some(exp) = claims.exp {
        payload["exp"] = json!(exp.timestamp());
    }
    if let Some(ttl) = claims.ttl {
        payload["ttl"] = json!(ttl);
    }
    Ok(key.sign_jws(header, payload)?)
}

fn date(v: Option<&Value>) -> Result<Option<DateTime<Utc>>, StatusListError> {
    match v {
        None => Ok(None),
        Some(v) => v
            .as_i64()
            .and_then(|s| DateTime::from_timestamp(s, 0))
            .map(Some)
            .ok_or(StatusListError::Malformed),
    }
}

/// Verifies a Status List Token: `typ`, the ES256 signature by `issuer_jwk`, that
/// `sub` is `expected_uri` (the credential's `status.status_list.uri`) and that it
/// has not expired at `now`. Returns its claims and the list.
pub fn verify_token(
    jwt: &str,
    issuer_jwk: &EcJwk,
    expected_uri: &str,
    now: DateTime<Utc>,
) -> Result<(TokenClaims, StatusList), StatusListError> {
    let jws = jose::decode_unverified(jwt)?;
    match jws.header.get("typ").and_then(Value::as_str) {
        Some(TYP) => {}
        _ => return Err(StatusListError::WrongType),
    }
    jose::verify_decoded(&jws, issuer_jwk)?;
    let p = &jws.payload;
    let sub = p
        .get("sub")
        .and_then(Value::as_str)
        .ok_or(StatusListError::Malformed)?;
    if sub != expected_uri {
        return Err(StatusListError::WrongSubject);
    }
    let claims = TokenClaims {
        sub: sub.to_owned(),
        iss: p.get("iss").and_then(Value::as_str).map(str::to_owned),
        iat: date(p.get("iat"))?.ok_or(StatusListError::Malformed)?,
        exp: date(p.get("exp"))?,
        ttl: match p.get("ttl") {
            None => None,
            Some(t) => Some(t.as_u64().ok_or(StatusListError::Malformed)?),
        },
    };
    if claims.exp.is_some_and(|exp| now >= exp) {
        return Err(StatusListError::Expired);
    }
    let list = StatusList::from_claim(p.get("status_list").ok_or(StatusListError::Malformed)?)?;
    Ok((claims, list))
}

/// The status of `entry` in a token already fetched from `entry.uri`: [`verify_token`]
/// then the value at `entry.idx`.
pub fn status_of(
    jwt: &str,
    issuer_jwk: &EcJwk,
    entry: &StatusRef,
    now: DateTime<Utc>,
) -> Result<u8, StatusListError> {
    let (_, list) = verify_token(jwt, issuer_jwk, &entry.uri, now)?;
    list.get(entry.idx)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap()
    }

    #[test]
    fn bits_are_packed_least_significant_first() {
        // The draft's example: 1-bit list, entries 0, 3, 4, 5, 7, 8, 9, 13, 15 set.
        let mut l = StatusList::new(1, 16).unwrap();
        for i in [0, 3, 4, 5, 7, 8, 9, 13, 15] {
            l.set(i, INVALID).unwrap();
        }
        assert_eq!(l.bytes, vec![0xb9, 0xa3]);
        // 2-bit list: entries 0..4 = 1, 2, 0, 3 → 0b11_00_10_01.
        let mut l = StatusList::new(2, 4).unwrap();
        for (i, v) in [1u8, 2, 0, 3].into_iter().enumerate() {
            l.set(i as u64, v).unwrap();
        }
        assert_eq!(l.bytes, vec![0b1100_1001]);
        assert_eq!(l.get(1).unwrap(), SUSPENDED);
        assert_eq!(l.set(0, 4), Err(StatusListError::ValueTooWide));
        assert_eq!(l.get(4), Err(StatusListError::OutOfRange));
        assert_eq!(
            StatusList::new(3, 8).unwrap_err(),
            StatusListError::UnsupportedBits
        );
        let mut l = StatusList::new(8, 2).unwrap();
        l.set(1, 0xff).unwrap();
        assert_eq!(l.get(1).unwrap(), 0xff);
    }

    #[test]
    fn claim_round_trip_compresses() {
        let mut l = StatusList::new(1, 1 << 20).unwrap();
        l.set(4711, INVALID).unwrap();
        l.set((1 << 20) - 1, INVALID).unwrap();
        let c = l.to_claim().unwrap();
        assert!(c["lst"].as_str().unwrap().len() < 1000);
        let back = StatusList::from_claim(&c).unwrap();
        assert_eq!(back, l);
        assert_eq!(back.get(4711).unwrap(), INVALID);
        assert_eq!(back.get(4712).unwrap(), VALID);
    }

    #[test]
    fn zip_bombs_are_refused() {
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        z.write_all(&vec![0u8; MAX_LIST_BYTES + 1]).unwrap();
        let lst = b64u_encode(z.finish().unwrap());
        assert_eq!(
            StatusList::from_claim(&json!({"bits": 1, "lst": lst})).unwrap_err(),
            StatusListError::TooLarge
        );
        assert_eq!(
            StatusList::from_claim(&json!({"bits": 1, "lst": "not zlib"})).unwrap_err(),
            StatusListError::Malformed
        );
    }

    #[test]
    fn token_round_trip_and_refusals() {
        let k = EcKeyPair::generate().unwrap();
        let mut l = StatusList::new(1, 1024).unwrap();
        l.set(7, INVALID).unwrap();
        let uri = "https://issuer.example/status-lists/1";
        let claims = TokenClaims {
            sub: uri.into(),
            iss: Some("https://issuer.example".into()),
            iat: now(),
            exp: Some(now() + chrono::Duration::hours(1)),
            ttl: Some(300),
        };
        let t = sign_token(&k, Some("kid-1"), &claims, &l).unwrap();
        let h = jose::decode_unverified(&t).unwrap().header;
        assert_eq!(h["typ"], TYP);
        assert_eq!(h["kid"], "kid-1");
        let (c, back) = verify_token(&t, &k.public_jwk(), uri, now()).unwrap();
        assert_eq!(c, claims);
        assert_eq!(back.get(7).unwrap(), INVALID);
        let e7 = StatusRef {
            idx: 7,
            uri: uri.into(),
        };
        assert_eq!(status_of(&t, &k.public_jwk(), &e7, now()).unwrap(), INVALID);
        let other = EcKeyPair::generate().unwrap().public_jwk();
        assert_eq!(
            verify_token(&t, &other, uri, now()).unwrap_err(),
            StatusListError::BadSignature
        );
        assert_eq!(
            verify_token(&t, &k.public_jwk(), "https://elsewhere/1", now()).unwrap_err(),
            StatusListError::WrongSubject
        );
        assert_eq!(
            verify_token(&t, &k.public_jwk(), uri, now() + chrono::Duration::hours(2)).unwrap_err(),
            StatusListError::Expired
        );
        let wrong_typ = k.sign_jws(json!({"typ": "JWT"}), json!({})).unwrap();
        assert_eq!(
            verify_token(&wrong_typ, &k.public_jwk(), uri, now()).unwrap_err(),
            StatusListError::WrongType
        );
    }

    #[test]
    fn status_claim_round_trip() {
        let r = StatusRef {
            idx: 42,
            uri: "https://i/s/1".into(),
        };
        assert_eq!(StatusRef::from_claim(&r.to_claim()).unwrap(), Some(r));
        assert_eq!(StatusRef::from_claim(&json!({"other": {}})).unwrap(), None);
        assert_eq!(
            StatusRef::from_claim(&json!({"status_list": {"idx": -1, "uri": "u"}})),
            Err(StatusListError::Malformed)
        );
    }
}
