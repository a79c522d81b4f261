//! Unit tests of the whole pipeline with self-signed tokens and a wiremock JWKS.
//! The integration tests (tests/) run the same rules against entra-testkit.

use std::sync::Arc;
use std::time::Duration;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256, RsaKeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use entra_core::{Authority, ClientId, Cloud, ManualClock, Tenant, TenantId};
use serde_json::{Value, json};
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::{AcceptedVersions, Error, Match, TenantPolicy, Validator, ValidatorBuilder};

const TID: &str = "11111111-2222-3333-4444-555555555555";
const OTHER_TID: &str = "99999999-2222-3333-4444-555555555555";
const CLIENT: &str = "6e74172b-be56-4843-9ff4-e66a39bb12e3";
const NOW: u64 = 1_800_000_000;

struct Signer {
    kp: RsaKeyPair,
    kid: String,
}

impl Signer {
    fn new(kid: &str) -> Self {
        Self { kp: RsaKeyPair::generate(KeySize::Rsa2048).unwrap(), kid: kid.into() }
    }

    fn jwk(&self, issuer: Option<String>) -> Value {
        let pk = self.kp.public_key();
        let mut j = json!({
            "kty": "RSA", "use": "sig", "kid": self.kid,
            "n": B64.encode(pk.modulus().big_endian_without_leading_zero()),
            "e": B64.encode(pk.exponent().big_endian_without_leading_zero()),
        });
        if let Some(i) = issuer {
            j["issuer"] = json!(i);
        }
        j
    }

    fn sign_raw(&self, header: &Value, claims: &Value) -> String {
        let msg = format!("{}.{}", B64.encode(header.to_string()), B64.encode(claims.to_string()));
        let mut sig = vec![0; self.kp.public_modulus_len()];
        self.kp.sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), msg.as_bytes(), &mut sig).unwrap();
        format!("{msg}.{}", B64.encode(sig))
    }

    /// Signs a payload given as JSON text (which may repeat a member).
    fn sign_text(&self, payload: &str) -> String {
        let header = json!({"typ": "JWT", "alg": "RS256", "kid": self.kid}).to_string();
        let msg = format!("{}.{}", B64.encode(header), B64.encode(payload));
        let mut sig = vec![0; self.kp.public_modulus_len()];
        self.kp.sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), msg.as_bytes(), &mut sig).unwrap();
        format!("{msg}.{}", B64.encode(sig))
    }

    fn sign(&self, claims: &Value) -> String {
        self.sign_raw(&json!({"typ": "JWT", "alg": "RS256", "kid": self.kid}), claims)
    }
}

struct Env {
    server: MockServer,
    clock: ManualClock,
    signer: Signer,
}

impl Env {
    async fn new() -> Self {
        let server = MockServer::start().await;
        let signer = Signer::new("key-1");
        let env = Self { server, clock: ManualClock::at_unix(NOW), signer };
        env.serve(&[env.signer.jwk(None)]).await;
        env
    }

    async fn serve(&self, keys: &[Value]) {
        self.server.reset().await;
        Mock::given(method("GET"))
            .and(path_regex(r".*/discovery/(v2\.0/)?keys$"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "keys": keys })))
            .mount(&self.server)
            .await;
    }

    fn cloud(&self) -> Cloud {
        Cloud::custom(&self.server.uri(), &self.server.uri()).unwrap()
    }

    fn builder(&self) -> ValidatorBuilder {
        let authority = Authority::new(self.cloud(), Tenant::parse(TID).unwrap());
        Validator::builder(authority, CLIENT.parse().unwrap()).clock(Arc::new(self.clock.clone()))
    }

    fn multi(&self, tenant: &str) -> ValidatorBuilder {
        let authority = Authority::new(self.cloud(), Tenant::parse(tenant).unwrap());
        Validator::builder(authority, CLIENT.parse().unwrap()).clock(Arc::new(self.clock.clone()))
    }

    fn claims(&self) -> Value {
        json!({
            "ver": "2.0", "iss": format!("{}/{TID}/v2.0", self.server.uri()), "aud": CLIENT,
            "tid": TID, "oid": "00000000-0000-0000-0000-0000000000aa", "scp": "access_as_user",
            "azp": "22222222-0000-0000-0000-000000000000",
            "iat": NOW - 10, "nbf": NOW - 10, "exp": NOW + 3600,
        })
    }

    fn token(&self) -> String {
        self.signer.sign(&self.claims())
    }

    fn with(&self, f: impl FnOnce(&mut Value)) -> String {
        let mut c = self.claims();
        f(&mut c);
        self.signer.sign(&c)
    }

    async fn fetches(&self) -> usize {
        self.server.received_requests().await.unwrap_or_default().len()
    }
}

