//! The SIAK simulator's synthetic population, generated deterministically from a seed
//! (rand_chacha): families of 1–8 with valid NIKs and KK numbers, real region names,
//! and the documents' vocabularies. No real person.

use super::eligibility::age_on;
use super::vocabulary::{
    FEMALE, GOLONGAN_DARAH, KEWARGANEGARAAN, LAKI, LAST, MALE, PEKERJAAN_DEWASA, PENDIDIKAN,
    PEREMPUAN, STREETS,
};
use crate::store::Resident;
use chrono::{Datelike, Duration, NaiveDate};
use ikd_proto::identity::region;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::{HashMap, HashSet};

/// The date ages and dates are generated against, so that a seed gives the same people
/// whatever day it runs.
pub fn reference_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 1, 1).unwrap_or_default()
}

/// A NIK from its parts (core's rule): district(6) DDMMYY (women: day + 40) serial(4).
pub fn format_nik(district6: &str, birth: NaiveDate, female: bool, serial: u32) -> String {
    ikd_proto::identity::nik::format_nik(district6, birth, female, (serial % 10_000) as u16)
}

/// A KK number: district(6) DDMMYY of issue serial(4).
pub fn format_kk(district6: &str, issued: NaiveDate, serial: u32) -> String {
    format!(
        "{district6}{:02}{:02}{:02}{serial:04}",
        issued.day(),
        issued.month(),
        issued.year().rem_euclid(100)
    )
}

/// A district the generator can place families in.
#[derive(Debug, Clone)]
struct Place {
    district6: String,
    kecamatan: String,
    kabupaten_kota: String,
    provinsi: String,
    villages: Vec<&'static str>,
}

fn places() -> Vec<Place> {
    let mut out = Vec::new();
    for (code, name) in region::districts() {
        let villages = super::villages::villages_of(code);
        if villages.is_empty() || code.len() != 6 {
            continue;
        }
        let (Some(reg), Some(prov)) = (
            region::regency_name(&code[..4]),
            region::province_name(&code[..2]),
        ) else {
            continue;
        };
        out.push(Place {
            district6: (*code).to_owned(),
            kecamatan: name.to_uppercase(),
            kabupaten_kota: reg.to_uppercase(),
            provinsi: prov.to_uppercase(),
            villages,
        });
    }
    if out.is_empty() {
        for f in super::villages::FALLBACK {
            out.push(Place {
                district6: f.0.to_owned(),
                kecamatan: f.1.to_owned(),
                kabupaten_kota: f.2.to_owned(),
                provinsi: f.3.to_owned(),
                villages: f.4.to_vec(),
            });
        }
    }
    out
}

/// The town name of a regency, as written in "tempat lahir" ("KOTA PALEMBANG" -> "PALEMBANG").
pub fn town_of(regency: &str) -> String {
    regency
        .trim_start_matches("KOTA ADMINISTRASI ")
        .trim_start_matches("KABUPATEN ADMINISTRASI ")
        .trim_start_matches("KOTA ")
        .trim_start_matches("KABUPATEN ")
        .trim_start_matches("KAB. ")
        .to_owned()
}

struct Gen {
    rng: ChaCha8Rng,
    used_nik: HashSet<String>,
    nik_serial: HashMap<String, u32>,
    kk_serial: HashMap<String, u32>,
    places: Vec<Place>,
}

