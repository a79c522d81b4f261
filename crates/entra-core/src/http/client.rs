//! The HTTP client: the default policy, one request, one capped body reader.

use std::fmt;
use std::time::{Duration, SystemTime};

use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode};
use tracing::Instrument as _;

use super::{CLIENT_REQUEST_ID, EndpointKind, HttpError, HttpErrorKind};
use crate::Secret;

/// The `User-Agent` of the default client: this crate and its version.
pub const USER_AGENT: &str = concat!("entra-core/", env!("CARGO_PKG_VERSION"));

/// How long the default client waits for a connection.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long the default client waits for a whole response.
pub const TOTAL_TIMEOUT: Duration = Duration::from_secs(30);

/// The most bytes read of a body sent with an error status (4xx, 5xx), whatever
/// the request's limit: Entra's and Graph's error documents are a few kilobytes.
pub const ERROR_BODY_LIMIT: usize = 64 * 1024;

/// The body limit of a request that sets none.
const DEFAULT_LIMIT: usize = 1024 * 1024;

/// The longest `Retry-After` kept; longer ones are cut to it.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

/// The HTTP client of every entra-* crate: a `reqwest::Client` (the default one,
/// or the host's) and the policy applied to each request. See the
/// [module docs](crate::http).
///
/// Cheap to clone (the `reqwest::Client` is reference counted).
#[derive(Clone)]
pub struct HttpClient {
    client: reqwest::Client,
}

impl HttpClient {
    /// The default client: rustls, no redirects, [`CONNECT_TIMEOUT`],
    /// [`TOTAL_TIMEOUT`] and [`USER_AGENT`].
    ///
    /// # Errors
    /// [`HttpErrorKind::Client`] when reqwest cannot build it (no TLS roots).
    pub fn new() -> Result<Self, HttpError> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(TOTAL_TIMEOUT)
            .user_agent(USER_AGENT)
            .build()
            .map_err(|e| {
                HttpError::new(HttpErrorKind::Client, EndpointKind::Token, "", None).with_source(e)
            })?;
        Ok(Self { client })
    }

    /// The host's `reqwest::Client`, or [`HttpClient::new`] when `None`.
    ///
    /// # Errors
    /// As [`HttpClient::new`].
    pub fn or_default(client: Option<reqwest::Client>) -> Result<Self, HttpError> {
        client.map_or_else(Self::new, |c| Ok(Self::from(c)))
    }

    /// The `reqwest::Client` underneath.
    pub fn get_ref(&self) -> &reqwest::Client {
        &self.client
    }

    /// The `reqwest::Client` underneath, by value.
    pub fn into_inner(self) -> reqwest::Client {
        self.client
    }

    /// Sends `request` in an `entra.http` span, with a fresh `client-request-id`,
    /// and reads its body up to the request's limit. Any status but a redirect
    /// is returned as a response: the caller decides what an error status means
    /// (see [`TokenRequest`](super::TokenRequest) for the token endpoint).
    ///
    /// # Errors
    /// [`HttpErrorKind::InvalidRequest`], [`HttpErrorKind::Transport`],
    /// [`HttpErrorKind::Timeout`], [`HttpErrorKind::Redirected`] and
    /// [`HttpErrorKind::TooLarge`].
    pub async fn send(&self, request: HttpRequest) -> Result<HttpResponse, HttpError> {
        let endpoint = request.endpoint;
        let url = match reqwest::Url::parse(&request.url) {
            Ok(url) if matches!(url.scheme(), "https" | "http") && url.has_host() => url,
            _ => {
                let reason = "the url is not an absolute http(s) url";
                let kind = HttpErrorKind::InvalidRequest { reason };
                return Err(HttpError::new(kind, endpoint, "", None));
            }
        };
        let host = match (url.host_str(), url.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (h, _) => h.unwrap_or_default().to_owned(),
        };
        let id = uuid::Uuid::new_v4().to_string();
        let span = tracing::info_span!(
            "entra.http",
            endpoint = endpoint.as_str(),
            host = %host,
            method = %request.method,
            client_request_id = %id,
            status = tracing::field::Empty,
            outcome = tracing::field::Empty,
        );
        let result = self.execute(request, url, &host, &id).instrument(span.clone()).await;
        match &result {
            Ok(r) => {
                span.record("outcome", if r.status.is_success() { "ok" } else { "error_status" })
            }
            Err(e) => span.record("outcome", e.code()),
        };
        result
    }

    async fn execute(
        &self,
        request: HttpRequest,
        url: reqwest::Url,
        host: &str,
        id: &str,
    ) -> Result<HttpResponse, HttpError> {
        let endpoint = request.endpoint;
        let error = |kind| HttpError::new(kind, endpoint, host, Some(id));
        let mut builder = self
            .client
            .request(request.method, url)
            .headers(request.headers)
            .header(CLIENT_REQUEST_ID, id)
            .header("return-client-request-id", "true");
        if let Some(timeout) = request.timeout {
            builder = builder.timeout(timeout);
        }
        if let Some(body) = &request.body {
            builder = builder.body(body.expose_secret().to_owned());
        }
        let response =
            builder.send().await.map_err(|e| error(transport_kind(&e)).with_source(e))?;
        let status = response.status();
        tracing::Span::current().record("status", status.as_u16());
        if status.is_redirection() {
            // A host-supplied client may follow redirects itself; one that reaches
            // here is refused, never followed.
            return Err(error(HttpErrorKind::Redirected { status: status.as_u16() }));
        }
        let limit =
            if status.is_success() { request.limit } else { request.limit.min(ERROR_BODY_LIMIT) };
        let headers = response.headers().clone();
        let body = match read_capped(response, limit).await {
            Ok(body) => body,
            Err(Read::TooLarge) => {
                return Err(error(HttpErrorKind::TooLarge { status: status.as_u16(), limit }));
            }
            Err(Read::Failed(e)) => return Err(error(transport_kind(&e)).with_source(e)),
        };
        Ok(HttpResponse {
            status,
            headers,
            body,
            endpoint,
            host: host.to_owned(),
            client_request_id: id.to_owned(),
        })
    }
}