#[tokio::test]
async fn accepts_a_valid_v2_token_and_debug_hides_it() {
    let env = Env::new().await;
    let v = env.builder().build().unwrap();
    let token = env.token();
    let ok = v.validate(&token).await.unwrap();
    assert_eq!(ok.claims().tid.as_deref(), Some(TID));
    assert_eq!(ok.raw().expose_secret(), token);
    let sha: [u8; 32] = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token.as_bytes())
        .as_ref()
        .try_into()
        .unwrap();
    assert_eq!(ok.sha256(), &sha);
    let dbg = format!("{ok:?} {v:?}");
    assert!(!dbg.contains(&token[..20]) && !dbg.contains("access_as_user"));
}

#[tokio::test]
async fn expiry_and_not_before_use_the_clock_with_leeway() {
    let env = Env::new().await;
    let v = env.builder().token_cache_capacity(0).build().unwrap();
    let token = env.token();
    env.clock.advance(Duration::from_secs(3600 + 59));
    v.validate(&token).await.unwrap();
    env.clock.advance(Duration::from_secs(1));
    assert!(matches!(v.validate(&token).await, Err(Error::Expired { .. })));

    env.clock.set(std::time::UNIX_EPOCH + Duration::from_secs(NOW));
    let early = env.with(|c| c["nbf"] = json!(NOW + 61));
    assert!(matches!(v.validate(&early).await, Err(Error::NotYetValid { .. })));
    let in_leeway = env.with(|c| c["nbf"] = json!(NOW + 60));
    v.validate(&in_leeway).await.unwrap();
    let no_exp = env.with(|c| {
        c.as_object_mut().unwrap().remove("exp");
    });
    assert!(matches!(v.validate(&no_exp).await, Err(Error::MissingClaim { claim: "exp" })));
}

#[tokio::test]
async fn cached_token_is_rechecked_for_expiry() {
    let env = Env::new().await;
    let v = env.builder().build().unwrap();
    let token = env.token();
    v.validate(&token).await.unwrap();
    v.validate(&token).await.unwrap();
    env.clock.advance(Duration::from_secs(3600 + 60));
    let err = v.validate(&token).await.unwrap_err();
    assert!(matches!(err, Error::Expired { .. }) && err.is_unauthorized());
}

#[tokio::test]
async fn audience_client_id_or_configured() {
    let env = Env::new().await;
    let v = env.builder().build().unwrap();
    let uri_aud = env.with(|c| c["aud"] = json!(format!("api://{CLIENT}")));
    assert!(matches!(v.validate(&uri_aud).await, Err(Error::InvalidAudience)));
    let v = env.builder().audiences([format!("api://{CLIENT}")]).build().unwrap();
    v.validate(&uri_aud).await.unwrap();
    let other = env.with(|c| c["aud"] = json!("api://someone-else"));
    assert!(matches!(v.validate(&other).await, Err(Error::InvalidAudience)));
}

#[tokio::test]
async fn issuer_and_tenant_rules() {
    let env = Env::new().await;
    let v = env.builder().build().unwrap();
    let wrong_iss = env.with(|c| c["iss"] = json!("https://evil.example/x/v2.0"));
    assert!(matches!(v.validate(&wrong_iss).await, Err(Error::InvalidIssuer(_))));
    let other = env.with(|c| {
        c["tid"] = json!(OTHER_TID);
        c["iss"] = json!(format!("{}/{OTHER_TID}/v2.0", env.server.uri()));
    });
    assert!(matches!(v.validate(&other).await, Err(Error::InvalidIssuer(_))));
    let no_tid = env.with(|c| {
        c.as_object_mut().unwrap().remove("tid");
    });
    assert!(matches!(v.validate(&no_tid).await, Err(Error::InvalidIssuer(_))));
}

