//! Bounded mixed load on loopback: C concurrent clients (default 64) for S seconds
//! (default 60) against `ikd-server serve` processes on 127.0.0.1 (`LOAD_STORE`,
//! `LOAD_NODES`: tests/src/loadtarget.rs; client k talks to node k % nodes), each with its own HTTP
//! connection pool, doing a realistic mix: enrollment status polls, issuer metadata,
//! nonces, and whole journeys (submit → desk QR scan → officer approval → mailed code →
//! token → KTP and KK credentials). Stops by itself at the deadline (and at a per-client
//! request cap). Prints requests, throughput, p50/p99/max per endpoint, and errors;
//! exits non-zero on any error.
//!
//! A journey sends its selfie as the app does: a resumable upload (tus: a creation
//! carrying the first 16 KB, then PATCHes of up to 32 and 64 KB; timed together as
//! `upload`, counted as the requests it took),
//! then the enrollment naming it. `LOAD_SELFIE=inline`: inside the enrollment instead.
//!
//!     cargo run -p ikd-tests --example load_mix [--release] [-- CLIENTS SECONDS]
#![allow(clippy::unwrap_used)]

use ikd_core::client::{BackendClient, ClientError};
use ikd_core::secret::SecretString;
use ikd_core::wire::{KK_CONFIGURATION, KTP_CONFIGURATION};
use ikd_tests::loadtarget::Target;
use ikd_tests::{device_key, signed_enroll_request, Officer, SEED};
use rand::{Rng, SeedableRng};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

const POPULATION: usize = 600;
const DESKS: usize = 8;
/// Hard cap per client, whatever the deadline.
const MAX_REQUESTS_PER_CLIENT: usize = 20_000;

type Times = HashMap<&'static str, Vec<Duration>>;

struct Shared {
    h: Target,
    desks: Vec<(Officer, Mutex<()>)>,
    mails: Mutex<HashMap<String, String>>,
    notify: tokio::sync::Notify,
    errors: AtomicUsize,
    /// Mails without a code (new-device notices of residents enrolled again).
    notices: AtomicUsize,
    first_errors: Mutex<Vec<String>>,
    /// The selfie as a resumable upload (the app's way), not inline.
    upload: bool,
    /// The uploads' PATCHes (each upload is timed once, as its creation).
    patches: AtomicUsize,
}

impl Shared {
    async fn error(&self, what: &str, e: impl std::fmt::Debug) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        let mut f = self.first_errors.lock().await;
        if f.len() < 10 {
            f.push(format!("{what}: {e:?}"));
        }
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let mut args = std::env::args().skip(1);
    let clients: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(64);
    let seconds: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(60);

