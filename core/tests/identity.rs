//! Property tests for the NIK rules.
#![allow(clippy::unwrap_used)]

use chrono::{Datelike, Duration, NaiveDate};
use ikd_core::identity::nik::{self, NikError};
use ikd_core::identity::{kk, phone, region};
use ikd_core::view::Sex;
use proptest::prelude::*;

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// A district index, a "today" in 2000–2099, a birth 0..36_000 days (< 100 years)
/// before it, a sex and a serial.
fn valid_parts() -> impl Strategy<Value = (usize, NaiveDate, NaiveDate, bool, u16)> {
    (
        0..region::districts().len(),
        0i64..36_500,
        0i64..36_000,
        any::<bool>(),
        1u16..=9999,
    )
        .prop_map(|(i, t, age, female, serial)| {
            let today = date(2000, 1, 1) + Duration::days(t);
            (i, today, today - Duration::days(age), female, serial)
        })
}

fn with_separators(nik: &str, seps: &[(usize, usize)]) -> String {
    // seps: (gap index 0..=16, separator choice); several may share a gap
    let mut out = String::new();
    for (i, c) in nik.chars().enumerate() {
        for &(gap, which) in seps {
            if gap == i {
                out.push([' ', '.', '-'][which % 3]);
            }
        }
        out.push(c);
    }
    for &(gap, which) in seps {
        if gap >= nik.len() {
            out.push([' ', '.', '-'][which % 3]);
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn format_then_parse_round_trips((i, today, birth, female, serial) in valid_parts()) {
        let (code, name) = region::districts()[i];
        let nik = nik::format_nik(code, birth, female, serial);
        prop_assert_eq!(nik.len(), 16);
        let info = nik::parse(&nik, today).unwrap();
        prop_assert_eq!(&info.nik, &nik);
        prop_assert_eq!(info.district.code.as_str(), code);
        prop_assert_eq!(info.district.name.as_deref(), Some(name));
        prop_assert_eq!(info.regency.name.as_deref(), region::regency_name(&code[..4]));
        prop_assert_eq!(info.province.name.as_deref(), region::province_name(&code[..2]));
        prop_assert_eq!(info.birth_date, birth.format("%Y-%m-%d").to_string());
        prop_assert_eq!(info.sex, if female { Sex::Female } else { Sex::Male });
        prop_assert_eq!(info.serial, format!("{serial:04}"));
        prop_assert!(info.warnings.is_empty());
        prop_assert_eq!(nik::mask(&nik), format!("{}********{:04}", &code[..4], serial));
        // the KK check accepts the same shape
        prop_assert!(kk::parse(&nik).is_ok());
    }

    #[test]
    fn separators_anywhere_are_ignored(
        (i, today, birth, female, serial) in valid_parts(),
        seps in proptest::collection::vec((0usize..=16, 0usize..3), 0..12),
    ) {
        let nik = nik::format_nik(region::districts()[i].0, birth, female, serial);
        let typed = with_separators(&nik, &seps);
        prop_assert_eq!(nik::parse(&typed, today).unwrap(), nik::parse(&nik, today).unwrap());
        prop_assert_eq!(nik::normalize(&typed).unwrap(), nik);
    }

    #[test]
    fn arbitrary_strings_never_panic(s in ".{0,40}", t in 0i64..80_000) {
        let today = date(1900, 1, 1) + Duration::days(t);
        let _ = nik::parse(&s, today);
        let _ = nik::mask(&s);
        let _ = kk::parse(&s);
        let _ = phone::normalize(&s);
        let _ = ikd_core::identity::email::normalize(&s);
    }

    #[test]
    fn digit_strings_never_panic_and_errors_are_typed(s in "[0-9]{16}", t in 0i64..80_000) {
        let today = date(1900, 1, 1) + Duration::days(t);
        match nik::parse(&s, today) {
            Ok(info) => {
                prop_assert_eq!(info.nik, s);
                let birth = NaiveDate::parse_from_str(&info.birth_date, "%Y-%m-%d").unwrap();
                prop_assert!(birth <= today);
                prop_assert!(birth > today - Duration::days(36_525 + 1));
            }
            Err(e) => prop_assert!(matches!(
                e,
                NikError::UnknownProvince(_) | NikError::ImpossibleDate | NikError::SerialZero
            )),
        }
    }

    #[test]
    fn phone_forms_agree(nsn in "8[0-9]{8,11}") {
        let want = format!("+62{nsn}");
        prop_assert_eq!(phone::normalize(&format!("0{nsn}")).unwrap(), want.clone());
        prop_assert_eq!(phone::normalize(&format!("62{nsn}")).unwrap(), want.clone());
        prop_assert_eq!(phone::normalize(&format!("+62 {nsn}")).unwrap(), want);
    }
}

#[test]
fn century_near_today() {
    let today = date(2025, 11, 29);
    // day before, same day, day after today's date in '25
    let f = |d: NaiveDate| nik::format_nik("167101", d, false, 7);
    let got = |d: NaiveDate| nik::parse(&f(d), today).unwrap().birth_date;
    assert_eq!(got(date(2025, 11, 28)), "2025-11-28");
    assert_eq!(got(date(2025, 11, 29)), "2025-11-29");
    assert_eq!(got(date(2025, 11, 30)), "1925-11-30");
    assert_eq!(got(date(1925, 11, 30)), "1925-11-30");
    assert_eq!(date(1925, 11, 30).year() % 100, 25);
}
