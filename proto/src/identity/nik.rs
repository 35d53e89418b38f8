//! NIK: 16 digits = province(2) regency(2) district(2) DDMMYY (women: day+40) serial(4).
//!
//! Spaces, dots and dashes between digits are ignored. The first six digits are the
//! district where the number was first issued; a regency or district missing from the
//! current table is only a warning (old NIKs keep codes of districts since split or
//! renumbered), but the province must exist.

use super::{digits_ignoring_separators, region, CharClass};
use super::{NikInfo, RegionRef, Sex};
use chrono::{Datelike, NaiveDate};

/// Number of digits in a NIK.
pub const NIK_LEN: usize = 16;

/// Warning code: the regency (digits 3–4) is not in the region table.
pub const WARN_UNKNOWN_REGENCY: &str = "unknown_regency";
/// Warning code: the district (digits 5–6) is not in the region table.
pub const WARN_UNKNOWN_DISTRICT: &str = "unknown_district";

/// What is wrong with a typed NIK. Messages never repeat the NIK.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum NikError {
    /// Not 16 digits (count after separators are removed).
    #[error("a NIK has 16 digits, got {0}")]
    Length(usize),
    /// A character that is neither a digit nor a space, dot or dash.
    #[error("a NIK has only digits, found {class} at position {position}")]
    NonDigit { position: usize, class: CharClass },
    /// The first two digits are no province.
    #[error("no province has code {0}")]
    UnknownProvince(String),
    /// Digits 7–12 are no date: day 0 or 32–40 or above 71, month 0 or above 12,
    /// or a day the month does not have.
    #[error("the birth date in the NIK is impossible")]
    ImpossibleDate,
    /// The last four digits are 0000; serials start at 0001.
    #[error("the serial of a NIK starts at 0001")]
    SerialZero,
}

impl NikError {
    /// Stable reason code, the `detail.reason` of the UI error.
    pub fn reason(&self) -> &'static str {
        match self {
            NikError::Length(_) => "length",
            NikError::NonDigit { .. } => "non_digit",
            NikError::UnknownProvince(_) => "unknown_province",
            NikError::ImpossibleDate => "impossible_date",
            NikError::SerialZero => "serial_zero",
        }
    }
}

/// The 16 digits of `input`, separators (spaces, dots, dashes) removed. Checks only the
/// characters and the length, not the meaning: use [`parse`] for that.
pub fn normalize(input: &str) -> Result<String, NikError> {
    let digits = digits_ignoring_separators(input).map_err(|b| NikError::NonDigit {
        position: b.position,
        class: b.class,
    })?;
    if digits.len() != NIK_LEN {
        return Err(NikError::Length(digits.len()));
    }
    Ok(digits)
}

/// Parses a typed NIK (spaces, dots and dashes between digits are ignored).
/// `today` decides the century: the latest one that does not put the birth date in the future.
pub fn parse(input: &str, today: NaiveDate) -> Result<NikInfo, NikError> {
    let nik = normalize(input)?;
    // `nik` is 16 ASCII digits from here on, so byte slicing is safe.
    let num = |r: std::ops::Range<usize>| -> u32 {
        nik[r]
            .bytes()
            .fold(0u32, |acc, b| acc * 10 + u32::from(b - b'0'))
    };

    let province_code = &nik[0..2];
    let province = region::province_name(province_code)
        .ok_or_else(|| NikError::UnknownProvince(province_code.to_owned()))?;

    let raw_day = num(6..8);
    let month = num(8..10);
    let yy = num(10..12);
    let (day, sex) = match raw_day {
        1..=31 => (raw_day, Sex::Male),
        41..=71 => (raw_day - 40, Sex::Female),
        _ => return Err(NikError::ImpossibleDate),
    };
    if !(1..=12).contains(&month) {
        return Err(NikError::ImpossibleDate);
    }
    let birth = birth_date(day, month, yy, today).ok_or(NikError::ImpossibleDate)?;

    if num(12..16) == 0 {
        return Err(NikError::SerialZero);
    }

    let mut warnings = Vec::new();
    let regency_code = &nik[0..4];
    let district_code = &nik[0..6];
    let regency = region::regency_name(regency_code);
    if regency.is_none() {
        warnings.push(WARN_UNKNOWN_REGENCY.to_owned());
    }
    let district = region::district_name(district_code);
    if district.is_none() {
        warnings.push(WARN_UNKNOWN_DISTRICT.to_owned());
    }

    Ok(NikInfo {
        province: RegionRef {
            code: province_code.to_owned(),
            name: Some(province.to_owned()),
        },
        regency: RegionRef {
            code: regency_code.to_owned(),
            name: regency.map(str::to_owned),
        },
        district: RegionRef {
            code: district_code.to_owned(),
            name: district.map(str::to_owned),
        },
        birth_date: birth.format("%Y-%m-%d").to_string(),
        sex,
        serial: nik[12..16].to_owned(),
        warnings,
        nik,
    })
}

