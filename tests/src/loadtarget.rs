//! The server a load bench runs against (tests/examples/load*.rs): `ikd-server serve`
//! processes on loopback ports, on the store `LOAD_STORE` names (`sqlite`, the default,
//! or `postgres`: a real PostgreSQL started by [`crate::pg::PgServer`]), `LOAD_NODES`
//! of them (default 1; several share the store and the data dir, like nodes behind a
//! load balancer with one public URL). `LOAD_FACE_NODE=1`: the nodes run `--role api`
//! and one more process `--role face` does the face checks (on one machine it shares
//! the same cores). SMTP goes to a loopback receiver in the bench's process. The residents and the desks' officers are written into the store before
//! the nodes start.
//!
//! The `ikd-server` binary is the one next to the running example (`target/<profile>/`):
//! build it with the same profile first (`scripts/load` does), or name one in
//! `LOAD_SERVER_BIN`.

use crate::pg::PgServer;
use crate::{signed_enroll_request, Officer, SmtpReceiver};
use ikd_core::client::BackendClient;
use ikd_core::jose::EcKeyPair;
use ikd_core::wire::EnrollRequest;
use ikd_server::siak::{eligibility, seed::generate};
use ikd_server::store::Store;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A node process, killed when dropped.
struct Node(Child);

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One statement's line in pg_stat_statements (LOAD_PG_STATS): how often it ran, and
/// PostgreSQL's time executing and planning it, in all (µs).
pub struct PgStatement {
    pub calls: u64,
    pub exec_us: u64,
    pub plan_us: u64,
    pub query: String,
}

pub struct Target {
    /// One base URL per node.
    pub bases: Vec<String>,
    /// The issuer identifier (the first node's URL, as a load balancer's would be).
    pub issuer: String,
    pub clients: Vec<BackendClient>,
    pub smtp: SmtpReceiver,
    /// The nodes' store, opened by the bench too (setup, and the mail rows after).
    pub store: Arc<dyn Store>,
    /// "sqlite, 1 node", "postgres, 2 nodes".
    pub label: String,
    /// Eligible NIKs of the seeded population.
    pub people: Vec<String>,
    nodes: std::sync::Mutex<Vec<Node>>,
    /// The `--role face` process, with `LOAD_FACE_NODE=1`.
    face: std::sync::Mutex<Option<Node>>,
    /// The PostgreSQL database's name, when `LOAD_PG_STATS=1` counts its statements.
    stats_db: Option<String>,
    _pg: Option<PgServer>,
    _dir: tempfile::TempDir,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// `target/<profile>/ikd-server`, beside `target/<profile>/examples/<bench>`, or the
/// binary `LOAD_SERVER_BIN` names (to compare two builds with the same bench).
fn server_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("LOAD_SERVER_BIN") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().expect("the bench's path");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/examples");
    let p = dir.join("ikd-server");
    assert!(
        p.exists(),
        "{} missing: build ikd-server with the bench's profile",
        p.display()
    );
    p
}

/// Generous limits (one loopback address for every resident); the mail worker as
/// configured by default.
fn config_text(port: u16, data: &Path, issuer: &str, smtp_port: u16) -> String {
    let big = 100_000;
    // LOAD_PG_POOL=K: the nodes' PostgreSQL pools (default: two per core).
    let pool = std::env::var("LOAD_PG_POOL")
        .ok()
        .map(|v| {
            let k: usize = v.parse().expect("LOAD_PG_POOL: a number of connections");
            format!("database_pool_size = {k}\n")
        })
        .unwrap_or_default();
    format!(
        r#"addr = "127.0.0.1:{port}"
data_dir = "{}"
public_url = "{issuer}"
dev_outbox = false
{pool}
[smtp]
host = "127.0.0.1"
port = {smtp_port}
tls = "none"

[limits]
submit_burst = {big}
submit_per_minute = {big}
token_burst = {big}
token_per_minute = {big}
resend_min_interval_secs = 60
resend_per_day = 5
nonce_burst = {big}
nonce_per_minute = {big}
nik_burst = {big}
nik_per_minute = {big}
officer_burst = {big}
officer_per_minute = {big}
"#,
        data.display()
    )
}

