//! KTP and KK credential models from SIAK records.

use crate::crypto::b64;
use crate::siak::vocabulary::BERLAKU_HINGGA;
use crate::store::Resident;
use ikd_proto::credential::model::{Anggota, Kk, Ktp};

/// The KTP of a resident, with their SIAK `photo` (JPEG).
pub fn ktp_of(r: &Resident, photo: &[u8]) -> Ktp {
    Ktp {
        nik: r.nik.clone(),
        nama: r.nama.clone(),
        tempat_lahir: r.tempat_lahir.clone(),
        tanggal_lahir: r.tanggal_lahir.clone(),
        jenis_kelamin: r.jenis_kelamin.clone(),
        golongan_darah: r.golongan_darah.clone(),
        alamat: r.alamat.clone(),
        rt_rw: r.rt_rw.clone(),
        kel_desa: r.kel_desa.clone(),
        kecamatan: r.kecamatan.clone(),
        kabupaten_kota: r.kabupaten_kota.clone(),
        provinsi: r.provinsi.clone(),
        agama: r.agama.clone(),
        status_perkawinan: r.status_perkawinan.clone(),
        pekerjaan: r.pekerjaan.clone(),
        kewarganegaraan: r.kewarganegaraan.clone(),
        berlaku_hingga: BERLAKU_HINGGA.to_owned(),
        foto: b64(photo),
        tempat_terbit: r.kabupaten_kota.clone(),
        tanggal_terbit: r.ktp_tanggal_terbit.clone(),
    }
}

pub fn anggota_of(r: &Resident) -> Anggota {
    Anggota {
        nama: r.nama.clone(),
        nik: r.nik.clone(),
        jenis_kelamin: r.jenis_kelamin.clone(),
        tempat_lahir: r.tempat_lahir.clone(),
        tanggal_lahir: r.tanggal_lahir.clone(),
        agama: r.agama.clone(),
        pendidikan: r.pendidikan.clone(),
        pekerjaan: r.pekerjaan.clone(),
        golongan_darah: r.golongan_darah.clone(),
        status_perkawinan: r.status_perkawinan.clone(),
        tanggal_perkawinan: r.tanggal_perkawinan.clone(),
        hubungan: r.hubungan.clone(),
        kewarganegaraan: r.kewarganegaraan.clone(),
        paspor: None,
        kitap: None,
        ayah: r.ayah.clone(),
        ibu: r.ibu.clone(),
    }
}

/// The KK of a family (head first); `None` for an empty family.
pub fn kk_of(family: &[Resident]) -> Option<Kk> {
    let first = family.first()?;
    let head = family
        .iter()
        .find(|r| r.hubungan == "KEPALA KELUARGA")
        .unwrap_or(first);
    Some(Kk {
        nomor_kk: head.kk.clone(),
        kepala_keluarga: head.nama.clone(),
        alamat: head.alamat.clone(),
        rt_rw: head.rt_rw.clone(),
        kel_desa: head.kel_desa.clone(),
        kecamatan: head.kecamatan.clone(),
        kabupaten_kota: head.kabupaten_kota.clone(),
        provinsi: head.provinsi.clone(),
        kode_pos: head.kode_pos.clone(),
        tanggal_terbit: head.kk_tanggal_terbit.clone(),
        anggota: family.iter().map(anggota_of).collect(),
    })
}
