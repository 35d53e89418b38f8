//! OpenAPI 3.1 description of the API, generated from the code (utoipa).
//! `ikd-server openapi` prints it; `gen/openapi.json` is the committed copy.

use crate::api::{enroll, health, officer, oid4vci, pinreset, reauth, status_list, uploads};
use axum::response::{IntoResponse, Response};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

struct Security;

impl Modify for Security {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        let c = api.components.get_or_insert_with(Default::default);
        c.add_security_scheme(
            "enrollment_token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        c.add_security_scheme(
            "access_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "The access token from /token: `Authorization: Bearer <token>`, or, \
                         for a token bound to a DPoP key (token_type DPoP, RFC 9449), \
                         `Authorization: DPoP <token>` with a `DPoP` proof header (ath = \
                         the token's SHA-256) by the same key",
                    ))
                    .build(),
            ),
        );
        c.add_security_scheme(
            "officer_session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new("ikd_officer"))),
        );
    }
}

/// The `Idempotency-Key` header and its 409/422 answers on every route behind
/// [`crate::idempotency::layer`] (one place, beside the router's list).
struct Idempotency;

/// The routes that honour `Idempotency-Key` (all POST).
pub const IDEMPOTENT_PATHS: [&str; 7] = [
    ikd_proto::wire::paths::ENROLLMENTS,
    ikd_proto::wire::paths::ENROLLMENT_SCAN,
    ikd_proto::wire::paths::ENROLLMENT_RESEND,
    ikd_proto::wire::paths::ENROLLMENT_REAUTH,
    ikd_proto::wire::paths::DEVICE_RELEASE,
    ikd_proto::wire::paths::TOKEN,
    ikd_proto::wire::paths::CREDENTIAL,
];

impl Modify for Idempotency {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
        use utoipa::openapi::{ObjectBuilder, Required, ResponseBuilder, Type};
        for path in IDEMPOTENT_PATHS {
            let Some(op) = api
                .paths
                .paths
                .get_mut(path)
                .and_then(|item| item.post.as_mut())
            else {
                continue;
            };
            op.parameters.get_or_insert_with(Vec::new).push(
                ParameterBuilder::new()
                    .name("Idempotency-Key")
                    .parameter_in(ParameterIn::Header)
                    .required(Required::False)
                    .description(Some(
                        "Optional, 16 to 64 characters of A-Z a-z 0-9 - _ (a random \
                         value per step, kept by the client until the step is done). \
                         For 24 h the first answer to a key is replayed (header \
                         `Idempotent-Replayed: true`) for a retry with the same key, \
                         authorization and body; 5xx and 429 answers are not kept. \
                         Without it the endpoint behaves as standard.",
                    ))
                    .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                    .build(),
            );
            let r = &mut op.responses.responses;
            r.entry("400".into()).or_insert_with(|| {
                ResponseBuilder::new()
                    .description("invalid_request: e.g. a malformed Idempotency-Key")
                    .build()
                    .into()
            });
            r.insert(
                "409".into(),
                ResponseBuilder::new()
                    .description(
                        "idempotency_in_progress: the request with this key still runs \
                         (Retry-After)",
                    )
                    .build()
                    .into(),
            );
            r.insert(
                "422".into(),
                ResponseBuilder::new()
                    .description("idempotency_key_reused: the key came with another body")
                    .build()
                    .into(),
            );
        }
    }
}

/// The tus creation's body is optional (creation-with-upload; utoipa marks a body
/// required unless its type is an `Option`, which would make the schema `null` or bytes).
struct OptionalCreationBody;

impl Modify for OptionalCreationBody {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        if let Some(body) = api
            .paths
            .paths
            .get_mut(ikd_proto::wire::paths::UPLOADS)
            .and_then(|item| item.post.as_mut())
            .and_then(|op| op.request_body.as_mut())
        {
            body.required = Some(utoipa::openapi::Required::False);
        }
    }
}

/// The officer API's per-account rate limit: 429 on every officer operation.
struct OfficerLimits;

impl Modify for OfficerLimits {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::ResponseBuilder;
        for (path, item) in api.paths.paths.iter_mut() {
            if !path.starts_with("/officer/api/") {
                continue;
            }
            let ops = [
                item.get.as_mut(),
                item.post.as_mut(),
                item.put.as_mut(),
                item.delete.as_mut(),
            ];
            for op in ops.into_iter().flatten() {
                op.responses
                    .responses
                    .entry("429".into())
                    .or_insert_with(|| {
                        ResponseBuilder::new()
                            .description(
                                "rate_limited: too many requests from this address or officer \
                             account (detail.retry_after_secs)",
                            )
                            .build()
                            .into()
                    });
            }
        }
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "IKD server API",
        description = "Reference backend of IKD: enrollment, officer desk, OpenID4VCI 1.0 (pre-authorised code) issuer of SD-JWT VC KTP-el and KK.",
        license(name = "Apache-2.0")
    ),
    paths(
        enroll::submit, enroll::status, enroll::scan, enroll::resend,
        officer::login, officer::logout, officer::me, officer::desk_qr, officer::desk_qr_png,
        officer::queue, officer::detail, officer::approve, officer::reject, officer::block_device,
        officer::blocks, officer::dev_outbox, officer::resident_check,
        pinreset::queue, pinreset::detail, pinreset::approve, pinreset::reject, pinreset::cancel,
        oid4vci::issuer_metadata, oid4vci::jwt_vc_issuer, oid4vci::as_metadata, oid4vci::token,
        oid4vci::nonce, oid4vci::credential, oid4vci::release, reauth::reauth,
        status_list::serve, health::healthz, health::readyz,
        uploads::options, uploads::create, uploads::head, uploads::patch,
    ),
    components(schemas(ikd_proto::wire::EnrollmentStatusWire, ikd_proto::wire::CredentialOffer)),
    modifiers(&Security, &Idempotency, &OfficerLimits, &OptionalCreationBody),
    tags(
        (name = "enrollment", description = "The resident's app: submit, status, scan the desk QR, resend the code"),
        (name = "officer", description = "The officer desk (session cookie)"),
        (name = "openid4vci", description = "OpenID4VCI 1.0 issuer"),
        (name = "device", description = "Device management: release (Lepas Perangkat), re-authentication (Lupa PIN)"),
        (name = "dev", description = "Demo/dev only"),
        (name = "health", description = "For a load balancer: process up, store ready"),
    )
)]
pub struct ApiDoc;

pub fn document() -> serde_json::Value {
    serde_json::to_value(ApiDoc::openapi()).unwrap_or_default()
}

/// The document as committed in `gen/openapi.json` (pretty, trailing newline).
pub fn document_pretty() -> String {
    let mut s = serde_json::to_string_pretty(&document()).unwrap_or_default();
    s.push('\n');
    s
}

pub async fn serve() -> Response {
    axum::Json(document()).into_response()
}
