//! Upload progress: a request body that counts the bytes it hands on.
//!
//! What is counted: the bytes the HTTP connection has taken from the body ("handed to
//! the network"), not bytes on the wire nor bytes the server acknowledged. hyper queues
//! what it takes and writes it to the socket, and Linux sizes a new connection's send
//! buffer from the MSS and the initial window (tens of KB, 80 KB and more), so a
//! selfie submit is handed on almost at once and the count runs ahead of the link by up
//! to the whole body: measured over the 2G fault proxy, the count reached 98,475 of
//! 98,475 bytes before the link had carried its first KB (`tests/tests/net_upload.rs`,
//! docs/notes/session6-net.md). Tracking the wire would need the socket (a small
//! `SO_SNDBUF` or `TCP_NOTSENT_LOWAT`), which reqwest does not expose. The UI words it
//! as what it is.

use bytes::Bytes;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// Told `(sent, total)`: the body's bytes handed to the connection so far, of `total`.
/// Called from the connection's task; keep it short (send on a channel).
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
}
