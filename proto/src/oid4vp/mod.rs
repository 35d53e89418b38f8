//! OpenID4VP 1.0 (final), sans I/O: the request a verifier makes and the response a
//! wallet sends, for SD-JWT VC with DCQL.
//!
//! - Request URL: `openid4vp://?client_id=…&request_uri=…[&request_uri_method=post]`
//!   ([`parse_request_url`]); by value only for unsigned dev requests.
//! - Request object: a signed JAR, `typ oauth-authz-req+jwt`, ES256, `x5c` header.
//!   The leaf must match the client identifier: `x509_hash:<b64url SHA-256 of the leaf
//!   DER>` or `x509_san_dns:<a SAN dNSName of the leaf>` (HAIP 1.0); the chain is then
//!   checked against the relying-party trust anchors ([`verify_request_object`]).
//! - Response: `direct_post` (form `vp_token`, `state`) or `direct_post.jwt` (form
//!   `response` = JWE ECDH-ES to a key in `client_metadata.jwks`), `vp_token` a JSON
//!   object keyed by DCQL credential query id with an array of presentations each.
//!   Errors (`access_denied`, …) go to the same `response_uri` as a plain form.

pub mod jwe;

use crate::dcql::{DcqlError, DcqlQuery};
use crate::jose::{self, EcKeyPair};
use crate::x509::{Cert, TrustAnchors, X509Error};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

pub const REQUEST_TYP: &str = "oauth-authz-req+jwt";
pub const REQUEST_CONTENT_TYPE: &str = "application/oauth-authz-req+jwt";
pub const PREFIX_X509_HASH: &str = "x509_hash:";
pub const PREFIX_X509_SAN_DNS: &str = "x509_san_dns:";
/// Unsigned requests (dev builds only).
pub const PREFIX_REDIRECT_URI: &str = "redirect_uri:";
pub const MODE_DIRECT_POST: &str = "direct_post";
pub const MODE_DIRECT_POST_JWT: &str = "direct_post.jwt";
pub const ACCESS_DENIED: &str = "access_denied";
/// Largest request object accepted.
pub const MAX_REQUEST_LEN: usize = 64 * 1024;

#[derive(Debug, thiserror::Error, PartialEq, Eq, Clone)]
pub enum Oid4vpError {
    #[error("not an OpenID4VP request link")]
    MalformedUrl,
    #[error("malformed authorization request")]
    MalformedRequest,
    #[error("request object has the wrong type")]
    WrongType,
    #[error("request object signature invalid")]
    BadSignature,
    #[error("client identifier does not match the request's certificate")]
    ClientIdMismatch,
    #[error("unsupported client identifier prefix")]
    UnsupportedClientId,
    #[error("verifier certificate: {0}")]
    Certificate(X509Error),
    #[error("unsupported response mode")]
    UnsupportedResponseMode,
    #[error("DCQL: {0}")]
    Dcql(DcqlError),
    #[error("unsigned requests are accepted in development builds only")]
    UnsignedNotAllowed,
    #[error("response encryption: {0}")]
    Encryption(jwe::JweError),
    #[error("malformed authorization response")]
    MalformedResponse,
}

