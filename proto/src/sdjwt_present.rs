//! Holder side of an SD-JWT VC presentation (RFC 9901 §4.3, OpenID4VP 1.0 Appendix B.3):
//! pick exactly the disclosures that reveal the requested claim paths (nested ones
//! included, parents kept so the verifier can reach them, never a sibling), and append
//! a Key Binding JWT signed through [`HolderSigner`] (the wallet's device key).
//!
//! Also the verifier's mirror of that choice: [`needed_disclosures`] on a received
//! presentation tells which of its disclosures a query needed, so that anything more is
//! an over-disclosure.

use crate::dcql::PathElement;
use crate::jose::{self, b64u_decode, b64u_encode, EcKeyPair};
use crate::sdjwt::{self, SdJwtError};
use crate::wire::EcJwk;
use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};
use std::collections::{BTreeSet, HashMap};

/// Signs with the holder key (the `cnf.jwk` of the credential). The wallet's device key
/// implements it; so can a hardware key that never leaves its keystore.
pub trait HolderSigner {
    fn public_jwk(&self) -> EcJwk;
    /// Raw ES256 signature (r || s) over `msg`.
    fn sign_es256(&self, msg: &[u8]) -> Result<Vec<u8>, SdJwtError>;
}

impl HolderSigner for EcKeyPair {
    fn public_jwk(&self) -> EcJwk {
        EcKeyPair::public_jwk(self)
    }
    fn sign_es256(&self, msg: &[u8]) -> Result<Vec<u8>, SdJwtError> {
        self.sign_raw(msg).map_err(|_| SdJwtError::Signing)
    }
}

struct Disc {
    name: Option<String>,
    value: Value,
}

/// The issuer payload and the presented disclosures, by digest.
struct Tree {
    payload: Value,
    by_digest: HashMap<String, (String, Disc)>,
}

fn parse(sd_jwt: &str) -> Result<Tree, SdJwtError> {
    let parts = sdjwt::split(sd_jwt)?;
    let jws = jose::decode_unverified(parts.jwt)?;
    let mut by_digest = HashMap::new();
    for d in parts.disclosures {
        let bytes = b64u_decode(d).map_err(|_| SdJwtError::MalformedDisclosure)?;
        let v: Value =
            serde_json::from_slice(&bytes).map_err(|_| SdJwtError::MalformedDisclosure)?;
        let disc = match v.as_array().map(Vec::as_slice) {
            Some([Value::String(_), value]) => Disc {
                name: None,
                value: value.clone(),
            },
            Some([Value::String(_), Value::String(name), value]) => Disc {
                name: Some(name.clone()),
                value: value.clone(),
            },
            _ => return Err(SdJwtError::MalformedDisclosure),
        };
        by_digest.insert(sdjwt::digest(d), (d.to_owned(), disc));
    }
    Ok(Tree {
        payload: jws.payload,
        by_digest,
    })
}

const MAX_DEPTH: usize = 32;

