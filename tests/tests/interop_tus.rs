//! Interoperability: the tus project's own client, `tus-js-client` (npm), uploads the
//! selfie to the real ikd-server in 16 KB chunks over loopback, with its metadata
//! header (ignored by the server), and the resulting upload is what a submit then
//! uses (`selfie_upload`): one enrollment holding the exact bytes.
//!
//! The client is `tests/interop/tus/upload.mjs`. It needs `node` on PATH and
//! `npm ci --prefix tests/interop/tus` run once (scripts/setup does).
#![allow(clippy::unwrap_used)]

use ikd_tests::{device_key, selfie_jpeg, Harness};
use std::path::PathBuf;

const INSTALL: &str = "npm ci --prefix tests/interop/tus";
const SITI: &str = "1671014509900001";

fn client_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("interop/tus");
    let node = std::process::Command::new("node").arg("--version").output();
    assert!(
        node.as_ref().is_ok_and(|o| o.status.success()),
        "the tus interop test needs Node.js (`node` on PATH), then `{INSTALL}`"
    );
    assert!(
        dir.join("node_modules/tus-js-client/package.json")
            .is_file(),
        "tus-js-client is not installed in {}: run `{INSTALL}` from the repository root",
        dir.display()
    );
    dir
}

#[tokio::test]
async fn tus_js_client_uploads_a_selfie_that_a_submit_uses() {
    let dir = client_dir();
    let h = Harness::start().await;
    let jpeg = selfie_jpeg();
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("selfie.jpg");
    std::fs::write(&file, &jpeg).unwrap();
    let out = tokio::process::Command::new("node")
        .arg(dir.join("upload.mjs"))
        .arg(format!("{}/api/v1/uploads", h.base_url))
        .arg(&file)
        .arg("16384")
        .current_dir(&dir)
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "tus-js-client failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
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
    let key = device_key();
    let mut req = h.enroll_request(SITI, "siti@example.com", &key).await;
    req.selfie_jpeg = None;
    req.selfie_upload = Some(id);
    let res = h.client.submit(&req).await.unwrap();
    assert_eq!(h.count("SELECT count(*) FROM enrollments"), 1);
    assert_eq!(h.count("SELECT count(*) FROM uploads"), 0, "used up");
    // The enrollment's reads leave the selfie out; the officer's detail and the face
    // check read it on its own.
    let selfie = h
        .server
        .state
        .store
        .selfie(&res.enrollment_id)
        .unwrap()
        .unwrap();
    assert_eq!(
        selfie, jpeg,
        "the enrollment holds the bytes tus-js-client sent"
    );
}
