//! Wire types shared by the backend (`ikd-server`) and the client (`client`), so that
//! both agree by construction. JSON over HTTP. Paths are in [`paths`].
//!
//! Authentication:
//! - enrollment calls after submit carry `Authorization: Bearer <enrollment_token>`
//!   (random 256-bit, returned once by submit, stored hashed by the server); the
//!   token only works for its own enrollment id;
//! - device calls (refresh, release) carry the OpenID4VCI access token and a proof
//!   JWT signed by the enrolled device key, so a stolen token is useless elsewhere.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use ts_rs::TS;

pub mod paths {
    pub const ENROLLMENTS: &str = "/api/v1/enrollments"; // POST
    /// GET status; `{id}` is the enrollment id.
    pub const ENROLLMENT: &str = "/api/v1/enrollments/{id}";
    pub const ENROLLMENT_SCAN: &str = "/api/v1/enrollments/{id}/scan"; // POST
    pub const ENROLLMENT_RESEND: &str = "/api/v1/enrollments/{id}/resend"; // POST
    pub const DEVICE_RELEASE: &str = "/api/v1/device/release"; // POST
    /// POST re-authentication ("Lupa PIN"): enrollment token + device proof.
    pub const ENROLLMENT_REAUTH: &str = "/api/v1/enrollments/{id}/reauth";
    pub const CREDENTIAL_ISSUER_METADATA: &str = "/.well-known/openid-credential-issuer";
    /// SD-JWT VC issuer metadata (the issuer's keys).
    pub const JWT_VC_ISSUER_METADATA: &str = "/.well-known/jwt-vc-issuer";
    pub const AUTHORIZATION_SERVER_METADATA: &str = "/.well-known/oauth-authorization-server";
    pub const TOKEN: &str = "/token"; // POST form
    pub const NONCE: &str = "/nonce"; // POST
    pub const CREDENTIAL: &str = "/credential"; // POST
    pub const OFFICER_LOGIN: &str = "/officer/api/login"; // POST json, sets cookie
    pub const OFFICER_LOGOUT: &str = "/officer/api/logout"; // POST
    pub const OFFICER_ME: &str = "/officer/api/me"; // GET
    pub const OFFICER_ENROLLMENT: &str = "/officer/api/enrollments/{id}"; // GET detail
    pub const OFFICER_BLOCK_DEVICE: &str = "/officer/api/devices/{nik}/block"; // POST
    pub const OFFICER_DESK_QR: &str = "/officer/api/desk/qr"; // GET json
    pub const OFFICER_DESK_QR_PNG: &str = "/officer/api/desk/qr.png"; // GET image/png
    pub const OFFICER_QUEUE: &str = "/officer/api/queue"; // GET
    pub const OFFICER_APPROVE: &str = "/officer/api/enrollments/{id}/approve"; // POST
    pub const OFFICER_REJECT: &str = "/officer/api/enrollments/{id}/reject"; // POST
    pub const DEV_OUTBOX: &str = "/dev/outbox"; // GET json (dev mode only)
    /// tus 1.0 creation (POST) and discovery (OPTIONS) of resumable uploads.
    pub const UPLOADS: &str = "/api/v1/uploads";
    /// tus 1.0: HEAD (the offset), PATCH (append); `{id}` is the upload's capability.
    pub const UPLOAD: &str = "/api/v1/uploads/{id}";
}

/// The device's P-256 public key as a JWK (`kty` EC, `crv` P-256).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct EcJwk {
    pub kty: String,
    pub crv: String,
    pub x: String,
    pub y: String,
}

/// POST /api/v1/enrollments
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnrollRequest {
    #[cfg_attr(feature = "openapi", schema(pattern = "^[0-9]{16}$"))]
    pub nik: String,
    #[cfg_attr(feature = "openapi", schema(format = "email"))]
    pub email: String,
    /// Normalised `+628…`
    #[cfg_attr(feature = "openapi", schema(pattern = "^\\+?[0-9][0-9 -]{7,20}$"))]
    pub phone: String,
    /// Processed selfie, base64 (standard) JPEG, ≤ 150 KB. Exactly one of
    /// `selfie_jpeg` and `selfie_upload` is required.
    #[cfg_attr(feature = "openapi", schema(min_length = 100))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selfie_jpeg: Option<String>,
    /// The id of a finished resumable upload (tus, POST /api/v1/uploads) holding the
    /// JPEG; the submit uses it up (one upload, one enrollment).
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 64))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selfie_upload: Option<String>,
    pub device_jwk: EcJwk,
    /// An OpenID4VCI proof JWT (`openid4vci-proof+jwt`, aud = the issuer, a fresh
    /// `c_nonce` from POST /nonce) signed by `device_jwk`: the device holds the key.
    #[cfg_attr(feature = "openapi", schema(min_length = 1))]
    pub device_proof: String,
}

