//! A real Secret Service for tests: a private D-Bus session bus (`dbus-daemon
//! --session`) and `gnome-keyring-daemon --unlock --components=secrets` on it, with a
//! test password on stdin and its key rings in a temp dir. Both stop when the value
//! is dropped. Needs the Debian packages dbus-daemon and gnome-keyring (and
//! libsecret-tools for `secret-tool`), which `scripts/setup test` installs.
//!
//! Readiness is observed, not waited for: the bus address is read from the daemon's
//! stdout, and the bus is polled (bounded) until the default collection exists.

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long the key ring daemon may take to answer.
const READY_WITHIN: Duration = Duration::from_secs(20);
/// The private bus: a session bus listening in the test's temp dir, no activation.
const BUS_CONFIG: &str = r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir=@DIR@</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#;

/// The key ring's test password.
pub const TEST_PASSWORD: &str = "ikd-test-keyring";

pub struct SecretService {
    address: String,
    /// Closing it stops the bus.
    watch: Option<std::process::ChildStdin>,
    dbus: Child,
    keyring: Child,
    dir: tempfile::TempDir,
}

impl std::fmt::Debug for SecretService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretService")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

fn io_err(msg: String) -> std::io::Error {
    std::io::Error::other(msg)
}

impl SecretService {
    /// Starts the bus and the key ring daemon and returns once the Secret Service
    /// answers with an unlocked default collection.
    pub fn start() -> std::io::Result<Self> {
        let dir = tempfile::tempdir()?;
        for d in ["run", "data", "config"] {
            std::fs::create_dir_all(dir.path().join(d))?;
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(
                dir.path().join("run"),
                std::fs::Permissions::from_mode(0o700),
            )?;
        }
        // A session bus without service activation: nothing but the daemon started
        // below may own org.freedesktop.secrets (the system's activatable
        // gnome-keyring would otherwise answer the readiness poll, locked).
        let config = dir.path().join("bus.conf");
        std::fs::write(
            &config,
            BUS_CONFIG.replace("@DIR@", &dir.path().to_string_lossy()),
        )?;
        // Through a small shell that stops the bus when its stdin closes: the bus (and
        // with it the key ring daemon) goes away when this process ends, even if a
        // static instance is never dropped.
        let mut dbus = Command::new("sh")
            .args([
                "-c",
                "dbus-daemon \"$@\" </dev/null & d=$!; read _; kill $d; wait $d",
                "sh",
            ])
            .arg(format!("--config-file={}", config.display()))
            .args(["--nofork", "--nopidfile", "--print-address=1"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| io_err(format!("dbus-daemon: {e} (apt-get install dbus-daemon)")))?;
        let mut line = String::new();
        let out = dbus
            .stdout
            .take()
            .ok_or_else(|| io_err("dbus-daemon: no stdout".into()))?;
        BufReader::new(out).read_line(&mut line)?;
        let watch = dbus.stdin.take();
        let address = line.trim().to_owned();
        if address.is_empty() {
            drop(watch);
            let _ = dbus.wait();
            return Err(io_err("dbus-daemon printed no address".into()));
        }
        let keyring = Command::new("gnome-keyring-daemon")
            .args(["--unlock", "--components=secrets", "--foreground"])
            .envs(Self::env_for(&address, dir.path()))
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let mut keyring = match keyring {
            Ok(k) => k,
            Err(e) => {
                drop(watch);
                let _ = dbus.wait();
                return Err(io_err(format!(
                    "gnome-keyring-daemon: {e} (apt-get install gnome-keyring)"
                )));
            }
        };
        if let Some(mut stdin) = keyring.stdin.take() {
            stdin.write_all(TEST_PASSWORD.as_bytes())?;
            // Dropping stdin closes it: the daemon reads the password to EOF.
        }
        let ss = Self {
            address,
            watch,
            dbus,
            keyring,
            dir,
        };
        ss.wait_ready()?;
        Ok(ss)
    }

    /// The environment a process needs to use this Secret Service (and nothing of the
    /// user's own session).
    fn env_for(address: &str, dir: &Path) -> Vec<(&'static str, String)> {
        let p = |s: &str| dir.join(s).to_string_lossy().into_owned();
        vec![
            ("DBUS_SESSION_BUS_ADDRESS", address.to_owned()),
            ("XDG_RUNTIME_DIR", p("run")),
            ("XDG_DATA_HOME", p("data")),
            ("XDG_CONFIG_HOME", p("config")),
            ("HOME", dir.to_string_lossy().into_owned()),
        ]
    }

    /// `DBUS_SESSION_BUS_ADDRESS` for child processes (the app, tauri-driver).
    pub fn address(&self) -> &str {
        &self.address
    }

    /// Where gnome-keyring keeps its key ring files.
    pub fn keyring_dir(&self) -> std::path::PathBuf {
        self.dir.path().join("data/keyrings")
    }

    /// A command with this Secret Service's environment (e.g. `secret-tool`).
    pub fn command(&self, program: &str) -> Command {
        let mut c = Command::new(program);
        c.envs(Self::env_for(&self.address, self.dir.path()));
        c
    }

    fn secrets_name_owned(&self) -> bool {
        let out = self
            .command("dbus-send")
            .args([
                "--session",
                "--print-reply",
                "--dest=org.freedesktop.DBus",
                "/org/freedesktop/DBus",
                "org.freedesktop.DBus.NameHasOwner",
                "string:org.freedesktop.secrets",
            ])
            .stderr(Stdio::null())
            .output();
        out.is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("boolean true"))
    }

