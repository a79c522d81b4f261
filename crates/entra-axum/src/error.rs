//! The error type of this crate, and how each error becomes a response.

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use entra_core::{AuthError as _, ErrorClass, SeamError};
use http::header::{CACHE_CONTROL, CONTENT_TYPE};
use http::{HeaderValue, StatusCode};

use crate::challenge::{Challenger, Refusal};

/// Errors of set-up (configuration), of handlers (On-Behalf-Of, scope checks)
/// and of the sign-in routes.
///
/// Every error is also a response ([`IntoResponse`]): return it from a handler.
/// Under a [`BearerLayer`](crate::BearerLayer), a claims challenge from
/// On-Behalf-Of becomes `401 WWW-Authenticate: Bearer error="insufficient_claims",
/// claims="<base64>"` with the layer's realm and `resource_metadata`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A required setting is missing; `name` is the environment variable (or
    /// builder method) that sets it.
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
    /// The token validator could not be built.
    #[error("cannot build the token validator")]
    ValidatorSetup(#[source] entra_jwks::Error),
    /// The On-Behalf-Of client could not be built.
    #[error("cannot build the on-behalf-of client")]
    OboSetup(#[source] entra_obo::Error),
    /// The sign-in client could not be built.
    #[error("cannot build the sign-in client")]
    SignInSetup(#[source] entra_oidc::Error),
    /// [`Caller::on_behalf_of`](crate::Caller::on_behalf_of) was called without
    /// an exchanger: configure a client credential (`ENTRA_CLIENT_SECRET`).
    #[error(
        "no token exchanger is configured: set a client credential (a secret, a certificate or a federated token file)"
    )]
    NoExchanger,
    /// On-Behalf-Of failed; a Conditional Access claims challenge, when present,
    /// goes back to the client.
    #[error("the downstream token could not be obtained")]
    Exchange(#[source] SeamError),
    /// The caller lacks every one of the listed scopes (or roles).
    #[error("the caller lacks the required scope or role")]
    InsufficientScope {
        /// The scopes, any one of which would do.
        scopes: Vec<String>,
    },
    /// The request needs a signed-in user and has none.
    #[error("no user is signed in")]
    NotSignedIn,
    /// A state-changing sign-in request (logout) came without the session's CSRF
    /// token.
    #[error("the CSRF token is missing or does not match the session")]
    Csrf,
    /// Signing in, refreshing or signing out failed at Entra or in the callback.
    #[error("sign-in failed")]
    SignIn(#[source] entra_oidc::Error),
    /// The session store failed.
    #[cfg(feature = "sign-in")]
    #[error("the session store failed")]
    Session(#[source] tower_sessions::session::Error),
    /// Teams and roles could not be resolved at sign-in.
    #[cfg(feature = "teams")]
    #[error("teams could not be resolved")]
    Teams(#[source] entra_teams::Error),
}

/// A challenge raised behind a bearer layer (a handler's error response, a
/// refusal of the `Caller` extractor), completed by the layer with its realm and
/// metadata URL.
#[derive(Clone, Debug)]
pub(crate) struct PendingChallenge(pub(crate) Refusal);

/// The response to `refusal` from behind a bearer layer (a handler or an
/// extractor): its status and body now, its `WWW-Authenticate` header completed
/// by the layer with the layer's realm and metadata URL.
pub(crate) fn pending_challenge(refusal: Refusal) -> Response {
    let mut r = Challenger::new("api").response(&refusal);
    r.extensions_mut().insert(PendingChallenge(refusal));
    r
}

impl Error {
    /// The one place each variant gets its code (stable, for logs and metrics)
    /// and class: no wildcard arm, so a new variant must be classified here.
    /// An error wrapping another one (an exchange, the sign-in, teams) takes its
    /// class; an exchange that needs a claims challenge is `insufficient_claims`.
    fn classify(&self) -> (&'static str, ErrorClass) {
        use ErrorClass::{Config, Transient, Unauthorized};
        match self {
            Self::MissingConfig { .. } => ("missing_config", Config),
            Self::InvalidConfig { .. } => ("invalid_config", Config),
            Self::ValidatorSetup(_) => ("validator_setup", Config),
            Self::OboSetup(_) => ("obo_setup", Config),
            Self::SignInSetup(_) => ("sign_in_setup", Config),
            Self::NoExchanger => ("no_exchanger", Config),
            Self::Exchange(e) if e.claims_challenge().is_some() => {
                ("insufficient_claims", Unauthorized)
            }
            Self::Exchange(e) => ("exchange_failed", ErrorClass::of(e)),
            Self::InsufficientScope { .. } => ("insufficient_scope", Unauthorized),
            Self::NotSignedIn => ("not_signed_in", Unauthorized),
            Self::Csrf => ("csrf", Unauthorized),
            Self::SignIn(e) => ("sign_in_failed", ErrorClass::of(e)),
            #[cfg(feature = "sign-in")]
            Self::Session(_) => ("session_store", Transient),
            #[cfg(feature = "teams")]
            Self::Teams(e) => ("teams", ErrorClass::of(e)),
        }
    }

    /// The claims challenge of an exchange error, passed across the seams.
    fn seam_claims_challenge(&self) -> Option<&str> {
        match self {
            Self::Exchange(e) => e.claims_challenge(),
            _ => None,
        }
    }

    /// The refusal a bearer-protected handler answers with, when it is one.
    fn refusal(&self) -> Option<Refusal> {
        match self {
            Self::Exchange(e) => Some(Refusal::from_exchange(e.get_ref())),
            Self::InsufficientScope { scopes } => {
                Some(Refusal::InsufficientScope { scopes: scopes.clone() })
            }
            _ => None,
        }
    }
}

entra_core::auth_error!(Error, claims_challenge = Error::seam_claims_challenge);

impl From<SeamError> for Error {
    fn from(e: SeamError) -> Self {
        Self::Exchange(e)
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        if let Some(refusal) = self.refusal()
            && !matches!(refusal, Refusal::Internal(_))
        {
            return pending_challenge(refusal);
        }
        let status = if self.is_transient() {
            StatusCode::SERVICE_UNAVAILABLE
        } else if matches!(self, Self::Csrf | Self::Exchange(_)) && self.is_unauthorized() {
            StatusCode::FORBIDDEN
        } else if matches!(self, Self::NotSignedIn) {
            StatusCode::UNAUTHORIZED
        } else if self.is_unauthorized() {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::INTERNAL_SERVER_ERROR
        };
        if status.is_server_error() {
            tracing::error!(code = self.code(), error = %self, "entra-axum request failed");
        } else {
            tracing::debug!(code = self.code(), error = %self, "entra-axum request refused");
        }
        text_response(status, self.public_message())
    }
}

impl Error {
    /// What the user or client is told: never the inner error's text.
    fn public_message(&self) -> &'static str {
        match self {
            Self::NotSignedIn => "sign in first",
            Self::Exchange(_) if self.is_unauthorized() => {
                "the downstream API cannot be reached on behalf of this user"
            }
            Self::Csrf => {
                "the request did not come from this application (missing or wrong CSRF token)"
            }
            Self::SignIn(_) if self.is_unauthorized() => {
                "sign-in failed: the sign-in link expired, was already used or was refused; start again"
            }
            _ if self.is_transient() => "a service is temporarily unavailable; try again shortly",
            _ => "internal error",
        }
    }
}

pub(crate) fn text_response(status: StatusCode, message: &'static str) -> Response {
    let mut r = Response::new(Body::from(message));
    *r.status_mut() = status;
    r.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    r.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_classes() {
        let errors = [
            Error::MissingConfig { name: "X" },
            Error::InvalidConfig { field: "f", reason: "r".into() },
            Error::NoExchanger,
            Error::InsufficientScope { scopes: vec![] },
            Error::NotSignedIn,
            Error::Csrf,
            Error::SignIn(entra_oidc::Error::UnknownState),
        ];
        let codes: Vec<&str> = errors.iter().map(Error::code).collect();
        entra_testkit::doubles::assert_error_codes(&codes);
        for e in &errors {
            let classes = [e.is_unauthorized(), e.is_transient(), e.is_config()];
            assert!(classes.iter().filter(|c| **c).count() <= 1, "{e:?}");
        }
        assert!(Error::NotSignedIn.is_unauthorized() && Error::NoExchanger.is_config());
        let r = Error::Csrf.into_response();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        let r = Error::SignIn(entra_oidc::Error::StateMismatch).into_response();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    }
}
