//! The wallet facade (what the app's commands call) against a real `ikd_server` on
//! loopback, with real SQLite files and real SMTP: enroll → scan → approve → code by
//! mail → activate → restart → PIN → documents → wrong PIN → lock → restart → release.
#![allow(clippy::unwrap_used)]

use ikd_core::clock::{Clock, SystemClock};
use ikd_core::error::ErrorCode;
use ikd_core::secret::SecretString;
use ikd_core::vault::{FileKeyStore, KdfParams};
use ikd_core::view::{HistoryKind, RegisterForm, Stage};
use ikd_core::wallet::{Wallet, WalletConfig};
use ikd_core::wire::EnrollmentStatusWire;
use ikd_server::demo::{BUDI, SITI};
use ikd_tests::{astronaut_png, code_in, Harness, MAIL_TIMEOUT};
use std::path::Path;
use std::sync::Arc;

const EMAIL: &str = "siti.rahmawati@example.com";
const PIN: &str = "240517";

fn open(dir: &Path, base_url: &str) -> Wallet {
    open_with_clock(dir, base_url, Arc::new(SystemClock))
}

fn open_with_clock(dir: &Path, base_url: &str, clock: Arc<dyn Clock>) -> Wallet {
    Wallet::open(WalletConfig {
        data_dir: dir.to_path_buf(),
        backend_url: base_url.to_owned(),
        dev_build: true,
        clock,
        keystore: Arc::new(FileKeyStore::in_dir(dir)),
        kdf: Some(KdfParams::insecure_for_tests()),
        issuer_url: None,
    })
    .unwrap()
}

