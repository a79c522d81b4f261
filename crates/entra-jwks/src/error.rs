//! The error type of this crate.

use std::sync::Arc;

use entra_core::{AuthError, TenantId};

/// Why a token was refused, why the keys could not be obtained, or why a
/// [`crate::ValidatorBuilder`] could not build.
///
/// Adapters answer 401 when [`Error::is_unauthorized`] is true and 503 when
/// [`Error::is_transient`] is true. Messages never contain the token or its claim set.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The token is longer than the configured maximum; it was not parsed.
    #[error("token is {len} bytes long, more than the accepted {max}")]
    TokenTooLarge {
        /// The token's length in bytes.
        len: usize,
        /// The configured maximum.
        max: usize,
    },
    /// The token is not a compact JWS (three base64url parts, JSON header and claims).
    #[error("token is malformed: {reason}")]
    Malformed {
        /// What is wrong, without any of the token's content.
        reason: &'static str,
    },
    /// The header's `alg` is not in the allow-list (`none` and HMAC never are).
    #[error("signing algorithm {alg:?} is not accepted")]
    AlgorithmNotAllowed {
        /// The token's `alg` (shortened).
        alg: String,
    },
    /// The token was issued for Microsoft Graph (header `nonce`, or `aud` is Graph):
    /// only Graph can validate it. The client asked Entra for the wrong resource.
    #[error("token is for Microsoft Graph, not this API: request a token for this API's scope")]
    ForGraph,
    /// The header names no key (`kid` or `x5t`).
    #[error("token header has no `kid`")]
    MissingKeyId,
    /// No published signing key has the token's `kid`, even after refreshing the keys.
    #[error("no signing key with kid {kid:?} is published by the authority")]
    UnknownKeyId {
        /// The token's `kid` (shortened).
        kid: String,
    },
    /// The signing keys could not be obtained (the keys endpoint failed and no
    /// usable cached keys remain). Transient: retry later.
    #[error("signing keys are unavailable")]
    KeysUnavailable {
        /// The last fetch failure, when there was one.
        #[source]
        source: Option<Arc<JwksError>>,
    },
    /// The key with the token's `kid` cannot verify this token's algorithm (its
    /// `alg` or `use` says otherwise, or its type does not fit).
    #[error("signing key {kid:?} is not usable with algorithm {alg}")]
    KeyMismatch {
        /// The key id (shortened).
        kid: String,
        /// The token's algorithm.
        alg: &'static str,
    },
    /// The signature does not verify.
    #[error("token signature is invalid")]
    InvalidSignature,
    /// A claim required for validation is missing or has the wrong type.
    #[error("token has no valid `{claim}` claim")]
    MissingClaim {
        /// The claim's name.
        claim: &'static str,
    },
    /// The token has expired (`exp` plus leeway is in the past).
    #[error("token expired at {exp} (now {now})")]
    Expired {
        /// The token's `exp`, seconds since the epoch.
        exp: i64,
        /// The validator's clock, seconds since the epoch.
        now: i64,
    },
    /// The token is not valid yet (`nbf` minus leeway is in the future).
    #[error("token is not valid before {nbf} (now {now})")]
    NotYetValid {
        /// The token's `nbf`, seconds since the epoch.
        nbf: i64,
        /// The validator's clock, seconds since the epoch.
        now: i64,
    },
    /// The token's version (`ver`) is not accepted by this validator.
    #[error("token version {version:?} is not accepted")]
    VersionNotAccepted {
        /// The token's `ver` (shortened), empty when absent.
        version: String,
    },
    /// The issuer check failed: `iss` is not the authority's issuer for the token's
    /// `tid`, or `tid` is missing or not a GUID.
    #[error("token issuer is not accepted")]
    InvalidIssuer(#[source] entra_core::Error),
    /// The signing key carries its own `issuer`, which does not match the token's
    /// issuer for its tenant.
    #[error("token issuer does not match the issuer of its signing key")]
    KeyIssuerMismatch(#[source] entra_core::Error),
    /// The token's tenant is not in the tenant allow-list.
    #[error("tenant {tenant} is not allowed")]
    TenantNotAllowed {
        /// The token's (verified) tenant.
        tenant: TenantId,
    },
    /// The token's `aud` is not this API (neither the client id nor a configured
    /// audience).
    #[error("token audience is not accepted by this API")]
    InvalidAudience,
    /// The token has no caller application (`azp` in v2, `appid` in v1), which
    /// every Entra access token carries: it is an ID token (or another kind of
    /// token) presented as a bearer token.
    #[error(
        "token is not an access token (no `azp`/`appid`): ID tokens are not accepted as bearer tokens"
    )]
    NotAnAccessToken,
    /// The access token carries neither `scp` nor `roles`: it grants nothing here.
    #[error("token carries neither scopes nor app roles")]
    NoPermissions,
    /// The access token lacks the required scopes or app roles.
    #[error("token lacks the required scopes or app roles")]
    InsufficientPermissions,
    /// The access token is app-only and this validator refuses app-only tokens.
    #[error("app-only tokens are not accepted")]
    AppOnlyNotAllowed,
    /// The ID token's `nonce` is missing or differs from the one sent at sign-in.
    #[error("nonce of the ID token does not match the one sent at sign-in")]
    NonceMismatch,
    /// The builder's configuration is not usable.
    #[error("invalid validator configuration: {reason}")]
    Config {
        /// What to change.
        reason: &'static str,
    },
    /// The default HTTP client could not be built (for example, no TLS roots).
    #[error("cannot build the HTTP client for the keys endpoint")]
    HttpClient(#[source] entra_core::http::HttpError),
    /// A multi-tenant or domain authority needs an explicit tenant policy.
    #[error(
        "authority {authority} accepts tokens from many tenants: choose list the allowed tenant ids with `.tenants(TenantPolicy::Only(..))` (`TenantPolicy::Any` accepts every tenant in the cloud)"
    )]
    TenantPolicyRequired {
        /// The authority's base URL.
        authority: String,
    },
}

