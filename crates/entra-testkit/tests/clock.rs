//! Time comes from the mock's clock: a `ManualClock` moves it without sleeping.

use std::time::Duration;

use entra_core::{Clock, ManualClock};
use entra_testkit::{MockEntra, TestApp, TestUser};

use crate::common::{peek, post_form};

#[tokio::test]
async fn manual_clock_drives_minting_and_checks() {
    let clock = ManualClock::at_unix(1_700_000_000);
    let mock = MockEntra::builder().clock(clock.clone()).start().await.unwrap();
    let api = mock.register_app(TestApp::new("api").secret("s").expose_scope("access_as_user"));
    mock.grant_consent(&api.client_id, "https://graph.microsoft.com", &["User.Read"]);
    let alice = mock.add_user(TestUser::new("alice@contoso.com"));
    let token = mock.access_token(&alice, &api);
    let claims = peek(&token);
    assert_eq!(claims["iat"], 1_700_000_000);
    assert_eq!(claims["exp"], 1_700_003_600);
    let form = |assertion: &str| {
        vec![
            ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer".to_owned()),
            ("client_id", api.client_id.to_string()),
            ("client_secret", "s".to_owned()),
            ("assertion", assertion.to_owned()),
            ("scope", "https://graph.microsoft.com/.default".to_owned()),
            ("requested_token_use", "on_behalf_of".to_owned()),
        ]
    };
    let (status, _) = post_form(&mock.token_url(), &form(&token)).await;
    assert_eq!(status, 200);
    clock.advance(Duration::from_secs(3601));
    let (status, body) = post_form(&mock.token_url(), &form(&token)).await;
    assert_eq!((status, body["error_codes"][0].as_u64()), (400, Some(500133)));
    assert_eq!(mock.clock().unix_now(), 1_700_003_601);

    // Authorization codes live ten minutes.
    let web =
        mock.register_app(TestApp::new("web").secret("w").redirect_uri("http://localhost/cb"));
    mock.set_auto_login(Some(&alice));
    let url = format!(
        "{}?client_id={}&response_type=code&redirect_uri=http%3A%2F%2Flocalhost%2Fcb&scope=openid",
        mock.authority().authorize_url(),
        web.client_id
    );
    let r = crate::common::no_redirect_client().get(url).send().await.unwrap();
    let location = url::Url::parse(r.headers()["location"].to_str().unwrap()).unwrap();
    let code = location.query_pairs().find(|(k, _)| k == "code").unwrap().1.into_owned();
    clock.advance(Duration::from_secs(601));
    let (status, body) = post_form(
        &mock.token_url(),
        &[
            ("grant_type", "authorization_code".into()),
            ("client_id", web.client_id.to_string()),
            ("client_secret", "w".into()),
            ("code", code),
            ("redirect_uri", "http://localhost/cb".into()),
        ],
    )
    .await;
    assert_eq!((status, body["error_codes"][0].as_u64()), (400, Some(70008)));
}

#[tokio::test]
async fn revoked_refresh_tokens_are_refused() {
    let mock = MockEntra::start().await;
    let client = mock.default_client();
    let alice = mock.add_user(TestUser::new("alice@contoso.com"));
    mock.set_auto_login(Some(&alice));
    let url = format!(
        "{}?client_id={}&response_type=code&redirect_uri=http%3A%2F%2Flocalhost%2Fcallback&scope=openid%20offline_access",
        mock.authority().authorize_url(),
        client.client_id
    );
    let r = crate::common::no_redirect_client().get(url).send().await.unwrap();
    let location = url::Url::parse(r.headers()["location"].to_str().unwrap()).unwrap();
    let code = location.query_pairs().find(|(k, _)| k == "code").unwrap().1.into_owned();
    let (status, body) = post_form(
        &mock.token_url(),
        &[
            ("grant_type", "authorization_code".into()),
            ("client_id", client.client_id.to_string()),
            ("client_secret", "mock-client-secret".into()),
            ("code", code),
            ("redirect_uri", "http://localhost/callback".into()),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let rt = body["refresh_token"].as_str().unwrap().to_owned();
    let refresh = vec![
        ("grant_type", "refresh_token".to_owned()),
        ("client_id", client.client_id.to_string()),
        ("client_secret", "mock-client-secret".to_owned()),
        ("refresh_token", rt),
    ];
    assert_eq!(post_form(&mock.token_url(), &refresh).await.0, 200);
    mock.revoke_refresh_tokens(&alice.oid);
    let (status, body) = post_form(&mock.token_url(), &refresh).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")));
}

#[test]
fn one_mock_serves_several_runtimes() {
    fn assert_send_sync<T: Send + Sync + Clone + 'static>() {}
    assert_send_sync::<MockEntra>();
    let rt = || tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let mock = rt().block_on(MockEntra::start());
    // The runtime that started the mock is gone; another one still reaches it.
    let status = rt().block_on(async {
        reqwest::get(mock.authority().v2_discovery_url()).await.unwrap().status()
    });
    assert_eq!(status, 200);
}
