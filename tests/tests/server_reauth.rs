//! Re-authentication ("Lupa PIN") against the real server over HTTP: the enrolled device
//! asks with its enrollment token and a proof from its key, a new code arrives over real
//! SMTP, and the new offer yields new tokens and fresh credentials bound to the same key.
#![allow(clippy::unwrap_used)]

use ikd_core::client::ClientError;
use ikd_core::clock::Clock;
use ikd_core::sdjwt;
use ikd_core::secret::SecretString;
use ikd_core::wire::{KK_CONFIGURATION, KTP_CONFIGURATION, KTP_VCT};
use ikd_server::demo::SITI;
use ikd_tests::{device_key, selfie_jpeg, Approved, Harness};

const EMAIL: &str = "siti@example.com";

/// Approved and activated: the first tokens.
async fn activated(h: &Harness) -> (Approved, ikd_core::client::Tokens) {
    let officer = h.officer().await;
    let a = h.approved(&officer, SITI.nik, EMAIL).await;
    let tokens = h
        .client
        .token(&a.pre_authorized_code, &a.code)
        .await
        .unwrap();
    (a, tokens)
}

fn pac(r: &ikd_core::wire::ReauthResponse) -> String {
    r.credential_offer
        .grants
        .pre_authorized_code
        .clone()
        .expect("pre-authorised grant")
        .pre_authorized_code
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reauth_mails_a_new_code_revokes_old_tokens_and_reissues() {
    let h = Harness::start().await;
    let c = &h.client;
    let meta = c.issuer_metadata().await.unwrap();
    let (a, old) = activated(&h).await;

    let r = c
        .reauth(&a.enrollment_id, &a.token, &h.proof(&a.key).await)
        .await
        .unwrap();
    assert_eq!(r.enrollment_id, a.enrollment_id);
    assert_eq!(r.code_attempts_left, 5);
    assert_eq!(r.email_masked, "s***@example.com");
    assert_eq!(r.credential_offer.credential_issuer, h.base_url);
    let grant = r
        .credential_offer
        .grants
        .pre_authorized_code
        .clone()
        .unwrap();
    assert_eq!(grant.tx_code.unwrap().length, Some(6));
    assert_ne!(grant.pre_authorized_code, a.pre_authorized_code);

    // The code comes after an officer's review and the cooling-off (tests/pin_reset.rs).
    let code = SecretString::new(h.reset_code_after_review().await);
    assert_ne!(code.expose(), a.code.expose());

    // The old access and refresh tokens stopped working at once.
    assert!(c
        .credential(&old.access_token, KTP_CONFIGURATION, &h.proof(&a.key).await)
        .await
        .is_err());
    assert!(c
        .refresh(old.refresh_token.as_ref().unwrap())
        .await
        .is_err());
    // The old activation code and offer do not come back.
    assert!(c.token(&a.pre_authorized_code, &a.code).await.is_err());

    // A wrong code costs a try; the right one gives new tokens.
    let wrong = SecretString::new(
        if code.expose() == "000000" {
            "111111"
        } else {
            "000000"
        }
        .into(),
    );
    assert!(c.token(&grant.pre_authorized_code, &wrong).await.is_err());
    let tokens = c.token(&grant.pre_authorized_code, &code).await.unwrap();
    // Single use.
    assert!(c.token(&grant.pre_authorized_code, &code).await.is_err());

    let now = h.clock.now();
    let ktp = c
        .credential(
            &tokens.access_token,
            KTP_CONFIGURATION,
            &h.proof(&a.key).await,
        )
        .await
        .unwrap();
    let v = sdjwt::verify(&ktp, &meta.issuer_jwk, Some(&a.key.public_jwk()), now).unwrap();
    assert_eq!(v.vct, KTP_VCT);
    assert_eq!(v.claims["nik"], SITI.nik);
    // Through the device-key helper the app uses.
    let device = ikd_core::device_key::DeviceKey::from_pkcs8(a.key.pkcs8().clone()).unwrap();
    let kk = c
        .fetch_credential(
            &tokens.access_token,
            KK_CONFIGURATION,
            &device,
            &meta.credential_issuer,
            now,
        )
        .await
        .unwrap();
    sdjwt::verify(&kk, &meta.issuer_jwk, Some(&a.key.public_jwk()), now).unwrap();
    // The new refresh token works.
    c.refresh(tokens.refresh_token.as_ref().unwrap())
        .await
        .unwrap();
    h.server.shutdown().await;
}

/// The selfie as a resumable upload: the request uses it up and the officer sees it;
/// naming it beside an inline selfie, or again in a second request, is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reauth_uses_a_selfie_upload_once() {
    use base64::Engine as _;
    let h = Harness::start().await;
    let c = &h.client;
    let (a, _) = activated(&h).await;
    let photo = selfie_jpeg();
    let upload = c.create_upload(photo.len() as u64).await.unwrap();
    c.upload(&upload, &photo, None).await.unwrap();
    let b64 = base64::engine::general_purpose::STANDARD.encode(&photo);
    let url = format!(
        "{}/api/v1/enrollments/{}/reauth",
        h.base_url, a.enrollment_id
    );
    let post = |body: ikd_core::wire::DeviceRequest| {
        let (url, token) = (url.clone(), a.token.expose().clone());
        async move {
            let r = reqwest::Client::new()
                .post(url)
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap();
            let status = r.status();
            (status, r.json::<serde_json::Value>().await.unwrap())
        }
    };
    let (status, body) = post(ikd_core::wire::DeviceRequest {
        proof: h.proof(&a.key).await,
        selfie_jpeg: Some(b64.clone()),
        selfie_upload: Some(upload.clone()),
    })
    .await;
    assert_eq!(status, 400, "at most one of the two: {body}");
    assert_eq!(h.count("SELECT COUNT(*) FROM uploads"), 1, "kept");

    c.reauth_with_upload(&a.enrollment_id, &a.token, &h.proof(&a.key).await, &upload)
        .await
        .unwrap();
    assert_eq!(h.count("SELECT COUNT(*) FROM uploads"), 0, "used up");
    let officer = h.officer().await;
    let d: serde_json::Value = officer
        .get_json(&format!("/officer/api/resets/{}", a.enrollment_id))
        .await;
    assert_eq!(d["has_selfie"], true);
    assert_eq!(d["selfie_jpeg"], b64.as_str(), "the uploaded bytes");

    let (status, body) = post(ikd_core::wire::DeviceRequest {
        proof: h.proof(&a.key).await,
        selfie_jpeg: None,
        selfie_upload: Some(upload.clone()),
    })
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["detail"]["reason"], "upload_unusable");
    assert_eq!(body["detail"]["field"], "selfie_upload");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reauth_refuses_a_proof_from_another_key_and_keeps_tokens() {
    let h = Harness::start().await;
    let c = &h.client;
    let (a, old) = activated(&h).await;

    let other = device_key();
    let err = c
        .reauth(&a.enrollment_id, &a.token, &h.proof(&other).await)
        .await
        .unwrap_err();
    assert!(!matches!(err, ClientError::Offline), "{err:?}");
    // A stale nonce is refused too.
    let stale = ikd_tests::proof_jwt(&a.key, &h.base_url, "not-a-nonce", h.clock_now_ts());
    assert!(c.reauth(&a.enrollment_id, &a.token, &stale).await.is_err());
    // Without the enrollment token: refused.
    let bad = SecretString::new("not-the-token".into());
    assert!(c
        .reauth(&a.enrollment_id, &bad, &h.proof(&a.key).await)
        .await
        .is_err());

    // Nothing was revoked.
    c.credential(&old.access_token, KTP_CONFIGURATION, &h.proof(&a.key).await)
        .await
        .unwrap();
    c.refresh(old.refresh_token.as_ref().unwrap())
        .await
        .unwrap();
    h.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reauth_refuses_a_released_device() {
    let h = Harness::start().await;
    let c = &h.client;
    let (a, old) = activated(&h).await;
    c.release(&old.access_token, &h.proof(&a.key).await)
        .await
        .unwrap();
    assert_eq!(
        c.reauth(&a.enrollment_id, &a.token, &h.proof(&a.key).await)
            .await
            .unwrap_err(),
        ClientError::DeviceRevoked
    );
    h.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reauth_is_refused_when_the_device_is_blocked_mid_way() {
    let h = Harness::start().await;
    let c = &h.client;
    let (a, _old) = activated(&h).await;
    let r = c
        .reauth(&a.enrollment_id, &a.token, &h.proof(&a.key).await)
        .await
        .unwrap();
    let code = SecretString::new(h.reset_code_after_review().await);
    // An officer blocks the device before the code is redeemed.
    let officer = h.officer().await;
    let resp = officer
        .post(&format!("/officer/api/devices/{}/block", SITI.nik))
        .json(&serde_json::json!({ "reason": "Laporan kehilangan ponsel" }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), reqwest::StatusCode::OK);
    assert!(c.token(&pac(&r), &code).await.is_err());
    assert_eq!(
        c.reauth(&a.enrollment_id, &a.token, &h.proof(&a.key).await)
            .await
            .unwrap_err(),
        ClientError::DeviceRevoked
    );
    h.server.shutdown().await;
}

#[test]
fn reauth_is_documented() {
    let doc = ikd_server::openapi::document();
    let op = &doc["paths"][ikd_core::wire::paths::ENROLLMENT_REAUTH]["post"];
    assert!(op.is_object(), "reauth documented");
    assert!(doc["components"]["schemas"]["ReauthResponse"].is_object());
}
