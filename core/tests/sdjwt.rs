//! SD-JWT VC issue and verify over the KTP and KK models, and every rejection path.
#![allow(clippy::unwrap_used)]

use chrono::{DateTime, Duration, Utc};
use ikd_core::credential::model::{Kk, Ktp};
use ikd_core::error::{ErrorCode, UiError};
use ikd_core::jose::{b64u_decode, b64u_encode, EcKeyPair};
use ikd_core::sdjwt::{self, IssueRequest, SdJwtError};
use ikd_core::wire::{EcJwk, KK_VCT, KTP_VCT};
use proptest::prelude::*;
use serde_json::{json, Map, Value};

#[path = "common/samples.rs"]
mod samples;
use samples::{kk, ktp};

const ISS: &str = "https://ikd.example.go.id";

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000, 0).unwrap()
}

struct Fx {
    issuer: EcKeyPair,
    holder: EcJwk,
    ktp: String,
}

fn fx() -> Fx {
    let issuer = EcKeyPair::generate().unwrap();
    let holder = EcKeyPair::generate().unwrap().public_jwk();
    let req = ktp().issue_request(ISS, &holder, now(), now() + Duration::days(30));
    let ktp = sdjwt::issue(&issuer, &req).unwrap();
    Fx {
        issuer,
        holder,
        ktp,
    }
}

fn parts(s: &str) -> (String, Vec<String>) {
    let mut v: Vec<String> = s.split('~').map(str::to_owned).collect();
    assert_eq!(v.pop().as_deref(), Some(""));
    let jwt = v.remove(0);
    (jwt, v)
}

fn join(jwt: &str, ds: &[String]) -> String {
    let mut s = jwt.to_owned();
    s.push('~');
    for d in ds {
        s.push_str(d);
        s.push('~');
    }
    s
}

fn err(s: &str, f: &Fx) -> SdJwtError {
    sdjwt::verify(s, &f.issuer.public_jwk(), Some(&f.holder), now()).unwrap_err()
}

#[test]
fn ktp_round_trip() {
    let f = fx();
    let v = sdjwt::verify(&f.ktp, &f.issuer.public_jwk(), Some(&f.holder), now()).unwrap();
    assert_eq!(v.vct, KTP_VCT);
    assert_eq!(v.issuer, ISS);
    assert_eq!(v.expires_at, Some(now() + Duration::days(30)));
    assert_eq!(Ktp::from_claims(v.claims).unwrap(), ktp());
    let (_, ds) = parts(&f.ktp);
    assert_eq!(ds.len(), 20, "one disclosure per KTP field");
}

#[test]
fn kk_round_trip_with_member_elements() {
    let issuer = EcKeyPair::generate().unwrap();
    let holder = EcKeyPair::generate().unwrap().public_jwk();
    let req = kk().issue_request(ISS, &holder, now(), now() + Duration::days(30));
    let s = sdjwt::issue(&issuer, &req).unwrap();
    let v = sdjwt::verify(&s, &issuer.public_jwk(), Some(&holder), now()).unwrap();
    assert_eq!(v.vct, KK_VCT);
    assert_eq!(Kk::from_claims(v.claims).unwrap(), kk());

    // 10 header fields + 3 members
    let (jwt, ds) = parts(&s);
    assert_eq!(ds.len(), 13);
    // drop the member "RINA": the KK still verifies, with two members
    let kept: Vec<String> = ds
        .iter()
        .filter(|d| {
            !String::from_utf8(b64u_decode(d).unwrap())
                .unwrap()
                .contains("RINA")
        })
        .cloned()
        .collect();
    assert_eq!(kept.len(), 12);
    let v = sdjwt::verify(&join(&jwt, &kept), &issuer.public_jwk(), None, now()).unwrap();
    let back = Kk::from_claims(v.claims).unwrap();
    assert_eq!(back.anggota.len(), 2);
    assert!(back.anggota.iter().all(|a| a.nama != "RINA"));
}

#[test]
fn reordered_disclosures_verify() {
    let f = fx();
    let (jwt, mut ds) = parts(&f.ktp);
    ds.reverse();
    let v = sdjwt::verify(&join(&jwt, &ds), &f.issuer.public_jwk(), None, now()).unwrap();
    assert_eq!(Ktp::from_claims(v.claims).unwrap(), ktp());
}

