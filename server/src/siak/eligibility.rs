//! Who may hold a KTP-el (and so enrol): alive, 17 or older (or married), and
//! biometrically recorded. The rule a SIAK applies; the simulator and a real adapter
//! answer with the same [`Ineligible`] reasons.

use crate::store::Resident;
use chrono::{Datelike, NaiveDate};

/// Why a resident cannot enrol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ineligible {
    UnderAge,
    NotRecorded,
    Deceased,
}

impl Ineligible {
    pub fn reason(self) -> &'static str {
        match self {
            Self::UnderAge => "under_age",
            Self::NotRecorded => "not_recorded",
            Self::Deceased => "deceased",
        }
    }
    /// The office's message, as shown to the resident.
    pub fn message(self) -> &'static str {
        match self {
            Self::UnderAge => "Belum cukup umur untuk memiliki KTP-el",
            Self::NotRecorded => {
                "Belum melakukan perekaman KTP-el. Silakan datang ke Disdukcapil untuk perekaman."
            }
            Self::Deceased => "NIK tidak aktif",
        }
    }
}

pub fn age_on(birth: NaiveDate, today: NaiveDate) -> i32 {
    let mut age = today.year() - birth.year();
    if (today.month(), today.day()) < (birth.month(), birth.day()) {
        age -= 1;
    }
    age
}

/// Whether a resident may enrol today.
pub fn eligibility(r: &Resident, today: NaiveDate) -> Result<(), Ineligible> {
    if r.deceased {
        return Err(Ineligible::Deceased);
    }
    let birth = NaiveDate::parse_from_str(&r.tanggal_lahir, "%Y-%m-%d").unwrap_or(today);
    if age_on(birth, today) < 17 && r.status_perkawinan == "BELUM KAWIN" {
        return Err(Ineligible::UnderAge);
    }
    if !r.recorded {
        return Err(Ineligible::NotRecorded);
    }
    Ok(())
}
