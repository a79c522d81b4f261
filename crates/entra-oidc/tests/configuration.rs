//! One environment, one identity: token validation (entra-jwks), sign-in
//! (entra-oidc) and On-Behalf-Of (entra-obo) read the same variables the same
//! way, and a certificate set in the environment is used by both crates that
//! send a credential.

use std::collections::HashMap;

use entra_core::{AppIdentity, Authority, Cloud, Tenant};
use entra_jwks::ValidatorBuilder;
use entra_obo::OboConfig;
use entra_oidc::{Client, Config, LoginOptions};
use entra_testkit::{MockEntra, TestApp, TestCertificate, TestUser};

use crate::support::{CompleteOwn as _, REDIRECT, authorize};

const TID: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const OTHER_TID: &str = "0a0a0a0a-0000-4000-8000-000000000bad";
const CID: &str = "6e74172b-be56-4843-9ff4-e66a39bb12e3";

fn lookup(pairs: &[(&str, String)]) -> impl Fn(&str) -> Option<String> + Clone + use<> {
    let map: HashMap<String, String> =
        pairs.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect();
    move |name| map.get(name).cloned()
}

/// The authority, client id and audiences each crate ends up with.
fn views(pairs: &[(&str, String)]) -> [(Authority, String, Vec<String>); 4] {
    let f = lookup(pairs);
    let identity = AppIdentity::from_lookup(f.clone()).unwrap();
    let oidc = Config::from_lookup(f.clone()).unwrap();
    let obo = OboConfig::from_lookup(f.clone()).unwrap();
    let jwks = ValidatorBuilder::from_lookup(f).unwrap().build().unwrap();
    assert_eq!(oidc.identity, identity);
    assert_eq!(obo.identity, identity);
    [
        (identity.authority.clone(), identity.client_id.to_string(), identity.audiences.clone()),
        (oidc.authority(), oidc.identity.client_id.to_string(), oidc.identity.audiences.clone()),
        (
            obo.identity.authority.clone(),
            obo.identity.client_id.to_string(),
            obo.identity.audiences.clone(),
        ),
        (jwks.authority().clone(), jwks.client_id().to_string(), jwks.options().audiences.clone()),
    ]
}

#[test]
fn tenant_versus_authority_is_the_same_rule_everywhere() {
    let s = |v: &str| v.to_owned();
    let cases: Vec<(Vec<(&str, String)>, Authority)> = vec![
        // A tenant alone, in the public cloud.
        (
            vec![("SSO_ENTRA_TENANT_ID", s(TID))],
            Authority::new(Cloud::Public, Tenant::parse(TID).unwrap()),
        ),
        // A tenant in a cloud named by the Azure SDK variable.
        (
            vec![
                ("AZURE_TENANT_ID", s(TID)),
                ("AZURE_AUTHORITY_HOST", s("https://login.microsoftonline.us/")),
            ],
            Authority::new(Cloud::UsGovernment, Tenant::parse(TID).unwrap()),
        ),
        // The authority wins over tenant and cloud, under any of their names.
        (
            vec![
                ("SSO_ENTRA_AUTHORITY", format!("https://login.microsoftonline.com/{TID}")),
                ("ENTRA_TENANT_ID", s(OTHER_TID)),
                ("ENTRA_CLOUD", s("china")),
            ],
            Authority::new(Cloud::Public, Tenant::parse(TID).unwrap()),
        ),
        // Workload identity sets AZURE_TENANT_ID; an explicit authority stays.
        (
            vec![
                ("ENTRA_AUTHORITY", s("https://login.microsoftonline.com/organizations")),
                ("AZURE_TENANT_ID", s(TID)),
                ("ENTRA_ALLOWED_TENANTS", s(TID)),
            ],
            Authority::new(Cloud::Public, Tenant::Organizations),
        ),
    ];
    for (mut pairs, want) in cases {
        pairs.push(("AZURE_CLIENT_ID", s(CID)));
        pairs.push(("AZURE_CLIENT_SECRET", s("s")));
        pairs.push(("ENTRA_AUDIENCES", format!("api://{CID}")));
        for (authority, client_id, audiences) in views(&pairs) {
            assert_eq!(authority, want, "{pairs:?}");
            assert_eq!(client_id, CID);
            assert_eq!(audiences, [format!("api://{CID}")]);
        }
    }
}

#[test]
fn a_missing_client_id_names_the_variable_in_every_crate() {
    let f = lookup(&[("ENTRA_TENANT_ID", TID.to_owned()), ("ENTRA_CLIENT_SECRET", "s".to_owned())]);
    let want =
        "missing configuration: set ENTRA_CLIENT_ID (or SSO_ENTRA_CLIENT_ID, AZURE_CLIENT_ID)";
    assert_eq!(AppIdentity::from_lookup(f.clone()).unwrap_err().to_string(), want);
    assert_eq!(Config::from_lookup(f.clone()).unwrap_err().to_string(), want);
    assert_eq!(OboConfig::from_lookup(f.clone()).unwrap_err().to_string(), want);
    assert_eq!(ValidatorBuilder::from_lookup(f).unwrap_err().to_string(), want);
}

struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificate_from_the_environment_signs_in_and_exchanges_on_behalf_of() {
    let mock = MockEntra::start().await;
    let cert = TestCertificate::generate("CN=one-identity");
    let app = mock.register_app(
        TestApp::new("one-identity")
            .certificate(cert.clone())
            .redirect_uri(REDIRECT)
            .expose_scope("access_as_user"),
    );
    mock.grant_consent(&app.client_id, "https://graph.microsoft.com", &["User.Read"]);
    let alice = mock.add_user(TestUser::new("alice@contoso.com"));

    let dir = TempDir(std::env::temp_dir().join(format!("entra-oidc-config-{}", uuid_like())));
    std::fs::create_dir_all(&dir.0).unwrap();
    let pem = dir.0.join("app.pem");
    std::fs::write(&pem, format!("{}{}", cert.cert_pem(), cert.key_pem())).unwrap();

    // The Azure SDK names for the app, the gateway name for the authority.
    let f = lookup(&[
        ("SSO_ENTRA_AUTHORITY", mock.authority().base_url()),
        ("AZURE_TENANT_ID", OTHER_TID.to_owned()),
        ("AZURE_CLIENT_ID", app.client_id.to_string()),
        ("AZURE_CLIENT_CERTIFICATE_PATH", pem.display().to_string()),
        ("ENTRA_REDIRECT_URI", REDIRECT.to_owned()),
        ("ENTRA_AUDIENCES", app.app_id_uri()),
    ]);

    // Sign-in sends a certificate assertion.
    let client = Client::new(Config::from_lookup(f.clone()).unwrap()).unwrap();
    assert!(!client.is_public());
    let login =
        client.begin_with(LoginOptions::new("/").login_hint(&alice.username)).await.unwrap();
    client.complete_own(&authorize(login.url()).await).await.unwrap();
    let code_request = mock.token_requests().pop().unwrap();
    assert_eq!(code_request.form_value("grant_type"), Some("authorization_code"));
    assert!(code_request.form_value("client_assertion").is_some());
    assert!(code_request.form_value("client_secret").is_none());

    // Validation accepts a token for the same app; OBO exchanges it with the
    // same certificate.
    let validator = ValidatorBuilder::from_lookup(f.clone()).unwrap().build().unwrap();
    let user_token = validator.validate(&mock.access_token(&alice, &app)).await.unwrap();
    let obo = OboConfig::from_lookup(f).unwrap().build().unwrap();
    obo.exchange_on_behalf_of(&user_token, "https://graph.microsoft.com").await.unwrap();
    let obo_request = mock.token_requests().pop().unwrap();
    assert_eq!(obo_request.form_value("requested_token_use"), Some("on_behalf_of"));
    assert!(obo_request.form_value("client_assertion").is_some());
    assert!(obo_request.form_value("client_secret").is_none());
}

fn uuid_like() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos();
    format!("{}-{nanos}", std::process::id())
}

#[test]
fn ciam_authority_from_the_environment_keeps_the_public_graph() {
    // Passing: a CIAM (External ID) authority, as one URL or as cloud + tenant,
    // signs in at the ciamlogin host while Microsoft Graph stays the public one.
    for pairs in [
        vec![
            ("ENTRA_AUTHORITY", "https://contoso.ciamlogin.com/contoso.onmicrosoft.com".to_owned()),
            ("ENTRA_CLIENT_ID", CID.to_owned()),
        ],
        vec![
            ("AZURE_AUTHORITY_HOST", "https://contoso.ciamlogin.com".to_owned()),
            ("ENTRA_TENANT_ID", TID.to_owned()),
            ("ENTRA_CLIENT_ID", CID.to_owned()),
        ],
    ] {
        let config = Config::from_lookup(lookup(&pairs)).unwrap();
        let cloud = config.authority().cloud().clone();
        assert!(cloud.is_ciam(), "{pairs:?}");
        assert_eq!(cloud.login_base(), "https://contoso.ciamlogin.com");
        assert_eq!(cloud.graph_base(), "https://graph.microsoft.com");
        assert!(Client::new(config).is_ok());
    }
    // Failing: a B2C host is refused, naming B2C, not taken as a custom cloud.
    let b2c = [
        ("ENTRA_AUTHORITY", "https://contoso.b2clogin.com/contoso.onmicrosoft.com".to_owned()),
        ("ENTRA_CLIENT_ID", CID.to_owned()),
    ];
    let err = Config::from_lookup(lookup(&b2c)).unwrap_err();
    assert!(err.to_string().contains("B2C"), "{err}");
}
