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
    assert_eq!(
        ds.len(),
        24,
        "one disclosure per KTP field, for age_equal_or_over and per age predicate"
    );
    // born 1990-08-17: 17, 18 and 21 or over in 2027
    let v = sdjwt::verify(&f.ktp, &f.issuer.public_jwk(), Some(&f.holder), now()).unwrap();
    assert_eq!(
        v.claims["age_equal_or_over"],
        json!({"17": true, "18": true, "21": true})
    );
}

#[test]
fn age_predicates_are_disclosable_one_by_one() {
    use sdjwt::PathSeg::Key;
    let issuer = EcKeyPair::generate().unwrap();
    let holder = EcKeyPair::generate().unwrap().public_jwk();
    let mut young = ktp();
    young.tanggal_lahir = "2009-01-15".into(); // 2027-01-15: 18 today
    let req = young.issue_request(ISS, &holder, now(), now() + Duration::days(30));
    let s = sdjwt::issue(&issuer, &req).unwrap();
    let only_18 = sdjwt::present_paths(
        &s,
        |p| matches!(p, [Key(a), Key(n)] if a == "age_equal_or_over" && n == "18"),
    )
    .unwrap();
    let v = sdjwt::verify(&only_18, &issuer.public_jwk(), None, now()).unwrap();
    assert_eq!(v.claims.len(), 1, "{:?}", v.claims);
    assert_eq!(v.claims["age_equal_or_over"], json!({"18": true}));
    let all = sdjwt::verify(&s, &issuer.public_jwk(), None, now()).unwrap();
    assert_eq!(
        all.claims["age_equal_or_over"],
        json!({"17": true, "18": true, "21": false})
    );
    // the birth date is in no clear text of the credential
    let (jwt, _) = parts(&s);
    let payload = String::from_utf8(b64u_decode(jwt.split('.').nth(1).unwrap()).unwrap()).unwrap();
    assert!(!payload.contains("2009"));
    assert!(!payload.contains("true"));
}

#[test]
fn status_kid_and_x5c_are_in_the_clear() {
    use ikd_core::status_list::StatusRef;
    let issuer = EcKeyPair::generate().unwrap();
    let holder = EcKeyPair::generate().unwrap().public_jwk();
    let status = StatusRef {
        idx: 4711,
        uri: format!("{ISS}/status-lists/1"),
    };
    let req = ktp()
        .issue_request(ISS, &holder, now(), now() + Duration::days(30))
        .with_status(status.clone())
        .with_key_headers(Some("kid-1".into()), vec!["MIIB".into()]);
    let s = sdjwt::issue(&issuer, &req).unwrap();
    let (jwt, _) = parts(&s);
    let header: Value =
        serde_json::from_slice(&b64u_decode(jwt.split('.').next().unwrap()).unwrap()).unwrap();
    assert_eq!(header["kid"], "kid-1");
    assert_eq!(header["x5c"], json!(["MIIB"]));
    let payload: Value =
        serde_json::from_slice(&b64u_decode(jwt.split('.').nth(1).unwrap()).unwrap()).unwrap();
    assert_eq!(payload["status"]["status_list"]["idx"], 4711);
    let v = sdjwt::verify(&s, &issuer.public_jwk(), Some(&holder), now()).unwrap();
    assert_eq!(v.status, Some(status));
    assert!(!v.claims.contains_key("status"));
    // the holder's presentation without any disclosure still carries the status
    let p = sdjwt::present(&s, |_| false).unwrap();
    let v = sdjwt::verify(&p, &issuer.public_jwk(), None, now()).unwrap();
    assert_eq!(v.status.unwrap().idx, 4711);
}

