//! Secrets are types: PINs, keys, tokens and codes live in [`Sensitive`], which
//! zeroizes its contents on drop and never prints them in Debug or Display.

use serde::{Deserialize, Serialize};
use std::fmt;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// A secret value. Zeroized on drop, redacted in `Debug` and `Display`.
///
/// The only way to the inner value is [`Sensitive::expose`]; each call site says why
/// it needs the plaintext.
#[derive(Clone, Default, PartialEq, Eq, Zeroize, ZeroizeOnDrop, Deserialize, Serialize)]
#[serde(transparent)]
pub struct Sensitive<T: Zeroize>(T);

impl<T: Zeroize> Sensitive<T> {
    pub fn new(value: T) -> Self {
        Self(value)
    }

    /// Gives read access to the secret. Callers comment why they need it.
    pub fn expose(&self) -> &T {
        &self.0
    }

    /// Gives write access to the secret (for filling a buffer in place).
    pub fn expose_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

impl<T: Zeroize> From<T> for Sensitive<T> {
    fn from(value: T) -> Self {
        Self(value)
    }
}

impl<T: Zeroize> fmt::Debug for Sensitive<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Sensitive(<redacted>)")
    }
}

impl<T: Zeroize> fmt::Display for Sensitive<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// A secret string (PIN, activation code, token).
pub type SecretString = Sensitive<String>;
/// Secret bytes (keys, PKCS#8 documents).
pub type SecretBytes = Sensitive<Vec<u8>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_are_redacted() {
        let s = SecretString::new("123456".to_owned());
        assert_eq!(format!("{s:?}"), "Sensitive(<redacted>)");
        assert_eq!(format!("{s}"), "<redacted>");
        assert!(!format!("{s:?} {s}").contains("123456"));
        assert_eq!(s.expose(), "123456");
    }
}
