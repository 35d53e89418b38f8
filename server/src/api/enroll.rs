//! Enrollment API: submit, status, scan the desk QR, resend the code.

use super::{bearer, blocking, no_store, retrying, ApiErr, JsonBody};
use crate::state::SharedState;
use crate::{activation, enrollment};
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use ikd_proto::wire::{EnrollRequest, ScanRequest};
use std::net::SocketAddr;

/// POST /api/v1/enrollments
#[utoipa::path(post, path = "/api/v1/enrollments", tag = "enrollment",
    request_body = ikd_proto::wire::EnrollRequest,
    responses(
        (status = 201, description = "Submitted", body = ikd_proto::wire::EnrollResponse),
        (status = 400, description = "Invalid input (detail.field)", body = ikd_proto::wire::ApiError),
        (status = 404, description = "Not verifiable online (error not_verifiable): the one answer for an unknown, under-age, not-recorded or deceased NIK", body = ikd_proto::wire::ApiError),
        (status = 413, description = "Body or selfie too large", body = ikd_proto::wire::ApiError),
        (status = 415, description = "Content-Type is not application/json", body = ikd_proto::wire::ApiError),
        (status = 429, description = "Rate limited (detail.retry_after_secs)", body = ikd_proto::wire::ApiError),
    ))]
pub async fn submit(
    State(state): State<SharedState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    JsonBody(req): JsonBody<EnrollRequest>,
) -> Result<Response, ApiErr> {
    let answer = blocking(move || enrollment::submit(&state, peer, req)).await?;
    Ok((StatusCode::CREATED, axum::Json(answer)).into_response())
}

/// GET /api/v1/enrollments/{id}
#[utoipa::path(get, path = "/api/v1/enrollments/{id}", tag = "enrollment",
    params(("id" = String, Path, description = "Enrollment id")),
    security(("enrollment_token" = [])),
    responses(
        (status = 200, description = "Status", body = ikd_proto::wire::EnrollmentStatusResponse),
        (status = 401, description = "No or unknown bearer token", body = ikd_proto::wire::ApiError),
        (status = 404, description = "Unknown, or not this token's enrollment", body = ikd_proto::wire::ApiError),
    ))]
pub async fn status(
    State(state): State<SharedState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiErr> {
    let answer = retrying(move || enrollment::status(&state, bearer(&headers), &id)).await?;
    Ok(no_store(axum::Json(answer)))
}

/// POST /api/v1/enrollments/{id}/scan
#[utoipa::path(post, path = "/api/v1/enrollments/{id}/scan", tag = "enrollment",
    params(("id" = String, Path, description = "Enrollment id")),
    security(("enrollment_token" = [])),
    request_body = ikd_proto::wire::ScanRequest,
    responses(
        (status = 200, description = "Queued at the desk", body = ikd_proto::wire::EnrollmentStatusResponse),
        (status = 400, description = "qr_invalid, or a malformed body", body = ikd_proto::wire::ApiError),
        (status = 401, description = "No or unknown bearer token", body = ikd_proto::wire::ApiError),
        (status = 404, description = "Unknown, or not this token's enrollment", body = ikd_proto::wire::ApiError),
        (status = 409, description = "qr_used or invalid_state", body = ikd_proto::wire::ApiError),
        (status = 410, description = "qr_expired", body = ikd_proto::wire::ApiError),
        (status = 413, description = "Body too large", body = ikd_proto::wire::ApiError),
        (status = 415, description = "Content-Type is not application/json", body = ikd_proto::wire::ApiError),
    ))]
pub async fn scan(
    State(state): State<SharedState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    JsonBody(req): JsonBody<ScanRequest>,
) -> Result<Response, ApiErr> {
    let answer = retrying(move || enrollment::scan(&state, bearer(&headers), &id, &req.qr)).await?;
    Ok(no_store(axum::Json(answer)))
}

/// POST /api/v1/enrollments/{id}/resend: a new code by email (1 a minute, 5 a day).
#[utoipa::path(post, path = "/api/v1/enrollments/{id}/resend", tag = "enrollment",
    params(("id" = String, Path, description = "Enrollment id")),
    security(("enrollment_token" = [])),
    responses(
        (status = 200, description = "A new code was mailed", body = ikd_proto::wire::EnrollmentStatusResponse),
        (status = 401, description = "No or unknown bearer token", body = ikd_proto::wire::ApiError),
        (status = 404, description = "Unknown, or not this token's enrollment", body = ikd_proto::wire::ApiError),
        (status = 409, description = "Not approved", body = ikd_proto::wire::ApiError),
        (status = 429, description = "Rate limited (1 a minute, 5 a day)", body = ikd_proto::wire::ApiError),
    ))]
pub async fn resend(
    State(state): State<SharedState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiErr> {
    let answer = retrying(move || activation::resend(&state, bearer(&headers), &id)).await?;
    Ok(no_store(axum::Json(answer)))
}
