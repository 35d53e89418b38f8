//! OpenID4VP 1.0 presentation, wallet → ikd-verifier, over real HTTP on loopback with a
//! real ikd-server issuer: the consent view, sharing (direct_post and direct_post.jwt),
//! declining, and every refusal on both sides.
#![allow(clippy::unwrap_used)]

use chrono::Utc;
use ikd_core::dcql::PathElement;
use ikd_core::error::ErrorCode;
use ikd_core::jose::{b64u_encode, EcKeyPair};
use ikd_core::oid4vp::{self, ResponseMode};
use ikd_core::sdjwt_present;
use ikd_core::view::HistoryKind;
use ikd_core::wallet::present::{ShareChoice, VerifierTrust};
use ikd_core::x509::TrustAnchors;
use ikd_server::demo::{BUDI, SITI};
use ikd_tests::vp::{self, activated_wallet, fetch_request, holder, post_response, secret, PIN};
use ikd_tests::Harness;
use serde_json::{json, Value};

const EMAIL: &str = "siti.rahmawati@example.com";

fn keys(outcome: &Value) -> Vec<String> {
    let mut k: Vec<String> = outcome["credentials"][0]["claims"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    k.sort();
    k
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wallet_shares_full_identity_encrypted_and_kk_in_clear_and_declines() {
    let h = Harness::start().await;
    let v = vp::start_verifier(&h.base_url).await;
    let dir = tempfile::tempdir().unwrap();
    let w = activated_wallet(
        &h,
        dir.path(),
        SITI.nik,
        SITI.name,
        EMAIL,
        false,
        Some(&v.ca_pem),
    )
    .await;

    // Full identity, direct_post.jwt (the default), request fetched with POST.
    let c = v
        .create(json!({"preset": "identitas", "request_uri_method": "post"}))
        .await;
    assert!(c.url.starts_with("openid4vp://?client_id=x509_hash%3A"));
    let pending = w.presentation_request(&c.url).await.unwrap();
    let view = pending.view();
    assert_eq!(view.verifier.trust, VerifierTrust::Registered);
    assert_eq!(view.verifier.name.as_deref(), Some(vp::VERIFIER_ORG));
    assert_eq!(view.verifier.host, "127.0.0.1");
    assert_eq!(view.response_mode, "direct_post.jwt");
    assert!(view.purpose.as_deref().unwrap().contains("rekening"));
    assert!(view.can_share);
    let fields = &view.credentials[0].fields;
    let nama = fields.iter().find(|f| f.path == "nama").unwrap();
    assert_eq!(nama.values, vec![SITI.name.to_owned()]);
    assert!(nama.required);
    assert!(fields.iter().find(|f| f.path == "foto").unwrap().image);
    assert_eq!(fields.len(), 9);

    // Leaving out a required field is refused before anything is sent.
    let e = w
        .present(
            &pending,
            secret(PIN),
            &ShareChoice::Only(vec!["nama".into()]),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidState);
    // A wrong PIN sends nothing either.
    let e = w
        .present(&pending, secret("111111"), &ShareChoice::All)
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::WrongPin);
    assert_eq!(v.result(&c.id).await["status"], "pending");

    let out = w
        .present(&pending, secret(PIN), &ShareChoice::All)
        .await
        .unwrap();
    assert_eq!(out.status, 200, "{out:?}");
    assert!(out
        .redirect_uri
        .as_deref()
        .unwrap()
        .ends_with(&format!("/demo/r/{}", c.id)));
    let r = v.result(&c.id).await;
    assert_eq!(r["status"], "valid", "{r}");
    assert_eq!(
        keys(&r),
        [
            "alamat",
            "foto",
            "kabupaten_kota",
            "kecamatan",
            "kel_desa",
            "nama",
            "nik",
            "provinsi",
            "rt_rw"
        ]
    );
    assert_eq!(r["credentials"][0]["claims"]["nik"], SITI.nik);

    // The same pending request again: the verifier refuses the replay.
    let again = w
        .present(&pending, secret(PIN), &ShareChoice::All)
        .await
        .unwrap();
    assert_eq!(again.status, 400);
    assert_eq!(v.result(&c.id).await["status"], "valid");

    // Kartu Keluarga in the clear (direct_post): nomor_kk and the members' names and
    // relationships only.
    let c = v
        .create(json!({"preset": "kk", "response_mode": "direct_post"}))
        .await;
    let pending = w.presentation_request(&c.url).await.unwrap();
    assert_eq!(pending.view().credentials[0].document, "kk");
    let out = w
        .present(&pending, secret(PIN), &ShareChoice::All)
        .await
        .unwrap();
    assert_eq!(out.status, 200);
    let r = v.result(&c.id).await;
    assert_eq!(r["status"], "valid", "{r}");
    assert_eq!(
        r["credentials"][0]["claims"]["nomor_kk"],
        ikd_server::demo::DEMO_KK
    );
    let members = r["credentials"][0]["claims"]["anggota"].as_array().unwrap();
    assert_eq!(members.len(), 4);
    assert!(members
        .iter()
        .any(|m| m["nama"] == SITI.name && m["hubungan"] == "ISTRI"));

    // Declining sends access_denied.
    let c = v.create(json!({"preset": "identitas"})).await;
    let pending = w.presentation_request(&c.url).await.unwrap();
    let out = w.decline(&pending).await.unwrap();
    assert!(out.declined);
    let r = v.result(&c.id).await;
    assert_eq!(r["status"], "declined");
    assert_eq!(r["error"], "access_denied");

    // Nothing held answers: the view says so, and the answer is access_denied.
    let c = v
        .create(
            json!({"dcql_query": {"credentials": [{"id": "pid", "format": "dc+sd-jwt",
            "meta": {"vct_values": ["urn:eudi:pid:1"]}}]}}),
        )
        .await;
    let pending = w.presentation_request(&c.url).await.unwrap();
    assert!(!pending.view().can_share);
    assert!(w
        .present(&pending, secret(PIN), &ShareChoice::All)
        .await
        .is_err());
    w.decline(&pending).await.unwrap();
    assert_eq!(v.result(&c.id).await["error"], "access_denied");

    // Histori Aktivitas: to whom and which fields, never the values.
    let hist = w.history().unwrap();
    let shared: Vec<_> = hist
        .iter()
        .filter(|e| e.kind == HistoryKind::Presented)
        .collect();
    let declined: Vec<_> = hist
        .iter()
        .filter(|e| e.kind == HistoryKind::PresentationDeclined)
        .collect();
    assert_eq!(shared.len(), 3, "{hist:?}");
    assert_eq!(declined.len(), 2);
    let detail = shared
        .iter()
        .map(|e| e.detail.clone().unwrap())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        detail.contains(vp::VERIFIER_ORG)
            && detail.contains("nama")
            && detail.contains("anggota[*].hubungan")
    );
    assert!(!detail.contains(SITI.nik));
    v.running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wallet_refuses_unknown_and_forged_verifiers() {
    let h = Harness::start().await;
    let v = vp::start_verifier(&h.base_url).await;
    let other = vp::start_verifier(&h.base_url).await;
    let dir = tempfile::tempdir().unwrap();
    // A release-build wallet that trusts `v`'s CA only.
    let w = activated_wallet(
        &h,
        dir.path(),
        SITI.nik,
        SITI.name,
        EMAIL,
        false,
        Some(&v.ca_pem),
    )
    .await;

    // Outside the trust anchors: refused in release builds …
    let c = other.create(json!({"preset": "identitas"})).await;
    let e = w.presentation_request(&c.url).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::QrInvalid);
    assert_eq!(e.detail.unwrap()["reason"], "unknown_verifier");
    // … and shown with a warning in development builds.
    let dev_dir = tempfile::tempdir().unwrap();
    let dev = activated_wallet(
        &h,
        dev_dir.path(),
        BUDI.nik,
        BUDI.name,
        "budi@example.com",
        true,
        None,
    )
    .await;
    let pending = dev.presentation_request(&c.url).await.unwrap();
    assert_eq!(pending.view().verifier.trust, VerifierTrust::Unknown);
    assert!(pending.view().verifier.trust_detail.is_some());

    // A request whose x509_hash names another certificate, and a tampered request object,
    // served by a hostile relying party on loopback.
    let genuine = reqwest::get(format!(
        "{}/request/{}",
        v.running.base_url,
        v.create(json!({"preset": "usia17"})).await.id
    ))
    .await
    .unwrap()
    .text()
    .await
    .unwrap();
    let parts: Vec<&str> = genuine.split('.').collect();
    let mut payload: Value =
        serde_json::from_slice(&ikd_core::jose::b64u_decode(parts[1]).unwrap()).unwrap();
    payload["dcql_query"]["credentials"][0]["claims"] =
        json!([{"path": ["nik"]}, {"path": ["tanggal_lahir"]}]);
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        b64u_encode(payload.to_string()),
        parts[2]
    );
    let hostile = axum::Router::new()
        .route(
            "/genuine",
            axum::routing::get({
                let g = genuine.clone();
                move || async move { g }
            }),
        )
        .route(
            "/tampered",
            axum::routing::get(move || async move { tampered }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, hostile).await.unwrap() });

    let wrong_hash = format!("x509_hash:{}", b64u_encode([7u8; 32]));
    let link = oid4vp::request_link(
        &wrong_hash,
        &format!("http://{addr}/genuine"),
        oid4vp::RequestUriMethod::Get,
    );
    let e = w.presentation_request(&link).await.unwrap_err();
    assert_eq!(e.detail.unwrap()["reason"], "client_id_mismatch");

    let client_id = v.running.verifier.client_id().to_owned();
    let link = oid4vp::request_link(
        &client_id,
        &format!("http://{addr}/tampered"),
        oid4vp::RequestUriMethod::Get,
    );
    let e = w.presentation_request(&link).await.unwrap_err();
    assert_eq!(e.detail.unwrap()["reason"], "bad_signature");
    // The genuine object with its own client id passes.
    let link = oid4vp::request_link(
        &client_id,
        &format!("http://{addr}/genuine"),
        oid4vp::RequestUriMethod::Get,
    );
    assert!(w.presentation_request(&link).await.is_ok());

    // Unsigned requests: development builds only.
    let unsigned = format!(
        "openid4vp://?client_id={}&response_type=vp_token&response_mode=direct_post&response_uri={}&nonce=n&dcql_query={}",
        urlencode(&format!("redirect_uri:{}/response", v.running.base_url)),
        urlencode(&format!("{}/response", v.running.base_url)),
        urlencode(r#"{"credentials":[{"id":"ktp","format":"dc+sd-jwt","claims":[{"path":["nama"]}]}]}"#),
    );
    assert_eq!(
        w.presentation_request(&unsigned)
            .await
            .unwrap_err()
            .detail
            .unwrap()["reason"],
        "unsigned"
    );
    assert_eq!(
        dev.presentation_request(&unsigned)
            .await
            .unwrap()
            .view()
            .verifier
            .trust,
        VerifierTrust::Unsigned
    );
    v.running.shutdown().await;
    other.running.shutdown().await;
}

