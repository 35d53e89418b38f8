//! SD-JWT VC issue and verify timings for a KTP (with a ~20 KB photo) and a 5-member KK.
//!   cargo bench -p ikd-core --bench sdjwt
#![allow(clippy::unwrap_used)]

use chrono::{Duration, Utc};
use criterion::{criterion_group, criterion_main, Criterion};
use ikd_core::device_key::{verify_proof_jwt, DeviceKey};
use ikd_core::jose::EcKeyPair;
use ikd_core::sdjwt;
use serde_json::{json, Map, Value};

fn ktp_claims() -> Map<String, Value> {
    let mut m = Map::new();
    for i in 0..19 {
        m.insert(
            format!("field_{i}"),
            json!("NILAI CONTOH YANG CUKUP PANJANG"),
        );
    }
    m.insert("foto".into(), json!("A".repeat(20_000)));
    m
}

fn kk_claims() -> Map<String, Value> {
    let mut m = Map::new();
    for i in 0..10 {
        m.insert(format!("field_{i}"), json!("NILAI CONTOH"));
    }
    let member: Map<String, Value> = (0..17)
        .map(|i| (format!("f{i}"), json!("NILAI CONTOH")))
        .collect();
    m.insert("anggota".into(), json!(vec![member; 5]));
    m
}

fn bench(c: &mut Criterion) {
    let issuer = EcKeyPair::generate().unwrap();
    let holder = DeviceKey::generate().unwrap();
    let hj = holder.public_jwk();
    let now = Utc::now();
    let ktp = sdjwt::IssueRequest::new(
        "https://i",
        "urn:ikd:ktp:1",
        ktp_claims(),
        &hj,
        now,
        now + Duration::days(1),
    );
    let kk = sdjwt::IssueRequest::new(
        "https://i",
        "urn:ikd:kk:1",
        kk_claims(),
        &hj,
        now,
        now + Duration::days(1),
    )
    .with_array_elements(["anggota"]);
    let ktp_s = sdjwt::issue(&issuer, &ktp).unwrap();
    let kk_s = sdjwt::issue(&issuer, &kk).unwrap();
    let ij = issuer.public_jwk();

    c.bench_function("sdjwt_issue_ktp", |b| {
        b.iter(|| sdjwt::issue(&issuer, &ktp).unwrap())
    });
    c.bench_function("sdjwt_issue_kk5", |b| {
        b.iter(|| sdjwt::issue(&issuer, &kk).unwrap())
    });
    c.bench_function("sdjwt_verify_ktp", |b| {
        b.iter(|| sdjwt::verify(&ktp_s, &ij, Some(&hj), now).unwrap())
    });
    c.bench_function("sdjwt_verify_kk5", |b| {
        b.iter(|| sdjwt::verify(&kk_s, &ij, Some(&hj), now).unwrap())
    });
    c.bench_function("proof_jwt_sign_verify", |b| {
        b.iter(|| {
            let p = holder.proof_jwt("https://i", "n", now).unwrap();
            verify_proof_jwt(&p, "https://i", "n", now, Duration::minutes(5)).unwrap()
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
