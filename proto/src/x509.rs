//! X.509 certificate chains, ES256 only: a relying party's `x5c` in an OpenID4VP request
//! object, and an issuer's `x5c` in an SD-JWT VC header.
//!
//! What is checked: DER structure; signature algorithm `ecdsa-with-SHA256` over a P-256
//! key (nothing else is accepted); each certificate signed by the next; every issuing
//! certificate a CA (`basicConstraints cA`); validity at `now` for every certificate and
//! for the anchor; no unknown critical extension; a chain of at most [`MAX_CHAIN`]
//! certificates that ends at (or is signed by) one of the configured trust anchors.
//! Not checked: revocation of the certificates (no CRL/OCSP), name constraints, policies.

use crate::jose::b64u_encode;
use crate::wire::EcJwk;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use der::asn1::ObjectIdentifier;
use der::{Decode, Encode, Tag, Tagged};
use ring::signature::{UnparsedPublicKey, ECDSA_P256_SHA256_ASN1};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{BasicConstraints, SubjectAltName};
use x509_cert::Certificate;

/// Longest chain accepted (leaf, intermediates, root).
pub const MAX_CHAIN: usize = 5;
/// Largest certificate accepted, in bytes of DER.
pub const MAX_CERT_LEN: usize = 16 * 1024;

const OID_ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const OID_EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const OID_P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const OID_SAN: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.17");
const OID_BASIC_CONSTRAINTS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.19");
const OID_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.15");
const OID_EXT_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37");
const OID_CN: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.3");
const OID_O: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.10");

/// Critical extensions we understand (others make the certificate unusable).
const KNOWN_CRITICAL: &[ObjectIdentifier] = &[
    OID_SAN,
    OID_BASIC_CONSTRAINTS,
    OID_KEY_USAGE,
    OID_EXT_KEY_USAGE,
];

#[derive(Debug, thiserror::Error, PartialEq, Eq, Clone)]
pub enum X509Error {
    #[error("malformed certificate")]
    Malformed,
    #[error("unsupported certificate algorithm (only ES256 on P-256)")]
    UnsupportedAlg,
    #[error("certificate signature invalid")]
    BadSignature,
    #[error("certificate expired or not yet valid")]
    Validity,
    #[error("issuing certificate is not a CA")]
    NotCa,
    #[error("unknown critical extension")]
    UnknownCritical,
    #[error("certificate chain empty or too long")]
    ChainLength,
    #[error("certificate chain does not end at a trust anchor")]
    Untrusted,
    #[error("malformed PEM")]
    Pem,
}

/// One parsed certificate and its DER bytes.
#[derive(Clone)]
pub struct Cert {
    der: Vec<u8>,
    cert: Certificate,
}

impl std::fmt::Debug for Cert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cert")
            .field("subject", &self.cert.tbs_certificate.subject.to_string())
            .finish()
    }
}

impl PartialEq for Cert {
    fn eq(&self, other: &Self) -> bool {
        self.der == other.der
    }
}

fn attr_text(value: &der::Any) -> Option<String> {
    match value.tag() {
        Tag::Utf8String | Tag::PrintableString | Tag::Ia5String => {
            String::from_utf8(value.value().to_vec()).ok()
        }
        _ => None,
    }
}

impl Cert {
    /// Parses one DER certificate.
    pub fn from_der(der: &[u8]) -> Result<Self, X509Error> {
        if der.is_empty() || der.len() > MAX_CERT_LEN {
            return Err(X509Error::Malformed);
        }
        let cert = Certificate::from_der(der).map_err(|_| X509Error::Malformed)?;
        Ok(Self {
            der: der.to_vec(),
            cert,
        })
    }

    /// Parses an `x5c` entry (standard base64 of the DER, RFC 7515 §4.1.6).
    pub fn from_x5c(entry: &str) -> Result<Self, X509Error> {
        let der = STANDARD.decode(entry).map_err(|_| X509Error::Malformed)?;
        Self::from_der(&der)
    }

