//! Requests the mock received, kept in a ring buffer bounded in count and bytes.

use std::collections::VecDeque;
use std::fmt;

use crate::server::Request;

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
    /// The raw body, at most [`RecordLimits::body_bytes`] of it.
    pub body: Vec<u8>,
    /// The length of the body as received (or announced by `content-length` when
    /// the mock refused it with 413 without reading it).
    pub body_len: usize,
    /// Whether `body` holds less than the whole body (`form` is then empty).
    pub body_truncated: bool,
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
    /// Records `req`; `body_len` is the body's real length, `body_cap` the most
    /// kept of it.
    pub(crate) fn from_request(req: &Request, body_len: usize, body_cap: usize) -> Self {
        let is_form = req
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        let body_truncated = req.body.len() > body_cap || body_len > req.body.len();
        let form = if is_form && !body_truncated {
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
            body: req.body[..req.body.len().min(body_cap)].to_vec(),
            body_len,
            body_truncated,
        }
    }

    /// About how many bytes this record holds (every string and the body).
    pub fn size(&self) -> usize {
        let pairs =
            |v: &[(String, String)]| v.iter().map(|(k, v)| k.len() + v.len()).sum::<usize>();
        64 + self.method.len()
            + self.path.len()
            + pairs(&self.query)
            + pairs(&self.headers)
            + pairs(&self.form)
            + self.body.len()
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

/// Bounds of the request record; see
/// [`MockEntraBuilder::record_limits`](crate::MockEntraBuilder::record_limits).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecordLimits {
    /// The most requests kept: older ones are dropped first. Defaults to `1000`.
    pub requests: usize,
    /// The most bytes kept ([`RecordedRequest::size`] summed): older requests are
    /// dropped first. Defaults to 8 MiB.
    pub bytes: usize,
    /// The most bytes of one body kept. Defaults to 64 KiB.
    pub body_bytes: usize,
}

impl Default for RecordLimits {
    fn default() -> Self {
        Self { requests: 1000, bytes: 8 << 20, body_bytes: 64 << 10 }
    }
}

impl RecordLimits {
    /// Limits of `requests` requests, `bytes` bytes in all and `body_bytes` per body
    /// (capped to `bytes`).
    pub fn new(requests: usize, bytes: usize, body_bytes: usize) -> Self {
        Self { requests, bytes, body_bytes: body_bytes.min(bytes) }
    }
}

/// The ring buffer of recorded requests.
#[derive(Debug)]
pub(crate) struct Record {
    limits: RecordLimits,
    entries: VecDeque<RecordedRequest>,
    bytes: usize,
}

impl Record {
    pub(crate) fn new(limits: RecordLimits) -> Self {
        Self { limits, entries: VecDeque::new(), bytes: 0 }
    }

    pub(crate) fn limits(&self) -> RecordLimits {
        self.limits
    }

    pub(crate) fn push(&mut self, mut r: RecordedRequest) {
        if r.size() > self.limits.bytes {
            // Keep the request line even when its headers alone exceed the budget.
            r.headers.clear();
            r.query.clear();
            r.form.clear();
            r.body.clear();
            r.body_truncated = r.body_len > 0;
        }
        self.bytes += r.size();
        self.entries.push_back(r);
        while self.entries.len() > self.limits.requests.max(1)
            || (self.bytes > self.limits.bytes && self.entries.len() > 1)
        {
            match self.entries.pop_front() {
                Some(old) => self.bytes -= old.size(),
                None => break,
            }
        }
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &RecordedRequest> {
        self.entries.iter()
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    pub(crate) fn clear(&mut self) {
        self.entries.clear();
        self.bytes = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(body: usize) -> RecordedRequest {
        RecordedRequest {
            method: "POST".into(),
            path: "/t".into(),
            query: Vec::new(),
            headers: vec![("content-type".into(), "x".into())],
            form: Vec::new(),
            body: vec![b'a'; body],
            body_len: body,
            body_truncated: false,
        }
    }

    #[test]
    fn ring_buffer_stays_within_count_and_bytes() {
        let mut r = Record::new(RecordLimits::new(3, 10_000, 1000));
        for _ in 0..10 {
            r.push(req(10));
        }
        assert_eq!(r.len(), 3);
        let mut r = Record::new(RecordLimits::new(100, 1000, 1000));
        for _ in 0..10 {
            r.push(req(300));
        }
        assert!(r.bytes() <= 1000, "{}", r.bytes());
        assert_eq!(r.bytes(), r.iter().map(RecordedRequest::size).sum::<usize>());
        // One request bigger than the whole budget keeps only its request line.
        r.push(req(5000));
        assert!(r.bytes() <= 1000);
        let last = r.iter().last().unwrap();
        assert!(last.body.is_empty() && last.body_truncated && last.body_len == 5000);
        assert_eq!(last.path, "/t");
        r.clear();
        assert_eq!((r.len(), r.bytes()), (0, 0));
    }
}