fn urlencode(s: &str) -> String {
    url_escape(s)
}

fn url_escape(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The verifier refuses: wrong nonce, wrong aud, a KB-JWT by another key, a replayed
/// response, an over-disclosure, a clear answer where encryption was asked for.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verifier_refuses_bad_presentations() {
    let h = Harness::start().await;
    let v = vp::start_verifier(&h.base_url).await;
    let holder = holder(&h, SITI.nik, EMAIL).await;
    let anchors = TrustAnchors::from_pem(&v.ca_pem).unwrap();
    let identity: Vec<Vec<PathElement>> = [
        "nama",
        "nik",
        "foto",
        "alamat",
        "rt_rw",
        "kel_desa",
        "kecamatan",
        "kabupaten_kota",
        "provinsi",
    ]
    .iter()
    .map(|k| vec![PathElement::Key((*k).into())])
    .collect();
    let paths: Vec<&[PathElement]> = identity.iter().map(Vec::as_slice).collect();

    // (label, how the presentation is made, expected reason code)
    type Make = fn(&str, &EcKeyPair, &str, &str) -> String;
    let kb = |sel: &str, key: &EcKeyPair, aud: &str, nonce: &str| {
        sdjwt_present::key_binding(sel, key, aud, nonce, Utc::now()).unwrap()
    };
    let _ = kb;
    let cases: Vec<(&str, Make, &str)> = vec![
        (
            "wrong nonce",
            |s, k, aud, _| {
                sdjwt_present::key_binding(s, k, aud, "not-the-nonce", Utc::now()).unwrap()
            },
            "key_binding",
        ),
        (
            "wrong aud",
            |s, k, _, n| {
                sdjwt_present::key_binding(s, k, "x509_hash:someone-else", n, Utc::now()).unwrap()
            },
            "key_binding",
        ),
        (
            "other key",
            |s, _, aud, n| {
                sdjwt_present::key_binding(s, &EcKeyPair::generate().unwrap(), aud, n, Utc::now())
                    .unwrap()
            },
            "key_binding",
        ),
        (
            "stale",
            |s, k, aud, n| {
                sdjwt_present::key_binding(s, k, aud, n, Utc::now() - chrono::Duration::hours(1))
                    .unwrap()
            },
            "key_binding",
        ),
        ("no kb", |s, _, _, _| s.to_owned(), "key_binding"),
    ];
    let selected = sdjwt_present::select(&holder.ktp, &paths).unwrap();
    for (label, make, reason) in cases {
        let c = v
            .create(json!({"preset": "identitas", "response_mode": "direct_post"}))
            .await;
        let req = fetch_request(&c.url, &anchors).await.request;
        let pres = make(&selected, &holder.key, &req.client_id, &req.nonce);
        let body = oid4vp::response_body(&req, &json!({"ktp": [pres]})).unwrap();
        let (status, _) = post_response(&req.response_uri, body).await;
        assert_eq!(status, 400, "{label}");
        let r = v.result(&c.id).await;
        assert_eq!(r["status"], "invalid", "{label}: {r}");
        assert_eq!(r["reason"]["code"], reason, "{label}: {r}");
    }

    // Over-disclosure: the identity request answered with the birth date too.
    let c = v.create(json!({"preset": "identitas"})).await;
    let req = fetch_request(&c.url, &anchors).await.request;
    let mut more = paths.clone();
    let lahir = [PathElement::Key("tanggal_lahir".into())];
    more.push(&lahir);
    let over = sdjwt_present::select(&holder.ktp, &more).unwrap();
    let pres =
        sdjwt_present::key_binding(&over, &holder.key, &req.client_id, &req.nonce, Utc::now())
            .unwrap();
    let (status, _) = post_response(
        &req.response_uri,
        oid4vp::response_body(&req, &json!({"ktp": [pres]})).unwrap(),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(v.result(&c.id).await["reason"]["code"], "over_disclosure");

    // An extra credential nobody asked for is an over-disclosure too.
    let c = v
        .create(json!({"preset": "identitas", "response_mode": "direct_post"}))
        .await;
    let req = fetch_request(&c.url, &anchors).await.request;
    let good = sdjwt_present::key_binding(
        &selected,
        &holder.key,
        &req.client_id,
        &req.nonce,
        Utc::now(),
    )
    .unwrap();
    let kk = sdjwt_present::key_binding(
        &sdjwt_present::select(&holder.kk, &[]).unwrap(),
        &holder.key,
        &req.client_id,
        &req.nonce,
        Utc::now(),
    )
    .unwrap();
    let (status, _) = post_response(
        &req.response_uri,
        oid4vp::response_body(&req, &json!({"ktp": [good], "kk": [kk]})).unwrap(),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(v.result(&c.id).await["reason"]["code"], "over_disclosure");

    // A correct answer is accepted once; the same body again is a replay, and so is an
    // answer for a state the verifier never issued.
    let c = v.create(json!({"preset": "identitas"})).await;
    let req = fetch_request(&c.url, &anchors).await.request;
    assert_eq!(req.response_mode, ResponseMode::DirectPostJwt);
    let good = sdjwt_present::key_binding(
        &selected,
        &holder.key,
        &req.client_id,
        &req.nonce,
        Utc::now(),
    )
    .unwrap();
    let body = oid4vp::response_body(&req, &json!({"ktp": [good.clone()]})).unwrap();
    let (status, _) = post_response(&req.response_uri, body.clone()).await;
    assert_eq!(status, 200);
    assert_eq!(v.result(&c.id).await["status"], "valid");
    let (status, answer) = post_response(&req.response_uri, body).await;
    assert_eq!(status, 400);
    assert_eq!(answer["reason"]["code"], "replay");
    let mut forged = req.clone();
    forged.state = Some("never-issued".into());
    forged.response_mode = ResponseMode::DirectPost;
    let (status, answer) = post_response(
        &req.response_uri,
        oid4vp::response_body(&forged, &json!({"ktp": [good]})).unwrap(),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(answer["reason"]["code"], "replay");

    // direct_post.jwt asked for, answered in the clear: refused.
    let c = v.create(json!({"preset": "identitas"})).await;
    let req = fetch_request(&c.url, &anchors).await.request;
    let good = sdjwt_present::key_binding(
        &selected,
        &holder.key,
        &req.client_id,
        &req.nonce,
        Utc::now(),
    )
    .unwrap();
    let mut clear = req.clone();
    clear.response_mode = ResponseMode::DirectPost;
    let (status, _) = post_response(
        &req.response_uri,
        oid4vp::response_body(&clear, &json!({"ktp": [good]})).unwrap(),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(v.result(&c.id).await["reason"]["code"], "malformed");
    v.running.shutdown().await;
}

/// The demo page lists the ready requests, and a request page shows a QR code that
/// holds the openid4vp link, then the verified result with the portrait.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verifier_demo_page_shows_qr_and_result() {
    let h = Harness::start().await;
    let v = vp::start_verifier(&h.base_url).await;
    let base = &v.running.base_url;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let home = http.get(base).send().await.unwrap().text().await.unwrap();
    assert!(home.contains("Verifikasi identitas"));
    for p in ["identitas", "usia17", "kk"] {
        assert!(home.contains(&format!("value=\"{p}\"")), "{p}");
    }
    let r = http
        .post(format!("{base}/demo/start"))
        .form(&[("preset", "identitas")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::SEE_OTHER);
    let page_path = r.headers()["location"].to_str().unwrap().to_owned();
    let id = page_path.rsplit('/').next().unwrap().to_owned();
    let page = http
        .get(format!("{base}{page_path}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("<svg") && page.contains("openid4vp://"));
    let png = http
        .get(format!("{base}/api/requests/{id}/qr.png"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let img = image::load_from_memory(&png).unwrap().to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(img);
    let (_, text) = prepared.detect_grids()[0].decode().unwrap();
    assert!(text.starts_with("openid4vp://?client_id=x509_hash%3A"));

    let dir = tempfile::tempdir().unwrap();
    let w = activated_wallet(
        &h,
        dir.path(),
        SITI.nik,
        SITI.name,
        EMAIL,
        false,
        Some(&v.ca_pem),
    )
    .await;
    let pending = w.presentation_request(&text).await.unwrap();
    w.present(&pending, secret(PIN), &ShareChoice::All)
        .await
        .unwrap();
    let page = http
        .get(format!("{base}{page_path}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("id=verdict") && page.contains("SAH"),
        "{page}"
    );
    assert!(page.contains("data:image/jpeg;base64,") && page.contains(SITI.name));
    v.running.shutdown().await;
}

/// Lepas Perangkat sets the credentials' status entries to invalid: a KTP presented
/// afterwards (well formed, key-bound, answering the query) is reported revoked by
/// ikd-verifier, which reads the issuer's Token Status List.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_credential_presented_after_lepas_perangkat_is_revoked() {
    let h = Harness::start().await;
    let v = vp::start_verifier(&h.base_url).await;
    let holder = holder(&h, SITI.nik, EMAIL).await;
    let anchors = TrustAnchors::from_pem(&v.ca_pem).unwrap();
    h.client
        .release(&holder.access_token, &h.proof(&holder.key).await)
        .await
        .unwrap();

    let c = v
        .create(json!({"preset": "usia17", "response_mode": "direct_post"}))
        .await;
    let req = fetch_request(&c.url, &anchors).await.request;
    let age: Vec<PathElement> = vec![
        PathElement::Key("age_equal_or_over".into()),
        PathElement::Key("17".into()),
    ];
    let foto = vec![PathElement::Key("foto".into())];
    let selected = sdjwt_present::select(&holder.ktp, &[&age, &foto]).unwrap();
    let pres = sdjwt_present::key_binding(
        &selected,
        &holder.key,
        &req.client_id,
        &req.nonce,
        Utc::now(),
    )
    .unwrap();
    let body = oid4vp::response_body(&req, &json!({"ktp": [pres]})).unwrap();
    let (status, _) = post_response(&req.response_uri, body).await;
    assert_eq!(
        status, 200,
        "the response is well formed; the verdict is in the result"
    );
    let r = v.result(&c.id).await;
    assert_eq!(r["status"], "revoked", "{r}");
    assert_eq!(
        r["credentials"][0]["claims"]["age_equal_or_over"]["17"], true,
        "{r}"
    );
    v.running.shutdown().await;
}

/// "Periksa KTP": the app asks the verifier service of its settings (a development
/// build starts with `IKD_VERIFIER_URL`; Pengaturan changes it) for a request and its QR, the other wallet answers, the app polls the result (portrait
/// and fields) and keeps only a history line. The JSON API allows the app's origin
/// (CORS) and no other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn periksa_ktp_through_the_verifier_service() {
    let h = Harness::start().await;
    let v = vp::start_verifier(&h.base_url).await;
    // Only this test in this binary reads the variable.
    std::env::set_var(
        ikd_core::wallet::inspect::VERIFIER_URL_ENV,
        &v.running.base_url,
    );
    let dir = tempfile::tempdir().unwrap();
    let w = activated_wallet(
        &h,
        dir.path(),
        SITI.nik,
        SITI.name,
        EMAIL,
        true,
        Some(&v.ca_pem),
    )
    .await;
    assert_eq!(w.settings().unwrap().verifier_url, v.running.base_url);
    // Pengaturan: https elsewhere is taken; plain http off loopback is refused.
    let s = w.settings().unwrap();
    let e = w
        .set_settings(ikd_core::view::Settings {
            verifier_url: "http://periksa.example.co.id".into(),
            ..s.clone()
        })
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidState);
    w.set_settings(ikd_core::view::Settings {
        verifier_url: "https://periksa.example.co.id".into(),
        ..s.clone()
    })
    .unwrap();
    assert_eq!(
        w.settings().unwrap().verifier_url,
        "https://periksa.example.co.id"
    );
    w.set_settings(s).unwrap();
    assert_eq!(
        w.start_check("rahasia").await.unwrap_err().code,
        ErrorCode::InvalidState
    );
    let c = w.start_check("usia17").await.unwrap();
    assert!(c.url.starts_with("openid4vp://"));
    let png =
        base64::Engine::decode(&base64::engine::general_purpose::STANDARD, &c.qr_png_b64).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert_eq!(w.check_result(&c.id).await.unwrap().status, "pending");

    // The other person's wallet (here the same one) scans the QR and shares.
    let pending = w.presentation_request(&c.url).await.unwrap();
    w.present(&pending, secret(PIN), &ShareChoice::All)
        .await
        .unwrap();
    let r = w.check_result(&c.id).await.unwrap();
    assert_eq!(r.status, "valid", "{r:?}");
    assert!(r.portrait_b64.as_deref().is_some_and(|p| !p.is_empty()));
    let age = r
        .fields
        .iter()
        .find(|f| f.path == "age_equal_or_over.17")
        .unwrap();
    assert_eq!(age.value, "true");
    assert!(r.fields.iter().all(|f| f.path != "nik" && f.path != "nama"));
    // Polling again does not add a second line; the line holds no personal data.
    w.check_result(&c.id).await.unwrap();
    let checked: Vec<_> = w
        .history()
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == HistoryKind::Checked)
        .collect();
    assert_eq!(checked.len(), 1);
    assert_eq!(checked[0].detail.as_deref(), Some("usia17: valid"));

    // CORS on the JSON API: the app's origin is allowed, another is not.
    let preflight = |origin: &'static str| {
        reqwest::Client::new()
            .request(
                reqwest::Method::OPTIONS,
                format!("{}/api/requests", v.running.base_url),
            )
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header("Access-Control-Request-Headers", "content-type")
            .send()
    };
    let ok = preflight("tauri://localhost").await.unwrap();
    assert_eq!(
        ok.headers()["access-control-allow-origin"],
        "tauri://localhost"
    );
    let other = preflight("https://evil.example").await.unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
    v.running.shutdown().await;
}
