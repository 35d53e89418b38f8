//! OpenID4VCI 1.0, pre-authorised code flow: metadata, token, nonce, credential; and
//! device release.

use super::credentials::{kk_of, ktp_of};
use super::enroll::code_hash;
use super::{bearer, mask_nik, ApiErr, FormBody, JsonBody};
use crate::crypto::{ct_eq, random_token, sha256_hex};
use crate::store::{Device, DeviceStatus, TokenKind, TokenRow};
use crate::{AppState, SharedState};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Duration;
use ikd_proto::jose::jwk_thumbprint;
use ikd_proto::proof::{self, DeviceKeyError};
use ikd_proto::sdjwt;
use ikd_proto::wire::{
    paths, ApiErrorCode, AuthorizationServerMetadata, CredentialConfiguration,
    CredentialIssuerMetadata, CredentialRequest, CredentialResponse, DeviceRequest, DisplayEntry,
    EnrollmentStatusWire, IssuedCredential, Jwks, JwtVcIssuerMetadata, NonceResponse, PublishedJwk,
    TokenResponse, KK_CONFIGURATION, KK_VCT, KTP_CONFIGURATION, KTP_VCT, PRE_AUTHORIZED_GRANT,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeMap;
use std::net::SocketAddr;

pub const ACCESS_TOKEN_SECS: i64 = 24 * 3600;
pub const REFRESH_TOKEN_DAYS: i64 = 365;
pub const NONCE_SECS: i64 = 300;
pub const CREDENTIAL_DAYS: i64 = 365;

/// The issuer's published key; its kid is its JWK thumbprint.
pub fn issuer_jwks(state: &AppState) -> Jwks {
    let jwk = state.issuer_key.public_jwk();
    Jwks {
        keys: vec![PublishedJwk {
            kid: Some(jwk_thumbprint(&jwk)),
            alg: Some("ES256".into()),
            use_: Some("sig".into()),
            jwk,
        }],
    }
}

/// GET /.well-known/openid-credential-issuer
#[utoipa::path(get, path = "/.well-known/openid-credential-issuer", tag = "openid4vci",
    responses((status = 200, description = "Credential issuer metadata (OpenID4VCI 1.0 §12.2), with the issuer's `jwks`", body = CredentialIssuerMetadata)))]
pub async fn issuer_metadata(State(state): State<SharedState>) -> Response {
    let i = &state.issuer;
    axum::Json(CredentialIssuerMetadata {
        credential_issuer: i.clone(),
        authorization_servers: vec![i.clone()],
        credential_endpoint: format!("{i}{}", paths::CREDENTIAL),
        nonce_endpoint: Some(format!("{i}{}", paths::NONCE)),
        display: vec![DisplayEntry {
            name: Some("Identitas Kependudukan Digital".into()),
            locale: Some("id-ID".into()),
        }],
        credential_configurations_supported: BTreeMap::from([
            (
                KTP_CONFIGURATION.to_owned(),
                CredentialConfiguration::sd_jwt_vc(KTP_VCT, "KTP-el"),
            ),
            (
                KK_CONFIGURATION.to_owned(),
                CredentialConfiguration::sd_jwt_vc(KK_VCT, "Kartu Keluarga"),
            ),
        ]),
        jwks: Some(issuer_jwks(&state)),
    })
    .into_response()
}

/// GET /.well-known/jwt-vc-issuer (SD-JWT VC issuer metadata)
#[utoipa::path(get, path = "/.well-known/jwt-vc-issuer", tag = "openid4vci",
    responses((status = 200, description = "SD-JWT VC issuer metadata", body = JwtVcIssuerMetadata)))]
pub async fn jwt_vc_issuer(State(state): State<SharedState>) -> Response {
    axum::Json(JwtVcIssuerMetadata {
        issuer: state.issuer.clone(),
        jwks: issuer_jwks(&state),
    })
    .into_response()
}

/// GET /.well-known/oauth-authorization-server
#[utoipa::path(get, path = "/.well-known/oauth-authorization-server", tag = "openid4vci",
    responses((status = 200, description = "Authorization server metadata (RFC 8414)", body = AuthorizationServerMetadata)))]
pub async fn as_metadata(State(state): State<SharedState>) -> Response {
    let i = &state.issuer;
    axum::Json(AuthorizationServerMetadata {
        issuer: i.clone(),
        token_endpoint: format!("{i}{}", paths::TOKEN),
        grant_types_supported: vec![PRE_AUTHORIZED_GRANT.into(), "refresh_token".into()],
        pre_authorized_grant_anonymous_access_supported: Some(true),
        token_endpoint_auth_methods_supported: vec!["none".into()],
        response_types_supported: vec![],
    })
    .into_response()
}

