//! Discovery, JWKS, rotation and keys-endpoint faults.

use std::time::Duration;

use entra_core::Tenant;
use entra_testkit::{JwksFault, MockEntra, TestUser};
use serde_json::Value;

use crate::common::{decode_with_jwks, fetch_jwks, keys_url};

#[tokio::test]
async fn discovery_points_at_the_mock() {
    let mock = MockEntra::start().await;
    let tid = mock.tenant_id();
    let r = reqwest::get(mock.authority().v2_discovery_url()).await.unwrap();
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
    let doc: Value = r.json().await.unwrap();
    assert_eq!(doc["issuer"], mock.v2_issuer(&tid));
    assert_eq!(doc["token_endpoint"], mock.authority().token_url());
    assert_eq!(doc["authorization_endpoint"], mock.authority().authorize_url());
    assert_eq!(doc["end_session_endpoint"], mock.authority().logout_url());
    assert_eq!(doc["jwks_uri"], mock.authority().v2_keys_url());

    let v1: Value =
        reqwest::get(mock.authority().v1_discovery_url()).await.unwrap().json().await.unwrap();
    assert_eq!(v1["issuer"], mock.v1_issuer(&tid));
    assert_eq!(v1["jwks_uri"], mock.authority().v1_keys_url());

    for tenant in [Tenant::Common, Tenant::Organizations] {
        let a = mock.authority_for(tenant);
        let doc: Value = reqwest::get(a.v2_discovery_url()).await.unwrap().json().await.unwrap();
        assert_eq!(doc["issuer"], format!("{}/{{tenantid}}/v2.0", mock.uri()));
        assert_eq!(doc["jwks_uri"], a.v2_keys_url());
        let keys = fetch_jwks(&a.v2_keys_url()).await;
        assert_eq!(keys["keys"][0]["issuer"], format!("{}/{{tenantid}}/v2.0", mock.uri()));
    }
}

#[tokio::test]
async fn domain_segments_resolve_to_their_tenant() {
    let mock = MockEntra::start().await;
    let tid = mock.tenant_id();
    mock.add_domain(&tid, "Contoso.example");
    let a = mock.authority_for(Tenant::parse("contoso.example").unwrap());
    let doc: Value = reqwest::get(a.v2_discovery_url()).await.unwrap().json().await.unwrap();
    assert_eq!(doc["issuer"], mock.v2_issuer(&tid));
    assert_eq!(doc["token_endpoint"], mock.authority().token_url());
    let r = reqwest::get(
        mock.authority_for(Tenant::parse("other.example").unwrap()).v2_discovery_url(),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 400);
}

#[tokio::test]
async fn unknown_tenant_is_refused() {
    let mock = MockEntra::start().await;
    let r = reqwest::get(format!(
        "{}/11111111-2222-3333-4444-555555555555/v2.0/.well-known/openid-configuration",
        mock.uri()
    ))
    .await
    .unwrap();
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error_codes"][0], 90002);
}

#[tokio::test]
async fn tokens_validate_with_plain_jsonwebtoken() {
    let mock = MockEntra::start().await;
    let alice = mock.add_user(TestUser::new("alice@contoso.com"));
    let api = mock.default_api();
    let token = mock.access_token(&alice, &api);
    let tid = mock.tenant_id();
    let claims =
        decode_with_jwks(&token, &keys_url(&mock), api.client_id.as_str(), &mock.v2_issuer(&tid))
            .await
            .unwrap();
    assert_eq!(claims["oid"], alice.oid.as_str());
    // Per-key issuer.
    let jwks = fetch_jwks(&keys_url(&mock)).await;
    assert_eq!(jwks["keys"][0]["issuer"], mock.v2_issuer(&tid));
    // v1 keys endpoint, with ?appid ignored.
    let v1 =
        fetch_jwks(&format!("{}?appid={}", mock.authority().v1_keys_url(), api.client_id)).await;
    assert_eq!(v1["keys"][0]["kid"], jwks["keys"][0]["kid"]);
    assert_eq!(v1["keys"][0]["issuer"], mock.v1_issuer(&tid));
    // Wrong audience fails the same decode.
    assert!(
        decode_with_jwks(&token, &keys_url(&mock), "someone-else", &mock.v2_issuer(&tid))
            .await
            .is_err()
    );
}

#[tokio::test]
async fn rotation_publishes_new_key_and_retires_old() {
    let mock = MockEntra::start().await;
    let alice = mock.add_user(TestUser::new("alice@contoso.com"));
    let api = mock.default_api();
    let tid = mock.tenant_id();
    let iss = mock.v2_issuer(&tid);
    let old_kid = mock.signing_kid();
    let old = mock.access_token(&alice, &api);
    let new_kid = mock.rotate_keys();
    assert_ne!(old_kid, new_kid);
    assert_eq!(mock.published_kids(), vec![old_kid.clone(), new_kid.clone()]);
    let new = mock.access_token(&alice, &api);
    assert_eq!(jsonwebtoken::decode_header(&new).unwrap().kid.unwrap(), new_kid);
    let aud = api.client_id.as_str();
    assert!(decode_with_jwks(&old, &keys_url(&mock), aud, &iss).await.is_ok());
    assert!(decode_with_jwks(&new, &keys_url(&mock), aud, &iss).await.is_ok());
    assert!(mock.retire_key(&old_kid));
    assert!(!mock.retire_key(&old_kid));
    assert!(decode_with_jwks(&old, &keys_url(&mock), aud, &iss).await.is_err());
    assert!(decode_with_jwks(&new, &keys_url(&mock), aud, &iss).await.is_ok());
}

