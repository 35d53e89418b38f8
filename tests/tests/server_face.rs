//! The server's face check of the submitted selfie, over real HTTP: a selfie with a
//! face and one without are both accepted (the officer decides), the officer's API
//! and console show the outcome once a worker checked it (tests/tests/server_queues.rs
//! has the pending state and the queue), and the resident's answers never carry it.
#![allow(clippy::unwrap_used)]

use base64::Engine as _;
use ikd_core::secret::SecretString;
use ikd_core::wire::EnrollmentStatusWire;
use ikd_server::demo::{BUDI, SITI};
use ikd_tests::{device_key, faceless_jpeg, Harness, Officer};

/// Submits `selfie` for `nik`, scans the desk QR, and returns the officer's detail and
/// the raw JSON of the resident's submit answer.
async fn submit_and_open(
    h: &Harness,
    officer: &Officer,
    nik: &str,
    email: &str,
    selfie: Option<Vec<u8>>,
) -> (serde_json::Value, serde_json::Value, String) {
    let key = device_key();
    let mut req = h.enroll_request(nik, email, &key).await;
    if let Some(jpeg) = selfie {
        req.selfie_jpeg = Some(base64::engine::general_purpose::STANDARD.encode(jpeg));
    }
    let answer = reqwest::Client::new()
        .post(format!("{}/api/v1/enrollments", h.base_url))
        .json(&req)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), reqwest::StatusCode::CREATED);
    let answer: serde_json::Value = answer.json().await.unwrap();
    let id = answer["enrollment_id"].as_str().unwrap().to_owned();
    let token = SecretString::new(answer["enrollment_token"].as_str().unwrap().to_owned());
    let qr = officer.desk_qr().await;
    let st = h.client.scan(&id, &token, &qr.text).await.unwrap();
    assert_eq!(st.status, EnrollmentStatusWire::Scanned);
    // What the app shows and the officer types before approving.
    let confirm = ikd_tests::confirm_of(&st);
    // The check runs after the submit (server/src/facework.rs): the detail once it is in.
    let detail = officer
        .face_checked(&format!("/officer/api/enrollments/{id}"))
        .await;
    (detail, answer, confirm)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn officer_sees_whether_the_selfie_shows_a_face() {
    let h = Harness::start().await;
    let officer = h.officer().await;

    // The app's selfie of the astronaut: one face.
    let (detail, answer, _) =
        submit_and_open(&h, &officer, SITI.nik, "siti@example.com", None).await;
    assert_eq!(detail["face_check"], "one_face");
    assert_eq!(detail["face_note"], "Wajah terdeteksi");
    // The resident's answer says nothing about it.
    let keys: Vec<&str> = answer
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys.len(), 3, "{keys:?}");
    assert!(!answer.to_string().contains("face"));

    // A gradient without a face is accepted too; the officer gets the warning.
    let (detail, _, confirm) = submit_and_open(
        &h,
        &officer,
        BUDI.nik,
        "budi@example.com",
        Some(faceless_jpeg()),
    )
    .await;
    assert_eq!(detail["face_check"], "no_face");
    assert_eq!(detail["face_note"], "Wajah tidak terdeteksi — periksa foto");
    assert_eq!(
        officer
            .approve(detail["enrollment_id"].as_str().unwrap(), &confirm)
            .await,
        reqwest::StatusCode::OK
    );

    // The console renders the note next to the selfie.
    let page = officer.get_text("/officer").await;
    assert!(page.contains(r#"<p id="d-face" role="status"></p>"#));
    assert!(page.contains(r#"$("d-face").textContent = d.face_note;"#));
}
