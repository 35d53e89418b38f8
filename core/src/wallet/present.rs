//! Presenting to a verifier (OpenID4VP 1.0): the request link → the checked request →
//! the consent view → share (PIN) or decline.
//!
//! - The request object is fetched from its `request_uri` (GET, or POST with
//!   `wallet_metadata` when `request_uri_method=post`), no redirects, with timeouts,
//!   https only (http on loopback).
//! - It must be signed (`x509_hash` / `x509_san_dns`); unsigned `redirect_uri:` requests
//!   are accepted in development builds only. A verifier whose certificate does not
//!   chain to the relying-party trust anchors is refused in release builds and shown
//!   with a warning in development builds. Anchors: `rp-trust-anchors.pem` in the data
//!   directory (the deployment's configuration), and in development builds also the
//!   PEM file named by `IKD_RP_TRUST_ANCHORS`.
//! - DCQL is evaluated against the KTP and the KK; the consent view lists exactly the
//!   fields that would be sent, with their values.
//! - Every presentation and refusal goes into Histori Aktivitas (to whom, which
//!   fields; never the values).

use super::{Wallet, DOC_KK, DOC_KTP};
use crate::dcql::{self, CredentialMatch, Evaluation, Held};
use crate::error::{ErrorCode, UiError};
use crate::oid4vp::{
    self, ClientTrust, Oid4vpError, RequestLocation, RequestUriMethod, VerifiedRequest,
};
use crate::sdjwt_present;
use crate::secret::SecretString;
use crate::view::HistoryKind;
use crate::x509::TrustAnchors;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::time::Duration;
use ts_rs::TS;

/// Relying-party trust anchors in the data directory.
pub const RP_TRUST_ANCHORS_FILE: &str = "rp-trust-anchors.pem";
/// Development builds: a PEM file of relying-party trust anchors.
pub const RP_TRUST_ANCHORS_ENV: &str = "IKD_RP_TRUST_ANCHORS";
const HTTP_TIMEOUT: Duration = Duration::from_secs(15);
const MAX_BODY: usize = 256 * 1024;

/// Who asks, as the consent screen shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum VerifierTrust {
    /// Its certificate chains to a configured relying-party trust anchor.
    Registered,
    /// Signed, but not by a registered party (development builds only; red warning).
    Unknown,
    /// Not signed at all (development builds only; red warning).
    Unsigned,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct VerifierView {
    /// The organisation named in its certificate (None when unsigned).
    pub name: Option<String>,
    /// Where the answer goes (host of `response_uri`).
    pub host: String,
    pub client_id: String,
    pub trust: VerifierTrust,
    /// The trust anchor it chains to, or why it does not.
    pub trust_detail: Option<String>,
}

/// One field that would be sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ConsentField {
    /// The claim path, e.g. `nama`, `age_equal_or_over.17`, `anggota[*].nama`.
    pub path: String,
    /// The claim name the UI words (its first path element).
    pub name: String,
    /// The values as text (several for `anggota[*].…`); `foto` is base64 JPEG.
    pub values: Vec<String>,
    /// The value is a base64 JPEG portrait.
    pub image: bool,
    pub required: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ConsentCredential {
    /// The verifier's DCQL credential query id.
    pub query_id: String,
    /// `ktp` or `kk`.
    pub document: String,
    pub required: bool,
    pub fields: Vec<ConsentField>,
}

/// The consent screen: who asks, why, and exactly what would be shared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ConsentView {
    pub verifier: VerifierView,
    /// The request's purpose, when it carries one.
    pub purpose: Option<String>,
    pub credentials: Vec<ConsentCredential>,
    /// False when the wallet holds nothing that answers (only "Tolak" remains).
    pub can_share: bool,
    /// `direct_post` or `direct_post.jwt` (encrypted to the verifier).
    pub response_mode: String,
}

/// What was sent and what the verifier answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct PresentationOutcome {
    pub verifier: VerifierView,
    /// The claim paths sent (empty for a refusal).
    pub shared: Vec<String>,
    pub declined: bool,
    /// The verifier's HTTP status.
    pub status: u16,
    /// Where the verifier sends the user next, if it said.
    pub redirect_uri: Option<String>,
    /// The verifier's error code, if it refused the answer.
    pub verifier_error: Option<String>,
}

/// Which fields to share: all that are asked, or only the named ones (every required
/// field must be named).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShareChoice {
    All,
    Only(Vec<String>),
}

