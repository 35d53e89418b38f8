//! The official region table (Kepmendagri 300.2.2-2138/2025), generated into
//! `gen/regions.tsv` by `gen/regions.py` and embedded in the binary.
//! STUB: owned by the identity work.

/// Province name for a 2-digit code ("16" -> "Sumatera Selatan").
pub fn province_name(code: &str) -> Option<&'static str> {
    let _ = code;
    None
}

/// Regency/city name for a 4-digit code without dots ("1671" -> "Kota Palembang").
pub fn regency_name(code: &str) -> Option<&'static str> {
    let _ = code;
    None
}

/// District (kecamatan) name for a 6-digit code without dots ("167101" -> "Ilir Barat Dua").
pub fn district_name(code: &str) -> Option<&'static str> {
    let _ = code;
    None
}

/// Every district as (6-digit code, name), sorted by code.
pub fn districts() -> &'static [(&'static str, &'static str)] {
    &[]
}
