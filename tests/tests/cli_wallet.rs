//! The whole resident journey with `ikd wallet` alone, against a real `ikd-server demo`
//! process: enroll → the desk QR → (the officer approves over the console's HTTP API) →
//! the code from the mail (real SMTP to a loopback receiver) → activate → PIN → KTP,
//! KK and history → present to a running `ikd-verifier demo` process (OpenID4VP: share,
//! a required field left out, decline) → refresh → release. Every wallet step is a
//! separate `ikd wallet` process sharing one data dir, so the state that survives
//! between runs is tested too.
//!
//! Expects `target/debug/ikd`, `target/debug/ikd-server` and `target/debug/ikd-verifier`,
//! built beforehand (this test builds nothing): `cargo test --workspace` builds them, as
//! does `cargo build -p ikd-core -p ikd-server -p ikd-verifier`.

use ikd_tests::{code_in, Officer, SmtpReceiver, MAIL_TIMEOUT};
use serde_json::Value;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const SITI_NIK: &str = "1671014509900001";
const SITI_NAME: &str = "SITI RAHMAWATI";
/// Not a sequence, not repeated, not her birth date (1990-09-05).
const PIN: &str = "240517";
const WRONG_PIN: &str = "913468";

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits inside the repository")
        .to_path_buf()
}

fn binary(name: &str) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target"));
    let target = if target.is_absolute() {
        target
    } else {
        repo_root().join(target)
    };
    let path = target.join("debug").join(name);
    assert!(
        path.exists(),
        "{} is missing: build it first (cargo build -p ikd-core -p ikd-server -p ikd-verifier --bins)",
        path.display()
    );
    path
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("the loopback interface has a free port")
}

/// The demo server process, ended when the test ends (also on a failed assertion).
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `ikd-server demo` on `port`, mailing to `smtp`; polls until it accepts.
fn start_demo(port: u16, data_dir: &Path, smtp: SocketAddr) -> Server {
    let mut cmd = Command::new(binary("ikd-server"));
    cmd.args(["demo", "--addr", &format!("127.0.0.1:{port}"), "--data-dir"])
        .arg(data_dir)
        .args(["--smtp", &smtp.to_string()]);
    spawn_listening(cmd, port, "ikd-server demo")
}

/// Starts `ikd-verifier demo` on `port`, trusting `issuer`'s keys and writing its
/// relying-party CA to `trust_anchor_out`; polls until it accepts.
fn start_verifier(port: u16, trust_anchor_out: &Path, issuer: &str) -> Server {
    let mut cmd = Command::new(binary("ikd-verifier"));
    cmd.args([
        "demo",
        "--addr",
        &format!("127.0.0.1:{port}"),
        "--issuer",
        issuer,
    ])
    .arg("--trust-anchor-out")
    .arg(trust_anchor_out);
    spawn_listening(cmd, port, "ikd-verifier demo")
}

fn spawn_listening(mut cmd: Command, port: u16, what: &str) -> Server {
    let child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{what} starts: {e}"));
    let mut server = Server(child);
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
        assert!(
            server.0.try_wait().expect("child status").is_none(),
            "{what} exited early"
        );
        assert!(Instant::now() < deadline, "{what} did not listen");
        std::thread::yield_now();
    }
    server
}

/// One `ikd wallet` run: its output, with `stdin` written to it.
fn wallet(data_dir: &Path, backend: &str, args: &[&str], stdin: &str) -> Output {
    use std::io::Write as _;
    let mut child = Command::new(binary("ikd"))
        .arg("wallet")
        .arg("--data-dir")
        .arg(data_dir)
        .args(["--backend", backend])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ikd starts");
    // A run refused by argument parsing exits without reading stdin: a broken pipe
    // then is expected, not a failure (the exit status tells).
    match child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(stdin.as_bytes())
    {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => panic!("stdin written: {e}"),
        _ => {}
    }
    child.wait_with_output().expect("ikd runs")
}