impl From<reqwest::Client> for HttpClient {
    /// A host's client, used as it is: set its redirect policy to `none`, since a
    /// redirect it follows cannot be refused here.
    fn from(client: reqwest::Client) -> Self {
        Self { client }
    }
}

impl fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpClient").finish_non_exhaustive()
    }
}

fn transport_kind(e: &reqwest::Error) -> HttpErrorKind {
    if e.is_timeout() { HttpErrorKind::Timeout } else { HttpErrorKind::Transport }
}

enum Read {
    TooLarge,
    Failed(reqwest::Error),
}

/// The one body reader: refuses a `Content-Length` above `limit` before reading,
/// and stops a streamed (chunked) body as soon as it passes `limit`, so an
/// oversized body is never buffered.
async fn read_capped(mut response: reqwest::Response, limit: usize) -> Result<Vec<u8>, Read> {
    let announced = response.content_length().map(|n| usize::try_from(n).unwrap_or(usize::MAX));
    if announced.is_some_and(|n| n > limit) {
        return Err(Read::TooLarge);
    }
    let mut body = Vec::with_capacity(announced.unwrap_or(0).min(64 * 1024));
    while let Some(chunk) = response.chunk().await.map_err(Read::Failed)? {
        if chunk.len() > limit.saturating_sub(body.len()) {
            return Err(Read::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// One request for [`HttpClient::send`]. `Debug` shows the endpoint kind and
/// method only.
#[derive(Clone)]
pub struct HttpRequest {
    endpoint: EndpointKind,
    method: Method,
    url: String,
    headers: HeaderMap,
    body: Option<Secret>,
    timeout: Option<Duration>,
    limit: usize,
}

impl HttpRequest {
    /// A `GET` of `url` at an endpoint of kind `endpoint`, accepting JSON.
    pub fn get(endpoint: EndpointKind, url: impl Into<String>) -> Self {
        Self::new(endpoint, Method::GET, url.into())
    }

    /// A `POST` to `url` at an endpoint of kind `endpoint`, accepting JSON.
    pub fn post(endpoint: EndpointKind, url: impl Into<String>) -> Self {
        Self::new(endpoint, Method::POST, url.into())
    }

    /// A request with any `method` (`PUT`, `PATCH`, `DELETE`, ...) to `url` at an
    /// endpoint of kind `endpoint`, accepting JSON.
    pub fn with_method(endpoint: EndpointKind, method: Method, url: impl Into<String>) -> Self {
        Self::new(endpoint, method, url.into())
    }

    fn new(endpoint: EndpointKind, method: Method, url: String) -> Self {
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        Self { endpoint, method, url, headers, body: None, timeout: None, limit: DEFAULT_LIMIT }
    }

    /// Adds (or replaces) a header.
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.insert(name, value);
        self
    }

    /// Sends `token` as `Authorization: Bearer` (marked sensitive: never logged).
    ///
    /// # Errors
    /// [`HttpErrorKind::InvalidRequest`] when the token is not a valid header value.
    pub fn bearer(self, token: &Secret) -> Result<Self, HttpError> {
        let value = format!("Bearer {}", token.expose_secret());
        self.sensitive_header(AUTHORIZATION, value)
    }

    pub(crate) fn sensitive_header(
        self,
        name: HeaderName,
        value: String,
    ) -> Result<Self, HttpError> {
        let Ok(mut value) = HeaderValue::try_from(value) else {
            let kind = HttpErrorKind::InvalidRequest { reason: "a header value is not valid" };
            return Err(HttpError::new(kind, self.endpoint, "", None));
        };
        value.set_sensitive(true);
        Ok(self.header(name, value))
    }

    /// An `application/x-www-form-urlencoded` body, already encoded. It is kept
    /// as a [`Secret`]: token requests carry secrets.
    pub fn form(mut self, encoded: Secret) -> Self {
        self.headers
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/x-www-form-urlencoded"));
        self.body = Some(encoded);
        self
    }

    /// A JSON body.
    pub fn json(mut self, value: &serde_json::Value) -> Self {
        self.headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        self.body = Some(Secret::new(value.to_string()));
        self
    }

    /// The total timeout of this request. Defaults to the client's
    /// ([`TOTAL_TIMEOUT`] for the default client).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The largest body read, in bytes (at most [`ERROR_BODY_LIMIT`] for an
    /// error status). Defaults to 1 MiB.
    pub fn limit(mut self, bytes: usize) -> Self {
        self.limit = bytes;
        self
    }
}

impl fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpRequest")
            .field("endpoint", &self.endpoint)
            .field("method", &self.method)
            .field("limit", &self.limit)
            .finish_non_exhaustive()
    }
}

/// A response read by [`HttpClient::send`]: its status, headers and capped body.
/// `Debug` does not show the body.
pub struct HttpResponse {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
    endpoint: EndpointKind,
    host: String,
    client_request_id: String,
}

impl HttpResponse {
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The response headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The body (at most the request's limit).
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// The body, by value.
    pub fn into_body(self) -> Vec<u8> {
        self.body
    }

    /// The `client-request-id` the request was sent with.
    pub fn client_request_id(&self) -> &str {
        &self.client_request_id
    }

    /// The `Retry-After` delay, read against `now` (see [`parse_retry_after`]).
    pub fn retry_after(&self, now: SystemTime) -> Option<Duration> {
        self.headers.get(reqwest::header::RETRY_AFTER).and_then(|v| parse_retry_after(v, now))
    }

    /// An error about this response (endpoint, host and request id filled in),
    /// for a caller that finds the body unusable or the status unexpected.
    pub fn error(&self, kind: HttpErrorKind) -> HttpError {
        HttpError::new(kind, self.endpoint, &self.host, Some(&self.client_request_id))
    }
}

impl fmt::Debug for HttpResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpResponse")
            .field("status", &self.status)
            .field("endpoint", &self.endpoint)
            .field("client_request_id", &self.client_request_id)
            .field("body_len", &self.body.len())
            .finish_non_exhaustive()
    }
}

