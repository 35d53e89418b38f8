//! Issue 13: how long the resident's journey takes at each network profile, and the
//! bytes of each step (request + answer, as seen by the proxy: headers included).
//! `cargo run -p ikd-tests --example net_profiles [blackhole-secs]` (default 20).
#![allow(clippy::unwrap_used)]

use ikd_server::demo::SITI;
use ikd_tests::faultnet::Profile;
use ikd_tests::{netjourney, Harness};
use std::time::Duration;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let silent: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20);
    let profiles = [
        ("clean", Profile::Clean),
        ("2G (300 ms, 50 kbit/s)", Profile::TWO_G),
        ("flaky (every 3rd answer reset)", Profile::FLAKY),
        (
            "blackhole after 4 answers",
            Profile::blackhole(4, Duration::from_secs(silent)),
        ),
        ("truncated (every 3rd answer)", Profile::TRUNCATED),
    ];
    for (name, profile) in profiles {
        let h = Harness::start().await;
        let run = netjourney::run(&h, profile, SITI.nik, "siti@example.com").await;
        println!(
            "\n{name}: {:.1} s, {} faults injected",
            run.total.as_secs_f64(),
            run.faults
        );
        let (mut up, mut down) = (0, 0);
        for (step, t, u, d) in &run.steps {
            println!(
                "  {step:<28} {:>6.2} s  up {u:>7} B  down {d:>6} B",
                t.as_secs_f64()
            );
            up += u;
            down += d;
        }
        println!("  {:<28}          up {up:>7} B  down {down:>6} B", "total");
    }
}
