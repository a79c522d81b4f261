//! Tests of the HTTP layer against wiremock and raw sockets on loopback.

use std::io;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::header::HeaderValue;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::fmt::format::FmtSpan;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use super::*;
use crate::{ClientCredential, ClientId, Secret};

const CID: &str = "6e74172b-be56-4843-9ff4-e66a39bb12e3";

async fn answering(template: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET")).respond_with(template.clone()).mount(&server).await;
    Mock::given(method("POST")).respond_with(template).mount(&server).await;
    server
}

async fn requests(server: &MockServer) -> Vec<Request> {
    server.received_requests().await.unwrap_or_default()
}

fn keys(uri: &str) -> HttpRequest {
    HttpRequest::get(EndpointKind::Keys, format!("{uri}/keys"))
}

fn token_body() -> serde_json::Value {
    serde_json::json!({"token_type": "Bearer", "access_token": "eyJ.at.x", "expires_in": 3599})
}

#[tokio::test]
async fn redirects_are_never_followed() {
    let elsewhere = answering(ResponseTemplate::new(200).set_body_json(token_body())).await;
    let http = HttpClient::new().unwrap();
    for status in [301, 302, 303, 307, 308] {
        let server = answering(
            ResponseTemplate::new(status)
                .insert_header("Location", format!("{}/steal", elsewhere.uri()).as_str()),
        )
        .await;
        let e = TokenRequest::new(format!("{}/token", server.uri()))
            .param("client_secret", "s3cret")
            .send(&http, SystemTime::now())
            .await
            .unwrap_err();
        assert!(matches!(e.kind(), HttpErrorKind::Redirected { status: s } if *s == status), "{e}");
        assert_eq!(e.code(), "http_redirect");
        assert!(!e.is_transient());
        assert!(e.to_string().contains("redirects are not followed"), "{e}");
    }
    assert!(requests(&elsewhere).await.is_empty(), "a redirect was followed");
}

#[tokio::test]
async fn default_client_names_itself_and_sends_a_fresh_client_request_id() {
    let server = answering(ResponseTemplate::new(200).set_body_string("{}")).await;
    let http = HttpClient::new().unwrap();
    let a = http.send(keys(&server.uri())).await.unwrap();
    let b = http.send(keys(&server.uri())).await.unwrap();
    assert_ne!(a.client_request_id(), b.client_request_id());
    let seen = requests(&server).await;
    assert_eq!(seen.len(), 2);
    for (request, response) in seen.iter().zip([&a, &b]) {
        let id = request.headers.get(CLIENT_REQUEST_ID).unwrap().to_str().unwrap();
        assert_eq!(id, response.client_request_id());
        assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
        assert_eq!(request.headers.get("user-agent").unwrap(), USER_AGENT);
        assert!(USER_AGENT.starts_with("entra-core/"));
    }
}

#[tokio::test]
async fn errors_carry_the_client_request_id() {
    let server = answering(ResponseTemplate::new(503).insert_header("Retry-After", "7")).await;
    let e = TokenRequest::new(format!("{}/token", server.uri()))
        .send(&HttpClient::new().unwrap(), SystemTime::now())
        .await
        .unwrap_err();
    let sent = requests(&server).await[0].headers.get(CLIENT_REQUEST_ID).unwrap().clone();
    assert_eq!(e.client_request_id(), Some(sent.to_str().unwrap()));
    assert!(matches!(e.kind(), HttpErrorKind::Status { status: 503, .. }), "{e}");
    assert_eq!(e.retry_after(), Some(Duration::from_secs(7)));
    assert!(e.is_transient());
    assert!(e.to_string().contains(sent.to_str().unwrap()), "{e}");
}

