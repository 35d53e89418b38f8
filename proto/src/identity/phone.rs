//! Indonesian mobile numbers. Accepted as `08…`, `+628…` or `628…` (also `+62 (0)8…`);
//! spaces, dashes, dots and parentheses are ignored. Normalised to `+628…`. The national
//! significant number (after +62) starts with 8 and has 9–12 digits.

use super::CharClass;

pub const MIN_NSN: usize = 9;
pub const MAX_NSN: usize = 12;

/// What is wrong with a phone number. Messages never repeat the number.
#[derive(Debug, thiserror::Error, Clone, Copy, PartialEq, Eq)]
pub enum PhoneError {
    #[error("the phone number is empty")]
    Empty,
    #[error("a phone number has only digits, found {class} at position {position}")]
    InvalidChar { position: usize, class: CharClass },
    #[error("an Indonesian number starts with 08, +62 or 62")]
    NotIndonesian,
    #[error("a mobile number starts with 8 after the country code")]
    NotMobile,
    #[error("a mobile number has 9 to 12 digits after +62, got {0}")]
    Length(usize),
}

impl PhoneError {
    pub fn reason(&self) -> &'static str {
        match self {
            PhoneError::Empty => "empty",
            PhoneError::InvalidChar { .. } => "invalid_char",
            PhoneError::NotIndonesian => "not_indonesian",
            PhoneError::NotMobile => "not_mobile",
            PhoneError::Length(_) => "length",
        }
    }
}

/// Checks an Indonesian mobile number and writes it as `+628…`.
pub fn normalize(input: &str) -> Result<String, PhoneError> {
    let trimmed = input.trim();
    let offset = input[..input.len() - input.trim_start().len()]
        .chars()
        .count();
    let mut digits = String::with_capacity(16);
    let mut plus = false;
    for (i, c) in trimmed.chars().enumerate() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '-' | '.' | '(' | ')' => {}
            '+' if i == 0 => plus = true,
            _ => {
                return Err(PhoneError::InvalidChar {
                    position: offset + i + 1,
                    class: CharClass::of(c),
                })
            }
        }
    }
    if digits.is_empty() {
        return Err(PhoneError::Empty);
    }
    let nsn = if let Some(rest) = digits.strip_prefix("62") {
        // "+62 (0)812…" is a common way to write it.
        rest.strip_prefix('0').unwrap_or(rest)
    } else if plus {
        return Err(PhoneError::NotIndonesian);
    } else if let Some(rest) = digits.strip_prefix('0') {
        rest
    } else {
        return Err(PhoneError::NotIndonesian);
    };
    if !nsn.starts_with('8') {
        return Err(PhoneError::NotMobile);
    }
    if !(MIN_NSN..=MAX_NSN).contains(&nsn.len()) {
        return Err(PhoneError::Length(nsn.len()));
    }
    Ok(format!("+62{nsn}"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn normalises_every_accepted_form() {
        for s in [
            "081234567890",
            "0812-3456-7890",
            "0812.3456.7890",
            "+6281234567890",
            "+62 812 3456 7890",
            "6281234567890",
            "(0812) 3456 7890",
            "+62 (0)812-3456-7890",
            " 081234567890\n",
        ] {
            assert_eq!(normalize(s).unwrap(), "+6281234567890", "{s:?}");
        }
        // shortest and longest national numbers
        assert_eq!(normalize("0812345678").unwrap(), "+62812345678");
        assert_eq!(normalize("0812345678901").unwrap(), "+62812345678901");
    }

    #[test]
    fn errors() {
        use PhoneError::*;
        assert_eq!(normalize(""), Err(Empty));
        assert_eq!(normalize(" - "), Err(Empty));
        assert_eq!(normalize("+"), Err(Empty));
        assert_eq!(
            normalize("0812a4567890"),
            Err(InvalidChar {
                position: 5,
                class: CharClass::Letter
            })
        );
        assert!(matches!(
            normalize("0812+4567890"),
            Err(InvalidChar { position: 5, .. })
        ));
        assert!(matches!(normalize("0812/4567890"), Err(InvalidChar { .. })));
        assert_eq!(normalize("+6581234567"), Err(NotIndonesian));
        assert_eq!(normalize("81234567890"), Err(NotIndonesian));
        assert_eq!(normalize("0211234567"), Err(NotMobile)); // Jakarta landline
        assert_eq!(normalize("+62211234567"), Err(NotMobile));
        assert_eq!(normalize("081234567"), Err(Length(8)));
        assert_eq!(normalize("08123456789012"), Err(Length(13)));
    }

    #[test]
    fn reason_and_message() {
        let e = normalize("0211234567").unwrap_err();
        assert_eq!(e.reason(), "not_mobile");
        assert!(!e.to_string().contains("021"));
    }
}
