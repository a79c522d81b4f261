//! The one token-endpoint client: the form, client authentication, token
//! responses and Entra error documents.

use std::fmt;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use reqwest::header::AUTHORIZATION;
use serde::{Deserialize, Deserializer};
use url::form_urlencoded;

use super::{EndpointKind, HttpClient, HttpError, HttpErrorKind, HttpRequest, HttpResponse};
use crate::{ClientAuth, EntraErrorResponse, Secret};

/// The longest `expires_in` accepted: Entra issues at most about 28 hours (some
/// configurable lifetimes); anything beyond 48 hours is not a real token response.
pub const MAX_EXPIRES_IN: Duration = Duration::from_secs(48 * 60 * 60);

/// The body limit of a token request that sets none.
const DEFAULT_LIMIT: usize = 64 * 1024;

/// One `POST` to a token endpoint: a form, the client's authentication, and the
/// parsing of the answer. Build it once; [`TokenRequest::send`] may be called
/// again to retry.
///
/// `Debug` shows neither the form nor the credential.
///
/// ```no_run
/// # async fn run(auth: entra_core::ClientAuth) -> Result<(), entra_core::http::HttpError> {
/// use std::time::SystemTime;
/// use entra_core::http::{HttpClient, TokenRequest};
/// let http = HttpClient::new()?;
/// let tokens = TokenRequest::new("https://login.microsoftonline.com/contoso.com/oauth2/v2.0/token")
///     .param("grant_type", "client_credentials")
///     .param("client_id", "6e74172b-be56-4843-9ff4-e66a39bb12e3")
///     .param("scope", "https://graph.microsoft.com/.default")
///     .client_auth(&auth)
///     .send(&http, SystemTime::now())
///     .await?;
/// # let _ = tokens; Ok(()) }
/// ```
#[derive(Clone)]
pub struct TokenRequest {
    url: String,
    form: Secret,
    basic: Option<Secret>,
    timeout: Option<Duration>,
    limit: usize,
}

impl TokenRequest {
    /// A request to the token endpoint `url` with an empty form.
    pub fn new(url: impl Into<String>) -> Self {
        Self::with_form(url, String::new())
    }

    /// A request whose form is already encoded (`application/x-www-form-urlencoded`),
    /// such as one prepared by the `oauth2` crate.
    pub fn with_form(url: impl Into<String>, encoded: String) -> Self {
        Self {
            url: url.into(),
            form: Secret::new(encoded),
            basic: None,
            timeout: None,
            limit: DEFAULT_LIMIT,
        }
    }

    /// Appends a form parameter.
    pub fn param(mut self, name: &str, value: &str) -> Self {
        let mut form = self.form.expose_secret().to_owned();
        form_urlencoded::Serializer::for_suffix(&mut form, 0).append_pair(name, value);
        self.form = Secret::new(form);
        self
    }

    /// Applies the client's authentication (from
    /// [`ClientCredential::authenticate`](crate::ClientCredential::authenticate)):
    /// `client_secret`, or `client_assertion_type` and `client_assertion`, in the
    /// form, or an HTTP Basic `Authorization` header whose user and password are
    /// form-urlencoded before base64, as RFC 6749 2.3.1 says. This is the only
    /// place a credential is put on a request.
    pub fn client_auth(mut self, auth: &ClientAuth) -> Self {
        for (name, value) in auth.form_fields() {
            self = self.param(name, value);
        }
        if let Some((user, password)) = auth.basic() {
            let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
            let pair = format!("{}:{}", enc(user), enc(password));
            self.basic = Some(Secret::new(format!("Basic {}", STANDARD.encode(pair))));
        }
        self
    }

    /// The total timeout of each attempt. Defaults to the client's.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The largest response body read, in bytes. Defaults to 64 KiB.
    pub fn limit(mut self, bytes: usize) -> Self {
        self.limit = bytes;
        self
    }

