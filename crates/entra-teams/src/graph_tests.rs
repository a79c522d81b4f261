//! Unit tests of `GraphGroupSource` against wiremock, with a static exchanger.

use std::time::{Duration, SystemTime};

use entra_core::{AccessToken, Cloud, EntraClaims, SeamError, Secret, Target, ValidatedToken};
use entra_testkit::doubles::{StaticError, StaticExchanger};
use serde_json::json;
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::*;

/// An exchanger handing out the Graph token the wiremock Graph expects.
fn graph_obo() -> StaticExchanger {
    let expires = SystemTime::now() + Duration::from_secs(3600);
    StaticExchanger::issuing(AccessToken::new(Secret::new("graph-token"), expires, vec![]))
}

/// An exchanger failing transiently or with a refusal of the user's token.
fn failing_obo(transient: bool) -> StaticExchanger {
    StaticExchanger::refusing(if transient {
        StaticError::transient("entra_unavailable")
    } else {
        StaticError::unauthorized("invalid_grant")
    })
}

fn token(oid: &str) -> ValidatedToken {
    let claims: EntraClaims = serde_json::from_value(json!({
        "tid": "72f988bf-86f1-41af-91ab-2d7cd011db47",
        "oid": oid,
        "scp": "access_as_user",
        "_claim_names": {"groups": "src1"},
    }))
    .unwrap();
    entra_core::dangerous::assume_validated(Secret::new("user-token"), claims)
}

const ALICE: &str = "00000000-0000-0000-0000-0000000000aa";
const BOB: &str = "00000000-0000-0000-0000-0000000000bb";

fn ids(n: usize, offset: usize) -> Vec<String> {
    (0..n).map(|i| format!("00000000-0000-4000-8000-{:012x}", i + offset)).collect()
}

fn source(server: &MockServer, obo: StaticExchanger) -> GraphGroupSourceBuilder<StaticExchanger> {
    let cloud = Cloud::custom(&server.uri(), &server.uri()).unwrap();
    GraphGroupSource::builder(obo, &cloud)
}

async fn member_objects(server: &MockServer, response: ResponseTemplate) {
    Mock::given(method("POST"))
        .and(path("/v1.0/me/getMemberObjects"))
        .and(header("authorization", "Bearer graph-token"))
        .and(body_json(json!({"securityEnabledOnly": true})))
        .respond_with(response)
        .mount(server)
        .await;
}

#[tokio::test]
async fn resolves_groups_with_an_obo_token_for_graph() {
    let server = MockServer::start().await;
    let groups = ids(250, 0);
    member_objects(&server, ResponseTemplate::new(200).set_body_json(json!({"value": groups})))
        .await;
    let src = source(&server, graph_obo()).build().unwrap();
    let got = src.groups(&token(ALICE)).await.unwrap();
    assert_eq!(got.len(), 250);
    assert_eq!(got, groups);
    let targets = src.get_ref().targets();
    assert_eq!(targets, [Target::Resource(server.uri())]);
}

#[tokio::test]
async fn security_enabled_only_is_configurable() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1.0/me/getMemberObjects"))
        .and(body_json(json!({"securityEnabledOnly": false})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"value": ids(1, 0)})))
        .expect(1)
        .mount(&server)
        .await;
    let src = source(&server, graph_obo()).security_enabled_only(false).build().unwrap();
    assert_eq!(src.groups(&token(ALICE)).await.unwrap().len(), 1);
}

#[tokio::test]
async fn public_cloud_targets_graph_resource() {
    let cloud = Cloud::Public;
    let src = GraphGroupSource::builder(graph_obo(), &cloud).build().unwrap();
    assert_eq!(src.target, Target::Resource("https://graph.microsoft.com".into()));
    let gov = GraphGroupSource::builder(graph_obo(), &Cloud::UsGovernment).build().unwrap();
    assert_eq!(gov.graph_base, "https://graph.microsoft.us");
}

