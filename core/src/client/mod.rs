//! HTTP client for the enrollment API and OpenID4VCI (the backend is `ikd-server`).
//!
//! HTTPS is required, except for loopback (127.0.0.0/8, ::1, localhost). Timeouts:
//! connect 10 s, request 30 s. Idempotent calls (status, metadata, nonce) are retried
//! up to 3 times with backoff (200 ms, 800 ms) on offline/timeout/busy; submit and
//! token are never retried. Tokens and codes travel in [`SecretString`].

use crate::error::{ErrorCode, UiError};
use crate::secret::SecretString;
use crate::wire::{
    paths, ApiError, ApiErrorCode, CredentialIssuerMetadata, CredentialOffer, CredentialRequest,
    CredentialResponse, DeviceRequest, EcJwk, EnrollRequest, EnrollResponse,
    EnrollmentStatusResponse, NonceResponse, Proofs, ReauthResponse, ScanRequest, TokenResponse,
    PRE_AUTHORIZED_GRANT,
};
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use std::sync::Mutex;
use std::time::Duration;
use url::Url;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ClientError {
    #[error("backend URL must be https (or loopback)")]
    InsecureUrl,
    #[error("backend URL is not valid")]
    InvalidUrl,
    #[error("cannot reach the server")]
    Offline,
    #[error("the server did not answer in time")]
    Timeout,
    #[error("the server is busy")]
    ServerBusy,
    #[error("rate limited")]
    RateLimited { retry_after_secs: Option<u64> },
    #[error("not found or not verifiable")]
    NotFound,
    #[error("not eligible: {reason}")]
    Ineligible { reason: String, message: String },
    #[error("enrollment rejected")]
    Rejected { reason: Option<String> },
    #[error("wrong code")]
    CodeWrong { attempts_left: u32 },
    #[error("code expired")]
    CodeExpired,
    #[error("code void")]
    CodeVoid,
    #[error("desk QR not recognised")]
    QrInvalid,
    #[error("desk QR expired")]
    QrExpired,
    #[error("desk QR already used")]
    QrUsed,
    #[error("device revoked")]
    DeviceRevoked,
    #[error("invalid request ({field:?})")]
    InvalidRequest { field: Option<String> },
    #[error("not allowed in this state")]
    InvalidState,
    #[error("not authorised")]
    Unauthorized,
    #[error("issuer key changed from the pinned key")]
    IssuerKeyChanged,
    #[error("device key: {0}")]
    DeviceKey(String),
    #[error("the server refused the device key proof")]
    ProofRefused,
    #[error("the server's nonce ran out; ask for a new one")]
    NonceRefused,
    #[error("server error {status}: {error}")]
    Api { status: u16, error: String },
    #[error("unexpected answer: {0}")]
    Protocol(String),
}

