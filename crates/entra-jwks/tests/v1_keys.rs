//! v1 tokens and the `issuer` their signing key publishes: Entra signs v1 and v2
//! tokens with the same keys, so a v1 token is valid whether its key carries no
//! issuer, the v1 issuer, or the v2 issuer template with `{tenantid}`.

use std::sync::Arc;

use entra_core::{Tenant, TenantPolicy, TokenVersion};
use entra_jwks::{AcceptedVersions, Error, Validator};
use entra_testkit::{MockEntra, TestApp, TokenSpec, V1KeyIssuer};

use crate::common::{Setup, setup};

/// An API whose access tokens are v1 (the app registration default), and a
/// validator for it that accepts v1 tokens, without a validated-token cache so
/// that every call checks the keys.
fn v1_api(s: &Setup) -> (TestApp, Validator) {
    let api = s.mock.register_app(
        TestApp::new("v1-api")
            .expose_scope("user_impersonation")
            .access_token_version(TokenVersion::V1),
    );
    let v = Validator::builder(s.mock.authority(), api.client_id.clone())
        .clock(Arc::new(s.clock.clone()))
        .audiences([api.app_id_uri()])
        .versions(AcceptedVersions::Both)
        .token_cache_capacity(0)
        .build()
        .unwrap();
    (api, v)
}

async fn fetch(url: &str) -> serde_json::Value {
    reqwest::get(url).await.unwrap().json().await.unwrap()
}

#[tokio::test]
async fn v1_tokens_validate_whatever_issuer_the_v1_keys_publish() {
    let s = setup().await;
    let (api, v) = v1_api(&s);
    let token = s.mock.access_token(&s.alice, &api);
    let tid = s.mock.tenant_id();
    for (setting, published) in [
        (V1KeyIssuer::V1, Some(s.mock.v1_issuer(&tid))),
        (V1KeyIssuer::None, None),
        (V1KeyIssuer::V2Template, Some(format!("{}/{{tenantid}}/v2.0", s.mock.uri()))),
    ] {
        s.mock.set_v1_key_issuer(setting);
        v.refresh_keys().await.unwrap();
        let keys = fetch(&s.mock.authority().v1_keys_url()).await;
        assert_eq!(keys["keys"][0]["issuer"].as_str(), published.as_deref(), "{setting:?}: {keys}");
        let ok = v.validate(&token).await;
        assert!(ok.is_ok(), "{setting:?}: {ok:?}");
        assert_eq!(ok.unwrap().claims().version(), Some(TokenVersion::V1));
    }
}

#[tokio::test]
async fn the_builder_switch_serves_the_v2_template_on_v1_keys() {
    let mock = MockEntra::builder().v1_key_issuer(V1KeyIssuer::V2Template).start().await.unwrap();
    let keys = fetch(&mock.authority().v1_keys_url()).await;
    assert_eq!(keys["keys"][0]["issuer"], format!("{}/{{tenantid}}/v2.0", mock.uri()));
    // The v2 keys are unchanged: the tenant's v2 issuer.
    let v2 = fetch(&mock.authority().v2_keys_url()).await;
    assert_eq!(v2["keys"][0]["issuer"], mock.v2_issuer(&mock.tenant_id()));
}

#[tokio::test]
async fn v1_token_whose_key_publishes_the_v2_template_as_in_v2_metadata() {
    let s = setup().await;
    let (api, v) = v1_api(&s);
    let kid = s.mock.signing_kid();
    let tid = s.mock.tenant_id();
    // Every keys URL serves the key with the v2 issuer template, as the v2 keys
    // of multi-tenant metadata do.
    let template = format!("{}/{{tenantid}}/v2.0", s.mock.uri());
    s.mock.set_key_issuer(&kid, Some(&template));

    // Passing: a v1 token of the tenant, for a single-tenant and a multi-tenant
    // validator.
    let token = s.mock.access_token(&s.alice, &api);
    v.validate(&token).await.unwrap();
    let multi =
        Validator::builder(s.mock.authority_for(Tenant::Organizations), api.client_id.clone())
            .clock(Arc::new(s.clock.clone()))
            .audiences([api.app_id_uri()])
            .versions(AcceptedVersions::Both)
            .tenants(TenantPolicy::Any)
            .token_cache_capacity(0)
            .build()
            .unwrap();
    multi.validate(&token).await.unwrap();
    // The v2 token of the same key still validates too.
    let v2 = s.mock.mint(TokenSpec::access_v2(&s.alice, &api));
    v.validate(&v2).await.unwrap();
    // The key issuer pinned to this tenant's v2 issuer is as good as the template.
    s.mock.set_key_issuer(&kid, Some(&s.mock.v2_issuer(&tid)));
    v.refresh_keys().await.unwrap();
    v.validate(&token).await.unwrap();

    // Failing: the key names another tenant's v2 issuer, or a template on another
    // host: the v1 token's tenant is not the key's.
    let other = s.mock.add_tenant();
    for key_issuer in [s.mock.v2_issuer(&other), "https://login.example/{tenantid}/v2.0".into()] {
        s.mock.set_key_issuer(&kid, Some(&key_issuer));
        v.refresh_keys().await.unwrap();
        let err = v.validate(&token).await.unwrap_err();
        assert!(matches!(err, Error::KeyIssuerMismatch(_)), "{key_issuer}: {err:?}");
    }
    // Failing: a v1 token whose `iss` names another tenant than its `tid`, even
    // with the template on the key.
    s.mock.set_key_issuer(&kid, Some(&template));
    v.refresh_keys().await.unwrap();
    let crossed =
        s.mock.mint(TokenSpec::access_v1(&s.alice, &api).issuer(s.mock.v1_issuer(&other)));
    let err = v.validate(&crossed).await.unwrap_err();
    assert!(matches!(err, Error::InvalidIssuer(_)), "{err:?}");
}
