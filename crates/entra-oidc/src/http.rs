//! The `oauth2` crate's HTTP client: its token requests run over entra-core's
//! one HTTP layer ([`entra_core::http`]), so the no-redirect policy, the body
//! cap, the `client-request-id`, the span, Entra's error documents and the
//! client authentication are the same as for every other request.
//!
//! oauth2 5 can drive reqwest itself only through its `reqwest` feature, which
//! targets reqwest 0.12; that feature stays off (one reqwest in the tree) and
//! [`OAuthHttp`] implements its [`oauth2::AsyncHttpClient`] trait instead.

use std::future::Future;
use std::pin::Pin;
use std::time::SystemTime;

use entra_core::ClientAuth;
use entra_core::http::{HttpClient, HttpError, TokenRequest};
use oauth2::http::header::CONTENT_TYPE;

use crate::Error;

/// The largest response body read from Entra's discovery and token endpoints.
pub(crate) const MAX_BODY: usize = 1024 * 1024;

/// An [`oauth2::AsyncHttpClient`] sending oauth2's token requests through
/// [`TokenRequest::send_raw`], adding the client's authentication.
///
/// oauth2 is given no client secret: it only builds the grant's form
/// (`grant_type`, `code`, `code_verifier`, `redirect_uri`, `refresh_token`,
/// `client_id`); entra-core applies the credential (body, HTTP Basic or client
/// assertion), as it does for On-Behalf-Of. Error statuses never reach oauth2:
/// they come back as [`HttpError`]s holding Entra's parsed error document.
///
/// It owns what it uses (a `reqwest::Client` is reference counted): a borrowing
/// client would make the sign-in future lose `Send` for `tokio::spawn`.
pub(crate) struct OAuthHttp {
    pub(crate) http: HttpClient,
    pub(crate) auth: Option<ClientAuth>,
    pub(crate) now: SystemTime,
}

impl<'c> oauth2::AsyncHttpClient<'c> for OAuthHttp {
    type Error = HttpError;
    type Future =
        Pin<Box<dyn Future<Output = Result<oauth2::HttpResponse, HttpError>> + Send + 'c>>;

    fn call(&'c self, request: oauth2::HttpRequest) -> Self::Future {
        Box::pin(async move {
            let url = request.uri().to_string();
            // oauth2 form-urlencodes the body: it is ASCII.
            let form = String::from_utf8_lossy(request.body()).into_owned();
            let mut token_request = TokenRequest::with_form(url, form).limit(MAX_BODY);
            if let Some(auth) = &self.auth {
                token_request = token_request.client_auth(auth);
            }
            let response = token_request.send_raw(&self.http, self.now).await?;
            let status = response.status();
            let content_type = response.headers().get(CONTENT_TYPE).cloned();
            let mut out = oauth2::http::Response::new(response.into_body());
            *out.status_mut() = status;
            if let Some(value) = content_type {
                out.headers_mut().insert(CONTENT_TYPE, value);
            }
            Ok(out)
        })
    }
}

/// The error of this crate for an HTTP layer error at `endpoint`.
pub(crate) fn http_error(endpoint: &'static str, e: HttpError) -> Error {
    use entra_core::http::HttpErrorKind as K;
    let invalid = |reason: &str| Error::InvalidResponse { endpoint, reason: reason.into() };
    match e.kind() {
        K::Status { status, .. } => Error::HttpStatus { endpoint, status: *status },
        K::TooLarge { .. } => invalid("the body is too large"),
        K::Redirected { .. } => invalid("the endpoint redirected (redirects are not followed)"),
        K::InvalidBody { reason, .. } => invalid(reason),
        K::Entra { response, .. } => Error::TokenRequest(response.clone()),
        _ => Error::Http { endpoint, source: e },
    }
}
