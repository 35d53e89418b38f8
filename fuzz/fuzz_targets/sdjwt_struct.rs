//! Structure-aware SD-JWT fuzzing around credentials the fixed issuer really issued.
//!
//! The first input byte picks a mode, the rest drives it:
//! - 0/1: edit a valid KTP (0) or KK (1) credential: 4-byte ops replace, insert or
//!   delete a byte, or swap two `~` segments;
//! - 2: a JWS **correctly signed** by the issuer over arbitrary payload bytes, with the
//!   KK credential's real disclosures appended (reaches past the signature check);
//! - 3: arbitrary disclosure contents (chunks split on 0x00) that a correctly signed
//!   payload references in `_sd` and in an array `{"...": digest}`;
//! - 4: an arbitrary protected header, correctly signed, over the KTP payload.
//!
//! Every outcome must be `Ok` or a typed `SdJwtError`; a verified result must carry
//! the fixed issuer and a holder key.
#![no_main]

use ikd_core::sdjwt;
use ikd_core::jose::b64u_encode;
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};

fn check(s: &str) {
    let now = ikd_fuzz::now();
    if let Ok(v) = sdjwt::verify(s, ikd_fuzz::issuer_jwk(), None, now) {
        assert!(!v.issuer.is_empty());
        assert!(!v.claims.contains_key("_sd"), "_sd left in verified claims");
        assert!(!v.claims.contains_key("_sd_alg"));
        if let Ok(p) = sdjwt::present(s, |_| true) {
            assert!(
                sdjwt::verify(&p, ikd_fuzz::issuer_jwk(), None, now).is_ok(),
                "a full presentation of a valid credential does not verify"
            );
        }
    }
}

fn sign_raw_jws(header: &[u8], payload: &[u8]) -> Option<String> {
    let input = format!("{}.{}", b64u_encode(header), b64u_encode(payload));
    let sig = ikd_fuzz::issuer().sign_raw(input.as_bytes()).ok()?;
    Some(format!("{input}.{}", b64u_encode(sig)))
}

fn disclosures(cred: &str) -> &str {
    cred.split_once('~').map(|(_, d)| d).unwrap_or("")
}

fn payload_of(cred: &str) -> Vec<u8> {
    cred.split('.')
        .nth(1)
        .and_then(|p| ikd_core::jose::b64u_decode(p).ok())
        .unwrap_or_default()
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, body)) = data.split_first() else {
        return;
    };
    match mode % 5 {
        m @ (0 | 1) => {
            let base = if m == 0 {
                ikd_fuzz::ktp_credential()
            } else {
                ikd_fuzz::kk_credential()
            };
            let mut b = base.as_bytes().to_vec();
            for op in body.chunks_exact(4) {
                if b.is_empty() {
                    break;
                }
                let pos = usize::from(u16::from_le_bytes([op[1], op[2]])) % b.len();
                match op[0] % 4 {
                    0 => b[pos] = op[3],
                    1 => b.insert(pos, op[3]),
                    2 => {
                        b.remove(pos);
                    }
                    _ => {
                        let s = String::from_utf8_lossy(&b).into_owned();
                        let mut segs: Vec<&str> = s.split('~').collect();
                        let n = segs.len();
                        segs.swap(pos % n, usize::from(op[3]) % n);
                        b = segs.join("~").into_bytes();
                    }
                }
            }
            check(&String::from_utf8_lossy(&b));
        }
        2 => {
            let header = br#"{"typ":"dc+sd-jwt","alg":"ES256"}"#;
            if let Some(jws) = sign_raw_jws(header, body) {
                check(&format!("{jws}~{}", disclosures(ikd_fuzz::kk_credential())));
            }
        }
        3 => {
            let ds: Vec<String> = body.split(|&b| b == 0).map(b64u_encode).collect();
            let digests: Vec<Value> = ds.iter().map(|d| json!(sdjwt::digest(d))).collect();
            let (top, arr) = digests.split_at(digests.len() / 2);
            let arr: Vec<Value> = arr.iter().map(|d| json!({ "...": d })).collect();
            let payload = json!({
                "iss": ikd_fuzz::ISS,
                "iat": ikd_fuzz::now().timestamp() - 10,
                "exp": ikd_fuzz::now().timestamp() + 10,
                "vct": ikd_core::wire::KTP_VCT,
                "cnf": { "jwk": ikd_core::jose::jwk_to_value(ikd_fuzz::holder_jwk()) },
                "_sd_alg": "sha-256",
                "_sd": top,
                "list": arr,
            });
            if let Ok(jws) = ikd_fuzz::issuer().sign_jws(json!({"typ": "dc+sd-jwt"}), payload) {
                let mut s = jws;
                s.push('~');
                for d in &ds {
                    s.push_str(d);
                    s.push('~');
                }
                check(&s);
            }
        }
        _ => {
            let payload = payload_of(ikd_fuzz::ktp_credential());
            if let Some(jws) = sign_raw_jws(body, &payload) {
                check(&format!(
                    "{jws}~{}",
                    disclosures(ikd_fuzz::ktp_credential())
                ));
            }
        }
    }
});
