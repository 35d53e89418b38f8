//! Issue 11 item 2: "Lupa PIN" needs a factor that is not on the phone. A request
//! (enrollment token + device proof: what a thief with the unlocked phone has) opens a
//! reset that an officer reviews (a fresh selfie against the SIAK photo, or a desk
//! visit); only then is the code mailed, and it works only after the cooling-off (24 h).
//! The registered email and phone are told at once, with a link that cancels it.
#![allow(clippy::unwrap_used)]

use ikd_core::client::ClientError;
use ikd_core::secret::SecretString;
use ikd_core::wire::OutboxMail;
use ikd_server::demo::SITI;
use ikd_tests::{code_in, selfie_jpeg, Approved, Harness, MAIL_TIMEOUT};
use reqwest::StatusCode;

async fn activated(h: &Harness) -> Approved {
    let officer = h.officer().await;
    let a = h.approved(&officer, SITI.nik, "siti@example.com").await;
    h.client
        .token(&a.pre_authorized_code, &a.code)
        .await
        .unwrap();
    a
}

fn waiting(e: &ClientError) -> &str {
    match e {
        ClientError::PinResetWaiting { reason, .. } => reason,
        other => panic!("expected PinResetWaiting, got {other:?}"),
    }
}

/// The mail body as the mail client shows it (quoted-printable decoded).
fn quoted_printable(s: &str) -> String {
    let s = s.replace("=\r\n", "").replace("=\n", "");
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'=' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap()
}