impl From<ClientError> for UiError {
    fn from(e: ClientError) -> Self {
        use serde_json::json;
        let msg = e.to_string();
        match e {
            ClientError::InsecureUrl => UiError::new(ErrorCode::InsecureUrl, msg),
            ClientError::InvalidUrl => UiError::new(ErrorCode::InsecureUrl, msg),
            ClientError::Offline => UiError::new(ErrorCode::Offline, msg),
            ClientError::Timeout => UiError::new(ErrorCode::Timeout, msg),
            ClientError::ServerBusy => UiError::new(ErrorCode::ServerBusy, msg),
            ClientError::RateLimited { retry_after_secs } => {
                UiError::new(ErrorCode::RateLimited, msg)
                    .with_detail(json!({ "retry_after_secs": retry_after_secs }))
            }
            ClientError::NotFound => UiError::new(ErrorCode::NotFound, msg),
            ClientError::Ineligible { reason, .. } => {
                UiError::new(ErrorCode::Ineligible, "not eligible")
                    .with_detail(json!({ "reason": reason }))
            }
            ClientError::Rejected { reason } => {
                UiError::new(ErrorCode::Rejected, msg).with_detail(json!({ "reason": reason }))
            }
            ClientError::CodeWrong { attempts_left } => UiError::new(ErrorCode::CodeWrong, msg)
                .with_detail(json!({ "attempts_left": attempts_left })),
            ClientError::CodeExpired => UiError::new(ErrorCode::CodeExpired, msg),
            ClientError::CodeVoid => UiError::new(ErrorCode::CodeVoid, msg),
            ClientError::QrInvalid => UiError::new(ErrorCode::QrInvalid, msg),
            ClientError::QrExpired => UiError::new(ErrorCode::QrExpired, msg),
            ClientError::QrUsed => UiError::new(ErrorCode::QrUsed, msg),
            ClientError::DeviceRevoked => UiError::new(ErrorCode::DeviceRevoked, msg),
            ClientError::InvalidRequest { field } => {
                let code = match field.as_deref() {
                    Some("nik") => ErrorCode::InvalidNik,
                    Some("email") => ErrorCode::InvalidEmail,
                    Some("phone") => ErrorCode::InvalidPhone,
                    Some("selfie_jpeg") => ErrorCode::ImageInvalid,
                    _ => ErrorCode::Internal,
                };
                UiError::new(code, msg).with_detail(json!({ "field": field }))
            }
            ClientError::InvalidState => UiError::new(ErrorCode::InvalidState, msg),
            ClientError::Unauthorized => UiError::new(ErrorCode::NotFound, msg),
            ClientError::IssuerKeyChanged => UiError::new(ErrorCode::CredentialInvalid, msg),
            ClientError::DeviceKey(_) | ClientError::ProofRefused => {
                UiError::new(ErrorCode::KeyStore, msg)
            }
            // The proof took longer than the nonce lives: "took too long, try again".
            ClientError::NonceRefused => UiError::new(ErrorCode::Timeout, msg),
            ClientError::Api { .. } | ClientError::Protocol(_) => {
                UiError::new(ErrorCode::Internal, msg)
            }
        }
    }
}

/// Whether `url` may be used: https anywhere, http only on loopback.
pub fn check_url(url: &Url) -> Result<(), ClientError> {
    match url.scheme() {
        "https" => Ok(()),
        "http" => {
            let loopback = match url.host() {
                Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
                Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
                Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
                None => false,
            };
            if loopback {
                Ok(())
            } else {
                Err(ClientError::InsecureUrl)
            }
        }
        _ => Err(ClientError::InsecureUrl),
    }
}

/// Parses a credential offer: its JSON object, or an
/// `openid-credential-offer://?credential_offer=<urlencoded JSON>` URI.
pub fn parse_credential_offer(s: &str) -> Result<CredentialOffer, ClientError> {
    let s = s.trim();
    let json = if s.starts_with('{') {
        s.to_owned()
    } else {
        let u = Url::parse(s).map_err(|_| ClientError::Protocol("offer URI".into()))?;
        if u.scheme() != "openid-credential-offer" {
            return Err(ClientError::Protocol("offer URI scheme".into()));
        }
        u.query_pairs()
            .find(|(k, _)| k == "credential_offer")
            .map(|(_, v)| v.into_owned())
            .ok_or_else(|| ClientError::Protocol("credential_offer missing".into()))?
    };
    serde_json::from_str(&json).map_err(|_| ClientError::Protocol("credential offer".into()))
}

/// Tokens from the token endpoint.
#[derive(Debug)]
pub struct Tokens {
    pub access_token: SecretString,
    pub refresh_token: Option<SecretString>,
    pub expires_in: Option<u64>,
}

/// What the wallet needs from the issuer metadata.
#[derive(Debug, Clone)]
pub struct IssuerMetadata {
    pub credential_issuer: String,
    pub credential_endpoint: String,
    pub nonce_endpoint: String,
    pub issuer_jwk: EcJwk,
    /// The whole typed metadata (display names, configurations).
    pub metadata: CredentialIssuerMetadata,
}

