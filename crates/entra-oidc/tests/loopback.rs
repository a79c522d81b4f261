//! The public-client (desktop/CLI) sign-in through a loopback redirect.

use entra_core::ErrorKind;
use entra_oidc::{Client, Config, Error, LoginOptions, LoopbackListener};
use entra_testkit::{Fault, TestApp};

use crate::support::{Env, authorize_location, browser, jwt_claims};

/// Registers a public client whose redirect URI is the listener's.
fn public_client(env: &Env, listener: &LoopbackListener) -> Client {
    let api = env.mock.default_api();
    let cli = env.mock.register_app(
        TestApp::new("mcp-client-app").public_client().redirect_uri(listener.redirect_uri()),
    );
    env.mock.grant_consent(&cli.client_id, &api.app_id_uri(), &["access_as_user"]);
    let mut config = Config::new(env.mock.authority(), cli.client_id.clone());
    config.api_scope = Some(format!("{}/access_as_user", api.app_id_uri()));
    env.client(config)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loopback_public_client_login() {
    let env = Env::start().await;
    let listener = LoopbackListener::bind(0).await.unwrap();
    let client = public_client(&env, &listener);
    assert!(client.is_public());

    let login = client
        .begin_loopback(listener, LoginOptions::default().login_hint(&env.alice.username))
        .await
        .unwrap();
    let redirect_uri = login.redirect_uri().to_owned();
    assert!(redirect_uri.starts_with("http://127.0.0.1:") && redirect_uri.ends_with("/callback"));
    let url = login.url().to_owned();
    let finished = tokio::spawn(login.finish());

    // The browser: Entra redirects to the loopback listener, which answers a page.
    let location = authorize_location(&url).await;
    assert!(location.starts_with(&redirect_uri), "{location}");
    let page = browser().get(&location).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("Signed in"));

    let signed_in = finished.await.unwrap().unwrap();
    assert_eq!(signed_in.user().object_id(), env.alice.oid.to_ascii_lowercase());
    let access = signed_in.tokens().access_token().unwrap();
    let claims = jwt_claims(access.secret.expose_secret());
    assert_eq!(claims["aud"], env.mock.default_api().client_id.as_str());
    assert_eq!(claims["scp"], "access_as_user");

    // A public client sends no secret and no assertion.
    let r = env.mock.token_requests().pop().unwrap();
    assert_eq!(r.form_value("grant_type"), Some("authorization_code"));
    assert_eq!(r.form_value("redirect_uri"), Some(redirect_uri.as_str()));
    assert!(r.form_value("client_secret").is_none() && r.form_value("client_assertion").is_none());
    assert!(r.form_value("code_verifier").is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loopback_error_callback() {
    let env = Env::start().await;
    let listener = LoopbackListener::bind(0).await.unwrap();
    let client = public_client(&env, &listener);
    env.mock.fail_for_user(&env.alice.oid, Fault::aadsts(50105));
    let login = client
        .begin_loopback(listener, LoginOptions::default().login_hint(&env.alice.username))
        .await
        .unwrap();
    let url = login.url().to_owned();
    let finished = tokio::spawn(login.finish());
    let location = authorize_location(&url).await;
    let page = browser().get(&location).send().await.unwrap();
    assert!(page.text().await.unwrap().contains("Sign-in failed"));
    let err = finished.await.unwrap().unwrap_err();
    assert!(matches!(err, Error::Authorization(_)));
    assert_eq!(err.entra_error().unwrap().kind(), ErrorKind::UserNotAssigned);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loopback_page_tells_the_outcome_of_the_redemption() {
    let env = Env::start().await;
    let listener = LoopbackListener::bind(0).await.unwrap();
    let client = public_client(&env, &listener);
    let login = client
        .begin_loopback(listener, LoginOptions::default().login_hint(&env.alice.username))
        .await
        .unwrap();
    let url = login.url().to_owned();
    let finished = tokio::spawn(login.finish());
    let location = authorize_location(&url).await;

    // The callback itself is fine, but Entra refuses to redeem its code: the
    // browser must not be told that the sign-in worked.
    env.mock.fail_next(1, Fault::aadsts(54005));
    let page = browser().get(&location).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Sign-in failed"), "{page}");
    assert!(!page.contains("Signed in"), "{page}");
    let err = finished.await.unwrap().unwrap_err();
    assert!(matches!(err, Error::TokenRequest(_)), "{err:?}");
    assert_eq!(err.entra_error().unwrap().kind(), ErrorKind::InvalidGrant);
    // One redemption attempt, refused.
    assert_eq!(env.mock.token_requests().len(), 1);
}