impl Gen {
    fn pick<'a>(&mut self, xs: &'a [&'a str]) -> &'a str {
        xs.choose(&mut self.rng).copied().unwrap_or("-")
    }

    fn date_between(&mut self, from: NaiveDate, to: NaiveDate) -> NaiveDate {
        let span = (to - from).num_days().max(1);
        from + Duration::days(self.rng.gen_range(0..span))
    }

    fn nik(&mut self, district6: &str, birth: NaiveDate, female: bool) -> String {
        loop {
            let key = format!("{district6}{birth}{female}");
            let s = self.nik_serial.entry(key).or_insert(1000);
            *s += 1;
            let n = format_nik(district6, birth, female, *s);
            if self.used_nik.insert(n.clone()) {
                return n;
            }
        }
    }

    fn kk(&mut self, district6: &str, issued: NaiveDate) -> String {
        let s = self
            .kk_serial
            .entry(format!("{district6}{issued}"))
            .or_insert(1000);
        *s += 1;
        format_kk(district6, issued, *s)
    }

    fn name(&mut self, female: bool) -> String {
        let first = if female {
            self.pick(FEMALE)
        } else {
            self.pick(MALE)
        };
        let last = self.pick(LAST);
        format!("{first} {last}")
    }

    fn agama(&mut self) -> &'static str {
        let x: f64 = self.rng.gen();
        match x {
            x if x < 0.87 => "ISLAM",
            x if x < 0.94 => "KRISTEN",
            x if x < 0.97 => "KATHOLIK",
            x if x < 0.99 => "HINDU",
            x if x < 0.997 => "BUDHA",
            _ => "KHONGHUCU",
        }
    }

