//! NIK: 16 digits = province(2) regency(2) district(2) DDMMYY (women: day+40) serial(4).
//! STUB: owned by the identity work.

use crate::view::NikInfo;
use chrono::NaiveDate;

#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum NikError {
    #[error("a NIK has 16 digits, got {0}")]
    Length(usize),
}

/// Parses a typed NIK (spaces, dots and dashes between digits are ignored).
/// `today` decides the century: the latest one that does not put the birth date in the future.
pub fn parse(input: &str, today: NaiveDate) -> Result<NikInfo, NikError> {
    let _ = today;
    Err(NikError::Length(input.len()))
}
