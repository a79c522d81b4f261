//! The error type of this crate.

use std::time::Duration;

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
    /// The one place each variant gets its code and class: no wildcard arm, so a
    /// new variant must be classified here. Redis never judges a caller's
    /// credentials: nothing here is "unauthorized".
    fn classify(&self) -> (&'static str, entra_core::ErrorClass) {
        use entra_core::ErrorClass::{Config, Other, Transient};
        match self {
            Self::MissingVariable { .. } => ("missing_variable", Config),
            Self::InvalidSetting { .. } => ("invalid_setting", Config),
            Self::InvalidUrl { .. } => ("invalid_redis_url", Config),
            Self::InvalidKeys { .. } => ("invalid_keys", Config),
            Self::Connect { .. } => ("redis_unreachable", Transient),
            Self::NoRuntime => ("no_runtime", Other),
            Self::Redis(_) => ("redis_failed", Transient),
            Self::Timeout { .. } => ("redis_timeout", Transient),
            Self::Encode(_) => ("encode_failed", Other),
            Self::Decode(_) => ("decode_failed", Other),
            Self::ValueTooLarge { .. } => ("value_too_large", Other),
            Self::Encrypt => ("encrypt_failed", Other),
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
            assert!(!entra_core::AuthError::is_unauthorized(e));
            assert_eq!(entra_core::AuthError::code(e), code);
        }
        assert!(all[4].is_transient() && all[6].is_transient() && all[7].is_transient());
        assert!(all[0].is_config() && all[3].is_config() && !all[5].is_config());
        assert_eq!(all[7].to_string(), "redis did not answer within 50ms");
    }
}
