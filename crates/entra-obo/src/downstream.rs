//! Calling downstream APIs as the user (feature `downstream`): what
//! Microsoft.Identity.Web calls `IDownstreamApi`.
//!
//! It lives here, not in entra-axum, because nothing in it is about a web
//! framework: a token On-Behalf-Of the user for the API's resource (this crate's
//! cache and single-flight), the bearer header, JSON in and out through the one
//! HTTP layer of `entra_core::http`, and the continuous access evaluation loop
//! (a 401 `insufficient_claims` answered by one exchange with the claims, then
//! one retry). Any host (axum, another framework, a queue worker) gets the same
//! behaviour; entra-axum only turns the typed error into its `401
//! WWW-Authenticate`, through [`entra_core::AuthError::claims_challenge`], as it
//! does for On-Behalf-Of errors.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
use entra_core::http::{EndpointKind, HttpClient, HttpRequest, HttpResponse};
use entra_core::{
    AccessToken, Clock, Cloud, SeamError, SystemClock, Target, TokenExchanger, ValidatedToken,
};
use reqwest::Method;
use reqwest::header::{HeaderMap, WWW_AUTHENTICATE};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{ClaimsChallenge, Error, Obo, Result};

/// The largest claims challenge accepted from an API (decoded JSON), in bytes.
const MAX_CLAIMS: usize = 8 * 1024;

/// The longest URL built for a call (base URL and path), in bytes.
const MAX_URL: usize = 8 * 1024;

/// The default limit of a success body.
const DEFAULT_LIMIT: usize = 1024 * 1024;

/// A downstream API: where it is (a base URL, under which every call stays) and
/// what token it takes (a [`Target`]: its resource identifier, whose `.default`
/// scope is requested, or explicit scopes of one resource).
///
/// ```
/// use entra_core::Cloud;
/// use entra_obo::Api;
/// let graph = Api::graph(&Cloud::Public);
/// assert_eq!(graph.base_url(), "https://graph.microsoft.com");
/// assert_eq!(graph.resource(), Some("https://graph.microsoft.com"));
/// // An API of your own, named by its managed resource identifier (App ID URI).
/// let orders = Api::new("https://orders.contoso.com/api/", "api://0e0d9e5a-8a4f-4f7e-9b8e-7a1c2d3e4f50")?;
/// assert_eq!(orders.base_url(), "https://orders.contoso.com/api");
/// assert!(Api::new("http://orders.contoso.com", "api://orders").is_err()); // http only on loopback
/// # Ok::<(), entra_obo::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Api {
    base: String,
    target: Target,
    endpoint: EndpointKind,
}

impl Api {
    /// The API at `base_url` (`https`, or `http` on a loopback host; no query,
    /// fragment or user info), called with tokens for `target`.
    ///
    /// # Errors
    /// [`Error::InvalidApiUrl`] for a base URL that is not acceptable.
    pub fn new(base_url: &str, target: impl Into<Target>) -> Result<Self> {
        let bad = |reason| Error::InvalidApiUrl { reason };
        let url = url::Url::parse(base_url.trim()).map_err(|_| bad("not an absolute url"))?;
        let host = url.host_str().ok_or_else(|| bad("the url has no host"))?;
        match url.scheme() {
            "https" => {}
            "http" if is_loopback(host) => {}
            _ => return Err(bad("the url must be https (or http on a loopback host)")),
        }
        if url.query().is_some()
            || url.fragment().is_some()
            || !url.username().is_empty()
            || url.password().is_some()
        {
            return Err(bad("a base url has no query, fragment or user info"));
        }
        let mut base = url.origin().ascii_serialization();
        base.push_str(url.path().trim_end_matches('/'));
        Ok(Self { base, target: target.into(), endpoint: EndpointKind::Api })
    }

