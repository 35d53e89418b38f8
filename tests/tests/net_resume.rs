//! Issue 13: a step whose answer is lost survives an app restart and a cancel. The
//! wallet facade talks to a real `ikd_server` on loopback through a [`FaultProxy`]
//! that swallows the answer after the server has acted on the request; the wallet
//! is dropped (the app died) or its request cancelled (the resident left the
//! screen), reopened from the same data dir and retried: the kept idempotency key and
//! body make the server replay its first answer (one enrollment, one code try).
#![allow(clippy::unwrap_used)]

use ikd_core::error::ErrorCode;
use ikd_core::secret::SecretString;
use ikd_core::vault::{FileKeyStore, KdfParams};
use ikd_core::view::{RegisterForm, Stage};
use ikd_core::wallet::{Wallet, WalletConfig};
use ikd_core::wire::{paths, EnrollmentStatusWire};
use ikd_server::demo::SITI;
use ikd_tests::faultnet::{FaultProxy, Profile};
use ikd_tests::{astronaut_png, Harness};
use std::future::Future;
use std::path::Path;
use std::sync::Arc;

const EMAIL: &str = "siti@example.com";

fn open(h: &Harness, dir: &Path, url: &str) -> Wallet {
    Wallet::open(WalletConfig {
        data_dir: dir.to_path_buf(),
        backend_url: url.to_owned(),
        dev_build: true,
        clock: h.clock.clone(),
        keystore: Arc::new(FileKeyStore::in_dir(dir)),
        kdf: Some(KdfParams::insecure_for_tests()),
        issuer_url: None,
    })
    .unwrap()
}

fn form() -> RegisterForm {
    RegisterForm {
        nik: SITI.nik.into(),
        email: EMAIL.into(),
        phone: "081234567890".into(),
        consent: true,
    }
}

/// The server behind a clean proxy that names it (the wallet's proofs are for the URL
/// it talks to).
async fn behind_proxy() -> (Harness, FaultProxy) {
    let proxy = FaultProxy::bind(Profile::Clean).await.unwrap();
    let h = Harness::start_behind(&proxy.url()).await;
    proxy.forward_to(h.server.addr);
    (h, proxy)
}

