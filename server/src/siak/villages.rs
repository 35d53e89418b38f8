//! Villages (kelurahan/desa) by district, from the region table's `gen/villages.tsv`
//! (`10-digit code<TAB>name`), plus a few districts built in so seeding works
//! even where the region table has no entry.

use std::collections::HashMap;
use std::sync::OnceLock;

/// The villages table, embedded.
const VILLAGES_TSV: &str = include_str!("../../../gen/villages.tsv");

/// Built-in fallback districts: (code, district, regency, province, villages).
pub const FALLBACK: &[(&str, &str, &str, &str, &[&str])] = &[
    (
        "167101",
        "ILIR BARAT DUA",
        "KOTA PALEMBANG",
        "SUMATERA SELATAN",
        &[
            "26 ILIR",
            "27 ILIR",
            "30 ILIR",
            "32 ILIR",
            "35 ILIR",
            "KEMANG MANIS",
        ],
    ),
    (
        "167102",
        "SEBERANG ULU SATU",
        "KOTA PALEMBANG",
        "SUMATERA SELATAN",
        &[
            "1 ULU",
            "3-4 ULU",
            "7 ULU",
            "9-10 ULU",
            "15 ULU",
            "TUAN KENTANG",
        ],
    ),
];

fn table() -> &'static HashMap<String, Vec<&'static str>> {
    static T: OnceLock<HashMap<String, Vec<&'static str>>> = OnceLock::new();
    T.get_or_init(|| {
        let mut m: HashMap<String, Vec<&'static str>> = HashMap::new();
        for line in VILLAGES_TSV.lines() {
            let Some((code, name)) = line.split_once('\t') else {
                continue;
            };
            let code: String = code.chars().filter(|c| c.is_ascii_digit()).collect();
            if code.len() == 10 {
                m.entry(code[..6].to_owned()).or_default().push(name.trim());
            }
        }
        m
    })
}

/// Village names of a 6-digit district, in table order.
pub fn villages_of(district6: &str) -> Vec<&'static str> {
    if let Some(v) = table().get(district6) {
        return v.clone();
    }
    FALLBACK
        .iter()
        .find(|f| f.0 == district6)
        .map(|f| f.4.to_vec())
        .unwrap_or_default()
}