/// 201 answer to submit.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnrollResponse {
    pub enrollment_id: String,
    /// Secret. Bearer token for this enrollment's later calls.
    pub enrollment_token: String,
    pub status: EnrollmentStatusWire,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum EnrollmentStatusWire {
    Submitted,
    Scanned,
    Approved,
    Activated,
    Rejected,
    Expired,
}

/// GET /api/v1/enrollments/{id}
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnrollmentStatusResponse {
    pub enrollment_id: String,
    pub status: EnrollmentStatusWire,
    /// The desk the enrollment is queued at, once scanned.
    pub desk_name: Option<String>,
    /// Officer's reason, when rejected.
    pub reject_reason: Option<String>,
    /// Once approved: the OpenID4VCI credential offer (its JSON object, not a URI).
    pub credential_offer: Option<CredentialOffer>,
    /// Once approved: when the emailed code stops working (RFC 3339).
    pub code_expires_at: Option<String>,
    /// Once approved: wrong tries left on the code (5 at first).
    pub code_attempts_left: Option<u32>,
    /// Email with the middle masked, to show where the code went: "s***@example.com".
    pub email_masked: Option<String>,
    /// While scanned: the desk confirmation code the app shows and the officer types
    /// before approving (4 letters; binds the person at the desk to this enrollment).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desk_confirm_code: Option<String>,
}

/// POST /api/v1/enrollments/{id}/scan
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScanRequest {
    /// The desk QR's text, exactly as scanned.
    #[cfg_attr(feature = "openapi", schema(min_length = 1))]
    pub qr: String,
}

/// Error body of every non-2xx JSON answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiError {
    /// A stable machine code, e.g. "not_found", "ineligible", "qr_expired", "qr_used",
    /// "code_wrong", "code_expired", "code_void", "rate_limited", "device_revoked",
    /// "invalid_request". OAuth endpoints use RFC 6749 `error` values instead.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub error: ApiErrorCode,
    /// Human text in Bahasa Indonesia, safe to show.
    pub message: String,
    /// e.g. `{"reason": "under_age"}`, `{"attempts_left": 3}`, `{"retry_after_secs": 30}`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub detail: Option<serde_json::Value>,
}

/// Every `error` value the server sends (ours, and RFC 6749 / OpenID4VCI ones on the
/// OAuth endpoints). On the wire it is the snake_case string; a code this build does
/// not know is kept as [`ApiErrorCode::Other`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ApiErrorCode {
    NotFound,
    /// The one online answer for a NIK that cannot enroll (unknown, under age, not
    /// recorded, deceased): the resident goes to the Disdukcapil desk.
    NotVerifiable,
    Ineligible,
    Rejected,
    InvalidRequest,
    PayloadTooLarge,
    InvalidState,
    Unauthorized,
    InvalidCredentials,
    RateLimited,
    Internal,
    QrInvalid,
    QrExpired,
    QrUsed,
    /// In `detail.code` of an `invalid_grant`.
    CodeWrong,
    CodeExpired,
    CodeVoid,
    CodeUsed,
    DeviceRevoked,
    /// In `detail.code` of an `invalid_proof`: the proof was made with another key than
    /// the enrolled device key (a generic wallet with its own key).
    ProofKeyNotDevice,
    // RFC 6749 and OpenID4VCI 1.0
    InvalidGrant,
    UnsupportedGrantType,
    InvalidToken,
    InvalidProof,
    InvalidNonce,
    /// RFC 9449.
    InvalidDpopProof,
    UnknownCredentialConfiguration,
    /// A code this build does not know.
    Other(String),
}

