//! Validation rules: each with an accepted and a refused token minted by the mock.

use std::time::Duration;

use entra_core::{GRAPH_APP_ID, Tenant, TokenValidator, TokenVersion};
use entra_jwks::{AcceptedVersions, Algorithm, Error, Match, TenantPolicy, Validator};
use entra_testkit::jsonwebtoken;
use entra_testkit::{TestApp, TokenSpec};
use serde_json::json;

use crate::common::setup;

#[tokio::test]
async fn accepts_a_v2_access_token_with_typed_claims() {
    let s = setup().await;
    let v = s.validator();
    let token = s.token();
    let ok = v.validate(&token).await.unwrap();
    let claims = ok.claims();
    assert_eq!(claims.oid.as_deref(), Some(s.alice.oid.as_str()));
    assert_eq!(claims.tenant_id(), Some(s.mock.tenant_id()));
    assert!(claims.has_scope("access_as_user") && !claims.is_app_only());
    assert_eq!(ok.raw().expose_secret(), token);
    let shown = format!("{ok:?} {v:?}");
    assert!(!shown.contains(&token[token.len() - 30..]), "Debug never shows the token");
    // Through the entra-core seam.
    async fn via_seam<V: TokenValidator>(v: &V, t: &str) -> bool {
        v.validate(t).await.is_ok()
    }
    assert!(via_seam(&v, &token).await);
}

#[tokio::test]
async fn expiry_and_not_before_follow_the_clock() {
    let s = setup().await;
    let v = s.builder().token_cache_capacity(0).build().unwrap();
    let token = s.token();
    v.validate(&token).await.unwrap();
    s.clock.advance(Duration::from_secs(3600 + 30));
    v.validate(&token).await.unwrap(); // within the 60 s leeway
    s.clock.advance(Duration::from_secs(31));
    let err = v.validate(&token).await.unwrap_err();
    assert!(matches!(err, Error::Expired { .. }) && err.is_unauthorized() && !err.is_transient());

    let expired = s.mock.mint(TokenSpec::access_v2(&s.alice, &s.api).expired());
    assert!(matches!(v.validate(&expired).await, Err(Error::Expired { .. })));
    let early = s.mock.mint(TokenSpec::access_v2(&s.alice, &s.api).not_yet_valid());
    assert!(matches!(v.validate(&early).await, Err(Error::NotYetValid { .. })));
    s.clock.advance(Duration::from_secs(3600));
    v.validate(&early).await.unwrap();
    let no_exp = s.mock.mint(TokenSpec::access_v2(&s.alice, &s.api).without("exp"));
    assert!(matches!(v.validate(&no_exp).await, Err(Error::MissingClaim { claim: "exp" })));
}

#[tokio::test]
async fn repeated_validation_is_cached_but_expiry_is_rechecked() {
    let s = setup().await;
    let v = s.validator();
    let token = s.token();
    let first = v.validate(&token).await.unwrap();
    let again = v.validate(&token).await.unwrap();
    assert_eq!(first.sha256(), again.sha256());
    s.clock.advance(Duration::from_secs(3600 + 61));
    assert!(matches!(v.validate(&token).await, Err(Error::Expired { .. })));
}

#[tokio::test]
async fn audience_is_the_client_id_or_a_configured_one() {
    let s = setup().await;
    let v = s.validator();
    let for_other_api = s.mock.access_token(&s.alice, &s.mock.default_api());
    assert!(matches!(v.validate(&for_other_api).await, Err(Error::InvalidAudience)));
    let by_uri = s.mock.mint(TokenSpec::access_v2(&s.alice, &s.api).audience(s.api.app_id_uri()));
    assert!(matches!(v.validate(&by_uri).await, Err(Error::InvalidAudience)));
    let v = s.builder().audiences([s.api.app_id_uri()]).build().unwrap();
    v.validate(&by_uri).await.unwrap();
    v.validate(&s.token()).await.unwrap();
}

