//! Privacy of logs: the whole journey with every tracing target captured at TRACE (and
//! `log` records bridged into tracing), then the captured text must not contain any
//! personal datum or secret: NIK (plain and grouped), e-mail address, enrollment token,
//! activation codes, pre-authorised code, access and refresh tokens, the officer's
//! password and session cookie, the PINs.
//!
//! Part 1 drives the server over HTTP by hand (so every secret is known to the test);
//! part 2 drives the `ikd_core::wallet::Wallet` facade through enrollment, activation,
//! PIN, wrong PIN, unlock, refresh and release.
//!
//! Also: the wallet keeps the camera's selfie in memory only (`Wallet::process_selfie`
//! stores the processed JPEG in the facade's state and `submit_enrollment` clears it);
//! it writes no temp files. So the test asserts that the app data dir holds no image
//! (JPEG/PNG magic bytes at the start of a file, or an embedded JFIF/Exif/PNG header or
//! a base64 JPEG anywhere in any file) after the journey.
#![allow(clippy::unwrap_used)]

use ikd_core::clock::SystemClock;
use ikd_core::error::ErrorCode;
use ikd_core::secret::SecretString;
use ikd_core::vault::{FileKeyStore, KdfParams};
use ikd_core::view::Stage;
use ikd_core::wallet::{Wallet, WalletConfig};
use ikd_core::wire::{KK_CONFIGURATION, KTP_CONFIGURATION};
use ikd_server::demo::{BUDI, SITI};
use ikd_tests::{code_in, device_key, Harness, MAIL_TIMEOUT};
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn secret(s: &str) -> SecretString {
    SecretString::new(s.to_owned())
}

/// `needle` occurs in `hay` not glued to other digits (for short numeric secrets).
fn contains_number(hay: &str, needle: &str) -> bool {
    hay.match_indices(needle).any(|(i, _)| {
        let before = hay[..i].chars().next_back();
        let after = hay[i + needle.len()..].chars().next();
        !before.is_some_and(|c| c.is_ascii_digit()) && !after.is_some_and(|c| c.is_ascii_digit())
    })
}

fn grouped(nik: &str) -> Vec<String> {
    vec![
        format!(
            "{} {} {} {}",
            &nik[..4],
            &nik[4..8],
            &nik[8..12],
            &nik[12..]
        ),
        format!("{}.{}.{}.{}", &nik[..2], &nik[2..4], &nik[4..6], &nik[6..]),
        format!(
            "{}-{}-{}-{}",
            &nik[..4],
            &nik[4..8],
            &nik[8..12],
            &nik[12..]
        ),
    ]
}