fn secret(s: &str) -> SecretString {
    SecretString::new(s.to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wallet_journey_from_enrollment_to_release() {
    let h = Harness::start().await;
    let officer = h.officer().await;
    let dir = tempfile::tempdir().unwrap();

    let w = open(dir.path(), &h.base_url);
    assert_eq!(w.app_state().unwrap().stage, Stage::Welcome);
    assert_eq!(w.check_nik(SITI.nik).unwrap().nik, SITI.nik);
    assert_eq!(w.check_phone("0812-3456-7890").unwrap(), "+6281234567890");

    // Submit without a selfie is refused; with one it goes through.
    let form = RegisterForm {
        nik: SITI.nik.into(),
        email: EMAIL.into(),
        phone: "081234567890".into(),
        consent: true,
    };
    let no_consent = RegisterForm {
        consent: false,
        ..form.clone()
    };
    assert_eq!(
        w.submit_enrollment(no_consent).await.unwrap_err().code,
        ErrorCode::ConsentRequired
    );
    assert_eq!(
        w.submit_enrollment(form.clone()).await.unwrap_err().code,
        ErrorCode::InvalidState
    );
    let selfie = w.process_selfie(&astronaut_png()).unwrap();
    assert_eq!((selfie.width, selfie.height), (600, 800));
    let v = w.submit_enrollment(form).await.unwrap();
    assert_eq!(v.status, EnrollmentStatusWire::Submitted);
    assert!(v.email_masked.unwrap().ends_with("@example.com"));
    assert_eq!(w.app_state().unwrap().stage, Stage::Enrolling);

    // The desk QR.
    let qr = officer.desk_qr().await;
    assert_eq!(
        w.scan_desk_qr("not-a-desk-qr").await.unwrap_err().code,
        ErrorCode::QrInvalid
    );
    let v = w.scan_desk_qr(&qr.text).await.unwrap();
    assert_eq!(v.status, EnrollmentStatusWire::Scanned);
    assert!(v.desk_name.is_some());

    // The officer approves; the code comes by SMTP.
    let id = officer
        .queue()
        .await
        .iter()
        .find(|q| q["nama"] == SITI.name)
        .and_then(|q| q["enrollment_id"].as_str().map(str::to_owned))
        .unwrap();
    let confirm = v.desk_confirm_code.clone().expect("the app shows the code");
    assert_eq!(confirm.len(), 4);
    assert_eq!(
        officer.approve(&id, &confirm).await,
        reqwest::StatusCode::OK
    );
    let mail = h.smtp.next(MAIL_TIMEOUT).await.unwrap();
    let code = code_in(&mail);
    let v = w.refresh_status().await.unwrap();
    assert_eq!(v.status, EnrollmentStatusWire::Approved);
    assert_eq!(v.code_attempts_left, Some(5));

    // A wrong code, then the right one.
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let e = w.activate(secret(wrong)).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::CodeWrong);
    let st = w.activate(secret(&code)).await.unwrap();
    assert_eq!(st.stage, Stage::NeedsPin);

    // Restart between activation and PIN: the held credentials survive.
    drop(w);
    let w = open(dir.path(), &h.base_url);
    assert_eq!(w.app_state().unwrap().stage, Stage::NeedsPin);

    // PIN policy: her birth date (1990-09-05 → 050990) and sequences are refused.
    assert_eq!(
        w.check_pin(&secret("050990")).unwrap_err().code,
        ErrorCode::PinPolicy
    );
    assert_eq!(
        w.check_pin(&secret("123456")).unwrap_err().code,
        ErrorCode::PinPolicy
    );
    w.check_pin(&secret(PIN)).unwrap();
    assert_eq!(
        w.set_pin(secret(PIN), secret("240518")).unwrap_err().code,
        ErrorCode::PinMismatch
    );
    let st = w.set_pin(secret(PIN), secret(PIN)).unwrap();
    assert_eq!(st.stage, Stage::Unlocked);

    // The documents, verified against the pinned issuer key.
    let ktp = w.ktp().unwrap();
    assert!(ktp.verified);
    assert_eq!(ktp.ktp.nik, SITI.nik);
    assert_eq!(ktp.ktp.nama, SITI.name);
    let kk = w.kk().unwrap();
    assert!(kk.verified);
    assert_eq!(kk.kk.kepala_keluarga, BUDI.name);
    assert!(kk.kk.anggota.iter().any(|a| a.nama == SITI.name));
    let home = w.home().unwrap();
    assert_eq!(home.nama, SITI.name);
    assert!(!home.nik_masked.contains("4509900"));

    // Lock; a wrong PIN shows the attempts left; the right PIN opens.
    assert_eq!(w.lock().unwrap().stage, Stage::Locked);
    assert_eq!(w.ktp().unwrap_err().code, ErrorCode::VaultLocked);
    let e = w.unlock(secret("913468")).unwrap_err();
    assert_eq!(e.code, ErrorCode::WrongPin);
    assert_eq!(e.detail.unwrap()["attempts_left"], 9);
    // verify_pin (Ubah PIN) counts like an unlock attempt and leaves the session alone.
    let e = w.verify_pin(secret("913468")).unwrap_err();
    assert_eq!(e.code, ErrorCode::WrongPin);
    assert_eq!(e.detail.unwrap()["attempts_left"], 8);
    w.verify_pin(secret(PIN)).unwrap();
    assert_eq!(w.app_state().unwrap().stage, Stage::Locked);
    assert_eq!(w.unlock(secret(PIN)).unwrap().stage, Stage::Unlocked);

    // Going to the background locks.
    assert_eq!(w.on_background().unwrap().stage, Stage::Locked);
    assert!(w.on_background().is_none());

    // Restart: locked, same documents after unlocking.
    drop(w);
    let w = open(dir.path(), &h.base_url);
    assert_eq!(w.app_state().unwrap().stage, Stage::Locked);
    w.unlock(secret(PIN)).unwrap();
    assert_eq!(w.ktp().unwrap().ktp.nik, SITI.nik);

    // Fresh documents with the device token.
    w.refresh_documents().await.unwrap();
    assert_eq!(w.kk().unwrap().kk.kepala_keluarga, BUDI.name);

    let kinds: Vec<HistoryKind> = w.history().unwrap().iter().map(|e| e.kind).collect();
    for k in [
        HistoryKind::Registered,
        HistoryKind::DeskScanned,
        HistoryKind::Approved,
        HistoryKind::Activated,
        HistoryKind::PinSet,
        HistoryKind::Unlocked,
        HistoryKind::UnlockFailed,
        HistoryKind::DocumentsRefreshed,
    ] {
        assert!(kinds.contains(&k), "history lacks {k:?}: {kinds:?}");
    }
    // Newest first.
    assert_eq!(kinds[0], HistoryKind::DocumentsRefreshed);

    // Lepas Perangkat: the backend is told, local data is gone.
    let st = w.release_device().await.unwrap();
    assert_eq!(st.stage, Stage::Welcome);
    assert!(st.enrollment.is_none());
    assert_eq!(w.ktp().unwrap_err().code, ErrorCode::VaultLocked);
    drop(w);
    let w = open(dir.path(), &h.base_url);
    assert_eq!(w.app_state().unwrap().stage, Stage::Welcome);
}

/// After Lepas Perangkat the wallet registers again without a restart: the new
/// registration is bound to a new device key, and that key is the one the wallet
/// opens with next time, so its documents still refresh after a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registration_after_a_release_survives_a_restart() {
    let h = Harness::start().await;
    let dir = tempfile::tempdir().unwrap();
    let w = activated(&h, dir.path()).await;
    w.set_pin(secret(PIN), secret(PIN)).unwrap();
    let keys_before = std::fs::read(FileKeyStore::in_dir(dir.path()).path()).unwrap();
    assert_eq!(w.release_device().await.unwrap().stage, Stage::Welcome);
    let w = activated_with(&h, w).await;
    w.set_pin(secret(PIN), secret(PIN)).unwrap();
    assert_ne!(
        std::fs::read(FileKeyStore::in_dir(dir.path()).path()).unwrap(),
        keys_before,
        "a new device key after the release"
    );
    drop(w);
    let w = open(dir.path(), &h.base_url);
    assert_eq!(w.unlock(secret(PIN)).unwrap().stage, Stage::Unlocked);
    w.refresh_documents().await.unwrap();
    assert_eq!(w.ktp().unwrap().ktp.nik, SITI.nik);
}