/// A checked request waiting for the resident's answer. The shell keeps it between
/// showing the consent view and "Bagikan"/"Tolak".
#[derive(Debug, Clone)]
pub struct PendingPresentation {
    request: VerifiedRequest,
    matches: Vec<(CredentialMatch, &'static str)>,
    view: ConsentView,
}

impl PendingPresentation {
    pub fn view(&self) -> &ConsentView {
        &self.view
    }
}

fn request_error(e: Oid4vpError) -> UiError {
    let reason = match &e {
        Oid4vpError::ClientIdMismatch => "client_id_mismatch",
        Oid4vpError::BadSignature => "bad_signature",
        Oid4vpError::UnsignedNotAllowed => "unsigned",
        Oid4vpError::Certificate(_) => "certificate",
        Oid4vpError::UnsupportedClientId => "client_id_prefix",
        _ => "malformed",
    };
    UiError::new(ErrorCode::QrInvalid, e.to_string())
        .with_detail(serde_json::json!({ "reason": reason }))
}

fn untrusted(detail: &str) -> UiError {
    UiError::new(
        ErrorCode::QrInvalid,
        format!("verifier not registered: {detail}"),
    )
    .with_detail(serde_json::json!({ "reason": "unknown_verifier" }))
}

pub(super) fn http_client() -> Result<reqwest::Client, UiError> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(HTTP_TIMEOUT)
        .connect_timeout(Duration::from_secs(5))
        .build()
        .map_err(|_| UiError::new(ErrorCode::Internal, "http client"))
}

pub(super) fn checked_url(s: &str) -> Result<url::Url, UiError> {
    let u = url::Url::parse(s).map_err(|_| UiError::new(ErrorCode::QrInvalid, "bad URL"))?;
    crate::client::check_url(&u)?;
    Ok(u)
}

pub(super) fn net_error(e: reqwest::Error) -> UiError {
    if e.is_timeout() {
        UiError::new(ErrorCode::Timeout, "verifier timed out")
    } else {
        UiError::new(ErrorCode::Offline, "verifier unreachable")
    }
}

pub(super) async fn read_limited(resp: reqwest::Response) -> Result<Vec<u8>, UiError> {
    if resp.content_length().is_some_and(|l| l > MAX_BODY as u64) {
        return Err(UiError::new(
            ErrorCode::QrInvalid,
            "verifier response too large",
        ));
    }
    let b = resp.bytes().await.map_err(net_error)?;
    if b.len() > MAX_BODY {
        return Err(UiError::new(
            ErrorCode::QrInvalid,
            "verifier response too large",
        ));
    }
    Ok(b.to_vec())
}

fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl Wallet {
    fn rp_trust_anchors(&self) -> TrustAnchors {
        let mut anchors = Vec::new();
        let mut files = vec![self.data_dir.join(RP_TRUST_ANCHORS_FILE)];
        if self.dev_build {
            if let Some(p) = std::env::var_os(RP_TRUST_ANCHORS_ENV) {
                files.push(p.into());
            }
        }
        for f in files {
            if let Ok(text) = std::fs::read_to_string(&f) {
                match crate::x509::parse_pem(&text) {
                    Ok(c) => anchors.extend(c),
                    Err(e) => {
                        tracing::warn!(file = %f.display(), error = %e, "bad RP trust anchors")
                    }
                }
            }
        }
        TrustAnchors::new(anchors)
    }

    async fn fetch_request(&self, link: &str) -> Result<VerifiedRequest, UiError> {
        let loc = oid4vp::parse_request_url(link).map_err(request_error)?;
        match loc {
            RequestLocation::ByValue(params) => {
                if !self.dev_build {
                    return Err(request_error(Oid4vpError::UnsignedNotAllowed));
                }
                oid4vp::unsigned_request(&params).map_err(request_error)
            }
            RequestLocation::ByReference {
                client_id,
                request_uri,
                method,
            } => {
                let url = checked_url(&request_uri)?;
                let http = http_client()?;
                let req = match method {
                    RequestUriMethod::Get => http.get(url),
                    RequestUriMethod::Post => http
                        .post(url)
                        .header(
                            reqwest::header::CONTENT_TYPE,
                            "application/x-www-form-urlencoded",
                        )
                        .body(oid4vp::request_uri_post_body()),
                };
                let resp = req
                    .header(reqwest::header::ACCEPT, oid4vp::REQUEST_CONTENT_TYPE)
                    .send()
                    .await
                    .map_err(net_error)?;
                if !resp.status().is_success() {
                    return Err(UiError::new(
                        ErrorCode::QrExpired,
                        "request no longer available",
                    ));
                }
                let body = read_limited(resp).await?;
                let jwt = String::from_utf8(body)
                    .map_err(|_| request_error(Oid4vpError::MalformedRequest))?;
                oid4vp::verify_request_object(
                    &jwt,
                    &client_id,
                    &self.rp_trust_anchors(),
                    self.now(),
                )
                .map_err(request_error)
            }
        }
    }

    /// Fetches and checks the request behind `link` and evaluates it against the KTP and
    /// KK. The documents must be unlocked (the view shows the values).
    pub async fn presentation_request(&self, link: &str) -> Result<PendingPresentation, UiError> {
        let verified = self.fetch_request(link).await?;
        checked_url(&verified.request.response_uri)?;
        let trust = match &verified.trust {
            ClientTrust::Registered { .. } => VerifierTrust::Registered,
            ClientTrust::Unknown { reason } => {
                if !self.dev_build {
                    return Err(untrusted(reason));
                }
                VerifierTrust::Unknown
            }
            ClientTrust::Unsigned => VerifierTrust::Unsigned,
        };
        let trust_detail = match &verified.trust {
            ClientTrust::Registered { anchor } => Some(anchor.clone()),
            ClientTrust::Unknown { reason } => Some(reason.clone()),
            ClientTrust::Unsigned => None,
        };
        let ktp = self.verify(&self.doc(DOC_KTP)?)?;
        let kk = self.verify(&self.doc(DOC_KK)?)?;
        let ktp_claims = Value::Object(ktp.claims);
        let kk_claims = Value::Object(kk.claims);
        let held = [
            Held {
                id: DOC_KTP,
                format: dcql::FORMAT_SD_JWT_VC,
                vct: &ktp.vct,
                claims: &ktp_claims,
            },
            Held {
                id: DOC_KK,
                format: dcql::FORMAT_SD_JWT_VC,
                vct: &kk.vct,
                claims: &kk_claims,
            },
        ];
        let ids = [DOC_KTP, DOC_KK];
        let (matches, can_share) = match dcql::evaluate(&verified.request.dcql_query, &held) {
            Evaluation::Match(m) => (m, true),
            Evaluation::NoMatch { .. } => (Vec::new(), false),
        };
        let mut credentials = Vec::new();
        let mut with_ids = Vec::new();
        for m in matches {
            let Some(h) = held.get(m.held) else { continue };
            let fields = m
                .claims
                .iter()
                .map(|c| {
                    let name = match c.path.first() {
                        Some(dcql::PathElement::Key(k)) => k.clone(),
                        _ => String::new(),
                    };
                    ConsentField {
                        path: dcql::path_label(&c.path),
                        image: name == "foto",
                        name,
                        values: dcql::resolve(h.claims, &c.path)
                            .into_iter()
                            .map(text_of)
                            .collect(),
                        required: m.required,
                    }
                })
                .collect();
            credentials.push(ConsentCredential {
                query_id: m.query_id.clone(),
                document: h.id.to_owned(),
                required: m.required,
                fields,
            });
            with_ids.push((m.clone(), ids[m.held.min(1)]));
        }
        let view = ConsentView {
            verifier: VerifierView {
                name: verified.organization.clone(),
                host: verified.request.response_host(),
                client_id: verified.request.client_id.clone(),
                trust,
                trust_detail,
            },
            purpose: verified.request.purpose.clone(),
            credentials,
            can_share,
            response_mode: verified.request.response_mode.name().to_owned(),
        };
        Ok(PendingPresentation {
            request: verified,
            matches: with_ids,
            view,
        })
    }

    fn history_line(view: &VerifierView, shared: &[String]) -> String {
        let who = match &view.name {
            Some(n) => format!("{n} ({})", view.host),
            None => view.host.clone(),
        };
        if shared.is_empty() {
            who
        } else {
            format!("{who}: {}", shared.join(", "))
        }
    }

    async fn post_answer(
        &self,
        pending: &PendingPresentation,
        body: String,
        shared: Vec<String>,
        declined: bool,
    ) -> Result<PresentationOutcome, UiError> {
        let url = checked_url(&pending.request.request.response_uri)?;
        let resp = http_client()?
            .post(url)
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(body)
            .send()
            .await
            .map_err(net_error)?;
        let status = resp.status().as_u16();
        let body = read_limited(resp).await.unwrap_or_default();
        let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let redirect_uri = json
            .get("redirect_uri")
            .and_then(Value::as_str)
            .filter(|u| checked_url(u).is_ok())
            .map(str::to_owned);
        let verifier_error = json.get("error").and_then(Value::as_str).map(str::to_owned);
        Ok(PresentationOutcome {
            verifier: pending.view.verifier.clone(),
            shared,
            declined,
            status,
            redirect_uri,
            verifier_error,
        })
    }

    /// "Bagikan": checks the PIN (unlocking), sends exactly the chosen fields with a
    /// KB-JWT signed by the device key, and records it in the history.
    pub async fn present(
        &self,
        pending: &PendingPresentation,
        pin: SecretString,
        choice: &ShareChoice,
    ) -> Result<PresentationOutcome, UiError> {
        if !pending.view.can_share {
            return Err(UiError::new(
                ErrorCode::NoDocuments,
                "nothing held answers the request",
            ));
        }
        self.unlock(pin)?;
        let req = &pending.request.request;
        let mut vp_token = Map::new();
        let mut shared = Vec::new();
        for (m, doc) in &pending.matches {
            let labels: Vec<String> = m.claims.iter().map(|c| dcql::path_label(&c.path)).collect();
            let include = match choice {
                ShareChoice::All => true,
                ShareChoice::Only(names) => {
                    let named = |l: &String| {
                        names
                            .iter()
                            .any(|n| n == l || l.split(['.', '[']).next() == Some(n))
                    };
                    if m.required {
                        if let Some(missing) = labels.iter().find(|l| !named(l)) {
                            return Err(UiError::new(
                                ErrorCode::InvalidState,
                                "a required field was not chosen",
                            )
                            .with_detail(serde_json::json!({ "field": missing })));
                        }
                        true
                    } else {
                        labels.iter().any(named)
                    }
                }
            };
            if !include {
                continue;
            }
            let sd_jwt = self.doc(doc)?;
            let paths: Vec<&[dcql::PathElement]> =
                m.claims.iter().map(|c| c.path.as_slice()).collect();
            let selected = sdjwt_present::select(&sd_jwt, &paths)?;
            let kb = sdjwt_present::key_binding(
                &selected,
                self.device().key_pair(),
                &req.client_id,
                &req.nonce,
                self.now(),
            )?;
            vp_token.insert(m.query_id.clone(), Value::Array(vec![Value::String(kb)]));
            shared.extend(labels);
        }
        let body = oid4vp::response_body(req, &Value::Object(vp_token)).map_err(request_error)?;
        let out = self
            .post_answer(pending, body, shared.clone(), false)
            .await?;
        self.history_add(
            HistoryKind::Presented,
            Some(&Self::history_line(&pending.view.verifier, &shared)),
        )?;
        Ok(out)
    }

    /// "Tolak": answers `access_denied` and records the refusal.
    pub async fn decline(
        &self,
        pending: &PendingPresentation,
    ) -> Result<PresentationOutcome, UiError> {
        let desc = if pending.view.can_share {
            "the user declined"
        } else {
            "the wallet holds no credential that answers the request"
        };
        let body = oid4vp::error_body(&pending.request.request, oid4vp::ACCESS_DENIED, desc);
        let out = self.post_answer(pending, body, Vec::new(), true).await?;
        self.history_add(
            HistoryKind::PresentationDeclined,
            Some(&Self::history_line(&pending.view.verifier, &[])),
        )?;
        Ok(out)
    }

    /// For the shell: checks the request behind `link` and keeps it (one at a time)
    /// until [`Self::share_pending`] or [`Self::decline_pending`].
    pub async fn open_presentation(&self, link: &str) -> Result<ConsentView, UiError> {
        let pending = self.presentation_request(link).await?;
        let view = pending.view().clone();
        self.inner().presenting = Some(pending);
        Ok(view)
    }

    fn pending_presentation(&self) -> Result<PendingPresentation, UiError> {
        self.inner()
            .presenting
            .clone()
            .ok_or_else(|| UiError::new(ErrorCode::InvalidState, "no presentation request"))
    }

    /// "Bagikan" on the kept request: `choices` are the claim paths (or names) to send,
    /// `None` all that are asked.
    pub async fn share_pending(
        &self,
        pin: SecretString,
        choices: Option<Vec<String>>,
    ) -> Result<PresentationOutcome, UiError> {
        let pending = self.pending_presentation()?;
        let choice = choices.map_or(ShareChoice::All, ShareChoice::Only);
        let out = self.present(&pending, pin, &choice).await?;
        self.inner().presenting = None;
        Ok(out)
    }

    /// "Tolak" on the kept request.
    pub async fn decline_pending(&self) -> Result<PresentationOutcome, UiError> {
        let pending = self.pending_presentation()?;
        let out = self.decline(&pending).await?;
        self.inner().presenting = None;
        Ok(out)
    }
}
