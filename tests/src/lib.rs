//! Shared test support: a loopback SMTP receiver ([`smtp`]) and a server harness
//! ([`Harness`]) that runs `ikd_server::start` on 127.0.0.1:0 with a temp data dir,
//! a manual clock, real SMTP to the receiver, a fixed seed and the demo officer; on
//! SQLite in the data dir, or on a fresh PostgreSQL database when
//! `IKD_TEST_STORE=postgres` ([`pg`]).
#![allow(clippy::unwrap_used)]

pub mod faultnet;
pub mod interop;
pub mod loadtarget;
pub mod netjourney;
pub mod pg;
pub mod secret_service;
pub mod smtp;
pub mod vp;
pub mod window;

use base64::Engine;
use chrono::Utc;
use ikd_core::client::{proof_header, proof_payload, BackendClient};
use ikd_core::clock::ManualClock;
use ikd_core::jose::EcKeyPair;
use ikd_core::secret::SecretBytes;
use ikd_core::wire::{DeskQr, EnrollRequest};
use ikd_server::config::{Config, Limits, SmtpConfig, TlsMode};
use ikd_server::RunningServer;
use std::sync::Arc;
use std::time::Duration;

pub use smtp::{ReceivedMail, SmtpReceiver};

pub const SEED: u64 = 7;
pub const RESIDENTS: usize = 60;
pub const MAIL_TIMEOUT: Duration = Duration::from_secs(20);

pub struct Harness {
    pub server: RunningServer,
    pub smtp: SmtpReceiver,
    pub clock: Arc<ManualClock>,
    pub client: BackendClient,
    pub base_url: String,
    pub dir: tempfile::TempDir,
    /// The PostgreSQL database when `IKD_TEST_STORE=postgres`; else the server's SQLite
    /// file is `dir/ikd-server.sqlite3`.
    pub database_url: Option<String>,
}

impl Harness {
    pub async fn start() -> Self {
        Self::start_with(Limits::default()).await
    }

    pub async fn start_with(limits: Limits) -> Self {
        Self::start_seeded(limits, RESIDENTS).await
    }

    /// With `residents` synthetic residents (seed [`SEED`]).
    pub async fn start_seeded(limits: Limits, residents: usize) -> Self {
        Self::start_tuned(limits, residents, |_| {}).await
    }

    /// Known to the world as `public_url` (its issuer identifier, e.g. a proxy's URL in
    /// front of it).
    pub async fn start_behind(public_url: &str) -> Self {
        let url = public_url.to_owned();
        Self::start_tuned(Limits::default(), RESIDENTS, |c| c.public_url = Some(url)).await
    }

    /// [`Self::start_seeded`] with the config changed by `tune` last (e.g. the SMTP
    /// port, the outbox's retries).
    pub async fn start_tuned(
        limits: Limits,
        residents: usize,
        tune: impl FnOnce(&mut Config),
    ) -> Self {
        let smtp = SmtpReceiver::start().await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(ManualClock::new(Utc::now()));
        let mut config = Config::demo(dir.path().to_path_buf());
        config.seed_residents = residents;
        config.seed = SEED;
        config.limits = limits;
        config.clock = clock.clone();
        if pg::selected() {
            config.database_url = Some(pg::shared().fresh_database());
        }
        config.smtp = Some(SmtpConfig {
            host: "127.0.0.1".into(),
            port: smtp.addr.port(),
            tls: TlsMode::None,
            username: None,
            password: None,
            from: "IKD Disdukcapil <noreply@ikd.localhost>".into(),
        });
        tune(&mut config);
        // After `tune`: a test may put this server on a database of its own.
        let database_url = config.database_url.clone();
        let server = ikd_server::start(config).await.unwrap();
        let base_url = server.base_url.clone();
        let client = BackendClient::new(&base_url).unwrap();
        Self {
            server,
            smtp,
            clock,
            client,
            base_url,
            dir,
            database_url,
        }
    }

