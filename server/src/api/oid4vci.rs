//! OpenID4VCI 1.0, pre-authorised code flow: metadata, token, nonce, credential; and
//! device release.

use super::credentials::{kk_of, ktp_of};
use super::enroll::code_hash;
use super::{bearer, mask_nik, ApiErr, FormBody, JsonBody};
use crate::crypto::{ct_eq, jwk_thumbprint, random_token, sha256_hex};
use crate::store::{Device, DeviceStatus, TokenKind, TokenRow};
use crate::{AppState, SharedState};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Duration;
use ikd_core::credential::sdjwt;
use ikd_core::wire::{
    paths, CredentialRequest, CredentialResponse, DeviceRequest, EcJwk, EnrollmentStatusWire,
    IssuedCredential, NonceResponse, TokenResponse, KK_CONFIGURATION, KK_VCT, KTP_CONFIGURATION,
    KTP_VCT, PRE_AUTHORIZED_GRANT, PROOF_JWT_TYP, SD_JWT_VC_FORMAT,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::net::SocketAddr;

pub const ACCESS_TOKEN_SECS: i64 = 24 * 3600;
pub const REFRESH_TOKEN_DAYS: i64 = 365;
pub const NONCE_SECS: i64 = 300;
pub const CREDENTIAL_DAYS: i64 = 365;

/// The issuer key's kid: its JWK thumbprint.
pub fn issuer_jwk_json(state: &AppState) -> serde_json::Value {
    let jwk = state.issuer_key.public_jwk();
    json!({
        "kty": jwk.kty, "crv": jwk.crv, "x": jwk.x, "y": jwk.y,
        "kid": jwk_thumbprint(&jwk), "alg": "ES256", "use": "sig",
    })
}

fn configuration(vct: &str, name: &str) -> serde_json::Value {
    json!({
        "format": SD_JWT_VC_FORMAT,
        "vct": vct,
        "cryptographic_binding_methods_supported": ["jwk"],
        "credential_signing_alg_values_supported": ["ES256"],
        "proof_types_supported": { "jwt": { "proof_signing_alg_values_supported": ["ES256"] } },
        "credential_metadata": { "display": [{ "name": name, "locale": "id-ID" }] },
    })
}

/// GET /.well-known/openid-credential-issuer
#[utoipa::path(get, path = "/.well-known/openid-credential-issuer", tag = "openid4vci",
    responses((status = 200, description = "Credential issuer metadata (OpenID4VCI 1.0 §12.2). The signing key is published in the SD-JWT VC issuer metadata (`/.well-known/jwt-vc-issuer`)", body = Object)))]
pub async fn issuer_metadata(State(state): State<SharedState>) -> Response {
    let i = &state.issuer;
    axum::Json(json!({
        "credential_issuer": i,
        "authorization_servers": [i],
        "credential_endpoint": format!("{i}{}", paths::CREDENTIAL),
        "nonce_endpoint": format!("{i}{}", paths::NONCE),
        "display": [{ "name": "Identitas Kependudukan Digital", "locale": "id-ID" }],
        "credential_configurations_supported": {
            KTP_CONFIGURATION: configuration(KTP_VCT, "KTP-el"),
            KK_CONFIGURATION: configuration(KK_VCT, "Kartu Keluarga"),
        },
    }))
    .into_response()
}

/// GET /.well-known/jwt-vc-issuer (SD-JWT VC issuer metadata)
#[utoipa::path(get, path = "/.well-known/jwt-vc-issuer", tag = "openid4vci",
    responses((status = 200, description = "SD-JWT VC issuer metadata: `issuer` and `jwks` (the key that signs the credentials and the status list, by `kid` = its RFC 7638 thumbprint, the `kid` in their headers)", body = Object)))]
pub async fn jwt_vc_issuer(State(state): State<SharedState>) -> Response {
    axum::Json(json!({
        "issuer": state.issuer,
        "jwks": { "keys": [issuer_jwk_json(&state)] },
    }))
    .into_response()
}

/// GET /.well-known/oauth-authorization-server
#[utoipa::path(get, path = "/.well-known/oauth-authorization-server", tag = "openid4vci",
    responses((status = 200, description = "Authorization server metadata (RFC 8414). No authorization endpoint: only the pre-authorised code and refresh token grants are served; `response_types_supported` is RFC 8414's required member", body = Object)))]
pub async fn as_metadata(State(state): State<SharedState>) -> Response {
    let i = &state.issuer;
    axum::Json(json!({
        "issuer": i,
        "token_endpoint": format!("{i}{}", paths::TOKEN),
        "grant_types_supported": [PRE_AUTHORIZED_GRANT, "refresh_token"],
        "pre-authorized_grant_anonymous_access_supported": true,
        "token_endpoint_auth_methods_supported": ["none"],
        "dpop_signing_alg_values_supported": ["ES256"],
        "response_types_supported": ["code"],
    }))
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
    ApiErr::oauth(StatusCode::BAD_REQUEST, "invalid_grant", message).detail(json!({ "code": code }))
}

