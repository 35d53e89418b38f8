//! The presentation journey in the real window: the `ikd-verifier` demo page in headless
//! Chromium (chromedriver) shows a "full identity" request; the app (tauri-driver +
//! WebKitWebDriver under Xvfb) takes the request's QR as an image file, shows the
//! consent screen, takes the PIN and shares; the verifier page then shows the verified
//! result. Screenshots of every screen go to `artifacts/present/` (a copy of one run is
//! kept in `docs/present/window/`).
//!
//! Prerequisites as for `app_journey` (the same app build: `ui/dist` and
//! `cargo build -p ikd-app --features custom-protocol`), plus Debian's chromium and
//! chromium-driver. Run: `xvfb-run -a cargo test -p ikd-tests --test app_present`.
//!
//! To keep its cost small it does not enroll through the window (`app_journey` does):
//! the wallet is enrolled and activated in this process, over real HTTP against a real
//! `ikd_server`, into the data folder the app then opens. Its device secret is left in
//! the desktop fallback file; the app, finding a real Secret Service (gnome-keyring on a
//! private D-Bus bus), moves it there, as an upgraded desktop install does.

use fantoccini::Locator;
use ikd_core::clock::SystemClock;
use ikd_core::vault::keystore::{DesktopKeyStorePaths, FileKeyStore};
use ikd_core::wallet::{Wallet, WalletConfig};
use ikd_server::demo::SITI;
use ikd_tests::secret_service::SecretService;
use ikd_tests::vp::{self, secret, PIN};
use ikd_tests::window::{self, repo_root, TestResult, Ui, POLL, WAIT};
use ikd_tests::Harness;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

const EMAIL: &str = "siti.rahmawati@example.com";

