//! Security notices to a resident's registered email and phone: a new device was
//! activated for their NIK, a PIN reset was asked for (with the way to cancel it). The
//! mail is queued in the outbox (`store::outbox`) in the same transaction as what it
//! tells; the SMS goes to the gateway ([`crate::sms`]) after the commit. A failure is
//! logged without the address (a node without a gateway says so once, at start).

use crate::state::AppState;
use crate::store::{Mail, MailPurpose};
use chrono::{DateTime, FixedOffset, Utc};

/// One notice: the mail's subject and body, and the SMS text.
#[derive(Debug, Clone)]
pub struct Notice {
    pub subject: String,
    pub body: String,
    pub sms: String,
}

impl Notice {
    /// The notice's mail to `to`, about enrollment `enrollment_id`, to queue.
    pub fn mail(&self, to: &str, enrollment_id: &str) -> Mail {
        Mail {
            to: to.to_owned(),
            subject: self.subject.clone(),
            body: ikd_proto::secret::SecretString::new(self.body.clone()),
            purpose: MailPurpose::Notice,
            enrollment_id: Some(enrollment_id.to_owned()),
        }
    }
}

/// Sends the notice's SMS to `phone` now (the caller is on the blocking pool).
pub fn sms(state: &AppState, enrollment_id: &str, phone: &str, notice: &Notice) {
    match state.sms.send(phone, &notice.sms, state.clock.now()) {
        Ok(()) => {}
        // No gateway: said once when the node started (state.rs).
        Err(crate::sms::SmsError::NotConfigured) => {
            tracing::debug!(enrollment = %enrollment_id, "notice SMS not sent: no gateway");
        }
        Err(e) => tracing::warn!(enrollment = %enrollment_id, error = %e, "notice SMS not sent"),
    }
}

/// A time in WIB, as the notices print it.
pub fn wib(t: DateTime<Utc>) -> String {
    match FixedOffset::east_opt(7 * 3600).map(|tz| t.with_timezone(&tz)) {
        Some(t) => t.format("%d-%m-%Y pukul %H:%M WIB").to_string(),
        None => t.to_rfc3339(),
    }
}

pub const NEW_DEVICE_SUBJECT: &str = "IKD Anda diaktifkan di perangkat baru";

/// IKD was activated on a new device; the device this address was registered with no
/// longer works.
pub fn new_device(at: DateTime<Utc>) -> Notice {
    let when = wib(at);
    Notice {
        subject: NEW_DEVICE_SUBJECT.to_owned(),
        body: format!(
            "Yth. Bapak/Ibu,\r\n\r\n\
IKD untuk NIK Anda diaktifkan di perangkat baru pada {when}.\r\n\
Perangkat yang sebelumnya terdaftar tidak dapat dipakai lagi.\r\n\r\n\
Jika bukan Anda yang melakukannya, segera datang ke Disdukcapil dengan KTP-el\r\n\
agar perangkat baru diblokir.\r\n\r\n\
Hormat kami,\r\n\
Dinas Kependudukan dan Pencatatan Sipil\r\n"
        ),
        sms: format!(
            "IKD: NIK Anda diaktifkan di perangkat baru pada {when}. Perangkat lama tidak berlaku lagi. Bukan Anda? Segera ke Disdukcapil."
        ),
    }
}
