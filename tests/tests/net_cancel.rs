//! Issue 13: leaving the screen cancels the presentation ("Bagikan data") and "Periksa
//! KTP" requests too. The other side is a real loopback listener that takes the
//! connection and never answers (a verifier on a dead link); each call is wrapped in
//! `Wallet::cancellable`, as the Tauri commands are, and `cancel_network` (what the UI
//! calls when the screen is left) ends it with `cancelled`, leaving nothing kept.
#![allow(clippy::unwrap_used)]

use ikd_core::clock::SystemClock;
use ikd_core::error::ErrorCode;
use ikd_core::secret::SecretString;
use ikd_core::vault::{FileKeyStore, KdfParams};
use ikd_core::wallet::{Wallet, WalletConfig};
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// A listener that accepts and holds every connection without a byte in answer;
/// the receiver counts the connections taken.
async fn silent() -> (String, watch::Receiver<usize>) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    let (tx, rx) = watch::channel(0usize);
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = l.accept().await {
            held.push(s);
            tx.send_replace(held.len());
        }
    });
    (url, rx)
}

fn open(dir: &std::path::Path) -> Wallet {
    Wallet::open(WalletConfig {
        data_dir: dir.to_path_buf(),
        backend_url: "http://127.0.0.1:9".into(),
        dev_build: true,
        clock: Arc::new(SystemClock),
        keystore: Arc::new(FileKeyStore::in_dir(dir)),
        kdf: Some(KdfParams::insecure_for_tests()),
        issuer_url: None,
    })
    .unwrap()
}

/// Runs `call` cancellable, and cancels once the listener holds `n` connections.
async fn cancelled_at<T: std::fmt::Debug>(
    w: &Wallet,
    conns: &mut watch::Receiver<usize>,
    n: usize,
    call: impl std::future::Future<Output = Result<T, ikd_core::error::UiError>>,
) -> ErrorCode {
    let (r, ()) = tokio::join!(w.cancellable(call), async {
        conns.wait_for(|c| *c >= n).await.unwrap();
        w.cancel_network();
    });
    r.unwrap_err().code
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leaving_the_screen_cancels_periksa_and_presentation_requests() {
    let (url, mut conns) = silent().await;
    let dir = tempfile::tempdir().unwrap();
    let w = open(dir.path());
    let mut settings = w.settings().unwrap();
    settings.verifier_url = url.clone();
    w.set_settings(settings).unwrap();

    // "Periksa KTP": the request, then its result.
    let code = cancelled_at(&w, &mut conns, 1, w.start_check("identitas")).await;
    assert_eq!(code, ErrorCode::Cancelled);
    let code = cancelled_at(&w, &mut conns, 2, w.check_result("abc")).await;
    assert_eq!(code, ErrorCode::Cancelled);

    // "Bagikan data": fetching the signed request behind the link.
    let mut link = reqwest::Url::parse("openid4vp://").unwrap();
    link.query_pairs_mut()
        .append_pair("client_id", "x509_san_dns:verifier.example")
        .append_pair("request_uri", &format!("{url}/request"));
    let link = link.to_string();
    let code = cancelled_at(&w, &mut conns, 3, w.open_presentation(&link)).await;
    assert_eq!(code, ErrorCode::Cancelled);
    // Nothing was kept for "Bagikan" / "Tolak".
    let e = w
        .share_pending(SecretString::new("861357".into()), None)
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidState);
    assert_eq!(
        w.decline_pending().await.unwrap_err().code,
        ErrorCode::InvalidState
    );
    // A cancel with nothing in flight stops nothing later: the next call runs to its
    // own answer (a bad id is refused before any request).
    w.cancel_network();
    assert_eq!(
        w.cancellable(w.check_result("bad id"))
            .await
            .unwrap_err()
            .code,
        ErrorCode::InvalidState
    );
}