pub(crate) fn new_token(
    kind: TokenKind,
    d: &Device,
    now: chrono::DateTime<chrono::Utc>,
    dpop_jkt: Option<&str>,
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
        dpop_jkt: dpop_jkt.map(str::to_owned),
    };
    (t, row)
}

/// The token response: `token_type` DPoP for tokens bound to a DPoP key.
fn token_response(access: String, refresh: Option<String>, dpop: bool) -> Response {
    super::no_store(axum::Json(TokenResponse {
        access_token: access,
        token_type: if dpop { "DPoP" } else { "Bearer" }.into(),
        expires_in: Some(ACCESS_TOKEN_SECS as u64),
        refresh_token: refresh,
    }))
}

/// POST /token
#[utoipa::path(post, path = "/token", tag = "openid4vci",
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, body = ikd_core::wire::TokenResponse),
        (status = 400, description = "RFC 6749 error; invalid_grant carries detail.code: code_wrong (attempts_left) | code_expired | code_void | code_used | device_revoked. invalid_dpop_proof (RFC 9449): a bad DPoP proof, or detail.code = proof_key_not_device (\"Kunci bukti bukan kunci perangkat terdaftar\") when the DPoP key is not the enrolled device key; then the activation code is not checked, so no attempt is spent", body = ikd_core::wire::ApiError),
        (status = 429, body = ikd_core::wire::ApiError),
    ))]
pub async fn token(
    State(state): State<SharedState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
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
    let dpop = super::dpop::check(
        &state,
        &headers,
        "POST",
        paths::TOKEN,
        None,
        StatusCode::BAD_REQUEST,
    )?;
    let dpop = dpop.as_deref();
    match form.grant_type.as_str() {
        PRE_AUTHORIZED_GRANT => pre_authorized(&state, &form, now, dpop),
        "refresh_token" => refresh(&state, &form, now, dpop),
        _ => Err(ApiErr::oauth(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "Jenis grant tidak didukung.",
        )),
    }
}

fn pre_authorized(
    state: &AppState,
    form: &TokenForm,
    now: chrono::DateTime<chrono::Utc>,
    dpop: Option<&str>,
) -> Result<Response, ApiErr> {
    let pac = form.pre_authorized_code.as_deref().ok_or_else(|| {
        ApiErr::oauth(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Kode penawaran tidak ada.",
        )
    })?;
    let tx_code = form.tx_code.as_deref().ok_or_else(|| {
        ApiErr::oauth(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Kode aktivasi wajib diisi.",
        )
    })?;
    let _g = state.transition_lock();
    let mut e = state
        .store
        .enrollment_by_offer(&sha256_hex(pac.as_bytes()))?
        .ok_or_else(|| grant_error("not_found", "Kode penawaran tidak dikenal."))?;
    // A DPoP key other than the enrolled device key: refused before the code is
    // checked, so a generic wallet with its own key does not spend the code.
    if dpop.is_some_and(|jkt| jkt != e.device_thumb) {
        return Err(super::dpop::not_device_key(StatusCode::BAD_REQUEST));
    }
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
        return finish_reauth(state, e, now, dpop);
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
    let (access, access_row) = new_token(TokenKind::Access, &device, now, dpop);
    let (refresh, refresh_row) = new_token(TokenKind::Refresh, &device, now, dpop);
    state
        .store
        .activate(&e, &device, &[access_row, refresh_row])?;
    tracing::info!(enrollment = %e.id, nik = %mask_nik(&e.nik), "device activated");
    Ok(token_response(access, Some(refresh), dpop.is_some()))
}

/// The re-authentication code was right: new tokens for the same, still active device.
fn finish_reauth(
    state: &AppState,
    mut e: crate::store::Enrollment,
    now: chrono::DateTime<chrono::Utc>,
    dpop: Option<&str>,
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
    let (access, access_row) = new_token(TokenKind::Access, &device, now, dpop);
    let (refresh, refresh_row) = new_token(TokenKind::Refresh, &device, now, dpop);
    if !state
        .store
        .finish_reauth(&e, &device.thumb, &[access_row, refresh_row])?
    {
        return Err(revoked());
    }
    tracing::info!(enrollment = %e.id, "device re-authenticated");
    Ok(token_response(access, Some(refresh), dpop.is_some()))
}

