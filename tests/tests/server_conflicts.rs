//! A request whose write loses a race is run again, and its single-use checks are not.
//!
//! The race, made deterministic on a real PostgreSQL server (tests/src/pg.rs): the test
//! holds the enrollment's row lock (`SELECT … FOR UPDATE` in an open transaction), sends
//! the request, waits until the server's `UPDATE enrollments` waits on that lock (so
//! the server has read the row), then bumps the row's `rev` and commits. The server's
//! compare-and-swap then finds another revision (a conflict) and runs its write again
//! (server/src/conflict.rs).
//!
//! In the field the other writer is the face worker recording its result, or another
//! node. The bug this guards against: the retry ran the whole request again, its DPoP
//! proof's `jti` included, and refused the activation as a replay ("Bukti DPoP sudah
//! pernah dipakai"); a "Lupa PIN" request had its proof's nonce taken twice.
//!
//! PostgreSQL only: SQLite has no row lock to hold between the server's read and its
//! write (the store's writes are serialised), so the same interleaving cannot be set
//! up there; the handlers are the same code on both stores.
#![allow(clippy::unwrap_used)]

use ikd_core::client::BackendClient;
use ikd_core::clock::Clock;
use ikd_core::device_key::DeviceKey;
use ikd_core::jose::EcKeyPair;
use ikd_core::secret::SecretBytes;
use ikd_core::wire::EnrollmentStatusWire;
use ikd_server::config::Limits;
use ikd_server::demo::SITI;
use ikd_tests::{pg, Harness, RESIDENTS};
use std::sync::Arc;
use std::time::Duration;
use tokio_postgres::NoTls;

fn dk(k: &EcKeyPair) -> DeviceKey {
    DeviceKey::from_pkcs8(SecretBytes::new(k.pkcs8().expose().clone())).unwrap()
}

/// A server on a fresh PostgreSQL database, and that database's URL.
async fn on_postgres() -> (Harness, String) {
    let url = pg::shared().fresh_database();
    let u = url.clone();
    let h = Harness::start_tuned(Limits::default(), RESIDENTS, |c| c.database_url = Some(u)).await;
    (h, url)
}

async fn connect(url: &str) -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(url, NoTls).await.unwrap();
    tokio::spawn(conn);
    client
}

/// The enrollment's revision.
async fn rev(db: &tokio_postgres::Client, id: &str) -> i64 {
    db.query_one("SELECT rev FROM enrollments WHERE id = $1", &[&id])
        .await
        .unwrap()
        .get(0)
}

/// Runs `request` while another writer changes enrollment `id` between the server's
/// read and its write; returns its outcome and the revisions before and after.
async fn raced<T: Send + 'static>(
    url: &str,
    id: &str,
    request: impl std::future::Future<Output = T> + Send + 'static,
) -> (T, i64, i64) {
    let db = connect(url).await;
    // The enrollment's face check recorded first: its verdict is a write of the
    // enrollment too, and the race set up here must have one other writer only (on a
    // busy machine the worker's write came in between, one revision more).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let open: i64 = db
            .query_one(
                "SELECT count(*) FROM face_checks WHERE enrollment_id = $1 AND status <> 'done'",
                &[&id],
            )
            .await
            .unwrap()
            .get(0);
        if open == 0 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the face check was never recorded"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let before = rev(&db, id).await;
    let mut other = connect(url).await;
    let tx = other.transaction().await.unwrap();
    tx.query_one(
        "SELECT rev FROM enrollments WHERE id = $1 FOR UPDATE",
        &[&id],
    )
    .await
    .unwrap();
    let sent = tokio::spawn(request);
    // The server has read the row and now waits to write it.
    let waiting = "SELECT count(*) FROM pg_stat_activity
         WHERE datname = current_database() AND wait_event_type = 'Lock'
           AND query LIKE 'UPDATE enrollments%'";
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let n: i64 = db.query_one(waiting, &[]).await.unwrap().get(0);
        if n == 1 {
            break;
        }
        assert!(
            !sent.is_finished(),
            "the request ended without waiting on the row"
        );
        assert!(
            tokio::time::Instant::now() < deadline,
            "the server's write never waited on the row"
        );
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    tx.execute("UPDATE enrollments SET rev = rev + 1 WHERE id = $1", &[&id])
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let outcome = sent.await.unwrap();
    let after = rev(&db, id).await;
    (outcome, before, after)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_activation_and_a_forgot_pin_whose_write_lost_a_race_succeed_on_the_retry() {
    let (h, url) = on_postgres().await;
    let officer = h.officer().await;
    let siti = h.approved(&officer, SITI.nik, "siti@example.com").await;
    let clock: Arc<dyn Clock> = h.clock.clone();
    let client = Arc::new(
        BackendClient::new(&h.base_url)
            .unwrap()
            .with_dpop(dk(&siti.key), clock),
    );

    // The activation (POST /token with a DPoP proof): the other writer wins first, the
    // server's write runs again on the new revision and the tokens come back.
    let (c, pac, code) = (
        client.clone(),
        siti.pre_authorized_code.clone(),
        siti.code.clone(),
    );
    let (tokens, before, after) = raced(&url, &siti.enrollment_id, async move {
        c.token(&pac, &code).await
    })
    .await;
    let tokens = tokens.expect("the activation, retried after the conflict, succeeds");
    assert_eq!(
        after,
        before + 2,
        "the other writer's revision, then the activation's, written over it"
    );
    let st = h
        .client
        .status(&siti.enrollment_id, &siti.token)
        .await
        .unwrap();
    assert_eq!(st.status, EnrollmentStatusWire::Activated);
    // The tokens are bound to the device key and work at /credential.
    let proof = h.proof(&siti.key).await;
    let ktp = client
        .credential(
            &tokens.access_token,
            ikd_core::wire::KTP_CONFIGURATION,
            &proof,
        )
        .await;
    assert!(ktp.is_ok(), "{ktp:?}");

    // "Lupa PIN" (POST …/reauth with a proof JWT whose nonce is single use): the same
    // race, and the request is taken, once.
    let proof = h.proof(&siti.key).await;
    let (c, id, token) = (
        BackendClient::new(&h.base_url).unwrap(),
        siti.enrollment_id.clone(),
        siti.token.clone(),
    );
    let (reauth, before, after) = raced(&url, &siti.enrollment_id, async move {
        c.reauth(&id, &token, &proof).await
    })
    .await;
    let reauth = reauth.expect("the forgot-PIN request, retried after the conflict, succeeds");
    assert_eq!(reauth.enrollment_id, siti.enrollment_id);
    assert_eq!(after, before + 2);
    assert_eq!(
        h.count("SELECT count(*) FROM enrollments WHERE data ->> 'reauth_count' = '1'"),
        1,
        "one re-authentication counted"
    );
}
