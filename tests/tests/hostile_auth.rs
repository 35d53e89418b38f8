//! Hostile use of tokens, codes and desk QRs that `server_refusals.rs` does not cover:
//! another device's token against refresh and release, another resident's documents,
//! token-type confusion, a stolen refresh token without the device key, and races
//! (concurrent code guessing, concurrent scans of one desk QR).
#![allow(clippy::unwrap_used)]

use ikd_core::client::ClientError;
use ikd_core::sdjwt;
use ikd_core::secret::SecretString;
use ikd_core::wire::KTP_CONFIGURATION;
use ikd_server::demo::{BUDI, SITI};
use ikd_tests::{device_key, Harness};

fn wrong_for(code: &str) -> SecretString {
    SecretString::new(if code == "000000" { "111111" } else { "000000" }.to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_devices_tokens_and_other_residents_documents_are_refused() {
    let h = Harness::start_with(ikd_server::Limits::generous()).await;
    let c = &h.client;
    let officer = h.officer().await;
    let meta = c.issuer_metadata().await.unwrap();
    let siti = h.approved(&officer, SITI.nik, "siti@example.com").await;
    let budi = h.approved(&officer, BUDI.nik, "budi@example.com").await;
    let ts = c
        .token(&siti.pre_authorized_code, &siti.code)
        .await
        .unwrap();
    let tb = c
        .token(&budi.pre_authorized_code, &budi.code)
        .await
        .unwrap();
    // A proof by another key than the enrolled one gets its own answer
    // ("Kunci bukti bukan kunci perangkat terdaftar").
    let invalid_proof = ClientError::ProofKeyNotDevice;

    // Siti's access token with Budi's device proof: release and credential refused.
    assert_eq!(
        c.release(&ts.access_token, &h.proof(&budi.key).await)
            .await
            .unwrap_err(),
        invalid_proof
    );
    assert_eq!(
        c.credential(
            &tb.access_token,
            KTP_CONFIGURATION,
            &h.proof(&siti.key).await
        )
        .await
        .unwrap_err(),
        invalid_proof
    );
    // Both devices still work after the refused attempts.
    c.credential(
        &ts.access_token,
        KTP_CONFIGURATION,
        &h.proof(&siti.key).await,
    )
    .await
    .unwrap();

    // Asking for another resident's documents in the request body is ignored: the
    // credential is the token holder's own.
    let http = reqwest::Client::new();
    let r = http
        .post(format!("{}/credential", h.base_url))
        .bearer_auth(ts.access_token.expose())
        .json(&serde_json::json!({
            "credential_configuration_id": KTP_CONFIGURATION,
            "proofs": {"jwt": [h.proof(&siti.key).await]},
            "nik": BUDI.nik, "sub": BUDI.nik, "credential_identifier": BUDI.nik,
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::OK);
    let body: serde_json::Value = r.json().await.unwrap();
    let cred = body["credentials"][0]["credential"].as_str().unwrap();
    let v = sdjwt::verify(
        cred,
        &meta.issuer_jwk,
        Some(&siti.key.public_jwk()),
        chrono::Utc::now(),
    )
    .unwrap();
    assert_eq!(v.claims["nik"], SITI.nik);
    // Two proofs (one of them Budi's) are refused.
    let r = http
        .post(format!("{}/credential", h.base_url))
        .bearer_auth(ts.access_token.expose())
        .json(&serde_json::json!({
            "credential_configuration_id": KTP_CONFIGURATION,
            "proofs": {"jwt": [h.proof(&siti.key).await, h.proof(&budi.key).await]},
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::BAD_REQUEST);

    // Token-type confusion.
    let refresh_s = ts.refresh_token.clone().unwrap();
    assert_eq!(
        c.credential(&refresh_s, KTP_CONFIGURATION, &h.proof(&siti.key).await)
            .await
            .unwrap_err(),
        ClientError::Unauthorized,
        "a refresh token is not an access token"
    );
    assert!(
        c.refresh(&ts.access_token).await.is_err(),
        "an access token is not a refresh token"
    );
    assert_eq!(
        c.credential(&siti.token, KTP_CONFIGURATION, &h.proof(&siti.key).await)
            .await
            .unwrap_err(),
        ClientError::Unauthorized,
        "an enrollment token is not an access token"
    );
    assert_eq!(
        c.status(&siti.enrollment_id, &ts.access_token)
            .await
            .unwrap_err(),
        ClientError::NotFound,
        "an access token is not an enrollment token"
    );
    // The pre-authorised code as a refresh token, the code as a bearer: refused.
    assert!(c
        .refresh(&SecretString::new(siti.pre_authorized_code.clone()))
        .await
        .is_err());

    // A stolen refresh token is a bearer token (RFC 6749 refresh, no DPoP), but what it
    // yields is useless without the device key: credential and release need a proof.
    let thief = c.refresh(&refresh_s).await.unwrap();
    let thief_key = device_key();
    assert_eq!(
        c.credential(
            &thief.access_token,
            KTP_CONFIGURATION,
            &h.proof(&thief_key).await
        )
        .await
        .unwrap_err(),
        invalid_proof
    );
    assert_eq!(
        c.release(&thief.access_token, &h.proof(&thief_key).await)
            .await
            .unwrap_err(),
        invalid_proof
    );

    // Siti moves to a new phone: the old device's refresh token and its release are refused.
    let again = h.approved(&officer, SITI.nik, "siti@example.com").await;
    let t2 = c
        .token(&again.pre_authorized_code, &again.code)
        .await
        .unwrap();
    assert_eq!(
        c.refresh(&refresh_s).await.unwrap_err(),
        ClientError::DeviceRevoked
    );
    assert_eq!(
        c.release(&ts.access_token, &h.proof(&siti.key).await)
            .await
            .unwrap_err(),
        ClientError::DeviceRevoked
    );
    // The old device's access token with the new device's proof: still refused.
    assert!(c
        .release(&ts.access_token, &h.proof(&again.key).await)
        .await
        .is_err());
    // The new device is unaffected; Budi too.
    c.credential(
        &t2.access_token,
        KTP_CONFIGURATION,
        &h.proof(&again.key).await,
    )
    .await
    .unwrap();
    c.refresh(tb.refresh_token.as_ref().unwrap()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_code_guessing_gets_five_tries_in_all() {
    let h = Harness::start_with(ikd_server::Limits::generous()).await;
    let officer = h.officer().await;
    let budi = h.approved(&officer, BUDI.nik, "budi@example.com").await;
    let wrong = wrong_for(budi.code.expose());
    // 24 wrong guesses at once, from separate connections.
    let mut tasks = Vec::new();
    for _ in 0..24 {
        let client = ikd_core::client::BackendClient::new(&h.base_url).unwrap();
        let (pac, wrong) = (budi.pre_authorized_code.clone(), wrong.clone());
        tasks.push(tokio::spawn(
            async move { client.token(&pac, &wrong).await },
        ));
    }
    let (mut wrong_answers, mut void_answers) = (Vec::new(), 0);
    for t in tasks {
        match t.await.unwrap().unwrap_err() {
            ClientError::CodeWrong { attempts_left } => wrong_answers.push(attempts_left),
            ClientError::CodeVoid => void_answers += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    wrong_answers.sort();
    assert_eq!(
        wrong_answers,
        vec![1, 2, 3, 4],
        "exactly four 'wrong, N left'"
    );
    assert_eq!(void_answers, 20);
    // Then the right code is refused too.
    assert_eq!(
        h.client
            .token(&budi.pre_authorized_code, &budi.code)
            .await
            .unwrap_err(),
        ClientError::CodeVoid
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_desk_qr_admits_one_of_many_concurrent_scans() {
    let h = Harness::start_with(ikd_server::Limits::generous()).await;
    let officer = h.officer().await;
    let people = [SITI.nik, BUDI.nik];
    let mut subs = Vec::new();
    for (i, nik) in people.iter().cycle().take(12).enumerate() {
        let sub = h
            .client
            .submit(
                &h.enroll_request(nik, &format!("r{i}@example.com"), &device_key())
                    .await,
            )
            .await
            .unwrap();
        subs.push(sub);
    }
    let qr = officer.desk_qr().await;
    let mut tasks = Vec::new();
    for sub in subs {
        let client = ikd_core::client::BackendClient::new(&h.base_url).unwrap();
        let text = qr.text.clone();
        tasks.push(tokio::spawn(async move {
            client
                .scan(
                    &sub.enrollment_id,
                    &SecretString::new(sub.enrollment_token),
                    &text,
                )
                .await
        }));
    }
    let (mut ok, mut used) = (0, 0);
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => ok += 1,
            Err(ClientError::QrUsed) => used += 1,
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!((ok, used), (1, 11));
}