#[tokio::test]
async fn v1_and_v2_tokens_follow_accepted_versions() {
    let s = setup().await;
    let v1_api = s.mock.register_app(
        TestApp::new("v1-api")
            .expose_scope("user_impersonation")
            .access_token_version(TokenVersion::V1),
    );
    let v1_token = s.mock.access_token(&s.alice, &v1_api);
    let v2_token = s.mock.mint(TokenSpec::access_v2(&s.alice, &v1_api));
    let builder = || {
        Validator::builder(s.mock.authority(), v1_api.client_id.clone())
            .clock(std::sync::Arc::new(s.clock.clone()))
            .audiences([v1_api.app_id_uri()])
    };
    let only_v1 = builder().versions(AcceptedVersions::V1).build().unwrap();
    let ok = only_v1.validate(&v1_token).await.unwrap();
    assert_eq!(ok.claims().version(), Some(TokenVersion::V1));
    assert!(matches!(only_v1.validate(&v2_token).await, Err(Error::VersionNotAccepted { .. })));
    let only_v2 = builder().build().unwrap();
    only_v2.validate(&v2_token).await.unwrap();
    assert!(matches!(only_v2.validate(&v1_token).await, Err(Error::VersionNotAccepted { .. })));
    let both = builder().versions(AcceptedVersions::Both).build().unwrap();
    both.validate(&v1_token).await.unwrap();
    both.validate(&v2_token).await.unwrap();
    // The v1 keys come from the v1 keys URL.
    assert!(s.mock.requests().iter().any(|r| r.path.ends_with("/discovery/keys")));
    // A v1 token carrying a v2 issuer is refused.
    let v2_iss = s.mock.v2_issuer(&s.mock.tenant_id());
    let mixed = s.mock.mint(TokenSpec::access_v1(&s.alice, &v1_api).issuer(v2_iss));
    assert!(matches!(both.validate(&mixed).await, Err(Error::InvalidIssuer(_))));
}

#[tokio::test]
async fn single_tenant_issuer_is_exact() {
    let s = setup().await;
    let v = s.validator();
    let evil =
        s.mock.mint(TokenSpec::access_v2(&s.alice, &s.api).issuer("https://evil.example/x/v2.0"));
    assert!(matches!(v.validate(&evil).await, Err(Error::InvalidIssuer(_))));
    let other = s.mock.add_tenant();
    let from_other = s.mock.mint(TokenSpec::access_v2(&s.alice, &s.api).tenant(other));
    assert!(matches!(v.validate(&from_other).await, Err(Error::InvalidIssuer(_))));
    let no_iss = s.mock.mint(TokenSpec::access_v2(&s.alice, &s.api).without("iss"));
    assert!(matches!(v.validate(&no_iss).await, Err(Error::MissingClaim { claim: "iss" })));
    v.validate(&s.token()).await.unwrap();
}

#[tokio::test]
async fn multi_tenant_allow_list_and_tid_issuer_binding() {
    let s = setup().await;
    let allowed = s.mock.add_tenant();
    let stranger = s.mock.add_tenant();
    let orgs = s.mock.authority_for(Tenant::Organizations);
    let client = s.api.client_id.clone();
    let clock = std::sync::Arc::new(s.clock.clone());
    let err = Validator::builder(orgs.clone(), client.clone()).build().unwrap_err();
    assert!(matches!(err, Error::TenantPolicyRequired { .. }));

    let v = Validator::builder(orgs.clone(), client.clone())
        .clock(clock.clone())
        .tenants(TenantPolicy::Only(vec![allowed.clone()]))
        .build()
        .unwrap();
    let from_allowed = s.mock.mint(TokenSpec::access_v2(&s.alice, &s.api).tenant(allowed.clone()));
    let ok = v.validate(&from_allowed).await.unwrap();
    assert_eq!(ok.claims().tenant_id(), Some(allowed.clone()));
    let from_stranger =
        s.mock.mint(TokenSpec::access_v2(&s.alice, &s.api).tenant(stranger.clone()));
    let err = v.validate(&from_stranger).await.unwrap_err();
    assert!(matches!(&err, Error::TenantNotAllowed { tenant } if *tenant == stranger));

    // `tid` that is not the issuer's tenant: refused even with TenantPolicy::Any.
    let any = Validator::builder(s.mock.authority_for(Tenant::Common), client)
        .clock(clock)
        .tenants(TenantPolicy::Any)
        .build()
        .unwrap();
    any.validate(&from_stranger).await.unwrap();
    let lying = s.mock.mint(
        TokenSpec::access_v2(&s.alice, &s.api)
            .tenant(allowed.clone())
            .claim("tid", json!(stranger.as_str())),
    );
    assert!(matches!(any.validate(&lying).await, Err(Error::InvalidIssuer(_))));
    assert!(matches!(v.validate(&lying).await, Err(Error::InvalidIssuer(_))));
    let not_guid = s.mock.mint(
        TokenSpec::access_v2(&s.alice, &s.api).tenant(allowed).claim("tid", json!("contoso.com")),
    );
    assert!(matches!(any.validate(&not_guid).await, Err(Error::InvalidIssuer(_))));
}

