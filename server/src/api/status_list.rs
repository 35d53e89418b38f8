//! `GET /status-lists/1`: the signed Token Status List (the rules are in
//! `crate::status_list`).

use super::ApiErr;
use crate::status_list::{token, TTL_SECS};
use crate::SharedState;
use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use ikd_proto::status_list;

pub use crate::status_list::PATH;

/// GET /status-lists/1
#[utoipa::path(get, path = "/status-lists/1", tag = "openid4vci",
    responses((status = 200,
        description = "Token Status List (draft-ietf-oauth-status-list) of every KTP and KK issued: a JWT (`typ: statuslist+jwt`, ES256 by the issuer key, `kid`) with `sub` (this URL, the credentials' `status.status_list.uri`), `iss`, `iat`, `exp`, `ttl` (seconds a relying party may cache it) and `status_list: {bits: 1, lst}` (`lst` = base64url of the zlib-compressed bits, entry i at bit i % 8 of byte i / 8). 0 = valid, 1 = invalid: replaced by a newer credential, Lepas Perangkat, or blocked by an officer.",
        content_type = "application/statuslist+jwt", body = String)))]
pub async fn serve(State(state): State<SharedState>) -> Result<Response, ApiErr> {
    let jwt = super::blocking(move || token(&state, state.clock.now())).await?;
    let mut resp = jwt.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(status_list::MEDIA_TYPE),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("max-age={TTL_SECS}")) {
        h.insert(header::CACHE_CONTROL, v);
    }
    Ok(resp)
}
