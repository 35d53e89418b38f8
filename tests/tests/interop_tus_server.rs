//! Interoperability, the other direction of the tus edge: OUR client
//! (`BackendClient::create_upload` / `upload` / `upload_offset`, as the wallet calls
//! them) uploads the selfie to the tus project's own Node server (`@tus/server` with
//! `@tus/file-store`, npm), which stores it as a file on disk. The file is compared
//! byte for byte with the selfie, and the server's log of the requests it got shows
//! the chunks our client chose. Both of the server's `Location` forms (absolute, and
//! relative with `relativeLocation`) are taken. Through the fault proxy (flaky: answers
//! lost after the server stored the chunk; truncated: answers cut), our client asks
//! the server's offset (HEAD) and goes on: no offset is sent twice to the server, and
//! the PATCH bytes counted at the proxy are the selfie plus the heads.
//!
//! The server is `tests/interop/tus/server.mjs`. It needs `node` on PATH and
//! `npm ci --prefix tests/interop/tus` run once (scripts/setup does).
#![allow(clippy::unwrap_used)]

use ikd_core::client::{BackendClient, ChunkSize, OnUpload};
use ikd_tests::faultnet::{FaultProxy, Profile};
use ikd_tests::selfie_jpeg;
use serde_json::Value;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, BufReader};

const INSTALL: &str = "npm ci --prefix tests/interop/tus";
/// The most a PATCH's request line and headers take (measured ~230 B; as net_upload).
const PATCH_HEAD_MAX: usize = 400;

fn server_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("interop/tus");
    let node = std::process::Command::new("node").arg("--version").output();
    assert!(
        node.as_ref().is_ok_and(|o| o.status.success()),
        "the tus interop test needs Node.js (`node` on PATH), then `{INSTALL}`"
    );
    assert!(
        dir.join("node_modules/@tus/server/package.json").is_file()
            && dir
                .join("node_modules/@tus/file-store/package.json")
                .is_file(),
        "@tus/server is not installed in {}: run `{INSTALL}` from the repository root",
        dir.display()
    );
    dir
}

/// `server.mjs` running: its port, its upload directory, its stdout.
struct TusNode {
    child: tokio::process::Child,
    out: tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
    addr: std::net::SocketAddr,
    files: tempfile::TempDir,
}

