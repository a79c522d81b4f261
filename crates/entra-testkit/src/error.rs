//! The error type of this crate.

/// Why the mock could not do what a test asked.
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
    /// The mock's address does not make a valid cloud.
    #[error("invalid mock address")]
    Cloud(#[source] entra_core::Error),
    /// The public base URL is not an `http`/`https` origin (no path, query or fragment).
    #[error("the public base URL {0:?} is not an http(s) origin")]
    PublicBaseUrl(String),
    /// A seed file (`--config`) or a control API request could not be used.
    #[error("invalid directory seed: {0}")]
    Seed(String),
}

impl entra_core::AuthError for Error {
    fn is_unauthorized(&self) -> bool {
        false
    }

    fn is_transient(&self) -> bool {
        matches!(self, Self::Start(_))
    }
}

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
