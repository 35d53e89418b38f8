//! KK number (nomor Kartu Keluarga): 16 digits shaped like a NIK, district(6) date(6)
//! serial(4). Checked loosely: digits (spaces, dots and dashes ignored), length 16 and a
//! known province. Unknown regency/district codes are warnings, as for a NIK.

use super::RegionRef;
use super::{digits_ignoring_separators, region, CharClass};
use serde::{Deserialize, Serialize};

pub const KK_LEN: usize = 16;

#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum KkError {
    #[error("a KK number has 16 digits, got {0}")]
    Length(usize),
    #[error("a KK number has only digits, found {class} at position {position}")]
    NonDigit { position: usize, class: CharClass },
    #[error("no province has code {0}")]
    UnknownProvince(String),
}

impl KkError {
    pub fn reason(&self) -> &'static str {
        match self {
            KkError::Length(_) => "length",
            KkError::NonDigit { .. } => "non_digit",
            KkError::UnknownProvince(_) => "unknown_province",
        }
    }
}

/// What a KK number says. Also the JSON of `ikd kk`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KkInfo {
    /// The 16 digits, separators removed.
    pub kk: String,
    pub province: RegionRef,
    pub regency: RegionRef,
    pub district: RegionRef,
    /// "unknown_regency", "unknown_district"
    pub warnings: Vec<String>,
}

/// The 16 digits of a KK number, separators removed, after the loose checks.
pub fn normalize(input: &str) -> Result<String, KkError> {
    parse(input).map(|i| i.kk)
}

/// Checks a typed KK number and names its region.
pub fn parse(input: &str) -> Result<KkInfo, KkError> {
    let kk = digits_ignoring_separators(input).map_err(|b| KkError::NonDigit {
        position: b.position,
        class: b.class,
    })?;
    if kk.len() != KK_LEN {
        return Err(KkError::Length(kk.len()));
    }
    let (p, r, d) = (&kk[0..2], &kk[0..4], &kk[0..6]);
    let province =
        region::province_name(p).ok_or_else(|| KkError::UnknownProvince(p.to_owned()))?;
    let regency = region::regency_name(r);
    let district = region::district_name(d);
    let mut warnings = Vec::new();
    if regency.is_none() {
        warnings.push(super::nik::WARN_UNKNOWN_REGENCY.to_owned());
    }
    if district.is_none() {
        warnings.push(super::nik::WARN_UNKNOWN_DISTRICT.to_owned());
    }
    let rref = |code: &str, name: Option<&str>| RegionRef {
        code: code.to_owned(),
        name: name.map(str::to_owned),
    };
    Ok(KkInfo {
        province: rref(p, Some(province)),
        regency: rref(r, regency),
        district: rref(d, district),
        warnings,
        kk,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn valid_kk() {
        let info = parse("1671 0123 0419 0007").unwrap();
        assert_eq!(info.kk, "1671012304190007");
        assert_eq!(info.province.name.as_deref(), Some("Sumatera Selatan"));
        assert_eq!(info.regency.name.as_deref(), Some("Kota Palembang"));
        assert_eq!(info.district.name.as_deref(), Some("Ilir Barat Dua"));
        assert!(info.warnings.is_empty());
        assert_eq!(
            normalize("16.71.01-230419-0007").unwrap(),
            "1671012304190007"
        );
    }

    #[test]
    fn loose_check_accepts_any_date_and_serial() {
        assert!(parse("1671019999990000").is_ok());
    }

    #[test]
    fn errors() {
        assert_eq!(parse("123"), Err(KkError::Length(3)));
        assert_eq!(parse(""), Err(KkError::Length(0)));
        assert_eq!(
            parse("1671x12304190007"),
            Err(KkError::NonDigit {
                position: 5,
                class: CharClass::Letter
            })
        );
        assert_eq!(
            parse("9971012304190007"),
            Err(KkError::UnknownProvince("99".into()))
        );
    }

    #[test]
    fn warnings() {
        let info = parse("1671992304190007").unwrap();
        assert_eq!(info.warnings, vec!["unknown_district"]);
        assert_eq!(info.district.name, None);
    }

    #[test]
    fn reasons() {
        assert_eq!(parse("12").unwrap_err().reason(), "length");
        assert_eq!(
            parse("9971012304190007").unwrap_err().reason(),
            "unknown_province"
        );
    }
}
