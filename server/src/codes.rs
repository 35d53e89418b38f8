//! Activation codes and credential offers: the 6-digit code (kept as an HMAC, 24 h,
//! 5 tries), the pre-authorised code derived from a per-offer salt, the credential
//! offer, and the code's mail (queued with the code: [`code_mail`]).

use crate::crypto::{b64url, hmac_hex, hmac_raw, random_code};
use crate::state::AppState;
use crate::store::{Enrollment, Mail, MailPurpose};
use chrono::{DateTime, Duration, Utc};
use ikd_proto::wire::{
    CredentialOffer, Grants, PreAuthorizedCodeGrant, TxCode, KK_CONFIGURATION, KTP_CONFIGURATION,
};

pub const CODE_TTL_HOURS: i64 = 24;
pub const CODE_TRIES: u32 = 5;
/// Wrong codes an enrollment may make in all, across resends and re-authentications;
/// then no new code is sent (the resident goes to the desk).
pub const CODE_LIFETIME_TRIES: u32 = 20;

/// The wait before the next code check after `failures` wrong codes in all: none for
/// the first [`CODE_TRIES`], then 30 s doubling with each (at most an hour).
pub fn code_wait(failures: u32) -> Option<Duration> {
    let over = failures.checked_sub(CODE_TRIES + 1)?;
    Some(Duration::seconds((30i64 << over.min(7)).min(3600)))
}

/// The enrollment used up its lifetime of code tries.
pub fn code_tries_exhausted(e: &Enrollment) -> bool {
    e.code_failures >= CODE_LIFETIME_TRIES
}

/// The pre-authorised code of an enrollment with an offer, derived from its salt.
pub fn pre_authorized_code(state: &AppState, e: &Enrollment) -> Option<String> {
    let salt = e.offer_salt.as_ref()?;
    Some(b64url(&hmac_raw(
        &state.hmac_key,
        format!("offer|{}|{salt}", e.id).as_bytes(),
    )))
}

pub fn code_hash(state: &AppState, enrollment_id: &str, code: &str) -> String {
    hmac_hex(
        &state.hmac_key,
        &[b"code", enrollment_id.as_bytes(), code.as_bytes()],
    )
}

/// Gives `e` a fresh activation code (5 tries, 24 h); returns it for the mail.
pub fn new_code(state: &AppState, e: &mut Enrollment, now: DateTime<Utc>) -> String {
    let code = random_code();
    e.code_hash = Some(code_hash(state, &e.id, &code));
    e.code_expires_at = Some(now + Duration::hours(CODE_TTL_HOURS));
    e.code_attempts_left = CODE_TRIES.min(CODE_LIFETIME_TRIES.saturating_sub(e.code_failures));
    e.code_void = e.code_attempts_left == 0;
    code
}

/// The credential offer of an enrollment with a live pre-authorised code.
pub fn offer_for(state: &AppState, e: &Enrollment) -> Option<CredentialOffer> {
    pre_authorized_code(state, e).map(|code| CredentialOffer {
        credential_issuer: state.issuer.clone(),
        credential_configuration_ids: vec![KTP_CONFIGURATION.into(), KK_CONFIGURATION.into()],
        grants: Grants {
            pre_authorized_code: Some(PreAuthorizedCodeGrant {
                pre_authorized_code: code,
                tx_code: Some(TxCode {
                    input_mode: Some("numeric".into()),
                    length: Some(6),
                    description: Some(
                        "Masukkan kode aktivasi 6 angka yang dikirim ke email Anda".into(),
                    ),
                }),
            }),
        },
    })
}

/// Which mail carries a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeMail {
    /// "Kode Aktivasi IKD" after the officer's approval (or a resend).
    Activation,
    /// "Kode untuk mengatur ulang PIN IKD" after a re-authentication request.
    Reauth,
}

/// The mail carrying `code` to the resident of `e`, to queue in the same store write
/// as the code ([`crate::store::OutboxStore::update_enrollment_mailing`]); the outbox
/// worker sends it, so the answer never waits for SMTP.
pub fn code_mail(e: &Enrollment, code: &str, kind: CodeMail) -> Mail {
    let expires = e.code_expires_at.unwrap_or_else(Utc::now);
    // The code goes into the mail body only.
    let (subject, body, purpose) = match kind {
        CodeMail::Activation => (
            crate::mail::ACTIVATION_SUBJECT,
            crate::mail::activation_body(code, expires),
            MailPurpose::Activation,
        ),
        CodeMail::Reauth => (
            crate::mail::REAUTH_SUBJECT,
            crate::mail::reauth_body(code, expires),
            MailPurpose::Reauth,
        ),
    };
    Mail {
        to: e.email.clone(),
        subject: subject.to_owned(),
        body: ikd_proto::secret::SecretString::new(body),
        purpose,
        enrollment_id: Some(e.id.clone()),
    }
}

/// Seconds from `now` to the next UTC midnight (at least 1).
pub fn secs_until_tomorrow(now: DateTime<Utc>) -> u64 {
    let tomorrow = now.date_naive().succ_opt().unwrap_or(now.date_naive());
    (tomorrow
        .and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc())
        .unwrap_or(now)
        - now)
        .num_seconds()
        .max(1) as u64
}
