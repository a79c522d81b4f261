//! The on-behalf-of grant: success paths and each refusal Entra makes.

use entra_core::{CLIENT_ASSERTION_TYPE, Tenant};
use entra_testkit::{MockEntra, TestApp, TestCertificate, TestUser, TokenSpec};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use crate::common::{peek, post_form};

const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const GRAPH_DEFAULT: &str = "https://graph.microsoft.com/.default";

struct Setup {
    mock: MockEntra,
    api: TestApp,
    downstream: TestApp,
    alice: TestUser,
    assertion: String,
}

async fn setup() -> Setup {
    let mock = MockEntra::start().await;
    let api = mock.register_app(
        TestApp::new("mcp-server").secret("api-secret").expose_scope("access_as_user"),
    );
    let downstream = mock.register_app(
        TestApp::new("downstream").expose_scope("Files.Read").expose_scope("Files.Write"),
    );
    mock.grant_consent(
        &api.client_id,
        "https://graph.microsoft.com",
        &["User.Read", "GroupMember.Read.All"],
    );
    mock.grant_consent(&api.client_id, &downstream.app_id_uri(), &["Files.Read"]);
    let alice = mock.add_user(TestUser::new("alice@contoso.com").groups(["g1"]));
    let assertion = mock.access_token(&alice, &api);
    Setup { mock, api, downstream, alice, assertion }
}

impl Setup {
    fn form(&self) -> Vec<(&'static str, String)> {
        vec![
            ("grant_type", JWT_BEARER.to_owned()),
            ("client_id", self.api.client_id.to_string()),
            ("client_secret", "api-secret".to_owned()),
            ("assertion", self.assertion.clone()),
            ("scope", GRAPH_DEFAULT.to_owned()),
            ("requested_token_use", "on_behalf_of".to_owned()),
        ]
    }

