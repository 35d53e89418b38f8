//! The demo's own PKI (a relying-party CA and the verifier's leaf certificate), made
//! fresh at start, and the ready-made requests of the "Verifikasi identitas" page.

use ikd_proto::dcql::DcqlQuery;
use ikd_proto::jose::EcKeyPair;
use ikd_proto::oid4vp::RequestSigner;
use ikd_proto::secret::SecretBytes;
use ikd_proto::wire::{KK_VCT, KTP_VCT};
use ikd_proto::x509::{self, Cert};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, PKCS_ECDSA_P256_SHA256};
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("certificate generation failed: {0}")]
    Generate(String),
}

fn g<E: std::fmt::Display>(e: E) -> PkiError {
    PkiError::Generate(e.to_string())
}

/// A CA and a leaf signed by it, for one relying party.
pub struct DemoPki {
    /// The CA certificate as PEM: what a wallet is pointed at (`IKD_RP_TRUST_ANCHORS`).
    pub ca_pem: String,
    pub signer: RequestSigner,
}

fn validity(p: &mut CertificateParams) {
    let now = chrono::Utc::now();
    let ymd = |d: chrono::DateTime<chrono::Utc>| {
        use chrono::Datelike as _;
        rcgen::date_time_ymd(d.year(), d.month() as u8, d.day() as u8)
    };
    p.not_before = ymd(now - chrono::Duration::days(1));
    p.not_after = ymd(now + chrono::Duration::days(825));
}

/// Makes a CA named `ca_name` and a leaf for `org` with the SAN `dns`.
pub fn generate(ca_name: &str, org: &str, dns: &str) -> Result<DemoPki, PkiError> {
    let ca_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(g)?;
    let mut cp = CertificateParams::new(Vec::<String>::new()).map_err(g)?;
    cp.distinguished_name
        .push(DnType::OrganizationName, ca_name);
    cp.distinguished_name.push(DnType::CommonName, ca_name);
    cp.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    validity(&mut cp);
    let ca = cp.self_signed(&ca_key).map_err(g)?;
    let leaf_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(g)?;
    let mut lp = CertificateParams::new(vec![dns.to_owned()]).map_err(g)?;
    lp.distinguished_name.push(DnType::OrganizationName, org);
    lp.distinguished_name.push(DnType::CommonName, dns);
    validity(&mut lp);
    let leaf = lp.signed_by(&leaf_key, &ca, &ca_key).map_err(g)?;
    let key = EcKeyPair::from_pkcs8(SecretBytes::new(leaf_key.serialize_der())).map_err(g)?;
    let leaf = Cert::from_der(leaf.der()).map_err(g)?;
    let ca_cert = Cert::from_der(ca.der()).map_err(g)?;
    Ok(DemoPki {
        ca_pem: x509::to_pem(&ca_cert),
        signer: RequestSigner {
            key,
            chain: vec![leaf, ca_cert],
        },
    })
}

/// A ready request of the demo page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    Identity,
    Age17,
    Family,
}

impl Preset {
    pub const ALL: [Preset; 3] = [Preset::Identity, Preset::Age17, Preset::Family];

    pub fn id(self) -> &'static str {
        match self {
            Preset::Identity => "identitas",
            Preset::Age17 => "usia17",
            Preset::Family => "kk",
        }
    }

    pub fn from_id(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.id() == s)
    }

    pub fn title(self) -> &'static str {
        match self {
            Preset::Identity => "Identitas lengkap (nama, NIK, foto, alamat)",
            Preset::Age17 => "Usia 17+ (tanpa tanggal lahir) dan foto",
            Preset::Family => "Kartu Keluarga (nomor KK dan anggota)",
        }
    }

    pub fn purpose(self) -> &'static str {
        match self {
            Preset::Identity => "Pembukaan rekening: verifikasi identitas nasabah",
            Preset::Age17 => "Pemeriksaan usia minimum 17 tahun",
            Preset::Family => "Pendaftaran layanan keluarga",
        }
    }

    pub fn query(self) -> DcqlQuery {
        let v = match self {
            Preset::Identity => json!({"credentials": [{
                "id": "ktp", "format": "dc+sd-jwt", "meta": {"vct_values": [KTP_VCT]},
                "claims": [{"path": ["nama"]}, {"path": ["nik"]}, {"path": ["foto"]},
                           {"path": ["alamat"]}, {"path": ["rt_rw"]}, {"path": ["kel_desa"]},
                           {"path": ["kecamatan"]}, {"path": ["kabupaten_kota"]},
                           {"path": ["provinsi"]}]}]}),
            Preset::Age17 => json!({"credentials": [{
                "id": "ktp", "format": "dc+sd-jwt", "meta": {"vct_values": [KTP_VCT]},
                "claims": [{"path": ["age_equal_or_over", "17"], "values": [true]},
                           {"path": ["foto"]}]}]}),
            Preset::Family => json!({"credentials": [{
                "id": "kk", "format": "dc+sd-jwt", "meta": {"vct_values": [KK_VCT]},
                "claims": [{"path": ["nomor_kk"]}, {"path": ["anggota", null, "nama"]},
                           {"path": ["anggota", null, "hubungan"]}]}]}),
        };
        // The presets are fixed and valid.
        serde_json::from_value(v).unwrap_or(DcqlQuery {
            credentials: Vec::new(),
            credential_sets: None,
        })
    }
}
