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
    pub const AUTHORIZATION_SERVER_METADATA: &str = "/.well-known/oauth-authorization-server";
    /// SD-JWT VC issuer metadata (`issuer`, `jwks`).
    pub const JWT_VC_ISSUER_METADATA: &str = "/.well-known/jwt-vc-issuer";
    pub const TOKEN: &str = "/token"; // POST form
    pub const NONCE: &str = "/nonce"; // POST
    pub const CREDENTIAL: &str = "/credential"; // POST
    pub const OFFICER_LOGIN: &str = "/officer/api/login"; // POST json, sets cookie
    pub const OFFICER_DESK_QR: &str = "/officer/api/desk/qr"; // GET json
    pub const OFFICER_DESK_QR_PNG: &str = "/officer/api/desk/qr.png"; // GET image/png
    pub const OFFICER_QUEUE: &str = "/officer/api/queue"; // GET
    pub const OFFICER_APPROVE: &str = "/officer/api/enrollments/{id}/approve"; // POST
    pub const OFFICER_REJECT: &str = "/officer/api/enrollments/{id}/reject"; // POST
    pub const DEV_OUTBOX: &str = "/dev/outbox"; // GET json (dev mode only)
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
    /// Processed selfie, base64 (standard) JPEG, ≤ 150 KB.
    #[cfg_attr(feature = "openapi", schema(min_length = 100))]
    pub selfie_jpeg: String,
    pub device_jwk: EcJwk,
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
    pub error: String,
    /// Human text in Bahasa Indonesia, safe to show.
    pub message: String,
    /// e.g. `{"reason": "under_age"}`, `{"attempts_left": 3}`, `{"retry_after_secs": 30}`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub detail: Option<serde_json::Value>,
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
