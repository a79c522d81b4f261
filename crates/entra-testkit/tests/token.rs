//! The token endpoint: authorization code + PKCE, refresh, client credentials,
//! client authentication, faults and recording.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use entra_testkit::{Fault, MockEntra, TestApp, TestUser};
use serde_json::Value;
use sha2::Digest as _;

use crate::common::{decode_with_jwks, keys_url, no_redirect_client, peek, post_form};

const VERIFIER: &str = "a-very-long-pkce-code-verifier-with-enough-entropy-0123456789";

fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()))
}

struct Setup {
    mock: MockEntra,
    web: TestApp,
    api: TestApp,
    alice: TestUser,
}

async fn setup() -> Setup {
    let mock = MockEntra::start().await;
    let web = mock.register_app(
        TestApp::new("web").secret("web-secret").redirect_uri("http://localhost:3000/callback"),
    );
    let api = mock.register_app(TestApp::new("api").expose_scope("access_as_user"));
    let alice = mock.add_user(TestUser::new("alice@contoso.com").name("Alice"));
    Setup { mock, web, api, alice }
}

/// Runs the authorize endpoint non-interactively and returns the code.
async fn authorize(s: &Setup, scope: &str, challenge: Option<&str>) -> String {
    let mut url = url::Url::parse(&s.mock.authority().authorize_url()).unwrap();
    url.query_pairs_mut()
        .append_pair("client_id", s.web.client_id.as_str())
        .append_pair("response_type", "code")
        .append_pair("redirect_uri", "http://localhost:3000/callback")
        .append_pair("scope", scope)
        .append_pair("state", "st-1")
        .append_pair("nonce", "nonce-1")
        .append_pair("login_hint", &s.alice.username);
    if let Some(c) = challenge {
        url.query_pairs_mut()
            .append_pair("code_challenge", c)
            .append_pair("code_challenge_method", "S256");
    }
    let r = no_redirect_client().get(url.as_str()).send().await.unwrap();
    assert_eq!(r.status(), 302);
    let location = url::Url::parse(r.headers()["location"].to_str().unwrap()).unwrap();
    assert!(location.as_str().starts_with("http://localhost:3000/callback?"));
    let get = |k: &str| location.query_pairs().find(|(n, _)| n == k).map(|(_, v)| v.into_owned());
    assert_eq!(get("state").as_deref(), Some("st-1"));
    get("code").unwrap()
}

async fn redeem(s: &Setup, code: &str, verifier: Option<&str>) -> (u16, Value) {
    let mut form = vec![
        ("grant_type", "authorization_code".to_owned()),
        ("client_id", s.web.client_id.to_string()),
        ("client_secret", "web-secret".to_owned()),
        ("code", code.to_owned()),
        ("redirect_uri", "http://localhost:3000/callback".to_owned()),
    ];
    if let Some(v) = verifier {
        form.push(("code_verifier", v.to_owned()));
    }
    post_form(&s.mock.token_url(), &form).await
}