/// Runs `step` with the answer to `path` lost, and stops it (drops it, as a killed
/// app would) as soon as the proxy has swallowed that answer.
async fn lose_answer_of<T>(proxy: &FaultProxy, path: &str, step: impl Future<Output = T>) {
    let before = proxy.faults();
    proxy.lose_answer_to(path);
    tokio::select! {
        _ = step => panic!("the answer should have been lost"),
        _ = proxy.wait_faults(before + 1) => {}
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_submit_whose_answer_was_lost_is_resumed_after_a_restart() {
    let (h, proxy) = behind_proxy().await;
    let dir = tempfile::tempdir().unwrap();
    let w = open(&h, dir.path(), &proxy.url());
    w.save_draft(form()).unwrap();
    w.process_selfie(&astronaut_png()).unwrap();
    lose_answer_of(&proxy, paths::ENROLLMENTS, w.submit_enrollment(form())).await;
    assert_eq!(
        h.count("SELECT COUNT(*) FROM enrollments"),
        1,
        "the server enrolled"
    );
    drop(w);

    // The app starts again: form and selfie are still there, nothing is enrolled yet.
    proxy.recover();
    let w = open(&h, dir.path(), &proxy.url());
    assert_eq!(w.app_state().unwrap().stage, Stage::Welcome);
    let draft = w.draft().unwrap();
    assert_eq!(draft.form, Some(form()));
    assert_eq!(draft.selfie.unwrap().width, 600);
    // "Coba lagi": the same key and body; the server replays its answer.
    let v = w.submit_enrollment(form()).await.unwrap();
    assert_eq!(v.status, EnrollmentStatusWire::Submitted);
    assert_eq!(h.count("SELECT COUNT(*) FROM enrollments"), 1);
    // The replayed answer's token is the enrollment's: the desk QR scan goes through.
    let officer = h.officer().await;
    let v = w.scan_desk_qr(&officer.desk_qr().await.text).await.unwrap();
    assert_eq!(v.status, EnrollmentStatusWire::Scanned);
    // Submitted: the kept form and selfie are gone.
    let draft = w.draft().unwrap();
    assert_eq!((draft.form, draft.selfie), (None, None));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_entry_whose_answer_was_lost_spends_one_try_across_a_restart() {
    let (h, proxy) = behind_proxy().await;
    let dir = tempfile::tempdir().unwrap();
    let w = open(&h, dir.path(), &proxy.url());
    let code = h.wallet_approved(&w, SITI.nik, SITI.name, EMAIL).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let secret = |s: &str| SecretString::new(s.to_owned());

    // A wrong code whose answer is lost; the app dies; the resident types it again.
    lose_answer_of(&proxy, paths::TOKEN, w.activate(secret(wrong))).await;
    drop(w);
    proxy.recover();
    let w = open(&h, dir.path(), &proxy.url());
    let e = w.activate(secret(wrong)).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::CodeWrong);
    assert_eq!(
        e.detail.unwrap()["attempts_left"],
        4,
        "one try spent, not two"
    );

    // The right code whose answer is lost: after the restart the same code activates
    // (the code is single use: a fresh request would be refused as used).
    lose_answer_of(&proxy, paths::TOKEN, w.activate(secret(&code))).await;
    drop(w);
    proxy.recover();
    let w = open(&h, dir.path(), &proxy.url());
    let st = w.activate(secret(&code)).await.unwrap();
    assert_eq!(st.stage, Stage::NeedsPin);
    assert_eq!(h.count("SELECT COUNT(*) FROM devices"), 1);
    assert_eq!(
        h.count("SELECT COUNT(*) FROM tokens"),
        2,
        "one access, one refresh"
    );
    assert_eq!(h.count("SELECT COUNT(*) FROM credentials"), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_submit_leaves_nothing_half_done_and_is_retried_with_its_key() {
    let (h, proxy) = behind_proxy().await;
    let dir = tempfile::tempdir().unwrap();
    let w = open(&h, dir.path(), &proxy.url());
    w.process_selfie(&astronaut_png()).unwrap();
    proxy.lose_answer_to(paths::ENROLLMENTS);
    // The resident leaves the screen once the server has answered into the void.
    let (r, ()) = tokio::join!(w.cancellable(w.submit_enrollment(form())), async {
        proxy.wait_faults(1).await;
        w.cancel_network();
    });
    assert_eq!(r.unwrap_err().code, ErrorCode::Cancelled);
    let st = w.app_state().unwrap();
    assert_eq!(st.stage, Stage::Welcome, "no enrollment recorded locally");
    assert!(st.enrollment.is_none());
    assert!(w.draft().unwrap().selfie.is_some(), "the selfie is kept");
    assert_eq!(h.count("SELECT COUNT(*) FROM enrollments"), 1);

    // A cancel with nothing in flight stops nothing later.
    w.cancel_network();
    proxy.recover();
    let v = w.cancellable(w.submit_enrollment(form())).await.unwrap();
    assert_eq!(v.status, EnrollmentStatusWire::Submitted);
    assert_eq!(
        h.count("SELECT COUNT(*) FROM enrollments"),
        1,
        "the retry was replayed, not run again"
    );
    assert_eq!(w.app_state().unwrap().stage, Stage::Enrolling);
}

/// An activated wallet with its PIN set (unlocked), behind the proxy.
async fn unlocked(h: &Harness, dir: &Path, url: &str) -> Wallet {
    let w = open(h, dir, url);
    let code = h.wallet_approved(&w, SITI.nik, SITI.name, EMAIL).await;
    w.activate(SecretString::new(code)).await.unwrap();
    w.set_pin(
        SecretString::new("861357".into()),
        SecretString::new("861357".into()),
    )
    .unwrap();
    w
}

const ACCESS_TOKENS: &str = "SELECT COUNT(*) FROM tokens WHERE kind = 'access'";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_whose_answer_was_lost_is_one_grant_across_a_restart() {
    let (h, proxy) = behind_proxy().await;
    let dir = tempfile::tempdir().unwrap();
    let w = unlocked(&h, dir.path(), &proxy.url()).await;
    let (access, credentials) = (
        h.count(ACCESS_TOKENS),
        h.count("SELECT COUNT(*) FROM credentials"),
    );
    lose_answer_of(&proxy, paths::TOKEN, w.refresh_documents()).await;
    assert_eq!(h.count(ACCESS_TOKENS), access + 1, "the server granted");
    drop(w);
    proxy.recover();
    let w = open(&h, dir.path(), &proxy.url());
    w.unlock(SecretString::new("861357".into())).unwrap();
    // "Coba lagi": the kept grant is replayed; no second access token.
    w.refresh_documents().await.unwrap();
    assert_eq!(h.count(ACCESS_TOKENS), access + 1, "one grant, not two");
    assert_eq!(
        h.count("SELECT COUNT(*) FROM credentials"),
        credentials + 2,
        "KTP and KK once"
    );
    assert_eq!(w.ktp().unwrap().ktp.nik, SITI.nik);
    // The step ended with the stored documents: the next refresh is a new grant.
    w.refresh_documents().await.unwrap();
    assert_eq!(h.count(ACCESS_TOKENS), access + 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_release_whose_answer_was_lost_completes_after_a_restart() {
    let (h, proxy) = behind_proxy().await;
    let dir = tempfile::tempdir().unwrap();
    let w = unlocked(&h, dir.path(), &proxy.url()).await;
    let revoked = "SELECT COUNT(*) FROM devices WHERE status = 'revoked'";
    assert_eq!(h.count(revoked), 0);
    lose_answer_of(&proxy, paths::DEVICE_RELEASE, w.release_device()).await;
    assert_eq!(h.count(revoked), 1, "the server released the device");
    drop(w);
    proxy.recover();
    let w = open(&h, dir.path(), &proxy.url());
    assert_eq!(
        w.app_state().unwrap().stage,
        Stage::Locked,
        "nothing wiped yet"
    );
    w.unlock(SecretString::new("861357".into())).unwrap();
    // A fresh request would be refused (the device is revoked); the kept one is
    // replayed, and the wallet wipes itself.
    let st = w.release_device().await.unwrap();
    assert_eq!(st.stage, Stage::Welcome);
    assert_eq!(h.count(revoked), 1);
    assert_eq!(h.count("SELECT COUNT(*) FROM devices"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forgot_pin_whose_answer_was_lost_is_one_reset_across_a_restart() {
    let (h, proxy) = behind_proxy().await;
    let dir = tempfile::tempdir().unwrap();
    let w = unlocked(&h, dir.path(), &proxy.url()).await;
    w.lock().unwrap();
    // With a fresh selfie: it goes first as a resumable upload, the request names it.
    w.process_selfie(&astronaut_png()).unwrap();
    let mails = "SELECT COUNT(*) FROM outbox";
    let before = h.count(mails);
    lose_answer_of(&proxy, "/api/v1/enrollments/", w.forgot_pin()).await;
    assert_eq!(
        h.count("SELECT COUNT(*) FROM uploads"),
        0,
        "the request used the upload up"
    );
    let after_first = h.count(mails);
    assert!(
        after_first > before,
        "the server began the reset and queued its mails"
    );
    drop(w);
    proxy.recover();
    let w = open(&h, dir.path(), &proxy.url());
    assert!(!w.app_state().unwrap().pin_reset_pending);
    // The same photo again: the kept request (naming the used upload) is replayed.
    w.process_selfie(&astronaut_png()).unwrap();
    let v = w.forgot_pin().await.unwrap();
    assert!(v.pin_reset_usable_at.is_some());
    assert!(w.app_state().unwrap().pin_reset_pending);
    assert_eq!(h.count(mails), after_first, "one reset: no second notice");
    let officer = h.officer().await;
    let queue: serde_json::Value = officer.get_json("/officer/api/resets").await;
    assert_eq!(queue.as_array().unwrap().len(), 1, "one reset request");
    assert_eq!(queue[0]["has_selfie"], true, "the officer sees the selfie");
}