/// The token request form.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TokenForm {
    #[schema(pattern = "^(urn:ietf:params:oauth:grant-type:pre-authorized_code|refresh_token)$")]
    pub grant_type: String,
    #[serde(rename = "pre-authorized_code", default)]
    pub pre_authorized_code: Option<String>,
    #[serde(default)]
    pub tx_code: Option<String>,
    #[serde(default)]
    pub refresh_token: Option<String>,
}

fn grant_error(code: &str, message: &str) -> ApiErr {
    ApiErr::oauth(StatusCode::BAD_REQUEST, ApiErrorCode::InvalidGrant, message)
        .detail(json!({ "code": code }))
}

pub(crate) fn new_token(
    kind: TokenKind,
    d: &Device,
    now: chrono::DateTime<chrono::Utc>,
) -> (String, TokenRow) {
    let t = random_token();
    let row = TokenRow {
        hash: sha256_hex(t.as_bytes()),
        kind,
        device_thumb: d.thumb.clone(),
        nik: d.nik.clone(),
        enrollment_id: d.enrollment_id.clone(),
        expires_at: match kind {
            TokenKind::Access => now + Duration::seconds(ACCESS_TOKEN_SECS),
            TokenKind::Refresh => now + Duration::days(REFRESH_TOKEN_DAYS),
        },
    };
    (t, row)
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
    let now = state.clock.now();
    let l = &state.limits;
    super::limit_per_ip(
        &state,
        "token",
        peer,
        l.token_burst,
        l.token_per_minute,
        now,
    )?;
    match form.grant_type.as_str() {
        PRE_AUTHORIZED_GRANT => pre_authorized(&state, &form, now),
        "refresh_token" => refresh(&state, &form, now),
        _ => Err(ApiErr::oauth(
            StatusCode::BAD_REQUEST,
            ApiErrorCode::UnsupportedGrantType,
            "Jenis grant tidak didukung.",
        )),
    }
}