    /// Microsoft Graph of `cloud` ([`Cloud::graph_base`]), called with tokens
    /// for the same resource (`{graph_base}/.default`).
    pub fn graph(cloud: &Cloud) -> Self {
        let base = cloud.graph_base().to_owned();
        Self { target: Target::Resource(base.clone()), base, endpoint: EndpointKind::Graph }
    }

    /// The base URL, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// What tokens for this API are requested for.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// The resource identifier, when the target is one (not explicit scopes).
    pub fn resource(&self) -> Option<&str> {
        match &self.target {
            Target::Resource(r) => Some(r),
            _ => None,
        }
    }

    /// `path` (with its query) under the base URL. Refused: absolute URLs,
    /// `//host`, backslashes, fragments, whitespace and control characters, and
    /// `.` or `..` segments (also percent-encoded), so a call never leaves the
    /// base URL.
    fn url(&self, path: &str) -> Result<String> {
        let bad = |reason| Error::InvalidApiUrl { reason };
        if path.len() > MAX_URL - self.base.len().min(MAX_URL) {
            return Err(bad("the path is too long"));
        }
        if path.contains("://") || path.starts_with("//") {
            return Err(bad("the path must be relative to the api's base url"));
        }
        if path.chars().any(|c| c == '\\' || c == '#' || c.is_whitespace() || c.is_control()) {
            return Err(bad("the path has a backslash, fragment, whitespace or control character"));
        }
        let (route, _) = path.split_once('?').unwrap_or((path, ""));
        let dots = |segment: &str| {
            let s = segment.to_ascii_lowercase().replace("%2e", ".");
            s == "." || s == ".."
        };
        if route.split('/').any(dots) || route.to_ascii_lowercase().contains("%2f") {
            return Err(bad("the path has a dot segment or an encoded slash"));
        }
        let url = format!("{}/{}", self.base, path.trim_start_matches('/'));
        // Belt and braces: the parsed URL is still under the base.
        let parsed =
            url::Url::parse(&url).map_err(|_| bad("the path does not form a valid url"))?;
        let mut under = parsed.origin().ascii_serialization();
        under.push_str(parsed.path());
        if !(under == self.base || under.starts_with(&format!("{}/", self.base))) {
            return Err(bad("the path leaves the api's base url"));
        }
        Ok(url)
    }
}