#[tokio::test]
async fn entra_error_documents_are_parsed_with_error_uri_and_request_id() {
    let server = answering(ResponseTemplate::new(401).set_body_json(serde_json::json!({
        "error": "invalid_client",
        "error_description": "AADSTS7000215: Invalid client secret provided.",
        "error_codes": [7000215],
        "trace_id": "t-1",
        "correlation_id": "c-2",
        "error_uri": "https://login.microsoftonline.com/error?code=7000215",
    })))
    .await;
    let e = TokenRequest::new(format!("{}/token", server.uri()))
        .param("client_secret", "the-secret-id")
        .send(&HttpClient::new().unwrap(), SystemTime::now())
        .await
        .unwrap_err();
    let sent = requests(&server).await[0].headers[CLIENT_REQUEST_ID].to_str().unwrap().to_owned();
    let entra = e.entra_response().unwrap();
    assert_eq!(entra.kind(), crate::ErrorKind::InvalidClientSecret);
    assert_eq!(
        entra.error_uri.as_deref(),
        Some("https://login.microsoftonline.com/error?code=7000215")
    );
    assert_eq!(entra.correlation_id.as_deref(), Some("c-2"));
    assert_eq!(entra.client_request_id.as_deref(), Some(sent.as_str()));
    assert_eq!((e.status(), e.code(), e.is_transient()), (Some(401), "entra_error", false));
    let shown = e.to_string();
    assert!(shown.contains("correlation id c-2") && shown.contains(&sent), "{shown}");
    assert!(!shown.contains("the-secret-id"), "{shown}");
    // An error status without an Entra document is a status error.
    let server = answering(ResponseTemplate::new(400).set_body_string("<html>")).await;
    let e = TokenRequest::new(format!("{}/token", server.uri()))
        .send(&HttpClient::new().unwrap(), SystemTime::now())
        .await
        .unwrap_err();
    assert!(matches!(e.kind(), HttpErrorKind::Status { status: 400, retry_after: None }), "{e}");
}

#[tokio::test]
async fn bodies_are_capped_by_content_length_and_for_error_statuses() {
    let http = HttpClient::new().unwrap();
    let server = answering(ResponseTemplate::new(200).set_body_string("x".repeat(1000))).await;
    let ok = http.send(keys(&server.uri()).limit(1000)).await.unwrap();
    assert_eq!(ok.body().len(), 1000);
    let e = http.send(keys(&server.uri()).limit(999)).await.unwrap_err();
    assert!(matches!(e.kind(), HttpErrorKind::TooLarge { status: 200, limit: 999 }), "{e}");
    assert_eq!(e.code(), "http_body_too_large");
    // An error status reads at most ERROR_BODY_LIMIT, whatever the request allows.
    let server =
        answering(ResponseTemplate::new(500).set_body_string("x".repeat(ERROR_BODY_LIMIT + 1)))
            .await;
    let e = http.send(keys(&server.uri()).limit(1 << 20)).await.unwrap_err();
    assert!(
        matches!(e.kind(), HttpErrorKind::TooLarge { status: 500, limit: ERROR_BODY_LIMIT }),
        "{e}"
    );
}

/// A one-connection HTTP/1.1 server answering 200 with a chunked body (no
/// `Content-Length`) of `chunks` chunks of 16 KiB.
async fn chunked_server(chunks: usize) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let uri = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let Ok((mut socket, _)) = listener.accept().await else { return };
        let mut request = vec![0; 16 * 1024];
        let _ = socket.read(&mut request).await;
        let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n";
        if socket.write_all(head.as_bytes()).await.is_err() {
            return;
        }
        let chunk = format!("4000\r\n{}\r\n", "a".repeat(0x4000));
        for _ in 0..chunks {
            if socket.write_all(chunk.as_bytes()).await.is_err() {
                return; // the client stopped reading
            }
        }
        let _ = socket.write_all(b"0\r\n\r\n").await;
    });
    uri
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streamed_body_is_cut_at_the_limit() {
    let http = HttpClient::new().unwrap();
    let uri = chunked_server(64).await; // 1 MiB without Content-Length
    let e = http.send(keys(&uri).limit(64 * 1024)).await.unwrap_err();
    assert!(matches!(e.kind(), HttpErrorKind::TooLarge { status: 200, limit: 65536 }), "{e}");
    // The same stream within the limit is read whole.
    let uri = chunked_server(2).await;
    assert_eq!(http.send(keys(&uri).limit(64 * 1024)).await.unwrap().body().len(), 2 * 0x4000);
}

