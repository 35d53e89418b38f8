//! OpenID4VP interop with third-party libraries (OpenWallet Foundation):
//! (a) a verifier built on `@openid4vc/openid4vp`, `dcql` and `@sd-jwt/sd-jwt-vc`
//!     (`tests/interop/oid4vp/verifier.mjs`) accepts the IKD wallet's presentations,
//!     `direct_post` and `direct_post.jwt`, full identity and age only.
//!
//! Needs `node` on PATH and `npm ci --prefix tests/interop/oid4vp` run once
//! (`scripts/setup test` does it).
#![allow(clippy::unwrap_used)]

use base64::Engine as _;
use ikd_core::jose::EcKeyPair;
use ikd_core::wallet::present::{ShareChoice, VerifierTrust};
use ikd_server::demo::SITI;
use ikd_tests::vp::{activated_wallet, secret, PIN};
use ikd_tests::Harness;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::Stdio;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

fn interop_dir() -> PathBuf {
    ikd_tests::interop::node_dir(
        "oid4vp",
        &["@openid4vc/openid4vp", "dcql", "@sd-jwt/sd-jwt-vc", "jose"],
    )
}

fn pkcs8_pem(key: &EcKeyPair) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(key.pkcs8().expose());
    let mut pem = String::from("-----BEGIN PRIVATE KEY-----\n");
    for line in b64.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(line).unwrap());
        pem.push('\n');
    }
    pem.push_str("-----END PRIVATE KEY-----\n");
    pem
}

fn identity_query() -> Value {
    json!({"credentials": [{"id": "ktp", "format": "dc+sd-jwt",
        "meta": {"vct_values": [ikd_core::wire::KTP_VCT]},
        "claims": [{"path": ["nama"]}, {"path": ["nik"]}, {"path": ["foto"]}, {"path": ["alamat"]}]}]})
}

/// "17 or over" without the birth date (`age_equal_or_over.17`, asked with `values`).
fn age_query() -> Value {
    json!({"credentials": [{"id": "ktp", "format": "dc+sd-jwt",
        "meta": {"vct_values": [ikd_core::wire::KTP_VCT]},
        "claims": [{"path": ["age_equal_or_over", "17"], "values": [true]}]}]})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn third_party_verifier_accepts_ikd_wallet_presentations() {
    let dir = interop_dir();
    let h = Harness::start().await;
    let pki = ikd_verifier::demo::generate(
        "Interop RP CA",
        "Pihak Ketiga Verifier",
        "verifier.localhost",
    )
    .unwrap();
    let wdir = tempfile::tempdir().unwrap();
    let w = activated_wallet(
        &h,
        wdir.path(),
        SITI.nik,
        SITI.name,
        "siti.rahmawati@example.com",
        false,
        Some(&pki.ca_pem),
    )
    .await;
    let client_id = pki.signer.client_id_x509_hash().unwrap();
    let x5c: Vec<String> = pki.signer.chain.iter().map(|c| c.to_x5c()).collect();

    let cases = [
        ("direct_post.jwt", false),
        ("direct_post", false),
        ("direct_post.jwt", true),
        ("direct_post", true),
    ];
    for (mode, age_only) in cases {
        let input = json!({
            "private_key_pem": pkcs8_pem(&pki.signer.key),
            "x5c": x5c,
            "client_id": client_id,
            "response_mode": mode,
            "dcql_query": if age_only { age_query() } else { identity_query() },
            "issuer": h.base_url,
        });
        let mut child = tokio::process::Command::new("node")
            .arg(dir.join("verifier.mjs"))
            .current_dir(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("node starts");
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(input.to_string().as_bytes()).await.unwrap();
        drop(stdin);
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first: Value =
            serde_json::from_str(&lines.next_line().await.unwrap().expect("url line")).unwrap();
        let url = first["url"].as_str().unwrap();

        let pending = w.presentation_request(url).await.unwrap();
        assert_eq!(
            pending.view().verifier.trust,
            VerifierTrust::Registered,
            "{mode}"
        );
        assert_eq!(pending.view().response_mode, mode);
        let out = w
            .present(&pending, secret(PIN), &ShareChoice::All)
            .await
            .unwrap();
        let result: Value =
            serde_json::from_str(&lines.next_line().await.unwrap().expect("result line")).unwrap();
        assert_eq!(result["ok"], true, "{mode}: {result}");
        assert_eq!(out.status, 200, "{mode}: {result}");
        assert_eq!(result["encrypted"], mode == "direct_post.jwt");
        let claims = &result["claims"]["ktp"];
        if age_only {
            assert_eq!(claims["age_equal_or_over"]["17"], true, "{mode}: {claims}");
            for other in ["nama", "nik", "tanggal_lahir", "foto"] {
                assert!(claims.get(other).is_none(), "only the age: {claims}");
            }
        } else {
            assert_eq!(claims["nama"], SITI.name);
            assert_eq!(claims["nik"], SITI.nik);
        }
        assert!(
            claims.get("tanggal_lahir").is_none(),
            "only what was asked: {claims}"
        );
        assert_eq!(result["kb"]["aud"], client_id);
        assert!(child.wait().await.unwrap().success());
    }
}

/// (b) ikd-verifier accepts a presentation made by a wallet built on
/// `@openid4vc/openid4vp`, `dcql` and `@sd-jwt/sd-jwt-vc` (`tests/interop/oid4vp/wallet.mjs`),
/// holding a real IKD credential bound to its own key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ikd_verifier_accepts_third_party_wallet_presentations() {
    let dir = interop_dir();
    let h = Harness::start().await;
    let v = ikd_tests::vp::start_verifier(&h.base_url).await;
    let holder = ikd_tests::vp::holder(&h, SITI.nik, "siti.rahmawati@example.com").await;
    for (mode, method) in [("direct_post.jwt", "post"), ("direct_post", "get")] {
        let c = v
            .create(
                json!({"preset": "identitas", "response_mode": mode, "request_uri_method": method}),
            )
            .await;
        let input = json!({
            "url": c.url,
            "trust_anchor_pem": v.ca_pem,
            "credential": holder.ktp,
            "holder_private_key_pem": pkcs8_pem(&holder.key),
        });
        let mut child = tokio::process::Command::new("node")
            .arg(dir.join("wallet.mjs"))
            .current_dir(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("node starts");
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(input.to_string().as_bytes()).await.unwrap();
        drop(stdin);
        let out = child.wait_with_output().await.unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{mode}: {stderr}");
        let run: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(run["status"], 200, "{mode}: {run} {stderr}");
        assert_eq!(run["client_id"], v.running.verifier.client_id());
        let r = v.result(&c.id).await;
        assert_eq!(r["status"], "valid", "{mode}: {r}");
        assert_eq!(r["credentials"][0]["claims"]["nama"], SITI.name);
        assert!(r["credentials"][0]["claims"].get("tanggal_lahir").is_none());
    }
    v.running.shutdown().await;
}
