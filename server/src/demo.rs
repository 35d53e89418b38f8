//! Fixed demo residents (always present after `demo`), the demo officer, and seeding.

use crate::auth::{add_officer, AuthError};
use crate::store::{Resident, Store};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DemoRole {
    /// May enrol.
    Eligible,
    /// Refused: under 17 and not married.
    UnderAge,
    /// Refused: KTP-el not recorded.
    NotRecorded,
    /// Refused: deceased.
    Deceased,
}

#[derive(Debug, Clone, Copy)]
pub struct DemoResident {
    pub nik: &'static str,
    pub name: &'static str,
    pub role: DemoRole,
    /// What they are in the demo, for the README.
    pub note: &'static str,
}

pub const DEMO_KK: &str = "1671011502160001";

/// The woman of the demo: wife in the demo family.
pub const SITI: DemoResident = DemoResident {
    nik: "1671014509900001",
    name: "SITI RAHMAWATI",
    role: DemoRole::Eligible,
    note: "wanita, ISTRI di KK 1671011502160001, Palembang",
};
/// The man of the demo: head of the demo family.
pub const BUDI: DemoResident = DemoResident {
    nik: "1671011203880001",
    name: "BUDI SANTOSO",
    role: DemoRole::Eligible,
    note: "pria, KEPALA KELUARGA di KK 1671011502160001",
};
pub const AHMAD: DemoResident = DemoResident {
    nik: "1671012007150001",
    name: "AHMAD FAUZI SANTOSO",
    role: DemoRole::UnderAge,
    note: "anak (lahir 2015), ditolak: belum cukup umur",
};
pub const PUTRI: DemoResident = DemoResident {
    nik: "1671015103180001",
    name: "PUTRI AYU SANTOSO",
    role: DemoRole::UnderAge,
    note: "anak (lahir 2018), ditolak: belum cukup umur",
};
pub const RUDI: DemoResident = DemoResident {
    nik: "1671010101950002",
    name: "RUDI HARTONO",
    role: DemoRole::NotRecorded,
    note: "ditolak: belum perekaman KTP-el",
};
pub const SUPARMAN: DemoResident = DemoResident {
    nik: "1671010505500001",
    name: "SUPARMAN",
    role: DemoRole::Deceased,
    note: "ditolak: meninggal dunia (NIK tidak aktif)",
};

pub const DEMO_RESIDENTS: &[DemoResident] = &[SITI, BUDI, AHMAD, PUTRI, RUDI, SUPARMAN];

pub const DEMO_OFFICER_USERNAME: &str = "petugas";
pub const DEMO_OFFICER_PASSWORD: &str = "petugas123";
pub const DEMO_DESK_ID: &str = "loket-1";
pub const DEMO_DESK_NAME: &str = "Loket 1 Disdukcapil Kota Palembang";

#[allow(clippy::too_many_arguments)]
fn person(
    d: &DemoResident,
    kk: &str,
    birth: &str,
    female: bool,
    hubungan: &str,
    status: &str,
    pekerjaan: &str,
    pendidikan: &str,
    ayah: &str,
    ibu: &str,
) -> Resident {
    Resident {
        nik: d.nik.to_owned(),
        kk: kk.to_owned(),
        nama: d.name.to_owned(),
        tempat_lahir: "PALEMBANG".to_owned(),
        tanggal_lahir: birth.to_owned(),
        jenis_kelamin: if female { "PEREMPUAN" } else { "LAKI-LAKI" }.to_owned(),
        golongan_darah: if female { "O" } else { "A" }.to_owned(),
        alamat: "JL. MERDEKA NO. 12".to_owned(),
        rt_rw: "004/002".to_owned(),
        kel_desa: "26 ILIR".to_owned(),
        kecamatan: "ILIR BARAT DUA".to_owned(),
        kabupaten_kota: "KOTA PALEMBANG".to_owned(),
        provinsi: "SUMATERA SELATAN".to_owned(),
        kode_pos: "30135".to_owned(),
        agama: "ISLAM".to_owned(),
        status_perkawinan: status.to_owned(),
        tanggal_perkawinan: (status == "KAWIN").then(|| "2014-06-21".to_owned()),
        pekerjaan: pekerjaan.to_owned(),
        pendidikan: pendidikan.to_owned(),
        kewarganegaraan: "WNI".to_owned(),
        hubungan: hubungan.to_owned(),
        ayah: ayah.to_owned(),
        ibu: ibu.to_owned(),
        recorded: true,
        deceased: false,
        kk_tanggal_terbit: "2016-02-15".to_owned(),
        ktp_tanggal_terbit: "2012-10-08".to_owned(),
    }
}

