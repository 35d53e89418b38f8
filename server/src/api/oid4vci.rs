//! OpenID4VCI 1.0, pre-authorised code flow: metadata, token, nonce, credential; and
//! device release. The service is [`crate::issuance`].

use super::{dpop_proof, no_store, presented, ApiErr, FormBody, JsonBody};
use crate::issuance::{self, TokenForm};
use crate::state::SharedState;
use crate::tokens;
use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use ikd_proto::wire::{CredentialRequest, DeviceRequest, NonceResponse};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;

/// GET /.well-known/openid-credential-issuer
#[utoipa::path(get, path = "/.well-known/openid-credential-issuer", tag = "openid4vci",
    responses((status = 200, description = "Credential issuer metadata (OpenID4VCI 1.0 §12.2). The signing key is published in the SD-JWT VC issuer metadata (`/.well-known/jwt-vc-issuer`)", body = Object)))]
pub async fn issuer_metadata(State(state): State<SharedState>) -> Response {
    axum::Json(issuance::issuer_metadata(&state)).into_response()
}

/// GET /.well-known/jwt-vc-issuer (SD-JWT VC issuer metadata)
#[utoipa::path(get, path = "/.well-known/jwt-vc-issuer", tag = "openid4vci",
    responses((status = 200, description = "SD-JWT VC issuer metadata", body = Object)))]
pub async fn jwt_vc_issuer(State(state): State<SharedState>) -> Response {
    axum::Json(issuance::jwt_vc_issuer(&state)).into_response()
}

/// GET /.well-known/oauth-authorization-server
#[utoipa::path(get, path = "/.well-known/oauth-authorization-server", tag = "openid4vci",
    responses((status = 200, description = "Authorization server metadata (RFC 8414), with `dpop_signing_alg_values_supported` [ES256] (RFC 9449). No authorization endpoint: only the pre-authorised code and refresh token grants are served", body = Object)))]
pub async fn as_metadata(State(state): State<SharedState>) -> Response {
    axum::Json(issuance::as_metadata(&state)).into_response()
}

/// POST /token
#[utoipa::path(post, path = "/token", tag = "openid4vci",
    params(("DPoP" = Option<String>, Header, description = "Optional DPoP proof (RFC 9449; typ dpop+jwt, ES256, jwk header, htm POST, htu this endpoint, iat within 300 s, single-use jti). With it the tokens are bound to the proof's key (token_type DPoP), which must be the enrolled device key; without it Bearer tokens are issued. A refresh token bound to a key needs a proof by that key")),
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "token_type DPoP (bound to the DPoP key) or Bearer", body = ikd_proto::wire::TokenResponse),
        (status = 400, description = "RFC 6749 error; invalid_grant carries detail.code: code_wrong (attempts_left) | code_expired | code_void | code_used | device_revoked. invalid_dpop_proof (RFC 9449): a bad or replayed DPoP proof, or detail.code = proof_key_not_device (\"Kunci bukti bukan kunci perangkat terdaftar\") when the DPoP key is not the enrolled device key; then the activation code is not checked, so no attempt is spent", body = ikd_proto::wire::ApiError),
        (status = 429, body = ikd_proto::wire::ApiError),
    ))]
pub async fn token(
    State(state): State<SharedState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    FormBody(form): FormBody<TokenForm>,
) -> Result<Response, ApiErr> {
    let answer =
        super::blocking(move || issuance::token(&state, peer, &form, dpop_proof(&headers))).await?;
    Ok(no_store(axum::Json(answer)))
}

/// POST /nonce
#[utoipa::path(post, path = "/nonce", tag = "openid4vci",
    responses(
        (status = 200, description = "A fresh single-use c_nonce (Cache-Control: no-store)", body = ikd_proto::wire::NonceResponse),
        (status = 429, description = "Rate limited per client IP (detail.retry_after_secs)", body = ikd_proto::wire::ApiError),
    ))]
pub async fn nonce(
    State(state): State<SharedState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> Result<Response, ApiErr> {
    let c_nonce = super::blocking(move || tokens::new_nonce_for(&state, peer)).await?;
    Ok(no_store(axum::Json(NonceResponse { c_nonce })))
}

/// POST /credential
#[utoipa::path(post, path = "/credential", tag = "openid4vci", security(("access_token" = [])),
    params(("DPoP" = Option<String>, Header, description = "DPoP proof (RFC 9449) with ath, required when the access token is DPoP-bound (then Authorization: DPoP <token>)")),
    request_body = ikd_proto::wire::CredentialRequest,
    responses(
        (status = 200, description = "SD-JWT VC (dc+sd-jwt)", body = ikd_proto::wire::CredentialResponse),
        (status = 400, description = "invalid_proof | invalid_nonce | unknown_credential_configuration | invalid_request (malformed body). invalid_proof with detail.code = proof_key_not_device (\"Kunci bukti bukan kunci perangkat terdaftar\"): the proof's `jwk` is not the key enrolled with the registration; credentials are bound to the enrolled device key by design, so a wallet with its own key cannot be issued one", body = ikd_proto::wire::ApiError),
        (status = 401, description = "invalid_token | invalid_dpop_proof (a DPoP-bound token without Authorization: DPoP, or with a bad, replayed or wrong-ath proof; detail.code = proof_key_not_device for another key's proof)", body = ikd_proto::wire::ApiError),
        (status = 403, description = "device_revoked", body = ikd_proto::wire::ApiError),
        (status = 413, description = "Body too large", body = ikd_proto::wire::ApiError),
        (status = 415, description = "Content-Type is not application/json", body = ikd_proto::wire::ApiError),
    ))]
pub async fn credential(
    State(state): State<SharedState>,
    headers: HeaderMap,
    JsonBody(req): JsonBody<CredentialRequest>,
) -> Result<Response, ApiErr> {
    let answer =
        super::blocking(move || issuance::credential(&state, presented(&headers), &req)).await?;
    Ok(no_store(axum::Json(answer)))
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReleaseResponse {
    pub released: bool,
}

/// POST /api/v1/device/release (Lepas Perangkat)
#[utoipa::path(post, path = "/api/v1/device/release", tag = "device", security(("access_token" = [])),
    params(("DPoP" = Option<String>, Header, description = "DPoP proof (RFC 9449) with ath, required when the access token is DPoP-bound (then Authorization: DPoP <token>)")),
    request_body = ikd_proto::wire::DeviceRequest,
    responses(
        (status = 200, body = ReleaseResponse),
        (status = 400, description = "invalid_proof | invalid_nonce | invalid_request (malformed body)", body = ikd_proto::wire::ApiError),
        (status = 401, description = "invalid_token | invalid_dpop_proof (as at /credential)", body = ikd_proto::wire::ApiError),
        (status = 403, description = "device_revoked", body = ikd_proto::wire::ApiError),
        (status = 413, description = "Body too large", body = ikd_proto::wire::ApiError),
        (status = 415, description = "Content-Type is not application/json", body = ikd_proto::wire::ApiError),
    ))]
pub async fn release(
    State(state): State<SharedState>,
    headers: HeaderMap,
    JsonBody(req): JsonBody<DeviceRequest>,
) -> Result<Response, ApiErr> {
    super::blocking(move || issuance::release(&state, presented(&headers), &req.proof)).await?;
    Ok(axum::Json(ReleaseResponse { released: true }).into_response())
}
