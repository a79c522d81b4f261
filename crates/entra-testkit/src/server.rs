//! The mock's HTTP(S) server: hyper on its own thread and runtime, rustls when
//! TLS is on, request bodies capped (413 beyond the limit), every request recorded
//! in the bounded record, then handed to the router.

use std::convert::Infallible;
use std::fmt;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::{BodyExt as _, Full};
use hyper::body::{Bytes, Incoming};
use hyper_util::rt::TokioIo;
use serde_json::json;
use url::Url;

use crate::state::{State, lock};
use crate::{Error, RecordedRequest, Result};

/// The most front-channel logout URLs called for one sign-out.
const MAX_FRONT_CHANNEL_CALLS: usize = 16;

/// How much of a refused (too large) body is read and dropped, so that the client
/// sees the 413 rather than a reset connection; beyond it the connection closes.
const MAX_DRAIN: usize = 256 << 20;

/// A request as the router sees it: the body is read whole (within the limit).
pub(crate) struct Request {
    pub(crate) method: http::Method,
    /// `http://mock{path}?{query}`: only the path and query are meaningful.
    pub(crate) url: Url,
    pub(crate) headers: http::HeaderMap,
    pub(crate) body: Vec<u8>,
}

/// Work done after the answer is computed and before it is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum After {
    /// GET each URL (front-channel logout), outside the state lock; with `report`,
    /// the body becomes the JSON list of URLs and the statuses they answered.
    Call { urls: Vec<String>, report: bool },
}

/// A response of the mock, built like wiremock's `ResponseTemplate`.
pub(crate) struct Response {
    pub(crate) status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    delay: Option<Duration>,
    pub(crate) after: Option<After>,
}

// Bodies and headers hold secrets and tokens: `Debug` shows neither.
impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("path", &self.url.path())
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Response").field("status", &self.status).finish_non_exhaustive()
    }
}

impl Response {
    pub(crate) fn new(status: u16) -> Self {
        Self { status, headers: Vec::new(), body: Vec::new(), delay: None, after: None }
    }

    /// Sets header `name` (replacing an earlier value).
    pub(crate) fn insert_header(mut self, name: &str, value: &str) -> Self {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    pub(crate) fn set_body_raw(self, body: impl Into<Vec<u8>>, content_type: &str) -> Self {
        let mut r = self.insert_header("content-type", content_type);
        r.body = body.into();
        r
    }

    pub(crate) fn set_delay(mut self, delay: Duration) -> Self {
        self.delay = Some(delay);
        self
    }

    pub(crate) fn then(mut self, after: After) -> Self {
        self.after = Some(after);
        self
    }

    fn into_hyper(self) -> hyper::Response<Full<Bytes>> {
        let mut r = hyper::Response::new(Full::new(Bytes::from(self.body)));
        *r.status_mut() = http::StatusCode::from_u16(self.status).unwrap_or(http::StatusCode::OK);
        for (n, v) in self.headers {
            if let (Ok(n), Ok(v)) = (http::HeaderName::try_from(n), http::HeaderValue::try_from(v))
            {
                r.headers_mut().insert(n, v);
            }
        }
        r
    }
}

/// What the connection tasks share.
struct Shared {
    state: Arc<Mutex<State>>,
    max_body: usize,
    client: reqwest::Client,
}

/// The running server; dropping it stops the server thread.
pub(crate) struct Server {
    pub(crate) local_addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server").field("local_addr", &self.local_addr).finish_non_exhaustive()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

impl Server {
    /// Serves `listener` on a new thread with its own runtime, so that the mock
    /// outlives any one test's runtime.
    pub(crate) fn spawn(
        listener: std::net::TcpListener,
        tls: Option<Arc<rustls::ServerConfig>>,
        state: Arc<Mutex<State>>,
        max_body: usize,
        client: reqwest::Client,
    ) -> Result<Self> {
        listener.set_nonblocking(true).map_err(Error::Start)?;
        let local_addr = listener.local_addr().map_err(Error::Start)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(Error::Start)?;
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let shared = Arc::new(Shared { state, max_body, client });
        std::thread::Builder::new()
            .name("mock-entra".into())
            .spawn(move || runtime.block_on(accept_loop(listener, tls, shared, rx)))
            .map_err(Error::Start)?;
        Ok(Self { local_addr, shutdown: Some(tx) })
    }
}

async fn accept_loop(
    listener: std::net::TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    shared: Arc<Shared>,
    mut shutdown: tokio::sync::oneshot::Receiver<()>,
) {
    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
        return;
    };
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    loop {
        let stream = tokio::select! {
            _ = &mut shutdown => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                // Out of file descriptors and the like: try again shortly.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
        };
        let shared = Arc::clone(&shared);
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let shared = Arc::clone(&shared);
                async move { Ok::<_, Infallible>(handle(&shared, req).await) }
            });
            let http = hyper::server::conn::http1::Builder::new();
            match acceptor {
                Some(acceptor) => {
                    // A failed handshake (a client that does not trust the CA) ends the connection.
                    if let Ok(tls) = acceptor.accept(stream).await {
                        let _ = http.serve_connection(TokioIo::new(tls), service).await;
                    }
                }
                None => {
                    let _ = http.serve_connection(TokioIo::new(stream), service).await;
                }
            }
        });
    }
}

