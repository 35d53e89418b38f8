//! Issuer trust in the wallet (issue 11 item 11, issue 10's x5c): the metadata must name
//! the configured issuer (not the backend URL, which a proxy may change); the
//! credentials' `x5c` chain must reach the configured Dukcapil root, which is pinned;
//! the pinned issuer record is sealed. Real `ikd_server` on loopback, real SQLite.
#![allow(clippy::unwrap_used)]

use ikd_core::clock::SystemClock;
use ikd_core::error::ErrorCode;
use ikd_core::vault::{FileKeyStore, KdfParams};
use ikd_core::wallet::{Wallet, WalletConfig, DB_FILE, ISSUER_ROOT_FILE};
use ikd_server::demo::{BUDI, SITI};
use ikd_tests::faultnet::{FaultProxy, Profile};
use ikd_tests::vp::{secret, PIN};
use ikd_tests::Harness;
use std::path::Path;
use std::sync::Arc;

fn open(dir: &Path, backend_url: &str, issuer_url: Option<&str>) -> Wallet {
    Wallet::open(WalletConfig {
        data_dir: dir.to_path_buf(),
        backend_url: backend_url.to_owned(),
        dev_build: false,
        clock: Arc::new(SystemClock),
        keystore: Arc::new(FileKeyStore::in_dir(dir)),
        kdf: Some(KdfParams::insecure_for_tests()),
        issuer_url: issuer_url.map(str::to_owned),
    })
    .unwrap()
}

/// The demo server's Dukcapil root (it makes one in its data dir).
fn demo_root(h: &Harness) -> String {
    std::fs::read_to_string(h.dir.path().join(ikd_server::x5c::DEMO_ROOT_FILE)).unwrap()
}

fn kv(dir: &Path, key: &str) -> Option<String> {
    rusqlite::Connection::open(dir.join(DB_FILE))
        .unwrap()
        .query_row("SELECT value FROM kv WHERE key = ?1", [key], |r| r.get(0))
        .ok()
}

