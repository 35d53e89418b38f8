//! Interoperability: a third-party SD-JWT VC verifier checks credentials issued by the
//! real ikd-server, and reads their status from the server's Token Status List.
//!
//! The verifier is `tests/interop/sdjwtvc/verify.mjs`, built on the npm packages
//! `@sd-jwt/sd-jwt-vc` and `@sd-jwt/jwt-status-list` (OpenWallet Foundation). It finds
//! the issuer key through `/.well-known/jwt-vc-issuer` and the header's `kid`. It needs
//! `node` on PATH and `npm ci --prefix tests/interop/sdjwtvc` run once (scripts/setup).
#![allow(clippy::unwrap_used)]

use ikd_core::sdjwt::{self, PathSeg};
use ikd_core::wire::{KK_CONFIGURATION, KTP_CONFIGURATION};
use ikd_server::demo::SITI;
use ikd_tests::Harness;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::Stdio;
use tokio::io::AsyncWriteExt;

/// Fails with the missing install step when node or the library is absent.
fn require_verifier() -> PathBuf {
    ikd_tests::interop::node_dir(
        "sdjwtvc",
        &[
            "@sd-jwt/sd-jwt-vc",
            "@sd-jwt/jwt-status-list",
            "@sd-jwt/crypto-nodejs",
        ],
    )
}

/// Their verdict: Ok(output JSON) or Err(stderr).
async fn their_verify(dir: &std::path::Path, credential: &str) -> Result<Value, String> {
    let mut child = tokio::process::Command::new("node")
        .arg(dir.join("verify.mjs"))
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("node starts");
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(json!({ "credential": credential }).to_string().as_bytes())
        .await
        .unwrap();
    drop(stdin);
    let out = child.wait_with_output().await.unwrap();
    if out.status.success() {
        Ok(serde_json::from_slice(&out.stdout).unwrap())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn their_verifier_checks_our_ktp_and_kk_and_reads_the_status_list() {
    let dir = require_verifier();
    let h = Harness::start().await;
    let c = &h.client;
    let officer = h.officer().await;
    let siti = h.approved(&officer, SITI.nik, "siti@example.com").await;
    let t = c
        .token(&siti.pre_authorized_code, &siti.code)
        .await
        .unwrap();
    let ktp = c
        .credential(
            &t.access_token,
            KTP_CONFIGURATION,
            &h.proof(&siti.key).await,
        )
        .await
        .unwrap();
    let kk = c
        .credential(&t.access_token, KK_CONFIGURATION, &h.proof(&siti.key).await)
        .await
        .unwrap();

    // The whole KTP: signature by the key its kid names, every disclosure, status 0.
    let out = their_verify(&dir, &ktp).await.unwrap();
    assert_eq!(out["status"], 0);
    assert_eq!(out["header"]["typ"], "dc+sd-jwt");
    let p = &out["payload"];
    assert_eq!(p["nik"], SITI.nik);
    assert_eq!(p["nama"], SITI.name);
    assert_eq!(p["iss"], h.base_url.as_str());
    assert_eq!(
        p["status"]["status_list"]["uri"],
        format!("{}/status-lists/1", h.base_url)
    );
    assert_eq!(p["age_equal_or_over"]["17"], true);

    // Age only: "17 or over" without the birth date.
    let age = sdjwt::present_paths(&ktp, |p| {
        matches!(p, [PathSeg::Key(a), PathSeg::Key(n)] if a == "age_equal_or_over" && n == "17")
    })
    .unwrap();
    let out = their_verify(&dir, &age).await.unwrap();
    assert_eq!(out["payload"]["age_equal_or_over"], json!({"17": true}));
    assert!(out["payload"].get("tanggal_lahir").is_none());
    assert!(out["payload"].get("nik").is_none());

    // The KK with only each member's nama and hubungan (nested disclosures).
    let names = sdjwt::present_paths(&kk, |p| {
        matches!(p, [PathSeg::Key(a), PathSeg::Index(_), PathSeg::Key(f)]
            if a == "anggota" && (f == "nama" || f == "hubungan"))
    })
    .unwrap();
    let out = their_verify(&dir, &names).await.unwrap();
    let members = out["payload"]["anggota"].as_array().unwrap();
    assert!(members.len() >= 2);
    for m in members {
        let mut keys: Vec<&String> = m.as_object().unwrap().keys().collect();
        keys.sort();
        assert_eq!(keys, ["hubungan", "nama"], "{m}");
    }
    assert!(members.iter().any(|m| m["nama"] == SITI.name));
    assert!(out["payload"].get("nomor_kk").is_none());

    // A refresh replaces the KTP: their verifier now refuses the old one by its status.
    let ktp2 = c
        .credential(
            &t.access_token,
            KTP_CONFIGURATION,
            &h.proof(&siti.key).await,
        )
        .await
        .unwrap();
    let err = their_verify(&dir, &ktp).await.unwrap_err();
    assert!(err.contains("status=1"), "{err}");
    assert_eq!(their_verify(&dir, &ktp2).await.unwrap()["status"], 0);

    // Lepas Perangkat: the KK is refused too.
    c.release(&t.access_token, &h.proof(&siti.key).await)
        .await
        .unwrap();
    let err = their_verify(&dir, &kk).await.unwrap_err();
    assert!(err.contains("status=1"), "{err}");
    h.server.shutdown().await;
}
