//! HTTP client for the enrollment API and OpenID4VCI (the backend is `ikd-server`).
//!
//! HTTPS is required, except for loopback (127.0.0.0/8, ::1, localhost). Timeouts:
//! connect 10 s, request 30 s. Idempotent calls (status, metadata, nonce) are retried
//! up to 3 times with backoff (200 ms, 800 ms) on offline/timeout/busy; submit and
//! token are never retried. Tokens and codes travel in [`SecretString`].

mod enrollment;
mod error;
mod oid4vci;

pub use error::{map_error, ClientError};
pub use oid4vci::parse_credential_offer;

use crate::secret::SecretString;
use crate::wire::{ApiError, CredentialIssuerMetadata, EcJwk};
use error::transport_error;
use serde::de::DeserializeOwned;
use std::sync::Mutex;
use std::time::Duration;
use url::Url;

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
    /// When set, token, credential and release requests carry DPoP proofs (RFC 9449)
    /// by this key, and access tokens go as `Authorization: DPoP`.
    dpop: Option<(
        crate::device_key::DeviceKey,
        std::sync::Arc<dyn crate::clock::Clock>,
    )>,
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
            dpop: None,
        })
    }

    /// Proves possession of `key` with DPoP at the token, credential and release
    /// endpoints (the server then binds the tokens to that key). `clock` dates the proofs.
    pub fn with_dpop(
        mut self,
        key: crate::device_key::DeviceKey,
        clock: std::sync::Arc<dyn crate::clock::Clock>,
    ) -> Self {
        self.dpop = Some((key, clock));
        self
    }

    /// Adds the DPoP proof for `POST path` (and the access token's authorization:
    /// `DPoP` with a proof, `Bearer` without).
    pub(super) fn authorize(
        &self,
        req: reqwest::RequestBuilder,
        path: &str,
        access_token: Option<&str>,
    ) -> Result<reqwest::RequestBuilder, ClientError> {
        let Some((key, clock)) = &self.dpop else {
            return Ok(match access_token {
                Some(t) => req.bearer_auth(t),
                None => req,
            });
        };
        let proof = key
            .dpop_proof("POST", &self.url(path), access_token, clock.now())
            .map_err(|e| ClientError::DeviceKey(e.to_string()))?;
        let req = req.header("DPoP", proof);
        Ok(match access_token {
            Some(t) => req.header(reqwest::header::AUTHORIZATION, format!("DPoP {t}")),
            None => req,
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

    pub(super) fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url(), path)
    }

    pub(super) async fn decode<T: DeserializeOwned>(
        resp: reqwest::Response,
    ) -> Result<T, ClientError> {
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

    pub(super) async fn send<T: DeserializeOwned>(
        &self,
        req: reqwest::RequestBuilder,
    ) -> Result<T, ClientError> {
        let resp = req.send().await.map_err(transport_error)?;
        Self::decode(resp).await
    }

    /// Retries on offline/timeout/busy with backoff (idempotent calls only).
    pub(super) async fn send_retry<T: DeserializeOwned>(
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
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::error::{ErrorCode, UiError};
    use crate::wire::{ApiErrorCode, EnrollRequest};
    use reqwest::StatusCode;

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
            let e = map_error(
                StatusCode::BAD_REQUEST,
                body(code, serde_json::json!({})),
                None,
            );
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
            device_proof: String::new(),
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
