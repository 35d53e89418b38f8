//! Access and refresh tokens (random, stored as SHA-256), the single-use `c_nonce`,
//! and the proof of possession of the device key.

use crate::crypto::{random_token, sha256_hex};
use crate::error::ApiErr;
use crate::state::AppState;
use crate::store::{Device, DeviceStatus, TokenKind, TokenRow};
use axum::http::StatusCode;
use chrono::{DateTime, Duration, Utc};
use ikd_proto::proof::{self, DeviceKeyError};
use ikd_proto::wire::{ApiErrorCode, EcJwk, TokenResponse};

pub const ACCESS_TOKEN_SECS: i64 = 24 * 3600;
pub const REFRESH_TOKEN_DAYS: i64 = 365;
pub const NONCE_SECS: i64 = 300;

/// A new token of `kind` for `d`, bound to the DPoP key `dpop_jkt` when given: the
/// token for the answer, the row for the store.
pub fn new_token(
    kind: TokenKind,
    d: &Device,
    now: DateTime<Utc>,
    dpop_jkt: Option<&str>,
) -> (String, TokenRow) {
    let t = random_token();
    let row = TokenRow {
        hash: sha256_hex(t.as_bytes()),
        kind,
        device_thumb: d.thumb.clone(),
        nik: d.nik.clone(),
        enrollment_id: d.enrollment_id.clone(),
        expires_at: match kind {
            TokenKind::Access => now + Duration::seconds(ACCESS_TOKEN_SECS),
            TokenKind::Refresh => now + Duration::days(REFRESH_TOKEN_DAYS),
        },
        dpop_jkt: dpop_jkt.map(str::to_owned),
    };
    (t, row)
}

/// The token answer (`refresh` only when a new refresh token was made); `token_type`
/// `DPoP` for tokens bound to a DPoP key.
pub fn token_response(access: String, refresh: Option<String>, dpop: bool) -> TokenResponse {
    TokenResponse {
        access_token: access,
        token_type: if dpop { "DPoP" } else { "Bearer" }.into(),
        expires_in: Some(ACCESS_TOKEN_SECS as u64),
        refresh_token: refresh,
    }
}

/// A fresh `c_nonce` for the client at `peer` (POST /nonce), rate limited per IP:
/// each one is a stored row until it expires.
pub fn new_nonce_for(state: &AppState, peer: std::net::SocketAddr) -> Result<String, ApiErr> {
    let l = &state.limits;
    state.limit_per_ip(
        "nonce",
        peer,
        l.nonce_burst,
        l.nonce_per_minute,
        state.clock.now(),
    )?;
    new_nonce(state)
}

/// Every `every` (and once at the start), deletes the expired nonces: housekeeping off
/// the request path, on the blocking pool. Ends when the state is dropped.
pub fn spawn_nonce_pruning(state: &crate::state::SharedState, every: std::time::Duration) {
    let weak = std::sync::Arc::downgrade(state);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            let Some(state) = weak.upgrade() else { break };
            let pruned = tokio::task::spawn_blocking(move || {
                state.store.prune_expired_nonces(state.clock.now())
            })
            .await;
            match pruned {
                Ok(Ok(n)) if n > 0 => tracing::debug!(pruned = n, "expired nonces pruned"),
                Ok(Err(e)) => tracing::warn!(error = %e, "nonce pruning failed"),
                _ => {}
            }
        }
    });
}

/// A fresh single-use `c_nonce`, stored with its expiry.
pub fn new_nonce(state: &AppState) -> Result<String, ApiErr> {
    let n = random_token();
    state
        .store
        .insert_nonce(&n, state.clock.now() + Duration::seconds(NONCE_SECS))?;
    Ok(n)
}

fn invalid_token() -> ApiErr {
    ApiErr::oauth(
        StatusCode::UNAUTHORIZED,
        "invalid_token",
        "Token akses tidak berlaku.",
    )
}

pub fn invalid_proof(msg: &str) -> ApiErr {
    ApiErr::oauth(StatusCode::BAD_REQUEST, "invalid_proof", msg)
}

