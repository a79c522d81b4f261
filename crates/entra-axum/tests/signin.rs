//! Sign-in routes, sessions, the signed-in-user extractor, refresh and logout.

use std::time::Duration;

use axum::Router;
use axum::routing::get;
use entra_axum::{EntraAuth, User};
use entra_core::{ManualClock, Secret};
use entra_oidc::{Config, ResponseMode};
use entra_testkit::{MockEntra, TestApp, TestUser};
use reqwest::StatusCode;

use crate::support::{Browser, bind, location, serve};

const HTML: &str = "text/html,application/xhtml+xml";
const JSON: &str = "application/json";

async fn me(user: User) -> String {
    let token =
        user.access_token().map(|t| t.secret.expose_secret().to_owned()).unwrap_or_default();
    format!("{}|{}|{}", user.name().unwrap_or(""), user.csrf_token(), token)
}

async fn teams(user: User) -> String {
    let t = user.teams().cloned().unwrap_or_default();
    format!("{:?}|{:?}|{}|{:?}", t.teams, t.role, t.admin, user.roles())
}

async fn session_ids(user: User) -> String {
    format!("{}|{}", user.sid().unwrap_or("-"), user.login_hint().unwrap_or("-"))
}

async fn touch(session: tower_sessions::Session) -> &'static str {
    session.insert("visited", true).await.unwrap();
    "ok"
}

struct Web {
    mock: MockEntra,
    base: String,
    clock: ManualClock,
    alice: TestUser,
}

impl Web {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Signs `browser` in through /login, the mock's authorize endpoint and the
    /// callback; returns the callback URL used.
    async fn sign_in(&self, browser: &mut Browser, return_to: &str) -> String {
        let r = browser.get(&self.url(&format!("/login?return_to={return_to}")), HTML).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let authorize = location(&r);
        let r = browser.get(&authorize, HTML).await;
        assert_eq!(r.status(), StatusCode::FOUND, "{:?}", r.text().await);
        let callback = location(&r);
        let r = browser.get(&callback, HTML).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{:?}", r.text().await);
        assert_eq!(location(&r), return_to);
        callback
    }
}

async fn web(mode: ResponseMode) -> Web {
    web_with(mode, |b| b).await
}

async fn web_with(
    mode: ResponseMode,
    extra: impl FnOnce(entra_axum::EntraAuthBuilder) -> entra_axum::EntraAuthBuilder,
) -> Web {
    let clock = ManualClock::starting_now();
    let mock = MockEntra::builder().clock(clock.clone()).start().await.unwrap();
    let (listener, base) = bind().await;
    let app = mock.register_app(
        TestApp::new("web")
            .secret("s3cret")
            .redirect_uri(format!("{base}/callback"))
            .post_logout_redirect_uri(format!("{base}/")),
    );
    let alice = mock.add_user(
        TestUser::new("alice@contoso.com")
            .name("Alice")
            .groups(["6f1d0f2a-1111-4a4a-9b9b-000000000001"])
            .roles(["Gateway.Admin"]),
    );
    mock.set_auto_login(Some(&alice));
    let mut config = Config::new(mock.authority(), app.client_id.clone());
    config.identity.credential = Some(entra_core::CredentialConfig::secret(Secret::new("s3cret")));
    config.redirect_uri = Some(format!("{base}/callback"));
    config.post_logout_redirect_uri = Some(format!("{base}/"));
    config.offline_access = true;
    config.response_mode = mode;
    let builder = EntraAuth::builder(mock.authority(), app.client_id.clone())
        .clock(clock.clone())
        .sign_in(config);
    let auth = extra(builder).build().unwrap();
    let router = Router::new()
        .route("/me", get(me))
        .route("/touch", get(touch))
        .route("/session-ids", get(session_ids))
        .route("/teams", get(teams))
        .merge(auth.sign_in_routes())
        .layer(auth.session_layer());
    serve(listener, router);
    Web { mock, base, clock, alice }
}