    /// Another node on the same store (SQLite file or PostgreSQL database) and data
    /// dir (the same keys), mailing to the same receiver, with the config changed by
    /// `tune` last.
    pub async fn second_node(&self, tune: impl FnOnce(&mut Config)) -> RunningServer {
        let mut config = Config::demo(self.dir.path().to_path_buf());
        config.seed_residents = RESIDENTS;
        config.seed = SEED;
        config.clock = self.clock.clone();
        config.database_url = self.database_url.clone();
        config.smtp = Some(SmtpConfig {
            host: "127.0.0.1".into(),
            port: self.smtp.addr.port(),
            tls: TlsMode::None,
            username: None,
            password: None,
            from: "IKD Disdukcapil <noreply@ikd.localhost>".into(),
        });
        tune(&mut config);
        ikd_server::start(config).await.unwrap()
    }

    /// The one integer `sql` gives on the server's store (SQLite file or PostgreSQL).
    pub fn count(&self, sql: &str) -> i64 {
        match &self.database_url {
            Some(url) => {
                let db = url.rsplit('/').next().unwrap_or_default();
                pg::shared().psql(db, sql).parse().unwrap()
            }
            None => rusqlite::Connection::open(self.dir.path().join("ikd-server.sqlite3"))
                .unwrap()
                .query_row(sql, [], |r| r.get(0))
                .unwrap(),
        }
    }

    /// Runs `sql` (statements without parameters) on the server's store, SQLite file or
    /// PostgreSQL: how a test makes the backend misbehave.
    pub fn exec(&self, sql: &str) {
        match &self.database_url {
            Some(url) => {
                let db = url.rsplit('/').next().unwrap_or_default();
                pg::shared().psql(db, sql);
            }
            None => rusqlite::Connection::open(self.dir.path().join("ikd-server.sqlite3"))
                .unwrap()
                .execute_batch(sql)
                .unwrap(),
        }
    }

    /// Logs in as the demo officer, as the console does.
    pub async fn officer(&self) -> Officer {
        Officer::login(
            &self.base_url,
            ikd_server::demo::DEMO_OFFICER_USERNAME,
            ikd_server::demo::DEMO_OFFICER_PASSWORD,
        )
        .await
        .unwrap()
    }

    /// A proof JWT for the issuer, signed by `key`, with a fresh nonce.
    pub async fn proof(&self, key: &EcKeyPair) -> String {
        let nonce = self.client.nonce().await.unwrap();
        proof_jwt(key, &self.base_url, &nonce, self.clock_now_ts())
    }

    /// An enrollment form for `nik` with device key `key` and its proof (fresh nonce).
    pub async fn enroll_request(&self, nik: &str, email: &str, key: &EcKeyPair) -> EnrollRequest {
        signed_enroll_request(
            &self.client,
            &self.base_url,
            self.clock_now_ts(),
            nik,
            email,
            key,
        )
        .await
    }

    pub fn clock_now_ts(&self) -> i64 {
        use ikd_core::clock::Clock;
        self.clock.now().timestamp()
    }
}

/// An officer's HTTP session (cookie kept by hand).
pub struct Officer {
    pub http: reqwest::Client,
    pub base: String,
    pub cookie: String,
}

impl Officer {
    pub async fn login(
        base: &str,
        username: &str,
        password: &str,
    ) -> Result<Self, reqwest::StatusCode> {
        let http = reqwest::Client::new();
        let r = http
            .post(format!("{base}/officer/api/login"))
            .json(&serde_json::json!({ "username": username, "password": password }))
            .send()
            .await
            .unwrap();
        if !r.status().is_success() {
            return Err(r.status());
        }
        let set = r
            .headers()
            .get(reqwest::header::SET_COOKIE)
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        assert!(set.contains("HttpOnly") && set.contains("SameSite=Strict"));
        let cookie = set.split(';').next().unwrap().to_owned();
        Ok(Self {
            http,
            base: base.to_owned(),
            cookie,
        })
    }

