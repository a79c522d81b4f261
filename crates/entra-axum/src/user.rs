//! The signed-in user: session data and the `User` extractor (redirect or 401,
//! token refresh).

use std::collections::BTreeSet;
use std::fmt;
use std::time::{Duration, UNIX_EPOCH};

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::response::{IntoResponse, Response};
use entra_core::{AccessToken, IdentityKey, Secret, TenantId};
use http::header::{ACCEPT, LOCATION, WWW_AUTHENTICATE};
use http::request::Parts;
use http::{HeaderValue, Method, StatusCode};
use serde::{Deserialize, Serialize};

use crate::session::{SESSION_KEY, load_state};
use crate::{EntraAuth, Error};

/// The teams, role and admin flag of a user, from entra-teams at sign-in.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Teams {
    /// The host's teams the user belongs to.
    pub teams: BTreeSet<String>,
    /// The host role, if a rule or the default role gave one.
    pub role: Option<String>,
    /// Whether a rule granted admin.
    pub admin: bool,
}

/// Who signed in, as kept in the session (serializable; no token).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SignedInUser {
    /// The stable identity: (`tid`, `oid`).
    pub key: IdentityKey,
    /// Display name.
    pub name: Option<String>,
    /// Sign-in name (mutable: never a key).
    pub username: Option<String>,
    /// The `email` claim (unverified unless the tenant says so: display only).
    pub email: Option<String>,
    /// App roles assigned to the user.
    pub roles: Vec<String>,
    /// Group ids from the ID token; `None` on overage or when not emitted.
    pub groups: Option<Vec<String>>,
    /// Teams and role from entra-teams, when configured.
    pub teams: Option<Teams>,
}

impl fmt::Debug for SignedInUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignedInUser").field("key", &self.key).finish_non_exhaustive()
    }
}

/// The tokens kept in the session store (never in a cookie).
#[derive(Clone, Default, Serialize, Deserialize)]
pub(crate) struct StoredTokens {
    pub(crate) access_token: Option<String>,
    pub(crate) access_expires_at: Option<i64>,
    pub(crate) scopes: Vec<String>,
    pub(crate) refresh_token: Option<String>,
}

impl StoredTokens {
    pub(crate) fn from_tokens(
        tokens: entra_oidc::Tokens,
        previous_refresh: Option<String>,
    ) -> Self {
        let (_, access, refresh) = tokens.into_parts();
        let (access_token, access_expires_at, scopes) = match access {
            Some(a) => (
                Some(a.secret.expose_secret().to_owned()),
                Some(entra_core::unix_seconds(a.expires_at)),
                a.scopes,
            ),
            None => (None, None, Vec::new()),
        };
        Self {
            access_token,
            access_expires_at,
            scopes,
            // Keep the rotated refresh token; if none came back, keep the old one.
            refresh_token: refresh.map(|r| r.expose_secret().to_owned()).or(previous_refresh),
        }
    }
}

/// Everything the session holds for a signed-in user.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct SessionState {
    pub(crate) user: SignedInUser,
    pub(crate) tokens: StoredTokens,
    /// The logout form's anti-CSRF token.
    pub(crate) csrf: String,
    /// Entra's session id and issuer, for front-channel logout.
    pub(crate) sid: Option<(String, String)>,
    /// The `login_hint` optional claim, for a sign-out without account picker.
    pub(crate) login_hint: Option<String>,
}

/// The signed-in user of a request under a [`SessionLayer`](crate::SessionLayer).
///
/// As an extractor it answers a request without a signed-in user the way its
/// client expects: a browser navigation (`GET`/`HEAD` with `Sec-Fetch-Mode:
/// navigate`, or, without that header, an `Accept` naming `text/html`) is
/// redirected (303) to the sign-in route with `return_to` set to this path; any
/// other request gets 401. Use `Option<User>` for pages that also serve
/// anonymous visitors.
///
/// When sign-in asked for a refresh token (`offline_access`), the access token
/// is refreshed shortly before it expires (see
/// [`EntraAuthBuilder::refresh_before`](crate::EntraAuthBuilder::refresh_before)),
/// keeping the rotated refresh token; a refresh that Entra refuses ends the
/// session.
#[derive(Clone)]
pub struct User {
    state: SessionState,
}

impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User").field("key", &self.state.user.key).finish_non_exhaustive()
    }
}

impl User {
    /// Who signed in (serializable).
    pub fn info(&self) -> &SignedInUser {
        &self.state.user
    }

    /// The stable identity: (`tid`, `oid`).
    pub fn key(&self) -> &IdentityKey {
        &self.state.user.key
    }

    /// The user's tenant.
    pub fn tenant_id(&self) -> &TenantId {
        &self.state.user.key.tid
    }

    /// Display name.
    pub fn name(&self) -> Option<&str> {
        self.state.user.name.as_deref()
    }

    /// Sign-in name (mutable: never a key).
    pub fn username(&self) -> Option<&str> {
        self.state.user.username.as_deref()
    }

    /// App roles.
    pub fn roles(&self) -> &[String] {
        &self.state.user.roles
    }

    /// Whether the user has app role `role`.
    pub fn has_role(&self, role: &str) -> bool {
        self.state.user.roles.iter().any(|r| r == role)
    }

    /// Teams, role and admin flag from entra-teams, when configured.
    pub fn teams(&self) -> Option<&Teams> {
        self.state.user.teams.as_ref()
    }

    /// Entra's sign-in session id: the ID token's optional `sid` claim, which
    /// Entra's front-channel logout request names (the front-channel route ends
    /// the session recorded for it). `None` when the app does not emit `sid`.
    pub fn sid(&self) -> Option<&str> {
        self.state.sid.as_ref().map(|(sid, _)| sid.as_str())
    }

