//! Registration: accepted metadata, and the limits.

use std::time::Duration;

use entra_core::ManualClock;
use entra_mcp::Limits;

use crate::support::{LOOPBACK_REDIRECT, Server, error_of};

async fn post(s: &Server, body: impl Into<reqwest::Body>) -> reqwest::Response {
    s.http
        .post(s.url("/oauth/register"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn registration_answers_rfc_7591_and_refuses_bad_metadata() {
    let s = Server::start_with(|b| b.allow_https_redirect_origin("https://claude.ai")).await;
    let r = post(&s, r#"{"client_name":"A","redirect_uris":["http://localhost:3000/cb","https://claude.ai/api/mcp/auth_callback"],"token_endpoint_auth_method":"client_secret_post","grant_types":["authorization_code","refresh_token"]}"#).await;
    assert_eq!(r.status(), 201);
    let body: serde_json::Value = r.json().await.unwrap();
    assert!(body["client_id"].as_str().unwrap().starts_with("mcp-"));
    assert_eq!(body["token_endpoint_auth_method"], "none", "public clients only");
    assert!(body.get("client_secret").is_none());
    for (bad, error) in [
        (r#"{"redirect_uris":["https://evil.example/cb"]}"#, "invalid_redirect_uri"),
        (r#"{"redirect_uris":["cursor://x/cb"]}"#, "invalid_redirect_uri"),
        (r#"{"redirect_uris":[]}"#, "invalid_redirect_uri"),
        (r#"{"client_name":"no uris"}"#, "invalid_redirect_uri"),
        (
            r#"{"redirect_uris":["http://127.0.0.1/cb"],"grant_types":["client_credentials"]}"#,
            "invalid_client_metadata",
        ),
        (
            r#"{"redirect_uris":["http://127.0.0.1/cb"],"response_types":["token"]}"#,
            "invalid_client_metadata",
        ),
        ("not json", "invalid_client_metadata"),
    ] {
        assert_eq!(error_of(post(&s, bad).await).await, (400, error.into()), "{bad}");
    }
    let many: Vec<String> = (0..6).map(|i| format!("http://127.0.0.1/cb{i}")).collect();
    let r = post(&s, serde_json::json!({ "redirect_uris": many }).to_string()).await;
    assert_eq!(error_of(r).await, (400, "invalid_redirect_uri".into()));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_oversize_registration_is_refused() {
    let s = Server::start().await;
    let padding = "x".repeat(9000);
    let big = format!(r#"{{"client_name":"{padding}","redirect_uris":["{LOOPBACK_REDIRECT}"]}}"#);
    assert_eq!(error_of(post(&s, big).await).await, (413, "invalid_client_metadata".into()));
    // Passing: just under the limit.
    let padding = "x".repeat(8000);
    let fits = format!(r#"{{"client_name":"{padding}","redirect_uris":["{LOOPBACK_REDIRECT}"]}}"#);
    let r = post(&s, fits).await;
    assert_eq!(r.status(), 201);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["client_name"].as_str().unwrap().len(), 100, "names are cut");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_registration_flood_is_rate_limited_by_the_clock() {
    let clock = ManualClock::at_unix(1_900_000_000);
    let mut limits = Limits::default();
    limits.registrations_per_minute = 3;
    let c = clock.clone();
    let s = Server::start_with(move |b| b.limits(limits).clock(c)).await;
    let ok = format!(r#"{{"redirect_uris":["{LOOPBACK_REDIRECT}"]}}"#);
    for _ in 0..3 {
        assert_eq!(post(&s, ok.clone()).await.status(), 201);
    }
    let r = post(&s, ok.clone()).await;
    assert_eq!(r.headers()["retry-after"], "60");
    assert_eq!(error_of(r).await, (429, "temporarily_unavailable".into()));
    clock.advance(Duration::from_secs(61));
    assert_eq!(post(&s, ok).await.status(), 201, "a new minute");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_registration_quota_holds() {
    let mut limits = Limits::default();
    limits.max_clients = 2;
    let s = Server::start_with(move |b| b.limits(limits)).await;
    let ok = format!(r#"{{"redirect_uris":["{LOOPBACK_REDIRECT}"]}}"#);
    assert_eq!(post(&s, ok.clone()).await.status(), 201);
    assert_eq!(post(&s, ok.clone()).await.status(), 201);
    assert_eq!(error_of(post(&s, ok).await).await, (503, "temporarily_unavailable".into()));
}
