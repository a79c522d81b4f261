//! The error type of this crate.

use entra_core::{AuthError, EntraErrorResponse, StoreError};

/// Everything that can go wrong while configuring a client, signing a user in,
/// refreshing tokens or waiting on a loopback redirect.
///
/// Use [`Error::is_unauthorized`] (the sign-in is refused: show an error page, do
/// not retry) and [`Error::is_transient`] (Entra or a store is unavailable: retry
/// later) to choose a response. Entra's own errors carry an
/// [`EntraErrorResponse`] with the AADSTS code and a remedy, see
/// [`Error::entra_error`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A configuration value is wrong.
    #[error("invalid configuration for `{field}`: {reason}")]
    InvalidConfig {
        /// The configuration field.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A configuration value could not be parsed (tenant, client id, cloud).
    #[error("invalid configuration value for `{field}`")]
    InvalidConfigValue {
        /// The configuration field.
        field: &'static str,
        /// Why it was refused.
        #[source]
        source: entra_core::Error,
    },
    /// A required setting is missing from the environment.
    #[error("missing {what}: set one of {names}")]
    MissingConfig {
        /// What is missing.
        what: &'static str,
        /// The environment variables that are read for it.
        names: &'static str,
    },
    /// The sign-in needs a redirect URI and none is configured.
    #[error("no redirect uri is configured for this client")]
    NoRedirectUri,
    /// The return path given to `begin` (or found in a pending login) is not a
    /// local path; refusing it prevents an open redirect.
    #[error("return path refused: {reason}")]
    InvalidReturnPath {
        /// Why it was refused.
        reason: &'static str,
    },
    /// The operating system's random number generator failed.
    #[error("the system random number generator failed")]
    Random,
    /// A request to Entra failed before a response arrived (network, TLS,
    /// timeout), or the default HTTP client could not be built.
    #[error("request to the {endpoint} endpoint failed")]
    Http {
        /// Which endpoint (`discovery`, `token`, or `client` for the client).
        endpoint: &'static str,
        /// The HTTP layer's error, with the request's `client-request-id`.
        #[source]
        source: entra_core::http::HttpError,
    },
    /// Entra answered with an unexpected HTTP status and no error document.
    #[error("the {endpoint} endpoint answered with http status {status}")]
    HttpStatus {
        /// Which endpoint.
        endpoint: &'static str,
        /// The status code.
        status: u16,
    },
    /// A response from Entra could not be understood.
    #[error("invalid response from the {endpoint} endpoint: {reason}")]
    InvalidResponse {
        /// Which endpoint.
        endpoint: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A response from Entra is not the JSON document expected.
    #[error("the {endpoint} endpoint answered with a document that could not be parsed")]
    InvalidJson {
        /// Which endpoint.
        endpoint: &'static str,
        /// The parse error.
        #[source]
        source: serde_json::Error,
    },
    /// The discovery document names another issuer than the configured authority.
    #[error("discovery document issuer {actual:?} does not match the expected issuer {expected:?}")]
    DiscoveryIssuerMismatch {
        /// The issuer expected for the configured authority.
        expected: String,
        /// The issuer in the discovery document (shortened).
        actual: String,
    },
    /// Entra redirected back with an `error` instead of a code (the user
    /// cancelled, consent is missing, the user is not assigned, ...).
    #[error("sign-in was refused by entra")]
    Authorization(#[source] Box<EntraErrorResponse>),
    /// The token endpoint refused the request (bad credential, PKCE mismatch,
    /// expired code or refresh token, ...).
    #[error("the token request was refused by entra")]
    TokenRequest(#[source] Box<EntraErrorResponse>),
    /// The callback parameters are malformed.
    #[error("invalid callback: {reason}")]
    InvalidCallback {
        /// What is wrong with them.
        reason: &'static str,
    },
    /// The callback has no `state` parameter.
    #[error("the callback has no state parameter")]
    MissingState,
    /// No pending sign-in has this `state`: it is unknown, expired, or was already
    /// used (a replayed callback).
    #[error("unknown, expired or already used sign-in state")]
    UnknownState,
    /// The pending sign-in exists but is older than the configured lifetime.
    #[error("the sign-in took too long: its state has expired")]
    ExpiredState,
    /// The callback's `state` is not the one bound to this browser.
    #[error("the callback state does not belong to this browser")]
    StateMismatch,
    /// The callback has neither a `code` nor an `error`.
    #[error("the callback has no authorization code")]
    MissingCode,
    /// The token response has no ID token (was the `openid` scope dropped?).
    #[error("the token response has no id token")]
    MissingIdToken,
    /// The ID token was refused (signature, issuer, tenant, audience, nonce, expiry).
    #[error("the id token was refused")]
    IdToken(#[source] entra_jwks::Error),
    /// The ID token validator could not be set up (for example its HTTP client
    /// could not be built).
    #[error("the id token validator could not be set up")]
    ValidatorSetup(#[source] entra_jwks::Error),
    /// The ID token has no usable `tid` and `oid`, so the user cannot be keyed.
    #[error("the id token has no tid and oid claims to identify the user")]
    MissingIdentity,
    /// Neither the user's sign-in name nor their verified email is in an
    /// allowed domain (see [`Config::allowed_domains`](crate::Config::allowed_domains)).
    #[error("the user's email domain is not allowed to sign in")]
    DomainNotAllowed {
        /// The domain that was refused: the sign-in name's, else the verified
        /// email's (`None` when the token carries neither). It comes from the
        /// token: escape it before showing it.
        domain: Option<String>,
    },
    /// The client credential could not authenticate the request (empty secret,
    /// certificate assertion failure).
    #[error("the client credential failed")]
    Credential(#[source] entra_core::Error),
    /// The login-state store failed.
    #[error("the login state store failed")]
    Store(#[source] StoreError),
    /// The loopback listener failed (bind, accept, write).
    #[error("the loopback redirect listener failed")]
    Loopback(#[source] std::io::Error),
    /// No valid callback reached the loopback listener in time.
    #[error("no sign-in callback arrived at the loopback listener in time")]
    LoopbackTimeout,
}

impl Error {
    /// Entra's error document, for [`Error::Authorization`] and
    /// [`Error::TokenRequest`]: its [`EntraErrorResponse::kind`] and
    /// [`EntraErrorResponse::remedy`] say what to do.
    pub fn entra_error(&self) -> Option<&EntraErrorResponse> {
        match self {
            Self::Authorization(e) | Self::TokenRequest(e) => Some(e.as_ref()),
            _ => None,
        }
    }

    /// What a person should do about an Entra error (see [`Error::entra_error`]).
    pub fn remedy(&self) -> Option<&'static str> {
        self.entra_error().map(EntraErrorResponse::remedy)
    }

    /// The sign-in is refused: the callback, the state, the user or a token is not
    /// acceptable. Show an error page (and maybe a new sign-in), do not retry.
    pub fn is_unauthorized(&self) -> bool {
        match self {
            Self::Authorization(e) | Self::TokenRequest(e) => !e.kind().is_transient(),
            Self::IdToken(e) => !AuthError::is_transient(e),
            Self::InvalidCallback { .. }
            | Self::MissingState
            | Self::UnknownState
            | Self::ExpiredState
            | Self::StateMismatch
            | Self::MissingCode
            | Self::MissingIdToken
            | Self::MissingIdentity
            | Self::DomainNotAllowed { .. } => true,
            _ => false,
        }
    }

    /// Entra, the network or a store is unavailable: the same request may succeed later.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Store(_) => true,
            Self::Http { source, .. } => source.is_transient(),
            Self::HttpStatus { status, .. } => *status == 429 || *status >= 500,
            Self::Authorization(e) | Self::TokenRequest(e) => e.kind().is_transient(),
            Self::IdToken(e) => AuthError::is_transient(e),
            _ => false,
        }
    }
}

impl AuthError for Error {
    fn is_unauthorized(&self) -> bool {
        Self::is_unauthorized(self)
    }

    fn is_transient(&self) -> bool {
        Self::is_transient(self)
    }
}

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;

    #[test]
    fn wrapped_errors_keep_their_source() {
        let json = serde_json::from_str::<serde_json::Value>("<html>").unwrap_err();
        let e = Error::InvalidJson { endpoint: "discovery", source: json };
        assert!(e.source().is_some_and(|s| s.is::<serde_json::Error>()));
        assert!(!e.is_transient() && !e.is_unauthorized());
        assert!(!e.to_string().contains("html"), "{e}");

        let e = Error::ValidatorSetup(entra_jwks::Error::InvalidAudience);
        assert!(e.source().is_some_and(|s| s.is::<entra_jwks::Error>()));
        assert!(!e.is_transient() && !e.is_unauthorized(), "a set-up failure is neither");
        // The same jwks error from validating a token is a refusal.
        assert!(Error::IdToken(entra_jwks::Error::InvalidAudience).is_unauthorized());
    }
}
