//! Credentials others can check, against the real server over HTTP: every KTP and KK
//! carries a Token Status List entry; the list is published signed by the issuer key;
//! a refresh, Lepas Perangkat and an officer's block set the old entries to invalid.
//! Key discovery: `kid` in the header, `/.well-known/jwt-vc-issuer`, the AS metadata.
#![allow(clippy::unwrap_used)]

use ikd_core::client::ClientError;
use ikd_core::clock::Clock;
use ikd_core::jose::decode_unverified;
use ikd_core::sdjwt;
use ikd_core::status_list::{self, StatusRef, INVALID, VALID};
use ikd_core::wire::{EcJwk, KK_CONFIGURATION, KTP_CONFIGURATION};
use ikd_server::demo::{BUDI, SITI};
use ikd_tests::{device_key, Harness};
use serde_json::Value;

async fn get_json(url: &str) -> Value {
    let r = reqwest::get(url).await.unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::OK, "{url}");
    r.json().await.unwrap()
}

/// The status list token, fetched as a relying party does, and checked with `issuer`.
async fn status_of(h: &Harness, issuer: &EcJwk, entry: &StatusRef) -> u8 {
    let r = reqwest::get(&entry.uri).await.unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::OK);
    assert_eq!(
        r.headers()["content-type"],
        status_list::MEDIA_TYPE,
        "served as application/statuslist+jwt"
    );
    let jwt = r.text().await.unwrap();
    status_list::status_of(&jwt, issuer, entry, h.clock.now()).unwrap()
}

