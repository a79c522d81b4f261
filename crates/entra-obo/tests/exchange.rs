//! The exchange itself: exact form bodies per credential, scope building and
//! refusals, tenant routing, named downstream APIs.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use entra_core::{
    AssertionAlgorithm, CertificateCredential, ClientAssertionProvider, ClientCredential,
    FileAssertion, FnAssertion, Secret, Target, Tenant, TokenExchanger,
};
use entra_obo::Error;
use entra_testkit::{TestApp, TestCertificate, TestUser, TokenSpec};

use crate::support::{API_SECRET, Env, claims_of, unverified};

const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

/// Whether an error is the expected one.
type Check = fn(&Error) -> bool;

#[tokio::test]
async fn secret_post_sends_exactly_the_obo_form() {
    let env = Env::start().await;
    let user = env.user_token(&env.alice);
    let token =
        env.obo().exchange_on_behalf_of(&user, "https://graph.microsoft.com").await.unwrap();

    let requests = env.token_requests();
    assert_eq!(requests.len(), 1);
    let r = &requests[0];
    assert_eq!(r.path, format!("/{}/oauth2/v2.0/token", env.mock.tenant_id()));
    assert_eq!(
        r.form,
        form(&[
            ("grant_type", JWT_BEARER),
            ("client_id", env.api.client_id.as_str()),
            ("assertion", user.raw().expose_secret()),
            ("scope", "https://graph.microsoft.com/.default"),
            ("requested_token_use", "on_behalf_of"),
            ("client_secret", API_SECRET),
        ])
    );
    assert!(r.header("authorization").is_none());
    assert_eq!(r.header("content-type"), Some("application/x-www-form-urlencoded"));

    // The downstream token is for Graph, as Alice, with the consented permissions.
    let c = claims_of(token.secret.expose_secret());
    assert_eq!(c["oid"], env.alice.oid.as_str());
    let scp = c["scp"].as_str().unwrap();
    assert!(scp.contains("User.Read") && scp.contains("Mail.Read"), "{scp}");
    assert!(token.scopes.iter().any(|s| s == "User.Read"), "{:?}", token.scopes);
    assert!(token.expires_at > std::time::SystemTime::now());
    assert!(!format!("{token:?}").contains(token.secret.expose_secret()));
}

#[tokio::test]
async fn secret_basic_sends_the_secret_in_the_header_only() {
    let env = Env::start().await;
    let user = env.user_token(&env.alice);
    let obo = env
        .builder_with(env.mock.authority(), ClientCredential::secret_basic(Secret::new(API_SECRET)))
        .build()
        .unwrap();
    obo.exchange_on_behalf_of(&user, "https://graph.microsoft.com").await.unwrap();
    let r = &env.token_requests()[0];
    assert_eq!(
        r.form,
        form(&[
            ("grant_type", JWT_BEARER),
            ("client_id", env.api.client_id.as_str()),
            ("assertion", user.raw().expose_secret()),
            ("scope", "https://graph.microsoft.com/.default"),
            ("requested_token_use", "on_behalf_of"),
        ])
    );
    // RFC 6749 2.3.1: both parts form-urlencoded, then base64.
    let expected = format!(
        "Basic {}",
        STANDARD
            .encode(format!("{}:{}", env.api.client_id, "api-secret%7Ewith%2Bspecial%26chars%3D"))
    );
    assert_eq!(r.header("authorization"), Some(expected.as_str()));
}

fn cert_env_app(env: &Env, cert: &TestCertificate) -> TestApp {
    let app = env.mock.register_app(
        TestApp::new("mcp-cert").certificate(cert.clone()).expose_scope("access_as_user"),
    );
    env.mock.grant_consent(&app.client_id, "https://graph.microsoft.com", &["User.Read"]);
    app
}

