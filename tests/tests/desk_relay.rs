//! Issue 11 item 4: the desk QR binds the desk, not the person. After the scan the app
//! shows a confirmation code; the officer types it before "Setujui" (wrong ones are
//! counted); the console hands out the QR's text and PNG only in demo mode; a new
//! activation notifies the email and phone registered with the device it replaces.
#![allow(clippy::unwrap_used)]

use ikd_core::secret::SecretString;
use ikd_core::wire::{EnrollmentStatusWire, OutboxMail};
use ikd_server::demo::SITI;
use ikd_tests::{confirm_of, device_key, Harness, MAIL_TIMEOUT};
use reqwest::StatusCode;

/// Before the fix the officer approved with no code at all (200), so a QR photographed
/// in the waiting room and scanned elsewhere put a stranger's enrollment through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approval_needs_the_confirmation_code_the_app_shows() {
    let h = Harness::start().await;
    let officer = h.officer().await;
    let key = device_key();
    let sub = h
        .client
        .submit(&h.enroll_request(SITI.nik, "siti@example.com", &key).await)
        .await
        .unwrap();
    let token = SecretString::new(sub.enrollment_token);
    let id = sub.enrollment_id;
    let scanned = h
        .client
        .scan(&id, &token, &officer.desk_qr().await.text)
        .await
        .unwrap();
    let code = confirm_of(&scanned);
    assert_eq!(code.len(), 4);
    assert!(code.chars().all(|c| c.is_ascii_uppercase()), "{code}");
    // The app's status poll shows the same code; the officer's detail never does.
    let st = h.client.status(&id, &token).await.unwrap();
    assert_eq!(st.desk_confirm_code.as_deref(), Some(code.as_str()));
    let detail = officer
        .get_text(&format!("/officer/api/enrollments/{id}"))
        .await;
    assert!(
        !detail.contains(&code),
        "the console must not show the code"
    );

    // No code: refused.
    let r = officer
        .post(&format!("/officer/api/enrollments/{id}/approve"))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error(), "{}", r.status());
    // Wrong codes: refused with the tries left, then void.
    let wrong = if code == "ACDE" { "FHJK" } else { "ACDE" };
    for left in [2, 1] {
        let r = officer
            .post(&format!("/officer/api/enrollments/{id}/approve"))
            .json(&serde_json::json!({ "confirm_code": wrong }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        let v: serde_json::Value = r.json().await.unwrap();
        assert_eq!(v["error"], "confirm_wrong");
        assert_eq!(v["detail"]["attempts_left"], left);
        assert!(v["message"]
            .as_str()
            .unwrap()
            .contains("Kode konfirmasi salah"));
    }
    let r = officer
        .post(&format!("/officer/api/enrollments/{id}/approve"))
        .json(&serde_json::json!({ "confirm_code": wrong }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["error"], "confirm_void");
    // Void means void: even the right code no longer approves, and the app drops it.
    assert_eq!(officer.approve(&id, &code).await, StatusCode::CONFLICT);
    let st = h.client.status(&id, &token).await.unwrap();
    assert_eq!(st.status, EnrollmentStatusWire::Scanned);
    assert_eq!(st.desk_confirm_code, None);

    // A new scan, a new code; typed as read aloud (lower case, spaced), it approves.
    let again = h
        .client
        .scan(&id, &token, &officer.desk_qr().await.text)
        .await
        .unwrap();
    let code2 = confirm_of(&again);
    let typed = format!(" {} {} ", &code2[..2], &code2[2..]).to_lowercase();
    assert_eq!(officer.approve(&id, &typed).await, StatusCode::OK);
    let st = h.client.status(&id, &token).await.unwrap();
    assert_eq!(st.status, EnrollmentStatusWire::Approved);
    assert_eq!(st.desk_confirm_code, None);
    let mail = h.smtp.next(MAIL_TIMEOUT).await.expect("activation mail");
    assert_eq!(mail.to, vec!["siti@example.com".to_owned()]);
}

/// Before the fix the console offered "Salin teks" and "Unduh PNG" on every server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_hands_out_the_qr_text_only_in_demo_mode() {
    use axum::extract::State;
    let h = Harness::start().await;
    let demo = reqwest::get(format!("{}/officer", h.base_url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(demo.contains("id=\"qr-copy\"") && demo.contains("id=\"qr-dl\""));
    assert!(demo.contains("id=\"confirm-code\""));

    let dir = tempfile::tempdir().unwrap();
    let mut config = ikd_server::config::Config::demo(dir.path().to_path_buf());
    config.demo = false;
    config.dev_outbox = false;
    let state = std::sync::Arc::new(
        ikd_server::state::open_state(&config, "https://ikd.example".into()).unwrap(),
    );
    let page = ikd_server::console::page(State(state)).await;
    let body = axum::body::to_bytes(page.into_body(), 1 << 20)
        .await
        .unwrap();
    let html = String::from_utf8(body.to_vec()).unwrap();
    assert!(html.contains("id=\"qr-img\""), "the QR itself is shown");
    assert!(html.contains("id=\"confirm-code\""));
    for demo_only in ["qr-copy", "qr-dl", "qr-text", "Unduh PNG"] {
        assert!(!html.contains(demo_only), "{demo_only} outside demo mode");
    }
}

/// Before the fix a new activation revoked the resident's other device silently.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_activation_notifies_the_previous_email_and_phone() {
    let h = Harness::start().await;
    let officer = h.officer().await;
    let first = h.approved(&officer, SITI.nik, "siti@example.com").await;
    h.client
        .token(&first.pre_authorized_code, &first.code)
        .await
        .unwrap();
    // Someone enrolls Siti's NIK again, with another phone and mailbox.
    let second = h.approved(&officer, SITI.nik, "other@example.com").await;
    h.client
        .token(&second.pre_authorized_code, &second.code)
        .await
        .unwrap();
    let notice = h.smtp.next(MAIL_TIMEOUT).await.expect("the notice mail");
    assert_eq!(notice.to, vec!["siti@example.com".to_owned()]);
    assert_eq!(
        notice.header("Subject").as_deref(),
        Some(ikd_server::notify::NEW_DEVICE_SUBJECT)
    );
    assert!(notice.body().contains("perangkat baru"));
    // The SMS went out before the mail (dev outbox: the demo's SMS gateway).
    let outbox: Vec<OutboxMail> = reqwest::get(format!("{}/dev/outbox", h.base_url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let sms: Vec<&OutboxMail> = outbox
        .iter()
        .filter(|m| m.subject == ikd_server::sms::SMS_SUBJECT)
        .collect();
    assert_eq!(sms.len(), 1, "{outbox:?}");
    assert_eq!(sms[0].to, "+6281234567890");
    assert!(sms[0].body.contains("perangkat baru"));
    // The first activation replaced nothing: no other notice.
    assert!(!outbox.iter().any(
        |m| m.to == "other@example.com" && m.subject == ikd_server::notify::NEW_DEVICE_SUBJECT
    ));
}