    /// The token endpoint.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Sends the request and returns the raw success (2xx) response, for a caller
    /// that parses the body itself (the `oauth2` crate does, with
    /// [`TokenResponse`]'s `Deserialize`). `now` reads an HTTP-date `Retry-After`.
    ///
    /// # Errors
    /// The errors of [`HttpClient::send`]; [`HttpErrorKind::Entra`] for an error
    /// document (with this request's `client-request-id`),
    /// [`HttpErrorKind::Status`] for another error status.
    pub async fn send_raw(
        &self,
        http: &HttpClient,
        now: SystemTime,
    ) -> Result<HttpResponse, HttpError> {
        let mut request = HttpRequest::post(EndpointKind::Token, self.url.clone())
            .form(self.form.clone())
            .limit(self.limit);
        if let Some(timeout) = self.timeout {
            request = request.timeout(timeout);
        }
        if let Some(basic) = &self.basic {
            request = request.sensitive_header(AUTHORIZATION, basic.expose_secret().to_owned())?;
        }
        let response = http.send(request).await?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let retry_after = response.retry_after(now);
        let status = status.as_u16();
        Err(match EntraErrorResponse::parse(response.body()) {
            Ok(mut entra) => {
                entra.client_request_id = Some(response.client_request_id().to_owned());
                tracing::debug!(
                    error = %crate::shorten_untrusted(&entra.error),
                    aadsts = ?entra.aadsts(),
                    correlation_id = ?entra.correlation_id.as_deref().map(crate::shorten_untrusted),
                    client_request_id = %response.client_request_id(),
                    "the token endpoint refused the request"
                );
                response.error(HttpErrorKind::Entra {
                    status,
                    retry_after,
                    response: Box::new(entra),
                })
            }
            Err(_) => response.error(HttpErrorKind::Status { status, retry_after }),
        })
    }

    /// Sends the request and parses the token response.
    ///
    /// # Errors
    /// As [`TokenRequest::send_raw`]; [`HttpErrorKind::InvalidBody`] when a
    /// success body is not a valid token response ([`TokenResponse::parse`]).
    pub async fn send(
        &self,
        http: &HttpClient,
        now: SystemTime,
    ) -> Result<TokenResponse, HttpError> {
        let response = self.send_raw(http, now).await?;
        TokenResponse::parse(response.body()).map_err(|e| {
            response.error(HttpErrorKind::InvalidBody {
                status: response.status().as_u16(),
                reason: e.0,
            })
        })
    }
}

impl fmt::Debug for TokenRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenRequest")
            .field("basic", &self.basic.is_some())
            .field("limit", &self.limit)
            .finish_non_exhaustive()
    }
}

/// Why a body is not a token response. Its text never quotes the body.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct InvalidTokenResponse(&'static str);

impl InvalidTokenResponse {
    /// What is wrong.
    pub fn reason(self) -> &'static str {
        self.0
    }
}

impl fmt::Display for InvalidTokenResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for InvalidTokenResponse {}

/// A successful token response (RFC 6749 5.1, with Entra's additions), parsed
/// once for every grant: the code and refresh grants of entra-oidc and the
/// On-Behalf-Of grant of entra-obo. Tokens are [`Secret`]s; `Debug` prints none.
///
/// ```
/// use std::time::Duration;
/// use entra_core::http::TokenResponse;
/// let r = TokenResponse::parse(br#"{"token_type":"Bearer","access_token":"eyJ0.a.b",
///     "expires_in":"3599","ext_expires_in":3599,"scope":"User.Read openid"}"#)?;
/// assert_eq!(r.expires_in, Some(Duration::from_secs(3599)));
/// assert_eq!(r.scopes(), ["User.Read", "openid"]);
/// assert!(TokenResponse::parse(br#"{"access_token":"a","expires_in":"soon"}"#).is_err());
/// # Ok::<(), entra_core::http::InvalidTokenResponse>(())
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct TokenResponse {
    /// The access token (never empty).
    pub access_token: Secret,
    /// The token type: `Bearer` (also when the field is absent).
    pub token_type: String,
    /// The access token's lifetime, from a number or a string of seconds, at most
    /// [`MAX_EXPIRES_IN`]. `None` when absent.
    pub expires_in: Option<Duration>,
    /// Entra's extended lifetime (for outages), when present and plausible (at
    /// most [`MAX_EXPIRES_IN`]); an unusable value is dropped, not refused.
    pub ext_expires_in: Option<Duration>,
    /// The granted scopes, space-separated, when the response names them.
    pub scope: Option<String>,
    /// A refresh token (when `offline_access` was requested).
    pub refresh_token: Option<Secret>,
    /// An ID token (when `openid` was requested), not validated.
    pub id_token: Option<Secret>,
}

