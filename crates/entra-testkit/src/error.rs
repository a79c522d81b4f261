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
    /// A stable code for logs and assertions: `start`, `key`, `certificate`,
    /// `no_signing_key`, `json`, `cloud`, `public_base_url` or `seed`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Start(_) => "start",
            Self::Key(_) => "key",
            Self::Certificate(_) => "certificate",
            Self::NoSigningKey => "no_signing_key",
            Self::Json(_) => "json",
            Self::Cloud(_) => "cloud",
            Self::PublicBaseUrl(_) => "public_base_url",
            Self::Seed { .. } => "seed",
        }
    }

    /// This error and its sources, joined with `: ` (for answers of the control API
    /// and messages of the binary).
    pub fn to_string_with_sources(&self) -> String {
        let mut text = self.to_string();
        let mut source = std::error::Error::source(self);
        while let Some(s) = source {
            text.push_str(": ");
            text.push_str(&s.to_string());
            source = s.source();
        }
        text
    }
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
