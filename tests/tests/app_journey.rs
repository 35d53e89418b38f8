//! The resident's journey in the real app window: tauri-driver + WebKitWebDriver (the
//! WebKitGTK engine, our WebKit coverage) under Xvfb, driven with fantoccini.
//!
//! Expects, built beforehand (this test builds nothing):
//! - `ui/dist` (`npm --prefix ui run build`),
//! - `target/debug/ikd-app` built with `cargo build -p ikd-app --features custom-protocol`,
//! - `tauri-driver` on PATH or in ~/.cargo/bin, `/usr/bin/WebKitWebDriver`, and a display
//!   (`xvfb-run -a cargo test -p ikd-tests --test app_journey`).
//!
//! The backend is a real `ikd_server` on loopback, in this process. The officer approves
//! over HTTP and the activation code comes from the backend's dev outbox. Screenshots of
//! every screen go to `artifacts/journey/NN-name.png`.

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
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

/// Kills tauri-driver (and so the app) when the test ends, pass or fail.
struct KillOnDrop(Child);
impl Drop for KillOnDrop {
    fn drop(&mut self) {
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

/// The officer side, over HTTP, as the desk's browser would do it.
struct Officer {
    http: reqwest::Client,
    base: String,
    cookie: String,
}

impl Officer {
    async fn login(base: &str) -> TestResult<Self> {
        let http = reqwest::Client::new();
        let res = http
            .post(format!("{base}{}", ikd_core::wire::paths::OFFICER_LOGIN))
            .json(&json!({
                "username": ikd_server::demo::DEMO_OFFICER_USERNAME,
                "password": ikd_server::demo::DEMO_OFFICER_PASSWORD,
            }))
            .send()
            .await?;
        if !res.status().is_success() {
            return Err(format!("officer login: HTTP {}", res.status()).into());
        }
        let cookie = res
            .headers()
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(|v| v.split(';').next())
            .collect::<Vec<_>>()
            .join("; ");
        Ok(Self {
            http,
            base: base.to_owned(),
            cookie,
        })
    }

    async fn get(&self, path: &str) -> TestResult<reqwest::Response> {
        let res = self
            .http
            .get(format!("{}{path}", self.base))
            .header(reqwest::header::COOKIE, &self.cookie)
            .send()
            .await?;
        if !res.status().is_success() {
            return Err(format!("GET {path}: HTTP {}", res.status()).into());
        }
        Ok(res)
    }

    async fn desk_qr_png(&self) -> TestResult<Vec<u8>> {
        let res = self.get(ikd_core::wire::paths::OFFICER_DESK_QR_PNG).await?;
        Ok(res.bytes().await?.to_vec())
    }

    /// Waits until the enrollment of `nik` is in the desk queue; returns its id.
    async fn queued_enrollment(&self) -> TestResult<String> {
        let deadline = Instant::now() + WAIT;
        loop {
            let queue: Value = self
                .get(ikd_core::wire::paths::OFFICER_QUEUE)
                .await?
                .json()
                .await?;
            let items = queue
                .as_array()
                .cloned()
                .or_else(|| queue.get("items").and_then(|i| i.as_array()).cloned())
                .unwrap_or_default();
            if let Some(id) = items.iter().find_map(|i| {
                let nik_matches = i.to_string().contains(SITI_NIK);
                let id = i
                    .get("enrollment_id")
                    .or_else(|| i.get("id"))
                    .and_then(|v| v.as_str());
                id.filter(|_| nik_matches).map(str::to_owned)
            }) {
                return Ok(id);
            }
            if Instant::now() > deadline {
                return Err(format!("the enrollment never reached the queue: {queue}").into());
            }
            tokio::time::sleep(POLL).await;
        }
    }

    async fn approve(&self, id: &str) -> TestResult {
        let path = ikd_core::wire::paths::OFFICER_APPROVE.replace("{id}", id);
        let res = self
            .http
            .post(format!("{}{path}", self.base))
            .header(reqwest::header::COOKIE, &self.cookie)
            .json(&json!({}))
            .send()
            .await?;
        if !res.status().is_success() {
            return Err(format!("approve: HTTP {}", res.status()).into());
        }
        Ok(())
    }
}

/// The 6-digit activation code in the newest mail to `to` in the dev outbox.
async fn code_from_outbox(base: &str, to: &str) -> TestResult<String> {
    let deadline = Instant::now() + WAIT;
    loop {
        let mails: Vec<ikd_core::wire::OutboxMail> =
            reqwest::get(format!("{base}{}", ikd_core::wire::paths::DEV_OUTBOX))
                .await?
                .json()
                .await?;
        if let Some(mail) = mails.iter().rev().find(|m| m.to.contains(to)) {
            if let Some(code) = six_digits(&mail.body) {
                return Ok(code);
            }
        }
        if Instant::now() > deadline {
            return Err("no activation mail in the dev outbox".into());
        }
        tokio::time::sleep(POLL).await;
    }
}

fn six_digits(body: &str) -> Option<String> {
    body.split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .map(str::to_owned)
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
    let server = ikd_server::start(ikd_server::Config::demo(tmp.path().join("server"))).await?;
    let base = server.base_url.clone();

    let port = free_port();
    let native_port = free_port();
    let driver = Command::new(tauri_driver())
        .args(["--port", &port.to_string()])
        .args(["--native-port", &native_port.to_string()])
        .args(["--native-driver", &webkit_driver.to_string_lossy()])
        .env("IKD_BACKEND_URL", &base)
        .env("IKD_DATA_DIR", tmp.path().join("app"))
        .env("IKD_MOCK_CAMERA", "1")
        .stdin(Stdio::null())
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
    let outcome = journey(&mut ui, &base, tmp.path()).await;
    if outcome.is_err() {
        let _ = ui.shot("failure").await;
    }
    let _ = ui.c.close().await;
    drop(driver);
    server.shutdown().await;
    outcome
}

async fn journey(ui: &mut Ui, base: &str, tmp: &Path) -> TestResult {
    let email = "siti.rahmawati@example.com";

    // 1. Register.
    ui.screen("welcome").await?;
    ui.shot("welcome").await?;
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
    ui.screen("selfie").await?;
    ui.wait("selfie-video").await?;
    ui.click("btn-capture").await?;
    ui.wait("selfie-preview").await?;
    ui.wait("selfie-verdict").await?;
    ui.shot("selfie-camera").await?;
    let astronaut = repo_root().join("core/tests/fixtures/astronaut.png");
    if let Ok(retake) = ui.c.find(Locator::Css(&css("btn-selfie-retake"))).await {
        if retake.is_displayed().await.unwrap_or(false) {
            retake.click().await?;
        }
    }
    ui.choose_file("input-selfie-file", &astronaut).await?;
    ui.wait("selfie-preview").await?;
    ui.wait("btn-selfie-accept").await?;
    ui.shot("selfie-file").await?;
    ui.click("btn-selfie-accept").await?;

    // Submit.
    ui.click("btn-submit").await?;
    ui.screen("submitted").await?;
    ui.shot("submitted").await?;

    // 3. The desk QR, as an image file.
    let officer = Officer::login(base).await?;
    let qr_png = tmp.join("desk-qr.png");
    std::fs::write(&qr_png, officer.desk_qr_png().await?)?;
    ui.click("btn-scan-qr").await?;
    ui.screen("scan").await?;
    ui.shot("scan").await?;
    ui.choose_file("input-qr-file", &qr_png).await?;
    ui.screen("status").await?;
    ui.wait("status-text").await?;
    ui.shot("status-scanned").await?;

    // 4. The officer approves over HTTP; the app's polling picks it up.
    let id = officer.queued_enrollment().await?;
    officer.approve(&id).await?;
    ui.click("btn-enter-code").await?;

    // 5. The code from the backend's outbox.
    ui.screen("code").await?;
    let code = code_from_outbox(base, email).await?;
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
    ui.wait_text("kk-table-1", |t| t.contains(SITI_NAME))
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

#[test]
fn six_digit_code_is_found_in_a_mail_body() {
    assert_eq!(
        six_digits("Kode aktivasi IKD Anda: 482913. Berlaku 15 menit."),
        Some("482913".to_owned())
    );
    assert_eq!(six_digits("tanpa kode 12345"), None);
}