#[tokio::test]
async fn auth_code_with_pkce_succeeds_once() {
    let s = setup().await;
    let scope = format!("openid profile offline_access {}/access_as_user", s.api.app_id_uri());
    let code = authorize(&s, &scope, Some(&challenge(VERIFIER))).await;
    let (status, body) = redeem(&s, &code, Some(VERIFIER)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert!(body["scope"].as_str().unwrap().contains("access_as_user"));
    assert!(body["refresh_token"].is_string());
    let tid = s.mock.tenant_id();
    let id = decode_with_jwks(
        body["id_token"].as_str().unwrap(),
        &keys_url(&s.mock),
        s.web.client_id.as_str(),
        &s.mock.v2_issuer(&tid),
    )
    .await
    .unwrap();
    assert_eq!(id["nonce"], "nonce-1");
    assert_eq!(id["oid"], s.alice.oid.as_str());
    let at = peek(body["access_token"].as_str().unwrap());
    assert_eq!(at["aud"], s.api.client_id.as_str());
    assert_eq!(at["azp"], s.web.client_id.as_str());
    assert_eq!(at["scp"], "access_as_user");

    // Single use.
    let (status, body) = redeem(&s, &code, Some(VERIFIER)).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_grant");
    assert_eq!(body["error_codes"][0], 54005);
}

#[tokio::test]
async fn auth_code_pkce_mismatch_is_refused() {
    let s = setup().await;
    let code = authorize(&s, "openid", Some(&challenge(VERIFIER))).await;
    let (status, body) =
        redeem(&s, &code, Some("another-verifier-another-verifier-another-1234")).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_grant");
    assert_eq!(body["error_codes"][0], 501481);
    assert!(body["error_description"].as_str().unwrap().starts_with("AADSTS501481: "));
    for field in ["timestamp", "trace_id", "correlation_id"] {
        assert!(body[field].is_string(), "{field}");
    }
    let (status, body) = redeem(&s, &code, None).await;
    assert_eq!((status, body["error_codes"][0].as_u64()), (400, Some(501481)));
}

#[tokio::test]
async fn auth_code_checks_client_and_redirect() {
    let s = setup().await;
    let code = authorize(&s, "openid", None).await;
    // Wrong secret.
    let (status, body) = post_form(
        &s.mock.token_url(),
        &[
            ("grant_type", "authorization_code".into()),
            ("client_id", s.web.client_id.to_string()),
            ("client_secret", "wrong".into()),
            ("code", code.clone()),
            ("redirect_uri", "http://localhost:3000/callback".into()),
        ],
    )
    .await;
    assert_eq!((status, body["error"].as_str()), (401, Some("invalid_client")));
    assert_eq!(body["error_codes"][0], 7000215);
    // Other redirect URI.
    let (status, body) = post_form(
        &s.mock.token_url(),
        &[
            ("grant_type", "authorization_code".into()),
            ("client_id", s.web.client_id.to_string()),
            ("client_secret", "web-secret".into()),
            ("code", code.clone()),
            ("redirect_uri", "http://localhost:3000/other".into()),
        ],
    )
    .await;
    assert_eq!((status, body["error_codes"][0].as_u64()), (400, Some(50011)));
    // No offline_access: no refresh token. HTTP Basic client authentication.
    let r = reqwest::Client::new()
        .post(s.mock.token_url())
        .basic_auth(s.web.client_id.as_str(), Some("web-secret"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "http://localhost:3000/callback"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert!(body.get("refresh_token").is_none());
    assert!(body["id_token"].is_string());
}

#[tokio::test]
async fn refresh_token_grant() {
    let s = setup().await;
    let scope = format!("openid offline_access {}/access_as_user", s.api.app_id_uri());
    let code = authorize(&s, &scope, None).await;
    let (_, body) = redeem(&s, &code, None).await;
    let rt = body["refresh_token"].as_str().unwrap().to_owned();
    let (status, body) = post_form(
        &s.mock.token_url(),
        &[
            ("grant_type", "refresh_token".into()),
            ("client_id", s.web.client_id.to_string()),
            ("client_secret", "web-secret".into()),
            ("refresh_token", rt.clone()),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body["refresh_token"].is_string());
    assert_eq!(peek(body["access_token"].as_str().unwrap())["oid"], s.alice.oid.as_str());
    let (status, body) = post_form(
        &s.mock.token_url(),
        &[
            ("grant_type", "refresh_token".into()),
            ("client_id", s.web.client_id.to_string()),
            ("client_secret", "web-secret".into()),
            ("refresh_token", "garbage".into()),
        ],
    )
    .await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")));
}

#[tokio::test]
async fn client_credentials_grant() {
    let s = setup().await;
    let api = s.mock.register_app(TestApp::new("roles-api").app_role("Tasks.Read"));
    let form = |scope: &str| {
        vec![
            ("grant_type", "client_credentials".to_owned()),
            ("client_id", s.web.client_id.to_string()),
            ("client_secret", "web-secret".to_owned()),
            ("scope", scope.to_owned()),
        ]
    };
    let (status, body) =
        post_form(&s.mock.token_url(), &form(&format!("{}/.default", api.app_id_uri()))).await;
    assert_eq!(status, 200, "{body}");
    let claims = peek(body["access_token"].as_str().unwrap());
    assert_eq!(claims["idtyp"], "app");
    assert_eq!(claims["roles"][0], "Tasks.Read");
    assert!(claims.get("scp").is_none());
    assert!(body.get("refresh_token").is_none());
    let (status, body) =
        post_form(&s.mock.token_url(), &form(&format!("{}/Tasks.Read", api.app_id_uri()))).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_scope")));
}

#[tokio::test]
async fn faults_count_throttle_and_fail() {
    let s = setup().await;
    let form = vec![
        ("grant_type", "client_credentials".to_owned()),
        ("client_id", s.web.client_id.to_string()),
        ("client_secret", "web-secret".to_owned()),
        ("scope", format!("{}/.default", s.api.app_id_uri())),
    ];
    s.mock.fail_next(2, Fault::throttled(7));
    s.mock.fail_next(1, Fault::status(500));
    s.mock.fail_next(
        1,
        Fault::aadsts(50076)
            .claims(r#"{"access_token":{"capolids":{"essential":true,"values":["c1"]}}}"#),
    );
    s.mock.fail_next(1, Fault::delay(Duration::from_millis(20)));
    for _ in 0..2 {
        let r = reqwest::Client::new().post(s.mock.token_url()).form(&form).send().await.unwrap();
        assert_eq!(r.status(), 429);
        assert_eq!(r.headers()["retry-after"], "7");
    }
    let (status, _) = post_form(&s.mock.token_url(), &form).await;
    assert_eq!(status, 500);
    let (status, body) = post_form(&s.mock.token_url(), &form).await;
    assert_eq!(status, 400);
    assert_eq!(body["error_codes"][0], 50076);
    assert!(body["claims"].as_str().unwrap().contains("capolids"));
    let parsed = entra_core::EntraErrorResponse::parse(body.to_string().as_bytes()).unwrap();
    assert_eq!(parsed.kind(), entra_core::ErrorKind::InteractionRequired);
    let (status, _) = post_form(&s.mock.token_url(), &form).await;
    assert_eq!(status, 200);
    let (status, _) = post_form(&s.mock.token_url(), &form).await;
    assert_eq!(status, 200);
    assert_eq!(s.mock.token_requests().len(), 6);
}

#[tokio::test]
async fn fault_for_one_user() {
    let s = setup().await;
    let code = authorize(&s, "openid", None).await;
    s.mock.fail_for_user(&s.alice.oid, Fault::aadsts(53003));
    let (status, body) = redeem(&s, &code, None).await;
    assert_eq!((status, body["error_codes"][0].as_u64()), (400, Some(53003)));
    // The authorize endpoint sends the error back to the client too.
    let url = format!(
        "{}?client_id={}&response_type=code&redirect_uri=http%3A%2F%2Flocalhost%3A3000%2Fcallback&scope=openid&state=s&login_hint={}",
        s.mock.authority().authorize_url(),
        s.web.client_id,
        s.alice.username
    );
    let r = no_redirect_client().get(url).send().await.unwrap();
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.contains("error=invalid_grant"), "{location}");
    assert!(location.contains("AADSTS53003"));
    // Other users are not affected; clearing restores alice.
    let bob = s.mock.add_user(TestUser::new("bob@contoso.com"));
    s.mock.set_auto_login(Some(&bob));
    s.mock.clear_faults();
    let (status, _) = redeem(&s, &code, None).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn recording_keeps_exact_fields() {
    let s = setup().await;
    let code = authorize(&s, "openid", Some(&challenge(VERIFIER))).await;
    let _ = redeem(&s, &code, Some(VERIFIER)).await;
    let reqs = s.mock.token_requests();
    assert_eq!(reqs.len(), 1);
    let r = &reqs[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, format!("/{}/oauth2/v2.0/token", s.mock.tenant_id()));
    assert_eq!(r.form_value("grant_type"), Some("authorization_code"));
    assert_eq!(r.form_value("code_verifier"), Some(VERIFIER));
    assert_eq!(r.form_value("code"), Some(code.as_str()));
    assert!(r.header("content-type").unwrap().starts_with("application/x-www-form-urlencoded"));
    assert_eq!(s.mock.count("/oauth2/v2.0/authorize"), 1);
    let authz = &s.mock.requests()[0];
    assert_eq!(authz.query_value("code_challenge_method"), Some("S256"));
    assert!(!format!("{r:?}").contains(VERIFIER));
    s.mock.clear_requests();
    assert!(s.mock.requests().is_empty());
}

#[tokio::test]
async fn v1_endpoints_take_resource() {
    let s = setup().await;
    let base = s.mock.authority().base_url();
    let mut url = url::Url::parse(&format!("{base}/oauth2/authorize")).unwrap();
    url.query_pairs_mut()
        .append_pair("client_id", s.web.client_id.as_str())
        .append_pair("response_type", "code")
        .append_pair("redirect_uri", "http://localhost:3000/callback")
        .append_pair("resource", &s.api.app_id_uri())
        .append_pair("login_hint", &s.alice.username);
    let r = no_redirect_client().get(url.as_str()).send().await.unwrap();
    assert_eq!(r.status(), 302);
    let location = url::Url::parse(r.headers()["location"].to_str().unwrap()).unwrap();
    let code = location.query_pairs().find(|(k, _)| k == "code").unwrap().1.into_owned();
    let (status, body) = post_form(
        &format!("{base}/oauth2/token"),
        &[
            ("grant_type", "authorization_code".into()),
            ("client_id", s.web.client_id.to_string()),
            ("client_secret", "web-secret".into()),
            ("code", code),
            ("redirect_uri", "http://localhost:3000/callback".into()),
            ("resource", s.api.app_id_uri()),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(peek(body["access_token"].as_str().unwrap())["aud"], s.api.client_id.as_str());
    assert!(body["id_token"].is_string());
}
