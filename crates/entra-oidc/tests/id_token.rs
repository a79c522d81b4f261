//! ID token checks, with crafted tokens: a bare wiremock server plays Entra for
//! a domain tenant (`contoso.com`) and answers the code redemption with ID tokens
//! minted by the test kit's keys. Each rule has a passing and a failing case.

use entra_core::{Authority, ClientId, Cloud, CredentialConfig, Tenant, TenantId};
use entra_oidc::{CallbackParams, Client, Config, Error};
use entra_testkit::{MockEntra, TestUser, TokenSpec};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const CID: &str = "6e74172b-be56-4843-9ff4-e66a39bb12e3";

struct Fake {
    kit: MockEntra,
    server: MockServer,
    tid: TenantId,
    alice: TestUser,
    client: Client,
}

impl Fake {
    async fn start() -> Self {
        let kit = MockEntra::start().await;
        let tid = kit.tenant_id();
        let alice = kit.add_user(TestUser::new("alice@contoso.com").name("Alice"));
        let server = MockServer::start().await;
        let base = format!("{}/contoso.com", server.uri());
        let issuer = format!("{}/{tid}/v2.0", server.uri());
        Mock::given(method("GET"))
            .and(path("/contoso.com/v2.0/.well-known/openid-configuration"))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
                "issuer": issuer,
                "authorization_endpoint": format!("{base}/oauth2/v2.0/authorize"),
                "token_endpoint": format!("{base}/oauth2/v2.0/token"),
                "jwks_uri": format!("{}/{tid}/discovery/v2.0/keys", server.uri()),
            })))
            .mount(&server)
            .await;
        let mut jwks = kit.jwks(&tid);
        for key in jwks["keys"].as_array_mut().unwrap() {
            key["issuer"] = issuer.clone().into();
        }
        Mock::given(method("GET"))
            .and(path(format!("/{tid}/discovery/v2.0/keys")))
            .respond_with(ResponseTemplate::new(200).set_body_json(jwks))
            .mount(&server)
            .await;
        let cloud = Cloud::custom(&server.uri(), &server.uri()).unwrap();
        let mut config = Config::new(
            Authority::new(cloud, Tenant::parse("contoso.com").unwrap()),
            ClientId::parse(CID).unwrap(),
        );
        config.identity.credential = Some(CredentialConfig::secret("s"));
        config.redirect_uri = Some("http://localhost/cb".into());
        let client = Client::builder(config).clock(kit.clock()).build().unwrap();
        Self { kit, server, tid, alice, client }
    }

    fn issuer(&self) -> String {
        format!("{}/{}/v2.0", self.server.uri(), self.tid)
    }

    /// A valid ID token for this sign-in.
    fn good(&self, nonce: &str) -> TokenSpec {
        TokenSpec::id_token(&self.alice, &ClientId::parse(CID).unwrap(), Some(nonce))
            .issuer(self.issuer())
    }

    /// Begins a sign-in, serves `id_token` (built from the nonce) at the token
    /// endpoint, and completes.
    async fn sign_in(&self, id_token: impl FnOnce(&Self, &str) -> String) -> Result<String, Error> {
        let login = self.client.begin("/").await.unwrap();
        let url = url::Url::parse(login.url()).unwrap();
        let nonce = url.query_pairs().find(|(k, _)| k == "nonce").unwrap().1.into_owned();
        let token = id_token(self, &nonce);
        Mock::given(method("POST"))
            .and(path("/contoso.com/oauth2/v2.0/token"))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
                "token_type": "Bearer", "expires_in": 3600, "scope": "openid profile email",
                "access_token": "opaque-access-token", "id_token": token,
            })))
            .up_to_n_times(1)
            .mount(&self.server)
            .await;
        let signed_in = self.client.complete(&CallbackParams::new("code", login.state())).await?;
        Ok(signed_in.user().object_id().to_owned())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn domain_tenant_sign_in_and_each_refusal() {
    let f = Fake::start().await;
    // Passing: a domain authority resolves its tenant through discovery.
    let oid = f.sign_in(|f, n| f.kit.mint(f.good(n))).await.unwrap();
    assert_eq!(oid, f.alice.oid.to_ascii_lowercase());

    let other_tenant = TenantId::parse("00000000-0000-0000-0000-0000000000aa").unwrap();
    type Make = Box<dyn FnOnce(&Fake, &str) -> String>;
    type Check = fn(&entra_jwks::Error) -> bool;
    let cases: Vec<(&str, Make, Check)> = vec![
        (
            "audience of another app",
            Box::new(|f, n| f.kit.mint(f.good(n).audience("11111111-2222-3333-4444-555555555555"))),
            |e| matches!(e, entra_jwks::Error::InvalidAudience),
        ),
        ("expired", Box::new(|f, n| f.kit.mint(f.good(n).expired())), |e| {
            matches!(e, entra_jwks::Error::Expired { .. })
        }),
        ("not yet valid", Box::new(|f, n| f.kit.mint(f.good(n).not_yet_valid())), |e| {
            matches!(e, entra_jwks::Error::NotYetValid { .. })
        }),
        ("unsigned", Box::new(|f, n| f.kit.mint(f.good(n).unsigned())), |e| {
            matches!(e, entra_jwks::Error::AlgorithmNotAllowed { .. })
        }),
        (
            "hs256 with a guessable secret",
            Box::new(|f, n| f.kit.mint(f.good(n).hs256(b"secret"))),
            |e| matches!(e, entra_jwks::Error::AlgorithmNotAllowed { .. }),
        ),
        (
            "signed by an unpublished key",
            Box::new(|f, n| f.kit.mint(f.good(n).unpublished_key())),
            |e| {
                matches!(
                    e,
                    entra_jwks::Error::UnknownKeyId { .. } | entra_jwks::Error::InvalidSignature
                )
            },
        ),
        (
            "issued by another tenant",
            Box::new(move |f, n| {
                let iss = format!("{}/{other_tenant}/v2.0", f.server.uri());
                f.kit.mint(f.good(n).tenant(other_tenant).issuer(iss))
            }),
            |e| !matches!(e, entra_jwks::Error::KeysUnavailable { .. }),
        ),
        (
            "issuer of another host",
            Box::new(|f, n| {
                let iss = format!("https://login.microsoftonline.com/{}/v2.0", f.tid);
                f.kit.mint(f.good(n).issuer(iss))
            }),
            |e| {
                matches!(
                    e,
                    entra_jwks::Error::InvalidIssuer(_) | entra_jwks::Error::KeyIssuerMismatch(_)
                )
            },
        ),
        ("no nonce", Box::new(|f, _| f.kit.mint(f.good("x").without("nonce"))), |e| {
            matches!(e, entra_jwks::Error::NonceMismatch)
        }),
    ];
    for (name, token, expected) in cases {
        match f.sign_in(token).await {
            Err(Error::IdToken(e)) => assert!(expected(&e), "{name}: {e:?}"),
            other => panic!("{name}: {other:?}"),
        }
    }

    // An ID token without the identity claims cannot sign anyone in.
    let err = f.sign_in(|f, n| f.kit.mint(f.good(n).without("oid"))).await.unwrap_err();
    assert!(matches!(err, Error::MissingIdentity | Error::IdToken(_)), "{err:?}");
    // A token response without an ID token.
    let err = f.sign_in(|_, _| String::new()).await.unwrap_err();
    assert!(matches!(err, Error::MissingIdToken), "{err:?}");
}
