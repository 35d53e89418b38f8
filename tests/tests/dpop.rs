//! DPoP (RFC 9449) at the token, credential and release endpoints, over real HTTP:
//! the app proves with its device key; tokens are bound to it (token_type DPoP); a
//! wallet with its own key is refused at /token before the activation code is spent;
//! bad proofs (wrong htu or htm, too old, replayed jti, missing or wrong ath, another
//! key than the token's) are refused with `invalid_dpop_proof`.
#![allow(clippy::unwrap_used)]

use ikd_core::client::{BackendClient, ClientError};
use ikd_core::clock::Clock;
use ikd_core::device_key::DeviceKey;
use ikd_core::jose::EcKeyPair;
use ikd_core::secret::{SecretBytes, SecretString};
use ikd_core::wire::KTP_CONFIGURATION;
use ikd_server::demo::SITI;
use ikd_tests::{device_key, Harness};
use serde_json::{json, Value};
use std::sync::Arc;

fn dk(k: &EcKeyPair) -> DeviceKey {
    DeviceKey::from_pkcs8(SecretBytes::new(k.pkcs8().expose().clone())).unwrap()
}

async fn token_with_dpop(
    h: &Harness,
    form: &[(&str, &str)],
    dpop: Option<String>,
) -> reqwest::Response {
    let mut req = reqwest::Client::new()
        .post(format!("{}/token", h.base_url))
        .form(form);
    if let Some(p) = dpop {
        req = req.header("DPoP", p);
    }
    req.send().await.unwrap()
}

/// POST /credential with `Authorization: DPoP <access>` and the proof `dpop`.
async fn credential_with(
    h: &Harness,
    key: &EcKeyPair,
    access: &str,
    dpop: Option<String>,
) -> reqwest::Response {
    let mut req = reqwest::Client::new()
        .post(format!("{}/credential", h.base_url))
        .header("Authorization", format!("DPoP {access}"))
        .json(&json!({
            "credential_configuration_id": KTP_CONFIGURATION,
            "proofs": {"jwt": [h.proof(key).await]},
        }));
    if let Some(p) = dpop {
        req = req.header("DPoP", p);
    }
    req.send().await.unwrap()
}

