//! HTTP client for the enrollment API and OpenID4VCI (the backend is `ikd-server`).
//!
//! HTTPS is required, except for loopback (127.0.0.0/8, ::1, localhost).
//!
//! Timeouts fit slow links ([`NetPolicy`]): a connect timeout, and a read timeout
//! instead of a total one (reqwest's `read_timeout`: until the answer's first byte,
//! which covers sending the request, then per read of the body), so a slow but live
//! 150 KB selfie upload on 2G is not killed. Calls are retried on offline, timeout,
//! busy and cut answers with exponential backoff and full jitter, bounded in count and
//! in total time: the idempotent ones (status, metadata, nonce), and every
//! state-changing POST, which carries an `Idempotency-Key` ([`IdempotencyKey`]; the
//! server replays its stored answer for the same key and body). Tokens and codes
//! travel in [`SecretString`].

mod enrollment;
mod error;
mod oid4vci;
mod upload;

pub use error::{map_error, ClientError};
pub use oid4vci::parse_credential_offer;
pub use upload::{ChunkSize, NewUpload, OnUpload, TUS_VERSION, UPLOAD_CHUNK};

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
    policy: NetPolicy,
    /// When set, token, credential and release requests carry DPoP proofs (RFC 9449)
    /// by this key, and access tokens go as `Authorization: DPoP`.
    dpop: Option<(
        crate::device_key::DeviceKey,
        std::sync::Arc<dyn crate::clock::Clock>,
    )>,
    /// The issuer URL the server knows itself by, for the DPoP `htu` (a proxy on
    /// another address may stand between); `None`: the base URL.
    htu_base: Option<String>,
}

/// Timeouts and retries of the client.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NetPolicy {
    /// TCP + TLS connect.
    pub connect_timeout: Duration,
    /// No answer byte for this long (from the request's start until the headers, then
    /// between reads of the body) fails the attempt.
    pub read_timeout: Duration,
    /// Attempts per call, the first included.
    pub attempts: u32,
    /// No retry starts after this long since the call began.
    pub retry_budget: Duration,
    /// Backoff: the n-th retry waits a random time in [0, min(cap, base·2ⁿ)].
    pub backoff_base: Duration,
    pub backoff_cap: Duration,
}

impl Default for NetPolicy {
    /// connect 10 s; read 60 s (a 150 KB selfie, 200 KB in base64, takes ~32 s at
    /// 50 kbit/s); 5 attempts within 120 s; backoff 500 ms doubling up to 8 s.
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(60),
            attempts: 5,
            retry_budget: Duration::from_secs(120),
            backoff_base: Duration::from_millis(500),
            backoff_cap: Duration::from_secs(8),
        }
    }
}

impl NetPolicy {
    /// The wait before retry number `retry` (0-based): full jitter, a uniform random
    /// time in [0, min(cap, base·2^retry)].
    pub fn backoff(&self, retry: u32) -> Duration {
        let ceiling = self
            .backoff_base
            .saturating_mul(1u32.checked_shl(retry.min(20)).unwrap_or(u32::MAX))
            .min(self.backoff_cap);
        let mut b = [0u8; 8];
        // No randomness (never on a working OS): wait the whole ceiling.
        if ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b).is_err() {
            return ceiling;
        }
        let unit = (u64::from_le_bytes(b) >> 11) as f64 / (1u64 << 53) as f64;
        ceiling.mul_f64(unit)
    }

    /// After a lost answer (offline, timeout, busy: see [`lost_answer`]): the wait
    /// before retry number `retry` (0-based) of a call that began `elapsed` ago, or
    /// None when the attempts or the retry budget are spent.
    pub fn retry_wait(&self, retry: u32, elapsed: Duration) -> Option<Duration> {
        let wait = self.backoff(retry);
        (retry + 1 < self.attempts && elapsed + wait <= self.retry_budget).then_some(wait)
    }
}

