//! Interoperability: a standard third-party OpenID4VCI wallet library completes issuance
//! against the real ikd-server with the credential offer and the emailed tx_code.
//!
//! The wallet is `tests/interop/oid4vci/wallet.mjs`, built on the npm package
//! `@openid4vc/openid4vci` (OpenWallet Foundation, used by Credo). It needs
//! `node` on PATH and `npm ci --prefix tests/interop/oid4vci` run once.
//!
//! The resident enrolls with ikd-core's client but with the wallet's device key (made here
//! and handed to the wallet as PKCS#8 PEM on stdin), so the enrolled key is the one that
//! signs the library's proof JWTs.
#![allow(clippy::unwrap_used)]

use base64::Engine;
use ikd_core::clock::Clock;
use ikd_core::jose::EcKeyPair;
use ikd_core::sdjwt;
use ikd_core::secret::SecretString;
use ikd_core::wire::{
    CredentialOffer, EcJwk, EnrollmentStatusWire, KK_CONFIGURATION, KK_VCT, KTP_CONFIGURATION,
    KTP_VCT,
};
use ikd_server::demo::{DEMO_KK, SITI};
use ikd_tests::{code_in, Harness, MAIL_TIMEOUT};
use std::path::PathBuf;
use std::process::Stdio;
use tokio::io::AsyncWriteExt;

/// Fails with the missing install step when node or the library is absent.
fn require_wallet() -> PathBuf {
    ikd_tests::interop::node_dir(
        "oid4vci",
        &["@openid4vc/openid4vci", "@openid4vc/oauth2", "jose"],
    )
}

fn pkcs8_pem(key: &EcKeyPair) -> SecretString {
    let b64 = base64::engine::general_purpose::STANDARD.encode(key.pkcs8().expose());
    let mut pem = String::from("-----BEGIN PRIVATE KEY-----\n");
    for line in b64.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(line).unwrap());
        pem.push('\n');
    }
    pem.push_str("-----END PRIVATE KEY-----\n");
    SecretString::new(pem)
}

struct WalletRun {
    success: bool,
    stdout: String,
    stderr: String,
}

