//! Hostile bytes at every endpoint of the real server over HTTP: oversized bodies,
//! malformed JSON, wrong content types, huge strings, deep nesting, SQL-ish and unicode
//! garbage in NIK/email, garbage path ids, huge headers. Every answer is a 4xx with an
//! `ApiError` JSON body (or, for headers beyond hyper's limit, a 431/closed connection),
//! never a 5xx, and the server still serves a real resident afterwards.
#![allow(clippy::unwrap_used)]

use ikd_core::wire::ApiError;
use ikd_server::demo::SITI;
use ikd_tests::{device_key, Harness};
use reqwest::{Method, StatusCode};

/// A well-formed-looking id for path parameters.
const ID: &str = "0123456789abcdef0123456789abcdef";

/// Every JSON POST endpoint, with a plausible body.
fn json_posts() -> Vec<(&'static str, String, serde_json::Value)> {
    vec![
        (
            "submit",
            "/api/v1/enrollments".into(),
            serde_json::json!({"nik": SITI.nik, "email": "a@example.com", "phone": "+6281234567890",
                "selfie_jpeg": "", "device_jwk": {"kty":"EC","crv":"P-256","x":"","y":""}}),
        ),
        (
            "scan",
            format!("/api/v1/enrollments/{ID}/scan"),
            serde_json::json!({"qr": "x"}),
        ),
        (
            "reauth",
            format!("/api/v1/enrollments/{ID}/reauth"),
            serde_json::json!({"proof": "x"}),
        ),
        (
            "release",
            "/api/v1/device/release".into(),
            serde_json::json!({"proof": "x"}),
        ),
        (
            "credential",
            "/credential".into(),
            serde_json::json!({"credential_configuration_id": "ktp", "proofs": {"jwt": ["x"]}}),
        ),
        (
            "officer login",
            "/officer/api/login".into(),
            serde_json::json!({"username": "petugas", "password": "x"}),
        ),
        (
            "officer reject",
            format!("/officer/api/enrollments/{ID}/reject"),
            serde_json::json!({"reason": "x"}),
        ),
    ]
}

/// POST endpoints that take no body (a body must not make them fail open or 5xx).
fn bodyless_posts() -> Vec<String> {
    vec![
        format!("/api/v1/enrollments/{ID}/resend"),
        "/nonce".into(),
        "/officer/api/logout".into(),
        format!("/officer/api/enrollments/{ID}/approve"),
        format!("/officer/api/devices/{}/block", SITI.nik),
    ]
}

struct Probe {
    http: reqwest::Client,
    base: String,
    checked: usize,
}

impl Probe {
    fn new(base: &str) -> Self {
        Self {
            http: reqwest::Client::new(),
            base: base.to_owned(),
            checked: 0,
        }
    }

    /// Sends and asserts a 4xx with an ApiError body (`what` names the case).
    async fn expect_4xx(
        &mut self,
        what: &str,
        rb: reqwest::RequestBuilder,
        allowed: &[StatusCode],
    ) -> (StatusCode, ApiError) {
        let r = rb.send().await.unwrap_or_else(|e| panic!("{what}: {e}"));
        let status = r.status();
        let text = r.text().await.unwrap();
        assert!(
            status.is_client_error(),
            "{what}: expected a 4xx, got {status}: {text:.200}"
        );
        if !allowed.is_empty() {
            assert!(
                allowed.contains(&status),
                "{what}: got {status}, expected one of {allowed:?}: {text:.200}"
            );
        }
        let e: ApiError = serde_json::from_str(&text).unwrap_or_else(|e| {
            panic!("{what}: {status} body is not ApiError JSON ({e}): {text:.200}")
        });
        assert!(
            !e.error.as_str().is_empty() && !e.message.is_empty(),
            "{what}"
        );
        self.checked += 1;
        (status, e)
    }

