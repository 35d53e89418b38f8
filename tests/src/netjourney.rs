//! The resident's journey with the core client through a [`FaultProxy`] (issue 13):
//! submit → desk QR → officer approval (direct) → code by SMTP → a wrong code → the
//! right code → KTP and KK. Shared by `tests/net_faults.rs` (effects) and
//! `examples/net_profiles.rs` (time and bytes per step).

use crate::faultnet::{FaultProxy, Profile};
use crate::{code_in, device_key, signed_enroll_request, Harness, MAIL_TIMEOUT};
use ikd_core::client::{BackendClient, ClientError, IdempotencyKey, NetPolicy};
use ikd_core::clock::Clock;
use ikd_core::sdjwt;
use ikd_core::secret::SecretString;
use ikd_core::wire::{KK_CONFIGURATION, KTP_CONFIGURATION};
use std::time::{Duration, Instant};

/// What one run gives: each step's name, wall time and bytes through the proxy
/// (request, answer), plus the verified documents' NIK and KK number.
#[derive(Debug)]
pub struct JourneyRun {
    pub steps: Vec<(&'static str, Duration, usize, usize)>,
    pub total: Duration,
    pub wrong_code_attempts_left: u32,
    pub ktp_nik: String,
    pub kk_number: String,
    pub faults: usize,
}

/// Client timeouts for a profile: the blackhole is met by a short read timeout and many
/// attempts; the others keep the product's timeouts, with quicker backoff.
pub fn policy_for(profile: Profile) -> NetPolicy {
    let quick = NetPolicy {
        attempts: 10,
        retry_budget: Duration::from_secs(90),
        backoff_base: Duration::from_millis(100),
        backoff_cap: Duration::from_secs(1),
        ..NetPolicy::default()
    };
    match profile {
        // Enough attempts to outlast a 20 s silence (each ≤ 1.5 s + ≤ 1 s backoff).
        Profile::Blackhole { .. } => NetPolicy {
            read_timeout: Duration::from_millis(1500),
            attempts: 40,
            ..quick
        },
        _ => quick,
    }
}

/// Runs the journey for `nik` (a demo resident with `email`) under `profile`.
pub async fn run(h: &Harness, profile: Profile, nik: &str, email: &str) -> JourneyRun {
    let proxy = FaultProxy::start(h.server.addr, profile).await.unwrap();
    let c = BackendClient::with_policy(&proxy.url(), policy_for(profile)).unwrap();
    let officer = h.officer().await;
    let key = device_key();
    let start = Instant::now();
    let mut steps = Vec::new();
    let mut mark = (Instant::now(), proxy.bytes());
    let mut step = |name: &'static str, proxy: &FaultProxy| {
        let (up, down) = proxy.bytes();
        steps.push((name, mark.0.elapsed(), up - mark.1 .0, down - mark.1 .1));
        mark = (Instant::now(), (up, down));
    };

    // The selfie as the app sends it: a resumable upload (tus), then the submit names it.
    let (upload, _) = crate::upload_selfie(&c).await.unwrap();
    step("selfie upload (tus: POST, PATCH chunks)", &proxy);
    let mut req = signed_enroll_request(&c, &h.base_url, h.clock_now_ts(), nik, email, &key).await;
    req.selfie_jpeg = None;
    req.selfie_upload = Some(upload);
    let sub = c
        .submit_keyed(&req, &IdempotencyKey::random())
        .await
        .unwrap();
    step("nonce + submit (selfie_upload)", &proxy);
    let token = SecretString::new(sub.enrollment_token);
    let qr = officer.desk_qr().await;
    let scanned = c
        .scan_keyed(
            &sub.enrollment_id,
            &token,
            &qr.text,
            &IdempotencyKey::random(),
        )
        .await
        .unwrap();
    step("scan desk QR", &proxy);
    assert_eq!(
        officer
            .approve(&sub.enrollment_id, &crate::confirm_of(&scanned))
            .await,
        reqwest::StatusCode::OK
    );
    let mail = h.smtp.next(MAIL_TIMEOUT).await.expect("activation mail");
    let code = SecretString::new(code_in(&mail));
    let status = c.status(&sub.enrollment_id, &token).await.unwrap();
    step("status (approved, offer)", &proxy);
    let pac = status
        .credential_offer
        .and_then(|o| o.grants.pre_authorized_code)
        .expect("offer once approved")
        .pre_authorized_code;

    let wrong = SecretString::new(if code.expose() == "000000" {
        "111111".into()
    } else {
        "000000".into()
    });
    let wrong_left = match c.token_keyed(&pac, &wrong, &IdempotencyKey::random()).await {
        Err(ClientError::CodeWrong { attempts_left }) => attempts_left,
        other => panic!("a wrong code: {other:?}"),
    };
    step("token (wrong code)", &proxy);
    let tokens = c
        .token_keyed(&pac, &code, &IdempotencyKey::random())
        .await
        .unwrap();
    step("token (right code)", &proxy);
    let meta = c.issuer_metadata().await.unwrap();
    step("issuer metadata", &proxy);
    let device = ikd_core::device_key::DeviceKey::from_pkcs8(key.pkcs8().clone()).unwrap();
    let now = h.clock.now();
    let mut docs = Vec::new();
    for conf in [KTP_CONFIGURATION, KK_CONFIGURATION] {
        let nonce = c.nonce().await.unwrap();
        let proof = device
            .proof_jwt(&meta.credential_issuer, &nonce, now)
            .unwrap();
        let sd = c
            .credential_keyed(
                &tokens.access_token,
                conf,
                &proof,
                &IdempotencyKey::random(),
            )
            .await
            .unwrap();
        docs.push(sdjwt::verify(&sd, &meta.issuer_jwk, Some(&key.public_jwk()), now).unwrap());
    }
    step("nonce + credential ×2", &proxy);
    JourneyRun {
        steps,
        total: start.elapsed(),
        wrong_code_attempts_left: wrong_left,
        ktp_nik: docs[0].claims["nik"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        kk_number: docs[1].claims["nomor_kk"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        faults: proxy.faults(),
    }
}