#[tokio::test]
async fn multi_tenant_template_with_allow_list_and_key_issuer() {
    let env = Env::new().await;
    let template = format!("{}/{{tenantid}}/v2.0", env.server.uri());
    env.serve(&[env.signer.jwk(Some(template))]).await;
    assert!(matches!(env.multi("organizations").build(), Err(Error::TenantPolicyRequired { .. })));
    let tid: TenantId = TID.parse().unwrap();
    let v = env.multi("organizations").tenants(TenantPolicy::Only(vec![tid])).build().unwrap();
    v.validate(&env.token()).await.unwrap();
    let other = env.with(|c| {
        c["tid"] = json!(OTHER_TID);
        c["iss"] = json!(format!("{}/{OTHER_TID}/v2.0", env.server.uri()));
    });
    assert!(matches!(v.validate(&other).await, Err(Error::TenantNotAllowed { .. })));
    let any = env.multi("common").tenants(TenantPolicy::Any).build().unwrap();
    any.validate(&other).await.unwrap();
    // tid does not match the issuer's tenant.
    let mismatch = env.with(|c| c["tid"] = json!(OTHER_TID));
    assert!(matches!(any.validate(&mismatch).await, Err(Error::InvalidIssuer(_))));

    // A key whose own issuer names one tenant cannot sign for another.
    let pinned = format!("{}/{TID}/v2.0", env.server.uri());
    env.serve(&[env.signer.jwk(Some(pinned))]).await;
    let any = env.multi("common").tenants(TenantPolicy::Any).build().unwrap();
    assert!(matches!(any.validate(&other).await, Err(Error::KeyIssuerMismatch(_))));
    any.validate(&env.token()).await.unwrap();
}

#[tokio::test]
async fn versions_pick_their_keys_and_issuers() {
    let env = Env::new().await;
    let v1 = env.with(|c| {
        c["ver"] = json!("1.0");
        c["iss"] = json!(format!("{}/{TID}/", env.server.uri()));
    });
    let only_v2 = env.builder().build().unwrap();
    assert!(matches!(only_v2.validate(&v1).await, Err(Error::VersionNotAccepted { .. })));
    let both = env.builder().versions(AcceptedVersions::Both).build().unwrap();
    both.validate(&v1).await.unwrap();
    both.validate(&env.token()).await.unwrap();
    assert_eq!(both.keys_urls().len(), 2);
    let only_v1 = env.builder().versions(AcceptedVersions::V1).build().unwrap();
    only_v1.validate(&v1).await.unwrap();
    assert!(matches!(only_v1.validate(&env.token()).await, Err(Error::VersionNotAccepted { .. })));
    let no_ver = env.with(|c| {
        c.as_object_mut().unwrap().remove("ver");
    });
    assert!(matches!(both.validate(&no_ver).await, Err(Error::VersionNotAccepted { .. })));
}

