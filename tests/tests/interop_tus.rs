//! Interoperability: the tus project's own client, `tus-js-client` (npm), uploads the
//! selfie to the real ikd-server in 16 KB chunks over loopback, with its metadata
//! header (ignored by the server), and the resulting upload is what a submit then
//! uses (`selfie_upload`): one enrollment holding the exact bytes. It also resumes:
//! interrupted after its first chunk (aborted, the upload left on the server), a new
//! `Upload` finds the URL in tus-js-client's own fingerprint store (or is given it as
//! `uploadUrl`), asks our server's offset (HEAD) and sends only the rest; and through
//! the fault proxy (every third answer lost) its own retries resume from our offset.
//! PATCH bytes are counted at the proxy: no byte our server confirmed is sent twice.
//! (The other direction, our client against the tus project's server, is
//! `interop_tus_server.rs`.)
//!
//! The client is `tests/interop/tus/upload.mjs` and `resume.mjs`. It needs `node` on
//! PATH and `npm ci --prefix tests/interop/tus` run once (scripts/setup does).
#![allow(clippy::unwrap_used)]

use ikd_tests::faultnet::{FaultProxy, Profile};
use ikd_tests::{device_key, selfie_jpeg, Harness};
use serde_json::Value;
use std::path::PathBuf;

const SITI: &str = "1671014509900001";
/// The most a PATCH's request line and headers take (tus-js-client's: ~250 B).
const PATCH_HEAD_MAX: usize = 400;

fn client_dir() -> PathBuf {
    ikd_tests::interop::node_dir("tus", &["tus-js-client"])
}

#[tokio::test]
async fn tus_js_client_uploads_a_selfie_that_a_submit_uses() {
    let h = Harness::start().await;
    let (_tmp, file, jpeg) = selfie_file();
    let endpoint = format!("{}/api/v1/uploads", h.base_url);
    let v = node(
        "upload.mjs",
        &[endpoint.as_ref(), file.as_ref(), "16384".as_ref()],
    )
    .await;
    let url = v["url"].as_str().unwrap();
    assert!(
        url.starts_with(&format!("{}/api/v1/uploads/", h.base_url)),
        "{url}"
    );
    // Its progress: the offsets our server answered, chunk by chunk, up to the size.
    let progress: Vec<u64> = v["progress"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p[0].as_u64().unwrap())
        .collect();
    let chunks = jpeg.len().div_ceil(16384);
    assert_eq!(progress.len(), chunks, "{progress:?}");
    assert!(progress.windows(2).all(|p| p[0] < p[1]));
    assert_eq!(*progress.last().unwrap(), jpeg.len() as u64);

    let id = url.rsplit('/').next().unwrap().to_owned();
    assert_eq!(
        submit_and_read(&h, &id).await,
        jpeg,
        "the enrollment holds the bytes tus-js-client sent"
    );
    assert_eq!(h.count("SELECT count(*) FROM uploads"), 0, "used up");
}

/// tus-js-client's `upload.mjs` in 16 KB chunks, with `mode`, through a clean proxy in
/// front of a fresh server: the harness, the proxy, the selfie and the script's JSON.
async fn upload_via_clean_proxy(mode: &str) -> (Harness, FaultProxy, Vec<u8>, Value) {
    let h = Harness::start().await;
    let proxy = FaultProxy::start(h.server.addr, Profile::Clean)
        .await
        .unwrap();
    let (_tmp, file, jpeg) = selfie_file();
    let endpoint = format!("{}/api/v1/uploads", proxy.url());
    let v = node(
        "upload.mjs",
        &[
            endpoint.as_ref(),
            file.as_ref(),
            "16384".as_ref(),
            mode.as_ref(),
        ],
    )
    .await;
    (h, proxy, jpeg, v)
}

/// The offsets after each 16 KB chunk of `total` bytes, the last one `total`.
fn ends_of_16k_chunks(total: u64) -> Vec<u64> {
    (1..)
        .map(|n| (n * 16384).min(total))
        .take_while(|&o| o < total)
        .chain([total])
        .collect()
}