    fn pendidikan(&mut self, age: i32) -> &'static str {
        match age {
            a if a < 5 => PENDIDIKAN[0],
            a if a < 13 => PENDIDIKAN[1],
            a if a < 16 => PENDIDIKAN[2],
            a if a < 19 => PENDIDIKAN[3],
            _ => PENDIDIKAN[self.rng.gen_range(2..PENDIDIKAN.len())],
        }
    }

    fn pekerjaan(&mut self, age: i32, wife: bool) -> &'static str {
        match age {
            a if a < 5 => "BELUM/TIDAK BEKERJA",
            a if a < 22 => "PELAJAR/MAHASISWA",
            a if a >= 65 => {
                if self.rng.gen_bool(0.5) {
                    "PENSIUNAN"
                } else {
                    "BELUM/TIDAK BEKERJA"
                }
            }
            _ if wife && self.rng.gen_bool(0.5) => "MENGURUS RUMAH TANGGA",
            _ => PEKERJAAN_DEWASA[self.rng.gen_range(0..PEKERJAAN_DEWASA.len())],
        }
    }

    fn family(&mut self, max: usize) -> Vec<Resident> {
        let today = reference_date();
        let place = self.places[self.rng.gen_range(0..self.places.len())].clone();
        let village = place.villages[self.rng.gen_range(0..place.villages.len())];
        let alamat = if self.rng.gen_bool(0.8) {
            format!(
                "JL. {} NO. {}",
                self.pick(STREETS),
                self.rng.gen_range(1..200)
            )
        } else {
            format!(
                "LORONG {} NO. {}",
                self.pick(STREETS),
                self.rng.gen_range(1..80)
            )
        };
        let rt_rw = format!(
            "{:03}/{:03}",
            self.rng.gen_range(1..20),
            self.rng.gen_range(1..12)
        );
        let kode_pos = format!("{}", self.rng.gen_range(10110..99999));
        let town = town_of(&place.kabupaten_kota);
        let agama = self.agama();

        let head_birth = self.date_between(
            NaiveDate::from_ymd_opt(1950, 1, 1).unwrap_or(today),
            NaiveDate::from_ymd_opt(1998, 12, 31).unwrap_or(today),
        );
        let married = max > 1 && self.rng.gen_bool(0.85);
        let widow_head = !married && max > 1 && self.rng.gen_bool(0.3);
        let head_female = widow_head;
        let marriage = if married {
            let earliest = head_birth + Duration::days(365 * 21);
            Some(self.date_between(earliest, earliest + Duration::days(365 * 8)))
        } else {
            None
        };
        let kk_issued = self.date_between(
            marriage
                .unwrap_or(head_birth + Duration::days(365 * 20))
                .max(NaiveDate::from_ymd_opt(2005, 1, 1).unwrap_or(today)),
            today,
        );
        let kk = self.kk(&place.district6, kk_issued);
        let mut out = Vec::new();

        let person = |g: &mut Gen,
                      nama: String,
                      birth: NaiveDate,
                      female: bool,
                      hubungan: &str,
                      status: &str,
                      ayah: String,
                      ibu: String,
                      wife: bool| {
            let age = age_on(birth, today);
            let nik = g.nik(&place.district6, birth, female);
            let deceased = g.rng.gen_bool(if age > 65 { 0.15 } else { 0.01 });
            let recorded = age >= 17 && g.rng.gen_bool(0.95);
            let ktp_from = (birth + Duration::days(365 * 17 + 5))
                .max(NaiveDate::from_ymd_opt(2012, 1, 1).unwrap_or(today));
            let ktp_terbit = if ktp_from < today {
                g.date_between(ktp_from, today)
            } else {
                today
            };
            let tempat_lahir = if g.rng.gen_bool(0.8) {
                town.clone()
            } else {
                let other = g.places[g.rng.gen_range(0..g.places.len())].clone();
                town_of(&other.kabupaten_kota)
            };
            Resident {
                nik,
                kk: kk.clone(),
                nama,
                tempat_lahir,
                tanggal_lahir: birth.to_string(),
                jenis_kelamin: if female { PEREMPUAN } else { LAKI }.to_owned(),
                golongan_darah: g.pick(GOLONGAN_DARAH).to_owned(),
                alamat: alamat.clone(),
                rt_rw: rt_rw.clone(),
                kel_desa: village.to_uppercase(),
                kecamatan: place.kecamatan.clone(),
                kabupaten_kota: place.kabupaten_kota.clone(),
                provinsi: place.provinsi.clone(),
                kode_pos: kode_pos.clone(),
                agama: agama.to_owned(),
                status_perkawinan: status.to_owned(),
                tanggal_perkawinan: if status == "KAWIN" {
                    marriage.map(|m| m.to_string())
                } else {
                    None
                },
                pekerjaan: g.pekerjaan(age, wife).to_owned(),
                pendidikan: g.pendidikan(age).to_owned(),
                kewarganegaraan: KEWARGANEGARAAN.to_owned(),
                hubungan: hubungan.to_owned(),
                ayah,
                ibu,
                recorded,
                deceased,
                kk_tanggal_terbit: kk_issued.to_string(),
                ktp_tanggal_terbit: ktp_terbit.to_string(),
            }
        };

        let head_name = self.name(head_female);
        let (ha, hi) = (self.name(false), self.name(true));
        let head_status = if married {
            "KAWIN"
        } else if widow_head {
            "CERAI MATI"
        } else {
            "BELUM KAWIN"
        };
        let mut head = person(
            self,
            head_name.clone(),
            head_birth,
            head_female,
            "KEPALA KELUARGA",
            head_status,
            ha,
            hi,
            false,
        );
        head.deceased = false;
        out.push(head);
        let mut mother = head_name.clone();
        let mut father = head_name.clone();
        if head_female {
            father = self.name(false);
        }
        if married && out.len() < max {
            let wife_birth = self.date_between(
                head_birth - Duration::days(365 * 3),
                head_birth + Duration::days(365 * 6),
            );
            let wife_name = self.name(true);
            let (wa, wi) = (self.name(false), self.name(true));
            let mut w = person(
                self,
                wife_name.clone(),
                wife_birth,
                true,
                "ISTRI",
                "KAWIN",
                wa,
                wi,
                true,
            );
            w.deceased = false;
            mother = wife_name;
            out.push(w);
        }
        if married || widow_head {
            let start =
                marriage.unwrap_or(head_birth + Duration::days(365 * 22)) + Duration::days(300);
            let kids = self
                .rng
                .gen_range(0..=5usize)
                .min(max.saturating_sub(out.len()));
            for _ in 0..kids {
                if start >= today {
                    break;
                }
                let birth = self.date_between(start, today);
                let female = self.rng.gen_bool(0.5);
                let nama = format!(
                    "{} {}",
                    if female {
                        self.pick(FEMALE)
                    } else {
                        self.pick(MALE)
                    },
                    self.pick(LAST)
                );
                let mut c = person(
                    self,
                    nama,
                    birth,
                    female,
                    "ANAK",
                    "BELUM KAWIN",
                    father.clone(),
                    mother.clone(),
                    false,
                );
                c.deceased = self.rng.gen_bool(0.005);
                out.push(c);
            }
        }
        if out.len() < max && self.rng.gen_bool(0.1) {
            let birth = self.date_between(
                head_birth - Duration::days(365 * 35),
                head_birth - Duration::days(365 * 20),
            );
            let female = self.rng.gen_bool(0.6);
            let nama = self.name(female);
            let (pa, pi) = (self.name(false), self.name(true));
            let status = if female { "CERAI MATI" } else { "KAWIN" };
            let mut p = person(
                self,
                nama,
                birth,
                female,
                "ORANG TUA",
                status,
                pa,
                pi,
                false,
            );
            if p.status_perkawinan == "KAWIN" {
                p.tanggal_perkawinan = Some((birth + Duration::days(365 * 23)).to_string());
            }
            out.push(p);
        }
        out
    }
}

