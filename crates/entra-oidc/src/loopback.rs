//! Sign-in for desktop and CLI apps (public clients): a one-shot HTTP listener on
//! the loopback interface receives the redirect.

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

use crate::client::{Login, LoginOptions};
use crate::{CallbackParams, Client, Error, Result, SignedIn};

/// The largest request read from the browser, in bytes.
const MAX_REQUEST: usize = 8 * 1024;
/// How long one connection may take to send its request.
const READ_TIMEOUT: Duration = Duration::from_secs(10);
/// The path of the redirect URI.
const CALLBACK_PATH: &str = "/callback";

/// A listener on `127.0.0.1:<port>` that waits for the sign-in redirect to
/// `http://127.0.0.1:<port>/callback`, answers the browser with a small page, and
/// hands back the callback parameters.
///
/// Register `http://127.0.0.1:<port>/callback` (or several ports) as a "Mobile
/// and desktop applications" redirect URI on the app registration.
///
/// Only a request carrying the `state` of the sign-in in progress ends the wait;
/// anything else (a favicon request, a stray or forged request from another
/// local page) gets an error answer and the listener keeps waiting. Requests are
/// limited to 8 KiB and 10 seconds each, and the whole wait to
/// [`LoopbackListener::timeout`].
pub struct LoopbackListener {
    listener: TcpListener,
    redirect_uri: String,
    timeout: Duration,
}

impl fmt::Debug for LoopbackListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoopbackListener")
            .field("redirect_uri", &self.redirect_uri)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl LoopbackListener {
    /// How long [`LoopbackLogin::finish`] waits by default: 5 minutes.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

    /// Listens on `127.0.0.1:port` (`0` picks a free port; Entra ignores the
    /// port of loopback redirect URIs for public clients).
    ///
    /// # Errors
    /// [`Error::Loopback`] when the port cannot be bound.
    pub async fn bind(port: u16) -> Result<Self> {
        let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
            .await
            .map_err(Error::Loopback)?;
        let port = listener.local_addr().map_err(Error::Loopback)?.port();
        Ok(Self {
            listener,
            redirect_uri: format!("http://127.0.0.1:{port}{CALLBACK_PATH}"),
            timeout: Self::DEFAULT_TIMEOUT,
        })
    }

    /// Listens on the first of `ports` that is free, for app registrations that
    /// list fixed ports (`53100`, `53101`, `8080`).
    ///
    /// # Errors
    /// [`Error::Loopback`] with the last failure when none is free (or `ports`
    /// is empty).
    pub async fn bind_first(ports: &[u16]) -> Result<Self> {
        let mut last = std::io::Error::new(std::io::ErrorKind::InvalidInput, "no port given");
        for &port in ports {
            match Self::bind(port).await {
                Ok(l) => return Ok(l),
                Err(Error::Loopback(e)) => last = e,
                Err(e) => return Err(e),
            }
        }
        Err(Error::Loopback(last))
    }

    /// Sets how long to wait for the redirect. Defaults to
    /// [`LoopbackListener::DEFAULT_TIMEOUT`].
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The redirect URI: `http://127.0.0.1:<port>/callback`.
    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// The port listened on.
    pub fn port(&self) -> u16 {
        self.listener.local_addr().map_or(0, |a| a.port())
    }

    /// Waits for the redirect whose `state` is `expected_state` and returns its
    /// parameters (a code, or Entra's error). The browser is told that the
    /// response was received, not that the sign-in succeeded: nothing has been
    /// redeemed yet. [`LoopbackLogin::finish`] answers the browser only after
    /// the code is redeemed, with the outcome.
    ///
    /// # Errors
    /// [`Error::LoopbackTimeout`] when none arrives in time; [`Error::Loopback`]
    /// when accepting connections fails.
    pub async fn wait(self, expected_state: &str) -> Result<CallbackParams> {
        let (params, mut browser) = self.accept_callback(expected_state).await?;
        let page = if params.error.is_some() { PAGE_FAILED } else { PAGE_RECEIVED };
        respond(&mut browser, 200, "OK", page).await;
        Ok(params)
    }

    /// Waits for the redirect whose `state` is `expected_state` and returns its
    /// parameters with the browser's connection, still unanswered.
    async fn accept_callback(self, expected_state: &str) -> Result<(CallbackParams, TcpStream)> {
        let timeout = self.timeout;
        tokio::time::timeout(timeout, self.serve(expected_state.to_owned()))
            .await
            .map_err(|_| Error::LoopbackTimeout)?
    }

    async fn serve(self, expected_state: String) -> Result<(CallbackParams, TcpStream)> {
        let mut connections: JoinSet<Option<(CallbackParams, TcpStream)>> = JoinSet::new();
        loop {
            tokio::select! {
                accepted = self.listener.accept() => {
                    let (stream, _) = accepted.map_err(Error::Loopback)?;
                    let expected = expected_state.clone();
                    connections.spawn(async move {
                        tokio::time::timeout(READ_TIMEOUT, handle(stream, &expected))
                            .await
                            .ok()
                            .flatten()
                    });
                }
                Some(done) = connections.join_next(), if !connections.is_empty() => {
                    if let Ok(Some(callback)) = done {
                        return Ok(callback);
                    }
                }
            }
        }
    }
}

