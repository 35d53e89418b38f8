//! Start-up timestamps for `scripts/startup` only: with `IKD_STARTUP_TRACE=FILE`, the
//! shell appends one line `LABEL NANOSECONDS_SINCE_THE_EPOCH` per step to FILE (the wall
//! clock, as the script's spawn stamp and the page's `performance.timeOrigin`). Without
//! the variable nothing is written and nothing is read from `/proc`.
//!
//! The labels: `main` (Rust `run()` entered: the loader, libc and Rust runtime done),
//! `built` (the Tauri app built: config, embedded assets, GTK and the event loop),
//! `windows` (our `setup` entered: Tauri has created the config window and its webview),
//! `wallet` (the wallet opened), `setup` (our `setup` returned), `page-started` and
//! `page-finished` (the webview's load events for the first page, in this process), and
//! at `page-started`, `proc:NAME` for each child process (WebKit's network and web
//! processes) with its start time from `/proc` (kernel ticks, 10 ms resolution).

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

static FILE: OnceLock<Option<PathBuf>> = OnceLock::new();

fn file() -> Option<&'static PathBuf> {
    FILE.get_or_init(|| crate::env_nonempty("IKD_STARTUP_TRACE").map(PathBuf::from))
        .as_ref()
}

fn now_ns() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

fn write(label: &str, ns: u128) {
    let Some(path) = file() else { return };
    let line = format!("{label} {ns}\n");
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut f| f.write_all(line.as_bytes()));
    if let Err(e) = written {
        tracing::warn!("start-up trace not written: {e}");
    }
}

/// Appends `label` with the current wall clock (when tracing is on).
pub fn mark(label: &str) {
    if file().is_some() {
        write(label, now_ns());
    }
}

/// Appends `proc:NAME` with the start time of each of our child processes (Linux).
pub fn mark_children() {
    if file().is_none() {
        return;
    }
    #[cfg(target_os = "linux")]
    for (name, ns) in linux::children_started() {
        write(&format!("proc:{name}"), ns);
    }
}

#[cfg(target_os = "linux")]
mod linux {
    /// Kernel clock ticks per second (`getconf CLK_TCK`; 100 on Linux's x86_64 and
    /// aarch64 ABIs).
    const TICKS_PER_SEC: u128 = 100;

    /// (name, start time in ns since the epoch) of each process whose parent is us.
    pub fn children_started() -> Vec<(String, u128)> {
        let me = std::process::id().to_string();
        let Some(boot_ns) = boot_time_ns() else {
            return Vec::new();
        };
        let Ok(dir) = std::fs::read_dir("/proc") else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for entry in dir.flatten() {
            let name = entry.file_name();
            let Some(pid) = name
                .to_str()
                .filter(|s| s.bytes().all(|b| b.is_ascii_digit()))
            else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                continue;
            };
            if let Some((comm, ppid, start)) = parse_stat(&stat) {
                if ppid == me {
                    out.push((comm, boot_ns + start * 1_000_000_000 / TICKS_PER_SEC));
                }
            }
        }
        out.sort_by_key(|(_, ns)| *ns);
        out
    }

    /// The wall clock at boot: now minus `/proc/uptime` (10 ms resolution).
    fn boot_time_ns() -> Option<u128> {
        let uptime = std::fs::read_to_string("/proc/uptime").ok()?;
        let secs = uptime.split_whitespace().next()?;
        let (whole, frac) = secs.split_once('.').unwrap_or((secs, "0"));
        let frac_ns: u128 = format!("{frac:0<9}").get(..9)?.parse().ok()?;
        let up_ns = whole.parse::<u128>().ok()? * 1_000_000_000 + frac_ns;
        super::now_ns().checked_sub(up_ns)
    }

    /// (comm, ppid, starttime in ticks) from `/proc/PID/stat`.
    fn parse_stat(stat: &str) -> Option<(String, String, u128)> {
        let open = stat.find('(')?;
        let close = stat.rfind(')')?;
        let comm = stat.get(open + 1..close)?.to_owned();
        // After ")": state(3) ppid(4) … starttime(22).
        let rest: Vec<&str> = stat.get(close + 1..)?.split_whitespace().collect();
        let ppid = rest.get(1)?.to_string();
        let start = rest.get(19)?.parse().ok()?;
        Some((comm, ppid, start))
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn parses_a_stat_line_with_spaces_in_the_name() {
            let line =
                "4242 (WebKit Web) S 17 4242 17 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 987654 1 2";
            let (comm, ppid, start) = super::parse_stat(line).expect("parsed");
            assert_eq!(comm, "WebKit Web");
            assert_eq!(ppid, "17");
            assert_eq!(start, 987654);
        }
    }
}
