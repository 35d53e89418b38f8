//! The `ikd` binary, run as a user would.
#![allow(clippy::unwrap_used)]

use serde_json::Value;
use std::process::{Command, Output};

fn ikd(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ikd"))
        .args(args)
        .output()
        .unwrap()
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn nik_palembang() {
    let out = ikd(&["nik", "1671014509900001"]);
    assert!(out.status.success());
    let v = json(&out);
    assert_eq!(v["nik"], "1671014509900001");
    assert_eq!(v["province"]["code"], "16");
    assert_eq!(v["province"]["name"], "Sumatera Selatan");
    assert_eq!(v["regency"]["code"], "1671");
    assert_eq!(v["regency"]["name"], "Kota Palembang");
    assert_eq!(v["district"]["code"], "167101");
    assert_eq!(v["district"]["name"], "Ilir Barat Dua");
    assert_eq!(v["birth_date"], "1990-09-05");
    assert_eq!(v["sex"], "female");
    assert_eq!(v["serial"], "0001");
    assert_eq!(v["warnings"], serde_json::json!([]));
}

#[test]
fn nik_error_is_json_and_nonzero() {
    let out = ikd(&["nik", "16710145099000"]);
    assert_eq!(out.status.code(), Some(1));
    let v = json(&out);
    assert_eq!(v["error"]["code"], "invalid_nik");
    assert_eq!(v["error"]["detail"]["reason"], "length");
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .contains("16 digits"));
    assert!(!String::from_utf8_lossy(&out.stdout).contains("16710145099000"));
}

#[test]
fn nik_today_option_sets_the_century() {
    let out = ikd(&["--today", "2025-06-01", "nik", "1671010107250001"]);
    assert_eq!(json(&out)["birth_date"], "1925-07-01");
    let out = ikd(&["--today", "2025-07-01", "nik", "1671010107250001"]);
    assert_eq!(json(&out)["birth_date"], "2025-07-01");
}

#[test]
fn nik_unknown_district_warns() {
    let out = ikd(&["nik", "1671994509900001"]);
    assert!(out.status.success());
    let v = json(&out);
    assert_eq!(v["district"]["name"], Value::Null);
    assert_eq!(v["warnings"], serde_json::json!(["unknown_district"]));
}

#[test]
fn kk_phone_email() {
    let v = json(&ikd(&["kk", "1671 0123 0419 0007"]));
    assert_eq!(v["kk"], "1671012304190007");
    assert_eq!(v["regency"]["name"], "Kota Palembang");

    let v = json(&ikd(&["phone", "0812-3456-7890"]));
    assert_eq!(v["phone"], "+6281234567890");

    let v = json(&ikd(&["email", " Siti@Example.COM "]));
    assert_eq!(v["email"], "Siti@example.com");

    for (args, code) in [
        (["kk", "99"], "invalid_kk"),
        (["phone", "021-555-1234"], "invalid_phone"),
        (["email", "siti@localhost"], "invalid_email"),
    ] {
        let out = ikd(&args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert_eq!(json(&out)["error"]["code"], code, "{args:?}");
    }
}

#[test]
fn selfie_writes_a_600x800_jpeg() {
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("out.jpg");
    let input = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/astronaut.png");
    let out = ikd(&["selfie", input, out_path.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let v = json(&out);
    assert_eq!(v["width"], 600);
    assert_eq!(v["height"], 800);
    let written = std::fs::read(&out_path).unwrap();
    assert_eq!(v["bytes"], written.len());
    assert_eq!(&written[..2], &[0xFF, 0xD8]);
}

#[test]
fn selfie_errors() {
    let dir = tempfile::tempdir().unwrap();
    let not_image = dir.path().join("note.txt");
    std::fs::write(&not_image, b"hello").unwrap();
    let out_path = dir.path().join("out.jpg");
    let out = ikd(&[
        "selfie",
        not_image.to_str().unwrap(),
        out_path.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json(&out)["error"]["code"], "image_invalid");
    assert!(!out_path.exists());

    let missing = dir.path().join("missing.jpg");
    let out = ikd(&[
        "selfie",
        missing.to_str().unwrap(),
        out_path.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json(&out)["error"]["code"], "storage");
}
