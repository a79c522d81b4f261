//! The error type of this crate.

use entra_core::{EntraErrorResponse, StoreError};

/// Everything that can go wrong while configuring a client, signing a user in,
/// refreshing tokens or waiting on a loopback redirect.
///
/// Use [`Error::is_unauthorized`] (the sign-in is refused: show an error page, do
/// not retry), [`Error::is_transient`] (Entra or a store is unavailable: retry
/// later) and [`Error::is_config`] (the deployment is wrong: fix it) to choose a
/// response; when none is true the failure is Entra's or the system's ("other").
/// Every variant has a stable [`Error::code`]. Entra's own errors carry an
/// [`EntraErrorResponse`] with the AADSTS code and a remedy, see
/// [`Error::entra_error`].
///
/// | Variant | `code()` | Class |
/// |---|---|---|
/// | [`InvalidConfig`](Error::InvalidConfig) | `invalid_config` | config |
/// | [`Env`](Error::Env) | the source's code (`missing_env`, `invalid_env`, `credential_file`) | config |
/// | [`NoRedirectUri`](Error::NoRedirectUri) | `no_redirect_uri` | config |
/// | [`InvalidReturnPath`](Error::InvalidReturnPath) | `invalid_return_path` | unauthorized |
/// | [`Random`](Error::Random) | `random_unavailable` | other |
/// | [`Http`](Error::Http) | `http_request` | transient |
/// | [`HttpStatus`](Error::HttpStatus) | `http_status` | transient for 429 and 5xx, else other |
/// | [`InvalidResponse`](Error::InvalidResponse) | `invalid_response` | other |
/// | [`InvalidJson`](Error::InvalidJson) | `invalid_json` | other |
/// | [`DiscoveryIssuerMismatch`](Error::DiscoveryIssuerMismatch) | `discovery_issuer_mismatch` | config |
/// | [`Authorization`](Error::Authorization) | `authorization_refused` | by Entra's error kind: transient, config, else unauthorized |
/// | [`TokenRequest`](Error::TokenRequest) | `token_request_refused` | by Entra's error kind: transient, config, else unauthorized |
/// | [`InvalidCallback`](Error::InvalidCallback) | `invalid_callback` | unauthorized |
/// | [`MissingState`](Error::MissingState) | `missing_state` | unauthorized |
/// | [`UnknownState`](Error::UnknownState) | `unknown_state` | unauthorized |
/// | [`ExpiredState`](Error::ExpiredState) | `expired_state` | unauthorized |
/// | [`StateMismatch`](Error::StateMismatch) | `state_mismatch` | unauthorized |
/// | [`AuthorizationIssuerMismatch`](Error::AuthorizationIssuerMismatch) | `authorization_issuer_mismatch` | unauthorized |
/// | [`MissingCode`](Error::MissingCode) | `missing_code` | unauthorized |
/// | [`MissingIdToken`](Error::MissingIdToken) | `missing_id_token` | config |
/// | [`IdToken`](Error::IdToken) | `id_token_invalid` | as the validator's error: unauthorized, transient or config |
/// | [`ValidatorSetup`](Error::ValidatorSetup) | `validator_setup` | config |
/// | [`MissingIdentity`](Error::MissingIdentity) | `missing_identity` | unauthorized |
/// | [`DomainNotAllowed`](Error::DomainNotAllowed) | `domain_not_allowed` | unauthorized |
/// | [`Credential`](Error::Credential) | `credential_failed` | transient when the assertion is unavailable, else config |
/// | [`Store`](Error::Store) | `store_failed` | transient |
/// | [`Loopback`](Error::Loopback) | `loopback_io` | other |
/// | [`LoopbackTimeout`](Error::LoopbackTimeout) | `loopback_timeout` | other |
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
    /// The configuration read from the environment is missing a value or holds
    /// a malformed one ([`entra_core::Error::MissingEnv`],
    /// [`entra_core::Error::InvalidEnv`]); the message names the variable.
    #[error(transparent)]
    Env(entra_core::Error),
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
    /// The authorization response names another issuer in its `iss` parameter
    /// than the authority's (RFC 9207: a mix-up attack, or a callback from
    /// another identity provider), or has none although the discovery document
    /// says the authority sends it. Checked before the code is redeemed.
    #[error("the authorization response issuer {actual:?} is not the expected issuer {expected:?}")]
    AuthorizationIssuerMismatch {
        /// The issuer expected (the discovery document's, a template for a
        /// multi-tenant authority).
        expected: String,
        /// The `iss` parameter (shortened and cleaned), `None` when absent.
        actual: Option<String>,
    },
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

    /// The one place each variant gets its code and class: no wildcard arm, so a
    /// new variant must be classified here.
    fn classify(&self) -> (&'static str, entra_core::ErrorClass) {
        use entra_core::ErrorClass::{Config, Other, Transient, Unauthorized};
        let entra = |e: &EntraErrorResponse| {
            let kind = e.kind();
            if kind.is_transient() {
                Transient
            } else if kind.is_config() {
                Config
            } else {
                Unauthorized
            }
        };
        match self {
            Self::InvalidConfig { .. } => ("invalid_config", Config),
            Self::Env(e) => (e.code(), Config),
            Self::NoRedirectUri => ("no_redirect_uri", Config),
            Self::InvalidReturnPath { .. } => ("invalid_return_path", Unauthorized),
            Self::Random => ("random_unavailable", Other),
            Self::Http { source, .. } => {
                ("http_request", if source.is_transient() { Transient } else { Other })
            }
            Self::HttpStatus { status, .. } => {
                ("http_status", if *status == 429 || *status >= 500 { Transient } else { Other })
            }
            Self::InvalidResponse { .. } => ("invalid_response", Other),
            Self::InvalidJson { .. } => ("invalid_json", Other),
            Self::DiscoveryIssuerMismatch { .. } => ("discovery_issuer_mismatch", Config),
            Self::Authorization(e) => ("authorization_refused", entra(e)),
            Self::TokenRequest(e) => ("token_request_refused", entra(e)),
            Self::InvalidCallback { .. } => ("invalid_callback", Unauthorized),
            Self::MissingState => ("missing_state", Unauthorized),
            Self::UnknownState => ("unknown_state", Unauthorized),
            Self::ExpiredState => ("expired_state", Unauthorized),
            Self::StateMismatch => ("state_mismatch", Unauthorized),
            Self::AuthorizationIssuerMismatch { .. } => {
                ("authorization_issuer_mismatch", Unauthorized)
            }
            Self::MissingCode => ("missing_code", Unauthorized),
            Self::MissingIdToken => ("missing_id_token", Config),
            Self::IdToken(e) => (
                "id_token_invalid",
                if e.is_transient() {
                    Transient
                } else if e.is_config() {
                    Config
                } else {
                    Unauthorized
                },
            ),
            Self::ValidatorSetup(_) => ("validator_setup", Config),
            Self::MissingIdentity => ("missing_identity", Unauthorized),
            Self::DomainNotAllowed { .. } => ("domain_not_allowed", Unauthorized),
            Self::Credential(e) => {
                ("credential_failed", if e.is_transient() { Transient } else { Config })
            }
            Self::Store(_) => ("store_failed", Transient),
            Self::Loopback(_) => ("loopback_io", Other),
            Self::LoopbackTimeout => ("loopback_timeout", Other),
        }
    }
}