fn pre_authorized(
    state: &AppState,
    form: &TokenForm,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Response, ApiErr> {
    let pac = form.pre_authorized_code.as_deref().ok_or_else(|| {
        ApiErr::oauth(
            StatusCode::BAD_REQUEST,
            ApiErrorCode::InvalidRequest,
            "Kode penawaran tidak ada.",
        )
    })?;
    let tx_code = form.tx_code.as_deref().ok_or_else(|| {
        ApiErr::oauth(
            StatusCode::BAD_REQUEST,
            ApiErrorCode::InvalidRequest,
            "Kode aktivasi wajib diisi.",
        )
    })?;
    let _g = state.transition_lock();
    let mut e = state
        .store
        .enrollment_by_offer(&sha256_hex(pac.as_bytes()))?
        .ok_or_else(|| grant_error("not_found", "Kode penawaran tidak dikenal."))?;
    match e.status {
        EnrollmentStatusWire::Approved => {}
        EnrollmentStatusWire::Activated if e.reauth_pending => {}
        EnrollmentStatusWire::Activated => {
            return Err(grant_error("code_used", "Kode aktivasi sudah dipakai."));
        }
        _ => return Err(grant_error("invalid_state", "Permohonan belum disetujui.")),
    }
    let Some(hash) = e.code_hash.clone() else {
        return Err(grant_error("code_used", "Kode aktivasi sudah dipakai."));
    };
    if e.code_void || e.code_attempts_left == 0 {
        return Err(grant_error(
            "code_void",
            "Kode aktivasi tidak berlaku lagi karena 5 kali salah. Minta kode baru.",
        )
        .detail(json!({ "code": "code_void", "attempts_left": 0 })));
    }
    if e.code_expires_at.is_none_or(|t| now >= t) {
        return Err(grant_error(
            "code_expired",
            "Kode aktivasi sudah kedaluwarsa. Minta kode baru.",
        ));
    }
    let given: String = tx_code.chars().filter(|c| !c.is_whitespace()).collect();
    if !ct_eq(&hash, &code_hash(state, &e.id, &given)) {
        e.code_attempts_left = e.code_attempts_left.saturating_sub(1);
        if e.code_attempts_left == 0 {
            e.code_void = true;
        }
        state.store.update_enrollment(&e)?;
        tracing::info!(enrollment = %e.id, attempts_left = e.code_attempts_left, "wrong activation code");
        if e.code_void {
            return Err(grant_error(
                "code_void",
                "Kode aktivasi tidak berlaku lagi karena 5 kali salah. Minta kode baru.",
            )
            .detail(json!({ "code": "code_void", "attempts_left": 0 })));
        }
        return Err(grant_error("code_wrong", "Kode aktivasi salah.")
            .detail(json!({ "code": "code_wrong", "attempts_left": e.code_attempts_left })));
    }
    if e.reauth_pending {
        return finish_reauth(state, e, now);
    }
    // Activation: single use, one device per resident.
    e.status = EnrollmentStatusWire::Activated;
    e.code_hash = None;
    let device = Device {
        thumb: e.device_thumb.clone(),
        nik: e.nik.clone(),
        enrollment_id: e.id.clone(),
        jwk: e.device_jwk.clone(),
        status: DeviceStatus::Active,
        created_at: now,
    };
    let (access, access_row) = new_token(TokenKind::Access, &device, now);
    let (refresh, refresh_row) = new_token(TokenKind::Refresh, &device, now);
    state
        .store
        .activate(&e, &device, &[access_row, refresh_row])?;
    tracing::info!(enrollment = %e.id, nik = %mask_nik(&e.nik), "device activated");
    Ok(super::no_store(axum::Json(TokenResponse {
        access_token: access,
        token_type: "Bearer".into(),
        expires_in: Some(ACCESS_TOKEN_SECS as u64),
        refresh_token: Some(refresh),
    })))
}

/// The re-authentication code was right: new tokens for the same, still active device.
fn finish_reauth(
    state: &AppState,
    mut e: crate::store::Enrollment,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Response, ApiErr> {
    let revoked = || {
        grant_error("device_revoked", "Perangkat ini sudah tidak terdaftar.")
            .detail(json!({ "code": "device_revoked" }))
    };
    let device = state
        .store
        .device(&e.device_thumb)?
        .filter(|d| d.enrollment_id == e.id)
        .ok_or_else(revoked)?;
    e.reauth_pending = false;
    e.code_hash = None;
    let (access, access_row) = new_token(TokenKind::Access, &device, now);
    let (refresh, refresh_row) = new_token(TokenKind::Refresh, &device, now);
    if !state
        .store
        .finish_reauth(&e, &device.thumb, &[access_row, refresh_row])?
    {
        return Err(revoked());
    }
    tracing::info!(enrollment = %e.id, "device re-authenticated");
    Ok(super::no_store(axum::Json(TokenResponse {
        access_token: access,
        token_type: "Bearer".into(),
        expires_in: Some(ACCESS_TOKEN_SECS as u64),
        refresh_token: Some(refresh),
    })))
}

fn refresh(
    state: &AppState,
    form: &TokenForm,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Response, ApiErr> {
    let rt = form.refresh_token.as_deref().ok_or_else(|| {
        ApiErr::oauth(
            StatusCode::BAD_REQUEST,
            ApiErrorCode::InvalidRequest,
            "refresh_token wajib diisi.",
        )
    })?;
    let row = state
        .store
        .token(&sha256_hex(rt.as_bytes()))?
        .filter(|t| t.kind == TokenKind::Refresh && t.expires_at > now)
        .ok_or_else(|| grant_error("invalid_token", "Token tidak berlaku."))?;
    let device = state
        .store
        .device(&row.device_thumb)?
        .ok_or_else(|| grant_error("invalid_token", "Token tidak berlaku."))?;
    if device.status != DeviceStatus::Active {
        return Err(
            grant_error("device_revoked", "Perangkat ini sudah tidak terdaftar.")
                .detail(json!({ "code": "device_revoked" })),
        );
    }
    let (access, access_row) = new_token(TokenKind::Access, &device, now);
    state.store.insert_token(&access_row)?;
    Ok(super::no_store(axum::Json(TokenResponse {
        access_token: access,
        token_type: "Bearer".into(),
        expires_in: Some(ACCESS_TOKEN_SECS as u64),
        refresh_token: None,
    })))
}

/// POST /nonce
#[utoipa::path(post, path = "/nonce", tag = "openid4vci",
    responses((status = 200, description = "A fresh single-use c_nonce (Cache-Control: no-store)", body = ikd_proto::wire::NonceResponse)))]
pub async fn nonce(State(state): State<SharedState>) -> Result<Response, ApiErr> {
    let n = random_token();
    state
        .store
        .insert_nonce(&n, state.clock.now() + Duration::seconds(NONCE_SECS))?;
    Ok(super::no_store(axum::Json(NonceResponse { c_nonce: n })))
}

fn invalid_token() -> ApiErr {
    ApiErr::oauth(
        StatusCode::UNAUTHORIZED,
        ApiErrorCode::InvalidToken,
        "Token akses tidak berlaku.",
    )
}

fn invalid_proof(msg: &str) -> ApiErr {
    ApiErr::oauth(StatusCode::BAD_REQUEST, ApiErrorCode::InvalidProof, msg)
}

/// The device behind an access token, checked active.
fn device_of_token(state: &AppState, headers: &HeaderMap) -> Result<Device, ApiErr> {
    let now = state.clock.now();
    let t = bearer(headers).ok_or_else(invalid_token)?;
    let row = state
        .store
        .token(&sha256_hex(t.as_bytes()))?
        .filter(|r| r.kind == TokenKind::Access && r.expires_at > now)
        .ok_or_else(invalid_token)?;
    let device = state
        .store
        .device(&row.device_thumb)?
        .ok_or_else(invalid_token)?;
    if device.status != DeviceStatus::Active {
        return Err(ApiErr::device_revoked());
    }
    Ok(device)
}

/// Checks a proof JWT with the protocol's one rule ([`proof::verify_proof`]: signed by
/// `device`'s key, typ, aud = issuer, iat at most 300 s old and 60 s ahead), then
/// redeems its single-use nonce.
pub(crate) fn check_proof(state: &AppState, device: &Device, proof: &str) -> Result<(), ApiErr> {
    let now = state.clock.now();
    let rules = proof::ProofRules {
        aud: &state.issuer,
        nonce: None,
        device_key: Some(&device.jwk),
        now,
        max_age: Duration::seconds(proof::PROOF_MAX_AGE_SECS),
    };
    let verified = proof::verify_proof(proof, &rules).map_err(|e| {
        invalid_proof(match e {
            DeviceKeyError::WrongType => "typ bukti tidak sesuai.",
            DeviceKeyError::BadKey => "jwk bukti tidak sah.",
            DeviceKeyError::NotDeviceKey => "Kunci bukti bukan kunci perangkat terdaftar.",
            DeviceKeyError::WrongAudience => "aud bukti tidak sesuai.",
            DeviceKeyError::Stale => "Bukti sudah kedaluwarsa.",
            _ => "Bukti kepemilikan kunci tidak sah.",
        })
    })?;
    if !state.store.take_nonce(&verified.nonce, now)? {
        return Err(ApiErr::oauth(
            StatusCode::BAD_REQUEST,
            ApiErrorCode::InvalidNonce,
            "Nonce tidak berlaku. Minta nonce baru.",
        ));
    }
    Ok(())
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
    let device = device_of_token(&state, &headers)?;
    let vct = match req.credential_configuration_id.as_str() {
        KTP_CONFIGURATION => KTP_VCT,
        KK_CONFIGURATION => KK_VCT,
        _ => {
            return Err(ApiErr::oauth(
                StatusCode::BAD_REQUEST,
                ApiErrorCode::UnknownCredentialConfiguration,
                "Jenis dokumen tidak dikenal.",
            ))
        }
    };
    let [proof] = req.proofs.jwt.as_slice() else {
        return Err(invalid_proof("Tepat satu bukti diperlukan."));
    };
    check_proof(&state, &device, proof)?;
    let resident = state
        .store
        .resident(&device.nik)?
        .ok_or_else(ApiErr::internal)?;
    let now = state.clock.now();
    let expires = now + Duration::days(CREDENTIAL_DAYS);
    let issue_req = if vct == KTP_VCT {
        ktp_of(&resident).issue_request(&state.issuer, &device.jwk, now, expires)
    } else {
        let family = state.store.family(&resident.kk)?;
        kk_of(&family).ok_or_else(ApiErr::internal)?.issue_request(
            &state.issuer,
            &device.jwk,
            now,
            expires,
        )
    };
    let issued = sdjwt::issue(&state.issuer_key, &issue_req).map_err(|e| {
        tracing::error!(error = %e, "credential issuance failed");
        ApiErr::internal()
    })?;
    tracing::info!(enrollment = %device.enrollment_id, configuration = %req.credential_configuration_id, "credential issued");
    Ok(super::no_store(axum::Json(CredentialResponse {
        credentials: vec![IssuedCredential { credential: issued }],
    })))
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
    let device = device_of_token(&state, &headers)?;
    check_proof(&state, &device, &req.proof)?;
    state
        .store
        .set_device_status(&device.thumb, DeviceStatus::Revoked)?;
    tracing::info!(enrollment = %device.enrollment_id, "device released");
    Ok(axum::Json(ReleaseResponse { released: true }).into_response())
}