/// Enroll, scan, approve, code by mail, activate: a wallet holding Siti's credentials.
async fn activated(h: &Harness, dir: &Path) -> Wallet {
    activated_with(h, open(dir, &h.base_url)).await
}

async fn activated_with(h: &Harness, w: Wallet) -> Wallet {
    let code = h.wallet_approved(&w, SITI.nik, SITI.name, EMAIL).await;
    assert_eq!(
        w.activate(secret(&code)).await.unwrap().stage,
        Stage::NeedsPin
    );
    w
}

/// A second connection to the wallet's SQLite file, for looking and for injecting a
/// failure: a trigger that aborts the write of one history entry. Each of the wallet's
/// multi-step writes ends with its history entry, so the abort lands after every
/// other write of that transaction (the vault, the documents, the state) was made.
fn db(dir: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(dir.join(ikd_core::wallet::DB_FILE)).unwrap()
}

fn fail_on_history(c: &rusqlite::Connection, kind: &str) {
    c.execute_batch(&format!(
        "CREATE TRIGGER inject_failure BEFORE INSERT ON history WHEN NEW.kind = '{kind}'
         BEGIN SELECT RAISE(ABORT, 'injected failure'); END;"
    ))
    .unwrap();
}

fn stop_failing(c: &rusqlite::Connection) {
    c.execute_batch("DROP TRIGGER inject_failure;").unwrap();
}

fn count(c: &rusqlite::Connection, sql: &str) -> i64 {
    c.query_row(sql, [], |r| r.get(0)).unwrap()
}

