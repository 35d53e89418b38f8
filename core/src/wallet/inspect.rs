//! "Periksa KTP": the resident (or a small business) checks someone else's IKD with a
//! verifier service (`ikd-verifier`'s JSON API): the wallet asks it for a request, shows
//! its QR, polls for the result, and shows the verified portrait and fields. Nothing the
//! other person shares is stored: only a history line "Anda memeriksa …" (which check
//! and its verdict, no names or numbers).
//!
//! The service is the settings' `verifier_url` (Pengaturan): https, or http on loopback
//! in development builds. Development builds start with `IKD_VERIFIER_URL`, else the
//! `ikd-verifier demo` on this machine; a release build starts with none configured.

use super::present::{checked_url, http_client, net_error, read_limited};
use super::Wallet;
use crate::error::{ErrorCode, UiError};
use crate::view::HistoryKind;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use ts_rs::TS;

/// Development builds: the verifier service the settings start with.
pub const VERIFIER_URL_ENV: &str = "IKD_VERIFIER_URL";
/// The `ikd-verifier demo` default address.
pub const DEFAULT_VERIFIER_URL: &str = "http://127.0.0.1:8790";
/// The checks the app offers (the verifier's presets).
pub const CHECKS: [&str; 3] = ["identitas", "usia17", "kk"];

/// A check waiting for the other person's wallet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct CheckRequestView {
    pub id: String,
    /// `identitas`, `usia17` or `kk`.
    pub check: String,
    /// The `openid4vp://` link the QR holds.
    pub url: String,
    /// The QR as a PNG, base64.
    pub qr_png_b64: String,
}

/// One verified field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct CheckedField {
    /// The claim path, e.g. `nama`, `age_equal_or_over.17`, `anggota[0].nama`.
    pub path: String,
    pub value: String,
}

/// The verifier's answer so far.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct CheckResultView {
    /// `pending`, `valid`, `revoked`, `invalid` or `declined`.
    pub status: String,
    /// The portrait (base64 JPEG), when shared and checked.
    pub portrait_b64: Option<String>,
    pub fields: Vec<CheckedField>,
    /// Why it is invalid (the verifier's reason code), or the wallet's refusal.
    pub reason: Option<String>,
}

fn verifier_error(msg: &str) -> UiError {
    UiError::new(ErrorCode::Offline, msg.to_owned())
}

/// Flattens claims into fields: nested objects and arrays as paths.
fn flatten(prefix: &str, v: &Value, out: &mut Vec<CheckedField>, portrait: &mut Option<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                if p == "foto" {
                    *portrait = x.as_str().map(str::to_owned);
                } else {
                    flatten(&p, x, out, portrait);
                }
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                flatten(&format!("{prefix}[{i}]"), x, out, portrait);
            }
        }
        Value::String(s) => out.push(CheckedField {
            path: prefix.into(),
            value: s.clone(),
        }),
        other => out.push(CheckedField {
            path: prefix.into(),
            value: other.to_string(),
        }),
    }
}

/// The verifier's JSON outcome as the view.
pub fn result_view(outcome: &Value) -> CheckResultView {
    let status = outcome
        .get("status")
        .and_then(Value::as_str)
        .unwrap_or("invalid")
        .to_owned();
    let mut fields = Vec::new();
    let mut portrait = None;
    for c in outcome
        .get("credentials")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(claims) = c.get("claims") {
            flatten("", claims, &mut fields, &mut portrait);
        }
    }
    let reason = outcome
        .get("reason")
        .and_then(|r| r.get("code"))
        .or_else(|| outcome.get("error"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    CheckResultView {
        status,
        portrait_b64: portrait,
        fields,
        reason,
    }
}

/// The verifier service a new wallet's settings start with: in development builds
/// `IKD_VERIFIER_URL`, else [`DEFAULT_VERIFIER_URL`]; none in release builds.
pub fn default_verifier_url(dev_build: bool) -> String {
    if !dev_build {
        return String::new();
    }
    std::env::var(VERIFIER_URL_ENV)
        .ok()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| DEFAULT_VERIFIER_URL.to_owned())
}

fn is_loopback(u: &url::Url) -> bool {
    match u.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(a)) => a.is_loopback(),
        Some(url::Host::Ipv6(a)) => a.is_loopback(),
        None => false,
    }
}

/// A verifier service URL the settings accept: https with a host and no credentials,
/// query or fragment; http only on loopback and only in development builds.
pub fn validate_verifier_url(s: &str, dev_build: bool) -> Result<url::Url, UiError> {
    let bad = |why: &str| {
        UiError::new(ErrorCode::InvalidState, format!("verifier URL: {why}"))
            .with_detail(serde_json::json!({ "field": "verifier_url" }))
    };
    let u = url::Url::parse(s).map_err(|_| bad("not a URL"))?;
    if u.host().is_none() || !u.username().is_empty() || u.password().is_some() {
        return Err(bad("needs a host and no credentials"));
    }
    if u.query().is_some() || u.fragment().is_some() {
        return Err(bad("no query or fragment"));
    }
    match u.scheme() {
        "https" => Ok(u),
        "http" if dev_build && is_loopback(&u) => Ok(u),
        _ => Err(bad("must be https")),
    }
}

impl Wallet {
    fn verifier_url(&self) -> Result<url::Url, UiError> {
        let base = self.inner().settings.verifier_url.clone();
        if base.is_empty() {
            return Err(UiError::new(
                ErrorCode::InvalidState,
                "no verifier service configured (Pengaturan)",
            )
            .with_detail(serde_json::json!({ "field": "verifier_url" })));
        }
        validate_verifier_url(base.trim_end_matches('/'), self.dev_build)?;
        checked_url(base.trim_end_matches('/'))
    }

