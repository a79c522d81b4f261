//! What a standalone mock needs, in process: TLS, a public base URL, Entra-shaped
//! token responses, loopback redirect URIs, sessions and front-channel logout,
//! and a bounded request record.

use entra_testkit::{MockEntra, RecordLimits, TestApp, TestUser};
use serde_json::Value;

use crate::common::peek;

#[tokio::test]
async fn tls_serves_every_url_over_https_with_the_generated_ca() {
    let mock = MockEntra::builder().tls(true).start().await.unwrap();
    assert!(mock.uri().starts_with("https://127.0.0.1:"));
    let ca = mock.ca_pem().unwrap();
    assert!(ca.starts_with("-----BEGIN CERTIFICATE-----"));
    let client = mock.http_client();
    let doc: Value =
        client.get(mock.authority().v2_discovery_url()).send().await.unwrap().json().await.unwrap();
    for k in
        ["issuer", "token_endpoint", "jwks_uri", "authorization_endpoint", "end_session_endpoint"]
    {
        assert!(doc[k].as_str().unwrap().starts_with("https://127.0.0.1:"), "{k}: {}", doc[k]);
    }
    // A client that does not trust the CA cannot connect.
    let untrusting = reqwest::Client::new();
    assert!(untrusting.get(mock.authority().v2_discovery_url()).send().await.is_err());
    // Plain HTTP by default.
    assert!(MockEntra::start().await.ca_pem().is_none());
}

#[tokio::test]
async fn public_base_url_is_what_the_mock_publishes() {
    let mock = MockEntra::builder()
        .tls(true)
        .public_base_url("https://mock-entra.test:9443")
        .start()
        .await
        .unwrap();
    assert_eq!(mock.uri(), "https://mock-entra.test:9443");
    assert!(mock.local_uri().starts_with("https://127.0.0.1:"));
    let url =
        format!("{}/{}/v2.0/.well-known/openid-configuration", mock.local_uri(), mock.tenant_id());
    let doc: Value = mock.http_client().get(url).send().await.unwrap().json().await.unwrap();
    let base = format!("https://mock-entra.test:9443/{}", mock.tenant_id());
    assert_eq!(doc["issuer"], format!("{base}/v2.0"));
    assert_eq!(doc["token_endpoint"], format!("{base}/oauth2/v2.0/token"));
    assert_eq!(doc["jwks_uri"], format!("{base}/discovery/v2.0/keys"));
    let alice = mock.add_user(TestUser::new("alice@contoso.com"));
    let claims = peek(&mock.access_token(&alice, &mock.default_api()));
    assert_eq!(claims["iss"], format!("{base}/v2.0"));
    // Only an origin can be a base URL.
    for bad in ["https://mock.test/entra", "https://mock.test?x=1", "ftp://mock.test", "not a url"]
    {
        let e = MockEntra::builder().public_base_url(bad).start().await.unwrap_err();
        assert!(matches!(e, entra_testkit::Error::PublicBaseUrl(_)), "{bad}: {e}");
    }
}

/// Signs `user` in to `app` through the authorize endpoint; returns the redirect.
async fn authorize(
    mock: &MockEntra,
    app: &TestApp,
    redirect: &str,
    extra: &[(&str, &str)],
) -> reqwest::Response {
    let mut url = url::Url::parse(&mock.authority().authorize_url()).unwrap();
    url.query_pairs_mut()
        .append_pair("client_id", app.client_id.as_str())
        .append_pair("response_type", "code")
        .append_pair("redirect_uri", redirect)
        .append_pair("scope", "openid profile offline_access User.Read")
        .extend_pairs(extra);
    mock.http_client().get(url.as_str()).send().await.unwrap()
}