/// Proof JWT header and payload: the protocol crate's (one definition).
pub use ikd_proto::proof::{proof_header, proof_payload};

pub struct BackendClient {
    base: Url,
    http: reqwest::Client,
    pinned_issuer_jwk: Mutex<Option<EcJwk>>,
}

const RETRY_DELAYS_MS: [u64; 2] = [200, 800];

impl BackendClient {
    pub fn new(base_url: &str) -> Result<Self, ClientError> {
        let base =
            Url::parse(base_url.trim_end_matches('/')).map_err(|_| ClientError::InvalidUrl)?;
        check_url(&base)?;
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|_| ClientError::Protocol("HTTP client".into()))?;
        Ok(Self {
            base,
            http,
            pinned_issuer_jwk: Mutex::new(None),
        })
    }

    pub fn base_url(&self) -> &str {
        self.base.as_str().trim_end_matches('/')
    }

    /// Pins the issuer key (e.g. one kept from an earlier session).
    pub fn pin_issuer_jwk(&self, jwk: EcJwk) {
        *self
            .pinned_issuer_jwk
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some(jwk);
    }

    pub fn pinned_issuer_jwk(&self) -> Option<EcJwk> {
        self.pinned_issuer_jwk
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url(), path)
    }

    async fn decode<T: DeserializeOwned>(resp: reqwest::Response) -> Result<T, ClientError> {
        let status = resp.status();
        if status.is_success() {
            return resp
                .json::<T>()
                .await
                .map_err(|_| ClientError::Protocol(format!("body of a {status} answer")));
        }
        let retry_header = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        let body: Option<ApiError> = resp.json().await.ok();
        Err(map_error(status, body, retry_header))
    }

    async fn send<T: DeserializeOwned>(
        &self,
        req: reqwest::RequestBuilder,
    ) -> Result<T, ClientError> {
        let resp = req.send().await.map_err(transport_error)?;
        Self::decode(resp).await
    }

    /// Retries on offline/timeout/busy with backoff (idempotent calls only).
    async fn send_retry<T: DeserializeOwned>(
        &self,
        make: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<T, ClientError> {
        let mut last = ClientError::Offline;
        for attempt in 0..=RETRY_DELAYS_MS.len() {
            match self.send(make()).await {
                Ok(v) => return Ok(v),
                Err(
                    e @ (ClientError::Offline | ClientError::Timeout | ClientError::ServerBusy),
                ) => {
                    last = e;
                    if let Some(ms) = RETRY_DELAYS_MS.get(attempt) {
                        tokio::time::sleep(Duration::from_millis(*ms)).await;
                    }
                }
                Err(e) => return Err(e),
            }
        }
        Err(last)
    }

    /// POST /api/v1/enrollments (never retried).
    pub async fn submit(&self, req: &EnrollRequest) -> Result<EnrollResponse, ClientError> {
        self.send(self.http.post(self.url(paths::ENROLLMENTS)).json(req))
            .await
    }

    fn enrollment_path(template: &str, id: &str) -> String {
        let id: String = url::form_urlencoded::byte_serialize(id.as_bytes()).collect();
        template.replace("{id}", &id)
    }

    /// GET /api/v1/enrollments/{id}
    pub async fn status(
        &self,
        enrollment_id: &str,
        enrollment_token: &SecretString,
    ) -> Result<EnrollmentStatusResponse, ClientError> {
        let url = self.url(&Self::enrollment_path(paths::ENROLLMENT, enrollment_id));
        // The token goes in the Authorization header only.
        self.send_retry(|| self.http.get(&url).bearer_auth(enrollment_token.expose()))
            .await
    }

    /// POST /api/v1/enrollments/{id}/scan
    pub async fn scan(
        &self,
        enrollment_id: &str,
        enrollment_token: &SecretString,
        qr: &str,
    ) -> Result<EnrollmentStatusResponse, ClientError> {
        let url = self.url(&Self::enrollment_path(
            paths::ENROLLMENT_SCAN,
            enrollment_id,
        ));
        self.send(
            self.http
                .post(url)
                .bearer_auth(enrollment_token.expose())
                .json(&ScanRequest { qr: qr.to_owned() }),
        )
        .await
    }

    /// POST /api/v1/enrollments/{id}/resend
    pub async fn resend(
        &self,
        enrollment_id: &str,
        enrollment_token: &SecretString,
    ) -> Result<EnrollmentStatusResponse, ClientError> {
        let url = self.url(&Self::enrollment_path(
            paths::ENROLLMENT_RESEND,
            enrollment_id,
        ));
        self.send(self.http.post(url).bearer_auth(enrollment_token.expose()))
            .await
    }

    /// GET the issuer metadata; pins the issuer key on first use and refuses a change.
    pub async fn issuer_metadata(&self) -> Result<IssuerMetadata, ClientError> {
        let url = self.url(paths::CREDENTIAL_ISSUER_METADATA);
        let metadata: CredentialIssuerMetadata =
            self.send_retry(|| self.http.get(&url)).await?;
        let jwk: EcJwk = metadata
            .jwks
            .as_ref()
            .and_then(|j| j.keys.first())
            .map(|k| k.jwk.clone())
            .ok_or_else(|| ClientError::Protocol("metadata jwks".into()))?;
        {
            let mut pinned = self
                .pinned_issuer_jwk
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            match &*pinned {
                Some(p) if *p != jwk => return Err(ClientError::IssuerKeyChanged),
                Some(_) => {}
                None => *pinned = Some(jwk.clone()),
            }
        }
        Ok(IssuerMetadata {
            credential_issuer: metadata.credential_issuer.clone(),
            credential_endpoint: metadata.credential_endpoint.clone(),
            nonce_endpoint: metadata
                .nonce_endpoint
                .clone()
                .ok_or_else(|| ClientError::Protocol("metadata nonce_endpoint".into()))?,
            issuer_jwk: jwk,
            metadata,
        })
    }

    async fn token_form(&self, form: &[(&str, &str)]) -> Result<Tokens, ClientError> {
        let body: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let t: TokenResponse = self
            .send(
                self.http
                    .post(self.url(paths::TOKEN))
                    .header(
                        reqwest::header::CONTENT_TYPE,
                        "application/x-www-form-urlencoded",
                    )
                    .body(body),
            )
            .await?;
        Ok(Tokens {
            access_token: SecretString::new(t.access_token),
            refresh_token: t.refresh_token.map(SecretString::new),
            expires_in: t.expires_in,
        })
    }

    /// POST /token with the pre-authorised code and the emailed code (never retried).
    pub async fn token(
        &self,
        pre_authorized_code: &str,
        tx_code: &SecretString,
    ) -> Result<Tokens, ClientError> {
        self.token_form(&[
            ("grant_type", PRE_AUTHORIZED_GRANT),
            ("pre-authorized_code", pre_authorized_code),
            ("tx_code", tx_code.expose()),
        ])
        .await
    }

    /// POST /token with grant_type=refresh_token.
    pub async fn refresh(&self, refresh_token: &SecretString) -> Result<Tokens, ClientError> {
        self.token_form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.expose()),
        ])
        .await
    }

    /// POST /nonce
    pub async fn nonce(&self) -> Result<String, ClientError> {
        let url = self.url(paths::NONCE);
        let n: NonceResponse = self.send_retry(|| self.http.post(&url)).await?;
        Ok(n.c_nonce)
    }

    /// POST /credential with one proof JWT; returns the SD-JWT VC.
    pub async fn credential(
        &self,
        access_token: &SecretString,
        configuration_id: &str,
        proof_jwt: &str,
    ) -> Result<String, ClientError> {
        let req = CredentialRequest {
            credential_configuration_id: configuration_id.to_owned(),
            proofs: Proofs {
                jwt: vec![proof_jwt.to_owned()],
            },
        };
        let r: CredentialResponse = self
            .send(
                self.http
                    .post(self.url(paths::CREDENTIAL))
                    .bearer_auth(access_token.expose())
                    .json(&req),
            )
            .await?;
        r.credentials
            .into_iter()
            .next()
            .map(|c| c.credential)
            .ok_or_else(|| ClientError::Protocol("no credential".into()))
    }

    /// POST /api/v1/device/release (Lepas Perangkat).
    pub async fn release(
        &self,
        access_token: &SecretString,
        proof_jwt: &str,
    ) -> Result<(), ClientError> {
        let _: serde_json::Value = self
            .send(
                self.http
                    .post(self.url(paths::DEVICE_RELEASE))
                    .bearer_auth(access_token.expose())
                    .json(&DeviceRequest {
                        proof: proof_jwt.to_owned(),
                    }),
            )
            .await?;
        Ok(())
    }

    /// POST /api/v1/enrollments/{id}/reauth ("Lupa PIN"; never retried): the enrollment
    /// token plus a proof JWT from the enrolled device key. The server revokes the
    /// device's tokens and mails a new code; redeem the returned offer with [`Self::token`].
    pub async fn reauth(
        &self,
        enrollment_id: &str,
        enrollment_token: &SecretString,
        proof_jwt: &str,
    ) -> Result<ReauthResponse, ClientError> {
        let url = self.url(&Self::enrollment_path(
            paths::ENROLLMENT_REAUTH,
            enrollment_id,
        ));
        self.send(
            self.http
                .post(url)
                .bearer_auth(enrollment_token.expose())
                .json(&DeviceRequest {
                    proof: proof_jwt.to_owned(),
                }),
        )
        .await
    }
}

