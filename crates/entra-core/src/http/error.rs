//! The error of the HTTP layer.

use std::error::Error as StdError;
use std::fmt;
use std::time::Duration;

use super::EndpointKind;
use crate::EntraErrorResponse;

/// What went wrong with one request; see [`HttpError::kind`].
#[derive(Debug)]
#[non_exhaustive]
pub enum HttpErrorKind {
    /// The default HTTP client could not be built (for example, no TLS roots).
    Client,
    /// The request could not be built: its URL is not an absolute `http(s)` URL,
    /// or a header value is not valid.
    InvalidRequest {
        /// What is wrong.
        reason: &'static str,
    },
    /// The connection, TLS or the HTTP exchange failed before a whole response
    /// arrived. Transient.
    Transport,
    /// No whole response arrived within the timeout. Transient.
    Timeout,
    /// The endpoint answered with a redirect, which is never followed.
    Redirected {
        /// The 3xx status.
        status: u16,
    },
    /// The body was larger than the request's limit; reading stopped there.
    TooLarge {
        /// The HTTP status of the response.
        status: u16,
        /// The limit, in bytes.
        limit: usize,
    },
    /// An error status without an Entra error document. Transient for 429 and 5xx.
    Status {
        /// The HTTP status.
        status: u16,
        /// The `Retry-After` delay, if the answer had one.
        retry_after: Option<Duration>,
    },
    /// Entra answered with an OAuth error document. Its
    /// [`EntraErrorResponse::client_request_id`] is this request's id.
    Entra {
        /// The HTTP status.
        status: u16,
        /// The `Retry-After` delay, if the answer had one.
        retry_after: Option<Duration>,
        /// Entra's error document.
        response: Box<EntraErrorResponse>,
    },
    /// A success status whose body is not the document expected.
    InvalidBody {
        /// The HTTP status.
        status: u16,
        /// What is wrong with the body (never its content).
        reason: &'static str,
    },
}

/// A failed request: what went wrong ([`HttpError::kind`]), at which kind of
/// endpoint and host, and the `client-request-id` it was sent with.
///
/// `Display` names the endpoint kind, the host and the request id, never a path,
/// a query, a body or a secret.
pub struct HttpError {
    kind: HttpErrorKind,
    endpoint: EndpointKind,
    host: String,
    client_request_id: Option<String>,
    source: Option<Box<dyn StdError + Send + Sync>>,
}

impl HttpError {
    pub(crate) fn new(
        kind: HttpErrorKind,
        endpoint: EndpointKind,
        host: &str,
        client_request_id: Option<&str>,
    ) -> Self {
        Self {
            kind,
            endpoint,
            host: crate::shorten_untrusted(host),
            client_request_id: client_request_id.map(str::to_owned),
            source: None,
        }
    }

    pub(crate) fn with_source(mut self, source: impl StdError + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// What went wrong.
    pub fn kind(&self) -> &HttpErrorKind {
        &self.kind
    }

    /// What went wrong, by value (to take the Entra error document out).
    pub fn into_kind(self) -> HttpErrorKind {
        self.kind
    }

    /// The kind of endpoint called.
    pub fn endpoint(&self) -> EndpointKind {
        self.endpoint
    }

    /// The host called (with its port when one was given).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The `client-request-id` the request was sent with (`None` when it was
    /// never sent).
    pub fn client_request_id(&self) -> Option<&str> {
        self.client_request_id.as_deref()
    }

    /// The HTTP status, when a response arrived.
    pub fn status(&self) -> Option<u16> {
        match &self.kind {
            HttpErrorKind::Redirected { status }
            | HttpErrorKind::TooLarge { status, .. }
            | HttpErrorKind::Status { status, .. }
            | HttpErrorKind::Entra { status, .. }
            | HttpErrorKind::InvalidBody { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The delay the endpoint asked for with `Retry-After`.
    pub fn retry_after(&self) -> Option<Duration> {
        match &self.kind {
            HttpErrorKind::Status { retry_after, .. }
            | HttpErrorKind::Entra { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// Entra's error document, for [`HttpErrorKind::Entra`].
    pub fn entra_response(&self) -> Option<&EntraErrorResponse> {
        match &self.kind {
            HttpErrorKind::Entra { response, .. } => Some(response),
            _ => None,
        }
    }

    /// Whether the same request may succeed later: network failures and
    /// timeouts, 429 and 5xx statuses, and Entra errors that say so.
    pub fn is_transient(&self) -> bool {
        match &self.kind {
            HttpErrorKind::Transport | HttpErrorKind::Timeout => true,
            HttpErrorKind::Status { status, .. } => *status == 429 || *status >= 500,
            HttpErrorKind::Entra { status, response, .. } => {
                *status == 429 || response.kind().is_transient()
            }
            _ => false,
        }
    }

    /// A stable code for logs and metrics: `http_client`, `http_invalid_request`,
    /// `http_transport`, `http_timeout`, `http_redirect`, `http_body_too_large`,
    /// `http_status`, `entra_error` or `http_invalid_body`.
    pub fn code(&self) -> &'static str {
        match &self.kind {
            HttpErrorKind::Client => "http_client",
            HttpErrorKind::InvalidRequest { .. } => "http_invalid_request",
            HttpErrorKind::Transport => "http_transport",
            HttpErrorKind::Timeout => "http_timeout",
            HttpErrorKind::Redirected { .. } => "http_redirect",
            HttpErrorKind::TooLarge { .. } => "http_body_too_large",
            HttpErrorKind::Status { .. } => "http_status",
            HttpErrorKind::Entra { .. } => "entra_error",
            HttpErrorKind::InvalidBody { .. } => "http_invalid_body",
        }
    }
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (e, host) = (self.endpoint, &self.host);
        match &self.kind {
            HttpErrorKind::Client => f.write_str("cannot build the http client")?,
            HttpErrorKind::InvalidRequest { reason } => {
                write!(f, "invalid request to the {e} endpoint: {reason}")?
            }
            HttpErrorKind::Transport => write!(f, "request to the {e} endpoint at {host} failed")?,
            HttpErrorKind::Timeout => write!(f, "request to the {e} endpoint at {host} timed out")?,
            HttpErrorKind::Redirected { status } => write!(
                f,
                "the {e} endpoint at {host} redirected (http {status}); redirects are not followed"
            )?,
            HttpErrorKind::TooLarge { status, limit } => write!(
                f,
                "the {e} endpoint at {host} sent a body larger than the limit of {limit} bytes (http {status})"
            )?,
            HttpErrorKind::Status { status, .. } => {
                write!(f, "the {e} endpoint at {host} answered with http status {status}")?
            }
            HttpErrorKind::Entra { status, response, .. } => {
                // The document prints the client-request-id itself.
                return write!(f, "the {e} endpoint at {host} answered http {status}: {response}");
            }
            HttpErrorKind::InvalidBody { status, reason } => write!(
                f,
                "invalid response from the {e} endpoint at {host} (http {status}): {reason}"
            )?,
        }
        if let Some(id) = &self.client_request_id {
            write!(f, " [client-request-id {id}]")?;
        }
        Ok(())
    }
}

impl fmt::Debug for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpError")
            .field("kind", &self.kind)
            .field("endpoint", &self.endpoint)
            .field("host", &self.host)
            .field("client_request_id", &self.client_request_id)
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

impl StdError for HttpError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source.as_deref().map(|s| s as &(dyn StdError + 'static))
    }
}
