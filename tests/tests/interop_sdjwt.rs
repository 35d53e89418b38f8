//! Interoperability of ikd-core's SD-JWT VC with a third-party implementation: the
//! OpenWallet Foundation `sd-jwt` Python library (driven by
//! `tests/interop/sdjwt_interop.py`). Both directions, plus the library's holder
//! making a presentation with a KB-JWT that we must accept.
//!
//! Needs `pip install -r tests/interop/requirements.txt`; if the library is missing
//! these tests FAIL (they do not skip). `PYTHON` selects the interpreter (default
//! `python3`).
#![allow(clippy::unwrap_used)]

use chrono::{DateTime, Duration, Utc};
use ikd_core::credential::model::{Kk, Ktp};
use ikd_core::credential::{kk_to_claims, ktp_to_claims};
use ikd_core::jose::{b64u_encode, EcKeyPair};
use ikd_core::sdjwt;
use ikd_core::wire::{EcJwk, KK_VCT, KTP_VCT};
use serde_json::{json, Value};
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

#[path = "../../core/tests/common/samples.rs"]
mod samples;
use samples::{kk, ktp};

const ISS: &str = "https://ikd.example.go.id";

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("interop/sdjwt_interop.py")
}

/// Runs the driver; returns (success, stdout, stderr). Panics with install instructions
/// when the third-party library is missing.
fn py(args: &[&str], stdin: &str) -> (bool, String, String) {
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    let mut child = Command::new(&python)
        .arg(script())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {python}: {e}; install Python 3"));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        !stderr.contains("MISSING_DEPENDENCY"),
        "the third-party SD-JWT library is not installed: {stderr}\n\
         run: pip install -r tests/interop/requirements.txt"
    );
    (out.status.success(), stdout, stderr)
}

fn now() -> DateTime<Utc> {
    Utc::now()
}

fn jwk_json(j: &EcJwk) -> String {
    serde_json::to_string(j).unwrap()
}

/// Their verifier's output for our credential: (header, claims).
fn their_verify(sd_jwt: &str, issuer: &EcJwk) -> (Value, serde_json::Map<String, Value>) {
    let (ok, out, err) = py(&["verify", "--issuer-jwk", &jwk_json(issuer)], sd_jwt);
    assert!(ok, "sd-jwt (python) rejected our credential: {err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    (
        v["header"].clone(),
        v["claims"].as_object().unwrap().clone(),
    )
}

#[test]
fn our_ktp_verifies_with_their_library() {
    let issuer = EcKeyPair::generate().unwrap();
    let holder = EcKeyPair::generate().unwrap().public_jwk();
    let req = ktp().issue_request(ISS, &holder, now(), now() + Duration::days(365));
    let s = sdjwt::issue(&issuer, &req).unwrap();
    let (header, mut claims) = their_verify(&s, &issuer.public_jwk());
    assert_eq!(header["typ"], "dc+sd-jwt");
    assert_eq!(header["alg"], "ES256");
    assert_eq!(claims.remove("iss").unwrap(), ISS);
    assert_eq!(claims.remove("vct").unwrap(), KTP_VCT);
    assert_eq!(claims.remove("cnf").unwrap(), json!({ "jwk": holder }));
    assert!(claims.remove("iat").is_some() && claims.remove("exp").is_some());
    // the age predicates, each a nested disclosure
    let ages = claims.remove("age_equal_or_over").unwrap();
    assert_eq!(ages, json!({"17": true, "18": true, "21": true}));
    assert_eq!(claims, ktp_to_claims(&ktp()));
    assert_eq!(Ktp::from_claims(claims).unwrap(), ktp());
}