impl TusNode {
    async fn start(relative: bool) -> Self {
        let dir = server_dir();
        let files = tempfile::tempdir().unwrap();
        let mut cmd = tokio::process::Command::new("node");
        cmd.arg(dir.join("server.mjs")).arg(files.path());
        if relative {
            cmd.arg("relative");
        }
        let mut child = cmd
            .current_dir(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap()).lines();
        // It prints its port once it listens.
        let first = out
            .next_line()
            .await
            .unwrap()
            .expect("server.mjs printed nothing");
        let port = serde_json::from_str::<Value>(&first).unwrap()["port"]
            .as_u64()
            .unwrap();
        Self {
            child,
            out,
            addr: ([127, 0, 0, 1], port as u16).into(),
            files,
        }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Closes its stdin (it exits) and returns every line it printed after the port.
    async fn stop(mut self) -> (Vec<Value>, tempfile::TempDir) {
        drop(self.child.stdin.take());
        let mut lines = Vec::new();
        while let Some(l) = self.out.next_line().await.unwrap() {
            lines.push(serde_json::from_str(&l).unwrap());
        }
        assert!(self.child.wait().await.unwrap().success());
        (lines, self.files)
    }
}

/// The PATCHes the server got, in order: (Upload-Offset, Content-Length).
fn patches(log: &[Value]) -> Vec<(u64, u64)> {
    log.iter()
        .filter(|l| l["method"] == "PATCH")
        .map(|l| {
            let n = |k: &str| l[k].as_str().unwrap().parse::<u64>().unwrap();
            (n("offset"), n("length"))
        })
        .collect()
}

/// Our client's upload of the selfie to `base` (the server or a proxy in front):
/// the upload id and the progress it told.
async fn upload_through(base: &str, jpeg: &[u8]) -> (String, Vec<u64>) {
    let client = BackendClient::new(base).unwrap();
    let id = client.create_upload(jpeg.len() as u64).await.unwrap();
    assert_eq!(client.upload_offset(&id).await.unwrap(), 0);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    let len = jpeg.len() as u64;
    let on: OnUpload = Arc::new(move |done, total| {
        assert_eq!(total, len);
        s.lock().unwrap().push(done);
    });
    client.upload(&id, jpeg, Some(&on)).await.unwrap();
    assert_eq!(client.upload_offset(&id).await.unwrap(), jpeg.len() as u64);
    let seen = seen.lock().unwrap().clone();
    (id, seen)
}

/// The file @tus/file-store wrote for `id`, and that the server said it finished.
fn stored(files: &tempfile::TempDir, log: &[Value], id: &str, len: usize) -> Vec<u8> {
    assert!(
        log.iter()
            .any(|l| l["finished"] == id && l["size"].as_u64() == Some(len as u64)),
        "@tus/server finished {id}: {log:?}"
    );
    std::fs::read(files.path().join(id)).unwrap()
}

async fn our_client_uploads_to_tus_node_server(relative: bool) {
    let jpeg = selfie_jpeg();
    let node = TusNode::start(relative).await;
    let (id, progress) = upload_through(&node.url(), &jpeg).await;
    let (log, files) = node.stop().await;
    assert_eq!(
        stored(&files, &log, &id, jpeg.len()),
        jpeg,
        "the file @tus/server stored is the selfie"
    );
    // The chunks our client chose: contiguous, the first ChunkSize::FIRST, each within
    // the bounds (the last may be shorter), and the progress told is the offset after
    // each.
    let chunks = patches(&log);
    assert!(chunks.len() >= 2, "{chunks:?}");
    assert_eq!(chunks[0], (0, ChunkSize::FIRST as u64));
    let mut at = 0;
    for (i, &(offset, len)) in chunks.iter().enumerate() {
        assert_eq!(offset, at, "contiguous: {chunks:?}");
        let last = i + 1 == chunks.len();
        assert!(len <= ChunkSize::MAX as u64 && (last || len >= ChunkSize::MIN as u64));
        at += len;
    }
    assert_eq!(at, jpeg.len() as u64);
    let ends: Vec<u64> = chunks.iter().map(|&(o, l)| o + l).collect();
    assert_eq!(progress[0], 0);
    assert_eq!(
        progress[1..],
        ends[..],
        "progress = the offsets @tus/server answered"
    );
    eprintln!(
        "@tus/server ({}): {} B in PATCHes of {:?} B",
        if relative {
            "relative Location"
        } else {
            "absolute Location"
        },
        jpeg.len(),
        chunks.iter().map(|c| c.1).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn our_client_uploads_the_selfie_to_tus_node_server_absolute_location() {
    our_client_uploads_to_tus_node_server(false).await;
}

#[tokio::test]
async fn our_client_uploads_the_selfie_to_tus_node_server_relative_location() {
    our_client_uploads_to_tus_node_server(true).await;
}

async fn resumes_against_tus_node_server(profile: Profile) {
    let jpeg = selfie_jpeg();
    let node = TusNode::start(false).await;
    let proxy = FaultProxy::start(node.addr, profile).await.unwrap();
    let (id, progress) = upload_through(&proxy.url(), &jpeg).await;
    let faults = proxy.faults();
    let (n_patches, patch_up) = proxy.patch_bytes();
    drop(proxy);
    let (log, files) = node.stop().await;
    assert!(faults > 0, "the profile hit");
    assert_eq!(stored(&files, &log, &id, jpeg.len()), jpeg);
    let total = jpeg.len();
    // Every PATCH the server got started where the one before ended: after a lost or
    // cut answer our client asked the offset (HEAD) and never sent a byte the server
    // had confirmed again.
    let chunks: Vec<(u64, u64)> = patches(&log);
    let mut at = 0;
    for &(offset, len) in &chunks {
        assert_eq!(offset, at, "no offset sent twice: {chunks:?}");
        at += len;
    }
    assert_eq!(at, total as u64);
    let heads = log.iter().filter(|l| l["method"] == "HEAD").count();
    // A PATCH the server stored whose answer was lost is followed by a HEAD, not the
    // next PATCH (an answered one is): at least one, before the last chunk.
    let methods: Vec<&str> = log.iter().filter_map(|l| l["method"].as_str()).collect();
    let last_patch = methods.iter().rposition(|m| *m == "PATCH").unwrap();
    let resumed = methods[..last_patch]
        .windows(2)
        .filter(|w| w == &["PATCH", "HEAD"])
        .count();
    assert!(
        resumed >= 1,
        "resumed after a lost PATCH answer: {methods:?}"
    );
    assert!(progress.windows(2).all(|p| p[0] <= p[1]));
    assert_eq!(*progress.last().unwrap(), total as u64);
    // At the proxy: the body bytes once, plus a head per PATCH.
    assert_eq!(n_patches, chunks.len());
    assert!(patch_up >= total);
    assert!(
        patch_up <= total + n_patches * PATCH_HEAD_MAX,
        "{patch_up} B for {total} B in {n_patches} PATCHes: a confirmed byte was sent again"
    );
    eprintln!(
        "{profile:?} → @tus/server: {total} B in {n_patches} PATCHes, {patch_up} B of PATCH up, \
         {faults} faults, {heads} HEADs, {resumed} resumed; requests {methods:?}"
    );
}

#[tokio::test]
async fn flaky_answers_resume_against_tus_node_server() {
    resumes_against_tus_node_server(Profile::FLAKY).await;
}

#[tokio::test]
async fn truncated_answers_resume_against_tus_node_server() {
    resumes_against_tus_node_server(Profile::TRUNCATED).await;
}
