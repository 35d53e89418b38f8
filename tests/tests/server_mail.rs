//! The mail queue (server/src/outbox.rs, server/src/store/outbox.rs), on the store
//! the harness selects (SQLite, or PostgreSQL with `IKD_TEST_STORE=postgres`), with a
//! real SMTP receiver on loopback:
//! - with SMTP down the approval succeeds, the console shows the mail retried, and the
//!   mail goes out exactly once when SMTP is back (and its code works);
//! - two nodes on one store send each mail exactly once (claims exclude each other);
//! - a mail that keeps failing is retried with backoff and ends `failed` after the
//!   bound, its body (the code) emptied and no secret in its error.
//!
//! Waiting is on conditions (the officer API's mail state, the receiver's channel)
//! with bounded deadlines, never on fixed sleeps.
#![allow(clippy::unwrap_used)]

use ikd_core::secret::SecretString;
use ikd_server::config::{Limits, OutboxConfig};
use ikd_server::store::{Mail, MailPurpose};
use ikd_tests::{code_in, device_key, Harness, Officer, SmtpReceiver, MAIL_TIMEOUT, RESIDENTS};
use std::collections::HashSet;
use std::time::{Duration, Instant};

const SITI: &str = "1671014509900001";
const BUDI: &str = "1671011203880001";

/// A loopback port nothing listens on (SMTP down).
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap()
}

fn fast(max_attempts: u32, retry_base_ms: u64) -> OutboxConfig {
    OutboxConfig {
        poll_ms: 20,
        max_attempts,
        retry_base_ms,
        retry_max_secs: 1,
        ..OutboxConfig::default()
    }
}

