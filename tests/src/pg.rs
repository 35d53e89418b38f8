//! A real PostgreSQL server for the tests, from Debian's `postgresql` package: `initdb`
//! in a temp dir, `pg_ctl start` on a free loopback port (and a Unix socket in that dir),
//! trust authentication for the role `ikd`. As root (CI) it runs as the unprivileged
//! system user `ikdpg` (created with `useradd` if missing; PostgreSQL refuses root).
//!
//! [`PgServer::start`] gives one owned by the test (stopped on drop); [`shared`] one per
//! test process, stopped when the process ends: a watchdog shell waits on a pipe from
//! this process and stops the server once the pipe closes.
//!
//! The server suites run on it when `IKD_TEST_STORE=postgres` ([`selected`]); each
//! [`crate::Harness`] then gets its own fresh database on the shared server.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

const USER: &str = "ikdpg";
const ROLE: &str = "ikd";

/// Whether this test run puts the server on PostgreSQL (`IKD_TEST_STORE=postgres`).
pub fn selected() -> bool {
    std::env::var("IKD_TEST_STORE").is_ok_and(|v| v.eq_ignore_ascii_case("postgres"))
}

/// The process-wide server (started on first use).
pub fn shared() -> &'static PgServer {
    static SHARED: OnceLock<PgServer> = OnceLock::new();
    SHARED.get_or_init(PgServer::start)
}

pub struct PgServer {
    pub port: u16,
    dir: PathBuf,
    bin: PathBuf,
    as_root: bool,
    next_db: AtomicUsize,
    /// The server options it was started with (for [`Self::resume`]).
    opts: String,
    /// Closing it (this process ending) makes the watchdog stop the server.
    watchdog: Mutex<Option<(Child, ChildStdin)>>,
}

