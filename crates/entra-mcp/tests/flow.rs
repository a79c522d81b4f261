//! The whole flow with a scripted browser: discovery, registration, consent,
//! Entra sign-in, code, token, a protected call with On-Behalf-Of, refresh.

use crate::support::{AuthRequest, LOOPBACK_REDIRECT, Server, error_of};

#[tokio::test(flavor = "multi_thread")]
async fn a_registered_client_gets_an_entra_token_that_the_server_accepts() {
    let s = Server::start().await;
    // Discovery: the resource names the facade; the facade's metadata.
    let prm: serde_json::Value = s
        .http
        .get(s.url("/.well-known/oauth-protected-resource/mcp"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(prm["authorization_servers"], serde_json::json!([s.base]));
    for path in ["/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"] {
        let meta: serde_json::Value =
            s.http.get(s.url(path)).send().await.unwrap().json().await.unwrap();
        assert_eq!(meta["issuer"], s.base.as_str());
        assert_eq!(meta["registration_endpoint"], s.url("/oauth/register"));
        assert_eq!(meta["code_challenge_methods_supported"], serde_json::json!(["S256"]));
        assert_eq!(meta["token_endpoint_auth_methods_supported"], serde_json::json!(["none"]));
    }
    // Without a token: the challenge points at the metadata.
    let refused = s.http.post(s.url("/mcp")).send().await.unwrap();
    assert_eq!(refused.status(), 401);

    let client_id = s.register(&[LOOPBACK_REDIRECT]).await;
    // Any loopback port matches the registered loopback URI.
    let request = AuthRequest::new(&client_id, "http://127.0.0.1:49152/callback");
    let page = s
        .http
        .get(format!("{}?{}", s.url("/oauth/authorize"), request.query()))
        .send()
        .await
        .unwrap();
    assert_eq!(page.headers()["x-frame-options"], "DENY", "the consent page is never framed");
    assert!(
        page.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
    assert_eq!(page.headers()["cache-control"], "no-store");
    let consent = s.consent_page(&request).await;
    assert!(consent.html.contains("Test client"));
    assert!(consent.html.contains("127.0.0.1"));
    assert!(consent.html.contains("offline_access"));
    let code = s.code_for_consent(&request, &consent).await;
    let r = s.redeem(&request, &code, &request.verifier).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let tokens: serde_json::Value = r.json().await.unwrap();
    assert_eq!(tokens["token_type"], "Bearer");
    assert!(tokens["expires_in"].as_i64().unwrap() > 0);
    let access = tokens["access_token"].as_str().unwrap();
    let handle = tokens["refresh_token"].as_str().unwrap();
    assert!(!handle.contains('.'), "an opaque handle, not Entra's refresh token");

    // The token is Entra's, for this API: the bearer layer accepts it and OBO works.
    let ok = s.http.post(s.url("/mcp")).bearer_auth(access).send().await.unwrap();
    assert_eq!(ok.status(), 200);
    let text = ok.text().await.unwrap();
    assert!(text.starts_with(&s.user.oid), "{text}");
    assert!(text.contains("User.Read"), "{text}");

    // Refresh rotates the handle; the old one is refused.
    let r = s.refresh(&client_id, handle).await;
    assert_eq!(r.status(), 200);
    let again: serde_json::Value = r.json().await.unwrap();
    let rotated = again["refresh_token"].as_str().unwrap();
    assert_ne!(rotated, handle);
    let ok = s.http.post(s.url("/mcp")).bearer_auth(again["access_token"].as_str().unwrap());
    assert_eq!(ok.send().await.unwrap().status(), 200);
    assert_eq!(error_of(s.refresh(&client_id, handle).await).await, (400, "invalid_grant".into()));
    // A handle is bound to its client.
    assert_eq!(
        error_of(s.refresh("mcp-other", rotated).await).await,
        (400, "invalid_grant".into())
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_user_can_deny() {
    let s = Server::start().await;
    let client_id = s.register(&[LOOPBACK_REDIRECT]).await;
    let request = AuthRequest::new(&client_id, LOOPBACK_REDIRECT);
    let consent = s.consent_page(&request).await;
    let r = s
        .http
        .post(s.url("/oauth/consent"))
        .header("cookie", &consent.cookie)
        .form(&[("txn", consent.txn.as_str()), ("csrf_token", &consent.csrf), ("decision", "deny")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let to = crate::support::location(&r);
    assert!(to.starts_with(LOOPBACK_REDIRECT), "{to}");
    assert!(to.contains("error=access_denied") && to.contains("state=client-state-1"), "{to}");
    assert!(!to.contains("code="));
}

#[tokio::test(flavor = "multi_thread")]
async fn browser_clients_may_register_and_redeem_cross_origin() {
    let s = Server::start().await;
    for path in ["/oauth/register", "/oauth/token"] {
        let r = s
            .http
            .request(reqwest::Method::OPTIONS, s.url(path))
            .header("origin", "https://inspector.example")
            .header("access-control-request-method", "POST")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 204, "{path}");
        assert_eq!(r.headers()["access-control-allow-origin"], "*");
    }
    let r = s
        .http
        .post(s.url("/oauth/token"))
        .form(&[("grant_type", "password")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
    assert_eq!(error_of(r).await, (400, "unsupported_grant_type".into()));
    // The consent and callback pages are not for other origins.
    let r = s.http.request(reqwest::Method::OPTIONS, s.url("/oauth/consent")).send().await.unwrap();
    assert!(r.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_paths_the_facade_does_not_own_reach_the_app() {
    let s = Server::start().await;
    assert_eq!(s.http.get(s.url("/elsewhere")).send().await.unwrap().status(), 404);
    assert_eq!(s.http.post(s.url("/mcp")).send().await.unwrap().status(), 401);
}

/// A store that always fails, as Redis does when it is down.
#[derive(Debug)]
struct Down;

#[async_trait::async_trait]
impl entra_core::SecretStore for Down {
    async fn put(
        &self,
        _: &str,
        _: entra_core::Secret,
        _: std::time::Duration,
    ) -> Result<(), entra_core::StoreError> {
        Err(entra_core::StoreError::new("test store", "down"))
    }
    async fn get(&self, _: &str) -> Result<Option<entra_core::Secret>, entra_core::StoreError> {
        Err(entra_core::StoreError::new("test store", "down"))
    }
    async fn take(&self, _: &str) -> Result<Option<entra_core::Secret>, entra_core::StoreError> {
        Err(entra_core::StoreError::new("test store", "down"))
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_store_is_unavailable_not_a_refusal() {
    let s = Server::start_with(|b| b.store(Down)).await;
    let r = s
        .http
        .post(s.url("/oauth/register"))
        .json(&serde_json::json!({ "redirect_uris": [LOOPBACK_REDIRECT] }))
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(r).await, (503, "temporarily_unavailable".into()));
    let request = AuthRequest::new("mcp-any", LOOPBACK_REDIRECT);
    let r = s
        .http
        .get(format!("{}?{}", s.url("/oauth/authorize"), request.query()))
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(r).await, (503, "temporarily_unavailable".into()));
}