/// Generates `n` residents (whole families; the last family is cut to fit), the same
/// for the same seed. NIK serials start at 1001, so they never meet the demo residents'.
pub fn generate(n: usize, seed: u64) -> Vec<Resident> {
    let mut g = Gen {
        rng: ChaCha8Rng::seed_from_u64(seed),
        used_nik: HashSet::new(),
        nik_serial: HashMap::new(),
        kk_serial: HashMap::new(),
        places: places(),
    };
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let max = (n - out.len()).min(8);
        out.extend(g.family(max));
    }
    out.truncate(n);
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::siak::eligibility;
    use crate::siak::vocabulary::{AGAMA, STATUS_PERKAWINAN};

    #[test]
    fn same_seed_same_people_and_niks_agree_with_birth_and_sex() {
        let a = generate(300, 7);
        let b = generate(300, 7);
        assert_eq!(a, b);
        assert_ne!(a, generate(300, 8));
        let niks: HashSet<_> = a.iter().map(|r| r.nik.clone()).collect();
        assert_eq!(niks.len(), 300, "NIKs are unique");
        for r in &a {
            let birth = NaiveDate::parse_from_str(&r.tanggal_lahir, "%Y-%m-%d").unwrap();
            let female = r.jenis_kelamin == PEREMPUAN;
            assert_eq!(
                &r.nik[6..12],
                &format_nik("000000", birth, female, 0)[6..12]
            );
            assert_eq!(&r.nik[..6], &r.kk[..6]);
            assert!(AGAMA.contains(&r.agama.as_str()));
            assert!(STATUS_PERKAWINAN.contains(&r.status_perkawinan.as_str()));
            assert!(PENDIDIKAN.contains(&r.pendidikan.as_str()));
        }
        for r in a.iter().take(50) {
            let d = &r.nik[..6];
            assert!(region::district_name(d).is_some(), "real district {d}");
            assert!(crate::siak::villages::villages_of(d)
                .iter()
                .any(|v| v.to_uppercase() == r.kel_desa));
            assert_eq!(
                region::regency_name(&d[..4]).unwrap().to_uppercase(),
                r.kabupaten_kota
            );
        }
        let refusals = a
            .iter()
            .filter(|r| eligibility(r, reference_date()).is_err())
            .count();
        assert!(refusals > 0 && refusals < 200);
    }

    #[test]
    fn families_have_one_head_and_at_most_eight() {
        let a = generate(500, 1);
        let mut by_kk: HashMap<&str, Vec<&Resident>> = HashMap::new();
        for r in &a {
            by_kk.entry(&r.kk).or_default().push(r);
        }
        for (_, fam) in by_kk {
            assert!(fam.len() <= 8);
            assert_eq!(
                fam.iter()
                    .filter(|r| r.hubungan == "KEPALA KELUARGA")
                    .count(),
                1
            );
        }
    }
}
