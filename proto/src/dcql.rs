//! DCQL (OpenID4VP 1.0 §6): the query a verifier sends, and its evaluation against the
//! SD-JWT VCs a wallet holds.
//!
//! Supported: `credentials` (format `dc+sd-jwt`, `meta.vct_values`, `claims` with
//! `path` and `values`, `claim_sets`, `multiple`), and `credential_sets` (`options`,
//! `required`). A claim path element is a string (object key), `null` (every array
//! element) or a non-negative integer (one array element). A credential query without
//! `claims` asks for no selectively disclosable claim at all (§6.4.1).
//!
//! Evaluation never selects more than asked: for each credential query it picks the
//! first `claim_sets` option (in the verifier's order of preference) that the held
//! credential satisfies, and for `credential_sets` the first satisfiable option.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use std::collections::HashSet;

/// The only credential format we hold and present.
pub const FORMAT_SD_JWT_VC: &str = "dc+sd-jwt";
/// Bounds on a query (a request is attacker-controlled input).
pub const MAX_CREDENTIAL_QUERIES: usize = 16;
pub const MAX_CLAIMS: usize = 64;
pub const MAX_PATH: usize = 16;

#[derive(Debug, thiserror::Error, PartialEq, Eq, Clone)]
pub enum DcqlError {
    #[error("malformed DCQL query")]
    Malformed,
    #[error("DCQL query asks for an unsupported format")]
    UnsupportedFormat,
    #[error("DCQL query refers to an unknown id")]
    UnknownId,
}

/// One element of a claim path.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PathElement {
    Key(String),
    Index(usize),
    /// `null`: every element of an array.
    All,
}

impl Serialize for PathElement {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            PathElement::Key(k) => s.serialize_str(k),
            PathElement::Index(i) => s.serialize_u64(*i as u64),
            PathElement::All => s.serialize_none(),
        }
    }
}

impl<'de> Deserialize<'de> for PathElement {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::String(k) => Ok(PathElement::Key(k)),
            Value::Null => Ok(PathElement::All),
            Value::Number(n) => n
                .as_u64()
                .and_then(|i| usize::try_from(i).ok())
                .map(PathElement::Index)
                .ok_or_else(|| serde::de::Error::custom("path index")),
            _ => Err(serde::de::Error::custom("path element")),
        }
    }
}

/// A claim path, e.g. `["alamat", "kota"]` or `["anggota", null, "nama"]`.
pub type ClaimPath = Vec<PathElement>;