impl Target {
    /// Starts the nodes with `population` synthetic residents (seed `seed`) and
    /// `desks` officers (`petugas{d}` at `loket-{d}`), logged in; desk d's officer
    /// talks to node d % nodes.
    pub async fn start(population: usize, seed: u64, desks: usize) -> (Self, Vec<Officer>) {
        let postgres = std::env::var("LOAD_STORE").is_ok_and(|v| v == "postgres");
        let n: usize = std::env::var("LOAD_NODES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(1)
            .max(1);
        let dir = tempfile::tempdir().expect("temp dir");
        let data = dir.path().join("data");
        std::fs::create_dir_all(&data).expect("data dir");
        // LOAD_PG_STATS=1: PostgreSQL counts the statements (pg_stat_statements).
        let stats = postgres && std::env::var("LOAD_PG_STATS").is_ok_and(|v| v == "1");
        // LOAD_PG_OPTS: more server options (`-c name=value …`), for experiments.
        let extra = std::env::var("LOAD_PG_OPTS").unwrap_or_default();
        let pg = postgres.then(|| {
            PgServer::start_with(&if stats {
                format!("-c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all -c pg_stat_statements.track_planning=on {extra}")
            } else {
                extra
            })
        });
        let url = pg.as_ref().map(|p| p.fresh_database());
        let stats_db = match (&pg, &url) {
            (Some(pg), Some(u)) if stats => {
                let db = u.rsplit('/').next().unwrap_or_default().to_owned();
                pg.psql(&db, "CREATE EXTENSION pg_stat_statements");
                Some(db)
            }
            _ => None,
        };
        let store = ikd_server::store::open(
            url.as_deref(),
            &data.join("ikd-server.sqlite3"),
            ikd_server::store::STORE_TIMEOUT,
            None,
        )
        .expect("the store");
        let residents = generate(population, seed);
        store.insert_residents(&residents).expect("seed residents");
        for d in 0..desks {
            ikd_server::auth::add_officer(
                store.as_ref(),
                &format!("petugas{d}"),
                "rahasia-loket",
                &format!("loket-{d}"),
                &format!("Loket {d}"),
            )
            .expect("officer");
        }
        let today = chrono::Utc::now().date_naive();
        let people = residents
            .into_iter()
            .filter(|r| eligibility(r, today).is_ok())
            .map(|r| r.nik)
            .collect();

        let smtp = SmtpReceiver::start().await.expect("SMTP receiver");
        let ports: Vec<u16> = (0..n).map(|_| free_port()).collect();
        let bases: Vec<String> = ports
            .iter()
            .map(|p| format!("http://127.0.0.1:{p}"))
            .collect();
        let issuer = bases[0].clone();
        let bin = server_binary();
        let face_node = std::env::var("LOAD_FACE_NODE").is_ok_and(|v| v == "1");
        // No `--role` without a face node: a binary from before roles runs too.
        let role = face_node.then_some("api");
        let start = |i: usize, port: u16, role: Option<&str>| {
            let cfg = dir.path().join(format!("node{i}.toml"));
            std::fs::write(&cfg, config_text(port, &data, &issuer, smtp.addr.port()))
                .expect("config");
            let mut cmd = Command::new(&bin);
            cmd.arg("serve");
            if let Some(r) = role {
                cmd.args(["--role", r]);
            }
            cmd.arg("--config").arg(&cfg);
            if let Some(u) = &url {
                cmd.args(["--database-url", u]);
            }
            let child = cmd
                .env("RUST_LOG", "warn")
                .stdout(Stdio::null())
                .spawn()
                .expect("ikd-server serve");
            Node(child)
        };
        let mut nodes = Vec::new();
        // One at a time: the first makes the data dir's keys that the others read.
        for (i, port) in ports.iter().enumerate() {
            let mut node = start(i, *port, role);
            wait_ready(&mut node, &bases[i]).await;
            nodes.push(node);
        }
        let face = if face_node {
            let port = free_port();
            let mut node = start(n, port, Some("face"));
            wait_ready(&mut node, &format!("http://127.0.0.1:{port}")).await;
            Some(node)
        } else {
            None
        };
        let clients = bases
            .iter()
            .map(|b| BackendClient::new(b).expect("client"))
            .collect();
        let mut officers = Vec::new();
        for d in 0..desks {
            let o = Officer::login(&bases[d % n], &format!("petugas{d}"), "rahasia-loket")
                .await
                .expect("officer login");
            officers.push(o);
        }
        let label = format!(
            "{}, {n} node{}{}",
            if postgres { "postgres" } else { "sqlite" },
            if n == 1 { "" } else { "s" },
            if face_node {
                " (role api) + 1 face node"
            } else {
                ""
            }
        );
        (
            Self {
                bases,
                issuer,
                clients,
                smtp,
                store,
                label,
                people,
                nodes: std::sync::Mutex::new(nodes),
                face: std::sync::Mutex::new(face),
                stats_db,
                _pg: pg,
                _dir: dir,
            },
            officers,
        )
    }

    /// The client for step `i` (steps hop across the nodes).
    pub fn client(&self, i: usize) -> &BackendClient {
        &self.clients[i % self.clients.len()]
    }

    pub fn nodes(&self) -> usize {
        self.nodes.lock().map_or(0, |n| n.len())
    }

    /// Stops the nodes now (before a `process::exit`, which runs no destructor).
    pub fn stop(&self) {
        if let Ok(mut n) = self.nodes.lock() {
            n.clear();
        }
        if let Ok(mut f) = self.face.lock() {
            f.take();
        }
    }

    /// CPU used so far by the nodes, by this bench process, and by the whole machine.
    pub fn cpu(&self) -> CpuSample {
        let face = self
            .face
            .lock()
            .ok()
            .and_then(|f| f.as_ref().and_then(|f| process_cpu(f.0.id())))
            .unwrap_or_default();
        CpuSample {
            nodes: self
                .nodes
                .lock()
                .map(|n| {
                    n.iter()
                        .filter_map(|n| process_cpu(n.0.id()))
                        .sum::<Duration>()
                })
                .unwrap_or_default()
                + face,
            face,
            bench: process_cpu(std::process::id()).unwrap_or_default(),
            postgres: self
                ._pg
                .as_ref()
                .and_then(PgServer::postmaster_pid)
                .and_then(postgres_cpu)
                .unwrap_or_default(),
            machine: machine_busy().unwrap_or_default(),
            at: Instant::now(),
        }
    }

    /// With `LOAD_PG_STATS=1` on PostgreSQL: the statements the database ran since the
    /// last call (calls, time executing and planning, statement text; most called
    /// first), counters reset after.
    /// `None` otherwise.
    pub fn pg_statements(&self) -> Option<Vec<PgStatement>> {
        let (pg, db) = (self._pg.as_ref()?, self.stats_db.as_ref()?);
        let out = pg.psql(
            db,
            "SELECT calls, round((total_exec_time * 1000)::numeric), round((total_plan_time * 1000)::numeric),
                    regexp_replace(query, '\\s+', ' ', 'g') FROM pg_stat_statements
             WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
               AND query NOT LIKE '%pg_stat_statements%'
             ORDER BY calls DESC",
        );
        pg.psql(db, "SELECT pg_stat_statements_reset()");
        Some(
            out.lines()
                .filter_map(|l| {
                    let mut f = l.splitn(4, '|');
                    Some(PgStatement {
                        calls: f.next()?.parse().ok()?,
                        exec_us: f.next()?.parse().ok()?,
                        plan_us: f.next()?.parse().ok()?,
                        query: f.next()?.to_owned(),
                    })
                })
                .collect(),
        )
    }

    /// A proof JWT for the issuer by `key`, over a fresh nonce from node `i`.
    pub async fn proof(&self, i: usize, key: &EcKeyPair) -> String {
        let nonce = self.client(i).nonce().await.expect("nonce");
        crate::proof_jwt(key, &self.issuer, &nonce, chrono::Utc::now().timestamp())
    }

    /// An enrollment form with its key proof (nonce from node `i`).
    pub async fn enroll_request(
        &self,
        i: usize,
        nik: &str,
        email: &str,
        key: &EcKeyPair,
    ) -> EnrollRequest {
        signed_enroll_request(
            self.client(i),
            &self.issuer,
            chrono::Utc::now().timestamp(),
            nik,
            email,
            key,
        )
        .await
    }
}

/// Until the node answers /readyz 200 (deadline 60 s), or panics if it exits.
async fn wait_ready(node: &mut Node, base: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let http = reqwest::Client::new();
    loop {
        assert!(
            node.0.try_wait().ok().flatten().is_none(),
            "the node at {base} exited"
        );
        if let Ok(r) = http.get(format!("{base}/readyz")).send().await {
            if r.status().is_success() {
                return;
            }
        }
        assert!(Instant::now() < deadline, "{base} never became ready");
        // Polling a process that is starting up (no event to wait on).
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// CPU time used up to a moment (user + system; Linux `/proc`, in USER_HZ = 100 ticks
/// a second).
#[derive(Debug, Clone, Copy)]
pub struct CpuSample {
    /// The `ikd-server` node processes (the face node's included).
    pub nodes: Duration,
    /// The `--role face` process (`LOAD_FACE_NODE=1`), zero without one.
    pub face: Duration,
    /// This bench process (the load generator and the SMTP receiver).
    pub bench: Duration,
    /// The PostgreSQL server: the postmaster, its live backends and those it reaped.
    pub postgres: Duration,
    /// Every core of the machine busy (PostgreSQL, other work on it, ...).
    pub machine: Duration,
    pub at: Instant,
}

impl CpuSample {
    /// "nodes 1.23 s (19.2 ms per resident), bench 0.20 s (14 % of all), PostgreSQL and
    /// the rest 0.31 s; machine busy 1.74 s of 2 cores × 1.10 s" between `earlier` and this.
    pub fn since(&self, earlier: &CpuSample, per: usize) -> String {
        let secs = |a: Duration, b: Duration| a.saturating_sub(b).as_secs_f64();
        let nodes = secs(self.nodes, earlier.nodes);
        let face = secs(self.face, earlier.face);
        let bench = secs(self.bench, earlier.bench);
        let machine = secs(self.machine, earlier.machine);
        let pg = secs(self.postgres, earlier.postgres);
        let rest = (machine - nodes - bench - pg).max(0.0);
        let wall = self.at.duration_since(earlier.at).as_secs_f64();
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        format!(
            "CPU: nodes {nodes:.2} s ({:.1} ms per resident{}), PostgreSQL {pg:.2} s ({:.1} ms per resident), bench {bench:.2} s ({:.0} % of the busy CPU), the rest of the machine {rest:.2} s; machine busy {machine:.2} s of {cores} cores x {wall:.2} s wall",
            nodes * 1000.0 / per.max(1) as f64,
            if face > 0.0 {
                format!("; of which the face node {face:.2} s")
            } else {
                String::new()
            },
            pg * 1000.0 / per.max(1) as f64,
            if machine > 0.0 { bench * 100.0 / machine } else { 0.0 },
        )
    }
}

const USER_HZ: f64 = 100.0;

/// User + system CPU time of process `pid` (fields 14 and 15 of /proc/PID/stat).
pub fn process_cpu(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // After the command name in parentheses: state is field 3, utime 14, stime 15.
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_secs_f64(ticks as f64 / USER_HZ))
}

/// CPU time of a PostgreSQL server: the postmaster `pid` (with the children it reaped:
/// fields 16 and 17) and its live children (backends, background workers).
pub fn postgres_cpu(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let reaped = f.get(13)?.parse::<u64>().ok()? + f.get(14)?.parse::<u64>().ok()?;
    let mut total = process_cpu(pid)? + Duration::from_secs_f64(reaped as f64 / USER_HZ);
    for e in std::fs::read_dir("/proc").ok()?.flatten() {
        let Some(child) = e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        let Ok(s) = std::fs::read_to_string(format!("/proc/{child}/stat")) else {
            continue;
        };
        // Field 4, the parent's id.
        let ppid = s
            .rsplit_once(')')
            .and_then(|(_, r)| r.split_whitespace().nth(1))
            .and_then(|p| p.parse::<u32>().ok());
        if ppid == Some(pid) {
            total += process_cpu(child).unwrap_or_default();
        }
    }
    Some(total)
}

/// Busy CPU time of every core together (the first line of /proc/stat, without idle
/// and iowait).
pub fn machine_busy() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().next()?;
    let v: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|x| x.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal
    let busy: u64 = v
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 3 && *i != 4 && *i < 8)
        .map(|(_, x)| x)
        .sum();
    Some(Duration::from_secs_f64(busy as f64 / USER_HZ))
}
