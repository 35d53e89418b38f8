//! Outgoing mail: the SMTP transport (lettre) the outbox worker sends through
//! ([`crate::outbox`]), and the mails' texts. Mails are queued in the store
//! (`store::outbox`), never sent inside a request.

use crate::config::{SmtpConfig, TlsMode};
use chrono::{DateTime, FixedOffset, Utc};
use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("bad address")]
    Address,
    #[error("cannot build the message: {0}")]
    Build(String),
    /// The SMTP server or the connection to it failed; `permanent` when the server
    /// refused for good (a 5xx reply), so trying again is useless.
    #[error("SMTP: {message}")]
    Smtp { message: String, permanent: bool },
    #[error("SMTP transport: {0}")]
    Transport(String),
}

impl MailError {
    /// Trying again cannot help.
    pub fn is_permanent(&self) -> bool {
        match self {
            Self::Address | Self::Build(_) => true,
            Self::Smtp { permanent, .. } => *permanent,
            Self::Transport(_) => false,
        }
    }
}

/// The SMTP relay mails go out through.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: String,
}

impl Mailer {
    pub fn new(c: &SmtpConfig) -> Result<Self, MailError> {
        let mut b = match c.tls {
            TlsMode::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&c.host),
            TlsMode::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&c.host)
                .map_err(|e| MailError::Transport(e.to_string()))?,
            TlsMode::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&c.host)
                .map_err(|e| MailError::Transport(e.to_string()))?,
        }
        .port(c.port)
        .timeout(Some(std::time::Duration::from_secs(15)));
        if let (Some(u), Some(p)) = (&c.username, &c.password) {
            b = b.credentials(Credentials::new(u.clone(), p.clone()));
        }
        Ok(Self {
            transport: b.build(),
            from: c.from.clone(),
        })
    }

    /// Sends one plain-text mail. The error never holds the body.
    pub async fn send(&self, to: &str, subject: &str, body: &str) -> Result<(), MailError> {
        let msg = Message::builder()
            .from(self.from.parse().map_err(|_| MailError::Address)?)
            .to(to.parse().map_err(|_| MailError::Address)?)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body.to_owned())
            .map_err(|e| MailError::Build(e.to_string()))?;
        self.transport
            .send(msg)
            .await
            .map(|_| ())
            .map_err(|e| MailError::Smtp {
                permanent: e.is_permanent(),
                message: e.to_string(),
            })
    }
}

pub const ACTIVATION_SUBJECT: &str = "Kode Aktivasi IKD";

/// The activation mail, in Bahasa Indonesia. The code is on its own line after
/// "Kode Aktivasi IKD Anda:".
pub fn activation_body(code: &str, expires_at: DateTime<Utc>) -> String {
    let wib = FixedOffset::east_opt(7 * 3600).map(|tz| expires_at.with_timezone(&tz));
    let until = match wib {
        Some(t) => t.format("%d-%m-%Y pukul %H:%M WIB").to_string(),
        None => expires_at.to_rfc3339(),
    };
    format!(
        "Yth. Bapak/Ibu,\r\n\r\n\
Permohonan Identitas Kependudukan Digital (IKD) Anda telah disetujui oleh petugas\r\n\
Disdukcapil.\r\n\r\n\
Kode Aktivasi IKD Anda:\r\n\r\n\
    {code}\r\n\r\n\
Masukkan kode ini di aplikasi IKD. Kode berlaku 24 jam (sampai {until}),\r\n\
hanya dapat dipakai satu kali, dan tidak berlaku lagi setelah 5 kali salah.\r\n\r\n\
Jangan berikan kode ini kepada siapa pun, termasuk petugas.\r\n\r\n\
Hormat kami,\r\n\
Dinas Kependudukan dan Pencatatan Sipil\r\n"
    )
}

pub const REAUTH_SUBJECT: &str = "Kode untuk mengatur ulang PIN IKD";

/// The re-authentication ("Lupa PIN") mail, in Bahasa Indonesia. The code is on its own
/// line after "Kode untuk mengatur ulang PIN IKD Anda:".
pub fn reauth_body(code: &str, expires_at: DateTime<Utc>) -> String {
    format!(
        "Yth. Bapak/Ibu,\r\n\r\n\
Kami menerima permintaan untuk mengatur ulang PIN IKD dari perangkat yang terdaftar\r\n\
untuk IKD Anda.\r\n\r\n\
Kode untuk mengatur ulang PIN IKD Anda:\r\n\r\n\
    {code}\r\n\r\n\
Masukkan kode ini di aplikasi IKD. Kode berlaku 24 jam (sampai {}),\r\n\
hanya dapat dipakai satu kali, dan tidak berlaku lagi setelah 5 kali salah.\r\n\r\n\
Jika Anda tidak meminta pengaturan ulang PIN, abaikan email ini dan segera hubungi\r\n\
Disdukcapil. Jangan berikan kode ini kepada siapa pun, termasuk petugas.\r\n\r\n\
Hormat kami,\r\n\
Dinas Kependudukan dan Pencatatan Sipil\r\n",
        wib(expires_at)
    )
}

fn wib(t: DateTime<Utc>) -> String {
    match FixedOffset::east_opt(7 * 3600).map(|tz| t.with_timezone(&tz)) {
        Some(t) => t.format("%d-%m-%Y pukul %H:%M WIB").to_string(),
        None => t.to_rfc3339(),
    }
}

/// Finds the code in an activation or re-authentication mail body (tests, the demo).
pub fn extract_code(body: &str) -> Option<String> {
    let after = body
        .split("Kode Aktivasi IKD Anda:")
        .nth(1)
        .or_else(|| body.split("Kode untuk mengatur ulang PIN IKD Anda:").nth(1))?;
    let digits: String = after
        .chars()
        .skip_while(|c| !c.is_ascii_digit())
        .take_while(|c| c.is_ascii_digit())
        .collect();
    (digits.len() == 6).then_some(digits)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn body_carries_the_code_and_validity() {
        let b = activation_body("012345", Utc::now());
        assert_eq!(extract_code(&b).as_deref(), Some("012345"));
        assert!(b.contains("24 jam"));
        assert!(b.is_ascii());
        let r = reauth_body("987654", Utc::now());
        assert_eq!(extract_code(&r).as_deref(), Some("987654"));
        assert!(r.is_ascii() && r.contains("mengatur ulang PIN"));
    }
}
