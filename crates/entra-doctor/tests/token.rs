//! `token`: every explanation class, with the real validator against the mock.

use entra_core::{Tenant, TokenVersion};
use entra_doctor::{
    GroupsInfo, HIDDEN, Severity, Subject, TokenKind, TokenOptions, TokenReport, Validation,
    explain_token, validate_token,
};
use entra_testkit::{JwksFault, MockEntra, TestApp, TestUser, TokenSpec};

use crate::common::{config, json, run, vars};

fn explain(mock: &MockEntra, token: &str) -> TokenReport {
    explain_token(token, &TokenOptions::new().clock(mock.clock())).unwrap()
}

fn codes(r: &TokenReport, severity: Severity) -> Vec<&'static str> {
    r.findings.iter().filter(|f| f.severity == severity).map(|f| f.code).collect()
}

async fn validate(mock: &MockEntra, token: &str, extra: &[(&str, &str)]) -> Validation {
    let api = mock.default_api();
    validate_token(token, &config(vars(mock, &api, extra)), mock.clock()).await
}

fn refused(v: Validation) -> (&'static str, String) {
    match v {
        Validation::Refused { rule, advice, .. } => (rule, advice),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn valid_v2_delegated_token() {
    let mock = MockEntra::start().await;
    let api = mock.default_api();
    let alice = mock
        .add_user(TestUser::new("alice@contoso.com").name("Alice Liddell").groups(["g1", "g2"]));
    let token = mock.access_token(&alice, &api);
    let r = explain(&mock, &token);
    assert_eq!(r.kind, TokenKind::AccessToken);
    assert_eq!(r.version.as_deref(), Some("2.0"));
    assert_eq!(r.subject, Subject::Delegated);
    assert_eq!(r.tenant.as_deref(), Some(mock.tenant_id().as_str()));
    assert_eq!(r.audiences, [api.client_id.to_string()]);
    assert_eq!(r.caller_app.as_deref(), Some(mock.default_client().client_id.as_str()));
    assert_eq!(r.scopes, ["access_as_user"]);
    assert_eq!(r.groups, GroupsInfo::Listed { count: 2 });
    assert!(!r.for_graph);
    assert!(r.expiry.as_deref().unwrap().starts_with("expires in "), "{r:?}");
    assert!(codes(&r, Severity::Problem).is_empty(), "{:?}", r.findings);
    let v = validate(&mock, &token, &[]).await;
    assert!(v.is_accepted(), "{v:?}");
    let mut r = r;
    r.validation = v;
    assert!(r.to_string().contains("ACCEPTED"), "{r}");
}

#[tokio::test(flavor = "multi_thread")]
async fn personal_claims_hidden_unless_asked() {
    let mock = MockEntra::start().await;
    let api = mock.default_api();
    let alice = mock.add_user(TestUser::new("alice@contoso.com").name("Alice Liddell"));
    let token = mock.access_token(&alice, &api);
    let hidden = explain(&mock, &token);
    assert_eq!(hidden.name.as_deref(), Some(HIDDEN));
    assert_eq!(hidden.username.as_deref(), Some(HIDDEN));
    assert!(hidden.personal_claims_hidden);
    let text = hidden.to_string();
    let doc = serde_json::to_string(&hidden).unwrap();
    for out in [&text, &doc] {
        assert!(!out.contains("alice@contoso.com") && !out.contains("Alice Liddell"), "{out}");
    }
    // The signature never appears.
    let signature = token.rsplit('.').next().unwrap();
    assert!(!text.contains(signature) && !doc.contains(signature));
    let shown = explain_token(&token, &TokenOptions::new().show_pii(true)).unwrap();
    assert_eq!(shown.username.as_deref(), Some("alice@contoso.com"));
    assert_eq!(shown.name.as_deref(), Some("Alice Liddell"));

    // The binary, both ways.
    let hidden = run(&["token", &token], &[], None).await;
    assert!(!hidden.stdout.contains("alice@contoso.com"), "{hidden:?}");
    assert!(hidden.stdout.contains("[hidden; --show-pii shows it]"));
    let shown = run(&["token", "--show-pii", "-"], &[], Some(&token)).await;
    assert!(shown.stdout.contains("alice@contoso.com"), "{shown:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn v1_token_against_a_v2_api() {
    let mock = MockEntra::start().await;
    let api = mock.default_api();
    let alice = mock.add_user(TestUser::new("alice@contoso.com"));
    let token = mock.mint(TokenSpec::access_v1(&alice, &api));
    let r = explain(&mock, &token);
    assert_eq!(r.version.as_deref(), Some("1.0"));
    assert!(codes(&r, Severity::Info).contains(&"v1_token"));
    let v = validate(&mock, &token, &[]).await;
    let (rule, advice) = refused(v);
    assert_eq!(rule, "version_not_accepted");
    assert!(
        advice.starts_with("v1 token: the API's accessTokenAcceptedVersion is null"),
        "{advice}"
    );
    assert!(
        advice.contains("ENTRA_ACCEPTED_VERSIONS")
            && advice.contains("set accessTokenAcceptedVersion to 2")
    );
    // Accepting v1 without the App ID URI: the audience rule says what to add.
    let v = validate(&mock, &token, &[("ENTRA_ACCEPTED_VERSIONS", "both")]).await;
    let (rule, advice) = refused(v);
    assert_eq!(rule, "invalid_audience");
    assert!(advice.contains("App ID URI") && advice.contains("ENTRA_AUDIENCES"), "{advice}");
    // Both changes made: accepted.
    let uri = api.app_id_uri();
    let v =
        validate(&mock, &token, &[("ENTRA_ACCEPTED_VERSIONS", "both"), ("ENTRA_AUDIENCES", &uri)])
            .await;
    assert!(v.is_accepted(), "{v:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn app_only_token() {
    let mock = MockEntra::start().await;
    let api = mock.default_api();
    let token = mock.app_token(&mock.default_client(), &api);
    let r = explain(&mock, &token);
    assert_eq!(r.subject, Subject::AppOnly);
    assert_eq!(r.roles, ["Data.Read"]);
    assert!(codes(&r, Severity::Info).contains(&"app_only"));
    assert!(r.findings.iter().any(|f| f.message.contains("AADSTS7000114")));
    assert!(validate(&mock, &token, &[]).await.is_accepted());
    // An API that requires a scope refuses it, and says what the token has.
    let v = validate(&mock, &token, &[("ENTRA_REQUIRED_SCOPES", "access_as_user")]).await;
    let (rule, advice) = refused(v);
    assert_eq!(rule, "insufficient_permissions");
    assert!(
        advice.contains("any of access_as_user") && advice.contains("roles Data.Read"),
        "{advice}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn graph_token() {
    let mock = MockEntra::start().await;
    let alice = mock.add_user(TestUser::new("alice@contoso.com"));
    let token = mock.graph_token(&alice);
    let r = explain(&mock, &token);
    assert!(r.for_graph);
    assert!(codes(&r, Severity::Problem).contains(&"graph_token"));
    let v = validate(&mock, &token, &[]).await;
    let (rule, advice) = refused(v);
    assert_eq!(rule, "for_graph");
    assert!(
        advice.starts_with("audience is Graph: the client asked for the wrong scope"),
        "{advice}"
    );
    // The binary: exit code 1 (refused) with the advice printed.
    let api = mock.default_api();
    let out = run(&["token", "-"], &vars(&mock, &api, &[]), Some(&token)).await;
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stdout.contains("REFUSED") && out.stdout.contains("audience is Graph"), "{out:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn group_overage() {
    let mock = MockEntra::start().await;
    let api = mock.default_api();
    let bob = mock.add_user(TestUser::new("bob@contoso.com").with_random_groups(250));
    let token = mock.access_token(&bob, &api);
    let r = explain(&mock, &token);
    assert_eq!(r.groups, GroupsInfo::Overage);
    assert!(codes(&r, Severity::Info).contains(&"group_overage"));
    assert!(r.other_claims.is_empty() || !r.other_claims.contains(&"_claim_names".to_owned()));
    let few = mock.add_user(TestUser::new("carol@contoso.com"));
    assert_eq!(explain(&mock, &mock.access_token(&few, &api)).groups, GroupsInfo::Absent);
}

#[tokio::test(flavor = "multi_thread")]
async fn expired_and_not_yet_valid() {
    let mock = MockEntra::start().await;
    let api = mock.default_api();
    let alice = mock.add_user(TestUser::new("alice@contoso.com"));
    let token = mock.mint(TokenSpec::access_v2(&alice, &api).expired());
    let r = explain(&mock, &token);
    assert_eq!(r.expiry.as_deref(), Some("expired 1 hour ago"));
    assert!(codes(&r, Severity::Problem).contains(&"expired"));
    let (rule, advice) = refused(validate(&mock, &token, &[]).await);
    assert_eq!(rule, "expired");
    assert!(advice.starts_with("expired 1 hour ago"), "{advice}");
    let early = mock.mint(TokenSpec::access_v2(&alice, &api).not_yet_valid());
    assert!(codes(&explain(&mock, &early), Severity::Problem).contains(&"not_yet_valid"));
    let (rule, _) = refused(validate(&mock, &early, &[]).await);
    assert_eq!(rule, "not_yet_valid");
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_audience() {
    let mock = MockEntra::start().await;
    let other = mock.register_app(TestApp::new("other-api").expose_scope("read"));
    let alice = mock.add_user(TestUser::new("alice@contoso.com"));
    let token = mock.access_token(&alice, &other);
    let (rule, advice) = refused(validate(&mock, &token, &[]).await);
    assert_eq!(rule, "invalid_audience");
    assert!(advice.starts_with("audience is another application"), "{advice}");
    assert!(advice.contains(mock.default_api().client_id.as_str()));
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_tenant() {
    let mock = MockEntra::start().await;
    let api = mock.default_api();
    let partner = mock.add_tenant();
    let alice = mock.add_user(TestUser::new("alice@contoso.com"));
    let token = mock.mint(TokenSpec::access_v2(&alice, &api).tenant(partner.clone()));
    assert_eq!(explain(&mock, &token).tenant.as_deref(), Some(partner.as_str()));
    // Single-tenant API: the issuer names another tenant.
    let (rule, advice) = refused(validate(&mock, &token, &[]).await);
    assert_eq!(rule, "invalid_issuer");
    assert!(advice.starts_with(&format!("the token is from tenant {partner}")), "{advice}");
    // Multi-tenant API allowing only its own tenant.
    let organizations = mock.authority_for(Tenant::Organizations).to_string();
    let home = mock.tenant_id().to_string();
    let multi =
        [("ENTRA_AUTHORITY", organizations.as_str()), ("ENTRA_ALLOWED_TENANTS", home.as_str())];
    let v = validate(&mock, &token, &multi).await;
    let shown = format!("{v:?}");
    let (rule, advice) = refused(v);
    assert_eq!(rule, "tenant_not_allowed", "{shown}");
    assert!(
        advice.starts_with(&format!(
            "issuer tenant {partner} not allowed: add it to ENTRA_ALLOWED_TENANTS"
        )),
        "{advice}"
    );
    let both = format!("{home},{partner}");
    let allowed =
        [("ENTRA_AUTHORITY", organizations.as_str()), ("ENTRA_ALLOWED_TENANTS", both.as_str())];
    assert!(validate(&mock, &token, &allowed).await.is_accepted());
    // Multi-tenant without a tenant list: the validator cannot be built.
    match validate(&mock, &token, &[("ENTRA_AUTHORITY", organizations.as_str())]).await {
        Validation::CouldNotCheck { rule, advice, .. } => {
            assert_eq!(rule, "tenant_policy_required");
            assert!(advice.contains("ENTRA_ALLOWED_TENANTS"), "{advice}");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn id_token_and_bad_signature() {
    let mock = MockEntra::start().await;
    let api = mock.default_api();
    let alice = mock.add_user(TestUser::new("alice@contoso.com"));
    let id = mock.id_token(&alice, &api.client_id, Some("n"));
    let r = explain(&mock, &id);
    assert_eq!(r.kind, TokenKind::IdToken);
    assert!(codes(&r, Severity::Warning).contains(&"id_token"));
    let (rule, advice) = refused(validate(&mock, &id, &[]).await);
    assert_eq!(rule, "not_an_access_token");
    assert!(advice.starts_with("this is an ID token"), "{advice}");
    let forged = mock.mint(TokenSpec::access_v2(&alice, &api).unpublished_key());
    assert_eq!(refused(validate(&mock, &forged, &[]).await).0, "invalid_signature");
    let hmac = mock.mint(TokenSpec::access_v2(&alice, &api).hs256(b"secret"));
    assert!(codes(&explain(&mock, &hmac), Severity::Problem).contains(&"forbidden_algorithm"));
    assert_eq!(refused(validate(&mock, &hmac, &[]).await).0, "algorithm_not_allowed");
}

#[tokio::test(flavor = "multi_thread")]
async fn without_configuration_or_keys() {
    let mock = MockEntra::start().await;
    let api = mock.default_api();
    let alice = mock.add_user(TestUser::new("alice@contoso.com"));
    let token = mock.mint(TokenSpec::access(&alice, &api).version(TokenVersion::V2));
    let none = validate_token(&token, &config(Vec::new()), mock.clock()).await;
    assert!(matches!(none, Validation::NotRun { .. }), "{none:?}");
    mock.set_jwks_fault(Some(JwksFault::Status(503)));
    match validate(&mock, &token, &[]).await {
        Validation::CouldNotCheck { rule, .. } => assert_eq!(rule, "keys_unavailable"),
        other => panic!("{other:?}"),
    }
    let out = run(&["token", &token], &vars(&mock, &api, &[]), None).await;
    assert_eq!(out.code, 2, "{out:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn binary_token_output() {
    let mock = MockEntra::start().await;
    let api = mock.default_api();
    let alice = mock.add_user(TestUser::new("alice@contoso.com"));
    let token = mock.access_token(&alice, &api);
    let env = vars(&mock, &api, &[]);
    let out = run(&["token", &token], &env, None).await;
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout.contains("access token, v2.0") && out.stdout.contains("ACCEPTED"),
        "{out:?}"
    );
    let out = run(&["--json", "token", "-"], &env, Some(&token)).await;
    let doc = json(&out);
    assert_eq!(doc["kind"], "access_token");
    assert_eq!(doc["validation"]["status"], "accepted");
    assert_eq!(doc["subject"], "delegated");
    // Garbage: exit code 2 and a reason, as JSON too.
    let out = run(&["token", "not-a-token"], &[], None).await;
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("not a JWT"), "{out:?}");
    let out = run(&["--json", "token", "a.b.c.d.e"], &[], None).await;
    assert_eq!(json(&out)["error"], "encrypted_token");
}
