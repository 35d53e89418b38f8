//! Presentation test support: a running `ikd-verifier` with a fresh relying-party PKI,
//! an activated wallet that trusts it, and a hand-driven holder (a known device key and
//! its real credentials) for answers the wallet would never send.

use crate::Harness;
use ikd_core::clock::SystemClock;
use ikd_core::jose::EcKeyPair;
use ikd_core::oid4vp::{self, RequestLocation, VerifiedRequest};
use ikd_core::secret::SecretString;
use ikd_core::vault::{FileKeyStore, KdfParams};
use ikd_core::wallet::{Wallet, WalletConfig};
use ikd_core::wire::{KK_CONFIGURATION, KTP_CONFIGURATION};
use ikd_core::x509::TrustAnchors;
use ikd_verifier::check::IssuerTrust;
use ikd_verifier::{demo, CreateRequest, Created, RunningVerifier, VerifierConfig};
use std::path::Path;
use std::sync::Arc;

pub const PIN: &str = "240517";
pub const VERIFIER_ORG: &str = "Bank Contoh Indonesia";

pub struct TestVerifier {
    pub running: RunningVerifier,
    pub ca_pem: String,
}

/// Starts `ikd-verifier` on loopback, trusting `issuer_url`'s jwt-vc-issuer metadata.
pub async fn start_verifier(issuer_url: &str) -> TestVerifier {
    let pki = demo::generate("IKD Test RP CA", VERIFIER_ORG, "verifier.localhost").unwrap();
    let running = ikd_verifier::start(
        VerifierConfig {
            signer: pki.signer,
            trust: IssuerTrust {
                roots: TrustAnchors::default(),
                issuers: vec![issuer_url.to_owned()],
            },
            name: VERIFIER_ORG.into(),
            public_url: None,
            cors_origins: ikd_verifier::APP_ORIGINS.map(str::to_owned).to_vec(),
        },
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    TestVerifier {
        running,
        ca_pem: pki.ca_pem,
    }
}

impl TestVerifier {
    pub async fn create(&self, body: serde_json::Value) -> Created {
        let r = reqwest::Client::new()
            .post(format!("{}/api/requests", self.running.base_url))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), reqwest::StatusCode::CREATED);
        r.json().await.unwrap()
    }

    pub async fn result(&self, id: &str) -> serde_json::Value {
        reqwest::Client::new()
            .get(format!("{}/api/requests/{id}", self.running.base_url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    pub fn create_direct(&self, preset: &str, mode: oid4vp::ResponseMode) -> Created {
        self.running
            .verifier
            .create(&CreateRequest {
                preset: Some(preset.into()),
                dcql_query: None,
                response_mode: Some(mode),
                request_uri_method: None,
                purpose: None,
            })
            .unwrap()
    }
}

pub fn secret(s: &str) -> SecretString {
    SecretString::new(s.to_owned())
}

pub fn open_wallet(dir: &Path, base_url: &str, dev_build: bool) -> Wallet {
    Wallet::open(WalletConfig {
        data_dir: dir.to_path_buf(),
        backend_url: base_url.to_owned(),
        dev_build,
        clock: Arc::new(SystemClock),
        keystore: Arc::new(FileKeyStore::in_dir(dir)),
        kdf: Some(KdfParams::insecure_for_tests()),
        issuer_url: None,
    })
    .unwrap()
}

/// A wallet enrolled, activated, with PIN set and unlocked; trusting `rp_ca_pem` (the
/// configuration file in its data directory) when given.
pub async fn activated_wallet(
    h: &Harness,
    dir: &Path,
    nik: &str,
    nama: &str,
    email: &str,
    dev_build: bool,
    rp_ca_pem: Option<&str>,
) -> Wallet {
    if let Some(pem) = rp_ca_pem {
        std::fs::write(
            dir.join(ikd_core::wallet::present::RP_TRUST_ANCHORS_FILE),
            pem,
        )
        .unwrap();
    }
    let w = open_wallet(dir, &h.base_url, dev_build);
    let code = h.wallet_approved(&w, nik, nama, email).await;
    w.activate(secret(&code)).await.unwrap();
    w.set_pin(secret(PIN), secret(PIN)).unwrap();
    w
}

/// A holder driven by hand: its device key and its real KTP and KK from the issuer.
pub struct Holder {
    pub key: EcKeyPair,
    pub ktp: String,
    pub kk: String,
    pub access_token: SecretString,
}

pub async fn holder(h: &Harness, nik: &str, email: &str) -> Holder {
    let officer = h.officer().await;
    let a = h.approved(&officer, nik, email).await;
    let t = h
        .client
        .token(&a.pre_authorized_code, &a.code)
        .await
        .unwrap();
    let ktp = h
        .client
        .credential(&t.access_token, KTP_CONFIGURATION, &h.proof(&a.key).await)
        .await
        .unwrap();
    let kk = h
        .client
        .credential(&t.access_token, KK_CONFIGURATION, &h.proof(&a.key).await)
        .await
        .unwrap();
    Holder {
        key: a.key,
        ktp,
        kk,
        access_token: t.access_token,
    }
}

/// Fetches and verifies the request behind a link, as a wallet would (GET).
pub async fn fetch_request(link: &str, anchors: &TrustAnchors) -> VerifiedRequest {
    let RequestLocation::ByReference {
        client_id,
        request_uri,
        ..
    } = oid4vp::parse_request_url(link).unwrap()
    else {
        panic!("by reference")
    };
    let jwt = reqwest::get(&request_uri)
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    oid4vp::verify_request_object(&jwt, &client_id, anchors, chrono::Utc::now()).unwrap()
}

/// Posts a form body to the request's response_uri; returns (status, JSON body).
pub async fn post_response(uri: &str, body: String) -> (u16, serde_json::Value) {
    let r = reqwest::Client::new()
        .post(uri)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(serde_json::Value::Null))
}