#[tokio::test]
async fn certificate_assertion_is_accepted_and_has_the_documented_shape() {
    let env = Env::start().await;
    let cert = TestCertificate::generate("CN=mcp-cert");
    let app = cert_env_app(&env, &cert);
    let user = env.mock.verify_token(&env.mock.access_token(&env.alice, &app)).unwrap();
    for algorithm in [AssertionAlgorithm::Ps256, AssertionAlgorithm::Rs256] {
        env.mock.clear_requests();
        let cred = CertificateCredential::from_pem(cert.cert_pem(), cert.key_pem())
            .unwrap()
            .algorithm(algorithm);
        let obo = entra_obo::Obo::builder(
            env.mock.authority(),
            app.client_id.clone(),
            ClientCredential::assertion(cred),
        )
        .build()
        .unwrap();
        // The mock verifies the assertion's signature against the registered certificate.
        obo.exchange_on_behalf_of(&user, ["User.Read"]).await.unwrap();
        let r = &env.token_requests()[0];
        let names: Vec<&str> = r.form.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names,
            [
                "grant_type",
                "client_id",
                "assertion",
                "scope",
                "requested_token_use",
                "client_assertion_type",
                "client_assertion"
            ]
        );
        assert_eq!(r.form_value("client_assertion_type"), Some(ASSERTION_TYPE));
        assert_eq!(r.form_value("scope"), Some("User.Read"));
        assert!(r.form_value("client_secret").is_none());
        let assertion = r.form_value("client_assertion").unwrap();
        let header: serde_json::Value = serde_json::from_slice(
            &URL_SAFE_NO_PAD.decode(assertion.split('.').next().unwrap()).unwrap(),
        )
        .unwrap();
        match algorithm {
            AssertionAlgorithm::Ps256 => {
                assert_eq!(header["alg"], "PS256");
                assert_eq!(header["x5t#S256"], cert.x5t_s256());
            }
            _ => {
                assert_eq!(header["alg"], "RS256");
                assert_eq!(header["x5t"], cert.x5t());
            }
        }
        let c = claims_of(assertion);
        assert_eq!(c["aud"], env.mock.authority().token_url());
        assert_eq!(c["iss"], app.client_id.as_str());
        assert_eq!(c["sub"], app.client_id.as_str());
        assert!(c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap() <= 600);
    }
}

#[tokio::test]
async fn an_unregistered_certificate_is_refused_by_entra() {
    let env = Env::start().await;
    let cert = TestCertificate::generate("CN=registered");
    let app = cert_env_app(&env, &cert);
    let other = TestCertificate::generate("CN=other");
    let cred = CertificateCredential::from_pem(other.cert_pem(), other.key_pem()).unwrap();
    let obo = entra_obo::Obo::builder(
        env.mock.authority(),
        app.client_id.clone(),
        ClientCredential::assertion(cred),
    )
    .build()
    .unwrap();
    let user = env.mock.verify_token(&env.mock.access_token(&env.alice, &app)).unwrap();
    let e = obo.exchange_on_behalf_of(&user, ["User.Read"]).await.unwrap_err();
    assert!(matches!(e, Error::InvalidClientCredential { .. }), "{e}");
    assert_eq!(e.aadsts(), Some(700027));
}

