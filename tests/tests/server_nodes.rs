//! Two `ikd-server serve` processes on two loopback ports sharing one real PostgreSQL
//! (tests/src/pg.rs) and one data dir (the issuer and HMAC keys, as a deployment mounts
//! them on every node): the resident's journey hops between the nodes (enroll on A,
//! scan on B, approve on A, token on B, credential on A, refresh on B); a desk QR used
//! on one node is refused on the other; an officer session made on A works on B; five
//! wrong codes spread over both nodes void the code; the token endpoint's rate limit
//! counts across both nodes. A node of role `api` runs no face checks; a node of
//! role `face` does them for it and answers nothing but its health. A node rides out
//! PostgreSQL hung and restarted: 503 with `Retry-After` within its store timeout
//! meanwhile, and serving again, not restarted, once the database is back.
//!
//! Expects `target/debug/ikd-server`, built beforehand (`cargo build -p ikd-server`).
#![allow(clippy::unwrap_used)]

use ikd_core::client::BackendClient;
use ikd_core::secret::SecretString;
use ikd_core::wire::KTP_CONFIGURATION;
use ikd_tests::pg::PgServer;
use ikd_tests::MAIL_TIMEOUT;
use ikd_tests::{
    code_in, confirm_of, device_key, proof_jwt, signed_enroll_request, Officer, SmtpReceiver,
};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const SITI: &str = "1671014509900001";
const BUDI: &str = "1671011203880001";
const TOKEN_BURST: u32 = 14;

fn binary(name: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf();
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let target = if target.is_absolute() {
        target
    } else {
        root.join(target)
    };
    let p = target.join("debug").join(name);
    assert!(
        p.exists(),
        "{} missing: cargo build -p ikd-server",
        p.display()
    );
    p
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap()
}

/// A node process, killed when the test ends.
struct Node(Child);

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `ikd-server serve --config FILE --database-url URL` on `port`; waits until /readyz.
async fn start_node(port: u16, config: &Path, url: &str) -> Node {
    start_role(port, config, url, "all").await
}