#[test]
fn our_kk_with_disclosable_members_verifies_with_their_library() {
    let issuer = EcKeyPair::generate().unwrap();
    let holder = EcKeyPair::generate().unwrap().public_jwk();
    let req = kk().issue_request(ISS, &holder, now(), now() + Duration::days(365));
    let s = sdjwt::issue(&issuer, &req).unwrap();
    let (_, claims) = their_verify(&s, &issuer.public_jwk());
    assert_eq!(claims["vct"], KK_VCT);
    assert_eq!(Kk::from_claims(claims).unwrap(), kk());

    // Our holder withholds one member (the third, RINA); their verifier sees two.
    use sdjwt::PathSeg::{Index, Key};
    let p = sdjwt::present_paths(
        &s,
        |p| !matches!(p, [Key(a), Index(2), ..] if a == "anggota"),
    )
    .unwrap();
    let (_, claims) = their_verify(&p, &issuer.public_jwk());
    let names: Vec<&str> = claims["anggota"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["nama"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["AHMAD", "SITI AMINAH"]);
    // ... or only each member's nama and hubungan (nested disclosures).
    let p = sdjwt::present_paths(&s, |p| {
        matches!(p, [Key(a), Index(_), Key(f)] if a == "anggota" && (f == "nama" || f == "hubungan"))
    })
    .unwrap();
    let (_, claims) = their_verify(&p, &issuer.public_jwk());
    let members = claims["anggota"].as_array().unwrap();
    assert_eq!(members.len(), 3);
    assert_eq!(members[2], json!({"nama": "RINA", "hubungan": "ANAK"}));
}

#[test]
fn their_library_rejects_our_credential_when_tampered_or_wrong_key() {
    let issuer = EcKeyPair::generate().unwrap();
    let holder = EcKeyPair::generate().unwrap().public_jwk();
    let req = ktp().issue_request(ISS, &holder, now(), now() + Duration::days(365));
    let s = sdjwt::issue(&issuer, &req).unwrap();
    let other = EcKeyPair::generate().unwrap().public_jwk();
    let (ok, _, _) = py(&["verify", "--issuer-jwk", &jwk_json(&other)], &s);
    assert!(
        !ok,
        "their verifier accepted a credential under the wrong key"
    );
    let (jwt, rest) = s.split_once('~').unwrap();
    let segs: Vec<&str> = jwt.split('.').collect();
    let forged_payload =
        b64u_encode(r#"{"iss":"https://evil","vct":"urn:ikd:ktp:1","_sd_alg":"sha-256"}"#);
    let forged = format!("{}.{}.{}~{rest}", segs[0], forged_payload, segs[2]);
    let (ok, _, _) = py(
        &["verify", "--issuer-jwk", &jwk_json(&issuer.public_jwk())],
        &forged,
    );
    assert!(!ok, "their verifier accepted a tampered credential");
}

/// Their issuer signs with our key material (PKCS#8 from ring).
fn their_issue(
    issuer: &EcKeyPair,
    holder: &EcJwk,
    claims: serde_json::Map<String, Value>,
    vct: &str,
    arrays: &str,
) -> String {
    let pkcs8 = b64u_encode(issuer.pkcs8().expose());
    let plain = json!({
        "iss": ISS,
        "iat": now().timestamp(),
        "exp": (now() + Duration::days(30)).timestamp(),
        "vct": vct,
    });
    let (ok, out, err) = py(
        &[
            "issue",
            "--issuer-pkcs8",
            &pkcs8,
            "--holder-jwk",
            &jwk_json(holder),
            "--claims",
            &Value::Object(claims).to_string(),
            "--plain",
            &plain.to_string(),
            "--array-elements",
            arrays,
            "--decoys",
        ],
        "",
    );
    assert!(ok, "sd-jwt (python) failed to issue: {err}");
    out
}

#[test]
fn their_ktp_verifies_with_ours() {
    let issuer = EcKeyPair::generate().unwrap();
    let holder = EcKeyPair::generate().unwrap().public_jwk();
    let s = their_issue(&issuer, &holder, ktp_to_claims(&ktp()), KTP_VCT, "");
    let v = sdjwt::verify(&s, &issuer.public_jwk(), Some(&holder), now()).unwrap();
    assert_eq!(v.issuer, ISS);
    assert_eq!(v.vct, KTP_VCT);
    assert_eq!(v.holder_jwk, holder);
    assert_eq!(Ktp::from_claims(v.claims).unwrap(), ktp());
    // and ours still refuses it under another key or for another holder
    let other = EcKeyPair::generate().unwrap().public_jwk();
    assert_eq!(
        sdjwt::verify(&s, &other, None, now()).unwrap_err(),
        sdjwt::SdJwtError::BadSignature
    );
    assert_eq!(
        sdjwt::verify(&s, &issuer.public_jwk(), Some(&other), now()).unwrap_err(),
        sdjwt::SdJwtError::HolderMismatch
    );
    assert_eq!(
        sdjwt::verify(&s, &issuer.public_jwk(), None, now() + Duration::days(31)).unwrap_err(),
        sdjwt::SdJwtError::Expired
    );
}

#[test]
fn their_kk_with_disclosable_members_verifies_with_ours() {
    let issuer = EcKeyPair::generate().unwrap();
    let holder = EcKeyPair::generate().unwrap().public_jwk();
    let s = their_issue(&issuer, &holder, kk_to_claims(&kk()), KK_VCT, "anggota");
    let v = sdjwt::verify(&s, &issuer.public_jwk(), Some(&holder), now()).unwrap();
    assert_eq!(v.vct, KK_VCT);
    assert_eq!(Kk::from_claims(v.claims).unwrap(), kk());
}

#[test]
fn their_holder_presentation_with_kb_jwt_verifies_with_ours() {
    let issuer = EcKeyPair::generate().unwrap();
    let holder = EcKeyPair::generate().unwrap();
    let holder_jwk = holder.public_jwk();
    let req = kk().issue_request(ISS, &holder_jwk, now(), now() + Duration::days(30));
    let s = sdjwt::issue(&issuer, &req).unwrap();
    // Their holder picks members and, inside them, fields (nested disclosures).
    let disclose = json!({
        "nomor_kk": true,
        "anggota": [{"nama": true, "hubungan": true}, false, {"nama": true}],
    });
    let (ok, p, err) = py(
        &[
            "present",
            "--holder-pkcs8",
            &b64u_encode(holder.pkcs8().expose()),
            "--disclose",
            &disclose.to_string(),
            "--aud",
            "https://verifier.example",
            "--nonce",
            "n-1",
        ],
        &s,
    );
    assert!(ok, "sd-jwt (python) holder failed: {err}");
    assert!(!p.ends_with('~'), "presentation carries a KB-JWT");
    let v = sdjwt::verify(&p, &issuer.public_jwk(), Some(&holder.public_jwk()), now()).unwrap();
    // ... and its KB-JWT passes our key-binding checks, for its aud and nonce only
    let kb = sdjwt::verify_presentation(
        &p,
        &issuer.public_jwk(),
        "https://verifier.example",
        "n-1",
        now(),
        Duration::minutes(5),
    )
    .unwrap();
    assert_eq!(kb.claims, v.claims);
    assert_eq!(
        sdjwt::verify_presentation(
            &p,
            &issuer.public_jwk(),
            "https://verifier.example",
            "n-2",
            now(),
            Duration::minutes(5),
        )
        .unwrap_err(),
        sdjwt::SdJwtError::KeyBindingInvalid
    );
    assert_eq!(v.claims["nomor_kk"], "1671010101010001");
    assert!(!v.claims.contains_key("kepala_keluarga"));
    let names: Vec<&str> = v.claims["anggota"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["nama"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["AHMAD", "RINA"]);
    assert_eq!(
        v.claims["anggota"],
        json!([{"nama": "AHMAD", "hubungan": "KEPALA KELUARGA"}, {"nama": "RINA"}])
    );
}

#[test]
fn our_key_bound_presentation_verifies_with_their_library() {
    let issuer = EcKeyPair::generate().unwrap();
    let holder = EcKeyPair::generate().unwrap();
    let holder_jwk = holder.public_jwk();
    let req = ktp().issue_request(ISS, &holder_jwk, now(), now() + Duration::days(30));
    let s = sdjwt::issue(&issuer, &req).unwrap();
    let p = sdjwt::present(&s, |n| n == "nama" || n == "nik").unwrap();
    let kb = sdjwt::add_key_binding(&p, &holder, "https://verifier.example", "n-7", now()).unwrap();
    let issuer_jwk = jwk_json(&issuer.public_jwk());
    let args = |nonce: &'static str| {
        [
            "verify",
            "--issuer-jwk",
            issuer_jwk.as_str(),
            "--aud",
            "https://verifier.example",
            "--nonce",
            nonce,
        ]
    };
    let (ok, out, err) = py(&args("n-7"), &kb);
    assert!(
        ok,
        "sd-jwt (python) rejected our key-bound presentation: {err}"
    );
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["claims"]["nama"], "SITI AMINAH");
    assert_eq!(v["claims"]["nik"], "1671234567890001");
    assert!(v["claims"].get("alamat").is_none());
    let (ok, _, _) = py(&args("n-8"), &kb);
    assert!(!ok, "their verifier accepted a KB-JWT for another nonce");
}
