//! RFC 6750 / RFC 9728 challenges: the one place that writes `WWW-Authenticate`
//! and turns a refusal into a response.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::body::Body;
use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use entra_core::AuthError;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use http::{HeaderValue, StatusCode};

/// How long clients are told to wait when keys or Entra are unavailable and the
/// error gives no better figure.
pub(crate) const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(5);

/// The longest `Retry-After` sent, so a hostile upstream cannot park clients.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(300);

/// What every challenge of one protected resource carries: the realm and, when
/// the resource publishes RFC 9728 metadata, its URL.
#[derive(Clone, Debug)]
pub(crate) struct Challenger {
    realm: Arc<str>,
    resource_metadata: Option<Arc<str>>,
    /// Fully qualifies a bare scope name in `scope="..."` (`api://<client-id>/`).
    scope_prefix: Option<Arc<str>>,
    /// The `WWW-Authenticate` value of [`Refusal::NoCredentials`], once built.
    no_credentials: Arc<OnceLock<Option<HeaderValue>>>,
}

/// Why a request was refused, before it is written as a response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// No bearer credentials (no header, or another scheme): 401 without `error`.
    NoCredentials,
    /// The credentials are not a single well-formed bearer token, or the token
    /// was refused: 401 `invalid_token` with a fixed, safe description.
    InvalidToken(&'static str),
    /// The token lacks the scope or role the route requires: 403.
    InsufficientScope {
        /// The scopes to ask for (bare names; qualified when written).
        scopes: Vec<String>,
    },
    /// A downstream token needs more claims (Conditional Access, CAE): 401
    /// `insufficient_claims` with the claims JSON base64-encoded.
    InsufficientClaims(String),
    /// Keys or Entra are unavailable: 503 with `Retry-After`, never 401.
    Unavailable(Option<Duration>),
    /// A server-side failure (misconfiguration): 500, no challenge.
    Internal(&'static str),
}

impl Refusal {
    /// The refusal for an error from the validator seam, classified only through
    /// the [`AuthError`] methods.
    pub(crate) fn from_validation(error: &dyn AuthError) -> Self {
        if error.is_transient() {
            return Self::Unavailable(error.retry_after());
        }
        if error.is_config() {
            return Self::Internal("the token validator is misconfigured");
        }
        if error.code() == "insufficient_permissions" {
            // The validator's own required scopes or roles: a 403, not a bad token.
            return Self::InsufficientScope { scopes: Vec::new() };
        }
        Self::InvalidToken(describe(error.code()))
    }

    /// The refusal for an error from the exchanger seam (OBO) raised in a handler.
    pub(crate) fn from_exchange(error: &dyn AuthError) -> Self {
        if let Some(claims) = error.claims_challenge() {
            return Self::InsufficientClaims(claims.to_owned());
        }
        if error.is_transient() {
            return Self::Unavailable(error.retry_after());
        }
        Self::Internal("the downstream token could not be obtained")
    }
}

/// A fixed description for each validator error code: never the error's own
/// text, which may quote parts of the token.
fn describe(code: &str) -> &'static str {
    match code {
        "token_expired" => "the access token expired",
        "token_not_yet_valid" => "the access token is not valid yet",
        "invalid_audience" => "the access token is for another audience",
        "invalid_issuer" | "key_issuer_mismatch" => "the access token has an unexpected issuer",
        "tenant_not_allowed" => "the access token's tenant is not allowed",
        "token_for_graph" => "the access token is for Microsoft Graph, not this API",
        "invalid_signature" | "key_mismatch" | "algorithm_not_allowed" => {
            "the access token signature is not valid"
        }
        "unknown_kid" | "missing_kid" => "the access token was signed by an unknown key",
        "no_permissions" => "the access token grants no scope or role",
        "app_only_not_allowed" => "app-only tokens are not accepted",
        "not_an_access_token" => "the token is not an access token",
        "version_not_accepted" => "the access token version is not accepted",
        "token_too_large" => "the access token is too large",
        "token_malformed" | "missing_claim" => "the access token is malformed",
        _ => "the access token is not valid",
    }
}

impl Challenger {
    pub(crate) fn new(realm: impl Into<Arc<str>>) -> Self {
        Self {
            realm: realm.into(),
            resource_metadata: None,
            scope_prefix: None,
            no_credentials: Arc::default(),
        }
    }

    pub(crate) fn with_realm(mut self, realm: impl Into<Arc<str>>) -> Self {
        self.realm = realm.into();
        self.no_credentials = Arc::default();
        self
    }

    pub(crate) fn with_resource_metadata(mut self, url: impl Into<Arc<str>>) -> Self {
        self.resource_metadata = Some(url.into());
        self.no_credentials = Arc::default();
        self
    }

    pub(crate) fn with_scope_prefix(mut self, prefix: Option<Arc<str>>) -> Self {
        self.scope_prefix = prefix;
        self
    }

    pub(crate) fn realm(&self) -> &str {
        &self.realm
    }

    /// Fully qualifies `scope` with the prefix, unless it already is (a URI).
    pub(crate) fn qualify(&self, scope: &str) -> String {
        match &self.scope_prefix {
            Some(prefix) if !scope.contains("://") && !scope.contains('/') => {
                format!("{prefix}{scope}")
            }
            _ => scope.to_owned(),
        }
    }

