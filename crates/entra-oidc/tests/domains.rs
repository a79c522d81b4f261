//! Allowed domains in a multi-tenant app (`organizations`, any tenant allowed):
//! a bare wiremock server plays Entra and answers the code redemption with ID
//! tokens minted by the test kit's keys for users of any tenant.

use entra_core::{Authority, ClientId, Cloud, CredentialConfig, Tenant, TenantId, TenantPolicy};
use entra_oidc::{CallbackParams, Client, Config, Error};
use entra_testkit::{MockEntra, TestUser, TokenSpec};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const CID: &str = "6e74172b-be56-4843-9ff4-e66a39bb12e3";

struct Fake {
    kit: MockEntra,
    server: MockServer,
    attacker: TenantId,
    client: Client,
}

impl Fake {
    async fn start() -> Self {
        let kit = MockEntra::start().await;
        let attacker = kit.add_tenant();
        let server = MockServer::start().await;
        let base = format!("{}/organizations", server.uri());
        let template = format!("{}/{{tenantid}}/v2.0", server.uri());
        Mock::given(method("GET"))
            .and(path("/organizations/v2.0/.well-known/openid-configuration"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "issuer": template,
                "authorization_endpoint": format!("{base}/oauth2/v2.0/authorize"),
                "token_endpoint": format!("{base}/oauth2/v2.0/token"),
                "jwks_uri": format!("{base}/discovery/v2.0/keys"),
            })))
            .mount(&server)
            .await;
        let mut jwks = kit.jwks(&kit.tenant_id());
        for key in jwks["keys"].as_array_mut().unwrap() {
            key["issuer"] = template.clone().into();
        }
        Mock::given(method("GET"))
            .and(path("/organizations/discovery/v2.0/keys"))
            .respond_with(ResponseTemplate::new(200).set_body_json(jwks))
            .mount(&server)
            .await;
        let cloud = Cloud::custom(&server.uri(), &server.uri()).unwrap();
        let mut config = Config::new(
            Authority::new(cloud, Tenant::Organizations),
            ClientId::parse(CID).unwrap(),
        );
        config.identity.credential = Some(CredentialConfig::secret("s"));
        config.redirect_uri = Some("http://localhost/cb".into());
        config.identity.allowed_tenants = Some(TenantPolicy::Any);
        config.allowed_domains = vec!["acme.com".into()];
        let client = Client::builder(config).clock(kit.clock()).build().unwrap();
        Self { kit, server, attacker, client }
    }

    /// An ID token for `username` in the attacker's tenant, with the claims of
    /// `change` applied.
    fn token(&self, username: &str, nonce: &str, change: fn(TokenSpec) -> TokenSpec) -> String {
        let user = TestUser::new(username).tenant(self.attacker.clone());
        let iss = format!("{}/{}/v2.0", self.server.uri(), self.attacker);
        let spec = TokenSpec::id_token(&user, &ClientId::parse(CID).unwrap(), Some(nonce))
            .tenant(self.attacker.clone())
            .issuer(iss);
        self.kit.mint(change(spec))
    }

    /// Begins a sign-in, serves the ID token for `username` at the token
    /// endpoint, and completes.
    async fn sign_in(
        &self,
        username: &str,
        change: fn(TokenSpec) -> TokenSpec,
    ) -> Result<entra_oidc::SignedIn, Error> {
        let login = self.client.begin("/").await.unwrap();
        let url = url::Url::parse(login.url()).unwrap();
        let nonce = url.query_pairs().find(|(k, _)| k == "nonce").unwrap().1.into_owned();
        Mock::given(method("POST"))
            .and(path("/organizations/oauth2/v2.0/token"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "token_type": "Bearer", "expires_in": 3600, "scope": "openid profile email",
                "access_token": "opaque-access-token",
                "id_token": self.token(username, &nonce, change),
            })))
            .up_to_n_times(1)
            .mount(&self.server)
            .await;
        self.client.complete(&CallbackParams::new("code", login.state()), login.state()).await
    }
}

fn refused_domain(result: Result<entra_oidc::SignedIn, Error>) -> Option<String> {
    match result {
        Err(e @ Error::DomainNotAllowed { .. }) => {
            assert!(e.is_unauthorized());
            let Error::DomainNotAllowed { domain } = e else { unreachable!() };
            domain
        }
        other => panic!("expected DomainNotAllowed: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_tenants_email_attribute_does_not_pass_the_domain_check() {
    let f = Fake::start().await;

    // Failing: another tenant's admin sets its user's mail to an acme.com address.
    // The token says so in `email`, but the sign-in name is in the attacker's
    // verified domain and no `xms_edov` vouches for the email's domain.
    let err = f
        .sign_in("mallory@attacker.onmicrosoft.com", |s| s.claim("email", json!("ceo@acme.com")))
        .await;
    assert_eq!(refused_domain(err).as_deref(), Some("attacker.onmicrosoft.com"));
    // `xms_edov` present but not the boolean true.
    let err = f
        .sign_in("mallory@attacker.onmicrosoft.com", |s| {
            s.claim("email", json!("ceo@acme.com")).claim("xms_edov", json!("true"))
        })
        .await;
    assert!(refused_domain(err).is_some());
    // A Kelvin sign (U+212A) lowercases to `k` in Unicode, not in ASCII.
    let err = f.sign_in("mallory@\u{212A}cme.com", |s| s).await;
    assert!(refused_domain(err).is_some());
    let err = f
        .sign_in("mallory@attacker.example", |s| {
            s.claim("email", json!("ceo@ACME.com")).claim("xms_edov", json!(false))
        })
        .await;
    assert!(refused_domain(err).is_some());

    // Passing: the sign-in name is in acme.com (Entra only issues it to the
    // tenant that verified acme.com), whatever the email says.
    let ok = f.sign_in("carol@ACME.com", |s| s.claim("email", json!("carol@gmail.com"))).await;
    assert_eq!(ok.unwrap().user().address(), Some("carol@ACME.com"));
    // Passing: the email is in acme.com and Entra marks its domain owner as
    // verified (`xms_edov: true`).
    let ok = f
        .sign_in("dave@partner.onmicrosoft.com", |s| {
            s.claim("email", json!("dave@acme.com")).claim("xms_edov", json!(true))
        })
        .await
        .unwrap();
    assert_eq!(ok.user().verified_email(), Some("dave@acme.com"));
}
