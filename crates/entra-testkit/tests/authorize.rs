//! The authorize endpoint (page, login hint, auto-login, form_post, errors) and logout.

use entra_testkit::{MockEntra, TestApp, TestUser};

use crate::common::no_redirect_client;

const CALLBACK: &str = "http://localhost:3000/callback";

async fn setup() -> (MockEntra, TestApp, TestUser) {
    let mock = MockEntra::start().await;
    let web = mock.register_app(TestApp::new("web").public_client().redirect_uri(CALLBACK));
    let alice = mock.add_user(TestUser::new("alice@contoso.com").name("Alice"));
    (mock, web, alice)
}

fn authorize_url(
    mock: &MockEntra,
    client_id: &str,
    redirect: &str,
    extra: &[(&str, &str)],
) -> String {
    let mut url = url::Url::parse(&mock.authority().authorize_url()).unwrap();
    url.query_pairs_mut()
        .append_pair("client_id", client_id)
        .append_pair("response_type", "code")
        .append_pair("redirect_uri", redirect)
        .append_pair("scope", "openid profile")
        .append_pair("state", "xyz");
    for (k, v) in extra {
        url.query_pairs_mut().append_pair(k, v);
    }
    url.into()
}

fn query_of(location: &str) -> Vec<(String, String)> {
    url::Url::parse(location)
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

#[tokio::test]
async fn sign_in_page_lists_users_and_links_complete_the_redirect() {
    let (mock, web, alice) = setup().await;
    let bob = mock.add_user(TestUser::new("bob@contoso.com"));
    let r =
        reqwest::get(authorize_url(&mock, web.client_id.as_str(), CALLBACK, &[])).await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let html = r.text().await.unwrap();
    assert!(html.contains("alice@contoso.com") && html.contains("bob@contoso.com"));
    // Follow the link for bob (unescape &amp; in the href).
    let marker = format!("data-oid=\"{}\" href=\"", bob.oid);
    let start = html.find(&marker).unwrap() + marker.len();
    let href = html[start..].split('"').next().unwrap().replace("&amp;", "&");
    let r = no_redirect_client().get(href).send().await.unwrap();
    assert_eq!(r.status(), 302);
    let q = query_of(r.headers()["location"].to_str().unwrap());
    assert!(q.iter().any(|(k, _)| k == "code"));
    assert!(q.contains(&("state".into(), "xyz".into())));
    let _ = alice;
}

#[tokio::test]
async fn login_hint_and_auto_login_redirect_straight_back() {
    let (mock, web, alice) = setup().await;
    let hinted = authorize_url(
        &mock,
        web.client_id.as_str(),
        CALLBACK,
        &[("login_hint", "alice@contoso.com")],
    );
    let r = no_redirect_client().get(hinted).send().await.unwrap();
    assert_eq!(r.status(), 302);
    assert!(
        r.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("http://localhost:3000/callback?code=")
    );

    let plain = authorize_url(&mock, web.client_id.as_str(), CALLBACK, &[("prompt", "none")]);
    let r = no_redirect_client().get(&plain).send().await.unwrap();
    let q = query_of(r.headers()["location"].to_str().unwrap());
    assert!(q.contains(&("error".into(), "login_required".into())));
    mock.set_auto_login(Some(&alice));
    let r = no_redirect_client().get(&plain).send().await.unwrap();
    assert_eq!(r.status(), 302);
    assert!(query_of(r.headers()["location"].to_str().unwrap()).iter().any(|(k, _)| k == "code"));
}

#[tokio::test]
async fn form_post_returns_an_auto_submitting_form() {
    let (mock, web, alice) = setup().await;
    mock.set_auto_login(Some(&alice));
    let url =
        authorize_url(&mock, web.client_id.as_str(), CALLBACK, &[("response_mode", "form_post")]);
    let r = reqwest::get(url).await.unwrap();
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("action=\"http://localhost:3000/callback\""));
    assert!(html.contains("name=\"code\""));
    assert!(html.contains("name=\"state\" value=\"xyz\""));
    assert!(html.contains("submit()"));
}

#[tokio::test]
async fn unregistered_redirect_uri_is_refused_50011() {
    let (mock, web, alice) = setup().await;
    mock.set_auto_login(Some(&alice));
    let url = authorize_url(&mock, web.client_id.as_str(), "https://evil.example/cb", &[]);
    let r = no_redirect_client().get(url).send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("AADSTS50011"));
    let url = authorize_url(&mock, "11111111-1111-1111-1111-111111111111", CALLBACK, &[]);
    let r = no_redirect_client().get(url).send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("AADSTS700016"));
    // Unsupported PKCE method: error sent back to the client.
    let url = authorize_url(
        &mock,
        web.client_id.as_str(),
        CALLBACK,
        &[("code_challenge", "x"), ("code_challenge_method", "S512")],
    );
    let r = no_redirect_client().get(url).send().await.unwrap();
    let q = query_of(r.headers()["location"].to_str().unwrap());
    assert!(q.contains(&("error".into(), "invalid_request".into())));
}

#[tokio::test]
async fn logout_redirects_only_to_registered_uris() {
    let (mock, web, _) = setup().await;
    let bye = "http://localhost:3000/bye";
    mock.register_app(web.clone().post_logout_redirect_uri(bye));
    let url = |target: &str| {
        let mut u = url::Url::parse(&mock.authority().logout_url()).unwrap();
        u.query_pairs_mut()
            .append_pair("post_logout_redirect_uri", target)
            .append_pair("state", "s1");
        u.to_string()
    };
    let r = no_redirect_client().get(url(bye)).send().await.unwrap();
    assert_eq!(r.status(), 302);
    assert_eq!(r.headers()["location"], "http://localhost:3000/bye?state=s1");
    let r = no_redirect_client().get(url("https://evil.example/")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let r = reqwest::get(mock.authority().logout_url()).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(mock.count("/oauth2/v2.0/logout"), 3);
}

#[tokio::test]
async fn cors_preflight_is_answered() {
    let (mock, _, _) = setup().await;
    let r = reqwest::Client::new()
        .request(reqwest::Method::OPTIONS, mock.token_url())
        .header("origin", "http://localhost:3000")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
}