impl Error {
    /// Whether the token is bad: answer 401 and do not retry with the same token.
    pub fn is_unauthorized(&self) -> bool {
        !self.is_transient() && !self.is_config()
    }

    /// Whether the validator could not decide (keys unavailable): answer 503.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::KeysUnavailable { .. })
    }

    fn is_config(&self) -> bool {
        matches!(
            self,
            Self::Config { .. } | Self::TenantPolicyRequired { .. } | Self::HttpClient(_)
        )
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

/// Why fetching the JWKS failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JwksError {
    /// The request failed (connection, timeout, TLS).
    #[error("request to the keys endpoint {url} failed")]
    Request {
        /// The keys URL.
        url: String,
        /// The HTTP layer's error (with the `client-request-id`).
        #[source]
        source: entra_core::http::HttpError,
    },
    /// The keys endpoint answered with a non-success status.
    #[error("keys endpoint {url} answered with status {status}")]
    Status {
        /// The keys URL.
        url: String,
        /// The HTTP status.
        status: u16,
    },
    /// The response was larger than the configured cap.
    #[error("keys endpoint {url} sent more than {max} bytes")]
    TooLarge {
        /// The keys URL.
        url: String,
        /// The configured cap.
        max: usize,
    },
    /// The response is not a JWKS document.
    #[error("keys endpoint {url} did not send a JWKS document")]
    Parse {
        /// The keys URL.
        url: String,
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },
    /// The document holds no usable signing key.
    #[error("keys endpoint {url} published no usable signing key")]
    NoKeys {
        /// The keys URL.
        url: String,
    },
}

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

pub(crate) use entra_core::shorten_untrusted as shorten;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes() {
        assert!(Error::InvalidSignature.is_unauthorized());
        assert!(!Error::InvalidSignature.is_transient());
        let e = Error::KeysUnavailable { source: None };
        assert!(e.is_transient() && !e.is_unauthorized());
        let c = Error::Config { reason: "x" };
        assert!(!c.is_transient() && !c.is_unauthorized());
        assert_eq!(
            Error::ForGraph.to_string(),
            "token is for Microsoft Graph, not this API: request a token for this API's scope"
        );
    }

    #[test]
    fn shorten_long() {
        assert_eq!(shorten("abc"), "abc");
        assert!(shorten(&"x".repeat(500)).len() < 80);
    }
}