/// What a request to a protected endpoint presents: its access token (from
/// `Authorization: Bearer …` or `Authorization: DPoP …`) and its `DPoP` proof.
#[derive(Debug, Clone, Copy, Default)]
pub struct Presented<'a> {
    pub token: Option<&'a str>,
    /// The token came with the `DPoP` scheme.
    pub dpop_scheme: bool,
    /// The `DPoP` header's value (`Some("")` when the header was repeated: refused).
    pub dpop_proof: Option<&'a str>,
}

/// The device behind an access token presented on `POST path`, checked active. A token
/// bound to a DPoP key needs `Authorization: DPoP` and a proof by that key (RFC 9449
/// §7); an unbound (Bearer) token needs `Authorization: Bearer`.
pub fn device_of_token(state: &AppState, p: Presented<'_>, path: &str) -> Result<Device, ApiErr> {
    let now = state.clock.now();
    let t = p.token.ok_or_else(invalid_token)?;
    let row = state
        .store
        .token(&sha256_hex(t.as_bytes()))?
        .filter(|r| r.kind == TokenKind::Access && r.expires_at > now)
        .ok_or_else(invalid_token)?;
    match &row.dpop_jkt {
        None if p.dpop_scheme => return Err(invalid_token()),
        None => {}
        Some(jkt) => {
            let status = StatusCode::UNAUTHORIZED;
            if !p.dpop_scheme || p.dpop_proof.is_none() {
                return Err(crate::dpop::invalid(
                    status,
                    "Token ini memerlukan Authorization: DPoP dan bukti DPoP.",
                ));
            }
            let proved = crate::dpop::check(state, p.dpop_proof, "POST", path, Some(t), status)?;
            if proved.as_deref() != Some(jkt.as_str()) {
                return Err(crate::dpop::not_device_key(status));
            }
        }
    }
    let device = state
        .store
        .device(&row.device_thumb)?
        .ok_or_else(invalid_token)?;
    // A token names the NIK and enrollment it was issued for: if the device row now
    // says otherwise (re-enrolled under another enrollment), the token is void.
    if row.nik != device.nik || row.enrollment_id != device.enrollment_id {
        return Err(invalid_token());
    }
    if device.status != DeviceStatus::Active {
        return Err(ApiErr::device_revoked());
    }
    Ok(device)
}

/// Checks a proof JWT with the protocol's one rule ([`proof::verify_proof`]: signed by
/// `device`'s key, typ, aud = issuer, iat at most 300 s old and 60 s ahead), then
/// redeems its single-use nonce.
pub fn check_proof(state: &AppState, device: &Device, proof: &str) -> Result<(), ApiErr> {
    check_key_proof(state, &device.jwk, proof)
}

/// [`check_proof`] for a key that is not (yet) a device row: the key of an enrollment
/// at submit.
pub fn check_key_proof(state: &AppState, key: &EcJwk, proof: &str) -> Result<(), ApiErr> {
    let now = state.clock.now();
    let rules = proof::ProofRules {
        aud: &state.issuer,
        nonce: None,
        device_key: Some(key),
        now,
        max_age: Duration::seconds(proof::PROOF_MAX_AGE_SECS),
    };
    let verified = proof::verify_proof(proof, &rules).map_err(|e| match e {
        // A proof made with another key than the enrolled device key (a generic
        // wallet with its own key) gets its own answer: the binding is by design.
        DeviceKeyError::NotDeviceKey => {
            invalid_proof("Kunci bukti bukan kunci perangkat terdaftar.")
                .detail(serde_json::json!({ "code": ApiErrorCode::ProofKeyNotDevice.as_str() }))
        }
        e => invalid_proof(match e {
            DeviceKeyError::WrongType => "typ bukti tidak sesuai.",
            DeviceKeyError::BadKey => "jwk bukti tidak sah.",
            DeviceKeyError::WrongAudience => "aud bukti tidak sesuai.",
            DeviceKeyError::Stale => "Bukti sudah kedaluwarsa.",
            _ => "Bukti kepemilikan kunci tidak sah.",
        }),
    })?;
    if !state.store.take_nonce(&verified.nonce, now)? {
        return Err(ApiErr::oauth(
            StatusCode::BAD_REQUEST,
            "invalid_nonce",
            "Nonce tidak berlaku. Minta nonce baru.",
        ));
    }
    Ok(())
}