#[tokio::test]
async fn timeouts_and_bad_urls_are_typed() {
    let server = answering(ResponseTemplate::new(200).set_delay(Duration::from_secs(5))).await;
    let http = HttpClient::new().unwrap();
    let e = http.send(keys(&server.uri()).timeout(Duration::from_millis(200))).await.unwrap_err();
    assert!(matches!(e.kind(), HttpErrorKind::Timeout), "{e:?}");
    assert!(e.is_transient() && e.client_request_id().is_some());
    for bad in ["not a url", "ftp://example.com/keys", "/relative"] {
        let e = http.send(HttpRequest::get(EndpointKind::Keys, bad)).await.unwrap_err();
        assert!(matches!(e.kind(), HttpErrorKind::InvalidRequest { .. }), "{bad}: {e}");
        assert!(e.client_request_id().is_none(), "nothing was sent");
    }
    // Nothing listens on port 9 of loopback: a transport error.
    let e = http.send(keys("http://127.0.0.1:9")).await.unwrap_err();
    assert!(matches!(e.kind(), HttpErrorKind::Transport | HttpErrorKind::Timeout), "{e}");
    assert!(std::error::Error::source(&e).is_some());
}

#[tokio::test]
async fn client_authentication_is_applied_once_per_credential_kind() {
    let server = answering(ResponseTemplate::new(200).set_body_json(token_body())).await;
    let http = HttpClient::new().unwrap();
    let id = ClientId::parse(CID).unwrap();
    let url = format!("{}/token", server.uri());
    let body_auth =
        ClientCredential::secret(Secret::new("a+b/c")).authenticate(&id, &url).await.unwrap();
    let basic_auth =
        ClientCredential::secret_basic(Secret::new("a+b:c")).authenticate(&id, &url).await.unwrap();
    for auth in [&body_auth, &basic_auth] {
        let r = TokenRequest::new(&url)
            .param("grant_type", "client_credentials")
            .param("client_id", CID)
            .client_auth(auth)
            .send(&http, SystemTime::now())
            .await
            .unwrap();
        assert_eq!(r.access_token.expose_secret(), "eyJ.at.x");
    }
    let seen = requests(&server).await;
    let form = |r: &Request| -> Vec<(String, String)> {
        url::form_urlencoded::parse(&r.body).into_owned().collect()
    };
    assert!(form(&seen[0]).contains(&("client_secret".into(), "a+b/c".into())));
    assert!(seen[0].headers.get("authorization").is_none());
    assert!(!form(&seen[1]).iter().any(|(k, _)| k == "client_secret"));
    // RFC 6749 2.3.1: form-urlencoded before base64.
    use base64::Engine as _;
    let expected = base64::engine::general_purpose::STANDARD.encode(format!("{CID}:a%2Bb%3Ac"));
    assert_eq!(seen[1].headers["authorization"], format!("Basic {expected}").as_str());
    assert_eq!(seen[1].headers["content-type"], "application/x-www-form-urlencoded");
    assert!(!format!("{:?}", TokenRequest::new(&url).client_auth(&basic_auth)).contains("a+b"));
}