/// The JSON of a successful run.
fn ok(out: Output) -> Value {
    assert!(
        out.status.success(),
        "ikd wallet failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

/// The error object of a failed run.
fn err(out: Output) -> Value {
    assert!(!out.status.success(), "expected a failure");
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON error on stdout");
    let e = v["error"].clone();
    assert!(e["code"].is_string() && e["message"].is_string(), "{v}");
    e
}

#[tokio::test(flavor = "multi_thread")]
async fn the_whole_journey_with_ikd_wallet_alone() {
    let smtp = SmtpReceiver::start().await.expect("SMTP receiver");
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let _server = start_demo(port, &dir.path().join("server"), smtp.addr);
    let base = format!("http://127.0.0.1:{port}");
    let data = dir.path().join("wallet");
    let selfie = repo_root().join("core/tests/fixtures/astronaut.png");
    let run = |args: &[&str], stdin: &str| wallet(&data, &base, args, stdin);

    // A fresh wallet: the key store is the file, and stderr says so.
    let out = run(&["state"], "");
    assert!(String::from_utf8_lossy(&out.stderr).contains("key store = file"));
    let state = ok(out);
    assert_eq!(state["stage"], "welcome");
    assert_eq!(state["enrollment"], Value::Null);

    // Bad input is a typed error on stdout with a non-zero exit.
    let e = err(run(
        &[
            "enroll",
            "--nik",
            "123",
            "--email",
            "siti@example.com",
            "--phone",
            "081234567890",
            "--selfie",
        ]
        .iter()
        .copied()
        .chain([selfie.to_str().expect("utf-8 path"), "--consent"])
        .collect::<Vec<_>>(),
        "",
    ));
    assert_eq!(e["code"], "invalid_nik");
    assert_eq!(e["detail"]["reason"], "length");

    let enroll = |consent: bool| {
        let mut args = vec![
            "enroll",
            "--nik",
            SITI_NIK,
            "--email",
            "siti@example.com",
            "--phone",
            "0812-3456-7890",
            "--selfie",
            selfie.to_str().expect("utf-8 path"),
        ];
        if consent {
            args.push("--consent");
        }
        run(&args, "")
    };
    assert_eq!(err(enroll(false))["code"], "consent_required");
    let view = ok(enroll(true));
    assert_eq!(view["status"], "submitted");
    assert_eq!(view["email_masked"], "s***@example.com");
    assert_eq!(ok(run(&["state"], ""))["stage"], "enrolling");

    // The desk: the officer's QR, scanned by the wallet.
    let officer = Officer::login(
        &base,
        ikd_server::demo::DEMO_OFFICER_USERNAME,
        ikd_server::demo::DEMO_OFFICER_PASSWORD,
    )
    .await
    .expect("demo officer logs in");
    let qr = officer.desk_qr().await;
    let view = ok(run(&["scan", "--qr", &qr.text], ""));
    assert_eq!(view["status"], "scanned");
    assert_eq!(view["desk_name"], ikd_server::demo::DEMO_DESK_NAME);
    let confirm = view["desk_confirm_code"]
        .as_str()
        .expect("the scan shows the desk confirmation code")
        .to_owned();

    // The officer approves; the code arrives by mail.
    let id = officer
        .queue()
        .await
        .iter()
        .find(|q| q["nama"] == SITI_NAME)
        .and_then(|q| q["enrollment_id"].as_str().map(str::to_owned))
        .expect("Siti waits in the officer's queue");
    assert_eq!(
        officer.approve(&id, &confirm).await,
        reqwest::StatusCode::OK
    );
    let mail = smtp.next(MAIL_TIMEOUT).await.expect("activation mail");
    assert_eq!(mail.to, vec!["siti@example.com".to_owned()]);
    let code = code_in(&mail);
    let view = ok(run(&["status"], ""));
    assert_eq!(view["status"], "approved");
    assert_eq!(view["code_attempts_left"], 5);

    // Resend: a new mail with a new code (the new one is the one that works).
    let view = ok(run(&["resend"], ""));
    assert_eq!(view["status"], "approved");
    assert_eq!(code.len(), 6);
    let code = code_in(
        &smtp
            .next(MAIL_TIMEOUT)
            .await
            .expect("second activation mail"),
    );

    // A wrong code says how many tries are left; the right one activates.
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let e = err(run(&["activate", "--code", wrong], ""));
    assert_eq!(e["code"], "code_wrong");
    assert_eq!(e["detail"]["attempts_left"], 4);
    let state = ok(run(&["activate", "--code", &code], ""));
    assert_eq!(state["stage"], "needs_pin");

    // The PIN comes from stdin, twice; it is never an argument.
    let e = err(run(
        &["set-pin", "--pin-stdin"],
        &format!("{PIN}\n{WRONG_PIN}\n"),
    ));
    assert_eq!(e["code"], "pin_mismatch");
    let no_flag = run(&["set-pin"], &format!("{PIN}\n{PIN}\n"));
    assert!(
        !no_flag.status.success(),
        "set-pin without --pin-stdin is refused"
    );
    let state = ok(run(&["set-pin", "--pin-stdin"], &format!("{PIN}\n{PIN}\n")));
    assert_eq!(state["stage"], "unlocked");
    // A new process starts locked: the document key lived only in the last one.
    let state = ok(run(&["state"], ""));
    assert_eq!(state["stage"], "locked");
    assert_eq!(state["enrollment"]["status"], "activated");

    // The documents, each behind the PIN.
    let e = err(run(&["ktp", "--pin-stdin"], &format!("{WRONG_PIN}\n")));
    assert_eq!(e["code"], "wrong_pin");
    assert_eq!(e["detail"]["failures"], 1);
    let ktp = ok(run(&["ktp", "--pin-stdin"], &format!("{PIN}\n")));
    assert_eq!(ktp["verified"], true);
    assert_eq!(ktp["ktp"]["nik"], SITI_NIK);
    assert_eq!(ktp["ktp"]["nama"], SITI_NAME);
    assert!(ktp["issuer"]
        .as_str()
        .unwrap_or_default()
        .contains("127.0.0.1"));
    let kk = ok(run(&["kk", "--pin-stdin"], &format!("{PIN}\n")));
    assert_eq!(kk["verified"], true);
    let members = kk["kk"]["anggota"].as_array().expect("KK members");
    assert!(members.iter().any(|m| m["nik"] == SITI_NIK), "{kk}");
    let history = ok(run(&["history", "--pin-stdin"], &format!("{PIN}\n")));
    let kinds: Vec<&str> = history
        .as_array()
        .expect("history is a list")
        .iter()
        .filter_map(|h| h["kind"].as_str())
        .collect();
    for kind in [
        "registered",
        "desk_scanned",
        "approved",
        "activated",
        "pin_set",
        "unlock_failed",
        "unlocked",
    ] {
        assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
    }

    // OpenID4VP: present to a running `ikd-verifier demo`, whose relying-party CA is the
    // wallet's trust anchor (the file in its data dir).
    let vport = free_port();
    let _verifier = start_verifier(
        vport,
        &data.join(ikd_core::wallet::present::RP_TRUST_ANCHORS_FILE),
        &base,
    );
    let vbase = format!("http://127.0.0.1:{vport}");
    let http = reqwest::Client::new();
    let create = |preset: &'static str| {
        let http = http.clone();
        let url = format!("{vbase}/api/requests");
        async move {
            let r = http
                .post(url)
                .json(&serde_json::json!({ "preset": preset }))
                .send()
                .await
                .expect("verifier answers");
            assert_eq!(r.status(), reqwest::StatusCode::CREATED);
            r.json::<Value>().await.expect("created request")
        }
    };
    let result = |id: String| {
        let http = http.clone();
        let url = format!("{vbase}/api/requests/{id}");
        async move {
            let r = http.get(url).send().await.expect("verifier answers");
            r.json::<Value>().await.expect("result JSON")
        }
    };
    let c = create("usia17").await;
    let link = c["url"].as_str().expect("openid4vp link").to_owned();
    let sent = ok(run(
        &["present", "--request", &link, "--share-all", "--pin-stdin"],
        &format!("{PIN}\n"),
    ));
    assert_eq!(sent["to"]["trust"], "registered", "{sent}");
    assert!(sent["to"]["name"]
        .as_str()
        .unwrap_or_default()
        .contains("Bank Contoh Indonesia"));
    assert_eq!(sent["to"]["host"], "127.0.0.1");
    assert_eq!(
        sent["sent"],
        serde_json::json!(["age_equal_or_over.17", "foto"])
    );
    assert_eq!(sent["declined"], false);
    assert_eq!(sent["answer"]["status"], 200, "{sent}");
    let id = c["id"].as_str().expect("request id").to_owned();
    let r = result(id).await;
    assert_eq!(r["status"], "valid", "{r}");
    assert_eq!(
        r["credentials"][0]["claims"]["age_equal_or_over"]["17"],
        true
    );
    assert!(r["credentials"][0]["claims"].get("nik").is_none(), "{r}");

    // Full identity: naming only some fields leaves required ones out (refused before
    // anything is sent); then a refusal, which the verifier sees as access_denied.
    let c = create("identitas").await;
    let link = c["url"].as_str().expect("openid4vp link").to_owned();
    let e = err(run(
        &[
            "present",
            "--request",
            &link,
            "--share",
            "nama,foto",
            "--pin-stdin",
        ],
        &format!("{PIN}\n"),
    ));
    assert_eq!(e["code"], "invalid_state");
    let id = c["id"].as_str().expect("request id").to_owned();
    assert_eq!(result(id.clone()).await["status"], "pending");
    let declined = ok(run(
        &["present", "--request", &link, "--decline", "--pin-stdin"],
        &format!("{PIN}\n"),
    ));
    assert_eq!(declined["declined"], true);
    assert_eq!(declined["sent"], serde_json::json!([]));
    let r = result(id).await;
    assert_eq!(r["status"], "declined", "{r}");
    assert_eq!(r["error"], "access_denied");
    let history = ok(run(&["history", "--pin-stdin"], &format!("{PIN}\n")));
    let kinds: Vec<&str> = history
        .as_array()
        .expect("history is a list")
        .iter()
        .filter_map(|h| h["kind"].as_str())
        .collect();
    assert!(
        kinds.contains(&"presented") && kinds.contains(&"presentation_declined"),
        "{kinds:?}"
    );

    // Fresh documents with the refresh token, then Lepas Perangkat.
    let refreshed = ok(run(&["refresh", "--pin-stdin"], &format!("{PIN}\n")));
    assert_eq!(refreshed["refreshed"], true);
    let state = ok(run(&["release", "--pin-stdin"], &format!("{PIN}\n")));
    assert_eq!(state["stage"], "welcome");
    assert_eq!(
        err(run(&["ktp", "--pin-stdin"], &format!("{PIN}\n")))["code"],
        "invalid_state"
    );
}
