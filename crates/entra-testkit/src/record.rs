//! Requests the mock received.

use std::fmt;

/// One request the mock received, for assertions on exact fields and counts.
///
/// `Debug` shows the method and path only: form fields may hold secrets.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecordedRequest {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The path (`/{tenant}/oauth2/v2.0/token`).
    pub path: String,
    /// The decoded query parameters, in order.
    pub query: Vec<(String, String)>,
    /// The headers (names in lowercase), in order.
    pub headers: Vec<(String, String)>,
    /// The decoded `application/x-www-form-urlencoded` body fields (empty for other bodies).
    pub form: Vec<(String, String)>,
    /// The raw body.
    pub body: Vec<u8>,
}

impl fmt::Debug for RecordedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecordedRequest")
            .field("method", &self.method)
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl RecordedRequest {
    pub(crate) fn from_wiremock(req: &wiremock::Request) -> Self {
        let is_form = req
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        let form = if is_form {
            serde_urlencoded::from_bytes::<Vec<(String, String)>>(&req.body).unwrap_or_default()
        } else {
            Vec::new()
        };
        Self {
            method: req.method.as_str().to_owned(),
            path: req.url.path().to_owned(),
            query: req.url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect(),
            headers: req
                .headers
                .iter()
                .map(|(k, v)| {
                    (k.as_str().to_owned(), String::from_utf8_lossy(v.as_bytes()).into_owned())
                })
                .collect(),
            form,
            body: req.body.clone(),
        }
    }

    /// The first form field named `name`.
    pub fn form_value(&self, name: &str) -> Option<&str> {
        self.form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// The first query parameter named `name`.
    pub fn query_value(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// Whether this is a POST to a token endpoint.
    pub fn is_token_request(&self) -> bool {
        self.method == "POST"
            && (self.path.ends_with("/oauth2/v2.0/token") || self.path.ends_with("/oauth2/token"))
    }
}
