//! Microsoft Graph endpoints: accepted and refused tokens, overage resolution.

use entra_testkit::{MockEntra, TestApp, TestUser, TokenSpec};
use serde_json::{Value, json};

use crate::common::{peek, post_form};

async fn get_me(mock: &MockEntra, token: Option<&str>) -> (u16, Value) {
    let mut req = reqwest::Client::new().get(format!("{}/v1.0/me", mock.cloud().graph_base()));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let r = req.send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

async fn member_objects(mock: &MockEntra, path: &str, token: &str) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(format!("{}/v1.0/{path}/getMemberObjects", mock.cloud().graph_base()))
        .bearer_auth(token)
        .json(&json!({"securityEnabledOnly": true}))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn me_accepts_graph_tokens_only() {
    let mock = MockEntra::start().await;
    let alice = mock.add_user(TestUser::new("alice@contoso.com").name("Alice Smith"));
    let (status, body) = get_me(&mock, Some(&mock.graph_token(&alice))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["id"], alice.oid.as_str());
    assert_eq!(body["userPrincipalName"], "alice@contoso.com");
    assert_eq!(body["displayName"], "Alice Smith");

    let (status, body) = get_me(&mock, None).await;
    assert_eq!((status, body["error"]["code"].as_str()), (401, Some("InvalidAuthenticationToken")));
    let api_token = mock.access_token(&alice, &mock.default_api());
    assert_eq!(get_me(&mock, Some(&api_token)).await.0, 401);
    let expired = mock.mint(TokenSpec::graph(&alice).expired());
    assert_eq!(get_me(&mock, Some(&expired)).await.0, 401);
    let forged = mock.mint(TokenSpec::graph(&alice).unpublished_key());
    assert_eq!(get_me(&mock, Some(&forged)).await.0, 401);
    let other_aud =
        mock.mint(TokenSpec::graph(&alice).audience("00000003-0000-0000-c000-000000000000"));
    assert_eq!(get_me(&mock, Some(&other_aud)).await.0, 200);
    let no_scope = mock.mint(TokenSpec::graph(&alice).scopes(["Mail.Read"]));
    let (status, body) = get_me(&mock, Some(&no_scope)).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("Authorization_RequestDenied"))
    );
}

#[tokio::test]
async fn member_objects_for_overage_user_through_obo() {
    let mock = MockEntra::start().await;
    let api = mock.register_app(TestApp::new("api").secret("s").expose_scope("access_as_user"));
    mock.grant_consent(&api.client_id, "https://graph.microsoft.com", &["GroupMember.Read.All"]);
    let many = mock.add_user(TestUser::new("many@contoso.com").with_random_groups(250));
    let incoming = mock.access_token(&many, &api);
    assert!(peek(&incoming).get("groups").is_none());
    let (status, body) = post_form(
        &mock.token_url(),
        &[
            ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer".into()),
            ("client_id", api.client_id.to_string()),
            ("client_secret", "s".into()),
            ("assertion", incoming),
            ("scope", format!("{}/.default", mock.cloud().graph_base())),
            ("requested_token_use", "on_behalf_of".into()),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let graph = body["access_token"].as_str().unwrap();
    let (status, body) = member_objects(&mock, "me", graph).await;
    assert_eq!(status, 200, "{body}");
    let ids: Vec<String> = serde_json::from_value(body["value"].clone()).unwrap();
    assert_eq!(ids, many.groups);
    assert_eq!(ids.len(), 250);
}

#[tokio::test]
async fn member_objects_permissions() {
    let mock = MockEntra::start().await;
    let alice = mock.add_user(TestUser::new("alice@contoso.com").groups(["g1", "g2"]));
    let bob = mock.add_user(TestUser::new("bob@contoso.com").groups(["g3"]));
    // Delegated with a scope that does not allow it.
    let mail = mock.mint(TokenSpec::graph(&alice).scopes(["Mail.Read"]));
    assert_eq!(member_objects(&mock, "me", &mail).await.0, 403);
    // User.Read reads only the caller.
    let basic = mock.mint(TokenSpec::graph(&alice).scopes(["User.Read"]));
    assert_eq!(member_objects(&mock, "me", &basic).await.1["value"], json!(["g1", "g2"]));
    assert_eq!(member_objects(&mock, &format!("users/{}", bob.oid), &basic).await.0, 403);
    // App-only with an application permission reads any user; without, refused.
    let client = mock.default_client();
    mock.grant_consent(&client.client_id, "https://graph.microsoft.com", &["GroupMember.Read.All"]);
    let (status, body) = post_form(
        &mock.token_url(),
        &[
            ("grant_type", "client_credentials".into()),
            ("client_id", client.client_id.to_string()),
            ("client_secret", "mock-client-secret".into()),
            ("scope", "https://graph.microsoft.com/.default".into()),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let app = body["access_token"].as_str().unwrap();
    let (status, body) = member_objects(&mock, &format!("users/{}", bob.oid), app).await;
    assert_eq!((status, body["value"].clone()), (200, json!(["g3"])));
    let no_roles = mock.mint(TokenSpec::graph(&alice).without("scp").claim("idtyp", json!("app")));
    assert_eq!(member_objects(&mock, &format!("users/{}", bob.oid), &no_roles).await.0, 403);
}

#[tokio::test]
async fn graph_faults() {
    let mock = MockEntra::start().await;
    let alice = mock.add_user(TestUser::new("alice@contoso.com").groups(["g1"]));
    let token = mock.graph_token(&alice);
    mock.fail_graph_next(1, entra_testkit::Fault::throttled(3));
    mock.fail_graph_next(1, entra_testkit::Fault::status(503));
    let r = reqwest::Client::new()
        .post(format!("{}/v1.0/me/getMemberObjects", mock.uri()))
        .bearer_auth(&token)
        .json(&json!({"securityEnabledOnly": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "3");
    assert_eq!(member_objects(&mock, "me", &token).await.0, 503);
    assert_eq!(member_objects(&mock, "me", &token).await.1["value"], json!(["g1"]));
    assert_eq!(mock.count("/getMemberObjects"), 3);
}

#[tokio::test]
async fn member_objects_paging() {
    let mock = MockEntra::start().await;
    let many = mock.add_user(TestUser::new("many@contoso.com").with_random_groups(250));
    let token = mock.graph_token(&many);
    mock.set_graph_page_size(Some(100));
    let (status, mut page) = member_objects(&mock, "me", &token).await;
    assert_eq!(status, 200);
    let mut ids: Vec<String> = serde_json::from_value(page["value"].clone()).unwrap();
    let mut pages = 1;
    while let Some(next) = page["@odata.nextLink"].as_str() {
        assert!(next.starts_with(&mock.uri()));
        page = reqwest::Client::new()
            .get(next)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        ids.extend(serde_json::from_value::<Vec<String>>(page["value"].clone()).unwrap());
        pages += 1;
    }
    assert_eq!(pages, 3);
    assert_eq!(ids, many.groups);
    // Continuations need the token too.
    let r = reqwest::Client::new()
        .get(format!("{}/v1.0/me/getMemberObjects?$skiptoken=mock-100", mock.uri()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}
