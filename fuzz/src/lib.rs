//! Shared fixtures for the IKD fuzz targets: the fixed issuer key that signed the
//! seed credentials, the fixed clock, and the builders the structure-aware SD-JWT
//! target and the seed generator share.
//!
//! `fixtures/issuer.pk8` is a throwaway P-256 key made by `examples/gen_seeds.rs` for
//! fuzzing only; it signs nothing outside this directory.
#![forbid(unsafe_code)]

use chrono::{DateTime, NaiveDate, Utc};
use ikd_core::sdjwt::{self, IssueRequest};
use ikd_core::jose::EcKeyPair;
use ikd_core::secret::SecretBytes;
use ikd_core::wire::{EcJwk, KK_VCT, KTP_VCT};
use serde_json::{json, Map, Value};
use std::sync::OnceLock;

/// The issuer's PKCS#8 document (fuzzing only).
pub const ISSUER_PKCS8: &[u8] = include_bytes!("../fixtures/issuer.pk8");
/// The holder's PKCS#8 document (fuzzing only).
pub const HOLDER_PKCS8: &[u8] = include_bytes!("../fixtures/holder.pk8");

pub const ISS: &str = "https://ikd.example.go.id";

/// "Now" for every verification: inside the seed credentials' validity.
pub fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000, 0).expect("a fixed in-range timestamp")
}

/// "Today" for NIK parsing.
pub fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 6, 1).expect("a fixed valid date")
}

fn load(pk8: &[u8]) -> EcKeyPair {
    EcKeyPair::from_pkcs8(SecretBytes::new(pk8.to_vec()))
        .expect("fixtures/*.pk8 are keys written by gen_seeds")
}

/// The fixed issuer key.
pub fn issuer() -> &'static EcKeyPair {
    static K: OnceLock<EcKeyPair> = OnceLock::new();
    K.get_or_init(|| load(ISSUER_PKCS8))
}

/// The fixed issuer's public JWK (what `verify` pins).
pub fn issuer_jwk() -> &'static EcJwk {
    static J: OnceLock<EcJwk> = OnceLock::new();
    J.get_or_init(|| issuer().public_jwk())
}

/// The fixed holder key's public JWK.
pub fn holder_jwk() -> &'static EcJwk {
    static J: OnceLock<EcJwk> = OnceLock::new();
    J.get_or_init(|| load(HOLDER_PKCS8).public_jwk())
}

/// KTP-like claims (flat strings).
pub fn ktp_claims() -> Map<String, Value> {
    let v = json!({
        "nik": "1671234567890001", "nama": "SITI AMINAH", "tempat_lahir": "PALEMBANG",
        "tanggal_lahir": "1990-08-17", "jenis_kelamin": "PEREMPUAN", "golongan_darah": "O",
        "alamat": "JL. MERDEKA NO. 12", "rt_rw": "004/002", "kel_desa": "20 ILIR D I",
        "kecamatan": "ILIR TIMUR I", "kabupaten_kota": "KOTA PALEMBANG",
        "provinsi": "SUMATERA SELATAN", "agama": "ISLAM", "status_perkawinan": "KAWIN",
        "pekerjaan": "GURU", "kewarganegaraan": "WNI", "berlaku_hingga": "SEUMUR HIDUP",
        "foto": "/9j/4AAQSkZJRg==", "tempat_terbit": "KOTA PALEMBANG",
        "tanggal_terbit": "2020-01-02"
    });
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// KK-like claims with a disclosable-element array.
pub fn kk_claims() -> Map<String, Value> {
    let v = json!({
        "nomor_kk": "1671010101010001", "kepala_keluarga": "AHMAD",
        "alamat": "JL. MERDEKA NO. 12", "kode_pos": "30111",
        "anggota": [
            {"nama": "AHMAD", "nik": "1671234567890002", "hubungan": "KEPALA KELUARGA"},
            {"nama": "SITI AMINAH", "nik": "1671234567890001", "hubungan": "ISTRI"}
        ]
    });
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// Issues a credential over `claims` with the fixed keys; `array_elements` names the
/// array claims whose elements are each disclosable.
pub fn issue_with(
    issuer: &EcKeyPair,
    holder: &EcJwk,
    vct: &str,
    claims: Map<String, Value>,
    array_elements: &[&str],
) -> Option<String> {
    let iat = now() - chrono::Duration::days(30);
    let exp = now() + chrono::Duration::days(365);
    let req = IssueRequest::new(ISS, vct, claims, holder, iat, exp)
        .with_array_elements(array_elements.iter().copied());
    sdjwt::issue(issuer, &req).ok()
}

/// [`issue_with`] the fixed keys.
pub fn issue(vct: &str, claims: Map<String, Value>, array_elements: &[&str]) -> Option<String> {
    issue_with(issuer(), holder_jwk(), vct, claims, array_elements)
}

/// One valid KTP credential, issued once per process.
pub fn ktp_credential() -> &'static str {
    static C: OnceLock<String> = OnceLock::new();
    C.get_or_init(|| issue(KTP_VCT, ktp_claims(), &[]).unwrap_or_default())
}

/// One valid KK credential (array elements disclosable), issued once per process.
pub fn kk_credential() -> &'static str {
    static C: OnceLock<String> = OnceLock::new();
    C.get_or_init(|| issue(KK_VCT, kk_claims(), &["anggota"]).unwrap_or_default())
}
