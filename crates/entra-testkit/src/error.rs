//! The error type of this crate.

/// Why the mock could not do what a test asked.
///
/// | Variant | `code()` | Class |
/// |---|---|---|
/// | [`Start`](Error::Start) | `mock_start` | transient |
/// | [`Key`](Error::Key) | `signing_key` | other |
/// | [`Certificate`](Error::Certificate) | `certificate` | other |
/// | [`NoSigningKey`](Error::NoSigningKey) | `no_signing_key` | config |
/// | [`Json`](Error::Json) | `json` | other |
/// | [`TokenRefused`](Error::TokenRefused) | `token_refused` | unauthorized |
/// | [`Cloud`](Error::Cloud) | `invalid_mock_address` | other |
/// | [`PublicBaseUrl`](Error::PublicBaseUrl) | `invalid_public_base_url` | config |
/// | [`Seed`](Error::Seed) | `invalid_seed` | config |
///
/// "Other" is a fault of the test kit or its environment; `config` means the test
/// set the mock up in a way that cannot work.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The mock's HTTP server could not start (the port is taken, ...).
    #[error("cannot start the mock Entra server")]
    Start(#[source] std::io::Error),
    /// A key could not be used to sign or verify.
    #[error("signing key error")]
    Key(#[source] jsonwebtoken::errors::Error),
    /// A certificate or key could not be generated.
    #[error("cannot generate a test certificate: {0}")]
    Certificate(String),
    /// Every key was retired: nothing can be signed.
    #[error("no signing key: every key was retired")]
    NoSigningKey,
    /// JSON serialization failed.
    #[error("json serialization failed")]
    Json(#[source] serde_json::Error),
    /// [`crate::MockEntra::verify_token`] refused a token.
    #[error("token refused: {reason}")]
    TokenRefused {
        /// The check that failed.
        reason: &'static str,
    },
    /// The mock's address does not make a valid cloud.
    #[error("invalid mock address")]
    Cloud(#[source] entra_core::Error),
    /// The public base URL is not an `http`/`https` origin (no path, query or fragment).
    #[error("the public base URL {0:?} is not an http(s) origin")]
    PublicBaseUrl(String),
    /// A seed file ([`MockEntra::apply_config`](crate::MockEntra::apply_config)) or
    /// a control API request could not be used: `reason` says why, `source` holds
    /// the parse or I/O error when there is one.
    #[error("invalid directory seed: {reason}")]
    Seed {
        /// What is wrong (which field, user, app or tenant).
        reason: String,
        /// The underlying parse or I/O error.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
}

impl Error {
    /// This error and its sources, joined with `: ` (for answers of the control API
    /// and messages of the binary).
    pub fn to_string_with_sources(&self) -> String {
        entra_core::words::error_with_sources(self)
    }
}

impl Error {
    /// The one place each variant gets its code and class: no wildcard arm, so a
    /// new variant must be classified here.
    fn classify(&self) -> (&'static str, entra_core::ErrorClass) {
        use entra_core::ErrorClass::{Config, Other, Transient, Unauthorized};
        match self {
            Self::Start(_) => ("mock_start", Transient),
            Self::Key(_) => ("signing_key", Other),
            Self::Certificate(_) => ("certificate", Other),
            Self::NoSigningKey => ("no_signing_key", Config),
            Self::Json(_) => ("json", Other),
            Self::TokenRefused { .. } => ("token_refused", Unauthorized),
            Self::Cloud(_) => ("invalid_mock_address", Other),
            Self::PublicBaseUrl(_) => ("invalid_public_base_url", Config),
            Self::Seed { .. } => ("invalid_seed", Config),
        }
    }
}

entra_core::auth_error!(Error);

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_snake_case_and_stable() {
        let errors = [
            Error::Start(std::io::Error::other("x")),
            Error::Key(jsonwebtoken::errors::ErrorKind::InvalidToken.into()),
            Error::Certificate(String::new()),
            Error::NoSigningKey,
            Error::Json(serde_json::from_str::<u8>("x").unwrap_err()),
            Error::TokenRefused { reason: "" },
            Error::Cloud(entra_core::Error::MissingTenantId),
            Error::PublicBaseUrl(String::new()),
            Error::Seed { reason: String::new(), source: None },
        ];
        let codes: Vec<&str> = errors.iter().map(Error::code).collect();
        assert_eq!(
            codes,
            [
                "mock_start",
                "signing_key",
                "certificate",
                "no_signing_key",
                "json",
                "token_refused",
                "invalid_mock_address",
                "invalid_public_base_url",
                "invalid_seed",
            ]
        );
        crate::doubles::assert_error_codes(&codes);
        for e in &errors {
            let classes = [e.is_unauthorized(), e.is_transient(), e.is_config()];
            assert!(classes.iter().filter(|c| **c).count() <= 1, "{e:?}");
        }
    }
}
