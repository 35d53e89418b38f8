//! The official region table (Kepmendagri 300.2.2-2138/2025), generated into
//! `gen/regions.tsv` by `gen/regions.py` and embedded in the binary.
//!
//! The table holds provinces (2-digit codes), regencies/cities (4 digits) and
//! districts/kecamatan (6 digits), codes without dots. It is parsed once, on first use,
//! into sorted slices that are searched by binary search. Villages (10 digits) live in
//! `gen/villages.tsv`, which is not embedded here (it is large and only the server needs
//! it); [`parse_tsv`] reads either file.

use std::sync::OnceLock;

/// `code<TAB>name` lines, sorted by code.
const REGIONS_TSV: &str = include_str!("../../../gen/regions.tsv");

/// One region: (code without dots, name).
pub type Region = (&'static str, &'static str);

struct Table {
    provinces: Vec<Region>,
    regencies: Vec<Region>,
    districts: Vec<Region>,
}

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut t = Table {
            provinces: Vec::with_capacity(40),
            regencies: Vec::with_capacity(520),
            districts: Vec::with_capacity(7300),
        };
        for (code, name) in parse_tsv(REGIONS_TSV) {
            match code.len() {
                2 => t.provinces.push((code, name)),
                4 => t.regencies.push((code, name)),
                6 => t.districts.push((code, name)),
                _ => {}
            }
        }
        // The generator writes them sorted; sorting again keeps binary search correct
        // even for a hand-edited file.
        t.provinces.sort_unstable();
        t.regencies.sort_unstable();
        t.districts.sort_unstable();
        t
    })
}

/// Reads `code<TAB>name` lines (the format of `gen/regions.tsv` and `gen/villages.tsv`).
/// Lines without a tab, or whose code is not all ASCII digits, are skipped.
pub fn parse_tsv(text: &str) -> impl Iterator<Item = (&str, &str)> {
    text.lines().filter_map(|line| {
        let (code, name) = line.split_once('\t')?;
        (!code.is_empty() && code.bytes().all(|b| b.is_ascii_digit()) && !name.is_empty())
            .then_some((code, name))
    })
}

fn lookup(slice: &'static [Region], code: &str) -> Option<&'static str> {
    slice
        .binary_search_by(|(c, _)| (*c).cmp(code))
        .ok()
        .map(|i| slice[i].1)
}

/// Entries of `slice` whose code starts with `prefix` (slice sorted by code).
fn with_prefix(slice: &'static [Region], prefix: &str) -> &'static [Region] {
    let start = slice.partition_point(|(c, _)| *c < prefix);
    let len = slice[start..]
        .iter()
        .take_while(|(c, _)| c.starts_with(prefix))
        .count();
    &slice[start..start + len]
}

/// Province name for a 2-digit code ("16" -> "Sumatera Selatan").
pub fn province_name(code: &str) -> Option<&'static str> {
    lookup(&table().provinces, code)
}

/// Regency/city name for a 4-digit code without dots ("1671" -> "Kota Palembang").
pub fn regency_name(code: &str) -> Option<&'static str> {
    lookup(&table().regencies, code)
}

/// District (kecamatan) name for a 6-digit code without dots ("167101" -> "Ilir Barat Dua").
pub fn district_name(code: &str) -> Option<&'static str> {
    lookup(&table().districts, code)
}

/// Every province as (2-digit code, name), sorted by code.
pub fn provinces() -> &'static [Region] {
    &table().provinces
}

/// Every regency/city as (4-digit code, name), sorted by code.
pub fn regencies() -> &'static [Region] {
    &table().regencies
}

/// Every district as (6-digit code, name), sorted by code.
pub fn districts() -> &'static [Region] {
    &table().districts
}

/// The regencies/cities of a province ("16" -> Sumatera Selatan's 17), sorted by code.
/// Empty for an unknown or malformed code.
pub fn regencies_of(province: &str) -> &'static [Region] {
    if province.len() != 2 {
        return &[];
    }
    with_prefix(&table().regencies, province)
}

/// The districts of a regency/city ("1671" -> Palembang's 18), sorted by code.
/// Empty for an unknown or malformed code.
pub fn districts_of(regency: &str) -> &'static [Region] {
    if regency.len() != 4 {
        return &[];
    }
    with_prefix(&table().districts, regency)
}

/// A district with its regency and province, as printed on an address:
/// "167101" -> "Kec. Ilir Barat Dua, Kota Palembang, Sumatera Selatan".
/// None when the district (or its parents) is not in the table.
pub fn describe_district(code: &str) -> Option<String> {
    if code.len() != 6 || !code.is_ascii() {
        return None;
    }
    let district = district_name(code)?;
    let regency = regency_name(&code[..4])?;
    let province = province_name(&code[..2])?;
    Some(format!("Kec. {district}, {regency}, {province}"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn counts_match_the_decree() {
        assert_eq!(provinces().len(), 38);
        assert_eq!(regencies().len(), 514);
        assert_eq!(districts().len(), 7285);
    }

    #[test]
    fn palembang() {
        assert_eq!(province_name("16"), Some("Sumatera Selatan"));
        assert_eq!(regency_name("1671"), Some("Kota Palembang"));
        assert_eq!(district_name("167101"), Some("Ilir Barat Dua"));
        assert_eq!(
            describe_district("167101").as_deref(),
            Some("Kec. Ilir Barat Dua, Kota Palembang, Sumatera Selatan")
        );
    }

    #[test]
    fn unknown_and_malformed_codes() {
        assert_eq!(province_name("99"), None);
        assert_eq!(province_name(""), None);
        assert_eq!(regency_name("1699"), None);
        assert_eq!(district_name("167199"), None);
        assert_eq!(district_name("16.71.01"), None);
        assert_eq!(describe_district("1671"), None);
        assert_eq!(describe_district("16710é"), None);
        assert_eq!(describe_district("999999"), None);
        assert!(regencies_of("9").is_empty());
        assert!(districts_of("99").is_empty());
    }

    #[test]
    fn sorted_and_children_under_parents() {
        for w in districts().windows(2) {
            assert!(w[0].0 < w[1].0);
        }
        for (code, _) in districts() {
            assert!(regency_name(&code[..4]).is_some(), "{code}");
        }
        for (code, _) in regencies() {
            assert!(province_name(&code[..2]).is_some(), "{code}");
        }
        let sumsel = regencies_of("16");
        assert!(sumsel.iter().all(|(c, _)| c.starts_with("16")));
        assert!(sumsel.contains(&("1671", "Kota Palembang")));
        let plg = districts_of("1671");
        assert!(plg.iter().all(|(c, _)| c.starts_with("1671")));
        assert_eq!(plg.first(), Some(&("167101", "Ilir Barat Dua")));
    }

    #[test]
    fn parse_tsv_skips_bad_lines() {
        let rows: Vec<_> = parse_tsv("16\tA\nbad\n1x\tB\n\t\n1671\tC\n").collect();
        assert_eq!(rows, vec![("16", "A"), ("1671", "C")]);
    }

    #[test]
    fn villages_file_is_well_formed() {
        let text = include_str!("../../../gen/villages.tsv");
        let mut n = 0;
        for (code, _) in parse_tsv(text) {
            assert_eq!(code.len(), 10);
            assert!(district_name(&code[..6]).is_some(), "{code}");
            n += 1;
        }
        assert_eq!(n, 83_762);
    }
}
