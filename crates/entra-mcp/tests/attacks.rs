//! Each attack on the facade, refused; each beside the request that passes.

use crate::support::{AuthRequest, LOOPBACK_REDIRECT, Server, error_of, location};

#[tokio::test(flavor = "multi_thread")]
async fn an_unregistered_redirect_uri_is_refused_without_redirecting() {
    let s = Server::start().await;
    let client_id = s.register(&[LOOPBACK_REDIRECT]).await;
    for bad in [
        "http://127.0.0.1/elsewhere",
        "http://localhost/callback",
        "https://evil.example/callback",
        "http://127.0.0.1/callback?x=1",
    ] {
        let request = AuthRequest::new(&client_id, bad);
        let r = s
            .http
            .get(format!("{}?{}", s.url("/oauth/authorize"), request.query()))
            .send()
            .await
            .unwrap();
        assert!(r.headers().get("location").is_none(), "{bad}: never sent to the attacker");
        assert_eq!(error_of(r).await, (400, "invalid_request".into()), "{bad}");
    }
    // An unknown client: shown, not redirected.
    let request = AuthRequest::new("mcp-unknown", LOOPBACK_REDIRECT);
    let r = s
        .http
        .get(format!("{}?{}", s.url("/oauth/authorize"), request.query()))
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(r).await, (400, "invalid_client".into()));
    // Passing: the registered one.
    s.consent_page(&AuthRequest::new(&client_id, LOOPBACK_REDIRECT)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn pkce_is_required_and_a_wrong_verifier_is_refused() {
    let s = Server::start().await;
    let client_id = s.register(&[LOOPBACK_REDIRECT]).await;
    let request = AuthRequest::new(&client_id, LOOPBACK_REDIRECT);
    // No challenge, or the plain method: sent back as invalid_request.
    for query in [
        format!(
            "response_type=code&client_id={client_id}&redirect_uri={LOOPBACK_REDIRECT}&state=s"
        ),
        format!(
            "response_type=code&client_id={client_id}&redirect_uri={LOOPBACK_REDIRECT}&state=s&code_challenge={}&code_challenge_method=plain",
            request.verifier
        ),
    ] {
        let r = s.http.get(format!("{}?{query}", s.url("/oauth/authorize"))).send().await.unwrap();
        assert_eq!(r.status(), 303);
        let to = location(&r);
        assert!(to.starts_with(LOOPBACK_REDIRECT) && to.contains("error=invalid_request"), "{to}");
    }
    // A code redeemed with another verifier: refused, and the code is spent.
    let code = s.code_for(&request).await;
    let wrong = "w".repeat(64);
    assert_eq!(
        error_of(s.redeem(&request, &code, &wrong).await).await,
        (400, "invalid_grant".into())
    );
    assert_eq!(
        error_of(s.redeem(&request, &code, &request.verifier).await).await,
        (400, "invalid_grant".into())
    );
    // Passing: the right verifier on a fresh code.
    let code = s.code_for(&request).await;
    assert_eq!(s.redeem(&request, &code, &request.verifier).await.status(), 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_code_is_bound_to_its_client_and_redirect_uri() {
    let s = Server::start().await;
    let client_id = s.register(&[LOOPBACK_REDIRECT]).await;
    let request = AuthRequest::new(&client_id, LOOPBACK_REDIRECT);
    let code = s.code_for(&request).await;
    let mut other = AuthRequest::new(&s.register(&[LOOPBACK_REDIRECT]).await, LOOPBACK_REDIRECT);
    other.verifier = request.verifier.clone();
    assert_eq!(error_of(s.redeem(&other, &code, &request.verifier).await).await.1, "invalid_grant");
    let code = s.code_for(&request).await;
    let moved = AuthRequest {
        redirect_uri: "http://127.0.0.1:9/callback".into(),
        ..AuthRequest::new(&client_id, "")
    };
    assert_eq!(error_of(s.redeem(&moved, &code, &request.verifier).await).await.1, "invalid_grant");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_replayed_code_is_refused_and_revokes_what_it_issued() {
    let s = Server::start().await;
    let client_id = s.register(&[LOOPBACK_REDIRECT]).await;
    let request = AuthRequest::new(&client_id, LOOPBACK_REDIRECT);
    let code = s.code_for(&request).await;
    let first = s.redeem(&request, &code, &request.verifier).await;
    assert_eq!(first.status(), 200);
    let tokens: serde_json::Value = first.json().await.unwrap();
    let handle = tokens["refresh_token"].as_str().unwrap();
    // The client refreshes once (the handle rotates), then the code is replayed.
    let rotated: serde_json::Value = s.refresh(&client_id, handle).await.json().await.unwrap();
    let rotated = rotated["refresh_token"].as_str().unwrap();
    assert_eq!(
        error_of(s.redeem(&request, &code, &request.verifier).await).await,
        (400, "invalid_grant".into())
    );
    // The chain of refresh tokens of the first redemption no longer works.
    assert_eq!(error_of(s.refresh(&client_id, rotated).await).await, (400, "invalid_grant".into()));
    // Passing: without a replay, a handle refreshes.
    let code = s.code_for(&request).await;
    let tokens: serde_json::Value =
        s.redeem(&request, &code, &request.verifier).await.json().await.unwrap();
    let r = s.refresh(&client_id, tokens["refresh_token"].as_str().unwrap()).await;
    assert_eq!(r.status(), 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn consent_needs_the_csrf_token_of_its_page() {
    let s = Server::start().await;
    let client_id = s.register(&[LOOPBACK_REDIRECT]).await;
    let request = AuthRequest::new(&client_id, LOOPBACK_REDIRECT);
    let consent = s.consent_page(&request).await;
    let other = s.consent_page(&request).await;
    let post = |cookie: Option<String>, form: Vec<(&'static str, String)>| {
        let mut r = s.http.post(s.url("/oauth/consent")).form(&form);
        if let Some(c) = cookie {
            r = r.header("cookie", c);
        }
        r.send()
    };
    let approve = |csrf: Option<&str>| {
        let mut f = vec![("txn", consent.txn.clone()), ("decision", "approve".to_owned())];
        if let Some(c) = csrf {
            f.push(("csrf_token", c.to_owned()));
        }
        f
    };
    // No token in the form; the token without its cookie; another page's
    // token and cookie; a token and cookie that disagree.
    for (cookie, form) in [
        (Some(consent.cookie.clone()), approve(None)),
        (None, approve(Some(&consent.csrf))),
        (Some(other.cookie.clone()), approve(Some(&other.csrf))),
        (Some(consent.cookie.clone()), approve(Some(&other.csrf))),
    ] {
        let r = post(cookie, form).await.unwrap();
        assert!(r.headers().get("location").is_none());
        assert_eq!(error_of(r).await, (403, "access_denied".into()));
    }
    // Passing: the page's own token and cookie, once.
    let r = post(Some(consent.cookie.clone()), approve(Some(&consent.csrf))).await.unwrap();
    assert_eq!(r.status(), 303);
    let r = post(Some(consent.cookie.clone()), approve(Some(&consent.csrf))).await.unwrap();
    assert_eq!(error_of(r).await, (400, "invalid_request".into()), "taken once");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_callback_without_the_approving_browser_is_refused() {
    let s = Server::start().await;
    let client_id = s.register(&[LOOPBACK_REDIRECT]).await;
    let request = AuthRequest::new(&client_id, LOOPBACK_REDIRECT);
    let consent = s.consent_page(&request).await;
    let r = s
        .http
        .post(s.url("/oauth/consent"))
        .header("cookie", &consent.cookie)
        .form(&[
            ("txn", consent.txn.as_str()),
            ("csrf_token", &consent.csrf),
            ("decision", "approve"),
        ])
        .send()
        .await
        .unwrap();
    let entra = s.http.get(location(&r)).send().await.unwrap();
    // No state cookie: the sign-in is refused and the client gets no code.
    let callback = s.http.get(location(&entra)).send().await.unwrap();
    assert_eq!(callback.status(), 303);
    let to = location(&callback);
    assert!(to.contains("error=access_denied") && !to.contains("code="), "{to}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_expired_code_is_refused_by_the_clock() {
    let clock = entra_core::ManualClock::starting_now();
    let c = clock.clone();
    let s = Server::start_with(move |b| b.clock(c)).await;
    let client_id = s.register(&[LOOPBACK_REDIRECT]).await;
    let request = AuthRequest::new(&client_id, LOOPBACK_REDIRECT);
    let code = s.code_for(&request).await;
    clock.advance(std::time::Duration::from_secs(61));
    assert_eq!(
        error_of(s.redeem(&request, &code, &request.verifier).await).await,
        (400, "invalid_grant".into())
    );
    // Passing: within the minute.
    let code = s.code_for(&request).await;
    clock.advance(std::time::Duration::from_secs(59));
    assert_eq!(s.redeem(&request, &code, &request.verifier).await.status(), 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn scopes_resource_and_response_type_must_be_this_servers() {
    let s = Server::start().await;
    let client_id = s.register(&[LOOPBACK_REDIRECT]).await;
    let request = AuthRequest::new(&client_id, LOOPBACK_REDIRECT);
    let base = request.query().replace("&scope=offline_access", "");
    let scope = format!("api://{}/access_as_user", "00000000-0000-0000-0000-000000000000");
    for (extra, error) in [
        (format!("&scope={}", urlencode(&scope)), "invalid_scope"),
        ("&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default".to_owned(), "invalid_scope"),
        ("&resource=https%3A%2F%2Fother.example%2Fmcp".to_owned(), "invalid_target"),
    ] {
        let r = s
            .http
            .get(format!("{}?{base}{extra}", s.url("/oauth/authorize")))
            .send()
            .await
            .unwrap();
        let to = location(&r);
        assert!(to.contains(&format!("error={error}")), "{extra}: {to}");
    }
    let r = s
        .http
        .get(format!(
            "{}?{}",
            s.url("/oauth/authorize"),
            base.replace("response_type=code", "response_type=token")
        ))
        .send()
        .await
        .unwrap();
    assert!(location(&r).contains("error=unsupported_response_type"));
    // Passing: this server's resource and no scope (all offered scopes).
    let resource = urlencode(&s.url("/mcp"));
    let r = s
        .http
        .get(format!("{}?{base}&resource={resource}", s.url("/oauth/authorize")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("/access_as_user"));
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