impl ApiErrorCode {
    const KNOWN: [(ApiErrorCode, &'static str); 27] = [
        (ApiErrorCode::NotFound, "not_found"),
        (ApiErrorCode::NotVerifiable, "not_verifiable"),
        (ApiErrorCode::Ineligible, "ineligible"),
        (ApiErrorCode::Rejected, "rejected"),
        (ApiErrorCode::InvalidRequest, "invalid_request"),
        (ApiErrorCode::PayloadTooLarge, "payload_too_large"),
        (ApiErrorCode::InvalidState, "invalid_state"),
        (ApiErrorCode::Unauthorized, "unauthorized"),
        (ApiErrorCode::InvalidCredentials, "invalid_credentials"),
        (ApiErrorCode::RateLimited, "rate_limited"),
        (ApiErrorCode::Internal, "internal"),
        (ApiErrorCode::QrInvalid, "qr_invalid"),
        (ApiErrorCode::QrExpired, "qr_expired"),
        (ApiErrorCode::QrUsed, "qr_used"),
        (ApiErrorCode::CodeWrong, "code_wrong"),
        (ApiErrorCode::CodeExpired, "code_expired"),
        (ApiErrorCode::CodeVoid, "code_void"),
        (ApiErrorCode::CodeUsed, "code_used"),
        (ApiErrorCode::DeviceRevoked, "device_revoked"),
        (ApiErrorCode::ProofKeyNotDevice, "proof_key_not_device"),
        (ApiErrorCode::InvalidGrant, "invalid_grant"),
        (ApiErrorCode::UnsupportedGrantType, "unsupported_grant_type"),
        (ApiErrorCode::InvalidToken, "invalid_token"),
        (ApiErrorCode::InvalidProof, "invalid_proof"),
        (ApiErrorCode::InvalidNonce, "invalid_nonce"),
        (ApiErrorCode::InvalidDpopProof, "invalid_dpop_proof"),
        (
            ApiErrorCode::UnknownCredentialConfiguration,
            "unknown_credential_configuration",
        ),
    ];

    /// The wire string.
    pub fn as_str(&self) -> &str {
        if let ApiErrorCode::Other(s) = self {
            return s;
        }
        Self::KNOWN
            .iter()
            .find(|(c, _)| c == self)
            .map(|(_, s)| *s)
            .unwrap_or("internal")
    }

    /// The code for a wire string (never fails: unknown strings are [`ApiErrorCode::Other`]).
    pub fn parse(s: &str) -> Self {
        Self::KNOWN
            .iter()
            .find(|(_, w)| *w == s)
            .map(|(c, _)| c.clone())
            .unwrap_or_else(|| ApiErrorCode::Other(s.to_owned()))
    }
}

impl std::fmt::Display for ApiErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for ApiErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl Serialize for ApiErrorCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ApiErrorCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(Self::parse(&s))
    }
}

// ---------------------------------------------------------------- OpenID4VCI 1.0

pub const PRE_AUTHORIZED_GRANT: &str = "urn:ietf:params:oauth:grant-type:pre-authorized_code";
pub const SD_JWT_VC_FORMAT: &str = "dc+sd-jwt";
pub const KTP_CONFIGURATION: &str = "ktp";
pub const KK_CONFIGURATION: &str = "kk";
pub const KTP_VCT: &str = "urn:ikd:ktp:1";
pub const KK_VCT: &str = "urn:ikd:kk:1";
/// `typ` of the proof JWT (OpenID4VCI 1.0, Appendix F.1).
pub const PROOF_JWT_TYP: &str = "openid4vci-proof+jwt";

// Optional OpenID4VCI members are left out when absent, never sent as `null`: standard
// wallets (e.g. @openid4vc/openid4vci) reject `null` where a string is expected.
// (Plain comments, not doc comments, so the generated OpenAPI text stays the same.)

/// Credential Offer (OpenID4VCI 1.0 §4.1.1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CredentialOffer {
    pub credential_issuer: String,
    pub credential_configuration_ids: Vec<String>,
    pub grants: Grants,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Grants {
    #[serde(
        rename = "urn:ietf:params:oauth:grant-type:pre-authorized_code",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub pre_authorized_code: Option<PreAuthorizedCodeGrant>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PreAuthorizedCodeGrant {
    #[serde(rename = "pre-authorized_code")]
    pub pre_authorized_code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tx_code: Option<TxCode>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TxCode {
    /// "numeric"
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_mode: Option<String>,
    /// 6
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

// ------------------------------------------------------------------- metadata

/// A `display` entry (OpenID4VCI 1.0 §12.2.4): a name in one locale.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DisplayEntry {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// BCP 47, e.g. "id-ID".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
}

impl DisplayEntry {
    /// The display name for Indonesian (`id`, `id-*`) first, else the first name.
    pub fn pick_name(list: &[DisplayEntry]) -> Option<String> {
        let name_of = |d: &DisplayEntry| {
            d.name
                .as_deref()
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(str::to_owned)
        };
        list.iter()
            .find(|d| {
                d.locale
                    .as_deref()
                    .is_some_and(|l| l == "id" || l.starts_with("id-"))
            })
            .and_then(name_of)
            .or_else(|| list.iter().find_map(name_of))
    }
}

/// A published issuer key: the JWK with its `kid` (the RFC 7638 thumbprint), `alg`, `use`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PublishedJwk {
    #[serde(flatten)]
    pub jwk: EcJwk,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    #[serde(rename = "use", default, skip_serializing_if = "Option::is_none")]
    pub use_: Option<String>,
}

/// A JWK Set (RFC 7517 §5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Jwks {
    pub keys: Vec<PublishedJwk>,
}

