//! OpenID4VCI 1.0, pre-authorised code flow: metadata, token, nonce, credential; and
//! device release. The service is [`crate::issuance`].

use super::{bearer, no_store, ApiErr, FormBody, JsonBody};
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
    responses((status = 200, description = "Credential issuer metadata (OpenID4VCI 1.0 §12.2), with the issuer's `jwks`", body = Object)))]
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
    responses((status = 200, description = "Authorization server metadata (RFC 8414)", body = Object)))]
pub async fn as_metadata(State(state): State<SharedState>) -> Response {
    axum::Json(issuance::as_metadata(&state)).into_response()
}

/// POST /token
#[utoipa::path(post, path = "/token", tag = "openid4vci",
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, body = ikd_proto::wire::TokenResponse),
        (status = 400, description = "RFC 6749 error; invalid_grant carries detail.code: code_wrong (attempts_left) | code_expired | code_void | code_used | device_revoked", body = ikd_proto::wire::ApiError),
        (status = 429, body = ikd_proto::wire::ApiError),
    ))]
pub async fn token(
    State(state): State<SharedState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    FormBody(form): FormBody<TokenForm>,
) -> Result<Response, ApiErr> {
    let answer = super::retrying(move || issuance::token(&state, peer, &form)).await?;
    Ok(no_store(axum::Json(answer)))
}

/// POST /nonce
#[utoipa::path(post, path = "/nonce", tag = "openid4vci",
    responses((status = 200, description = "A fresh single-use c_nonce (Cache-Control: no-store)", body = ikd_proto::wire::NonceResponse)))]
pub async fn nonce(State(state): State<SharedState>) -> Result<Response, ApiErr> {
    let c_nonce = super::blocking(move || tokens::new_nonce(&state)).await?;
    Ok(no_store(axum::Json(NonceResponse { c_nonce })))
}

/// POST /credential
#[utoipa::path(post, path = "/credential", tag = "openid4vci", security(("access_token" = [])),
    request_body = ikd_proto::wire::CredentialRequest,
    responses(
        (status = 200, description = "SD-JWT VC (dc+sd-jwt)", body = ikd_proto::wire::CredentialResponse),
        (status = 400, description = "invalid_proof | invalid_nonce | unknown_credential_configuration | invalid_request (malformed body)", body = ikd_proto::wire::ApiError),
        (status = 401, description = "invalid_token", body = ikd_proto::wire::ApiError),
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
        super::retrying(move || issuance::credential(&state, bearer(&headers), &req)).await?;
    Ok(no_store(axum::Json(answer)))
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReleaseResponse {
    pub released: bool,
}

/// POST /api/v1/device/release (Lepas Perangkat)
#[utoipa::path(post, path = "/api/v1/device/release", tag = "device", security(("access_token" = [])),
    request_body = ikd_proto::wire::DeviceRequest,
    responses(
        (status = 200, body = ReleaseResponse),
        (status = 400, description = "invalid_proof | invalid_nonce | invalid_request (malformed body)", body = ikd_proto::wire::ApiError),
        (status = 401, description = "invalid_token", body = ikd_proto::wire::ApiError),
        (status = 403, description = "device_revoked", body = ikd_proto::wire::ApiError),
        (status = 413, description = "Body too large", body = ikd_proto::wire::ApiError),
        (status = 415, description = "Content-Type is not application/json", body = ikd_proto::wire::ApiError),
    ))]
pub async fn release(
    State(state): State<SharedState>,
    headers: HeaderMap,
    JsonBody(req): JsonBody<DeviceRequest>,
) -> Result<Response, ApiErr> {
    super::blocking(move || issuance::release(&state, bearer(&headers), &req.proof)).await?;
    Ok(axum::Json(ReleaseResponse { released: true }).into_response())
}