impl fmt::Debug for Api {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Api")
            .field("base", &self.base)
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || bare.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Calls downstream APIs as the user of a validated token: a token On-Behalf-Of
/// the user for the API (cached by the exchanger), `Authorization: Bearer`, JSON
/// in and out, and one renewal with the claims when the API answers a
/// continuous access evaluation challenge (401 `insufficient_claims`).
///
/// Cheap to clone, `Send + Sync`, without type parameters: keep one in your
/// server's state.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use entra_core::{ClientCredential, Secret};
/// use entra_obo::{Downstream, Error, Obo};
/// use entra_testkit::{Fault, MockEntra, TestApp, TestUser};
///
/// let mock = MockEntra::start().await;
/// let app = mock.register_app(TestApp::new("mcp-server").secret("app-secret").expose_scope("access_as_user"));
/// mock.grant_consent(&app.client_id, "https://graph.microsoft.com", &["User.Read"]);
/// let alice = mock.add_user(TestUser::new("alice@contoso.com").name("Alice Smith"));
/// let user_token = mock.validated_token(&alice, &app);
///
/// let obo = Obo::builder(mock.authority(), app.client_id.clone(), ClientCredential::secret(Secret::new("app-secret")))
///     .build()?;
/// let downstream = Downstream::from_obo(&obo).build()?;
///
/// // Microsoft Graph of the configured cloud, as Alice.
/// let me: serde_json::Value = downstream.get(&user_token, downstream.graph(), "/v1.0/me").await?;
/// assert_eq!(me["displayName"], "Alice Smith");
///
/// // Graph evaluates the session continuously and asks for claims, twice: the
/// // token is renewed with them once, then the challenge goes to the client.
/// let claims = r#"{"access_token":{"nbf":{"essential":true,"value":"1700000000"}}}"#;
/// mock.fail_graph_next(2, Fault::aadsts(50076).claims(claims));
/// let e = downstream.get::<serde_json::Value>(&user_token, downstream.graph(), "/v1.0/me").await.unwrap_err();
/// assert_eq!(e.code(), "insufficient_claims");
/// assert_eq!(e.claims(), Some(claims));
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Downstream {
    inner: Arc<Inner>,
}

struct Inner {
    exchanger: Arc<dyn TokenExchanger>,
    http: HttpClient,
    graph: Api,
    limit: usize,
    timeout: Option<Duration>,
    clock: Arc<dyn Clock>,
}

/// Builds a [`Downstream`]; see [`Downstream::builder`].
#[must_use]
pub struct DownstreamBuilder {
    exchanger: Arc<dyn TokenExchanger>,
    graph: Api,
    http: Option<HttpClient>,
    limit: usize,
    timeout: Option<Duration>,
    clock: Arc<dyn Clock>,
}

/// One call's outcome before its body is read.
enum Attempt {
    Answered(HttpResponse),
    Challenged(ClaimsChallenge),
}

impl Downstream {
    /// A client getting its tokens from `exchanger` (an [`Obo`], or any
    /// [`TokenExchanger`]), with Microsoft Graph at `cloud`'s
    /// [`Cloud::graph_base`]: the cloud of the authority the tokens come from.
    pub fn builder(exchanger: Arc<dyn TokenExchanger>, cloud: &Cloud) -> DownstreamBuilder {
        DownstreamBuilder {
            exchanger,
            graph: Api::graph(cloud),
            http: None,
            limit: DEFAULT_LIMIT,
            timeout: None,
            clock: Arc::new(SystemClock),
        }
    }

    /// A client over `obo`: its cloud's Microsoft Graph, its HTTP client and its
    /// token cache.
    pub fn from_obo(obo: &Obo) -> DownstreamBuilder {
        let mut builder = Self::builder(Arc::new(obo.clone()), obo.authority().cloud());
        builder.http = Some(obo.inner.http.clone());
        builder.clock = obo.inner.clock.clone();
        builder
    }

    /// Microsoft Graph of the configured cloud.
    pub fn graph(&self) -> &Api {
        &self.inner.graph
    }

    /// `GET {base}/{path}` as the user of `user_token`, the JSON answer decoded
    /// as `T` (an empty body as `null`).
    ///
    /// # Errors
    /// As [`Downstream::call`].
    pub async fn get<T: DeserializeOwned>(
        &self,
        user_token: &ValidatedToken,
        api: &Api,
        path: &str,
    ) -> Result<T> {
        self.call(user_token, api, Method::GET, path, None::<&()>).await
    }

    /// `POST {base}/{path}` with `body` as JSON, as the user of `user_token`.
    ///
    /// # Errors
    /// As [`Downstream::call`].
    pub async fn post<T: DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        user_token: &ValidatedToken,
        api: &Api,
        path: &str,
        body: &B,
    ) -> Result<T> {
        self.call(user_token, api, Method::POST, path, Some(body)).await
    }

