//! The PIN policy: exactly 6 ASCII digits; not one digit repeated (111111), not an
//! ascending or descending run (123456, 654321, 012345, 987654…), not the resident's
//! birth date as DDMMYY or YYMMDD.

use crate::secret::SecretString;
use chrono::{Datelike, NaiveDate};

/// Number of digits in a PIN.
pub const PIN_LEN: usize = 6;

/// Why a PIN is refused. The stable `reason` goes to the UI in `detail.reason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PinError {
    #[error("the PIN must be exactly 6 digits")]
    Length,
    #[error("the PIN must not be one digit repeated")]
    Repeated,
    #[error("the PIN must not be a run of digits")]
    Sequence,
    #[error("the PIN must not be the birth date")]
    BirthDate,
}

impl PinError {
    pub fn reason(self) -> &'static str {
        match self {
            PinError::Length => "length",
            PinError::Repeated => "repeated",
            PinError::Sequence => "sequence",
            PinError::BirthDate => "birth_date",
        }
    }
}

/// Checks only the shape: exactly 6 ASCII digits.
pub fn check_format(pin: &str) -> Result<(), PinError> {
    if pin.len() == PIN_LEN && pin.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(PinError::Length)
    }
}

/// Checks the whole policy for a new PIN.
pub fn check_policy(pin: &str, birth_date: Option<NaiveDate>) -> Result<(), PinError> {
    check_format(pin)?;
    let d = pin.as_bytes();
    if d.iter().all(|&b| b == d[0]) {
        return Err(PinError::Repeated);
    }
    let steps = d.windows(2).map(|w| i16::from(w[1]) - i16::from(w[0]));
    let steps: Vec<i16> = steps.collect();
    if steps.iter().all(|&s| s == 1) || steps.iter().all(|&s| s == -1) {
        return Err(PinError::Sequence);
    }
    if let Some(b) = birth_date {
        let (dd, mm, yy) = (b.day(), b.month(), b.year().rem_euclid(100));
        let ddmmyy = format!("{dd:02}{mm:02}{yy:02}");
        let yymmdd = format!("{yy:02}{mm:02}{dd:02}");
        if pin == ddmmyy || pin == yymmdd {
            return Err(PinError::BirthDate);
        }
    }
    Ok(())
}

/// A PIN that passed the policy. Zeroized on drop, redacted in Debug.
#[derive(Debug)]
pub struct Pin(SecretString);

impl Pin {
    /// Checks `raw` against the policy.
    pub fn new(raw: &str, birth_date: Option<NaiveDate>) -> Result<Self, PinError> {
        check_policy(raw, birth_date)?;
        Ok(Self(SecretString::new(raw.to_owned())))
    }

    /// Takes ownership of an already-secret string and checks it.
    pub fn from_secret(raw: SecretString, birth_date: Option<NaiveDate>) -> Result<Self, PinError> {
        check_policy(raw.expose(), birth_date)?;
        Ok(Self(raw))
    }

    /// The digits, for the KDF only.
    pub fn expose(&self) -> &str {
        self.0.expose()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::error::{ErrorCode, UiError};
    use proptest::prelude::*;

    #[test]
    fn shapes() {
        for bad in [
            "",
            "12345",
            "1234567",
            "12a456",
            "１２３４５６",
            " 12345",
            "12345\n",
        ] {
            assert_eq!(check_policy(bad, None), Err(PinError::Length), "{bad:?}");
        }
        assert_eq!(check_policy("135790", None), Ok(()));
    }

    #[test]
    fn repeated_and_sequences() {
        for p in ["000000", "111111", "999999"] {
            assert_eq!(check_policy(p, None), Err(PinError::Repeated));
        }
        for p in [
            "012345", "123456", "234567", "456789", "987654", "654321", "543210",
        ] {
            assert_eq!(check_policy(p, None), Err(PinError::Sequence), "{p}");
        }
        // Wrap-around and partial runs are allowed.
        for p in ["890123", "123457", "112233", "121212"] {
            assert_eq!(check_policy(p, None), Ok(()), "{p}");
        }
    }

    #[test]
    fn birth_date_both_orders() {
        let b = NaiveDate::from_ymd_opt(1990, 8, 17);
        assert_eq!(check_policy("170890", b), Err(PinError::BirthDate));
        assert_eq!(check_policy("900817", b), Err(PinError::BirthDate));
        assert_eq!(check_policy("170890", None), Ok(()));
        assert_eq!(check_policy("081790", b), Ok(()));
        let y2k = NaiveDate::from_ymd_opt(2005, 1, 2);
        assert_eq!(check_policy("020105", y2k), Err(PinError::BirthDate));
        assert_eq!(check_policy("050102", y2k), Err(PinError::BirthDate));
    }

    #[test]
    fn ui_error_has_reason() {
        let e: UiError = PinError::Sequence.into();
        assert_eq!(e.code, ErrorCode::PinPolicy);
        assert_eq!(e.detail.unwrap()["reason"], "sequence");
    }

    #[test]
    fn pin_debug_is_redacted() {
        let p = Pin::new("135790", None).unwrap();
        assert!(!format!("{p:?}").contains("135790"));
        assert_eq!(p.expose(), "135790");
    }

    proptest! {
        #[test]
        fn never_panics(s in ".{0,12}") {
            let _ = check_policy(&s, NaiveDate::from_ymd_opt(2000, 2, 29));
        }

        #[test]
        fn accepted_pins_are_six_digits(s in "[0-9]{6}") {
            if check_policy(&s, None).is_ok() {
                let b = s.as_bytes();
                prop_assert!(b.iter().any(|&c| c != b[0]));
            }
        }
    }
}