async fn outbox(h: &Harness) -> Vec<OutboxMail> {
    reqwest::get(format!("{}/dev/outbox", h.base_url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Before the fix the reset code went straight to the mailbox, which on a phone is
/// usually the same phone: the thief read it and set a new PIN.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thief_with_the_unlocked_phone_and_the_mailbox_cannot_set_a_new_pin_without_review() {
    let h = Harness::start().await;
    let a = activated(&h).await;
    let r = h
        .client
        .reauth(&a.enrollment_id, &a.token, &h.proof(&a.key).await)
        .await
        .unwrap();
    let usable: chrono::DateTime<chrono::Utc> =
        r.reset_usable_at.as_deref().unwrap().parse().unwrap();
    assert_eq!(usable.timestamp() - h.clock_now_ts(), 24 * 3600);
    let pac = r
        .credential_offer
        .grants
        .pre_authorized_code
        .unwrap()
        .pre_authorized_code;
    // The mailbox gets a notice, not a code.
    let notice = h.smtp.next(MAIL_TIMEOUT).await.expect("the notice");
    assert_eq!(
        notice.header("Subject").as_deref(),
        Some(ikd_server::pinreset::REQUESTED_SUBJECT)
    );
    assert_eq!(ikd_server::mail::extract_code(&notice.body()), None);
    // Whatever code the thief tries, today or after the cooling-off: no review, no tokens.
    for wait in [0, 25] {
        h.clock.advance(chrono::Duration::hours(wait));
        let e = h
            .client
            .token(&pac, &SecretString::new("123456".into()))
            .await
            .unwrap_err();
        assert_eq!(waiting(&e), "in_review");
    }
    assert!(
        !outbox(&h)
            .await
            .iter()
            .any(|m| m.subject == ikd_server::mail::REAUTH_SUBJECT),
        "no code was ever mailed"
    );
    // The officer sees a request without a selfie and rejects it: it stays dead.
    let officer = h.officer().await;
    let queue: Vec<serde_json::Value> = officer.get_json("/officer/api/resets").await;
    assert_eq!(queue.len(), 1);
    assert_eq!(queue[0]["has_selfie"], false);
    assert_eq!(
        officer.approve_reset(&a.enrollment_id, "selfie").await,
        StatusCode::CONFLICT,
        "no selfie to approve by"
    );
    let r = officer
        .post(&format!("/officer/api/resets/{}/reject", a.enrollment_id))
        .json(&serde_json::json!({ "reason": "Bukan pemilik" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let e = h
        .client
        .token(&pac, &SecretString::new("123456".into()))
        .await
        .unwrap_err();
    assert_eq!(waiting(&e), "cancelled");
}

/// Before the fix the code worked the moment it arrived.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_new_code_does_not_work_before_the_cooling_off_ends() {
    use base64::Engine as _;
    let h = Harness::start().await;
    let a = activated(&h).await;
    let nonce = h.client.nonce().await.unwrap();
    let proof = ikd_tests::proof_jwt(&a.key, &h.base_url, &nonce, h.clock_now_ts());
    let selfie = base64::engine::general_purpose::STANDARD.encode(selfie_jpeg());
    let r = h
        .client
        .reauth_with_selfie(&a.enrollment_id, &a.token, &proof, Some(selfie.clone()))
        .await
        .unwrap();
    let pac = r
        .credential_offer
        .grants
        .pre_authorized_code
        .unwrap()
        .pre_authorized_code;
    h.smtp.next(MAIL_TIMEOUT).await.expect("the notice");
    // The review: the fresh selfie beside the SIAK photo.
    let officer = h.officer().await;
    // The face check runs after the request (server/src/facework.rs): until it is in,
    // approving on the selfie is refused.
    let d = officer
        .face_checked(&format!("/officer/api/resets/{}", a.enrollment_id))
        .await;
    assert_eq!(d["face_check"], "one_face");
    assert_eq!(d["selfie_jpeg"], selfie.as_str());
    assert_eq!(d["has_selfie"], true);
    assert!(d["siak_photo_jpeg"].as_str().unwrap().len() > 100);
    assert_eq!(d["face_note"], "Wajah terdeteksi");
    assert_eq!(
        officer.approve_reset(&a.enrollment_id, "selfie").await,
        StatusCode::NO_CONTENT
    );
    let mail = h.smtp.next(MAIL_TIMEOUT).await.expect("the code");
    assert_eq!(
        mail.header("Subject").as_deref(),
        Some(ikd_server::mail::REAUTH_SUBJECT)
    );
    let code = SecretString::new(code_in(&mail));
    // The right code, an hour before the end: refused, no try spent.
    h.clock.advance(chrono::Duration::hours(23));
    for _ in 0..6 {
        let e = h.client.token(&pac, &code).await.unwrap_err();
        assert_eq!(waiting(&e), "cooling_off");
    }
    h.clock.advance(chrono::Duration::hours(1));
    let tokens = h.client.token(&pac, &code).await.unwrap();
    assert!(!tokens.access_token.expose().is_empty());
    // The review left the queue (a new session: a day passed).
    let officer = h.officer().await;
    let queue = officer.get_text("/officer/api/resets").await;
    assert_eq!(queue, "[]");
}

/// Before the fix nobody else was told, and nothing could stop a reset.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancel_from_the_notice_stops_the_reset() {
    let h = Harness::start().await;
    let a = activated(&h).await;
    let r = h
        .client
        .reauth(&a.enrollment_id, &a.token, &h.proof(&a.key).await)
        .await
        .unwrap();
    let pac = r
        .credential_offer
        .grants
        .pre_authorized_code
        .unwrap()
        .pre_authorized_code;
    let notice = h.smtp.next(MAIL_TIMEOUT).await.expect("the notice");
    assert_eq!(notice.to, vec!["siti@example.com".to_owned()]);
    let body = quoted_printable(&notice.body());
    let link = body
        .split_whitespace()
        .find(|w| w.contains("/pin-reset/cancel?t="))
        .expect("a cancel link")
        .to_owned();
    let token = link.split("t=").nth(1).unwrap().to_owned();
    // The same link by SMS to the registered phone.
    let sms: Vec<OutboxMail> = outbox(&h)
        .await
        .into_iter()
        .filter(|m| m.subject == ikd_server::sms::SMS_SUBJECT)
        .collect();
    assert_eq!(sms.len(), 1);
    assert_eq!(sms[0].to, "+6281234567890");
    assert!(sms[0].body.contains(&link), "{} vs {link}", sms[0].body);
    // The link's page, then its button's request.
    let page = reqwest::get(&link).await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("Batalkan permintaan"));
    let cancel = |t: String| {
        let url = format!("{}/api/v1/pin-resets/cancel", h.base_url);
        async move {
            reqwest::Client::new()
                .post(url)
                .json(&serde_json::json!({ "token": t }))
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(
        cancel(format!("{}.wrong", a.enrollment_id)).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(cancel(token.clone()).await, StatusCode::NO_CONTENT);
    assert_eq!(cancel(token).await, StatusCode::NOT_FOUND, "once");
    // Nothing left to review or redeem.
    let officer = h.officer().await;
    assert_eq!(
        officer.approve_reset(&a.enrollment_id, "desk").await,
        StatusCode::NOT_FOUND
    );
    h.clock.advance(chrono::Duration::hours(25));
    let e = h
        .client
        .token(&pac, &SecretString::new("123456".into()))
        .await
        .unwrap_err();
    assert_eq!(waiting(&e), "cancelled");
}
