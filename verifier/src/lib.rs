//! ikd-verifier: the party that checks an IKD credential (a bank, a clinic, a Dukcapil
//! desk), over OpenID4VP 1.0 with DCQL and SD-JWT VC.
//!
//! It makes signed request objects with its own certificate (`x509_hash` client id),
//! serves them at `request_uri` (GET, and POST with `wallet_metadata`), receives the
//! wallet's `direct_post` / `direct_post.jwt` at one `response_uri`, checks everything
//! ([`check`]) and keeps the result for the page and the JSON API.
//!
//! Routes: `GET /` demo page, `POST /demo/start`, `GET /demo/r/{id}`;
//! `POST /api/requests` → `{id, url, request_uri}`, `GET /api/requests/{id}` (result),
//! `GET /api/requests/{id}/qr.png`; `GET|POST /request/{id}`; `POST /response`.
#![forbid(unsafe_code)]

pub mod check;
pub mod demo;
mod page;

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use check::{Expectation, IssuerTrust, Refusal, StatusCache};
use chrono::{DateTime, Duration, Utc};
use ikd_proto::dcql::DcqlQuery;
use ikd_proto::jose::b64u_encode;
use ikd_proto::oid4vp::{
    self, jwe::DecryptionKey, AuthorizationRequest, ClientMetadata, ReceivedResponse,
    RequestSigner, RequestUriMethod, ResponseMode,
};
use ikd_proto::wire::EcJwk;
use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

/// How long a KB-JWT may be old, and a request may wait for its answer.
pub const MAX_AGE_SECS: i64 = 300;
/// Open requests kept at most (oldest dropped).
pub const MAX_SESSIONS: usize = 1000;

pub struct VerifierConfig {
    pub signer: RequestSigner,
    pub trust: IssuerTrust,
    /// Name shown on the page (the certificate's organisation).
    pub name: String,
    /// Base URL the wallet reaches us at; `None`: `http://` + the bound address.
    pub public_url: Option<String>,
    /// Web origins allowed to call the JSON API (`/api/…`) from a browser (CORS), e.g.
    /// the IKD app's ([`APP_ORIGINS`]). Empty: no cross-origin calls.
    pub cors_origins: Vec<String>,
}

/// The IKD app's web origins (Tauri 2: Linux and macOS `tauri://localhost`; Windows and
/// Android `http(s)://tauri.localhost`), allowed by `ikd-verifier demo` by default.
pub const APP_ORIGINS: [&str; 3] = [
    "tauri://localhost",
    "http://tauri.localhost",
    "https://tauri.localhost",
];

/// The outcome of one request, as the page and the API show it.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    Pending,
    Valid {
        credentials: Vec<check::Checked>,
    },
    Revoked {
        credentials: Vec<check::Checked>,
    },
    Invalid {
        reason: Refusal,
        message: String,
    },
    Declined {
        error: String,
        description: Option<String>,
    },
}

struct Session {
    client_id: String,
    nonce: String,
    state: String,
    query: DcqlQuery,
    request_jwt: String,
    url: String,
    decryption: Option<DecryptionKey>,
    enc_kid: String,
    created: DateTime<Utc>,
    answered: bool,
    outcome: Outcome,
}

pub struct Verifier {
    cfg: VerifierConfig,
    public_url: String,
    client_id: String,
    sessions: Mutex<HashMap<String, Session>>,
    status: StatusCache,
    metadata: Mutex<HashMap<String, (Value, DateTime<Utc>)>>,
    http: reqwest::Client,
}

fn random_id() -> Result<String, Refusal> {
    let mut b = [0u8; 18];
    SystemRandom::new()
        .fill(&mut b)
        .map_err(|_| Refusal::Malformed("rng".into()))?;
    Ok(b64u_encode(b))
}

#[derive(Debug, Deserialize)]
pub struct CreateRequest {
    /// One of the demo presets (`identitas`, `usia17`, `kk`), or …
    #[serde(default)]
    pub preset: Option<String>,
    /// … a DCQL query of its own.
    #[serde(default)]
    pub dcql_query: Option<Value>,
    #[serde(default)]
    pub response_mode: Option<ResponseMode>,
    /// `post`: the wallet POSTs `wallet_metadata` to the `request_uri`.
    #[serde(default)]
    pub request_uri_method: Option<String>,
    #[serde(default)]
    pub purpose: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, Clone)]