    /// Parses an `x5c` JSON array into certificates, leaf first.
    pub fn chain_from_x5c(v: &serde_json::Value) -> Result<Vec<Self>, X509Error> {
        let arr = v.as_array().ok_or(X509Error::Malformed)?;
        if arr.is_empty() || arr.len() > MAX_CHAIN {
            return Err(X509Error::ChainLength);
        }
        arr.iter()
            .map(|e| {
                e.as_str()
                    .ok_or(X509Error::Malformed)
                    .and_then(Self::from_x5c)
            })
            .collect()
    }

    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The `x5c` form of this certificate (standard base64).
    pub fn to_x5c(&self) -> String {
        STANDARD.encode(&self.der)
    }

    /// base64url(SHA-256(DER)): the value of an OpenID4VP `x509_hash:` client identifier.
    pub fn sha256_b64u(&self) -> String {
        b64u_encode(ring::digest::digest(&ring::digest::SHA256, &self.der))
    }

    fn subject_attr(&self, oid: ObjectIdentifier) -> Option<String> {
        self.cert
            .tbs_certificate
            .subject
            .0
            .iter()
            .flat_map(|rdn| rdn.0.iter())
            .find(|atv| atv.oid == oid)
            .and_then(|atv| attr_text(&atv.value))
    }

    /// The subject's organisation (`O`), if any.
    pub fn organization(&self) -> Option<String> {
        self.subject_attr(OID_O)
    }

    /// The subject's common name (`CN`), if any.
    pub fn common_name(&self) -> Option<String> {
        self.subject_attr(OID_CN)
    }

    fn extension(&self, oid: ObjectIdentifier) -> Option<&[u8]> {
        self.cert
            .tbs_certificate
            .extensions
            .as_ref()?
            .iter()
            .find(|e| e.extn_id == oid)
            .map(|e| e.extn_value.as_bytes())
    }

    /// The `dNSName` entries of the subject alternative name extension.
    pub fn dns_names(&self) -> Vec<String> {
        let Some(bytes) = self.extension(OID_SAN) else {
            return Vec::new();
        };
        let Ok(san) = SubjectAltName::from_der(bytes) else {
            return Vec::new();
        };
        san.0
            .iter()
            .filter_map(|g| match g {
                GeneralName::DnsName(s) => Some(s.to_string()),
                _ => None,
            })
            .collect()
    }

    fn is_ca(&self) -> bool {
        self.extension(OID_BASIC_CONSTRAINTS)
            .and_then(|b| BasicConstraints::from_der(b).ok())
            .is_some_and(|bc| bc.ca)
    }

    fn check_critical(&self) -> Result<(), X509Error> {
        let exts = self.cert.tbs_certificate.extensions.iter().flatten();
        for e in exts {
            if e.critical && !KNOWN_CRITICAL.contains(&e.extn_id) {
                return Err(X509Error::UnknownCritical);
            }
        }
        Ok(())
    }

    fn check_validity(&self, now: DateTime<Utc>) -> Result<(), X509Error> {
        let v = &self.cert.tbs_certificate.validity;
        let nb = v.not_before.to_unix_duration().as_secs();
        let na = v.not_after.to_unix_duration().as_secs();
        let now = u64::try_from(now.timestamp()).map_err(|_| X509Error::Validity)?;
        if now < nb || now > na {
            return Err(X509Error::Validity);
        }
        Ok(())
    }

    /// The uncompressed SEC1 point of the subject's P-256 key.
    fn public_point(&self) -> Result<Vec<u8>, X509Error> {
        let spki = &self.cert.tbs_certificate.subject_public_key_info;
        if spki.algorithm.oid != OID_EC_PUBLIC_KEY {
            return Err(X509Error::UnsupportedAlg);
        }
        let curve = spki
            .algorithm
            .parameters
            .as_ref()
            .and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
        if curve != Some(OID_P256) {
            return Err(X509Error::UnsupportedAlg);
        }
        let point = spki
            .subject_public_key
            .as_bytes()
            .ok_or(X509Error::Malformed)?;
        if point.len() != 65 || point[0] != 0x04 {
            return Err(X509Error::UnsupportedAlg);
        }
        Ok(point.to_vec())
    }

