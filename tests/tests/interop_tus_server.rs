//! Interoperability, the other direction of the tus edge: OUR client
//! (`BackendClient::create_upload_with` / `upload_new` / `upload_offset`, as the wallet
//! calls them) uploads the selfie to the tus project's own Node server (`@tus/server`
//! with `@tus/file-store`, npm), which stores it as a file on disk: the first chunk in
//! the creation (tus creation-with-upload), the rest by PATCH. The file is compared
//! byte for byte with the selfie, and the server's log of the requests it got shows
//! the chunks our client chose. Both of the server's `Location` forms (absolute, and
//! relative with `relativeLocation`) are taken. Through the fault proxy (flaky: answers
//! lost after the server stored the chunk; truncated: answers cut), our client asks
//! the server's offset (HEAD) and goes on: no offset is sent twice to the server, and
//! the upload bytes counted at the proxy are the selfie plus the heads.
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

/// The most a PATCH's request line and headers take (measured ~230 B; as net_upload).
const PATCH_HEAD_MAX: usize = 400;

fn server_dir() -> PathBuf {
    ikd_tests::interop::node_dir("tus", &["@tus/server", "@tus/file-store"])
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

/// The writes the server got, in order, as (offset, Content-Length): a creation
/// with a body (creation-with-upload) writes at 0, a PATCH at its Upload-Offset.
fn writes(log: &[Value]) -> Vec<(u64, u64)> {
    let n = |l: &Value, k: &str| l[k].as_str().and_then(|v| v.parse::<u64>().ok());
    log.iter()
        .filter_map(|l| match l["method"].as_str() {
            Some("PATCH") => Some((n(l, "offset").unwrap(), n(l, "length").unwrap())),
            Some("POST") => n(l, "length").filter(|&len| len > 0).map(|len| (0, len)),
            _ => None,
        })
        .collect()
}

/// Our client's upload of the selfie to `base` (the server or a proxy in front):
/// the upload id and the progress it told.
async fn upload_through(base: &str, jpeg: &[u8]) -> (String, Vec<u64>) {
    let client = BackendClient::new(base).unwrap();
    let new = client.create_upload_with(jpeg).await.unwrap();
    // @tus/server took the first chunk with the creation.
    assert_eq!(new.offset, ChunkSize::FIRST as u64);
    assert_eq!(
        client.upload_offset(&new.id).await.unwrap(),
        ChunkSize::FIRST as u64
    );
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    let len = jpeg.len() as u64;
    let on: OnUpload = Arc::new(move |done, total| {
        assert_eq!(total, len);
        s.lock().unwrap().push(done);
    });
    client.upload_new(&new, jpeg, Some(&on)).await.unwrap();
    assert_eq!(
        client.upload_offset(&new.id).await.unwrap(),
        jpeg.len() as u64
    );
    let seen = seen.lock().unwrap().clone();
    (new.id, seen)
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
    // The chunks our client chose: contiguous, the first ChunkSize::FIRST (with the
    // creation), each within the bounds (the last may be shorter), and the progress
    // told is the offset from the creation on.
    let chunks = writes(&log);
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
    assert_eq!(
        progress[..],
        ends[..],
        "progress = the offsets @tus/server answered"
    );
    eprintln!(
        "@tus/server ({}): {} B in a creation and PATCHes of {:?} B",
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
    let (n_writes, write_up) = proxy.upload_bytes();
    drop(proxy);
    let (log, files) = node.stop().await;
    assert!(faults > 0, "the profile hit");
    assert_eq!(stored(&files, &log, &id, jpeg.len()), jpeg);
    let total = jpeg.len();
    // Every write the server got started where the one before ended: after a lost or
    // cut answer our client asked the offset (HEAD) and never sent a byte the server
    // had confirmed again.
    let chunks: Vec<(u64, u64)> = writes(&log);
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
    // At the proxy: the body bytes once, plus a head per write.
    assert_eq!(n_writes, chunks.len());
    assert!(write_up >= total);
    assert!(
        write_up <= total + n_writes * PATCH_HEAD_MAX,
        "{write_up} B for {total} B in {n_writes} writes: a confirmed byte was sent again"
    );
    eprintln!(
        "{profile:?} → @tus/server: {total} B in {n_writes} writes, {write_up} B of them up, \
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

/// One answer: status and the headers a tus check reads.
#[derive(Debug)]
struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
}

impl Answer {
    fn get(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

async fn send(req: reqwest::RequestBuilder) -> Answer {
    let resp = req.send().await.unwrap();
    Answer {
        status: resp.status().as_u16(),
        headers: resp.headers().clone(),
    }
}

/// An HTTP-date in the preferred form (RFC 9110 §5.6.7 IMF-fixdate, which tus 1.0's
/// "RFC 7231 datetime format" is): exactly what formatting the parsed time gives back.
fn imf_fixdate(v: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    const FORM: &str = "%a, %d %b %Y %H:%M:%S GMT";
    let t = chrono::NaiveDateTime::parse_from_str(v, FORM)
        .ok()?
        .and_utc();
    (t.format(FORM).to_string() == v).then_some(t)
}

/// What tus 1.0 (core, creation, creation-with-upload, expiration) requires of a
/// server's answers, probed
/// on `base`. Checks that every tus server must pass are asserted here; the three
/// where @tus/server departs from the spec are returned (status codes) for the caller:
/// (another Tus-Resumable version, a PATCH of the wrong media type, a POST with
/// X-HTTP-Method-Override: PATCH).
async fn probe_tus_1_0(base: &str) -> [u16; 3] {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let uploads = format!("{base}/api/v1/uploads");
    let tus = |r: reqwest::RequestBuilder| r.header("Tus-Resumable", "1.0.0");
    let resumable = |a: &Answer, what: &str| {
        assert_eq!(
            a.get("tus-resumable"),
            Some("1.0.0"),
            "{base}: {what}: {a:?}"
        );
    };

    // Discovery: OPTIONS needs no Tus-Resumable.
    let a = send(http.request(reqwest::Method::OPTIONS, &uploads)).await;
    assert!(matches!(a.status, 200 | 204), "{base}: OPTIONS {a:?}");
    let list = |h: &str| -> Vec<String> {
        a.get(h)
            .unwrap_or_default()
            .split(',')
            .map(|s| s.trim().to_owned())
            .collect()
    };
    assert!(list("tus-version").contains(&"1.0.0".to_owned()), "{a:?}");
    let ext = list("tus-extension");
    for e in ["creation", "creation-with-upload", "expiration"] {
        assert!(ext.contains(&e.into()), "{base}: {e} in {ext:?}");
    }
    assert_eq!(a.get("tus-max-size"), Some("204800"));

    // Creation: 201, Location, Upload-Expires (an IMF-fixdate about 24 h ahead).
    let a = send(tus(http.post(&uploads)).header("Upload-Length", "100")).await;
    assert_eq!(a.status, 201, "{base}: POST {a:?}");
    resumable(&a, "POST");
    let location = a.get("location").unwrap();
    let upload = reqwest::Url::parse(&uploads)
        .unwrap()
        .join(location)
        .unwrap()
        .to_string();
    assert!(upload.starts_with(&format!("{uploads}/")), "{upload}");
    let expires = imf_fixdate(a.get("upload-expires").unwrap()).unwrap();
    let ahead = expires - chrono::Utc::now();
    assert!(
        ahead > chrono::Duration::hours(23) && ahead <= chrono::Duration::hours(24),
        "{ahead}"
    );
    // Creation with upload: the body's bytes are stored, and the answer says so.
    let a = send(
        tus(http.post(&uploads))
            .header("Upload-Length", "100")
            .header("Content-Type", "application/offset+octet-stream")
            .body(vec![7u8; 30]),
    )
    .await;
    assert_eq!(a.status, 201, "{base}: POST with upload {a:?}");
    resumable(&a, "POST with upload");
    assert_eq!(a.get("upload-offset"), Some("30"), "{base}: {a:?}");
    let with = reqwest::Url::parse(&uploads)
        .unwrap()
        .join(a.get("location").unwrap())
        .unwrap()
        .to_string();
    let a = send(tus(http.head(&with))).await;
    assert_eq!(a.get("upload-offset"), Some("30"), "{base}: HEAD {a:?}");
    // Past Tus-Max-Size: 413.
    let a = send(tus(http.post(&uploads)).header("Upload-Length", "204801")).await;
    assert_eq!(a.status, 413, "{base}: {a:?}");
    resumable(&a, "POST too long");

    // HEAD: the offset (0), the length, never cached.
    let head = || send(tus(http.head(&upload)));
    let a = head().await;
    assert!(matches!(a.status, 200 | 204), "{base}: HEAD {a:?}");
    resumable(&a, "HEAD");
    assert_eq!(a.get("upload-offset"), Some("0"));
    assert_eq!(a.get("upload-length"), Some("100"));
    assert!(a
        .get("cache-control")
        .unwrap_or_default()
        .contains("no-store"));

    // PATCH: 204 with the new offset and Upload-Expires.
    let patch = |offset: &str, media: &str| {
        tus(http.patch(&upload))
            .header("Upload-Offset", offset)
            .header("Content-Type", media)
            .body(vec![7u8; 10])
    };
    let a = send(patch("0", "application/offset+octet-stream")).await;
    assert_eq!(a.status, 204, "{base}: PATCH {a:?}");
    resumable(&a, "PATCH");
    assert_eq!(a.get("upload-offset"), Some("10"));
    assert!(imf_fixdate(a.get("upload-expires").unwrap()).is_some());
    // The same chunk again: 409, and the upload is not changed.
    let a = send(patch("0", "application/offset+octet-stream")).await;
    assert_eq!(a.status, 409, "{base}: stale PATCH {a:?}");
    resumable(&a, "stale PATCH");
    assert_eq!(head().await.get("upload-offset"), Some("10"));

    // Unknown: 404, 410 or 403, without Upload-Offset.
    let a = send(tus(http.head(format!("{uploads}/AAAAAAAAAAAAAAAAAAAAAA")))).await;
    assert!(matches!(a.status, 403 | 404 | 410), "{base}: {a:?}");
    assert!(a.get("upload-offset").is_none());
    resumable(&a, "HEAD unknown");

    // Where @tus/server 2.4.5 departs from the spec: returned, and asserted for ours.
    let a = send(
        http.post(&uploads)
            .header("Tus-Resumable", "0.2.2")
            .header("Upload-Length", "100"),
    )
    .await;
    resumable(&a, "POST other version");
    let version = a.status;
    if version == 412 {
        assert!(a.get("tus-version").is_some_and(|v| v.contains("1.0.0")));
    }
    let a = send(patch("10", "text/plain")).await;
    resumable(&a, "PATCH text/plain");
    let media = a.status;
    let a = send(
        tus(http.post(&upload))
            .header("X-HTTP-Method-Override", "PATCH")
            .header("Upload-Offset", "10")
            .header("Content-Type", "application/offset+octet-stream")
            .body(vec![7u8; 10]),
    )
    .await;
    resumable(&a, "POST overriding PATCH");
    let overridden = a.status;
    if overridden == 204 {
        assert_eq!(a.get("upload-offset"), Some("20"));
    }
    [version, media, overridden]
}

#[tokio::test]
async fn both_servers_answer_what_tus_1_0_requires() {
    let h = ikd_tests::Harness::start().await;
    let ours = probe_tus_1_0(&h.base_url).await;
    // tus 1.0: another version → 412 (with Tus-Version); a PATCH not of
    // application/offset+octet-stream → 415 (SHOULD); X-HTTP-Method-Override is the
    // method (MUST).
    assert_eq!(ours, [412, 415, 204], "ikd-server");
    // Tus-Resumable on every answer of ours, a refusal of a method not offered (DELETE:
    // no termination extension) and a bad override included.
    let http = reqwest::Client::new();
    let upload = format!("{}/api/v1/uploads/AAAAAAAAAAAAAAAAAAAAAA", h.base_url);
    for (req, status) in [
        (http.delete(&upload), 405),
        (http.get(&upload), 405),
        (
            http.post(&upload)
                .header("X-HTTP-Method-Override", "DELETE"),
            405,
        ),
        (
            http.post(&upload).header("X-HTTP-Method-Override", "HEAD"),
            404,
        ),
    ] {
        let a = send(req.header("Tus-Resumable", "1.0.0")).await;
        assert_eq!(a.status, status, "{a:?}");
        assert_eq!(a.get("tus-resumable"), Some("1.0.0"), "{a:?}");
        // RFC 9110: a 405 names what the resource takes; the same for every refusal,
        // including a POST that overrides to nothing or to a method not offered.
        if status == 405 {
            assert_eq!(a.get("allow"), Some("HEAD, PATCH"), "{a:?}");
        }
    }
    let plain_post = send(http.post(&upload).header("Tus-Resumable", "1.0.0")).await;
    assert_eq!(plain_post.status, 405, "{plain_post:?}");
    assert_eq!(
        plain_post.get("allow"),
        Some("HEAD, PATCH"),
        "{plain_post:?}"
    );
    let node = TusNode::start(false).await;
    let theirs = probe_tus_1_0(&node.url()).await;
    drop(node.stop().await);
    // @tus/server 2.4.5 answers 400 to both of the first two and takes the override's
    // POST as a creation without Upload-Length (400): kept as observed, so a change in
    // it shows here.
    eprintln!("ikd-server {ours:?}, @tus/server {theirs:?} (version, media type, override)");
    assert_eq!(theirs, [400, 400, 400], "@tus/server 2.4.5");
}

/// tus 1.0 § Expiration: an upload the server keeps track of as expired answers 410
/// Gone (@tus/server does; ours answers 404). Our client takes either as gone
/// (`NotFound`, on which the wallet makes a new upload), and the new one completes.
/// The expiry is made real on disk: the upload's info file (@tus/file-store) is given
/// a creation date 25 h ago.
#[tokio::test]
async fn an_expired_upload_is_gone_and_a_new_one_completes() {
    use ikd_core::client::ClientError;
    let jpeg = selfie_jpeg();
    let node = TusNode::start(false).await;
    let client = BackendClient::new(&node.url()).unwrap();
    let old = client.create_upload(jpeg.len() as u64).await.unwrap();
    let info_file = node.files.path().join(format!("{old}.json"));
    let mut info: Value = serde_json::from_slice(&std::fs::read(&info_file).unwrap()).unwrap();
    let past = chrono::Utc::now() - chrono::Duration::hours(25);
    info["creation_date"] = past
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
        .into();
    std::fs::write(&info_file, serde_json::to_vec(&info).unwrap()).unwrap();
    let gone = client.upload_offset(&old).await;
    assert!(matches!(gone, Err(ClientError::NotFound)), "{gone:?}");
    let gone = client.upload(&old, &jpeg, None).await;
    assert!(matches!(gone, Err(ClientError::NotFound)), "{gone:?}");
    let new = client.create_upload_with(&jpeg).await.unwrap();
    // Just created with its first chunk: the rest goes on from there without a HEAD
    // (upload_new).
    client.upload_new(&new, &jpeg, None).await.unwrap();
    let (log, files) = node.stop().await;
    let statuses: Vec<&str> = log.iter().filter_map(|l| l["method"].as_str()).collect();
    assert_eq!(
        &statuses[..5],
        ["POST", "HEAD", "HEAD", "POST", "PATCH"],
        "{statuses:?}"
    );
    assert_eq!(stored(&files, &log, &new.id, jpeg.len()), jpeg);
}
