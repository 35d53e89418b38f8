//! A fault-injecting TCP proxy for loopback tests: it sits between the real client
//! and the real server and makes the link slow, flaky, silent or short.
//!
//! An *answer* is the first bytes the server sends after the client has sent some
//! (one HTTP/1.1 exchange; the client does not pipeline). The flaky and truncated
//! profiles count answers over all connections, so a pooled keep-alive connection
//! is hit as well as a fresh one.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;
use tokio::time::Instant;

/// How the link misbehaves.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Profile {
    /// Forwards everything at once.
    Clean,
    /// A slow mobile link: `latency` added each way, `bits_per_sec` in each direction.
    Slow {
        latency: Duration,
        bits_per_sec: u64,
    },
    /// Every `every`-th answer is lost: the server got the whole request and answered,
    /// the client's connection is reset (RST) before any byte of the answer.
    Flaky { every: usize },
    /// After `after` answers, nothing passes in either direction for `silent`
    /// (connections are accepted, bytes are swallowed); then the link recovers.
    Blackhole { after: usize, silent: Duration },
    /// Every `every`-th answer is cut after `keep` bytes and the connection closed.
    Truncated { every: usize, keep: usize },
}

impl Profile {
    /// 2G: 300 ms latency each way, 50 kbit/s.
    pub const TWO_G: Profile = Profile::Slow {
        latency: Duration::from_millis(300),
        bits_per_sec: 50_000,
    };
    /// Every third answer lost after the request reached the server.
    pub const FLAKY: Profile = Profile::Flaky { every: 3 };

    /// A blackhole of `silent` after the first `after` answers.
    pub fn blackhole(after: usize, silent: Duration) -> Profile {
        Profile::Blackhole { after, silent }
    }
    /// Every third answer cut after 40 bytes (inside the status line and headers).
    pub const TRUNCATED: Profile = Profile::Truncated { every: 3, keep: 40 };
}

#[derive(Default)]
struct Counters {
    connections: AtomicUsize,
    answers: AtomicUsize,
    /// Answers lost or cut by the profile.
    faults: AtomicUsize,
    /// Bytes client → server and server → client that were forwarded.
    up: AtomicUsize,
    down: AtomicUsize,
    /// PATCH requests begun, and their bytes (request line, headers, body) forwarded
    /// client → server: the resumable upload's chunks.
    patches: AtomicUsize,
    patch_up: AtomicUsize,
    /// Requests carrying upload bytes (a body of `application/offset+octet-stream`: a
    /// PATCH, a tus creation-with-upload, a POST overriding PATCH), and their bytes.
    writes: AtomicUsize,
    write_up: AtomicUsize,
    /// When the blackhole ends (set when it starts).
    silent_until: Mutex<Option<Instant>>,
    /// [`FaultProxy::lose_answer_to`]: the next answer to a request for this path
    /// starts a silence that lasts until [`FaultProxy::recover`].
    armed: Mutex<Option<String>>,
    /// The server behind.
    upstream: tokio::sync::watch::Sender<Option<SocketAddr>>,
    /// The fault count, for [`FaultProxy::wait_faults`].
    faults_seen: tokio::sync::watch::Sender<usize>,
}

impl Counters {
    fn fault(&self) {
        let n = self.faults.fetch_add(1, Ordering::SeqCst) + 1;
        self.faults_seen.send_replace(n);
    }
}