    /// The ID token's optional `login_hint` claim, sent as `logout_hint` at
    /// sign-out to skip Entra's account picker. `None` when the app does not
    /// emit it.
    pub fn login_hint(&self) -> Option<&str> {
        self.state.login_hint.as_deref()
    }

    /// The anti-CSRF token to send with `POST /logout` (a `csrf_token` form field
    /// or an `X-CSRF-Token` header).
    pub fn csrf_token(&self) -> &str {
        &self.state.csrf
    }

    /// The access token from sign-in (for the configured API scope, or Microsoft
    /// Graph), refreshed when needed. `None` when Entra sent none.
    pub fn access_token(&self) -> Option<AccessToken> {
        let t = &self.state.tokens;
        let secret = t.access_token.as_ref()?;
        let exp = t.access_expires_at.and_then(|e| u64::try_from(e).ok()).unwrap_or(0);
        Some(AccessToken::new(
            Secret::new(secret.clone()),
            UNIX_EPOCH + Duration::from_secs(exp),
            t.scopes.clone(),
        ))
    }
}

/// Whether the request is a browser navigation (redirect it to sign in) rather
/// than an API call (answer 401).
fn is_navigation(parts: &Parts) -> bool {
    if parts.method != Method::GET && parts.method != Method::HEAD {
        return false;
    }
    if let Some(mode) = parts.headers.get("sec-fetch-mode") {
        return mode.as_bytes() == b"navigate";
    }
    parts
        .headers
        .get_all(ACCEPT)
        .iter()
        .any(|v| v.to_str().is_ok_and(|v| v.split(',').any(|m| m.trim().starts_with("text/html"))))
}

fn not_signed_in(parts: &Parts, auth: &EntraAuth) -> Response {
    let uri = parts.extensions.get::<axum::extract::OriginalUri>().map_or(&parts.uri, |o| &o.0);
    let here = uri.path_and_query().map_or("/", |p| p.as_str());
    let target = auth.login_url(here);
    if is_navigation(parts) {
        let mut r = StatusCode::SEE_OTHER.into_response();
        if let Ok(v) = HeaderValue::from_str(&target) {
            r.headers_mut().insert(LOCATION, v);
        }
        return r;
    }
    // RFC 9110: a 401 names how to authenticate. Sessions are cookies set by a
    // sign-in page, the "Cookie" scheme of draft-broyer-http-cookie-auth: the
    // client is told where to sign in.
    let mut r = Error::NotSignedIn.into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("Cookie form-action=\"{target}\"")) {
        r.headers_mut().insert(WWW_AUTHENTICATE, v);
    }
    r
}

async fn extract(parts: &Parts) -> Result<Option<User>, Response> {
    let Some(auth) = parts.extensions.get::<EntraAuth>().cloned() else {
        tracing::error!("the User extractor is used on a route without EntraAuth's session layer");
        return Err(StatusCode::INTERNAL_SERVER_ERROR.into_response());
    };
    let Some(session) = parts.extensions.get::<tower_sessions::Session>().cloned() else {
        tracing::error!("the User extractor is used on a route without a session layer");
        return Err(StatusCode::INTERNAL_SERVER_ERROR.into_response());
    };
    let Some(mut state) = load_state(&session).await.map_err(IntoResponse::into_response)? else {
        return Ok(None);
    };
    if let Some(refreshed) = auth.refresh_if_due(&state).await {
        match refreshed {
            Ok(tokens) => {
                state.tokens = tokens;
                session
                    .insert(SESSION_KEY, &state)
                    .await
                    .map_err(|e| Error::Session(e).into_response())?;
            }
            Err(e) if e.is_transient() => {
                // Keep the current token while it lasts; after that, 503.
                if state.tokens.access_expires_at.is_some_and(|exp| exp <= auth.now()) {
                    return Err(Error::SignIn(e).into_response());
                }
            }
            Err(e) => {
                tracing::info!(error = %e, "refresh refused: the session ends");
                session.flush().await.map_err(|e| Error::Session(e).into_response())?;
                return Ok(None);
            }
        }
    }
    Ok(Some(User { state }))
}

impl<S: Send + Sync> FromRequestParts<S> for User {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Response> {
        match extract(parts).await? {
            Some(user) => Ok(user),
            None => {
                let Some(auth) = parts.extensions.get::<EntraAuth>() else {
                    return Err(StatusCode::INTERNAL_SERVER_ERROR.into_response());
                };
                Err(not_signed_in(parts, auth))
            }
        }
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for User {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Option<Self>, Response> {
        extract(parts).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(method: Method, headers: &[(&str, &str)]) -> Parts {
        let mut b = http::Request::builder().method(method).uri("/x");
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(()).unwrap().into_parts().0
    }

    #[test]
    fn navigation_rule() {
        assert!(is_navigation(&parts(Method::GET, &[("sec-fetch-mode", "navigate")])));
        assert!(is_navigation(&parts(
            Method::GET,
            &[("accept", "text/html,application/xhtml+xml")]
        )));
        assert!(!is_navigation(&parts(Method::GET, &[("accept", "application/json")])));
        assert!(!is_navigation(&parts(Method::GET, &[])));
        // fetch() from a page: cors mode, even when it accepts HTML.
        assert!(!is_navigation(&parts(
            Method::GET,
            &[("sec-fetch-mode", "cors"), ("accept", "text/html")]
        )));
        assert!(!is_navigation(&parts(Method::POST, &[("sec-fetch-mode", "navigate")])));
    }
}
