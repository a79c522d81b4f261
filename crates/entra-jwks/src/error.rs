//! The error type of this crate.

use std::sync::Arc;

use entra_core::TenantId;

/// Why a token was refused, why the keys could not be obtained, or why a
/// [`crate::ValidatorBuilder`] could not build.
///
/// Adapters answer 401 when [`Error::is_unauthorized`] is true, 503 when
/// [`Error::is_transient`] is true and 500 when [`Error::is_config`] is true (the
/// validator was built wrong). Every variant has a stable [`Error::code`] for logs
/// and metrics. Messages never contain the token or its claim set.
///
/// | Variant | `code()` | Class |
/// |---|---|---|
/// | [`TokenTooLarge`](Error::TokenTooLarge) | `token_too_large` | unauthorized |
/// | [`Malformed`](Error::Malformed) | `token_malformed` | unauthorized |
/// | [`TokenTypeNotAllowed`](Error::TokenTypeNotAllowed) | `token_type_not_allowed` | unauthorized |
/// | [`AlgorithmNotAllowed`](Error::AlgorithmNotAllowed) | `algorithm_not_allowed` | unauthorized |
/// | [`ForGraph`](Error::ForGraph) | `token_for_graph` | unauthorized |
/// | [`MissingKeyId`](Error::MissingKeyId) | `missing_kid` | unauthorized |
/// | [`UnknownKeyId`](Error::UnknownKeyId) | `unknown_kid` | unauthorized |
/// | [`KeysUnavailable`](Error::KeysUnavailable) | `keys_unavailable` | transient |
/// | [`KeyMismatch`](Error::KeyMismatch) | `key_mismatch` | unauthorized |
/// | [`InvalidSignature`](Error::InvalidSignature) | `invalid_signature` | unauthorized |
/// | [`MissingClaim`](Error::MissingClaim) | `missing_claim` | unauthorized |
/// | [`Expired`](Error::Expired) | `token_expired` | unauthorized |
/// | [`NotYetValid`](Error::NotYetValid) | `token_not_yet_valid` | unauthorized |
/// | [`VersionNotAccepted`](Error::VersionNotAccepted) | `version_not_accepted` | unauthorized |
/// | [`InvalidIssuer`](Error::InvalidIssuer) | `invalid_issuer` | unauthorized |
/// | [`KeyIssuerMismatch`](Error::KeyIssuerMismatch) | `key_issuer_mismatch` | unauthorized |
/// | [`TenantNotAllowed`](Error::TenantNotAllowed) | `tenant_not_allowed` | unauthorized |
/// | [`InvalidAudience`](Error::InvalidAudience) | `invalid_audience` | unauthorized |
/// | [`NotAnAccessToken`](Error::NotAnAccessToken) | `not_an_access_token` | unauthorized |
/// | [`NoPermissions`](Error::NoPermissions) | `no_permissions` | unauthorized |
/// | [`InsufficientPermissions`](Error::InsufficientPermissions) | `insufficient_permissions` | unauthorized |
/// | [`AppOnlyNotAllowed`](Error::AppOnlyNotAllowed) | `app_only_not_allowed` | unauthorized |
/// | [`NonceMismatch`](Error::NonceMismatch) | `nonce_mismatch` | unauthorized |
/// | [`Config`](Error::Config) | `invalid_config` | config |
/// | [`LeewayTooLarge`](Error::LeewayTooLarge) | `leeway_too_large` | config |
/// | [`HttpClient`](Error::HttpClient) | `http_client` | config |
/// | [`TenantPolicyRequired`](Error::TenantPolicyRequired) | `tenant_policy_required` | config |
/// | [`Env`](Error::Env) | the source's code (`missing_env`, `invalid_env`, `credential_file`) | config |
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
    /// The header's `typ` is present and is not `JWT` (any case): the token is
    /// some other kind of JWS (a logout token, a DPoP proof, ...), not an Entra
    /// access or ID token.
    #[error("token type {typ:?} is not accepted (expected JWT)")]
    TokenTypeNotAllowed {
        /// The token's `typ` (shortened).
        typ: String,
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
    /// The configured leeway is larger than [`crate::Options::MAX_LEEWAY`]: it
    /// would in effect switch the expiry check off.
    #[error("leeway of {}s is more than the maximum of {}s", leeway.as_secs(), max.as_secs())]
    LeewayTooLarge {
        /// The configured leeway.
        leeway: std::time::Duration,
        /// The maximum, [`crate::Options::MAX_LEEWAY`].
        max: std::time::Duration,
    },
    /// The configuration read from the environment is missing a value or holds
    /// a malformed one; the source names the variable.
    #[error(transparent)]
    Env(entra_core::Error),
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
    /// The one place each variant gets its code and class: no wildcard arm, so a
    /// new variant must be classified here.
    fn classify(&self) -> (&'static str, entra_core::ErrorClass) {
        use entra_core::ErrorClass::{Config, Transient, Unauthorized};
        match self {
            Self::TokenTooLarge { .. } => ("token_too_large", Unauthorized),
            Self::Malformed { .. } => ("token_malformed", Unauthorized),
            Self::TokenTypeNotAllowed { .. } => ("token_type_not_allowed", Unauthorized),
            Self::AlgorithmNotAllowed { .. } => ("algorithm_not_allowed", Unauthorized),
            Self::ForGraph => ("token_for_graph", Unauthorized),
            Self::MissingKeyId => ("missing_kid", Unauthorized),
            Self::UnknownKeyId { .. } => ("unknown_kid", Unauthorized),
            Self::KeysUnavailable { .. } => ("keys_unavailable", Transient),
            Self::KeyMismatch { .. } => ("key_mismatch", Unauthorized),
            Self::InvalidSignature => ("invalid_signature", Unauthorized),
            Self::MissingClaim { .. } => ("missing_claim", Unauthorized),
            Self::Expired { .. } => ("token_expired", Unauthorized),
            Self::NotYetValid { .. } => ("token_not_yet_valid", Unauthorized),
            Self::VersionNotAccepted { .. } => ("version_not_accepted", Unauthorized),
            Self::InvalidIssuer(_) => ("invalid_issuer", Unauthorized),
            Self::KeyIssuerMismatch(_) => ("key_issuer_mismatch", Unauthorized),
            Self::TenantNotAllowed { .. } => ("tenant_not_allowed", Unauthorized),
            Self::InvalidAudience => ("invalid_audience", Unauthorized),
            Self::NotAnAccessToken => ("not_an_access_token", Unauthorized),
            Self::NoPermissions => ("no_permissions", Unauthorized),
            Self::InsufficientPermissions => ("insufficient_permissions", Unauthorized),
            Self::AppOnlyNotAllowed => ("app_only_not_allowed", Unauthorized),
            Self::NonceMismatch => ("nonce_mismatch", Unauthorized),
            Self::Config { .. } => ("invalid_config", Config),
            Self::LeewayTooLarge { .. } => ("leeway_too_large", Config),
            Self::HttpClient(_) => ("http_client", Config),
            Self::TenantPolicyRequired { .. } => ("tenant_policy_required", Config),
            Self::Env(e) => (e.code(), Config),
        }
    }
}

