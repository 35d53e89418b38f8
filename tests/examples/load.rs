//! Load bench: N concurrent residents (default 64) from enrollment to credential on
//! loopback against `ikd-server serve` processes (`LOAD_STORE=sqlite|postgres`,
//! `LOAD_NODES=1|2`: tests/src/loadtarget.rs; the steps hop across the nodes), with
//! SMTP to a loopback receiver (the code arrives through the server's mail queue).
//! Prints throughput and p50/p99 per step, and the CPU the nodes, this bench and the
//! rest of the machine used; any error stops it (exit non-zero).
//!
//! `LOAD_PHASED=1` measures the CPU of each step instead: every resident waits for
//! all the others before each step (so the steps do not overlap), and the nodes' CPU
//! between two barriers is that step's. Its latencies are not the journey's.
//! With `LOAD_PG_STATS=1` as well (PostgreSQL), it prints the statements PostgreSQL ran
//! in each step, per resident, with PostgreSQL's time executing and planning each, per
//! call (pg_stat_statements, `track_planning`).
//!
//! `LOAD_PG_POOL=K` sets the nodes' PostgreSQL pools (`database_pool_size`; default two
//! per core), `LOAD_PG_OPTS` adds PostgreSQL server options (`-c name=value …`), for
//! experiments; `scripts/load-ab` runs setups like these alternately.
//!
//! `LOAD_WARMUP=K` (scripts/load: 64): K other residents go through first, unmeasured,
//! and their face checks finish, so the measured residents meet warm nodes (pools
//! open, PostgreSQL's backends with their catalog and plan caches filled), as in
//! service. Without it the measured burst is the fresh nodes' first.
//!
//! The selfie goes as the app sends it (`ikd_core::wallet`'s submit): a resumable
//! upload first (tus: a creation carrying the first 16 KB, then PATCHes of up to 32
//! and 64 KB, the client's `ChunkSize`; the 70 KB sample takes a creation and 2
//! PATCHes), then the enrollment naming it: steps `upload` and `submit`.
//! `LOAD_SELFIE=inline` sends it inside the enrollment instead (base64 in the JSON,
//! as sessions 5 to 9 measured; no `upload` step).
//!
//!     cargo build --release -p ikd-server
//!     LOAD_STORE=postgres LOAD_NODES=2 cargo run --release -p ikd-tests --example load -- 64
#![allow(clippy::unwrap_used)]

use ikd_core::client::ClientError;
use ikd_core::secret::SecretString;
use ikd_core::wire::{KK_CONFIGURATION, KTP_CONFIGURATION};
use ikd_tests::loadtarget::Target;
use ikd_tests::{device_key, Officer, SEED};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

const DESKS: usize = 8;

const STEPS: [&str; 6] = ["upload", "submit", "scan", "approve", "token", "credential"];
/// LOAD_PHASED's phases: the steps, and the submits' face checks on their own.
const PHASES: [&str; 7] = [
    "upload",
    "submit",
    "face check",
    "scan",
    "approve",
    "token",
    "credential",
];