    /// Asks the verifier service for a request of `check` (see [`CHECKS`]) and its QR.
    pub async fn start_check(&self, check: &str) -> Result<CheckRequestView, UiError> {
        if !CHECKS.contains(&check) {
            return Err(UiError::new(ErrorCode::InvalidState, "unknown check"));
        }
        let base = self.verifier_url()?;
        let http = http_client()?;
        let resp = http
            .post(format!(
                "{}/api/requests",
                base.as_str().trim_end_matches('/')
            ))
            .json(&serde_json::json!({ "preset": check }))
            .send()
            .await
            .map_err(net_error)?;
        if !resp.status().is_success() {
            return Err(verifier_error("the verifier refused to make a request"));
        }
        let created: Value = serde_json::from_slice(&read_limited(resp).await?)
            .map_err(|_| verifier_error("bad answer from the verifier"))?;
        let s = |k: &str| created.get(k).and_then(Value::as_str).map(str::to_owned);
        let (Some(id), Some(url)) = (s("id"), s("url")) else {
            return Err(verifier_error("bad answer from the verifier"));
        };
        if !id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(verifier_error("bad request id from the verifier"));
        }
        let qr = http
            .get(format!(
                "{}/api/requests/{id}/qr.png",
                base.as_str().trim_end_matches('/')
            ))
            .send()
            .await
            .map_err(net_error)?;
        if !qr.status().is_success() {
            return Err(verifier_error("no QR from the verifier"));
        }
        let png = read_limited(qr).await?;
        self.inner().checking = Some((id.clone(), check.to_owned()));
        Ok(CheckRequestView {
            id,
            check: check.to_owned(),
            url,
            qr_png_b64: base64::engine::general_purpose::STANDARD.encode(png),
        })
    }

    /// The verifier's result for the check `id` so far. The first final answer (valid,
    /// revoked, invalid, declined) of the check started last adds the history line.
    pub async fn check_result(&self, id: &str) -> Result<CheckResultView, UiError> {
        if !id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(UiError::new(ErrorCode::InvalidState, "bad check id"));
        }
        let base = self.verifier_url()?;
        let resp = http_client()?
            .get(format!(
                "{}/api/requests/{id}",
                base.as_str().trim_end_matches('/')
            ))
            .send()
            .await
            .map_err(net_error)?;
        if !resp.status().is_success() {
            return Err(UiError::new(
                ErrorCode::QrExpired,
                "the check is no longer known",
            ));
        }
        let outcome: Value = serde_json::from_slice(&read_limited(resp).await?)
            .map_err(|_| verifier_error("bad answer from the verifier"))?;
        let view = result_view(&outcome);
        if view.status != "pending" {
            let done = {
                let mut inner = self.inner();
                match &inner.checking {
                    Some((cid, check)) if cid == id => {
                        let c = check.clone();
                        inner.checking = None;
                        Some(c)
                    }
                    _ => None,
                }
            };
            if let Some(check) = done {
                self.history_add(
                    HistoryKind::Checked,
                    Some(&format!("{check}: {}", view.status)),
                )?;
            }
        }
        Ok(view)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn outcome_to_view_takes_the_portrait_out_and_flattens_members() {
        let v = result_view(&serde_json::json!({
            "status": "valid",
            "credentials": [{"claims": {"nama": "SITI", "foto": "AAAA",
                "age_equal_or_over": {"17": true},
                "anggota": [{"nama": "BUDI", "hubungan": "KEPALA KELUARGA"}]}}],
        }));
        assert_eq!(v.status, "valid");
        assert_eq!(v.portrait_b64.as_deref(), Some("AAAA"));
        let paths: Vec<&str> = v.fields.iter().map(|f| f.path.as_str()).collect();
        assert!(paths.contains(&"nama"));
        assert!(paths.contains(&"age_equal_or_over.17"));
        assert!(paths.contains(&"anggota[0].hubungan"));
        assert!(!paths.contains(&"foto"));
        let bad = result_view(
            &serde_json::json!({"status": "invalid", "reason": {"code": "key_binding"}}),
        );
        assert_eq!(bad.reason.as_deref(), Some("key_binding"));
        let declined =
            result_view(&serde_json::json!({"status": "declined", "error": "access_denied"}));
        assert_eq!(declined.reason.as_deref(), Some("access_denied"));
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod url_tests {
    use super::*;

    #[test]
    fn the_verifier_url_is_https_or_loopback_in_dev_builds() {
        assert!(validate_verifier_url("https://periksa.example.co.id", false).is_ok());
        assert!(validate_verifier_url("https://periksa.example.co.id/api", false).is_ok());
        for (url, dev) in [
            ("http://127.0.0.1:8790", false),
            ("http://periksa.example.co.id", true),
            ("http://192.168.1.5:8790", true),
            ("ftp://periksa.example.co.id", true),
            ("https://user:pw@periksa.example.co.id", true),
            ("https://periksa.example.co.id/?a=1", true),
            ("periksa.example.co.id", true),
        ] {
            let e = validate_verifier_url(url, dev).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidState, "{url}");
        }
        assert!(validate_verifier_url("http://127.0.0.1:8790", true).is_ok());
        assert!(validate_verifier_url("http://localhost:8790", true).is_ok());
        assert!(validate_verifier_url("http://[::1]:8790", true).is_ok());
        assert_eq!(default_verifier_url(false), "");
    }
}
