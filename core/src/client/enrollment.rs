//! The enrollment API: submit, status, the desk QR scan, resend, and "Lupa PIN".

use super::{BackendClient, ClientError, IdempotencyKey, Prepared};
use crate::secret::SecretString;
use crate::wire::{
    paths, DeviceRequest, EnrollRequest, EnrollResponse, EnrollmentStatusResponse, ReauthResponse,
    ScanRequest,
};

const JSON: &str = "application/json";

impl BackendClient {
    /// POST /api/v1/enrollments with a fresh idempotency key (retries within this
    /// call are safe; across restarts use [`Self::submit_keyed`] with a kept key).
    pub async fn submit(&self, req: &EnrollRequest) -> Result<EnrollResponse, ClientError> {
        self.submit_keyed(req, &IdempotencyKey::random()).await
    }

    /// POST /api/v1/enrollments with `key`: a retried submit creates one enrollment.
    pub async fn submit_keyed(
        &self,
        req: &EnrollRequest,
        key: &IdempotencyKey,
    ) -> Result<EnrollResponse, ClientError> {
        self.submit_prepared(&Prepared::json(key.clone(), req)?)
            .await
    }

    /// POST /api/v1/enrollments with a kept request (an [`EnrollRequest`] as JSON).
    pub async fn submit_prepared(&self, p: &Prepared) -> Result<EnrollResponse, ClientError> {
        self.submit_prepared_counted(p, None).await
    }

    /// [`Self::submit_prepared`], telling `on` the bytes of the body handed on.
    pub async fn submit_prepared_counted(
        &self,
        p: &Prepared,
        on: Option<&super::OnUpload>,
    ) -> Result<EnrollResponse, ClientError> {
        self.send_prepared_counted(paths::ENROLLMENTS, JSON, p, Ok, on)
            .await
    }

    pub(super) fn enrollment_path(template: &str, id: &str) -> String {
        let id: String = url::form_urlencoded::byte_serialize(id.as_bytes()).collect();
        template.replace("{id}", &id)
    }

    /// GET /api/v1/enrollments/{id}
    pub async fn status(
        &self,
        enrollment_id: &str,
        enrollment_token: &SecretString,
    ) -> Result<EnrollmentStatusResponse, ClientError> {
        let url = self.url(&Self::enrollment_path(paths::ENROLLMENT, enrollment_id));
        // The token goes in the Authorization header only.
        self.send_retry(|| Ok(self.http.get(&url).bearer_auth(enrollment_token.expose())))
            .await
    }

    /// POST /api/v1/enrollments/{id}/scan (a fresh key; see [`Self::scan_keyed`]).
    pub async fn scan(
        &self,
        enrollment_id: &str,
        enrollment_token: &SecretString,
        qr: &str,
    ) -> Result<EnrollmentStatusResponse, ClientError> {
        self.scan_keyed(
            enrollment_id,
            enrollment_token,
            qr,
            &IdempotencyKey::random(),
        )
        .await
    }

    /// POST /api/v1/enrollments/{id}/scan with `key`.
    pub async fn scan_keyed(
        &self,
        enrollment_id: &str,
        enrollment_token: &SecretString,
        qr: &str,
        key: &IdempotencyKey,
    ) -> Result<EnrollmentStatusResponse, ClientError> {
        let body = ScanRequest { qr: qr.to_owned() };
        let p = Prepared::json(key.clone(), &body)?;
        self.scan_prepared(enrollment_id, enrollment_token, &p)
            .await
    }

    /// POST /api/v1/enrollments/{id}/scan with a kept request (a [`ScanRequest`]).
    pub async fn scan_prepared(
        &self,
        enrollment_id: &str,
        enrollment_token: &SecretString,
        p: &Prepared,
    ) -> Result<EnrollmentStatusResponse, ClientError> {
        let path = Self::enrollment_path(paths::ENROLLMENT_SCAN, enrollment_id);
        self.send_prepared(&path, JSON, p, |r| {
            Ok(r.bearer_auth(enrollment_token.expose()))
        })
        .await
    }

    /// POST /api/v1/enrollments/{id}/resend (a fresh key; see [`Self::resend_keyed`]).
    pub async fn resend(
        &self,
        enrollment_id: &str,
        enrollment_token: &SecretString,
    ) -> Result<EnrollmentStatusResponse, ClientError> {
        self.resend_keyed(enrollment_id, enrollment_token, &IdempotencyKey::random())
            .await
    }