    fn req(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.http.request(method, format!("{}{path}", self.base))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_bodies_on_every_post_endpoint_get_4xx_api_errors() {
    let h = Harness::start_with(ikd_server::Limits::generous()).await;
    let officer = h.officer().await;
    let mut p = Probe::new(&h.base_url);
    let big = 600 * 1024;

    for (name, path, good) in json_posts() {
        // Oversized (valid JSON, one huge string): 413 payload_too_large.
        let mut v = good.clone();
        let first = v.as_object().unwrap().keys().next().unwrap().clone();
        v[&first] = serde_json::Value::String("9".repeat(big));
        for auth in [false, true] {
            let mut rb = p
                .req(Method::POST, &path)
                .header("content-type", "application/json")
                .body(serde_json::to_vec(&v).unwrap());
            if auth {
                rb = rb
                    .header("cookie", &officer.cookie)
                    .bearer_auth("not-a-token");
            }
            let (_, e) = p
                .expect_4xx(
                    &format!("{name}: oversized"),
                    rb,
                    &[StatusCode::PAYLOAD_TOO_LARGE],
                )
                .await;
            assert_eq!(e.error, "payload_too_large", "{name}");
        }
        // Oversized without a length (chunked) is refused the same way.
        let (status, body) = chunked_post(&h.server.addr, &path, 20, 64 * 1024).await;
        assert_eq!(status, 413, "{name}: chunked: {body:.200}");
        serde_json::from_str::<ApiError>(&body).unwrap();
        p.checked += 1;

        // Malformed JSON, truncated JSON, a JSON scalar, an empty body, NUL bytes, invalid UTF-8.
        for (what, body) in [
            ("malformed", b"{not json".to_vec()),
            ("truncated", {
                let s = serde_json::to_vec(&good).unwrap();
                s[..s.len() / 2].to_vec()
            }),
            ("scalar", b"42".to_vec()),
            ("array", b"[]".to_vec()),
            ("null", b"null".to_vec()),
            ("empty", Vec::new()),
            ("nul bytes", b"{\"\0\":\0}".to_vec()),
            (
                "invalid utf-8",
                vec![b'{', b'"', 0xff, 0xfe, b'"', b':', b'1', b'}'],
            ),
        ] {
            p.expect_4xx(
                &format!("{name}: {what}"),
                p.req(Method::POST, &path)
                    .header("content-type", "application/json")
                    .header("cookie", &officer.cookie)
                    .body(body),
                &[],
            )
            .await;
        }
        // Wrong types for every member.
        let mut wrong = good.clone();
        for (_, val) in wrong.as_object_mut().unwrap() {
            *val = serde_json::json!([{"$ne": null}]);
        }
        p.expect_4xx(
            &format!("{name}: wrong member types"),
            p.req(Method::POST, &path)
                .header("cookie", &officer.cookie)
                .json(&wrong),
            &[],
        )
        .await;
        // Deep nesting: 100 000 levels in ~200 KB (under the body limit).
        let depth = 100_000;
        let deep = format!("{{\"{first}\":{}{}}}", "[".repeat(depth), "]".repeat(depth));
        p.expect_4xx(
            &format!("{name}: deeply nested"),
            p.req(Method::POST, &path)
                .header("content-type", "application/json")
                .header("cookie", &officer.cookie)
                .body(deep),
            &[],
        )
        .await;
        // Many keys (hash flooding style): 20 000 members.
        let mut many = serde_json::Map::new();
        for i in 0..20_000 {
            many.insert(format!("k{i}"), serde_json::Value::Bool(true));
        }
        p.expect_4xx(
            &format!("{name}: 20k members"),
            p.req(Method::POST, &path)
                .header("cookie", &officer.cookie)
                .json(&many),
            &[],
        )
        .await;
        // Wrong or missing content type with a valid JSON body.
        for ct in [
            None,
            Some("text/plain"),
            Some("application/x-www-form-urlencoded"),
            Some("multipart/form-data; boundary=x"),
            Some("application/json; charset=utf-16"),
        ] {
            let mut rb = p
                .req(Method::POST, &path)
                .header("cookie", &officer.cookie)
                .body(serde_json::to_vec(&good).unwrap());
            if let Some(ct) = ct {
                rb = rb.header("content-type", ct);
            }
            // A charset parameter on application/json is legal: then any 4xx is the
            // normal answer to this request's (fake) content.
            let (s, _) = p
                .expect_4xx(&format!("{name}: content-type {ct:?}"), rb, &[])
                .await;
            if ct.is_none_or(|c| !c.starts_with("application/json")) {
                assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{name}: {ct:?}");
            }
        }
        // Huge (but under the limit) strings in every member.
        let mut huge = good.clone();
        for (_, val) in huge.as_object_mut().unwrap() {
            if val.is_string() {
                *val = serde_json::Value::String("\u{1F600}".repeat(100_000 / 6));
            }
        }
        p.expect_4xx(
            &format!("{name}: huge strings"),
            p.req(Method::POST, &path)
                .header("cookie", &officer.cookie)
                .json(&huge),
            &[],
        )
        .await;
    }

    // The token endpoint (form): oversized, garbage, JSON instead of a form, duplicates.
    let long = "9".repeat(big);
    for (what, ct, body) in [
        (
            "oversized form",
            "application/x-www-form-urlencoded",
            format!("grant_type=refresh_token&refresh_token={long}"),
        ),
        ("garbage", "application/x-www-form-urlencoded", "%%%&&&==".into()),
        (
            "json body",
            "application/json",
            r#"{"grant_type":"refresh_token"}"#.into(),
        ),
        ("no body", "application/x-www-form-urlencoded", String::new()),
        (
            "duplicated members",
            "application/x-www-form-urlencoded",
            "grant_type=refresh_token&grant_type=x&refresh_token=a&refresh_token=b".into(),
        ),
        (
            "huge code",
            "application/x-www-form-urlencoded",
            format!(
                "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Apre-authorized_code&pre-authorized_code={}&tx_code={}",
                "A".repeat(200_000),
                "1".repeat(100_000)
            ),
        ),
    ] {
        let (s, _) = p
            .expect_4xx(
                &format!("token: {what}"),
                p.req(Method::POST, "/token").header("content-type", ct).body(body),
                &[],
            )
            .await;
        if what == "oversized form" {
            assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
        }
    }

    // Body-less POST endpoints with a hostile body: no 5xx (unauthenticated → 4xx).
    // 64 KiB, so the client has sent it all before the server answers without reading
    // it (with a larger body the early answer races the upload and the client may see a
    // reset instead of the status).
    for path in bodyless_posts() {
        let r = p
            .req(Method::POST, &path)
            .header("content-type", "application/json")
            .body(vec![b'['; 64 * 1024])
            .send()
            .await
            .unwrap();
        assert!(!r.status().is_server_error(), "{path}: {}", r.status());
        p.checked += 1;
    }

    // Still serving: a real resident can submit.
    h.client
        .submit(
            &h.enroll_request(SITI.nik, "siti@example.com", &device_key())
                .await,
        )
        .await
        .unwrap();
    println!(
        "hostile bodies: {} requests, all 4xx ApiError JSON, no 5xx",
        p.checked
    );
}

/// A raw HTTP/1.1 POST with a chunked body of `n` chunks of `size` spaces; returns the
/// status and body (the server may answer before reading it all).
async fn chunked_post(
    addr: &std::net::SocketAddr,
    path: &str,
    n: usize,
    size: usize,
) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let chunk = vec![b' '; size];
    for _ in 0..n {
        let sent = async {
            s.write_all(format!("{size:x}\r\n").as_bytes()).await?;
            s.write_all(&chunk).await?;
            s.write_all(b"\r\n").await
        }
        .await;
        if sent.is_err() {
            break; // the server answered and closed
        }
    }
    let _ = s.write_all(b"0\r\n\r\n").await;
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out).await;
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_nik_email_ids_and_headers_are_refused_cleanly() {
    let h = Harness::start_with(ikd_server::Limits::generous()).await;
    let officer = h.officer().await;
    let mut p = Probe::new(&h.base_url);
    let key = device_key();

    let garbage = [
        "' OR '1'='1",
        "1671014509900001'; DROP TABLE residents;--",
        "1671014509900001\" OR 1=1 --",
        "%",
        "_",
        "1671%",
        "16710145099000０1", // a full-width digit
        "١٦٧١٠١٤٥٠٩٩٠٠٠٠١",  // Arabic-Indic digits
        "1671014509900001\u{0}",
        "1671014509900001\nX",
        "\u{202E}1000099054101761",
        "𝟏𝟔𝟕𝟏𝟎𝟏𝟒𝟓𝟎𝟗𝟗𝟎𝟎𝟎𝟎𝟏",
        "",
        " ",
    ];
    for nik in garbage {
        let req = h.enroll_request(nik, "x@example.com", &key).await;
        let (s, e) = p
            .expect_4xx(
                &format!("nik {nik:?}"),
                p.req(Method::POST, "/api/v1/enrollments").json(&req),
                &[StatusCode::BAD_REQUEST, StatusCode::NOT_FOUND],
            )
            .await;
        if s == StatusCode::BAD_REQUEST {
            assert_eq!(e.error, "invalid_request", "nik {nik:?}");
        }
    }
    for email in [
        "' OR 1=1 --@example.com",
        "a@example.com'; DROP TABLE enrollments;--",
        "a@example.com\r\nBcc: victim@example.org",
        "a@example.com\r\n.\r\nMAIL FROM:<x@y>",
        "<script>alert(1)</script>@example.com",
        "ä@例え.テスト",
        "a@",
        "@example.com",
        "\u{0}@example.com",
        "",
    ] {
        let req = h.enroll_request(SITI.nik, email, &key).await;
        let (_, e) = p
            .expect_4xx(
                &format!("email {email:?}"),
                p.req(Method::POST, "/api/v1/enrollments").json(&req),
                &[StatusCode::BAD_REQUEST],
            )
            .await;
        assert_eq!(e.error, "invalid_request", "email {email:?}");
    }
    // No mail went out for any of them (header injection would have sent one).
    assert!(h
        .smtp
        .next(std::time::Duration::from_millis(300))
        .await
        .is_none());

    // Garbage path ids: 404 not_found, also for the officer.
    for id in [
        "'%20OR%20'1'='1",
        "..%2F..%2Fetc%2Fpasswd",
        "%00",
        "%E2%80%AE",
        &"a".repeat(4000),
    ] {
        p.expect_4xx(
            &format!("status id {id:.40}"),
            p.req(Method::GET, &format!("/api/v1/enrollments/{id}"))
                .bearer_auth("x"),
            &[StatusCode::NOT_FOUND, StatusCode::UNAUTHORIZED],
        )
        .await;
        p.expect_4xx(
            &format!("officer detail id {id:.40}"),
            p.req(Method::GET, &format!("/officer/api/enrollments/{id}"))
                .header("cookie", &officer.cookie),
            &[StatusCode::NOT_FOUND, StatusCode::BAD_REQUEST],
        )
        .await;
        p.expect_4xx(
            &format!("officer approve id {id:.40}"),
            p.req(
                Method::POST,
                &format!("/officer/api/enrollments/{id}/approve"),
            )
            .header("cookie", &officer.cookie)
            .json(&serde_json::json!({ "confirm_code": "ACDE" })),
            &[StatusCode::NOT_FOUND, StatusCode::BAD_REQUEST],
        )
        .await;
    }
    for nik in ["'%20OR%201=1--", "%25", "1671014509900001%00"] {
        p.expect_4xx(
            &format!("block nik {nik}"),
            p.req(Method::POST, &format!("/officer/api/devices/{nik}/block"))
                .header("cookie", &officer.cookie)
                .json(&serde_json::json!({ "reason": "uji" })),
            &[StatusCode::NOT_FOUND, StatusCode::BAD_REQUEST],
        )
        .await;
    }
    // Officer login with SQL-ish names.
    for user in ["petugas' --", "' OR '1'='1", "petugas\u{0}"] {
        p.expect_4xx(
            &format!("login {user:?}"),
            p.req(Method::POST, "/officer/api/login")
                .json(&serde_json::json!({"username": user, "password": "' OR '1'='1"})),
            &[StatusCode::UNAUTHORIZED, StatusCode::BAD_REQUEST],
        )
        .await;
    }

    // Header abuse: Authorization / Cookie of 8 KiB and 64 KiB get a 4xx ApiError; far
    // beyond hyper's header limit the connection is refused (431 or closed), never a 5xx.
    let mut header_answers = Vec::new();
    for n in [8 * 1024, 64 * 1024] {
        let tok = "A".repeat(n);
        p.expect_4xx(
            &format!("Authorization {n} B"),
            p.req(Method::GET, &format!("/api/v1/enrollments/{ID}"))
                .bearer_auth(&tok),
            &[StatusCode::NOT_FOUND, StatusCode::UNAUTHORIZED],
        )
        .await;
        p.expect_4xx(
            &format!("credential Authorization {n} B"),
            p.req(Method::POST, "/credential").bearer_auth(&tok).json(
                &serde_json::json!({"credential_configuration_id":"ktp","proofs":{"jwt":["x"]}}),
            ),
            &[StatusCode::UNAUTHORIZED],
        )
        .await;
        p.expect_4xx(
            &format!("Cookie {n} B"),
            p.req(Method::GET, "/officer/api/queue")
                .header("cookie", format!("ikd_officer={tok}")),
            &[StatusCode::UNAUTHORIZED],
        )
        .await;
    }
    for (what, rb) in [
        (
            "Authorization 1 MiB",
            p.req(Method::GET, &format!("/api/v1/enrollments/{ID}"))
                .bearer_auth("A".repeat(1024 * 1024)),
        ),
        ("10 000 headers", {
            let mut rb = p.req(Method::GET, "/nonce");
            for i in 0..10_000 {
                rb = rb.header(format!("x-h{i}"), "v");
            }
            rb
        }),
        (
            "non-UTF-8 Authorization",
            p.req(Method::GET, &format!("/api/v1/enrollments/{ID}"))
                .header(
                    "authorization",
                    reqwest::header::HeaderValue::from_bytes(b"Bearer \xff\xfe\x80").unwrap(),
                ),
        ),
        (
            "Bearer with no token",
            p.req(Method::GET, &format!("/api/v1/enrollments/{ID}"))
                .header("authorization", "Bearer    "),
        ),
        (
            "Basic auth",
            p.req(Method::POST, "/credential")
                .basic_auth("a", Some("b"))
                .json(&serde_json::json!({"credential_configuration_id":"ktp","proofs":{"jwt":["x"]}})),
        ),
    ] {
        match rb.send().await {
            Ok(r) => {
                let s = r.status();
                assert!(s.is_client_error(), "{what}: {s}");
                header_answers.push(format!("{what}: {s}"));
            }
            Err(e) => header_answers.push(format!("{what}: connection refused ({e})")),
        }
        p.checked += 1;
    }
    println!("header abuse answers: {header_answers:#?}");

    // Still serving.
    h.client
        .submit(&h.enroll_request(SITI.nik, "siti@example.com", &key).await)
        .await
        .unwrap();
    println!(
        "hostile NIK/email/ids/headers: {} requests, no 5xx",
        p.checked
    );
}
