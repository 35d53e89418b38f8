//! DPoP (RFC 9449) at the token, credential and release endpoints.
//!
//! The proof itself is checked by [`ikd_proto::proof::verify_dpop`] (the one rule:
//! `typ dpop+jwt`, ES256, `jwk` header, `htm`, `htu`, `iat` window, `ath`). Here: the
//! `jti` is single use, kept in the store (so it holds across server nodes sharing it)
//! until the proof would be too old anyway. Tokens issued with a proof are bound to its
//! key (`token_type: DPoP`, the thumbprint stored with the token) and then need
//! `Authorization: DPoP` and a proof by the same key on every use. Without a `DPoP`
//! header the token endpoint issues Bearer tokens, as before: third-party wallets
//! (e.g. `@openid4vc/openid4vci`) keep working. Server-provided DPoP nonces are not used.

use crate::crypto::sha256_hex;
use crate::error::ApiErr;
use crate::state::AppState;
use axum::http::StatusCode;
use ikd_proto::proof::{self, DpopError, DPOP_MAX_AGE_SECS};
use ikd_proto::wire::ApiErrorCode;
use serde_json::json;

/// The request header.
pub const HEADER: &str = "dpop";

/// `invalid_dpop_proof` (RFC 9449 §7.1 at the token endpoint, 400; resource endpoints
/// answer 401 with the same code).
pub fn invalid(status: StatusCode, msg: &str) -> ApiErr {
    ApiErr::oauth(status, "invalid_dpop_proof", msg)
}

/// The DPoP key is not the one the token (or the enrollment) is bound to.
pub fn not_device_key(status: StatusCode) -> ApiErr {
    invalid(status, "Kunci bukti bukan kunci perangkat terdaftar.")
        .detail(json!({ "code": ApiErrorCode::ProofKeyNotDevice.as_str() }))
}

/// Checks a request's `DPoP` proof (`proof`: the one header's value, `None` without the
/// header) for `htm` on the issuer's `path`, with `access_token` when the request
/// presents one. Returns the key's thumbprint (`jkt`), or `None` without a proof.
/// `status`: 400 at the token endpoint, 401 at resources.
pub fn check(
    state: &AppState,
    proof: Option<&str>,
    htm: &str,
    path: &str,
    access_token: Option<&str>,
    status: StatusCode,
) -> Result<Option<String>, ApiErr> {
    let Some(proof) = proof else {
        return Ok(None);
    };
    let now = state.clock.now();
    let htu = format!("{}{path}", state.issuer);
    let v = proof::verify_dpop(proof, htm, &htu, access_token, now).map_err(|e| {
        invalid(
            status,
            match e {
                DpopError::WrongType => "typ bukti DPoP tidak sesuai.",
                DpopError::BadKey => "jwk bukti DPoP tidak sah.",
                DpopError::BadSignature => "Tanda tangan bukti DPoP tidak sah.",
                DpopError::WrongMethod => "htm bukti DPoP tidak sesuai.",
                DpopError::WrongUri => "htu bukti DPoP tidak sesuai.",
                DpopError::Stale => "Bukti DPoP sudah kedaluwarsa.",
                DpopError::WrongAth => "ath bukti DPoP tidak sesuai.",
                DpopError::BadJti => "jti bukti DPoP tidak sah.",
                DpopError::Malformed => "Bukti DPoP tidak sah.",
            },
        )
    })?;
    // Single use: the jti (hashed, with the key) is kept until the proof is too old.
    let key = sha256_hex(format!("{}:{}", v.jkt, v.jti).as_bytes());
    let keep_until = now + chrono::Duration::seconds(2 * DPOP_MAX_AGE_SECS + 1);
    if !state.store.use_dpop_jti(&key, keep_until, now)? {
        return Err(invalid(status, "Bukti DPoP sudah pernah dipakai."));
    }
    Ok(Some(v.jkt))
}
