//! The ikd-server binary's commands.
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_ikd-server");

#[test]
fn officer_add_seed_and_openapi() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let mut child = Command::new(BIN)
        .args([
            "officer",
            "add",
            "--username",
            "budi",
            "--password-stdin",
            "--data-dir",
            data,
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"rahasia-sekali\n")
        .unwrap();
    assert!(child.wait().unwrap().success());

    // Too short a password is refused.
    let out = Command::new(BIN)
        .args([
            "officer",
            "add",
            "--username",
            "x",
            "--password",
            "short",
            "--data-dir",
            data,
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());

    let out = Command::new(BIN)
        .args([
            "seed",
            "--residents",
            "25",
            "--seed",
            "3",
            "--data-dir",
            data,
        ])
        .output()
        .unwrap();
    assert!(out.status.success());

    let config = ikd_server::Config::demo(dir.path().to_path_buf());
    let state = ikd_server::open_state(&config, "http://localhost".into()).unwrap();
    let o = state.store.officer("budi").unwrap().unwrap();
    assert!(ikd_server::auth::verify_password(
        "rahasia-sekali",
        &o.password_hash
    ));
    assert!(o.password_hash.starts_with("$argon2id$"));
    assert_eq!(
        state.store.resident_count().unwrap(),
        25 + ikd_server::demo::DEMO_RESIDENTS.len()
    );

    let out = Command::new(BIN).arg("openapi").output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        ikd_server::openapi::document_pretty()
    );
}