/// Whether `e` means the answer was lost (so the same request may be sent again).
pub(super) fn lost_answer(e: &ClientError) -> bool {
    matches!(
        e,
        ClientError::Offline | ClientError::Timeout | ClientError::ServerBusy
    )
}

/// The `Idempotency-Key` of one state-changing request: 128 random bits, base64url.
/// Keep it with the pending step so a retry (also after an app restart) sends the same
/// key and body, and the server answers what it answered the first time.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn random() -> Self {
        use base64::Engine;
        let mut b = [0u8; 16];
        // SystemRandom fails only without an OS RNG; then the key is the time's nanos
        // and the process id (unique enough for one device's retries).
        if ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b).is_err() {
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default();
            b = (t ^ (u128::from(std::process::id()) << 96)).to_le_bytes();
        }
        Self(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The header name.
pub const IDEMPOTENCY_KEY: &str = "Idempotency-Key";

/// A state-changing request ready to send: its [`IdempotencyKey`] and its exact body
/// (JSON or a form). The wallet keeps it, sealed, with the pending step, so a retry
/// after an app restart resends the same key *and* the same bytes (a submit or a
/// credential request carries a proof over a nonce that was spent; a code entry
/// carries the code), and the server replays its first answer.
#[derive(Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Prepared {
    pub key: IdempotencyKey,
    /// May hold a code, a proof or a selfie.
    pub body: SecretString,
}

impl std::fmt::Debug for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prepared")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl Prepared {
    /// `body` under a fresh key.
    pub fn new(body: String) -> Self {
        Self::with_key(IdempotencyKey::random(), body)
    }

    pub fn with_key(key: IdempotencyKey, body: String) -> Self {
        Self {
            key,
            body: SecretString::new(body),
        }
    }

    /// `v` as JSON under `key`.
    pub fn json<T: serde::Serialize>(key: IdempotencyKey, v: &T) -> Result<Self, ClientError> {
        let body = serde_json::to_string(v).map_err(|_| ClientError::Protocol("body".into()))?;
        Ok(Self::with_key(key, body))
    }
}

impl BackendClient {
    pub fn new(base_url: &str) -> Result<Self, ClientError> {
        Self::with_policy(base_url, NetPolicy::default())
    }

