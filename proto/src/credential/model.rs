//! The documents as typed models, with field names as printed on them.
//!
//! Values are as printed (CAPITALS). Dates are ISO `YYYY-MM-DD` in the credential;
//! the UI prints them `DD-MM-YYYY`. `foto` is a base64 (standard alphabet) JPEG.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// KTP-el. Every field is a selectively disclosable claim of the `ktp` credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Ktp {
    pub nik: String,
    pub nama: String,
    pub tempat_lahir: String,
    /// YYYY-MM-DD
    pub tanggal_lahir: String,
    /// LAKI-LAKI | PEREMPUAN
    pub jenis_kelamin: String,
    /// A, B, AB, O (with rhesus where known) or "-"
    pub golongan_darah: String,
    /// Street line, e.g. "JL. MERDEKA NO. 12"
    pub alamat: String,
    /// "004/002"
    pub rt_rw: String,
    pub kel_desa: String,
    pub kecamatan: String,
    /// e.g. "KOTA PALEMBANG" or "KABUPATEN OGAN ILIR"
    pub kabupaten_kota: String,
    /// e.g. "SUMATERA SELATAN" (without the word PROVINSI)
    pub provinsi: String,
    pub agama: String,
    pub status_perkawinan: String,
    pub pekerjaan: String,
    /// WNI | WNA
    pub kewarganegaraan: String,
    /// "SEUMUR HIDUP" or a YYYY-MM-DD date
    pub berlaku_hingga: String,
    /// Base64 JPEG, 3:4.
    pub foto: String,
    /// The regency or city that issued the card, e.g. "KOTA PALEMBANG".
    pub tempat_terbit: String,
    /// YYYY-MM-DD
    pub tanggal_terbit: String,
}

/// One row of the KK (both printed tables).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Anggota {
    pub nama: String,
    pub nik: String,
    pub jenis_kelamin: String,
    pub tempat_lahir: String,
    /// YYYY-MM-DD
    pub tanggal_lahir: String,
    pub agama: String,
    pub pendidikan: String,
    pub pekerjaan: String,
    pub golongan_darah: String,
    pub status_perkawinan: String,
    /// YYYY-MM-DD, or null
    pub tanggal_perkawinan: Option<String>,
    /// Status Hubungan Dalam Keluarga: KEPALA KELUARGA, ISTRI, ANAK, ...
    pub hubungan: String,
    pub kewarganegaraan: String,
    pub paspor: Option<String>,
    pub kitap: Option<String>,
    /// Father's name
    pub ayah: String,
    /// Mother's name
    pub ibu: String,
}

/// Kartu Keluarga. Header fields and each `anggota` entry are selectively disclosable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Kk {
    pub nomor_kk: String,
    pub kepala_keluarga: String,
    pub alamat: String,
    pub rt_rw: String,
    pub kel_desa: String,
    pub kecamatan: String,
    pub kabupaten_kota: String,
    pub provinsi: String,
    pub kode_pos: String,
    /// YYYY-MM-DD
    pub tanggal_terbit: String,
    pub anggota: Vec<Anggota>,
}