#[tokio::test]
async fn federated_assertions_from_a_file_and_a_closure() {
    let env = Env::start().await;
    let cert = TestCertificate::generate("CN=workload");
    let app = cert_env_app(&env, &cert);
    let user = env.mock.verify_token(&env.mock.access_token(&env.alice, &app)).unwrap();
    // Stand-in for the federated token: an assertion the mock accepts for this app.
    let signer = CertificateCredential::from_pem(cert.cert_pem(), cert.key_pem()).unwrap();
    let assertion =
        signer.client_assertion(&app.client_id, &env.mock.authority().token_url()).await.unwrap();

    let dir = std::env::temp_dir().join(format!("entra-obo-fed-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("token");
    std::fs::write(&path, format!("{}\n", assertion.expose_secret())).unwrap();
    let from_file = ClientCredential::assertion(FileAssertion::new(&path));
    let fixed = assertion.clone();
    let from_fn = ClientCredential::assertion(FnAssertion::new(move || {
        let a = fixed.clone();
        async move { Ok(a) }
    }));
    for cred in [from_file, from_fn] {
        env.mock.clear_requests();
        let obo = entra_obo::Obo::builder(env.mock.authority(), app.client_id.clone(), cred)
            .build()
            .unwrap();
        obo.exchange_on_behalf_of(&user, "https://graph.microsoft.com").await.unwrap();
        let r = &env.token_requests()[0];
        assert_eq!(r.form_value("client_assertion"), Some(assertion.expose_secret()));
        assert_eq!(r.form_value("client_assertion_type"), Some(ASSERTION_TYPE));
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn resources_become_default_scopes_and_explicit_scopes_pass_through() {
    let env = Env::start().await;
    let user = env.user_token(&env.alice);
    let obo = env.obo();

    let crm = obo.exchange_on_behalf_of(&user, env.downstream.app_id_uri()).await.unwrap();
    let c = claims_of(crm.secret.expose_secret());
    assert_eq!(c["aud"], env.downstream.client_id.as_str());
    assert_eq!(c["scp"], "read write");

    let read_only = obo
        .exchange_on_behalf_of(
            &user,
            [format!("{}/read", env.downstream.app_id_uri()).as_str(), "openid", "offline_access"],
        )
        .await
        .unwrap();
    assert_eq!(claims_of(read_only.secret.expose_secret())["scp"], "read");

    let graph = obo.exchange_on_behalf_of(&user, ["User.Read", "profile"]).await.unwrap();
    assert_eq!(claims_of(graph.secret.expose_secret())["scp"], "User.Read");

    let scopes: Vec<String> =
        env.token_requests().iter().map(|r| r.form_value("scope").unwrap().to_owned()).collect();
    assert_eq!(
        scopes,
        [
            format!("{}/.default", env.downstream.app_id_uri()),
            format!("{}/read", env.downstream.app_id_uri()),
            "User.Read".to_owned(),
        ]
    );
}

#[tokio::test]
async fn a_trailing_slash_resource_keeps_its_slash() {
    let env = Env::start().await;
    let user = env.user_token(&env.alice);
    // The mock does not know Azure Resource Manager: Entra's "resource not found".
    let e =
        env.obo().exchange_on_behalf_of(&user, "https://management.azure.com/").await.unwrap_err();
    assert!(matches!(e, Error::ResourceNotFound { .. }), "{e}");
    assert_eq!(
        env.token_requests()[0].form_value("scope"),
        Some("https://management.azure.com//.default")
    );
}

#[tokio::test]
async fn invalid_targets_and_app_only_tokens_are_refused_before_any_request() {
    let env = Env::start().await;
    let user = env.user_token(&env.alice);
    let obo = env.obo();
    let crm_read = format!("{}/read", env.downstream.app_id_uri());
    let crm_default = format!("{}/.default", env.downstream.app_id_uri());
    let cases: Vec<(Target, Check)> = vec![
        (Target::from(""), |e| matches!(e, Error::NoScopes)),
        (Target::Scopes(vec![]), |e| matches!(e, Error::NoScopes)),
        (Target::from(["openid", "profile", "offline_access"]), |e| matches!(e, Error::NoScopes)),
        (Target::from(["User.Read", crm_read.as_str()]), |e| {
            matches!(e, Error::MultipleResources { .. })
        }),
        (Target::from([crm_default.as_str(), crm_read.as_str()]), |e| {
            matches!(e, Error::DefaultWithOtherScopes { .. })
        }),
        (Target::from(["https://graph.microsoft.com"]), |e| {
            matches!(e, Error::MalformedScope { .. })
        }),
    ];
    for (target, expected) in cases {
        let e = obo.exchange_on_behalf_of(&user, &target).await.unwrap_err();
        assert!(expected(&e), "{target:?}: {e}");
        assert!(!entra_core::AuthError::is_transient(&e));
    }
    let app_only =
        env.mock.verify_token(&env.mock.app_token(&env.mock.default_client(), &env.api)).unwrap();
    let e = obo.exchange_on_behalf_of(&app_only, "https://graph.microsoft.com").await.unwrap_err();
    assert!(matches!(e, Error::AppOnlyToken { response: None }), "{e}");
    assert!(entra_core::AuthError::is_unauthorized(&e));
    assert!(env.token_requests().is_empty());
    // The same user token and targets of one resource do go out.
    obo.exchange_on_behalf_of(&user, [crm_default.as_str(), "openid"]).await.unwrap();
    assert_eq!(env.token_requests().len(), 1);
}

#[tokio::test]
async fn multi_tenant_apps_call_the_users_tenant() {
    let env = Env::start().await;
    let home = env.mock.tenant_id();
    let guest_tenant = env.mock.add_tenant();
    let bob = env.mock.add_user(TestUser::new("bob@fabrikam.example").tenant(guest_tenant.clone()));
    let obo = env
        .builder_with(
            env.mock.authority_for(Tenant::Organizations),
            ClientCredential::secret(Secret::new(API_SECRET)),
        )
        .build()
        .unwrap();
    obo.exchange_on_behalf_of(&env.user_token(&bob), "https://graph.microsoft.com").await.unwrap();
    obo.exchange_on_behalf_of(&env.user_token(&env.alice), "https://graph.microsoft.com")
        .await
        .unwrap();
    let paths: Vec<String> = env.token_requests().iter().map(|r| r.path.clone()).collect();
    assert_eq!(
        paths,
        [format!("/{guest_tenant}/oauth2/v2.0/token"), format!("/{home}/oauth2/v2.0/token")]
    );

    // No usable tid: refused before any request.
    env.mock.clear_requests();
    let no_tid =
        unverified(&env.mock.mint(TokenSpec::access_v2(&env.alice, &env.api).without("tid")));
    let e = obo.exchange_on_behalf_of(&no_tid, "https://graph.microsoft.com").await.unwrap_err();
    assert!(matches!(e, Error::MissingTenant), "{e}");
    assert!(env.token_requests().is_empty());

    // A single-tenant app keeps its own tenant whatever the token says.
    let single = env.obo();
    single
        .exchange_on_behalf_of(&env.user_token(&bob), "https://graph.microsoft.com")
        .await
        .unwrap();
    assert_eq!(env.token_requests()[0].path, format!("/{home}/oauth2/v2.0/token"));
}

#[tokio::test]
async fn named_downstream_apis_and_the_exchanger_seam() {
    let env = Env::start().await;
    let user = env.user_token(&env.alice);
    let obo = env
        .builder()
        .downstream_api("graph", "https://graph.microsoft.com")
        .downstream_api("crm", env.downstream.app_id_uri())
        .downstream_api("mail", ["Mail.Read"])
        .build()
        .unwrap();
    obo.exchange_for("crm", &user).await.unwrap();
    obo.exchange_for("mail", &user).await.unwrap();
    let e = obo.exchange_for("nope", &user).await.unwrap_err();
    assert!(matches!(e, Error::UnknownApi { .. }), "{e}");
    // Through the entra-core seam, as a host adapter would call it.
    let via_seam: &dyn TokenExchanger = &obo;
    via_seam.exchange(&user, &Target::from("https://graph.microsoft.com")).await.unwrap();
    let scopes: Vec<String> =
        env.token_requests().iter().map(|r| r.form_value("scope").unwrap().to_owned()).collect();
    assert_eq!(
        scopes,
        [
            format!("{}/.default", env.downstream.app_id_uri()),
            "Mail.Read".to_owned(),
            "https://graph.microsoft.com/.default".to_owned()
        ]
    );
}

#[tokio::test]
async fn the_hosts_http_client_is_used_and_nothing_secret_prints() {
    let env = Env::start().await;
    let http = reqwest::Client::builder().user_agent("my-mcp-server/1.0").build().unwrap();
    let obo = env.builder().http_client(http).build().unwrap();
    let user = env.user_token(&env.alice);
    let token = obo.exchange_on_behalf_of(&user, "https://graph.microsoft.com").await.unwrap();
    assert_eq!(env.token_requests()[0].header("user-agent"), Some("my-mcp-server/1.0"));
    let printed = format!("{obo:?} {token:?} {user:?}");
    assert!(!printed.contains(API_SECRET));
    assert!(!printed.contains(token.secret.expose_secret()));
    assert!(!printed.contains(user.raw().expose_secret()));
    // Obo is cheap to share between tasks.
    fn shareable<T: Clone + Send + Sync + 'static>(_: &T) {}
    shareable(&obo);
}

#[tokio::test]
async fn a_certificate_assertion_is_reused_per_token_endpoint() {
    let env = Env::start().await;
    let cert = TestCertificate::generate("CN=multi");
    let app = cert_env_app(&env, &cert);
    let other_tenant = env.mock.add_tenant();
    let bob = env.mock.add_user(TestUser::new("bob@fabrikam.example").tenant(other_tenant.clone()));
    let cred = CertificateCredential::from_pem(cert.cert_pem(), cert.key_pem())
        .unwrap()
        .clock(env.clock.clone());
    let obo = entra_obo::Obo::builder(
        env.mock.authority_for(Tenant::Organizations),
        app.client_id.clone(),
        ClientCredential::assertion(cred),
    )
    .clock(env.clock.clone())
    .build()
    .unwrap();
    let alice_token = env.mock.verify_token(&env.mock.access_token(&env.alice, &app)).unwrap();
    let bob_token = env.mock.verify_token(&env.mock.access_token(&bob, &app)).unwrap();
    obo.exchange_on_behalf_of(&alice_token, ["User.Read"]).await.unwrap();
    obo.exchange_on_behalf_of(&alice_token, ["Mail.Read"]).await.unwrap_err(); // not consented
    obo.exchange_on_behalf_of(&bob_token, ["User.Read"]).await.unwrap();
    let requests = env.token_requests();
    let assertion = |i: usize| requests[i].form_value("client_assertion").unwrap().to_owned();
    // Same endpoint: the same signed assertion; the user's other tenant: its own.
    assert_eq!(assertion(0), assertion(1));
    assert_ne!(assertion(0), assertion(2));
    assert_eq!(
        claims_of(&assertion(2))["aud"],
        format!("{}/{other_tenant}/oauth2/v2.0/token", env.mock.uri())
    );
    // Past half its lifetime, a new one is signed for the same endpoint.
    env.clock.advance(std::time::Duration::from_secs(301));
    obo.exchange_on_behalf_of(&alice_token, ["Mail.Read"]).await.unwrap_err();
    let requests = env.token_requests();
    assert_eq!(requests.len(), 4);
    let last = requests[3].form_value("client_assertion").unwrap();
    assert_ne!(last, assertion(0));
    assert_eq!(claims_of(last)["aud"], claims_of(&assertion(0))["aud"]);
}

#[tokio::test]
async fn client_capabilities_are_declared_and_merged_with_a_challenge() {
    let env = Env::start().await;
    let user = env.user_token(&env.alice);
    let obo = env.builder().client_capabilities(["cp1"]).build().unwrap();
    obo.exchange_on_behalf_of(&user, "https://graph.microsoft.com").await.unwrap();
    let challenge = r#"{"access_token":{"nbf":{"essential":true,"value":"1700000000"}}}"#;
    obo.exchange_with_claims(&user, "https://graph.microsoft.com", challenge).await.unwrap();
    let requests = env.token_requests();
    let claims = |i: usize| -> serde_json::Value {
        serde_json::from_str(requests[i].form_value("claims").unwrap()).unwrap()
    };
    assert_eq!(claims(0), serde_json::json!({"access_token": {"xms_cc": {"values": ["cp1"]}}}));
    assert_eq!(
        claims(1),
        serde_json::json!({"access_token": {
            "nbf": {"essential": true, "value": "1700000000"},
            "xms_cc": {"values": ["cp1"]}
        }})
    );
    // Without capabilities nothing is added, and the challenge goes as it came.
    env.mock.clear_requests();
    env.obo().exchange_with_claims(&user, "https://graph.microsoft.com", challenge).await.unwrap();
    let plain = env.obo();
    plain.exchange_on_behalf_of(&user, "https://graph.microsoft.com").await.unwrap();
    let requests = env.token_requests();
    assert_eq!(requests[0].form_value("claims"), Some(challenge));
    assert!(requests[1].form_value("claims").is_none());
}