entra_core::auth_error!(Error);

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

    use std::time::Duration;

    #[test]
    fn codes_are_unique_snake_case_and_stable() {
        let tenant = TenantId::parse("72f988bf-86f1-41af-91ab-2d7cd011db47").unwrap();
        // `HttpClient` needs an `entra_core::http::HttpError`, which cannot be built here; its
        // code is `http_client` (see the table).
        let errors = [
            Error::TokenTooLarge { len: 0, max: 0 },
            Error::Malformed { reason: "" },
            Error::TokenTypeNotAllowed { typ: String::new() },
            Error::AlgorithmNotAllowed { alg: String::new() },
            Error::ForGraph,
            Error::MissingKeyId,
            Error::UnknownKeyId { kid: String::new() },
            Error::KeysUnavailable { source: None },
            Error::KeyMismatch { kid: String::new(), alg: "RS256" },
            Error::InvalidSignature,
            Error::MissingClaim { claim: "exp" },
            Error::Expired { exp: 0, now: 0 },
            Error::NotYetValid { nbf: 0, now: 0 },
            Error::VersionNotAccepted { version: String::new() },
            Error::InvalidIssuer(entra_core::Error::MissingTenantId),
            Error::KeyIssuerMismatch(entra_core::Error::MissingTenantId),
            Error::TenantNotAllowed { tenant },
            Error::InvalidAudience,
            Error::NotAnAccessToken,
            Error::NoPermissions,
            Error::InsufficientPermissions,
            Error::AppOnlyNotAllowed,
            Error::NonceMismatch,
            Error::Config { reason: "" },
            Error::LeewayTooLarge {
                leeway: Duration::from_secs(301),
                max: Duration::from_secs(300),
            },
            Error::TenantPolicyRequired { authority: String::new() },
        ];
        let codes: Vec<&str> = errors.iter().map(Error::code).collect();
        assert_eq!(
            codes,
            [
                "token_too_large",
                "token_malformed",
                "token_type_not_allowed",
                "algorithm_not_allowed",
                "token_for_graph",
                "missing_kid",
                "unknown_kid",
                "keys_unavailable",
                "key_mismatch",
                "invalid_signature",
                "missing_claim",
                "token_expired",
                "token_not_yet_valid",
                "version_not_accepted",
                "invalid_issuer",
                "key_issuer_mismatch",
                "tenant_not_allowed",
                "invalid_audience",
                "not_an_access_token",
                "no_permissions",
                "insufficient_permissions",
                "app_only_not_allowed",
                "nonce_mismatch",
                "invalid_config",
                "leeway_too_large",
                "tenant_policy_required",
            ]
        );
        entra_testkit::doubles::assert_error_codes(&codes);
        for e in &errors {
            let classes = [e.is_unauthorized(), e.is_transient(), e.is_config()];
            assert_eq!(classes.iter().filter(|c| **c).count(), 1, "{e:?}");
        }
    }

    #[test]
    fn shorten_long() {
        assert_eq!(shorten("abc"), "abc");
        assert!(shorten(&"x".repeat(500)).len() < 80);
    }
}
