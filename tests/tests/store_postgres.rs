//! The PostgreSQL store on a real server (tests/src/pg.rs): a database written by the
//! first PostgreSQL schema migrates to the current one with its rows intact (and its
//! JPEG columns stored uncompressed); a second
//! store (another node) on the same database does not migrate again; the rate bucket,
//! the desk's current QR and the officers are shared by the two stores. (Concurrent
//! writers of one enrollment: `hostile_auth` with `IKD_TEST_STORE=postgres`, and
//! `server_nodes`.) A pool sized by `database_pool_size` holds that many connections.
#![allow(clippy::unwrap_used)]

use ikd_server::store::schema::PG_MIGRATIONS;
use ikd_server::store::{DeskQrRow, PgStore, Store};
use ikd_tests::pg::PgServer;

#[test]
fn first_schema_migrates_and_stores_agree_across_nodes() {
    let pg = PgServer::start();
    let url = pg.fresh_database();
    {
        let v1 = PgStore::connect_upto(&url, 1).unwrap();
        let r = v1.readiness().unwrap();
        assert_eq!(r.schema_version, 1);
        assert_ne!(r.schema_version, r.expected_version, "not current yet");
        v1.insert_residents(&ikd_server::siak::seed::generate(3, 7))
            .unwrap();
    }
    let a = PgStore::connect(&url).unwrap();
    let r = a.readiness().unwrap();
    assert_eq!(r.schema_version, PG_MIGRATIONS.len() as i64);
    assert_eq!(r.schema_version, r.expected_version);
    assert_eq!(
        a.resident_count().unwrap(),
        3,
        "rows kept across the migration"
    );
    // JPEG bytes (the selfie, a resumable upload's chunks) are stored uncompressed
    // (migrations 8 and 9).
    let db = url.rsplit('/').next().unwrap();
    assert_eq!(
        pg.psql(
            db,
            "SELECT string_agg(attrelid::regclass || '.' || attname || '=' || attstorage::text, ' ' ORDER BY attname)
             FROM pg_attribute
             WHERE (attrelid, attname) IN (('enrollments'::regclass, 'selfie'), ('upload_chunks'::regclass, 'data'))"
        ),
        "upload_chunks.data=e enrollments.selfie=e"
    );
    // A second node on the same database: migrations are not applied again.
    let b = PgStore::connect(&url).unwrap();
    assert_eq!(b.readiness().unwrap(), r);

    // One bucket across both stores: 3 deep, then empty on either.
    let now = chrono::Utc::now();
    for s in [&a, &b, &a] {
        assert_eq!(s.take_rate_token("t:1", 3, 1, now).unwrap(), Ok(()));
    }
    assert!(b.take_rate_token("t:1", 3, 1, now).unwrap().is_err());

    // The desk's current QR is the same on both; a newer candidate does not replace it.
    let row = |nonce: &str| DeskQrRow {
        desk_id: "loket-1".into(),
        desk_name: "Loket 1".into(),
        nonce: nonce.into(),
        text: format!("qr-{nonce}"),
        issued_at: now,
        expires_at: now + chrono::Duration::seconds(90),
        used: false,
    };
    let shown = a.desk_qr(&row("n1"), 30).unwrap();
    assert_eq!(b.desk_qr(&row("n2"), 30).unwrap(), shown);

    let officer = ikd_server::store::Officer {
        username: "u".into(),
        password_hash: "x".into(),
        desk_id: "loket-1".into(),
        desk_name: "Loket 1".into(),
    };
    a.put_officer(&officer).unwrap();
    assert_eq!(b.officer("u").unwrap().unwrap().desk_id, "loket-1");
    drop((a, b));
    pg.stop();
}

/// `database_pool_size`: a node's pool holds the connections it is given, no more, and
/// a pool of one still serves many callers at once (they queue for it): every take of
/// 8 threads × 20 counts once, and PostgreSQL sees one connection of the store.
#[test]
fn a_pool_of_one_serves_concurrent_callers_on_one_connection() {
    let pg = PgServer::start();
    let url = pg.fresh_database();
    let db = url.rsplit('/').next().unwrap().to_owned();
    let store = std::sync::Arc::new(
        PgStore::connect_sized(&url, std::time::Duration::from_secs(10), 1).unwrap(),
    );
    let now = chrono::Utc::now();
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let s = store.clone();
            std::thread::spawn(move || {
                for _ in 0..20 {
                    assert_eq!(s.take_rate_token("pool:1", 160, 1, now).unwrap(), Ok(()));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert!(
        store
            .take_rate_token("pool:1", 160, 1, now)
            .unwrap()
            .is_err(),
        "160 takes counted, the bucket empty"
    );
    // This psql and the store's one connection.
    assert_eq!(
        pg.psql(
            &db,
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend'"
        ),
        "2"
    );
    drop(store);
    pg.stop();
}
