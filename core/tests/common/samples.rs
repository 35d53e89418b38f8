//! A sample KTP-el and Kartu Keluarga (made-up people) for the SD-JWT tests, the unlock
//! bench and the interoperability tests. Included with `#[path]` (a test file of
//! ikd-core, a bench and a test of ikd-tests share it), so nothing here reaches the
//! library.
#![allow(dead_code)]

use ikd_proto::credential::model::{Anggota, Kk, Ktp};

/// SITI AMINAH's KTP-el, with a tiny stand-in photo (`foto` is base64 JPEG).
pub fn ktp() -> Ktp {
    Ktp {
        nik: "1671234567890001".into(),
        nama: "SITI AMINAH".into(),
        tempat_lahir: "PALEMBANG".into(),
        tanggal_lahir: "1990-08-17".into(),
        jenis_kelamin: "PEREMPUAN".into(),
        golongan_darah: "O".into(),
        alamat: "JL. MERDEKA NO. 12".into(),
        rt_rw: "004/002".into(),
        kel_desa: "20 ILIR D I".into(),
        kecamatan: "ILIR TIMUR I".into(),
        kabupaten_kota: "KOTA PALEMBANG".into(),
        provinsi: "SUMATERA SELATAN".into(),
        agama: "ISLAM".into(),
        status_perkawinan: "KAWIN".into(),
        pekerjaan: "GURU".into(),
        kewarganegaraan: "WNI".into(),
        berlaku_hingga: "SEUMUR HIDUP".into(),
        foto: "/9j/4AAQSkZJRgABAQ==".into(),
        tempat_terbit: "KOTA PALEMBANG".into(),
        tanggal_terbit: "2020-01-02".into(),
    }
}

/// A family member; everything but the name, NIK and relationship is the same for all.
pub fn anggota(nama: &str, nik: &str, hubungan: &str) -> Anggota {
    Anggota {
        nama: nama.into(),
        nik: nik.into(),
        jenis_kelamin: "LAKI-LAKI".into(),
        tempat_lahir: "PALEMBANG".into(),
        tanggal_lahir: "1988-01-01".into(),
        agama: "ISLAM".into(),
        pendidikan: "DIPLOMA IV/STRATA I".into(),
        pekerjaan: "WIRASWASTA".into(),
        golongan_darah: "A".into(),
        status_perkawinan: "KAWIN".into(),
        tanggal_perkawinan: Some("2012-05-05".into()),
        hubungan: hubungan.into(),
        kewarganegaraan: "WNI".into(),
        paspor: None,
        kitap: None,
        ayah: "AYAH".into(),
        ibu: "IBU".into(),
    }
}

/// AHMAD's family: him, SITI AMINAH (the KTP above) and their daughter.
pub fn kk() -> Kk {
    Kk {
        nomor_kk: "1671010101010001".into(),
        kepala_keluarga: "AHMAD".into(),
        alamat: "JL. MERDEKA NO. 12".into(),
        rt_rw: "004/002".into(),
        kel_desa: "20 ILIR D I".into(),
        kecamatan: "ILIR TIMUR I".into(),
        kabupaten_kota: "KOTA PALEMBANG".into(),
        provinsi: "SUMATERA SELATAN".into(),
        kode_pos: "30111".into(),
        tanggal_terbit: "2015-03-04".into(),
        anggota: vec![
            anggota("AHMAD", "1671234567890002", "KEPALA KELUARGA"),
            anggota("SITI AMINAH", "1671234567890001", "ISTRI"),
            anggota("RINA", "1671234567890003", "ANAK"),
        ],
    }
}
