//! JOSE on ring: P-256 keys, JWK, ES256 compact JWS.
//! STUB: owned by the credentials work.

use crate::secret::SecretBytes;
use crate::wire::EcJwk;

#[derive(Debug, thiserror::Error)]
pub enum JoseError {
    #[error("invalid key")]
    InvalidKey,
    #[error("malformed JWS")]
    Malformed,
    #[error("bad signature")]
    BadSignature,
}

/// A P-256 key pair (ES256). The PKCS#8 document is a secret.
pub struct EcKeyPair {
    pkcs8: SecretBytes,
}

impl std::fmt::Debug for EcKeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EcKeyPair(<redacted>)")
    }
}

impl EcKeyPair {
    pub fn generate() -> Result<Self, JoseError> {
        Err(JoseError::InvalidKey)
    }
    pub fn from_pkcs8(pkcs8: SecretBytes) -> Result<Self, JoseError> {
        Ok(Self { pkcs8 })
    }
    pub fn pkcs8(&self) -> &SecretBytes {
        &self.pkcs8
    }
    pub fn public_jwk(&self) -> EcJwk {
        EcJwk {
            kty: "EC".into(),
            crv: "P-256".into(),
            x: String::new(),
            y: String::new(),
        }
    }
    /// Signs `header` (alg ES256 is set) and `payload` as a compact JWS.
    pub fn sign_jws(
        &self,
        header: serde_json::Value,
        payload: serde_json::Value,
    ) -> Result<String, JoseError> {
        let _ = (header, payload);
        Err(JoseError::InvalidKey)
    }
}

/// Verifies an ES256 compact JWS with `jwk`; returns (header, payload).
pub fn verify_jws(
    jws: &str,
    jwk: &EcJwk,
) -> Result<(serde_json::Value, serde_json::Value), JoseError> {
    let _ = (jws, jwk);
    Err(JoseError::Malformed)
}