#[tokio::test]
async fn graph_tokens_are_refused_up_front() {
    let s = setup().await;
    let v = s.validator();
    let graph = s.mock.graph_token(&s.alice);
    let err = v.validate(&graph).await.unwrap_err();
    assert!(matches!(err, Error::ForGraph) && err.is_unauthorized());
    assert!(err.to_string().contains("Microsoft Graph"));
    let nonce_only = s.mock.mint(TokenSpec::access_v2(&s.alice, &s.api).header_nonce());
    assert!(matches!(v.validate(&nonce_only).await, Err(Error::ForGraph)));
    let graph_aud = s.mock.mint(TokenSpec::access_v2(&s.alice, &s.api).audience(GRAPH_APP_ID));
    assert!(matches!(v.validate(&graph_aud).await, Err(Error::ForGraph)));
    assert_eq!(s.mock.jwks_fetch_count(), 0, "refused before any key work");
    v.validate(&s.token()).await.unwrap();
}

#[tokio::test]
async fn algorithm_allow_list_refuses_none_and_hmac() {
    let s = setup().await;
    let v = s.validator();
    let none = s.mock.mint(TokenSpec::access_v2(&s.alice, &s.api).unsigned());
    assert!(matches!(v.validate(&none).await, Err(Error::AlgorithmNotAllowed { .. })));
    let hs = s.mock.mint(TokenSpec::access_v2(&s.alice, &s.api).hs256(b"a shared secret"));
    assert!(matches!(v.validate(&hs).await, Err(Error::AlgorithmNotAllowed { .. })));
    let forged = s.mock.mint(TokenSpec::access_v2(&s.alice, &s.api).unpublished_key());
    assert!(matches!(v.validate(&forged).await, Err(Error::InvalidSignature)));
    let ps = s
        .mock
        .mint(TokenSpec::access_v2(&s.alice, &s.api).algorithm(jsonwebtoken::Algorithm::PS256));
    assert!(matches!(v.validate(&ps).await, Err(Error::AlgorithmNotAllowed { .. })));
    let with_ps = s.builder().algorithms([Algorithm::RS256, Algorithm::PS256]).build().unwrap();
    with_ps.validate(&ps).await.unwrap();
    v.validate(&s.token()).await.unwrap();
}

#[tokio::test]
async fn oversized_and_malformed_tokens_are_refused_before_any_work() {
    let s = setup().await;
    let v = s.builder().max_token_bytes(8 * 1024).build().unwrap();
    let big =
        s.mock.mint(TokenSpec::access_v2(&s.alice, &s.api).claim("pad", json!("x".repeat(9000))));
    assert!(matches!(v.validate(&big).await, Err(Error::TokenTooLarge { .. })));
    for bad in ["", "Bearer abc", "a.b", "a.b.c.d", "e30.e30.e30", "%%.e30.x"] {
        let err = v.validate(bad).await.unwrap_err();
        assert!(
            matches!(err, Error::Malformed { .. } | Error::AlgorithmNotAllowed { .. }),
            "{bad}: {err:?}"
        );
    }
    let token = s.token();
    let (head, _) = token.split_once('.').unwrap();
    let garbage_payload = format!("{head}.bm90IGpzb24.c2ln");
    assert!(matches!(v.validate(&garbage_payload).await, Err(Error::Malformed { .. })));
    assert_eq!(s.mock.jwks_fetch_count(), 0);
    v.validate(&token).await.unwrap();
}

#[tokio::test]
async fn scopes_roles_and_app_only_rules() {
    let s = setup().await;
    let user = s.token();
    let client = s.mock.default_client();
    let app = s.mock.app_token(&client, &s.api);
    let neither = s.mock.mint(TokenSpec::access_v2(&s.alice, &s.api).without("scp"));

    let v = s.validator();
    v.validate(&user).await.unwrap();
    let ok = v.validate(&app).await.unwrap();
    assert!(ok.claims().is_app_only() && ok.claims().has_role("Tasks.Read"));
    assert!(matches!(v.validate(&neither).await, Err(Error::NoPermissions)));

    let no_apps = s.builder().allow_app_only(false).build().unwrap();
    no_apps.validate(&user).await.unwrap();
    assert!(matches!(no_apps.validate(&app).await, Err(Error::AppOnlyNotAllowed)));

    let any =
        s.builder().required_scopes(Match::any_of(["other", "access_as_user"])).build().unwrap();
    any.validate(&user).await.unwrap();
    assert!(matches!(any.validate(&app).await, Err(Error::InsufficientPermissions)));
    let all =
        s.builder().required_scopes(Match::all_of(["other", "access_as_user"])).build().unwrap();
    assert!(matches!(all.validate(&user).await, Err(Error::InsufficientPermissions)));

    let roles = s.builder().required_roles(Match::all_of(["Tasks.Read"])).build().unwrap();
    roles.validate(&app).await.unwrap();
    assert!(matches!(roles.validate(&user).await, Err(Error::InsufficientPermissions)));
    let either = s
        .builder()
        .required_scopes(Match::any_of(["access_as_user"]))
        .required_roles(Match::any_of(["Tasks.Read"]))
        .scopes_or_roles(true)
        .build()
        .unwrap();
    either.validate(&user).await.unwrap();
    either.validate(&app).await.unwrap();
    assert!(matches!(either.validate(&neither).await, Err(Error::NoPermissions)));
}