impl BackendClient {
    /// Nonce, then a proof JWT from the device key (aud = `issuer`), then the credential.
    pub async fn fetch_credential(
        &self,
        access_token: &SecretString,
        configuration_id: &str,
        key: &crate::device_key::DeviceKey,
        issuer: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<String, ClientError> {
        let nonce = self.nonce().await?;
        let proof = key
            .proof_jwt(issuer, &nonce, now)
            .map_err(|e| ClientError::DeviceKey(e.to_string()))?;
        self.credential(access_token, configuration_id, &proof)
            .await
    }

    /// Lepas Perangkat with a fresh proof from the device key.
    pub async fn release_device(
        &self,
        access_token: &SecretString,
        key: &crate::device_key::DeviceKey,
        issuer: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), ClientError> {
        let nonce = self.nonce().await?;
        let proof = key
            .proof_jwt(issuer, &nonce, now)
            .map_err(|e| ClientError::DeviceKey(e.to_string()))?;
        self.release(access_token, &proof).await
    }

    /// Re-authentication with a fresh proof from the device key.
    pub async fn reauth_device(
        &self,
        enrollment_id: &str,
        enrollment_token: &SecretString,
        key: &crate::device_key::DeviceKey,
        issuer: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<ReauthResponse, ClientError> {
        let nonce = self.nonce().await?;
        let proof = key
            .proof_jwt(issuer, &nonce, now)
            .map_err(|e| ClientError::DeviceKey(e.to_string()))?;
        self.reauth(enrollment_id, enrollment_token, &proof).await
    }
}

fn transport_error(e: reqwest::Error) -> ClientError {
    if e.is_timeout() {
        ClientError::Timeout
    } else if e.is_connect() || e.is_request() {
        ClientError::Offline
    } else {
        ClientError::Protocol("transport".into())
    }
}

/// Maps an error answer to a typed error.
pub fn map_error(
    status: StatusCode,
    body: Option<ApiError>,
    retry_after: Option<u64>,
) -> ClientError {
    let detail = body.as_ref().and_then(|b| b.detail.clone());
    let d_str = |k: &str| {
        detail
            .as_ref()
            .and_then(|d| d.get(k))
            .and_then(|v| v.as_str())
            .map(str::to_owned)
    };
    let d_u64 = |k: &str| {
        detail
            .as_ref()
            .and_then(|d| d.get(k))
            .and_then(|v| v.as_u64())
    };
    if status == StatusCode::TOO_MANY_REQUESTS {
        return ClientError::RateLimited {
            retry_after_secs: d_u64("retry_after_secs").or(retry_after),
        };
    }
    if status.is_server_error() {
        return ClientError::ServerBusy;
    }
    let Some(body) = body else {
        return match status {
            StatusCode::NOT_FOUND => ClientError::NotFound,
            StatusCode::PAYLOAD_TOO_LARGE => ClientError::InvalidRequest { field: None },
            _ => ClientError::Api {
                status: status.as_u16(),
                error: String::new(),
            },
        };
    };
    // An OAuth invalid_grant carries our finer code in detail.code.
    let code = match &body.error {
        ApiErrorCode::InvalidGrant => d_str("code")
            .map(|c| ApiErrorCode::parse(&c))
            .unwrap_or(ApiErrorCode::InvalidGrant),
        other => other.clone(),
    };
    use ApiErrorCode as A;
    match code {
        A::NotFound => ClientError::NotFound,
        A::Ineligible => ClientError::Ineligible {
            reason: d_str("reason").unwrap_or_default(),
            message: body.message,
        },
        A::Rejected => ClientError::Rejected {
            reason: d_str("reason"),
        },
        A::CodeWrong => ClientError::CodeWrong {
            attempts_left: d_u64("attempts_left").unwrap_or(0) as u32,
        },
        A::CodeExpired => ClientError::CodeExpired,
        A::CodeVoid | A::CodeUsed => ClientError::CodeVoid,
        A::QrInvalid => ClientError::QrInvalid,
        A::QrExpired => ClientError::QrExpired,
        A::QrUsed => ClientError::QrUsed,
        A::DeviceRevoked => ClientError::DeviceRevoked,
        A::InvalidRequest | A::PayloadTooLarge => ClientError::InvalidRequest {
            field: d_str("field"),
        },
        A::InvalidState => ClientError::InvalidState,
        A::Unauthorized | A::InvalidToken | A::InvalidCredentials => ClientError::Unauthorized,
        A::InvalidProof => ClientError::ProofRefused,
        A::InvalidNonce => ClientError::NonceRefused,
        A::RateLimited => ClientError::RateLimited {
            retry_after_secs: d_u64("retry_after_secs").or(retry_after),
        },
        other @ (A::Internal
        | A::InvalidGrant
        | A::UnsupportedGrantType
        | A::UnknownCredentialConfiguration
        | A::Other(_)) => ClientError::Api {
            status: status.as_u16(),
            error: other.as_str().to_owned(),
        },
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn https_required_except_loopback() {
        assert!(BackendClient::new("https://ikd.example.go.id").is_ok());
        assert!(BackendClient::new("http://127.0.0.1:8787").is_ok());
        assert!(BackendClient::new("http://127.1.2.3").is_ok());
        assert!(BackendClient::new("http://localhost:1").is_ok());
        assert!(BackendClient::new("http://[::1]:80").is_ok());
        assert_eq!(
            BackendClient::new("http://ikd.example.go.id").err(),
            Some(ClientError::InsecureUrl)
        );
        assert_eq!(
            BackendClient::new("http://10.0.0.1").err(),
            Some(ClientError::InsecureUrl)
        );
        assert_eq!(
            UiError::from(ClientError::InsecureUrl).code,
            ErrorCode::InsecureUrl
        );
    }

    #[test]
    fn offers_parse_from_json_and_uri() {
        let json = r#"{"credential_issuer":"https://i","credential_configuration_ids":["ktp"],"grants":{"urn:ietf:params:oauth:grant-type:pre-authorized_code":{"pre-authorized_code":"abc","tx_code":{"input_mode":"numeric","length":6,"description":null}}}}"#;
        let a = parse_credential_offer(json).unwrap();
        let uri = format!(
            "openid-credential-offer://?credential_offer={}",
            url::form_urlencoded::byte_serialize(json.as_bytes()).collect::<String>()
        );
        assert_eq!(parse_credential_offer(&uri).unwrap(), a);
        assert_eq!(
            a.grants.pre_authorized_code.unwrap().pre_authorized_code,
            "abc"
        );
        assert!(parse_credential_offer("https://x?credential_offer={}").is_err());
    }

    #[test]
    fn errors_map_to_codes() {
        let body = |e: &str, d: serde_json::Value| {
            Some(ApiError {
                error: ApiErrorCode::parse(e),
                message: "m".into(),
                detail: Some(d),
            })
        };
        assert_eq!(
            map_error(
                StatusCode::BAD_REQUEST,
                body(
                    "invalid_grant",
                    serde_json::json!({"code":"code_wrong","attempts_left":3})
                ),
                None
            ),
            ClientError::CodeWrong { attempts_left: 3 }
        );
        for (code, want) in [
            ("invalid_proof", ErrorCode::KeyStore),
            ("invalid_nonce", ErrorCode::Timeout),
            ("invalid_token", ErrorCode::NotFound),
        ] {
            let e = map_error(StatusCode::BAD_REQUEST, body(code, serde_json::json!({})), None);
            assert_eq!(UiError::from(e).code, want, "{code}");
        }
        assert_eq!(
            map_error(StatusCode::TOO_MANY_REQUESTS, None, Some(30)),
            ClientError::RateLimited {
                retry_after_secs: Some(30)
            }
        );
        assert_eq!(
            map_error(StatusCode::SERVICE_UNAVAILABLE, None, None),
            ClientError::ServerBusy
        );
        let ui = UiError::from(map_error(
            StatusCode::FORBIDDEN,
            body("ineligible", serde_json::json!({"reason":"under_age"})),
            None,
        ));
        assert_eq!(ui.code, ErrorCode::Ineligible);
        assert_eq!(ui.detail.unwrap()["reason"], "under_age");
    }

    /// A loopback HTTP server that answers every request 503 and counts them.
    async fn busy_server() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let hits = std::sync::Arc::new(AtomicUsize::new(0));
        let h = hits.clone();
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                h.fetch_add(1, Ordering::SeqCst);
                let mut buf = [0u8; 4096];
                let _ = sock.read(&mut buf).await;
                let _ = sock
                    .write_all(b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                    .await;
            }
        });
        (format!("http://{addr}"), hits)
    }

