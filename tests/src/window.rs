//! Driving the real app window: tauri-driver + WebKitWebDriver (the WebKitGTK engine)
//! under Xvfb, with fantoccini. [`launch`] starts tauri-driver and the app with the
//! environment a test gives; [`Ui`] waits for, reads and clicks `data-testid` elements
//! and saves screenshots as `NN-label.png`.
//!
//! Expects, built beforehand (nothing here builds): `ui/dist`, `target/debug/ikd-app`
//! (`cargo build -p ikd-app --features custom-protocol`), `tauri-driver` on PATH or in
//! ~/.cargo/bin, `/usr/bin/WebKitWebDriver`, and a display (`xvfb-run -a`).

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use std::ffi::OsStr;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long any one wait for the UI may take.
pub const WAIT: Duration = Duration::from_secs(20);
/// Polling interval of the waits (polling a condition, with a deadline).
pub const POLL: Duration = Duration::from_millis(100);

pub type TestResult<T = ()> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits inside the repository")
        .to_path_buf()
}

/// The workspace's target directory (`CARGO_TARGET_DIR` when set).
pub fn target_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target"));
    if target.is_absolute() {
        target
    } else {
        repo_root().join(target)
    }
}

pub fn app_binary() -> PathBuf {
    target_dir().join("debug").join("ikd-app")
}

pub fn tauri_driver() -> PathBuf {
    if let Some(home) = std::env::var_os("HOME") {
        let p = Path::new(&home).join(".cargo/bin/tauri-driver");
        if p.exists() {
            return p;
        }
    }
    PathBuf::from("tauri-driver")
}

pub const WEBKIT_DRIVER: &str = "/usr/bin/WebKitWebDriver";

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("the loopback interface has a free port")
}

/// Polls until `port` accepts TCP connections or the deadline passes.
pub fn wait_for_port(port: u16, child: &mut Child) -> TestResult {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let deadline = Instant::now() + WAIT;
    loop {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return Ok(());
        }
        if let Some(status) = child.try_wait()? {
            return Err(format!("the process exited early: {status}").into());
        }
        if Instant::now() > deadline {
            return Err(format!("nothing listened on {port} within {WAIT:?}").into());
        }
        std::thread::sleep(POLL);
    }
}

/// Kills a process and its descendants when dropped, pass or fail. tauri-driver does
/// not take its native driver down when it is killed, and an orphaned WebKitWebDriver
/// would keep running (and keep the test's output pipes open), so the children
/// (Linux: `/proc/PID/task/PID/children`) are ended first, by pid.
pub struct KillOnDrop(pub Child);

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

/// Checks that the app binary and WebKitWebDriver exist, with a hint how to get them.
pub fn check_prerequisites() -> TestResult {
    let app = app_binary();
    if !app.exists() {
        return Err(format!(
            "the app binary {} is missing: build it first with `npm --prefix ui run build && \
             cargo build -p ikd-app --features custom-protocol`",
            app.display()
        )
        .into());
    }
    if !Path::new(WEBKIT_DRIVER).exists() {
        return Err(
            format!("{WEBKIT_DRIVER} is missing (Debian package webkit2gtk-driver)").into(),
        );
    }
    Ok(())
}

/// The app in its window under tauri-driver. Drop `ui` (after `close`) before `driver`.
pub struct AppWindow {
    pub ui: Ui,
    pub driver: KillOnDrop,
}

/// Starts tauri-driver (its log and the app's go to `shots/tauri-driver{,.err}.log`) and
/// opens the app with `envs` in its environment; screenshots go to `shots`.
pub async fn launch(shots: &Path, envs: &[(&str, &OsStr)]) -> TestResult<AppWindow> {
    check_prerequisites()?;
    std::fs::create_dir_all(shots)?;
    let port = free_port();
    let native_port = free_port();
    let mut cmd = Command::new(tauri_driver());
    cmd.args(["--port", &port.to_string()])
        .args(["--native-port", &native_port.to_string()])
        .args(["--native-driver", WEBKIT_DRIVER])
        .stdin(Stdio::null())
        // Its log (and the app's) goes next to the screenshots, not into our pipes.
        .stdout(Stdio::from(std::fs::File::create(
            shots.join("tauri-driver.log"),
        )?))
        .stderr(Stdio::from(std::fs::File::create(
            shots.join("tauri-driver.err.log"),
        )?));
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let driver = cmd
        .spawn()
        .map_err(|e| format!("could not start tauri-driver ({e}); cargo install tauri-driver"))?;
    let mut driver = KillOnDrop(driver);
    wait_for_port(port, &mut driver.0)?;
    // tauri-driver starts WebKitWebDriver itself and does not wait for it: a session
    // asked for before it listens fails to connect (seen on a loaded machine).
    wait_for_port(native_port, &mut driver.0)?;

    let mut caps = serde_json::Map::new();
    caps.insert("browserName".into(), json!("wry"));
    caps.insert(
        "tauri:options".into(),
        json!({ "application": app_binary().to_string_lossy() }),
    );
    // tauri-driver speaks plain http on loopback: no TLS stack needed.
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    let client = ClientBuilder::new(connector)
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await?;
    Ok(AppWindow {
        ui: Ui::new(client, shots.to_path_buf()),
        driver,
    })
}

