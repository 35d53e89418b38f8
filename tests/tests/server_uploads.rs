//! Resumable selfie uploads (tus 1.0) on the real server over loopback HTTP, on the
//! store the suite is run on (SQLite, or PostgreSQL with `IKD_TEST_STORE=postgres`):
//! discovery, creation and its refusals (412, 413, 400, 429), creation with the first
//! chunk in its body (creation-with-upload) and its refusals, appends compared on the
//! offset (409 with nothing lost), chunks taken by a second node on the same store,
//! the submit that uses a finished upload up (one upload, one enrollment), small chunks
//! stored as rows of their own, expiry and the sweep, and the migrations.
#![allow(clippy::unwrap_used)]

use ikd_core::clock::Clock;
use ikd_server::config::Limits;
use ikd_server::store::{PgStore, SqliteStore, Store};
use ikd_tests::{device_key, selfie_jpeg, Harness};
use reqwest::StatusCode;

const SITI: &str = "1671014509900001";
const TUS: (&str, &str) = ("Tus-Resumable", "1.0.0");
const OCTETS: &str = "application/offset+octet-stream";

async fn create(base: &str, length: usize) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{base}/api/v1/uploads"))
        .header(TUS.0, TUS.1)
        .header("Upload-Length", length.to_string())
        .send()
        .await
        .unwrap()
}

/// Creates an upload; its URL.
async fn created(base: &str, length: usize) -> String {
    let r = create(base, length).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(r.headers()["tus-resumable"], "1.0.0");
    assert!(r.headers()["upload-expires"]
        .to_str()
        .unwrap()
        .ends_with(" GMT"));
    let loc = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(loc.starts_with("/api/v1/uploads/"), "{loc}");
    assert_eq!(loc.len(), "/api/v1/uploads/".len() + 22);
    format!("{base}{loc}")
}

async fn patch(url: &str, offset: usize, chunk: &[u8]) -> reqwest::Response {
    reqwest::Client::new()
        .patch(url)
        .header(TUS.0, TUS.1)
        .header("Content-Type", OCTETS)
        .header("Upload-Offset", offset.to_string())
        .body(chunk.to_vec())
        .send()
        .await
        .unwrap()
}

async fn offset_of(url: &str) -> (StatusCode, Option<u64>) {
    let r = reqwest::Client::new()
        .head(url)
        .header(TUS.0, TUS.1)
        .send()
        .await
        .unwrap();
    let off = r
        .headers()
        .get("upload-offset")
        .map(|v| v.to_str().unwrap().parse().unwrap());
    (r.status(), off)
}

/// Submits `req` and checks the refusal: 400, naming `selfie_upload`.
async fn refused_for_the_upload(base: &str, req: &ikd_core::wire::EnrollRequest) {
    let r = reqwest::Client::new()
        .post(format!("{base}/api/v1/enrollments"))
        .json(req)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["detail"]["field"], "selfie_upload");
}

fn upload_id(url: &str) -> String {
    url.rsplit('/').next().unwrap().to_owned()
}

#[tokio::test]
async fn discovery_and_creation_refusals() {
    let limits = Limits {
        submit_burst: 3,
        submit_per_minute: 1,
        ..Limits::default()
    };
    let h = Harness::start_with(limits).await;
    let c = reqwest::Client::new();
    let r = c
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/api/v1/uploads", h.base_url),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(r.headers()["tus-version"], "1.0.0");
    assert_eq!(r.headers()["tus-max-size"], "204800");
    assert_eq!(
        r.headers()["tus-extension"],
        "creation,creation-with-upload,expiration"
    );

    // No Tus-Resumable: 400; another version: 412 naming the one spoken.
    let r = c
        .post(format!("{}/api/v1/uploads", h.base_url))
        .header("Upload-Length", "10")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = c
        .post(format!("{}/api/v1/uploads", h.base_url))
        .header(TUS.0, "0.2.2")
        .header("Upload-Length", "10")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PRECONDITION_FAILED);
    assert_eq!(r.headers()["tus-version"], "1.0.0");
    // Larger than the selfie limit: refused at once, nothing stored.
    let r = create(&h.base_url, 204_801).await;
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    for bad in ["", "-1", "+5", "1e3", "99999999999999999999999"] {
        let r = c
            .post(format!("{}/api/v1/uploads", h.base_url))
            .header(TUS.0, TUS.1)
            .header("Upload-Length", bad)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{bad:?}");
    }
    assert_eq!(h.count("SELECT count(*) FROM uploads"), 0);
    // Creations per address: the burst, then 429.
    for _ in 0..3 {
        created(&h.base_url, 10).await;
    }
    let r = create(&h.base_url, 10).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(h.count("SELECT count(*) FROM uploads"), 3);
}

