//! OpenID4VCI 1.0 (pre-authorised code): the offer, issuer metadata, token, nonce,
//! credential; and device release.

use super::{BackendClient, ClientError, IdempotencyKey, IssuerMetadata, Prepared, Tokens};
use crate::secret::SecretString;
use crate::wire::{
    paths, CredentialIssuerMetadata, CredentialOffer, CredentialRequest, CredentialResponse,
    DeviceRequest, EcJwk, JwtVcIssuerMetadata, NonceResponse, Proofs, TokenResponse,
    PRE_AUTHORIZED_GRANT,
};
use url::Url;

/// Parses a credential offer: its JSON object, or an
/// `openid-credential-offer://?credential_offer=<urlencoded JSON>` URI.
pub fn parse_credential_offer(s: &str) -> Result<CredentialOffer, ClientError> {
    let s = s.trim();
    let json = if s.starts_with('{') {
        s.to_owned()
    } else {
        let u = Url::parse(s).map_err(|_| ClientError::Protocol("offer URI".into()))?;
        if u.scheme() != "openid-credential-offer" {
            return Err(ClientError::Protocol("offer URI scheme".into()));
        }
        u.query_pairs()
            .find(|(k, _)| k == "credential_offer")
            .map(|(_, v)| v.into_owned())
            .ok_or_else(|| ClientError::Protocol("credential_offer missing".into()))?
    };
    serde_json::from_str(&json).map_err(|_| ClientError::Protocol("credential offer".into()))
}

impl BackendClient {
    /// GET the issuer metadata (OpenID4VCI) and the signing key from the SD-JWT VC
    /// issuer metadata (`/.well-known/jwt-vc-issuer`, whose `issuer` must be the
    /// `credential_issuer`); pins the issuer key on first use and refuses a change.
    pub async fn issuer_metadata(&self) -> Result<IssuerMetadata, ClientError> {
        let url = self.url(paths::CREDENTIAL_ISSUER_METADATA);
        let metadata: CredentialIssuerMetadata =
            self.send_retry(|| Ok(self.http.get(&url))).await?;
        let url = self.url(paths::JWT_VC_ISSUER_METADATA);
        let vc: JwtVcIssuerMetadata = self.send_retry(|| Ok(self.http.get(&url))).await?;
        if vc.issuer != metadata.credential_issuer {
            return Err(ClientError::Protocol("jwt-vc-issuer issuer".into()));
        }
        let jwk: EcJwk = vc
            .jwks
            .keys
            .first()
            .map(|k| k.jwk.clone())
            .ok_or_else(|| ClientError::Protocol("jwt-vc-issuer jwks".into()))?;
        {
            let mut pinned = self
                .pinned_issuer_jwk
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            match &*pinned {
                Some(p) if *p != jwk => return Err(ClientError::IssuerKeyChanged),
                Some(_) => {}
                None => *pinned = Some(jwk.clone()),
            }
        }
        Ok(IssuerMetadata {
            credential_issuer: metadata.credential_issuer.clone(),
            credential_endpoint: metadata.credential_endpoint.clone(),
            nonce_endpoint: metadata
                .nonce_endpoint
                .clone()
                .ok_or_else(|| ClientError::Protocol("metadata nonce_endpoint".into()))?,
            issuer_jwk: jwk,
            metadata,
        })
    }

    fn form_body(form: &[(&str, &str)]) -> String {
        url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish()
    }

    /// The body of a code entry at /token (pre-authorised code and the mailed code), to
    /// keep with the pending step.
    pub fn token_body(pre_authorized_code: &str, tx_code: &SecretString) -> String {
        Self::form_body(&[
            ("grant_type", PRE_AUTHORIZED_GRANT),
            ("pre-authorized_code", pre_authorized_code),
            ("tx_code", tx_code.expose()),
        ])
    }

    /// POST /token with a kept form body and its key.
    pub async fn token_prepared(&self, p: &Prepared) -> Result<Tokens, ClientError> {
        let t: TokenResponse = self
            .send_prepared(
                paths::TOKEN,
                "application/x-www-form-urlencoded",
                p,
                |req| self.authorize(req, paths::TOKEN, None),
            )
            .await?;
        Ok(Tokens {
            access_token: SecretString::new(t.access_token),
            refresh_token: t.refresh_token.map(SecretString::new),
            expires_in: t.expires_in,
        })
    }

    /// POST /token with the pre-authorised code and the emailed code (a fresh key;
    /// see [`Self::token_keyed`]).
    pub async fn token(
        &self,
        pre_authorized_code: &str,
        tx_code: &SecretString,
    ) -> Result<Tokens, ClientError> {
        self.token_keyed(pre_authorized_code, tx_code, &IdempotencyKey::random())
            .await
    }

    /// POST /token with `key`: a code entry whose answer was lost is retried with the
    /// same key and spends no second try.
    pub async fn token_keyed(
        &self,
        pre_authorized_code: &str,
        tx_code: &SecretString,
        key: &IdempotencyKey,
    ) -> Result<Tokens, ClientError> {
        let body = Self::token_body(pre_authorized_code, tx_code);
        self.token_prepared(&Prepared::with_key(key.clone(), body))
            .await
    }