/// A WebDriver session (the app window, or a browser page) addressed by `data-testid`.
pub struct Ui {
    pub c: Client,
    pub shots: PathBuf,
    pub n: u32,
}

pub fn css(testid: &str) -> String {
    format!("[data-testid=\"{testid}\"]")
}

impl Ui {
    pub fn new(c: Client, shots: PathBuf) -> Self {
        Self { c, shots, n: 0 }
    }

    /// Waits until the element is present and displayed.
    pub async fn wait(&self, testid: &str) -> TestResult<fantoccini::elements::Element> {
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
    pub async fn wait_present(&self, testid: &str) -> TestResult<fantoccini::elements::Element> {
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

    pub async fn text_now(&self, testid: &str) -> TestResult<String> {
        Ok(self
            .c
            .find(Locator::Css(&css(testid)))
            .await?
            .text()
            .await?)
    }

    /// Waits until the element's text satisfies `pred`; returns the text.
    pub async fn wait_text(&self, testid: &str, pred: impl Fn(&str) -> bool) -> TestResult<String> {
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

    pub async fn click(&self, testid: &str) -> TestResult {
        self.wait(testid).await?.click().await?;
        Ok(())
    }

    pub async fn type_into(&self, testid: &str, text: &str) -> TestResult {
        let e = self.wait(testid).await?;
        e.clear().await?;
        e.send_keys(text).await?;
        Ok(())
    }

    pub async fn choose_file(&self, testid: &str, path: &Path) -> TestResult {
        let e = self.wait_present(testid).await?;
        e.send_keys(&path.to_string_lossy()).await?;
        Ok(())
    }

    /// Presses digits on a keypad whose keys are `<prefix>0` … `<prefix>9`.
    pub async fn keypad(&self, prefix: &str, digits: &str) -> TestResult {
        for d in digits.chars() {
            self.click(&format!("{prefix}{d}")).await?;
        }
        Ok(())
    }

    /// Waits for the screen whose root is `screen-<name>`.
    pub async fn screen(&mut self, name: &str) -> TestResult {
        self.wait(&format!("screen-{name}")).await?;
        Ok(())
    }

    /// Saves a PNG of the window as `shots/NN-label.png`; returns its path.
    pub async fn shot(&mut self, label: &str) -> TestResult<PathBuf> {
        self.n += 1;
        let png = self.c.screenshot().await?;
        let path = self.shots.join(format!("{:02}-{label}.png", self.n));
        std::fs::write(&path, png)?;
        Ok(path)
    }
}

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// A headless Chromium page (Debian's chromium + chromedriver) of `width`×`height` CSS
/// pixels; screenshots go to `shots`. Drop `ui` (after `close`) before `driver`.
pub async fn chromium(shots: &Path, width: u32, height: u32) -> TestResult<AppWindow> {
    for bin in [CHROMIUM, CHROMEDRIVER] {
        if !Path::new(bin).exists() {
            return Err(
                format!("{bin} is missing (Debian packages chromium, chromium-driver)").into(),
            );
        }
    }
    std::fs::create_dir_all(shots)?;
    let port = free_port();
    let driver = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdin(Stdio::null())
        .stdout(Stdio::from(std::fs::File::create(
            shots.join("chromedriver.log"),
        )?))
        .stderr(Stdio::from(std::fs::File::create(
            shots.join("chromedriver.err.log"),
        )?))
        .spawn()
        .map_err(|e| format!("could not start {CHROMEDRIVER}: {e}"))?;
    let mut driver = KillOnDrop(driver);
    wait_for_port(port, &mut driver.0)?;
    let mut caps = serde_json::Map::new();
    caps.insert("browserName".into(), json!("chrome"));
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": CHROMIUM,
            "args": [
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                format!("--window-size={width},{height}"),
            ],
        }),
    );
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    let client = ClientBuilder::new(connector)
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await?;
    Ok(AppWindow {
        ui: Ui::new(client, shots.to_path_buf()),
        driver,
    })
}