/// The birth date for DD MM YY: the latest century that does not put it after `today`.
/// None when that day does not exist (30 February, 29 February of a common year).
fn birth_date(day: u32, month: u32, yy: u32, today: NaiveDate) -> Option<NaiveDate> {
    let century = today.year().div_euclid(100) * 100;
    let mut year = century + i32::try_from(yy).ok()?;
    if (year, month, day) > (today.year(), today.month(), today.day()) {
        year -= 100;
    }
    NaiveDate::from_ymd_opt(year, month, day)
}

/// A checked NIK. Its `Debug` shows only the masked form.
#[derive(Clone, PartialEq, Eq)]
pub struct Nik(NikInfo);

impl Nik {
    /// Parses and checks `input` (see [`parse`]).
    pub fn parse(input: &str, today: NaiveDate) -> Result<Self, NikError> {
        parse(input, today).map(Nik)
    }

    /// The 16 digits.
    pub fn as_str(&self) -> &str {
        &self.0.nik
    }

    /// "1671********0001"
    pub fn masked(&self) -> String {
        mask(&self.0.nik)
    }

    pub fn info(&self) -> &NikInfo {
        &self.0
    }

    pub fn into_info(self) -> NikInfo {
        self.0
    }
}

impl std::fmt::Debug for Nik {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Nik").field(&self.masked()).finish()
    }
}

/// Masks a NIK for display: the first four and last four digits stay,
/// "1671014509900001" -> "1671********0001". Separators are removed first; an input
/// that is not 16 digits is masked entirely.
pub fn mask(nik: &str) -> String {
    match normalize(nik) {
        Ok(d) => format!("{}********{}", &d[..4], &d[12..]),
        Err(_) => "*".repeat(NIK_LEN),
    }
}