/// `Retry-After` as delay-seconds or as an HTTP date (RFC 9110 10.2.3), read
/// against `now` (the caller's [`Clock`](crate::Clock)) and capped to a day; a
/// date in the past means "now". `None` for anything else.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use entra_core::http::parse_retry_after;
/// use reqwest::header::HeaderValue;
/// let now = UNIX_EPOCH + Duration::from_secs(1_445_412_480); // 2015-10-21T07:28:00Z
/// let at = |v: &'static str| parse_retry_after(&HeaderValue::from_static(v), now);
/// assert_eq!(at("7"), Some(Duration::from_secs(7)));
/// assert_eq!(at("Wed, 21 Oct 2015 07:28:30 GMT"), Some(Duration::from_secs(30)));
/// assert_eq!(at("soon"), None);
/// ```
pub fn parse_retry_after(value: &HeaderValue, now: SystemTime) -> Option<Duration> {
    let text = value.to_str().ok()?.trim();
    let wait = match text.parse::<u64>() {
        Ok(secs) => Duration::from_secs(secs),
        Err(_) => {
            let at = httpdate::parse_http_date(text).ok()?;
            at.duration_since(now).unwrap_or(Duration::ZERO)
        }
    };
    Some(wait.min(MAX_RETRY_AFTER))
}