#[tokio::test]
async fn chunks_on_two_nodes_then_one_submit_uses_the_upload_up() {
    let h = Harness::start().await;
    let b = h.second_node(|_| {}).await;
    let jpeg = selfie_jpeg();
    let url_a = created(&h.base_url, jpeg.len()).await;
    let id = upload_id(&url_a);
    let url_b = format!("{}/api/v1/uploads/{id}", b.base_url);
    assert_eq!(offset_of(&url_a).await, (StatusCode::OK, Some(0)));

    // Refusals first: wrong media type, no offset, a wrong offset, past the length.
    let r = reqwest::Client::new()
        .patch(&url_a)
        .header(TUS.0, TUS.1)
        .header("Content-Type", "application/octet-stream")
        .header("Upload-Offset", "0")
        .body(jpeg[..10].to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let r = patch(&url_a, 7, &jpeg[7..20]).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["detail"]["upload_offset"], 0);
    let mut too_long = jpeg.clone();
    too_long.push(0);
    assert_eq!(
        patch(&url_a, 0, &too_long).await.status(),
        StatusCode::PAYLOAD_TOO_LARGE
    );
    assert_eq!(offset_of(&url_a).await.1, Some(0), "nothing stored");

    // The first part on node A.
    let cut = 30_000;
    let r = patch(&url_a, 0, &jpeg[..cut]).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(r.headers()["upload-offset"], cut.to_string().as_str());
    // The same chunk again (its answer was lost): 409, nothing appended twice.
    let r = patch(&url_b, 0, &jpeg[..cut]).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    // Node B knows the offset and takes the rest.
    assert_eq!(offset_of(&url_b).await, (StatusCode::OK, Some(cut as u64)));
    // An offset past any selfie (u64::MAX) is refused as input (400); the largest one
    // the API takes, far past this upload's, is compared like any other (409).
    for (offset, status) in [
        (u64::MAX, StatusCode::BAD_REQUEST),
        (204_800, StatusCode::CONFLICT),
    ] {
        let r = reqwest::Client::new()
            .patch(&url_b)
            .header(TUS.0, TUS.1)
            .header("Content-Type", OCTETS)
            .header("Upload-Offset", offset.to_string())
            .body(jpeg[cut..].to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), status, "offset {offset}");
    }
    // The rest, sent to both nodes at once (a retry racing its original): the offset
    // is compared in the write itself, so exactly one appends and the other gets 409.
    let (ra, rb) = tokio::join!(
        patch(&url_a, cut, &jpeg[cut..]),
        patch(&url_b, cut, &jpeg[cut..])
    );
    let mut codes = [ra.status(), rb.status()];
    codes.sort();
    assert_eq!(codes, [StatusCode::NO_CONTENT, StatusCode::CONFLICT]);
    assert_eq!(offset_of(&url_a).await.1, Some(jpeg.len() as u64));

    // A submit names the upload (no inline selfie).
    let key = device_key();
    let mut req = h.enroll_request(SITI, "siti@example.com", &key).await;
    req.selfie_jpeg = None;
    req.selfie_upload = Some(id.clone());
    let res = h.client.submit(&req).await.unwrap();
    // Enrollment reads leave the selfie out (Store::selfie reads it).
    let stored: Vec<u8> = store_of(&h).selfie(&res.enrollment_id).unwrap().unwrap();
    assert_eq!(stored, jpeg, "the enrollment holds the uploaded bytes");
    assert_eq!(h.count("SELECT count(*) FROM uploads"), 0, "used up");
    assert_eq!(
        h.count("SELECT count(*) FROM upload_chunks"),
        0,
        "with its chunks"
    );
    // A second submit of the same upload (another key): refused, one enrollment.
    let mut again = h.enroll_request(SITI, "siti@example.com", &key).await;
    again.selfie_jpeg = None;
    again.selfie_upload = Some(id.clone());
    refused_for_the_upload(&h.base_url, &again).await;
    assert_eq!(h.count("SELECT count(*) FROM enrollments"), 1);
    assert_eq!(offset_of(&url_a).await.0, StatusCode::NOT_FOUND);
    b.shutdown().await;
}