/// Renders a path for people and logs: `anggota[*].nama`, `age_equal_or_over.17`.
pub fn path_label(path: &[PathElement]) -> String {
    let mut out = String::new();
    for p in path {
        match p {
            PathElement::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            PathElement::Index(i) => out.push_str(&format!("[{i}]")),
            PathElement::All => out.push_str("[*]"),
        }
    }
    out
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ClaimQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub path: ClaimPath,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<Value>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct CredentialMeta {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vct_values: Option<Vec<String>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CredentialQuery {
    pub id: String,
    pub format: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub multiple: bool,
    #[serde(default)]
    pub meta: CredentialMeta,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claims: Option<Vec<ClaimQuery>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim_sets: Option<Vec<Vec<String>>>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CredentialSetQuery {
    pub options: Vec<Vec<String>>,
    #[serde(default = "yes")]
    pub required: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DcqlQuery {
    pub credentials: Vec<CredentialQuery>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_sets: Option<Vec<CredentialSetQuery>>,
}

fn valid_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

impl DcqlQuery {
    /// Parses and checks a query (ids, bounds, references).
    pub fn parse(v: &Value) -> Result<Self, DcqlError> {
        let q: DcqlQuery = serde_json::from_value(v.clone()).map_err(|_| DcqlError::Malformed)?;
        q.validate()?;
        Ok(q)
    }

    pub fn validate(&self) -> Result<(), DcqlError> {
        if self.credentials.is_empty() || self.credentials.len() > MAX_CREDENTIAL_QUERIES {
            return Err(DcqlError::Malformed);
        }
        let mut ids = HashSet::new();
        for c in &self.credentials {
            if !valid_id(&c.id) || !ids.insert(c.id.as_str()) {
                return Err(DcqlError::Malformed);
            }
            if let Some(claims) = &c.claims {
                if claims.is_empty() || claims.len() > MAX_CLAIMS {
                    return Err(DcqlError::Malformed);
                }
                let mut cids = HashSet::new();
                for cl in claims {
                    if cl.path.is_empty() || cl.path.len() > MAX_PATH {
                        return Err(DcqlError::Malformed);
                    }
                    if !matches!(cl.path.first(), Some(PathElement::Key(_))) {
                        return Err(DcqlError::Malformed);
                    }
                    if let Some(id) = &cl.id {
                        if !valid_id(id) || !cids.insert(id.as_str()) {
                            return Err(DcqlError::Malformed);
                        }
                    }
                }
                if let Some(sets) = &c.claim_sets {
                    if sets.is_empty() {
                        return Err(DcqlError::Malformed);
                    }
                    for s in sets.iter().flatten() {
                        if !cids.contains(s.as_str()) {
                            return Err(DcqlError::UnknownId);
                        }
                    }
                }
            } else if c.claim_sets.is_some() {
                return Err(DcqlError::Malformed);
            }
        }
        if let Some(sets) = &self.credential_sets {
            if sets.is_empty() {
                return Err(DcqlError::Malformed);
            }
            for s in sets {
                if s.options.is_empty() {
                    return Err(DcqlError::Malformed);
                }
                for id in s.options.iter().flatten() {
                    if !ids.contains(id.as_str()) {
                        return Err(DcqlError::UnknownId);
                    }
                }
            }
        }
        Ok(())
    }

    pub fn credential(&self, id: &str) -> Option<&CredentialQuery> {
        self.credentials.iter().find(|c| c.id == id)
    }
}

/// Every value a path reaches in `claims` (a fully disclosed claim object).
pub fn resolve<'a>(claims: &'a Value, path: &[PathElement]) -> Vec<&'a Value> {
    let Some((first, rest)) = path.split_first() else {
        return vec![claims];
    };
    match (first, claims) {
        (PathElement::Key(k), Value::Object(m)) => {
            m.get(k).map(|v| resolve(v, rest)).unwrap_or_default()
        }
        (PathElement::Index(i), Value::Array(a)) => {
            a.get(*i).map(|v| resolve(v, rest)).unwrap_or_default()
        }
        (PathElement::All, Value::Array(a)) => a.iter().flat_map(|v| resolve(v, rest)).collect(),
        _ => Vec::new(),
    }
}

/// Whether `claims` satisfy one claim query (present, and one of `values` if given).
pub fn claim_matches(claims: &Value, q: &ClaimQuery) -> bool {
    let found = resolve(claims, &q.path);
    if found.is_empty() {
        return false;
    }
    match &q.values {
        None => true,
        Some(values) => found.iter().any(|v| values.contains(v)),
    }
}

/// A credential the wallet holds, as DCQL sees it.
#[derive(Debug, Clone)]
pub struct Held<'a> {
    /// The wallet's name for it (e.g. `ktp`).
    pub id: &'a str,
    pub format: &'a str,
    pub vct: &'a str,
    /// Every claim, fully disclosed.
    pub claims: &'a Value,
}

/// The answer to one credential query: which held credential and which claims.
#[derive(Debug, Clone, PartialEq)]
pub struct CredentialMatch {
    pub query_id: String,
    /// Index into the held credentials.
    pub held: usize,
    /// The claim queries chosen (in query order), with `required` for the consent view.
    pub claims: Vec<ClaimQuery>,
    /// False when the credential belongs to an optional credential set.
    pub required: bool,
}

/// The result of evaluating a query.
#[derive(Debug, Clone, PartialEq)]
pub enum Evaluation {
    /// What to present, one entry per credential query answered.
    Match(Vec<CredentialMatch>),
    /// The wallet cannot answer: the verifier gets `access_denied` (nothing held fits).
    NoMatch { missing: Vec<String> },
}

fn vct_ok(q: &CredentialQuery, h: &Held<'_>) -> bool {
    h.format == q.format
        && q.meta
            .vct_values
            .as_ref()
            .is_none_or(|v| v.iter().any(|x| x == h.vct))
}

/// The claims of `q` that `h` can answer, following `claim_sets` preference.
fn pick_claims(q: &CredentialQuery, h: &Held<'_>) -> Option<Vec<ClaimQuery>> {
    let Some(claims) = &q.claims else {
        return Some(Vec::new());
    };
    match &q.claim_sets {
        None => claims
            .iter()
            .all(|c| claim_matches(h.claims, c))
            .then(|| claims.clone()),
        Some(sets) => sets.iter().find_map(|set| {
            let chosen: Vec<ClaimQuery> = claims
                .iter()
                .filter(|c| c.id.as_ref().is_some_and(|id| set.contains(id)))
                .cloned()
                .collect();
            chosen
                .iter()
                .all(|c| claim_matches(h.claims, c))
                .then_some(chosen)
        }),
    }
}

/// A held credential (index) and the claims it answers with.
type Found = (usize, Vec<ClaimQuery>);

/// Evaluates `query` against `held`.
pub fn evaluate(query: &DcqlQuery, held: &[Held<'_>]) -> Evaluation {
    let mut per_query: Vec<(String, Option<Found>)> = Vec::new();
    for q in &query.credentials {
        let found = if q.format != FORMAT_SD_JWT_VC {
            None
        } else {
            held.iter()
                .enumerate()
                .filter(|(_, h)| vct_ok(q, h))
                .find_map(|(i, h)| pick_claims(q, h).map(|c| (i, c)))
        };
        per_query.push((q.id.clone(), found));
    }
    let get = |id: &str| {
        per_query
            .iter()
            .find(|(q, _)| q == id)
            .and_then(|(_, f)| f.clone())
    };
    let mut out = Vec::new();
    let mut missing = Vec::new();
    match &query.credential_sets {
        None => {
            for (id, found) in &per_query {
                match found {
                    Some((held, claims)) => out.push(CredentialMatch {
                        query_id: id.clone(),
                        held: *held,
                        claims: claims.clone(),
                        required: true,
                    }),
                    None => missing.push(id.clone()),
                }
            }
        }
        Some(sets) => {
            for set in sets {
                let option = set
                    .options
                    .iter()
                    .find(|opt| opt.iter().all(|id| get(id).is_some()));
                match option {
                    Some(opt) => {
                        for id in opt {
                            if out.iter().any(|m: &CredentialMatch| &m.query_id == id) {
                                continue;
                            }
                            if let Some((held, claims)) = get(id) {
                                out.push(CredentialMatch {
                                    query_id: id.clone(),
                                    held,
                                    claims,
                                    required: set.required,
                                });
                            }
                        }
                    }
                    None if set.required => {
                        missing.extend(set.options.first().cloned().unwrap_or_default())
                    }
                    None => {}
                }
            }
        }
    }
    if missing.is_empty() && !out.is_empty() {
        Evaluation::Match(out)
    } else {
        Evaluation::NoMatch { missing }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ktp() -> Value {
        json!({"nama": "SITI", "nik": "1671014509900001", "foto": "AAAA",
               "age_equal_or_over": {"17": true, "21": true},
               "alamat": {"jalan": "JL. MERDEKA", "kota": "PALEMBANG"}})
    }
    fn kk() -> Value {
        json!({"nomor_kk": "1671011502160001",
               "anggota": [{"nama": "BUDI", "hubungan": "KEPALA KELUARGA"},
                           {"nama": "SITI", "hubungan": "ISTRI"}]})
    }

    fn held<'a>(ktp: &'a Value, kk: &'a Value) -> Vec<Held<'a>> {
        vec![
            Held {
                id: "ktp",
                format: FORMAT_SD_JWT_VC,
                vct: "urn:ikd:ktp:1",
                claims: ktp,
            },
            Held {
                id: "kk",
                format: FORMAT_SD_JWT_VC,
                vct: "urn:ikd:kk:1",
                claims: kk,
            },
        ]
    }

    #[test]
    fn paths_resolve_and_label() {
        let k = kk();
        let p: ClaimPath = serde_json::from_value(json!(["anggota", null, "nama"])).unwrap();
        assert_eq!(resolve(&k, &p), vec![&json!("BUDI"), &json!("SITI")]);
        assert_eq!(path_label(&p), "anggota[*].nama");
        let p: ClaimPath = serde_json::from_value(json!(["anggota", 1, "hubungan"])).unwrap();
        assert_eq!(resolve(&k, &p), vec![&json!("ISTRI")]);
        assert_eq!(
            serde_json::to_value(&p).unwrap(),
            json!(["anggota", 1, "hubungan"])
        );
        assert!(serde_json::from_value::<ClaimPath>(json!([-1])).is_err());
    }

    #[test]
    fn age_query_matches_ktp_only() {
        let (a, b) = (ktp(), kk());
        let q = DcqlQuery::parse(&json!({"credentials": [{"id": "ktp", "format": "dc+sd-jwt",
            "meta": {"vct_values": ["urn:ikd:ktp:1"]},
            "claims": [{"path": ["age_equal_or_over", "17"], "values": [true]}, {"path": ["foto"]}]}]}))
        .unwrap();
        let Evaluation::Match(m) = evaluate(&q, &held(&a, &b)) else {
            panic!()
        };
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].held, 0);
        assert_eq!(m[0].claims.len(), 2);
    }

    #[test]
    fn values_and_missing_give_no_match() {
        let (a, b) = (ktp(), kk());
        let q = DcqlQuery::parse(&json!({"credentials": [{"id": "x", "format": "dc+sd-jwt",
            "claims": [{"path": ["age_equal_or_over", "18"], "values": [true]}]}]}))
        .unwrap();
        assert_eq!(
            evaluate(&q, &held(&a, &b)),
            Evaluation::NoMatch {
                missing: vec!["x".into()]
            }
        );
        let q =
            DcqlQuery::parse(&json!({"credentials": [{"id": "x", "format": "mso_mdoc"}]})).unwrap();
        assert!(matches!(
            evaluate(&q, &held(&a, &b)),
            Evaluation::NoMatch { .. }
        ));
    }

    #[test]
    fn claim_sets_pick_first_satisfiable() {
        let (a, b) = (ktp(), kk());
        let q = DcqlQuery::parse(&json!({"credentials": [{"id": "ktp", "format": "dc+sd-jwt",
            "claims": [{"id": "a18", "path": ["age_equal_or_over", "18"]},
                       {"id": "a17", "path": ["age_equal_or_over", "17"]},
                       {"id": "nama", "path": ["nama"]}],
            "claim_sets": [["a18", "nama"], ["a17"]]}]}))
        .unwrap();
        let Evaluation::Match(m) = evaluate(&q, &held(&a, &b)) else {
            panic!()
        };
        assert_eq!(m[0].claims.len(), 1);
        assert_eq!(m[0].claims[0].id.as_deref(), Some("a17"));
    }

    #[test]
    fn credential_sets_required_and_optional() {
        let (a, b) = (ktp(), kk());
        let q = DcqlQuery::parse(&json!({"credentials": [
                {"id": "ktp", "format": "dc+sd-jwt", "meta": {"vct_values": ["urn:ikd:ktp:1"]}, "claims": [{"path": ["nama"]}]},
                {"id": "pass", "format": "dc+sd-jwt", "meta": {"vct_values": ["urn:other"]}},
                {"id": "kk", "format": "dc+sd-jwt", "meta": {"vct_values": ["urn:ikd:kk:1"]}, "claims": [{"path": ["nomor_kk"]}]}],
            "credential_sets": [{"options": [["pass"], ["ktp"]]}, {"options": [["kk"]], "required": false}]}))
        .unwrap();
        let Evaluation::Match(m) = evaluate(&q, &held(&a, &b)) else {
            panic!()
        };
        assert_eq!(
            m.iter()
                .map(|m| (m.query_id.as_str(), m.required))
                .collect::<Vec<_>>(),
            vec![("ktp", true), ("kk", false)]
        );
    }

    #[test]
    fn malformed_queries_rejected() {
        for q in [
            json!({"credentials": []}),
            json!({"credentials": [{"id": "a b", "format": "dc+sd-jwt"}]}),
            json!({"credentials": [{"id": "a", "format": "dc+sd-jwt"}, {"id": "a", "format": "dc+sd-jwt"}]}),
            json!({"credentials": [{"id": "a", "format": "dc+sd-jwt", "claims": [{"path": []}]}]}),
            json!({"credentials": [{"id": "a", "format": "dc+sd-jwt", "claims": [{"id": "x", "path": ["n"]}], "claim_sets": [["y"]]}]}),
            json!({"credentials": [{"id": "a", "format": "dc+sd-jwt"}], "credential_sets": [{"options": [["b"]]}]}),
            json!({"credentials": "x"}),
        ] {
            assert!(DcqlQuery::parse(&q).is_err(), "{q}");
        }
    }
}
