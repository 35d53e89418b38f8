//! The certificate chain in the credentials' `x5c` header: the issuer certificate (for
//! the issuer key) and any intermediates, chaining to a Dukcapil root that verifiers
//! configure as their trust anchor.
//!
//! - A deployment configures its own chain: `issuer_certificates` in the config, a PEM
//!   file with the issuer certificate first, then intermediates (not the root).
//! - The demo makes its own on first start: a "Dukcapil Root CA (demo)" (self-signed,
//!   P-256; its private key is never written, it signs once) and the issuer certificate
//!   for the issuer key and host, written to `dukcapil-root.pem` (what a demo verifier
//!   trusts) and `issuer-chain.pem` in the data dir.

use crate::ServerError;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use ikd_proto::jose::{jwk_point, EcKeyPair};
use std::path::Path;

/// Demo file names in the data dir.
pub const DEMO_ROOT_FILE: &str = "dukcapil-root.pem";
pub const DEMO_CHAIN_FILE: &str = "issuer-chain.pem";

fn err(what: &str) -> ServerError {
    ServerError::Config(format!("issuer certificates: {what}"))
}

/// The base64 (standard) DER of every `CERTIFICATE` block of a PEM text, in order.
pub fn pem_certificates(pem: &str) -> Result<Vec<String>, ServerError> {
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for line in pem.lines().map(str::trim) {
        match (line, current.as_mut()) {
            ("-----BEGIN CERTIFICATE-----", None) => current = Some(String::new()),
            ("-----END CERTIFICATE-----", Some(_)) => {
                let b64 = current.take().unwrap_or_default();
                STANDARD
                    .decode(&b64)
                    .map_err(|_| err("a certificate is not valid base64"))?;
                out.push(b64);
            }
            (l, Some(b)) => b.push_str(l),
            _ => {}
        }
    }
    if current.is_some() || out.is_empty() {
        return Err(err("no complete CERTIFICATE block"));
    }
    Ok(out)
}

/// Checks that the first certificate carries the issuer's public key (its SEC1 point
/// appears in the certificate's SubjectPublicKeyInfo).
fn check_leaf(chain: &[String], issuer_key: &EcKeyPair) -> Result<(), ServerError> {
    let point = jwk_point(&issuer_key.public_jwk()).map_err(|_| err("issuer key"))?;
    let leaf = chain
        .first()
        .and_then(|c| STANDARD.decode(c).ok())
        .ok_or_else(|| err("empty chain"))?;
    if !leaf.windows(point.len()).any(|w| w == point.as_slice()) {
        return Err(err("the first certificate is not for the issuer key"));
    }
    Ok(())
}

/// Loads a configured chain (PEM), checked against the issuer key.
pub fn load_chain(path: &Path, issuer_key: &EcKeyPair) -> Result<Vec<String>, ServerError> {
    let chain = pem_certificates(&std::fs::read_to_string(path)?)?;
    check_leaf(&chain, issuer_key)?;
    Ok(chain)
}

/// The demo chain in `data_dir`, made on first use for `issuer_url`'s host.
pub fn demo_chain(
    data_dir: &Path,
    issuer_key: &EcKeyPair,
    issuer_url: &str,
) -> Result<Vec<String>, ServerError> {
    let chain_path = data_dir.join(DEMO_CHAIN_FILE);
    if chain_path.exists() {
        if let Ok(chain) = load_chain(&chain_path, issuer_key) {
            return Ok(chain);
        }
    }
    let host = url_host(issuer_url);
    let (root_pem, leaf_pem) = make_demo(issuer_key, &host)?;
    std::fs::write(data_dir.join(DEMO_ROOT_FILE), root_pem)?;
    std::fs::write(&chain_path, &leaf_pem)?;
    let chain = pem_certificates(&leaf_pem)?;
    check_leaf(&chain, issuer_key)?;
    Ok(chain)
}

