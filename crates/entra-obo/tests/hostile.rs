//! A hostile or broken token endpoint, cache or caller: oversized numbers and
//! bodies, redirects, cancelled callers, panics. None of them may panic the
//! caller or leave state behind.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use entra_core::{Authority, ClientCredential, Cloud, Secret, StoreError, Tenant, TokenCache};
use entra_obo::{Error, Obo};
use entra_testkit::Fault;
use entra_testkit::doubles::TamperingCache;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{API_SECRET, Env};

const GRAPH: &str = "https://graph.microsoft.com";

/// An [`Obo`] whose token endpoint is `server` (any path answers).
fn obo_against(env: &Env, server: &MockServer) -> Obo {
    let cloud = Cloud::custom(&server.uri(), &server.uri()).unwrap();
    let authority = Authority::new(cloud, Tenant::Id(env.mock.tenant_id()));
    env.builder_with(authority, ClientCredential::secret(Secret::new(API_SECRET))).build().unwrap()
}

async fn answering(template: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST")).respond_with(template).mount(&server).await;
    server
}

async fn received(server: &MockServer) -> usize {
    server.received_requests().await.unwrap().len()
}

fn token_body(expires_in: serde_json::Value) -> serde_json::Value {
    serde_json::json!({
        "token_type": "Bearer",
        "access_token": "eyJ.issued.token",
        "expires_in": expires_in,
        "scope": "https://graph.microsoft.com/.default",
    })
}

#[tokio::test]
async fn a_huge_retry_after_gives_up_at_once_without_panicking() {
    let env = Env::start().await;
    // Answered after a second, so that the time already spent plus the wait
    // would overflow a Duration.
    let server = answering(
        ResponseTemplate::new(429)
            .insert_header("Retry-After", "18446744073709551615")
            .set_delay(Duration::from_millis(1100)),
    )
    .await;
    let obo = obo_against(&env, &server);
    let user = env.user_token(&env.alice);
    let e = obo.exchange_on_behalf_of(&user, GRAPH).await.unwrap_err();
    assert!(matches!(e, Error::Throttled { .. }), "{e}");
    assert!(e.retry_after().unwrap() >= Duration::from_secs(60 * 60), "{e}");
    assert_eq!(received(&server).await, 1);
    assert_eq!(obo.in_flight(), 0);
}

#[tokio::test]
async fn an_expires_in_beyond_48_hours_is_an_invalid_response() {
    let env = Env::start().await;
    let user = env.user_token(&env.alice);
    for huge in [
        serde_json::json!(18_446_744_073_709_551_615_u64),
        serde_json::json!("18446744073709551615"),
        serde_json::json!(48 * 3600 + 1),
    ] {
        let server =
            answering(ResponseTemplate::new(200).set_body_json(token_body(huge.clone()))).await;
        let obo = obo_against(&env, &server);
        let e = obo.exchange_on_behalf_of(&user, GRAPH).await.unwrap_err();
        assert!(matches!(e, Error::InvalidResponse { status: 200, .. }), "{huge}: {e}");
    }
    // Long but plausible lifetimes (Entra issues up to about 28 hours) pass.
    for fine in [serde_json::json!(28 * 3600), serde_json::json!("172800")] {
        let server = answering(ResponseTemplate::new(200).set_body_json(token_body(fine))).await;
        let token = obo_against(&env, &server).exchange_on_behalf_of(&user, GRAPH).await.unwrap();
        assert_eq!(token.secret.expose_secret(), "eyJ.issued.token");
    }
}

#[tokio::test]
async fn a_corrupt_cache_entry_is_a_miss() {
    let env = Env::start().await;
    let user = env.user_token(&env.alice);
    for garbage in [
        "18446744073709551615\nUser.Read\neyJ.a.b",
        "99999999999999999999999\nUser.Read\neyJ.a.b",
        "-5\nUser.Read\neyJ.a.b",
        "not a cache entry",
    ] {
        env.mock.clear_requests();
        let obo = env.builder().cache(TamperingCache::returning(garbage)).build().unwrap();
        let token = obo.exchange_on_behalf_of(&user, GRAPH).await.unwrap();
        assert_ne!(token.secret.expose_secret(), "eyJ.a.b", "{garbage:?}");
        assert_eq!(env.token_requests().len(), 1, "{garbage:?}");
    }
}