/// Until the store holds `n` face checks, all done (LOAD_PHASED).
async fn faces_done(h: &Target, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let rows = h.store.face_check_rows().unwrap();
        if rows.len() >= n && rows.iter().all(|r| r.status == "done") {
            return;
        }
        assert!(Instant::now() < deadline, "face checks not done");
        // Polling the store: the nodes' workers write it.
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(64);
    let warmup: usize = std::env::var("LOAD_WARMUP")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    // About 70 % of a synthetic population may enrol.
    let population = ((n + warmup) * 2).max(400);
    let (target, officers) = Target::start(population, SEED, DESKS).await;
    let h = Arc::new(target);
    // Residents queue at DESKS desks; each desk shows one QR at a time.
    let desks: Vec<_> = officers
        .into_iter()
        .map(|o| Arc::new((o, tokio::sync::Mutex::new(()))))
        .collect();
    let people = h.people.clone();
    assert!(
        people.len() >= n + warmup,
        "only {} eligible residents in the seed",
        people.len()
    );

    // Mails, by recipient, from the SMTP receiver.
    let mails: Arc<tokio::sync::Mutex<HashMap<String, String>>> = Arc::default();
    let notify = Arc::new(tokio::sync::Notify::new());
    {
        let (h, mails, notify) = (h.clone(), mails.clone(), notify.clone());
        tokio::spawn(async move {
            while let Some(m) = h.smtp.next(Duration::from_secs(120)).await {
                // Each resident enrolls once here, so every mail carries its code.
                let code = ikd_tests::code_in(&m);
                mails.lock().await.insert(m.to[0].clone(), code);
                notify.notify_waiters();
            }
        });
    }

    let phased = std::env::var("LOAD_PHASED").is_ok_and(|v| v == "1");
    let upload = std::env::var("LOAD_SELFIE").as_deref() != Ok("inline");
    let spawn =
        |people: Vec<String>, tag: &'static str, gate: Option<Arc<tokio::sync::Barrier>>| {
            // Made before the clock starts: the bench's own CPU stays small.
            let keys: Vec<_> = people.iter().map(|_| device_key()).collect();
            let mut tasks = Vec::new();
            for (i, (nik, key)) in people.into_iter().zip(keys).enumerate() {
                let (h, desk, mails, notify, gate) = (
                    h.clone(),
                    desks[i % DESKS].clone(),
                    mails.clone(),
                    notify.clone(),
                    gate.clone(),
                );
                tasks.push(tokio::spawn(async move {
                    let (officer, line) = &*desk;
                    resident(
                        &h,
                        officer,
                        line,
                        &nik,
                        &format!("{tag}{i}@example.com"),
                        key,
                        &mails,
                        &notify,
                        gate.as_deref(),
                        upload,
                    )
                    .await
                }));
            }
            tasks
        };
    // LOAD_WARMUP=K: K residents go through first, unmeasured, and their face checks
    // finish: the nodes' pools, PostgreSQL's backends and their caches are then warm,
    // as on a node that has served for a while. Without it, the first burst is measured.
    let mut people = people.into_iter();
    if warmup > 0 {
        let started = Instant::now();
        for t in spawn(people.by_ref().take(warmup).collect(), "pemanasan", None) {
            t.await.unwrap();
        }
        faces_done(&h, warmup).await;
        println!(
            "[{}] warm-up: {warmup} residents first, unmeasured, in {:.2} s",
            h.label,
            started.elapsed().as_secs_f64()
        );
    }
    let barrier = Arc::new(tokio::sync::Barrier::new(n + 1));
    let cpu0 = h.cpu();
    let started = Instant::now();
    let tasks = spawn(
        people.take(n).collect(),
        "warga",
        phased.then(|| barrier.clone()),
    );
    let mut phases = Vec::new();
    let mut statements = Vec::new();
    if phased {
        // Before each step and after the last: the CPU between two is one step's.
        // After the submits, a phase of their face checks (the nodes' workers). Two
        // barriers a phase: the samples are taken while every resident waits.
        for k in 0..=PHASES.len() {
            barrier.wait().await;
            phases.push(h.cpu());
            let h2 = h.clone();
            statements.push(
                tokio::task::spawn_blocking(move || h2.pg_statements())
                    .await
                    .unwrap(),
            );
            barrier.wait().await;
            if k == 2 {
                faces_done(&h, warmup + n).await;
            }
        }
    }
    let mut times: HashMap<&str, Vec<Duration>> = HashMap::new();
    let mut qr_retries = 0;
    for t in tasks {
        let (steps, retries) = t.await.unwrap();
        qr_retries += retries;
        for (k, d) in steps {
            times.entry(k).or_default().push(d);
        }
    }
    let wall = started.elapsed();
    let cpu1 = h.cpu();
    println!(
        "[{}] {n} residents, enrollment to credential: {:.2} s wall, {:.1} residents/s {DESKS} desks ({} QR re-scans after a race)",
        h.label,
        wall.as_secs_f64(),
        n as f64 / wall.as_secs_f64(),
        qr_retries
    );
    println!(
        "{:<12} {:>6} {:>10} {:>10} {:>10}",
        "step", "count", "p50 ms", "p99 ms", "max ms"
    );
    for s in STEPS {
        let mut v = times.remove(s).unwrap_or_default();
        if v.is_empty() {
            // LOAD_SELFIE=inline: no upload step.
            continue;
        }
        v.sort();
        let pct = |p: f64| {
            v.get(((v.len() as f64 * p).ceil() as usize).saturating_sub(1))
                .map(|d| d.as_secs_f64() * 1000.0)
                .unwrap_or(0.0)
        };
        println!(
            "{:<12} {:>6} {:>10.2} {:>10.2} {:>10.2}",
            s,
            v.len(),
            pct(0.50),
            pct(0.99),
            pct(1.0)
        );
    }
    println!("{}", cpu1.since(&cpu0, n));
    for (k, s) in PHASES.iter().enumerate() {
        if let (Some(a), Some(b)) = (phases.get(k), phases.get(k + 1)) {
            println!("  {s:<11} {}", b.since(a, n));
        }
    }
    // LOAD_PG_STATS=1: the statements of each phase, per resident.
    for (k, s) in PHASES.iter().enumerate() {
        let Some(Some(stmts)) = statements.get(k + 1) else {
            continue;
        };
        let total: u64 = stmts.iter().map(|st| st.calls).sum();
        let exec: u64 = stmts.iter().map(|st| st.exec_us).sum();
        let plan: u64 = stmts.iter().map(|st| st.plan_us).sum();
        println!(
            "statements in {s}: {:.1} per resident ({total} in all); PostgreSQL executing {:.2} ms and planning {:.2} ms per resident",
            total as f64 / n as f64,
            exec as f64 / 1000.0 / n as f64,
            plan as f64 / 1000.0 / n as f64
        );
        println!("  {:>6} {:>8} {:>8}", "calls", "exec µs", "plan µs");
        for st in stmts.iter().take(16) {
            let q: String = st.query.chars().take(96).collect();
            println!(
                "  {:>6.2} {:>8.1} {:>8.1} {q}",
                st.calls as f64 / n as f64,
                st.exec_us as f64 / st.calls.max(1) as f64,
                st.plan_us as f64 / st.calls.max(1) as f64
            );
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn resident(
    h: &Target,
    officer: &Officer,
    line: &tokio::sync::Mutex<()>,
    nik: &str,
    email: &str,
    key: ikd_core::jose::EcKeyPair,
    mails: &tokio::sync::Mutex<HashMap<String, String>>,
    notify: &tokio::sync::Notify,
    gate: Option<&tokio::sync::Barrier>,
    upload: bool,
) -> (Vec<(&'static str, Duration)>, usize) {
    // The steps hop across the nodes: upload on one, submit on the next, ...
    let c = |step: usize| h.client(step);
    // LOAD_PHASED: everyone starts each step together.
    let phase = || async {
        if let Some(g) = gate {
            g.wait().await;
            g.wait().await;
        }
    };
    let mut out = Vec::new();
    phase().await;
    let selfie = if upload {
        let t = Instant::now();
        let (id, _) = ikd_tests::upload_selfie(c(0)).await.unwrap();
        out.push(("upload", t.elapsed()));
        Some(id)
    } else {
        None
    };

    phase().await;
    let mut req = h.enroll_request(1, nik, email, &key).await;
    if selfie.is_some() {
        req.selfie_jpeg = None;
        req.selfie_upload = selfie;
    }
    let t = Instant::now();
    let sub = c(1).submit(&req).await.unwrap();
    out.push(("submit", t.elapsed()));
    // LOAD_PHASED: the face checks' phase.
    phase().await;
    let token = SecretString::new(sub.enrollment_token);

    phase().await;
    let mut retries = 0;
    let turn = line.lock().await;
    let confirm = loop {
        let qr = officer.desk_qr().await;
        let t = Instant::now();
        match c(2).scan(&sub.enrollment_id, &token, &qr.text).await {
            Ok(st) => {
                out.push(("scan", t.elapsed()));
                break ikd_tests::confirm_of(&st);
            }
            Err(ClientError::QrUsed) => retries += 1,
            Err(e) => panic!("scan: {e:?}"),
        }
    };
    drop(turn);

    phase().await;
    let t = Instant::now();
    assert!(officer
        .approve(&sub.enrollment_id, &confirm)
        .await
        .is_success());
    out.push(("approve", t.elapsed()));

    phase().await;

    let code = loop {
        let waiting = notify.notified();
        if let Some(code) = mails.lock().await.get(email).cloned() {
            break code;
        }
        tokio::time::timeout(Duration::from_secs(60), waiting)
            .await
            .expect("the activation mail arrives");
    };
    let status = c(3).status(&sub.enrollment_id, &token).await.unwrap();
    let pac = status
        .credential_offer
        .unwrap()
        .grants
        .pre_authorized_code
        .unwrap()
        .pre_authorized_code;

    let t = Instant::now();
    let tokens = c(4).token(&pac, &SecretString::new(code)).await.unwrap();
    out.push(("token", t.elapsed()));

    phase().await;

    for cfg in [KTP_CONFIGURATION, KK_CONFIGURATION] {
        let t = Instant::now();
        let proof = h.proof(5, &key).await;
        c(5).credential(&tokens.access_token, cfg, &proof)
            .await
            .unwrap();
        out.push(("credential", t.elapsed()));
    }
    phase().await;
    (out, retries)
}
