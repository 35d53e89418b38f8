//! The OpenID4VCI 1.0 issuer (pre-authorised code flow) as a service: metadata, the
//! token endpoint's grants, credentials (SD-JWT VC KTP and KK), and the device's end
//! (released by the resident, blocked by an officer).

use crate::credentials::{kk_of, ktp_of};
use crate::crypto::{jwk_thumbprint, sha256_hex};
use crate::error::ApiErr;
use crate::state::AppState;
use crate::store::{Device, DeviceStatus, Officer, TokenKind};
use crate::tokens::{
    check_proof, device_of_token, invalid_proof, new_token, token_response, Presented,
};
use axum::http::StatusCode;
use chrono::{DateTime, Duration, Utc};
use ikd_proto::identity::nik;
use ikd_proto::sdjwt;
use ikd_proto::wire::{
    paths, CredentialRequest, CredentialResponse, IssuedCredential, TokenResponse,
    KK_CONFIGURATION, KK_VCT, KTP_CONFIGURATION, KTP_VCT, PRE_AUTHORIZED_GRANT, SD_JWT_VC_FORMAT,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::net::SocketAddr;

pub const CREDENTIAL_DAYS: i64 = 365;

/// The issuer key's public JWK; its kid is its JWK thumbprint.
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

/// Credential issuer metadata (OpenID4VCI 1.0 §12.2); the key is in [`jwt_vc_issuer`].
pub fn issuer_metadata(state: &AppState) -> serde_json::Value {
    let i = &state.issuer;
    json!({
        "credential_issuer": i,
        "authorization_servers": [i],
        "credential_endpoint": format!("{i}{}", paths::CREDENTIAL),
        "nonce_endpoint": format!("{i}{}", paths::NONCE),
        "display": [{ "name": "Identitas Kependudukan Digital", "locale": "id-ID" }],
        "credential_configurations_supported": {
            KTP_CONFIGURATION: configuration(KTP_VCT, "KTP-el"),
            KK_CONFIGURATION: configuration(KK_VCT, "Kartu Keluarga"),
        },
    })
}

/// SD-JWT VC issuer metadata.
pub fn jwt_vc_issuer(state: &AppState) -> serde_json::Value {
    json!({
        "issuer": state.issuer,
        "jwks": { "keys": [issuer_jwk_json(state)] },
    })
}

/// Authorization server metadata (RFC 8414).
pub fn as_metadata(state: &AppState) -> serde_json::Value {
    let i = &state.issuer;
    json!({
        "issuer": i,
        "token_endpoint": format!("{i}{}", paths::TOKEN),
        "grant_types_supported": [PRE_AUTHORIZED_GRANT, "refresh_token"],
        "pre-authorized_grant_anonymous_access_supported": true,
        "token_endpoint_auth_methods_supported": ["none"],
        "dpop_signing_alg_values_supported": ["ES256"],
        "response_types_supported": ["code"],
    })
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

/// The token endpoint: rate-limited per client IP, the `DPoP` proof (`dpop_proof`, if
/// any) checked, then the pre-authorised code grant ([`crate::activation::redeem`]) or
/// a refresh. With a proof, the tokens are bound to its key. The limit and the proof
/// (its single-use `jti`) are checked once; only the grant is run again after a
/// conflict ([`crate::conflict`]).
pub fn token(
    state: &AppState,
    peer: SocketAddr,
    form: &TokenForm,
    dpop_proof: Option<&str>,
) -> Result<TokenResponse, ApiErr> {
    let now = state.clock.now();
    let l = &state.limits;
    state.limit_per_ip("token", peer, l.token_burst, l.token_per_minute, now)?;
    let status = StatusCode::BAD_REQUEST;
    let dpop = crate::dpop::check(state, dpop_proof, "POST", paths::TOKEN, None, status)?;
    let dpop = dpop.as_deref();
    crate::conflict::retry(|| match form.grant_type.as_str() {
        PRE_AUTHORIZED_GRANT => crate::activation::redeem(
            state,
            form.pre_authorized_code.as_deref(),
            form.tx_code.as_deref(),
            now,
            dpop,
        ),
        "refresh_token" => refresh(state, form.refresh_token.as_deref(), now, dpop),
        _ => Err(ApiErr::oauth(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "Jenis grant tidak didukung.",
        )),
    })
}

fn invalid_grant(code: &str, message: &str) -> ApiErr {
    ApiErr::oauth(StatusCode::BAD_REQUEST, "invalid_grant", message).detail(json!({ "code": code }))
}

/// A new access token for a live refresh token of an active device.
fn refresh(
    state: &AppState,
    rt: Option<&str>,
    now: DateTime<Utc>,
    dpop: Option<&str>,
) -> Result<TokenResponse, ApiErr> {
    let rt = rt.ok_or_else(|| {
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
        .ok_or_else(|| invalid_grant("invalid_token", "Token tidak berlaku."))?;
    // A refresh token bound to a DPoP key needs a proof by that key (RFC 9449 §5).
    if let Some(jkt) = &row.dpop_jkt {
        match dpop {
            Some(p) if p == jkt => {}
            Some(_) => return Err(crate::dpop::not_device_key(StatusCode::BAD_REQUEST)),
            None => {
                return Err(crate::dpop::invalid(
                    StatusCode::BAD_REQUEST,
                    "Token ini memerlukan bukti DPoP dari kunci perangkat.",
                ))
            }
        }
    }
    let device = state
        .store
        .device(&row.device_thumb)?
        .ok_or_else(|| invalid_grant("invalid_token", "Token tidak berlaku."))?;
    if device.status != DeviceStatus::Active {
        return Err(
            invalid_grant("device_revoked", "Perangkat ini sudah tidak terdaftar.")
                .detail(json!({ "code": "device_revoked" })),
        );
    }
    // Bound as the refresh token is; an unbound one (issued before DPoP) proved with
    // the device key gets a bound access token. Another key's proof on an unbound
    // token: refused, as at activation.
    if row.dpop_jkt.is_none() && dpop.is_some_and(|jkt| jkt != device.thumb) {
        return Err(crate::dpop::not_device_key(StatusCode::BAD_REQUEST));
    }
    let bind = row.dpop_jkt.as_deref().or(dpop);
    let (access, access_row) = new_token(TokenKind::Access, &device, now, bind);
    state.store.insert_token(&access_row)?;
    Ok(token_response(access, None, bind.is_some()))
}

/// A credential for the access token's device, bound to its key by a proof JWT.
pub fn credential(
    state: &AppState,
    presented: Presented<'_>,
    req: &CredentialRequest,
) -> Result<CredentialResponse, ApiErr> {
    let device = device_of_token(state, presented, paths::CREDENTIAL)?;
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
    check_proof(state, &device, proof)?;
    // The token's DPoP proof and the proof's nonce are used up above, once; from here
    // a conflict runs the issuance again (crate::conflict).
    crate::conflict::retry(|| issue(state, &device, req, vct))
}

/// Signs and records one credential of `vct` for `device` (its status list entry in
/// the same write).
fn issue(
    state: &AppState,
    device: &Device,
    req: &CredentialRequest,
    vct: &str,
) -> Result<CredentialResponse, ApiErr> {
    let resident = state
        .siak
        .resident(&device.nik)?
        .ok_or_else(ApiErr::internal)?;
    let now = state.clock.now();
    let expires = now + Duration::days(CREDENTIAL_DAYS);
    let (ktp, kk) = if vct == KTP_VCT {
        let photo = state.siak.photo(&resident)?;
        (Some(ktp_of(&resident, &photo)), None)
    } else {
        let family = state.siak.family(&resident.kk)?;
        (None, Some(kk_of(&family).ok_or_else(ApiErr::internal)?))
    };
    let kid = crate::status_list::issuer_kid(state);
    let sign = |status| {
        let req = match (&ktp, &kk) {
            (Some(k), _) => k.issue_request(&state.issuer, &device.jwk, now, expires),
            (None, Some(k)) => k.issue_request(&state.issuer, &device.jwk, now, expires),
            (None, None) => return Err(ApiErr::internal()),
        }
        .with_status(status)
        .with_key_headers(Some(kid.clone()), state.issuer_x5c.clone());
        sdjwt::issue(&state.issuer_key, &req).map_err(|e| {
            tracing::error!(error = %e, "credential issuance failed");
            ApiErr::internal()
        })
    };
    let issued =
        crate::status_list::issue_with_status(state, &device.nik, vct, &device.thumb, now, sign)?;
    tracing::info!(enrollment = %device.enrollment_id, configuration = %req.credential_configuration_id, "credential issued");
    Ok(CredentialResponse {
        credentials: vec![IssuedCredential { credential: issued }],
    })
}

/// Lepas Perangkat: the resident releases the access token's device (proof JWT).
pub fn release(state: &AppState, presented: Presented<'_>, proof: &str) -> Result<(), ApiErr> {
    let device = device_of_token(state, presented, paths::DEVICE_RELEASE)?;
    check_proof(state, &device, proof)?;
    state
        .store
        .set_device_status(&device.thumb, DeviceStatus::Revoked)?;
    tracing::info!(enrollment = %device.enrollment_id, "device released");
    Ok(())
}

/// An officer blocks every active device of a resident (`key`: a NIK, or an
/// enrollment id) for `reason` (1–500 characters), recorded with who and when in the
/// same transaction; how many were blocked.
pub fn block_devices(
    state: &AppState,
    o: &Officer,
    key: String,
    reason: &str,
) -> Result<usize, ApiErr> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(
            ApiErr::bad_request("Alasan pemblokiran wajib diisi (maks. 500 karakter).")
                .detail(json!({ "field": "reason" })),
        );
    }
    let nik = if key.len() == 16 && key.bytes().all(|b| b.is_ascii_digit()) {
        key
    } else {
        state
            .store
            .enrollment(&key)?
            .map(|e| e.nik)
            .ok_or_else(ApiErr::not_found)?
    };
    let blocked = state.store.block_devices(&crate::store::DeviceBlock {
        nik: nik.clone(),
        officer: o.username.clone(),
        reason: reason.to_owned(),
        devices: 0,
        blocked_at: state.clock.now(),
    })?;
    tracing::info!(nik = %nik::mask(&nik), officer = %o.username, blocked, "devices blocked");
    Ok(blocked)
}
