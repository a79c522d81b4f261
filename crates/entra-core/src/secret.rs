//! Secrets that never print.

use std::fmt;

use serde::{Deserialize, Deserializer};

/// A secret string: a client secret, a token, a PKCE verifier, a code.
///
/// Its memory is zeroized on drop, `Debug` prints `Secret([redacted])`, it has no
/// `Display` and no `Serialize`, and reading it takes an explicit
/// [`Secret::expose_secret`]. It deserializes from a plain string so it can sit in
/// configuration structs.
///
/// ```
/// use entra_core::Secret;
/// let s = Secret::new("s3cr3t~value");
/// assert_eq!(format!("{s:?}"), "Secret([redacted])");
/// assert_eq!(s.expose_secret(), "s3cr3t~value");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret text. Never log it.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    /// Whether the secret is the empty string.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        wipe(std::mem::take(&mut self.0).into_bytes());
    }
}

/// Overwrites all of `bytes`' memory, spare capacity included, with zeros, then
/// frees it. The barrier makes the compiler assume the zeros are read, so the
/// writes are kept; they are plain writes (a vectorized fill), not one volatile
/// write per byte as `zeroize` does: a 1.5 KB token is wiped in a few dozen
/// instructions instead of 1,500 stores.
fn wipe(mut bytes: Vec<u8>) {
    bytes.fill(0);
    bytes.resize(bytes.capacity(), 0);
    zeroize::optimization_barrier(bytes.as_slice());
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Self::new(s)
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Self::new(s)
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Self::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_prints() {
        let s = Secret::new("hunter2");
        assert!(!format!("{s:?}").contains("hunter2"));
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct Config {
            client_secret: Secret,
        }
        let c: Config = serde_json::from_str(r#"{"client_secret":"hunter2"}"#).unwrap();
        assert!(!format!("{c:?}").contains("hunter2"));
        assert_eq!(c.client_secret.expose_secret(), "hunter2");
    }
}