    /// POST /api/v1/enrollments/{id}/resend with `key`: a retried resend sends one mail.
    pub async fn resend_keyed(
        &self,
        enrollment_id: &str,
        enrollment_token: &SecretString,
        key: &IdempotencyKey,
    ) -> Result<EnrollmentStatusResponse, ClientError> {
        let url = self.url(&Self::enrollment_path(
            paths::ENROLLMENT_RESEND,
            enrollment_id,
        ));
        self.send_keyed(key, || {
            Ok(self.http.post(&url).bearer_auth(enrollment_token.expose()))
        })
        .await
    }

    /// POST /api/v1/enrollments/{id}/reauth ("Lupa PIN"; a fresh idempotency key per
    /// call, retried with it; the wallet keeps it: [`Self::reauth_prepared`]): the enrollment
    /// token plus a proof JWT from the enrolled device key. The server revokes the
    /// device's tokens and mails a new code; redeem the returned offer with [`Self::token`].
    pub async fn reauth(
        &self,
        enrollment_id: &str,
        enrollment_token: &SecretString,
        proof_jwt: &str,
    ) -> Result<ReauthResponse, ClientError> {
        self.reauth_with_selfie(enrollment_id, enrollment_token, proof_jwt, None)
            .await
    }

    /// [`Self::reauth`] with a fresh selfie (base64 JPEG) for the officer's review; None:
    /// the resident goes to the desk.
    pub async fn reauth_with_selfie(
        &self,
        enrollment_id: &str,
        enrollment_token: &SecretString,
        proof_jwt: &str,
        selfie_jpeg: Option<String>,
    ) -> Result<ReauthResponse, ClientError> {
        let body = DeviceRequest {
            proof: proof_jwt.to_owned(),
            selfie_jpeg,
            selfie_upload: None,
        };
        let p = Prepared::json(IdempotencyKey::random(), &body)?;
        self.reauth_prepared(enrollment_id, enrollment_token, &p, None)
            .await
    }

    /// [`Self::reauth`] with a fresh selfie sent first as a resumable upload
    /// ([`Self::create_upload`], [`Self::upload`]): `upload_id` names it, and the
    /// server uses it up (one upload, one reset request).
    pub async fn reauth_with_upload(
        &self,
        enrollment_id: &str,
        enrollment_token: &SecretString,
        proof_jwt: &str,
        upload_id: &str,
    ) -> Result<ReauthResponse, ClientError> {
        let body = DeviceRequest {
            proof: proof_jwt.to_owned(),
            selfie_jpeg: None,
            selfie_upload: Some(upload_id.to_owned()),
        };
        let p = Prepared::json(IdempotencyKey::random(), &body)?;
        self.reauth_prepared(enrollment_id, enrollment_token, &p, None)
            .await
    }

    /// POST /api/v1/enrollments/{id}/reauth with a kept request (a [`DeviceRequest`]),
    /// telling `on` the bytes of the body (the selfie) handed on.
    pub async fn reauth_prepared(
        &self,
        enrollment_id: &str,
        enrollment_token: &SecretString,
        p: &Prepared,
        on: Option<&super::OnUpload>,
    ) -> Result<ReauthResponse, ClientError> {
        let path = Self::enrollment_path(paths::ENROLLMENT_REAUTH, enrollment_id);
        self.send_prepared_counted(
            &path,
            JSON,
            p,
            |r| Ok(r.bearer_auth(enrollment_token.expose())),
            on,
        )
        .await
    }

    /// Re-authentication with a fresh proof from the device key.
    pub async fn reauth_device(
        &self,
        enrollment_id: &str,
        enrollment_token: &SecretString,
        key: &crate::device_key::DeviceKey,
        issuer: &str,
        now: chrono::DateTime<chrono::Utc>,
        selfie_jpeg: Option<String>,
    ) -> Result<ReauthResponse, ClientError> {
        let nonce = self.nonce().await?;
        let proof = key
            .proof_jwt(issuer, &nonce, now)
            .map_err(|e| ClientError::DeviceKey(e.to_string()))?;
        self.reauth_with_selfie(enrollment_id, enrollment_token, &proof, selfie_jpeg)
            .await
    }
}
