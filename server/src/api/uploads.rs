//! Resumable uploads, tus 1.0 ([`crate::upload`]): OPTIONS and POST on
//! `/api/v1/uploads`, HEAD and PATCH on `/api/v1/uploads/{id}`. Every answer carries
//! `Tus-Resumable: 1.0.0` ([`routes`]' layer).

use super::{blocking, ApiErr};
use crate::state::SharedState;
use crate::upload::{self, MAX_SIZE, TUS_EXTENSIONS, TUS_VERSION};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{on, MethodFilter};
use axum::Router;
use ikd_proto::wire::paths;
use std::net::SocketAddr;

pub const TUS_RESUMABLE: HeaderName = HeaderName::from_static("tus-resumable");
pub const UPLOAD_LENGTH: HeaderName = HeaderName::from_static("upload-length");
pub const UPLOAD_OFFSET: HeaderName = HeaderName::from_static("upload-offset");
pub const UPLOAD_EXPIRES: HeaderName = HeaderName::from_static("upload-expires");
pub const X_HTTP_METHOD_OVERRIDE: HeaderName = HeaderName::from_static("x-http-method-override");
// Raw bytes of an upload, in the OpenAPI document: any bytes, so no schema (`{}`; not
// an array of integers, which no tus client sends, and nothing a fuzzer could call
// schema-violating). No doc comment: it would become the schema's description.
#[derive(utoipa::ToSchema)]
#[schema(value_type = Value)]
pub struct UploadBytes(pub Vec<u8>);

/// The PATCH body's media type.
pub const OFFSET_OCTET_STREAM: &str = "application/offset+octet-stream";

/// The upload routes, with `Tus-Resumable` added to every answer.
pub fn routes() -> Router<SharedState> {
    Router::new()
        .route(
            paths::UPLOADS,
            on(MethodFilter::POST, create).options(options),
        )
        .route(
            paths::UPLOAD,
            on(MethodFilter::HEAD, head)
                .patch(patch)
                .post(overridden)
                .fallback(not_allowed),
        )
        .layer(axum::middleware::map_response(tus_resumable))
}

async fn tus_resumable(mut r: Response) -> Response {
    r.headers_mut()
        .insert(TUS_RESUMABLE, HeaderValue::from_static(TUS_VERSION));
    r
}

fn num(v: u64) -> HeaderValue {
    HeaderValue::from(v)
}

fn date(t: chrono::DateTime<chrono::Utc>) -> HeaderValue {
    HeaderValue::from_str(&upload::http_date(t)).unwrap_or(HeaderValue::from_static(""))
}

/// A refusal of an upload route: the protocol version (412, naming the versions
/// spoken) or any other [`ApiErr`].
pub enum Refusal {
    Version,
    Api(ApiErr),
}

impl From<ApiErr> for Refusal {
    fn from(e: ApiErr) -> Self {
        Self::Api(e)
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Self::Api(e) => e.into_response(),
            Self::Version => {
                let mut r = ApiErr::new(
                    StatusCode::PRECONDITION_FAILED,
                    "invalid_request",
                    "Versi protokol unggah tidak didukung.",
                )
                .into_response();
                r.headers_mut().insert(
                    HeaderName::from_static("tus-version"),
                    HeaderValue::from_static(TUS_VERSION),
                );
                r
            }
        }
    }
}

/// The request must speak tus 1.0.0: 400 without `Tus-Resumable` (or empty), 412 (tus 1.0 §
/// Tus-Resumable) for another version.
fn check_version(headers: &HeaderMap) -> Result<(), Refusal> {
    match headers.get(&TUS_RESUMABLE).map(|v| v.to_str().ok()) {
        None | Some(Some("")) => Err(ApiErr::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Header Tus-Resumable wajib ada.",
        )
        .with_field("tus-resumable")
        .into()),
        Some(Some(TUS_VERSION)) => Ok(()),
        Some(_) => Err(Refusal::Version),
    }
}

/// A header that must hold a non-negative integer (tus: no sign, no spaces).
fn number_header(headers: &HeaderMap, name: &HeaderName) -> Result<u64, ApiErr> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .filter(|s| !s.is_empty() && s.len() <= 19 && s.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| {
            ApiErr::new(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "Header unggahan tidak valid.",
            )
            .with_field(name.as_str())
        })
}

/// OPTIONS /api/v1/uploads: what this server speaks.
#[utoipa::path(options, path = "/api/v1/uploads", tag = "enrollment",
    responses(
        (status = 204, description = "tus discovery",
            headers(
                ("Tus-Version" = String, description = "1.0.0"),
                ("Tus-Max-Size" = u64, description = "The largest upload, bytes (the selfie limit)"),
                ("Tus-Extension" = String, description = "creation,creation-with-upload,expiration"),
            )),
    ))]