fn entry_of(sd_jwt: &str, h: &Harness, issuer: &EcJwk, holder: &EcJwk) -> StatusRef {
    let v = sdjwt::verify(sd_jwt, issuer, Some(holder), h.clock.now()).unwrap();
    v.status.expect("the credential carries status.status_list")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_and_release_invalidate_the_old_credentials() {
    let h = Harness::start().await;
    let c = &h.client;
    let officer = h.officer().await;
    let siti = h.approved(&officer, SITI.nik, "siti@example.com").await;
    let meta = c.issuer_metadata().await.unwrap();
    let t = c
        .token(&siti.pre_authorized_code, &siti.code)
        .await
        .unwrap();
    let holder = siti.key.public_jwk();
    let ktp = c
        .credential(
            &t.access_token,
            KTP_CONFIGURATION,
            &h.proof(&siti.key).await,
        )
        .await
        .unwrap();
    let kk = c
        .credential(&t.access_token, KK_CONFIGURATION, &h.proof(&siti.key).await)
        .await
        .unwrap();
    let e_ktp = entry_of(&ktp, &h, &meta.issuer_jwk, &holder);
    let e_kk = entry_of(&kk, &h, &meta.issuer_jwk, &holder);
    assert_eq!(e_ktp.uri, format!("{}/status-lists/1", h.base_url));
    assert_eq!(e_kk.uri, e_ktp.uri);
    assert_ne!(e_ktp.idx, e_kk.idx);
    assert_eq!(status_of(&h, &meta.issuer_jwk, &e_ktp).await, VALID);
    assert_eq!(status_of(&h, &meta.issuer_jwk, &e_kk).await, VALID);

    // The token itself: typ, kid of the issuer key, sub, iat/exp and ttl.
    let jwt = reqwest::get(&e_ktp.uri)
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let (claims, list) =
        status_list::verify_token(&jwt, &meta.issuer_jwk, &e_ktp.uri, h.clock.now()).unwrap();
    assert_eq!(claims.sub, e_ktp.uri);
    assert_eq!(claims.iss.as_deref(), Some(h.base_url.as_str()));
    assert_eq!(claims.ttl, Some(300));
    assert!(claims.exp.unwrap() > claims.iat);
    assert_eq!(list.bits(), 1);
    assert_eq!(list.len(), 1 << 20);
    let header = decode_unverified(&jwt).unwrap().header;
    assert_eq!(header["typ"], "statuslist+jwt");
    assert_eq!(
        header["kid"],
        decode_unverified(ktp.split('~').next().unwrap())
            .unwrap()
            .header["kid"]
    );

    // A refresh replaces the KTP: the old entry is invalid, the new one and the KK valid.
    let ktp2 = c
        .credential(
            &t.access_token,
            KTP_CONFIGURATION,
            &h.proof(&siti.key).await,
        )
        .await
        .unwrap();
    let e_ktp2 = entry_of(&ktp2, &h, &meta.issuer_jwk, &holder);
    assert_ne!(e_ktp2.idx, e_ktp.idx);
    assert_eq!(status_of(&h, &meta.issuer_jwk, &e_ktp).await, INVALID);
    assert_eq!(status_of(&h, &meta.issuer_jwk, &e_ktp2).await, VALID);
    assert_eq!(status_of(&h, &meta.issuer_jwk, &e_kk).await, VALID);

    // Another resident's credentials are not touched by Siti's.
    let budi = h.approved(&officer, BUDI.nik, "budi@example.com").await;
    let tb = c
        .token(&budi.pre_authorized_code, &budi.code)
        .await
        .unwrap();
    let budi_ktp = c
        .credential(
            &tb.access_token,
            KTP_CONFIGURATION,
            &h.proof(&budi.key).await,
        )
        .await
        .unwrap();
    let e_budi = entry_of(&budi_ktp, &h, &meta.issuer_jwk, &budi.key.public_jwk());

    // Lepas Perangkat: every credential of the device is invalid.
    c.release(&t.access_token, &h.proof(&siti.key).await)
        .await
        .unwrap();
    assert_eq!(status_of(&h, &meta.issuer_jwk, &e_ktp2).await, INVALID);
    assert_eq!(status_of(&h, &meta.issuer_jwk, &e_kk).await, INVALID);
    assert_eq!(status_of(&h, &meta.issuer_jwk, &e_budi).await, VALID);

    // The wallet's copy still verifies offline: the status is for verifiers to fetch.
    assert!(sdjwt::verify(&ktp2, &meta.issuer_jwk, Some(&holder), h.clock.now()).is_ok());
    h.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_officers_block_and_a_new_device_invalidate_the_credentials() {
    let h = Harness::start().await;
    let c = &h.client;
    let officer = h.officer().await;
    let meta = c.issuer_metadata().await.unwrap();

    // Budi on a first phone, then on a second one: the first phone's KTP is invalid.
    let first = h.approved(&officer, BUDI.nik, "budi@example.com").await;
    let t1 = c
        .token(&first.pre_authorized_code, &first.code)
        .await
        .unwrap();
    let kk1 = c
        .credential(
            &t1.access_token,
            KK_CONFIGURATION,
            &h.proof(&first.key).await,
        )
        .await
        .unwrap();
    let e_kk1 = entry_of(&kk1, &h, &meta.issuer_jwk, &first.key.public_jwk());
    let second = h.approved(&officer, BUDI.nik, "budi@example.com").await;
    let t2 = c
        .token(&second.pre_authorized_code, &second.code)
        .await
        .unwrap();
    assert_eq!(status_of(&h, &meta.issuer_jwk, &e_kk1).await, INVALID);
    let ktp = c
        .credential(
            &t2.access_token,
            KTP_CONFIGURATION,
            &h.proof(&second.key).await,
        )
        .await
        .unwrap();
    let e = entry_of(&ktp, &h, &meta.issuer_jwk, &second.key.public_jwk());
    assert_eq!(status_of(&h, &meta.issuer_jwk, &e).await, VALID);

    // The officer blocks Budi's device.
    let r = officer
        .post(&format!("/officer/api/devices/{}/block", BUDI.nik))
        .json(&serde_json::json!({ "reason": "Laporan kehilangan ponsel" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::OK);
    assert_eq!(status_of(&h, &meta.issuer_jwk, &e).await, INVALID);
    h.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issuer_key_discovery_and_metadata() {
    let h = Harness::start().await;
    let vc = get_json(&format!("{}/.well-known/jwt-vc-issuer", h.base_url)).await;
    assert_eq!(vc["issuer"], h.base_url.as_str());
    let key = &vc["jwks"]["keys"][0];
    assert_eq!(key["alg"], "ES256");
    let kid = key["kid"].as_str().unwrap();
    assert_eq!(kid.len(), 43, "an RFC 7638 thumbprint");

    let oid4vci = get_json(&format!(
        "{}/.well-known/openid-credential-issuer",
        h.base_url
    ))
    .await;
    assert!(oid4vci.get("jwks").is_none(), "no non-standard jwks");
    let as_meta = get_json(&format!(
        "{}/.well-known/oauth-authorization-server",
        h.base_url
    ))
    .await;
    assert!(!as_meta["response_types_supported"]
        .as_array()
        .unwrap()
        .is_empty());

    // The credential's kid names that key, which verifies it.
    let officer = h.officer().await;
    let siti = h.approved(&officer, SITI.nik, "siti@example.com").await;
    let t = h
        .client
        .token(&siti.pre_authorized_code, &siti.code)
        .await
        .unwrap();
    let ktp = h
        .client
        .credential(
            &t.access_token,
            KTP_CONFIGURATION,
            &h.proof(&siti.key).await,
        )
        .await
        .unwrap();
    let header = decode_unverified(ktp.split('~').next().unwrap())
        .unwrap()
        .header;
    assert_eq!(header["kid"], kid);
    let jwk: EcJwk = serde_json::from_value(key.clone()).unwrap();
    let v = sdjwt::verify(&ktp, &jwk, None, h.clock.now()).unwrap();
    // age predicates, computed at issuance
    let ages = v.claims["age_equal_or_over"].as_object().unwrap();
    assert_eq!(ages.len(), 3);
    assert!(ages.values().all(Value::is_boolean));
    h.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proof_by_another_key_is_refused_as_not_the_device_key() {
    let h = Harness::start().await;
    let officer = h.officer().await;
    let siti = h.approved(&officer, SITI.nik, "siti@example.com").await;
    let t = h
        .client
        .token(&siti.pre_authorized_code, &siti.code)
        .await
        .unwrap();
    // A generic wallet's own key, in the proof's jwk header.
    let own = device_key();
    let err = h
        .client
        .credential(&t.access_token, KTP_CONFIGURATION, &h.proof(&own).await)
        .await
        .unwrap_err();
    assert_eq!(err, ClientError::ProofKeyNotDevice);
    let ui = ikd_core::error::UiError::from(err);
    assert_eq!(ui.code, ikd_core::error::ErrorCode::ProofKeyNotDevice);
    // The raw answer: OAuth invalid_proof, our code, the Indonesian description.
    let nonce = h.client.nonce().await.unwrap();
    let proof = ikd_tests::proof_jwt(&own, &h.base_url, &nonce, h.clock_now_ts());
    let r = reqwest::Client::new()
        .post(format!("{}/credential", h.base_url))
        .bearer_auth(t.access_token.expose())
        .json(&serde_json::json!({
            "credential_configuration_id": KTP_CONFIGURATION,
            "proofs": {"jwt": [proof]},
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::BAD_REQUEST);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "invalid_proof");
    assert_eq!(body["detail"]["code"], "proof_key_not_device");
    assert_eq!(
        body["error_description"],
        "Kunci bukti bukan kunci perangkat terdaftar."
    );
    // The enrolled key still works.
    h.client
        .credential(
            &t.access_token,
            KTP_CONFIGURATION,
            &h.proof(&siti.key).await,
        )
        .await
        .unwrap();
    h.server.shutdown().await;
}