/// The officer API's `mail` of an enrollment once `want` holds (deadline
/// [`MAIL_TIMEOUT`]); every state seen on the way is pushed to `seen`.
async fn mail_until(
    officer: &Officer,
    id: &str,
    seen: &mut Vec<String>,
    want: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let deadline = Instant::now() + MAIL_TIMEOUT;
    loop {
        let d: serde_json::Value = officer
            .get_json(&format!("/officer/api/enrollments/{id}"))
            .await;
        let m = d["mail"].clone();
        if let Some(s) = m["state"].as_str() {
            if seen.last().map(String::as_str) != Some(s) {
                seen.push(s.to_owned());
            }
        }
        if want(&m) {
            return m;
        }
        assert!(Instant::now() < deadline, "mail state stuck at {m}");
        // Polling the officer API: there is no event to wait on from outside.
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Submit and scan at the desk; returns (enrollment id, enrollment token, the desk
/// confirmation code the app shows).
async fn scanned(
    h: &Harness,
    officer: &Officer,
    nik: &str,
    email: &str,
) -> (String, SecretString, String) {
    let req = h.enroll_request(nik, email, &device_key()).await;
    h.submit_and_scan(officer, &req).await
}

async fn redeem(base: &str, pac: &str, code: &str) -> reqwest::StatusCode {
    reqwest::Client::new()
        .post(format!("{base}/token"))
        .form(&[
            (
                "grant_type",
                "urn:ietf:params:oauth:grant-type:pre-authorized_code",
            ),
            ("pre-authorized_code", pac),
            ("tx_code", code),
        ])
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_smtp_down_approval_succeeds_and_the_mail_goes_out_once_when_it_is_back() {
    let port = closed_port();
    let h = Harness::start_tuned(Limits::generous(), RESIDENTS, |c| {
        c.smtp.as_mut().unwrap().port = port;
        c.outbox = fast(1_000, 50);
    })
    .await;
    let officer = h.officer().await;
    let (id, token, confirm) = scanned(&h, &officer, SITI, "siti@example.test").await;

    // SMTP is down: the approval still succeeds, and the offer is there.
    assert_eq!(
        officer.approve(&id, &confirm).await,
        reqwest::StatusCode::OK
    );
    let status = h.client.status(&id, &token).await.unwrap();
    let pac = status
        .credential_offer
        .expect("offer once approved")
        .grants
        .pre_authorized_code
        .unwrap()
        .pre_authorized_code;
    let mut seen = Vec::new();
    let m = mail_until(&officer, &id, &mut seen, |m| m["state"] == "retrying").await;
    assert!(m["attempts"].as_u64().unwrap() >= 1);
    assert_eq!(m["note"], "Gagal, akan dicoba lagi");
    assert!(m["sent_at"].is_null());

    // SMTP comes back where it was: the mail goes out.
    let smtp = SmtpReceiver::start_on(port).await.unwrap();
    let mail = smtp.next(MAIL_TIMEOUT).await.expect("the activation mail");
    assert_eq!(mail.to, vec!["siti@example.test".to_owned()]);
    let code = code_in(&mail);
    let m = mail_until(&officer, &id, &mut seen, |m| m["state"] == "sent").await;
    assert_eq!(m["note"], "Email terkirim");
    assert!(m["sent_at"].is_string());

    // Exactly once: one row, sent; another pass claims nothing; nothing else arrived.
    assert_eq!(h.count("SELECT COUNT(*) FROM outbox"), 1);
    assert_eq!(
        h.count("SELECT COUNT(*) FROM outbox WHERE status = 'sent'"),
        1
    );
    assert_eq!(
        ikd_server::outbox::run_once(&h.server.state).await.unwrap(),
        0
    );
    assert!(smtp.try_next().await.is_none(), "a second copy was sent");
    // The mailed code is the live one.
    assert_eq!(
        redeem(&h.base_url, &pac, &code).await,
        reqwest::StatusCode::OK
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_on_one_store_send_each_mail_exactly_once() {
    let h = Harness::start_tuned(Limits::generous(), RESIDENTS, |c| {
        c.outbox = fast(5, 50);
    })
    .await;
    let b = h
        .second_node(|c| {
            c.limits = Limits::generous();
            c.outbox = fast(5, 50);
        })
        .await;
    let officer = h.officer().await;
    let officer_b = Officer {
        http: reqwest::Client::new(),
        base: b.base_url.clone(),
        cookie: officer.cookie.clone(),
    };

    // Many mails queued on both nodes at once: both workers claim side by side.
    const N: usize = 120;
    let batch = |node: &str| -> Vec<Mail> {
        (0..N / 2)
            .map(|i| Mail {
                to: format!("warga{i}@example.test"),
                subject: format!("Pemberitahuan {node}{i}"),
                body: SecretString::new(format!("Pemberitahuan nomor {node}{i}\r\n")),
                purpose: MailPurpose::Notice,
                enrollment_id: None,
            })
            .collect()
    };
    let (sa, sb) = (h.server.state.clone(), b.state.clone());
    let (ma, mb) = (batch("a"), batch("b"));
    let qa = tokio::task::spawn_blocking(move || sa.store.enqueue_mails(&ma));
    let qb = tokio::task::spawn_blocking(move || sb.store.enqueue_mails(&mb));
    qa.await.unwrap().unwrap();
    qb.await.unwrap().unwrap();

    // And two residents approved, one on each node: one mail per code.
    let (siti, _, siti_confirm) = scanned(&h, &officer, SITI, "siti@example.test").await;
    let (budi, _, budi_confirm) = scanned(&h, &officer, BUDI, "budi@example.test").await;
    assert_eq!(
        officer.approve(&siti, &siti_confirm).await,
        reqwest::StatusCode::OK
    );
    assert_eq!(
        officer_b.approve(&budi, &budi_confirm).await,
        reqwest::StatusCode::OK
    );

    let mut subjects = HashSet::new();
    let mut codes = Vec::new();
    while subjects.len() + codes.len() < N + 2 {
        let m = h.smtp.next(MAIL_TIMEOUT).await.expect("every queued mail");
        let subject = m.header("Subject").unwrap();
        if subject.starts_with("Pemberitahuan") {
            assert!(subjects.insert(subject.clone()), "{subject} sent twice");
        } else {
            codes.push((m.to[0].clone(), code_in(&m)));
        }
    }
    codes.sort();
    assert_eq!(codes.len(), 2);
    assert_eq!(codes[0].0, "budi@example.test");
    assert_eq!(codes[1].0, "siti@example.test");
    let mut seen = Vec::new();
    for id in [&siti, &budi] {
        mail_until(&officer, id, &mut seen, |m| m["state"] == "sent").await;
    }
    // Every row sent once; neither node finds anything left to send.
    let deadline = Instant::now() + MAIL_TIMEOUT;
    while h.count("SELECT COUNT(*) FROM outbox WHERE status = 'sent'") < (N + 2) as i64 {
        assert!(Instant::now() < deadline, "not every row was marked sent");
        // Polling the store's rows (the last marks follow the last 250 OK).
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(h.count("SELECT COUNT(*) FROM outbox"), (N + 2) as i64);
    assert_eq!(
        h.count("SELECT COUNT(*) FROM outbox WHERE attempts <> 1"),
        0,
        "a row was claimed twice"
    );
    assert_eq!(
        ikd_server::outbox::run_once(&h.server.state).await.unwrap(),
        0
    );
    assert_eq!(ikd_server::outbox::run_once(&b.state).await.unwrap(), 0);
    assert!(h.smtp.try_next().await.is_none(), "a mail was sent twice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_mail_is_retried_with_backoff_and_ends_failed_after_the_bound() {
    let port = closed_port();
    let h = Harness::start_tuned(Limits::generous(), RESIDENTS, |c| {
        c.smtp.as_mut().unwrap().port = port;
        // Not dev mode: a mail done with loses its body (the code).
        c.dev_outbox = false;
        c.outbox = fast(3, 400);
    })
    .await;
    let officer = h.officer().await;
    let (id, _, confirm) = scanned(&h, &officer, SITI, "siti@example.test").await;
    assert_eq!(
        officer.approve(&id, &confirm).await,
        reqwest::StatusCode::OK
    );

    let mut seen = Vec::new();
    let m = mail_until(&officer, &id, &mut seen, |m| m["state"] == "failed").await;
    assert_eq!(m["attempts"], 3);
    assert_eq!(
        m["note"],
        "Gagal terkirim; warga dapat meminta kode dikirim ulang"
    );
    // It was retried (seen waiting between attempts), then given up.
    assert!(
        seen.contains(&"retrying".to_owned()),
        "states seen: {seen:?}"
    );
    assert_eq!(seen.last().map(String::as_str), Some("failed"));

    let rows = h.server.state.store.mail_rows().unwrap();
    assert_eq!(rows.len(), 1);
    let (status, attempts, error) = &rows[0];
    assert_eq!((status.as_str(), *attempts), ("failed", 3));
    let error = error.as_deref().unwrap();
    assert!(error.to_lowercase().contains("connect"), "{error}");
    assert!(!error.contains("Kode"), "{error}");
    assert_eq!(
        h.count("SELECT COUNT(*) FROM outbox WHERE status = 'failed' AND body = ''"),
        1,
        "the code stays in the outbox after the mail is given up"
    );
    // The bound holds: no further attempt.
    assert_eq!(
        ikd_server::outbox::run_once(&h.server.state).await.unwrap(),
        0
    );
    assert_eq!(h.count("SELECT MAX(attempts) FROM outbox"), 3);
}