pub async fn options() -> Response {
    let mut r = StatusCode::NO_CONTENT.into_response();
    let h = r.headers_mut();
    h.insert("tus-version", HeaderValue::from_static(TUS_VERSION));
    h.insert("tus-max-size", num(MAX_SIZE));
    h.insert("tus-extension", HeaderValue::from_static(TUS_EXTENSIONS));
    r
}

/// POST /api/v1/uploads (tus creation, and creation-with-upload: the body, when
/// there is one, is the upload's first bytes, stored with the creation in one write).
#[utoipa::path(post, path = "/api/v1/uploads", tag = "enrollment",
    params(
        ("Tus-Resumable" = String, Header, pattern = r"^1\.0\.0$", description = "1.0.0 (missing: 400; another version: 412)"),
        ("Upload-Length" = u64, Header, maximum = 204800, description = "The upload's size in bytes, at most Tus-Max-Size (204800; more: 413)"),
    ),
    request_body(content = UploadBytes, content_type = "application/offset+octet-stream",
        description = "Optional (creation-with-upload): the upload's first bytes, at most Upload-Length"),
    responses(
        (status = 201, description = "Created, holding the body's bytes (one transaction): Location names the upload (its id is a capability: keep it secret)",
            headers(
                ("Location" = String, description = "/api/v1/uploads/{id}"),
                ("Upload-Offset" = u64, description = "With a body labelled application/offset+octet-stream: the bytes stored (its length)"),
                ("Upload-Expires" = String, description = "HTTP-date; the upload is deleted after it"),
            )),
        (status = 400, description = "Tus-Resumable or Upload-Length missing, or not a number, or the body longer than Upload-Length (detail.field upload-length; nothing created)", body = ikd_proto::wire::ApiError),
        (status = 412, description = "Tus-Resumable is not 1.0.0 (Tus-Version names what is spoken)", body = ikd_proto::wire::ApiError),
        (status = 413, description = "Upload-Length above Tus-Max-Size (nothing created)", body = ikd_proto::wire::ApiError),
        (status = 415, description = "A body whose Content-Type is not application/offset+octet-stream (nothing created)", body = ikd_proto::wire::ApiError),
        (status = 429, description = "Too many uploads from this address (detail.retry_after_secs)", body = ikd_proto::wire::ApiError),
    ))]
pub async fn create(
    State(state): State<SharedState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Refusal> {
    check_version(&headers)?;
    let length = number_header(&headers, &UPLOAD_LENGTH)?;
    let first = chunk_of(body)?;
    // tus creation-with-upload: bytes come with the media type of a PATCH body, and
    // the answer then says the offset. An empty unlabelled body is a plain creation.
    let with_upload = offset_stream(&headers);
    if !first.is_empty() && !with_upload {
        return Err(unsupported_media().into());
    }
    let created = blocking(move || upload::create(&state, peer, length, &first)).await?;
    let mut r = StatusCode::CREATED.into_response();
    let h = r.headers_mut();
    let location = paths::UPLOAD.replace("{id}", &created.id);
    if let Ok(v) = HeaderValue::from_str(&location) {
        h.insert(header::LOCATION, v);
    }
    if with_upload {
        h.insert(UPLOAD_OFFSET, num(created.offset));
    }
    h.insert(UPLOAD_EXPIRES, date(created.expires_at));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(r)
}

/// Whether the request's body is labelled `application/offset+octet-stream`.
fn offset_stream(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case(OFFSET_OCTET_STREAM))
}

fn unsupported_media() -> ApiErr {
    ApiErr::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "invalid_request",
        "Content-Type harus application/offset+octet-stream.",
    )
}

/// The body's bytes, or the refusal of a body that could not be read (its own 4xx,
/// such as 413 past the body limit; 400 otherwise).
fn chunk_of(body: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiErr> {
    body.map_err(|rej| {
        let status = rej.status();
        let status = if status.is_client_error() {
            status
        } else {
            StatusCode::BAD_REQUEST
        };
        ApiErr::new(status, "invalid_request", "Data unggahan tidak terbaca.")
    })
}

/// HEAD /api/v1/uploads/{id}: the offset to resume from.
#[utoipa::path(head, path = "/api/v1/uploads/{id}", tag = "enrollment",
    params(
        ("id" = String, Path, description = "The upload id (from Location)"),
        ("Tus-Resumable" = String, Header, pattern = r"^1\.0\.0$", description = "1.0.0 (missing: 400; another version: 412)"),
    ),
    responses(
        (status = 200, description = "The bytes stored so far",
            headers(
                ("Upload-Offset" = u64, description = "Bytes stored"),
                ("Upload-Length" = u64, description = "The declared size"),
                ("Upload-Expires" = String, description = "HTTP-date"),
            )),
        (status = 400, description = "Tus-Resumable missing"),
        (status = 404, description = "Unknown or expired"),
        (status = 412, description = "Tus-Resumable is not 1.0.0"),
    ))]
