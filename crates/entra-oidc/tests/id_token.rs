//! ID token checks, with crafted tokens: a bare wiremock server plays Entra for
//! a domain tenant (`contoso.com`) and answers the code redemption with ID tokens
//! minted by the test kit's keys. Each rule has a passing and a failing case.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use entra_core::{Authority, ClientId, Cloud, CredentialConfig, Tenant, TenantId};
use entra_oidc::{Algorithm, CallbackParams, Client, Config, Error, SignedIn};
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
        Self::start_with(Vec::new(), |_| {}).await
    }

    /// As [`Fake::start`], with `extra_keys` in the JWKS and `configure` applied
    /// to the sign-in configuration.
    async fn start_with(
        extra_keys: Vec<serde_json::Value>,
        configure: impl FnOnce(&mut Config),
    ) -> Self {
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
        jwks["keys"].as_array_mut().unwrap().extend(extra_keys);
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
        configure(&mut config);
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
        Ok(self.signed_in(id_token).await?.user().object_id().to_owned())
    }

    /// As [`Fake::sign_in`], returning the whole sign-in.
    async fn signed_in(
        &self,
        id_token: impl FnOnce(&Self, &str) -> String,
    ) -> Result<SignedIn, Error> {
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
        self.client.complete(&CallbackParams::new("code", login.state()), login.state()).await
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

/// An ECDSA P-256 key of the test's own (the test kit signs with RSA only): its
/// JWK and a signer of compact JWS.
struct EcKey {
    pair: EcdsaKeyPair,
    kid: &'static str,
}

impl EcKey {
    fn generate() -> Self {
        let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
        Self { pair, kid: "ec-key-1" }
    }

    fn jwk(&self) -> serde_json::Value {
        // The public key is the uncompressed point 0x04 || x || y.
        let point = self.pair.public_key().as_ref();
        serde_json::json!({
            "kty": "EC", "use": "sig", "crv": "P-256", "kid": self.kid,
            "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
            "y": URL_SAFE_NO_PAD.encode(&point[33..65]),
        })
    }

    /// `claims` signed with ES256 (the signature is r || s, 64 bytes).
    fn sign(&self, claims: &serde_json::Value) -> String {
        let header = serde_json::json!({"alg": "ES256", "typ": "JWT", "kid": self.kid});
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let sig = self.pair.sign(&SystemRandom::new(), signing_input.as_bytes()).unwrap();
        format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(sig.as_ref()))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn es256_id_tokens_are_accepted_once_configured() {
    let ec = EcKey::generate();
    let es256 = |f: &Fake, nonce: &str| ec.sign(&f.kit.claims(&f.good(nonce)));

    // Failing: by default only RS256 is accepted, so an ES256 ID token is refused
    // even though its key is published.
    let f = Fake::start_with(vec![ec.jwk()], |_| {}).await;
    match f.sign_in(es256).await {
        Err(Error::IdToken(entra_jwks::Error::AlgorithmNotAllowed { alg })) => {
            assert_eq!(alg, "ES256")
        }
        other => panic!("{other:?}"),
    }

    // Passing: the sign-in configuration enables ES256 (as a file would name it).
    let f = Fake::start_with(vec![ec.jwk()], |c| {
        c.algorithms = serde_json::from_value(serde_json::json!({
            "tenant_id": "72f988bf-86f1-41af-91ab-2d7cd011db47",
            "client_id": CID,
            "algorithms": ["RS256", "ES256"],
        }))
        .map(|parsed: Config| parsed.algorithms)
        .unwrap();
    })
    .await;
    assert_eq!(f.client.config().algorithms, [Algorithm::RS256, Algorithm::ES256]);
    let oid = f.sign_in(es256).await.unwrap();
    assert_eq!(oid, f.alice.oid.to_ascii_lowercase());
    // RS256 still works beside it.
    f.sign_in(|f, n| f.kit.mint(f.good(n))).await.unwrap();

    // The list is exact: with ES256 alone, an RS256 ID token is refused.
    let f = Fake::start_with(vec![ec.jwk()], |c| c.algorithms = vec![Algorithm::ES256]).await;
    f.sign_in(es256).await.unwrap();
    assert!(matches!(
        f.sign_in(|f, n| f.kit.mint(f.good(n))).await,
        Err(Error::IdToken(entra_jwks::Error::AlgorithmNotAllowed { .. }))
    ));
}

#[test]
fn algorithm_names_are_checked() {
    let parse = |algs: serde_json::Value| {
        serde_json::from_value::<Config>(serde_json::json!({
            "tenant_id": "72f988bf-86f1-41af-91ab-2d7cd011db47",
            "client_id": CID,
            "algorithms": algs,
        }))
    };
    assert_eq!(
        parse(serde_json::json!(["ES384", "PS512"])).unwrap().algorithms,
        [Algorithm::ES384, Algorithm::PS512]
    );
    for bad in
        [serde_json::json!(["none"]), serde_json::json!(["HS256"]), serde_json::json!(["es256"])]
    {
        assert!(parse(bad.clone()).is_err(), "{bad}");
    }
    // An empty list would accept nothing: a configuration error at build time.
    let mut config = parse(serde_json::json!([])).unwrap();
    config.redirect_uri = Some("http://localhost/cb".into());
    let err = Client::new(config).unwrap_err();
    assert!(matches!(err, Error::InvalidConfig { field: "algorithms", .. }), "{err:?}");
    // The default is RS256 alone.
    let default: Config = serde_json::from_value(serde_json::json!({
        "tenant_id": "72f988bf-86f1-41af-91ab-2d7cd011db47", "client_id": CID,
    }))
    .unwrap();
    assert_eq!(default.algorithms, [Algorithm::RS256]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_id_and_login_hint_are_typed_and_drive_the_sign_out() {
    let f = Fake::start().await;
    // With both optional claims: `sid` for front-channel logout, `login_hint`
    // for the sign-out request.
    let signed_in = f
        .signed_in(|f, n| {
            f.kit.mint(
                f.good(n)
                    .claim("sid", serde_json::json!("00b5d1c2-sess"))
                    .claim("login_hint", serde_json::json!("O.hint-of-alice")),
            )
        })
        .await
        .unwrap();
    assert_eq!(signed_in.user().sid(), Some("00b5d1c2-sess"));
    assert_eq!(signed_in.user().login_hint(), Some("O.hint-of-alice"));
    let url = f.client.logout_url_for(&signed_in).await.unwrap();
    let pairs: Vec<(String, String)> =
        url::Url::parse(&url).unwrap().query_pairs().into_owned().collect();
    assert!(pairs.contains(&("client_id".into(), CID.into())), "{pairs:?}");
    assert!(pairs.contains(&("logout_hint".into(), "O.hint-of-alice".into())), "{pairs:?}");

    // Without `login_hint` (not configured on the app): the ID token goes as
    // `id_token_hint` instead, still with client_id.
    let signed_in = f
        .signed_in(|f, n| f.kit.mint(f.good(n).without("login_hint").without("sid")))
        .await
        .unwrap();
    assert_eq!((signed_in.user().sid(), signed_in.user().login_hint()), (None, None));
    let url = f.client.logout_url_for(&signed_in).await.unwrap();
    let pairs: Vec<(String, String)> =
        url::Url::parse(&url).unwrap().query_pairs().into_owned().collect();
    let id_token = signed_in.tokens().id_token().unwrap().expose_secret().to_owned();
    assert!(pairs.contains(&("id_token_hint".into(), id_token)), "{pairs:?}");
    assert!(pairs.contains(&("client_id".into(), CID.into())));
    assert!(!pairs.iter().any(|(k, _)| k == "logout_hint"));
}