impl Tree {
    /// Every disclosure reachable under `node` (the whole value was asked for).
    fn include_all(&self, node: &Value, out: &mut BTreeSet<String>, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        match node {
            Value::Object(m) => {
                for (k, v) in m {
                    if k == "_sd" {
                        for dg in v.as_array().into_iter().flatten() {
                            if let Some((d, disc)) = dg.as_str().and_then(|g| self.by_digest.get(g))
                            {
                                if disc.name.is_some() && out.insert(d.clone()) {
                                    self.include_all(&disc.value, out, depth + 1);
                                }
                            }
                        }
                    } else if k != "_sd_alg" {
                        self.include_all(v, out, depth + 1);
                    }
                }
            }
            Value::Array(a) => {
                for item in a {
                    match self.element(item) {
                        Some((Some(d), v)) if out.insert(d.to_owned()) => {
                            self.include_all(v, out, depth + 1)
                        }
                        Some((None, v)) => self.include_all(v, out, depth + 1),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }

    /// An array element: `(Some(disclosure), value)` when it is disclosed by a
    /// disclosure, `(None, value)` when plain, `None` when withheld or a decoy.
    fn element<'a>(&'a self, item: &'a Value) -> Option<(Option<&'a str>, &'a Value)> {
        if let Some(m) = item.as_object() {
            if m.len() == 1 {
                if let Some(dg) = m.get("...").and_then(Value::as_str) {
                    return self
                        .by_digest
                        .get(dg)
                        .filter(|(_, disc)| disc.name.is_none())
                        .map(|(d, disc)| (Some(d.as_str()), &disc.value));
                }
            }
        }
        Some((None, item))
    }

    /// An object member: plain, or disclosed by one of its `_sd` digests.
    fn member<'a>(
        &'a self,
        obj: &'a Map<String, Value>,
        key: &str,
    ) -> Option<(Option<&'a str>, &'a Value)> {
        if key != "_sd" && key != "_sd_alg" {
            if let Some(v) = obj.get(key) {
                return Some((None, v));
            }
        }
        obj.get("_sd")?
            .as_array()?
            .iter()
            .filter_map(Value::as_str)
            .filter_map(|g| self.by_digest.get(g))
            .find(|(_, disc)| disc.name.as_deref() == Some(key))
            .map(|(d, disc)| (Some(d.as_str()), &disc.value))
    }

    /// Adds the disclosures that reveal `path` under `node`; false when it reaches nothing.
    fn select(
        &self,
        node: &Value,
        path: &[PathElement],
        out: &mut BTreeSet<String>,
        depth: usize,
    ) -> bool {
        if depth > MAX_DEPTH {
            return false;
        }
        let Some((first, rest)) = path.split_first() else {
            self.include_all(node, out, depth);
            return true;
        };
        let take = |d: Option<&str>, v: &Value, out: &mut BTreeSet<String>| {
            let mut sub = BTreeSet::new();
            if self.select(v, rest, &mut sub, depth + 1) {
                out.extend(d.map(str::to_owned));
                out.extend(sub);
                true
            } else {
                false
            }
        };
        match (first, node) {
            (PathElement::Key(k), Value::Object(m)) => match self.member(m, k) {
                Some((d, v)) => take(d, v, out),
                None => false,
            },
            (PathElement::Index(i), Value::Array(a)) => {
                match a.iter().filter_map(|e| self.element(e)).nth(*i) {
                    Some((d, v)) => take(d, v, out),
                    None => false,
                }
            }
            (PathElement::All, Value::Array(a)) => {
                let mut any = false;
                for (d, v) in a.iter().filter_map(|e| self.element(e)) {
                    any |= take(d, v, out);
                }
                any
            }
            _ => false,
        }
    }
}

/// The disclosures of `sd_jwt` that reveal `paths` (and nothing else). `None` when one
/// of the paths reaches nothing in it.
pub fn needed_disclosures(
    sd_jwt: &str,
    paths: &[&[PathElement]],
) -> Result<Option<BTreeSet<String>>, SdJwtError> {
    let tree = parse(sd_jwt)?;
    let mut out = BTreeSet::new();
    for p in paths {
        if !tree.select(&tree.payload, p, &mut out, 0) {
            return Ok(None);
        }
    }
    Ok(Some(out))
}

/// The presented disclosures of `sd_jwt`, as they appear.
pub fn disclosures(sd_jwt: &str) -> Result<BTreeSet<String>, SdJwtError> {
    Ok(sdjwt::split(sd_jwt)?
        .disclosures
        .into_iter()
        .map(str::to_owned)
        .collect())
}

/// `<jwt>~<d>~…~` with only the disclosures that reveal `paths`; an error when a path
/// reaches nothing (the wallet offered what it does not hold).
pub fn select(sd_jwt: &str, paths: &[&[PathElement]]) -> Result<String, SdJwtError> {
    let keep = needed_disclosures(sd_jwt, paths)?.ok_or(SdJwtError::Malformed)?;
    let parts = sdjwt::split(sd_jwt)?;
    let mut out = String::from(parts.jwt);
    out.push('~');
    for d in parts.disclosures {
        if keep.contains(d) {
            out.push_str(d);
            out.push('~');
        }
    }
    Ok(out)
}

/// Appends a KB-JWT (`typ kb+jwt`; `iat`, `aud`, `nonce`, `sd_hash`) signed by `signer`.
pub fn key_binding(
    presentation: &str,
    signer: &dyn HolderSigner,
    aud: &str,
    nonce: &str,
    iat: DateTime<Utc>,
) -> Result<String, SdJwtError> {
    let parts = sdjwt::split(presentation)?;
    if parts.kb_jwt.is_some() || !presentation.ends_with('~') {
        return Err(SdJwtError::Malformed);
    }
    let header = json!({ "alg": jose::ES256, "typ": sdjwt::KB_TYP });
    let payload = json!({
        "iat": iat.timestamp(),
        "aud": aud,
        "nonce": nonce,
        "sd_hash": sdjwt::digest(presentation),
    });
    let h = serde_json::to_vec(&header).map_err(|_| SdJwtError::Signing)?;
    let p = serde_json::to_vec(&payload).map_err(|_| SdJwtError::Signing)?;
    let input = format!("{}.{}", b64u_encode(h), b64u_encode(p));
    let sig = signer.sign_es256(input.as_bytes())?;
    Ok(format!("{presentation}{input}.{}", b64u_encode(sig)))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::sdjwt::IssueRequest;
    use chrono::Duration;

    fn p(v: Value) -> Vec<PathElement> {
        serde_json::from_value(v).unwrap()
    }

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap()
    }

    fn issue(issuer: &EcKeyPair, holder: &EcJwk) -> String {
        let mut claims = Map::new();
        claims.insert("nama".into(), json!("SITI"));
        claims.insert("nik".into(), json!("1671014509900001"));
        claims.insert(
            "alamat".into(),
            json!({"jalan": "JL. MERDEKA", "kota": "PALEMBANG"}),
        );
        claims.insert(
            "anggota".into(),
            json!([{"nama": "BUDI", "agama": "ISLAM"}, {"nama": "SITI", "agama": "ISLAM"}]),
        );
        let req = IssueRequest::new(
            "https://i",
            "urn:ikd:ktp:1",
            claims,
            holder,
            now(),
            now() + Duration::days(1),
        )
        .with_array_elements(["anggota"]);
        sdjwt::issue(issuer, &req).unwrap()
    }

    #[test]
    fn selects_only_what_is_asked_and_verifies() {
        let ik = EcKeyPair::generate().unwrap();
        let hk = EcKeyPair::generate().unwrap();
        let s = issue(&ik, &hk.public_jwk());
        let nama = p(json!(["nama"]));
        let pres = select(&s, &[&nama]).unwrap();
        assert_eq!(disclosures(&pres).unwrap().len(), 1);
        let kb = key_binding(&pres, &hk, "x509_hash:abc", "n1", now()).unwrap();
        let v = sdjwt::verify_presentation(
            &kb,
            &ik.public_jwk(),
            "x509_hash:abc",
            "n1",
            now(),
            Duration::minutes(5),
        )
        .unwrap();
        // the element array stays in the clear, with every element withheld
        assert_eq!(
            Value::Object(v.claims.clone()),
            json!({"nama": "SITI", "anggota": []})
        );
        // wrong nonce / aud / key
        assert!(sdjwt::verify_presentation(
            &kb,
            &ik.public_jwk(),
            "x509_hash:abc",
            "n2",
            now(),
            Duration::minutes(5)
        )
        .is_err());
        assert!(sdjwt::verify_presentation(
            &kb,
            &ik.public_jwk(),
            "x509_hash:xyz",
            "n1",
            now(),
            Duration::minutes(5)
        )
        .is_err());
        let other = EcKeyPair::generate().unwrap();
        let forged = key_binding(&pres, &other, "x509_hash:abc", "n1", now()).unwrap();
        assert!(sdjwt::verify_presentation(
            &forged,
            &ik.public_jwk(),
            "x509_hash:abc",
            "n1",
            now(),
            Duration::minutes(5)
        )
        .is_err());
    }

    #[test]
    fn whole_object_and_array_elements() {
        let ik = EcKeyPair::generate().unwrap();
        let hk = EcKeyPair::generate().unwrap();
        let s = issue(&ik, &hk.public_jwk());
        let alamat = p(json!(["alamat"]));
        let all = p(json!(["anggota", null]));
        let second = p(json!(["anggota", 1]));
        let pres = select(&s, &[&alamat]).unwrap();
        assert_eq!(disclosures(&pres).unwrap().len(), 1);
        let pres = select(&s, &[&all]).unwrap();
        assert_eq!(disclosures(&pres).unwrap().len(), 2);
        let pres = select(&s, &[&second]).unwrap();
        let v = sdjwt::verify(&pres, &ik.public_jwk(), None, now()).unwrap();
        assert_eq!(
            v.claims["anggota"],
            json!([{"nama": "SITI", "agama": "ISLAM"}])
        );
        let missing = p(json!(["agama"]));
        assert!(select(&s, &[&missing]).is_err());
        // over-disclosure is visible to the verifier
        let full = select(&s, &[&alamat, &p(json!(["nama"]))]).unwrap();
        let needed = needed_disclosures(&full, &[&alamat]).unwrap().unwrap();
        assert!(disclosures(&full).unwrap().len() > needed.len());
    }
}
