//! Discovery failures, served by a bare wiremock server (the mock Entra always
//! answers well): outage, garbage, another authority's issuer, stale fallback.

use std::time::Duration;

use entra_core::{Authority, ClientId, Cloud, ManualClock, Tenant, TenantId};
use entra_oidc::{Client, Config, Error};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TID: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CID: &str = "6e74172b-be56-4843-9ff4-e66a39bb12e3";

fn document(base: &str, issuer: &str) -> serde_json::Value {
    serde_json::json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{base}/{TID}/oauth2/v2.0/authorize"),
        "token_endpoint": format!("{base}/{TID}/oauth2/v2.0/token"),
        "end_session_endpoint": format!("{base}/{TID}/oauth2/v2.0/logout"),
        "jwks_uri": format!("{base}/{TID}/discovery/v2.0/keys"),
    })
}

async fn client_for(server: &MockServer, clock: &ManualClock) -> Client {
    let cloud = Cloud::custom(&server.uri(), &server.uri()).unwrap();
    let authority = Authority::new(cloud, Tenant::Id(TenantId::parse(TID).unwrap()));
    let mut config = Config::new(authority, ClientId::parse(CID).unwrap());
    config.redirect_uri = Some("http://localhost/cb".into());
    Client::builder(config).clock(clock.clone()).build().unwrap()
}

fn discovery_path() -> String {
    format!("/{TID}/v2.0/.well-known/openid-configuration")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outage_garbage_and_foreign_issuer() {
    let server = MockServer::start().await;
    let clock = ManualClock::starting_now();
    let client = client_for(&server, &clock).await;

    type Check = fn(&Error) -> bool;
    let cases: Vec<(ResponseTemplate, Check)> = vec![
        (ResponseTemplate::new(503), |e| {
            matches!(e, Error::HttpStatus { status: 503, .. }) && e.is_transient()
        }),
        (ResponseTemplate::new(200).set_body_string("<html>"), |e| {
            matches!(e, Error::InvalidJson { endpoint: "discovery", .. })
                && std::error::Error::source(e).is_some()
                && !e.is_transient()
                && !e.is_unauthorized()
        }),
        (
            ResponseTemplate::new(200).set_body_json(document(
                "http://127.0.0.1:1",
                "https://login.microsoftonline.com/00000000-0000-0000-0000-000000000001/v2.0",
            )),
            |e| matches!(e, Error::DiscoveryIssuerMismatch { .. }),
        ),
    ];
    for (response, expected) in cases {
        server.reset().await;
        Mock::given(method("GET"))
            .and(path(discovery_path()))
            .respond_with(response)
            .mount(&server)
            .await;
        let err = client.begin("/").await.unwrap_err();
        assert!(expected(&err), "{err:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_document_is_used_during_an_outage() {
    let server = MockServer::start().await;
    let clock = ManualClock::starting_now();
    let client = client_for(&server, &clock).await;
    let issuer = format!("{}/{TID}/v2.0", server.uri());
    Mock::given(method("GET"))
        .and(path(discovery_path()))
        .respond_with(ResponseTemplate::new(200).set_body_json(document(&server.uri(), &issuer)))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(discovery_path()))
        .respond_with(ResponseTemplate::new(500))
        .mount(&server)
        .await;

    let first = client.metadata().await.unwrap();
    assert_eq!(first.issuer, issuer);
    assert_eq!(first.tenant_id().unwrap().as_str(), TID);
    // Past the TTL, the refresh fails: the cached document is still served, and the
    // next try waits a minute.
    clock.advance(Duration::from_secs(86_401));
    assert_eq!(client.metadata().await.unwrap().issuer, issuer);
    assert_eq!(client.metadata().await.unwrap().issuer, issuer);
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
    clock.advance(Duration::from_secs(61));
    assert_eq!(client.metadata().await.unwrap().issuer, issuer);
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
}