/// `proof_types_supported.jwt` of a credential configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProofTypeMetadata {
    pub proof_signing_alg_values_supported: Vec<String>,
}

/// `credential_metadata` of a credential configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CredentialDisplayMetadata {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub display: Vec<DisplayEntry>,
}

/// One entry of `credential_configurations_supported` (OpenID4VCI 1.0 §12.2.4, SD-JWT VC).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CredentialConfiguration {
    /// "dc+sd-jwt"
    pub format: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vct: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cryptographic_binding_methods_supported: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub credential_signing_alg_values_supported: Vec<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub proof_types_supported: BTreeMap<String, ProofTypeMetadata>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_metadata: Option<CredentialDisplayMetadata>,
}

impl CredentialConfiguration {
    /// An SD-JWT VC bound to a `jwk`, signed and proven with ES256, named `name` (id-ID).
    pub fn sd_jwt_vc(vct: &str, name: &str) -> Self {
        let es256 = || vec!["ES256".to_owned()];
        Self {
            format: SD_JWT_VC_FORMAT.into(),
            vct: Some(vct.into()),
            cryptographic_binding_methods_supported: vec!["jwk".into()],
            credential_signing_alg_values_supported: es256(),
            proof_types_supported: BTreeMap::from([(
                "jwt".to_owned(),
                ProofTypeMetadata {
                    proof_signing_alg_values_supported: es256(),
                },
            )]),
            credential_metadata: Some(CredentialDisplayMetadata {
                display: vec![DisplayEntry {
                    name: Some(name.into()),
                    locale: Some("id-ID".into()),
                }],
            }),
        }
    }
}

/// GET /.well-known/openid-credential-issuer (OpenID4VCI 1.0 §12.2), with the issuer's
/// keys in `jwks` (the wallet pins the first one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CredentialIssuerMetadata {
    pub credential_issuer: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authorization_servers: Vec<String>,
    pub credential_endpoint: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce_endpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub display: Vec<DisplayEntry>,
    #[serde(default)]
    pub credential_configurations_supported: BTreeMap<String, CredentialConfiguration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks: Option<Jwks>,
}

/// GET /.well-known/jwt-vc-issuer (SD-JWT VC issuer metadata).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JwtVcIssuerMetadata {
    pub issuer: String,
    pub jwks: Jwks,
}

/// GET /.well-known/oauth-authorization-server (RFC 8414, with OpenID4VCI's
/// `pre-authorized_grant_anonymous_access_supported`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuthorizationServerMetadata {
    pub issuer: String,
    pub token_endpoint: String,
    #[serde(default)]
    pub grant_types_supported: Vec<String>,
    #[serde(
        rename = "pre-authorized_grant_anonymous_access_supported",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub pre_authorized_grant_anonymous_access_supported: Option<bool>,
    #[serde(default)]
    pub token_endpoint_auth_methods_supported: Vec<String>,
    #[serde(default)]
    pub response_types_supported: Vec<String>,
}

/// Token Response (RFC 6749 + OpenID4VCI).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<u64>,
    // Absent (not `null`) when none is issued, e.g. on the refresh grant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

/// POST /nonce answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NonceResponse {
    pub c_nonce: String,
}

/// Credential Request (OpenID4VCI 1.0 §8.2).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CredentialRequest {
    pub credential_configuration_id: String,
    pub proofs: Proofs,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Proofs {
    pub jwt: Vec<String>,
}

/// Credential Response (OpenID4VCI 1.0 §8.3).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CredentialResponse {
    pub credentials: Vec<IssuedCredential>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IssuedCredential {
    /// The SD-JWT VC, compact: `<jwt>~<disclosure>~…~`
    pub credential: String,
}