fn kv(c: &rusqlite::Connection, key: &str) -> Option<String> {
    use rusqlite::OptionalExtension;
    c.query_row("SELECT value FROM kv WHERE key = ?1", [key], |r| r.get(0))
        .optional()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pin_creation_refresh_and_pin_change_are_all_or_nothing() {
    let h = Harness::start().await;
    let dir = tempfile::tempdir().unwrap();
    let w = activated(&h, dir.path()).await;
    let c = db(dir.path());
    let held_before = kv(&c, "activation.sealed").expect("credentials held sealed");
    let state_before = kv(&c, "enrollment.state").unwrap();

    // 1. Setting the PIN fails at its last write: nothing of it is kept.
    fail_on_history(&c, "pin_set");
    let e = w.set_pin(secret(PIN), secret(PIN)).unwrap_err();
    assert_eq!(e.code, ErrorCode::Storage);
    assert_eq!(count(&c, "SELECT COUNT(*) FROM envelope"), 0);
    assert_eq!(count(&c, "SELECT COUNT(*) FROM documents"), 0);
    assert_eq!(
        kv(&c, "activation.sealed").as_deref(),
        Some(held_before.as_str())
    );
    assert_eq!(
        kv(&c, "enrollment.state").as_deref(),
        Some(state_before.as_str())
    );
    assert_eq!(w.app_state().unwrap().stage, Stage::NeedsPin);
    // As after a crash: a restart finds the pre-PIN state, the held credentials
    // still open under the device key (the PIN policy reads her birth date from them).
    drop(w);
    let w = open(dir.path(), &h.base_url);
    assert_eq!(w.app_state().unwrap().stage, Stage::NeedsPin);
    assert_eq!(
        w.check_pin(&secret("050990")).unwrap_err().code,
        ErrorCode::PinPolicy
    );
    // The resident simply sets the PIN again.
    stop_failing(&c);
    assert_eq!(
        w.set_pin(secret(PIN), secret(PIN)).unwrap().stage,
        Stage::Unlocked
    );
    assert_eq!(kv(&c, "activation.sealed"), None);
    assert_eq!(count(&c, "SELECT COUNT(*) FROM envelope"), 1);
    assert_eq!(w.ktp().unwrap().ktp.nik, SITI.nik);
    let versions = "SELECT COUNT(*) FROM documents WHERE version = 1";
    assert_eq!(count(&c, versions), 3);

    // 2. A refresh that fails at its last write keeps every old document.
    fail_on_history(&c, "documents_refreshed");
    assert_eq!(
        w.refresh_documents().await.unwrap_err().code,
        ErrorCode::Storage
    );
    assert_eq!(count(&c, versions), 3);
    assert_eq!(w.ktp().unwrap().ktp.nik, SITI.nik);
    assert_eq!(w.kk().unwrap().kk.kepala_keluarga, BUDI.name);
    stop_failing(&c);

    // 3. A PIN change that fails keeps the old PIN.
    fail_on_history(&c, "pin_changed");
    assert_eq!(
        w.change_pin(secret(PIN), secret("861357"))
            .unwrap_err()
            .code,
        ErrorCode::Storage
    );
    stop_failing(&c);
    w.lock().unwrap();
    assert_eq!(w.unlock(secret(PIN)).unwrap().stage, Stage::Unlocked);
    w.change_pin(secret(PIN), secret("861357")).unwrap();
    w.lock().unwrap();
    assert_eq!(w.unlock(secret("861357")).unwrap().stage, Stage::Unlocked);
}

/// "Lupa PIN": the code goes by real SMTP; until it is entered the old PIN still opens
/// the documents; a wrong code counts down; the right one downloads KTP and KK again
/// and the new PIN replaces the old one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forgot_pin_resets_the_pin_with_a_code_by_email() {
    let h = Harness::start().await;
    let dir = tempfile::tempdir().unwrap();
    // The server's clock: the cooling-off is a day, and the proofs carry the time.
    let clock: Arc<dyn Clock> = h.clock.clone();
    let w = activated_with(&h, open_with_clock(dir.path(), &h.base_url, clock.clone())).await;
    w.set_pin(secret(PIN), secret(PIN)).unwrap();
    w.lock().unwrap();
    assert!(!w.app_state().unwrap().pin_reset_pending);

    let v = w.forgot_pin().await.unwrap();
    assert_eq!(v.code_attempts_left, Some(5));
    assert!(v.email_masked.unwrap().ends_with("@example.com"));
    assert!(
        v.pin_reset_usable_at.is_some(),
        "the cooling-off's end is shown"
    );
    let st = w.app_state().unwrap();
    assert_eq!(st.stage, Stage::Locked);
    assert!(st.pin_reset_pending);
    // No code before an officer's review: nothing to redeem yet.
    assert_eq!(
        w.reset_pin_with_code(secret("123456"))
            .await
            .unwrap_err()
            .code,
        ErrorCode::PinResetWaiting
    );
    let code = h.reset_code_after_review().await;

    // A restart keeps the pending reset.
    drop(w);
    let w = open_with_clock(dir.path(), &h.base_url, clock.clone());
    assert!(w.app_state().unwrap().pin_reset_pending);

    let wrong = if code == "000000" { "111111" } else { "000000" };
    let e = w.reset_pin_with_code(secret(wrong)).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::CodeWrong, "{e:?}");
    assert_eq!(
        w.app_state()
            .unwrap()
            .enrollment
            .unwrap()
            .code_attempts_left,
        Some(4)
    );
    let st = w.reset_pin_with_code(secret(&code)).await.unwrap();
    assert_eq!(st.stage, Stage::NeedsPin);
    assert!(!st.pin_reset_pending);
    // The code is single use.
    assert_eq!(
        w.reset_pin_with_code(secret(&code)).await.unwrap_err().code,
        ErrorCode::InvalidState
    );

    // The new PIN follows the policy (her birth date is refused) and replaces the old.
    assert_eq!(
        w.set_pin(secret("050990"), secret("050990"))
            .unwrap_err()
            .code,
        ErrorCode::PinPolicy
    );
    let st = w.set_pin(secret("861357"), secret("861357")).unwrap();
    assert_eq!(st.stage, Stage::Unlocked);
    assert_eq!(w.ktp().unwrap().ktp.nik, SITI.nik);
    assert_eq!(w.kk().unwrap().kk.kepala_keluarga, BUDI.name);
    w.lock().unwrap();
    assert_eq!(w.unlock(secret(PIN)).unwrap_err().code, ErrorCode::WrongPin);
    assert_eq!(w.unlock(secret("861357")).unwrap().stage, Stage::Unlocked);
    // The tokens from the reset work: a refresh goes through.
    w.refresh_documents().await.unwrap();
    let kinds: Vec<HistoryKind> = w.history().unwrap().iter().map(|e| e.kind).collect();
    assert!(kinds.contains(&HistoryKind::PinResetRequested), "{kinds:?}");
}

