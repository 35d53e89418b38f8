//! JWE compact serialisation for OpenID4VP `direct_post.jwt` (RFC 7516, RFC 7518 §4.6):
//! `alg` ECDH-ES (direct key agreement, empty encrypted key) on P-256, `enc` A128GCM or
//! A256GCM, Concat KDF with SHA-256. On ring (ECDH, AES-GCM, SHA-256).

use crate::jose::{b64u_decode, b64u_encode, jwk_from_value, jwk_point};
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_128_GCM, AES_256_GCM};
use ring::agreement::{self, EphemeralPrivateKey, UnparsedPublicKey, ECDH_P256};
use ring::rand::{SecureRandom, SystemRandom};
use serde_json::{json, Value};

pub const ALG_ECDH_ES: &str = "ECDH-ES";
/// Largest JWE accepted.
pub const MAX_JWE_LEN: usize = 4 * 1024 * 1024;

#[derive(Debug, thiserror::Error, PartialEq, Eq, Clone)]
pub enum JweError {
    #[error("malformed JWE")]
    Malformed,
    #[error("unsupported JWE algorithm")]
    Unsupported,
    #[error("JWE decryption failed")]
    Decrypt,
    #[error("JWE encryption failed")]
    Encrypt,
}

/// Content encryption.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enc {
    A128Gcm,
    A256Gcm,
}

impl Enc {
    pub fn name(self) -> &'static str {
        match self {
            Enc::A128Gcm => "A128GCM",
            Enc::A256Gcm => "A256GCM",
        }
    }
    pub fn from_name(s: &str) -> Option<Self> {
        match s {
            "A128GCM" => Some(Enc::A128Gcm),
            "A256GCM" => Some(Enc::A256Gcm),
            _ => None,
        }
    }
    fn key_len(self) -> usize {
        match self {
            Enc::A128Gcm => 16,
            Enc::A256Gcm => 32,
        }
    }
    fn aead(self) -> &'static ring::aead::Algorithm {
        match self {
            Enc::A128Gcm => &AES_128_GCM,
            Enc::A256Gcm => &AES_256_GCM,
        }
    }
}

fn len_prefixed(out: &mut Vec<u8>, data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(data);
}

/// Concat KDF (NIST SP 800-56A, RFC 7518 §4.6.2), one SHA-256 round (keys ≤ 256 bits).
fn concat_kdf(z: &[u8], enc: Enc, apu: &[u8], apv: &[u8]) -> Vec<u8> {
    let mut input = Vec::with_capacity(4 + z.len() + 64);
    input.extend_from_slice(&1u32.to_be_bytes());
    input.extend_from_slice(z);
    len_prefixed(&mut input, enc.name().as_bytes());
    len_prefixed(&mut input, apu);
    len_prefixed(&mut input, apv);
    input.extend_from_slice(&((enc.key_len() * 8) as u32).to_be_bytes());
    let d = ring::digest::digest(&ring::digest::SHA256, &input);
    d.as_ref()[..enc.key_len()].to_vec()
}

fn point_to_jwk(point: &[u8]) -> Value {
    json!({"kty": "EC", "crv": "P-256",
           "x": b64u_encode(point.get(1..33).unwrap_or_default()),
           "y": b64u_encode(point.get(33..65).unwrap_or_default())})
}

/// Encrypts `plaintext` to `recipient` (a P-256 JWK, its `kid` copied into the header).
pub fn encrypt(plaintext: &[u8], recipient: &Value, enc: Enc) -> Result<String, JweError> {
    let jwk = jwk_from_value(recipient).map_err(|_| JweError::Unsupported)?;
    let peer = jwk_point(&jwk).map_err(|_| JweError::Unsupported)?;
    let rng = SystemRandom::new();
    let eph = EphemeralPrivateKey::generate(&ECDH_P256, &rng).map_err(|_| JweError::Encrypt)?;
    let epk = eph.compute_public_key().map_err(|_| JweError::Encrypt)?;
    let mut header =
        json!({"alg": ALG_ECDH_ES, "enc": enc.name(), "epk": point_to_jwk(epk.as_ref())});
    if let Some(kid) = recipient.get("kid") {
        header["kid"] = kid.clone();
    }
    let cek = agreement::agree_ephemeral(eph, &UnparsedPublicKey::new(&ECDH_P256, &peer), |z| {
        concat_kdf(z, enc, &[], &[])
    })
    .map_err(|_| JweError::Encrypt)?;
    let h = b64u_encode(serde_json::to_vec(&header).map_err(|_| JweError::Encrypt)?);
    let mut iv = [0u8; 12];
    rng.fill(&mut iv).map_err(|_| JweError::Encrypt)?;
    let key = LessSafeKey::new(UnboundKey::new(enc.aead(), &cek).map_err(|_| JweError::Encrypt)?);
    let mut buf = plaintext.to_vec();
    let tag = key
        .seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(iv),
            Aad::from(h.as_bytes()),
            &mut buf,
        )
        .map_err(|_| JweError::Encrypt)?;
    Ok(format!(
        "{h}..{}.{}.{}",
        b64u_encode(iv),
        b64u_encode(&buf),
        b64u_encode(tag.as_ref())
    ))
}