    /// `method {base}/{path}` (`path` may carry a query) with an optional JSON
    /// body, as the user of `user_token`.
    ///
    /// The token comes from the exchanger (cached). When the API answers 401
    /// with `WWW-Authenticate: Bearer error="insufficient_claims",
    /// claims="<base64>"`, a token is requested once more with those claims
    /// (bypassing the cache) and the call is sent once more; a second challenge
    /// is returned as [`Error::ApiClaimsChallenge`].
    ///
    /// # Errors
    /// - [`Error::InvalidApiUrl`]: a path that is absolute or leaves the base URL.
    /// - The exchange's errors: this crate's variants for an [`Obo`] (with
    ///   [`Error::InteractionRequired`] carrying Conditional Access's claims),
    ///   else [`Error::Exchanger`].
    /// - [`Error::ApiClaimsChallenge`]: the API still asks for claims; send
    ///   [`Error::claims_challenge`] back to the client.
    /// - [`Error::ApiStatus`]: any other error status.
    /// - [`Error::ApiRequest`]: network, timeout, redirect, body over the limit.
    /// - [`Error::ApiBody`]: a success body that is not JSON of type `T`.
    /// - [`Error::Config`]: `body` cannot be serialized as JSON.
    pub async fn call<T: DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        user_token: &ValidatedToken,
        api: &Api,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<T> {
        let url = api.url(path)?;
        let body = body.map(serde_json::to_value).transpose().map_err(|_| Error::Config {
            reason: "the request body cannot be written as json".into(),
        })?;
        let first = self.attempt(user_token, api, &method, &url, body.as_ref(), None).await?;
        let response = match first {
            Attempt::Answered(response) => response,
            Attempt::Challenged(challenge) => {
                tracing::info!(
                    endpoint = api.endpoint.as_str(),
                    "the api asked for claims; requesting a token with them"
                );
                let claims = Some(challenge.claims());
                match self.attempt(user_token, api, &method, &url, body.as_ref(), claims).await? {
                    Attempt::Answered(response) => response,
                    Attempt::Challenged(challenge) => {
                        return Err(Error::ApiClaimsChallenge { challenge });
                    }
                }
            }
        };
        self.decode(response)
    }

    async fn attempt(
        &self,
        user_token: &ValidatedToken,
        api: &Api,
        method: &Method,
        url: &str,
        body: Option<&serde_json::Value>,
        claims: Option<&str>,
    ) -> Result<Attempt> {
        let x = &self.inner.exchanger;
        let token: AccessToken = match claims {
            None => x.exchange(user_token, &api.target).await,
            Some(claims) => x.exchange_with_claims(user_token, &api.target, claims).await,
        }
        .map_err(from_seam)?;
        let mut request =
            HttpRequest::with_method(api.endpoint, method.clone(), url).limit(self.inner.limit);
        if let Some(timeout) = self.inner.timeout {
            request = request.timeout(timeout);
        }
        let mut request =
            request.bearer(&token.secret).map_err(|e| Error::ApiRequest(Arc::new(e)))?;
        if let Some(body) = body {
            request = request.json(body);
        }
        let response =
            self.inner.http.send(request).await.map_err(|e| Error::ApiRequest(Arc::new(e)))?;
        if response.status() == reqwest::StatusCode::UNAUTHORIZED
            && let Some(challenge) = insufficient_claims(response.headers())
        {
            return Ok(Attempt::Challenged(challenge));
        }
        Ok(Attempt::Answered(response))
    }

    fn decode<T: DeserializeOwned>(&self, response: HttpResponse) -> Result<T> {
        let status = response.status();
        if !status.is_success() {
            return Err(Error::ApiStatus {
                status: status.as_u16(),
                error_code: error_code(response.body()),
                retry_after: response.retry_after(self.inner.clock.now()),
            });
        }
        let body = response.body();
        let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) { b"null" } else { body };
        serde_json::from_slice(body).map_err(|_| Error::ApiBody { status: status.as_u16() })
    }
}

impl fmt::Debug for Downstream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Downstream")
            .field("graph", &self.inner.graph)
            .field("limit", &self.inner.limit)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for DownstreamBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DownstreamBuilder").field("graph", &self.graph).finish_non_exhaustive()
    }
}

