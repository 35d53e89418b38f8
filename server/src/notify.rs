//! Security notices to a resident's registered email and phone: a new device was
//! activated for their NIK, a PIN reset was asked for (with the way to cancel it), a
//! PIN reset was approved. Sent in the background (the answer does not wait for SMTP
//! or the SMS gateway); a failure is logged without the address.

use crate::state::SharedState;
use chrono::{DateTime, FixedOffset, Utc};

/// One notice: the mail's subject and body, and the SMS text.
#[derive(Debug, Clone)]
pub struct Notice {
    pub subject: String,
    pub body: String,
    pub sms: String,
}

/// Sends `notice` to `phone`, then to `email` (enrollment `id`, for the logs): one
/// task, so once the mail is out the SMS was handed to the gateway.
pub fn send(state: &SharedState, id: &str, email: &str, phone: &str, notice: Notice) {
    let now = state.clock.now();
    let state = state.clone();
    let (id, email, phone) = (id.to_owned(), email.to_owned(), phone.to_owned());
    let Notice { subject, body, sms } = notice;
    tokio::spawn(async move {
        let sms_state = state.clone();
        let sent = tokio::task::spawn_blocking(move || sms_state.sms.send(&phone, &sms, now)).await;
        match sent {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(enrollment = %id, error = %e, "notice SMS not sent"),
            Err(e) => tracing::warn!(enrollment = %id, error = %e, "notice SMS task failed"),
        }
        if let Err(e) = state.mailer.send(&email, &subject, &body, now).await {
            tracing::warn!(enrollment = %id, error = %e, "notice mail not sent");
        }
    });
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
