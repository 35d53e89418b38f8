//! NIK, KK, email and phone parsers on arbitrary UTF-8: typed errors only, and the
//! normalisers' outputs keep their promises.
#![no_main]

use chrono::NaiveDate;
use ikd_core::identity::{email, kk, nik, phone};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };

    // NIK: normalize gives 16 ASCII digits; parse accepts only what normalize accepts
    // and reads the normalised digits the same way.
    let norm = nik::normalize(s);
    if let Ok(d) = &norm {
        assert_eq!(d.len(), 16);
        assert!(d.bytes().all(|b| b.is_ascii_digit()));
    }
    for today in [
        ikd_fuzz::today(),
        NaiveDate::from_ymd_opt(2000, 2, 29).expect("leap day"),
    ] {
        let parsed = nik::parse(s, today);
        if parsed.is_ok() {
            assert!(norm.is_ok(), "parse accepted what normalize refused");
        }
        if let Ok(d) = &norm {
            assert_eq!(
                nik::parse(d, today).is_ok(),
                parsed.is_ok(),
                "parse differs on the normalised NIK"
            );
        }
        let _ = nik::Nik::parse(s, today);
    }
    let m = nik::mask(s);
    assert_eq!(m.chars().count(), 16);

    // KK.
    if let Ok(d) = kk::normalize(s) {
        assert_eq!(d.len(), 16);
        assert!(d.bytes().all(|b| b.is_ascii_digit()));
    }
    let _ = kk::parse(s);

    // Email: a normalised address normalises to itself.
    if let Ok(e) = email::normalize(s) {
        assert_eq!(email::normalize(&e).ok().as_deref(), Some(e.as_str()));
    }
    let _ = email::mask(s);

    // Phone: `+628…`, and normalising again changes nothing.
    if let Ok(p) = phone::normalize(s) {
        assert!(p.starts_with("+628"), "phone not in +628 form");
        assert_eq!(phone::normalize(&p).ok().as_deref(), Some(p.as_str()));
    }
});