/// Runs the third-party wallet with the offer (as JSON, as the status endpoint gives it),
/// the tx_code and the holder key, all on stdin.
async fn run_wallet(
    dir: &std::path::Path,
    offer: &CredentialOffer,
    tx_code: &str,
    key: &EcKeyPair,
    refresh: bool,
    dpop: bool,
) -> WalletRun {
    let input = serde_json::json!({
        "offer": serde_json::to_string(offer).unwrap(),
        "tx_code": tx_code,
        "private_key_pem": pkcs8_pem(key).expose(),
        "allow_insecure_urls": true,
        "refresh": refresh,
        "dpop": dpop,
    });
    let mut child = tokio::process::Command::new("node")
        .arg(dir.join("wallet.mjs"))
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("node starts");
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(serde_json::to_vec(&input).unwrap().as_slice())
        .await
        .unwrap();
    drop(stdin);
    let out = child.wait_with_output().await.unwrap();
    WalletRun {
        success: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn third_party_wallet_library_completes_issuance_with_offer_and_tx_code() {
    let dir = require_wallet();
    let h = Harness::start().await;
    let c = &h.client;

    // The wallet's device key, made here; its public JWK is what gets enrolled.
    let key = EcKeyPair::generate().unwrap();
    let email = "siti@example.com";
    let sub = c
        .submit(&h.enroll_request(SITI.nik, email, &key).await)
        .await
        .unwrap();
    let token = SecretString::new(sub.enrollment_token.clone());
    let officer = h.officer().await;
    let qr = officer.desk_qr().await;
    let scanned = c.scan(&sub.enrollment_id, &token, &qr.text).await.unwrap();
    assert_eq!(
        officer
            .approve(&sub.enrollment_id, &ikd_tests::confirm_of(&scanned))
            .await,
        reqwest::StatusCode::OK
    );
    let mail = h.smtp.next(MAIL_TIMEOUT).await.expect("activation mail");
    assert_eq!(mail.to, vec![email.to_owned()]);
    let code = code_in(&mail);
    let st = c.status(&sub.enrollment_id, &token).await.unwrap();
    assert_eq!(st.status, EnrollmentStatusWire::Approved);
    let offer = st.credential_offer.expect("offer once approved");

    // A wrong tx_code: the library surfaces the issuer's OAuth error and exits non-zero.
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let run = run_wallet(&dir, &offer, wrong, &key, false, false).await;
    assert!(!run.success, "a wrong tx_code must fail: {}", run.stdout);
    assert!(
        run.stderr.contains("invalid_grant"),
        "the wallet reports the issuer's invalid_grant: {}",
        run.stderr
    );
    assert!(!run.stderr.contains(code.as_str()));

    // The right code: both credentials, then the refresh_token grant and one more.
    let run = run_wallet(&dir, &offer, &code, &key, true, false).await;
    assert!(
        run.success,
        "the third-party wallet failed against ikd-server:\n{}",
        run.stderr
    );
    eprintln!("{}", run.stderr.trim_end());
    let out: serde_json::Value = serde_json::from_str(run.stdout.trim()).unwrap();
    // Without DPoP the wallet gets Bearer tokens, as before DPoP existed.
    assert_eq!(out["token_type"], "Bearer", "{out}");
    let holder: EcJwk = serde_json::from_value(out["holder_jwk"].clone()).unwrap();
    assert_eq!(
        holder,
        key.public_jwk(),
        "the wallet signed with the enrolled key"
    );

    let meta = c.issuer_metadata().await.unwrap();
    let now = h.clock.now();
    let ktp = out["credentials"][KTP_CONFIGURATION]
        .as_str()
        .expect("a ktp credential");
    let v = sdjwt::verify(ktp, &meta.issuer_jwk, Some(&key.public_jwk()), now).unwrap();
    assert_eq!(v.vct, KTP_VCT);
    assert_eq!(v.issuer, h.base_url);
    assert_eq!(v.claims["nik"], SITI.nik);
    assert_eq!(v.claims["nama"], SITI.name);
    let kk = out["credentials"][KK_CONFIGURATION]
        .as_str()
        .expect("a kk credential");
    let v = sdjwt::verify(kk, &meta.issuer_jwk, Some(&key.public_jwk()), now).unwrap();
    assert_eq!(v.vct, KK_VCT);
    assert_eq!(v.claims["nomor_kk"], DEMO_KK);
    let anggota = v.claims["anggota"].as_array().unwrap();
    assert!(anggota.iter().any(|m| m["nik"] == SITI.nik));
    let refreshed = out["refreshed"][KTP_CONFIGURATION]
        .as_str()
        .expect("a ktp credential after refresh");
    let v = sdjwt::verify(refreshed, &meta.issuer_jwk, Some(&key.public_jwk()), now).unwrap();
    assert_eq!(v.claims["nik"], SITI.nik);

    // Activation is single use: the same offer and code do not issue again.
    let st = c.status(&sub.enrollment_id, &token).await.unwrap();
    assert_eq!(st.status, EnrollmentStatusWire::Activated);
    let again = run_wallet(&dir, &offer, &code, &key, false, false).await;
    assert!(!again.success);
    assert!(again.stderr.contains("invalid_grant"), "{}", again.stderr);

    h.server.shutdown().await;
}

/// Approved for `nik` with `key` enrolled: returns the offer and the mailed code.
async fn approved_offer(
    h: &Harness,
    nik: &str,
    email: &str,
    key: &EcKeyPair,
) -> (CredentialOffer, String) {
    let c = &h.client;
    let sub = c
        .submit(&h.enroll_request(nik, email, key).await)
        .await
        .unwrap();
    let token = SecretString::new(sub.enrollment_token.clone());
    let officer = h.officer().await;
    let qr = officer.desk_qr().await;
    let scanned = c.scan(&sub.enrollment_id, &token, &qr.text).await.unwrap();
    assert_eq!(
        officer
            .approve(&sub.enrollment_id, &ikd_tests::confirm_of(&scanned))
            .await,
        reqwest::StatusCode::OK
    );
    let code = code_in(&h.smtp.next(MAIL_TIMEOUT).await.expect("activation mail"));
    let st = c.status(&sub.enrollment_id, &token).await.unwrap();
    (st.credential_offer.expect("offer once approved"), code)
}

/// DPoP (RFC 9449) with a third-party client on the other side: `@openid4vc/oauth2`
/// makes the proofs (its own `dpop+jwt`, `htm`, `htu`, `iat`, `jti`, `ath`) with the
/// holder key; ikd-server binds the tokens to that key (`token_type: DPoP`) and then
/// issues both credentials and refreshes, checking the library's proofs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn third_party_wallet_library_with_dpop_gets_key_bound_tokens() {
    let dir = require_wallet();
    let h = Harness::start().await;
    let key = EcKeyPair::generate().unwrap();
    let (offer, code) = approved_offer(&h, SITI.nik, "siti@example.com", &key).await;

    let run = run_wallet(&dir, &offer, &code, &key, true, true).await;
    assert!(
        run.success,
        "the third-party wallet with DPoP failed against ikd-server:\n{}",
        run.stderr
    );
    eprintln!("{}", run.stderr.trim_end());
    let out: serde_json::Value = serde_json::from_str(run.stdout.trim()).unwrap();
    assert_eq!(out["token_type"], "DPoP", "{out}");
    let meta = h.client.issuer_metadata().await.unwrap();
    let now = h.clock.now();
    for conf in [KTP_CONFIGURATION, KK_CONFIGURATION] {
        let c = out["credentials"][conf].as_str().expect("a credential");
        sdjwt::verify(c, &meta.issuer_jwk, Some(&key.public_jwk()), now).unwrap();
    }
    assert!(out["refreshed"][KTP_CONFIGURATION].is_string(), "{out}");
    // Every token the server holds is bound to the holder key's thumbprint.
    assert_eq!(
        h.count("SELECT COUNT(*) FROM tokens WHERE dpop_jkt IS NULL"),
        0
    );
    assert!(h.count("SELECT COUNT(*) FROM tokens WHERE dpop_jkt IS NOT NULL") >= 2);
    h.server.shutdown().await;
}