    pub fn with_policy(base_url: &str, policy: NetPolicy) -> Result<Self, ClientError> {
        let base =
            Url::parse(base_url.trim_end_matches('/')).map_err(|_| ClientError::InvalidUrl)?;
        check_url(&base)?;
        // Never follow a redirect (a redirect could carry the bearer or the selfie to
        // another origin), and an https backend is spoken to over https only.
        let http = reqwest::Client::builder()
            .connect_timeout(policy.connect_timeout)
            .read_timeout(policy.read_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .https_only(base.scheme() == "https")
            .build()
            .map_err(|_| ClientError::Protocol("HTTP client".into()))?;
        Ok(Self {
            base,
            http,
            pinned_issuer_jwk: Mutex::new(None),
            policy,
            dpop: None,
            htu_base: None,
        })
    }

    pub fn policy(&self) -> NetPolicy {
        self.policy
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

    /// DPoP proofs name `issuer_url` + path as `htu` (the URL the server is known by),
    /// not the base URL this client connects to.
    pub fn with_htu_base(mut self, issuer_url: &str) -> Self {
        self.htu_base = Some(issuer_url.trim_end_matches('/').to_owned());
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
        let htu = match &self.htu_base {
            Some(b) => format!("{b}{path}"),
            None => self.url(path),
        };
        let proof = key
            .dpop_proof("POST", &htu, access_token, clock.now())
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
            // A body cut short (the connection dropped) is a transport failure, retried.
            let body = resp.bytes().await.map_err(transport_error)?;
            return serde_json::from_slice::<T>(&body)
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

    /// Retries `f` on a lost answer (offline, timeout, busy) with backoff, the policy's
    /// attempts within its retry budget.
    pub(super) async fn retrying<T, F, Fut>(&self, f: F) -> Result<T, ClientError>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<T, ClientError>>,
    {
        let start = tokio::time::Instant::now();
        let mut retry = 0u32;
        loop {
            match f().await {
                Err(e) if lost_answer(&e) => {
                    let Some(wait) = self.policy.retry_wait(retry, start.elapsed()) else {
                        return Err(e);
                    };
                    retry += 1;
                    tokio::time::sleep(wait).await;
                }
                r => return r,
            }
        }
    }

    /// Retries on offline/timeout/busy with backoff (idempotent calls only): the
    /// policy's attempts within its retry budget, full-jitter exponential waits.
    pub(super) async fn send_retry<T: DeserializeOwned>(
        &self,
        make: impl Fn() -> Result<reqwest::RequestBuilder, ClientError>,
    ) -> Result<T, ClientError> {
        self.retrying(|| async { self.send(make()?).await }).await
    }

    /// A state-changing POST with an `Idempotency-Key`, retried like an idempotent
    /// call: `make` builds the same body each time (fresh DPoP proofs are fine; the
    /// server compares the body and the authorization).
    pub(super) async fn send_keyed<T: DeserializeOwned>(
        &self,
        key: &IdempotencyKey,
        make: impl Fn() -> Result<reqwest::RequestBuilder, ClientError>,
    ) -> Result<T, ClientError> {
        self.send_retry(|| Ok(make()?.header(IDEMPOTENCY_KEY, key.as_str())))
            .await
    }

    /// POSTs `p` (its key and exact body, of `content_type`) to `path`; `auth` adds the
    /// authorization (and DPoP proof) to each attempt.
    pub(super) async fn send_prepared<T: DeserializeOwned>(
        &self,
        path: &str,
        content_type: &str,
        p: &Prepared,
        auth: impl Fn(reqwest::RequestBuilder) -> Result<reqwest::RequestBuilder, ClientError>,
    ) -> Result<T, ClientError> {
        self.send_prepared_counted(path, content_type, p, auth, None)
            .await
    }

    /// [`Self::send_prepared`], telling `on` the body's bytes handed to the connection
    /// (each attempt counts from 0; see [`OnUpload`] for what is counted).
    pub(super) async fn send_prepared_counted<T: DeserializeOwned>(
        &self,
        path: &str,
        content_type: &str,
        p: &Prepared,
        auth: impl Fn(reqwest::RequestBuilder) -> Result<reqwest::RequestBuilder, ClientError>,
        on: Option<&OnUpload>,
    ) -> Result<T, ClientError> {
        let url = self.url(path);
        self.send_keyed(&p.key, || {
            // The body as it was first sent (it may carry a code or a proof).
            let body = match on {
                Some(on) => reqwest::Body::wrap(upload::CountingBody::new(
                    bytes::Bytes::from(p.body.expose().clone().into_bytes()),
                    on.clone(),
                )),
                None => reqwest::Body::from(p.body.expose().clone()),
            };
            let req = self
                .http
                .post(&url)
                .header(reqwest::header::CONTENT_TYPE, content_type)
                .body(body);
            auth(req)
        })
        .await
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

    /// A loopback HTTP server that answers every request 503 and keeps each request's
    /// `Idempotency-Key` header (None without one).
    /// A server whose every answer is `answer` (a whole HTTP/1.1 response).
    async fn canned_server(answer: String) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                let mut buf = [0u8; 4096];
                let _ = sock.read(&mut buf).await;
                let _ = sock.write_all(answer.as_bytes()).await;
            }
        });
        format!("http://{addr}")
    }