#[tokio::test]
async fn exactly_one_selfie_source_and_unfinished_uploads_are_refused() {
    let h = Harness::start().await;
    let key = device_key();
    let url = created(&h.base_url, 1000).await;
    assert_eq!(
        patch(&url, 0, &selfie_jpeg()[..500]).await.status(),
        StatusCode::NO_CONTENT
    );
    for (inline, upload) in [
        (true, true),
        (false, false),
        (false, true), // unfinished
    ] {
        let mut req = h.enroll_request(SITI, "siti@example.com", &key).await;
        if !inline {
            req.selfie_jpeg = None;
        }
        req.selfie_upload = upload.then(|| upload_id(&url));
        let r = reqwest::Client::new()
            .post(format!("{}/api/v1/enrollments", h.base_url))
            .json(&req)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{inline} {upload}");
    }
    // Not an upload id at all.
    let mut req = h.enroll_request(SITI, "siti@example.com", &key).await;
    req.selfie_jpeg = None;
    req.selfie_upload = Some("../../etc/passwd".into());
    assert!(h.client.submit(&req).await.is_err());
    assert_eq!(h.count("SELECT count(*) FROM enrollments"), 0);
    assert_eq!(
        h.count("SELECT count(*) FROM uploads"),
        1,
        "kept for its owner"
    );
}

#[tokio::test]
async fn small_chunks_are_rows_of_their_own_and_a_submit_assembles_them() {
    let h = Harness::start().await;
    let jpeg = selfie_jpeg();
    // 2G's chunks are 4 KB; the first ones here are 1 and 2 bytes, so that the submit's
    // check of the first bytes (FF D8 …) spans three chunks.
    let url = created(&h.base_url, jpeg.len()).await;
    let mut cuts = vec![0, 1, 3];
    cuts.extend((1..).map(|i| 3 + i * 4096).take_while(|&c| c < jpeg.len()));
    cuts.push(jpeg.len());
    for w in cuts.windows(2) {
        let r = patch(&url, w[0], &jpeg[w[0]..w[1]]).await;
        assert_eq!(r.status(), StatusCode::NO_CONTENT, "chunk at {}", w[0]);
    }
    // An empty chunk is accepted and adds no row.
    assert_eq!(
        patch(&url, jpeg.len(), b"").await.status(),
        StatusCode::NO_CONTENT
    );
    let chunks = (cuts.len() - 1) as i64;
    assert_eq!(h.count("SELECT count(*) FROM upload_chunks"), chunks);
    assert_eq!(
        h.count("SELECT sum(length(data)) FROM upload_chunks"),
        jpeg.len() as i64,
        "each byte stored once"
    );
    let key = device_key();
    let mut req = h.enroll_request(SITI, "siti@example.com", &key).await;
    req.selfie_jpeg = None;
    req.selfie_upload = Some(upload_id(&url));
    let res = h.client.submit(&req).await.unwrap();
    let stored: Vec<u8> = store_of(&h).selfie(&res.enrollment_id).unwrap().unwrap();
    assert_eq!(stored, jpeg, "the chunks in order");
    assert_eq!(h.count("SELECT count(*) FROM upload_chunks"), 0);

    // A finished upload that is not a JPEG: refused on its first bytes, and kept.
    let url = created(&h.base_url, 6).await;
    assert_eq!(
        patch(&url, 0, b"GIF89a").await.status(),
        StatusCode::NO_CONTENT
    );
    let mut req = h
        .enroll_request(SITI, "siti@example.com", &device_key())
        .await;
    req.selfie_jpeg = None;
    req.selfie_upload = Some(upload_id(&url));
    refused_for_the_upload(&h.base_url, &req).await;
    assert_eq!(h.count("SELECT count(*) FROM enrollments"), 1);
    assert_eq!(offset_of(&url).await, (StatusCode::OK, Some(6)));
}

/// POST /api/v1/uploads of `length` bytes with `body` labelled `media` (None: no
/// Content-Type).
async fn create_with(
    base: &str,
    length: usize,
    media: Option<&str>,
    body: &[u8],
) -> reqwest::Response {
    let mut req = reqwest::Client::new()
        .post(format!("{base}/api/v1/uploads"))
        .header(TUS.0, TUS.1)
        .header("Upload-Length", length.to_string());
    if let Some(m) = media {
        req = req.header("Content-Type", m);
    }
    req.body(body.to_vec()).send().await.unwrap()
}

