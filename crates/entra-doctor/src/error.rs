//! The error type of this crate.

use std::path::PathBuf;

/// Why an input could not be explained or a configuration could not be read.
///
/// Messages never contain a token, a secret or a claim set: only which part of
/// the input is wrong and which setting to change.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input is longer than this crate reads.
    #[error("input is {len} bytes long, more than the {max} read")]
    TooLarge {
        /// The input's length in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The input is not a compact JWT (three base64url parts with JSON header and claims).
    #[error("not a JWT: {reason}")]
    NotAJwt {
        /// What is wrong, without any of the input.
        reason: &'static str,
    },
    /// The input is an encrypted token (JWE, five parts): only its audience can read it.
    #[error(
        "the token is encrypted (JWE, five parts): only the API it was issued for can read it; Entra encrypts tokens for some Microsoft APIs and for personal accounts"
    )]
    Encrypted,
    /// The input is neither an AADSTS code, an Entra error document, a redirect URL
    /// with `error=`, nor a text naming an AADSTS code.
    #[error("not an Entra error: {reason}")]
    NotAnEntraError {
        /// What was expected.
        reason: &'static str,
    },
    /// A setting has a value that cannot be used.
    #[error("{setting}: {reason}")]
    Config {
        /// The setting, as its variable name or file key (`ENTRA_CLIENT_ID`).
        setting: String,
        /// What is wrong and what to change.
        reason: String,
    },
    /// A file (configuration, certificate, token) could not be read.
    #[error("cannot read {what} {path}")]
    Read {
        /// What the file is for.
        what: &'static str,
        /// The path.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The configuration file is not a JSON object of known settings.
    #[error("configuration file {path} is not a JSON object of known settings")]
    ConfigFormat {
        /// The path.
        path: PathBuf,
        /// The parse error (it names the key or position, not values of secrets).
        #[source]
        source: serde_json::Error,
    },
    /// The HTTP client could not be built.
    #[error("cannot build the HTTP client")]
    HttpClient(#[source] reqwest::Error),
}

impl Error {
    /// A stable identifier of the failure, for logs and scripts.
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooLarge { .. } => "input_too_large",
            Self::NotAJwt { .. } => "not_a_jwt",
            Self::Encrypted => "encrypted_token",
            Self::NotAnEntraError { .. } => "not_an_entra_error",
            Self::Config { .. } => "invalid_config",
            Self::Read { .. } => "read_failed",
            Self::ConfigFormat { .. } => "invalid_config_file",
            Self::HttpClient(_) => "http_client",
        }
    }

    pub(crate) fn config(setting: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::Config { setting: setting.into(), reason: reason.into() }
    }
}

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable() {
        assert_eq!(Error::Encrypted.code(), "encrypted_token");
        assert_eq!(Error::NotAJwt { reason: "x" }.code(), "not_a_jwt");
        let e = Error::config("ENTRA_CLIENT_ID", "not a GUID");
        assert_eq!(e.to_string(), "ENTRA_CLIENT_ID: not a GUID");
        assert_eq!(e.code(), "invalid_config");
    }
}