    /// GET `path` with the session, its JSON body.
    pub async fn get_json<T: serde::de::DeserializeOwned>(&self, path: &str) -> T {
        self.get(path).send().await.unwrap().json().await.unwrap()
    }

    /// GET `path` with the session, its body as text.
    pub async fn get_text(&self, path: &str) -> String {
        self.get(path).send().await.unwrap().text().await.unwrap()
    }

    pub fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.http
            .get(format!("{}{path}", self.base))
            .header(reqwest::header::COOKIE, &self.cookie)
    }

    pub fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.http
            .post(format!("{}{path}", self.base))
            .header(reqwest::header::COOKIE, &self.cookie)
    }

    /// The officer's JSON at `path` (an enrollment's or a PIN reset's detail) once its
    /// `face_check` is no longer `pending`: the check runs after the request
    /// (server/src/facework.rs) and the officer API has no event to wait on, so this
    /// polls it, bounded by [`MAIL_TIMEOUT`].
    pub async fn face_checked(&self, path: &str) -> serde_json::Value {
        let deadline = std::time::Instant::now() + MAIL_TIMEOUT;
        loop {
            let d: serde_json::Value = self.get_json(path).await;
            if d["face_check"] != "pending" {
                return d;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "face check still pending"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    pub async fn desk_qr(&self) -> DeskQr {
        let r = self.get("/officer/api/desk/qr").send().await.unwrap();
        assert!(r.status().is_success(), "desk qr: {}", r.status());
        r.json().await.unwrap()
    }

    pub async fn queue(&self) -> Vec<serde_json::Value> {
        self.get_json("/officer/api/queue").await
    }

    /// Approves with the desk confirmation code `confirm` (what the resident's app
    /// shows after the scan).
    pub async fn approve(&self, id: &str, confirm: &str) -> reqwest::StatusCode {
        self.post(&format!("/officer/api/enrollments/{id}/approve"))
            .json(&serde_json::json!({ "confirm_code": confirm }))
            .send()
            .await
            .unwrap()
            .status()
    }

    /// Approves enrollment `id`'s PIN reset in the review queue (`method`: "selfie" or
    /// "desk").
    pub async fn approve_reset(&self, id: &str, method: &str) -> reqwest::StatusCode {
        self.post(&format!("/officer/api/resets/{id}/approve"))
            .json(&serde_json::json!({ "method": method }))
            .send()
            .await
            .unwrap()
            .status()
    }

    pub async fn reject(&self, id: &str, reason: &str) -> reqwest::StatusCode {
        self.post(&format!("/officer/api/enrollments/{id}/reject"))
            .json(&serde_json::json!({ "reason": reason }))
            .send()
            .await
            .unwrap()
            .status()
    }
}

/// A fresh P-256 device key.
pub fn device_key() -> EcKeyPair {
    let rng = ring::rand::SystemRandom::new();
    let doc = ring::signature::EcdsaKeyPair::generate_pkcs8(
        &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        &rng,
    )
    .unwrap();
    EcKeyPair::from_pkcs8(SecretBytes::new(doc.as_ref().to_vec())).unwrap()
}

/// An OpenID4VCI proof JWT signed by `key`.
pub fn proof_jwt(key: &EcKeyPair, issuer: &str, nonce: &str, iat: i64) -> String {
    key.sign_jws(
        proof_header(&key.public_jwk()),
        proof_payload(issuer, nonce, iat),
    )
    .unwrap()
}

/// The selfie the app sends: the pipeline's 600×800 JPEG of the astronaut portrait
/// (one face: the server's face check says `one_face`). Made once per test binary.
pub fn selfie_jpeg() -> Vec<u8> {
    static JPEG: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    JPEG.get_or_init(|| {
        ikd_core::selfie::process(&astronaut_png())
            .expect("the astronaut fixture is a valid selfie")
            .jpeg
    })
    .clone()
}

/// A small valid JPEG with no face in it (colour gradients).
pub fn faceless_jpeg() -> Vec<u8> {
    let img = image::RgbImage::from_fn(60, 80, |x, y| {
        image::Rgb([(x * 4) as u8, (y * 3) as u8, 128])
    });
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 80)
        .encode_image(&img)
        .unwrap();
    out
}

/// An enrollment form for `nik` with device key `key`, carrying its proof of
/// possession (a fresh nonce from `client`, aud = `issuer`, iat = `now_ts`).
pub async fn signed_enroll_request(
    client: &BackendClient,
    issuer: &str,
    now_ts: i64,
    nik: &str,
    email: &str,
    key: &EcKeyPair,
) -> EnrollRequest {
    let nonce = client.nonce().await.unwrap();
    enroll_request_with_proof(nik, email, key, proof_jwt(key, issuer, &nonce, now_ts))
}

/// The selfie sent as the app sends it (`Wallet::submit_enrollment`): a new resumable
/// upload created with its first chunk (`create_upload_with`), the rest sent by PATCH
/// (`upload_new`). Its id, and the PATCHes it took.
pub async fn upload_selfie(
    c: &BackendClient,
) -> Result<(String, usize), ikd_core::client::ClientError> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let photo = selfie_jpeg();
    let new = c.create_upload_with(&photo).await?;
    let told = Arc::new(AtomicUsize::new(0));
    let t = told.clone();
    let on: ikd_core::client::OnUpload = Arc::new(move |_, _| {
        t.fetch_add(1, Ordering::Relaxed);
    });
    c.upload_new(&new, &photo, Some(&on)).await?;
    // `on` is told the offset once at the start, then once per chunk stored.
    Ok((new.id, told.load(Ordering::Relaxed).saturating_sub(1)))
}