/// The newest `/usr/lib/postgresql/N/bin` (Debian keeps initdb and pg_ctl off PATH).
fn bin_dir() -> PathBuf {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("Debian's postgresql package (scripts/setup test installs it)")
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let v: u32 = e.file_name().to_str()?.parse().ok()?;
            Some((v, e.path().join("bin")))
        })
        .filter(|(_, p)| p.join("initdb").exists())
        .collect();
    versions.sort();
    versions
        .pop()
        .expect("a PostgreSQL server in /usr/lib/postgresql")
        .1
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn ensure_user() {
    let exists = |u: &str| {
        Command::new("id")
            .arg(u)
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if !exists(USER) {
        // Another test process may create it at the same moment: check again after.
        let _ = Command::new("useradd")
            .args([
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                USER,
            ])
            .status();
        assert!(exists(USER), "cannot create the system user {USER}");
    }
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("a free loopback port");
    l.local_addr().expect("bound address").port()
}

impl PgServer {
    /// initdb + pg_ctl start; panics with PostgreSQL's log when it cannot.
    pub fn start() -> Self {
        Self::start_with("")
    }

    /// [`PgServer::start`] with more server options (`-c name=value …`), e.g. the load
    /// bench's `shared_preload_libraries=pg_stat_statements`.
    pub fn start_with(extra_options: &str) -> Self {
        let bin = bin_dir();
        let as_root = is_root();
        if as_root {
            ensure_user();
        }
        let dir = tempfile::Builder::new()
            .prefix("ikd-pg-")
            .tempdir()
            .expect("temp dir")
            .keep();
        if as_root {
            let ok = Command::new("chown")
                .args(["-R", USER])
                .arg(&dir)
                .status()
                .is_ok_and(|s| s.success());
            assert!(ok, "chown the PostgreSQL dir to {USER}");
        }
        let data = dir.join("data");
        let mut s = Self {
            port: 0,
            dir,
            bin,
            as_root,
            next_db: AtomicUsize::new(0),
            opts: String::new(),
            watchdog: Mutex::new(None),
        };
        s.run_checked(
            "initdb",
            &[
                "-D".as_ref(),
                data.as_os_str(),
                "-U".as_ref(),
                ROLE.as_ref(),
                "-A".as_ref(),
                "trust".as_ref(),
                "-E".as_ref(),
                "UTF8".as_ref(),
                "--no-sync".as_ref(),
            ],
        );
        // A port can be taken between our probe and the bind: try a few.
        let log = s.dir.join("postgres.log");
        for attempt in 0..5 {
            let port = free_port();
            let opts = format!(
                "-c listen_addresses=127.0.0.1 -p {port} -k {} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=400 {extra_options}",
                s.dir.display()
            );
            let ok = s
                .command("pg_ctl")
                .arg("-D")
                .arg(&data)
                .arg("-l")
                .arg(&log)
                .args(["-w", "-t", "60", "-o", &opts, "start"])
                .stdout(Stdio::null())
                .status()
                .is_ok_and(|st| st.success());
            if ok {
                s.port = port;
                s.opts = opts;
                break;
            }
            assert!(
                attempt < 4,
                "pg_ctl start failed: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        s.spawn_watchdog(&data);
        s
    }

    fn command(&self, tool: &str) -> Command {
        let exe = self.bin.join(tool);
        if self.as_root {
            let mut c = Command::new("runuser");
            c.args(["-u", USER, "--"]).arg(exe);
            c.current_dir(&self.dir);
            c
        } else {
            let mut c = Command::new(exe);
            c.current_dir(&self.dir);
            c
        }
    }

    fn run_checked(&self, tool: &str, args: &[&std::ffi::OsStr]) {
        let out = self.command(tool).args(args).output().expect(tool);
        assert!(
            out.status.success(),
            "{tool} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn spawn_watchdog(&self, data: &Path) {
        let pg_ctl = self.bin.join("pg_ctl");
        let stop = if self.as_root {
            format!(
                "runuser -u {USER} -- {} -D {} stop -m immediate",
                pg_ctl.display(),
                data.display()
            )
        } else {
            format!(
                "{} -D {} stop -m immediate",
                pg_ctl.display(),
                data.display()
            )
        };
        let script = format!(
            "cat >/dev/null; {stop} >/dev/null 2>&1; rm -rf {}",
            self.dir.display()
        );
        let mut child = Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("watchdog shell");
        let stdin = child.stdin.take().expect("watchdog stdin");
        *self.watchdog.lock().unwrap_or_else(|p| p.into_inner()) = Some((child, stdin));
    }

    /// Stops the server (fast shutdown: its backends end and every open connection is
    /// closed) and keeps its files, so that [`Self::resume`] starts it again on the same
    /// port: an outage, or a failover's restart, as a node sees it.
    pub fn halt(&self) {
        let data = self.dir.join("data");
        self.run_checked(
            "pg_ctl",
            &[
                "-D".as_ref(),
                data.as_os_str(),
                "-m".as_ref(),
                "fast".as_ref(),
                "-w".as_ref(),
                "stop".as_ref(),
            ],
        );
    }

    /// Starts a [`Self::halt`]ed server again, with its port and options; returns once
    /// it accepts connections.
    pub fn resume(&self) {
        let data = self.dir.join("data");
        let log = self.dir.join("postgres.log");
        let ok = self
            .command("pg_ctl")
            .arg("-D")
            .arg(&data)
            .arg("-l")
            .arg(&log)
            .args(["-w", "-t", "60", "-o", &self.opts, "start"])
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|st| st.success());
        assert!(
            ok,
            "pg_ctl start failed: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    }

    /// The postmaster's process id (the first line of `postmaster.pid`).
    pub fn postmaster_pid(&self) -> Option<u32> {
        std::fs::read_to_string(self.dir.join("data").join("postmaster.pid"))
            .ok()?
            .lines()
            .next()?
            .trim()
            .parse()
            .ok()
    }

    /// The URL of database `db` as the role `ikd`.
    pub fn url(&self, db: &str) -> String {
        format!("postgres://{ROLE}@127.0.0.1:{}/{db}", self.port)
    }

    /// Runs SQL on database `db` with psql; returns its unaligned output.
    pub fn psql(&self, db: &str, sql: &str) -> String {
        let out = Command::new(self.bin.join("psql"))
            .args([
                "-X",
                "-q",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                "127.0.0.1",
            ])
            .args([
                "-p",
                &self.port.to_string(),
                "-U",
                ROLE,
                "-d",
                db,
                "-c",
                sql,
            ])
            .output()
            .expect("psql");
        assert!(
            out.status.success(),
            "psql: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// A new empty database; returns its URL.
    pub fn fresh_database(&self) -> String {
        let n = self.next_db.fetch_add(1, Ordering::Relaxed);
        let name = format!("ikd_{}_{n}", std::process::id());
        self.psql("postgres", &format!("CREATE DATABASE {name}"));
        self.url(&name)
    }

    /// Stops the server now (fast shutdown) and removes its files.
    pub fn stop(&self) {
        let taken = self
            .watchdog
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some((mut child, mut stdin)) = taken {
            let _ = stdin.flush();
            drop(stdin);
            let _ = child.wait();
        }
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        self.stop();
    }
}