fn refresh(
    state: &AppState,
    form: &TokenForm,
    now: chrono::DateTime<chrono::Utc>,
    dpop: Option<&str>,
) -> Result<Response, ApiErr> {
    let rt = form.refresh_token.as_deref().ok_or_else(|| {
        ApiErr::oauth(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "refresh_token wajib diisi.",
        )
    })?;
    let row = state
        .store
        .token(&sha256_hex(rt.as_bytes()))?
        .filter(|t| t.kind == TokenKind::Refresh && t.expires_at > now)
        .ok_or_else(|| grant_error("invalid_token", "Token tidak berlaku."))?;
    // A refresh token bound to a DPoP key needs a proof by that key (RFC 9449 §5).
    if let Some(jkt) = &row.dpop_jkt {
        if dpop != Some(jkt.as_str()) {
            return Err(super::dpop::invalid(
                StatusCode::BAD_REQUEST,
                "Token ini memerlukan bukti DPoP dari kunci perangkat.",
            ));
        }
    }
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
    // Bound as the refresh token is; an unbound one (issued before DPoP) proved with the
    // device key gets a bound access token.
    let bind = row
        .dpop_jkt
        .as_deref()
        .or(dpop.filter(|jkt| *jkt == device.thumb));
    let (access, access_row) = new_token(TokenKind::Access, &device, now, bind);
    state.store.insert_token(&access_row)?;
    Ok(token_response(access, None, bind.is_some()))
}

/// POST /nonce
#[utoipa::path(post, path = "/nonce", tag = "openid4vci",
    responses((status = 200, description = "A fresh single-use c_nonce (Cache-Control: no-store)", body = ikd_core::wire::NonceResponse)))]
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
        "invalid_token",
        "Token akses tidak berlaku.",
    )
}

fn invalid_proof(msg: &str) -> ApiErr {
    ApiErr::oauth(StatusCode::BAD_REQUEST, "invalid_proof", msg)
}

/// The key of a proof (or DPoP proof) is not the enrolled device key: `invalid_proof`
/// (`invalid_dpop_proof` for DPoP) with `detail.code` = `proof_key_not_device`.
pub(crate) fn proof_key_not_device() -> ApiErr {
    invalid_proof("Kunci bukti bukan kunci perangkat terdaftar.")
        .detail(json!({ "code": "proof_key_not_device" }))
}

/// The device behind an access token (presented on `path`), checked active. A token
/// bound to a DPoP key needs `Authorization: DPoP` and a DPoP proof by that key.
fn device_of_token(state: &AppState, headers: &HeaderMap, path: &str) -> Result<Device, ApiErr> {
    let now = state.clock.now();
    let (scheme_dpop, t) = match (bearer(headers), super::authorization(headers, "dpop")) {
        (Some(t), None) => (false, t),
        (None, Some(t)) => (true, t),
        _ => return Err(invalid_token()),
    };
    let row = state
        .store
        .token(&sha256_hex(t.as_bytes()))?
        .filter(|r| r.kind == TokenKind::Access && r.expires_at > now)
        .ok_or_else(invalid_token)?;
    match &row.dpop_jkt {
        None if scheme_dpop => return Err(invalid_token()),
        None => {}
        Some(jkt) => {
            let status = StatusCode::UNAUTHORIZED;
            let proved = super::dpop::check(state, headers, "POST", path, Some(t), status)?;
            match proved {
                Some(p) if &p == jkt && scheme_dpop => {}
                Some(p) if &p != jkt => return Err(super::dpop::not_device_key(status)),
                _ => {
                    return Err(super::dpop::invalid(
                        status,
                        "Token ini memerlukan Authorization: DPoP dan bukti DPoP.",
                    ))
                }
            }
        }
    }
    let device = state
        .store
        .device(&row.device_thumb)?
        .ok_or_else(invalid_token)?;
    if device.status != DeviceStatus::Active {
        return Err(ApiErr::device_revoked());
    }
    Ok(device)
}

/// Checks a proof JWT: signed by `device`'s key, typ, aud = issuer, fresh nonce, iat.
pub(crate) fn check_proof(state: &AppState, device: &Device, proof: &str) -> Result<(), ApiErr> {
    let now = state.clock.now();
    // A proof made with another key than the enrolled device key (a generic wallet
    // with its own key) gets its own answer: the binding is by design.
    let unverified = ikd_core::jose::decode_unverified(proof)
        .map_err(|_| invalid_proof("Bukti kepemilikan kunci tidak sah."))?;
    if let Some(jwk) = unverified.header.get("jwk") {
        let jwk: EcJwk = serde_json::from_value(jwk.clone())
            .map_err(|_| invalid_proof("jwk bukti tidak sah."))?;
        if jwk_thumbprint(&jwk) != device.thumb {
            return Err(proof_key_not_device());
        }
    }
    let (header, payload) = ikd_core::jose::verify_jws(proof, &device.jwk)
        .map_err(|_| invalid_proof("Bukti kepemilikan kunci tidak sah."))?;
    if header.get("typ").and_then(|v| v.as_str()) != Some(PROOF_JWT_TYP) {
        return Err(invalid_proof("typ bukti tidak sesuai."));
    }
    let aud_ok = match payload.get("aud") {
        Some(serde_json::Value::String(a)) => a == &state.issuer,
        Some(serde_json::Value::Array(a)) => a.iter().any(|x| x.as_str() == Some(&state.issuer)),
        _ => false,
    };
    if !aud_ok {
        return Err(invalid_proof("aud bukti tidak sesuai."));
    }
    let iat = payload.get("iat").and_then(|v| v.as_i64()).unwrap_or(0);
    if (now.timestamp() - iat).abs() > NONCE_SECS {
        return Err(invalid_proof("Bukti sudah kedaluwarsa."));
    }
    let nonce = payload.get("nonce").and_then(|v| v.as_str()).unwrap_or("");
    if !state.store.take_nonce(nonce, now)? {
        return Err(ApiErr::oauth(
            StatusCode::BAD_REQUEST,
            "invalid_nonce",
            "Nonce tidak berlaku. Minta nonce baru.",
        ));
    }
    Ok(())
}