/// Waits until the verifier page (which refreshes itself while it waits) shows `#verdict`.
async fn verdict(page: &Ui) -> TestResult<String> {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Ok(e) = page.c.find(Locator::Css("#verdict")).await {
            if let Ok(t) = e.text().await {
                return Ok(t);
            }
        }
        if Instant::now() > deadline {
            return Err(format!("the verifier page showed no verdict within {WAIT:?}").into());
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Enrolls and activates Siti's wallet in `data_dir`, keeping its device secret where
/// the desktop app keeps it when no OS key store answers (`<data dir>.keystore/`).
async fn activate_in_process(h: &Harness, data_dir: &Path, rp_ca_pem: &str) -> TestResult {
    std::fs::create_dir_all(data_dir)?;
    std::fs::write(
        data_dir.join(ikd_core::wallet::present::RP_TRUST_ANCHORS_FILE),
        rp_ca_pem,
    )?;
    let mut fallback = data_dir.as_os_str().to_os_string();
    fallback.push(".keystore");
    let paths = DesktopKeyStorePaths {
        data_dir: data_dir.to_path_buf(),
        fallback_dir: fallback.into(),
    };
    h.clock.set(chrono::Utc::now());
    let w = Wallet::open(WalletConfig {
        data_dir: data_dir.to_path_buf(),
        backend_url: h.base_url.clone(),
        dev_build: true,
        clock: Arc::new(SystemClock),
        keystore: Arc::new(FileKeyStore::new(paths.fallback_file())),
        kdf: None,
        issuer_url: None,
    })?;
    let code = h.wallet_approved(&w, SITI.nik, SITI.name, EMAIL).await;
    h.clock.set(chrono::Utc::now());
    w.activate(secret(&code)).await?;
    w.set_pin(secret(PIN), secret(PIN))?;
    w.lock()?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resident_shares_her_identity_with_the_verifier_page() -> TestResult {
    window::check_prerequisites()?;
    let shots = repo_root().join("artifacts/present");
    let tmp = tempfile::tempdir()?;
    let h = Harness::start().await;
    let v = vp::start_verifier(&h.base_url).await;
    let data_dir = tmp.path().join("app");
    activate_in_process(&h, &data_dir, &v.ca_pem).await?;

    let secrets = SecretService::start()?;
    let window::AppWindow {
        ui: mut page,
        driver: chromedriver,
    } = window::chromium(&shots.join("chromium"), 900, 1100).await?;
    let window::AppWindow { mut ui, driver } = window::launch(
        &shots,
        &[
            ("IKD_BACKEND_URL", h.base_url.as_ref()),
            ("IKD_DATA_DIR", data_dir.as_os_str()),
            ("IKD_VERIFIER_URL", v.running.base_url.as_ref()),
            ("DBUS_SESSION_BUS_ADDRESS", secrets.address().as_ref()),
        ],
    )
    .await?;
    let mut outcome = journey(&mut ui, &mut page, &v, tmp.path()).await;
    if outcome.is_ok() {
        // The app moved the device secret from the fallback file into the Secret Service.
        let items = secrets.items_with(&[("service", ikd_core::vault::keystore::SERVICE)]);
        if items < 2 {
            outcome = Err(format!("the Secret Service holds {items} IKD items").into());
        }
    }
    if outcome.is_err() {
        let _ = ui.shot("failure").await;
        let _ = page.shot("failure").await;
    }
    let _ = ui.c.close().await;
    let _ = page.c.close().await;
    drop(driver);
    drop(chromedriver);
    drop(v);
    drop(h);
    outcome
}

async fn journey(ui: &mut Ui, page: &mut Ui, v: &vp::TestVerifier, tmp: &Path) -> TestResult {
    // 1. The verifier's page: "Verifikasi identitas", the full-identity request.
    let base = v.running.base_url.clone();
    page.c.goto(&base).await?;
    let title = page.c.find(Locator::Css("h1")).await?.text().await?;
    assert_eq!(title, "Verifikasi identitas");
    page.shot("verifier-home").await?;
    page.c
        .find(Locator::XPath(
            "//form[input[@name='preset' and @value='identitas']]/button",
        ))
        .await?
        .click()
        .await?;
    let qr_link = page
        .c
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css("a[href$='/qr.png']"))
        .await?;
    let href = qr_link
        .attr("href")
        .await?
        .ok_or("the QR link has no href")?;
    let link_text = page.c.find(Locator::Css("#link")).await?.text().await?;
    assert!(
        link_text.starts_with("openid4vp://?client_id=x509_hash"),
        "{link_text}"
    );
    page.shot("verifier-request").await?;
    // The QR as the page offers it (PNG), saved as a file for the app's file picker.
    let png = reqwest::get(format!("{base}{href}"))
        .await?
        .error_for_status()?
        .bytes()
        .await?;
    let qr = tmp.join("verifier-qr.png");
    std::fs::write(&qr, &png)?;

    // 2. The app opens locked: the PIN, then Home.
    ui.screen("pin").await?;
    ui.shot("locked").await?;
    ui.keypad("pin-key-", PIN).await?;
    ui.screen("home").await?;
    ui.wait_text("home-name", |t| t.contains(SITI.name)).await?;
    ui.shot("home").await?;

    // 3. Bagikan data: the QR image → the consent screen.
    ui.click("tile-bagikan").await?;
    ui.screen("present").await?;
    ui.shot("present-entry").await?;
    ui.choose_file("input-vp-file", &qr).await?;
    ui.wait("consent-who").await?;
    assert_eq!(ui.text_now("consent-org").await?, vp::VERIFIER_ORG);
    assert!(ui.text_now("consent-host").await?.contains("127.0.0.1"));
    assert_eq!(ui.text_now("consent-trust").await?, "Terdaftar");
    assert!(ui
        .text_now("consent-purpose")
        .await?
        .contains("Pembukaan rekening"));
    ui.wait_text("consent-field-nama", |t| t.contains(SITI.name))
        .await?;
    ui.wait_text("consent-field-nik", |t| t.contains(SITI.nik))
        .await?;
    ui.wait("consent-field-foto").await?;
    ui.shot("consent").await?;

    // 4. "Bagikan" with the PIN.
    ui.click("btn-share").await?;
    ui.wait("consent-pin").await?;
    ui.wait("pin-key-0").await?;
    ui.shot("consent-pin").await?;
    ui.keypad("pin-key-", PIN).await?;
    let result = ui.wait_text("present-result", |t| !t.is_empty()).await?;
    assert!(
        result.contains(vp::VERIFIER_ORG),
        "the result names the verifier: {result:?}"
    );
    let shared = ui.text_now("present-shared").await?;
    assert!(
        shared.contains("Nama") && shared.contains("NIK"),
        "{shared}"
    );
    if let Ok(e) =
        ui.c.find(Locator::Css("[data-testid=\"present-verifier-error\"]"))
            .await
    {
        return Err(format!("the verifier refused: {:?}", e.text().await?).into());
    }
    ui.shot("shared").await?;

    // 5. The verifier page shows the verified result, with the portrait.
    let verdict = verdict(page).await?;
    assert!(verdict.starts_with("SAH"), "verdict: {verdict:?}");
    let body = page.c.find(Locator::Css("body")).await?.text().await?;
    assert!(body.contains(SITI.name), "the page shows her name");
    assert!(body.contains(SITI.nik), "the page shows her NIK");
    page.c.find(Locator::Css("img.foto")).await?;
    page.shot("verifier-verified").await?;

    // 6. Histori Aktivitas records to whom and which fields.
    ui.click("btn-present-home").await?;
    ui.screen("home").await?;
    ui.click("tile-histori").await?;
    let hist = ui.wait_text("history-list", |t| !t.is_empty()).await?;
    assert!(hist.contains(vp::VERIFIER_ORG), "{hist}");
    ui.shot("history").await?;
    Ok(())
}