#[tokio::test(flavor = "multi_thread")]
async fn navigation_redirects_api_calls_get_401_and_sign_in_works() {
    let t = web(ResponseMode::Query).await;
    let mut browser = Browser::default();
    // Failing: not signed in.
    let r = browser.get(&t.url("/me?tab=1"), HTML).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/login?return_to=%2Fme%3Ftab%3D1");
    let r = browser.get(&t.url("/me"), JSON).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // RFC 9110: the 401 says how to authenticate (a cookie from the sign-in page).
    assert_eq!(r.headers()["www-authenticate"], "Cookie form-action=\"/login?return_to=%2Fme\"");
    // A fetch() from a page is an API call even when it accepts HTML.
    let r = reqwest::Client::new()
        .get(t.url("/me"))
        .header("accept", HTML)
        .header("sec-fetch-mode", "cors")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    // The login sets a state cookie: HttpOnly, SameSite=Lax, no Secure on loopback http.
    let r = browser.get(&t.url("/login?return_to=/me"), HTML).await;
    let set = r.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        set.starts_with("entra.state=") && set.contains("HttpOnly") && set.contains("SameSite=Lax"),
        "{set}"
    );
    assert!(!set.contains("Secure"), "{set}");
    // An open redirect is refused.
    let r = browser.get(&t.url("/login?return_to=https://evil.example"), HTML).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    t.sign_in(&mut browser, "/me").await;
    let r = browser.get(&t.url("/me"), JSON).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().starts_with("Alice|"));
    // No token in any cookie: only the session id and nothing else.
    assert_eq!(browser.cookies.keys().collect::<Vec<_>>(), ["entra.session"]);
    assert!(browser.cookies["entra.session"].len() < 30);
}

