//! "Lupa PIN" review ([`crate::pinreset`]): the officer's review queue, detail,
//! approve and reject; the cancel link of the resident's notice.

use super::officer::acting_officer;
use super::{blocking, no_store, retrying, ApiErr, JsonBody};
use crate::pinreset::{self, ResetDetail, ResetItem};
use crate::state::SharedState;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ResetApproveRequest {
    /// "selfie" (the fresh selfie matches the SIAK photo) or "desk" (seen at the desk
    /// with the KTP-el).
    #[schema(min_length = 1, max_length = 16)]
    pub method: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ResetRejectRequest {
    #[schema(min_length = 1, max_length = 500)]
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ResetCancelRequest {
    /// The token of the notice's link.
    #[schema(min_length = 1, max_length = 200)]
    pub token: String,
}

/// GET /officer/api/resets
#[utoipa::path(get, path = "/officer/api/resets", tag = "officer", security(("officer_session" = [])),
    responses((status = 200, description = "PIN resets waiting for review, oldest first", body = Vec<ResetItem>), (status = 401, description = "No officer session", body = ikd_proto::wire::ApiError), (status = 403, description = "From another origin", body = ikd_proto::wire::ApiError)))]
pub async fn queue(
    State(state): State<SharedState>,
    headers: HeaderMap,
) -> Result<Response, ApiErr> {
    acting_officer(&state, &headers)?;
    let q = blocking(move || pinreset::queue(&state)).await?;
    Ok(no_store(axum::Json(q)))
}

/// GET /officer/api/resets/{id}
#[utoipa::path(get, path = "/officer/api/resets/{id}", tag = "officer", security(("officer_session" = [])),
    params(("id" = String, Path, description = "Enrollment id")),
    responses((status = 200, body = ResetDetail), (status = 401, description = "No officer session", body = ikd_proto::wire::ApiError), (status = 403, description = "From another origin", body = ikd_proto::wire::ApiError), (status = 404, description = "No reset in review", body = ikd_proto::wire::ApiError)))]
pub async fn detail(
    State(state): State<SharedState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiErr> {
    acting_officer(&state, &headers)?;
    let d = blocking(move || pinreset::detail(&state, &id)).await?;
    Ok(no_store(axum::Json(d)))
}

/// POST /officer/api/resets/{id}/approve: the code is mailed; it works after the cooling-off.
#[utoipa::path(post, path = "/officer/api/resets/{id}/approve", tag = "officer", security(("officer_session" = [])),
    params(("id" = String, Path, description = "Enrollment id")),
    request_body = ResetApproveRequest,
    responses((status = 204, description = "Approved; the code is queued for mail"), (status = 400, description = "Unknown method, or a malformed body", body = ikd_proto::wire::ApiError), (status = 401, description = "No officer session", body = ikd_proto::wire::ApiError), (status = 403, description = "From another origin", body = ikd_proto::wire::ApiError), (status = 404, description = "No reset in review", body = ikd_proto::wire::ApiError), (status = 409, description = "No selfie to approve by (a desk visit)", body = ikd_proto::wire::ApiError), (status = 413, description = "Body too large", body = ikd_proto::wire::ApiError), (status = 415, description = "Content-Type is not application/json", body = ikd_proto::wire::ApiError)))]
pub async fn approve(
    State(state): State<SharedState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    JsonBody(req): JsonBody<ResetApproveRequest>,
) -> Result<Response, ApiErr> {
    let o = acting_officer(&state, &headers)?;
    retrying(move || pinreset::approve(&state, &o, &id, &req.method)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// POST /officer/api/resets/{id}/reject
#[utoipa::path(post, path = "/officer/api/resets/{id}/reject", tag = "officer", security(("officer_session" = [])),
    params(("id" = String, Path, description = "Enrollment id")),
    request_body = ResetRejectRequest,
    responses((status = 204, description = "Rejected (recorded)"), (status = 400, description = "No reason, or a malformed body", body = ikd_proto::wire::ApiError), (status = 401, description = "No officer session", body = ikd_proto::wire::ApiError), (status = 403, description = "From another origin", body = ikd_proto::wire::ApiError), (status = 404, description = "No reset in review", body = ikd_proto::wire::ApiError), (status = 413, description = "Body too large", body = ikd_proto::wire::ApiError), (status = 415, description = "Content-Type is not application/json", body = ikd_proto::wire::ApiError)))]
pub async fn reject(
    State(state): State<SharedState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    JsonBody(req): JsonBody<ResetRejectRequest>,
) -> Result<Response, ApiErr> {
    let o = acting_officer(&state, &headers)?;
    retrying(move || pinreset::reject(&state, &o, &id, &req.reason)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// POST /api/v1/pin-resets/cancel: the notice's link; the reset stops.
#[utoipa::path(post, path = "/api/v1/pin-resets/cancel", tag = "device",
    request_body = ResetCancelRequest,
    responses((status = 204, description = "Cancelled: no code works for this reset"), (status = 400, description = "Malformed body", body = ikd_proto::wire::ApiError), (status = 404, description = "Unknown or no longer live", body = ikd_proto::wire::ApiError), (status = 413, description = "Body too large", body = ikd_proto::wire::ApiError), (status = 415, description = "Content-Type is not application/json", body = ikd_proto::wire::ApiError)))]
pub async fn cancel(
    State(state): State<SharedState>,
    JsonBody(req): JsonBody<ResetCancelRequest>,
) -> Result<Response, ApiErr> {
    retrying(move || pinreset::cancel(&state, &req.token)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// GET /pin-reset/cancel?t=… (the page of the notice's link; the button posts).
pub async fn cancel_page() -> Response {
    let mut r = Html(pinreset::CANCEL_PAGE).into_response();
    r.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; frame-ancestors 'none'",
        ),
    );
    r.headers_mut().insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    r
}