async fn refused(r: reqwest::Response, status: reqwest::StatusCode) -> Value {
    assert_eq!(r.status(), status);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "invalid_dpop_proof", "{body}");
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dpop_binds_tokens_to_the_device_key_and_refuses_bad_proofs() {
    let h = Harness::start().await;
    let officer = h.officer().await;
    let siti = h.approved(&officer, SITI.nik, "siti@example.com").await;
    let as_meta: Value = reqwest::get(format!(
        "{}/.well-known/oauth-authorization-server",
        h.base_url
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(
        as_meta["dpop_signing_alg_values_supported"],
        json!(["ES256"])
    );

    let htu = format!("{}/token", h.base_url);
    let form = [
        (
            "grant_type",
            "urn:ietf:params:oauth:grant-type:pre-authorized_code",
        ),
        ("pre-authorized_code", siti.pre_authorized_code.as_str()),
        ("tx_code", siti.code.expose().as_str()),
    ];
    // A generic wallet's own key, with the right code: refused, distinctly.
    let own = dk(&device_key());
    let p = own.dpop_proof("POST", &htu, None, h.clock.now()).unwrap();
    let body = refused(
        token_with_dpop(&h, &form, Some(p)).await,
        reqwest::StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(body["detail"]["code"], "proof_key_not_device");
    assert_eq!(
        body["error_description"],
        "Kunci bukti bukan kunci perangkat terdaftar."
    );
    // ... and the code was not spent: no attempt used.
    let st = h
        .client
        .status(&siti.enrollment_id, &siti.token)
        .await
        .unwrap();
    assert_eq!(st.code_attempts_left, Some(5));

    // Bad proofs by the device key: wrong htu, wrong htm, too old, not a JWT.
    let device = dk(&siti.key);
    let now = h.clock.now();
    let cred_htu = format!("{}/credential", h.base_url);
    let bad = [
        device.dpop_proof("POST", &cred_htu, None, now).unwrap(),
        device.dpop_proof("GET", &htu, None, now).unwrap(),
        device
            .dpop_proof("POST", &htu, None, now - chrono::Duration::minutes(10))
            .unwrap(),
        "not.a.jwt".to_owned(),
    ];
    for p in bad {
        refused(
            token_with_dpop(&h, &form, Some(p)).await,
            reqwest::StatusCode::BAD_REQUEST,
        )
        .await;
    }
    let st = h
        .client
        .status(&siti.enrollment_id, &siti.token)
        .await
        .unwrap();
    assert_eq!(
        st.code_attempts_left,
        Some(5),
        "bad proofs spend no attempt"
    );

    // The device key: DPoP-bound tokens.
    let p = device
        .dpop_proof("POST", &htu, None, h.clock.now())
        .unwrap();
    let r = token_with_dpop(&h, &form, Some(p.clone())).await;
    assert_eq!(r.status(), reqwest::StatusCode::OK);
    let t: Value = r.json().await.unwrap();
    assert_eq!(t["token_type"], "DPoP");
    let access = t["access_token"].as_str().unwrap().to_owned();
    let refresh = t["refresh_token"].as_str().unwrap().to_owned();
    let refresh_form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh.as_str()),
    ];

    // A replayed proof (same jti) is refused.
    refused(
        token_with_dpop(&h, &refresh_form, Some(p)).await,
        reqwest::StatusCode::BAD_REQUEST,
    )
    .await;
    // The bound refresh token needs a proof, by the device key.
    refused(
        token_with_dpop(&h, &refresh_form, None).await,
        reqwest::StatusCode::BAD_REQUEST,
    )
    .await;
    let p = own.dpop_proof("POST", &htu, None, h.clock.now()).unwrap();
    let body = refused(
        token_with_dpop(&h, &refresh_form, Some(p)).await,
        reqwest::StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(body["detail"]["code"], "proof_key_not_device");
    let p = device
        .dpop_proof("POST", &htu, None, h.clock.now())
        .unwrap();
    let r = token_with_dpop(&h, &refresh_form, Some(p)).await;
    assert_eq!(r.status(), reqwest::StatusCode::OK);
    let t2: Value = r.json().await.unwrap();
    assert_eq!(t2["token_type"], "DPoP");

    // The bound access token as a Bearer token: refused (invalid_dpop_proof, which the
    // client maps to ProofRefused).
    let bearer = h
        .client
        .credential(
            &SecretString::new(access.clone()),
            KTP_CONFIGURATION,
            &h.proof(&siti.key).await,
        )
        .await
        .unwrap_err();
    assert!(matches!(bearer, ClientError::ProofRefused), "{bearer:?}");
    let unauthorized = reqwest::StatusCode::UNAUTHORIZED;
    // With the DPoP scheme but no proof; a proof without ath; one for another token
    // (wrong ath); one for another URI: refused.
    refused(
        credential_with(&h, &siti.key, &access, None).await,
        unauthorized,
    )
    .await;
    let now = h.clock.now();
    let no_ath = device.dpop_proof("POST", &cred_htu, None, now).unwrap();
    let wrong_ath = device
        .dpop_proof("POST", &cred_htu, Some("another-token"), now)
        .unwrap();
    let wrong_htu = device.dpop_proof("POST", &htu, Some(&access), now).unwrap();
    for p in [no_ath, wrong_ath, wrong_htu] {
        refused(
            credential_with(&h, &siti.key, &access, Some(p)).await,
            unauthorized,
        )
        .await;
    }
    // Key A's token with a (well-formed) proof by key B: refused.
    let by_b = own
        .dpop_proof("POST", &cred_htu, Some(&access), now)
        .unwrap();
    let body = refused(
        credential_with(&h, &siti.key, &access, Some(by_b)).await,
        unauthorized,
    )
    .await;
    assert_eq!(body["detail"]["code"], "proof_key_not_device");
    // The right proof works once; its replay is refused.
    let good = device
        .dpop_proof("POST", &cred_htu, Some(&access), now)
        .unwrap();
    let r = credential_with(&h, &siti.key, &access, Some(good.clone())).await;
    assert_eq!(r.status(), reqwest::StatusCode::OK);
    refused(
        credential_with(&h, &siti.key, &access, Some(good)).await,
        unauthorized,
    )
    .await;

    // The app's client proves with the device key: credential and release work.
    let clock: Arc<dyn Clock> = h.clock.clone();
    let app = BackendClient::new(&h.base_url)
        .unwrap()
        .with_dpop(device.clone(), clock);
    let ktp = app
        .fetch_credential(
            &SecretString::new(access.clone()),
            KTP_CONFIGURATION,
            &device,
            &h.base_url,
            h.clock.now(),
        )
        .await
        .unwrap();
    assert!(ktp.contains('~'));
    app.release_device(
        &SecretString::new(access),
        &device,
        &h.base_url,
        h.clock.now(),
    )
    .await
    .unwrap();
    h.server.shutdown().await;
}