/// The running proxy; it stops when dropped.
pub struct FaultProxy {
    addr: SocketAddr,
    counters: Arc<Counters>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FaultProxy {
    /// Listens on a free loopback port and forwards to `upstream` under `profile`.
    pub async fn start(upstream: SocketAddr, profile: Profile) -> std::io::Result<Self> {
        let p = Self::bind(profile).await?;
        p.forward_to(upstream);
        Ok(p)
    }

    /// Listens on a free loopback port (its URL known before the server starts, so the
    /// server can name it as its public URL); connections wait for
    /// [`Self::forward_to`].
    pub async fn bind(profile: Profile) -> std::io::Result<Self> {
        let socket = tokio::net::TcpSocket::new_v4()?;
        if let Profile::Slow { .. } = profile {
            // A slow link holds little in front of it: without this the loopback
            // receive buffer (128 KB and up) would take a whole selfie upload at once,
            // and the client's "bytes sent" would say nothing about the link. The
            // accepted connections inherit it.
            socket.set_recv_buffer_size(LINK_BUFFER)?;
            // And a mobile MSS instead of loopback's 64 KB (the client's send buffer
            // is sized from the MSS: with 64 KB segments it would hold a whole upload).
            socket2::SockRef::from(&socket).set_tcp_mss(LINK_MSS)?;
        }
        socket.bind("127.0.0.1:0".parse().map_err(std::io::Error::other)?)?;
        let listener = socket.listen(128)?;
        let addr = listener.local_addr()?;
        let counters = Arc::new(Counters::default());
        let c = counters.clone();
        let upstream = c.upstream.subscribe();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                c.connections.fetch_add(1, Ordering::SeqCst);
                let c = c.clone();
                let mut upstream = upstream.clone();
                tokio::spawn(async move {
                    let Ok(to) = upstream.wait_for(Option::is_some).await.map(|u| *u) else {
                        return;
                    };
                    let Some(to) = to else { return };
                    if let Ok(server) = TcpStream::connect(to).await {
                        relay(client, server, profile, c).await;
                    }
                });
            }
        });
        Ok(Self {
            addr,
            counters,
            task,
        })
    }

    /// Where connections go.
    pub fn forward_to(&self, upstream: SocketAddr) {
        self.counters.upstream.send_replace(Some(upstream));
    }

    /// `http://127.0.0.1:PORT` of the proxy.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn connections(&self) -> usize {
        self.counters.connections.load(Ordering::SeqCst)
    }
    /// Answers the server began (including the lost and cut ones).
    pub fn answers(&self) -> usize {
        self.counters.answers.load(Ordering::SeqCst)
    }
    /// Answers the profile lost or cut.
    pub fn faults(&self) -> usize {
        self.counters.faults.load(Ordering::SeqCst)
    }
    /// Until [`Self::recover`]: the next answer to a request whose path starts with
    /// `path` (the server got the request and answered) is swallowed, and nothing
    /// passes either way after it. Works with any profile but `Slow`.
    pub fn lose_answer_to(&self, path: &str) {
        *self
            .counters
            .armed
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some(path.to_owned());
    }

    /// Ends a silence now.
    pub fn recover(&self) {
        *self
            .counters
            .silent_until
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// Resolves once the profile has lost or cut `n` answers in all.
    pub async fn wait_faults(&self, n: usize) {
        let mut rx = self.counters.faults_seen.subscribe();
        let _ = rx.wait_for(|seen| *seen >= n).await;
    }

    /// A reader of the bytes forwarded client → server so far (for a callback that
    /// outlives a borrow of the proxy).
    pub fn up_meter(&self) -> impl Fn() -> usize + Send + Sync + 'static {
        let c = self.counters.clone();
        move || c.up.load(Ordering::SeqCst)
    }

    /// PATCH requests begun and their bytes forwarded up (heads and bodies).
    pub fn patch_bytes(&self) -> (usize, usize) {
        (
            self.counters.patches.load(Ordering::SeqCst),
            self.counters.patch_up.load(Ordering::SeqCst),
        )
    }

    /// Requests that carried upload bytes (any method, a body labelled
    /// `application/offset+octet-stream`: the PATCHes and a creation with its first
    /// chunk) and their bytes forwarded up (heads and bodies).
    pub fn upload_bytes(&self) -> (usize, usize) {
        (
            self.counters.writes.load(Ordering::SeqCst),
            self.counters.write_up.load(Ordering::SeqCst),
        )
    }

    /// Bytes forwarded (client → server, server → client).
    pub fn bytes(&self) -> (usize, usize) {
        (
            self.counters.up.load(Ordering::SeqCst),
            self.counters.down.load(Ordering::SeqCst),
        )
    }
}

