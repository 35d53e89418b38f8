//! What the server refuses, over real HTTP.
#![allow(clippy::unwrap_used)]

use ikd_core::client::ClientError;
use ikd_core::secret::SecretString;
use ikd_core::wire::{ApiError, EnrollResponse, KTP_CONFIGURATION};
use ikd_server::demo::{AHMAD, BUDI, RUDI, SITI, SUPARMAN};
use ikd_tests::{device_key, Harness};

/// Issue 11 item 6: every NIK that cannot enroll gets one online answer (the same
/// status and the same body, byte for byte); the reason is only for the officer at
/// the desk. Before the fix an unknown NIK got 404 and the others 403 with the reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_nik_that_cannot_enroll_gets_one_answer() {
    let h = Harness::start().await;
    let key = device_key();
    let http = reqwest::Client::new();
    let unknown = "1671010101990999";
    let mut answers = Vec::new();
    for nik in [unknown, AHMAD.nik, RUDI.nik, SUPARMAN.nik] {
        let r = http
            .post(format!("{}/api/v1/enrollments", h.base_url))
            .json(&h.enroll_request(nik, "x@example.com", &key).await)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let body = r.bytes().await.unwrap();
        answers.push((status, body));
    }
    for (i, a) in answers.iter().enumerate() {
        assert_eq!(a, &answers[0], "answer {i} differs");
    }
    assert_eq!(answers[0].0, reqwest::StatusCode::NOT_FOUND);
    let body: ApiError = serde_json::from_slice(&answers[0].1).unwrap();
    assert_eq!(body.error, "not_verifiable");
    assert_eq!(
        body.message,
        "Data tidak dapat diverifikasi. Silakan datang ke Disdukcapil dengan KTP-el dan KK."
    );
    let e = h
        .client
        .submit(&h.enroll_request(SUPARMAN.nik, "x@example.com", &key).await)
        .await
        .unwrap_err();
    assert_eq!(e, ClientError::NotVerifiable);

    // The officer at the desk sees the reason.
    let officer = h.officer().await;
    for (nik, reason, message) in [
        (unknown, "unknown", "NIK tidak ditemukan di SIAK"),
        (
            AHMAD.nik,
            "under_age",
            "Belum cukup umur untuk memiliki KTP-el",
        ),
        (
            RUDI.nik,
            "not_recorded",
            "Belum melakukan perekaman KTP-el. Silakan datang ke Disdukcapil untuk perekaman.",
        ),
        (SUPARMAN.nik, "deceased", "NIK tidak aktif"),
    ] {
        let r = officer
            .post("/officer/api/residents/check")
            .json(&serde_json::json!({ "nik": nik }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), reqwest::StatusCode::OK);
        let v: serde_json::Value = r.json().await.unwrap();
        assert_eq!(v["eligible"], false, "{nik}");
        assert_eq!(v["reason"], reason);
        assert_eq!(v["message"], message);
    }
    let r = officer
        .post("/officer/api/residents/check")
        .json(&serde_json::json!({ "nik": SITI.nik }))
        .send()
        .await
        .unwrap();
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["eligible"], true);
    // Without an officer session: refused.
    let r = http
        .post(format!("{}/officer/api/residents/check", h.base_url))
        .json(&serde_json::json!({ "nik": SUPARMAN.nik }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::UNAUTHORIZED);

    // A malformed NIK is an input error on the field.
    let e = h
        .client
        .submit(&h.enroll_request("1234", "x@example.com", &key).await)
        .await
        .unwrap_err();
    assert_eq!(
        e,
        ClientError::InvalidRequest {
            field: Some("nik".into())
        }
    );
}