    #[tokio::test]
    async fn idempotent_calls_retry_and_submit_does_not() {
        use std::sync::atomic::Ordering;
        let (url, hits) = busy_server().await;
        let c = BackendClient::new(&url).unwrap();
        let token = SecretString::new("t".into());
        assert_eq!(
            c.status("e1", &token).await.unwrap_err(),
            ClientError::ServerBusy
        );
        assert_eq!(hits.load(Ordering::SeqCst), 3, "status: 3 tries");
        hits.store(0, Ordering::SeqCst);
        let req = EnrollRequest {
            nik: "1671014509900001".into(),
            email: "a@b.co".into(),
            phone: "+6281234567890".into(),
            selfie_jpeg: String::new(),
            device_jwk: EcJwk {
                kty: "EC".into(),
                crv: "P-256".into(),
                x: String::new(),
                y: String::new(),
            },
        };
        assert_eq!(c.submit(&req).await.unwrap_err(), ClientError::ServerBusy);
        assert_eq!(hits.load(Ordering::SeqCst), 1, "submit: never retried");
    }

    #[tokio::test]
    async fn a_closed_port_is_offline() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let c = BackendClient::new(&format!("http://{addr}")).unwrap();
        let e = c.nonce().await.unwrap_err();
        assert_eq!(e, ClientError::Offline);
        assert_eq!(UiError::from(e).code, ErrorCode::Offline);
    }
}