impl DownstreamBuilder {
    /// The HTTP client. Defaults to [`Obo`]'s for [`Downstream::from_obo`], else
    /// [`HttpClient::new`] (no redirects, 10 s connect and 30 s total timeouts).
    /// A redirect is never followed (see [`crate::OboBuilder::http_client`]).
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(HttpClient::from(client));
        self
    }

    /// The largest success body read, in bytes (error bodies: at most 64 KiB).
    /// Defaults to 1 MiB.
    pub fn max_response_size(mut self, bytes: usize) -> Self {
        self.limit = bytes;
        self
    }

    /// The total timeout of each request to an API. Defaults to the HTTP
    /// client's (30 seconds).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The clock reading `Retry-After` dates. Defaults to [`SystemClock`] (the
    /// [`Obo`]'s for [`Downstream::from_obo`]).
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Builds the client.
    ///
    /// # Errors
    /// [`Error::HttpClient`] when the default HTTP client cannot be built.
    pub fn build(self) -> Result<Downstream> {
        let http = match self.http {
            Some(http) => http,
            None => HttpClient::new().map_err(|e| Error::HttpClient(Arc::new(e)))?,
        };
        Ok(Downstream {
            inner: Arc::new(Inner {
                exchanger: self.exchanger,
                http,
                graph: self.graph,
                limit: self.limit,
                timeout: self.timeout,
                clock: self.clock,
            }),
        })
    }
}

/// This crate's error back from the seam, or the foreign exchanger's, wrapped.
fn from_seam(e: SeamError) -> Error {
    e.downcast::<Error>().unwrap_or_else(|e| Error::Exchanger(Arc::new(e)))
}

/// The claims of a `Bearer` challenge with `error="insufficient_claims"` among
/// the `WWW-Authenticate` headers; `None` when there is none, or its claims are
/// not base64 of a JSON object of at most [`MAX_CLAIMS`] bytes.
fn insufficient_claims(headers: &HeaderMap) -> Option<ClaimsChallenge> {
    headers.get_all(WWW_AUTHENTICATE).iter().take(8).find_map(|value| {
        let value = value.to_str().ok().filter(|v| v.len() <= 4 * MAX_CLAIMS)?;
        challenges(value).into_iter().find_map(|(scheme, params)| {
            let param = |name: &str| {
                params.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
            };
            if !scheme.eq_ignore_ascii_case("bearer")
                || param("error") != Some("insufficient_claims")
            {
                return None;
            }
            let encoded = param("claims")?.trim();
            let json = [STANDARD, URL_SAFE, URL_SAFE_NO_PAD]
                .iter()
                .find_map(|engine| engine.decode(encoded).ok())
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .filter(|json| json.len() <= MAX_CLAIMS)?;
            let object = serde_json::from_str::<serde_json::Value>(&json).ok()?.is_object();
            object.then(|| ClaimsChallenge::new(json))
        })
    })
}

/// The challenges of a `WWW-Authenticate` value (RFC 9110 11.6.1): each scheme
/// with its `name=value` parameters (quoted strings unescaped).
fn challenges(value: &str) -> Vec<(String, Vec<(String, String)>)> {
    let mut out: Vec<(String, Vec<(String, String)>)> = Vec::new();
    let bytes = value.as_bytes();
    let mut i = 0;
    let is_tchar = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    while i < bytes.len() {
        while i < bytes.len() && (bytes[i] == b' ' || bytes[i] == b'\t' || bytes[i] == b',') {
            i += 1;
        }
        let start = i;
        while i < bytes.len() && is_tchar(bytes[i]) {
            i += 1;
        }
        if start == i {
            // Not a token: skip the character (lenient, never loops).
            i += 1;
            continue;
        }
        let token = &value[start..i];
        let mut j = i;
        while j < bytes.len() && bytes[j] == b' ' {
            j += 1;
        }
        if j < bytes.len() && bytes[j] == b'=' && !bytes.get(j + 1).is_some_and(|b| *b == b'=') {
            // A parameter of the current challenge.
            j += 1;
            while j < bytes.len() && bytes[j] == b' ' {
                j += 1;
            }
            let mut param = String::new();
            if bytes.get(j) == Some(&b'"') {
                j += 1;
                while j < bytes.len() && bytes[j] != b'"' {
                    if bytes[j] == b'\\' && j + 1 < bytes.len() {
                        j += 1;
                    }
                    param.push(char::from(bytes[j]));
                    j += 1;
                }
                j += 1;
            } else {
                let s = j;
                while j < bytes.len() && bytes[j] != b',' && bytes[j] != b' ' {
                    j += 1;
                }
                param.push_str(&value[s..j]);
            }
            if let Some((_, params)) = out.last_mut() {
                params.push((token.to_owned(), param));
            }
            i = j;
        } else {
            // A new scheme (a token68 after it is skipped as a non-parameter).
            out.push((token.to_owned(), Vec::new()));
        }
    }
    out
}