fn query(location: &str) -> Vec<(String, String)> {
    url::Url::parse(location)
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn get(q: &[(String, String)], k: &str) -> Option<String> {
    q.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
}

#[tokio::test]
async fn public_client_on_a_loopback_port_gets_entra_shaped_tokens() {
    let mock = MockEntra::start().await;
    let alice = mock.add_user(TestUser::new("alice@contoso.com"));
    let public = mock.default_public_client();
    assert!(public.is_public_client() && public.client_secret().is_none());
    // http://localhost is registered: any port matches.
    let redirect = "http://localhost:53123";
    let r = authorize(
        &mock,
        &public,
        redirect,
        &[("login_hint", "alice@contoso.com"), ("client_info", "1")],
    )
    .await;
    assert_eq!(r.status(), 302);
    let q = query(r.headers()["location"].to_str().unwrap());
    let info = get(&q, "client_info").unwrap();
    let info: Value = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, info).unwrap(),
    )
    .unwrap();
    assert_eq!(
        (info["uid"].as_str(), info["utid"].as_str()),
        (Some(alice.oid.as_str()), Some(alice.tid.as_str()))
    );
    let form = [
        ("grant_type", "authorization_code".to_owned()),
        ("client_id", public.client_id.to_string()),
        ("code", get(&q, "code").unwrap()),
        ("redirect_uri", redirect.to_owned()),
        ("client_info", "1".to_owned()),
    ];
    let body: Value = mock
        .http_client()
        .post(mock.token_url())
        .form(&form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for k in [
        "access_token",
        "id_token",
        "refresh_token",
        "client_info",
        "scope",
        "expires_in",
        "ext_expires_in",
    ] {
        assert!(!body[k].is_null(), "no {k} in {body}");
    }
    let id = peek(body["id_token"].as_str().unwrap());
    assert_eq!(id["login_hint"], alice.login_hint());
    assert!(id["sid"].as_str().is_some_and(|s| s.len() == 36));
    // The login_hint claim works as login_hint, as Entra's does.
    let r =
        authorize(&mock, &public, "http://127.0.0.1:40000", &[("login_hint", &alice.login_hint())])
            .await;
    assert!(get(&query(r.headers()["location"].to_str().unwrap()), "code").is_some());

    // Without client_info=1 there is none; without openid no ID token.
    let r = authorize(&mock, &public, redirect, &[("login_hint", "alice@contoso.com")]).await;
    let q = query(r.headers()["location"].to_str().unwrap());
    assert!(get(&q, "client_info").is_none());
    // Other hosts, paths or schemes are not the registered loopback URI.
    for bad in
        ["http://localhost:53123/other", "https://localhost:53123", "http://evil.example:53123"]
    {
        let r = authorize(&mock, &public, bad, &[("login_hint", "alice@contoso.com")]).await;
        assert_eq!(r.status(), 400, "{bad}");
        assert!(r.text().await.unwrap().contains("AADSTS50011"));
    }
}

#[tokio::test]
async fn sign_out_calls_the_front_channel_logout_urls_of_the_session() {
    // A second mock stands in for the app's server: it records the call.
    let app_server = MockEntra::start().await;
    let mock = MockEntra::start().await;
    let alice = mock.add_user(TestUser::new("alice@contoso.com"));
    let bob = mock.add_user(TestUser::new("bob@contoso.com"));
    let web = mock.register_app(
        mock.default_client()
            .front_channel_logout_url(format!("{}/signout-oidc", app_server.uri())),
    );
    mock.set_auto_login(Some(&alice));
    let r = authorize(&mock, &web, "http://localhost/callback", &[]).await;
    assert_eq!(r.status(), 302);
    let sid =
        peek(&mock.id_token(&alice, &web.client_id, None))["sid"].as_str().unwrap().to_owned();

    // Signing Bob out does not call the app: Bob has no session with it.
    let logout = |hint: String| {
        let mut url = url::Url::parse(&mock.authority().logout_url()).unwrap();
        url.query_pairs_mut().append_pair("logout_hint", &hint);
        mock.http_client().get(url.as_str()).send()
    };
    assert_eq!(logout(bob.login_hint()).await.unwrap().status(), 200);
    assert_eq!(app_server.count("/signout-oidc"), 0);
    assert_eq!(logout(alice.login_hint()).await.unwrap().status(), 200);
    let calls = app_server.requests();
    let call = calls.iter().find(|r| r.path == "/signout-oidc").unwrap();
    assert_eq!(call.query_value("sid"), Some(sid.as_str()));
    assert_eq!(call.query_value("iss"), Some(mock.v2_issuer(&alice.tid).as_str()));
    // The session ended: a new one has a new sid, and nothing more is called.
    let new_sid =
        peek(&mock.id_token(&alice, &web.client_id, None))["sid"].as_str().unwrap().to_owned();
    assert_ne!(new_sid, sid);
    assert_eq!(logout(alice.login_hint()).await.unwrap().status(), 200);
    assert_eq!(app_server.count("/signout-oidc"), 1);

    // The control API calls it on demand and says what the app answered.
    let url = format!("{}/_mock/logout", mock.uri());
    let body =
        serde_json::json!({"user": "alice@contoso.com", "client_id": web.client_id.as_str()});
    let r: Value =
        mock.http_client().post(url).json(&body).send().await.unwrap().json().await.unwrap();
    assert_eq!(r["called"][0]["status"], 404, "{r}");
    assert_eq!(app_server.count("/signout-oidc"), 2);
}