fn url_host(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split('/').next().unwrap_or(rest);
    match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(v6).to_owned(),
        None => authority
            .rsplit_once(':')
            .map_or(authority, |(h, _)| h)
            .to_owned(),
    }
}

/// (root PEM, issuer certificate PEM).
fn make_demo(issuer_key: &EcKeyPair, host: &str) -> Result<(String, String), ServerError> {
    use chrono::Datelike as _;
    use rcgen::{
        BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, KeyPair,
        KeyUsagePurpose,
    };
    let rc = |_| err("cannot make the demo certificates");
    let yesterday = (chrono::Utc::now() - chrono::Duration::days(1)).date_naive();
    let day = |years_on: i32| {
        // 1 January of a later year avoids 29 February.
        let (y, m, d) = if years_on == 0 {
            (yesterday.year(), yesterday.month(), yesterday.day())
        } else {
            (yesterday.year() + years_on, 1, 1)
        };
        rcgen::date_time_ymd(y, m as u8, d as u8)
    };
    let org = "Direktorat Jenderal Kependudukan dan Pencatatan Sipil";

    let root_key = KeyPair::generate().map_err(rc)?;
    let mut root = CertificateParams::new(Vec::<String>::new()).map_err(rc)?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CountryName, "ID");
    dn.push(DnType::OrganizationName, org);
    dn.push(DnType::CommonName, "Dukcapil Root CA (demo)");
    root.distinguished_name = dn;
    root.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    root.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    root.not_before = day(0);
    root.not_after = day(10);
    let root_cert = root.self_signed(&root_key).map_err(rc)?;

    let subject = KeyPair::try_from(issuer_key.pkcs8().expose().as_slice()).map_err(rc)?;
    let mut leaf = CertificateParams::new(vec![host.to_owned()]).map_err(rc)?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CountryName, "ID");
    dn.push(DnType::OrganizationName, org);
    dn.push(DnType::CommonName, "IKD credential issuer (demo)");
    leaf.distinguished_name = dn;
    leaf.is_ca = IsCa::ExplicitNoCa;
    leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    leaf.use_authority_key_identifier_extension = true;
    leaf.not_before = day(0);
    leaf.not_after = day(2);
    let leaf_cert = leaf
        .signed_by(&subject, &root_cert, &root_key)
        .map_err(rc)?;
    Ok((root_cert.pem(), leaf_cert.pem()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn demo_chain_is_made_once_for_the_issuer_key() {
        let dir = tempfile::tempdir().unwrap();
        let key = EcKeyPair::generate().unwrap();
        let chain = demo_chain(dir.path(), &key, "http://127.0.0.1:8080").unwrap();
        assert_eq!(chain.len(), 1);
        let root =
            pem_certificates(&std::fs::read_to_string(dir.path().join(DEMO_ROOT_FILE)).unwrap())
                .unwrap();
        assert_eq!(root.len(), 1);
        assert_ne!(root[0], chain[0]);
        // the same chain on the next start
        assert_eq!(
            demo_chain(dir.path(), &key, "http://127.0.0.1:8080").unwrap(),
            chain
        );
        // a chain for another key is refused when configured
        let other = EcKeyPair::generate().unwrap();
        assert!(load_chain(&dir.path().join(DEMO_CHAIN_FILE), &other).is_err());
        assert!(load_chain(&dir.path().join(DEMO_CHAIN_FILE), &key).is_ok());
    }

    #[test]
    fn hosts_and_pem_parsing() {
        assert_eq!(url_host("https://ikd.example.go.id/x"), "ikd.example.go.id");
        assert_eq!(url_host("http://127.0.0.1:3000"), "127.0.0.1");
        assert_eq!(url_host("http://[::1]:3000"), "::1");
        assert!(pem_certificates("nothing").is_err());
        assert!(pem_certificates("-----BEGIN CERTIFICATE-----\nAAAA\n").is_err());
        assert_eq!(
            pem_certificates(
                "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\nAQID\n-----END CERTIFICATE-----\n"
            )
            .unwrap(),
            ["AAAA", "AQID"]
        );
    }
}
