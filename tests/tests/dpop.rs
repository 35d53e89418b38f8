//! DPoP (RFC 9449) at the token, credential and release endpoints, over real HTTP:
//! the app proves with its device key; tokens are bound to it; a wallet with its own
//! key is refused at /token before the activation code is spent.
#![allow(clippy::unwrap_used)]

use ikd_core::client::{BackendClient, ClientError};
use ikd_core::clock::Clock;
use ikd_core::device_key::DeviceKey;
use ikd_core::jose::EcKeyPair;
use ikd_core::secret::{SecretBytes, SecretString};
use ikd_core::wire::KTP_CONFIGURATION;
use ikd_server::demo::SITI;
use ikd_tests::{device_key, Harness};
use serde_json::Value;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wallet_with_its_own_key_is_refused_before_the_code_is_spent() {
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
        serde_json::json!(["ES256"])
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
    let r = token_with_dpop(&h, &form, Some(p)).await;
    assert_eq!(r.status(), reqwest::StatusCode::BAD_REQUEST);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "invalid_dpop_proof");
    assert_eq!(body["detail"]["code"], "proof_key_not_device");
    assert_eq!(
        body["error_description"],
        "Kunci bukti bukan kunci perangkat terdaftar."
    );
    // ... and the code was not spent: no attempt used, still redeemable.
    let st = h
        .client
        .status(&siti.enrollment_id, &siti.token)
        .await
        .unwrap();
    assert_eq!(st.code_attempts_left, Some(5));

    // Bad proofs: wrong htu, wrong htm, replayed jti, too old.
    let device = dk(&siti.key);
    let wrong_htu = device
        .dpop_proof(
            "POST",
            &format!("{}/credential", h.base_url),
            None,
            h.clock.now(),
        )
        .unwrap();
    let wrong_htm = device.dpop_proof("GET", &htu, None, h.clock.now()).unwrap();
    let old = device
        .dpop_proof(
            "POST",
            &htu,
            None,
            h.clock.now() - chrono::Duration::minutes(10),
        )
        .unwrap();
    for p in [wrong_htu, wrong_htm, old, "not.a.jwt".to_owned()] {
        let r = token_with_dpop(&h, &form, Some(p)).await;
        assert_eq!(r.status(), reqwest::StatusCode::BAD_REQUEST);
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"], "invalid_dpop_proof", "{body}");
    }

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

    // A replayed proof (same jti) is refused.
    let r = token_with_dpop(
        &h,
        &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
        Some(p),
    )
    .await;
    assert_eq!(r.status(), reqwest::StatusCode::BAD_REQUEST);
    // The bound refresh token needs a DPoP proof by the device key.
    let r = token_with_dpop(
        &h,
        &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
        None,
    )
    .await;
    assert_eq!(r.status(), reqwest::StatusCode::BAD_REQUEST);
    let p = device
        .dpop_proof("POST", &htu, None, h.clock.now())
        .unwrap();
    let r = token_with_dpop(
        &h,
        &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
        Some(p),
    )
    .await;
    assert_eq!(r.status(), reqwest::StatusCode::OK);
    let t2: Value = r.json().await.unwrap();
    assert_eq!(t2["token_type"], "DPoP");

    // The bound access token as a Bearer token, or without a proof: refused.
    let bearer = h
        .client
        .credential(
            &SecretString::new(access.clone()),
            KTP_CONFIGURATION,
            &h.proof(&siti.key).await,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(bearer, ClientError::Api { status: 401, .. }),
        "{bearer:?}"
    );
    // A proof for another access token (wrong ath): refused.
    let cred_htu = format!("{}/credential", h.base_url);
    let wrong_ath = device
        .dpop_proof("POST", &cred_htu, Some("another-token"), h.clock.now())
        .unwrap();
    let r = reqwest::Client::new()
        .post(&cred_htu)
        .header("Authorization", format!("DPoP {access}"))
        .header("DPoP", wrong_ath)
        .json(&serde_json::json!({
            "credential_configuration_id": KTP_CONFIGURATION,
            "proofs": {"jwt": [h.proof(&siti.key).await]},
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::UNAUTHORIZED);

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