#[test]
fn dropped_disclosure_leaves_claim_absent() {
    let f = fx();
    let p = sdjwt::present(&f.ktp, |n| n == "nama" || n == "foto").unwrap();
    let v = sdjwt::verify(&p, &f.issuer.public_jwk(), Some(&f.holder), now()).unwrap();
    assert_eq!(v.claims.len(), 2);
    assert_eq!(v.claims["nama"], "SITI AMINAH");
    assert!(!v.claims.contains_key("nik"));
    // an incomplete KTP is a typed error, not a panic
    let e = Ktp::from_claims(v.claims).unwrap_err();
    assert_eq!(UiError::from(e).code, ErrorCode::CredentialInvalid);
    // no disclosures at all
    let (jwt, _) = parts(&f.ktp);
    let v = sdjwt::verify(&format!("{jwt}~"), &f.issuer.public_jwk(), None, now()).unwrap();
    assert!(v.claims.is_empty());
}

#[test]
fn tampered_payload_is_bad_signature() {
    let f = fx();
    let (jwt, ds) = parts(&f.ktp);
    let segs: Vec<&str> = jwt.split('.').collect();
    let mut payload: Value = serde_json::from_slice(&b64u_decode(segs[1]).unwrap()).unwrap();
    payload["exp"] = json!(4_000_000_000i64);
    let forged = format!(
        "{}.{}.{}",
        segs[0],
        b64u_encode(payload.to_string()),
        segs[2]
    );
    assert_eq!(err(&join(&forged, &ds), &f), SdJwtError::BadSignature);
}

#[test]
fn tampered_signature_is_bad_signature() {
    let f = fx();
    let (jwt, ds) = parts(&f.ktp);
    let segs: Vec<&str> = jwt.split('.').collect();
    let mut sig = b64u_decode(segs[2]).unwrap();
    sig[10] ^= 1;
    let forged = format!("{}.{}.{}", segs[0], segs[1], b64u_encode(sig));
    assert_eq!(err(&join(&forged, &ds), &f), SdJwtError::BadSignature);
}

#[test]
fn tampered_disclosure_is_unreferenced() {
    let f = fx();
    let (jwt, mut ds) = parts(&f.ktp);
    let raw = String::from_utf8(b64u_decode(&ds[0]).unwrap()).unwrap();
    let mut arr: Value = serde_json::from_str(&raw).unwrap();
    arr[2] = json!("PALSU");
    ds[0] = b64u_encode(arr.to_string());
    assert_eq!(
        err(&join(&jwt, &ds), &f),
        SdJwtError::UnreferencedDisclosure
    );
}

#[test]
fn foreign_disclosure_is_unreferenced() {
    let f = fx();
    let g = fx();
    let (jwt, mut ds) = parts(&f.ktp);
    let (_, other) = parts(&g.ktp);
    ds.push(other[0].clone());
    assert_eq!(
        err(&join(&jwt, &ds), &f),
        SdJwtError::UnreferencedDisclosure
    );
}

#[test]
fn duplicate_disclosure_rejected() {
    let f = fx();
    let (jwt, mut ds) = parts(&f.ktp);
    ds.push(ds[3].clone());
    assert_eq!(err(&join(&jwt, &ds), &f), SdJwtError::DuplicateDisclosure);
}

#[test]
fn malformed_disclosure_rejected() {
    let f = fx();
    let (jwt, mut ds) = parts(&f.ktp);
    ds.push("!!!".into());
    assert_eq!(err(&join(&jwt, &ds), &f), SdJwtError::MalformedDisclosure);
    let (jwt, mut ds) = parts(&f.ktp);
    ds.push(b64u_encode("[1,2,3,4]"));
    assert_eq!(err(&join(&jwt, &ds), &f), SdJwtError::MalformedDisclosure);
}

/// Signs a hand-made payload with `disclosures` so we can test verifier rules that our
/// own issuer never produces.
fn hand_made(issuer: &EcKeyPair, holder: &EcJwk, extra: Value, ds: &[String]) -> String {
    let mut payload = json!({
        "iss": ISS, "iat": now().timestamp(), "exp": now().timestamp() + 60, "vct": KTP_VCT,
        "cnf": {"jwk": holder}, "_sd_alg": "sha-256",
    });
    for (k, v) in extra.as_object().unwrap() {
        payload[k] = v.clone();
    }
    let jwt = issuer
        .sign_jws(json!({"typ": "dc+sd-jwt"}), payload)
        .unwrap();
    join(&jwt, ds)
}