    async fn obo(&self, change: &[(&'static str, Option<&str>)]) -> (u16, Value) {
        let mut form = self.form();
        for (name, value) in change {
            form.retain(|(k, _)| k != name);
            if let Some(v) = value {
                form.push((name, (*v).to_owned()));
            }
        }
        post_form(&self.mock.token_url(), &form).await
    }
}

fn assert_aadsts(reply: &(u16, Value), code: u64) {
    assert!(reply.0 == 400 || reply.0 == 401, "status {}: {}", reply.0, reply.1);
    assert_eq!(reply.1["error_codes"][0].as_u64(), Some(code), "{}", reply.1);
    let d = reply.1["error_description"].as_str().unwrap();
    assert!(d.starts_with(&format!("AADSTS{code}: ")), "{d}");
    for f in ["timestamp", "trace_id", "correlation_id", "error"] {
        assert!(reply.1[f].is_string(), "{f}");
    }
}

fn assertion_for(
    cert: &TestCertificate,
    client: &str,
    aud: &str,
    alg: Algorithm,
    exp_offset: i64,
) -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
        as i64;
    let mut header = Header::new(alg);
    match alg {
        Algorithm::PS256 => header.x5t_s256 = Some(cert.x5t_s256()),
        _ => header.x5t = Some(cert.x5t()),
    }
    let claims = json!({
        "aud": aud, "iss": client, "sub": client, "jti": uuid::Uuid::new_v4().to_string(),
        "nbf": now - 60, "iat": now - 60, "exp": now + exp_offset,
    });
    jsonwebtoken::encode(
        &header,
        &claims,
        &EncodingKey::from_rsa_pem(cert.key_pem().as_bytes()).unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn obo_for_graph_with_default_scope() {
    let s = setup().await;
    let (status, body) = s.obo(&[]).await;
    assert_eq!(status, 200, "{body}");
    let token = body["access_token"].as_str().unwrap();
    let claims = peek(token);
    assert_eq!(claims["aud"], "https://graph.microsoft.com");
    assert_eq!(claims["oid"], s.alice.oid.as_str());
    assert_eq!(claims["tid"], s.alice.tid.as_str());
    assert_eq!(claims["scp"], "GroupMember.Read.All User.Read");
    assert_eq!(claims["appid"], s.api.client_id.as_str());
    assert!(jsonwebtoken::decode_header(token).unwrap().nonce.is_some());
    assert!(body.get("refresh_token").is_none());
    assert_eq!(body["token_type"], "Bearer");
    assert!(body["expires_in"].as_i64().unwrap() > 0);
    let scope = format!("{GRAPH_DEFAULT} offline_access");
    let (status, body) = s.obo(&[("scope", Some(&scope))]).await;
    assert_eq!(status, 200);
    assert!(body["refresh_token"].is_string());
}

#[tokio::test]
async fn obo_for_an_api_with_explicit_scope() {
    let s = setup().await;
    let scope = format!("{}/Files.Read", s.downstream.app_id_uri());
    let (status, body) = s.obo(&[("scope", Some(&scope))]).await;
    assert_eq!(status, 200, "{body}");
    let claims = peek(body["access_token"].as_str().unwrap());
    assert_eq!(claims["aud"], s.downstream.client_id.as_str());
    assert_eq!(claims["scp"], "Files.Read");
    assert_eq!(claims["azp"], s.api.client_id.as_str());
    assert_eq!(claims["oid"], s.alice.oid.as_str());
    // The assertion may also carry the App ID URI as audience (v1 API tokens).
    let v1 = s.mock.mint(TokenSpec::access_v1(&s.alice, &s.api));
    let (status, _) = s.obo(&[("assertion", Some(&v1))]).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn obo_basic_auth() {
    let s = setup().await;
    let mut form = s.form();
    form.retain(|(k, _)| *k != "client_secret" && *k != "client_id");
    let r = reqwest::Client::new()
        .post(s.mock.token_url())
        .basic_auth(s.api.client_id.as_str(), Some("api-secret"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn obo_with_certificate_assertion() {
    let s = setup().await;
    let cert = TestCertificate::generate("CN=mcp-server");
    let app = s.mock.register_app(TestApp::new("cert-app").certificate(cert.clone()));
    s.mock.grant_consent(&app.client_id, "https://graph.microsoft.com", &["User.Read"]);
    let user_token = s.mock.access_token(&s.alice, &app);
    let id = app.client_id.to_string();
    let url = s.mock.token_url();
    let run = |assertion: String| {
        let form = vec![
            ("grant_type", JWT_BEARER.to_owned()),
            ("client_id", id.clone()),
            ("client_assertion_type", CLIENT_ASSERTION_TYPE.to_owned()),
            ("client_assertion", assertion),
            ("assertion", user_token.clone()),
            ("scope", GRAPH_DEFAULT.to_owned()),
            ("requested_token_use", "on_behalf_of".to_owned()),
        ];
        let url = url.clone();
        async move { post_form(&url, &form).await }
    };
    let ok = run(assertion_for(&cert, &id, &url, Algorithm::PS256, 600)).await;
    assert_eq!(ok.0, 200, "{}", ok.1);
    let ok = run(assertion_for(&cert, &id, &url, Algorithm::RS256, 600)).await;
    assert_eq!(ok.0, 200, "{}", ok.1);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
        as i64;
    let ok = run(cert.client_assertion(&app.client_id, &url, now).unwrap()).await;
    assert_eq!(ok.0, 200, "{}", ok.1);
    let other = TestCertificate::generate("CN=other");
    assert_aadsts(&run(assertion_for(&other, &id, &url, Algorithm::PS256, 600)).await, 700027);
    assert_aadsts(
        &run(assertion_for(&cert, &id, "https://elsewhere/token", Algorithm::PS256, 600)).await,
        700023,
    );
    assert_aadsts(&run(assertion_for(&cert, &id, &url, Algorithm::PS256, -600)).await, 700024);
    assert_aadsts(
        &run(assertion_for(&cert, "someone-else", &url, Algorithm::PS256, 600)).await,
        700021,
    );
}

#[tokio::test]
async fn padded_thumbprints_are_accepted_as_msal_sends_them() {
    let s = setup().await;
    let cert = TestCertificate::generate("CN=padded");
    let app = s.mock.register_app(TestApp::new("padded").certificate(cert.clone()));
    s.mock.grant_consent(&app.client_id, "https://graph.microsoft.com", &["User.Read"]);
    let id = app.client_id.to_string();
    let url = s.mock.token_url();
    let user_token = s.mock.access_token(&s.alice, &app);
    let signed = |alg: Algorithm, x5t: Option<String>, x5t_s256: Option<String>| {
        let mut header = Header::new(alg);
        header.x5t = x5t;
        header.x5t_s256 = x5t_s256;
        let now =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
                as i64;
        let claims =
            json!({"aud": url, "iss": id, "sub": id, "jti": "j", "nbf": now, "exp": now + 600});
        let key = EncodingKey::from_rsa_pem(cert.key_pem().as_bytes()).unwrap();
        jsonwebtoken::encode(&header, &claims, &key).unwrap()
    };
    let run = |assertion: String| {
        let form = vec![
            ("grant_type", JWT_BEARER.to_owned()),
            ("client_id", id.clone()),
            ("client_assertion_type", CLIENT_ASSERTION_TYPE.to_owned()),
            ("client_assertion", assertion),
            ("assertion", user_token.clone()),
            ("scope", GRAPH_DEFAULT.to_owned()),
            ("requested_token_use", "on_behalf_of".to_owned()),
        ];
        let url = url.clone();
        async move { post_form(&url, &form).await }
    };
    // base64url with `=` padding (SHA-256: 44 characters, SHA-1: 28).
    let ok = run(signed(Algorithm::PS256, None, Some(format!("{}=", cert.x5t_s256())))).await;
    assert_eq!(ok.0, 200, "{}", ok.1);
    let ok = run(signed(Algorithm::RS256, Some(format!("{}=", cert.x5t())), None)).await;
    assert_eq!(ok.0, 200, "{}", ok.1);
    // Padding does not make another thumbprint match.
    let mut wrong = cert.x5t_s256();
    wrong.replace_range(0..1, if wrong.starts_with('A') { "B" } else { "A" });
    assert_aadsts(&run(signed(Algorithm::PS256, None, Some(format!("{wrong}=")))).await, 700027);
}

#[tokio::test]
async fn obo_unknown_client_700016() {
    let s = setup().await;
    assert_aadsts(
        &s.obo(&[("client_id", Some("11111111-1111-1111-1111-111111111111"))]).await,
        700016,
    );
}

#[tokio::test]
async fn obo_bad_secret_7000215() {
    let s = setup().await;
    let r = s.obo(&[("client_secret", Some("nope"))]).await;
    assert_eq!(r.0, 401);
    assert_eq!(r.1["error"], "invalid_client");
    assert_aadsts(&r, 7000215);
}

#[tokio::test]
async fn obo_no_client_credential_7000218() {
    let s = setup().await;
    assert_aadsts(&s.obo(&[("client_secret", None)]).await, 7000218);
}

#[tokio::test]
async fn obo_assertion_for_another_audience_50013() {
    let s = setup().await;
    let for_downstream = s.mock.access_token(&s.alice, &s.downstream);
    assert_aadsts(&s.obo(&[("assertion", Some(&for_downstream))]).await, 50013);
    let graph = s.mock.graph_token(&s.alice);
    assert_aadsts(&s.obo(&[("assertion", Some(&graph))]).await, 50013);
}

#[tokio::test]
async fn obo_bad_assertion_signature_50013() {
    let s = setup().await;
    let forged = s.mock.mint(TokenSpec::access_v2(&s.alice, &s.api).unpublished_key());
    assert_aadsts(&s.obo(&[("assertion", Some(&forged))]).await, 50013);
    let unknown_kid = s.mock.mint(TokenSpec::access_v2(&s.alice, &s.api).kid("nope"));
    assert_aadsts(&s.obo(&[("assertion", Some(&unknown_kid))]).await, 50013);
}

#[tokio::test]
async fn obo_expired_assertion_500133() {
    let s = setup().await;
    let expired = s.mock.mint(TokenSpec::access_v2(&s.alice, &s.api).expired());
    assert_aadsts(&s.obo(&[("assertion", Some(&expired))]).await, 500133);
}

#[tokio::test]
async fn obo_app_only_assertion_7000114() {
    let s = setup().await;
    let app_only = s.mock.app_token(&s.mock.default_client(), &s.api);
    let r = s.obo(&[("assertion", Some(&app_only))]).await;
    assert_aadsts(&r, 7000114);
}

#[tokio::test]
async fn obo_requires_requested_token_use() {
    let s = setup().await;
    assert_aadsts(&s.obo(&[("requested_token_use", None)]).await, 900144);
    assert_aadsts(&s.obo(&[("requested_token_use", Some("other"))]).await, 900144);
}

#[tokio::test]
async fn obo_two_resources_28000() {
    let s = setup().await;
    let scope =
        format!("https://graph.microsoft.com/User.Read {}/Files.Read", s.downstream.app_id_uri());
    let r = s.obo(&[("scope", Some(&scope))]).await;
    assert_eq!(r.1["error"], "invalid_scope");
    assert_aadsts(&r, 28000);
}

#[tokio::test]
async fn obo_blank_scope_28003() {
    let s = setup().await;
    let r = s.obo(&[("scope", Some(" "))]).await;
    assert_eq!(r.1["error"], "invalid_scope");
    assert_aadsts(&r, 28003);
    assert_aadsts(&s.obo(&[("scope", None)]).await, 900144);
}

#[tokio::test]
async fn obo_default_mixed_with_scopes_70011() {
    let s = setup().await;
    let scope = format!("{GRAPH_DEFAULT} https://graph.microsoft.com/User.Read");
    assert_aadsts(&s.obo(&[("scope", Some(&scope))]).await, 70011);
}

#[tokio::test]
async fn obo_unknown_resource_500011() {
    let s = setup().await;
    assert_aadsts(&s.obo(&[("scope", Some("api://unknown-thing/.default"))]).await, 500011);
}

#[tokio::test]
async fn obo_without_consent_65001() {
    let s = setup().await;
    // A scope the API exposes but the caller has no consent for.
    let scope = format!("{}/Files.Write", s.downstream.app_id_uri());
    let r = s.obo(&[("scope", Some(&scope))]).await;
    assert_aadsts(&r, 65001);
    assert_eq!(r.1["suberror"], "consent_required");
    // No consent at all for the resource.
    s.mock.revoke_consent(&s.api.client_id, "https://graph.microsoft.com");
    assert_aadsts(&s.obo(&[]).await, 65001);
    // Granting consent fixes it.
    s.mock.grant_consent(&s.api.client_id, "00000003-0000-0000-c000-000000000000", &["User.Read"]);
    let (status, body) = s.obo(&[]).await;
    assert_eq!(status, 200);
    assert_eq!(peek(body["access_token"].as_str().unwrap())["scp"], "User.Read");
}

#[tokio::test]
async fn obo_multi_tenant_keeps_user_tenant() {
    let s = setup().await;
    let t2 = s.mock.add_tenant();
    let guest = s.mock.add_user(TestUser::new("carol@fabrikam.com").tenant(t2.clone()));
    let token = s.mock.access_token(&guest, &s.api);
    let mut form = s.form();
    form.retain(|(k, _)| *k != "assertion");
    form.push(("assertion", token));
    for tenant in [Tenant::Id(t2.clone()), Tenant::Common] {
        let url = s.mock.authority_for(tenant).token_url();
        let (status, body) = post_form(&url, &form).await;
        assert_eq!(status, 200, "{body}");
        let claims = peek(body["access_token"].as_str().unwrap());
        assert_eq!(claims["tid"], t2.as_str());
        assert_eq!(claims["oid"], guest.oid.as_str());
        assert_eq!(claims["iss"], s.mock.v1_issuer(&t2));
    }
}
