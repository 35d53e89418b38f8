//! Re-authentication ("Lupa PIN", or documents wiped after 10 wrong PINs): see
//! [`crate::activation`] for the rules.

use super::{bearer, blocking, no_store, ApiErr, JsonBody};
use crate::activation;
use crate::state::SharedState;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use ikd_proto::wire::DeviceRequest;
use std::net::SocketAddr;

/// POST /api/v1/enrollments/{id}/reauth
#[utoipa::path(post, path = "/api/v1/enrollments/{id}/reauth", tag = "device",
    params(("id" = String, Path, description = "Enrollment id")),
    security(("enrollment_token" = [])),
    request_body = ikd_proto::wire::DeviceRequest,
    responses(
        (status = 200, description = "A new code was mailed (\"Kode untuk mengatur ulang PIN IKD\"); the device's tokens are revoked; redeem the offer at /token with the code", body = ikd_proto::wire::ReauthResponse),
        (status = 400, description = "invalid_proof | invalid_nonce | invalid_request (detail.reason upload_unusable: selfie_upload unknown, unfinished, expired or already used)", body = ikd_proto::wire::ApiError),
        (status = 401, description = "No or unknown bearer token", body = ikd_proto::wire::ApiError),
        (status = 403, description = "device_revoked (released, blocked or replaced)", body = ikd_proto::wire::ApiError),
        (status = 404, description = "Unknown, or not this token's enrollment", body = ikd_proto::wire::ApiError),
        (status = 409, description = "invalid_state: not activated", body = ikd_proto::wire::ApiError),
        (status = 413, description = "Body too large", body = ikd_proto::wire::ApiError),
        (status = 415, description = "Not application/json", body = ikd_proto::wire::ApiError),
        (status = 429, description = "Rate limited (detail.retry_after_secs)", body = ikd_proto::wire::ApiError),
    ))]
pub async fn reauth(
    State(state): State<SharedState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(id): Path<String>,
    headers: HeaderMap,
    JsonBody(req): JsonBody<DeviceRequest>,
) -> Result<Response, ApiErr> {
    blocking(move || {
        let answer = activation::reauth(
            &state,
            peer,
            bearer(&headers),
            &id,
            &req.proof,
            req.selfie_jpeg.as_deref(),
            req.selfie_upload.as_deref(),
        )?;
        Ok(no_store(axum::Json(answer)))
    })
    .await
}
