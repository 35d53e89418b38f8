//! Upload progress, two ways.
//!
//! The selfie goes as a resumable upload (tus 1.0, the server's `crate::upload`):
//! [`BackendClient::create_upload_with`] creates it with its first chunk in the
//! creation's body (creation-with-upload), [`BackendClient::upload_new`] and
//! [`BackendClient::upload`] send the rest in chunks (`PATCH` with `Upload-Offset`), and the
//! progress it reports is the offset the server answered, that is, bytes the server
//! has stored. The chunk size follows the measured throughput ([`ChunkSize`]: 16 KB
//! first, aiming at ~4 s a chunk, 4 to 64 KB), so on 2G the progress moves every few
//! seconds, and a dropped connection loses at most the chunk in flight: the client
//! asks for the offset (`HEAD`) and goes on from there, never resending a byte the
//! server confirmed.
//!
//! [`CountingBody`] (the "Lupa PIN" request, which still carries its selfie inline)
//! counts the bytes the HTTP connection has taken from the body: not bytes on the wire
//! (the kernel's send buffer takes a ~100 KB body at once; docs/notes/session6-net.md),
//! so that count is not shown as "sent".

use super::error::transport_error;
use super::{BackendClient, ClientError};
use bytes::Bytes;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// Told `(done, total)`: for [`BackendClient::upload`], the bytes the server has
/// stored, of `total`; for a counted body, the bytes handed to the connection. Keep it
/// short (send on a channel).
pub type OnUpload = Arc<dyn Fn(u64, u64) + Send + Sync>;

/// The size of the body's pieces.
pub const UPLOAD_CHUNK: usize = 1024;

/// `data` in [`UPLOAD_CHUNK`]-byte frames, telling `on` after each frame is taken.
pub(super) struct CountingBody {
    data: Bytes,
    pos: usize,
    on: OnUpload,
}

impl CountingBody {
    pub(super) fn new(data: Bytes, on: OnUpload) -> Self {
        Self { data, pos: 0, on }
    }
}

impl http_body::Body for CountingBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        let total = this.data.len();
        if this.pos >= total {
            return Poll::Ready(None);
        }
        let end = (this.pos + UPLOAD_CHUNK).min(total);
        let chunk = this.data.slice(this.pos..end);
        this.pos = end;
        (this.on)(end as u64, total as u64);
        Poll::Ready(Some(Ok(http_body::Frame::data(chunk))))
    }

    fn is_end_stream(&self) -> bool {
        self.pos >= self.data.len()
    }

    /// Exact: the request goes with a `Content-Length`, not chunked.
    fn size_hint(&self) -> http_body::SizeHint {
        http_body::SizeHint::with_exact((self.data.len() - self.pos.min(self.data.len())) as u64)
    }
}

/// The tus protocol version spoken.
pub const TUS_VERSION: &str = "1.0.0";
const OFFSET_OCTET_STREAM: &str = "application/offset+octet-stream";

/// The next chunk's size: [`Self::FIRST`] at the start, then what the last chunk's
/// throughput carries in [`Self::AIM`], within [`Self::MIN`]..=[`Self::MAX`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkSize(usize);

impl ChunkSize {
    pub const FIRST: usize = 16 * 1024;
    pub const MIN: usize = 4 * 1024;
    pub const MAX: usize = 64 * 1024;
    /// Each chunk waits for its answer (one round trip with the link idle: ~600 ms on
    /// 2G), so short chunks cost time: at 2 s the 2G upload of the 72 KB sample took
    /// 19.3 s in 9 chunks, at 4 s 15.9 s in 5 (`net_profiles`, session 7), while the
    /// bar still moves every few seconds and a drop loses at most one chunk.
    pub const AIM: std::time::Duration = std::time::Duration::from_secs(4);

    pub fn new() -> Self {
        Self(Self::FIRST)
    }

    pub fn get(self) -> usize {
        self.0
    }

    /// After `bytes` were stored in `took`.
    pub fn measured(&mut self, bytes: usize, took: std::time::Duration) {
        let secs = took.as_secs_f64().max(0.001);
        let next = (bytes as f64 / secs * Self::AIM.as_secs_f64()) as usize;
        // Whole KB, and at most twice the last (one fast chunk on a warm link is no
        // proof of the next).
        let next = next.min(self.0.saturating_mul(2)) / 1024 * 1024;
        self.0 = next.clamp(Self::MIN, Self::MAX);
    }
}