/// The error code of an error body: Microsoft Graph's `error.code`, or OAuth's
/// `error`; kept only when short and made of safe characters.
fn error_code(body: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let code = value["error"]["code"].as_str().or_else(|| value["error"].as_str())?;
    let safe = code.len() <= 64
        && code.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    safe.then(|| code.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(WWW_AUTHENTICATE, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn reads_only_bearer_insufficient_claims_with_json_claims() {
        let claims = r#"{"access_token":{"nbf":{"essential":true,"value":"1"}}}"#;
        let b64 = STANDARD.encode(claims);
        let graph = format!(
            r#"Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000", error="insufficient_claims", claims="{b64}""#
        );
        assert_eq!(insufficient_claims(&header(&[&graph])).unwrap().claims(), claims);
        // Among several challenges and headers.
        let mixed =
            format!(r#"Basic realm="x", Bearer error="insufficient_claims", claims="{b64}""#);
        assert!(insufficient_claims(&header(&["Negotiate", &mixed])).is_some());
        // URL-safe base64 without padding is read too.
        let url_safe = format!(
            r#"Bearer error="insufficient_claims", claims="{}""#,
            URL_SAFE_NO_PAD.encode(claims)
        );
        assert!(insufficient_claims(&header(&[&url_safe])).is_some());
        // Refused: another error, another scheme, no claims, claims not JSON or
        // not an object, not base64, a parameter merely ending in "claims".
        for refused in [
            format!(r#"Bearer error="invalid_token", claims="{b64}""#),
            format!(r#"Basic error="insufficient_claims", claims="{b64}""#),
            r#"Bearer error="insufficient_claims""#.to_owned(),
            format!(r#"Bearer error="insufficient_claims", claims="{}""#, STANDARD.encode("nope")),
            format!(r#"Bearer error="insufficient_claims", claims="{}""#, STANDARD.encode("[1]")),
            r#"Bearer error="insufficient_claims", claims="%%%""#.to_owned(),
            format!(r#"Bearer error="insufficient_claims", xclaims="{b64}""#),
        ] {
            assert!(insufficient_claims(&header(&[&refused])).is_none(), "{refused}");
        }
        // Oversized claims are refused.
        let big = format!(r#"{{"access_token":{{"x":"{}"}}}}"#, "a".repeat(MAX_CLAIMS));
        let big =
            format!(r#"Bearer error="insufficient_claims", claims="{}""#, STANDARD.encode(big));
        assert!(insufficient_claims(&header(&[&big])).is_none());
    }

    #[test]
    fn challenge_parser_is_total() {
        let parsed = challenges(r#"Bearer realm="a \"q\" b", error=x,,Basic realm="r""#);
        assert_eq!(parsed.len(), 2);
        assert_eq!(parsed[0].1[0], ("realm".to_owned(), r#"a "q" b"#.to_owned()));
        assert_eq!(parsed[0].1[1], ("error".to_owned(), "x".to_owned()));
        for junk in ["", "=", "\"", "Bearer \"", "Bearer a=\"\\", "é=é", ",,,", "Negotiate abc=="]
        {
            let _ = challenges(junk);
        }
    }

    #[test]
    fn paths_stay_under_the_base_url() {
        let api = Api::new("https://api.contoso.com/v2/", "api://x").unwrap();
        assert_eq!(api.url("/orders?top=5").unwrap(), "https://api.contoso.com/v2/orders?top=5");
        assert_eq!(api.url("orders").unwrap(), "https://api.contoso.com/v2/orders");
        assert_eq!(api.url("").unwrap(), "https://api.contoso.com/v2/");
        for bad in [
            "https://evil.example/x",
            "//evil.example/x",
            "/../admin",
            "/a/%2e%2e/b",
            "/a/%2E./b",
            "/a%2fb",
            "/a\\b",
            "/a#b",
            "/a b",
            "/a\nb",
            "/.",
        ] {
            assert!(matches!(api.url(bad), Err(Error::InvalidApiUrl { .. })), "{bad}");
        }
        assert!(api.url(&"a".repeat(MAX_URL)).is_err());
        // A query may hold anything encoded, dots included.
        assert!(api.url("/search?q=..%2F").is_ok());
    }

    #[test]
    fn base_urls_are_checked() {
        assert!(Api::new("http://127.0.0.1:8080/api", "api://x").is_ok());
        assert!(Api::new("http://[::1]:8080", "api://x").is_ok());
        assert!(Api::new("http://localhost", "api://x").is_ok());
        for bad in [
            "http://api.contoso.com",
            "ftp://api.contoso.com",
            "https://api.contoso.com/?a=1",
            "https://api.contoso.com/#f",
            "https://user@api.contoso.com",
            "api.contoso.com/x",
            "",
        ] {
            assert!(matches!(Api::new(bad, "api://x"), Err(Error::InvalidApiUrl { .. })), "{bad}");
        }
    }

    #[test]
    fn error_codes_are_read_and_kept_safe() {
        assert_eq!(
            error_code(br#"{"error":{"code":"Authorization_RequestDenied"}}"#).as_deref(),
            Some("Authorization_RequestDenied")
        );
        assert_eq!(error_code(br#"{"error":"invalid_token"}"#).as_deref(), Some("invalid_token"));
        assert_eq!(error_code(br#"{"error":{"code":"a b <script>"}}"#), None);
        assert_eq!(error_code(b"not json"), None);
    }

    #[test]
    fn codes_and_classes() {
        let errors = [
            Error::InvalidApiUrl { reason: "" },
            Error::ApiClaimsChallenge { challenge: ClaimsChallenge::new("{}") },
            Error::ApiStatus { status: 403, error_code: None, retry_after: None },
            Error::ApiBody { status: 200 },
        ];
        let codes: Vec<&str> = errors.iter().map(Error::code).collect();
        assert_eq!(
            codes,
            ["invalid_api_url", "insufficient_claims", "api_error_status", "api_invalid_body"]
        );
        entra_testkit::doubles::assert_error_codes(&codes);
        assert!(errors[0].is_config());
        assert!(errors[1].is_unauthorized() && errors[1].claims_challenge().is_some());
        assert!(!format!("{:?}", errors[1]).contains("{}"));
        let status = |status| Error::ApiStatus { status, error_code: None, retry_after: None };
        assert!(status(401).is_unauthorized() && status(403).is_unauthorized());
        assert!(status(429).is_transient() && status(503).is_transient());
        assert!(
            ![status(404).is_unauthorized(), status(404).is_transient(), status(404).is_config()]
                .contains(&true)
        );
        // A foreign exchanger's error keeps its code, class and challenge.
        let seam = SeamError::new(
            entra_testkit::doubles::StaticError::unauthorized("nope")
                .with_claims_challenge("{\"a\":1}"),
        );
        let e = from_seam(seam);
        assert_eq!((e.code(), e.is_unauthorized(), e.claims()), ("nope", true, Some("{\"a\":1}")));
        // This crate's own error comes back as itself.
        assert_eq!(from_seam(SeamError::new(Error::NoScopes)).code(), "no_scopes");
    }
}