#[test]
fn claim_collision_and_duplicate_digest_rejected() {
    let f = fx();
    let d = b64u_encode(r#"["c2FsdA","nama","X"]"#);
    let dg = sdjwt::digest(&d);
    let s = hand_made(
        &f.issuer,
        &f.holder,
        json!({"nama": "Y", "_sd": [dg]}),
        std::slice::from_ref(&d),
    );
    assert_eq!(err(&s, &f), SdJwtError::ClaimCollision);
    let s = hand_made(
        &f.issuer,
        &f.holder,
        json!({"_sd": [dg, dg]}),
        std::slice::from_ref(&d),
    );
    assert_eq!(err(&s, &f), SdJwtError::DuplicateDisclosure);
    let s = hand_made(
        &f.issuer,
        &f.holder,
        json!({"_sd": [dg], "sub": {"_sd": [dg]}}),
        &[d],
    );
    assert_eq!(err(&s, &f), SdJwtError::DuplicateDisclosure);
}

#[test]
fn nested_and_recursive_disclosures() {
    let f = fx();
    let inner = b64u_encode(r#"["c2FsdDE","jalan","JL. A"]"#);
    let elem = b64u_encode(r#"["c2FsdDI",{"n":1}]"#);
    let outer_val = json!(["c2FsdDM", "alamat", {"_sd": [sdjwt::digest(&inner)]}]);
    let outer = b64u_encode(outer_val.to_string());
    let s = hand_made(
        &f.issuer,
        &f.holder,
        json!({"_sd": [sdjwt::digest(&outer), "decoydecoydecoy"], "xs": [{"...": sdjwt::digest(&elem)}, 7, {"...": "decoy"}]}),
        &[inner, elem, outer],
    );
    let v = sdjwt::verify(&s, &f.issuer.public_jwk(), Some(&f.holder), now()).unwrap();
    assert_eq!(v.claims["alamat"], json!({"jalan": "JL. A"}));
    assert_eq!(v.claims["xs"], json!([{"n": 1}, 7]));
}

#[test]
fn wrong_sd_alg_rejected() {
    let f = fx();
    let s = hand_made(&f.issuer, &f.holder, json!({"_sd_alg": "sha-1"}), &[]);
    assert_eq!(err(&s, &f), SdJwtError::UnsupportedAlg);
}

#[test]
fn wrong_issuer_key() {
    let f = fx();
    let other = EcKeyPair::generate().unwrap().public_jwk();
    assert_eq!(
        sdjwt::verify(&f.ktp, &other, None, now()).unwrap_err(),
        SdJwtError::BadSignature
    );
    let broken = EcJwk {
        x: "short".into(),
        ..other
    };
    assert_eq!(
        sdjwt::verify(&f.ktp, &broken, None, now()).unwrap_err(),
        SdJwtError::UnknownKey
    );
}

#[test]
fn expired_and_not_yet_valid() {
    let f = fx();
    let at = now() + Duration::days(30);
    assert_eq!(
        sdjwt::verify(&f.ktp, &f.issuer.public_jwk(), None, at).unwrap_err(),
        SdJwtError::Expired
    );
    assert!(sdjwt::verify(
        &f.ktp,
        &f.issuer.public_jwk(),
        None,
        at - Duration::seconds(1)
    )
    .is_ok());
    let s = hand_made(
        &f.issuer,
        &f.holder,
        json!({"nbf": now().timestamp() + 10}),
        &[],
    );
    assert_eq!(err(&s, &f), SdJwtError::NotYetValid);
}

#[test]
fn holder_mismatch() {
    let f = fx();
    let other = EcKeyPair::generate().unwrap().public_jwk();
    assert_eq!(
        sdjwt::verify(&f.ktp, &f.issuer.public_jwk(), Some(&other), now()).unwrap_err(),
        SdJwtError::HolderMismatch
    );
}

#[test]
fn alg_none_and_wrong_typ_rejected() {
    let f = fx();
    let (jwt, ds) = parts(&f.ktp);
    let segs: Vec<&str> = jwt.split('.').collect();
    let none = format!(
        "{}.{}.",
        b64u_encode(r#"{"alg":"none","typ":"dc+sd-jwt"}"#),
        segs[1]
    );
    assert!(matches!(
        err(&join(&none, &ds), &f),
        SdJwtError::UnsupportedAlg | SdJwtError::Malformed
    ));
    let hs = format!(
        "{}.{}.{}",
        b64u_encode(r#"{"alg":"HS256","typ":"dc+sd-jwt"}"#),
        segs[1],
        segs[2]
    );
    assert_eq!(err(&join(&hs, &ds), &f), SdJwtError::UnsupportedAlg);
    let jwt_typ = f
        .issuer
        .sign_jws(json!({"typ": "JWT"}), json!({"iss": ISS}))
        .unwrap();
    assert_eq!(err(&format!("{jwt_typ}~"), &f), SdJwtError::WrongType);
    // legacy typ is accepted
    let legacy = f
        .issuer
        .sign_jws(
            json!({"typ": "vc+sd-jwt"}),
            json!({"iss": ISS, "iat": now().timestamp(), "vct": KTP_VCT, "cnf": {"jwk": f.holder}}),
        )
        .unwrap();
    assert!(sdjwt::verify(&format!("{legacy}~"), &f.issuer.public_jwk(), None, now()).is_ok());
}

#[test]
fn errors_map_to_credential_invalid_without_personal_data() {
    let f = fx();
    let other = EcKeyPair::generate().unwrap().public_jwk();
    let e: UiError = sdjwt::verify(&f.ktp, &f.issuer.public_jwk(), Some(&other), now())
        .unwrap_err()
        .into();
    assert_eq!(e.code, ErrorCode::CredentialInvalid);
    assert!(!e.message.contains("SITI") && !e.message.contains("1671"));
}

#[test]
fn salts_differ_between_issuances() {
    let f = fx();
    let req = ktp().issue_request(ISS, &f.holder, now(), now() + Duration::days(30));
    let again = sdjwt::issue(&f.issuer, &req).unwrap();
    let (_, a) = parts(&f.ktp);
    let (_, b) = parts(&again);
    assert!(a.iter().all(|d| !b.contains(d)));
}

#[test]
fn issue_request_is_plain_map_friendly() {
    // Callers can also build a request by hand.
    let k = EcKeyPair::generate().unwrap();
    let h = k.public_jwk();
    let mut m = Map::new();
    m.insert("x".into(), json!(1));
    let req = IssueRequest {
        issuer: ISS,
        vct: "urn:x",
        disclosable: m,
        holder_jwk: &h,
        issued_at: now(),
        expires_at: now() + Duration::hours(1),
        disclosable_array_elements: Vec::new(),
    };
    let s = sdjwt::issue(&k, &req).unwrap();
    let v = sdjwt::verify(&s, &k.public_jwk(), Some(&h), now()).unwrap();
    assert_eq!(v.claims["x"], 1);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_strings_never_panic(s in ".*") {
        let k = EcKeyPair::generate().unwrap().public_jwk();
        let _ = sdjwt::verify(&s, &k, Some(&k), now());
        let _ = sdjwt::verify_presentation(&s, &k, "a", "n", now(), Duration::minutes(1));
        let _ = sdjwt::present(&s, |_| true);
    }

    #[test]
    fn arbitrary_sd_jwt_shaped_never_panic(
        h in "[A-Za-z0-9_-]{0,40}",
        p in "[A-Za-z0-9_-]{0,80}",
        sig in "[A-Za-z0-9_-]{0,90}",
        ds in prop::collection::vec("[A-Za-z0-9_~.-]{0,40}", 0..5),
    ) {
        let k = EcKeyPair::generate().unwrap().public_jwk();
        let s = format!("{h}.{p}.{sig}~{}~", ds.join("~"));
        let _ = sdjwt::verify(&s, &k, None, now());
    }

    #[test]
    fn mutated_credentials_verify_unchanged_or_fail(idx in 0usize..4000, byte in 0u8..128) {
        // Any single-character change either still verifies to the same claims (e.g. a
        // change inside a dropped part) or fails with a typed error; it never panics.
        let f = fx_cached();
        let mut bytes = f.1.clone().into_bytes();
        let i = idx % bytes.len();
        bytes[i] = byte;
        if let Ok(s) = String::from_utf8(bytes) {
            if let Ok(v) = sdjwt::verify(&s, &f.0, None, now()) {
                prop_assert_eq!(Ktp::from_claims(v.claims).ok(), Some(ktp()));
            }
        }
    }
}

fn fx_cached() -> &'static (EcJwk, String) {
    static F: std::sync::OnceLock<(EcJwk, String)> = std::sync::OnceLock::new();
    F.get_or_init(|| {
        let f = fx();
        (f.issuer.public_jwk(), f.ktp)
    })
}