impl From<X509Error> for Oid4vpError {
    fn from(e: X509Error) -> Self {
        Oid4vpError::Certificate(e)
    }
}
impl From<DcqlError> for Oid4vpError {
    fn from(e: DcqlError) -> Self {
        Oid4vpError::Dcql(e)
    }
}
impl From<jwe::JweError> for Oid4vpError {
    fn from(e: jwe::JweError) -> Self {
        Oid4vpError::Encryption(e)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestUriMethod {
    Get,
    Post,
}

/// Where the request is.
#[derive(Debug, Clone, PartialEq)]
pub enum RequestLocation {
    ByReference {
        client_id: String,
        request_uri: String,
        method: RequestUriMethod,
    },
    /// Parameters in the URL itself (unsigned; dev builds only).
    ByValue(Map<String, Value>),
}

/// Parses an `openid4vp://` (or any scheme's) request link.
pub fn parse_request_url(link: &str) -> Result<RequestLocation, Oid4vpError> {
    let link = link.trim();
    if link.len() > 16 * 1024 {
        return Err(Oid4vpError::MalformedUrl);
    }
    let url = url::Url::parse(link).map_err(|_| Oid4vpError::MalformedUrl)?;
    let mut params = Map::new();
    for (k, v) in url.query_pairs() {
        if params
            .insert(k.to_string(), Value::String(v.to_string()))
            .is_some()
        {
            return Err(Oid4vpError::MalformedUrl);
        }
    }
    let client_id = params
        .get("client_id")
        .and_then(Value::as_str)
        .ok_or(Oid4vpError::MalformedUrl)?
        .to_owned();
    if let Some(uri) = params.get("request_uri").and_then(Value::as_str) {
        let method = match params.get("request_uri_method").and_then(Value::as_str) {
            None | Some("get") => RequestUriMethod::Get,
            Some("post") => RequestUriMethod::Post,
            Some(_) => return Err(Oid4vpError::MalformedUrl),
        };
        let parsed = url::Url::parse(uri).map_err(|_| Oid4vpError::MalformedUrl)?;
        if !matches!(parsed.scheme(), "https" | "http") {
            return Err(Oid4vpError::MalformedUrl);
        }
        return Ok(RequestLocation::ByReference {
            client_id,
            request_uri: uri.to_owned(),
            method,
        });
    }
    // By value: dcql_query and client_metadata are JSON strings.
    for k in ["dcql_query", "client_metadata"] {
        if let Some(Value::String(s)) = params.get(k).cloned() {
            let v: Value = serde_json::from_str(&s).map_err(|_| Oid4vpError::MalformedUrl)?;
            params.insert(k.into(), v);
        }
    }
    Ok(RequestLocation::ByValue(params))
}

/// What the wallet says about itself when `request_uri_method=post` (§5.10).
pub fn wallet_metadata() -> Value {
    json!({
        "vp_formats_supported": {
            "dc+sd-jwt": {"sd-jwt_alg_values": ["ES256"], "kb-jwt_alg_values": ["ES256"]}
        },
        "client_id_prefixes_supported": ["x509_hash", "x509_san_dns"],
        "request_object_signing_alg_values_supported": ["ES256"],
        "response_types_supported": ["vp_token"],
        "response_modes_supported": [MODE_DIRECT_POST, MODE_DIRECT_POST_JWT],
        "authorization_encryption_alg_values_supported": [jwe::ALG_ECDH_ES],
        "authorization_encryption_enc_values_supported": ["A128GCM", "A256GCM"],
    })
}

/// The form body of a `request_uri` POST.
pub fn request_uri_post_body() -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .append_pair("wallet_metadata", &wallet_metadata().to_string())
        .finish()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ResponseMode {
    #[serde(rename = "direct_post")]
    DirectPost,
    #[serde(rename = "direct_post.jwt")]
    DirectPostJwt,
}

impl ResponseMode {
    pub fn name(self) -> &'static str {
        match self {
            ResponseMode::DirectPost => MODE_DIRECT_POST,
            ResponseMode::DirectPostJwt => MODE_DIRECT_POST_JWT,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ClientMetadata {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encrypted_response_enc_values_supported: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vp_formats_supported: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_name: Option<String>,
}

/// A parsed authorization request (signed or not).
#[derive(Debug, Clone, PartialEq)]
pub struct AuthorizationRequest {
    pub client_id: String,
    pub response_mode: ResponseMode,
    pub response_uri: String,
    pub nonce: String,
    pub state: Option<String>,
    pub dcql_query: DcqlQuery,
    pub client_metadata: ClientMetadata,
    /// Why the verifier asks (not a registered OpenID4VP parameter; shown if present).
    pub purpose: Option<String>,
}

fn s<'a>(m: &'a Map<String, Value>, k: &str) -> Option<&'a str> {
    m.get(k).and_then(Value::as_str)
}

impl AuthorizationRequest {
    pub fn from_claims(m: &Map<String, Value>) -> Result<Self, Oid4vpError> {
        let bad = || Oid4vpError::MalformedRequest;
        if s(m, "response_type") != Some("vp_token") {
            return Err(bad());
        }
        let response_mode = match s(m, "response_mode") {
            Some(MODE_DIRECT_POST) => ResponseMode::DirectPost,
            Some(MODE_DIRECT_POST_JWT) => ResponseMode::DirectPostJwt,
            _ => return Err(Oid4vpError::UnsupportedResponseMode),
        };
        let response_uri = s(m, "response_uri").ok_or_else(bad)?.to_owned();
        let parsed = url::Url::parse(&response_uri).map_err(|_| bad())?;
        if !matches!(parsed.scheme(), "https" | "http") {
            return Err(bad());
        }
        let nonce = s(m, "nonce")
            .filter(|n| !n.is_empty())
            .ok_or_else(bad)?
            .to_owned();
        let dcql_query = DcqlQuery::parse(m.get("dcql_query").ok_or_else(bad)?)?;
        let client_metadata = match m.get("client_metadata") {
            None => ClientMetadata::default(),
            Some(v) => serde_json::from_value(v.clone()).map_err(|_| bad())?,
        };
        if response_mode == ResponseMode::DirectPostJwt && client_metadata.jwks.is_none() {
            return Err(bad());
        }
        Ok(Self {
            client_id: s(m, "client_id").ok_or_else(bad)?.to_owned(),
            response_mode,
            response_uri,
            nonce,
            state: s(m, "state").map(str::to_owned),
            dcql_query,
            client_metadata,
            purpose: s(m, "purpose").map(str::to_owned),
        })
    }

    pub fn to_claims(&self) -> Value {
        let mut v = json!({
            "response_type": "vp_token",
            "client_id": self.client_id,
            "response_mode": self.response_mode.name(),
            "response_uri": self.response_uri,
            "nonce": self.nonce,
            "dcql_query": self.dcql_query,
            "client_metadata": self.client_metadata,
        });
        if let Some(st) = &self.state {
            v["state"] = json!(st);
        }
        if let Some(p) = &self.purpose {
            v["purpose"] = json!(p);
        }
        v
    }

    /// The host the response goes to.
    pub fn response_host(&self) -> String {
        url::Url::parse(&self.response_uri)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_default()
    }
}

/// Whether the verifier is one the wallet's configuration knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientTrust {
    /// Its certificate chains to a configured relying-party trust anchor.
    Registered { anchor: String },
    /// Signed and consistent, but its certificate does not chain to an anchor.
    Unknown { reason: String },
    /// No signature at all (dev builds only).
    Unsigned,
}

/// A request whose signature and client identifier were checked.
#[derive(Debug, Clone)]
pub struct VerifiedRequest {
    pub request: AuthorizationRequest,
    pub trust: ClientTrust,
    /// The organisation (`O`) or, failing that, the common name of the leaf.
    pub organization: Option<String>,
}

/// Checks that `leaf` matches `client_id` (x509_hash / x509_san_dns).
pub fn check_client_id(
    client_id: &str,
    leaf: &Cert,
    response_uri: &str,
) -> Result<(), Oid4vpError> {
    if let Some(h) = client_id.strip_prefix(PREFIX_X509_HASH) {
        if h != leaf.sha256_b64u() {
            return Err(Oid4vpError::ClientIdMismatch);
        }
        Ok(())
    } else if let Some(dns) = client_id.strip_prefix(PREFIX_X509_SAN_DNS) {
        if !leaf.dns_names().iter().any(|d| d.eq_ignore_ascii_case(dns)) {
            return Err(Oid4vpError::ClientIdMismatch);
        }
        let host = url::Url::parse(response_uri)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned));
        if !host.is_some_and(|h| h.eq_ignore_ascii_case(dns)) {
            return Err(Oid4vpError::ClientIdMismatch);
        }
        Ok(())
    } else {
        Err(Oid4vpError::UnsupportedClientId)
    }
}

