//! Issue 13: `Idempotency-Key` on the state-changing POSTs, against the real server on
//! loopback (real SQLite file): a repeat replays the first answer and changes nothing,
//! another body under the same key is 422, a request without a key is standard.
#![allow(clippy::unwrap_used)]

use ikd_server::demo::{AHMAD, SITI};
use ikd_tests::{device_key, Harness};
use reqwest::StatusCode;

fn count(h: &Harness, sql: &str) -> i64 {
    h.count(sql)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_submit_is_one_enrollment_and_another_body_is_422() {
    let h = Harness::start().await;
    let http = reqwest::Client::new();
    let key = device_key();
    let body = h.enroll_request(SITI.nik, "siti@example.com", &key).await;
    let url = format!("{}/api/v1/enrollments", h.base_url);
    let post = |k: &str, b: &ikd_core::wire::EnrollRequest| {
        http.post(&url).header("Idempotency-Key", k).json(b).send()
    };
    let first = post("submit-key-0000000001", &body).await.unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first: serde_json::Value = first.json().await.unwrap();

    let again = post("submit-key-0000000001", &body).await.unwrap();
    assert!(again.status().is_success());
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let again: serde_json::Value = again.json().await.unwrap();
    assert_eq!(again, first, "the same answer, the same enrollment token");
    assert_eq!(count(&h, "SELECT COUNT(*) FROM enrollments"), 1);

    // The same key with another body.
    let other = h
        .enroll_request(AHMAD.nik, "ahmad@example.com", &device_key())
        .await;
    let r = post("submit-key-0000000001", &other).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let e: serde_json::Value = r.json().await.unwrap();
    assert_eq!(e["error"], "idempotency_key_reused");
    assert_eq!(count(&h, "SELECT COUNT(*) FROM enrollments"), 1);

    // A key that is not one.
    let r = post("short", &other).await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    // The stored answer is sealed: the enrollment token is not in the table.
    let token = first["enrollment_token"].as_str().unwrap();
    assert_eq!(count(&h, "SELECT COUNT(*) FROM idempotency"), 1);
    let has_token = if h.database_url.is_some() {
        format!("SELECT COUNT(*) FROM idempotency WHERE position(convert_to('{token}', 'UTF8') in answer) > 0")
    } else {
        format!("SELECT COUNT(*) FROM idempotency WHERE instr(answer, CAST('{token}' AS BLOB)) > 0")
    };
    assert_eq!(count(&h, &has_token), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_code_entry_spends_one_try_and_a_repeated_token_request_gets_the_same_tokens() {
    let h = Harness::start().await;
    let officer = h.officer().await;
    let a = h.approved(&officer, SITI.nik, "siti@example.com").await;
    let http = reqwest::Client::new();
    let url = format!("{}/token", h.base_url);
    let form = |code: &str| {
        // The pre-authorised code is base64url: nothing to escape.
        format!(
            "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Apre-authorized_code&pre-authorized_code={}&tx_code={code}",
            a.pre_authorized_code
        )
    };
    let token = |k: &'static str, body: String| {
        http.post(&url)
            .header("Idempotency-Key", k)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
    };
    let code = a.code.expose().to_owned();
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let attempts = |v: serde_json::Value| v["detail"]["attempts_left"].as_u64();
    let r1: serde_json::Value = token("wrong-code-entry-0001", form(wrong))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let r2: serde_json::Value = token("wrong-code-entry-0001", form(wrong))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(attempts(r1.clone()), Some(4));
    assert_eq!(r2, r1, "the retry is the first answer, not a second try");
    let status = h.client.status(&a.enrollment_id, &a.token).await.unwrap();
    assert_eq!(status.code_attempts_left, Some(4), "one try spent");

    let t1 = token("right-code-entry-0001", form(&code)).await.unwrap();
    assert_eq!(t1.status(), StatusCode::OK);
    let t1: serde_json::Value = t1.json().await.unwrap();
    let t2 = token("right-code-entry-0001", form(&code)).await.unwrap();
    assert_eq!(t2.status(), StatusCode::OK);
    assert_eq!(t2.headers()["idempotent-replayed"], "true");
    assert_eq!(t2.headers()["cache-control"], "no-store");
    let t2: serde_json::Value = t2.json().await.unwrap();
    assert_eq!(t1["access_token"], t2["access_token"]);
    assert_eq!(count(&h, "SELECT COUNT(*) FROM devices"), 1);
    let tokens = count(&h, "SELECT COUNT(*) FROM tokens");

    // Without a key (a third-party wallet): the standard answer, the code is used.
    let r = http
        .post(&url)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(form(&code))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(count(&h, "SELECT COUNT(*) FROM tokens"), tokens);
}

/// The key is judged after the rest of the request's standing (Schemathesis ST203/ST204):
/// a malformed key without the required authorization is answered 401 by the handler,
/// and a method the route does not have gets 405, not the key's 400.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_key_does_not_hide_missing_authorization_or_a_wrong_method() {
    let h = Harness::start().await;
    let http = reqwest::Client::new();
    let scan = format!("{}/api/v1/enrollments/0/scan", h.base_url);
    let r = http
        .post(&scan)
        .header("Idempotency-Key", "short")
        .json(&serde_json::json!({ "qr": "0" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = http
        .request(
            reqwest::Method::from_bytes(b"TRACE").unwrap(),
            format!("{}/token", h.base_url),
        )
        .header("Idempotency-Key", "short")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    // With its authorization, a malformed key is still refused.
    let r = http
        .post(&scan)
        .bearer_auth("x")
        .header("Idempotency-Key", "short")
        .json(&serde_json::json!({ "qr": "0" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}