#[test]
fn registered_claims_disclosed_selectively_are_refused() {
    let f = fx();
    for name in ["iss", "vct", "cnf", "exp", "nbf", "iat", "status"] {
        let d = b64u_encode(format!(r#"["c2FsdA","{name}",{{"x":1}}]"#));
        let mut extra = json!({"_sd": [sdjwt::digest(&d)]});
        // a credential without the claim in the clear, hiding it in a disclosure
        let mut s = hand_made(
            &f.issuer,
            &f.holder,
            extra.clone(),
            std::slice::from_ref(&d),
        );
        if matches!(name, "iss" | "vct" | "cnf" | "exp" | "iat") {
            let mut payload = json!({
                "iss": ISS, "iat": now().timestamp(), "exp": now().timestamp() + 60,
                "vct": KTP_VCT, "cnf": {"jwk": f.holder}, "_sd_alg": "sha-256",
            });
            payload.as_object_mut().unwrap().remove(name);
            payload["_sd"] = extra["_sd"].take();
            let jwt = f
                .issuer
                .sign_jws(json!({"typ": "dc+sd-jwt"}), payload)
                .unwrap();
            s = join(&jwt, std::slice::from_ref(&d));
        }
        assert_eq!(err(&s, &f), SdJwtError::ReservedClaim, "{name}");
    }
    // our issuer refuses to make them disclosable in the first place
    for name in ["iss", "vct", "cnf", "exp", "nbf", "iat", "status"] {
        let mut c = Map::new();
        c.insert(name.into(), json!(1));
        let req = IssueRequest::new(ISS, KTP_VCT, c, &f.holder, now(), now());
        assert_eq!(
            sdjwt::issue(&f.issuer, &req).unwrap_err(),
            SdJwtError::ReservedClaim
        );
    }
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

    // 10 header fields + 3 members, each with its 17 fields
    let (_, ds) = parts(&s);
    assert_eq!(ds.len(), 10 + 3 + 3 * 17);
    // drop the member "RINA" (the third): the KK still verifies, with two members
    use sdjwt::PathSeg::{Index, Key};
    let p = sdjwt::present_paths(
        &s,
        |p| !matches!(p, [Key(a), Index(2), ..] if a == "anggota"),
    )
    .unwrap();
    let (_, kept) = parts(&p);
    assert_eq!(kept.len(), 10 + 2 + 2 * 17);
    let v = sdjwt::verify(&p, &issuer.public_jwk(), None, now()).unwrap();
    let back = Kk::from_claims(v.claims).unwrap();
    assert_eq!(back.anggota.len(), 2);
    assert!(back.anggota.iter().all(|a| a.nama != "RINA"));
}

#[test]
fn kk_members_field_by_field() {
    use sdjwt::PathSeg::{Index, Key};
    let issuer = EcKeyPair::generate().unwrap();
    let holder = EcKeyPair::generate().unwrap().public_jwk();
    let req = kk().issue_request(ISS, &holder, now(), now() + Duration::days(30));
    let s = sdjwt::issue(&issuer, &req).unwrap();
    // anggota[*].nama and anggota[*].hubungan only
    let p = sdjwt::present_paths(&s, |p| {
        matches!(p, [Key(a), Index(_), Key(f)] if a == "anggota" && (f == "nama" || f == "hubungan"))
    })
    .unwrap();
    let (_, kept) = parts(&p);
    assert_eq!(kept.len(), 3 + 3 * 2, "3 member elements + 2 fields each");
    let v = sdjwt::verify(&p, &issuer.public_jwk(), None, now()).unwrap();
    assert_eq!(v.claims.len(), 1);
    let members = v.claims["anggota"].as_array().unwrap();
    assert_eq!(members.len(), 3);
    for m in members {
        let m = m.as_object().unwrap();
        let mut keys: Vec<&str> = m.keys().map(String::as_str).collect();
        keys.sort();
        assert_eq!(keys, ["hubungan", "nama"]);
    }
    assert_eq!(members[2]["nama"], "RINA");
    for d in &kept {
        let raw = String::from_utf8(b64u_decode(d).unwrap()).unwrap();
        assert!(!raw.contains("agama") && !raw.contains("ISLAM"), "{raw}");
    }
    // paths as the holder sees them
    let infos = sdjwt::disclosures(&s).unwrap();
    assert_eq!(infos.len(), 10 + 3 + 3 * 17);
    let agama: Vec<_> = infos
        .iter()
        .filter(|i| i.name.as_deref() == Some("agama"))
        .map(|i| i.path.clone())
        .collect();
    assert_eq!(agama.len(), 3);
    assert_eq!(
        agama[1],
        [Key("anggota".into()), Index(1), Key("agama".into())]
    );
    // a member field without its element disclosure is unreferenced
    let (jwt, ds) = parts(&s);
    let orphan: Vec<String> = ds
        .iter()
        .filter(|d| {
            let raw = String::from_utf8(b64u_decode(d).unwrap()).unwrap();
            raw.contains("RINA") || raw.contains("nomor_kk")
        })
        .cloned()
        .collect();
    assert_eq!(
        sdjwt::verify(&join(&jwt, &orphan), &issuer.public_jwk(), None, now()).unwrap_err(),
        SdJwtError::UnreferencedDisclosure
    );
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
        disclosable_fields: Vec::new(),
        status: None,
        kid: None,
        x5c: Vec::new(),
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