#[tokio::test]
async fn a_body_larger_than_the_limit_is_refused() {
    let env = Env::start().await;
    let user = env.user_token(&env.alice);
    let big = format!(r#"{{"access_token":"{}","expires_in":3600}}"#, "a".repeat(1 << 20));
    let server = answering(ResponseTemplate::new(200).set_body_string(big.clone())).await;
    let e = obo_against(&env, &server).exchange_on_behalf_of(&user, GRAPH).await.unwrap_err();
    assert!(matches!(e, Error::InvalidResponse { status: 200, .. }), "{e}");
    assert!(e.to_string().contains("larger than the limit"), "{e}");
    // An error document too.
    let server = answering(ResponseTemplate::new(400).set_body_string(big.clone())).await;
    let e = obo_against(&env, &server).exchange_on_behalf_of(&user, GRAPH).await.unwrap_err();
    assert!(matches!(e, Error::InvalidResponse { status: 400, .. }), "{e}");
    // The limit is configurable, and a body within it is read.
    let small = answering(ResponseTemplate::new(200).set_body_json(token_body(3600.into()))).await;
    let cloud_small = Cloud::custom(&small.uri(), &small.uri()).unwrap();
    let build = |cloud: Cloud, limit| {
        env.builder_with(
            Authority::new(cloud, Tenant::Id(env.mock.tenant_id())),
            ClientCredential::secret(Secret::new(API_SECRET)),
        )
        .max_response_size(limit)
        .build()
        .unwrap()
    };
    build(cloud_small.clone(), 4096).exchange_on_behalf_of(&user, GRAPH).await.unwrap();
    let e = build(cloud_small, 16).exchange_on_behalf_of(&user, GRAPH).await.unwrap_err();
    assert!(matches!(e, Error::InvalidResponse { status: 200, .. }), "{e}");
}

/// A one-connection HTTP/1.1 server answering 200 with a chunked body (no
/// `Content-Length`) of `chunks` chunks of 16 KiB, for the streaming cap.
async fn chunked_server(chunks: usize) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let uri = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut request = vec![0; 64 * 1024];
        let _ = socket.read(&mut request).await;
        let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n";
        socket.write_all(head.as_bytes()).await.unwrap();
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
    let env = Env::start().await;
    let user = env.user_token(&env.alice);
    let uri = chunked_server(64).await; // 1 MiB, without Content-Length
    let cloud = Cloud::custom(&uri, &uri).unwrap();
    let obo = env
        .builder_with(
            Authority::new(cloud, Tenant::Id(env.mock.tenant_id())),
            ClientCredential::secret(Secret::new(API_SECRET)),
        )
        .max_attempts(1)
        .build()
        .unwrap();
    let e = obo.exchange_on_behalf_of(&user, GRAPH).await.unwrap_err();
    assert!(matches!(e, Error::InvalidResponse { status: 200, .. }), "{e}");
    assert!(e.to_string().contains("larger than the limit"), "{e}");
}

#[tokio::test]
async fn a_redirecting_token_endpoint_is_not_followed() {
    let env = Env::start().await;
    let user = env.user_token(&env.alice);
    let elsewhere =
        answering(ResponseTemplate::new(200).set_body_json(token_body(3600.into()))).await;
    for status in [307, 308, 302] {
        let server = answering(
            ResponseTemplate::new(status)
                .insert_header("Location", format!("{}/steal", elsewhere.uri()).as_str()),
        )
        .await;
        let e = obo_against(&env, &server).exchange_on_behalf_of(&user, GRAPH).await.unwrap_err();
        assert!(matches!(e, Error::InvalidResponse { .. }), "{status}: {e}");
        assert!(e.to_string().contains("redirected"), "{e}");
        assert_eq!(received(&server).await, 1);
    }
    assert_eq!(received(&elsewhere).await, 0, "the secret and the user token went elsewhere");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_that_gives_up_leaves_no_flight_behind() {
    let env = Env::start().await;
    let obo = env.obo();
    let user = env.user_token(&env.alice);
    env.mock.fail_next(1, Fault::delay(Duration::from_millis(500)));
    let gave_up =
        tokio::time::timeout(Duration::from_millis(50), obo.exchange_on_behalf_of(&user, GRAPH))
            .await;
    assert!(gave_up.is_err(), "the caller should have timed out first");
    // The request goes on without any caller and leaves the map when it ends.
    for _ in 0..500 {
        if obo.in_flight() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(obo.in_flight(), 0, "the abandoned flight is still in the map");
    // Its token was cached: the next caller makes no request.
    obo.exchange_on_behalf_of(&user, GRAPH).await.unwrap();
    assert_eq!(env.token_requests().len(), 1);
}

/// A cache whose second read panics: the first read is the caller's, the second
/// one happens inside the request task.
#[derive(Debug, Default)]
struct PanicsInTheTask(AtomicUsize);

#[async_trait]
impl TokenCache for PanicsInTheTask {
    async fn get(&self, _: &str) -> Result<Option<Secret>, StoreError> {
        assert!(self.0.fetch_add(1, Ordering::SeqCst).is_multiple_of(2), "cache backend bug");
        Ok(None)
    }
    async fn put(&self, _: &str, _: Secret, _: Duration) -> Result<(), StoreError> {
        Ok(())
    }
    async fn remove(&self, _: &str) -> Result<(), StoreError> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_in_the_request_task_is_a_typed_error() {
    let env = Env::start().await;
    let cache = Arc::new(PanicsInTheTask::default());
    let obo = env.builder().cache(cache).build().unwrap();
    let user = env.user_token(&env.alice);
    let e = obo.exchange_on_behalf_of(&user, GRAPH).await.unwrap_err();
    assert!(matches!(e, Error::ExchangeTask { reason: "panicked" }), "{e}");
    assert_eq!(obo.in_flight(), 0);
    assert!(env.token_requests().is_empty());
}
