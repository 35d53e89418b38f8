//! The store's work queues across nodes, on the store the harness selects (SQLite, or
//! PostgreSQL with `IKD_TEST_STORE=postgres`), over real HTTP:
//! - the face check runs off the request path (server/src/facework.rs): a submit
//!   answers with the check pending, a node's worker stores the verdict, approval is
//!   allowed meanwhile;
//! - two nodes check each enrollment once (claims exclude each other);
//! - a node that dies holding a claim (played by this test: it claims rows through
//!   the store and never finishes them) leaves them to another node once the lease
//!   ends, for face checks and for mails: done once, by the other node.
//!
//! Nodes started with `workers = false` leave the queues to the others. Waiting is on
//! conditions (the store's rows, the officer API, the SMTP receiver) with bounded
//! deadlines, never on fixed sleeps.
#![allow(clippy::unwrap_used)]

use base64::Engine as _;
use ikd_server::config::Limits;
use ikd_server::store::lease::Lease;
use ikd_server::store::outbox::ClaimRules;
use ikd_server::store::{PgStore, SqliteStore, Store};
use ikd_tests::{code_in, device_key, faceless_jpeg, Harness, Officer, MAIL_TIMEOUT, RESIDENTS};
use std::sync::Arc;
use std::time::{Duration, Instant};

const SITI: &str = "1671014509900001";
const BUDI: &str = "1671011203880001";

/// A handle on the harness's store, as another node would open it.
fn store_of(h: &Harness) -> Arc<dyn Store> {
    match &h.database_url {
        Some(url) => Arc::new(PgStore::connect(url).unwrap()),
        None => Arc::new(SqliteStore::open(&h.dir.path().join("ikd-server.sqlite3")).unwrap()),
    }
}

/// Runs a (blocking) store call off the async workers.
async fn on<T: Send + 'static>(
    store: &Arc<dyn Store>,
    f: impl FnOnce(&dyn Store) -> T + Send + 'static,
) -> T {
    let s = store.clone();
    tokio::task::spawn_blocking(move || f(s.as_ref()))
        .await
        .unwrap()
}

