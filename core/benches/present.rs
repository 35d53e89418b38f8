//! A presentation against an unlock alone (issue 10: at most 1.1×).
//!
//! - `unlock`: open the SQLite file, derive the key from the PIN (Argon2id, default
//!   parameters), unwrap the document key, decrypt the ~100 KB KTP and verify it.
//! - `present`: the same, then pick the disclosures of a full-identity DCQL query, sign
//!   the KB-JWT with the holder key and encrypt the `direct_post.jwt` response (JWE
//!   ECDH-ES + A128GCM) to the verifier's key. Network aside.
//!
//! Measured (release, niced, load ≈ 14 on 2 cores): unlock 130.9 ms, present 143.8 ms (1.10 ×).
//! Session 5 (load 13–18): unlock 128.4 ms; the steps alone (`step_*`): DCQL 4 µs, select
//! 0.66 ms, KB-JWT 0.17 ms, JWE 1.72 ms, so a presentation is ≈ 1.02 × an unlock.
//! Run: `nice -n 5 cargo bench -p ikd-core --bench present -- --warm-up-time 1 --measurement-time 5 --sample-size 10`
#![allow(clippy::unwrap_used)]

use base64::Engine as _;
use chrono::{Duration, Utc};
use criterion::{criterion_group, criterion_main, Criterion};
use ikd_core::clock::SystemClock;
use ikd_core::credential::model::Ktp;
use ikd_core::dcql::{DcqlQuery, Evaluation, Held};
use ikd_core::jose::EcKeyPair;
use ikd_core::oid4vp::{
    self, jwe::DecryptionKey, AuthorizationRequest, ClientMetadata, ResponseMode,
};
use ikd_core::secret::SecretString;
use ikd_core::store::Store;
use ikd_core::vault::{FileKeyStore, KdfParams, Pin, Vault};
use ikd_core::{dcql, sdjwt, sdjwt_present};
use serde_json::{json, Value};
use std::hint::black_box;
use std::sync::Arc;

const PIN: &str = "246813";

#[path = "../tests/common/samples.rs"]
mod samples;

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ikd.sqlite3");
    let issuer = EcKeyPair::generate().unwrap();
    let holder = EcKeyPair::generate().unwrap();
    let photo: Vec<u8> = (0..55_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let doc = Ktp {
        foto: base64::engine::general_purpose::STANDARD.encode(&photo),
        ..samples::ktp()
    };
    let now = Utc::now();
    let holder_jwk = holder.public_jwk();
    let req = doc.issue_request(
        "https://ikd.example.go.id",
        &holder_jwk,
        now,
        now + Duration::days(365),
    );
    let credential = sdjwt::issue(&issuer, &req).unwrap();
    let issuer_jwk = issuer.public_jwk();
    {
        let vault = Vault::new(
            Arc::new(Store::open(&db).unwrap()),
            Arc::new(FileKeyStore::in_dir(dir.path())),
            Arc::new(SystemClock),
        );
        let key = vault.create(&Pin::new(PIN, None).unwrap()).unwrap();
        vault
            .put_document(&key, "ktp", credential.as_bytes())
            .unwrap();
    }
    let pin = SecretString::new(PIN.to_owned());
    let verifier_key = DecryptionKey::generate().unwrap();
    let request = AuthorizationRequest {
        client_id: "x509_hash:abc".into(),
        response_mode: ResponseMode::DirectPostJwt,
        response_uri: "https://verifier.example/response".into(),
        nonce: "n-0S6_WzA2Mj".into(),
        state: Some("st".into()),
        dcql_query: DcqlQuery::parse(&json!({"credentials": [{"id": "ktp", "format": "dc+sd-jwt",
            "claims": [{"path": ["nama"]}, {"path": ["nik"]}, {"path": ["foto"]}, {"path": ["alamat"]},
                       {"path": ["rt_rw"]}, {"path": ["kel_desa"]}, {"path": ["kecamatan"]},
                       {"path": ["kabupaten_kota"]}, {"path": ["provinsi"]}]}]}))
        .unwrap(),
        client_metadata: ClientMetadata {
            jwks: Some(json!({"keys": [verifier_key.public_jwk("k1")]})),
            encrypted_response_enc_values_supported: Some(vec!["A128GCM".into()]),
            vp_formats_supported: None,
            client_name: None,
        },
        purpose: None,
    };

    let unlock = || {
        let vault = Vault::new(
            Arc::new(Store::open(&db).unwrap()),
            Arc::new(FileKeyStore::in_dir(dir.path())),
            Arc::new(SystemClock),
        )
        .with_kdf_params(KdfParams::default());
        let key = vault.unlock(&pin).unwrap();
        let bytes = vault.get_document(&key, "ktp").unwrap().unwrap();
        let text = String::from_utf8(bytes.expose().clone()).unwrap();
        let verified = sdjwt::verify(&text, &issuer_jwk, Some(&holder_jwk), Utc::now()).unwrap();
        (text, verified)
    };
    c.bench_function("unlock", |b| b.iter(|| black_box(unlock())));
    // The presentation's own steps, each alone (where a gap above 1.1× would come from).
    {
        let (text, verified) = unlock();
        let claims = Value::Object(verified.claims.clone());
        let held = [Held {
            id: "ktp",
            format: dcql::FORMAT_SD_JWT_VC,
            vct: &verified.vct,
            claims: &claims,
        }];
        c.bench_function("step_dcql", |b| {
            b.iter(|| black_box(dcql::evaluate(&request.dcql_query, &held)))
        });
        let Evaluation::Match(m) = dcql::evaluate(&request.dcql_query, &held) else {
            panic!()
        };
        let paths: Vec<&[dcql::PathElement]> =
            m[0].claims.iter().map(|c| c.path.as_slice()).collect();
        c.bench_function("step_select", |b| {
            b.iter(|| black_box(sdjwt_present::select(&text, &paths).unwrap()))
        });
        let selected = sdjwt_present::select(&text, &paths).unwrap();
        c.bench_function("step_kb_jwt", |b| {
            b.iter(|| {
                black_box(
                    sdjwt_present::key_binding(
                        &selected,
                        &holder,
                        &request.client_id,
                        &request.nonce,
                        Utc::now(),
                    )
                    .unwrap(),
                )
            })
        });
        let kb = sdjwt_present::key_binding(
            &selected,
            &holder,
            &request.client_id,
            &request.nonce,
            Utc::now(),
        )
        .unwrap();
        c.bench_function("step_jwe", |b| {
            b.iter(|| black_box(oid4vp::response_body(&request, &json!({"ktp": [kb]})).unwrap()))
        });
    }
    c.bench_function("present", |b| {
        b.iter(|| {
            let (text, verified) = unlock();
            let claims = Value::Object(verified.claims);
            let held = [Held {
                id: "ktp",
                format: dcql::FORMAT_SD_JWT_VC,
                vct: &verified.vct,
                claims: &claims,
            }];
            let Evaluation::Match(m) = dcql::evaluate(&request.dcql_query, &held) else {
                panic!()
            };
            let paths: Vec<&[dcql::PathElement]> =
                m[0].claims.iter().map(|c| c.path.as_slice()).collect();
            let selected = sdjwt_present::select(&text, &paths).unwrap();
            let kb = sdjwt_present::key_binding(
                &selected,
                &holder,
                &request.client_id,
                &request.nonce,
                Utc::now(),
            )
            .unwrap();
            black_box(oid4vp::response_body(&request, &json!({"ktp": [kb]})).unwrap())
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