/// A decoded JWE header (for picking the key before decrypting).
pub fn header(jwe: &str) -> Result<Value, JweError> {
    let h = jwe.split('.').next().ok_or(JweError::Malformed)?;
    serde_json::from_slice(&b64u_decode(h).map_err(|_| JweError::Malformed)?)
        .map_err(|_| JweError::Malformed)
}

/// The recipient's key for one response. ring keeps P-256 agreement keys ephemeral: a
/// key decrypts one JWE and is gone, which suits one response per request.
pub struct DecryptionKey {
    key: EphemeralPrivateKey,
    public: Vec<u8>,
}

impl std::fmt::Debug for DecryptionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DecryptionKey(<redacted>)")
    }
}

impl DecryptionKey {
    pub fn generate() -> Result<Self, JweError> {
        let key = EphemeralPrivateKey::generate(&ECDH_P256, &SystemRandom::new())
            .map_err(|_| JweError::Encrypt)?;
        let public = key
            .compute_public_key()
            .map_err(|_| JweError::Encrypt)?
            .as_ref()
            .to_vec();
        Ok(Self { key, public })
    }

    /// The public JWK to publish in `client_metadata.jwks` (with `kid`, `use`, `alg`).
    pub fn public_jwk(&self, kid: &str) -> Value {
        let mut j = point_to_jwk(&self.public);
        j["kid"] = json!(kid);
        j["use"] = json!("enc");
        j["alg"] = json!(ALG_ECDH_ES);
        j
    }

    /// Decrypts a compact JWE made with ECDH-ES and A128GCM/A256GCM.
    pub fn decrypt(self, jwe: &str) -> Result<Vec<u8>, JweError> {
        if jwe.len() > MAX_JWE_LEN {
            return Err(JweError::Malformed);
        }
        let parts: Vec<&str> = jwe.split('.').collect();
        let [h, ek, iv, ct, tag] = parts.as_slice() else {
            return Err(JweError::Malformed);
        };
        if !ek.is_empty() {
            return Err(JweError::Unsupported);
        }
        let header = header(jwe)?;
        if header.get("alg").and_then(Value::as_str) != Some(ALG_ECDH_ES) {
            return Err(JweError::Unsupported);
        }
        if header.get("zip").is_some() || header.get("crit").is_some() {
            return Err(JweError::Unsupported);
        }
        let enc = header
            .get("enc")
            .and_then(Value::as_str)
            .and_then(Enc::from_name)
            .ok_or(JweError::Unsupported)?;
        let epk = jwk_from_value(header.get("epk").ok_or(JweError::Malformed)?)
            .map_err(|_| JweError::Malformed)?;
        let peer = jwk_point(&epk).map_err(|_| JweError::Malformed)?;
        let b = |s: &str| b64u_decode(s).map_err(|_| JweError::Malformed);
        let apu = header
            .get("apu")
            .and_then(Value::as_str)
            .map(b)
            .transpose()?
            .unwrap_or_default();
        let apv = header
            .get("apv")
            .and_then(Value::as_str)
            .map(b)
            .transpose()?
            .unwrap_or_default();
        let cek =
            agreement::agree_ephemeral(self.key, &UnparsedPublicKey::new(&ECDH_P256, &peer), |z| {
                concat_kdf(z, enc, &apu, &apv)
            })
            .map_err(|_| JweError::Decrypt)?;
        let iv: [u8; 12] = b(iv)?.try_into().map_err(|_| JweError::Malformed)?;
        let mut buf = b(ct)?;
        let tag = b(tag)?;
        if tag.len() != 16 {
            return Err(JweError::Malformed);
        }
        buf.extend_from_slice(&tag);
        let key =
            LessSafeKey::new(UnboundKey::new(enc.aead(), &cek).map_err(|_| JweError::Decrypt)?);
        let plain = key
            .open_in_place(
                Nonce::assume_unique_for_key(iv),
                Aad::from(h.as_bytes()),
                &mut buf,
            )
            .map_err(|_| JweError::Decrypt)?;
        Ok(plain.to_vec())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_both_encs_and_tamper() {
        for enc in [Enc::A128Gcm, Enc::A256Gcm] {
            let k = DecryptionKey::generate().unwrap();
            let jwe = encrypt(b"{\"a\":1}", &k.public_jwk("k1"), enc).unwrap();
            let h = header(&jwe).unwrap();
            assert_eq!(h["kid"], "k1");
            assert_eq!(h["enc"], enc.name());
            assert_eq!(k.decrypt(&jwe).unwrap(), b"{\"a\":1}");
            let k = DecryptionKey::generate().unwrap();
            let jwe = encrypt(b"secret", &k.public_jwk("k1"), enc).unwrap();
            let mut parts: Vec<String> = jwe.split('.').map(str::to_owned).collect();
            parts[3] = b64u_encode(b"sekret");
            assert_eq!(k.decrypt(&parts.join(".")).unwrap_err(), JweError::Decrypt);
        }
        let other = DecryptionKey::generate().unwrap();
        let k = DecryptionKey::generate().unwrap();
        let jwe = encrypt(b"x", &k.public_jwk("k"), Enc::A128Gcm).unwrap();
        assert_eq!(other.decrypt(&jwe).unwrap_err(), JweError::Decrypt);
    }
}
