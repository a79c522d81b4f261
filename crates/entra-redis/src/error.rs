//! The error type of this crate.

use std::time::Duration;

use entra_core::AuthError;

/// Why a Redis backend could not be set up or could not answer.
///
/// Configuration variants ([`Error::is_config`]) come from [`crate::RedisConfig`]
/// and [`crate::Keyring`]; the others from talking to Redis
/// ([`Error::is_transient`]). No variant holds a key, a token or a stored value,
/// and URLs are shown without their password.
///
/// | variant | [`Error::code`] |
/// | --- | --- |
/// | [`Error::MissingVariable`] | `missing_variable` |
/// | [`Error::InvalidSetting`] | `invalid_setting` |
/// | [`Error::InvalidUrl`] | `invalid_redis_url` |
/// | [`Error::InvalidKeys`] | `invalid_keys` |
/// | [`Error::Connect`] | `redis_unreachable` |
/// | [`Error::NoRuntime`] | `no_runtime` |
/// | [`Error::Redis`] | `redis_failed` |
/// | [`Error::Timeout`] | `redis_timeout` |
/// | [`Error::Encode`] | `encode_failed` |
/// | [`Error::Decode`] | `decode_failed` |
/// | [`Error::ValueTooLarge`] | `value_too_large` |
/// | [`Error::Encrypt`] | `encrypt_failed` |
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A required environment variable is not set (or empty).
    #[error("{name} is not set")]
    MissingVariable {
        /// The variable.
        name: &'static str,
    },
    /// A setting has a value out of its range or in the wrong format.
    #[error("{name}: {reason}")]
    InvalidSetting {
        /// The setting (an environment variable or a [`crate::RedisConfig`] field).
        name: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The Redis URL cannot be used.
    #[error("invalid Redis URL {url}")]
    InvalidUrl {
        /// The URL without its password.
        url: String,
        /// Why the client refused it.
        #[source]
        source: redis::RedisError,
    },
    /// The encryption keys cannot be used (see [`crate::Keyring::parse`]).
    #[error("invalid encryption keys: {reason}")]
    InvalidKeys {
        /// What is wrong (never the key material).
        reason: String,
    },
    /// [`crate::Connection::connect`] could not reach Redis.
    #[error("cannot connect to Redis at {url}")]
    Connect {
        /// The URL without its password.
        url: String,
        /// The last connection error.
        #[source]
        source: redis::RedisError,
    },
    /// [`crate::Connection::connect_lazy`] was called outside a Tokio runtime.
    #[error("a Redis connection needs a Tokio runtime")]
    NoRuntime,
    /// Redis refused the command or could not be reached.
    #[error("redis command failed")]
    Redis(#[source] redis::RedisError),
    /// Redis did not answer in time.
    #[error("redis did not answer within {after:?}")]
    Timeout {
        /// The time limit that passed.
        after: Duration,
    },
    /// A value could not be serialized before encryption.
    #[error("cannot encode the value to store")]
    Encode(#[source] serde_json::Error),
    /// A stored value decrypted but is not what this crate writes (written by an
    /// incompatible version).
    #[error("cannot decode a stored value")]
    Decode(#[source] serde_json::Error),
    /// A value is larger than its store accepts (64 KiB for tokens and sign-ins,
    /// 1 MiB for sessions, encrypted).
    #[error("value of {len} bytes is larger than the {max} bytes allowed")]
    ValueTooLarge {
        /// The encrypted length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Encryption failed (the system random generator failed).
    #[error("cannot encrypt the value to store")]
    Encrypt,
}

impl Error {
    /// A stable code naming the failure (see the table on [`Error`]).
    pub fn code(&self) -> &'static str {
        match self {
            Self::MissingVariable { .. } => "missing_variable",
            Self::InvalidSetting { .. } => "invalid_setting",
            Self::InvalidUrl { .. } => "invalid_redis_url",
            Self::InvalidKeys { .. } => "invalid_keys",
            Self::Connect { .. } => "redis_unreachable",
            Self::NoRuntime => "no_runtime",
            Self::Redis(_) => "redis_failed",
            Self::Timeout { .. } => "redis_timeout",
            Self::Encode(_) => "encode_failed",
            Self::Decode(_) => "decode_failed",
            Self::ValueTooLarge { .. } => "value_too_large",
            Self::Encrypt => "encrypt_failed",
        }
    }

    /// Redis was unreachable, failed or slow: answer 503 and retry later.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Connect { .. } | Self::Redis(_) | Self::Timeout { .. })
    }

    /// The configuration is wrong: fix the deployment.
    pub fn is_config(&self) -> bool {
        matches!(
            self,
            Self::MissingVariable { .. }
                | Self::InvalidSetting { .. }
                | Self::InvalidUrl { .. }
                | Self::InvalidKeys { .. }
        )
    }
}

impl AuthError for Error {
    fn is_unauthorized(&self) -> bool {
        false
    }
    fn is_transient(&self) -> bool {
        Self::is_transient(self)
    }
    fn is_config(&self) -> bool {
        Self::is_config(self)
    }
    fn code(&self) -> &'static str {
        Self::code(self)
    }
}

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_snake_case_and_classified() {
        let io = || redis::RedisError::from(std::io::Error::other("refused"));
        let json = || serde_json::from_str::<u8>("x").unwrap_err();
        let all = [
            Error::MissingVariable { name: "ENTRA_REDIS_KEYS" },
            Error::InvalidSetting { name: "x", reason: "y" },
            Error::InvalidUrl { url: "redis://h".into(), source: io() },
            Error::InvalidKeys { reason: "r".into() },
            Error::Connect { url: "redis://h".into(), source: io() },
            Error::NoRuntime,
            Error::Redis(io()),
            Error::Timeout { after: Duration::from_millis(50) },
            Error::Encode(json()),
            Error::Decode(json()),
            Error::ValueTooLarge { len: 2, max: 1 },
            Error::Encrypt,
        ];
        let mut seen = std::collections::HashSet::new();
        for e in &all {
            let code = e.code();
            assert!(seen.insert(code), "duplicate {code}");
            assert!(code.chars().all(|c| c.is_ascii_lowercase() || c == '_'), "{code}");
            assert!(!(e.is_config() && e.is_transient()), "{code}");
            assert!(!AuthError::is_unauthorized(e));
            assert_eq!(AuthError::code(e), code);
        }
        assert!(all[4].is_transient() && all[6].is_transient() && all[7].is_transient());
        assert!(all[0].is_config() && all[3].is_config() && !all[5].is_config());
        assert_eq!(all[7].to_string(), "redis did not answer within 50ms");
    }
}
