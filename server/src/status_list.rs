//! Token Status List (draft-ietf-oauth-status-list) of the issued KTP and KK: each
//! credential gets a random, unique entry (`status.status_list.{idx,uri}`), recorded
//! in the store in the same transaction that makes the credentials it replaces
//! invalid; `GET /status-lists/1` serves the signed list (`application/statuslist+jwt`).
//!
//! What sets an entry to invalid: a newer credential of the same kind for the resident
//! (refresh, a new device, Lupa PIN), Lepas Perangkat, an officer's block, and the
//! activation of another device (store: `set_device_status`, `set_devices_of`,
//! `activate`, `record_credential`).

use crate::crypto::{jwk_thumbprint, random_bytes};
use crate::error::ApiErr;
use crate::state::AppState;
use crate::store::CredentialRow;
use chrono::{DateTime, Duration, Utc};
use ikd_proto::status_list::{self, StatusList, StatusRef, TokenClaims, INVALID};

/// The one list's path.
pub const PATH: &str = "/status-lists/1";
/// Entries in the list (one bit each): 2^20, so 128 KiB before compression. A power
/// of two, so a random index modulo the length is uniform.
pub const LIST_LEN: usize = 1 << 20;
/// How long a relying party may cache the token (`ttl`), and Cache-Control max-age.
pub const TTL_SECS: u64 = 300;
/// A token's lifetime (`exp` - `iat`).
pub const TOKEN_SECS: i64 = 3600;
/// Random draws before giving up on a free index (the list is then nearly full).
const MAX_DRAWS: usize = 32;

/// The list's URI, the credentials' `status.status_list.uri` and the token's `sub`.
pub fn uri(state: &AppState) -> String {
    format!("{}{PATH}", state.issuer)
}

/// The issuer key's `kid`: its JWK thumbprint (RFC 7638).
pub fn issuer_kid(state: &AppState) -> String {
    jwk_thumbprint(&state.issuer_key.public_jwk())
}

fn random_idx() -> u64 {
    u64::from(u32::from_be_bytes(random_bytes::<4>())) % LIST_LEN as u64
}

/// Issues one credential with a fresh status entry: draws a random index, lets `sign`
/// make the credential for it, then records the entry (and invalidates the ones it
/// replaces) in one transaction; draws again when the index is taken.
pub fn issue_with_status(
    state: &AppState,
    nik: &str,
    vct: &str,
    device_thumb: &str,
    now: DateTime<Utc>,
    sign: impl Fn(StatusRef) -> Result<String, ApiErr>,
) -> Result<String, ApiErr> {
    let uri = uri(state);
    for _ in 0..MAX_DRAWS {
        let idx = random_idx();
        let issued = sign(StatusRef {
            idx,
            uri: uri.clone(),
        })?;
        let row = CredentialRow {
            idx,
            nik: nik.to_owned(),
            vct: vct.to_owned(),
            device_thumb: device_thumb.to_owned(),
            issued_at: now,
        };
        if state.store.record_credential(&row)? {
            return Ok(issued);
        }
    }
    tracing::error!("no free status list index");
    Err(ApiErr::internal())
}

/// The current Status List Token.
pub fn token(state: &AppState, now: DateTime<Utc>) -> Result<String, ApiErr> {
    let mut list = StatusList::new(1, LIST_LEN).map_err(|_| ApiErr::internal())?;
    for idx in state.store.invalid_status_indexes()? {
        list.set(idx, INVALID).map_err(|_| ApiErr::internal())?;
    }
    let claims = TokenClaims {
        sub: uri(state),
        iss: Some(state.issuer.clone()),
        iat: now,
        exp: Some(now + Duration::seconds(TOKEN_SECS)),
        ttl: Some(TTL_SECS),
    };
    status_list::sign_token(&state.issuer_key, Some(&issuer_kid(state)), &claims, &list).map_err(
        |e| {
            tracing::error!(error = %e, "status list signing failed");
            ApiErr::internal()
        },
    )
}