fn silent(c: &Counters) -> bool {
    let until = *c.silent_until.lock().unwrap_or_else(|p| p.into_inner());
    until.is_some_and(|t| Instant::now() < t)
}

async fn relay(client: TcpStream, server: TcpStream, profile: Profile, c: Arc<Counters>) {
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (cr, cw) = client.into_split();
    let (sr, sw) = server.into_split();
    if let Profile::Slow {
        latency,
        bits_per_sec,
    } = profile
    {
        let up = tokio::spawn(slow_pipe(cr, sw, latency, bits_per_sec, c.clone(), true));
        slow_pipe(sr, cw, latency, bits_per_sec, c, false).await;
        let _ = up.await;
        return;
    }
    // Set by the upward pipe when the client sent bytes; the next server bytes are an answer.
    let requested = Arc::new(AtomicBool::new(false));
    // The path of the request last begun on this connection.
    let path = Arc::new(Mutex::new(String::new()));
    let up = tokio::spawn(pipe_up(cr, sw, c.clone(), requested.clone(), path.clone()));
    pipe_down(sr, cw, profile, c, requested, path).await;
    up.abort();
}

/// Waits as a link of `bits_per_sec` would take for `n` bytes.
async fn throttle(bits_per_sec: u64, n: usize) {
    let micros = (n as u64 * 8 * 1_000_000) / bits_per_sec.max(1);
    tokio::time::sleep(Duration::from_micros(micros)).await;
}

/// The receive buffer of a slow link's proxy side (the kernel doubles it for its own
/// bookkeeping): about what a mobile link queues in front of the radio.
const LINK_BUFFER: u32 = 8 * 1024;

/// The segment size of a slow link (a mobile network's 1,500-byte MTU, less headers).
const LINK_MSS: u32 = 1400;

/// Chunks are at most this big (so latency and rate interleave on the slow link).
const CHUNK: usize = 1024;

/// One direction of the slow link: each chunk is paced at `bits_per_sec` and delivered
/// `latency` after it was read (the delay shifts the stream, it does not add up per chunk).
async fn slow_pipe(
    mut from: OwnedReadHalf,
    mut to: OwnedWriteHalf,
    latency: Duration,
    bits_per_sec: u64,
    counter: Arc<Counters>,
    up: bool,
) {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(Instant, Vec<u8>)>();
    let writer = tokio::spawn(async move {
        while let Some((at, bytes)) = rx.recv().await {
            tokio::time::sleep_until(at).await;
            if to.write_all(&bytes).await.is_err() {
                break;
            }
        }
        let _ = to.shutdown().await;
    });
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        throttle(bits_per_sec, n).await;
        let c = if up { &counter.up } else { &counter.down };
        c.fetch_add(n, Ordering::SeqCst);
        if tx
            .send((Instant::now() + latency, buf[..n].to_vec()))
            .is_err()
        {
            break;
        }
    }
    drop(tx);
    let _ = writer.await;
}

/// Client → server, swallowed while silent.
async fn pipe_up(
    mut from: OwnedReadHalf,
    mut to: OwnedWriteHalf,
    c: Arc<Counters>,
    requested: Arc<AtomicBool>,
    path: Arc<Mutex<String>>,
) {
    let mut buf = vec![0u8; CHUNK];
    // Whether the request under way on this connection is a PATCH, and whether it
    // carries upload bytes.
    let mut patching = false;
    let mut writing = false;
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if silent(&c) {
            continue;
        }
        // A request line ("POST /token HTTP/1.1") begins a request.
        let head = String::from_utf8_lossy(&buf[..n.min(256)]);
        let mut words = head.split(' ');
        if let (Some(m), Some(p)) = (words.next(), words.next()) {
            if !m.is_empty() && m.bytes().all(|b| b.is_ascii_uppercase()) && p.starts_with('/') {
                *path.lock().unwrap_or_else(|p| p.into_inner()) = p.to_owned();
                patching = m == "PATCH";
                if patching {
                    c.patches.fetch_add(1, Ordering::SeqCst);
                }
                // The head, up to its blank line, within this read (a head is short).
                let whole = &buf[..n];
                let end = whole.windows(4).position(|w| w == b"\r\n\r\n").unwrap_or(n);
                writing = String::from_utf8_lossy(&whole[..end])
                    .to_ascii_lowercase()
                    .contains("\r\ncontent-type: application/offset+octet-stream");
                if writing {
                    c.writes.fetch_add(1, Ordering::SeqCst);
                }
            }
        }
        if patching {
            c.patch_up.fetch_add(n, Ordering::SeqCst);
        }
        if writing {
            c.write_up.fetch_add(n, Ordering::SeqCst);
        }
        c.up.fetch_add(n, Ordering::SeqCst);
        requested.store(true, Ordering::SeqCst);
        if to.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
    let _ = to.shutdown().await;
}