    /// POST /token with grant_type=refresh_token (a fresh key; the wallet keeps the
    /// request as a step: [`Self::refresh_body`] and [`Self::token_prepared`]).
    pub async fn refresh(&self, refresh_token: &SecretString) -> Result<Tokens, ClientError> {
        self.token_prepared(&Prepared::new(Self::refresh_body(refresh_token)))
            .await
    }

    /// The body of a refresh-token grant at /token, to keep with the pending step (a
    /// retry gets the one rotation the server made, not a refusal of the spent token).
    pub fn refresh_body(refresh_token: &SecretString) -> String {
        Self::form_body(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.expose()),
        ])
    }

    /// POST /nonce
    pub async fn nonce(&self) -> Result<String, ClientError> {
        let url = self.url(paths::NONCE);
        let n: NonceResponse = self.send_retry(|| Ok(self.http.post(&url))).await?;
        Ok(n.c_nonce)
    }

    /// POST /credential with one proof JWT and a fresh key (retries within the call
    /// send the same proof); returns the SD-JWT VC.
    pub async fn credential(
        &self,
        access_token: &SecretString,
        configuration_id: &str,
        proof_jwt: &str,
    ) -> Result<String, ClientError> {
        self.credential_keyed(
            access_token,
            configuration_id,
            proof_jwt,
            &IdempotencyKey::random(),
        )
        .await
    }

    /// POST /credential with `key`: a retried request gets the same credential.
    pub async fn credential_keyed(
        &self,
        access_token: &SecretString,
        configuration_id: &str,
        proof_jwt: &str,
        key: &IdempotencyKey,
    ) -> Result<String, ClientError> {
        let p = Prepared::json(
            key.clone(),
            &Self::credential_request(configuration_id, proof_jwt),
        )?;
        self.credential_prepared(access_token, &p).await
    }

    /// The credential request for `configuration_id` with one proof JWT.
    pub fn credential_request(configuration_id: &str, proof_jwt: &str) -> CredentialRequest {
        CredentialRequest {
            credential_configuration_id: configuration_id.to_owned(),
            proofs: Proofs {
                jwt: vec![proof_jwt.to_owned()],
            },
        }
    }

    /// POST /credential with a kept request (a [`CredentialRequest`] as JSON).
    pub async fn credential_prepared(
        &self,
        access_token: &SecretString,
        p: &Prepared,
    ) -> Result<String, ClientError> {
        let r: CredentialResponse = self
            .send_prepared(paths::CREDENTIAL, "application/json", p, |req| {
                self.authorize(req, paths::CREDENTIAL, Some(access_token.expose()))
            })
            .await?;
        r.credentials
            .into_iter()
            .next()
            .map(|c| c.credential)
            .ok_or_else(|| ClientError::Protocol("no credential".into()))
    }

    /// POST /api/v1/device/release (Lepas Perangkat).
    pub async fn release(
        &self,
        access_token: &SecretString,
        proof_jwt: &str,
    ) -> Result<(), ClientError> {
        let body = DeviceRequest {
            proof: proof_jwt.to_owned(),
            selfie_jpeg: None,
            selfie_upload: None,
        };
        self.release_prepared(
            access_token,
            &Prepared::json(IdempotencyKey::random(), &body)?,
        )
        .await
    }

    /// POST /api/v1/device/release with a kept request (a [`DeviceRequest`] as JSON).
    pub async fn release_prepared(
        &self,
        access_token: &SecretString,
        p: &Prepared,
    ) -> Result<(), ClientError> {
        let _: serde_json::Value = self
            .send_prepared(paths::DEVICE_RELEASE, "application/json", p, |req| {
                self.authorize(req, paths::DEVICE_RELEASE, Some(access_token.expose()))
            })
            .await?;
        Ok(())
    }

    /// Nonce, then a proof JWT from the device key (aud = `issuer`), then the credential.
    pub async fn fetch_credential(
        &self,
        access_token: &SecretString,
        configuration_id: &str,
        key: &crate::device_key::DeviceKey,
        issuer: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<String, ClientError> {
        let nonce = self.nonce().await?;
        let proof = key
            .proof_jwt(issuer, &nonce, now)
            .map_err(|e| ClientError::DeviceKey(e.to_string()))?;
        self.credential(access_token, configuration_id, &proof)
            .await
    }

    /// Lepas Perangkat with a fresh proof from the device key.
    pub async fn release_device(
        &self,
        access_token: &SecretString,
        key: &crate::device_key::DeviceKey,
        issuer: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), ClientError> {
        let nonce = self.nonce().await?;
        let proof = key
            .proof_jwt(issuer, &nonce, now)
            .map_err(|e| ClientError::DeviceKey(e.to_string()))?;
        self.release(access_token, &proof).await
    }
}
