//! Issue 11 items 9 and 5: the officer's session cookie is `Secure` and `__Host-` over
//! https, logout ends the session in the store, a device block needs a reason recorded
//! with who and when, and the failed-login lockout holds on every node (PostgreSQL).
#![allow(clippy::unwrap_used)]

use ikd_server::demo::{DEMO_OFFICER_PASSWORD, DEMO_OFFICER_USERNAME, SITI};
use ikd_tests::{Harness, Officer};
use reqwest::StatusCode;

async fn login(base: &str, forwarded_https: bool) -> reqwest::Response {
    let mut r = reqwest::Client::new()
        .post(format!("{base}/officer/api/login"))
        .json(&serde_json::json!({
            "username": DEMO_OFFICER_USERNAME, "password": DEMO_OFFICER_PASSWORD
        }));
    if forwarded_https {
        r = r.header("x-forwarded-proto", "https");
    }
    let r = r.send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r
}

fn set_cookie(r: &reqwest::Response) -> String {
    r.headers()
        .get(reqwest::header::SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned()
}

async fn me(base: &str, cookie: &str) -> StatusCode {
    reqwest::Client::new()
        .get(format!("{base}/officer/api/me"))
        .header(reqwest::header::COOKIE, cookie)
        .send()
        .await
        .unwrap()
        .status()
}

/// Before the fix the cookie was `ikd_officer` without `Secure` even behind https, so
/// it went out over plain http too and a subdomain could set or shadow it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_https_the_session_cookie_is_secure_and_host_prefixed() {
    // The public URL is https (TLS ends at a load balancer): always `__Host-`.
    let dir = tempfile::tempdir().unwrap();
    let mut config = ikd_server::config::Config::demo(dir.path().to_path_buf());
    config.seed_residents = 10;
    config.public_url = Some("https://ikd.example".into());
    let server = ikd_server::start(config).await.unwrap();
    let base = format!("http://{}", server.addr);
    let c = set_cookie(&login(&base, false).await);
    assert!(c.starts_with("__Host-ikd_officer="), "{c}");
    for attr in ["; Secure", "; HttpOnly", "; SameSite=Strict", "; Path=/"] {
        assert!(c.contains(attr), "{attr} missing: {c}");
    }
    assert!(!c.to_lowercase().contains("domain="), "{c}");
    let pair = c.split(';').next().unwrap().to_owned();
    assert_eq!(me(&base, &pair).await, StatusCode::OK);
    // The same value under the plain name (what a subdomain could plant): refused.
    let plain = pair.replace("__Host-ikd_officer=", "ikd_officer=");
    assert_eq!(me(&base, &plain).await, StatusCode::UNAUTHORIZED);

    // http public URL behind a trusted proxy that says https: `__Host-` too.
    let limits = ikd_server::config::Limits {
        trusted_proxies: vec!["127.0.0.1".into()],
        ..Default::default()
    };
    let h = Harness::start_with(limits).await;
    let c = set_cookie(&login(&h.base_url, true).await);
    assert!(
        c.starts_with("__Host-ikd_officer=") && c.contains("; Secure"),
        "{c}"
    );
    // The header from a peer that is not a trusted proxy changes nothing.
    let h = Harness::start().await;
    let c = set_cookie(&login(&h.base_url, true).await);
    assert!(
        c.starts_with("ikd_officer=") && !c.contains("Secure"),
        "{c}"
    );
}

/// Before the fix logout only cleared the browser's cookie: a copy of it (a stolen
/// cookie) kept working for 12 hours.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_ends_the_session_on_the_server() {
    let h = Harness::start().await;
    let officer = h.officer().await;
    let stolen = officer.cookie.clone();
    assert_eq!(me(&h.base_url, &stolen).await, StatusCode::OK);
    let r = officer.post("/officer/api/logout").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert!(set_cookie(&r).contains("Max-Age=0"));
    assert_eq!(me(&h.base_url, &stolen).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        h.count("SELECT COUNT(*) FROM sessions"),
        0,
        "the session row is gone"
    );
    // A cross-site logout (a page making the officer's browser post) is refused.
    let other = h.officer().await;
    let r = other
        .post("/officer/api/logout")
        .header(reqwest::header::ORIGIN, "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(me(&h.base_url, &other.cookie).await, StatusCode::OK);
}

