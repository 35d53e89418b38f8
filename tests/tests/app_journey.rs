//! The resident's journey in the real app window: tauri-driver + WebKitWebDriver (the
//! WebKitGTK engine, our WebKit coverage) under Xvfb, driven with fantoccini.
//!
//! Expects, built beforehand (this test builds nothing):
//! - `ui/dist` (`npm --prefix ui run build`),
//! - `target/debug/ikd-app` built with `cargo build -p ikd-app` (the default feature
//!   `custom-protocol` embeds `ui/dist`),
//! - `tauri-driver` on PATH or in ~/.cargo/bin, `/usr/bin/WebKitWebDriver`, and a display
//!   (`xvfb-run -a cargo test -p ikd-tests --test app_journey`).
//!
//! The backend is a real `ikd_server` on loopback, in this process (the shared
//! [`ikd_tests::Harness`]), delivering mail over real SMTP to a loopback receiver. The
//! officer approves over HTTP and the activation code is read from the mail that the
//! SMTP receiver got. The app keeps its device secret in a real Secret Service
//! (gnome-keyring on a private D-Bus session bus, `ikd_tests::secret_service`), and the
//! test checks it is there and in no file. Screenshots of every screen go to `artifacts/journey/NN-name.png`.

use fantoccini::{Client, ClientBuilder, Locator};
use ikd_tests::secret_service::SecretService;
use ikd_tests::{code_in, Harness, Officer, MAIL_TIMEOUT};
use serde_json::json;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long any one wait for the UI may take.
const WAIT: Duration = Duration::from_secs(20);
/// Polling interval of the waits (polling a condition, with a deadline).
const POLL: Duration = Duration::from_millis(100);

const SITI_NIK: &str = "1671014509900001";
const SITI_NAME: &str = "SITI RAHMAWATI";
const KEPALA_NAME: &str = "BUDI SANTOSO";
/// Not a sequence, not repeated, not her birth date (1990-09-05).
const PIN: &str = "240517";
const WRONG_PIN: &str = "913468";

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits inside the repository")
        .to_path_buf()
}

fn app_binary() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target"));
    let target = if target.is_absolute() {
        target
    } else {
        repo_root().join(target)
    };
    target.join("debug").join("ikd-app")
}

fn tauri_driver() -> PathBuf {
    if let Some(home) = std::env::var_os("HOME") {
        let p = Path::new(&home).join(".cargo/bin/tauri-driver");
        if p.exists() {
            return p;
        }
    }
    PathBuf::from("tauri-driver")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("the loopback interface has a free port")
}

/// Polls until `port` accepts TCP connections or the deadline passes.
fn wait_for_port(port: u16, child: &mut Child) -> TestResult {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let deadline = Instant::now() + WAIT;
    loop {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return Ok(());
        }
        if let Some(status) = child.try_wait()? {
            return Err(format!("tauri-driver exited early: {status}").into());
        }
        if Instant::now() > deadline {
            return Err(format!("tauri-driver did not listen on {port} within {WAIT:?}").into());
        }
        std::thread::sleep(POLL);
    }
}

/// Kills tauri-driver, its WebKitWebDriver and the app when the test ends, pass or fail.
/// tauri-driver does not take its native driver down when it is killed, and an orphaned
/// WebKitWebDriver would keep running (and keep the test's output pipes open), so its
/// children (Linux: `/proc/PID/task/PID/children`) are ended first, by pid.
struct KillOnDrop(Child);