/// Reads one request; answers it unless it is the expected callback, which is
/// returned with its connection for the caller to answer.
async fn handle(
    mut stream: TcpStream,
    expected_state: &str,
) -> Option<(CallbackParams, TcpStream)> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if buf.len() > MAX_REQUEST {
            respond(&mut stream, 431, "Request too large", PAGE_BAD).await;
            return None;
        }
    }
    let text = std::str::from_utf8(&buf).ok();
    let line = text.and_then(|t| t.lines().next()).unwrap_or("");
    let mut parts = line.split(' ');
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    if method != "GET" {
        respond(&mut stream, 405, "Method Not Allowed", PAGE_BAD).await;
        return None;
    }
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    if path != CALLBACK_PATH {
        respond(&mut stream, 404, "Not Found", PAGE_NOT_FOUND).await;
        return None;
    }
    let params = match CallbackParams::from_query(query) {
        Ok(p) => p,
        Err(_) => {
            respond(&mut stream, 400, "Bad Request", PAGE_BAD).await;
            return None;
        }
    };
    let state_ok = params
        .state
        .as_deref()
        .is_some_and(|s| entra_core::constant_time::eq(s.as_bytes(), expected_state.as_bytes()));
    if !state_ok {
        respond(&mut stream, 400, "Bad Request", PAGE_BAD).await;
        return None;
    }
    Some((params, stream))
}

async fn respond(stream: &mut TcpStream, status: u16, reason: &str, body: &str) {
    let head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nCache-Control: no-store\r\nContent-Security-Policy: default-src 'none'\r\nX-Content-Type-Options: nosniff\r\nReferrer-Policy: no-referrer\r\nConnection: close\r\n\r\n",
        body.len()
    );
    // The browser may have gone away: nothing to do about a failed write.
    let _ = stream.write_all(head.as_bytes()).await;
    let _ = stream.write_all(body.as_bytes()).await;
    let _ = stream.shutdown().await;
}

const PAGE_DONE: &str = "<!doctype html><html><head><meta charset=\"utf-8\"><title>Signed in</title></head><body><h1>Signed in</h1><p>You can close this window and return to the application.</p></body></html>";
const PAGE_RECEIVED: &str = "<!doctype html><html><head><meta charset=\"utf-8\"><title>Sign-in response received</title></head><body><h1>Sign-in response received</h1><p>Return to the application to see whether the sign-in succeeded.</p></body></html>";
const PAGE_FAILED: &str = "<!doctype html><html><head><meta charset=\"utf-8\"><title>Sign-in failed</title></head><body><h1>Sign-in failed</h1><p>Return to the application for details.</p></body></html>";
const PAGE_BAD: &str = "<!doctype html><html><head><meta charset=\"utf-8\"><title>Bad request</title></head><body><h1>Bad request</h1><p>This is not the sign-in response this application is waiting for.</p></body></html>";
const PAGE_NOT_FOUND: &str = "<!doctype html><html><head><meta charset=\"utf-8\"><title>Not found</title></head><body><h1>Not found</h1></body></html>";

/// A loopback sign-in in progress: show [`LoopbackLogin::url`] to the user (or
/// open it in their browser), then await [`LoopbackLogin::finish`].
pub struct LoopbackLogin {
    client: Client,
    listener: LoopbackListener,
    login: Login,
}

impl fmt::Debug for LoopbackLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoopbackLogin").field("listener", &self.listener).finish_non_exhaustive()
    }
}

impl LoopbackLogin {
    /// The authorization URL to open in the user's browser. Opening it is the
    /// host's job (print it, or hand it to the platform's opener).
    pub fn url(&self) -> &str {
        self.login.url()
    }

    /// The redirect URI in use.
    pub fn redirect_uri(&self) -> &str {
        self.listener.redirect_uri()
    }

