//! Multi-tenant sign-in at `organizations`: the `{tenantid}` issuer and the
//! tenant allow-list; CIAM (External ID) issuers in both host forms.

use entra_core::{Authority, CredentialConfig, Tenant, TenantId, TenantPolicy};
use entra_oidc::{CallbackParams, Client, Config, Error, LoginOptions};
use entra_testkit::{MockEntra, TestApp, TestUser};

use crate::support::{CompleteOwn as _, Env, REDIRECT, SECRET, authorize};

fn multi_config(env: &Env) -> Config {
    let mut c =
        Config::new(env.mock.authority_for(Tenant::Organizations), env.app.client_id.clone());
    c.identity.credential = Some(CredentialConfig::secret(SECRET));
    c.redirect_uri = Some(REDIRECT.into());
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allowed_and_refused_tenants() {
    let env = Env::start().await;
    let partner = env.mock.add_tenant();
    let stranger = env.mock.add_tenant();
    let bob = env.mock.add_user(TestUser::new("bob@partner.example").tenant(partner.clone()));
    let eve = env.mock.add_user(TestUser::new("eve@stranger.example").tenant(stranger.clone()));

    // No allow-list: a configuration error, never "any tenant" by accident.
    assert!(matches!(
        Client::new(multi_config(&env)),
        Err(Error::InvalidConfig { field: "allowed_tenants", .. })
    ));

    let mut config = multi_config(&env);
    config.identity.allowed_tenants =
        Some(TenantPolicy::Only(vec![env.mock.tenant_id(), partner.clone()]));
    let client = env.client(config);
    let metadata = client.metadata().await.unwrap();
    assert!(metadata.issuer.contains("{tenantid}"), "{}", metadata.issuer);

    for (user, tid) in [(&env.alice, env.mock.tenant_id()), (&bob, partner.clone())] {
        let login =
            client.begin_with(LoginOptions::new("/").login_hint(&user.username)).await.unwrap();
        let signed_in = client.complete_own(&authorize(login.url()).await).await.unwrap();
        assert_eq!(signed_in.user().tenant_id(), &tid);
    }

    let login = client.begin_with(LoginOptions::new("/").login_hint(&eve.username)).await.unwrap();
    let err = client.complete_own(&authorize(login.url()).await).await.unwrap_err();
    assert!(
        matches!(&err, Error::IdToken(entra_jwks::Error::TenantNotAllowed { tenant }) if *tenant == stranger),
        "{err:?}"
    );
    assert!(err.is_unauthorized());

    // Any tenant (`*`): the issuer template is still checked, every tenant signs in.
    let mut config = multi_config(&env);
    config.identity.allowed_tenants = Some(TenantPolicy::Any);
    let client = env.client(config);
    let login = client.begin_with(LoginOptions::new("/").login_hint(&eve.username)).await.unwrap();
    let signed_in = client.complete_own(&authorize(login.url()).await).await.unwrap();
    assert_eq!(signed_in.user().tenant_id(), &stranger);
}

/// A CIAM (External ID) tenant behind the mock, its login host resolved to
/// loopback: the authority at `contoso.ciamlogin.com`, the issuer (and the
/// published endpoints) at `issuer_host`.
async fn ciam_sign_in(issuer_host: impl Fn(&TenantId) -> String) -> entra_oidc::SignedIn {
    let tid = TenantId::parse("5e3c0a2f-6b1d-4c8e-9f00-7a1b2c3d4e5f").unwrap();
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    let published = format!("https://{}:{port}", issuer_host(&tid));
    let mock = MockEntra::builder()
        .listener(listener)
        .tls(true)
        .tenant_id(tid.clone())
        .public_base_url(published.clone())
        .start()
        .await
        .unwrap();
    let app = mock.register_app(
        TestApp::new("ciam-web").secret("ciam-secret").redirect_uri("http://localhost/cb"),
    );
    let alice = mock.add_user(TestUser::new("alice@contoso.example").name("Alice"));
    // Both CIAM host names reach the mock. Its certificate names only the
    // published host, so this test client does not check names.
    let loopback = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .resolve("contoso.ciamlogin.com", loopback)
        .resolve(&format!("{tid}.ciamlogin.com"), loopback)
        .tls_danger_accept_invalid_certs(true)
        .build()
        .unwrap();
    let authority =
        Authority::parse(&format!("https://contoso.ciamlogin.com:{port}/{tid}")).unwrap();
    assert!(authority.cloud().is_ciam());
    assert_eq!(authority.cloud().graph_base(), "https://graph.microsoft.com");
    let mut config = Config::new(authority, app.client_id.clone());
    config.identity.credential = Some(CredentialConfig::secret("ciam-secret"));
    config.redirect_uri = Some("http://localhost/cb".into());
    let client = Client::builder(config).http_client(http.clone()).build().unwrap();
    let login =
        client.begin_with(LoginOptions::new("/").login_hint(&alice.username)).await.unwrap();
    assert!(login.url().starts_with(&published), "{}", login.url());
    let r = http.get(login.url()).send().await.unwrap();
    assert_eq!(r.status(), 302);
    let callback = CallbackParams::from_url(r.headers()["location"].to_str().unwrap()).unwrap();
    let signed_in = client.complete(&callback, login.state()).await.unwrap();
    assert_eq!(signed_in.user().tenant_id(), &tid);
    assert_eq!(
        signed_in.user().claims().iss.as_deref(),
        Some(format!("{published}/{tid}/v2.0").as_str())
    );
    signed_in
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ciam_issuer_on_the_subdomain_host() {
    ciam_sign_in(|_| "contoso.ciamlogin.com".into()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ciam_issuer_on_the_tenant_id_host() {
    ciam_sign_in(|tid| format!("{tid}.ciamlogin.com")).await;
}
