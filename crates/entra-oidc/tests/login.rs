//! Successful sign-ins: query and form_post callbacks, API scope, refresh, logout.

use std::time::Duration;

use entra_core::Secret;
use entra_oidc::{CallbackParams, Error, LoginOptions, Prompt, ResponseMode, UserGroups};
use entra_testkit::TestUser;

use crate::support::{
    CompleteOwn as _, Env, REDIRECT, SECRET, authorize, authorize_location, browser,
    form_post_body, jwt_claims,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_login_with_query_callback() {
    let env = Env::start().await;
    let client = env.client(env.config());
    let login = client
        .begin_with(LoginOptions::new("/teams?tab=mine").login_hint(&env.alice.username))
        .await
        .unwrap();

    // The authorization request Entra receives.
    let url = url::Url::parse(login.url()).unwrap();
    let q = |name: &str| url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned());
    assert_eq!(q("response_type").as_deref(), Some("code"));
    assert_eq!(q("client_id").as_deref(), Some(env.app.client_id.as_str()));
    assert_eq!(q("redirect_uri").as_deref(), Some(REDIRECT));
    assert_eq!(q("scope").as_deref(), Some("openid profile email"));
    assert_eq!(q("response_mode").as_deref(), Some("query"));
    assert_eq!(q("code_challenge_method").as_deref(), Some("S256"));
    assert_eq!(q("code_challenge").unwrap().len(), 43);
    assert_eq!(q("state").as_deref(), Some(login.state()));
    assert!(q("state").unwrap().len() >= 43 && q("nonce").unwrap().len() >= 43);
    assert_ne!(q("state"), q("nonce"));
    assert_eq!(q("login_hint").as_deref(), Some(env.alice.username.as_str()));

    let params = authorize(login.url()).await;
    let signed_in = client.complete_own(&params).await.unwrap();

    let user = signed_in.user();
    assert_eq!(user.tenant_id(), &env.alice.tid);
    assert_eq!(user.object_id(), env.alice.oid.to_ascii_lowercase());
    assert_eq!(user.name(), Some("Alice"));
    assert_eq!(user.address(), Some("alice@contoso.com"));
    assert!(user.has_role("Admin"));
    assert_eq!(signed_in.return_to(), "/teams?tab=mine");
    let tokens = signed_in.tokens();
    assert!(tokens.id_token().is_some());
    assert!(tokens.access_token().is_some());
    assert!(tokens.refresh_token().is_none(), "no offline_access, no refresh token");

    // Secrets never print.
    let printed = format!("{signed_in:?} {params:?} {client:?} {login:?}");
    for secret in [
        tokens.id_token().unwrap().expose_secret(),
        tokens.access_token().unwrap().secret.expose_secret(),
        params.code.as_ref().unwrap().expose_secret(),
        login.state(),
        SECRET,
    ] {
        assert!(!printed.contains(secret));
    }

    // The code redemption carried everything Entra needs.
    let requests = env.mock.token_requests();
    assert_eq!(requests.len(), 1);
    let r = &requests[0];
    assert_eq!(r.form_value("grant_type"), Some("authorization_code"));
    assert_eq!(r.form_value("client_id"), Some(env.app.client_id.as_str()));
    assert_eq!(r.form_value("client_secret"), Some(SECRET));
    assert_eq!(r.form_value("redirect_uri"), Some(REDIRECT));
    assert_eq!(r.form_value("scope"), Some("openid profile email"));
    assert_eq!(
        r.form_value("code").map(str::len),
        params.code.as_ref().map(|c| c.expose_secret().len())
    );
    assert_eq!(r.form_value("code_verifier").map(str::len), Some(43));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn form_post_callback_with_prompt_and_domain_hint() {
    let env = Env::start().await;
    let mut config = env.config();
    config.response_mode = ResponseMode::FormPost;
    config.domain_hint = Some("contoso.com".into());
    let client = env.client(config);
    let login = client
        .begin_with(LoginOptions::new("/").login_hint(&env.alice.username).prompt(Prompt::Login))
        .await
        .unwrap();
    let url = url::Url::parse(login.url()).unwrap();
    let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    assert!(pairs.contains(&("response_mode".into(), "form_post".into())));
    assert!(pairs.contains(&("prompt".into(), "login".into())));
    assert!(pairs.contains(&("domain_hint".into(), "contoso.com".into())));

    // Entra answers with an auto-submitting form; the browser POSTs it.
    let page = browser().get(login.url()).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let body = form_post_body(&page.text().await.unwrap());
    let params = CallbackParams::from_form(body.as_bytes()).unwrap();
    let signed_in = client.complete_own(&params).await.unwrap();
    assert_eq!(signed_in.user().key().oid, env.alice.oid.to_ascii_lowercase());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_scope_refresh_and_groups() {
    let env = Env::start().await;
    let api = env.mock.default_api();
    let bob = env.mock.add_user(TestUser::new("bob@contoso.com").groups(["g-1", "g-2"]));
    let mut config = env.config();
    config.offline_access = true;
    config.api_scope = Some(format!("{}/access_as_user", api.app_id_uri()));
    let client = env.client(config);
    assert_eq!(
        client.scope(),
        format!("openid profile email offline_access {}/access_as_user", api.app_id_uri())
    );

    let login = client.begin_with(LoginOptions::new("/").login_hint(&bob.username)).await.unwrap();
    let signed_in = client.complete_own(&authorize(login.url()).await).await.unwrap();
    assert_eq!(signed_in.user().groups(), &UserGroups::Listed(vec!["g-1".into(), "g-2".into()]));

    // The access token is for the API (usable later for On-Behalf-Of).
    let access = signed_in.tokens().access_token().unwrap();
    let claims = jwt_claims(access.secret.expose_secret());
    assert_eq!(claims["aud"], api.client_id.as_str());
    assert_eq!(claims["scp"], "access_as_user");
    assert!(access.expires_at > std::time::SystemTime::now() - Duration::from_secs(60));

    // Refresh: a new access token and a new refresh token.
    let rt = signed_in.tokens().refresh_token().unwrap().clone();
    env.clock.advance(Duration::from_secs(1800));
    let refreshed = client.refresh(&rt).await.unwrap();
    let new_access = refreshed.access_token().unwrap();
    assert_ne!(new_access.secret, access.secret);
    assert!(new_access.expires_at > access.expires_at);
    assert!(refreshed.refresh_token().is_some());
    assert!(refreshed.id_token().is_none());
    let last = env.mock.token_requests().pop().unwrap();
    assert_eq!(last.form_value("grant_type"), Some("refresh_token"));
    assert_eq!(last.form_value("refresh_token"), Some(rt.expose_secret()));
    assert_eq!(last.form_value("client_secret"), Some(SECRET));

    // A revoked refresh token (the user signed out everywhere, an admin revoked
    // sessions): refused, sign in again.
    let rt = refreshed.refresh_token().unwrap().clone();
    env.mock.revoke_refresh_tokens(&bob.oid);
    let err = client.refresh(&rt).await.unwrap_err();
    assert_eq!(err.entra_error().unwrap().kind(), entra_core::ErrorKind::InvalidGrant, "{err:?}");

    // A refresh token Entra does not know: refused with a remedy.
    let err = client.refresh(&Secret::new("not-a-refresh-token")).await.unwrap_err();
    assert!(matches!(err, Error::TokenRequest(_)), "{err:?}");
    assert!(err.is_unauthorized() && !err.is_transient());
    assert!(err.remedy().unwrap().contains("sign the user in again"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_url_and_discovery_cache() {
    let env = Env::start().await;
    let mut config = env.config();
    config.post_logout_redirect_uri = Some("http://localhost:3000/".into());
    let client = env.client(config);
    let url = client.logout_url(Some("hint-value")).await.unwrap();
    assert!(url.starts_with(&format!("{}/oauth2/v2.0/logout?", env.mock.authority().base_url())));
    let parsed = url::Url::parse(&url).unwrap();
    let pairs: Vec<(String, String)> = parsed.query_pairs().into_owned().collect();
    assert!(pairs.contains(&("post_logout_redirect_uri".into(), "http://localhost:3000/".into())));
    assert!(pairs.contains(&("logout_hint".into(), "hint-value".into())));
    let resp = browser().get(&url).send().await.unwrap();
    assert_eq!(resp.status(), 302);
    assert!(resp.headers()["location"].to_str().unwrap().starts_with("http://localhost:3000/"));

    // One discovery fetch for many calls, another after the TTL.
    let discovery = "/v2.0/.well-known/openid-configuration";
    client.begin("/").await.unwrap();
    client.begin("/").await.unwrap();
    assert_eq!(env.mock.count(discovery), 1);
    env.clock.advance(Duration::from_secs(86_401));
    client.begin("/").await.unwrap();
    assert_eq!(env.mock.count(discovery), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_binding() {
    let env = Env::start().await;
    let client = env.client(env.config());
    let login =
        client.begin_with(LoginOptions::new("/").login_hint(&env.alice.username)).await.unwrap();
    let params = authorize(login.url()).await;
    // Another browser's cookie (or none): refused, and the state is not consumed.
    for cookie in ["", "another-state"] {
        let err = client.complete(&params, cookie).await.unwrap_err();
        assert!(matches!(err, Error::StateMismatch), "{err:?}");
    }
    client.complete(&params, login.state()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_overage_is_reported() {
    let env = Env::start().await;
    let dana = env.mock.add_user(TestUser::new("dana@contoso.com").with_random_groups(250));
    let client = env.client(env.config());
    let login = client.begin_with(LoginOptions::new("/").login_hint(&dana.username)).await.unwrap();
    let signed_in = client.complete_own(&authorize(login.url()).await).await.unwrap();
    assert_eq!(signed_in.user().groups(), &UserGroups::Overage);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_csrf_callback_of_another_browser_is_refused() {
    let env = Env::start().await;
    let client = env.client(env.config());
    // The attacker signs in as themselves and keeps the callback URL unused.
    let mallory = env.mock.add_user(TestUser::new("mallory@contoso.com"));
    let attacker =
        client.begin_with(LoginOptions::new("/").login_hint(&mallory.username)).await.unwrap();
    let planted = authorize(attacker.url()).await;
    // The victim's browser started its own sign-in and holds its own state cookie.
    let victim =
        client.begin_with(LoginOptions::new("/").login_hint(&env.alice.username)).await.unwrap();

    // Failing: the victim's browser is sent to the attacker's callback, or a
    // browser without the cookie opens it. Refused before any token request.
    for cookie in [victim.state(), ""] {
        let err = client.complete(&planted, cookie).await.unwrap_err();
        assert!(matches!(err, Error::StateMismatch), "{err:?}");
        assert_eq!(err.code(), "state_mismatch");
    }
    assert!(env.mock.token_requests().is_empty());

    // Passing: each browser's own callback signs in its own user.
    let own = authorize(victim.url()).await;
    let signed_in = client.complete(&own, victim.state()).await.unwrap();
    assert_eq!(signed_in.user().object_id(), env.alice.oid.to_ascii_lowercase());
    let theirs = client.complete(&planted, attacker.state()).await.unwrap();
    assert_eq!(theirs.user().object_id(), mallory.oid.to_ascii_lowercase());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorization_response_issuer_is_checked_before_the_code_is_redeemed() {
    let env = Env::start().await;
    let client = env.client(env.config());
    let issuer = env.mock.v2_issuer(&env.mock.tenant_id());
    let begin = || client.begin_with(LoginOptions::new("/").login_hint(&env.alice.username));

    // Passing: `iss` names the authority's issuer (parsed from the query string).
    let login = begin().await.unwrap();
    let location = authorize_location(login.url()).await;
    let with_iss = format!("{location}&iss={}", urlencode(&issuer));
    let params = CallbackParams::from_url(&with_iss).unwrap();
    assert_eq!(params.iss.as_deref(), Some(issuer.as_str()));
    client.complete(&params, login.state()).await.unwrap();
    // Passing: no `iss` (Entra does not send one today).
    let login = begin().await.unwrap();
    client.complete(&authorize(login.url()).await, login.state()).await.unwrap();

    // Failing: another identity provider's issuer (a mix-up), or another tenant's.
    env.mock.clear_requests();
    let other_tenant = env.mock.add_tenant();
    for wrong in [
        "https://evil.example/".to_owned(),
        env.mock.v2_issuer(&other_tenant),
        issuer.replace("/v2.0", ""),
    ] {
        let login = begin().await.unwrap();
        let mut params = authorize(login.url()).await;
        params.iss = Some(wrong.clone());
        let err = client.complete(&params, login.state()).await.unwrap_err();
        assert!(matches!(err, Error::AuthorizationIssuerMismatch { .. }), "{wrong}: {err:?}");
        assert_eq!(err.code(), "authorization_issuer_mismatch");
        assert!(err.is_unauthorized());
        // The pending sign-in is spent: the same callback cannot be retried.
        params.iss = Some(issuer.clone());
        assert!(matches!(client.complete(&params, login.state()).await, Err(Error::UnknownState)));
    }
    // The code was never sent to the token endpoint.
    assert!(env.mock.token_requests().is_empty());
}

fn urlencode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_sends_client_id_and_the_users_hint() {
    let env = Env::start().await;
    let mut config = env.config();
    config.post_logout_redirect_uri = Some("http://localhost:3000/".into());
    let client = env.client(config);
    let login =
        client.begin_with(LoginOptions::new("/").login_hint(&env.alice.username)).await.unwrap();
    let signed_in = client.complete(&authorize(login.url()).await, login.state()).await.unwrap();
    let query = |url: &str| -> Vec<(String, String)> {
        url::Url::parse(url).unwrap().query_pairs().into_owned().collect()
    };
    let client_id = ("client_id".to_owned(), env.app.client_id.to_string());

    // The ID token's `login_hint` claim goes out as `logout_hint`, with client_id.
    let hint = signed_in.user().login_hint().unwrap().to_owned();
    let url = client.logout_url_for(&signed_in).await.unwrap();
    let pairs = query(&url);
    assert!(pairs.contains(&client_id), "{pairs:?}");
    assert!(pairs.contains(&("logout_hint".into(), hint.clone())), "{pairs:?}");
    assert!(!pairs.iter().any(|(k, _)| k == "id_token_hint"));
    // Entra (the mock) knows whose session ends and sends the browser back.
    let resp = browser().get(&url).send().await.unwrap();
    assert_eq!(resp.status(), 302);
    assert!(resp.headers()["location"].to_str().unwrap().starts_with("http://localhost:3000/"));

    // The explicit form: client_id always, the hint when given.
    let pairs = query(&client.logout_url(Some(&hint)).await.unwrap());
    assert!(pairs.contains(&client_id) && pairs.contains(&("logout_hint".into(), hint)));
    let pairs = query(&client.logout_url(None).await.unwrap());
    assert!(pairs.contains(&client_id), "{pairs:?}");
    assert!(!pairs.iter().any(|(k, _)| k == "logout_hint" || k == "id_token_hint"));
}