/// Waits until the one integer `sql` gives on the store is `want`.
async fn until_count(h: &Harness, sql: &str, want: i64) {
    let deadline = Instant::now() + MAIL_TIMEOUT;
    loop {
        let n = h.count(sql);
        if n == want {
            return;
        }
        assert!(Instant::now() < deadline, "{sql}: {n}, want {want}");
        // Polling the store: a worker in another task or process writes the row.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Submits (with `selfie`, or the app's astronaut) and scans at the officer's desk;
/// returns (enrollment id, the desk confirmation code).
async fn submit_and_scan(
    h: &Harness,
    officer: &Officer,
    nik: &str,
    email: &str,
    selfie: Option<Vec<u8>>,
) -> (String, String) {
    let key = device_key();
    let mut req = h.enroll_request(nik, email, &key).await;
    if let Some(jpeg) = selfie {
        req.selfie_jpeg = Some(base64::engine::general_purpose::STANDARD.encode(jpeg));
    }
    let (id, _, confirm) = h.submit_and_scan(officer, &req).await;
    (id, confirm)
}

async fn detail(officer: &Officer, id: &str) -> serde_json::Value {
    officer
        .get(&format!("/officer/api/enrollments/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// The officer's detail once its face check is no longer pending.
async fn checked(officer: &Officer, id: &str) -> serde_json::Value {
    officer
        .face_checked(&format!("/officer/api/enrollments/{id}"))
        .await
}

fn quick(c: &mut ikd_server::config::Config) {
    c.outbox.poll_ms = 20;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submit_answers_with_the_check_pending_and_a_worker_stores_the_verdict() {
    // Node A runs no workers: its checks wait for another node.
    let h = Harness::start_tuned(Limits::generous(), RESIDENTS, |c| c.workers = false).await;
    let officer = h.officer().await;
    let (siti, confirm) = submit_and_scan(&h, &officer, SITI, "siti@example.com", None).await;
    let (budi, _) = submit_and_scan(
        &h,
        &officer,
        BUDI,
        "budi@example.com",
        Some(faceless_jpeg()),
    )
    .await;
    for id in [&siti, &budi] {
        let d = detail(&officer, id).await;
        assert_eq!(d["face_check"], "pending");
        assert_eq!(d["face_note"], "Wajah sedang diperiksa");
    }
    assert_eq!(
        h.count("SELECT count(*) FROM face_checks WHERE status = 'pending' AND attempts = 0"),
        2
    );
    // What the backlog warning reads: two waiting, the oldest due since the submit.
    let backlog = on(&h.server.state.store, |s| s.face_backlog().unwrap()).await;
    assert_eq!(backlog.waiting, 2);
    let waited = chrono::Utc::now() - backlog.oldest_due.unwrap();
    assert!(waited >= chrono::Duration::zero() && waited < chrono::Duration::minutes(5));
    // The officer may approve meanwhile (the resident stands at the desk).
    assert_eq!(
        officer.approve(&siti, &confirm).await,
        reqwest::StatusCode::OK
    );

    // A node with workers checks them; A's officer API shows the verdicts.
    let _b = h.second_node(quick).await;
    let d = checked(&officer, &siti).await;
    assert_eq!(d["face_check"], "one_face");
    assert_eq!(d["face_note"], "Wajah terdeteksi");
    assert_eq!(d["status"], "approved");
    assert_eq!(checked(&officer, &budi).await["face_check"], "no_face");
    assert_eq!(
        h.count("SELECT count(*) FROM face_checks WHERE status = 'done' AND attempts = 1"),
        2
    );
    let backlog = on(&h.server.state.store, |s| s.face_backlog().unwrap()).await;
    assert_eq!((backlog.waiting, backlog.oldest_due), (0, None));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_check_each_enrollment_once() {
    let h = Harness::start_tuned(Limits::generous(), RESIDENTS, quick).await;
    // Behind one public URL (the issuer identifier the proofs name), as behind a proxy.
    let url = h.base_url.clone();
    let b = h
        .second_node(|c| {
            quick(c);
            c.public_url = Some(url);
        })
        .await;
    let b_client = ikd_core::client::BackendClient::new(&b.base_url).unwrap();
    let today = chrono::Utc::now().date_naive();
    let niks: Vec<String> = ikd_server::siak::seed::generate(RESIDENTS, ikd_tests::SEED)
        .into_iter()
        .filter(|r| ikd_server::siak::eligibility(r, today).is_ok())
        .map(|r| r.nik)
        .take(12)
        .collect();
    assert_eq!(niks.len(), 12);
    // Submitted on both nodes: each node's worker is woken by its own, and polls for
    // the other's.
    let mut ids = Vec::new();
    for (i, nik) in niks.iter().enumerate() {
        let key = device_key();
        let req = h
            .enroll_request(nik, &format!("w{i}@example.com"), &key)
            .await;
        let client = if i % 2 == 0 { &h.client } else { &b_client };
        ids.push(client.submit(&req).await.unwrap().enrollment_id);
    }
    until_count(
        &h,
        "SELECT count(*) FROM face_checks WHERE status = 'done'",
        12,
    )
    .await;
    // One claim each: never checked twice.
    assert_eq!(
        h.count("SELECT count(*) FROM face_checks WHERE attempts = 1"),
        12
    );
    // Every record holds its verdict (the app's astronaut: one face).
    let store = store_of(&h);
    let faces = on(&store, move |s| {
        ids.iter()
            .map(|id| s.enrollment(id).unwrap().unwrap().face)
            .collect::<Vec<_>>()
    })
    .await;
    assert_eq!(faces.len(), 12);
    assert!(faces
        .iter()
        .all(|f| *f == Some(ikd_server::face::FaceCheck::OneFace)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_face_check_claimed_by_a_node_that_died_is_finished_by_another_once_its_lease_ends() {
    let h = Harness::start_tuned(Limits::generous(), RESIDENTS, |c| c.workers = false).await;
    let officer = h.officer().await;
    let (id, _) = submit_and_scan(&h, &officer, SITI, "siti@example.com", None).await;
    // The dying node: claims the check with a 1 s lease and never finishes it.
    let store = store_of(&h);
    let claimed = on(&store, |s| {
        let now = chrono::Utc::now();
        let lease = Lease {
            claim_end: now + chrono::Duration::seconds(1),
            max_attempts: 4,
            limit: 10,
        };
        s.claim_face_checks("dead-node", now, &lease).unwrap()
    })
    .await;
    assert_eq!(claimed.len(), 1);
    assert_eq!(
        (claimed[0].enrollment_id.as_str(), claimed[0].attempts),
        (id.as_str(), 1)
    );

    let _b = h.second_node(quick).await;
    let d = checked(&officer, &id).await;
    assert_eq!(d["face_check"], "one_face");
    // Claimed twice in all: the dead node's, then the other node's, which finished it.
    assert_eq!(
        h.count("SELECT count(*) FROM face_checks WHERE status = 'done' AND attempts = 2"),
        1
    );
    // The dead node's late finish changes nothing.
    let row = claimed[0].id;
    let late = on(&store, move |s| {
        s.finish_face_check(row, "dead-node", None).unwrap()
    })
    .await;
    assert!(!late);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mail_claimed_by_a_node_that_died_mid_send_is_sent_once_by_another() {
    let h = Harness::start_tuned(Limits::generous(), RESIDENTS, |c| c.workers = false).await;
    let officer = h.officer().await;
    let (id, confirm) = submit_and_scan(&h, &officer, SITI, "siti@example.com", None).await;
    assert_eq!(
        officer.approve(&id, &confirm).await,
        reqwest::StatusCode::OK
    );
    // The dying node claims the code mail (1 s lease) and never reports it.
    let store = store_of(&h);
    let claimed = on(&store, |s| {
        let rules = ClaimRules {
            lease: chrono::Duration::seconds(1),
            max_attempts: 10,
            limit: 16,
            keep_bodies: true,
        };
        s.claim_mails("dead-node", chrono::Utc::now(), &rules)
            .unwrap()
    })
    .await;
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].attempts, 1);
    assert_eq!(
        h.count("SELECT count(*) FROM outbox WHERE status = 'sending'"),
        1
    );

    // Another node sends it once the lease ended.
    let _b = h.second_node(quick).await;
    let mail = h.smtp.next(MAIL_TIMEOUT).await.expect("the code mail");
    assert_eq!(mail.to, vec!["siti@example.com".to_owned()]);
    assert_eq!(code_in(&mail).len(), 6);
    until_count(
        &h,
        "SELECT count(*) FROM outbox WHERE status = 'sent' AND attempts = 2",
        1,
    )
    .await;
    // The dead node's late report changes nothing, and no second copy went out.
    let row = claimed[0].id;
    let late = on(&store, move |s| {
        s.mail_sent(row, "dead-node", chrono::Utc::now(), true)
            .unwrap()
    })
    .await;
    assert!(!late);
    assert!(h.smtp.try_next().await.is_none());
    assert_eq!(h.count("SELECT count(*) FROM outbox"), 1);
}

#[test]
fn a_database_from_before_the_face_queue_migrates_and_keeps_its_rows() {
    // The face queue is SQLite migration 11, PostgreSQL migration 6.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.sqlite3");
    let url = ikd_tests::pg::selected().then(|| ikd_tests::pg::shared().fresh_database());
    // Written by the schema before the face checks' migration.
    let old: Box<dyn Store> = match &url {
        Some(url) => Box::new(PgStore::connect_upto(url, 5).unwrap()),
        None => Box::new(SqliteStore::open_upto(&path, 10).unwrap()),
    };
    assert!(old.face_check_rows().is_err(), "no face_checks table yet");
    old.insert_residents(&ikd_server::siak::seed::generate(3, 7))
        .unwrap();
    drop(old);
    let new: Box<dyn Store> = match &url {
        Some(url) => Box::new(PgStore::connect(url).unwrap()),
        None => Box::new(SqliteStore::open(&path).unwrap()),
    };
    let r = new.readiness().unwrap();
    assert_eq!(r.schema_version, r.expected_version);
    assert_eq!(new.resident_count().unwrap(), 3);
    assert_eq!(new.face_check_rows().unwrap(), vec![]);
}