fn too_large(max: usize) -> Response {
    Response::new(413).set_body_raw(
        json!({
            "error": "request_too_large",
            "error_description": format!("The mock Entra accepts request bodies of at most {max} bytes."),
        })
        .to_string(),
        "application/json; charset=utf-8",
    )
}

async fn handle(shared: &Shared, req: hyper::Request<Incoming>) -> hyper::Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let path_and_query = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let Ok(url) = Url::parse(&format!("http://mock{path_and_query}")) else {
        return Response::new(400).into_hyper();
    };
    let mut request =
        Request { method: parts.method, url, headers: parts.headers, body: Vec::new() };
    let body = match read_capped(body, shared.max_body).await {
        Ok(b) => b,
        // The client went away mid-body.
        Err(()) => return Response::new(400).into_hyper(),
    };
    let response = match body {
        Ok(b) => {
            request.body = b;
            crate::router::handle(&shared.state, &request)
        }
        Err(len) => {
            let mut s = lock(&shared.state);
            let cap = s.record.limits().body_bytes;
            s.record.push(RecordedRequest::from_request(&request, len, cap));
            too_large(shared.max_body).insert_header("connection", "close")
        }
    };
    if let Some(d) = response.delay {
        tokio::time::sleep(d).await;
    }
    let mut response = response;
    if let Some(After::Call { urls, report }) = response.after.take() {
        let mut called = Vec::new();
        for u in urls.iter().take(MAX_FRONT_CHANNEL_CALLS) {
            // The app's answer does not change the sign-out: Entra ignores it too.
            let status = match shared.client.get(u).timeout(Duration::from_secs(5)).send().await {
                Ok(r) => json!(r.status().as_u16()),
                Err(e) => json!(format!("unreachable: {e}")),
            };
            called.push(json!({"url": u, "status": status}));
        }
        if report {
            response =
                response.set_body_raw(json!({"called": called}).to_string(), "application/json");
        }
    }
    response.into_hyper()
}

/// Reads the body: `Ok(Ok(bytes))` within `max`, `Ok(Err(length))` beyond it (the
/// rest is read and dropped, up to [`MAX_DRAIN`]), `Err` when the client goes away.
async fn read_capped(mut body: Incoming, max: usize) -> Result<Result<Vec<u8>, usize>, ()> {
    let mut kept = Vec::new();
    let mut total = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| ())?;
        let Ok(data) = frame.into_data() else { continue };
        total = total.saturating_add(data.len());
        if total <= max {
            kept.extend_from_slice(&data);
        } else {
            kept = Vec::new();
            if total > MAX_DRAIN {
                break;
            }
        }
    }
    Ok(if total <= max { Ok(kept) } else { Err(total) })
}