/// Verifies a signed request object fetched for `client_id` (the link's).
pub fn verify_request_object(
    jwt: &str,
    client_id: &str,
    anchors: &TrustAnchors,
    now: DateTime<Utc>,
) -> Result<VerifiedRequest, Oid4vpError> {
    if jwt.len() > MAX_REQUEST_LEN {
        return Err(Oid4vpError::MalformedRequest);
    }
    let jws = jose::decode_unverified(jwt.trim()).map_err(|e| match e {
        jose::JoseError::UnsupportedAlg => Oid4vpError::BadSignature,
        _ => Oid4vpError::MalformedRequest,
    })?;
    if jws.header.get("typ").and_then(Value::as_str) != Some(REQUEST_TYP) {
        return Err(Oid4vpError::WrongType);
    }
    let chain = Cert::chain_from_x5c(jws.header.get("x5c").ok_or(Oid4vpError::MalformedRequest)?)?;
    let leaf = chain.first().ok_or(Oid4vpError::MalformedRequest)?;
    let Value::Object(claims) = &jws.payload else {
        return Err(Oid4vpError::MalformedRequest);
    };
    if s(claims, "client_id") != Some(client_id) {
        return Err(Oid4vpError::ClientIdMismatch);
    }
    let response_uri = s(claims, "response_uri").unwrap_or_default();
    check_client_id(client_id, leaf, response_uri)?;
    let key = leaf.public_jwk()?;
    jose::verify_decoded(&jws, &key).map_err(|_| Oid4vpError::BadSignature)?;
    let request = AuthorizationRequest::from_claims(claims)?;
    let trust = match anchors.verify_chain(&chain, now) {
        Ok(anchor) => ClientTrust::Registered {
            anchor: anchor
                .organization()
                .or_else(|| anchor.common_name())
                .unwrap_or_default(),
        },
        Err(e) => ClientTrust::Unknown {
            reason: e.to_string(),
        },
    };
    Ok(VerifiedRequest {
        request,
        trust,
        organization: leaf.organization().or_else(|| leaf.common_name()),
    })
}