pub struct Created {
    pub id: String,
    /// The `openid4vp://` link (what the QR code holds).
    pub url: String,
    pub request_uri: String,
}

impl Verifier {
    pub fn new(cfg: VerifierConfig, public_url: String) -> Result<Self, Refusal> {
        let client_id = cfg
            .signer
            .client_id_x509_hash()
            .map_err(|e| Refusal::Malformed(e.to_string()))?;
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .map_err(|e| Refusal::Malformed(e.to_string()))?;
        Ok(Self {
            cfg,
            public_url: public_url.trim_end_matches('/').to_owned(),
            client_id,
            sessions: Mutex::new(HashMap::new()),
            status: StatusCache::default(),
            metadata: Mutex::new(HashMap::new()),
            http,
        })
    }

    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    fn sessions(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        self.sessions.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Creates a request: a signed request object waiting at its `request_uri`.
    pub fn create(&self, req: &CreateRequest) -> Result<Created, Refusal> {
        let preset = req.preset.as_deref().and_then(demo::Preset::from_id);
        let query = match (&req.dcql_query, preset) {
            (Some(q), _) => DcqlQuery::parse(q).map_err(|e| Refusal::Malformed(e.to_string()))?,
            (None, Some(p)) => p.query(),
            (None, None) => return Err(Refusal::Malformed("preset or dcql_query".into())),
        };
        let purpose = req
            .purpose
            .clone()
            .or_else(|| preset.map(|p| p.purpose().to_owned()));
        let mode = req.response_mode.unwrap_or(ResponseMode::DirectPostJwt);
        let method = match req.request_uri_method.as_deref() {
            Some("post") => RequestUriMethod::Post,
            _ => RequestUriMethod::Get,
        };
        let id = random_id()?;
        let nonce = random_id()?;
        let state = random_id()?;
        let enc_kid = random_id()?;
        let (decryption, jwks) = match mode {
            ResponseMode::DirectPostJwt => {
                let k = DecryptionKey::generate().map_err(|e| Refusal::Malformed(e.to_string()))?;
                let jwks = json!({"keys": [k.public_jwk(&enc_kid)]});
                (Some(k), Some(jwks))
            }
            ResponseMode::DirectPost => (None, None),
        };
        let request = AuthorizationRequest {
            client_id: self.client_id.clone(),
            response_mode: mode,
            response_uri: format!("{}/response", self.public_url),
            nonce: nonce.clone(),
            state: Some(state.clone()),
            dcql_query: query.clone(),
            client_metadata: ClientMetadata {
                jwks,
                encrypted_response_enc_values_supported: Some(vec![
                    "A128GCM".into(),
                    "A256GCM".into(),
                ]),
                vp_formats_supported: Some(json!({"dc+sd-jwt": {
                    "sd-jwt_alg_values": ["ES256"], "kb-jwt_alg_values": ["ES256"]}})),
                client_name: Some(self.cfg.name.clone()),
            },
            purpose,
        };
        let mut claims = request.to_claims();
        claims["aud"] = json!("https://self-issued.me/v2");
        claims["iat"] = json!(Utc::now().timestamp());
        let request_jwt = self
            .cfg
            .signer
            .sign(claims)
            .map_err(|e| Refusal::Malformed(e.to_string()))?;
        let request_uri = format!("{}/request/{id}", self.public_url);
        let url = oid4vp::request_link(&self.client_id, &request_uri, method);
        let mut sessions = self.sessions();
        if sessions.len() >= MAX_SESSIONS {
            if let Some(oldest) = sessions
                .iter()
                .min_by_key(|(_, s)| s.created)
                .map(|(k, _)| k.clone())
            {
                sessions.remove(&oldest);
            }
        }
        sessions.insert(
            id.clone(),
            Session {
                client_id: self.client_id.clone(),
                nonce,
                state,
                query,
                request_jwt,
                url: url.clone(),
                decryption,
                enc_kid,
                created: Utc::now(),
                answered: false,
                outcome: Outcome::Pending,
            },
        );
        Ok(Created {
            id,
            url,
            request_uri,
        })
    }

    pub fn request_object(&self, id: &str) -> Option<String> {
        self.sessions().get(id).map(|s| s.request_jwt.clone())
    }

    pub fn outcome(&self, id: &str) -> Option<Outcome> {
        self.sessions().get(id).map(|s| s.outcome.clone())
    }

    pub fn link(&self, id: &str) -> Option<String> {
        self.sessions().get(id).map(|s| s.url.clone())
    }

    /// Takes the session a response belongs to, marking it answered (so a second
    /// response for the same `state` is refused as a replay).
    fn claim_session(
        &self,
        resp: &ReceivedResponse,
    ) -> Result<(String, Option<DecryptionKey>), Refusal> {
        let mut sessions = self.sessions();
        let now = Utc::now();
        let found = match resp {
            ReceivedResponse::Encrypted { jwe } => {
                let kid = oid4vp::jwe::header(jwe)
                    .ok()
                    .and_then(|h| h.get("kid").and_then(Value::as_str).map(str::to_owned));
                sessions
                    .iter_mut()
                    .find(|(_, s)| kid.as_deref() == Some(s.enc_kid.as_str()))
            }
            ReceivedResponse::VpToken { state, .. } | ReceivedResponse::Error { state, .. } => {
                sessions
                    .iter_mut()
                    .find(|(_, s)| state.as_deref() == Some(s.state.as_str()))
            }
        };
        let (id, s) = found.ok_or(Refusal::Replay)?;
        if s.answered || now - s.created > Duration::seconds(MAX_AGE_SECS) {
            return Err(Refusal::Replay);
        }
        s.answered = true;
        Ok((id.clone(), s.decryption.take()))
    }

    fn set_outcome(&self, id: &str, outcome: Outcome) {
        if let Some(s) = self.sessions().get_mut(id) {
            s.outcome = outcome;
        }
    }

    /// Handles a `response_uri` POST body. `Ok(id)` when it was accepted as valid (or a
    /// decline), `Err` with the refusal otherwise (also recorded as the outcome).
    pub async fn receive(&self, body: &[u8]) -> Result<(String, Outcome), Refusal> {
        let resp =
            oid4vp::parse_response_form(body).map_err(|e| Refusal::Malformed(e.to_string()))?;
        let (id, key) = self.claim_session(&resp)?;
        let result = self.process(&id, resp, key).await;
        let outcome = match &result {
            Ok(o) => o.clone(),
            Err(r) => Outcome::Invalid {
                reason: r.clone(),
                message: r.to_string(),
            },
        };
        self.set_outcome(&id, outcome.clone());
        result.map(|o| (id, o))
    }

    async fn process(
        &self,
        id: &str,
        resp: ReceivedResponse,
        key: Option<DecryptionKey>,
    ) -> Result<Outcome, Refusal> {
        let (expected_state, client_id, nonce, query) = {
            let sessions = self.sessions();
            let s = sessions.get(id).ok_or(Refusal::Replay)?;
            (
                s.state.clone(),
                s.client_id.clone(),
                s.nonce.clone(),
                s.query.clone(),
            )
        };
        let resp = match resp {
            ReceivedResponse::Encrypted { jwe } => {
                let key = key.ok_or(Refusal::Malformed("unexpected encrypted response".into()))?;
                let plain = key
                    .decrypt(&jwe)
                    .map_err(|e| Refusal::Malformed(e.to_string()))?;
                oid4vp::parse_decrypted(&plain).map_err(|e| Refusal::Malformed(e.to_string()))?
            }
            other => {
                if key.is_some() {
                    // direct_post.jwt was asked for: a clear vp_token is refused.
                    if matches!(other, ReceivedResponse::VpToken { .. }) {
                        return Err(Refusal::Malformed("response must be encrypted".into()));
                    }
                }
                other
            }
        };
        match resp {
            ReceivedResponse::Error {
                error,
                description,
                state,
            } => {
                if state.as_deref() != Some(expected_state.as_str()) {
                    return Err(Refusal::Replay);
                }
                Ok(Outcome::Declined { error, description })
            }
            ReceivedResponse::VpToken { vp_token, state } => {
                if state.as_deref() != Some(expected_state.as_str()) {
                    return Err(Refusal::Replay);
                }
                let exp = Expectation {
                    client_id: &client_id,
                    nonce: &nonce,
                    query: &query,
                    now: Utc::now(),
                    max_age: Duration::seconds(MAX_AGE_SECS),
                };
                self.check_vp_token(&vp_token, &exp).await
            }
            ReceivedResponse::Encrypted { .. } => Err(Refusal::Malformed("nested JWE".into())),
        }
    }

    /// Every check of [`check`] on a `vp_token`.
    pub async fn check_vp_token(
        &self,
        vp_token: &Value,
        exp: &Expectation<'_>,
    ) -> Result<Outcome, Refusal> {
        let items = check::presentations(vp_token, exp.query)?;
        let mut out = Vec::new();
        let mut revoked = false;
        for (q, sd_jwt) in items {
            let key = self.issuer_key(sd_jwt, exp.now).await?;
            let checked = check::verify_one(sd_jwt, &key, q, exp)?;
            if let Some((uri, idx)) = &checked.status_ref {
                let status = self.status_of(uri, *idx, &key, exp.now).await?;
                if status != 0 {
                    revoked = true;
                }
            }
            out.push(checked);
        }
        Ok(if revoked {
            Outcome::Revoked { credentials: out }
        } else {
            Outcome::Valid { credentials: out }
        })
    }

    async fn issuer_key(&self, sd_jwt: &str, now: DateTime<Utc>) -> Result<EcJwk, Refusal> {
        match check::key_source(sd_jwt, &self.cfg.trust, now)? {
            check::KeySource::Chain(k) => Ok(k),
            check::KeySource::Metadata { iss, kid } => {
                let cached = self.metadata.lock().ok().and_then(|m| {
                    m.get(&iss)
                        .filter(|(_, t)| now < *t)
                        .map(|(v, _)| v.clone())
                });
                let meta = match cached {
                    Some(m) => m,
                    None => {
                        let url = check::metadata_url(&iss)
                            .ok_or(Refusal::UntrustedIssuer("iss is not a URL".into()))?;
                        let m: Value = self
                            .http
                            .get(&url)
                            .send()
                            .await
                            .and_then(|r| r.error_for_status())
                            .map_err(|e| Refusal::UntrustedIssuer(format!("metadata: {e}")))?
                            .json()
                            .await
                            .map_err(|e| Refusal::UntrustedIssuer(format!("metadata: {e}")))?;
                        if let Ok(mut c) = self.metadata.lock() {
                            c.insert(
                                iss.clone(),
                                (m.clone(), now + Duration::seconds(check::DEFAULT_TTL_SECS)),
                            );
                        }
                        m
                    }
                };
                check::key_from_metadata(&meta, &iss, kid.as_deref())
            }
        }
    }

    async fn status_of(
        &self,
        uri: &str,
        idx: usize,
        key: &EcJwk,
        now: DateTime<Utc>,
    ) -> Result<u8, Refusal> {
        let token = match self.status.get(uri, now) {
            Some(t) => t,
            None => {
                let t = self
                    .http
                    .get(uri)
                    .header(header::ACCEPT, "application/statuslist+jwt")
                    .send()
                    .await
                    .and_then(|r| r.error_for_status())
                    .map_err(|e| Refusal::Status(e.to_string()))?
                    .text()
                    .await
                    .map_err(|e| Refusal::Status(e.to_string()))?;
                let (_, ttl) = check::status_at(&t, uri, idx, key, now)?;
                self.status.put(uri, t.clone(), ttl, now);
                t
            }
        };
        Ok(check::status_at(&token, uri, idx, key, now)?.0)
    }
}

type Shared = Arc<Verifier>;

fn refusal_response(r: &Refusal) -> Response {
    let status = match r {
        Refusal::Status(_) => StatusCode::BAD_GATEWAY,
        _ => StatusCode::BAD_REQUEST,
    };
    (
        status,
        Json(json!({"error": "invalid_request", "error_description": r.to_string(), "reason": r})),
    )
        .into_response()
}

async fn api_create(State(v): State<Shared>, Json(req): Json<CreateRequest>) -> Response {
    match v.create(&req) {
        Ok(c) => (StatusCode::CREATED, Json(c)).into_response(),
        Err(r) => refusal_response(&r),
    }
}

async fn api_result(State(v): State<Shared>, Path(id): Path<String>) -> Response {
    match v.outcome(&id) {
        Some(o) => Json(o).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn api_qr(State(v): State<Shared>, Path(id): Path<String>) -> Response {
    let Some(link) = v.link(&id) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match page::qr_png(&link) {
        Some(png) => ([(header::CONTENT_TYPE, "image/png")], png).into_response(),
        None => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

async fn request_object(State(v): State<Shared>, Path(id): Path<String>) -> Response {
    match v.request_object(&id) {
        Some(jwt) => ([(header::CONTENT_TYPE, oid4vp::REQUEST_CONTENT_TYPE)], jwt).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn response_uri(State(v): State<Shared>, body: axum::body::Bytes) -> Response {
    match v.receive(&body).await {
        Ok((id, _)) => {
            Json(json!({"redirect_uri": format!("{}/demo/r/{id}", v.public_url)})).into_response()
        }
        Err(r) => refusal_response(&r),
    }
}

#[derive(Deserialize)]
struct StartForm {
    preset: String,
    #[serde(default)]
    mode: Option<String>,
}

async fn demo_start(State(v): State<Shared>, Form(f): Form<StartForm>) -> Response {
    let mode = match f.mode.as_deref() {
        Some("direct_post") => ResponseMode::DirectPost,
        _ => ResponseMode::DirectPostJwt,
    };
    let req = CreateRequest {
        preset: Some(f.preset),
        dcql_query: None,
        response_mode: Some(mode),
        request_uri_method: None,
        purpose: None,
    };
    match v.create(&req) {
        Ok(c) => Redirect::to(&format!("/demo/r/{}", c.id)).into_response(),
        Err(r) => refusal_response(&r),
    }
}

async fn demo_home(State(v): State<Shared>) -> Response {
    axum::response::Html(page::home(&v.cfg.name, v.client_id())).into_response()
}

async fn demo_request(State(v): State<Shared>, Path(id): Path<String>) -> Response {
    let (Some(link), Some(outcome)) = (v.link(&id), v.outcome(&id)) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    axum::response::Html(page::request(&id, &link, &outcome)).into_response()
}

/// CORS for the JSON API: the configured origins only, GET and POST, JSON bodies.
fn api_cors(origins: &[String]) -> tower_http::cors::CorsLayer {
    use axum::http::{HeaderValue, Method};
    let list: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    tower_http::cors::CorsLayer::new()
        .allow_origin(tower_http::cors::AllowOrigin::list(list))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::CONTENT_TYPE])
}

pub fn router(v: Shared) -> Router {
    let api = Router::new()
        .route("/api/requests", post(api_create))
        .route("/api/requests/{id}", get(api_result))
        .route("/api/requests/{id}/qr.png", get(api_qr))
        .layer(api_cors(&v.cfg.cors_origins));
    Router::new()
        .route("/", get(demo_home))
        .route("/demo/start", post(demo_start))
        .route("/demo/r/{id}", get(demo_request))
        .merge(api)
        .route("/request/{id}", get(request_object).post(request_object))
        .route("/response", post(response_uri))
        .layer(axum::extract::DefaultBodyLimit::max(4 * 1024 * 1024))
        .with_state(v)
}

/// A running verifier.
pub struct RunningVerifier {
    pub addr: SocketAddr,
    pub base_url: String,
    pub verifier: Shared,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl RunningVerifier {
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("bind: {0}")]
    Bind(#[from] std::io::Error),
    #[error("{0}")]
    Config(Refusal),
}

/// Binds `addr` and serves until shut down.
pub async fn start(cfg: VerifierConfig, addr: SocketAddr) -> Result<RunningVerifier, StartError> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let base_url = cfg
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{addr}"));
    let verifier = Arc::new(Verifier::new(cfg, base_url.clone()).map_err(StartError::Config)?);
    let app = router(verifier.clone());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await;
    });
    Ok(RunningVerifier {
        addr,
        base_url,
        verifier,
        shutdown: Some(tx),
        task: Some(task),
    })
}