#[derive(Deserialize)]
struct Raw {
    #[serde(default)]
    access_token: Option<Secret>,
    #[serde(default)]
    token_type: Option<String>,
    #[serde(default)]
    expires_in: Option<serde_json::Value>,
    #[serde(default)]
    ext_expires_in: Option<serde_json::Value>,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    refresh_token: Option<Secret>,
    #[serde(default)]
    id_token: Option<Secret>,
}

/// Seconds as a JSON number or a string of digits (v1 endpoints and some
/// proxies send strings), at most [`MAX_EXPIRES_IN`].
fn seconds(value: &serde_json::Value) -> Result<Duration, InvalidTokenResponse> {
    let secs = match value {
        serde_json::Value::Number(n) => n.as_u64(),
        serde_json::Value::String(s) => s.trim().parse::<u64>().ok(),
        _ => None,
    }
    .ok_or(InvalidTokenResponse("expires_in is not a whole number of seconds"))?;
    let d = Duration::from_secs(secs);
    if d > MAX_EXPIRES_IN {
        return Err(InvalidTokenResponse("expires_in is longer than 48 hours"));
    }
    Ok(d)
}

impl TryFrom<Raw> for TokenResponse {
    type Error = InvalidTokenResponse;

    fn try_from(raw: Raw) -> Result<Self, InvalidTokenResponse> {
        let access_token = raw
            .access_token
            .filter(|t| !t.is_empty())
            .ok_or(InvalidTokenResponse("the response has no access token"))?;
        let token_type = raw.token_type.unwrap_or_else(|| "Bearer".to_owned());
        if !token_type.eq_ignore_ascii_case("bearer") {
            return Err(InvalidTokenResponse("the token type is not bearer"));
        }
        Ok(Self {
            access_token,
            token_type,
            expires_in: raw.expires_in.as_ref().map(seconds).transpose()?,
            ext_expires_in: raw.ext_expires_in.as_ref().and_then(|v| seconds(v).ok()),
            scope: raw.scope,
            refresh_token: raw.refresh_token.filter(|t| !t.is_empty()),
            id_token: raw.id_token.filter(|t| !t.is_empty()),
        })
    }
}

impl TokenResponse {
    /// Parses a success body.
    ///
    /// # Errors
    /// When the body is not a JSON object, has no (or an empty) `access_token`,
    /// a `token_type` other than `Bearer`, or an `expires_in` that is not a whole
    /// number of seconds up to [`MAX_EXPIRES_IN`].
    pub fn parse(body: &[u8]) -> Result<Self, InvalidTokenResponse> {
        let raw: Raw = serde_json::from_slice(body)
            .map_err(|_| InvalidTokenResponse("the body is not a json token response"))?;
        Self::try_from(raw)
    }

    /// The granted scopes (empty when the response names none).
    pub fn scopes(&self) -> Vec<String> {
        self.scope.as_deref().unwrap_or("").split_ascii_whitespace().map(str::to_owned).collect()
    }
}

impl<'de> Deserialize<'de> for TokenResponse {
    /// The same rules as [`TokenResponse::parse`], for callers that deserialize
    /// (the `oauth2` crate's token requests).
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = Raw::deserialize(d)?;
        Self::try_from(raw).map_err(serde::de::Error::custom)
    }
}

impl fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenResponse")
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .field("scope", &self.scope)
            .field("refresh_token", &self.refresh_token.is_some())
            .field("id_token", &self.id_token.is_some())
            .finish_non_exhaustive()
    }
}