#[test]
fn expires_in_as_number_or_string_and_bounded() {
    let parse = |v: serde_json::Value| {
        TokenResponse::parse(
            serde_json::json!({"access_token": "a", "expires_in": v}).to_string().as_bytes(),
        )
    };
    assert_eq!(parse(3599.into()).unwrap().expires_in, Some(Duration::from_secs(3599)));
    assert_eq!(parse(" 60 ".into()).unwrap().expires_in, Some(Duration::from_secs(60)));
    assert_eq!(parse("172800".into()).unwrap().expires_in, Some(MAX_EXPIRES_IN));
    let no_expiry = TokenResponse::parse(br#"{"access_token":"a"}"#).unwrap();
    assert_eq!(no_expiry.expires_in, None);
    assert_eq!(parse(serde_json::Value::Null).unwrap().expires_in, None, "null is absent");
    for bad in [
        serde_json::json!(172_801),
        serde_json::json!(u64::MAX),
        serde_json::json!("18446744073709551615"),
        serde_json::json!("99999999999999999999999"),
        serde_json::json!(-5),
        serde_json::json!(3599.5),
        serde_json::json!("soon"),
        serde_json::json!([60]),
    ] {
        assert!(parse(bad.clone()).is_err(), "{bad}");
    }
    // ext_expires_in is optional: an unusable one is dropped, not refused.
    let r = TokenResponse::parse(br#"{"access_token":"a","ext_expires_in":"x"}"#).unwrap();
    assert_eq!(r.ext_expires_in, None);
    let r = TokenResponse::parse(br#"{"access_token":"a","ext_expires_in":"7200"}"#).unwrap();
    assert_eq!(r.ext_expires_in, Some(Duration::from_secs(7200)));
}

#[test]
fn token_responses_are_parsed_once_with_secrets_hidden() {
    let r = TokenResponse::parse(
        br#"{"token_type":"bearer","scope":"api://x/access_as_user openid","expires_in":3599,
            "access_token":"at.x.y","id_token":"id.x.y","refresh_token":"rt.z","foo":1}"#,
    )
    .unwrap();
    assert_eq!(r.scopes(), ["api://x/access_as_user", "openid"]);
    assert_eq!(r.id_token.as_ref().unwrap().expose_secret(), "id.x.y");
    assert_eq!(r.refresh_token.as_ref().unwrap().expose_secret(), "rt.z");
    let dbg = format!("{r:?}");
    assert!(!dbg.contains("at.x.y") && !dbg.contains("id.x.y") && !dbg.contains("rt.z"), "{dbg}");
    // Empty optional tokens are absent; the serde path applies the same rules.
    let r: TokenResponse =
        serde_json::from_str(r#"{"access_token":"a","refresh_token":"","id_token":""}"#).unwrap();
    assert!(r.refresh_token.is_none() && r.id_token.is_none());
    assert!(
        serde_json::from_str::<TokenResponse>(r#"{"access_token":"a","expires_in":"x"}"#).is_err()
    );
    for body in [
        &b""[..],
        b"<html>",
        b"[]",
        br#"{"access_token":""}"#,
        br#"{"expires_in":5}"#,
        br#"{"token_type":"mac","access_token":"a"}"#,
        br#"{"access_token":5}"#,
    ] {
        let e = TokenResponse::parse(body).unwrap_err();
        assert!(!e.reason().is_empty());
    }
}

#[test]
fn retry_after_seconds_or_http_date() {
    // 2015-10-21T07:28:00Z
    let now = UNIX_EPOCH + Duration::from_secs(1_445_412_480);
    let parse = |v: &'static str| parse_retry_after(&HeaderValue::from_static(v), now);
    let day = Duration::from_secs(24 * 60 * 60);
    assert_eq!(parse("7"), Some(Duration::from_secs(7)));
    assert_eq!(parse(" 7 "), Some(Duration::from_secs(7)));
    assert_eq!(parse("Wed, 21 Oct 2015 07:28:30 GMT"), Some(Duration::from_secs(30)));
    assert_eq!(parse("Wed, 21 Oct 2015 07:27:00 GMT"), Some(Duration::ZERO));
    assert_eq!(parse("Thu, 01 Jan 2099 00:00:00 GMT"), Some(day));
    assert_eq!(parse("18446744073709551615"), Some(day));
    assert_eq!(parse("soon"), None);
    assert_eq!(parse("-5"), None);
}

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Self;
    fn make_writer(&'a self) -> Self {
        self.clone()
    }
}

#[tokio::test(flavor = "current_thread")]
async fn one_span_shape_without_paths_or_secrets() {
    // One process-wide subscriber: a thread-local one races with the
    // callsite-interest cache of tests running on other threads.
    static CAPTURED: OnceLock<Captured> = OnceLock::new();
    let captured = CAPTURED.get_or_init(|| {
        let captured = Captured::default();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(captured.clone())
            .with_env_filter(tracing_subscriber::EnvFilter::new("entra_core=trace"))
            .with_span_events(FmtSpan::CLOSE)
            .with_ansi(false)
            .finish();
        let _ = tracing::subscriber::set_global_default(subscriber);
        captured
    });
    let server = answering(ResponseTemplate::new(200).set_body_json(token_body())).await;
    let http = HttpClient::new().unwrap();
    let r = TokenRequest::new(format!("{}/tenant-path/token?q=query-text", server.uri()))
        .param("client_secret", "span-secret")
        .send(&http, SystemTime::now())
        .await
        .unwrap();
    let id = requests(&server).await[0].headers[CLIENT_REQUEST_ID].to_str().unwrap().to_owned();
    let host = server.uri().trim_start_matches("http://").to_owned();
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let line = logs.lines().find(|l| l.contains(&id)).unwrap_or_else(|| panic!("{logs}"));
    for field in [
        "entra.http{",
        "endpoint=\"token\"",
        &format!("host={host}"),
        "method=POST",
        "status=200",
        "outcome=\"ok\"",
    ] {
        assert!(line.contains(field), "{field} in {line}");
    }
    for hidden in
        ["span-secret", r.access_token.expose_secret(), "tenant-path", "query-text", "eyJ"]
    {
        assert!(!logs.contains(hidden), "{hidden} in {logs}");
    }
}