#[tokio::test]
async fn id_tokens_check_nonce_and_audience() {
    let s = setup().await;
    let v = s.validator();
    let id = s.mock.id_token(&s.alice, &s.api.client_id, Some("nonce-1"));
    let ok = v.validate_id_token(&id, "nonce-1").await.unwrap();
    assert_eq!(ok.claims().nonce.as_deref(), Some("nonce-1"));
    let err = v.validate_id_token(&id, "nonce-2").await.unwrap_err();
    assert!(matches!(err, Error::NonceMismatch) && err.is_unauthorized());
    let no_nonce = s.mock.id_token(&s.alice, &s.api.client_id, None);
    assert!(matches!(v.validate_id_token(&no_nonce, "nonce-1").await, Err(Error::NonceMismatch)));
    let other_client =
        s.mock.id_token(&s.alice, &s.mock.default_client().client_id, Some("nonce-1"));
    assert!(matches!(
        v.validate_id_token(&other_client, "nonce-1").await,
        Err(Error::InvalidAudience)
    ));
    let expired =
        s.mock.mint(TokenSpec::id_token(&s.alice, &s.api.client_id, Some("nonce-1")).expired());
    assert!(matches!(v.validate_id_token(&expired, "nonce-1").await, Err(Error::Expired { .. })));
}

#[tokio::test]
async fn organizations_refuses_personal_accounts_common_accepts_them() {
    let s = setup().await;
    let consumers: entra_core::TenantId = entra_core::TenantId::CONSUMERS.parse().unwrap();
    let personal = s.mock.mint(TokenSpec::access_v2(&s.alice, &s.api).tenant(consumers.clone()));
    let build = |tenant| {
        Validator::builder(s.mock.authority_for(tenant), s.api.client_id.clone())
            .clock(std::sync::Arc::new(s.clock.clone()))
            .tenants(TenantPolicy::Any)
            .build()
            .unwrap()
    };
    let err = build(Tenant::Organizations).validate(&personal).await.unwrap_err();
    assert!(matches!(&err, Error::TenantNotAllowed { tenant } if *tenant == consumers));
    let ok = build(Tenant::Common).validate(&personal).await.unwrap();
    assert_eq!(ok.claims().tenant_id(), Some(consumers));
}

#[test]
fn validator_is_clone_send_sync_and_custom_keys_use_appid() {
    fn assert_traits<T: Clone + Send + Sync + 'static>() {}
    assert_traits::<Validator>();
    let authority = entra_core::Authority::new(
        entra_core::Cloud::Public,
        Tenant::parse("72f988bf-86f1-41af-91ab-2d7cd011db47").unwrap(),
    );
    let client: entra_core::ClientId = "6e74172b-be56-4843-9ff4-e66a39bb12e3".parse().unwrap();
    let v = Validator::builder(authority, client)
        .versions(AcceptedVersions::Both)
        .custom_signing_keys(true)
        .build()
        .unwrap();
    let urls = v.keys_urls();
    assert_eq!(urls.len(), 2);
    assert!(urls.iter().all(|u| u.ends_with("?appid=6e74172b-be56-4843-9ff4-e66a39bb12e3")));
    assert!(urls[0].ends_with("/discovery/keys?appid=6e74172b-be56-4843-9ff4-e66a39bb12e3"));
}

#[tokio::test]
async fn id_tokens_are_not_accepted_as_access_tokens() {
    let s = setup().await;
    // A user with an app role on an app whose ID token audience is the API itself
    // (SPA and API sharing one registration): the ID token has `roles`, no `scp`.
    let bob =
        s.mock.add_user(entra_testkit::TestUser::new("bob@contoso.com").roles(["Tasks.Read"]));
    let v = s.validator();
    let id = s.mock.id_token(&bob, &s.api.client_id, Some("n"));
    let err = v.validate(&id).await.unwrap_err();
    assert!(matches!(err, Error::NotAnAccessToken), "{err:?}");
    assert!(err.is_unauthorized());
    // The same user's access token passes.
    v.validate(&s.mock.access_token(&bob, &s.api)).await.unwrap();
    // An access token without its caller app claim is refused too.
    let stripped = s.mock.mint(TokenSpec::access_v2(&bob, &s.api).without("azp"));
    assert!(matches!(v.validate(&stripped).await.unwrap_err(), Error::NotAnAccessToken));
}