#[tokio::test]
async fn follows_next_link_on_the_same_host() {
    let server = MockServer::start().await;
    let next = format!("{}/v1.0/me/getMemberObjects/page2?$skiptoken=abc", server.uri());
    member_objects(
        &server,
        ResponseTemplate::new(200)
            .set_body_json(json!({"value": ids(3, 0), "@odata.nextLink": next})),
    )
    .await;
    Mock::given(method("GET"))
        .and(path("/v1.0/me/getMemberObjects/page2"))
        .and(header("authorization", "Bearer graph-token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"value": ids(2, 3)})))
        .expect(1)
        .mount(&server)
        .await;
    let src = source(&server, graph_obo()).build().unwrap();
    assert_eq!(src.groups(&token(ALICE)).await.unwrap(), ids(5, 0));
}

#[tokio::test]
async fn never_follows_a_next_link_to_another_host() {
    let server = MockServer::start().await;
    let elsewhere = MockServer::start().await;
    let next = format!("{}/v1.0/steal", elsewhere.uri());
    member_objects(
        &server,
        ResponseTemplate::new(200)
            .set_body_json(json!({"value": ids(3, 0), "@odata.nextLink": next})),
    )
    .await;
    let src = source(&server, graph_obo()).build().unwrap();
    let err = src.groups(&token(ALICE)).await.unwrap_err();
    assert!(matches!(err, Error::ForeignNextLink), "{err}");
    assert!(elsewhere.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn page_bound_is_enforced() {
    let server = MockServer::start().await;
    let next = format!("{}/v1.0/me/getMemberObjects/again", server.uri());
    member_objects(
        &server,
        ResponseTemplate::new(200)
            .set_body_json(json!({"value": ids(1, 0), "@odata.nextLink": next.clone()})),
    )
    .await;
    Mock::given(method("GET"))
        .and(path("/v1.0/me/getMemberObjects/again"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"value": ids(1, 1), "@odata.nextLink": next})),
        )
        .mount(&server)
        .await;
    let src = source(&server, graph_obo()).max_pages(3).build().unwrap();
    let err = src.groups(&token(ALICE)).await.unwrap_err();
    assert!(matches!(err, Error::TooManyPages { limit: 3 }), "{err}");
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
}

#[tokio::test]
async fn group_cap_fails_instead_of_truncating() {
    let server = MockServer::start().await;
    member_objects(&server, ResponseTemplate::new(200).set_body_json(json!({"value": ids(11, 0)})))
        .await;
    let src = source(&server, graph_obo()).max_groups(10).build().unwrap();
    let err = src.groups(&token(ALICE)).await.unwrap_err();
    assert!(matches!(err, Error::TooManyGroups { limit: 10 }), "{err}");
    let ok = source(&server, graph_obo()).max_groups(11).build().unwrap();
    assert_eq!(ok.groups(&token(ALICE)).await.unwrap().len(), 11);
}

#[tokio::test]
async fn graph_refusal_names_the_permission() {
    for status in [401u16, 403] {
        let server = MockServer::start().await;
        member_objects(
            &server,
            ResponseTemplate::new(status).set_body_json(json!({"error": {
                "code": "Authorization_RequestDenied",
                "message": "Insufficient privileges to complete the operation."
            }})),
        )
        .await;
        let src = source(&server, graph_obo()).build().unwrap();
        let err = src.groups(&token(ALICE)).await.unwrap_err();
        assert!(matches!(err, Error::GraphForbidden { status: s, .. } if s == status), "{err}");
        let text = err.to_string();
        assert!(text.contains("GroupMember.Read.All") && text.contains("admin consent"), "{text}");
        assert!(text.contains("Authorization_RequestDenied"), "{text}");
        assert!(!text.contains("Insufficient privileges"), "graph's message is not echoed");
        assert!(!err.is_transient() && err.is_config());
    }
}

#[tokio::test]
async fn throttling_and_outages_are_transient() {
    let server = MockServer::start().await;
    member_objects(&server, ResponseTemplate::new(429).insert_header("Retry-After", "7")).await;
    let src = source(&server, graph_obo()).build().unwrap();
    let err = src.groups(&token(ALICE)).await.unwrap_err();
    assert!(
        matches!(err, Error::GraphUnavailable { status: 429, retry_after: Some(d) } if d == Duration::from_secs(7)),
        "{err}"
    );
    assert!(err.is_transient());

    let server = MockServer::start().await;
    member_objects(&server, ResponseTemplate::new(503)).await;
    let src = source(&server, graph_obo()).build().unwrap();
    assert!(src.groups(&token(ALICE)).await.unwrap_err().is_transient());

    let server = MockServer::start().await;
    member_objects(&server, ResponseTemplate::new(400).set_body_string("<html>")).await;
    let src = source(&server, graph_obo()).build().unwrap();
    let err = src.groups(&token(ALICE)).await.unwrap_err();
    assert!(matches!(err, Error::GraphStatus { status: 400, code: None }), "{err}");
    assert!(!err.is_transient());
}

#[tokio::test]
async fn timeouts_are_transient() {
    let server = MockServer::start().await;
    member_objects(
        &server,
        ResponseTemplate::new(200)
            .set_body_json(json!({"value": []}))
            .set_delay(Duration::from_secs(5)),
    )
    .await;
    let src = source(&server, graph_obo()).timeout(Duration::from_secs(1)).build().unwrap();
    let err = src.groups(&token(ALICE)).await.unwrap_err();
    assert!(matches!(err, Error::GraphRequest(_)) && err.is_transient(), "{err}");
}

#[tokio::test]
async fn bad_body_is_a_response_error() {
    let server = MockServer::start().await;
    member_objects(&server, ResponseTemplate::new(200).set_body_string("not json")).await;
    let src = source(&server, graph_obo()).build().unwrap();
    let err = src.groups(&token(ALICE)).await.unwrap_err();
    assert!(matches!(err, Error::GraphResponse(_)), "{err}");
}

#[tokio::test]
async fn exchange_failure_is_wrapped_with_its_kind() {
    for transient in [true, false] {
        let server = MockServer::start().await;
        let obo = failing_obo(transient);
        let src = source(&server, obo).build().unwrap();
        let err = src.groups(&token(ALICE)).await.unwrap_err();
        assert!(matches!(err, Error::GraphToken { .. }), "{err}");
        assert_eq!(err.is_transient(), transient);
        assert_eq!(err.is_unauthorized(), !transient);
        let source = std::error::Error::source(&err).unwrap();
        let seam = source.downcast_ref::<SeamError>().unwrap();
        assert!(seam.downcast_ref::<StaticError>().is_some());
        assert!(server.received_requests().await.unwrap().is_empty(), "no graph call");
    }
}

#[tokio::test]
async fn cache_is_per_user_and_skips_errors() {
    let server = MockServer::start().await;
    member_objects(&server, ResponseTemplate::new(200).set_body_json(json!({"value": ids(2, 0)})))
        .await;
    let src = source(&server, graph_obo()).build().unwrap();
    let a1 = src.groups(&token(ALICE)).await.unwrap();
    let a2 = src.groups(&token(ALICE)).await.unwrap();
    assert_eq!(a1, a2);
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
    src.groups(&token(BOB)).await.unwrap();
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
    assert_eq!(src.get_ref().calls(), 2);
    let alice = token(ALICE).claims().identity_key().unwrap();
    src.invalidate(&alice).await;
    src.groups(&token(ALICE)).await.unwrap();
    assert_eq!(server.received_requests().await.unwrap().len(), 3);

    // Without a cache every call asks Graph; errors are never cached.
    let uncached = source(&server, graph_obo()).cache_ttl(Duration::ZERO).build().unwrap();
    uncached.groups(&token(ALICE)).await.unwrap();
    uncached.groups(&token(ALICE)).await.unwrap();
    assert_eq!(server.received_requests().await.unwrap().len(), 5);
    let failing = source(&server, failing_obo(true)).build().unwrap();
    assert!(failing.groups(&token(ALICE)).await.is_err());
    assert!(failing.groups(&token(ALICE)).await.is_err());
    assert_eq!(failing.get_ref().calls(), 2);
}

#[tokio::test]
async fn invalid_bounds_are_rejected() {
    let server = MockServer::start().await;
    let err = source(&server, graph_obo()).max_pages(0).build().unwrap_err();
    assert!(err.to_string().contains("graph.max_pages"), "{err}");
    let err = source(&server, graph_obo()).max_groups(0).build().unwrap_err();
    assert!(err.to_string().contains("graph.max_groups"), "{err}");
}

async fn join_all<T: Send + 'static>(
    tasks: impl Iterator<Item = tokio::task::JoinHandle<T>>,
) -> Vec<T> {
    let mut out = Vec::new();
    for task in tasks.collect::<Vec<_>>() {
        out.push(task.await.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_callers_share_one_lookup() {
    let server = MockServer::start().await;
    member_objects(
        &server,
        ResponseTemplate::new(200)
            .set_body_json(json!({"value": ids(250, 0)}))
            .set_delay(Duration::from_millis(300)),
    )
    .await;
    let src = Arc::new(source(&server, graph_obo()).build().unwrap());
    let tasks = (0..8).map(|_| {
        let src = src.clone();
        tokio::spawn(async move { src.groups(&token(ALICE)).await })
    });
    for result in join_all(tasks).await {
        assert_eq!(result.unwrap().len(), 250);
    }
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
    assert_eq!(src.get_ref().calls(), 1);
    assert!(src.inflight.lock().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_failures_are_not_shared() {
    let server = MockServer::start().await;
    member_objects(&server, ResponseTemplate::new(503).set_delay(Duration::from_millis(200))).await;
    let src = Arc::new(source(&server, graph_obo()).build().unwrap());
    let tasks = (0..4).map(|_| {
        let src = src.clone();
        tokio::spawn(async move { src.groups(&token(ALICE)).await })
    });
    for result in join_all(tasks).await {
        let err = result.unwrap_err();
        assert!(matches!(err, Error::GraphUnavailable { status: 503, .. }), "{err}");
    }
    // Each caller got its own answer from Graph; nothing is cached or left in flight.
    assert_eq!(server.received_requests().await.unwrap().len(), 4);
    assert!(src.inflight.lock().unwrap().is_empty());
    assert!(src.groups(&token(ALICE)).await.is_err());
    assert_eq!(server.received_requests().await.unwrap().len(), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_leader_releases_its_followers() {
    let server = MockServer::start().await;
    member_objects(
        &server,
        ResponseTemplate::new(200)
            .set_body_json(json!({"value": ids(2, 0)}))
            .set_delay(Duration::from_millis(300)),
    )
    .await;
    let src = Arc::new(source(&server, graph_obo()).build().unwrap());
    let leader = {
        let src = src.clone();
        tokio::spawn(async move { src.groups(&token(ALICE)).await })
    };
    // Wait until the leader is registered, then start a follower and cancel the leader.
    while src.inflight.lock().unwrap().is_empty() {
        tokio::task::yield_now().await;
    }
    let follower = {
        let src = src.clone();
        tokio::spawn(async move { src.groups(&token(ALICE)).await })
    };
    leader.abort();
    assert_eq!(follower.await.unwrap().unwrap().len(), 2);
    assert!(src.inflight.lock().unwrap().is_empty());
}

#[tokio::test]
async fn oversized_body_is_refused_without_buffering_it() {
    let server = MockServer::start().await;
    let groups = ids(100, 0);
    let body = serde_json::to_vec(&json!({"value": groups})).unwrap();
    member_objects(&server, ResponseTemplate::new(200).set_body_bytes(body.clone())).await;
    // A cap one byte short of the page fails; a cap of exactly the page passes.
    let src = source(&server, graph_obo())
        .max_response_bytes(body.len() - 1)
        .cache_ttl(Duration::ZERO)
        .build()
        .unwrap();
    let err = src.groups(&token(ALICE)).await.unwrap_err();
    assert!(matches!(err, Error::GraphResponseTooLarge { limit } if limit == body.len() - 1));
    assert!(!err.is_transient() && !err.is_unauthorized(), "{err}");
    let ok = source(&server, graph_obo()).max_response_bytes(body.len()).build().unwrap();
    assert_eq!(ok.groups(&token(ALICE)).await.unwrap(), groups);
}

#[tokio::test]
async fn oversized_error_body_keeps_the_status() {
    let server = MockServer::start().await;
    member_objects(&server, ResponseTemplate::new(403).set_body_string("x".repeat(64 * 1024)))
        .await;
    let src = source(&server, graph_obo()).build().unwrap();
    let err = src.groups(&token(ALICE)).await.unwrap_err();
    assert!(matches!(err, Error::GraphForbidden { status: 403, code: None, .. }), "{err}");
}

/// Serves one chunked response (no `Content-Length`) of about `size` bytes on a
/// raw socket, so the cap is enforced while streaming, not from the header.
async fn chunked_server(size: usize) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut request = Vec::new();
        let mut buf = [0u8; 4096];
        // Read the request head and its small JSON body.
        while !String::from_utf8_lossy(&request).contains("}") {
            let n = socket.read(&mut buf).await.unwrap();
            if n == 0 {
                return;
            }
            request.extend_from_slice(&buf[..n]);
        }
        let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";
        if socket.write_all(head.as_bytes()).await.is_err() {
            return;
        }
        let chunk = format!("\"{}\",", ids(1, 0)[0]);
        let mut sent = 0;
        let mut first = true;
        while sent < size {
            let data = if first { format!("{{\"value\":[{chunk}") } else { chunk.clone() };
            first = false;
            sent += data.len();
            let frame = format!("{:x}\r\n{data}\r\n", data.len());
            if socket.write_all(frame.as_bytes()).await.is_err() {
                return; // The client stopped reading: expected.
            }
        }
        let _ = socket.write_all(b"0\r\n\r\n").await;
    });
    format!("http://{addr}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_chunked_body_is_cut_off_while_streaming() {
    let uri = chunked_server(1024 * 1024).await;
    let cloud = Cloud::custom(&uri, &uri).unwrap();
    let src = GraphGroupSource::builder(graph_obo(), &cloud)
        .max_response_bytes(16 * 1024)
        .build()
        .unwrap();
    let err = src.groups(&token(ALICE)).await.unwrap_err();
    assert!(matches!(err, Error::GraphResponseTooLarge { limit: 16384 }), "{err}");
}
