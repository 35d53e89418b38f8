//! Outgoing SMS behind a gateway trait ([`SmsGateway`]): a deployment plugs in its
//! operator's API; the demo writes each SMS into the dev outbox (table `sms_outbox`,
//! listed by GET /dev/outbox after the mails, with the phone number as `to` and
//! [`SMS_SUBJECT`] as the subject). Without a gateway
//! the message is not sent and a warning is logged (no number in it).

use crate::store::Store;
use chrono::{DateTime, Utc};
use ikd_proto::wire::OutboxMail;
use std::sync::Arc;

/// The subject of an SMS kept in the dev outbox.
pub const SMS_SUBJECT: &str = "SMS";

#[derive(Debug, thiserror::Error)]
pub enum SmsError {
    #[error("no SMS gateway is configured")]
    NotConfigured,
    #[error("SMS gateway: {0}")]
    Gateway(String),
}

/// Sends one text message. Synchronous (called on the blocking pool).
pub trait SmsGateway: Send + Sync {
    fn send(&self, to: &str, text: &str, now: DateTime<Utc>) -> Result<(), SmsError>;
}

/// The demo's gateway: every SMS goes into the dev outbox.
pub struct DevOutboxSms {
    pub store: Arc<dyn Store>,
}

impl SmsGateway for DevOutboxSms {
    fn send(&self, to: &str, text: &str, now: DateTime<Utc>) -> Result<(), SmsError> {
        self.store
            .push_sms(&OutboxMail {
                to: to.to_owned(),
                subject: SMS_SUBJECT.to_owned(),
                body: text.to_owned(),
                sent_at: now.to_rfc3339(),
            })
            .map_err(|e| SmsError::Gateway(e.to_string()))
    }
}

/// No gateway: nothing is sent.
pub struct NoSms;

impl SmsGateway for NoSms {
    fn send(&self, _to: &str, _text: &str, _now: DateTime<Utc>) -> Result<(), SmsError> {
        Err(SmsError::NotConfigured)
    }
}