/// Before the fix a block took no reason and left no record of who did it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocking_a_device_needs_a_reason_recorded_with_who_and_when() {
    let h = Harness::start().await;
    let officer = h.officer().await;
    let a = h.approved(&officer, SITI.nik, "siti@example.com").await;
    h.client
        .token(&a.pre_authorized_code, &a.code)
        .await
        .unwrap();
    let path = format!("/officer/api/devices/{}/block", SITI.nik);
    let r = officer.post(&path).send().await.unwrap();
    assert!(r.status().is_client_error(), "no body: {}", r.status());
    let r = officer
        .post(&path)
        .json(&serde_json::json!({ "reason": "   " }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        h.count("SELECT COUNT(*) FROM devices WHERE status = 'blocked'"),
        0
    );
    let reason = "Laporan kehilangan ponsel (tiket 42)";
    let r = officer
        .post(&path)
        .json(&serde_json::json!({ "reason": reason }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["blocked"], 1);
    let list: Vec<serde_json::Value> = officer.get_json("/officer/api/blocks").await;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["nik"], SITI.nik);
    assert_eq!(list[0]["officer"], DEMO_OFFICER_USERNAME);
    assert_eq!(list[0]["reason"], reason);
    assert_eq!(list[0]["devices"], 1);
    let at: chrono::DateTime<chrono::Utc> =
        list[0]["blocked_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(at.timestamp(), h.clock_now_ts());
    // The console shows the list and the form.
    let page = reqwest::get(format!("{}/officer", h.base_url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Blokir perangkat") && page.contains("/officer/api/blocks"));
    assert!(page.contains("id=\"block-reason\""));
    // Without a session: refused.
    let r = reqwest::get(format!("{}/officer/api/blocks", h.base_url))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

/// Before the fix the lockout lived in each node's memory: five wrong passwords spread
/// over two nodes locked nothing, and each node gave five more.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_logins_lock_the_account_on_every_node() {
    let pg = ikd_tests::pg::PgServer::start();
    let url = pg.fresh_database();
    let dir = tempfile::tempdir().unwrap();
    let clock = std::sync::Arc::new(ikd_core::clock::ManualClock::new(chrono::Utc::now()));
    let mut nodes = Vec::new();
    for _ in 0..2 {
        let mut config = ikd_server::config::Config::demo(dir.path().to_path_buf());
        config.seed_residents = 10;
        config.database_url = Some(url.clone());
        config.clock = clock.clone();
        nodes.push(ikd_server::start(config).await.unwrap());
    }
    let base: Vec<String> = nodes.iter().map(|n| n.base_url.clone()).collect();
    for i in 0..5 {
        assert_eq!(
            Officer::login(&base[i % 2], DEMO_OFFICER_USERNAME, "wrong-password")
                .await
                .err(),
            Some(StatusCode::UNAUTHORIZED)
        );
    }
    for b in &base {
        assert_eq!(
            Officer::login(b, DEMO_OFFICER_USERNAME, DEMO_OFFICER_PASSWORD)
                .await
                .err(),
            Some(StatusCode::TOO_MANY_REQUESTS),
            "locked on {b}"
        );
    }
    clock.advance(chrono::Duration::minutes(16));
    assert!(
        Officer::login(&base[1], DEMO_OFFICER_USERNAME, DEMO_OFFICER_PASSWORD)
            .await
            .is_ok()
    );
    // The success cleared the count on both: four more wrong ones do not lock.
    for i in 0..4 {
        assert!(Officer::login(&base[i % 2], DEMO_OFFICER_USERNAME, "x")
            .await
            .is_err());
    }
    assert!(
        Officer::login(&base[0], DEMO_OFFICER_USERNAME, DEMO_OFFICER_PASSWORD)
            .await
            .is_ok()
    );
    drop(nodes);
    pg.stop();
}