/// tus creation-with-upload: tus-js-client's `uploadDataDuringCreation` sends the first
/// chunk in the creation's body; our server stores it with the upload (the 201 names
/// the offset) and the PATCHes go on from there, through a proxy that counts every
/// upload byte once.
#[tokio::test]
async fn tus_js_client_sends_its_first_chunk_with_the_creation() {
    let (h, proxy, jpeg, v) = upload_via_clean_proxy("with-upload").await;
    let total = jpeg.len() as u64;
    let ends = ends_of_16k_chunks(total);
    let expected: Vec<(String, u64, Option<u64>)> =
        std::iter::once(("POST".into(), 201, Some(ends[0])))
            .chain(ends[1..].iter().map(|&o| ("PATCH".into(), 204, Some(o))))
            .collect();
    assert_eq!(requests(&v["requests"]), expected);
    assert_eq!(offsets(&v["progress"]), ends);
    let (writes, up) = proxy.upload_bytes();
    assert_eq!(writes, ends.len(), "the creation and the PATCHes");
    assert_eq!(proxy.patch_bytes().0, ends.len() - 1);
    let total = total as usize;
    assert!(
        up >= total && up <= total + writes * PATCH_HEAD_MAX,
        "{up} B"
    );
    let id = v["url"].as_str().unwrap().rsplit('/').next().unwrap();
    assert_eq!(submit_and_read(&h, id).await, jpeg);
}

/// A submit naming upload `id`: one enrollment; the selfie it holds.
async fn submit_and_read(h: &Harness, id: &str) -> Vec<u8> {
    let key = device_key();
    let mut req = h.enroll_request(SITI, "siti@example.com", &key).await;
    req.selfie_jpeg = None;
    req.selfie_upload = Some(id.to_owned());
    let res = h.client.submit(&req).await.unwrap();
    assert_eq!(h.count("SELECT count(*) FROM enrollments"), 1);
    // The enrollment's reads leave the selfie out; the officer's detail and the face
    // check read it on its own.
    h.server
        .state
        .store
        .selfie(&res.enrollment_id)
        .unwrap()
        .unwrap()
}

/// Runs `node <script> <args>` in the client's directory: its JSON on stdout.
async fn node(script: &str, args: &[&std::ffi::OsStr]) -> Value {
    let dir = client_dir();
    let out = tokio::process::Command::new("node")
        .arg(dir.join(script))
        .args(args)
        .current_dir(&dir)
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{script} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The test selfie, and a file holding it in a fresh temporary directory (removed when
/// the guard is dropped).
fn selfie_file() -> (tempfile::TempDir, PathBuf, Vec<u8>) {
    let jpeg = selfie_jpeg();
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("selfie.jpg");
    std::fs::write(&file, &jpeg).unwrap();
    (tmp, file, jpeg)
}

/// `[accepted, total]` pairs → the accepted offsets.
fn offsets(progress: &Value) -> Vec<u64> {
    progress
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p[0].as_u64().unwrap())
        .collect()
}

/// `[method, status, Upload-Offset]` triples.
fn requests(v: &Value) -> Vec<(String, u64, Option<u64>)> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r[0].as_str().unwrap().to_owned(),
                r[1].as_u64().unwrap(),
                r[2].as_str().map(|o| o.parse().unwrap()),
            )
        })
        .collect()
}

/// tus-js-client aborted after its first chunk, then a new `Upload` resumes it (`mode`:
/// `fingerprint`, from its URL store; `url`, given `uploadUrl`), through a clean proxy
/// that counts the PATCH bytes.
async fn tus_js_client_resumes(mode: &str) {
    let h = Harness::start().await;
    let proxy = FaultProxy::start(h.server.addr, Profile::Clean)
        .await
        .unwrap();
    let (tmp, file, jpeg) = selfie_file();
    let total = jpeg.len() as u64;
    let store = tmp.path().join("tus-url-store.json");
    let endpoint = format!("{}/api/v1/uploads", proxy.url());
    let v = node(
        "resume.mjs",
        &[
            endpoint.as_ref(),
            file.as_ref(),
            "16384".as_ref(),
            store.as_ref(),
            mode.as_ref(),
        ],
    )
    .await;
    let (first, second) = (&v["first"], &v["second"]);
    // Interrupted after one chunk: our server held 16384 bytes.
    assert_eq!(offsets(&first["progress"]), vec![16384]);
    assert_eq!(
        requests(&first["requests"]),
        vec![
            ("POST".into(), 201, None),
            ("PATCH".into(), 204, Some(16384))
        ]
    );
    // The new Upload went on with the same upload, from our server's offset.
    assert_eq!(second["url"], first["url"]);
    if mode == "fingerprint" {
        assert_eq!(second["previous"], serde_json::json!([first["url"]]));
    }
    let reqs = requests(&second["requests"]);
    assert_eq!(reqs[0], ("HEAD".into(), 200, Some(16384)), "{reqs:?}");
    let patched: Vec<u64> = reqs[1..]
        .iter()
        .map(|(m, status, offset)| {
            assert_eq!((m.as_str(), *status), ("PATCH", 204), "{reqs:?}");
            offset.unwrap()
        })
        .collect();
    let expected: Vec<u64> = (2..)
        .map(|n| (n * 16384).min(total))
        .take_while(|&o| o < total)
        .chain([total])
        .collect();
    assert_eq!(patched, expected);
    assert_eq!(offsets(&second["progress"]), expected);
    // At the proxy: every body byte once.
    let (patches, patch_up) = proxy.patch_bytes();
    assert_eq!(patches, 1 + expected.len());
    let total = total as usize;
    assert!(patch_up >= total);
    assert!(
        patch_up <= total + patches * PATCH_HEAD_MAX,
        "{patch_up} B of PATCH for {total} B in {patches}: a byte our server confirmed was sent again"
    );
    eprintln!("tus-js-client resumed by {mode}: {total} B in {patches} PATCHes, {patch_up} B up");
    let id = first["url"].as_str().unwrap().rsplit('/').next().unwrap();
    assert_eq!(
        submit_and_read(&h, id).await,
        jpeg,
        "our server stored exactly the selfie"
    );
}

