//! Email addresses, checked with practical rules (not the full RFC 5322 grammar):
//! one `@`; a local part of 1–64 characters from the usual set (letters, digits and
//! ``!#$%&'*+/=?^_`{|}~.-``, dots not first, last or doubled); a domain of at least two
//! labels of letters, digits and hyphens (1–63 each, no hyphen at either end, the last
//! not all digits); no spaces; at most 254 characters. Normalising trims the input and
//! lowercases the domain (the local part is kept as typed).

pub const MAX_LEN: usize = 254;
pub const MAX_LOCAL_LEN: usize = 64;
const MAX_LABEL_LEN: usize = 63;

/// What is wrong with an email address. Messages never repeat the address.
#[derive(Debug, thiserror::Error, Clone, Copy, PartialEq, Eq)]
pub enum EmailError {
    #[error("the email address is empty")]
    Empty,
    #[error("an email address has no spaces")]
    Whitespace,
    #[error("an email address has one @, found {0}")]
    AtCount(usize),
    #[error("the part before @ is empty")]
    EmptyLocal,
    #[error("the part before @ has at most 64 characters, got {0}")]
    LocalTooLong(usize),
    #[error("the part before @ has a character that is not allowed")]
    LocalChar,
    #[error("the part before @ starts or ends with a dot or has two dots in a row")]
    LocalDots,
    #[error("the domain needs a dot (e.g. example.com)")]
    DomainNoDot,
    #[error("the domain has an empty, too long or malformed label")]
    DomainLabel,
    #[error("an email address has at most 254 characters, got {0}")]
    TooLong(usize),
}

impl EmailError {
    pub fn reason(&self) -> &'static str {
        match self {
            EmailError::Empty => "empty",
            EmailError::Whitespace => "whitespace",
            EmailError::AtCount(_) => "at_count",
            EmailError::EmptyLocal => "empty_local",
            EmailError::LocalTooLong(_) => "local_too_long",
            EmailError::LocalChar => "local_char",
            EmailError::LocalDots => "local_dots",
            EmailError::DomainNoDot => "domain_no_dot",
            EmailError::DomainLabel => "domain_label",
            EmailError::TooLong(_) => "too_long",
        }
    }
}

fn local_char_ok(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c)
}

fn label_ok(label: &str) -> bool {
    !label.is_empty()
        && label.len() <= MAX_LABEL_LEN
        && label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !label.starts_with('-')
        && !label.ends_with('-')
}

/// Checks and normalises an email address: trimmed, domain lowercased.
pub fn normalize(input: &str) -> Result<String, EmailError> {
    let s = input.trim();
    if s.is_empty() {
        return Err(EmailError::Empty);
    }
    if s.chars().any(char::is_whitespace) {
        return Err(EmailError::Whitespace);
    }
    let len = s.chars().count();
    if len > MAX_LEN {
        return Err(EmailError::TooLong(len));
    }
    let ats = s.matches('@').count();
    if ats != 1 {
        return Err(EmailError::AtCount(ats));
    }
    let (local, domain) = s.split_once('@').ok_or(EmailError::AtCount(0))?;
    if local.is_empty() {
        return Err(EmailError::EmptyLocal);
    }
    let local_len = local.chars().count();
    if local_len > MAX_LOCAL_LEN {
        return Err(EmailError::LocalTooLong(local_len));
    }
    if !local.chars().all(local_char_ok) {
        return Err(EmailError::LocalChar);
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return Err(EmailError::LocalDots);
    }
    let domain = domain.to_ascii_lowercase();
    if !domain.contains('.') {
        return Err(EmailError::DomainNoDot);
    }
    if !domain.split('.').all(label_ok) {
        return Err(EmailError::DomainLabel);
    }
    let tld = domain.rsplit('.').next().unwrap_or_default();
    if tld.bytes().all(|b| b.is_ascii_digit()) {
        return Err(EmailError::DomainLabel);
    }
    Ok(format!("{local}@{domain}"))
}

/// Masks an address for display: first character of the local part, then `***`:
/// "siti.aminah@example.com" -> "s***@example.com". Anything without an `@` is `***`.
pub fn mask(email: &str) -> String {
    match email.trim().rsplit_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".to_owned(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn valid_and_normalised() {
        assert_eq!(
            normalize("  Siti.Aminah@Example.CO.ID \n").unwrap(),
            "Siti.Aminah@example.co.id"
        );
        assert_eq!(
            normalize("a+tag@mail-1.example.org").unwrap(),
            "a+tag@mail-1.example.org"
        );
        assert_eq!(normalize("o'neil_x@x.io").unwrap(), "o'neil_x@x.io");
        let local = "a".repeat(64);
        assert!(normalize(&format!("{local}@example.com")).is_ok());
    }

    #[test]
    fn errors() {
        use EmailError::*;
        let cases: &[(&str, EmailError)] = &[
            ("", Empty),
            ("   ", Empty),
            ("a b@example.com", Whitespace),
            ("a@exa mple.com", Whitespace),
            ("example.com", AtCount(0)),
            ("a@b@example.com", AtCount(2)),
            ("@example.com", EmptyLocal),
            ("a@localhost", DomainNoDot),
            ("a@", DomainNoDot),
            ("a@example..com", DomainLabel),
            ("a@.example.com", DomainLabel),
            ("a@example.com.", DomainLabel),
            ("a@-example.com", DomainLabel),
            ("a@example-.com", DomainLabel),
            ("a@exa_mple.com", DomainLabel),
            ("a@1.2.3.4", DomainLabel),
            ("a@contoh.émail.id", DomainLabel),
            (".a@example.com", LocalDots),
            ("a.@example.com", LocalDots),
            ("a..b@example.com", LocalDots),
            ("a(b)@example.com", LocalChar),
            ("sití@example.com", LocalChar),
            ("a\"b@example.com", LocalChar),
        ];
        for (input, want) in cases {
            assert_eq!(normalize(input), Err(*want), "{input:?}");
        }
        let long_local = format!("{}@example.com", "a".repeat(65));
        assert_eq!(normalize(&long_local), Err(LocalTooLong(65)));
        let long = format!("a@{}com", format!("{}.", "b".repeat(60)).repeat(5));
        assert_eq!(normalize(&long), Err(TooLong(long.len())));
        let just_fits = format!("a@{}com", format!("{}.", "b".repeat(61)).repeat(4));
        assert_eq!(just_fits.len(), 253);
        assert!(normalize(&just_fits).is_ok());
        let long_label = format!("a@{}.com", "b".repeat(64));
        assert_eq!(normalize(&long_label), Err(DomainLabel));
    }

    #[test]
    fn reason_and_mask() {
        assert_eq!(normalize("nope").unwrap_err().reason(), "at_count");
        assert_eq!(mask("siti.aminah@example.com"), "s***@example.com");
        assert_eq!(mask("nope"), "***");
    }
}
