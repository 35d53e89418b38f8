//! Issue 13: the resident's journey in the real app window once through the 2G profile
//! (300 ms latency each way, 50 kbit/s): tauri-driver + WebKitWebDriver under Xvfb,
//! with the fault proxy (`ikd_tests::faultnet`) between the app and a real
//! `ikd_server` on loopback that names the proxy as its public URL. The selfie upload
//! (~97 KB of JSON) takes over 15 s there, so the submit shows the bytes handed to the
//! network ("Terkirim: N dari M KB", from the command's progress channel)
//! and, after 10 s, "Jaringan lambat, masih mencoba…"; the journey then goes on to the
//! documents.
//! Screenshots go to `artifacts/slow-net/NN-name.png` (the slow-network ones are kept
//! in `docs/net/`).
//!
//! Expects, built beforehand: `ui/dist` and `target/debug/ikd-app` with
//! `--features custom-protocol`; run with `xvfb-run -a cargo test -p ikd-tests --test
//! app_slow_net`.

use fantoccini::Locator;
use ikd_tests::faultnet::{FaultProxy, Profile};
use ikd_tests::window::{self, css, repo_root, TestResult, Ui, POLL};
use ikd_tests::{code_in, Harness, MAIL_TIMEOUT};
use std::time::{Duration, Instant};

const SITI_NIK: &str = "1671014509900001";
const SITI_NAME: &str = "SITI RAHMAWATI";
const PIN: &str = "240517";
/// A 2G step may take this long (the submit: ~200 KB at 50 kbit/s is ~32 s).
const SLOW_WAIT: Duration = Duration::from_secs(120);

/// Waits (polling, with a deadline) until `testid` is displayed.
async fn wait_slow(ui: &Ui, testid: &str) -> TestResult {
    let deadline = Instant::now() + SLOW_WAIT;
    let sel = css(testid);
    loop {
        if let Ok(e) = ui.c.find(Locator::Css(&sel)).await {
            if e.is_displayed().await.unwrap_or(false) {
                return Ok(());
            }
        }
        if Instant::now() > deadline {
            let banner = ui.text_now("error-banner").await.unwrap_or_default();
            return Err(format!("`{testid}` not shown within {SLOW_WAIT:?} ({banner:?})").into());
        }
        tokio::time::sleep(POLL).await;
    }
}

