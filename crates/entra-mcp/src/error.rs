//! The error type of this crate, and how each error becomes an OAuth answer.

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use entra_core::StoreError;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, RETRY_AFTER};
use http::{HeaderValue, StatusCode};

/// Errors of set-up and of the facade's endpoints.
///
/// Every error is also a response ([`IntoResponse`]): an OAuth error body
/// (`{"error": ..., "error_description": ...}`) with a fixed description per
/// variant, which never echoes the request. [`Error::code`] is the stable name
/// to log and count.
///
/// | variant | `code()` | HTTP | OAuth `error` |
/// |---|---|---|---|
/// | [`Error::MissingConfig`] | `missing_config` | 500 | `server_error` |
/// | [`Error::InvalidConfig`] | `invalid_config` | 500 | `server_error` |
/// | [`Error::SignInSetup`] | `sign_in_setup` | 500 | `server_error` |
/// | [`Error::InvalidRequest`] | `invalid_request` | 400 | `invalid_request` |
/// | [`Error::InvalidClientMetadata`] | `invalid_client_metadata` | 400 | `invalid_client_metadata` |
/// | [`Error::InvalidRedirectUri`] | `invalid_redirect_uri` | 400 | `invalid_redirect_uri` |
/// | [`Error::TooLarge`] | `too_large` | 413 | `invalid_client_metadata` |
/// | [`Error::RateLimited`] | `rate_limited` | 429 | `temporarily_unavailable` |
/// | [`Error::TooManyClients`] | `too_many_clients` | 503 | `temporarily_unavailable` |
/// | [`Error::UnknownClient`] | `unknown_client` | 400 | `invalid_client` |
/// | [`Error::ClientMetadataDocument`] | `client_metadata_document` | 400 | `invalid_client` |
/// | [`Error::ForbiddenAddress`] | `forbidden_address` | 400 | `invalid_client` |
/// | [`Error::UnregisteredRedirectUri`] | `unregistered_redirect_uri` | 400 | `invalid_request` |
/// | [`Error::PkceRequired`] | `pkce_required` | 400 | `invalid_request` |
/// | [`Error::InvalidScope`] | `invalid_scope` | 400 | `invalid_scope` |
/// | [`Error::InvalidTarget`] | `invalid_target` | 400 | `invalid_target` |
/// | [`Error::Csrf`] | `csrf` | 403 | `access_denied` |
/// | [`Error::AccessDenied`] | `access_denied` | 403 | `access_denied` |
/// | [`Error::UnknownTransaction`] | `unknown_transaction` | 400 | `invalid_request` |
/// | [`Error::SignIn`] | `sign_in` | 502 (503 if transient) | `server_error` |
/// | [`Error::InvalidGrant`] | `invalid_grant` | 400 | `invalid_grant` |
/// | [`Error::CodeReplayed`] | `code_replayed` | 400 | `invalid_grant` |
/// | [`Error::PkceMismatch`] | `pkce_mismatch` | 400 | `invalid_grant` |
/// | [`Error::UnsupportedGrantType`] | `unsupported_grant_type` | 400 | `unsupported_grant_type` |
/// | [`Error::Store`] | `store` | 503 | `temporarily_unavailable` |
/// | [`Error::Random`] | `random` | 500 | `server_error` |
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A required setting is missing; `name` is the environment variable or
    /// builder method that sets it.
    #[error("missing configuration: set {name}")]
    MissingConfig {
        /// The variable or method to set.
        name: &'static str,
    },
    /// A setting has a value that cannot be used.
    #[error("invalid configuration of {field}: {reason}")]
    InvalidConfig {
        /// The setting.
        field: &'static str,
        /// Why (with the value shortened).
        reason: String,
    },
    /// The Entra sign-in client of the facade could not be built.
    #[error("cannot build the sign-in client")]
    SignInSetup(#[source] entra_oidc::Error),
    /// A request lacks a parameter, repeats one or has a malformed one.
    #[error("invalid request: {0}")]
    InvalidRequest(&'static str),
    /// A registration's metadata is refused (RFC 7591 section 3.2.2).
    #[error("invalid client metadata: {0}")]
    InvalidClientMetadata(&'static str),
    /// A registration names a redirect URI that is neither loopback nor on the
    /// https allow-list.
    #[error("redirect URI not allowed: {0}")]
    InvalidRedirectUri(&'static str),
    /// A registration or form body is larger than allowed.
    #[error("the request body is too large")]
    TooLarge,
    /// More registrations than the rate limit allows.
    #[error("too many registrations; retry later")]
    RateLimited {
        /// When to retry.
        retry_after_secs: u64,
    },
    /// The registration quota is used up.
    #[error("the registration quota is used up")]
    TooManyClients,
    /// The `client_id` names no registered client.
    #[error("unknown client")]
    UnknownClient,
    /// A Client ID Metadata Document could not be fetched or is not acceptable.
    #[error("client metadata document refused: {0}")]
    ClientMetadataDocument(&'static str),
    /// A Client ID Metadata Document URL resolves to a loopback, private,
    /// link-local or otherwise non-public address.
    #[error("client metadata document host resolves to a non-public address")]
    ForbiddenAddress,
    /// The `redirect_uri` is not one the client registered.
    #[error("the redirect URI is not registered for this client")]
    UnregisteredRedirectUri,
    /// The authorization request has no PKCE `S256` challenge.
    #[error("PKCE with S256 is required")]
    PkceRequired,
    /// A requested scope is not offered.
    #[error("a requested scope is not offered")]
    InvalidScope,
    /// The `resource` is not this server.
    #[error("the resource is not this server")]
    InvalidTarget,
    /// The consent form came without the CSRF token of its page.
    #[error("the consent CSRF token is missing or does not match")]
    Csrf,
    /// The user declined at the consent page, or Entra refused the sign-in.
    #[error("access denied")]
    AccessDenied,
    /// The consent or callback names no pending authorization (unknown,
    /// expired or already used).
    #[error("no pending authorization matches")]
    UnknownTransaction,
    /// Signing in at Entra, or refreshing there, failed.
    #[error("sign-in at entra failed")]
    SignIn(#[source] entra_oidc::Error),
    /// The code or refresh token is unknown, expired, used, or issued to another
    /// client or redirect URI.
    #[error("invalid grant: {0}")]
    InvalidGrant(&'static str),
    /// A code was presented a second time: what it issued is revoked.
    #[error("the authorization code was already used")]
    CodeReplayed,
    /// The `code_verifier` does not match the code's challenge.
    #[error("the PKCE code verifier does not match")]
    PkceMismatch,
    /// The `grant_type` is neither `authorization_code` nor `refresh_token`.
    #[error("unsupported grant type")]
    UnsupportedGrantType,
    /// The facade's store failed.
    #[error("the facade store failed")]
    Store(#[from] StoreError),
    /// The system random generator failed.
    #[error("the system random generator failed")]
    Random,
}

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The stable code of this error (see the table on [`Error`]).
    pub fn code(&self) -> &'static str {
        self.classify().0
    }

    /// Whether the client (or user) is refused: answer 4xx, do not retry as is.
    pub fn is_unauthorized(&self) -> bool {
        let status = self.classify().1;
        status.is_client_error() && status != StatusCode::TOO_MANY_REQUESTS
    }

    /// Whether a dependency failed or a limit was hit: retry later.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::SignIn(e) => e.is_transient(),
            _ => matches!(
                self.classify().1,
                StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE
            ),
        }
    }

    /// Whether the host's configuration is wrong.
    pub fn is_config(&self) -> bool {
        match self {
            Self::SignIn(e) => e.is_config(),
            _ => matches!(
                self,
                Self::MissingConfig { .. } | Self::InvalidConfig { .. } | Self::SignInSetup(_)
            ),
        }
    }

    /// The OAuth `error` of this error's answer.
    pub fn oauth_error(&self) -> &'static str {
        self.classify().2
    }

    /// (code, status, OAuth error, fixed description): one exhaustive match.
    fn classify(&self) -> (&'static str, StatusCode, &'static str, &'static str) {
        use StatusCode as S;
        match self {
            Self::MissingConfig { .. } => {
                ("missing_config", S::INTERNAL_SERVER_ERROR, "server_error", "server misconfigured")
            }
            Self::InvalidConfig { .. } => {
                ("invalid_config", S::INTERNAL_SERVER_ERROR, "server_error", "server misconfigured")
            }
            Self::SignInSetup(_) => {
                ("sign_in_setup", S::INTERNAL_SERVER_ERROR, "server_error", "server misconfigured")
            }
            Self::InvalidRequest(why) => {
                ("invalid_request", S::BAD_REQUEST, "invalid_request", why)
            }
            Self::InvalidClientMetadata(why) => {
                ("invalid_client_metadata", S::BAD_REQUEST, "invalid_client_metadata", why)
            }
            Self::InvalidRedirectUri(why) => {
                ("invalid_redirect_uri", S::BAD_REQUEST, "invalid_redirect_uri", why)
            }
            Self::TooLarge => (
                "too_large",
                S::PAYLOAD_TOO_LARGE,
                "invalid_client_metadata",
                "the request body is too large",
            ),
            Self::RateLimited { .. } => (
                "rate_limited",
                S::TOO_MANY_REQUESTS,
                "temporarily_unavailable",
                "too many registrations",
            ),
            Self::TooManyClients => (
                "too_many_clients",
                S::SERVICE_UNAVAILABLE,
                "temporarily_unavailable",
                "the registration quota is used up",
            ),
            Self::UnknownClient => {
                ("unknown_client", S::BAD_REQUEST, "invalid_client", "unknown client")
            }
            Self::ClientMetadataDocument(why) => {
                ("client_metadata_document", S::BAD_REQUEST, "invalid_client", why)
            }
            Self::ForbiddenAddress => (
                "forbidden_address",
                S::BAD_REQUEST,
                "invalid_client",
                "the client id host is not a public address",
            ),
            Self::UnregisteredRedirectUri => (
                "unregistered_redirect_uri",
                S::BAD_REQUEST,
                "invalid_request",
                "redirect_uri is not registered for this client",
            ),
            Self::PkceRequired => (
                "pkce_required",
                S::BAD_REQUEST,
                "invalid_request",
                "code_challenge with code_challenge_method S256 is required",
            ),
            Self::InvalidScope => {
                ("invalid_scope", S::BAD_REQUEST, "invalid_scope", "a scope is not offered")
            }
            Self::InvalidTarget => {
                ("invalid_target", S::BAD_REQUEST, "invalid_target", "resource is not this server")
            }
            Self::Csrf => ("csrf", S::FORBIDDEN, "access_denied", "the consent form is not valid"),
            Self::AccessDenied => {
                ("access_denied", S::FORBIDDEN, "access_denied", "access was denied")
            }
            Self::UnknownTransaction => (
                "unknown_transaction",
                S::BAD_REQUEST,
                "invalid_request",
                "the authorization is unknown, expired or already used",
            ),
            Self::SignIn(e) if e.is_transient() => (
                "sign_in",
                S::SERVICE_UNAVAILABLE,
                "temporarily_unavailable",
                "sign-in is unavailable",
            ),
            Self::SignIn(_) => ("sign_in", S::BAD_GATEWAY, "server_error", "sign-in failed"),
            Self::InvalidGrant(why) => ("invalid_grant", S::BAD_REQUEST, "invalid_grant", why),
            Self::CodeReplayed => (
                "code_replayed",
                S::BAD_REQUEST,
                "invalid_grant",
                "the code is unknown, expired or used",
            ),
            Self::PkceMismatch => {
                ("pkce_mismatch", S::BAD_REQUEST, "invalid_grant", "code_verifier does not match")
            }
            Self::UnsupportedGrantType => (
                "unsupported_grant_type",
                S::BAD_REQUEST,
                "unsupported_grant_type",
                "grant_type must be authorization_code or refresh_token",
            ),
            Self::Store(_) => {
                ("store", S::SERVICE_UNAVAILABLE, "temporarily_unavailable", "try again later")
            }
            Self::Random => ("random", S::INTERNAL_SERVER_ERROR, "server_error", "internal error"),
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let (code, status, error, description) = self.classify();
        if status.is_server_error() {
            tracing::warn!(code, error = %self, "mcp facade failed");
        } else {
            tracing::info!(code, "mcp facade refused a request");
        }
        let body = serde_json::json!({ "error": error, "error_description": description });
        let mut r = Response::new(Body::from(body.to_string()));
        *r.status_mut() = status;
        let h = r.headers_mut();
        h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Self::RateLimited { retry_after_secs } = self
            && let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string())
        {
            h.insert(RETRY_AFTER, v);
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_snake_case_and_classified_once() {
        let all = [
            Error::MissingConfig { name: "X" },
            Error::InvalidConfig { field: "f", reason: "r".into() },
            Error::InvalidRequest("x"),
            Error::InvalidClientMetadata("x"),
            Error::InvalidRedirectUri("x"),
            Error::TooLarge,
            Error::RateLimited { retry_after_secs: 1 },
            Error::TooManyClients,
            Error::UnknownClient,
            Error::ClientMetadataDocument("x"),
            Error::ForbiddenAddress,
            Error::UnregisteredRedirectUri,
            Error::PkceRequired,
            Error::InvalidScope,
            Error::InvalidTarget,
            Error::Csrf,
            Error::AccessDenied,
            Error::UnknownTransaction,
            Error::InvalidGrant("x"),
            Error::CodeReplayed,
            Error::PkceMismatch,
            Error::UnsupportedGrantType,
            Error::Store(StoreError::new("t", "down")),
            Error::Random,
        ];
        let mut seen = std::collections::HashSet::new();
        for e in &all {
            let c = e.code();
            assert!(seen.insert(c), "{c}");
            assert!(c.chars().all(|ch| ch.is_ascii_lowercase() || ch == '_'), "{c}");
            let flags = [e.is_unauthorized(), e.is_transient(), e.is_config()];
            assert!(flags.iter().filter(|f| **f).count() <= 1, "{c}");
        }
        assert!(Error::PkceMismatch.is_unauthorized());
        assert!(Error::RateLimited { retry_after_secs: 1 }.is_transient());
        assert!(Error::MissingConfig { name: "X" }.is_config());
    }
}