/// An unsigned by-value request (`client_id` = `redirect_uri:<response_uri>`). The
/// caller allows it in development builds only.
pub fn unsigned_request(params: &Map<String, Value>) -> Result<VerifiedRequest, Oid4vpError> {
    let request = AuthorizationRequest::from_claims(params)?;
    let expected = format!("{PREFIX_REDIRECT_URI}{}", request.response_uri);
    if request.client_id != expected {
        return Err(Oid4vpError::UnsupportedClientId);
    }
    Ok(VerifiedRequest {
        request,
        trust: ClientTrust::Unsigned,
        organization: None,
    })
}

/// The verifier's signing identity: its key and certificate chain (leaf first).
pub struct RequestSigner {
    pub key: EcKeyPair,
    pub chain: Vec<Cert>,
}

impl RequestSigner {
    /// `x509_hash:<hash of the leaf>`.
    pub fn client_id_x509_hash(&self) -> Result<String, Oid4vpError> {
        let leaf = self.chain.first().ok_or(Oid4vpError::MalformedRequest)?;
        Ok(format!("{PREFIX_X509_HASH}{}", leaf.sha256_b64u()))
    }

    /// Signs request claims as a JAR with the `x5c` header.
    pub fn sign(&self, claims: Value) -> Result<String, Oid4vpError> {
        let x5c: Vec<String> = self.chain.iter().map(Cert::to_x5c).collect();
        self.key
            .sign_jws(json!({"typ": REQUEST_TYP, "x5c": x5c}), claims)
            .map_err(|_| Oid4vpError::MalformedRequest)
    }
}

/// The link a verifier shows as a QR code.
pub fn request_link(client_id: &str, request_uri: &str, method: RequestUriMethod) -> String {
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    ser.append_pair("client_id", client_id)
        .append_pair("request_uri", request_uri);
    if method == RequestUriMethod::Post {
        ser.append_pair("request_uri_method", "post");
    }
    format!("openid4vp://?{}", ser.finish())
}

/// The form body that answers `req` with `vp_token` (encrypted for `direct_post.jwt`).
pub fn response_body(req: &AuthorizationRequest, vp_token: &Value) -> Result<String, Oid4vpError> {
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    match req.response_mode {
        ResponseMode::DirectPost => {
            ser.append_pair("vp_token", &vp_token.to_string());
            if let Some(st) = &req.state {
                ser.append_pair("state", st);
            }
        }
        ResponseMode::DirectPostJwt => {
            let mut payload = json!({ "vp_token": vp_token });
            if let Some(st) = &req.state {
                payload["state"] = json!(st);
            }
            let (key, enc) = encryption_key(&req.client_metadata)?;
            let jwe = jwe::encrypt(payload.to_string().as_bytes(), &key, enc)?;
            ser.append_pair("response", &jwe);
        }
    }
    Ok(ser.finish())
}