impl Default for ChunkSize {
    fn default() -> Self {
        Self::new()
    }
}

/// An upload just created by [`BackendClient::create_upload_with`]: its id (a
/// capability), the bytes its creation stored, and the next chunk's size.
#[derive(Debug, Clone)]
pub struct NewUpload {
    pub id: String,
    pub offset: u64,
    size: ChunkSize,
}

/// A chunk's answer.
enum Patched {
    /// Stored: the new offset.
    Stored(u64),
    /// The server holds another offset (a retried chunk it had): ask it.
    Mismatch,
}

impl BackendClient {
    fn tus(&self, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        req.header("Tus-Resumable", TUS_VERSION)
    }

    async fn refusal(resp: reqwest::Response) -> ClientError {
        let status = resp.status();
        // tus 1.0: an upload the server removed answers 404, or 410 Gone where the
        // server keeps track of expired ones (@tus/server does); either is gone.
        if status == reqwest::StatusCode::GONE {
            return ClientError::NotFound;
        }
        let retry = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        let body: Option<crate::wire::ApiError> = resp.json().await.ok();
        super::map_error(status, body, retry)
    }

    fn offset_in(resp: &reqwest::Response) -> Result<u64, ClientError> {
        resp.headers()
            .get("upload-offset")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| ClientError::Protocol("Upload-Offset".into()))
    }

    /// POST /api/v1/uploads (tus creation) for `length` bytes: the upload's id (a
    /// capability; keep it with the pending step). A creation whose answer was lost
    /// is made again (the orphan expires on the server).
    pub async fn create_upload(&self, length: u64) -> Result<String, ClientError> {
        Ok(self.create(length, &[]).await?.0)
    }

    /// POST /api/v1/uploads for `data`, carrying its first chunk ([`ChunkSize::FIRST`])
    /// in the creation (tus creation-with-upload): one request and one round trip
    /// less than a creation and a first PATCH (~0.6 s on 2G). The upload's id (keep it
    /// with the pending step), and the bytes the server stored: the answer's
    /// `Upload-Offset`, or 0 from a server that takes only plain creations (the rest
    /// then goes by PATCH from 0). Go on with [`Self::upload_new`]. A creation whose
    /// answer was lost is made again, with its chunk (the orphan expires on the
    /// server).
    pub async fn create_upload_with(&self, data: &[u8]) -> Result<NewUpload, ClientError> {
        let first = &data[..data.len().min(ChunkSize::FIRST)];
        let t = tokio::time::Instant::now();
        let (id, offset) = self.create(data.len() as u64, first).await?;
        let mut size = ChunkSize::new();
        if offset > 0 {
            size.measured(offset as usize, t.elapsed());
        }
        Ok(NewUpload { id, offset, size })
    }

    async fn create(&self, length: u64, first: &[u8]) -> Result<(String, u64), ClientError> {
        let url = self.url(crate::wire::paths::UPLOADS);
        self.retrying(|| async {
            let mut req = self
                .tus(self.http.post(&url))
                .header("Upload-Length", length.to_string());
            if !first.is_empty() {
                req = req
                    .header(reqwest::header::CONTENT_TYPE, OFFSET_OCTET_STREAM)
                    .body(first.to_vec());
            }
            let resp = req.send().await.map_err(transport_error)?;
            if resp.status() != reqwest::StatusCode::CREATED {
                return Err(Self::refusal(resp).await);
            }
            let location = resp
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .ok_or_else(|| ClientError::Protocol("Location".into()))?;
            let id = self.upload_id_in(&url, location)?;
            let offset = match resp.headers().get("upload-offset") {
                None => 0,
                Some(_) => Self::offset_in(&resp)?,
            };
            if offset > first.len() as u64 {
                return Err(ClientError::Protocol("Upload-Offset past the data".into()));
            }
            Ok((id, offset))
        })
        .await
    }

    /// The upload id a creation's `Location` names. `Location` is a URI reference
    /// (RFC 9110 §10.2.2: absolute, or relative to the request's URL, as tus servers
    /// send either); it must resolve to `/api/v1/uploads/{id}` on this backend, where
    /// later calls go by id: anything else (another origin or path, a query) is a
    /// protocol error, never followed. (Resolving against the request URL, not the
    /// base URL, is the RFC's rule: a backend under a path prefix must answer a
    /// Location that keeps it.)
    fn upload_id_in(&self, request: &str, location: &str) -> Result<String, ClientError> {
        let bad = || ClientError::Protocol("Location".into());
        let at = url::Url::parse(request)
            .and_then(|r| r.join(location))
            .map_err(|_| bad())?;
        // The last segment, of unreserved characters only (tus servers' ids are
        // base64url or hex): the URL built from it must be the one resolved.
        let id = at
            .path_segments()
            .and_then(|mut s| s.next_back())
            .filter(|id| {
                !id.is_empty()
                    && id
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
            })
            .ok_or_else(bad)?
            .to_owned();
        if self.upload_url(&id) != at.as_str() {
            return Err(bad());
        }
        Ok(id)
    }

    fn upload_url(&self, id: &str) -> String {
        let id: String = url::form_urlencoded::byte_serialize(id.as_bytes()).collect();
        self.url(&crate::wire::paths::UPLOAD.replace("{id}", &id))
    }

    /// HEAD /api/v1/uploads/{id}: the bytes the server holds (`NotFound` when the
    /// upload is unknown or expired).
    pub async fn upload_offset(&self, id: &str) -> Result<u64, ClientError> {
        let url = self.upload_url(id);
        self.retrying(|| async {
            let resp = self
                .tus(self.http.head(&url))
                .send()
                .await
                .map_err(transport_error)?;
            // tus 1.0 § HEAD: 200 OK or 204 No Content, with Upload-Offset.
            if !matches!(
                resp.status(),
                reqwest::StatusCode::OK | reqwest::StatusCode::NO_CONTENT
            ) {
                return Err(Self::refusal(resp).await);
            }
            Self::offset_in(&resp)
        })
        .await
    }

    async fn patch(&self, url: &str, offset: u64, chunk: &[u8]) -> Result<Patched, ClientError> {
        let resp = self
            .tus(self.http.patch(url))
            .header(reqwest::header::CONTENT_TYPE, OFFSET_OCTET_STREAM)
            .header("Upload-Offset", offset.to_string())
            .body(chunk.to_vec())
            .send()
            .await
            .map_err(transport_error)?;
        match resp.status() {
            reqwest::StatusCode::NO_CONTENT => Ok(Patched::Stored(Self::offset_in(&resp)?)),
            reqwest::StatusCode::CONFLICT => Ok(Patched::Mismatch),
            _ => Err(Self::refusal(resp).await),
        }
    }

    /// Sends `data` to the upload `id` from the offset the server holds, in chunks
    /// ([`ChunkSize`]), telling `on` each offset the server answered. After a lost
    /// answer (the connection dropped, the answer was cut) it waits (backoff with full
    /// jitter), asks the offset and goes on from it; it gives up after the policy's
    /// attempts or retry budget without progress. `NotFound`: the upload expired
    /// (create another).
    pub async fn upload(
        &self,
        id: &str,
        data: &[u8],
        on: Option<&OnUpload>,
    ) -> Result<(), ClientError> {
        let offset = self.upload_offset(id).await?;
        self.upload_from(id, data, offset, on).await
    }

    /// [`Self::upload`] to an upload this client has just created
    /// ([`Self::create_upload_with`]): it holds what its creation stored, so the next
    /// chunk goes at that offset without asking (as tus clients do after a creation),
    /// sized by the creation's throughput. A chunk the server refuses for its offset,
    /// or whose answer is lost, makes it ask, as [`Self::upload`] does.
    pub async fn upload_new(
        &self,
        new: &NewUpload,
        data: &[u8],
        on: Option<&OnUpload>,
    ) -> Result<(), ClientError> {
        self.upload_sized(&new.id, data, new.offset, new.size, on)
            .await
    }

    async fn upload_from(
        &self,
        id: &str,
        data: &[u8],
        offset: u64,
        on: Option<&OnUpload>,
    ) -> Result<(), ClientError> {
        self.upload_sized(id, data, offset, ChunkSize::new(), on)
            .await
    }

    async fn upload_sized(
        &self,
        id: &str,
        data: &[u8],
        mut offset: u64,
        mut size: ChunkSize,
        on: Option<&OnUpload>,
    ) -> Result<(), ClientError> {
        let url = self.upload_url(id);
        let total = data.len() as u64;
        let mut retry = 0u32;
        let mut since = tokio::time::Instant::now();
        if let Some(on) = on {
            on(offset, total);
        }
        while offset < total {
            let start = usize::try_from(offset)
                .ok()
                .filter(|s| *s <= data.len())
                .ok_or_else(|| ClientError::Protocol("Upload-Offset past the data".into()))?;
            let end = (start + size.get()).min(data.len());
            let t = tokio::time::Instant::now();
            match self.patch(&url, offset, &data[start..end]).await {
                Ok(Patched::Stored(now)) if now > offset && now <= total => {
                    size.measured((now - offset) as usize, t.elapsed());
                    offset = now;
                    retry = 0;
                    since = tokio::time::Instant::now();
                    if let Some(on) = on {
                        on(offset, total);
                    }
                }
                Ok(Patched::Stored(_)) => {
                    return Err(ClientError::Protocol("Upload-Offset went back".into()))
                }
                Ok(Patched::Mismatch) => offset = self.upload_offset(id).await?,
                Err(e) if super::lost_answer(&e) => {
                    let Some(wait) = self.policy.retry_wait(retry, since.elapsed()) else {
                        return Err(e);
                    };
                    retry += 1;
                    tokio::time::sleep(wait).await;
                    let held = self.upload_offset(id).await?;
                    if held > offset {
                        // The chunk arrived; only its answer was lost.
                        offset = held;
                        if let Some(on) = on {
                            on(offset, total);
                        }
                    }
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn frames_count_up_to_the_total() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s = seen.clone();
        let on: OnUpload = Arc::new(move |a, b| s.lock().unwrap().push((a, b)));
        let mut body = CountingBody::new(Bytes::from(vec![7u8; 2500]), on);
        let waker = std::task::Waker::noop();
        let mut cx = Context::from_waker(waker);
        let mut got = 0;
        assert_eq!(http_body::Body::size_hint(&body).exact(), Some(2500));
        while let Poll::Ready(Some(Ok(f))) =
            http_body::Body::poll_frame(Pin::new(&mut body), &mut cx)
        {
            got += f.into_data().unwrap().len();
        }
        assert_eq!(got, 2500);
        assert!(http_body::Body::is_end_stream(&body));
        assert_eq!(
            *seen.lock().unwrap(),
            vec![(1024, 2500), (2048, 2500), (2500, 2500)]
        );
    }

    #[test]
    fn a_location_resolves_against_the_request_to_an_upload_here() {
        let c = BackendClient::new("http://127.0.0.1:8080").unwrap();
        let post = c.url(crate::wire::paths::UPLOADS);
        let id = |l: &str| c.upload_id_in(&post, l).ok();
        // Relative (ikd-server, @tus/server's relativeLocation) and absolute (@tus/server's default).
        assert_eq!(id("/api/v1/uploads/abc_-9").as_deref(), Some("abc_-9"));
        assert_eq!(id("uploads/abc").as_deref(), Some("abc"));
        assert_eq!(
            id("http://127.0.0.1:8080/api/v1/uploads/f869c2d5").as_deref(),
            Some("f869c2d5")
        );
        // Never followed elsewhere.
        for bad in [
            "http://127.0.0.1:9999/api/v1/uploads/abc",
            "https://127.0.0.1:8080/api/v1/uploads/abc",
            "http://evil.example/api/v1/uploads/abc",
            "/files/abc",
            "/api/v1/uploads/abc?x=1",
            "/api/v1/uploads/abc#f",
            "/api/v1/uploads/",
            "/api/v1/uploads/a%2Fb",
            "/api/v1/uploads/abc/def",
            "",
        ] {
            assert_eq!(id(bad), None, "{bad}");
        }
    }

    #[test]
    fn chunks_follow_the_throughput_within_bounds() {
        use std::time::Duration;
        let mut c = ChunkSize::new();
        assert_eq!(c.get(), 16 * 1024);
        // 2G: ~6 KB/s → ~24 KB per 4 s.
        c.measured(16 * 1024, Duration::from_millis(2700));
        assert_eq!(c.get(), 23 * 1024);
        // Very slow: the floor.
        c.measured(12 * 1024, Duration::from_secs(60));
        assert_eq!(c.get(), ChunkSize::MIN);
        // Fast: at most doubling, up to the cap.
        c.measured(4 * 1024, Duration::from_millis(1));
        assert_eq!(c.get(), 8 * 1024);
        for _ in 0..5 {
            c.measured(c.get(), Duration::from_millis(1));
        }
        assert_eq!(c.get(), ChunkSize::MAX);
    }
}