/// The fixed demo residents.
pub fn demo_residents() -> Vec<Resident> {
    let mut rudi = person(
        &RUDI,
        "1671010201200001",
        "1995-01-01",
        false,
        "KEPALA KELUARGA",
        "BELUM KAWIN",
        "WIRASWASTA",
        "SLTA/SEDERAJAT",
        "HARTONO",
        "SUMIATI",
    );
    rudi.recorded = false;
    rudi.kk_tanggal_terbit = "2020-01-02".to_owned();
    rudi.tanggal_perkawinan = None;
    rudi.alamat = "JL. SUDIRMAN NO. 45".to_owned();
    let mut suparman = person(
        &SUPARMAN,
        "1671010301100001",
        "1950-05-05",
        false,
        "KEPALA KELUARGA",
        "CERAI MATI",
        "PENSIUNAN",
        "TAMAT SD/SEDERAJAT",
        "KARTO",
        "SAINAH",
    );
    suparman.deceased = true;
    suparman.kk_tanggal_terbit = "2010-01-03".to_owned();
    suparman.tanggal_perkawinan = None;
    suparman.alamat = "LORONG MAWAR NO. 3".to_owned();
    vec![
        person(
            &BUDI,
            DEMO_KK,
            "1988-03-12",
            false,
            "KEPALA KELUARGA",
            "KAWIN",
            "KARYAWAN SWASTA",
            "DIPLOMA IV/STRATA I",
            "SLAMET SANTOSO",
            "SRI WAHYUNI",
        ),
        person(
            &SITI,
            DEMO_KK,
            "1990-09-05",
            true,
            "ISTRI",
            "KAWIN",
            "GURU",
            "DIPLOMA IV/STRATA I",
            "ABDUL RAHMAN",
            "NURHAYATI",
        ),
        person(
            &AHMAD,
            DEMO_KK,
            "2015-07-20",
            false,
            "ANAK",
            "BELUM KAWIN",
            "PELAJAR/MAHASISWA",
            "BELUM TAMAT SD/SEDERAJAT",
            BUDI.name,
            SITI.name,
        ),
        person(
            &PUTRI,
            DEMO_KK,
            "2018-03-11",
            true,
            "ANAK",
            "BELUM KAWIN",
            "BELUM/TIDAK BEKERJA",
            "TIDAK/BELUM SEKOLAH",
            BUDI.name,
            SITI.name,
        ),
        rudi,
        suparman,
    ]
}

/// Seeds `n` synthetic residents if the store has none, adds the fixed demo residents
/// and the demo officer (if missing).
pub fn ensure_demo(store: &dyn Store, n: usize, seed: u64) -> Result<(), AuthError> {
    if store.resident_count()? == 0 {
        store.insert_residents(&crate::siak::seed::generate(n, seed))?;
    }
    store.insert_residents(&demo_residents())?;
    if store.officer(DEMO_OFFICER_USERNAME)?.is_none() {
        add_officer(
            store,
            DEMO_OFFICER_USERNAME,
            DEMO_OFFICER_PASSWORD,
            DEMO_DESK_ID,
            DEMO_DESK_NAME,
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::siak::seed::format_nik;
    use crate::siak::{eligibility, Ineligible};
    use chrono::NaiveDate;

    #[test]
    fn demo_niks_agree_with_their_data_and_roles() {
        let today = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        for r in demo_residents() {
            let birth = NaiveDate::parse_from_str(&r.tanggal_lahir, "%Y-%m-%d").unwrap();
            let female = r.jenis_kelamin == "PEREMPUAN";
            let serial: u32 = r.nik[12..].parse().unwrap();
            assert_eq!(format_nik(&r.nik[..6], birth, female, serial), r.nik);
            let d = DEMO_RESIDENTS.iter().find(|d| d.nik == r.nik).unwrap();
            let expected = match d.role {
                DemoRole::Eligible => Ok(()),
                DemoRole::UnderAge => Err(Ineligible::UnderAge),
                DemoRole::NotRecorded => Err(Ineligible::NotRecorded),
                DemoRole::Deceased => Err(Ineligible::Deceased),
            };
            assert_eq!(eligibility(&r, today), expected, "{}", r.nama);
        }
        assert_eq!(
            demo_residents().iter().filter(|r| r.kk == DEMO_KK).count(),
            4
        );
    }
}
