//! Issuer side: [`issue`] an SD-JWT VC from an [`IssueRequest`].

use super::{
    decoy, decoy_count, digest, make_disclosure, salt, IssueRequest, SdJwtError, NEVER_DISCLOSABLE,
    SD_ALG, TYP,
};
use crate::jose::{self, EcKeyPair};
use serde_json::{json, Map, Value};

/// Each field of `fields` as a disclosure (with decoys): `{"_sd": [sorted digests]}`.
fn disclose_fields(
    fields: &Map<String, Value>,
    disclosures: &mut Vec<String>,
) -> Result<Value, SdJwtError> {
    let mut sd = Vec::with_capacity(fields.len() + 4);
    for (name, value) in fields {
        if name == "_sd" || name == "..." {
            return Err(SdJwtError::ReservedClaim);
        }
        let d = make_disclosure(json!([salt()?, name, value]))?;
        sd.push(digest(&d));
        disclosures.push(d);
    }
    for _ in 0..decoy_count()? {
        sd.push(decoy()?);
    }
    // Sorted digests do not reveal the claims' order (nor which ones are decoys).
    sd.sort();
    Ok(json!({ "_sd": sd }))
}

/// Issues an SD-JWT VC (`<jwt>~<d1>~…~`), `typ` = `dc+sd-jwt`.
pub fn issue(key: &EcKeyPair, req: &IssueRequest<'_>) -> Result<String, SdJwtError> {
    let mut disclosures = Vec::new();
    let mut payload = Map::new();
    let mut sd = Vec::new();
    let fields_of = |name: &str| req.disclosable_fields.iter().any(|n| n == name);
    for (name, value) in &req.disclosable {
        if NEVER_DISCLOSABLE.contains(&name.as_str()) {
            return Err(SdJwtError::ReservedClaim);
        }
        if req.disclosable_array_elements.iter().any(|n| n == name) {
            let Value::Array(items) = value else {
                return Err(SdJwtError::Malformed);
            };
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                let item = match item {
                    Value::Object(m) if fields_of(name) => disclose_fields(m, &mut disclosures)?,
                    other => other.clone(),
                };
                let d = make_disclosure(json!([salt()?, item]))?;
                out.push(json!({ "...": digest(&d) }));
                disclosures.push(d);
            }
            // Decoys hide how many elements there are (e.g. family size). They go at
            // the end so that element positions stay those of the document.
            for _ in 0..decoy_count()? {
                out.push(json!({ "...": decoy()? }));
            }
            payload.insert(name.clone(), Value::Array(out));
        } else if let (Value::Object(m), true) = (value, fields_of(name)) {
            // Recursive: the object is a disclosure whose value has its own `_sd`, so
            // a presentation without any of its fields does not show it at all.
            let inner = disclose_fields(m, &mut disclosures)?;
            let d = make_disclosure(json!([salt()?, name, inner]))?;
            sd.push(digest(&d));
            disclosures.push(d);
        } else {
            let d = make_disclosure(json!([salt()?, name, value]))?;
            sd.push(digest(&d));
            disclosures.push(d);
        }
    }
    for _ in 0..decoy_count()? {
        sd.push(decoy()?);
    }
    // Sorted digests do not reveal the claims' order (nor which ones are decoys).
    sd.sort();
    payload.insert("iss".into(), json!(req.issuer));
    payload.insert("iat".into(), json!(req.issued_at.timestamp()));
    payload.insert("exp".into(), json!(req.expires_at.timestamp()));
    payload.insert("vct".into(), json!(req.vct));
    payload.insert(
        "cnf".into(),
        json!({ "jwk": jose::jwk_to_value(req.holder_jwk) }),
    );
    if let Some(status) = &req.status {
        payload.insert("status".into(), status.to_claim());
    }
    payload.insert("_sd_alg".into(), json!(SD_ALG));
    if !sd.is_empty() {
        payload.insert("_sd".into(), json!(sd));
    }
    let mut header = json!({ "typ": TYP });
    if let Some(kid) = &req.kid {
        header["kid"] = json!(kid);
    }
    if !req.x5c.is_empty() {
        header["x5c"] = json!(req.x5c);
    }
    let jwt = key.sign_jws(header, Value::Object(payload))?;
    let mut out = jwt;
    out.push('~');
    for d in &disclosures {
        out.push_str(d);
        out.push('~');
    }
    Ok(out)
}