/// Writes a NIK from its parts (used to create synthetic test residents).
///
/// `province_regency_district` is the 6-digit district code (dots are dropped, so
/// "16.71.01" works too); `serial` should be 1..=9999 and is written as its last four
/// digits. Women get day + 40. The result parses back to the same fields as long as the
/// birth date is less than 100 years before the `today` given to [`parse`].
pub fn format_nik(
    province_regency_district: &str,
    birth: NaiveDate,
    female: bool,
    serial: u16,
) -> String {
    let prd: String = province_regency_district
        .chars()
        .filter(|c| *c != '.')
        .collect();
    let day = birth.day() + if female { 40 } else { 0 };
    format!(
        "{prd}{day:02}{:02}{:02}{:04}",
        birth.month(),
        birth.year().rem_euclid(100),
        serial % 10_000
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    const TODAY: (i32, u32, u32) = (2025, 11, 29);

    fn today() -> NaiveDate {
        d(TODAY.0, TODAY.1, TODAY.2)
    }

    #[test]
    fn palembang_woman() {
        let info = parse("1671014509900001", today()).unwrap();
        assert_eq!(info.nik, "1671014509900001");
        assert_eq!(info.province.name.as_deref(), Some("Sumatera Selatan"));
        assert_eq!(info.regency.name.as_deref(), Some("Kota Palembang"));
        assert_eq!(info.district.name.as_deref(), Some("Ilir Barat Dua"));
        assert_eq!(info.province.code, "16");
        assert_eq!(info.regency.code, "1671");
        assert_eq!(info.district.code, "167101");
        assert_eq!(info.birth_date, "1990-09-05");
        assert_eq!(info.sex, Sex::Female);
        assert_eq!(info.serial, "0001");
        assert!(info.warnings.is_empty());
    }

    #[test]
    fn man_has_plain_day() {
        let info = parse("1671010509900001", today()).unwrap();
        assert_eq!(info.sex, Sex::Male);
        assert_eq!(info.birth_date, "1990-09-05");
    }

    #[test]
    fn women_day_plus_forty_edges() {
        assert_eq!(
            parse("1671014101900002", today()).unwrap().birth_date,
            "1990-01-01"
        );
        let info = parse("1671017101900002", today()).unwrap();
        assert_eq!(info.birth_date, "1990-01-31");
        assert_eq!(info.sex, Sex::Female);
        // 31 + 40 = 71 only in 31-day months
        assert_eq!(
            parse("1671017104900002", today()),
            Err(NikError::ImpossibleDate)
        );
        assert_eq!(
            parse("1671017201900002", today()),
            Err(NikError::ImpossibleDate)
        );
    }

    #[test]
    fn separators_are_ignored() {
        for s in [
            "1671 0145 0990 0001",
            "16.71.01.450990.0001",
            "16-71-01-450990-0001",
            "  1671014509900001\n",
            "1 6.7-1014509900001",
        ] {
            assert_eq!(parse(s, today()).unwrap().nik, "1671014509900001", "{s:?}");
        }
    }

    #[test]
    fn length_errors() {
        assert_eq!(parse("", today()), Err(NikError::Length(0)));
        assert_eq!(parse("167101450990001", today()), Err(NikError::Length(15)));
        assert_eq!(
            parse("16710145099000011", today()),
            Err(NikError::Length(17))
        );
        assert_eq!(parse(" - . ", today()), Err(NikError::Length(0)));
    }

    #[test]
    fn non_digit_errors_say_where_not_what() {
        let e = parse("16710145O9900001", today()).unwrap_err();
        assert_eq!(
            e,
            NikError::NonDigit {
                position: 9,
                class: CharClass::Letter
            }
        );
        assert!(!e.to_string().contains("1671"));
        assert!(matches!(
            parse("1671014509900001/", today()),
            Err(NikError::NonDigit {
                position: 17,
                class: CharClass::Other
            })
        ));
        assert!(matches!(
            parse("1671\t014509900001", today()),
            Err(NikError::NonDigit {
                position: 5,
                class: CharClass::Whitespace
            })
        ));
        assert!(matches!(
            parse("١٦٧١014509900001", today()),
            Err(NikError::NonDigit {
                position: 1,
                class: CharClass::NonAsciiDigit
            })
        ));
        // positions count the leading whitespace that is trimmed
        assert!(matches!(
            parse("  x", today()),
            Err(NikError::NonDigit { position: 3, .. })
        ));
    }

    #[test]
    fn unknown_province_is_an_error() {
        assert_eq!(
            parse("9971014509900001", today()),
            Err(NikError::UnknownProvince("99".into()))
        );
        assert_eq!(
            parse("0071014509900001", today()),
            Err(NikError::UnknownProvince("00".into()))
        );
    }

    #[test]
    fn impossible_dates() {
        for (ddmmyy, why) in [
            ("320190", "day 32"),
            ("000190", "day 0"),
            ("400190", "day 40"),
            ("011390", "month 13"),
            ("010090", "month 0"),
            ("300290", "30 Feb"),
            ("290290", "29 Feb 1990"),
            ("310490", "31 Apr"),
            ("700290", "30 Feb, female"),
            ("990190", "day 99"),
        ] {
            let nik = format!("167101{ddmmyy}0001");
            assert_eq!(parse(&nik, today()), Err(NikError::ImpossibleDate), "{why}");
        }
        // 29 Feb of a leap year is fine
        assert_eq!(
            parse("1671012902960001", today()).unwrap().birth_date,
            "1996-02-29"
        );
        assert_eq!(
            parse("1671012902000001", today()).unwrap().birth_date,
            "2000-02-29"
        );
    }

    #[test]
    fn serial_zero() {
        assert_eq!(
            parse("1671014509900000", today()),
            Err(NikError::SerialZero)
        );
        assert_eq!(parse("1671014509909999", today()).unwrap().serial, "9999");
    }

    #[test]
    fn century_rule() {
        let t = today(); // 2025-11-29
                         // 01-01-25: this year, already past -> 2025
        assert_eq!(
            parse("1671010101250001", t).unwrap().birth_date,
            "2025-01-01"
        );
        // today itself is not the future
        assert_eq!(
            parse("1671012911250001", t).unwrap().birth_date,
            "2025-11-29"
        );
        // tomorrow in '25 would be the future -> 1925
        assert_eq!(
            parse("1671013011250001", t).unwrap().birth_date,
            "1925-11-30"
        );
        // '26 is next year -> 1926
        assert_eq!(
            parse("1671010101260001", t).unwrap().birth_date,
            "1926-01-01"
        );
        // '00 -> 2000, '99 -> 1999
        assert_eq!(
            parse("1671010101000001", t).unwrap().birth_date,
            "2000-01-01"
        );
        assert_eq!(
            parse("1671010101990001", t).unwrap().birth_date,
            "1999-01-01"
        );
        // same NIK, other day: on 2024-12-31 a '25 date is 1925
        assert_eq!(
            parse("1671010101250001", d(2024, 12, 31))
                .unwrap()
                .birth_date,
            "1925-01-01"
        );
        // 29 Feb '24 on a day in 2024 after it -> 2024; before it -> 1924 (leap too)
        assert_eq!(
            parse("1671012902240001", d(2024, 3, 1)).unwrap().birth_date,
            "2024-02-29"
        );
        assert_eq!(
            parse("1671012902240001", d(2024, 2, 28))
                .unwrap()
                .birth_date,
            "1924-02-29"
        );
        // 29 Feb '00 before 29 Feb 2000 would be 1900, a common year
        assert_eq!(
            parse("1671012902000001", d(2000, 2, 28)),
            Err(NikError::ImpossibleDate)
        );
    }

    #[test]
    fn unknown_regency_and_district_are_warnings() {
        let info = parse("1699014509900001", today()).unwrap();
        assert_eq!(info.province.name.as_deref(), Some("Sumatera Selatan"));
        assert_eq!(info.regency.code, "1699");
        assert_eq!(info.regency.name, None);
        assert_eq!(info.district.name, None);
        assert_eq!(info.warnings, vec!["unknown_regency", "unknown_district"]);

        let info = parse("1671994509900001", today()).unwrap();
        assert_eq!(info.regency.name.as_deref(), Some("Kota Palembang"));
        assert_eq!(info.district.code, "167199");
        assert_eq!(info.district.name, None);
        assert_eq!(info.warnings, vec!["unknown_district"]);
    }

    #[test]
    fn error_reasons() {
        let cases = [
            ("123", "length"),
            ("1671a14509900001", "non_digit"),
            ("9971014509900001", "unknown_province"),
            ("1671013209900001", "impossible_date"),
            ("1671014509900000", "serial_zero"),
        ];
        for (nik, reason) in cases {
            let e = parse(nik, today()).unwrap_err();
            assert_eq!(e.reason(), reason);
            assert!(!e.to_string().contains(nik), "{e}");
        }
        assert_eq!(parse("123", today()).unwrap_err(), NikError::Length(3));
        assert_eq!(
            parse("1671a14509900001", today()).unwrap_err(),
            NikError::NonDigit {
                position: 5,
                class: CharClass::Letter
            }
        );
    }

    #[test]
    fn masking() {
        assert_eq!(mask("1671014509900001"), "1671********0001");
        assert_eq!(mask("1671 0145 0990 0001"), "1671********0001");
        assert_eq!(mask("123"), "****************");
        let nik = Nik::parse("1671014509900001", today()).unwrap();
        assert_eq!(nik.masked(), "1671********0001");
        assert_eq!(nik.as_str(), "1671014509900001");
        assert_eq!(format!("{nik:?}"), "Nik(\"1671********0001\")");
        assert_eq!(nik.info().sex, Sex::Female);
    }

    #[test]
    fn format_nik_writes_the_parts() {
        assert_eq!(
            format_nik("167101", d(1990, 9, 5), true, 1),
            "1671014509900001"
        );
        assert_eq!(
            format_nik("16.71.01", d(2003, 12, 31), false, 4321),
            "1671013112034321"
        );
    }
}