/// POST /api/v1/device/release: body is a fresh proof JWT (aud = issuer, nonce from
/// /nonce) signed by the device key; header carries the access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeviceRequest {
    pub proof: String,
    /// Re-authentication only: a fresh selfie (base64 JPEG, ≤ 200 KB) for the officer's
    /// review; absent, the resident comes to the desk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selfie_jpeg: Option<String>,
}

/// 200 answer to POST /api/v1/enrollments/{id}/reauth ("Lupa PIN", or documents wiped
/// after 10 wrong PINs). The request carries `Authorization: Bearer <enrollment_token>`
/// and a [`DeviceRequest`] whose proof is signed by the enrolled device key (fresh nonce,
/// aud = issuer). The server revokes the device's access and refresh tokens, mails a new
/// 6-digit code ("Kode untuk mengatur ulang PIN IKD"; 24 h, 5 tries, single use) and
/// answers with a new credential offer for this device only. Redeem it at /token with
/// the mailed code as `tx_code`, then fetch the credentials again.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReauthResponse {
    pub enrollment_id: String,
    pub credential_offer: CredentialOffer,
    /// When the mailed code stops working (RFC 3339).
    pub code_expires_at: String,
    /// Wrong tries left on the code (5 at first).
    pub code_attempts_left: u32,
    /// Where the code went: "s***@example.com".
    pub email_masked: String,
    /// The code is mailed only after an officer reviewed the request (the fresh
    /// selfie, or the resident at the desk), and works from this time on (RFC 3339;
    /// the cooling-off's end). Absent from servers without the review.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reset_usable_at: Option<String>,
}

/// One mail in the dev outbox (GET /dev/outbox returns a JSON array, newest last).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OutboxMail {
    pub to: String,
    pub subject: String,
    pub body: String,
    pub sent_at: String,
}

/// GET /officer/api/desk/qr
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeskQr {
    pub desk_id: String,
    pub desk_name: String,
    /// The QR's text (base64url), what the resident's app submits.
    pub text: String,
    /// RFC 3339
    pub expires_at: String,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn api_error_codes_round_trip_and_keep_unknown_ones() {
        for (code, wire) in ApiErrorCode::KNOWN {
            assert_eq!(code.as_str(), wire);
            assert_eq!(ApiErrorCode::parse(wire), code);
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{wire}\""));
        }
        let e: ApiError =
            serde_json::from_str(r#"{"error":"invalid_nonce","message":"m"}"#).unwrap();
        assert_eq!(e.error, ApiErrorCode::InvalidNonce);
        let e: ApiError = serde_json::from_str(r#"{"error":"teapot","message":"m"}"#).unwrap();
        assert_eq!(e.error, ApiErrorCode::Other("teapot".into()));
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            serde_json::json!({"error": "teapot", "message": "m"})
        );
    }

    #[test]
    fn issuer_metadata_reads_what_standard_issuers_write() {
        let json = serde_json::json!({
            "credential_issuer": "https://i",
            "credential_endpoint": "https://i/credential",
            "nonce_endpoint": "https://i/nonce",
            "display": [{"name": "Issuer", "locale": "en"}, {"name": " Penerbit ", "locale": "id-ID"}, {"logo": {}}],
            "credential_configurations_supported": {
                "ktp": {"format": "dc+sd-jwt", "vct": "urn:ikd:ktp:1", "claims": []}
            },
            "jwks": {"keys": [{"kty": "EC", "crv": "P-256", "x": "a", "y": "b", "kid": "k", "use": "sig"}]},
            "batch_credential_issuance": {"batch_size": 2}
        });
        let m: CredentialIssuerMetadata = serde_json::from_value(json).unwrap();
        assert_eq!(
            DisplayEntry::pick_name(&m.display).as_deref(),
            Some("Penerbit")
        );
        let key = &m.jwks.unwrap().keys[0];
        assert_eq!(key.jwk.x, "a");
        assert_eq!(key.kid.as_deref(), Some("k"));
        assert_eq!(key.use_.as_deref(), Some("sig"));
        assert_eq!(
            m.credential_configurations_supported["ktp"].vct.as_deref(),
            Some(KTP_VCT)
        );
        let c = serde_json::to_value(CredentialConfiguration::sd_jwt_vc(KK_VCT, "KK")).unwrap();
        assert_eq!(
            c["proof_types_supported"]["jwt"]["proof_signing_alg_values_supported"][0],
            "ES256"
        );
        assert_eq!(c["credential_metadata"]["display"][0]["locale"], "id-ID");
        assert_eq!(DisplayEntry::pick_name(&[]), None);
    }
}