#[tokio::test]
async fn refuses_none_hmac_and_bad_signatures() {
    let env = Env::new().await;
    let v = env.builder().build().unwrap();
    let body = B64.encode(env.claims().to_string());
    let none = format!("{}.{body}.", B64.encode(r#"{"alg":"none","kid":"key-1"}"#));
    assert!(matches!(v.validate(&none).await, Err(Error::AlgorithmNotAllowed { .. })));
    let hs_head = B64.encode(r#"{"alg":"HS256","kid":"key-1"}"#);
    let hs = format!("{hs_head}.{body}.{}", B64.encode([7u8; 32]));
    assert!(matches!(v.validate(&hs).await, Err(Error::AlgorithmNotAllowed { .. })));
    // A valid signature over other claims.
    let good = env.token();
    let other = env.with(|c| c["scp"] = json!("admin"));
    let spliced =
        format!("{}.{}", other.rsplit_once('.').unwrap().0, good.rsplit_once('.').unwrap().1);
    assert!(matches!(v.validate(&spliced).await, Err(Error::InvalidSignature)));
    // Signed by a key that is not published under that kid.
    let stranger = Signer::new("key-1").sign(&env.claims());
    assert!(matches!(v.validate(&stranger).await, Err(Error::InvalidSignature)));
    v.validate(&good).await.unwrap();
}

#[tokio::test]
async fn refuses_signed_payloads_that_repeat_a_claim() {
    let env = Env::new().await;
    let v = env.builder().build().unwrap();
    let claims = env.claims().to_string();
    // The same claims, signed: accepted.
    v.validate(&env.signer.sign_text(&claims)).await.unwrap();
    // A second `aud` (or `tid`) after the good one: which one would a reader see?
    for dup in
        [r#","aud":"api://someone-else"}"#, r#","tid":"99999999-2222-3333-4444-555555555555"}"#]
    {
        let twice = format!("{}{dup}", claims.strip_suffix('}').unwrap());
        let e = v.validate(&env.signer.sign_text(&twice)).await.unwrap_err();
        assert!(matches!(e, Error::Malformed { .. }), "{e:?}");
        assert_eq!(e.code(), "token_malformed");
    }
}

#[tokio::test]
async fn refuses_graph_tokens_up_front() {
    let env = Env::new().await;
    let v = env.builder().build().unwrap();
    let header = json!({"typ": "JWT", "alg": "RS256", "kid": "key-1", "nonce": "abc"});
    let with_nonce = env.signer.sign_raw(&header, &env.claims());
    assert!(matches!(v.validate(&with_nonce).await, Err(Error::ForGraph)));
    let graph = env.with(|c| c["aud"] = json!("https://graph.microsoft.com"));
    assert!(matches!(v.validate(&graph).await, Err(Error::ForGraph)));
    assert_eq!(env.fetches().await, 0, "refused before any key fetch");
    v.validate(&env.token()).await.unwrap();
}

#[tokio::test]
async fn refuses_malformed_and_oversized_tokens_before_fetching() {
    let env = Env::new().await;
    let v = env.builder().max_token_bytes(4096).build().unwrap();
    for bad in ["", "a.b", "a.b.c.d", "a b.c.d", "@@@.e30.x", "e30.e30.", "e30.bm90anNvbg.x"] {
        assert!(matches!(v.validate(bad).await, Err(Error::Malformed { .. })), "{bad:?}");
    }
    let big = format!("{}.e30.x", "a".repeat(5000));
    assert!(matches!(v.validate(&big).await, Err(Error::TokenTooLarge { .. })));
    let crit = env
        .signer
        .sign_raw(&json!({"alg": "RS256", "kid": "key-1", "crit": ["exp"]}), &env.claims());
    assert!(matches!(v.validate(&crit).await, Err(Error::Malformed { .. })));
    let no_kid = env.signer.sign_raw(&json!({"alg": "RS256"}), &env.claims());
    assert!(matches!(v.validate(&no_kid).await, Err(Error::MissingKeyId)));
    assert_eq!(env.fetches().await, 0);
    let err = v.validate(&big).await.unwrap_err();
    assert!(!err.to_string().contains("aaaa"));
}

#[tokio::test]
async fn scopes_roles_and_app_only() {
    let env = Env::new().await;
    let user = env.with(|c| c["scp"] = json!("Files.Read access_as_user"));
    let app = env.with(|c| {
        c.as_object_mut().unwrap().remove("scp");
        c["roles"] = json!(["Tasks.Read"]);
        c["idtyp"] = json!("app");
    });
    let nothing = env.with(|c| {
        c.as_object_mut().unwrap().remove("scp");
    });

    let v = env.builder().build().unwrap();
    v.validate(&user).await.unwrap();
    v.validate(&app).await.unwrap();
    assert!(matches!(v.validate(&nothing).await, Err(Error::NoPermissions)));

    let v = env.builder().allow_app_only(false).build().unwrap();
    v.validate(&user).await.unwrap();
    assert!(matches!(v.validate(&app).await, Err(Error::AppOnlyNotAllowed)));

    let any =
        env.builder().required_scopes(Match::any_of(["x", "access_as_user"])).build().unwrap();
    any.validate(&user).await.unwrap();
    let all =
        env.builder().required_scopes(Match::all_of(["x", "access_as_user"])).build().unwrap();
    assert!(matches!(all.validate(&user).await, Err(Error::InsufficientPermissions)));
    let all = env
        .builder()
        .required_scopes(Match::all_of(["Files.Read", "access_as_user"]))
        .build()
        .unwrap();
    all.validate(&user).await.unwrap();
    assert!(matches!(all.validate(&app).await, Err(Error::InsufficientPermissions)));

    let roles = env.builder().required_roles(Match::any_of(["Tasks.Read"])).build().unwrap();
    roles.validate(&app).await.unwrap();
    assert!(matches!(roles.validate(&user).await, Err(Error::InsufficientPermissions)));

    let either = env
        .builder()
        .required_scopes(Match::any_of(["access_as_user"]))
        .required_roles(Match::any_of(["Tasks.Read"]))
        .scopes_or_roles(true)
        .build()
        .unwrap();
    either.validate(&app).await.unwrap();
    either.validate(&user).await.unwrap();
    let both = env
        .builder()
        .required_scopes(Match::any_of(["access_as_user"]))
        .required_roles(Match::any_of(["Tasks.Read"]))
        .build()
        .unwrap();
    assert!(matches!(both.validate(&app).await, Err(Error::InsufficientPermissions)));
    assert!(env.builder().required_roles(Match::any_of(Vec::<String>::new())).build().is_err());
}

#[tokio::test]
async fn id_tokens_check_nonce_and_client_audience() {
    let env = Env::new().await;
    let v = env.builder().audiences(["api://extra"]).build().unwrap();
    let id = env.with(|c| {
        c.as_object_mut().unwrap().remove("scp");
        c["nonce"] = json!("n-123");
    });
    v.validate_id_token(&id, "n-123").await.unwrap();
    assert!(matches!(v.validate_id_token(&id, "n-124").await, Err(Error::NonceMismatch)));
    assert!(matches!(v.validate_id_token(&id, "").await, Err(Error::NonceMismatch)));
    let no_nonce = env.with(|c| {
        c.as_object_mut().unwrap().remove("nonce");
    });
    assert!(matches!(v.validate_id_token(&no_nonce, "n-123").await, Err(Error::NonceMismatch)));
    let extra_aud = env.with(|c| {
        c["nonce"] = json!("n-123");
        c["aud"] = json!("api://extra");
    });
    assert!(matches!(v.validate_id_token(&extra_aud, "n-123").await, Err(Error::InvalidAudience)));
}

#[tokio::test]
async fn unknown_kid_refetches_at_most_once_per_interval() {
    let env = Env::new().await;
    let v = env.builder().build().unwrap();
    v.validate(&env.token()).await.unwrap();
    assert_eq!(env.fetches().await, 1);
    let unknown = Signer::new("key-2");
    let t = unknown.sign(&env.claims());
    assert!(matches!(v.validate(&t).await, Err(Error::UnknownKeyId { .. })));
    assert_eq!(env.fetches().await, 2);
    assert!(matches!(v.validate(&t).await, Err(Error::UnknownKeyId { .. })));
    assert_eq!(env.fetches().await, 2, "rate limited");
    // The key gets published; after the interval it is found.
    let keys = [env.signer.jwk(None), unknown.jwk(None)];
    env.server.reset().await;
    Mock::given(method("GET"))
        .and(path_regex(r".*/keys$"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "keys": keys })))
        .mount(&env.server)
        .await;
    env.clock.advance(Duration::from_secs(300));
    v.validate(&t).await.unwrap();
    assert_eq!(v.key_fetches(), 3);
}

#[tokio::test]
async fn outage_keeps_last_good_keys_then_turns_transient() {
    let env = Env::new().await;
    let v = env
        .builder()
        .token_cache_capacity(0)
        .refresh_interval(Duration::from_secs(3600))
        .stale_grace(Duration::from_secs(7200))
        .build()
        .unwrap();
    v.refresh_keys().await.unwrap();
    env.server.reset().await;
    Mock::given(method("GET")).respond_with(ResponseTemplate::new(500)).mount(&env.server).await;
    env.clock.advance(Duration::from_secs(3601));
    let fresh = || {
        env.with(|c| {
            c["exp"] = json!(NOW + 100_000);
        })
    };
    v.validate(&fresh()).await.unwrap();
    assert_eq!(v.key_fetches(), 2, "refresh attempted, stale keys used");
    env.clock.advance(Duration::from_secs(7200));
    let err = v.validate(&fresh()).await.unwrap_err();
    assert!(err.is_transient() && !err.is_unauthorized(), "{err:?}");
    assert!(matches!(err, Error::KeysUnavailable { source: Some(_) }));
}

#[tokio::test]
async fn cold_outage_is_transient_and_size_capped() {
    let env = Env::new().await;
    env.server.reset().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_string("x".repeat(10_000)))
        .mount(&env.server)
        .await;
    let v = env.builder().jwks_max_bytes(1000).build().unwrap();
    let err = v.validate(&env.token()).await.unwrap_err();
    assert!(err.is_transient(), "{err:?}");
    let Error::KeysUnavailable { source: Some(source) } = &err else { panic!("{err:?}") };
    assert!(matches!(**source, crate::JwksError::TooLarge { .. }));
    // Within the retry interval no new fetch happens.
    assert!(v.validate(&env.token()).await.unwrap_err().is_transient());
    assert_eq!(v.key_fetches(), 1);
}

#[test]
fn builder_requires_choices_and_rejects_empty_lists() {
    let authority = Authority::new(Cloud::Public, Tenant::parse("contoso.com").unwrap());
    let client: ClientId = CLIENT.parse().unwrap();
    assert!(matches!(
        Validator::builder(authority.clone(), client.clone()).build(),
        Err(Error::TenantPolicyRequired { .. })
    ));
    assert!(
        Validator::builder(authority.clone(), client.clone())
            .tenants(TenantPolicy::Only(vec![]))
            .build()
            .is_err()
    );
    assert!(
        Validator::builder(authority, client.clone())
            .tenants(TenantPolicy::Any)
            .algorithms([])
            .build()
            .is_err()
    );
    let single = Authority::new(Cloud::Public, Tenant::parse(TID).unwrap());
    let v = Validator::builder(single, client).build().unwrap();
    assert_eq!(v.options().tenants, TenantPolicy::Only(vec![TID.parse().unwrap()]));
    assert_eq!(
        v.keys_urls(),
        vec![format!("https://login.microsoftonline.com/{TID}/discovery/v2.0/keys")]
    );
}

#[test]
fn leeway_is_capped_at_five_minutes() {
    let single = Authority::new(Cloud::Public, Tenant::parse(TID).unwrap());
    let client: ClientId = CLIENT.parse().unwrap();
    let at_cap = Validator::builder(single.clone(), client.clone())
        .leeway(crate::Options::MAX_LEEWAY)
        .build()
        .unwrap();
    assert_eq!(at_cap.options().leeway, Duration::from_secs(300));
    let e =
        Validator::builder(single, client).leeway(Duration::from_secs(301)).build().unwrap_err();
    assert!(matches!(e, Error::LeewayTooLarge { .. }) && e.is_config(), "{e:?}");
    assert_eq!(e.code(), "leeway_too_large");
    assert_eq!(e.to_string(), "leeway of 301s is more than the maximum of 300s");
}

#[tokio::test]
async fn cache_hit_requires_the_same_bytes() {
    let env = Env::new().await;
    let v = env.builder().build().unwrap();
    let good = env.token();
    v.validate(&good).await.unwrap();
    // The second validation is a shared-cache hit, which this thread keeps.
    v.validate(&good).await.unwrap();
    // Same signature part (so the same hash), other claims: not a cache hit in
    // either cache, and refused.
    let other = env.with(|c| c["scp"] = json!("admin"));
    let spliced =
        format!("{}.{}", other.rsplit_once('.').unwrap().0, good.rsplit_once('.').unwrap().1);
    assert!(matches!(v.validate(&spliced).await, Err(Error::InvalidSignature)));
    let hit = v.validate(&good).await.unwrap();
    assert_eq!(hit.raw().expose_secret(), good);
}

/// The seam's answer without waiting (`TokenValidator::validate_cached`), which
/// the bearer middleware takes before awaiting `validate`: only for a token
/// validated before, byte for byte, with its key still published and its `exp`
/// checked again, or a token refused at once for its size.
#[tokio::test]
async fn the_answer_without_waiting_is_only_for_tokens_validated_before() {
    use entra_core::TokenValidator;
    let env = Env::new().await;
    let v = env.builder().build().unwrap();
    let seam: &dyn TokenValidator = &v;
    let cached = |token: &str| seam.validate_cached(token.as_bytes());
    let cached_error = |token: &str| {
        let e = cached(token).expect("answered").unwrap_err();
        e.downcast_ref::<Error>().map(Error::code)
    };
    let token = env.token();
    assert!(cached(&token).is_none(), "never validated: verified by `validate`");
    v.validate(&token).await.unwrap();
    let hit = cached(&token).expect("validated before").unwrap();
    assert_eq!(hit.raw().expose_secret(), token);
    // An answer vouches for the token's syntax (the bearer layer then skips its
    // `token68` check), so `validate` must accept nothing but base64url parts
    // and dots: a byte outside them anywhere in a part (first, middle or last
    // of each), or a byte appended, is refused and never answered.
    let (first_dot, last_dot) = (token.find('.').unwrap(), token.rfind('.').unwrap());
    let mut positions = vec![0, first_dot / 2, first_dot - 1, first_dot + 1];
    positions.extend([(first_dot + last_dot) / 2, last_dot - 1, last_dot + 1, token.len() - 1]);
    let mut variants: Vec<String> = ["=", " ", ".", ",", "+"].map(|b| format!("{token}{b}")).into();
    for at in positions {
        for bad in [" ", ",", "=", "+", "/", "~", "\t", "é"] {
            variants.push(format!("{}{bad}{}", &token[..at], &token[at + 1..]));
        }
    }
    for variant in &variants {
        assert!(v.validate(variant).await.is_err(), "{variant}");
        assert!(cached(variant).is_none(), "{variant}");
    }
    // From another thread: the shared cache's answer.
    std::thread::scope(|s| {
        s.spawn(|| assert!(cached(&token).expect("shared").is_ok())).join().unwrap();
    });
    // Another token ending with the same signature part (same hash): not answered.
    let other = env.with(|c| c["scp"] = json!("admin"));
    let spliced =
        format!("{}.{}", other.rsplit_once('.').unwrap().0, token.rsplit_once('.').unwrap().1);
    assert!(cached(&spliced).is_none());
    // Too large: refused at once, as `validate` does.
    let big = "a".repeat(v.options().max_token_bytes + 1);
    assert_eq!(cached_error(&big), Some("token_too_large"));
    // Expired since: never answered as valid (its cache entries end with it).
    env.clock.advance(Duration::from_secs(3600 + 61));
    assert!(!matches!(cached(&token), Some(Ok(_))));
    assert!(matches!(v.validate(&token).await, Err(Error::Expired { .. })));
    env.clock.set(std::time::UNIX_EPOCH + Duration::from_secs(NOW));
    assert!(cached(&token).expect("cached").is_ok());
    // Its key withdrawn: no answer, `validate` verifies it again (and refuses it).
    env.serve(&[Signer::new("key-2").jwk(None)]).await;
    v.refresh_keys().await.unwrap();
    assert!(cached(&token).is_none());
    // Without the cache, nothing is ever answered without waiting.
    let uncached = env.builder().token_cache_capacity(0).build().unwrap();
    assert!(TokenValidator::validate_cached(&uncached, token.as_bytes()).is_none());
}

#[tokio::test]
async fn typ_must_be_jwt_when_present() {
    let env = Env::new().await;
    let v = env.builder().build().unwrap();
    let signed = |header: Value| env.signer.sign_raw(&header, &env.claims());
    // No `typ`, or `JWT` in any case: accepted.
    for ok in [
        json!({"alg": "RS256", "kid": "key-1"}),
        json!({"typ": "jwt", "alg": "RS256", "kid": "key-1"}),
    ] {
        v.validate(&signed(ok)).await.unwrap();
    }
    // Another kind of JWS, validly signed by the trusted key: refused by name.
    for typ in ["logout+jwt", "dpop+jwt", "at+jwt", "JWS", ""] {
        let e = v
            .validate(&signed(json!({"typ": typ, "alg": "RS256", "kid": "key-1"})))
            .await
            .unwrap_err();
        assert!(matches!(e, Error::TokenTypeNotAllowed { .. }), "{typ:?}: {e:?}");
        assert_eq!(e.code(), "token_type_not_allowed");
    }
}

#[tokio::test]
async fn token_parts_are_strict_base64url() {
    let env = Env::new().await;
    let v = env.builder().build().unwrap();
    let good = env.token();
    let (h, rest) = good.split_once('.').unwrap();
    let (p, s) = rest.split_once('.').unwrap();
    v.validate(&good).await.unwrap();
    let pad = |x: &str| format!("{x}{}", "=".repeat(((4 - x.len() % 4) % 4).max(1)));
    // `=` padding on any part (the signature of a 2048-bit key is 342 characters,
    // so it takes `==`), the standard alphabet's `+` and `/`, and a
    // non-canonical last character (an unused low bit set: the same bytes under
    // a tolerant decoder) are each refused as malformed, before any signature
    // check: a padded header or payload would otherwise fail only as a
    // signature mismatch, since the signature covers the text as sent.
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let last = ALPHABET.iter().position(|&c| c == *s.as_bytes().last().unwrap()).unwrap();
    assert_eq!(last & 0b1111, 0, "256 bytes end with 2 bits in the last character");
    let noncanonical = format!("{}{}", &s[..s.len() - 1], ALPHABET[last | 1] as char);
    for (what, bad) in [
        ("padded header", format!("{}.{p}.{s}", pad(h))),
        ("padded payload", format!("{h}.{}.{s}", pad(p))),
        ("padded signature", format!("{h}.{p}.{}", pad(s))),
        ("standard alphabet", format!("{h}.{p}.{}", s.replace('-', "+").replace('_', "/"))),
        ("non-canonical signature", format!("{h}.{p}.{noncanonical}")),
    ] {
        if bad == good {
            continue;
        }
        let e = v.validate(&bad).await.unwrap_err();
        assert!(matches!(e, Error::Malformed { .. }), "{what}: {e:?}");
    }
}

#[tokio::test]
async fn cached_validations_go_with_their_key() {
    let env = Env::new().await;
    let v = env.builder().build().unwrap();
    let old = env.token();
    v.validate(&old).await.unwrap();
    // Answered from the cache (no fetch) while the key is published.
    v.validate(&old).await.unwrap();
    // The key is retired: the JWKS now publishes only a new key, and the keys are
    // refreshed (here explicitly; a token with the new kid does the same).
    let next = Signer::new("key-2");
    env.serve(&[next.jwk(None)]).await;
    v.refresh_keys().await.unwrap();
    let e = v.validate(&old).await.unwrap_err();
    assert!(matches!(e, Error::UnknownKeyId { .. }), "{e:?}");
    // Tokens of the new key are validated and cached as usual.
    let new = next.sign(&env.claims());
    v.validate(&new).await.unwrap();
    v.validate(&new).await.unwrap();
}

#[tokio::test]
async fn a_key_republished_unchanged_keeps_its_cached_validations() {
    let env = Env::new().await;
    let v = env.builder().build().unwrap();
    let token = env.token();
    v.validate(&token).await.unwrap();
    // The same key plus a new one: nothing retired, the cached token stays.
    env.serve(&[env.signer.jwk(None), Signer::new("key-2").jwk(None)]).await;
    v.refresh_keys().await.unwrap();
    let before = env.fetches().await;
    v.validate(&token).await.unwrap();
    assert_eq!(env.fetches().await, before);
    // The same kid with other key material is a replacement: the cached token goes.
    env.serve(&[Signer::new("key-1").jwk(None)]).await;
    v.refresh_keys().await.unwrap();
    assert!(matches!(v.validate(&token).await, Err(Error::InvalidSignature)));
}

#[test]
fn cache_hits_are_answered_from_each_thread_and_go_with_the_key() {
    // Several OS threads (each with its own hot entries) see the retirement.
    let rt =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(async {
        let env = Env::new().await;
        let v = env.builder().build().unwrap();
        let token = env.token();
        v.validate(&token).await.unwrap();
        let hit = |v: Validator, token: String| {
            std::thread::spawn(move || {
                let rt =
                    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
                (0..3).map(|_| rt.block_on(v.validate(&token)).is_ok()).collect::<Vec<_>>()
            })
        };
        let before: Vec<_> = (0..3).map(|_| hit(v.clone(), token.clone())).collect();
        for h in before {
            assert_eq!(h.join().unwrap(), [true, true, true]);
        }
        env.serve(&[Signer::new("key-2").jwk(None)]).await;
        v.refresh_keys().await.unwrap();
        let after: Vec<_> = (0..3).map(|_| hit(v.clone(), token.clone())).collect();
        for h in after {
            assert_eq!(h.join().unwrap(), [false, false, false]);
        }
    });
}

/// Collects formatted `tracing` output.
#[derive(Clone, Default)]
struct Logs(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn outage_is_reported_as_a_tracing_warning_without_tokens() {
    // One process-wide subscriber: a thread-local `set_default` races with the
    // callsite-interest cache of tests running on other threads.
    static LOGS: std::sync::OnceLock<Logs> = std::sync::OnceLock::new();
    let logs = LOGS.get_or_init(|| {
        let logs = Logs::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::WARN)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::set_global_default(subscriber).unwrap();
        logs
    });

    let env = Env::new().await;
    let v = env.builder().token_cache_capacity(0).build().unwrap();
    let token = env.with(|c| c["exp"] = json!(NOW + 100_000));
    v.validate(&token).await.unwrap();
    env.server.reset().await;
    Mock::given(method("GET")).respond_with(ResponseTemplate::new(500)).mount(&env.server).await;
    env.clock.advance(Duration::from_secs(3601));
    v.validate(&token).await.unwrap();

    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(text.contains("WARN"), "{text}");
    assert!(text.contains("still validating with the last good signing keys"), "{text}");
    assert!(text.contains("status 500"), "{text}");
    assert!(!text.contains(&token[..40]) && !text.contains(token.rsplit_once('.').unwrap().1));
}