fn sync_clock(h: &Harness) {
    h.clock.set(chrono::Utc::now());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resident_journey_in_the_real_window_on_2g() -> TestResult {
    window::check_prerequisites()?;
    let shots = repo_root().join("artifacts/slow-net");
    let tmp = tempfile::tempdir()?;
    let proxy = FaultProxy::bind(Profile::TWO_G).await?;
    let h = Harness::start_behind(&proxy.url()).await;
    proxy.forward_to(h.server.addr);
    let url = proxy.url();
    let app_dir = tmp.path().join("app");
    let window::AppWindow { mut ui, driver } = window::launch(
        &shots,
        &[
            ("IKD_BACKEND_URL", url.as_ref()),
            ("IKD_DATA_DIR", app_dir.as_os_str()),
            ("IKD_MOCK_CAMERA", "1".as_ref()),
        ],
    )
    .await?;
    let outcome = journey(&mut ui, &h, &proxy, tmp.path()).await;
    if outcome.is_err() {
        let _ = ui.shot("failure").await;
    }
    let _ = ui.c.close().await;
    drop(driver);
    outcome
}

async fn journey(
    ui: &mut Ui,
    h: &Harness,
    proxy: &FaultProxy,
    tmp: &std::path::Path,
) -> TestResult {
    let email = "siti.rahmawati@example.com";
    ui.screen("welcome").await?;
    ui.click("btn-daftar").await?;
    ui.screen("register").await?;
    ui.type_into("input-nik", SITI_NIK).await?;
    ui.wait_text("nik-info", |t| {
        t.contains("Palembang") || t.contains("PALEMBANG")
    })
    .await?;
    ui.type_into("input-email", email).await?;
    ui.type_into("input-phone", "081234567890").await?;
    ui.click("check-consent").await?;
    ui.click("btn-register-next").await?;
    ui.screen("selfie").await?;
    let astronaut = repo_root().join("core/tests/fixtures/astronaut.png");
    ui.choose_file("input-selfie-file", &astronaut).await?;
    ui.wait("btn-selfie-accept").await?;
    ui.click("btn-selfie-accept").await?;
    ui.screen("submitted").await?;

    // The submit on 2G: the bytes the server stored, then after 10 s the slow-network line.
    sync_clock(h);
    ui.click("btn-submit").await?;
    ui.wait("submit-progress").await?;
    // The shell reports the selfie upload's offset the server answered (tus chunks) on
    // the command's channel: "Terkirim: N dari M KB".
    let detail = ui
        .wait_text("net-detail", |t| {
            t.starts_with("Terkirim: ") && t.contains(" dari ") && t.ends_with(" KB")
        })
        .await?;
    assert!(detail.ends_with(" KB"), "{detail:?}");
    let upload = ui.shot("submit-progress").await?;
    wait_slow(ui, "net-slow").await?;
    assert_eq!(
        ui.text_now("net-slow").await?,
        "Jaringan lambat, masih mencoba…"
    );
    // The bar moves with what the server stored: part of the photo, not all or nothing.
    let part = ui
        .wait_text("net-detail", |t| {
            let n = |s: &str| s.trim().parse::<u32>().ok();
            let rest = t.trim_start_matches("Terkirim: ").trim_end_matches(" KB");
            matches!(rest.split_once(" dari "), Some((a, b)) if n(a).zip(n(b)).is_some_and(|(a, b)| 0 < a && a < b))
        })
        .await?;
    assert!(part.starts_with("Terkirim: "), "{part:?}");
    let slow = ui.shot("slow-network").await?;
    wait_slow(ui, "btn-scan-qr").await?;
    ui.shot("submitted-on-2g").await?;
    let (up, down) = proxy.bytes();
    assert!(
        up > 50_000,
        "the selfie went through the 2G link ({up} B up, {down} down)"
    );

    // The desk QR (its text), the officer's approval, the code from the mail.
    sync_clock(h);
    let officer = h.officer().await;
    let qr = officer.desk_qr().await;
    ui.click("btn-scan-qr").await?;
    ui.screen("scan").await?;
    ui.type_into("input-qr-text", &qr.text).await?;
    ui.click("btn-qr-text-submit").await?;
    wait_slow(ui, "screen-status").await?;
    let id = officer
        .queue()
        .await
        .iter()
        .find(|q| q["nama"] == SITI_NAME)
        .and_then(|q| q["enrollment_id"].as_str().map(str::to_owned))
        .ok_or("the enrollment is not in the desk queue")?;
    // The officer types the confirmation code the app shows after the scan.
    let confirm = ui
        .wait_text("desk-confirm-code", |t| t.trim().len() == 4)
        .await?;
    sync_clock(h);
    let approved = officer.approve(&id, confirm.trim()).await;
    if !approved.is_success() {
        return Err(format!("approve: HTTP {approved}").into());
    }
    wait_slow(ui, "btn-enter-code").await?;
    ui.click("btn-enter-code").await?;
    ui.screen("code").await?;
    let mail = h
        .smtp
        .next(MAIL_TIMEOUT)
        .await
        .ok_or("no activation mail")?;
    let code = code_in(&mail);
    sync_clock(h);
    ui.keypad("keypad-", &code).await?;
    if let Ok(submit) = ui.c.find(Locator::Css(&css("btn-code-submit"))).await {
        if submit.is_displayed().await.unwrap_or(false) && submit.is_enabled().await? {
            submit.click().await?;
        }
    }
    wait_slow(ui, "screen-create-pin").await?;
    ui.keypad("pin-key-", PIN).await?;
    ui.wait_text("pin-message", |t| !t.is_empty()).await.ok();
    ui.keypad("pin-key-", PIN).await?;
    ui.screen("home").await?;
    ui.wait_text("home-name", |t| t.contains(SITI_NAME)).await?;
    ui.click("tile-dokumen").await?;
    ui.screen("ktp").await?;
    ui.wait("ktp-verified").await?;
    ui.wait_text("docs-updated", |t| t.starts_with("Terakhir diperbarui: "))
        .await?;
    ui.shot("ktp-on-2g").await?;

    // Keep the slow-network screenshot with the docs.
    let docs = repo_root().join("docs/net");
    std::fs::create_dir_all(&docs)?;
    std::fs::copy(&slow, docs.join("window-2g-slow-network.png"))?;
    std::fs::copy(&upload, docs.join("window-2g-upload-progress.png"))?;
    let _ = tmp;
    Ok(())
}
