//! DPoP (RFC 9449) at the token, credential and release endpoints.
//!
//! A `DPoP` header is a JWT (`typ: dpop+jwt`, ES256, the public `jwk` in its header)
//! with `jti` (single use: kept in the store until it is too old anyway), `htm`, `htu`,
//! `iat` (within [`MAX_AGE_SECS`]) and, where an access token is presented, `ath`
//! (base64url SHA-256 of the token). At `/token`, the DPoP key must be the enrolled
//! device key: a wallet with its own key is refused (`proof_key_not_device`) before
//! the activation code is even looked at, so the code is not spent. Tokens issued with
//! DPoP are bound to that key (`token_type: DPoP`) and then need `Authorization: DPoP`
//! and a proof by the same key on every use. Without a `DPoP` header the token
//! endpoint issues Bearer tokens, as before (server nonces are not used).

use super::ApiErr;
use crate::crypto::{jwk_thumbprint, sha256_hex};
use crate::AppState;
use axum::http::{HeaderMap, StatusCode};
use ikd_core::jose::{self, b64u_encode};
use serde_json::{json, Value};

/// The proof's `typ`.
pub const TYP: &str = "dpop+jwt";
/// How old (or how far in the future) a proof's `iat` may be.
pub const MAX_AGE_SECS: i64 = 300;
/// The longest `jti` accepted.
const MAX_JTI: usize = 256;

/// The request header.
pub const HEADER: &str = "dpop";

/// `invalid_dpop_proof` (RFC 9449 §7.1 for the token endpoint; resource endpoints
/// answer 401 with the same code).
pub fn invalid(status: StatusCode, msg: &str) -> ApiErr {
    ApiErr::oauth(status, "invalid_dpop_proof", msg)
}

/// The DPoP key is not the enrolled device key.
pub fn not_device_key(status: StatusCode) -> ApiErr {
    invalid(status, "Kunci bukti bukan kunci perangkat terdaftar.")
        .detail(json!({ "code": "proof_key_not_device" }))
}

/// `ath`: base64url(SHA-256(access token)).
pub fn ath(access_token: &str) -> String {
    b64u_encode(ring::digest::digest(
        &ring::digest::SHA256,
        access_token.as_bytes(),
    ))
}

/// Checks the request's `DPoP` proof for `htm` on the issuer's `path`; `access_token`
/// when the request presents one. Returns the key's thumbprint (`jkt`), or `None`
/// when the request carries no `DPoP` header. `status` is the error status to answer.
pub fn check(
    state: &AppState,
    headers: &HeaderMap,
    htm: &str,
    path: &str,
    access_token: Option<&str>,
    status: StatusCode,
) -> Result<Option<String>, ApiErr> {
    let mut values = headers.get_all(HEADER).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    let bad = |m: &str| invalid(status, m);
    if values.next().is_some() {
        return Err(bad("Tepat satu bukti DPoP diperlukan."));
    }
    let proof = value.to_str().map_err(|_| bad("Bukti DPoP tidak sah."))?;
    let jws = jose::decode_unverified(proof).map_err(|_| bad("Bukti DPoP tidak sah."))?;
    if jws.header.get("typ").and_then(Value::as_str) != Some(TYP) {
        return Err(bad("typ bukti DPoP tidak sesuai."));
    }
    let jwk = jws
        .header
        .get("jwk")
        .ok_or_else(|| bad("Bukti DPoP tanpa jwk."))
        .and_then(|j| jose::jwk_from_value(j).map_err(|_| bad("jwk bukti DPoP tidak sah.")))?;
    jose::verify_decoded(&jws, &jwk).map_err(|_| bad("Tanda tangan bukti DPoP tidak sah."))?;
    let p = &jws.payload;
    let s = |k: &str| p.get(k).and_then(Value::as_str);
    if s("htm") != Some(htm) {
        return Err(bad("htm bukti DPoP tidak sesuai."));
    }
    let htu = s("htu").map(|u| u.split(['?', '#']).next().unwrap_or(u));
    if htu != Some(format!("{}{path}", state.issuer).as_str()) {
        return Err(bad("htu bukti DPoP tidak sesuai."));
    }
    let now = state.clock.now();
    let iat = p
        .get("iat")
        .and_then(Value::as_i64)
        .ok_or_else(|| bad("iat bukti DPoP tidak ada."))?;
    if (now.timestamp() - iat).abs() > MAX_AGE_SECS {
        return Err(bad("Bukti DPoP sudah kedaluwarsa."));
    }
    if let Some(token) = access_token {
        if s("ath") != Some(ath(token).as_str()) {
            return Err(bad("ath bukti DPoP tidak sesuai."));
        }
    }
    let jti = s("jti")
        .filter(|j| !j.is_empty() && j.len() <= MAX_JTI)
        .ok_or_else(|| bad("jti bukti DPoP tidak sah."))?;
    // Single use: the jti (hashed, with the key) is kept until the proof is too old.
    let key = sha256_hex(format!("{}:{jti}", jwk_thumbprint(&jwk)).as_bytes());
    let keep_until = now + chrono::Duration::seconds(2 * MAX_AGE_SECS);
    if !state.store.use_dpop_jti(&key, keep_until, now)? {
        return Err(bad("Bukti DPoP sudah pernah dipakai."));
    }
    Ok(Some(jwk_thumbprint(&jwk)))
}
