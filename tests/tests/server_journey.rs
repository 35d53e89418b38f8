//! The resident's whole journey against the real server over HTTP, with the officer
//! approving over HTTP and the code arriving over real SMTP.
#![allow(clippy::unwrap_used)]

use ikd_core::client::ClientError;
use ikd_core::clock::Clock;
use ikd_core::sdjwt;
use ikd_core::secret::SecretString;
use ikd_core::wire::{EnrollmentStatusWire, KK_CONFIGURATION, KK_VCT, KTP_CONFIGURATION, KTP_VCT};
use ikd_server::demo::{DEMO_KK, SITI};
use ikd_tests::{code_in, device_key, Harness, MAIL_TIMEOUT};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resident_enrolls_activates_refreshes_and_releases() {
    let h = Harness::start().await;
    let c = &h.client;
    let key = device_key();

    // Submit.
    let sub = c
        .submit(&h.enroll_request(SITI.nik, "siti@example.com", &key).await)
        .await
        .unwrap();
    assert_eq!(sub.status, EnrollmentStatusWire::Submitted);
    let token = SecretString::new(sub.enrollment_token.clone());
    let st = c.status(&sub.enrollment_id, &token).await.unwrap();
    assert_eq!(st.status, EnrollmentStatusWire::Submitted);
    assert_eq!(st.email_masked.as_deref(), Some("s***@example.com"));

    // The officer shows the desk QR; the PNG decodes to the same text.
    let officer = h.officer().await;
    let qr = officer.desk_qr().await;
    let png = officer
        .get("/officer/api/desk/qr.png")
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let img = image::load_from_memory(&png).unwrap().to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(img);
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1);
    let (_, decoded) = grids[0].decode().unwrap();
    assert_eq!(decoded, qr.text);

    // Scan: queued at the desk.
    let st = c.scan(&sub.enrollment_id, &token, &qr.text).await.unwrap();
    assert_eq!(st.status, EnrollmentStatusWire::Scanned);
    assert_eq!(st.desk_name.as_deref(), Some(qr.desk_name.as_str()));
    let queue = officer.queue().await;
    assert!(queue
        .iter()
        .any(|q| q["enrollment_id"] == sub.enrollment_id.as_str() && q["nama"] == SITI.name));
    let detail: serde_json::Value = officer
        .get_json(&format!("/officer/api/enrollments/{}", sub.enrollment_id))
        .await;
    assert_eq!(detail["siak"]["nama"], SITI.name);
    assert!(detail["selfie_jpeg"].as_str().unwrap().len() > 100);
    assert!(detail["siak_photo_jpeg"].as_str().unwrap().len() > 100);

    // Approve: the code arrives by SMTP.
    assert_eq!(
        officer
            .approve(&sub.enrollment_id, &ikd_tests::confirm_of(&st))
            .await,
        reqwest::StatusCode::OK
    );
    let mail = h.smtp.next(MAIL_TIMEOUT).await.expect("activation mail");
    assert_eq!(mail.to, vec!["siti@example.com".to_owned()]);
    assert_eq!(mail.header("Subject").as_deref(), Some("Kode Aktivasi IKD"));
    let code = SecretString::new(code_in(&mail));

    let st = c.status(&sub.enrollment_id, &token).await.unwrap();
    assert_eq!(st.status, EnrollmentStatusWire::Approved);
    assert_eq!(st.code_attempts_left, Some(5));
    let offer = st.credential_offer.unwrap();
    assert_eq!(offer.credential_issuer, h.base_url);
    assert_eq!(offer.credential_configuration_ids, vec!["ktp", "kk"]);
    let grant = offer.grants.pre_authorized_code.unwrap();
    let tx = grant.tx_code.unwrap();
    assert_eq!(
        (tx.input_mode.as_deref(), tx.length),
        (Some("numeric"), Some(6))
    );

    // The dev outbox has the same mail.
    let outbox: Vec<ikd_core::wire::OutboxMail> =
        reqwest::get(format!("{}/dev/outbox", h.base_url))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    assert!(outbox
        .iter()
        .any(|m| m.body.contains(code.expose().as_str())));

    // Issuer metadata: pin the key.
    let meta = c.issuer_metadata().await.unwrap();
    assert_eq!(meta.credential_issuer, h.base_url);
    assert_eq!(c.pinned_issuer_jwk(), Some(meta.issuer_jwk.clone()));

    // Token with the emailed code, then both credentials.
    let tokens = c.token(&grant.pre_authorized_code, &code).await.unwrap();
    let now = h.clock.now();
    let ktp = c
        .credential(
            &tokens.access_token,
            KTP_CONFIGURATION,
            &h.proof(&key).await,
        )
        .await
        .unwrap();
    let v = sdjwt::verify(&ktp, &meta.issuer_jwk, Some(&key.public_jwk()), now).unwrap();
    assert_eq!(v.vct, KTP_VCT);
    assert_eq!(v.issuer, h.base_url);
    assert_eq!(v.claims["nik"], SITI.nik);
    assert_eq!(v.claims["nama"], SITI.name);
    assert_eq!(v.claims["kel_desa"], "26 ILIR");
    assert_eq!(v.claims["rt_rw"], "004/002");
    assert_eq!(v.claims["berlaku_hingga"], "SEUMUR HIDUP");
    // The KK through the device-key helper the app uses.
    let device = ikd_core::device_key::DeviceKey::from_pkcs8(key.pkcs8().clone()).unwrap();
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
    let v = sdjwt::verify(&kk, &meta.issuer_jwk, Some(&key.public_jwk()), now).unwrap();
    assert_eq!(v.vct, KK_VCT);
    assert_eq!(v.claims["nomor_kk"], DEMO_KK);
    assert_eq!(v.claims["anggota"].as_array().unwrap().len(), 4);

    // A proof without a fresh nonce is refused (nonces are single use).
    let stale = ikd_tests::proof_jwt(&key, &h.base_url, "not-a-nonce", h.clock_now_ts());
    assert!(c
        .credential(&tokens.access_token, KTP_CONFIGURATION, &stale)
        .await
        .is_err());

    // Refresh: a new access token gives fresh credentials.
    let refreshed = c
        .refresh(tokens.refresh_token.as_ref().unwrap())
        .await
        .unwrap();
    let again = c
        .credential(
            &refreshed.access_token,
            KTP_CONFIGURATION,
            &h.proof(&key).await,
        )
        .await
        .unwrap();
    sdjwt::verify(&again, &meta.issuer_jwk, Some(&key.public_jwk()), now).unwrap();

    // Release the device: its tokens stop working.
    c.release(&refreshed.access_token, &h.proof(&key).await)
        .await
        .unwrap();
    assert_eq!(
        c.credential(
            &refreshed.access_token,
            KTP_CONFIGURATION,
            &h.proof(&key).await
        )
        .await
        .unwrap_err(),
        ClientError::DeviceRevoked
    );
    assert_eq!(
        c.refresh(tokens.refresh_token.as_ref().unwrap())
            .await
            .unwrap_err(),
        ClientError::DeviceRevoked
    );
    h.server.shutdown().await;
}