    /// Waits for the redirect, completes the sign-in as [`Client::complete`]
    /// does (bound to this sign-in's `state`), and only then answers the
    /// browser: "Signed in" after the code is redeemed and the ID token
    /// accepted, "Sign-in failed" otherwise (the page reflects no input; the
    /// error, with its AADSTS remedy, is returned here).
    ///
    /// # Errors
    /// [`Error::LoopbackTimeout`], [`Error::Loopback`], then as [`Client::complete`].
    pub async fn finish(self) -> Result<SignedIn> {
        let (params, mut browser) = self.listener.accept_callback(self.login.state()).await?;
        let result = self.client.complete(&params, self.login.state()).await;
        let page = if result.is_ok() { PAGE_DONE } else { PAGE_FAILED };
        respond(&mut browser, 200, "OK", page).await;
        result
    }
}

impl Client {
    /// Starts a sign-in whose redirect goes to `listener` (public clients:
    /// desktop and CLI apps). `options` gives the prompt and hints; its return
    /// path is unused.
    ///
    /// ```no_run
    /// # async fn run(client: entra_oidc::Client) -> entra_oidc::Result<()> {
    /// use entra_oidc::{LoginOptions, LoopbackListener};
    /// let listener = LoopbackListener::bind_first(&[53100, 53101, 8080]).await?;
    /// let login = client.begin_loopback(listener, LoginOptions::default()).await?;
    /// println!("Open this link to sign in: {}", login.url());
    /// let signed_in = login.finish().await?;
    /// let token = signed_in.tokens().access_token(); // for the configured API scope
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As [`Client::begin_with`].
    pub async fn begin_loopback(
        &self,
        listener: LoopbackListener,
        options: LoginOptions,
    ) -> Result<LoopbackLogin> {
        let options = options.redirect_uri(listener.redirect_uri().to_owned());
        let login = self.begin_with(options).await?;
        Ok(LoopbackLogin { client: self.clone(), listener, login })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn get(port: u16, target: &str) -> String {
        let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        s.write_all(format!("GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").as_bytes())
            .await
            .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        out
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn returns_only_the_expected_callback() {
        let l = LoopbackListener::bind(0).await.unwrap();
        let port = l.port();
        assert_eq!(l.redirect_uri(), format!("http://127.0.0.1:{port}/callback"));
        let waiting = tokio::spawn(l.wait("s1"));
        // An idle connection (a browser preconnect) does not block the others.
        let _idle = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        assert!(get(port, "/favicon.ico").await.starts_with("HTTP/1.1 404"));
        assert!(get(port, "/callback?code=x&state=other").await.starts_with("HTTP/1.1 400"));
        assert!(get(port, "/callback?code=x").await.starts_with("HTTP/1.1 400"));
        assert!(get(port, "/callback?code=a&code=b&state=s1").await.starts_with("HTTP/1.1 400"));
        let ok = get(port, "/callback?code=c&state=s1").await;
        // Nothing is redeemed here: the page must not claim a sign-in.
        assert!(ok.starts_with("HTTP/1.1 200") && ok.contains("response received"), "{ok}");
        assert!(!ok.contains("Signed in"), "{ok}");
        assert!(ok.contains("Content-Security-Policy: default-src 'none'"));
        let p = waiting.await.unwrap().unwrap();
        assert_eq!(p.code.unwrap().expose_secret(), "c");
    }

    #[tokio::test]
    async fn refuses_other_methods_and_huge_requests() {
        let l = LoopbackListener::bind(0).await.unwrap();
        let port = l.port();
        let waiting = tokio::spawn(l.wait("s"));
        let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        s.write_all(b"POST /callback?state=s HTTP/1.1\r\n\r\n").await.unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        assert!(out.starts_with("HTTP/1.1 405"));
        let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let big = format!("GET /callback?state=s&x={} HTTP/1.1\r\n", "a".repeat(MAX_REQUEST));
        let _ = s.write_all(big.as_bytes()).await;
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out).await;
        assert!(String::from_utf8_lossy(&out).starts_with("HTTP/1.1 431"));
        let err = get(port, "/callback?error=access_denied&state=s").await;
        assert!(err.contains("Sign-in failed"));
        let p = waiting.await.unwrap().unwrap();
        assert_eq!(p.error.as_deref(), Some("access_denied"));
    }

    #[tokio::test]
    async fn times_out_without_a_callback() {
        let l = LoopbackListener::bind(0).await.unwrap().timeout(Duration::from_millis(20));
        assert!(matches!(l.wait("s").await, Err(Error::LoopbackTimeout)));
    }

    #[tokio::test]
    async fn bind_first_skips_busy_ports() {
        let busy = LoopbackListener::bind(0).await.unwrap();
        let l = LoopbackListener::bind_first(&[busy.port(), 0]).await.unwrap();
        assert_ne!(l.port(), busy.port());
        assert!(matches!(LoopbackListener::bind_first(&[]).await, Err(Error::Loopback(_))));
    }
}