/// Server → client, with the answer faults.
async fn pipe_down(
    mut from: OwnedReadHalf,
    mut to: OwnedWriteHalf,
    profile: Profile,
    c: Arc<Counters>,
    requested: Arc<AtomicBool>,
    path: Arc<Mutex<String>>,
) {
    let mut buf = vec![0u8; CHUNK];
    // Bytes of the current answer still allowed through (Truncated).
    let mut budget: Option<usize> = None;
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if silent(&c) {
            continue;
        }
        if requested.swap(false, Ordering::SeqCst) {
            let nth = c.answers.fetch_add(1, Ordering::SeqCst) + 1;
            let hit = {
                let mut armed = c.armed.lock().unwrap_or_else(|p| p.into_inner());
                let p = path.lock().unwrap_or_else(|p| p.into_inner());
                let hit = armed.as_deref().is_some_and(|a| p.starts_with(a));
                if hit {
                    *armed = None;
                }
                hit
            };
            if hit {
                // Silent until recover() (an hour is "until told"). The silence first,
                // then the fault is told: a test that waits for the fault and then calls
                // recover() must find the silence there to end (told first, the silence
                // could start after its recover() and swallow its next answer).
                *c.silent_until.lock().unwrap_or_else(|p| p.into_inner()) =
                    Some(Instant::now() + Duration::from_secs(3600));
                c.fault();
                continue;
            }
            match profile {
                Profile::Flaky { every } if every > 0 && nth % every == 0 => {
                    c.fault();
                    // RST, not FIN: linger 0, and the write half is not shut down.
                    let _ = to.as_ref().set_zero_linger();
                    to.forget();
                    return;
                }
                Profile::Truncated { every, keep } if every > 0 && nth % every == 0 => {
                    c.fault();
                    budget = Some(keep);
                }
                Profile::Blackhole { after, silent } if nth == after + 1 => {
                    *c.silent_until.lock().unwrap_or_else(|p| p.into_inner()) =
                        Some(Instant::now() + silent);
                    c.fault();
                    // This answer is swallowed too.
                    continue;
                }
                _ => budget = None,
            }
        }
        let mut n = n;
        if let Some(left) = budget {
            n = n.min(left);
            budget = Some(left - n);
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
        c.down.fetch_add(n, Ordering::SeqCst);
        if budget == Some(0) {
            let _ = to.shutdown().await;
            return;
        }
    }
    let _ = to.shutdown().await;
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use tokio::net::TcpListener;

    /// A line echo server: answers every line with "ok:<line>\n".
    async fn echo() -> SocketAddr {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = l.accept().await {
                tokio::spawn(async move {
                    let mut buf = [0u8; 256];
                    while let Ok(n) = s.read(&mut buf).await {
                        if n == 0 {
                            break;
                        }
                        let mut out = b"ok:".to_vec();
                        out.extend_from_slice(&buf[..n]);
                        if s.write_all(&out).await.is_err() {
                            break;
                        }
                    }
                });
            }
        });
        addr
    }

    /// One exchange on a fresh connection: what came back before EOF/reset.
    async fn exchange(p: &FaultProxy, msg: &[u8]) -> std::io::Result<Vec<u8>> {
        let mut s = TcpStream::connect(p.addr).await?;
        s.write_all(msg).await?;
        let mut out = Vec::new();
        let mut buf = [0u8; 256];
        loop {
            let n = s.read(&mut buf).await?;
            if n == 0 {
                return Ok(out);
            }
            out.extend_from_slice(&buf[..n]);
            if out.ends_with(b"\n") {
                return Ok(out);
            }
        }
    }

    #[tokio::test]
    async fn clean_forwards_and_counts() {
        let p = FaultProxy::start(echo().await, Profile::Clean)
            .await
            .unwrap();
        assert_eq!(exchange(&p, b"hi\n").await.unwrap(), b"ok:hi\n");
        assert_eq!(p.answers(), 1);
        assert_eq!(p.bytes(), (3, 6));
    }

    #[tokio::test]
    async fn flaky_resets_every_third_answer() {
        let p = FaultProxy::start(echo().await, Profile::FLAKY)
            .await
            .unwrap();
        let mut lost = Vec::new();
        for i in 0..6 {
            let r = exchange(&p, b"x\n").await;
            if r.as_deref().ok() != Some(b"ok:x\n".as_slice()) {
                lost.push(i);
                assert_eq!(
                    r.unwrap_err().kind(),
                    std::io::ErrorKind::ConnectionReset,
                    "a reset, not a clean close"
                );
            }
        }
        assert_eq!(lost, vec![2, 5]);
        assert_eq!(p.faults(), 2);
        assert_eq!(p.answers(), 6, "the server answered every request");
    }

    #[tokio::test]
    async fn truncated_cuts_every_third_answer() {
        let p = FaultProxy::start(echo().await, Profile::Truncated { every: 3, keep: 2 })
            .await
            .unwrap();
        let got: Vec<Vec<u8>> = {
            let mut v = Vec::new();
            for _ in 0..3 {
                v.push(exchange(&p, b"abc\n").await.unwrap());
            }
            v
        };
        assert_eq!(got[0], b"ok:abc\n");
        assert_eq!(got[1], b"ok:abc\n");
        assert_eq!(got[2], b"ok", "cut after 2 bytes, then EOF");
    }

    #[tokio::test]
    async fn blackhole_swallows_then_recovers() {
        let p = FaultProxy::start(echo().await, Profile::blackhole(1, Duration::from_secs(1)))
            .await
            .unwrap();
        assert_eq!(exchange(&p, b"a\n").await.unwrap(), b"ok:a\n");
        // The second answer starts the silence and is swallowed.
        let silent = tokio::time::timeout(Duration::from_millis(100), exchange(&p, b"b\n")).await;
        assert!(silent.is_err(), "nothing comes back while silent");
        // After the silence, a new exchange goes through (the server is polled until then).
        let mut answer = None;
        for _ in 0..100 {
            if let Ok(Ok(a)) =
                tokio::time::timeout(Duration::from_millis(100), exchange(&p, b"c\n")).await
            {
                answer = Some(a);
                break;
            }
        }
        assert_eq!(answer.unwrap(), b"ok:c\n");
    }

    #[tokio::test]
    async fn slow_link_delays_and_throttles() {
        let p = FaultProxy::start(
            echo().await,
            Profile::Slow {
                latency: Duration::from_millis(50),
                bits_per_sec: 80_000,
            },
        )
        .await
        .unwrap();
        let start = Instant::now();
        // 1000 bytes up at 10 kB/s ≈ 100 ms, 1003 down ≈ 100 ms, plus 2 × 50 ms latency.
        let msg = [b'z'; 999]
            .iter()
            .copied()
            .chain(*b"\n")
            .collect::<Vec<u8>>();
        let mut s = TcpStream::connect(p.addr).await.unwrap();
        s.write_all(&msg).await.unwrap();
        let mut got = vec![0u8; 1003];
        s.read_exact(&mut got).await.unwrap();
        assert!(got.starts_with(b"ok:zzz"));
        assert!(start.elapsed() >= Duration::from_millis(300));
    }
}
