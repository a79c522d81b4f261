//! Token endpoint requests (code redemption, refresh) and the tokens they return.

use std::borrow::Cow;
use std::fmt;
use std::time::{Duration, SystemTime};

use entra_core::http::{HttpClient, TokenResponse};
use entra_core::{AccessToken, ClientCredential, ClientId, Secret, shorten_untrusted};
use oauth2::basic::{
    BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse,
    BasicTokenType,
};
use oauth2::{EndpointNotSet, EndpointSet, RequestTokenError, Scope, StandardRevocableToken};
use serde::{Deserialize, Serialize};

use crate::http::{OAuthHttp, http_error};
use crate::{Error, Result};

/// The tokens of a signed-in user. `Debug` never prints them.
#[derive(Clone)]
pub struct Tokens {
    id_token: Option<Secret>,
    access_token: Option<AccessToken>,
    refresh_token: Option<Secret>,
}

impl Tokens {
    /// The ID token (validated before it got here). After a refresh, present only
    /// when Entra sent a new one.
    pub fn id_token(&self) -> Option<&Secret> {
        self.id_token.as_ref()
    }

    /// The access token, for the configured API scope (or Microsoft Graph when
    /// none is configured), with its expiry and granted scopes.
    pub fn access_token(&self) -> Option<&AccessToken> {
        self.access_token.as_ref()
    }

    /// The refresh token, granted when `offline_access` was requested.
    pub fn refresh_token(&self) -> Option<&Secret> {
        self.refresh_token.as_ref()
    }

    pub(crate) fn from_parts(
        id_token: Option<Secret>,
        access_token: Option<AccessToken>,
        refresh_token: Option<Secret>,
    ) -> Self {
        Self { id_token, access_token, refresh_token }
    }

    /// Splits into ID token, access token and refresh token.
    pub fn into_parts(self) -> (Option<Secret>, Option<AccessToken>, Option<Secret>) {
        (self.id_token, self.access_token, self.refresh_token)
    }
}

impl fmt::Debug for Tokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tokens")
            .field("id_token", &self.id_token)
            .field("access_token", &self.access_token)
            .field("refresh_token", &self.refresh_token)
            .finish_non_exhaustive()
    }
}

/// oauth2's view of a token response. It is parsed by entra-core's one parser
/// ([`TokenResponse`]'s `Deserialize`: `expires_in` as a number or a string,
/// bounded, a bearer token type, no empty token); oauth2's own
/// `StandardTokenResponse` would refuse the string `expires_in` of v1 endpoints.
///
/// The tokens sit in oauth2's types only between parsing and
/// [`GrantResponse::into_tokens`], which moves them into [`Secret`]s.
#[derive(Deserialize)]
#[serde(from = "TokenResponse")]
pub(crate) struct GrantResponse {
    access_token: oauth2::AccessToken,
    token_type: BasicTokenType,
    expires_in: Option<Duration>,
    refresh_token: Option<oauth2::RefreshToken>,
    scopes: Option<Vec<Scope>>,
    id_token: Option<Secret>,
}

impl From<TokenResponse> for GrantResponse {
    fn from(r: TokenResponse) -> Self {
        let copy = |s: &Secret| s.expose_secret().to_owned();
        Self {
            access_token: oauth2::AccessToken::new(copy(&r.access_token)),
            token_type: BasicTokenType::Bearer,
            expires_in: r.expires_in,
            refresh_token: r.refresh_token.as_ref().map(|t| oauth2::RefreshToken::new(copy(t))),
            scopes: r.scope.as_deref().map(|s| {
                s.split_ascii_whitespace().map(|scope| Scope::new(scope.to_owned())).collect()
            }),
            id_token: r.id_token,
        }
    }
}

