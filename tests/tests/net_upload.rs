//! Issue 13: the selfie upload reports bytes sent. The wallet facade submits through
//! the 2G fault proxy (300 ms each way, 50 kbit/s) to a real `ikd_server` on loopback;
//! the progress callback is compared with the bytes the proxy has put on the slow link
//! at the same moment (how far the count runs ahead of the wire: all of it, on this
//! machine; see docs/notes/session6-net.md).
#![allow(clippy::unwrap_used)]

use ikd_core::client::OnUpload;
use ikd_core::vault::{FileKeyStore, KdfParams};
use ikd_core::view::RegisterForm;
use ikd_core::wallet::{Wallet, WalletConfig};
use ikd_server::demo::SITI;
use ikd_tests::faultnet::{FaultProxy, Profile};
use ikd_tests::{astronaut_png, Harness};
use std::sync::{Arc, Mutex};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_selfie_submit_counts_bytes_sent_along_the_slow_link() {
    let proxy = FaultProxy::bind(Profile::TWO_G).await.unwrap();
    let h = Harness::start_behind(&proxy.url()).await;
    proxy.forward_to(h.server.addr);
    let dir = tempfile::tempdir().unwrap();
    let w = Wallet::open(WalletConfig {
        data_dir: dir.path().to_path_buf(),
        backend_url: proxy.url(),
        dev_build: true,
        clock: h.clock.clone(),
        keystore: Arc::new(FileKeyStore::in_dir(dir.path())),
        kdf: Some(KdfParams::insecure_for_tests()),
        issuer_url: None,
    })
    .unwrap();
    w.process_selfie(&astronaut_png()).unwrap();
    // (sent, total, bytes the proxy had forwarded up by then)
    let seen = Arc::new(Mutex::new(Vec::<(u64, u64, usize)>::new()));
    let (s, up) = (seen.clone(), proxy.up_meter());
    let on: OnUpload = Arc::new(move |sent, total| s.lock().unwrap().push((sent, total, up())));
    let form = RegisterForm {
        nik: SITI.nik.into(),
        email: "siti@example.com".into(),
        phone: "081234567890".into(),
        consent: true,
    };
    let up_before_submit = proxy.bytes().0;
    w.submit_enrollment_counted(form, Some(on)).await.unwrap();
    assert_eq!(h.count("SELECT COUNT(*) FROM enrollments"), 1);
    let seen = seen.lock().unwrap().clone();
    let total = seen[0].1;
    assert!(total > 50_000, "a selfie submit is tens of KB: {total}");
    assert!(seen.iter().all(|&(_, t, _)| t == total));
    assert!(seen.windows(2).all(|p| p[0].0 < p[1].0), "monotonic");
    assert_eq!(seen.last().unwrap().0, total, "ends at the body size");
    let distinct: std::collections::BTreeSet<u64> = seen.iter().map(|v| v.0).collect();
    assert!(distinct.len() > 10, "{} values", distinct.len());
    // How far the count runs ahead of the link: sent minus the body bytes the proxy
    // had forwarded (the nonce exchange and the request head come first).
    let up_at_start = seen[0].2;
    let lead = seen
        .iter()
        .map(|&(sent, _, up)| sent as i64 - (up as i64 - up_at_start as i64))
        .max()
        .unwrap();
    let submit_up = proxy.bytes().0 - up_before_submit;
    eprintln!(
        "upload: body {total} B, {} callbacks, max lead over the link {lead} B; {submit_up} B up through the proxy for the submit",
        seen.len()
    );
    // What the count is: bytes handed to the connection, not bytes on the wire. The
    // kernel's send buffer (sized from the MSS and the initial window: tens of KB even
    // at a mobile MSS) and hyper's write queue take the body long before the slow
    // link has carried it, so the count runs ahead of the link by up to the whole
    // selfie (measured: the note). The UI names it so ("Diserahkan ke jaringan").
    assert!(lead >= 0 && lead as u64 <= total);
    assert!(submit_up as u64 >= total, "the whole body crossed the link");
}