#[tokio::test]
async fn jwks_faults_and_fetch_count() {
    let mock = MockEntra::start().await;
    assert_eq!(mock.jwks_fetch_count(), 0);
    mock.set_jwks_fault(Some(JwksFault::Status(500)));
    let r = reqwest::get(keys_url(&mock)).await.unwrap();
    assert_eq!(r.status(), 500);
    mock.set_jwks_fault(Some(JwksFault::Garbage));
    let r = reqwest::get(keys_url(&mock)).await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.json::<Value>().await.is_err());
    mock.set_jwks_fault(Some(JwksFault::Delay(Duration::from_millis(50))));
    let r = reqwest::get(keys_url(&mock)).await.unwrap();
    assert_eq!(r.status(), 200);
    mock.set_jwks_fault(None);
    let jwks = fetch_jwks(&mock.authority().v1_keys_url()).await;
    assert!(jwks["keys"].as_array().is_some_and(|k| !k.is_empty()));
    assert_eq!(mock.jwks_fetch_count(), 4);
    assert_eq!(mock.count("/discovery/v2.0/keys"), 3);
}

#[tokio::test]
async fn discovery_faults_and_count() {
    let mock = MockEntra::start().await;
    let url = mock.authority().v2_discovery_url();
    mock.set_discovery_fault(Some(JwksFault::Status(503)));
    assert_eq!(reqwest::get(&url).await.unwrap().status(), 503);
    mock.set_discovery_fault(Some(JwksFault::Garbage));
    assert!(reqwest::get(&url).await.unwrap().json::<Value>().await.is_err());
    mock.set_discovery_fault(None);
    assert_eq!(reqwest::get(&url).await.unwrap().status(), 200);
    assert_eq!(mock.discovery_fetch_count(), 3);
    assert_eq!(mock.jwks_fetch_count(), 0);
}

#[tokio::test]
async fn oversized_jwks_fault_pads_a_valid_document() {
    let mock = MockEntra::start().await;
    mock.set_jwks_fault(Some(JwksFault::Oversized(300_000)));
    let body = reqwest::get(keys_url(&mock)).await.unwrap().bytes().await.unwrap();
    assert!(body.len() > 300_000);
    let jwks: Value = serde_json::from_slice(&body).unwrap();
    assert!(jwks["keys"].as_array().is_some_and(|k| !k.is_empty()));
}

#[tokio::test]
async fn key_issuer_override_is_published_and_cleared() {
    let mock = MockEntra::start().await;
    let kid = mock.signing_kid();
    let tid = mock.tenant_id();
    let foreign = "https://login.example/00000000-0000-0000-0000-0000000000ff/v2.0";
    mock.set_key_issuer(&kid, Some(foreign));
    let jwks = fetch_jwks(&keys_url(&mock)).await;
    let issuer_of = |jwks: &Value| {
        jwks["keys"].as_array().unwrap().iter().find(|k| k["kid"] == kid.as_str()).unwrap()["issuer"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(issuer_of(&jwks), foreign);
    mock.set_key_issuer(&kid, None);
    let jwks = fetch_jwks(&keys_url(&mock)).await;
    assert_eq!(issuer_of(&jwks), mock.v2_issuer(&tid));
}

#[tokio::test]
async fn v1_keys_issuer_switch_through_the_control_api() {
    let mock = MockEntra::start().await;
    let tid = mock.tenant_id();
    let v1_url = mock.authority().v1_keys_url();
    let v1_issuer = || async { fetch_jwks(&v1_url).await["keys"][0]["issuer"].clone() };
    // The default: the tenant's v1 issuer.
    assert_eq!(v1_issuer().await, mock.v1_issuer(&tid));
    let http = reqwest::Client::new();
    let put = |issuer: &'static str| {
        http.put(format!("{}/_mock/keys/v1-issuer", mock.uri()))
            .json(&serde_json::json!({ "issuer": issuer }))
            .send()
    };
    // The v2 template, as the v2 keys of multi-tenant metadata.
    assert_eq!(put("v2").await.unwrap().status(), 200);
    assert_eq!(v1_issuer().await, format!("{}/{{tenantid}}/v2.0", mock.uri()));
    let settings: Value =
        reqwest::get(format!("{}/_mock", mock.uri())).await.unwrap().json().await.unwrap();
    assert_eq!(settings["v1_key_issuer"], "v2");
    // None at all.
    assert_eq!(put("none").await.unwrap().status(), 200);
    assert_eq!(v1_issuer().await, Value::Null);
    // The v2 keys are not affected.
    assert_eq!(fetch_jwks(&keys_url(&mock)).await["keys"][0]["issuer"], mock.v2_issuer(&tid));
    // A value outside the three is refused and changes nothing.
    assert_eq!(put("v3").await.unwrap().status(), 400);
    assert_eq!(v1_issuer().await, Value::Null);
    // In process, the same switch.
    mock.set_v1_key_issuer(entra_testkit::V1KeyIssuer::V1);
    assert_eq!(v1_issuer().await, mock.v1_issuer(&tid));
}