/// Files under `dir` that are, or embed, an image.
fn images_in(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let b = std::fs::read(&p).unwrap();
            let has = |pat: &[u8]| b.windows(pat.len()).any(|w| w == pat);
            let jpeg_head = b.starts_with(&[0xFF, 0xD8, 0xFF]);
            let png_head = b.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]);
            let embedded = has(b"\xFF\xD8\xFF\xE0\x00\x10JFIF")
                || has(b"\xFF\xD8\xFF\xE1") && has(b"Exif\x00\x00")
                || has(b"\xFF\xD8\xFF\xDB\x00\x43\x00")
                || has(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A])
                || has(b"/9j/4");
            if jpeg_head || png_head || embedded {
                found.push(format!(
                    "{} ({} B{}{}{})",
                    p.display(),
                    b.len(),
                    if jpeg_head { ", JPEG" } else { "" },
                    if png_head { ", PNG" } else { "" },
                    if embedded { ", embedded image" } else { "" }
                ));
            }
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_at_trace_carry_no_personal_data_or_secrets() {
    let buf = Captured::default();
    {
        let buf = buf.clone();
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .without_time()
            .with_target(true)
            .with_writer(move || buf.clone())
            .try_init()
            .expect("this test binary installs the only subscriber");
    }
    let mut secrets: Vec<(String, String)> = Vec::new();
    let mut add = |what: &str, v: &str| secrets.push((what.to_owned(), v.to_owned()));

    let h = Harness::start_with(ikd_server::Limits::generous()).await;
    let officer = h.officer().await;
    add("officer password", ikd_server::demo::DEMO_OFFICER_PASSWORD);
    add(
        "officer session",
        officer.cookie.split_once('=').map(|c| c.1).unwrap(),
    );

    // Part 1: Siti over HTTP, every secret in hand.
    let c = &h.client;
    let key = device_key();
    let siti_email = "siti.rahmawati@example.com";
    add("NIK (Siti)", SITI.nik);
    for g in grouped(SITI.nik) {
        add("NIK grouped (Siti)", &g);
    }
    add("email (Siti)", siti_email);
    let sub = c
        .submit(&h.enroll_request(SITI.nik, siti_email, &key).await)
        .await
        .unwrap();
    add("enrollment token", &sub.enrollment_token);
    let token = SecretString::new(sub.enrollment_token.clone());
    let scanned = c
        .scan(&sub.enrollment_id, &token, &officer.desk_qr().await.text)
        .await
        .unwrap();
    assert!(officer
        .approve(&sub.enrollment_id, &ikd_tests::confirm_of(&scanned))
        .await
        .is_success());
    let code = code_in(&h.smtp.next(MAIL_TIMEOUT).await.unwrap());
    add("activation code (Siti)", &code);
    let st = c.status(&sub.enrollment_id, &token).await.unwrap();
    let pac = st
        .credential_offer
        .unwrap()
        .grants
        .pre_authorized_code
        .unwrap()
        .pre_authorized_code;
    add("pre-authorized code", &pac);
    let wrong = if code == "000000" { "111111" } else { "000000" };
    assert!(c.token(&pac, &secret(wrong)).await.is_err());
    let tokens = c.token(&pac, &secret(&code)).await.unwrap();
    add("access token", tokens.access_token.expose());
    let refresh = tokens.refresh_token.clone().unwrap();
    add("refresh token", refresh.expose());
    for cfg in [KTP_CONFIGURATION, KK_CONFIGURATION] {
        c.credential(&tokens.access_token, cfg, &h.proof(&key).await)
            .await
            .unwrap();
    }
    let refreshed = c.refresh(&refresh).await.unwrap();
    add("refreshed access token", refreshed.access_token.expose());
    c.credential(
        &refreshed.access_token,
        KTP_CONFIGURATION,
        &h.proof(&key).await,
    )
    .await
    .unwrap();
    c.release(&refreshed.access_token, &h.proof(&key).await)
        .await
        .unwrap();
    assert!(c.refresh(&refresh).await.is_err());

    // Part 2: Budi through the wallet facade.
    let app_dir = tempfile::tempdir().unwrap();
    let budi_email = "budi.santoso@example.com";
    let (pin, wrong_pin, new_pin) = ("240517", "913468", "682931");
    add("NIK (Budi)", BUDI.nik);
    for g in grouped(BUDI.nik) {
        add("NIK grouped (Budi)", &g);
    }
    add("email (Budi)", budi_email);
    add("PIN", pin);
    add("wrong PIN", wrong_pin);
    add("new PIN", new_pin);
    let w = Wallet::open(WalletConfig {
        data_dir: app_dir.path().to_path_buf(),
        backend_url: h.base_url.clone(),
        dev_build: true,
        clock: Arc::new(SystemClock),
        keystore: Arc::new(FileKeyStore::in_dir(app_dir.path())),
        kdf: Some(KdfParams::insecure_for_tests()),
        issuer_url: None,
    })
    .unwrap();
    let budi_code = h.wallet_approved(&w, BUDI.nik, BUDI.name, budi_email).await;
    add("activation code (Budi)", &budi_code);
    let wrong_code = if budi_code == "000000" {
        "111111"
    } else {
        "000000"
    };
    assert_eq!(
        w.activate(secret(wrong_code)).await.unwrap_err().code,
        ErrorCode::CodeWrong
    );
    w.activate(secret(&budi_code)).await.unwrap();
    assert_eq!(
        w.set_pin(secret(pin), secret(pin)).unwrap().stage,
        Stage::Unlocked
    );
    w.lock().unwrap();
    assert_eq!(
        w.unlock(secret(wrong_pin)).unwrap_err().code,
        ErrorCode::WrongPin
    );
    w.unlock(secret(pin)).unwrap();
    assert!(w.ktp().unwrap().verified);
    w.refresh_documents().await.unwrap();
    w.change_pin(secret(pin), secret(new_pin)).unwrap();
    w.lock().unwrap();
    w.unlock(secret(new_pin)).unwrap();
    // The selfie never reached the disk.
    let images = images_in(app_dir.path());
    assert!(images.is_empty(), "image data in the app dir: {images:?}");
    let files = std::fs::read_dir(app_dir.path()).unwrap().count();
    w.release_device().await.unwrap();
    let images_after_release = images_in(app_dir.path());
    assert!(images_after_release.is_empty());
    drop(w);
    h.server.shutdown().await;

    // The check.
    let logs = String::from_utf8_lossy(&buf.0.lock().unwrap()).into_owned();
    let lines = logs.lines().count();
    assert!(
        logs.contains("enrollment submitted") && logs.contains("credential issued"),
        "the server's events were captured"
    );
    let mut leaks = Vec::new();
    for (what, v) in &secrets {
        let hit = if v.len() <= 8 && v.chars().all(|c| c.is_ascii_digit()) {
            contains_number(&logs, v)
        } else {
            logs.contains(v.as_str())
        };
        if hit {
            let line = logs.lines().find(|l| l.contains(v.as_str())).unwrap_or("");
            leaks.push(format!("{what}: {line:.300}"));
        }
    }
    let targets: std::collections::BTreeSet<&str> = logs
        .lines()
        .filter_map(|l| l.split_whitespace().nth(1))
        .filter(|t| t.ends_with(':'))
        .collect();
    println!(
        "privacy: {lines} log lines ({} B, {} targets) checked against {} secrets; \
         {} leaks; app data dir: {files} files, {} with image data",
        logs.len(),
        targets.len(),
        secrets.len(),
        leaks.len(),
        images.len()
    );
    println!("privacy: targets seen: {targets:?}");
    assert!(
        leaks.is_empty(),
        "secrets in the logs:\n{}",
        leaks.join("\n")
    );
}