impl GrantResponse {
    /// The tokens, the access token expiring `expires_in` after `now` (at `now`
    /// when the response gave no lifetime). The ID token is not validated yet.
    pub(crate) fn into_tokens(self, now: SystemTime) -> Tokens {
        let lifetime = self.expires_in.unwrap_or(Duration::ZERO);
        let expires_at = now.checked_add(lifetime).unwrap_or(now);
        let scopes = self.scopes.unwrap_or_default().into_iter().map(|s| s.to_string()).collect();
        Tokens {
            id_token: self.id_token,
            access_token: Some(AccessToken::new(
                Secret::new(self.access_token.into_secret()),
                expires_at,
                scopes,
            )),
            refresh_token: self.refresh_token.map(|t| Secret::new(t.into_secret())),
        }
    }
}

impl oauth2::TokenResponse for GrantResponse {
    type TokenType = BasicTokenType;

    fn access_token(&self) -> &oauth2::AccessToken {
        &self.access_token
    }
    fn token_type(&self) -> &BasicTokenType {
        &self.token_type
    }
    fn expires_in(&self) -> Option<Duration> {
        self.expires_in
    }
    fn refresh_token(&self) -> Option<&oauth2::RefreshToken> {
        self.refresh_token.as_ref()
    }
    fn scopes(&self) -> Option<&Vec<Scope>> {
        self.scopes.as_ref()
    }
}

/// oauth2 asks token responses to be serializable; this one never writes a
/// token, only its type, lifetime and scopes.
impl Serialize for GrantResponse {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct as _;
        let mut out = s.serialize_struct("GrantResponse", 3)?;
        out.serialize_field("token_type", &self.token_type)?;
        out.serialize_field("expires_in", &self.expires_in.map(|d| d.as_secs()))?;
        out.serialize_field("scopes", &self.scopes)?;
        out.end()
    }
}

impl fmt::Debug for GrantResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GrantResponse")
            .field("expires_in", &self.expires_in)
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

/// The oauth2 client for the code and refresh grants at `token_endpoint`,
/// parsing responses into [`GrantResponse`]s. It holds no secret: the
/// credential is applied by the HTTP layer ([`OAuthHttp`]).
type TokenClient = oauth2::Client<
    BasicErrorResponse,
    GrantResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

/// What a token request redeems.
pub(crate) enum Grant<'a> {
    /// An authorization code with its PKCE verifier and redirect URI.
    Code { code: &'a Secret, verifier: &'a str, redirect_uri: &'a str },
    /// A refresh token.
    Refresh { refresh_token: &'a Secret },
}

/// One token request.
pub(crate) struct TokenRequest<'a> {
    pub(crate) http: &'a HttpClient,
    pub(crate) endpoint: &'a str,
    pub(crate) client_id: &'a ClientId,
    pub(crate) credential: Option<&'a ClientCredential>,
    pub(crate) scope: &'a str,
    pub(crate) grant: Grant<'a>,
    pub(crate) now: SystemTime,
}