    fn default_collection(&self) -> Option<String> {
        if !self.secrets_name_owned() {
            return None;
        }
        let out = self
            .command("dbus-send")
            .args([
                "--session",
                "--print-reply",
                "--dest=org.freedesktop.secrets",
                "/org/freedesktop/secrets",
                "org.freedesktop.Secret.Service.ReadAlias",
                "string:default",
            ])
            .stderr(Stdio::null())
            .output()
            .ok()?;
        let text = String::from_utf8_lossy(&out.stdout);
        let path = text.split('"').nth(1)?;
        (out.status.success() && path != "/").then(|| path.to_owned())
    }

    /// Polls the bus (bounded) until the daemon owns the Secret Service name and its
    /// default collection exists.
    fn wait_ready(&self) -> std::io::Result<()> {
        let deadline = Instant::now() + READY_WITHIN;
        loop {
            if self.default_collection().is_some() {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(io_err(format!(
                    "the Secret Service did not answer within {READY_WITHIN:?}"
                )));
            }
            // A poll interval, not a synchronisation: the loop ends on what the bus says.
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// How many items the Secret Service holds with these attributes (via
    /// `secret-tool search --all`).
    pub fn items_with(&self, attributes: &[(&str, &str)]) -> usize {
        let mut c = self.command("secret-tool");
        c.args(["search", "--all"]);
        for (k, v) in attributes {
            c.args([k, v]);
        }
        let out = c.output();
        match out {
            Ok(o) => String::from_utf8_lossy(&o.stdout)
                .lines()
                .chain(String::from_utf8_lossy(&o.stderr).lines())
                .filter(|l| l.starts_with('['))
                .count(),
            Err(_) => 0,
        }
    }
}

impl Drop for SecretService {
    fn drop(&mut self) {
        let _ = self.keyring.kill();
        let _ = self.keyring.wait();
        drop(self.watch.take());
        let _ = self.dbus.wait();
    }
}

static SHARED: std::sync::OnceLock<SecretService> = std::sync::OnceLock::new();

impl SecretService {
    /// One Secret Service for this whole test process, with this process's
    /// `DBUS_SESSION_BUS_ADDRESS` pointed at it. libdbus reads that address once per
    /// process, so in-process key-store tests share one bus; each uses its own data
    /// folder (its own items). A child process can get its own with [`Self::start`].
    pub fn shared() -> &'static SecretService {
        SHARED.get_or_init(|| {
            let ss = match Self::start() {
                Ok(ss) => ss,
                Err(e) => panic!("no Secret Service for the tests: {e}"),
            };
            std::env::set_var("DBUS_SESSION_BUS_ADDRESS", ss.address());
            ss
        })
    }
}
