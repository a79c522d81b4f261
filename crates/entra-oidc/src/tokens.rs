//! Token endpoint requests (code redemption, refresh) and the tokens they return.

use std::fmt;
use std::time::{Duration, SystemTime};

use entra_core::{AccessToken, ClientCredential, ClientId, EntraErrorResponse, Secret};
use serde::Deserialize;
use tracing::Instrument as _;

use crate::http::read_body;
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

/// `expires_in` arrives as a number (v2) or a string (v1).
#[derive(Deserialize)]
#[serde(untagged)]
enum Seconds {
    Number(u64),
    Text(String),
}

impl Seconds {
    fn get(&self) -> Option<u64> {
        match self {
            Self::Number(n) => Some(*n),
            Self::Text(s) => s.trim().parse().ok(),
        }
    }
}

#[derive(Deserialize)]
struct TokenResponse {
    #[serde(default)]
    token_type: Option<String>,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    expires_in: Option<Seconds>,
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default)]
    id_token: Option<String>,
    #[serde(default)]
    refresh_token: Option<String>,
}

/// Parses a successful token response body. The ID token is returned apart, not
/// yet validated.
pub(crate) fn parse_token_response(body: &[u8], now: SystemTime) -> Result<Tokens> {
    let bad = |reason: &str| Error::InvalidResponse { endpoint: "token", reason: reason.into() };
    let r: TokenResponse =
        serde_json::from_slice(body).map_err(|_| bad("the body is not a token response"))?;
    if r.token_type.as_deref().is_some_and(|t| !t.eq_ignore_ascii_case("bearer")) {
        return Err(bad("the token type is not bearer"));
    }
    let access_token = match r.access_token.filter(|t| !t.is_empty()) {
        Some(token) => {
            let secs = r.expires_in.as_ref().and_then(Seconds::get).unwrap_or(0);
            let expires_at = now.checked_add(Duration::from_secs(secs)).unwrap_or(now);
            let scopes = r
                .scope
                .as_deref()
                .unwrap_or("")
                .split_ascii_whitespace()
                .map(str::to_owned)
                .collect();
            Some(AccessToken::new(Secret::new(token), expires_at, scopes))
        }
        None => return Err(bad("the response has no access token")),
    };
    Ok(Tokens {
        id_token: r.id_token.filter(|t| !t.is_empty()).map(Secret::new),
        access_token,
        refresh_token: r.refresh_token.filter(|t| !t.is_empty()).map(Secret::new),
    })
}

/// What a token request redeems.
pub(crate) enum Grant<'a> {
    /// An authorization code with its PKCE verifier and redirect URI.
    Code { code: &'a Secret, verifier: &'a str, redirect_uri: &'a str },
    /// A refresh token.
    Refresh { refresh_token: &'a Secret },
}

/// One token request.
pub(crate) struct TokenRequest<'a> {
    pub(crate) http: &'a reqwest::Client,
    pub(crate) endpoint: &'a str,
    pub(crate) client_id: &'a ClientId,
    pub(crate) credential: Option<&'a ClientCredential>,
    pub(crate) scope: &'a str,
    pub(crate) grant: Grant<'a>,
    pub(crate) now: SystemTime,
}

impl TokenRequest<'_> {
    /// Sends the request and parses the answer. Never retried: codes are single use.
    pub(crate) async fn send(self) -> Result<Tokens> {
        const ENDPOINT: &str = "token";
        let grant_type = match self.grant {
            Grant::Code { .. } => "authorization_code",
            Grant::Refresh { .. } => "refresh_token",
        };
        let span = tracing::info_span!(
            "entra_oidc.token",
            url = %self.endpoint,
            grant_type,
            outcome = tracing::field::Empty,
        );
        async move {
            let mut form: Vec<(&str, &str)> = vec![
                ("client_id", self.client_id.as_str()),
                ("grant_type", grant_type),
                ("scope", self.scope),
            ];
            match &self.grant {
                Grant::Code { code, verifier, redirect_uri } => {
                    form.push(("code", code.expose_secret()));
                    form.push(("code_verifier", verifier));
                    form.push(("redirect_uri", redirect_uri));
                }
                Grant::Refresh { refresh_token } => {
                    form.push(("refresh_token", refresh_token.expose_secret()));
                }
            }
            let auth = match self.credential {
                Some(c) => Some(
                    c.authenticate(self.client_id, self.endpoint)
                        .await
                        .map_err(Error::Credential)?,
                ),
                None => None,
            };
            if let Some(a) = &auth {
                form.extend(a.form_fields());
            }
            let mut req = self.http.post(self.endpoint).form(&form);
            if let Some((user, password)) = auth.as_ref().and_then(|a| a.basic()) {
                // RFC 6749 2.3.1: both parts are form-urlencoded before base64.
                req = req.basic_auth(form_encode(user), Some(form_encode(password)));
            }
            let resp =
                req.send().await.map_err(|source| Error::Http { endpoint: ENDPOINT, source })?;
            let status = resp.status();
            let body = read_body(resp, ENDPOINT).await?;
            if status.is_success() {
                let tokens = parse_token_response(&body, self.now)?;
                tracing::Span::current().record("outcome", "ok");
                return Ok(tokens);
            }
            match EntraErrorResponse::parse(&body) {
                Ok(e) => {
                    tracing::Span::current().record("outcome", e.error.as_str());
                    tracing::warn!(error = %e, "token request refused");
                    Err(Error::TokenRequest(Box::new(e)))
                }
                Err(_) => {
                    tracing::Span::current().record("outcome", status.as_u16());
                    Err(Error::HttpStatus { endpoint: ENDPOINT, status: status.as_u16() })
                }
            }
        }
        .instrument(span)
        .await
    }
}

fn form_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use std::time::UNIX_EPOCH;

    use super::*;

    #[test]
    fn parses_entra_response() {
        let now = UNIX_EPOCH + Duration::from_secs(1_000);
        let t = parse_token_response(
            br#"{"token_type":"Bearer","scope":"api://x/access_as_user openid","expires_in":3599,
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
        let t = parse_token_response(br#"{"access_token":"a","expires_in":"60"}"#, now).unwrap();
        assert_eq!(t.access_token().unwrap().expires_at, now + Duration::from_secs(60));
        assert!(t.id_token().is_none() && t.refresh_token().is_none());
    }

    #[test]
    fn garbage_is_an_error() {
        for body in [&b""[..], b"<html>", b"[]", br#"{"token_type":"mac","access_token":"a"}"#] {
            assert!(matches!(
                parse_token_response(body, UNIX_EPOCH),
                Err(Error::InvalidResponse { .. })
            ));
        }
    }
}