fn set_kv(dir: &Path, key: &str, value: &str) {
    rusqlite::Connection::open(dir.join(DB_FILE))
        .unwrap()
        .execute(
            "INSERT OR REPLACE INTO kv (key, value) VALUES (?1, ?2)",
            [key, value],
        )
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_credentials_chain_to_the_configured_root_and_another_root_is_refused() {
    let h = Harness::start().await;

    // Siti's wallet is configured with the demo server's root: activation checks the
    // chain and pins the root; a refresh checks the new credentials against it.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(ISSUER_ROOT_FILE), demo_root(&h)).unwrap();
    let w = open(dir.path(), &h.base_url, None);
    let code = h
        .wallet_approved(&w, SITI.nik, SITI.name, "siti@example.com")
        .await;
    w.activate(secret(&code)).await.unwrap();
    w.set_pin(secret(PIN), secret(PIN)).unwrap();
    // The configuration file may go: the root is pinned in the sealed record.
    std::fs::remove_file(dir.path().join(ISSUER_ROOT_FILE)).unwrap();
    w.refresh_documents().await.unwrap();
    assert!(w.ktp().is_ok());

    // Budi's wallet is configured with another root: the credentials are refused.
    let other = ikd_verifier::demo::generate("Not Dukcapil", "Not Dukcapil", "x.localhost")
        .unwrap()
        .ca_pem;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(ISSUER_ROOT_FILE), other).unwrap();
    let w = open(dir.path(), &h.base_url, None);
    let code = h
        .wallet_approved(&w, BUDI.nik, BUDI.name, "budi@example.com")
        .await;
    let e = w.activate(secret(&code)).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::CredentialInvalid, "{e:?}");
    assert!(e.message.contains("x5c"), "{}", e.message);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_metadata_must_name_the_configured_issuer_not_the_backend_url() {
    let h = Harness::start().await;

    // Enrolled with this backend, then (before activation) configured for another
    // issuer, as if the backend now answered for one it is not: refused at activation.
    // (The server already refuses a submit whose device proof names another issuer.)
    let dir = tempfile::tempdir().unwrap();
    let w = open(dir.path(), &h.base_url, None);
    let code = h
        .wallet_approved(&w, SITI.nik, SITI.name, "siti@example.com")
        .await;
    drop(w);
    let w = open(dir.path(), &h.base_url, Some("https://ikd.dukcapil.go.id"));
    let e = w.activate(secret(&code)).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::CredentialInvalid, "{e:?}");
    assert!(e.message.contains("credential_issuer"), "{}", e.message);

    // Through a proxy on another port, with the issuer configured: accepted.
    let proxy = FaultProxy::start(h.server.addr, Profile::Clean)
        .await
        .unwrap();
    assert_ne!(proxy.url(), h.base_url);
    let dir = tempfile::tempdir().unwrap();
    let w = open(dir.path(), &proxy.url(), Some(&h.base_url));
    let code = h
        .wallet_approved(&w, BUDI.nik, BUDI.name, "budi@example.com")
        .await;
    w.activate(secret(&code)).await.unwrap();
    w.set_pin(secret(PIN), secret(PIN)).unwrap();
    assert_eq!(w.ktp().unwrap().ktp.nama, BUDI.name);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pinned_issuer_record_is_sealed_and_a_changed_one_is_refused() {
    let h = Harness::start().await;
    let dir = tempfile::tempdir().unwrap();
    let w = open(dir.path(), &h.base_url, None);
    let code = h
        .wallet_approved(&w, SITI.nik, SITI.name, "siti@example.com")
        .await;
    w.activate(secret(&code)).await.unwrap();
    w.set_pin(secret(PIN), secret(PIN)).unwrap();
    let jwk_x = h.server.state.issuer_key.public_jwk().x;
    drop(w);

    // Sealed: no plain record, and the key is not readable in the file.
    assert_eq!(kv(dir.path(), "issuer"), None);
    let sealed = kv(dir.path(), "issuer.sealed").expect("the sealed issuer record");
    assert!(
        !sealed.contains(&jwk_x),
        "the issuer key is not in the clear"
    );

    // Reopened, the sealed record opens and the documents verify.
    let w = open(dir.path(), &h.base_url, None);
    w.unlock(secret(PIN)).unwrap();
    let ktp = w.ktp().unwrap();
    drop(w);

    // Another sealed record put in its place (e.g. one sealed for another name, here a
    // flipped character) does not open: the documents are refused, not shown.
    let mut tampered: Vec<char> = sealed.chars().collect();
    let i = tampered.len() / 2;
    tampered[i] = if tampered[i] == 'A' { 'B' } else { 'A' };
    set_kv(
        dir.path(),
        "issuer.sealed",
        &tampered.into_iter().collect::<String>(),
    );
    let w = open(dir.path(), &h.base_url, None);
    w.unlock(secret(PIN)).unwrap();
    let e = w.ktp().unwrap_err();
    assert_eq!(e.code, ErrorCode::VaultCorrupt, "{e:?}");
    drop(w);

    // A plain record (as versions before sealing kept it) is sealed on first use.
    rusqlite::Connection::open(dir.path().join(DB_FILE))
        .unwrap()
        .execute("DELETE FROM kv WHERE key = 'issuer.sealed'", [])
        .unwrap();
    let plain = serde_json::json!({
        "id": h.base_url,
        "jwk": h.server.state.issuer_key.public_jwk(),
        "name": null,
    });
    set_kv(dir.path(), "issuer", &plain.to_string());
    let w = open(dir.path(), &h.base_url, None);
    w.unlock(secret(PIN)).unwrap();
    assert_eq!(w.ktp().unwrap().ktp.nik, ktp.ktp.nik);
    assert_eq!(kv(dir.path(), "issuer"), None);
    assert!(kv(dir.path(), "issuer.sealed").is_some());
}