/// An enrollment form with the given `device_proof` (which may be anything).
pub fn enroll_request_with_proof(
    nik: &str,
    email: &str,
    key: &EcKeyPair,
    device_proof: String,
) -> EnrollRequest {
    EnrollRequest {
        nik: nik.to_owned(),
        email: email.to_owned(),
        phone: "+6281234567890".to_owned(),
        selfie_jpeg: Some(base64::engine::general_purpose::STANDARD.encode(selfie_jpeg())),
        selfie_upload: None,
        device_jwk: key.public_jwk(),
        device_proof,
    }
}

impl Harness {
    /// After a "Lupa PIN" request: the notice mail arrives, an officer approves the
    /// oldest reset in the review queue (desk visit), the code mail arrives, and the
    /// clock moves past the cooling-off. Returns the code.
    pub async fn reset_code_after_review(&self) -> String {
        let notice = self
            .smtp
            .next(MAIL_TIMEOUT)
            .await
            .expect("the reset notice");
        assert_eq!(
            notice.header("Subject").as_deref(),
            Some(ikd_server::pinreset::REQUESTED_SUBJECT)
        );
        let officer = self.officer().await;
        let queue: Vec<serde_json::Value> = officer.get_json("/officer/api/resets").await;
        let id = queue
            .first()
            .and_then(|r| r["enrollment_id"].as_str())
            .expect("a reset waits for review")
            .to_owned();
        assert_eq!(
            officer.approve_reset(&id, "desk").await,
            reqwest::StatusCode::NO_CONTENT
        );
        let mail = self
            .smtp
            .next(MAIL_TIMEOUT)
            .await
            .expect("the reset code mail");
        assert_eq!(
            mail.header("Subject").as_deref(),
            Some(ikd_server::mail::REAUTH_SUBJECT)
        );
        self.clock.advance(chrono::Duration::hours(24));
        code_in(&mail)
    }
}

/// The desk confirmation code in a scan answer (the app shows it to the officer).
pub fn confirm_of(scanned: &ikd_core::wire::EnrollmentStatusResponse) -> String {
    scanned
        .desk_confirm_code
        .clone()
        .expect("a scan answer carries the desk confirmation code")
}

/// The 6-digit code in an activation mail.
pub fn code_in(mail: &ReceivedMail) -> String {
    ikd_server::mail::extract_code(&mail.body()).expect("the mail carries a 6-digit code")
}