entra_core::auth_error!(Error);

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
        assert!(!e.is_transient() && !e.is_unauthorized() && e.is_config(), "set-up is config");
        // The same jwks error from validating a token is a refusal.
        assert!(Error::IdToken(entra_jwks::Error::InvalidAudience).is_unauthorized());
    }

    fn json() -> serde_json::Error {
        serde_json::from_str::<u8>("x").unwrap_err()
    }

    fn entra(error: &str) -> Box<EntraErrorResponse> {
        let body = format!(r#"{{"error":"{error}"}}"#);
        Box::new(EntraErrorResponse::parse(body.as_bytes()).unwrap())
    }

    #[test]
    fn codes_are_unique_snake_case_and_stable() {
        // `Http` needs an `entra_core::http::HttpError`, which cannot be built here; its code is
        // `http_request` (see the table).
        let errors = [
            Error::InvalidConfig { field: "", reason: String::new() },
            Error::NoRedirectUri,
            Error::InvalidReturnPath { reason: "" },
            Error::Random,
            Error::HttpStatus { endpoint: "", status: 400 },
            Error::InvalidResponse { endpoint: "", reason: String::new() },
            Error::InvalidJson { endpoint: "", source: json() },
            Error::DiscoveryIssuerMismatch { expected: String::new(), actual: String::new() },
            Error::Authorization(entra("access_denied")),
            Error::TokenRequest(entra("invalid_grant")),
            Error::InvalidCallback { reason: "" },
            Error::MissingState,
            Error::UnknownState,
            Error::ExpiredState,
            Error::StateMismatch,
            Error::MissingCode,
            Error::MissingIdToken,
            Error::IdToken(entra_jwks::Error::InvalidSignature),
            Error::ValidatorSetup(entra_jwks::Error::Config { reason: "" }),
            Error::MissingIdentity,
            Error::DomainNotAllowed { domain: None },
            Error::Credential(entra_core::Error::Empty { what: "" }),
            Error::Store(StoreError::new("store", "down")),
            Error::Loopback(std::io::Error::other("x")),
            Error::LoopbackTimeout,
        ];
        let codes: Vec<&str> = errors.iter().map(Error::code).collect();
        assert_eq!(
            codes,
            [
                "invalid_config",
                "no_redirect_uri",
                "invalid_return_path",
                "random_unavailable",
                "http_status",
                "invalid_response",
                "invalid_json",
                "discovery_issuer_mismatch",
                "authorization_refused",
                "token_request_refused",
                "invalid_callback",
                "missing_state",
                "unknown_state",
                "expired_state",
                "state_mismatch",
                "missing_code",
                "missing_id_token",
                "id_token_invalid",
                "validator_setup",
                "missing_identity",
                "domain_not_allowed",
                "credential_failed",
                "store_failed",
                "loopback_io",
                "loopback_timeout",
            ]
        );
        entra_testkit::doubles::assert_error_codes(&codes);
        for e in &errors {
            let classes = [e.is_unauthorized(), e.is_transient(), e.is_config()];
            assert!(classes.iter().filter(|c| **c).count() <= 1, "{e:?}");
        }
    }

    #[test]
    fn entra_errors_are_classified_by_kind() {
        assert!(Error::TokenRequest(entra("invalid_grant")).is_unauthorized());
        assert!(Error::TokenRequest(entra("temporarily_unavailable")).is_transient());
        let body = br#"{"error":"invalid_client","error_codes":[7000215]}"#;
        let secret = Box::new(EntraErrorResponse::parse(body).unwrap());
        assert!(Error::TokenRequest(secret).is_config());
        assert!(Error::HttpStatus { endpoint: "token", status: 503 }.is_transient());
        assert!(!Error::HttpStatus { endpoint: "token", status: 404 }.is_transient());
        assert!(Error::IdToken(entra_jwks::Error::KeysUnavailable { source: None }).is_transient());
    }
}