#[tokio::test]
async fn tus_js_client_interrupted_resumes_from_its_fingerprint_store() {
    tus_js_client_resumes("fingerprint").await;
}

#[tokio::test]
async fn tus_js_client_interrupted_resumes_from_the_upload_url() {
    tus_js_client_resumes("url").await;
}

/// tus-js-client through the flaky link (every third answer lost after our server
/// answered): its own retries ask our offset (HEAD) and go on from it.
#[tokio::test]
async fn tus_js_client_on_a_flaky_link_resumes_from_our_offset() {
    tus_js_client_on_a_bad_link(Profile::FLAKY).await;
}

/// The same with every third answer cut after 40 bytes.
#[tokio::test]
async fn tus_js_client_on_a_truncating_link_resumes_from_our_offset() {
    tus_js_client_on_a_bad_link(Profile::TRUNCATED).await;
}

async fn tus_js_client_on_a_bad_link(profile: Profile) {
    let h = Harness::start().await;
    let proxy = FaultProxy::start(h.server.addr, profile).await.unwrap();
    let (_tmp, file, jpeg) = selfie_file();
    let endpoint = format!("{}/api/v1/uploads", proxy.url());
    let v = node(
        "upload.mjs",
        &[endpoint.as_ref(), file.as_ref(), "16384".as_ref()],
    )
    .await;
    assert!(proxy.faults() > 0, "the profile hit");
    // A PATCH answer was lost (the chunk stored): tus-js-client asked our offset.
    let reqs = requests(&v["requests"]);
    assert!(
        reqs.iter().any(|(m, status, offset)| m == "HEAD"
            && *status == 200
            && offset.is_some_and(|o| o > 0 && o < jpeg.len() as u64)),
        "resumed with HEAD mid-upload: {reqs:?}"
    );
    let progress = offsets(&v["progress"]);
    assert!(progress.windows(2).all(|p| p[0] < p[1]), "{progress:?}");
    assert_eq!(*progress.last().unwrap(), jpeg.len() as u64);
    let (patches, patch_up) = proxy.patch_bytes();
    let total = jpeg.len();
    assert!(patch_up >= total);
    assert!(
        patch_up <= total + patches * PATCH_HEAD_MAX,
        "{patch_up} B of PATCH for {total} B in {patches}: a byte our server confirmed was sent again"
    );
    eprintln!(
        "tus-js-client, {profile:?}: {total} B in {patches} PATCHes, {patch_up} B up, {} faults",
        proxy.faults()
    );
    let id = v["url"].as_str().unwrap().rsplit('/').next().unwrap();
    assert_eq!(submit_and_read(&h, id).await, jpeg);
}

/// tus 1.0 § X-HTTP-Method-Override: tus-js-client's `overridePatchMethod` sends each
/// chunk as a POST naming PATCH; our server takes it as the PATCH (no PATCH request
/// line crosses the proxy) and stores exactly the selfie.
#[tokio::test]
async fn tus_js_client_with_method_override_sends_chunks_as_post() {
    let (h, proxy, jpeg, v) = upload_via_clean_proxy("override").await;
    let reqs = requests(&v["requests"]);
    let total = jpeg.len() as u64;
    let chunks = ends_of_16k_chunks(total);
    let expected: Vec<(String, u64, Option<u64>)> = std::iter::once(("POST".into(), 201, None))
        .chain(chunks.iter().map(|&o| ("POST".into(), 204, Some(o))))
        .collect();
    assert_eq!(reqs, expected);
    assert_eq!(
        proxy.patch_bytes(),
        (0, 0),
        "no PATCH request line was sent"
    );
    let id = v["url"].as_str().unwrap().rsplit('/').next().unwrap();
    assert_eq!(submit_and_read(&h, id).await, jpeg);
}