#[tokio::test]
async fn forty_posts_of_five_megabytes_leave_the_record_within_its_budget() {
    let mock = MockEntra::start().await;
    let big = vec![b'a'; 5 << 20];
    for _ in 0..40 {
        let r = mock
            .http_client()
            .post(mock.token_url())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(big.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 413);
    }
    let budget = RecordLimits::default().bytes;
    assert!(mock.recorded_bytes() <= budget);
    assert!(
        mock.recorded_bytes() < 64 << 10,
        "refused bodies are not kept: {}",
        mock.recorded_bytes()
    );
    let recorded = mock.requests();
    assert_eq!(recorded.len(), 40);
    assert!(
        recorded.iter().all(|r| r.body.is_empty() && r.body_len == 5 << 20 && r.body_truncated)
    );

    // Bodies under the limit are kept up to the per-body cap, the oldest dropped
    // beyond the byte budget.
    let limits = RecordLimits::new(1000, 1 << 20, 64 << 10);
    let mock = MockEntra::builder().record_limits(limits).start().await.unwrap();
    let body = vec![b'a'; 900 << 10];
    for _ in 0..40 {
        let r = mock.http_client().post(mock.token_url()).body(body.clone()).send().await.unwrap();
        assert_eq!(r.status(), 400, "a body within the limit reaches the token endpoint");
    }
    assert!(mock.recorded_bytes() <= 1 << 20, "{}", mock.recorded_bytes());
    let recorded = mock.requests();
    assert!(recorded.len() < 40 && !recorded.is_empty());
    assert!(recorded.iter().all(|r| r.body.len() == 64 << 10 && r.body_len == 900 << 10));
    // A tighter body limit refuses sooner.
    let mock = MockEntra::builder().max_body_bytes(1000).start().await.unwrap();
    let r = mock.http_client().post(mock.token_url()).body(vec![b'a'; 1001]).send().await.unwrap();
    assert_eq!(r.status(), 413);
    let r = mock.http_client().post(mock.token_url()).body(vec![b'a'; 1000]).send().await.unwrap();
    assert_eq!(r.status(), 400);
}

#[tokio::test]
async fn control_api_is_served_in_process_too() {
    let mock = MockEntra::builder().tls(true).start().await.unwrap();
    let c = mock.http_client();
    let settings: Value =
        c.get(format!("{}/_mock", mock.uri())).send().await.unwrap().json().await.unwrap();
    assert_eq!(settings["tenant_id"], mock.tenant_id().as_str());
    assert_eq!(settings["default_public_client"], mock.default_public_client().client_id.as_str());
    let seeded: Value = c
        .post(format!("{}/_mock/seed", mock.uri()))
        .json(
            &serde_json::json!({"users": [{"username": "erin@contoso.com", "random_groups": 201}]}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(seeded["users"][0]["groups"].as_array().unwrap().len(), 201);
    assert_eq!(mock.find_user("erin@contoso.com").unwrap().groups.len(), 201);
    assert!(mock.requests().is_empty(), "control calls are not recorded");
}