#[tokio::test(flavor = "multi_thread")]
async fn session_id_rotates_at_sign_in() {
    let t = web(ResponseMode::Query).await;
    let mut browser = Browser::default();
    browser.get(&t.url("/touch"), HTML).await;
    let before = browser.cookies["entra.session"].clone();
    t.sign_in(&mut browser, "/me").await;
    let after = browser.cookies["entra.session"].clone();
    assert_ne!(before, after);
    // The old id is dead: a planted (fixated) id gets no signed-in session.
    let mut planted = Browser::default();
    planted.cookies.insert("entra.session".into(), before);
    assert_eq!(planted.get(&t.url("/me"), JSON).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(browser.get(&t.url("/me"), JSON).await.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread")]
async fn replayed_and_cross_browser_callbacks_are_refused() {
    let t = web(ResponseMode::Query).await;
    let mut browser = Browser::default();
    let r = browser.get(&t.url("/login?return_to=/me"), HTML).await;
    let state_cookie = browser.cookies["entra.state"].clone();
    let callback = location(&browser.get(&location(&r), HTML).await);

    // Failing: the callback in another browser (no state cookie).
    let mut other = Browser::default();
    let r = other.get(&callback, HTML).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(!other.cookies.contains_key("entra.session"));
    // ... or with another sign-in's state cookie.
    other.cookies.insert("entra.state".into(), "x".repeat(43));
    assert_eq!(other.get(&callback, HTML).await.status(), StatusCode::BAD_REQUEST);

    // Passing: the browser that started it (the pending sign-in was not consumed).
    let r = browser.get(&callback, HTML).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(!browser.cookies.contains_key("entra.state"), "the state cookie is cleared");

    // Failing: the same callback replayed, even with its state cookie restored.
    let mut replay = Browser::default();
    replay.cookies.insert("entra.state".into(), state_cookie);
    let r = replay.get(&callback, HTML).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(!replay.cookies.contains_key("entra.session"));
}

#[tokio::test(flavor = "multi_thread")]
async fn form_post_callback() {
    let t = web(ResponseMode::FormPost).await;
    let mut browser = Browser::default();
    let r = browser.get(&t.url("/login?return_to=/me"), HTML).await;
    let set = r.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(set.contains("SameSite=None; Secure"), "a cross-site POST must carry it: {set}");
    let page = browser.get(&location(&r), HTML).await.text().await.unwrap();
    let field = |name: &str| {
        let start = page.find(&format!("name=\"{name}\" value=\"")).unwrap() + name.len() + 15;
        page[start..].split('"').next().unwrap().to_owned()
    };
    let (code, state) = (field("code"), field("state"));
    let r = browser.post_form(&t.url("/callback"), &[("code", &code), ("state", &state)]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{:?}", r.text().await);
    assert_eq!(browser.get(&t.url("/me"), JSON).await.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread")]
async fn logout_needs_the_csrf_token() {
    let t = web(ResponseMode::Query).await;
    let mut browser = Browser::default();
    t.sign_in(&mut browser, "/me").await;
    let body = browser.get(&t.url("/me"), JSON).await.text().await.unwrap();
    let csrf = body.split('|').nth(1).unwrap().to_owned();

    // Failing: no token, a wrong one.
    let r = browser.post_form(&t.url("/logout"), &[]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = browser.post_form(&t.url("/logout"), &[("csrf_token", "wrong")]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(browser.get(&t.url("/me"), JSON).await.status(), StatusCode::OK);

    // Passing: signed out here, then sent to Entra's sign-out.
    let old = browser.cookies.clone();
    let r = browser.post_form(&t.url("/logout"), &[("csrf_token", &csrf)]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = location(&r);
    assert!(
        to.starts_with(&format!("{}/{}/oauth2/v2.0/logout?", t.mock.uri(), t.mock.tenant_id())),
        "{to}"
    );
    assert!(to.contains("post_logout_redirect_uri="));
    assert_eq!(browser.get(&t.url("/me"), JSON).await.status(), StatusCode::UNAUTHORIZED);
    // The session is gone from the store, not just from this browser.
    let mut copy = Browser { cookies: old };
    assert_eq!(copy.get(&t.url("/me"), JSON).await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread")]
async fn front_channel_logout_with_another_sid_keeps_the_session() {
    let t = web(ResponseMode::Query).await;
    let mut browser = Browser::default();
    t.sign_in(&mut browser, "/me").await;
    let r = browser.get(&t.url("/logout/frontchannel?sid=someone-else&iss=x"), HTML).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(browser.get(&t.url("/me"), JSON).await.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread")]
async fn access_token_is_refreshed_before_expiry_and_revocation_ends_the_session() {
    let t = web(ResponseMode::Query).await;
    let mut browser = Browser::default();
    t.sign_in(&mut browser, "/me").await;
    let token = |body: String| body.rsplit('|').next().unwrap().to_owned();
    let first = token(browser.get(&t.url("/me"), JSON).await.text().await.unwrap());
    assert!(!first.is_empty());
    let refreshes = || {
        t.mock
            .token_requests()
            .iter()
            .filter(|r| r.form_value("grant_type") == Some("refresh_token"))
            .count()
    };
    // Not yet due: no refresh.
    t.clock.advance(Duration::from_secs(600));
    assert_eq!(token(browser.get(&t.url("/me"), JSON).await.text().await.unwrap()), first);
    assert_eq!(refreshes(), 0);
    // Within 5 minutes of expiry (1 hour tokens): refreshed once, then kept.
    t.clock.advance(Duration::from_secs(2800));
    let second = token(browser.get(&t.url("/me"), JSON).await.text().await.unwrap());
    assert_ne!(second, first);
    assert_eq!(refreshes(), 1);
    assert_eq!(token(browser.get(&t.url("/me"), JSON).await.text().await.unwrap()), second);
    assert_eq!(refreshes(), 1);
    // Again, with the rotated refresh token.
    t.clock.advance(Duration::from_secs(3500));
    let third = token(browser.get(&t.url("/me"), JSON).await.text().await.unwrap());
    assert_ne!(third, second);
    assert_eq!(refreshes(), 2);
    // Entra refuses the next refresh: the session ends.
    t.mock.revoke_refresh_tokens(&t.alice.oid);
    t.clock.advance(Duration::from_secs(3500));
    assert_eq!(browser.get(&t.url("/me"), JSON).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(browser.get(&t.url("/me"), HTML).await.status(), StatusCode::SEE_OTHER);
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_requests_of_one_session_share_one_refresh() {
    let t = web(ResponseMode::Query).await;
    let mut browser = Browser::default();
    t.sign_in(&mut browser, "/me").await;
    let refreshes = || {
        t.mock
            .token_requests()
            .iter()
            .filter(|r| r.form_value("grant_type") == Some("refresh_token"))
            .count()
    };
    // Due for a refresh; the token endpoint is slow, so the requests overlap.
    t.clock.advance(Duration::from_secs(3400));
    t.mock.fail_next(1, entra_testkit::Fault::delay(Duration::from_millis(400)));
    let cookie = browser.cookie_header();
    let http = reqwest::Client::new();
    let calls: Vec<_> = (0..8)
        .map(|_| {
            let call = http.get(t.url("/me")).header("cookie", &cookie).header("accept", JSON);
            tokio::spawn(async move {
                let r = call.send().await.unwrap();
                assert_eq!(r.status(), StatusCode::OK);
                r.text().await.unwrap().rsplit('|').next().unwrap().to_owned()
            })
        })
        .collect();
    let mut tokens = Vec::new();
    for call in calls {
        tokens.push(call.await.unwrap());
    }
    assert_eq!(refreshes(), 1, "one refresh for the eight requests");
    assert!(tokens.windows(2).all(|w| w[0] == w[1]), "all got the refreshed token");
}

#[tokio::test(flavor = "multi_thread")]
async fn front_channel_logout_ends_the_session_of_its_sid() {
    let t = web(ResponseMode::Query).await;
    let mut browser = Browser::default();
    t.sign_in(&mut browser, "/me").await;
    let iss = t.mock.v2_issuer(&t.mock.tenant_id());
    let url = |sid: &str| {
        let q: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("sid", sid)
            .append_pair("iss", &iss)
            .finish();
        t.url(&format!("/logout/frontchannel?{q}"))
    };
    // Entra calls it in an iframe: no session cookie (SameSite=Lax).
    let mut entra = Browser::default();
    let r = entra.get(&url("mock-session-someone-else"), HTML).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(browser.get(&t.url("/me"), JSON).await.status(), StatusCode::OK);
    let r = entra.get(&url(&t.mock.session_id(&t.alice)), HTML).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["cache-control"], "no-store");
    assert_eq!(browser.get(&t.url("/me"), JSON).await.status(), StatusCode::UNAUTHORIZED);
}

#[cfg(feature = "teams")]
#[tokio::test(flavor = "multi_thread")]
async fn teams_and_roles_are_on_the_user() {
    let config = entra_teams::Config::from_json(
        r#"{
        "rules": [
            {"group_id": "6f1d0f2a-1111-4a4a-9b9b-000000000001", "teams": ["platform"], "role": "developer"},
            {"app_role": "Gateway.Admin", "role": "admin", "admin": true}
        ],
        "role_precedence": ["admin", "developer"]
    }"#,
    )
    .unwrap();
    let sync = entra_teams::TeamSync::builder(config).build().unwrap();
    let t = web_with(ResponseMode::Query, move |b| b.teams(sync)).await;
    let mut browser = Browser::default();
    t.sign_in(&mut browser, "/teams").await;
    let body = browser.get(&t.url("/teams"), JSON).await.text().await.unwrap();
    assert_eq!(body, r#"{"platform"}|Some("admin")|true|["Gateway.Admin"]"#);
}

#[tokio::test(flavor = "multi_thread")]
async fn sid_and_login_hint_are_on_the_user() {
    let t = web(ResponseMode::Query).await;
    let mut browser = Browser::default();
    t.sign_in(&mut browser, "/session-ids").await;
    let r = browser.get(&t.url("/session-ids"), JSON).await;
    assert_eq!(r.status(), StatusCode::OK);
    let expected = format!("{}|{}", t.mock.session_id(&t.alice), t.alice.login_hint());
    assert_eq!(r.text().await.unwrap(), expected);
}

/// Copies the [`entra_axum::SignInRefusal`] of a response into a header, as an
/// app's own refusal page would read it.
async fn refusal_header(mut r: axum::response::Response) -> axum::response::Response {
    if let Some(refusal) = r.extensions().get::<entra_axum::SignInRefusal>().cloned() {
        let text = format!("{}|{}", refusal.code(), refusal.domain().unwrap_or("-"));
        r.headers_mut().insert("x-refusal", text.parse().unwrap());
    }
    r
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_sign_in_tells_the_app_why() {
    let mock = MockEntra::start().await;
    let (listener, base) = bind().await;
    let app = mock.register_app(
        TestApp::new("web").secret("s3cret").redirect_uri(format!("{base}/callback")),
    );
    let alice = mock.add_user(TestUser::new("alice@contoso.com").name("Alice"));
    let mallory = mock.add_user(TestUser::new("mallory@fabrikam.com").name("Mallory"));
    let mut config = Config::new(mock.authority(), app.client_id.clone());
    config.identity.credential = Some(entra_core::CredentialConfig::secret(Secret::new("s3cret")));
    config.redirect_uri = Some(format!("{base}/callback"));
    config.allowed_domains = vec!["contoso.com".into()];
    let auth = EntraAuth::builder(mock.authority(), app.client_id.clone())
        .sign_in(config)
        .build()
        .unwrap();
    let router = Router::new()
        .route("/me", get(me))
        .merge(auth.sign_in_routes())
        .layer(auth.session_layer())
        .layer(axum::middleware::map_response(refusal_header));
    serve(listener, router);
    let sign_in = |user: TestUser| {
        let base = base.clone();
        let mock = &mock;
        async move {
            mock.set_auto_login(Some(&user));
            let mut browser = Browser::default();
            let r = browser.get(&format!("{base}/login?return_to=/me"), HTML).await;
            let r = browser.get(&location(&r), HTML).await;
            browser.get(&location(&r), HTML).await
        }
    };
    // Failing: a user outside the allowed domains; the app learns the code and domain.
    let r = sign_in(mallory).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(r.headers()["x-refusal"], "domain_not_allowed|fabrikam.com");
    // Another refusal carries its own code (a callback without its state cookie).
    let mut other = Browser::default();
    let r = other.get(&format!("{base}/callback?code=x&state=y"), HTML).await;
    assert_eq!(r.headers()["x-refusal"], "state_mismatch|-");
    // Passing: an allowed user signs in, and the response carries no refusal.
    let r = sign_in(alice).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(r.headers().get("x-refusal").is_none());
}
