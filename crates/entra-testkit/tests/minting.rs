//! Token minting: claims of each kind and overrides.

use entra_core::{EntraClaims, Groups, TokenVersion};
use entra_testkit::{MockEntra, TestApp, TestUser, TokenSpec};
use serde_json::json;

use crate::common::{decode_with_jwks, keys_url, peek};

#[tokio::test]
async fn v2_and_v1_access_tokens() {
    let mock = MockEntra::start().await;
    let tid = mock.tenant_id();
    let alice = mock.add_user(TestUser::new("alice@contoso.com").name("Alice").groups(["g1"]));
    let api = mock.default_api();
    let v2 = peek(&mock.mint(TokenSpec::access_v2(&alice, &api)));
    assert_eq!(v2["ver"], "2.0");
    assert_eq!(v2["iss"], mock.v2_issuer(&tid));
    assert_eq!(v2["aud"], api.client_id.as_str());
    assert_eq!(v2["azp"], mock.default_client().client_id.as_str());
    assert_eq!(v2["scp"], "access_as_user");
    assert_eq!(v2["tid"], tid.as_str());
    assert_eq!(v2["name"], "Alice");
    assert_eq!(v2["preferred_username"], "alice@contoso.com");
    assert_eq!(v2["groups"], json!(["g1"]));
    for c in ["uti", "iat", "nbf", "exp", "sub", "oid"] {
        assert!(v2.get(c).is_some(), "{c}");
    }
    let v1 = peek(&mock.mint(TokenSpec::access_v1(&alice, &api)));
    assert_eq!(v1["ver"], "1.0");
    assert_eq!(v1["iss"], mock.v1_issuer(&tid));
    assert_eq!(v1["aud"], api.app_id_uri());
    assert_eq!(v1["appid"], mock.default_client().client_id.as_str());
    assert!(v1.get("azp").is_none());

    let v1_api = mock.register_app(
        TestApp::new("legacy")
            .expose_scope("user_impersonation")
            .access_token_version(TokenVersion::V1),
    );
    let t = mock.access_token(&alice, &v1_api);
    let claims =
        decode_with_jwks(&t, &keys_url(&mock), &v1_api.app_id_uri(), &mock.v1_issuer(&tid))
            .await
            .unwrap();
    assert_eq!(claims["scp"], "user_impersonation");
}

#[tokio::test]
async fn id_app_and_graph_tokens() {
    let mock = MockEntra::start().await;
    let alice = mock.add_user(TestUser::new("alice@contoso.com"));
    let client = mock.default_client();
    let api = mock.default_api();
    let id = peek(&mock.id_token(&alice, &client.client_id, Some("n-123")));
    assert_eq!(id["aud"], client.client_id.as_str());
    assert_eq!(id["nonce"], "n-123");
    assert_eq!(id["ver"], "2.0");

    let app = mock.app_token(&client, &api);
    let claims: EntraClaims = serde_json::from_value(peek(&app)).unwrap();
    assert!(claims.is_app_only());
    assert_eq!(claims.idtyp.as_deref(), Some("app"));
    assert!(claims.scp.is_none());
    assert_eq!(claims.roles, vec!["Data.Read".to_owned()]);

    let graph = mock.graph_token(&alice);
    let header = jsonwebtoken::decode_header(&graph).unwrap();
    assert!(header.nonce.is_some());
    let claims: EntraClaims = serde_json::from_value(peek(&graph)).unwrap();
    assert!(claims.is_for_graph());
}

#[tokio::test]
async fn overrides_and_overage() {
    let mock = MockEntra::start().await;
    let tid2 = mock.add_tenant();
    let many = mock.add_user(TestUser::new("many@contoso.com").with_random_groups(250));
    let api = mock.default_api();
    let t = peek(&mock.access_token(&many, &api));
    assert!(t.get("groups").is_none());
    assert_eq!(t["_claim_names"]["groups"], "src1");
    let claims: EntraClaims = serde_json::from_value(t).unwrap();
    assert_eq!(claims.groups(), Groups::Overage);

    let t = peek(
        &mock.mint(
            TokenSpec::access_v2(&many, &api)
                .tenant(tid2.clone())
                .without("scp")
                .claim("roles", json!(["Admin"]))
                .audience("other")
                .overage(false)
                .groups(["a"]),
        ),
    );
    assert_eq!(t["tid"], tid2.as_str());
    assert_eq!(t["iss"], mock.v2_issuer(&tid2));
    assert!(t.get("scp").is_none());
    assert_eq!(t["roles"], json!(["Admin"]));
    assert_eq!(t["aud"], "other");
    assert_eq!(t["groups"], json!(["a"]));

    let expired = mock.mint(TokenSpec::access_v2(&many, &api).expired());
    let iss = mock.v2_issuer(&mock.tenant_id());
    let err = decode_with_jwks(&expired, &keys_url(&mock), api.client_id.as_str(), &iss)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), &jsonwebtoken::errors::ErrorKind::ExpiredSignature);

    let bad = mock.mint(TokenSpec::access_v2(&many, &api).unpublished_key());
    let err =
        decode_with_jwks(&bad, &keys_url(&mock), api.client_id.as_str(), &iss).await.unwrap_err();
    assert_eq!(err.kind(), &jsonwebtoken::errors::ErrorKind::InvalidSignature);

    let nonce = mock.mint(TokenSpec::access_v2(&many, &api).header_nonce().kid("other"));
    let h = jsonwebtoken::decode_header(&nonce).unwrap();
    assert!(h.nonce.is_some());
    assert_eq!(h.kid.as_deref(), Some("other"));

    let unsigned = mock.mint(TokenSpec::access_v2(&many, &api).unsigned());
    assert!(unsigned.ends_with('.'));
}