/// [`start_node`] with `--role ROLE`.
async fn start_role(port: u16, config: &Path, url: &str, role: &str) -> Node {
    let child = Command::new(binary("ikd-server"))
        .args(["serve", "--config"])
        .arg(config)
        .args(["--database-url", url, "--role", role])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut node = Node(child);
    let deadline = Instant::now() + Duration::from_secs(60);
    let http = reqwest::Client::new();
    loop {
        assert!(
            node.0.try_wait().unwrap().is_none(),
            "node on {port} exited"
        );
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            let r = http
                .get(format!("http://127.0.0.1:{port}/readyz"))
                .send()
                .await;
            if let Ok(r) = r {
                if r.status() == reqwest::StatusCode::OK {
                    let v: serde_json::Value = r.json().await.unwrap();
                    assert_eq!(v["store"], "postgres");
                    assert_eq!(v["schema_version"], v["expected_schema_version"]);
                    return node;
                }
            }
        }
        assert!(
            Instant::now() < deadline,
            "node on {port} never became ready"
        );
        // Polling a process that is starting up (no event to wait on).
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn write_config(path: &Path, port: u16, data_dir: &Path, issuer: &str, smtp_port: u16) {
    let text = format!(
        r#"addr = "127.0.0.1:{port}"
data_dir = "{}"
public_url = "{issuer}"
demo = true
dev_outbox = false

[smtp]
host = "127.0.0.1"
port = {smtp_port}
tls = "none"

[limits]
submit_burst = 100
submit_per_minute = 100
token_burst = {TOKEN_BURST}
token_per_minute = 1
resend_min_interval_secs = 60
resend_per_day = 5
"#,
        data_dir.display()
    );
    std::fs::write(path, text).unwrap();
}

async fn token_status(
    base: &str,
    pac: &str,
    code: &str,
) -> (reqwest::StatusCode, serde_json::Value) {
    let r = reqwest::Client::new()
        .post(format!("{base}/token"))
        .form(&[
            (
                "grant_type",
                "urn:ietf:params:oauth:grant-type:pre-authorized_code",
            ),
            ("pre-authorized_code", pac),
            ("tx_code", code),
        ])
        .send()
        .await
        .unwrap();
    let s = r.status();
    (s, r.json().await.unwrap_or_default())
}

/// The pre-authorized code of an approved enrollment's credential offer.
fn pac_of(st: ikd_core::wire::EnrollmentStatusResponse) -> String {
    st.credential_offer
        .unwrap()
        .grants
        .pre_authorized_code
        .unwrap()
        .pre_authorized_code
}

struct Submitted {
    id: String,
    token: SecretString,
    key: ikd_core::jose::EcKeyPair,
}

async fn submit(client: &BackendClient, issuer: &str, nik: &str, email: &str) -> Submitted {
    let key = device_key();
    let now = chrono::Utc::now().timestamp();
    let req = signed_enroll_request(client, issuer, now, nik, email, &key).await;
    let sub = client.submit(&req).await.unwrap();
    Submitted {
        id: sub.enrollment_id,
        token: SecretString::new(sub.enrollment_token),
        key,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_share_one_postgresql() {
    let pg = PgServer::start();
    let url = pg.fresh_database();
    let smtp = SmtpReceiver::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (pa, pb) = (free_port(), free_port());
    let (a, b) = (
        format!("http://127.0.0.1:{pa}"),
        format!("http://127.0.0.1:{pb}"),
    );
    // One issuer identifier for both (a load balancer's public URL).
    let issuer = a.clone();
    let (ca, cb) = (dir.path().join("a.toml"), dir.path().join("b.toml"));
    let data = dir.path().join("data");
    write_config(&ca, pa, &data, &issuer, smtp.addr.port());
    write_config(&cb, pb, &data, &issuer, smtp.addr.port());
    // A first: it makes the data dir's keys that B then reads.
    let _na = start_node(pa, &ca, &url).await;
    let _nb = start_node(pb, &cb, &url).await;
    let (client_a, client_b) = (
        BackendClient::new(&a).unwrap(),
        BackendClient::new(&b).unwrap(),
    );
    let officer_a = Officer::login(&a, "petugas", "petugas123").await.unwrap();
    // The session lives in the store: the same cookie on node B.
    let officer_b = Officer {
        http: reqwest::Client::new(),
        base: b.clone(),
        cookie: officer_a.cookie.clone(),
    };

    // Enroll on A, scan (A's desk QR) on B.
    let siti = submit(&client_a, &issuer, SITI, "siti@example.test").await;
    let qr = officer_a.desk_qr().await;
    let siti_scan = client_b
        .scan(&siti.id, &siti.token, &qr.text)
        .await
        .unwrap();
    // The same QR on the other node, for another resident: used.
    let budi = submit(&client_b, &issuer, BUDI, "budi@example.test").await;
    let replay = client_a.scan(&budi.id, &budi.token, &qr.text).await;
    assert!(
        format!("{replay:?}").contains("QrUsed"),
        "a used desk QR is refused on the other node: {replay:?}"
    );
    // B shows the desk's new QR (the used one rotated, for every node).
    let qr2 = officer_b.desk_qr().await;
    assert_ne!(qr2.text, qr.text);
    let budi_scan = client_a
        .scan(&budi.id, &budi.token, &qr2.text)
        .await
        .unwrap();

    // Approve Siti on A; Budi on B with A's session.
    assert_eq!(
        officer_a.approve(&siti.id, &confirm_of(&siti_scan)).await,
        reqwest::StatusCode::OK
    );
    let mail = smtp.next(MAIL_TIMEOUT).await.expect("Siti's mail");
    let siti_code = code_in(&mail);
    assert_eq!(
        officer_b.approve(&budi.id, &confirm_of(&budi_scan)).await,
        reqwest::StatusCode::OK
    );
    let mail = smtp.next(MAIL_TIMEOUT).await.expect("Budi's mail");
    let budi_code = code_in(&mail);
    let siti_pac = pac_of(client_b.status(&siti.id, &siti.token).await.unwrap());
    let budi_pac = pac_of(client_a.status(&budi.id, &budi.token).await.unwrap());
    let mut token_calls = 0;

    // Token on B, credential on A, refresh on B.
    let tokens = client_b
        .token(&siti_pac, &SecretString::new(siti_code.clone()))
        .await
        .unwrap();
    token_calls += 1;
    let nonce = client_a.nonce().await.unwrap();
    let proof = proof_jwt(&siti.key, &issuer, &nonce, chrono::Utc::now().timestamp());
    let sdjwt = client_a
        .credential(&tokens.access_token, KTP_CONFIGURATION, &proof)
        .await
        .unwrap();
    assert!(sdjwt.contains('~'), "an SD-JWT VC");
    let refreshed = client_b
        .refresh(tokens.refresh_token.as_ref().unwrap())
        .await
        .unwrap();
    token_calls += 1;
    assert_ne!(
        refreshed.access_token.expose(),
        tokens.access_token.expose()
    );
    // The used code is used on both nodes.
    let (s, body) = token_status(&a, &siti_pac, &siti_code).await;
    token_calls += 1;
    assert_eq!(s, reqwest::StatusCode::BAD_REQUEST, "{body}");

    // Five wrong codes spread over both nodes void Budi's code.
    let wrong = if budi_code == "000000" {
        "111111"
    } else {
        "000000"
    };
    for i in 0..5 {
        let node = if i % 2 == 0 { &a } else { &b };
        let (s, body) = token_status(node, &budi_pac, wrong).await;
        token_calls += 1;
        assert_eq!(s, reqwest::StatusCode::BAD_REQUEST, "{body}");
    }
    let (s, body) = token_status(&b, &budi_pac, &budi_code).await;
    token_calls += 1;
    assert_eq!(s, reqwest::StatusCode::BAD_REQUEST);
    assert_eq!(body["detail"]["code"], "code_void", "{body}");

    // The token bucket (per client IP) is one across the nodes: alternate until both
    // refuse; far fewer than two buckets' worth get through.
    let mut passed = 0;
    let mut last = (reqwest::StatusCode::OK, reqwest::StatusCode::OK);
    for _ in 0..(2 * TOKEN_BURST) {
        let (sa, _) = token_status(&a, "bogus", "123456").await;
        let (sb, _) = token_status(&b, "bogus", "123456").await;
        passed += usize::from(sa != reqwest::StatusCode::TOO_MANY_REQUESTS);
        passed += usize::from(sb != reqwest::StatusCode::TOO_MANY_REQUESTS);
        last = (sa, sb);
    }
    assert_eq!(
        last,
        (
            reqwest::StatusCode::TOO_MANY_REQUESTS,
            reqwest::StatusCode::TOO_MANY_REQUESTS
        )
    );
    // One bucket of TOKEN_BURST, plus at most one refill (1 a minute) during the test.
    assert!(
        token_calls + passed <= TOKEN_BURST as usize + 1,
        "{token_calls} + {passed} requests passed one bucket of {TOKEN_BURST}"
    );
    pg.stop();
}

/// The scheduling policy of each of process `pid`'s threads named `name`
/// (/proc/PID/task/TID/stat, field 41: 0 normal, 5 SCHED_IDLE).
fn thread_policies(pid: u32, name: &str) -> Vec<u32> {
    let mut out = Vec::new();
    for t in std::fs::read_dir(format!("/proc/{pid}/task")).unwrap() {
        let t = t.unwrap().path();
        let comm = std::fs::read_to_string(t.join("comm")).unwrap_or_default();
        if comm.trim() != name {
            continue;
        }
        let stat = std::fs::read_to_string(t.join("stat")).unwrap();
        // The fields after the command name's closing parenthesis start at field 3.
        let rest = &stat[stat.rfind(')').unwrap() + 2..];
        out.push(rest.split(' ').nth(41 - 3).unwrap().parse().unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_node_leaves_the_face_checks_to_a_face_node() {
    let pg = PgServer::start();
    let url = pg.fresh_database();
    let db = url.rsplit('/').next().unwrap().to_owned();
    let smtp = SmtpReceiver::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (pa, pf) = (free_port(), free_port());
    let (a, f) = (
        format!("http://127.0.0.1:{pa}"),
        format!("http://127.0.0.1:{pf}"),
    );
    let (ca, cf) = (dir.path().join("a.toml"), dir.path().join("f.toml"));
    let data = dir.path().join("data");
    write_config(&ca, pa, &data, &a, smtp.addr.port());
    write_config(&cf, pf, &data, &a, smtp.addr.port());
    let na = start_role(pa, &ca, &url, "api").await;
    let client = BackendClient::new(&a).unwrap();
    let officer = Officer::login(&a, "petugas", "petugas123").await.unwrap();
    let siti = submit(&client, &a, SITI, "siti@example.test").await;
    // The officer sees an enrollment once the resident scanned the desk's QR.
    let qr = officer.desk_qr().await;
    client.scan(&siti.id, &siti.token, &qr.text).await.unwrap();
    // The API node has no face thread; its check waits in the queue.
    assert!(thread_policies(na.0.id(), "ikd-face").is_empty());
    let detail = officer
        .get_json::<serde_json::Value>(&format!("/officer/api/enrollments/{}", siti.id))
        .await;
    assert_eq!(detail["face_check"], "pending");
    assert_eq!(
        pg.psql(&db, "SELECT status || ' ' || attempts FROM face_checks"),
        "pending 0"
    );

    // The face node: one face thread at SCHED_IDLE, no API, and the check gets done.
    let nf = start_role(pf, &cf, &url, "face").await;
    assert_eq!(thread_policies(nf.0.id(), "ikd-face"), vec![5]);
    let http = reqwest::Client::new();
    let r = http.post(format!("{f}/nonce")).send().await.unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::NOT_FOUND);
    let r = http.get(format!("{f}/healthz")).send().await.unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::OK);
    let detail = officer
        .face_checked(&format!("/officer/api/enrollments/{}", siti.id))
        .await;
    assert_eq!(detail["face_check"], "one_face");
    assert_eq!(
        pg.psql(&db, "SELECT status || ' ' || attempts FROM face_checks"),
        "done 1"
    );
    drop((na, nf));
    pg.stop();
}

/// PostgreSQL's process ids: the postmaster and its children (backends, workers).
fn pg_processes(pg: &PgServer) -> Vec<String> {
    let pm = pg.postmaster_pid().unwrap().to_string();
    let out = Command::new("pgrep").args(["-P", &pm]).output().unwrap();
    let mut pids: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    pids.push(pm);
    pids
}

fn signal(pids: &[String], sig: &str) {
    let ok = Command::new("kill").arg(sig).args(pids).status().unwrap();
    assert!(ok.success(), "kill {sig} {pids:?}");
}

/// PostgreSQL's processes stopped (SIGSTOP) until this is dropped (SIGCONT), also
/// when an assertion fails meanwhile: a stopped server could not be shut down.
struct Hung(Vec<String>);

impl Hung {
    fn start(pg: &PgServer) -> Self {
        let pids = pg_processes(pg);
        signal(&pids, "-STOP");
        Self(pids)
    }
}

impl Drop for Hung {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg("-CONT").args(&self.0).status();
    }
}

/// A 503 of an unavailable store: `Retry-After` and the busy words, nothing internal.
async fn busy(r: reqwest::Response, what: &str) {
    assert_eq!(r.status(), 503, "{what}");
    assert_eq!(r.headers()["retry-after"], "2", "{what}");
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"], "internal", "{what}: {body}");
    assert_eq!(body["message"], "Server sedang sibuk. Silakan coba lagi.");
    assert!(!body.to_string().contains("postgres"), "{what}: {body}");
}

/// PostgreSQL unavailable under a running node, twice: hung (every process stopped,
/// so connections open and nothing answers, as on a partitioned network), then down
/// (a restart, as a failover's switch looks to a node). Meanwhile the node stays up
/// (`/healthz` 200), says it cannot serve (`/readyz` 503, so a load balancer routes
/// around it) and answers a request that needs the store with 503 and `Retry-After`
/// within its store timeout (config `store_timeout_ms`, 1.5 s here): never a hang,
/// never a 500; then read-only (a demoted primary): reads served, writes 503. Each
/// time the database is back, the same node, not restarted, serves
/// from its next request: the journey goes on where it stopped, and the mail queue's
/// worker, which failed while the database was away, sends the approval's code.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_rides_out_a_hung_and_a_restarted_postgresql() {
    let pg = PgServer::start();
    let url = pg.fresh_database();
    let smtp = SmtpReceiver::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let config = dir.path().join("node.toml");
    write_config(
        &config,
        port,
        &dir.path().join("data"),
        &base,
        smtp.addr.port(),
    );
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("store_timeout_ms = 1500\n{text}")).unwrap();
    let _node = start_node(port, &config, &url).await;
    let client = BackendClient::new(&base).unwrap();
    let officer = Officer::login(&base, "petugas", "petugas123")
        .await
        .unwrap();
    let siti = submit(&client, &base, SITI, "siti@example.test").await;
    let http = reqwest::Client::new();
    let get = |path: String| http.get(format!("{base}{path}")).send();
    let status = || {
        http.get(format!("{base}/api/v1/enrollments/{}", siti.id))
            .bearer_auth(siti.token.expose())
            .send()
    };
    let unavailable = |what: &'static str| async move {
        assert_eq!(
            get("/healthz".into()).await.unwrap().status(),
            200,
            "{what}"
        );
        let t = Instant::now();
        assert_eq!(get("/readyz".into()).await.unwrap().status(), 503, "{what}");
        busy(status().await.unwrap(), what).await;
        // The timeout is 1.5 s a call; a hang would be the TCP timeouts' minutes.
        assert!(
            t.elapsed() < Duration::from_secs(8),
            "{what}: answered in {:?}",
            t.elapsed()
        );
    };

    // Hung: every PostgreSQL process stopped.
    let hung = Hung::start(&pg);
    unavailable("hung").await;
    drop(hung);
    assert_eq!(status().await.unwrap().status(), 200, "after the hang");
    let qr = officer.desk_qr().await;
    let scanned = client.scan(&siti.id, &siti.token, &qr.text).await.unwrap();

    // Down: stopped (its connections closed), then started again.
    pg.halt();
    unavailable("down").await;
    pg.resume();
    assert_eq!(get("/readyz".into()).await.unwrap().status(), 200);

    // Read-only, as a node still pointed at a primary that came back as a replica
    // sees it (SQLSTATE 25006): reads are served, a write is 503 and writes nothing.
    let db = url.rsplit('/').next().unwrap();
    let reconnect = format!(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
         WHERE datname = '{db}' AND pid <> pg_backend_pid()"
    );
    pg.psql(
        "postgres",
        &format!("ALTER DATABASE {db} SET default_transaction_read_only = on"),
    );
    pg.psql("postgres", &reconnect);
    assert_eq!(status().await.unwrap().status(), 200, "a read on a replica");
    let r = http
        .post(format!(
            "{base}/officer/api/enrollments/{}/approve",
            siti.id
        ))
        .header(reqwest::header::COOKIE, officer.cookie.clone())
        .json(&serde_json::json!({ "confirm_code": confirm_of(&scanned) }))
        .send()
        .await
        .unwrap();
    busy(r, "read-only").await;
    pg.psql(
        "postgres",
        &format!("ALTER DATABASE {db} RESET default_transaction_read_only"),
    );
    pg.psql("postgres", &reconnect);
    assert_eq!(
        officer.approve(&siti.id, &confirm_of(&scanned)).await,
        reqwest::StatusCode::OK
    );
    let mail = smtp.next(MAIL_TIMEOUT).await.expect("Siti's mail");
    let code = code_in(&mail);
    let pac = pac_of(client.status(&siti.id, &siti.token).await.unwrap());
    let tokens = client.token(&pac, &SecretString::new(code)).await.unwrap();
    assert!(!tokens.access_token.expose().is_empty());
    pg.stop();
}