    /// The `WWW-Authenticate` value for `refusal`, if it has one.
    pub(crate) fn header_value(&self, refusal: &Refusal) -> Option<String> {
        let mut v = String::with_capacity(128);
        v.push_str("Bearer realm=");
        quote_into(&mut v, &self.realm);
        match refusal {
            Refusal::NoCredentials => {}
            Refusal::InvalidToken(description) => {
                v.push_str(", error=\"invalid_token\", error_description=");
                quote_into(&mut v, description);
            }
            Refusal::InsufficientScope { scopes } => {
                v.push_str(", error=\"insufficient_scope\"");
                if !scopes.is_empty() {
                    let qualified: Vec<String> = scopes.iter().map(|s| self.qualify(s)).collect();
                    v.push_str(", scope=");
                    quote_into(&mut v, &qualified.join(" "));
                }
                v.push_str(", error_description=");
                quote_into(&mut v, "the access token does not grant the required permissions");
            }
            Refusal::InsufficientClaims(claims) => {
                v.push_str(", error=\"insufficient_claims\", claims=");
                quote_into(&mut v, &STANDARD.encode(claims.as_bytes()));
            }
            Refusal::Unavailable(_) | Refusal::Internal(_) => return None,
        }
        if let Some(url) = &self.resource_metadata {
            v.push_str(", resource_metadata=");
            quote_into(&mut v, url);
        }
        Some(v)
    }

    /// The full response for `refusal`: status, `WWW-Authenticate` (or
    /// `Retry-After`), `Cache-Control: no-store` and a small JSON body.
    pub(crate) fn response(&self, refusal: &Refusal) -> Response {
        let (status, code, description): (StatusCode, &str, &str) = match refusal {
            Refusal::NoCredentials => {
                (StatusCode::UNAUTHORIZED, "unauthorized", "bearer token required")
            }
            Refusal::InvalidToken(d) => (StatusCode::UNAUTHORIZED, "invalid_token", d),
            Refusal::InsufficientScope { .. } => (
                StatusCode::FORBIDDEN,
                "insufficient_scope",
                "the access token does not grant the required permissions",
            ),
            Refusal::InsufficientClaims(_) => (
                StatusCode::UNAUTHORIZED,
                "insufficient_claims",
                "additional claims are required: request a new token with the claims challenge",
            ),
            Refusal::Unavailable(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily_unavailable",
                "token validation is temporarily unavailable",
            ),
            Refusal::Internal(d) => (StatusCode::INTERNAL_SERVER_ERROR, "server_error", d),
        };
        // `code` and `description` are fixed ASCII texts without quotes or
        // backslashes, so this is valid JSON without an encoder.
        let body = format!(r#"{{"error":"{code}","error_description":"{description}"}}"#);
        let mut response = Response::new(Body::from(body));
        *response.status_mut() = status;
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Refusal::NoCredentials = refusal {
            // The commonest refusal (every client's first request): built once.
            let value = self.no_credentials.get_or_init(|| {
                self.header_value(refusal).and_then(|v| HeaderValue::from_str(&v).ok())
            });
            if let Some(value) = value {
                headers.insert(WWW_AUTHENTICATE, value.clone());
            }
        } else if let Some(value) = self.header_value(refusal)
            && let Ok(value) = HeaderValue::from_str(&value)
        {
            headers.insert(WWW_AUTHENTICATE, value);
        }
        if let Refusal::Unavailable(after) = refusal {
            let secs =
                after.unwrap_or(DEFAULT_RETRY_AFTER).clamp(Duration::from_secs(1), MAX_RETRY_AFTER);
            headers.insert(RETRY_AFTER, HeaderValue::from(secs.as_secs()));
        }
        response
    }
}

/// Appends `value` as an RFC 9110 quoted-string, keeping only the characters RFC
/// 6750 allows in its attributes (printable ASCII; `"` and `\` escaped) so that
/// the header is always valid.
fn quote_into(out: &mut String, value: &str) {
    out.push('"');
    for c in value.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            ' '..='~' => out.push(c),
            _ => out.push('?'),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn challenger() -> Challenger {
        Challenger::new("api")
            .with_resource_metadata("https://h/.well-known/oauth-protected-resource/mcp")
            .with_scope_prefix(Some("api://app/".into()))
    }

    #[test]
    fn header_values() {
        let c = challenger();
        assert_eq!(
            c.header_value(&Refusal::NoCredentials).unwrap(),
            r#"Bearer realm="api", resource_metadata="https://h/.well-known/oauth-protected-resource/mcp""#
        );
        assert_eq!(
            c.header_value(&Refusal::InsufficientScope {
                scopes: vec!["a".into(), "api://x/b".into()]
            })
            .unwrap(),
            r#"Bearer realm="api", error="insufficient_scope", scope="api://app/a api://x/b", error_description="the access token does not grant the required permissions", resource_metadata="https://h/.well-known/oauth-protected-resource/mcp""#
        );
        assert!(c.header_value(&Refusal::Unavailable(None)).is_none());
        let claims = c.header_value(&Refusal::InsufficientClaims("{\"a\":1}".into())).unwrap();
        assert!(
            claims.contains(r#"error="insufficient_claims", claims="eyJhIjoxfQ==""#),
            "{claims}"
        );
    }

    #[test]
    fn quoting_escapes_and_replaces() {
        let mut s = String::new();
        quote_into(&mut s, "a\"b\\c\r\né");
        assert_eq!(s, r#""a\"b\\c???""#);
    }

    #[test]
    fn retry_after_is_bounded() {
        let c = challenger();
        let r = c.response(&Refusal::Unavailable(Some(Duration::from_secs(100_000))));
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(r.headers()[RETRY_AFTER], "300");
        assert!(r.headers().get(WWW_AUTHENTICATE).is_none());
        let r = c.response(&Refusal::Unavailable(None));
        assert_eq!(r.headers()[RETRY_AFTER], "5");
    }
}