#[tokio::test]
async fn a_creation_with_its_first_chunk_stores_it_in_one_write() {
    let h = Harness::start().await;
    let jpeg = selfie_jpeg();
    let first = 16 * 1024;
    let r = create_with(&h.base_url, jpeg.len(), Some(OCTETS), &jpeg[..first]).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(r.headers()["upload-offset"], first.to_string().as_str());
    assert!(r.headers().contains_key("upload-expires"));
    let url = format!(
        "{}{}",
        h.base_url,
        r.headers()["location"].to_str().unwrap()
    );
    assert_eq!(offset_of(&url).await, (StatusCode::OK, Some(first as u64)));
    assert_eq!(h.count("SELECT count(*) FROM upload_chunks"), 1);
    assert_eq!(
        h.count("SELECT sum(length(data)) FROM upload_chunks"),
        first as i64
    );
    // The same bytes again at 0 are refused (409 at the stored offset); the rest goes
    // on from it, and a submit uses the whole.
    let r = patch(&url, 0, &jpeg[..first]).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let r = patch(&url, first, &jpeg[first..]).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let key = device_key();
    let mut req = h.enroll_request(SITI, "siti@example.com", &key).await;
    req.selfie_jpeg = None;
    req.selfie_upload = Some(upload_id(&url));
    let res = h.client.submit(&req).await.unwrap();
    assert_eq!(
        store_of(&h).selfie(&res.enrollment_id).unwrap().unwrap(),
        jpeg
    );

    // The whole upload in its creation: finished at once.
    let r = create_with(
        &h.base_url,
        6,
        Some("Application/Offset+Octet-Stream; x=1"),
        b"\xff\xd8abcd",
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(r.headers()["upload-offset"], "6");
    // A plain creation says no offset (tus creation); an empty labelled body is one.
    let r = create_with(&h.base_url, 6, None, b"").await;
    assert_eq!(r.status(), StatusCode::CREATED);
    assert!(!r.headers().contains_key("upload-offset"));
    let r = create_with(&h.base_url, 6, Some(OCTETS), b"").await;
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(r.headers()["upload-offset"], "0");
    let uploads = h.count("SELECT count(*) FROM uploads");
    let chunks = h.count("SELECT count(*) FROM upload_chunks");
    assert_eq!((uploads, chunks), (3, 1));

    // Refused, and nothing created: more bytes than Upload-Length (400, naming it),
    // bytes not labelled as upload bytes (415), past the selfie limit (413).
    let r = create_with(&h.base_url, 5, Some(OCTETS), b"abcdef").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["detail"]["field"], "upload-length", "{body}");
    for media in [None, Some("image/jpeg"), Some("application/json")] {
        let r = create_with(&h.base_url, 6, media, b"abcdef").await;
        assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE, "{media:?}");
        assert_eq!(r.headers()["tus-resumable"], "1.0.0");
    }
    let big = vec![0u8; 204_801];
    let r = create_with(&h.base_url, big.len(), Some(OCTETS), &big).await;
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(h.count("SELECT count(*) FROM uploads"), uploads);
    assert_eq!(h.count("SELECT count(*) FROM upload_chunks"), chunks);
}

fn store_of(h: &Harness) -> Box<dyn Store> {
    match &h.database_url {
        Some(url) => Box::new(PgStore::connect(url).unwrap()),
        None => Box::new(SqliteStore::open(&h.dir.path().join("ikd-server.sqlite3")).unwrap()),
    }
}

#[tokio::test]
async fn unknown_and_expired_uploads_are_404_and_swept() {
    let h = Harness::start().await;
    let unknown = format!("{}/api/v1/uploads/AAAAAAAAAAAAAAAAAAAAAA", h.base_url);
    assert_eq!(offset_of(&unknown).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        patch(&unknown, 0, b"x").await.status(),
        StatusCode::NOT_FOUND
    );
    let odd = format!("{}/api/v1/uploads/%00", h.base_url);
    assert_eq!(offset_of(&odd).await.0, StatusCode::NOT_FOUND);
    let url = created(&h.base_url, 10).await;
    assert_eq!(
        patch(&url, 0, b"12345").await.status(),
        StatusCode::NO_CONTENT
    );
    h.clock.advance(chrono::Duration::hours(24));
    assert_eq!(offset_of(&url).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        patch(&url, 5, b"67890").await.status(),
        StatusCode::NOT_FOUND
    );
    let now = h.clock.now();
    let swept = tokio::task::spawn_blocking({
        let s = store_of(&h);
        move || s.sweep_uploads(now).unwrap()
    })
    .await
    .unwrap();
    assert_eq!(swept, 1);
    assert_eq!(h.count("SELECT count(*) FROM uploads"), 0);
    assert_eq!(
        h.count("SELECT count(*) FROM upload_chunks"),
        0,
        "its chunk with it"
    );
}