/// A resident that went through submit, scan and approval, with the mailed code.
pub struct Approved {
    pub enrollment_id: String,
    pub token: ikd_core::secret::SecretString,
    pub key: EcKeyPair,
    pub code: ikd_core::secret::SecretString,
    pub pre_authorized_code: String,
}

impl Harness {
    /// Submits `req` and scans the officer's desk QR; returns (enrollment id, enrollment
    /// token, the desk confirmation code the app shows).
    pub async fn submit_and_scan(
        &self,
        officer: &Officer,
        req: &EnrollRequest,
    ) -> (String, ikd_core::secret::SecretString, String) {
        let sub = self.client.submit(req).await.unwrap();
        let token = ikd_core::secret::SecretString::new(sub.enrollment_token);
        let qr = officer.desk_qr().await;
        let scanned = self
            .client
            .scan(&sub.enrollment_id, &token, &qr.text)
            .await
            .unwrap();
        (sub.enrollment_id, token, confirm_of(&scanned))
    }

    /// Submit → scan the desk QR → officer approves → code arrives by SMTP.
    pub async fn approved(&self, officer: &Officer, nik: &str, email: &str) -> Approved {
        self.approved_with_key(officer, nik, email, device_key())
            .await
    }

    /// [`Self::approved`] with the device key `key`.
    pub async fn approved_with_key(
        &self,
        officer: &Officer,
        nik: &str,
        email: &str,
        key: EcKeyPair,
    ) -> Approved {
        let req = self.enroll_request(nik, email, &key).await;
        let (enrollment_id, token, confirm) = self.submit_and_scan(officer, &req).await;
        assert_eq!(
            officer.approve(&enrollment_id, &confirm).await,
            reqwest::StatusCode::OK
        );
        let mail = self.smtp.next(MAIL_TIMEOUT).await.expect("activation mail");
        assert_eq!(mail.to, vec![email.to_owned()]);
        let status = self.client.status(&enrollment_id, &token).await.unwrap();
        let offer = status.credential_offer.expect("offer once approved");
        let pac = offer
            .grants
            .pre_authorized_code
            .expect("pre-authorised grant")
            .pre_authorized_code;
        Approved {
            enrollment_id,
            token,
            key,
            code: ikd_core::secret::SecretString::new(code_in(&mail)),
            pre_authorized_code: pac,
        }
    }

    /// Through the wallet facade, as the app does: selfie → submit → the desk QR → the
    /// officer approves the resident named `nama` → the code arrives by SMTP and the
    /// status is refreshed. The wallet is left at "approved"; returns the mailed code.
    pub async fn wallet_approved(
        &self,
        w: &ikd_core::wallet::Wallet,
        nik: &str,
        nama: &str,
        email: &str,
    ) -> String {
        let officer = self.officer().await;
        w.process_selfie(&astronaut_png()).unwrap();
        w.submit_enrollment(ikd_core::view::RegisterForm {
            nik: nik.into(),
            email: email.into(),
            phone: "081234567890".into(),
            consent: true,
        })
        .await
        .unwrap();
        let scanned = w.scan_desk_qr(&officer.desk_qr().await.text).await.unwrap();
        let confirm = scanned
            .desk_confirm_code
            .expect("the app shows the desk confirmation code");
        let id = officer
            .queue()
            .await
            .iter()
            .find(|q| q["nama"] == nama)
            .and_then(|q| q["enrollment_id"].as_str().map(str::to_owned))
            .expect("the resident waits in the officer's queue");
        assert_eq!(
            officer.approve(&id, &confirm).await,
            reqwest::StatusCode::OK
        );
        let code = code_in(&self.smtp.next(MAIL_TIMEOUT).await.expect("activation mail"));
        w.refresh_status().await.unwrap();
        code
    }
}

/// The public-domain astronaut portrait core's selfie tests use, as PNG bytes.
pub fn astronaut_png() -> Vec<u8> {
    std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../core/tests/fixtures/astronaut.png"),
    )
    .expect("core/tests/fixtures/astronaut.png")
}