/// An error response (e.g. [`ACCESS_DENIED`]) as a plain form.
pub fn error_body(req: &AuthorizationRequest, error: &str, description: &str) -> String {
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    ser.append_pair("error", error)
        .append_pair("error_description", description);
    if let Some(st) = &req.state {
        ser.append_pair("state", st);
    }
    ser.finish()
}

/// The verifier's P-256 ECDH-ES key from `client_metadata.jwks` and the `enc` to use
/// (the first of ours it lists; A128GCM when it lists none, the 1.0 default).
pub fn encryption_key(meta: &ClientMetadata) -> Result<(Value, jwe::Enc), Oid4vpError> {
    let keys = meta
        .jwks
        .as_ref()
        .and_then(|j| j.get("keys"))
        .and_then(Value::as_array)
        .ok_or(Oid4vpError::MalformedRequest)?;
    let key = keys
        .iter()
        .find(|k| {
            k.get("kty").and_then(Value::as_str) == Some("EC")
                && k.get("crv").and_then(Value::as_str) == Some("P-256")
                && k.get("use")
                    .and_then(Value::as_str)
                    .is_none_or(|u| u == "enc")
                && k.get("alg")
                    .and_then(Value::as_str)
                    .is_none_or(|a| a == jwe::ALG_ECDH_ES)
        })
        .ok_or(Oid4vpError::Encryption(jwe::JweError::Unsupported))?
        .clone();
    let enc = match &meta.encrypted_response_enc_values_supported {
        None => jwe::Enc::A128Gcm,
        Some(list) => list
            .iter()
            .find_map(|e| jwe::Enc::from_name(e))
            .ok_or(Oid4vpError::Encryption(jwe::JweError::Unsupported))?,
    };
    Ok((key, enc))
}

/// What a verifier received at its `response_uri`.
#[derive(Debug, Clone, PartialEq)]
pub enum ReceivedResponse {
    VpToken {
        vp_token: Value,
        state: Option<String>,
    },
    Encrypted {
        jwe: String,
    },
    Error {
        error: String,
        description: Option<String>,
        state: Option<String>,
    },
}

/// Parses a `response_uri` form body.
pub fn parse_response_form(body: &[u8]) -> Result<ReceivedResponse, Oid4vpError> {
    let mut m: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    for (k, v) in url::form_urlencoded::parse(body) {
        if m.insert(k.to_string(), v.to_string()).is_some() {
            return Err(Oid4vpError::MalformedResponse);
        }
    }
    if let Some(jwe) = m.remove("response") {
        return Ok(ReceivedResponse::Encrypted { jwe });
    }
    if let Some(error) = m.remove("error") {
        return Ok(ReceivedResponse::Error {
            error,
            description: m.remove("error_description"),
            state: m.remove("state"),
        });
    }
    let vp = m.remove("vp_token").ok_or(Oid4vpError::MalformedResponse)?;
    let vp_token: Value = serde_json::from_str(&vp).map_err(|_| Oid4vpError::MalformedResponse)?;
    Ok(ReceivedResponse::VpToken {
        vp_token,
        state: m.remove("state"),
    })
}

/// The payload of a decrypted `direct_post.jwt` response.
pub fn parse_decrypted(plain: &[u8]) -> Result<ReceivedResponse, Oid4vpError> {
    let v: Value = serde_json::from_slice(plain).map_err(|_| Oid4vpError::MalformedResponse)?;
    let state = v.get("state").and_then(Value::as_str).map(str::to_owned);
    if let Some(e) = v.get("error").and_then(Value::as_str) {
        return Ok(ReceivedResponse::Error {
            error: e.to_owned(),
            description: v
                .get("error_description")
                .and_then(Value::as_str)
                .map(str::to_owned),
            state,
        });
    }
    let vp_token = v
        .get("vp_token")
        .cloned()
        .ok_or(Oid4vpError::MalformedResponse)?;
    Ok(ReceivedResponse::VpToken { vp_token, state })
}