#[test]
fn a_database_from_before_the_uploads_migrates() {
    // Uploads are SQLite migration 12, PostgreSQL migration 7.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.sqlite3");
    let url = ikd_tests::pg::selected().then(|| ikd_tests::pg::shared().fresh_database());
    let old: Box<dyn Store> = match &url {
        Some(url) => Box::new(PgStore::connect_upto(url, 6).unwrap()),
        None => Box::new(SqliteStore::open_upto(&path, 11).unwrap()),
    };
    let now = chrono::Utc::now();
    assert!(old.upload_info("k", now).is_err(), "no uploads table yet");
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
    new.upload_create("k", 3, &[], now, now + chrono::Duration::hours(1))
        .unwrap();
    assert_eq!(new.upload_info("k", now).unwrap().unwrap().length, 3);
}

#[test]
fn an_upload_in_flight_when_chunks_became_rows_resumes() {
    // Chunk rows are SQLite migration 13, PostgreSQL migration 9: an upload half sent
    // under the schema before keeps its bytes (as its first chunk) and its offset.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.sqlite3");
    let url = ikd_tests::pg::selected().then(|| ikd_tests::pg::shared().fresh_database());
    let exp = chrono::Utc::now() + chrono::Duration::hours(1);
    let insert = |length: usize, data: &[u8], key: &str| {
        format!(
            "INSERT INTO uploads (key, length, data, created_at, expires_at) VALUES ('{key}', {length}, {}, {}, {})",
            match url {
                Some(_) => format!("'\\x{}'::bytea", hex(data)),
                None => format!("x'{}'", hex(data)),
            },
            match url {
                Some(_) => "now()".to_owned(),
                None => chrono::Utc::now().timestamp_millis().to_string(),
            },
            match url {
                Some(_) => format!("'{}'::timestamptz", exp.to_rfc3339()),
                None => exp.timestamp_millis().to_string(),
            },
        )
    };
    let jpeg = selfie_jpeg();
    let half = jpeg.len() / 2;
    let sql = [
        insert(jpeg.len(), &jpeg[..half], "half"),
        insert(10, b"", "empty"),
    ];
    match &url {
        Some(url) => {
            drop(PgStore::connect_upto(url, 8).unwrap());
            let db = url.rsplit('/').next().unwrap();
            for q in &sql {
                ikd_tests::pg::shared().psql(db, q);
            }
        }
        None => {
            drop(SqliteStore::open_upto(&path, 12).unwrap());
            let c = rusqlite::Connection::open(&path).unwrap();
            for q in &sql {
                c.execute(q, []).unwrap();
            }
        }
    }
    let new: Box<dyn Store> = match &url {
        Some(url) => Box::new(PgStore::connect(url).unwrap()),
        None => Box::new(SqliteStore::open(&path).unwrap()),
    };
    let r = new.readiness().unwrap();
    assert_eq!(r.schema_version, r.expected_version);
    let now = chrono::Utc::now();
    assert_eq!(
        new.upload_info("half", now).unwrap().unwrap().offset,
        half as u64
    );
    assert_eq!(new.upload_info("empty", now).unwrap().unwrap().offset, 0);
    assert_eq!(new.upload_data("half", now).unwrap(), None, "unfinished");
    assert!(matches!(
        new.upload_append("half", half as u64, &jpeg[half..], now).unwrap(),
        ikd_server::store::Append::Appended(i) if i.offset == jpeg.len() as u64
    ));
    assert_eq!(new.upload_data("half", now).unwrap().unwrap(), jpeg);
    let head = new.upload_head("half", now).unwrap().unwrap();
    assert_eq!(
        (head.length, &head.head[..]),
        (jpeg.len() as u64, &jpeg[..4])
    );
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