fn children_of(pid: u32) -> Vec<u32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let mut tree = Vec::new();
        let mut todo = children_of(self.0.id());
        while let Some(pid) = todo.pop() {
            todo.extend(children_of(pid));
            tree.push(pid);
        }
        for pid in tree.iter().rev() {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

struct Ui {
    c: Client,
    shots: PathBuf,
    n: u32,
}

fn css(testid: &str) -> String {
    format!("[data-testid=\"{testid}\"]")
}

impl Ui {
    /// Waits until the element is present and displayed.
    async fn wait(&self, testid: &str) -> TestResult<fantoccini::elements::Element> {
        let deadline = Instant::now() + WAIT;
        let sel = css(testid);
        loop {
            if let Ok(e) = self.c.find(Locator::Css(&sel)).await {
                if e.is_displayed().await.unwrap_or(false) {
                    return Ok(e);
                }
            }
            if Instant::now() > deadline {
                let banner = self.text_now("error-banner").await.unwrap_or_default();
                return Err(format!(
                    "`{testid}` did not appear within {WAIT:?} (error banner: {banner:?})"
                )
                .into());
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits for an element that exists but may be hidden (file inputs).
    async fn wait_present(&self, testid: &str) -> TestResult<fantoccini::elements::Element> {
        let deadline = Instant::now() + WAIT;
        let sel = css(testid);
        loop {
            if let Ok(e) = self.c.find(Locator::Css(&sel)).await {
                return Ok(e);
            }
            if Instant::now() > deadline {
                return Err(format!("`{testid}` is not in the page after {WAIT:?}").into());
            }
            tokio::time::sleep(POLL).await;
        }
    }

    async fn text_now(&self, testid: &str) -> TestResult<String> {
        Ok(self
            .c
            .find(Locator::Css(&css(testid)))
            .await?
            .text()
            .await?)
    }

    /// Waits until the element's text satisfies `pred`; returns the text.
    async fn wait_text(&self, testid: &str, pred: impl Fn(&str) -> bool) -> TestResult<String> {
        let deadline = Instant::now() + WAIT;
        let mut last = String::new();
        loop {
            if let Ok(t) = self.text_now(testid).await {
                if pred(&t) {
                    return Ok(t);
                }
                last = t;
            }
            if Instant::now() > deadline {
                return Err(format!("`{testid}` text never matched; last: {last:?}").into());
            }
            tokio::time::sleep(POLL).await;
        }
    }

    async fn click(&self, testid: &str) -> TestResult {
        self.wait(testid).await?.click().await?;
        Ok(())
    }

    async fn type_into(&self, testid: &str, text: &str) -> TestResult {
        let e = self.wait(testid).await?;
        e.clear().await?;
        e.send_keys(text).await?;
        Ok(())
    }

    async fn choose_file(&self, testid: &str, path: &Path) -> TestResult {
        let e = self.wait_present(testid).await?;
        e.send_keys(&path.to_string_lossy()).await?;
        Ok(())
    }

    /// Presses digits on a keypad whose keys are `<prefix>0` … `<prefix>9`.
    async fn keypad(&self, prefix: &str, digits: &str) -> TestResult {
        for d in digits.chars() {
            self.click(&format!("{prefix}{d}")).await?;
        }
        Ok(())
    }

    async fn screen(&mut self, name: &str) -> TestResult {
        self.wait(&format!("screen-{name}")).await?;
        Ok(())
    }

    /// Saves a PNG of the window as `artifacts/journey/NN-label.png`.
    async fn shot(&mut self, label: &str) -> TestResult {
        self.n += 1;
        let png = self.c.screenshot().await?;
        let path = self.shots.join(format!("{:02}-{label}.png", self.n));
        std::fs::write(&path, png)?;
        Ok(())
    }
}

/// The officer's desk QR as a PNG, as the console offers it for download.
async fn desk_qr_png(officer: &Officer) -> TestResult<Vec<u8>> {
    let res = officer
        .get(ikd_core::wire::paths::OFFICER_DESK_QR_PNG)
        .send()
        .await?;
    if !res.status().is_success() {
        return Err(format!("desk QR PNG: HTTP {}", res.status()).into());
    }
    Ok(res.bytes().await?.to_vec())
}

/// Waits until Siti's enrollment is in the desk queue; returns its id.
async fn queued_enrollment(officer: &Officer) -> TestResult<String> {
    let deadline = Instant::now() + WAIT;
    loop {
        let queue = officer.queue().await;
        if let Some(id) = queue.iter().find_map(|i| {
            let nik_matches = i.to_string().contains(SITI_NIK) || i["nama"] == SITI_NAME;
            let id = i
                .get("enrollment_id")
                .or_else(|| i.get("id"))
                .and_then(|v| v.as_str());
            id.filter(|_| nik_matches).map(str::to_owned)
        }) {
            return Ok(id);
        }
        if Instant::now() > deadline {
            return Err(format!("the enrollment never reached the queue: {queue:?}").into());
        }
        tokio::time::sleep(POLL).await;
    }
}

/// The harness server runs on a manual clock; the app signs with the wall clock. Keep
/// them together so proofs and codes are judged at the time the app means.
fn sync_clock(h: &Harness) {
    h.clock.set(chrono::Utc::now());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resident_journey_in_the_real_window() -> TestResult {
    let app = app_binary();
    if !app.exists() {
        return Err(format!(
            "the app binary {} is missing: build it first with `npm --prefix ui run build && \
             cargo build -p ikd-app --features custom-protocol`",
            app.display()
        )
        .into());
    }
    let webkit_driver = Path::new("/usr/bin/WebKitWebDriver");
    if !webkit_driver.exists() {
        return Err(
            "/usr/bin/WebKitWebDriver is missing (Debian package webkit2gtk-driver)".into(),
        );
    }
    let shots = repo_root().join("artifacts/journey");
    std::fs::create_dir_all(&shots)?;

    let tmp = tempfile::tempdir()?;
    // The server with real SMTP to a loopback receiver (and a manual clock that the
    // journey keeps at the wall-clock time, see `Harness::sync_clock`).
    let h = Harness::start().await;
    let base = h.base_url.clone();

    // The app keeps its device secret in a real Secret Service (gnome-keyring on a
    // private D-Bus session bus), as on a desktop.
    let secrets = SecretService::start()?;

    let port = free_port();
    let native_port = free_port();
    let driver = Command::new(tauri_driver())
        .args(["--port", &port.to_string()])
        .args(["--native-port", &native_port.to_string()])
        .args(["--native-driver", &webkit_driver.to_string_lossy()])
        .env("IKD_BACKEND_URL", &base)
        .env("IKD_DATA_DIR", tmp.path().join("app"))
        .env("IKD_MOCK_CAMERA", "1")
        .env("DBUS_SESSION_BUS_ADDRESS", secrets.address())
        .stdin(Stdio::null())
        // Its log (and the app's) goes next to the screenshots, not into our pipes.
        .stdout(Stdio::from(std::fs::File::create(
            shots.join("tauri-driver.log"),
        )?))
        .stderr(Stdio::from(std::fs::File::create(
            shots.join("tauri-driver.err.log"),
        )?))
        .spawn()
        .map_err(|e| format!("could not start tauri-driver ({e}); cargo install tauri-driver"))?;
    let mut driver = KillOnDrop(driver);
    wait_for_port(port, &mut driver.0)?;

    let mut caps = serde_json::Map::new();
    caps.insert("browserName".into(), json!("wry"));
    caps.insert(
        "tauri:options".into(),
        json!({ "application": app.to_string_lossy() }),
    );
    // tauri-driver speaks plain http on loopback: no TLS stack needed.
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    let client = ClientBuilder::new(connector)
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await?;
    let mut ui = Ui {
        c: client,
        shots,
        n: 0,
    };
    let mut outcome = journey(&mut ui, &h, tmp.path()).await;
    if outcome.is_ok() {
        outcome = device_secret_is_in_the_secret_service(&secrets, tmp.path());
    }
    if outcome.is_err() {
        let _ = ui.shot("failure").await;
    }
    let _ = ui.c.close().await;
    drop(driver);
    drop(h);
    outcome
}

/// The app used the OS key store: its items are in the Secret Service, and neither the
/// data folder nor a fallback folder holds a key-store file.
fn device_secret_is_in_the_secret_service(secrets: &SecretService, tmp: &Path) -> TestResult {
    let items = secrets.items_with(&[("service", ikd_core::vault::keystore::SERVICE)]);
    if items < 2 {
        return Err(format!(
            "the Secret Service holds {items} IKD items, expected the device secret and key"
        )
        .into());
    }
    for p in [tmp.join("app/keystore"), tmp.join("app.keystore")] {
        if p.exists() {
            return Err(format!("{} exists: the app fell back to a file", p.display()).into());
        }
    }
    Ok(())
}

async fn journey(ui: &mut Ui, h: &Harness, tmp: &Path) -> TestResult {
    let email = "siti.rahmawati@example.com";

    // 1. Register.
    ui.screen("welcome").await?;
    ui.shot("welcome").await?;
    // The language switch on the Welcome screen: English, then back to Indonesian.
    ui.click("btn-lang").await?;
    ui.wait_text("btn-daftar", |t| t == "Register").await?;
    ui.shot("welcome-en").await?;
    ui.click("btn-lang").await?;
    ui.wait_text("btn-daftar", |t| t == "Daftar").await?;
    ui.click("btn-daftar").await?;
    ui.screen("register").await?;
    ui.type_into("input-nik", SITI_NIK).await?;
    ui.wait_text("nik-info", |t| {
        t.contains("PALEMBANG") || t.contains("Palembang")
    })
    .await?;
    ui.type_into("input-email", email).await?;
    ui.type_into("input-phone", "081234567890").await?;
    ui.click("check-consent").await?;
    ui.shot("register").await?;
    ui.click("btn-register-next").await?;

    // 2. Selfie: from the mock camera, then from a file (the one that is sent).
    // WebKitGTK's mock capture device (IKD_MOCK_CAMERA=1) draws a test pattern; its
    // first frames come out black, so the capture waits for the video to play and for
    // a frame that is not all black (ui/src/camera.ts). The pattern is no face and
    // mostly dark: with WebKitGTK 2.50 under Xvfb it is judged "too dark" (brightness
    // about 15 of 255, sharpness about 540, so it is a real picture with edges, not a
    // black frame). So this asserts what is true: the camera's frame was processed and
    // previewed with a verdict; the selfie that is sent comes from a file.
    ui.screen("selfie").await?;
    ui.wait("selfie-video").await?;
    ui.click("btn-capture").await?;
    let preview = ui.wait("selfie-preview").await?;
    assert_eq!(
        preview.attr("data-source").await?.as_deref(),
        Some("camera"),
        "the preview shows the camera's frame"
    );
    let verdict = ui.wait("selfie-verdict").await?.text().await?;
    println!("mock camera selfie verdict: {verdict:?}");
    ui.shot("selfie-camera").await?;
    let astronaut = repo_root().join("core/tests/fixtures/astronaut.png");
    ui.click("btn-selfie-retake").await?;
    ui.choose_file("input-selfie-file", &astronaut).await?;
    ui.wait("btn-selfie-accept").await?;
    let preview = ui.wait("selfie-preview").await?;
    assert_eq!(preview.attr("data-source").await?.as_deref(), Some("file"));
    ui.shot("selfie-file").await?;
    ui.click("btn-selfie-accept").await?;

    // Submit.
    ui.click("btn-submit").await?;
    ui.screen("submitted").await?;
    ui.shot("submitted").await?;

    // 3. The desk QR, as an image file.
    sync_clock(h);
    let officer = h.officer().await;
    let qr_png = tmp.join("desk-qr.png");
    std::fs::write(&qr_png, desk_qr_png(&officer).await?)?;
    ui.click("btn-scan-qr").await?;
    ui.screen("scan").await?;
    ui.shot("scan").await?;
    ui.choose_file("input-qr-file", &qr_png).await?;
    ui.screen("status").await?;
    ui.wait("status-text").await?;
    ui.shot("status-scanned").await?;

    // 4. The officer approves over HTTP; the app's polling picks it up.
    sync_clock(h);
    let id = queued_enrollment(&officer).await?;
    // The officer types the confirmation code the app shows after the scan.
    let confirm = ui
        .wait_text("desk-confirm-code", |t| t.trim().len() == 4)
        .await?;
    let approved = officer.approve(&id, confirm.trim()).await;
    if !approved.is_success() {
        return Err(format!("approve: HTTP {approved}").into());
    }
    ui.click("btn-enter-code").await?;

    // 5. The code from the mail, delivered over SMTP to the loopback receiver.
    ui.screen("code").await?;
    let mail = h
        .smtp
        .next(MAIL_TIMEOUT)
        .await
        .ok_or("no activation mail reached the SMTP receiver")?;
    assert_eq!(mail.to, vec![email.to_owned()]);
    let code = code_in(&mail);
    sync_clock(h);
    ui.keypad("keypad-", &code).await?;
    ui.shot("code").await?;
    if let Ok(submit) = ui.c.find(Locator::Css(&css("btn-code-submit"))).await {
        if submit.is_displayed().await.unwrap_or(false) && submit.is_enabled().await? {
            submit.click().await?;
        }
    }

    // 6. PIN, twice.
    ui.screen("create-pin").await?;
    ui.shot("create-pin").await?;
    ui.keypad("pin-key-", PIN).await?;
    ui.wait_text("pin-message", |t| !t.is_empty()).await.ok();
    ui.keypad("pin-key-", PIN).await?;

    // 7. Home, KTP, KK.
    ui.screen("home").await?;
    ui.wait_text("home-name", |t| t.contains(SITI_NAME)).await?;
    ui.shot("home").await?;
    ui.click("tile-dokumen").await?;
    ui.screen("ktp").await?;
    let nik = ui.wait_text("ktp-nik", |t| !t.is_empty()).await?;
    assert_eq!(
        nik.chars()
            .filter(|c| c.is_ascii_digit())
            .collect::<String>(),
        SITI_NIK
    );
    ui.wait_text("ktp-nama", |t| t.contains(SITI_NAME)).await?;
    ui.wait("ktp-verified").await?;
    ui.shot("ktp").await?;
    ui.click("btn-back").await?;
    ui.screen("home").await?;
    ui.click("tile-keluarga").await?;
    ui.screen("kk").await?;
    ui.wait_text("kk-kepala", |t| t.contains(KEPALA_NAME))
        .await?;
    ui.wait_text("kk-members", |t| t.contains(SITI_NAME))
        .await?;
    ui.shot("kk").await?;
    ui.click("btn-back").await?;
    ui.screen("home").await?;

    // 8. Lock.
    ui.click("btn-lock").await?;
    ui.screen("pin").await?;
    ui.shot("locked").await?;

    // 9. A wrong PIN: the attempts left are shown.
    ui.keypad("pin-key-", WRONG_PIN).await?;
    ui.wait_text("pin-attempts", |t| t.contains('9')).await?;
    ui.shot("wrong-pin").await?;

    // 10. The right PIN.
    ui.keypad("pin-key-", PIN).await?;
    ui.screen("home").await?;
    ui.shot("unlocked").await?;
    Ok(())
}
