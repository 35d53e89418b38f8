//! Identity rules, one module per concept.
pub mod email;
pub mod kk;
pub mod nik;
pub mod phone;
pub mod region;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct RegionRef {
    pub code: String,
    /// None when the code is not in the region table (a warning, not an error).
    pub name: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Sex {
    Male,
    Female,
}

/// What a valid NIK says. Also the JSON of `ikd nik`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct NikInfo {
    /// The 16 digits, separators removed.
    pub nik: String,
    pub province: RegionRef,
    pub regency: RegionRef,
    pub district: RegionRef,
    /// YYYY-MM-DD
    pub birth_date: String,
    pub sex: Sex,
    /// "0001"…"9999"
    pub serial: String,
    /// Stable warning codes, e.g. "unknown_regency", "unknown_district".
    pub warnings: Vec<String>,
}

/// What kind of character was found where a digit was expected. Used in errors
/// instead of the character itself, so that error messages never echo personal data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CharClass {
    /// An ASCII letter.
    Letter,
    /// A digit outside ASCII (e.g. Arabic-Indic or full-width).
    NonAsciiDigit,
    /// Whitespace other than a plain space (tab, newline, …).
    Whitespace,
    /// Anything else: punctuation, symbols, other scripts.
    Other,
}

impl CharClass {
    pub fn of(c: char) -> Self {
        if c.is_ascii_alphabetic() {
            CharClass::Letter
        } else if c.is_numeric() {
            CharClass::NonAsciiDigit
        } else if c.is_whitespace() {
            CharClass::Whitespace
        } else {
            CharClass::Other
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            CharClass::Letter => "letter",
            CharClass::NonAsciiDigit => "non_ascii_digit",
            CharClass::Whitespace => "whitespace",
            CharClass::Other => "other",
        }
    }
}

impl std::fmt::Display for CharClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CharClass::Letter => "a letter",
            CharClass::NonAsciiDigit => "a non-ASCII digit",
            CharClass::Whitespace => "whitespace",
            CharClass::Other => "a symbol",
        })
    }
}

/// A character that is neither an ASCII digit nor an allowed separator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BadChar {
    /// 1-based position in the input, counted in characters.
    pub position: usize,
    pub class: CharClass,
}

/// Keeps the ASCII digits of `input`, skipping spaces, dots and dashes.
/// Whitespace around the whole input (a pasted newline) is ignored too.
/// Any other character is an error (its 1-based position in `input` and its class).
pub(crate) fn digits_ignoring_separators(input: &str) -> Result<String, BadChar> {
    let lead = input.len() - input.trim_start().len();
    let offset = input[..lead].chars().count();
    let mut out = String::with_capacity(16);
    for (i, c) in input.trim().chars().enumerate() {
        match c {
            '0'..='9' => out.push(c),
            ' ' | '.' | '-' => {}
            _ => {
                return Err(BadChar {
                    position: offset + i + 1,
                    class: CharClass::of(c),
                })
            }
        }
    }
    Ok(out)
}
