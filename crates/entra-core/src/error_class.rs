//! The one way every entra-* error gets its code and class: [`ErrorClass`] and
//! the [`auth_error!`](crate::auth_error) macro that turns a crate's single
//! `classify` match into `code()`, `is_unauthorized()`, `is_transient()`,
//! `is_config()` and the [`AuthError`] implementation.

use crate::AuthError;

/// What a host should do about an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorClass {
    /// The caller's credentials are refused: answer 401 (or 403), do not retry as is.
    Unauthorized,
    /// A dependency failed: answer 503 and retry later.
    Transient,
    /// The host's configuration is wrong: fix the deployment, not the request.
    Config,
    /// None of the above (an unusable answer from a dependency, a bound hit).
    Other,
}

impl ErrorClass {
    /// The class of any [`AuthError`], for an error that wraps another one and
    /// takes its class.
    ///
    /// ```
    /// use entra_core::{ErrorClass, Error};
    /// assert_eq!(ErrorClass::of(&Error::MissingTenantId), ErrorClass::Unauthorized);
    /// ```
    pub fn of(error: &(impl AuthError + ?Sized)) -> Self {
        if error.is_unauthorized() {
            Self::Unauthorized
        } else if error.is_transient() {
            Self::Transient
        } else if error.is_config() {
            Self::Config
        } else {
            Self::Other
        }
    }
}

/// Gives a crate's error type its public `code()`, `is_unauthorized()`,
/// `is_transient()`, `is_config()` and `class()` methods and its
/// [`AuthError`](crate::AuthError) implementation, all from one private
/// `fn classify(&self) -> (&'static str, ErrorClass)` with one arm per variant
/// (no wildcard, so a new variant must be classified).
///
/// Optional arguments name the type's own methods for the claims challenge and
/// the `Retry-After` delay passed across the seams:
///
/// ```
/// use std::time::Duration;
/// use entra_core::{AuthError, ErrorClass};
///
/// #[derive(Debug, thiserror::Error)]
/// enum Error {
///     #[error("keys are unavailable")]
///     KeysDown { retry_after: Option<Duration> },
///     #[error("the token has expired")]
///     Expired,
/// }
///
/// impl Error {
///     fn classify(&self) -> (&'static str, ErrorClass) {
///         match self {
///             Self::KeysDown { .. } => ("keys_down", ErrorClass::Transient),
///             Self::Expired => ("token_expired", ErrorClass::Unauthorized),
///         }
///     }
///     fn delay(&self) -> Option<Duration> {
///         match self {
///             Self::KeysDown { retry_after } => *retry_after,
///             Self::Expired => None,
///         }
///     }
/// }
/// entra_core::auth_error!(Error, retry_after = Error::delay);
///
/// let e = Error::KeysDown { retry_after: Some(Duration::from_secs(5)) };
/// assert_eq!((e.code(), e.is_transient(), e.is_unauthorized()), ("keys_down", true, false));
/// assert_eq!(AuthError::retry_after(&e), Some(Duration::from_secs(5)));
/// assert!(Error::Expired.is_unauthorized());
/// ```
#[macro_export]
macro_rules! auth_error {
    ($ty:ty $(, claims_challenge = $challenge:path)? $(, retry_after = $delay:path)? $(,)?) => {
        impl $ty {
            /// The stable `snake_case` code of this error (see the table on the type).
            pub fn code(&self) -> &'static str {
                self.classify().0
            }

            /// What the host should do about this error.
            pub fn class(&self) -> $crate::ErrorClass {
                self.classify().1
            }

            /// Whether the caller's credentials are refused: answer 401 (or 403)
            /// and do not retry with the same input.
            pub fn is_unauthorized(&self) -> bool {
                self.class() == $crate::ErrorClass::Unauthorized
            }

            /// Whether a dependency failed and a retry later may succeed (answer 503).
            pub fn is_transient(&self) -> bool {
                self.class() == $crate::ErrorClass::Transient
            }

            /// Whether the host's configuration is wrong: fix the deployment, not
            /// the request.
            pub fn is_config(&self) -> bool {
                self.class() == $crate::ErrorClass::Config
            }
        }

        impl $crate::AuthError for $ty {
            fn is_unauthorized(&self) -> bool {
                <$ty>::is_unauthorized(self)
            }
            fn is_transient(&self) -> bool {
                <$ty>::is_transient(self)
            }
            fn is_config(&self) -> bool {
                <$ty>::is_config(self)
            }
            fn code(&self) -> &'static str {
                <$ty>::code(self)
            }
            $(
                fn claims_challenge(&self) -> ::core::option::Option<&str> {
                    $challenge(self)
                }
            )?
            $(
                fn retry_after(&self) -> ::core::option::Option<::core::time::Duration> {
                    $delay(self)
                }
            )?
        }
    };
}