    /// The subject's key as a JWK (P-256 only).
    pub fn public_jwk(&self) -> Result<EcJwk, X509Error> {
        let p = self.public_point()?;
        Ok(EcJwk {
            kty: "EC".into(),
            crv: "P-256".into(),
            x: b64u_encode(&p[1..33]),
            y: b64u_encode(&p[33..65]),
        })
    }

    /// Checks that `issuer` signed this certificate (ES256) and names it as issuer.
    pub fn verify_signed_by(&self, issuer: &Cert) -> Result<(), X509Error> {
        if self.cert.tbs_certificate.issuer != issuer.cert.tbs_certificate.subject {
            return Err(X509Error::BadSignature);
        }
        if self.cert.signature_algorithm.oid != OID_ECDSA_SHA256
            || self.cert.tbs_certificate.signature.oid != OID_ECDSA_SHA256
        {
            return Err(X509Error::UnsupportedAlg);
        }
        let tbs = self
            .cert
            .tbs_certificate
            .to_der()
            .map_err(|_| X509Error::Malformed)?;
        let sig = self.cert.signature.as_bytes().ok_or(X509Error::Malformed)?;
        let key = issuer.public_point()?;
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, &key)
            .verify(&tbs, sig)
            .map_err(|_| X509Error::BadSignature)
    }
}

/// Parses every `CERTIFICATE` block of a PEM text.
pub fn parse_pem(text: &str) -> Result<Vec<Cert>, X509Error> {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(BEGIN) {
        let after = &rest[start + BEGIN.len()..];
        let end = after.find(END).ok_or(X509Error::Pem)?;
        let b64: String = after[..end].split_whitespace().collect();
        let der = STANDARD.decode(b64).map_err(|_| X509Error::Pem)?;
        out.push(Cert::from_der(&der)?);
        rest = &after[end + END.len()..];
    }
    if out.is_empty() {
        return Err(X509Error::Pem);
    }
    Ok(out)
}

/// One certificate as PEM.
pub fn to_pem(cert: &Cert) -> String {
    let b64 = STANDARD.encode(cert.der());
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

/// A set of trust anchors (self-signed roots, or any certificate trusted as such).
#[derive(Debug, Clone, Default)]
pub struct TrustAnchors {
    anchors: Vec<Cert>,
}

impl TrustAnchors {
    pub fn new(anchors: Vec<Cert>) -> Self {
        Self { anchors }
    }

    /// Anchors from a PEM text (one or more certificates).
    pub fn from_pem(text: &str) -> Result<Self, X509Error> {
        Ok(Self::new(parse_pem(text)?))
    }

    pub fn is_empty(&self) -> bool {
        self.anchors.is_empty()
    }

    pub fn anchors(&self) -> &[Cert] {
        &self.anchors
    }

    /// Verifies `chain` (leaf first, as in `x5c`) at `now` and returns the anchor it ends
    /// at. The chain may or may not include the anchor itself.
    pub fn verify_chain(&self, chain: &[Cert], now: DateTime<Utc>) -> Result<&Cert, X509Error> {
        if chain.is_empty() || chain.len() > MAX_CHAIN {
            return Err(X509Error::ChainLength);
        }
        for (i, c) in chain.iter().enumerate() {
            c.check_validity(now)?;
            c.check_critical()?;
            if let Some(issuer) = chain.get(i + 1) {
                if !issuer.is_ca() {
                    return Err(X509Error::NotCa);
                }
                c.verify_signed_by(issuer)?;
            }
        }
        let last = chain.last().ok_or(X509Error::ChainLength)?;
        if let Some(a) = self.anchors.iter().find(|a| *a == last) {
            return Ok(a);
        }
        for a in &self.anchors {
            if last.verify_signed_by(a).is_ok() {
                a.check_validity(now)?;
                if !a.is_ca() {
                    return Err(X509Error::NotCa);
                }
                return Ok(a);
            }
        }
        Err(X509Error::Untrusted)
    }
}