/// POST /credential
#[utoipa::path(post, path = "/credential", tag = "openid4vci", security(("access_token" = [])),
    request_body = ikd_core::wire::CredentialRequest,
    responses(
        (status = 200, description = "SD-JWT VC (dc+sd-jwt)", body = ikd_core::wire::CredentialResponse),
        (status = 400, description = "invalid_proof | invalid_nonce | unknown_credential_configuration | invalid_request (malformed body). invalid_proof with detail.code = proof_key_not_device (\"Kunci bukti bukan kunci perangkat terdaftar\"): the proof's `jwk` is not the key enrolled with the registration; credentials are bound to the enrolled device key by design, so a wallet with its own key cannot be issued one", body = ikd_core::wire::ApiError),
        (status = 401, description = "invalid_token", body = ikd_core::wire::ApiError),
        (status = 403, description = "device_revoked", body = ikd_core::wire::ApiError),
        (status = 413, description = "Body too large", body = ikd_core::wire::ApiError),
        (status = 415, description = "Content-Type is not application/json", body = ikd_core::wire::ApiError),
    ))]
pub async fn credential(
    State(state): State<SharedState>,
    headers: HeaderMap,
    JsonBody(req): JsonBody<CredentialRequest>,
) -> Result<Response, ApiErr> {
    let device = device_of_token(&state, &headers, paths::CREDENTIAL)?;
    let vct = match req.credential_configuration_id.as_str() {
        KTP_CONFIGURATION => KTP_VCT,
        KK_CONFIGURATION => KK_VCT,
        _ => {
            return Err(ApiErr::oauth(
                StatusCode::BAD_REQUEST,
                "unknown_credential_configuration",
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
    let kk = if vct == KK_VCT {
        let family = state.store.family(&resident.kk)?;
        Some(kk_of(&family).ok_or_else(ApiErr::internal)?)
    } else {
        None
    };
    let ktp = ktp_of(&resident);
    let kid = super::status_list::issuer_kid(&state);
    let sign = |status| {
        let req = match &kk {
            Some(kk) => kk.issue_request(&state.issuer, &device.jwk, now, expires),
            None => ktp.issue_request(&state.issuer, &device.jwk, now, expires),
        }
        .with_status(status)
        .with_key_headers(Some(kid.clone()), state.issuer_x5c.clone());
        sdjwt::issue(&state.issuer_key, &req).map_err(|e| {
            tracing::error!(error = %e, "credential issuance failed");
            ApiErr::internal()
        })
    };
    let issued =
        super::status_list::issue_with_status(&state, &device.nik, vct, &device.thumb, now, sign)?;
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
    request_body = ikd_core::wire::DeviceRequest,
    responses(
        (status = 200, body = ReleaseResponse),
        (status = 400, description = "invalid_proof | invalid_nonce | invalid_request (malformed body)", body = ikd_core::wire::ApiError),
        (status = 401, description = "invalid_token", body = ikd_core::wire::ApiError),
        (status = 403, description = "device_revoked", body = ikd_core::wire::ApiError),
        (status = 413, description = "Body too large", body = ikd_core::wire::ApiError),
        (status = 415, description = "Content-Type is not application/json", body = ikd_core::wire::ApiError),
    ))]
pub async fn release(
    State(state): State<SharedState>,
    headers: HeaderMap,
    JsonBody(req): JsonBody<DeviceRequest>,
) -> Result<Response, ApiErr> {
    let device = device_of_token(&state, &headers, paths::DEVICE_RELEASE)?;
    check_proof(&state, &device, &req.proof)?;
    state
        .store
        .set_device_status(&device.thumb, DeviceStatus::Revoked)?;
    tracing::info!(enrollment = %device.enrollment_id, "device released");
    Ok(axum::Json(ReleaseResponse { released: true }).into_response())
}
