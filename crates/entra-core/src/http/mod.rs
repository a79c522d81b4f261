//! The one HTTP and token-endpoint layer of the entra-* crates (feature `http`).
//!
//! Every request to Entra or Microsoft Graph goes through [`HttpClient::send`]:
//!
//! - **No redirects.** The default client ([`HttpClient::new`]) follows none, and
//!   a 3xx answer is refused with [`HttpErrorKind::Redirected`] even when a
//!   host-supplied client would follow it: a token request is never re-sent, with
//!   its secret, to wherever a `Location` points.
//! - **Timeouts.** 10 seconds to connect and 30 seconds in all by default; each
//!   request may set a shorter total ([`HttpRequest::timeout`]).
//! - **A `User-Agent`** naming this crate and its version ([`USER_AGENT`]).
//! - **Capped bodies.** One streaming reader stops at [`HttpRequest::limit`]
//!   bytes (at most [`ERROR_BODY_LIMIT`] for an error status), whether or not a
//!   `Content-Length` was sent: [`HttpErrorKind::TooLarge`].
//! - **A fresh `client-request-id`** (a UUID) on every request, echoed in every
//!   [`HttpError`] and [`EntraErrorResponse`](crate::EntraErrorResponse) beside
//!   Entra's own `correlation_id` and `trace_id`, so a support case can be traced.
//! - **One span shape**: `entra.http` with `endpoint` (its kind), `host`,
//!   `method`, `client_request_id`, `status` and `outcome`, never a URL path,
//!   query, header, body, token or secret.
//!
//! On top of it, [`TokenRequest`] is the one token-endpoint client: it applies a
//! [`ClientAuth`](crate::ClientAuth) (secret in the body, HTTP Basic, or client
//! assertion), parses token responses once ([`TokenResponse`]) and Entra's error
//! documents once, with `Retry-After` ([`parse_retry_after`]).

mod client;
mod error;
mod token_endpoint;

#[cfg(test)]
mod tests;

pub use client::{
    CONNECT_TIMEOUT, ERROR_BODY_LIMIT, HttpClient, HttpRequest, HttpResponse, TOTAL_TIMEOUT,
    USER_AGENT, parse_retry_after,
};
pub use error::{HttpError, HttpErrorKind};
pub use token_endpoint::{InvalidTokenResponse, MAX_EXPIRES_IN, TokenRequest, TokenResponse};

/// The header carrying the id this client gives each request.
pub const CLIENT_REQUEST_ID: &str = "client-request-id";

/// What kind of endpoint a request goes to; names spans and errors.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub enum EndpointKind {
    /// The OpenID Connect discovery document.
    Discovery,
    /// A JWKS (signing keys) document.
    Keys,
    /// The OAuth 2.0 token endpoint (code, refresh, On-Behalf-Of).
    Token,
    /// Microsoft Graph.
    Graph,
    /// Another downstream API, called on behalf of a user.
    Api,
}

impl EndpointKind {
    /// The lowercase name used in spans and messages (`token`, `keys`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Discovery => "discovery",
            Self::Keys => "keys",
            Self::Token => "token",
            Self::Graph => "graph",
            Self::Api => "api",
        }
    }
}

impl std::fmt::Display for EndpointKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