pub async fn head(
    State(state): State<SharedState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, Refusal> {
    check_version(&headers)?;
    let info = blocking(move || upload::info(&state, &id)).await?;
    let mut r = StatusCode::OK.into_response();
    let h = r.headers_mut();
    h.insert(UPLOAD_OFFSET, num(info.offset));
    h.insert(UPLOAD_LENGTH, num(info.length));
    h.insert(UPLOAD_EXPIRES, date(info.expires_at));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(r)
}

/// PATCH /api/v1/uploads/{id}: appends the body at Upload-Offset.
///
/// Also reached as a POST with `X-HTTP-Method-Override: PATCH` (tus 1.0).
#[utoipa::path(patch, path = "/api/v1/uploads/{id}", tag = "enrollment",
    params(
        ("id" = String, Path, description = "The upload id (from Location)"),
        ("Tus-Resumable" = String, Header, pattern = r"^1\.0\.0$", description = "1.0.0 (missing: 400; another version: 412)"),
        ("Upload-Offset" = u64, Header, maximum = 204800, description = "Where the body goes: the offset stored now"),
    ),
    request_body(content = UploadBytes, content_type = "application/offset+octet-stream",
        description = "The next bytes of the upload"),
    responses(
        (status = 204, description = "Stored (one transaction)",
            headers(
                ("Upload-Offset" = u64, description = "Bytes stored now"),
                ("Upload-Expires" = String, description = "HTTP-date"),
            )),
        (status = 400, description = "Tus-Resumable or Upload-Offset missing, or not a number", body = ikd_proto::wire::ApiError),
        (status = 404, description = "Unknown or expired", body = ikd_proto::wire::ApiError),
        (status = 409, description = "Upload-Offset is not the stored offset (detail.upload_offset; nothing stored: HEAD and go on)", body = ikd_proto::wire::ApiError),
        (status = 412, description = "Tus-Resumable is not 1.0.0", body = ikd_proto::wire::ApiError),
        (status = 413, description = "The body goes past Upload-Length, or is too large", body = ikd_proto::wire::ApiError),
        (status = 415, description = "Content-Type is not application/offset+octet-stream", body = ikd_proto::wire::ApiError),
    ))]
pub async fn patch(
    State(state): State<SharedState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Refusal> {
    check_version(&headers)?;
    if !offset_stream(&headers) {
        return Err(unsupported_media().into());
    }
    let offset = number_header(&headers, &UPLOAD_OFFSET)?;
    let chunk = chunk_of(body)?;
    let done = blocking(move || upload::append(&state, &id, offset, &chunk)).await?;
    let mut r = StatusCode::NO_CONTENT.into_response();
    let h = r.headers_mut();
    h.insert(UPLOAD_OFFSET, num(done.offset));
    h.insert(UPLOAD_EXPIRES, date(done.expires_at));
    Ok(r)
}

/// POST /api/v1/uploads/{id} with `X-HTTP-Method-Override` (tus 1.0: when present, the
/// header is the request's method and the actual one is ignored): a client whose HTTP
/// stack cannot send PATCH sends a POST naming it, as tus-js-client's
/// `overridePatchMethod` does. PATCH and HEAD are taken; anything else is 405.
pub async fn overridden(
    state: State<SharedState>,
    id: Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Refusal> {
    match headers.get(&X_HTTP_METHOD_OVERRIDE).map(|v| v.as_bytes()) {
        Some(b"PATCH") => patch(state, id, headers, body).await,
        Some(b"HEAD") => head(state, id, headers).await,
        _ => Ok(not_allowed().await),
    }
}

/// The methods an upload takes, for `Allow` on a 405 (RFC 9110 § 15.5.6). A POST is
/// only a carrier for one of them (`X-HTTP-Method-Override`), so it is not listed.
pub const UPLOAD_METHODS: &str = "HEAD, PATCH";

/// 405 for any other method on `/api/v1/uploads/{id}`, or a POST without an override
/// naming one of [`UPLOAD_METHODS`]: the same answer, with `Allow`.
pub async fn not_allowed() -> Response {
    let mut r = ApiErr::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "invalid_request",
        "Metode tidak didukung untuk unggahan ini.",
    )
    .into_response();
    r.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(UPLOAD_METHODS));
    r
}
