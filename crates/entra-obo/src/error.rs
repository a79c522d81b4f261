//! The error type of this crate.

use std::sync::Arc;
use std::time::Duration;

use entra_core::{AuthError, EntraErrorResponse, ErrorKind};

use crate::ClaimsChallenge;

/// Why an On-Behalf-Of exchange failed.
///
/// Variants built from an Entra error document carry it (with its AADSTS codes,
/// trace id and, for [`Error::InteractionRequired`], the `claims` challenge);
/// their `Display` names the AADSTS code and the remedy. Nothing here ever holds
/// the user's token, the client secret or an issued token.
///
/// Every variant has a stable [`Error::code`] and one class:
/// [`Error::is_unauthorized`] (the user's token cannot be exchanged as it is:
/// answer 401 with the [claims challenge](Error::claims_challenge), or 403),
/// [`Error::is_transient`] (Entra or the network failed: answer 503, see
/// [`Error::retry_after`]), [`Error::is_config`] (the app registration, its
/// credential or the requested target is wrong: fix the deployment), or "other"
/// (Entra answered something unexpected, or the request task failed).
///
/// | Variant | `code()` | Class |
/// |---|---|---|
/// | [`NoScopes`](Error::NoScopes) | `no_scopes` | config |
/// | [`MultipleResources`](Error::MultipleResources) | `multiple_resources` | config |
/// | [`DefaultWithOtherScopes`](Error::DefaultWithOtherScopes) | `default_with_other_scopes` | config |
/// | [`MalformedScope`](Error::MalformedScope) | `malformed_scope` | config |
/// | [`UnknownApi`](Error::UnknownApi) | `unknown_api` | config |
/// | [`MissingTenant`](Error::MissingTenant) | `missing_tenant` | unauthorized |
/// | [`AppOnlyToken`](Error::AppOnlyToken) | `app_only_token` | unauthorized |
/// | [`InteractionRequired`](Error::InteractionRequired) | `interaction_required` | unauthorized |
/// | [`ConsentRequired`](Error::ConsentRequired) | `consent_required` | unauthorized |
/// | [`InvalidScope`](Error::InvalidScope) | `invalid_scope` | config |
/// | [`InvalidClientCredential`](Error::InvalidClientCredential) | `invalid_client_credential` | config |
/// | [`WrongAudience`](Error::WrongAudience) | `wrong_audience` | unauthorized |
/// | [`AppNotFound`](Error::AppNotFound) | `app_not_found` | config |
/// | [`ResourceNotFound`](Error::ResourceNotFound) | `resource_not_found` | config |
/// | [`UserNotAssigned`](Error::UserNotAssigned) | `user_not_assigned` | unauthorized |
/// | [`InvalidGrant`](Error::InvalidGrant) | `invalid_grant` | unauthorized |
/// | [`Throttled`](Error::Throttled) | `throttled` | transient |
/// | [`Unavailable`](Error::Unavailable) | `entra_unavailable` | transient |
/// | [`Rejected`](Error::Rejected) | `token_request_rejected` | other |
/// | [`InvalidResponse`](Error::InvalidResponse) | `invalid_response` | other |
/// | [`Transport`](Error::Transport) | `transport` | transient |
/// | [`Credential`](Error::Credential) | `credential_unavailable` | transient when the assertion is unavailable, else config |
/// | [`Config`](Error::Config) | `invalid_config` | config |
/// | [`Env`](Error::Env) | the source's code (`missing_env`, `invalid_env`, `credential_file`) | config |
/// | [`ExchangeTask`](Error::ExchangeTask) | `exchange_task_failed` | other |
/// | [`HttpClient`](Error::HttpClient) | `http_client` | config |
///
/// With the `downstream` feature ([`crate::Downstream`]):
///
/// | Variant | `code()` | Class |
/// |---|---|---|
/// | `InvalidApiUrl` | `invalid_api_url` | config |
/// | `Exchanger` | the exchanger's code | the exchanger's class (unauthorized with a claims challenge) |
/// | `ApiClaimsChallenge` | `insufficient_claims` | unauthorized |
/// | `ApiStatus` | `api_error_status` | unauthorized for 401 and 403, transient for 429 and 5xx, else other |
/// | `ApiRequest` | `api_request_failed` | transient for network failures and timeouts, else other |
/// | `ApiBody` | `api_invalid_body` | other |
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The target had no scopes left (after removing `openid`, `profile` and
    /// `offline_access`), or an empty resource.
    #[error("no scopes to request: name a resource or at least one scope of it")]
    NoScopes,
    /// The scopes name more than one resource; a token is for one resource only.
    #[error(
        "scopes of more than one resource ({first:?} and {second:?}): request one resource per exchange"
    )]
    MultipleResources {
        /// The first resource seen.
        first: String,
        /// Another resource.
        second: String,
    },
    /// `.default` was mixed with other scopes of its resource.
    #[error(
        "`{resource}/.default` cannot be combined with other scopes of the same resource: request either `.default` or explicit scopes"
    )]
    DefaultWithOtherScopes {
        /// The resource.
        resource: String,
    },
    /// A scope or resource identifier is malformed.
    #[error("malformed scope {scope:?}: {reason}")]
    MalformedScope {
        /// The scope (shortened).
        scope: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// [`crate::Obo::exchange_for`] was called with a name no downstream API was
    /// configured under.
    #[error("no downstream API named {name:?} is configured")]
    UnknownApi {
        /// The name asked for.
        name: String,
    },
    /// The user token has no GUID `tid`, so the user's tenant (where a multi-tenant
    /// app must send the request) is unknown.
    #[error("the user token has no tenant id (`tid`), so its tenant's token endpoint is unknown")]
    MissingTenant,
    /// The user token is app-only (client credentials): only delegated tokens can
    /// be exchanged. Raised before any request, or by Entra (AADSTS7000114).
    #[error("the token is app-only: {}", remedy_of(ErrorKind::AppOnlyAssertion, response.as_deref()))]
    AppOnlyToken {
        /// Entra's answer, when Entra refused it.
        response: Option<Box<EntraErrorResponse>>,
    },
    /// The user must interact again (MFA, Conditional Access): send the claims
    /// challenge ([`Error::claims_challenge`]) back to the client.
    #[error("interaction required: {response}")]
    InteractionRequired {
        /// Entra's answer, with `claims` and the AADSTS codes.
        response: Box<EntraErrorResponse>,
    },
    /// Consent is missing for the downstream permissions (AADSTS65001).
    #[error("consent required: {response}")]
    ConsentRequired {
        /// Entra's answer.
        response: Box<EntraErrorResponse>,
    },
    /// Entra refused the scopes (AADSTS70011, 28000, 28003).
    #[error("invalid scope: {response}")]
    InvalidScope {
        /// Entra's answer.
        response: Box<EntraErrorResponse>,
    },
    /// The app's own credential was refused: wrong or expired secret
    /// (AADSTS7000215, 7000222), or a refused certificate or federated assertion.
    #[error("invalid client credential: {response}")]
    InvalidClientCredential {
        /// Entra's answer.
        response: Box<EntraErrorResponse>,
    },
    /// The user token's audience is not this app (AADSTS50013): the client asked
    /// for a token to another API, often Microsoft Graph.
    #[error("the user token was issued for another audience: {response}")]
    WrongAudience {
        /// Entra's answer.
        response: Box<EntraErrorResponse>,
    },
    /// The app or tenant is not found (AADSTS700016, 90002).
    #[error("application or tenant not found: {response}")]
    AppNotFound {
        /// Entra's answer.
        response: Box<EntraErrorResponse>,
    },
    /// The downstream resource is not known in the tenant (AADSTS500011).
    #[error("downstream resource not found: {response}")]
    ResourceNotFound {
        /// Entra's answer.
        response: Box<EntraErrorResponse>,
    },
    /// The user is not assigned to the app (AADSTS50105).
    #[error("user not assigned: {response}")]
    UserNotAssigned {
        /// Entra's answer.
        response: Box<EntraErrorResponse>,
    },
    /// The user token (the assertion) is expired, revoked or otherwise no longer
    /// accepted (`invalid_grant`).
    #[error("the user token was refused: {response}")]
    InvalidGrant {
        /// Entra's answer.
        response: Box<EntraErrorResponse>,
    },
    /// Entra throttled the request (HTTP 429) and the retries ran out.
    #[error("throttled by entra{}: {}", retry_after.map(|d| format!(" (retry after {}s)", d.as_secs())).unwrap_or_default(), remedy_of(ErrorKind::Throttled, response.as_deref()))]
    Throttled {
        /// The delay Entra asked for (`Retry-After`), if any.
        retry_after: Option<Duration>,
        /// Entra's answer, if it sent an error document.
        response: Option<Box<EntraErrorResponse>>,
    },
    /// Entra answered with a server error (5xx) and the retries ran out.
    #[error("entra unavailable (HTTP {status}): {}", remedy_of(ErrorKind::Unavailable, response.as_deref()))]
    Unavailable {
        /// The last HTTP status.
        status: u16,
        /// Entra's answer, if it sent an error document.
        response: Option<Box<EntraErrorResponse>>,
    },
    /// Any other error document from Entra.
    #[error("token request refused (HTTP {status}): {response}")]
    Rejected {
        /// The HTTP status.
        status: u16,
        /// Entra's answer.
        response: Box<EntraErrorResponse>,
    },
    /// The token endpoint's answer was not a token response or an error document.
    #[error("unexpected answer from the token endpoint (HTTP {status}): {reason}")]
    InvalidResponse {
        /// The HTTP status.
        status: u16,
        /// What was wrong.
        reason: &'static str,
    },
    /// The request failed on the network (connection, TLS, timeout), after retries.
    #[error("token request failed")]
    Transport(#[source] Arc<entra_core::http::HttpError>),
    /// The client credential could not produce its authentication (certificate,
    /// federated assertion, empty secret).
    #[error("client credential unavailable")]
    Credential(#[source] Arc<entra_core::Error>),
    /// The configuration read from the environment is missing a value or holds
    /// a malformed one; the message names the variable.
    #[error(transparent)]
    Env(Arc<entra_core::Error>),
    /// The configuration could not be used (no credential).
    #[error("invalid configuration: {reason}")]
    Config {
        /// What is wrong.
        reason: String,
    },
    /// The task running a token request failed (it panicked or its runtime shut
    /// down), or no tokio runtime was there to run it.
    #[error("the token request task failed: {reason}")]
    ExchangeTask {
        /// What happened.
        reason: &'static str,
    },
    /// The HTTP client could not be built.
    #[error("cannot build the HTTP client")]
    HttpClient(#[source] Arc<entra_core::http::HttpError>),
    /// A downstream API's base URL or a path under it is not usable (feature
    /// `downstream`).
    #[cfg(feature = "downstream")]
    #[error("invalid downstream api url: {reason}")]
    InvalidApiUrl {
        /// What is wrong (never the URL's query).
        reason: &'static str,
    },
    /// The token exchanger (not an [`crate::Obo`]) failed; its code and class
    /// are passed through (feature `downstream`).
    #[cfg(feature = "downstream")]
    #[error("the token exchange failed")]
    Exchanger(#[source] Arc<entra_core::SeamError>),
    /// The downstream API still asked for claims after the token was renewed
    /// with its challenge (feature `downstream`): send the challenge
    /// ([`Error::claims_challenge`]) back to the client.
    #[cfg(feature = "downstream")]
    #[error("the downstream api asks for claims the user must satisfy")]
    ApiClaimsChallenge {
        /// The API's challenge.
        challenge: ClaimsChallenge,
    },
    /// The downstream API answered with an error status (feature `downstream`).
    #[cfg(feature = "downstream")]
    #[error("the downstream api answered http {status}{}", error_code.as_deref().map(|c| format!(" ({c})")).unwrap_or_default())]
    ApiStatus {
        /// The HTTP status.
        status: u16,
        /// The error code of a Microsoft Graph-shaped body (`error.code`) or an
        /// OAuth-shaped one (`error`), shortened.
        error_code: Option<String>,
        /// The delay the API asked for (`Retry-After`).
        retry_after: Option<Duration>,
    },
    /// The request to the downstream API failed: network, timeout, a redirect
    /// (never followed) or a body over the limit (feature `downstream`).
    #[cfg(feature = "downstream")]
    #[error("the downstream api request failed")]
    ApiRequest(#[source] Arc<entra_core::http::HttpError>),
    /// The downstream API's success body is not the JSON expected (feature
    /// `downstream`).
    #[cfg(feature = "downstream")]
    #[error("the downstream api answered http {status} with a body that is not the json expected")]
    ApiBody {
        /// The HTTP status.
        status: u16,
    },
}

fn remedy_of(kind: ErrorKind, response: Option<&EntraErrorResponse>) -> String {
    match response {
        Some(r) => r.to_string(),
        None => kind.remedy().to_owned(),
    }
}

impl Error {
    /// Classifies an Entra error document.
    pub(crate) fn from_entra(status: u16, response: EntraErrorResponse) -> Self {
        let kind = response.kind();
        let response = Box::new(response);
        match kind {
            ErrorKind::InteractionRequired => Self::InteractionRequired { response },
            ErrorKind::ConsentRequired => Self::ConsentRequired { response },
            ErrorKind::InvalidScope | ErrorKind::ResourceParameterRejected => {
                Self::InvalidScope { response }
            }
            ErrorKind::InvalidClientSecret
            | ErrorKind::ExpiredClientSecret
            | ErrorKind::InvalidClientAssertion => Self::InvalidClientCredential { response },
            ErrorKind::WrongAudience => Self::WrongAudience { response },
            ErrorKind::AppNotFound => Self::AppNotFound { response },
            ErrorKind::ResourceNotFound => Self::ResourceNotFound { response },
            ErrorKind::UserNotAssigned => Self::UserNotAssigned { response },
            ErrorKind::AppOnlyAssertion => Self::AppOnlyToken { response: Some(response) },
            ErrorKind::InvalidGrant => Self::InvalidGrant { response },
            ErrorKind::Throttled => Self::Throttled { retry_after: None, response: Some(response) },
            ErrorKind::Unavailable => Self::Unavailable { status, response: Some(response) },
            _ => Self::Rejected { status, response },
        }
    }

    /// Entra's error document, when the error came from Entra.
    pub fn entra_response(&self) -> Option<&EntraErrorResponse> {
        match self {
            Self::InteractionRequired { response }
            | Self::ConsentRequired { response }
            | Self::InvalidScope { response }
            | Self::InvalidClientCredential { response }
            | Self::WrongAudience { response }
            | Self::AppNotFound { response }
            | Self::ResourceNotFound { response }
            | Self::UserNotAssigned { response }
            | Self::InvalidGrant { response }
            | Self::Rejected { response, .. } => Some(response),
            Self::AppOnlyToken { response }
            | Self::Throttled { response, .. }
            | Self::Unavailable { response, .. } => response.as_deref(),
            _ => None,
        }
    }

    /// The AADSTS codes of Entra's answer (empty when the error did not come from Entra).
    pub fn aadsts_codes(&self) -> &[u32] {
        self.entra_response().map_or(&[], |r| r.error_codes.as_slice())
    }

    /// The first AADSTS code of Entra's answer.
    pub fn aadsts(&self) -> Option<u32> {
        self.entra_response().and_then(EntraErrorResponse::aadsts)
    }

    /// The `claims` challenge (JSON text) Entra returned, for
    /// [`Error::InteractionRequired`].
    pub fn claims(&self) -> Option<&str> {
        match self {
            Self::InteractionRequired { response } => response.claims.as_deref(),
            #[cfg(feature = "downstream")]
            Self::ApiClaimsChallenge { challenge } => Some(challenge.claims()),
            #[cfg(feature = "downstream")]
            Self::Exchanger(e) => AuthError::claims_challenge(&**e),
            _ => None,
        }
    }

    /// The challenge to send back to the client (`WWW-Authenticate: Bearer
    /// error="insufficient_claims", claims="..."`), when Entra asked for claims.
    pub fn claims_challenge(&self) -> Option<ClaimsChallenge> {
        self.claims().map(ClaimsChallenge::new)
    }

    /// The delay Entra asked for, for [`Error::Throttled`].
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Throttled { retry_after, .. } => *retry_after,
            #[cfg(feature = "downstream")]
            Self::ApiStatus { retry_after, .. } => *retry_after,
            #[cfg(feature = "downstream")]
            Self::Exchanger(e) => AuthError::retry_after(&**e),
            _ => None,
        }
    }
}

impl Error {
    /// The stable `snake_case` code of this error (see the table on [`Error`]).
    pub fn code(&self) -> &'static str {
        self.classify().0
    }

    /// The user's token cannot be exchanged as it is: answer 401 (with the claims
    /// challenge, if any) or 403.
    pub fn is_unauthorized(&self) -> bool {
        self.classify().1 == Class::Unauthorized
    }

    /// Entra or the network failed: answer 503 and retry later.
    pub fn is_transient(&self) -> bool {
        self.classify().1 == Class::Transient
    }

    /// The app registration, its credential or the requested target is wrong:
    /// fix the deployment, not the request.
    pub fn is_config(&self) -> bool {
        self.classify().1 == Class::Config
    }

    /// The one place each variant gets its code and class: no wildcard arm, so a
    /// new variant must be classified here.
    fn classify(&self) -> (&'static str, Class) {
        use Class::{Config, Other, Transient, Unauthorized};
        match self {
            Self::NoScopes => ("no_scopes", Config),
            Self::MultipleResources { .. } => ("multiple_resources", Config),
            Self::DefaultWithOtherScopes { .. } => ("default_with_other_scopes", Config),
            Self::MalformedScope { .. } => ("malformed_scope", Config),
            Self::UnknownApi { .. } => ("unknown_api", Config),
            Self::MissingTenant => ("missing_tenant", Unauthorized),
            Self::AppOnlyToken { .. } => ("app_only_token", Unauthorized),
            Self::InteractionRequired { .. } => ("interaction_required", Unauthorized),
            Self::ConsentRequired { .. } => ("consent_required", Unauthorized),
            Self::InvalidScope { .. } => ("invalid_scope", Config),
            Self::InvalidClientCredential { .. } => ("invalid_client_credential", Config),
            Self::WrongAudience { .. } => ("wrong_audience", Unauthorized),
            Self::AppNotFound { .. } => ("app_not_found", Config),
            Self::ResourceNotFound { .. } => ("resource_not_found", Config),
            Self::UserNotAssigned { .. } => ("user_not_assigned", Unauthorized),
            Self::InvalidGrant { .. } => ("invalid_grant", Unauthorized),
            Self::Throttled { .. } => ("throttled", Transient),
            Self::Unavailable { .. } => ("entra_unavailable", Transient),
            Self::Rejected { .. } => ("token_request_rejected", Other),
            Self::InvalidResponse { .. } => ("invalid_response", Other),
            Self::Transport(_) => ("transport", Transient),
            Self::Credential(e) => {
                ("credential_unavailable", if e.is_transient() { Transient } else { Config })
            }
            Self::Config { .. } => ("invalid_config", Config),
            Self::Env(e) => (e.code(), Config),
            Self::ExchangeTask { .. } => ("exchange_task_failed", Other),
            Self::HttpClient(_) => ("http_client", Config),
            #[cfg(feature = "downstream")]
            Self::InvalidApiUrl { .. } => ("invalid_api_url", Config),
            #[cfg(feature = "downstream")]
            Self::Exchanger(e) => {
                let class = if e.is_unauthorized() || e.claims_challenge().is_some() {
                    Unauthorized
                } else if e.is_transient() {
                    Transient
                } else if e.is_config() {
                    Config
                } else {
                    Other
                };
                (e.code(), class)
            }
            #[cfg(feature = "downstream")]
            Self::ApiClaimsChallenge { .. } => ("insufficient_claims", Unauthorized),
            #[cfg(feature = "downstream")]
            Self::ApiStatus { status, .. } => (
                "api_error_status",
                match status {
                    401 | 403 => Unauthorized,
                    429 | 500.. => Transient,
                    _ => Other,
                },
            ),
            #[cfg(feature = "downstream")]
            Self::ApiRequest(e) => {
                ("api_request_failed", if e.is_transient() { Transient } else { Other })
            }
            #[cfg(feature = "downstream")]
            Self::ApiBody { .. } => ("api_invalid_body", Other),
        }
    }
}

/// The class of an error: what the host should do about it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Class {
    Unauthorized,
    Transient,
    Config,
    Other,
}

impl AuthError for Error {
    fn is_unauthorized(&self) -> bool {
        Self::is_unauthorized(self)
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
    fn claims_challenge(&self) -> Option<&str> {
        self.claims()
    }
    fn retry_after(&self) -> Option<Duration> {
        Self::retry_after(self)
    }
}

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

pub(crate) use entra_core::shorten_untrusted as shorten;

#[cfg(test)]
mod tests {
    use super::*;

    fn entra() -> Box<EntraErrorResponse> {
        Box::new(EntraErrorResponse::parse(br#"{"error":"invalid_request"}"#).unwrap())
    }

    #[test]
    fn codes_are_unique_snake_case_and_stable() {
        // `Transport` and `HttpClient` need an `entra_core::http::HttpError`, which cannot be
        // built here; their codes are `transport` and `http_client` (see the table).
        let errors = [
            Error::NoScopes,
            Error::MultipleResources { first: String::new(), second: String::new() },
            Error::DefaultWithOtherScopes { resource: String::new() },
            Error::MalformedScope { scope: String::new(), reason: "" },
            Error::UnknownApi { name: String::new() },
            Error::MissingTenant,
            Error::AppOnlyToken { response: None },
            Error::InteractionRequired { response: entra() },
            Error::ConsentRequired { response: entra() },
            Error::InvalidScope { response: entra() },
            Error::InvalidClientCredential { response: entra() },
            Error::WrongAudience { response: entra() },
            Error::AppNotFound { response: entra() },
            Error::ResourceNotFound { response: entra() },
            Error::UserNotAssigned { response: entra() },
            Error::InvalidGrant { response: entra() },
            Error::Throttled { retry_after: None, response: None },
            Error::Unavailable { status: 503, response: None },
            Error::Rejected { status: 400, response: entra() },
            Error::InvalidResponse { status: 200, reason: "" },
            Error::Credential(Arc::new(entra_core::Error::Empty { what: "" })),
            Error::Config { reason: String::new() },
            Error::ExchangeTask { reason: "" },
        ];
        let codes: Vec<&str> = errors.iter().map(Error::code).collect();
        assert_eq!(
            codes,
            [
                "no_scopes",
                "multiple_resources",
                "default_with_other_scopes",
                "malformed_scope",
                "unknown_api",
                "missing_tenant",
                "app_only_token",
                "interaction_required",
                "consent_required",
                "invalid_scope",
                "invalid_client_credential",
                "wrong_audience",
                "app_not_found",
                "resource_not_found",
                "user_not_assigned",
                "invalid_grant",
                "throttled",
                "entra_unavailable",
                "token_request_rejected",
                "invalid_response",
                "credential_unavailable",
                "invalid_config",
                "exchange_task_failed",
            ]
        );
        entra_testkit::doubles::assert_error_codes(&codes);
        for e in &errors {
            let classes = [e.is_unauthorized(), e.is_transient(), e.is_config()];
            assert!(classes.iter().filter(|c| **c).count() <= 1, "{e:?}");
        }
    }

    #[test]
    fn the_seam_carries_the_challenge_and_the_delay() {
        let body = br#"{"error":"interaction_required","error_codes":[50076],"claims":"{\"access_token\":{}}"}"#;
        let e = Error::from_entra(400, EntraErrorResponse::parse(body).unwrap());
        let seam = entra_core::SeamError::new(e);
        assert_eq!(seam.code(), "interaction_required");
        assert_eq!(seam.claims_challenge(), Some(r#"{"access_token":{}}"#));
        let e = Error::Throttled { retry_after: Some(Duration::from_secs(3)), response: None };
        let seam = entra_core::SeamError::new(e);
        assert!(seam.is_transient());
        assert_eq!(seam.retry_after(), Some(Duration::from_secs(3)));
    }
}