    let (h, officers) = Target::start(POPULATION, SEED, DESKS).await;
    let desks: Vec<_> = officers.into_iter().map(|o| (o, Mutex::new(()))).collect();
    let people = h.people.clone();
    assert!(people.len() >= clients, "{} eligible", people.len());
    let shared = Arc::new(Shared {
        h,
        desks,
        mails: Mutex::default(),
        notify: tokio::sync::Notify::new(),
        errors: AtomicUsize::new(0),
        notices: AtomicUsize::new(0),
        first_errors: Mutex::default(),
        upload: std::env::var("LOAD_SELFIE").as_deref() != Ok("inline"),
        patches: AtomicUsize::new(0),
    });
    {
        let s = shared.clone();
        tokio::spawn(async move {
            while let Some(m) = s.h.smtp.next(Duration::from_secs(3600)).await {
                // A resident enrolled again (the residents of a client come round again
                // after a minute or so) gets a new-device notice, without a code, at
                // the earlier enrollment's address: counted, not a code.
                match ikd_server::mail::extract_code(&m.body()) {
                    Some(code) => {
                        s.mails.lock().await.insert(m.to[0].clone(), code);
                        s.notify.notify_waiters();
                    }
                    None => {
                        s.notices.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        });
    }

    let cpu0 = shared.h.cpu();
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for k in 0..clients {
        // Client k owns residents k, k + C, k + 2C, … (no two clients share a NIK).
        let mine: Vec<String> = people.iter().skip(k).step_by(clients).cloned().collect();
        let s = shared.clone();
        tasks.push(tokio::spawn(
            async move { client(s, k, mine, deadline).await },
        ));
    }
    let mut times: Times = HashMap::new();
    let mut journeys = 0;
    for t in tasks {
        let (ts, j) = t.await.unwrap();
        journeys += j;
        for (k, v) in ts {
            times.entry(k).or_default().extend(v);
        }
    }
    let wall = started.elapsed();
    // An upload is timed once (as its creation); its PATCHes are counted apart.
    let total: usize =
        times.values().map(Vec::len).sum::<usize>() + shared.patches.load(Ordering::Relaxed);
    let errors = shared.errors.load(Ordering::Relaxed);
    println!(
        "[{}] {clients} clients, {:.1} s: {total} requests ({:.0} req/s), {journeys} whole journeys ({} new-device notices), errors: {errors}",
        shared.h.label,
        wall.as_secs_f64(),
        total as f64 / wall.as_secs_f64(),
        shared.notices.load(Ordering::Relaxed)
    );
    println!(
        "{:<14} {:>7} {:>9} {:>9} {:>9}",
        "endpoint", "count", "p50 ms", "p99 ms", "max ms"
    );
    let mut names: Vec<_> = times.keys().copied().collect();
    names.sort();
    for n in names {
        let mut v = times.remove(n).unwrap_or_default();
        v.sort();
        let pct = |p: f64| {
            v.get(((v.len() as f64 * p).ceil() as usize).saturating_sub(1))
                .map(|d| d.as_secs_f64() * 1000.0)
                .unwrap_or(0.0)
        };
        println!(
            "{:<14} {:>7} {:>9.2} {:>9.2} {:>9.2}",
            n,
            v.len(),
            pct(0.50),
            pct(0.99),
            pct(1.0)
        );
    }
    // Per whole journey (the polls, metadata and nonces between them included).
    println!("{}", shared.h.cpu().since(&cpu0, journeys));
    for e in shared.first_errors.lock().await.iter() {
        println!("error: {e}");
    }
    if errors > 0 || total == 0 {
        shared.h.stop();
        std::process::exit(1);
    }
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// One client until the deadline: returns its timings and how many journeys it finished.
async fn client(
    s: Arc<Shared>,
    k: usize,
    residents: Vec<String>,
    deadline: Instant,
) -> (Times, usize) {
    let c = BackendClient::new(&s.h.bases[k % s.h.nodes()]).unwrap();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(SEED ^ k as u64);
    let mut times: Times = HashMap::new();
    let mut requests = 0;
    let mut journeys = 0;
    // The enrollment this client polls (its latest one).
    let mut polled: Option<(String, SecretString)> = None;
    let mut next_resident = 0;
    macro_rules! timed {
        ($name:literal, $e:expr) => {{
            let t = Instant::now();
            let r = $e;
            times.entry($name).or_default().push(t.elapsed());
            requests += 1;
            r
        }};
    }
    while Instant::now() < deadline && requests < MAX_REQUESTS_PER_CLIENT {
        let roll: u32 = rng.gen_range(0..100);
        if let (true, Some((id, token))) = (roll < 40, polled.as_ref()) {
            if let Err(e) = timed!("status", c.status(id, token).await) {
                s.error("status", e).await;
            }
        } else if roll < 60 {
            // A fresh client each time would re-pin; the metadata GET itself is what counts.
            if let Err(e) = timed!("metadata", c.issuer_metadata().await) {
                s.error("metadata", e).await;
            }
        } else if roll < 80 {
            if let Err(e) = timed!("nonce", c.nonce().await) {
                s.error("nonce", e).await;
            }
        } else {
            let nik = &residents[next_resident % residents.len()];
            next_resident += 1;
            let email = format!("warga{k}-{journeys}@example.com");
            let key = device_key();
            let selfie = if s.upload {
                match timed!("upload", ikd_tests::upload_selfie(&c).await) {
                    Ok((id, patches)) => {
                        requests += patches;
                        s.patches.fetch_add(patches, Ordering::Relaxed);
                        Some(id)
                    }
                    Err(e) => {
                        s.error("upload", e).await;
                        continue;
                    }
                }
            } else {
                None
            };
            let mut req = signed_enroll_request(&c, &s.h.issuer, now(), nik, &email, &key).await;
            if selfie.is_some() {
                req.selfie_jpeg = None;
                req.selfie_upload = selfie;
            }
            let sub = match timed!("submit", c.submit(&req).await) {
                Ok(sub) => sub,
                Err(e) => {
                    s.error("submit", e).await;
                    continue;
                }
            };
            let token = SecretString::new(sub.enrollment_token.clone());
            polled = Some((sub.enrollment_id.clone(), token.clone()));
            let (officer, line) = &s.desks[k % DESKS];
            let mut confirm = String::new();
            {
                let _turn = line.lock().await;
                loop {
                    let qr = officer.desk_qr().await;
                    match timed!("scan", c.scan(&sub.enrollment_id, &token, &qr.text).await) {
                        Ok(st) => {
                            confirm = st.desk_confirm_code.unwrap_or_default();
                            break;
                        }
                        Err(ClientError::QrUsed) => continue,
                        Err(e) => {
                            s.error("scan", e).await;
                            break;
                        }
                    }
                }
            }
            let st = timed!(
                "approve",
                officer.approve(&sub.enrollment_id, &confirm).await
            );
            if !st.is_success() {
                s.error("approve", st).await;
                continue;
            }
            let code = loop {
                let waiting = s.notify.notified();
                if let Some(code) = s.mails.lock().await.remove(&email) {
                    break Some(code);
                }
                if tokio::time::timeout(Duration::from_secs(60), waiting)
                    .await
                    .is_err()
                {
                    break None;
                }
            };
            let Some(code) = code else {
                s.error("mail", "no activation mail in 60 s").await;
                continue;
            };
            let status = match timed!("status", c.status(&sub.enrollment_id, &token).await) {
                Ok(st) => st,
                Err(e) => {
                    s.error("status", e).await;
                    continue;
                }
            };
            let pac = status
                .credential_offer
                .and_then(|o| o.grants.pre_authorized_code)
                .map(|g| g.pre_authorized_code)
                .unwrap_or_default();
            let tokens = match timed!("token", c.token(&pac, &SecretString::new(code)).await) {
                Ok(t) => t,
                Err(e) => {
                    s.error("token", e).await;
                    continue;
                }
            };
            for cfg in [KTP_CONFIGURATION, KK_CONFIGURATION] {
                let nonce = match timed!("nonce", c.nonce().await) {
                    Ok(n) => n,
                    Err(e) => {
                        s.error("nonce", e).await;
                        continue;
                    }
                };
                let proof = ikd_tests::proof_jwt(&key, &s.h.issuer, &nonce, now());
                if let Err(e) = timed!(
                    "credential",
                    c.credential(&tokens.access_token, cfg, &proof).await
                ) {
                    s.error("credential", e).await;
                }
            }
            journeys += 1;
        }
    }
    (times, journeys)
}
