//! Issue 13: the selfie upload's progress is what the server has stored. The wallet
//! facade submits through the fault proxy to a real `ikd_server` on loopback; the
//! photo goes as a resumable upload (tus 1.0) in chunks, and each progress callback
//! is compared with what the server's store holds at that moment. Under 2G the
//! progress moves in several steps; under flaky (answers lost after the request) and
//! truncated (answers cut) the upload resumes from the server's offset without
//! re-sending a confirmed byte (upload bytes, of the creation and the PATCHes, counted
//! at the proxy), and the journey
//! ends with exactly one enrollment.
#![allow(clippy::unwrap_used)]

use ikd_core::client::OnUpload;
use ikd_core::vault::{FileKeyStore, KdfParams};
use ikd_core::view::RegisterForm;
use ikd_core::wallet::{Wallet, WalletConfig};
use ikd_server::demo::SITI;
use ikd_tests::faultnet::{FaultProxy, Profile};
use ikd_tests::{astronaut_png, Harness};
use std::sync::{Arc, Mutex};

/// The most an upload request's line and headers take (measured ~230 B).
const PATCH_HEAD_MAX: usize = 400;

/// (stored offset told, total, bytes the server held when told)
type Seen = Arc<Mutex<Vec<(u64, u64, i64)>>>;

async fn submit_through(profile: Profile) -> (Harness, FaultProxy, Vec<(u64, u64, i64)>) {
    let proxy = FaultProxy::bind(profile).await.unwrap();
    let h = Harness::start_behind(&proxy.url()).await;
    proxy.forward_to(h.server.addr);
    let dir = tempfile::tempdir().unwrap();
    let w = Wallet::open(WalletConfig {
        data_dir: dir.path().to_path_buf(),
        backend_url: proxy.url(),
        dev_build: true,
        clock: h.clock.clone(),
        keystore: Arc::new(FileKeyStore::in_dir(dir.path())),
        kdf: Some(KdfParams::insecure_for_tests()),
        issuer_url: None,
    })
    .unwrap();
    w.process_selfie(&astronaut_png()).unwrap();
    let seen: Seen = Arc::default();
    let s = seen.clone();
    let sqlite = h.dir.path().join("ikd-server.sqlite3");
    let pg = h.database_url.clone();
    let on: OnUpload = Arc::new(move |done, total| {
        // What the server's store holds now (its answer came after its commit).
        let held = held_bytes(&sqlite, pg.as_deref());
        s.lock().unwrap().push((done, total, held));
    });
    let form = RegisterForm {
        nik: SITI.nik.into(),
        email: "siti@example.com".into(),
        phone: "081234567890".into(),
        consent: true,
    };
    w.submit_enrollment_counted(form, Some(on)).await.unwrap();
    let seen = seen.lock().unwrap().clone();
    (h, proxy, seen)
}

fn held_bytes(sqlite: &std::path::Path, pg: Option<&str>) -> i64 {
    // The bytes the store holds for the largest upload (the sum of its chunks), not its
    // `received` counter: what the app shows must be what is stored.
    const SQL: &str = "SELECT COALESCE(MAX(n), 0) FROM \
        (SELECT SUM(length(data)) AS n FROM upload_chunks GROUP BY key) AS per_upload";
    match pg {
        Some(url) => {
            let db = url.rsplit('/').next().unwrap_or_default();
            ikd_tests::pg::shared().psql(db, SQL).parse().unwrap()
        }
        None => rusqlite::Connection::open(sqlite)
            .unwrap()
            .query_row(SQL, [], |r| r.get(0))
            .unwrap(),
    }
}

fn check_progress(seen: &[(u64, u64, i64)]) -> u64 {
    let total = seen[0].1;
    assert!(total > 50_000, "a selfie is tens of KB: {total}");
    assert!(seen.iter().all(|&(_, t, _)| t == total));
    assert!(
        seen.windows(2).all(|p| p[0].0 <= p[1].0),
        "monotonic: {seen:?}"
    );
    assert_eq!(
        seen[0].0, 0,
        "0 of the size while the creation is under way"
    );
    assert_eq!(seen.last().unwrap().0, total, "ends at the photo's size");
    for &(done, _, held) in seen {
        assert!(
            done as i64 <= held,
            "told {done} B while the server held {held} B"
        );
    }
    total
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_2g_the_progress_is_what_the_server_stored_in_several_steps() {
    let (h, proxy, seen) = submit_through(Profile::TWO_G).await;
    assert_eq!(h.count("SELECT COUNT(*) FROM enrollments"), 1);
    let total = check_progress(&seen);
    let before_end = seen.iter().filter(|&&(d, _, _)| d > 0 && d < total).count();
    assert!(before_end >= 3, "several steps before the end: {seen:?}");
    eprintln!(
        "2G upload: {total} B; progress {:?}; {} B up through the proxy in all",
        seen.iter().map(|s| s.0).collect::<Vec<_>>(),
        proxy.bytes().0
    );
    assert!(proxy.bytes().0 > total as usize);
    assert_eq!(
        h.count("SELECT COUNT(*) FROM uploads"),
        0,
        "used up by the submit"
    );
}

async fn resumes_without_resending(profile: Profile) {
    let (h, proxy, seen) = submit_through(profile).await;
    assert!(proxy.faults() > 0, "the profile hit");
    assert_eq!(h.count("SELECT COUNT(*) FROM enrollments"), 1);
    let total = check_progress(&seen) as usize;
    let (writes, write_up) = proxy.upload_bytes();
    eprintln!(
        "{profile:?}: {total} B in {writes} writes (the creation's first chunk and the \
         PATCHes), {write_up} B up, {} faults",
        proxy.faults()
    );
    // Every body byte crossed once: a chunk whose answer was lost had been stored,
    // and the client asked the offset (HEAD) instead of sending it again.
    assert!(write_up >= total);
    assert!(
        write_up <= total + writes * PATCH_HEAD_MAX,
        "{write_up} B for {total} B in {writes} writes: a confirmed byte was sent again"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flaky_answers_resume_from_the_servers_offset() {
    resumes_without_resending(Profile::FLAKY).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncated_answers_resume_from_the_servers_offset() {
    resumes_without_resending(Profile::TRUNCATED).await;
}