/// "Lupa PIN" with a fresh selfie for the officer's remote review: the photo taken on
/// the Lupa PIN screen survives a restart before the request (kept sealed), goes with
/// it, and is not kept after it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_selfie_taken_for_a_forgot_pin_survives_a_restart_and_goes_once() {
    let h = Harness::start().await;
    let dir = tempfile::tempdir().unwrap();
    let clock: Arc<dyn Clock> = h.clock.clone();
    let w = activated_with(&h, open_with_clock(dir.path(), &h.base_url, clock.clone())).await;
    w.set_pin(secret(PIN), secret(PIN)).unwrap();
    w.lock().unwrap();
    assert!(
        w.draft().unwrap().selfie.is_none(),
        "the enrollment's selfie went with the submit"
    );

    let taken = w.process_selfie(&astronaut_png()).unwrap();
    assert!(taken.acceptable);
    drop(w);
    let w = open_with_clock(dir.path(), &h.base_url, clock.clone());
    assert!(
        w.draft().unwrap().selfie.is_some(),
        "kept across the restart"
    );
    w.forgot_pin().await.unwrap();
    assert!(w.draft().unwrap().selfie.is_none(), "sent, so not kept");

    let officer = h.officer().await;
    let queue: Vec<serde_json::Value> = officer.get_json("/officer/api/resets").await;
    assert_eq!(queue.len(), 1);
    assert_eq!(queue[0]["has_selfie"], true, "{queue:?}");
}

/// Ten wrong PINs wipe the documents; "Lupa PIN" downloads them again. The wallet and
/// the server share one manual clock, moved past each lockout wait.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documents_wiped_by_wrong_pins_come_back_after_a_pin_reset() {
    let h = Harness::start().await;
    let dir = tempfile::tempdir().unwrap();
    let clock: Arc<dyn Clock> = h.clock.clone();
    let w = activated_with(&h, open_with_clock(dir.path(), &h.base_url, clock)).await;
    w.set_pin(secret(PIN), secret(PIN)).unwrap();
    w.lock().unwrap();

    let mut wrong_answers = 0;
    while !w.app_state().unwrap().documents_wiped {
        let e = w.unlock(secret("913468")).unwrap_err();
        match e.code {
            ErrorCode::WrongPin | ErrorCode::VaultWiped => wrong_answers += 1,
            ErrorCode::LockedOut => h.clock.advance(chrono::Duration::minutes(16)),
            other => panic!("unexpected {other:?}"),
        }
        assert!(
            wrong_answers <= 10,
            "no wipe after {wrong_answers} wrong PINs"
        );
    }
    assert_eq!(wrong_answers, 10);
    let st = w.app_state().unwrap();
    assert_eq!(st.stage, Stage::Locked);
    // The right PIN no longer opens anything.
    assert_eq!(
        w.unlock(secret(PIN)).unwrap_err().code,
        ErrorCode::VaultWiped
    );

    w.forgot_pin().await.unwrap();
    let code = h.reset_code_after_review().await;
    assert_eq!(
        w.reset_pin_with_code(secret(&code)).await.unwrap().stage,
        Stage::NeedsPin
    );
    let st = w.set_pin(secret(PIN), secret(PIN)).unwrap();
    assert_eq!(st.stage, Stage::Unlocked);
    assert!(!st.documents_wiped);
    assert_eq!(w.ktp().unwrap().ktp.nama, SITI.name);
}

/// Issue 11 item 3: a refresh that brings a KTP for another NIK replaces nothing. The
/// backend is made to misbehave by rewriting its device and token rows to Budi (as a
/// device takeover would have done before the fix).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_with_another_residents_ktp_is_refused() {
    let h = Harness::start().await;
    let dir = tempfile::tempdir().unwrap();
    let w = activated(&h, dir.path()).await;
    w.set_pin(secret(PIN), secret(PIN)).unwrap();
    // BUDI.nik is 16 digits: no quoting needed.
    h.exec(&format!(
        "UPDATE devices SET nik = '{0}'; UPDATE tokens SET nik = '{0}';",
        BUDI.nik
    ));
    assert_eq!(
        h.count(&format!(
            "SELECT COUNT(*) FROM tokens WHERE nik = '{}'",
            BUDI.nik
        )),
        h.count("SELECT COUNT(*) FROM tokens")
    );
    assert_eq!(
        w.refresh_documents().await.unwrap_err().code,
        ErrorCode::CredentialInvalid
    );
    assert_eq!(w.ktp().unwrap().ktp.nik, SITI.nik);
}