impl TokenRequest<'_> {
    /// Sends the request through oauth2 (the grant's form) over the HTTP layer
    /// (credential, caps, errors) and parses the answer. Never retried: codes
    /// are single use.
    pub(crate) async fn send(self) -> Result<Tokens> {
        const ENDPOINT: &str = "token";
        let token_url = oauth2::TokenUrl::new(self.endpoint.to_owned()).map_err(|_| {
            Error::InvalidResponse {
                endpoint: "discovery",
                reason: "token_endpoint is not a url".into(),
            }
        })?;
        let client: TokenClient =
            oauth2::Client::new(oauth2::ClientId::new(self.client_id.to_string()))
                .set_auth_type(oauth2::AuthType::RequestBody)
                .set_token_uri(token_url);
        let auth = match self.credential {
            Some(c) => Some(
                c.authenticate(self.client_id, self.endpoint).await.map_err(Error::Credential)?,
            ),
            None => None,
        };
        let http = OAuthHttp { http: self.http.clone(), auth, now: self.now };
        let scopes = || self.scope.split_ascii_whitespace().map(|s| Scope::new(s.to_owned()));
        let result = match self.grant {
            Grant::Code { code, verifier, redirect_uri } => {
                let redirect = oauth2::RedirectUrl::new(redirect_uri.to_owned()).map_err(|_| {
                    Error::InvalidConfig { field: "redirect_uri", reason: "not a url".into() }
                })?;
                client
                    .exchange_code(oauth2::AuthorizationCode::new(code.expose_secret().to_owned()))
                    .set_pkce_verifier(oauth2::PkceCodeVerifier::new(verifier.to_owned()))
                    .set_redirect_uri(Cow::Owned(redirect))
                    // Not an RFC 6749 parameter of this grant; Entra's v2 endpoint
                    // takes the scopes of the access token it should issue.
                    .add_extra_param("scope", self.scope)
                    .request_async(&http)
                    .await
            }
            Grant::Refresh { refresh_token } => {
                let refresh_token =
                    oauth2::RefreshToken::new(refresh_token.expose_secret().to_owned());
                client
                    .exchange_refresh_token(&refresh_token)
                    .add_scopes(scopes())
                    .request_async(&http)
                    .await
            }
        };
        let grant = result.map_err(|e| match e {
            RequestTokenError::Request(e) => http_error(ENDPOINT, e),
            RequestTokenError::Parse(e, _body) => {
                // Our parser's reason, or serde's, without its position; never the body.
                let text = e.inner().to_string();
                let reason = text.split(" at line ").next().unwrap_or("");
                Error::InvalidResponse {
                    endpoint: ENDPOINT,
                    reason: format!("not a token response: {}", shorten_untrusted(reason)),
                }
            }
            RequestTokenError::ServerResponse(_) | RequestTokenError::Other(_) => {
                Error::InvalidResponse {
                    endpoint: ENDPOINT,
                    reason: "the answer is not a json token response".into(),
                }
            }
        })?;
        tracing::debug!("token request succeeded");
        Ok(grant.into_tokens(self.now))
    }
}

#[cfg(test)]
mod tests {
    use std::time::UNIX_EPOCH;

    use super::*;

    fn parse(body: &str, now: SystemTime) -> std::result::Result<Tokens, serde_json::Error> {
        serde_json::from_str::<GrantResponse>(body).map(|g| g.into_tokens(now))
    }

    #[test]
    fn parses_entra_response_through_the_core_parser() {
        let now = UNIX_EPOCH + Duration::from_secs(1_000);
        let t = parse(
            r#"{"token_type":"Bearer","scope":"api://x/access_as_user openid","expires_in":3599,
                "ext_expires_in":3599,"access_token":"at.x.y","id_token":"id.x.y","refresh_token":"rt"}"#,
            now,
        )
        .unwrap();
        let at = t.access_token().unwrap();
        assert_eq!(at.expires_at, now + Duration::from_secs(3599));
        assert_eq!(at.scopes, ["api://x/access_as_user", "openid"]);
        assert_eq!(t.id_token().unwrap().expose_secret(), "id.x.y");
        assert_eq!(t.refresh_token().unwrap().expose_secret(), "rt");
        let dbg = format!("{t:?}");
        assert!(!dbg.contains("at.x.y") && !dbg.contains("id.x.y") && !dbg.contains("\"rt\""));
    }

    #[test]
    fn string_expiry_and_missing_parts() {
        let now = UNIX_EPOCH;
        let t = parse(r#"{"access_token":"a","expires_in":"60"}"#, now).unwrap();
        assert_eq!(t.access_token().unwrap().expires_at, now + Duration::from_secs(60));
        assert!(t.id_token().is_none() && t.refresh_token().is_none());
    }

    #[test]
    fn garbage_is_an_error_and_nothing_serializes_a_token() {
        for body in [
            "",
            "<html>",
            "[]",
            r#"{"token_type":"mac","access_token":"a"}"#,
            r#"{"expires_in":1}"#,
        ] {
            assert!(parse(body, UNIX_EPOCH).is_err(), "{body}");
        }
        let g: GrantResponse =
            serde_json::from_str(r#"{"access_token":"tok.en","refresh_token":"rt.x"}"#).unwrap();
        let out = serde_json::to_string(&g).unwrap();
        assert!(!out.contains("tok.en") && !out.contains("rt.x"), "{out}");
        assert!(!format!("{g:?}").contains("tok.en"));
    }
}