/// Siti and Budi submitted, each with a device key of their own: (answer, token) each.
async fn siti_and_budi_submitted(
    h: &Harness,
) -> (
    (EnrollResponse, SecretString),
    (EnrollResponse, SecretString),
) {
    let mut out = Vec::new();
    for (nik, email) in [
        (SITI.nik, "siti@example.com"),
        (BUDI.nik, "budi@example.com"),
    ] {
        let sub = h
            .client
            .submit(&h.enroll_request(nik, email, &device_key()).await)
            .await
            .unwrap();
        let token = SecretString::new(sub.enrollment_token.clone());
        out.push((sub, token));
    }
    let b = out.pop().unwrap();
    let a = out.pop().unwrap();
    (a, b)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn desk_qr_expired_replayed_and_garbage_are_refused() {
    let h = Harness::start().await;
    let officer = h.officer().await;
    let ((sa, ta), (sb, tb)) = siti_and_budi_submitted(&h).await;

    // Garbage.
    assert_eq!(
        h.client
            .scan(&sa.enrollment_id, &ta, "not a desk qr")
            .await
            .unwrap_err(),
        ClientError::QrInvalid
    );
    // Expired: the server clock moves past the QR's 90 s.
    let old = officer.desk_qr().await;
    h.clock.advance(chrono::Duration::seconds(91));
    assert_eq!(
        h.client
            .scan(&sa.enrollment_id, &ta, &old.text)
            .await
            .unwrap_err(),
        ClientError::QrExpired
    );
    // Replayed: a QR admits one enrollment.
    let qr = officer.desk_qr().await;
    assert_ne!(qr.text, old.text);
    h.client
        .scan(&sa.enrollment_id, &ta, &qr.text)
        .await
        .unwrap();
    assert_eq!(
        h.client
            .scan(&sb.enrollment_id, &tb, &qr.text)
            .await
            .unwrap_err(),
        ClientError::QrUsed
    );
    // The desk shows a new QR at once after a use.
    let next = officer.desk_qr().await;
    assert_ne!(next.text, qr.text);
    h.client
        .scan(&sb.enrollment_id, &tb, &next.text)
        .await
        .unwrap();

    // Another resident's enrollment with my token: a generic not-found.
    assert_eq!(
        h.client.status(&sb.enrollment_id, &ta).await.unwrap_err(),
        ClientError::NotFound
    );
    // Rejection shows in the status with the officer's reason.
    assert_eq!(
        officer.reject(&sb.enrollment_id, "Foto tidak sesuai").await,
        reqwest::StatusCode::OK
    );
    let st = h.client.status(&sb.enrollment_id, &tb).await.unwrap();
    assert_eq!(st.status, ikd_core::wire::EnrollmentStatusWire::Rejected);
    assert_eq!(st.reject_reason.as_deref(), Some("Foto tidak sesuai"));
    assert!(st.credential_offer.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_wrong_codes_void_it_and_a_used_code_is_refused() {
    let h = Harness::start().await;
    let officer = h.officer().await;
    let budi = h.approved(&officer, BUDI.nik, "budi@example.com").await;
    let right = budi.code.expose().clone();
    let wrong = SecretString::new(
        if right == "000000" {
            "111111"
        } else {
            "000000"
        }
        .to_owned(),
    );
    for left in (1..=4).rev() {
        assert_eq!(
            h.client
                .token(&budi.pre_authorized_code, &wrong)
                .await
                .unwrap_err(),
            ClientError::CodeWrong {
                attempts_left: left
            }
        );
    }
    assert_eq!(
        h.client
            .token(&budi.pre_authorized_code, &wrong)
            .await
            .unwrap_err(),
        ClientError::CodeVoid
    );
    assert_eq!(
        h.client
            .token(&budi.pre_authorized_code, &budi.code)
            .await
            .unwrap_err(),
        ClientError::CodeVoid
    );
    let st = h
        .client
        .status(&budi.enrollment_id, &budi.token)
        .await
        .unwrap();
    assert_eq!(st.code_attempts_left, Some(0));

    // A resend gives a new code (then the resend is rate limited).
    h.client
        .resend(&budi.enrollment_id, &budi.token)
        .await
        .unwrap();
    let mail = h.smtp.next(ikd_tests::MAIL_TIMEOUT).await.unwrap();
    let fresh = SecretString::new(ikd_tests::code_in(&mail));
    match h
        .client
        .resend(&budi.enrollment_id, &budi.token)
        .await
        .unwrap_err()
    {
        ClientError::RateLimited { retry_after_secs } => assert!(retry_after_secs.unwrap() > 0),
        other => panic!("expected rate limit, got {other:?}"),
    }
    h.client
        .token(&budi.pre_authorized_code, &fresh)
        .await
        .unwrap();
    // Used once: refused after.
    assert_eq!(
        h.client
            .token(&budi.pre_authorized_code, &fresh)
            .await
            .unwrap_err(),
        ClientError::CodeVoid
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_code_is_refused() {
    let h = Harness::start().await;
    let officer = h.officer().await;
    let siti = h.approved(&officer, SITI.nik, "siti@example.com").await;
    h.clock.advance(chrono::Duration::hours(24));
    assert_eq!(
        h.client
            .token(&siti.pre_authorized_code, &siti.code)
            .await
            .unwrap_err(),
        ClientError::CodeExpired
    );
}

/// An enrollment not approved within 14 days expires: its status says so, it leaves the
/// officer's queue, and neither a scan nor an approval moves it on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enrollments_not_approved_in_time_expire() {
    use ikd_core::wire::EnrollmentStatusWire;
    let h = Harness::start().await;
    let officer = h.officer().await;
    let ((sa, ta), (sb, tb)) = siti_and_budi_submitted(&h).await;
    h.client
        .scan(&sb.enrollment_id, &tb, &officer.desk_qr().await.text)
        .await
        .unwrap();
    assert_eq!(officer.queue().await.len(), 1);

    // 13 days on: still waiting.
    h.clock.advance(chrono::Duration::days(13));
    let st = h.client.status(&sa.enrollment_id, &ta).await.unwrap();
    assert_eq!(st.status, EnrollmentStatusWire::Submitted);

    // Past 14 days: expired.
    h.clock
        .advance(chrono::Duration::days(1) + chrono::Duration::seconds(1));
    let officer = h.officer().await;
    assert!(
        officer.queue().await.is_empty(),
        "stale enrollments leave the queue"
    );
    assert_eq!(
        officer.approve(&sb.enrollment_id, "ACDE").await,
        reqwest::StatusCode::CONFLICT
    );
    let st = h.client.status(&sb.enrollment_id, &tb).await.unwrap();
    assert_eq!(st.status, EnrollmentStatusWire::Expired);
    let st = h.client.status(&sa.enrollment_id, &ta).await.unwrap();
    assert_eq!(st.status, EnrollmentStatusWire::Expired);
    let e = h
        .client
        .scan(&sa.enrollment_id, &ta, &officer.desk_qr().await.text)
        .await
        .unwrap_err();
    assert_eq!(e, ClientError::InvalidState);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_are_bound_to_their_device_and_one_device_per_resident() {
    let h = Harness::start().await;
    let officer = h.officer().await;
    let first = h.approved(&officer, SITI.nik, "siti@example.com").await;
    let tokens = h
        .client
        .token(&first.pre_authorized_code, &first.code)
        .await
        .unwrap();
    // Device A's token with a proof signed by device B: refused.
    let other = device_key();
    let err = h
        .client
        .credential(
            &tokens.access_token,
            KTP_CONFIGURATION,
            &h.proof(&other).await,
        )
        .await
        .unwrap_err();
    assert_eq!(err, ClientError::ProofKeyNotDevice);
    // A wrong audience is refused too.
    let nonce = h.client.nonce().await.unwrap();
    let bad_aud = ikd_tests::proof_jwt(
        &first.key,
        "https://elsewhere.example",
        &nonce,
        h.clock_now_ts(),
    );
    assert!(h
        .client
        .credential(&tokens.access_token, KTP_CONFIGURATION, &bad_aud)
        .await
        .is_err());
    // The right device works.
    h.client
        .credential(
            &tokens.access_token,
            KTP_CONFIGURATION,
            &h.proof(&first.key).await,
        )
        .await
        .unwrap();

    // Activating on a new device revokes the old one.
    let second = h.approved(&officer, SITI.nik, "siti@example.com").await;
    let t2 = h
        .client
        .token(&second.pre_authorized_code, &second.code)
        .await
        .unwrap();
    assert_eq!(
        h.client
            .credential(
                &tokens.access_token,
                KTP_CONFIGURATION,
                &h.proof(&first.key).await
            )
            .await
            .unwrap_err(),
        ClientError::DeviceRevoked
    );
    h.client
        .credential(
            &t2.access_token,
            KTP_CONFIGURATION,
            &h.proof(&second.key).await,
        )
        .await
        .unwrap();
    // An officer blocks the device.
    let r = officer
        .post(&format!("/officer/api/devices/{}/block", SITI.nik))
        .json(&serde_json::json!({ "reason": "Laporan kehilangan ponsel" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::OK);
    assert_eq!(
        h.client
            .credential(
                &t2.access_token,
                KTP_CONFIGURATION,
                &h.proof(&second.key).await
            )
            .await
            .unwrap_err(),
        ClientError::DeviceRevoked
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_bodies_get_json_errors_not_5xx() {
    let h = Harness::start().await;
    let http = reqwest::Client::new();
    let url = format!("{}/api/v1/enrollments", h.base_url);
    // Oversized.
    let big = format!(r#"{{"nik":"{}"}}"#, "1".repeat(600 * 1024));
    let r = http
        .post(&url)
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::PAYLOAD_TOO_LARGE);
    let e: ApiError = r.json().await.unwrap();
    assert_eq!(e.error, "payload_too_large");
    // Malformed JSON.
    let r = http
        .post(&url)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::BAD_REQUEST);
    let e: ApiError = r.json().await.unwrap();
    assert_eq!(e.error, "invalid_request");
    // Missing fields.
    let r = http
        .post(&url)
        .json(&serde_json::json!({"nik": 1}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error());
    let _: ApiError = r.json().await.unwrap();
    // Token endpoint: unknown grant type, garbage form.
    let r = http
        .post(format!("{}/token", h.base_url))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=password")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::BAD_REQUEST);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["error"], "unsupported_grant_type");
    // Officer API without a session.
    let r = http
        .get(format!("{}/officer/api/queue", h.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::UNAUTHORIZED);
    // Wrong officer password.
    assert_eq!(
        ikd_tests::Officer::login(&h.base_url, "petugas", "salah-sekali")
            .await
            .err(),
        Some(reqwest::StatusCode::UNAUTHORIZED)
    );
    // Credential without a token.
    let r = http
        .post(format!("{}/credential", h.base_url))
        .json(&serde_json::json!({"credential_configuration_id":"ktp","proofs":{"jwt":["x"]}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submit_is_rate_limited_per_ip() {
    let limits = ikd_server::Limits {
        submit_burst: 3,
        submit_per_minute: 1,
        ..Default::default()
    };
    let h = Harness::start_with(limits).await;
    let key = device_key();
    for _ in 0..3 {
        let _ = h
            .client
            .submit(
                &h.enroll_request("1671010101990999", "x@example.com", &key)
                    .await,
            )
            .await;
    }
    match h
        .client
        .submit(&h.enroll_request(SITI.nik, "x@example.com", &key).await)
        .await
        .unwrap_err()
    {
        ClientError::RateLimited { retry_after_secs } => assert!(retry_after_secs.unwrap() >= 1),
        other => panic!("expected rate limit, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outbox_is_dev_only_and_the_issuer_key_persists_privately() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = ikd_server::Config::demo(dir.path().to_path_buf());
    config.dev_outbox = false;
    config.seed_residents = 5;
    let s = ikd_server::start(config.clone()).await.unwrap();
    let r = reqwest::get(format!("{}/dev/outbox", s.base_url))
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::NOT_FOUND);
    let meta = ikd_core::client::BackendClient::new(&s.base_url)
        .unwrap()
        .issuer_metadata()
        .await
        .unwrap();
    s.shutdown().await;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("issuer-key.p8"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // Same data dir, same issuer key.
    let s = ikd_server::start(config).await.unwrap();
    let again = ikd_core::client::BackendClient::new(&s.base_url)
        .unwrap()
        .issuer_metadata()
        .await
        .unwrap();
    assert_eq!(again.issuer_jwk, meta.issuer_jwk);
    s.shutdown().await;
}

/// Issue 11 item 3: submit needs a proof that the device holds the key it enrolls.
/// Before the fix the JWK was checked for shape only, so anyone could enroll another
/// resident's public key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submit_needs_a_proof_of_the_enrolled_key() {
    let h = Harness::start().await;
    let victim = device_key();
    let attacker = device_key();
    // The victim's public key with the attacker's proof: refused.
    let nonce = h.client.nonce().await.unwrap();
    let proof = ikd_tests::proof_jwt(&attacker, &h.base_url, &nonce, h.clock_now_ts());
    let req = ikd_tests::enroll_request_with_proof(SITI.nik, "x@example.com", &victim, proof);
    let r = reqwest::Client::new()
        .post(format!("{}/api/v1/enrollments", h.base_url))
        .json(&req)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::BAD_REQUEST);
    let body: ApiError = r.json().await.unwrap();
    assert_eq!(body.error, "invalid_proof");
    assert_eq!(body.detail.unwrap()["field"], "device_proof");
    // No proof, or a proof without a server nonce: refused.
    for proof in [
        String::new(),
        ikd_tests::proof_jwt(&victim, &h.base_url, "made-up", h.clock_now_ts()),
    ] {
        let req = ikd_tests::enroll_request_with_proof(SITI.nik, "x@example.com", &victim, proof);
        assert!(h.client.submit(&req).await.is_err());
    }
    // A nonce is single use: the same signed form twice is refused the second time.
    let req = h.enroll_request(SITI.nik, "x@example.com", &victim).await;
    h.client.submit(&req).await.unwrap();
    assert!(h.client.submit(&req).await.is_err());
}

/// Issue 11 item 3: activation never moves a device row to another resident and never
/// revives a blocked device; a token is void once its device row names another
/// enrollment. Before the fix the activation upserted nik, enrollment and status.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn activation_never_takes_over_or_unblocks_a_device() {
    let h = Harness::start().await;
    let officer = h.officer().await;
    let shared = device_key();
    let siti = h
        .approved_with_key(&officer, SITI.nik, "siti@example.com", shared.clone())
        .await;
    let siti_tokens = h
        .client
        .token(&siti.pre_authorized_code, &siti.code)
        .await
        .unwrap();
    // Budi enrolls with the key Siti's device holds: his activation is refused.
    let budi = h
        .approved_with_key(&officer, BUDI.nik, "budi@example.com", shared.clone())
        .await;
    assert_eq!(
        h.client
            .token(&budi.pre_authorized_code, &budi.code)
            .await
            .unwrap_err(),
        ClientError::DeviceRevoked
    );
    // Siti's device is still hers and active.
    h.client
        .credential(
            &siti_tokens.access_token,
            KTP_CONFIGURATION,
            &h.proof(&shared).await,
        )
        .await
        .unwrap();

    // Siti enrolls again with the same key: the row moves to the new enrollment, and
    // the token of the old enrollment is void.
    let again = h
        .approved_with_key(&officer, SITI.nik, "siti@example.com", shared.clone())
        .await;
    let new_tokens = h
        .client
        .token(&again.pre_authorized_code, &again.code)
        .await
        .unwrap();
    assert!(h
        .client
        .credential(
            &siti_tokens.access_token,
            KTP_CONFIGURATION,
            &h.proof(&shared).await,
        )
        .await
        .is_err());
    h.client
        .credential(
            &new_tokens.access_token,
            KTP_CONFIGURATION,
            &h.proof(&shared).await,
        )
        .await
        .unwrap();

    // An officer blocks it; enrolling the same key again does not un-block it.
    let r = officer
        .post(&format!("/officer/api/devices/{}/block", SITI.nik))
        .json(&serde_json::json!({ "reason": "Laporan kehilangan ponsel" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::OK);
    let after_block = h
        .approved_with_key(&officer, SITI.nik, "siti@example.com", shared.clone())
        .await;
    assert_eq!(
        h.client
            .token(&after_block.pre_authorized_code, &after_block.code)
            .await
            .unwrap_err(),
        ClientError::DeviceRevoked
    );
    assert_eq!(
        h.client
            .credential(
                &new_tokens.access_token,
                KTP_CONFIGURATION,
                &h.proof(&shared).await,
            )
            .await
            .unwrap_err(),
        ClientError::DeviceRevoked
    );
}

/// Issue 11 item 8: POST /nonce is rate limited per client IP (each call stores a row);
/// before the fix it had no limit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nonce_requests_are_rate_limited_per_ip() {
    let limits = ikd_server::Limits {
        nonce_burst: 3,
        nonce_per_minute: 1,
        ..Default::default()
    };
    let h = Harness::start_with(limits).await;
    for _ in 0..3 {
        h.client.nonce().await.unwrap();
    }
    let r = reqwest::Client::new()
        .post(format!("{}/nonce", h.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().contains_key("retry-after"));
    let body: ApiError = r.json().await.unwrap();
    assert_eq!(body.error, "rate_limited");
}

/// Issue 11 item 5: five wrong passwords lock the officer account, whatever the
/// address; before the fix the right password still worked after any number.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_wrong_officer_passwords_lock_the_account() {
    use ikd_server::demo::{DEMO_OFFICER_PASSWORD, DEMO_OFFICER_USERNAME};
    let h = Harness::start().await;
    for _ in 0..5 {
        assert_eq!(
            ikd_tests::Officer::login(&h.base_url, DEMO_OFFICER_USERNAME, "wrong-password")
                .await
                .err(),
            Some(reqwest::StatusCode::UNAUTHORIZED)
        );
    }
    assert_eq!(
        ikd_tests::Officer::login(&h.base_url, DEMO_OFFICER_USERNAME, DEMO_OFFICER_PASSWORD)
            .await
            .err(),
        Some(reqwest::StatusCode::TOO_MANY_REQUESTS)
    );
    // After the lock: the right password works again.
    h.clock.advance(chrono::Duration::minutes(16));
    assert!(
        ikd_tests::Officer::login(&h.base_url, DEMO_OFFICER_USERNAME, DEMO_OFFICER_PASSWORD)
            .await
            .is_ok()
    );
}

/// Issue 11 item 5: submits are limited per NIK (10, then 1 a minute) whatever the address
/// (before the fix only per IP, 20 deep).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submits_are_limited_per_nik() {
    let h = Harness::start().await;
    for i in 0..10 {
        h.client
            .submit(
                &h.enroll_request(SITI.nik, &format!("s{i}@example.com"), &device_key())
                    .await,
            )
            .await
            .unwrap();
    }
    let e = h
        .client
        .submit(
            &h.enroll_request(SITI.nik, "s9@example.com", &device_key())
                .await,
        )
        .await
        .unwrap_err();
    assert!(matches!(e, ClientError::RateLimited { .. }), "{e:?}");
    // Another NIK from the same address still goes through.
    h.client
        .submit(
            &h.enroll_request(BUDI.nik, "b@example.com", &device_key())
                .await,
        )
        .await
        .unwrap();
}

/// Issue 11 item 5: behind a configured proxy each forwarded client has its own
/// bucket; from an untrusted peer the forwarding headers are ignored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_clients_get_their_own_buckets_only_behind_a_trusted_proxy() {
    async fn nonce_as(h: &Harness, client: &str) -> reqwest::StatusCode {
        reqwest::Client::new()
            .post(format!("{}/nonce", h.base_url))
            .header("x-forwarded-for", client)
            .send()
            .await
            .unwrap()
            .status()
    }
    let ok = reqwest::StatusCode::OK;
    let limited = reqwest::StatusCode::TOO_MANY_REQUESTS;
    let behind_proxy = ikd_server::Limits {
        nonce_burst: 1,
        nonce_per_minute: 1,
        trusted_proxies: vec!["127.0.0.1/32".into()],
        ..Default::default()
    };
    let h = Harness::start_with(behind_proxy).await;
    assert_eq!(nonce_as(&h, "203.0.113.5").await, ok);
    assert_eq!(nonce_as(&h, "203.0.113.5").await, limited);
    assert_eq!(nonce_as(&h, "203.0.113.6").await, ok);
    // IPv6: the same /64 is one bucket.
    assert_eq!(nonce_as(&h, "2001:db8:1:2::1").await, ok);
    assert_eq!(nonce_as(&h, "2001:db8:1:2::ffff").await, limited);

    let direct = ikd_server::Limits {
        nonce_burst: 1,
        nonce_per_minute: 1,
        ..Default::default()
    };
    let h = Harness::start_with(direct).await;
    assert_eq!(nonce_as(&h, "203.0.113.5").await, ok);
    assert_eq!(nonce_as(&h, "203.0.113.6").await, limited);
}

/// Issue 11 item 10: code tries are capped over the enrollment's life (20 wrong codes
/// across resends), with escalating waits after the first 5; before the fix every
/// resend gave 5 fresh tries with no wait.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn code_tries_are_capped_over_the_enrollments_life_with_escalating_waits() {
    let h = Harness::start().await;
    let officer = h.officer().await;
    let budi = h.approved(&officer, BUDI.nik, "budi@example.com").await;
    let mut right = budi.code.expose().clone();
    let wrong_for = |right: &str| {
        SecretString::new(
            if right == "000000" {
                "111111"
            } else {
                "000000"
            }
            .into(),
        )
    };
    let mut failures = 0u32;
    let mut saw_wait = false;
    while failures < 20 {
        let e = h
            .client
            .token(&budi.pre_authorized_code, &wrong_for(&right))
            .await
            .unwrap_err();
        match e {
            ClientError::CodeWrong { .. } => failures += 1,
            ClientError::CodeVoid if failures % 5 == 0 && failures < 20 => {
                // Spent this code's tries: a new code, after the resend interval.
                h.clock.advance(chrono::Duration::seconds(61));
                h.client
                    .resend(&budi.enrollment_id, &budi.token)
                    .await
                    .unwrap();
                right = ikd_tests::code_in(&h.smtp.next(ikd_tests::MAIL_TIMEOUT).await.unwrap());
                continue;
            }
            ClientError::CodeVoid => {
                failures += 1;
                continue;
            }
            ClientError::RateLimited { retry_after_secs } => {
                assert!(failures > 5, "no wait in the first five");
                saw_wait = true;
                h.clock.advance(chrono::Duration::seconds(
                    retry_after_secs.unwrap() as i64 + 1,
                ));
                continue;
            }
            other => panic!("after {failures}: {other:?}"),
        }
        if failures > 5 && failures < 20 && failures % 5 != 0 {
            // Right after a wrong code, even the right code waits.
            let e = h
                .client
                .token(&budi.pre_authorized_code, &SecretString::new(right.clone()))
                .await
                .unwrap_err();
            assert!(matches!(e, ClientError::RateLimited { .. }), "{e:?}");
        }
    }
    assert!(saw_wait);
    // Used up: no new code, and the right code is refused.
    h.clock.advance(chrono::Duration::hours(2));
    assert_eq!(
        h.client
            .resend(&budi.enrollment_id, &budi.token)
            .await
            .unwrap_err(),
        ClientError::InvalidState
    );
    assert_eq!(
        h.client
            .token(&budi.pre_authorized_code, &SecretString::new(right))
            .await
            .unwrap_err(),
        ClientError::CodeVoid
    );
}

/// Issue 11 item 9: an officer's desk action from another site's page (a foreign
/// `Origin`) is refused even with the session cookie; before the fix it went through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn officer_actions_from_another_origin_are_refused() {
    let h = Harness::start().await;
    let officer = h.officer().await;
    let check = |origin: &str| {
        officer
            .post("/officer/api/residents/check")
            .header("origin", origin)
            .json(&serde_json::json!({ "nik": SITI.nik }))
            .send()
    };
    assert_eq!(
        check("https://evil.example").await.unwrap().status(),
        reqwest::StatusCode::FORBIDDEN
    );
    assert_eq!(
        check(&h.base_url).await.unwrap().status(),
        reqwest::StatusCode::OK
    );
}