    /// Issue 11 item 11: a redirect is not followed (before the fix reqwest followed
    /// up to 10, to any origin).
    #[tokio::test]
    async fn redirects_are_not_followed() {
        let elsewhere = canned_server(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 15\r\nconnection: close\r\n\r\n{\"c_nonce\":\"x\"}".into(),
        )
        .await;
        let redirecting = canned_server(format!(
            "HTTP/1.1 307 Temporary Redirect\r\nlocation: {elsewhere}/nonce\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
        ))
        .await;
        let c = BackendClient::with_policy(&redirecting, quick()).unwrap();
        assert!(c.nonce().await.is_err());
        // The target itself answers.
        let c = BackendClient::with_policy(&elsewhere, quick()).unwrap();
        assert_eq!(c.nonce().await.unwrap(), "x");
    }

    async fn busy_server() -> (String, std::sync::Arc<Mutex<Vec<Option<String>>>>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let hits = std::sync::Arc::new(Mutex::new(Vec::new()));
        let h = hits.clone();
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                let mut buf = [0u8; 4096];
                let n = sock.read(&mut buf).await.unwrap_or(0);
                let head = String::from_utf8_lossy(&buf[..n]).to_ascii_lowercase();
                let key = head
                    .lines()
                    .find_map(|l| l.strip_prefix("idempotency-key: "))
                    .map(|k| k.trim().to_owned());
                h.lock().unwrap().push(key);
                let _ = sock
                    .write_all(b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                    .await;
            }
        });
        (format!("http://{addr}"), hits)
    }

    fn quick() -> NetPolicy {
        NetPolicy {
            attempts: 3,
            backoff_base: Duration::from_millis(1),
            backoff_cap: Duration::from_millis(5),
            ..NetPolicy::default()
        }
    }

    #[tokio::test]
    async fn idempotent_calls_and_keyed_posts_retry_with_one_key() {
        let (url, hits) = busy_server().await;
        let c = BackendClient::with_policy(&url, quick()).unwrap();
        let token = SecretString::new("t".into());
        assert_eq!(
            c.status("e1", &token).await.unwrap_err(),
            ClientError::ServerBusy
        );
        assert_eq!(
            *hits.lock().unwrap(),
            vec![None, None, None],
            "status: 3 tries"
        );
        hits.lock().unwrap().clear();
        let req = EnrollRequest {
            nik: "1671014509900001".into(),
            email: "a@b.co".into(),
            phone: "+6281234567890".into(),
            selfie_jpeg: Some(String::new()),
            selfie_upload: None,
            device_jwk: EcJwk {
                kty: "EC".into(),
                crv: "P-256".into(),
                x: String::new(),
                y: String::new(),
            },
            device_proof: String::new(),
        };
        let key = IdempotencyKey::random();
        assert_eq!(
            c.submit_keyed(&req, &key).await.unwrap_err(),
            ClientError::ServerBusy
        );
        let want = Some(key.as_str().to_ascii_lowercase());
        assert_eq!(
            *hits.lock().unwrap(),
            vec![want.clone(), want.clone(), want],
            "submit: retried, always with its key"
        );
    }

    #[test]
    fn backoff_is_full_jitter_under_a_doubling_cap() {
        let p = NetPolicy::default();
        for retry in 0..8 {
            let ceiling = (p.backoff_base * 2u32.pow(retry)).min(p.backoff_cap);
            for _ in 0..20 {
                assert!(p.backoff(retry) <= ceiling, "retry {retry}");
            }
        }
        // Jitter: not every wait is the ceiling.
        assert!((0..20).any(|_| p.backoff(3) < p.backoff_base * 8));
        assert_ne!(IdempotencyKey::random(), IdempotencyKey::random());
        assert_eq!(IdempotencyKey::random().as_str().len(), 22);
    }

    #[tokio::test]
    async fn a_closed_port_is_offline() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let c = BackendClient::with_policy(&format!("http://{addr}"), quick()).unwrap();
        let e = c.nonce().await.unwrap_err();
        assert_eq!(e, ClientError::Offline);
        assert_eq!(UiError::from(e).code, ErrorCode::Offline);
    }
}
