use std::collections::HashMap;

use super::*;
use crate::ClientAssertionProvider;

const TID: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const OTHER_TID: &str = "0a0a0a0a-0000-4000-8000-000000000bad";
const CID: &str = "6e74172b-be56-4843-9ff4-e66a39bb12e3";

fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let map: HashMap<String, String> =
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    move |name| map.get(name).cloned()
}

fn from_env(pairs: &[(&str, &str)]) -> Result<AppIdentity, Error> {
    AppIdentity::from_lookup(lookup(pairs))
}

fn from_json(json: serde_json::Value) -> Result<AppIdentity, String> {
    serde_json::from_value(json).map_err(|e| e.to_string())
}

fn testdata(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata").join(name)
}

#[test]
fn tenant_and_cloud_or_authority() {
    let id = from_env(&[("ENTRA_TENANT_ID", TID), ("ENTRA_CLIENT_ID", CID)]).unwrap();
    assert_eq!(
        id,
        AppIdentity::new(
            Authority::new(Cloud::Public, Tenant::parse(TID).unwrap()),
            ClientId::parse(CID).unwrap()
        )
    );
    let id = from_env(&[
        ("AZURE_TENANT_ID", TID),
        ("AZURE_AUTHORITY_HOST", "https://login.microsoftonline.us/"),
        ("AZURE_CLIENT_ID", CID),
    ])
    .unwrap();
    assert_eq!(id.authority.cloud(), &Cloud::UsGovernment);
    // The authority wins over tenant and cloud, whichever names they use; the
    // tenant and cloud are then not read at all (a malformed one is no error).
    for (tenant_name, cloud_name) in
        [("ENTRA_TENANT_ID", "ENTRA_CLOUD"), ("AZURE_TENANT_ID", "AZURE_AUTHORITY_HOST")]
    {
        let id = from_env(&[
            ("SSO_ENTRA_AUTHORITY", "https://login.microsoftonline.com/organizations/v2.0"),
            (tenant_name, OTHER_TID),
            (cloud_name, "china"),
            ("ENTRA_CLIENT_ID", CID),
        ])
        .unwrap();
        assert_eq!(
            id.authority,
            Authority::parse("https://login.microsoftonline.com/organizations").unwrap()
        );
        let id = from_env(&[
            ("ENTRA_AUTHORITY", &format!("https://login.microsoftonline.com/{TID}")),
            (tenant_name, "not a tenant"),
            ("ENTRA_CLIENT_ID", CID),
        ])
        .unwrap();
        assert_eq!(id.authority.tenant(), &Tenant::parse(TID).unwrap());
    }
    // The same rule in serde.
    let id = from_json(serde_json::json!({
        "authority": "https://login.microsoftonline.com/organizations",
        "tenant_id": OTHER_TID, "cloud": "china", "client_id": CID,
    }))
    .unwrap();
    assert_eq!(id.authority.tenant(), &Tenant::Organizations);
    assert_eq!(id.authority.cloud(), &Cloud::Public);
    let id =
        from_json(serde_json::json!({"tenant_id": TID, "cloud": "usgovernment", "client_id": CID}))
            .unwrap();
    assert_eq!(id.authority.cloud(), &Cloud::UsGovernment);
}

#[test]
fn missing_values_name_the_variables() {
    let err = from_env(&[("ENTRA_TENANT_ID", TID)]).unwrap_err();
    assert!(
        matches!(err, Error::MissingEnv { vars: [v] } if v.name == "ENTRA_CLIENT_ID"),
        "{err:?}"
    );
    assert!(err.to_string().contains("SSO_ENTRA_CLIENT_ID, AZURE_CLIENT_ID"), "{err}");
    let err = from_env(&[("SSO_ENTRA_CLIENT_ID", CID)]).unwrap_err();
    assert!(matches!(err, Error::MissingEnv { vars } if vars == [env::TENANT_ID, env::AUTHORITY]));
    let text = err.to_string();
    assert!(text.contains("ENTRA_TENANT_ID (or SSO_ENTRA_TENANT_ID, AZURE_TENANT_ID)"), "{text}");
    assert!(text.contains("ENTRA_AUTHORITY (or SSO_ENTRA_AUTHORITY)"), "{text}");
    // In serde, the keys.
    let err = from_json(serde_json::json!({"tenant_id": TID})).unwrap_err();
    assert!(err.contains("missing field `client_id`"), "{err}");
    let err = from_json(serde_json::json!({"client_id": CID})).unwrap_err();
    assert!(err.contains("missing field `tenant_id` or `authority`"), "{err}");
}

#[test]
fn malformed_values_name_the_variable_read() {
    let cases = [
        ("SSO_ENTRA_TENANT_ID", "not a tenant", "invalid tenant"),
        ("AZURE_CLIENT_ID", "dev-client-id", "invalid client id"),
        ("ENTRA_CLOUD", "mars", "invalid cloud"),
        ("SSO_ENTRA_AUTHORITY", "login.microsoftonline.com", "invalid authority"),
        ("ENTRA_CLIENT_AUTH", "private_key_jwt", "not `client_secret_post`"),
        ("ENTRA_ALLOWED_TENANTS", "contoso.com", "invalid tenant id"),
        ("ENTRA_ALLOWED_TENANTS", &format!("*, {TID}"), "cannot be combined"),
        ("ENTRA_AUDIENCES", "[3]", "not a JSON list"),
    ];
    for (name, value, want) in cases {
        let mut env =
            vec![("ENTRA_TENANT_ID", TID), ("ENTRA_CLIENT_ID", CID), ("ENTRA_CLIENT_SECRET", "s")];
        env.retain(|(k, _)| EnvVar::find(k) != EnvVar::find(name));
        env.push((name, value));
        let err = from_env(&env).unwrap_err();
        assert!(matches!(err, Error::InvalidEnv { name: n, .. } if n == name), "{name}: {err:?}");
        assert!(err.to_string().contains(want), "{name}: {err}");
    }
}

#[test]
fn credential_precedence_and_settings_without_their_credential() {
    let base = [("ENTRA_TENANT_ID", TID), ("ENTRA_CLIENT_ID", CID)];
    let with = |extra: &[(&str, &str)]| {
        let mut env = base.to_vec();
        env.extend_from_slice(extra);
        from_env(&env)
    };
    let all = [
        ("AZURE_CLIENT_SECRET", "s"),
        ("AZURE_CLIENT_CERTIFICATE_PATH", "/certs/app.pem"),
        ("AZURE_FEDERATED_TOKEN_FILE", "/var/run/token"),
    ];
    let id = with(&all).unwrap();
    assert_eq!(id.credential, Some(CredentialConfig::secret("s")));
    let id = with(&all[1..]).unwrap();
    assert_eq!(id.credential, Some(CredentialConfig::certificate("/certs/app.pem")));
    let id = with(&all[2..]).unwrap();
    assert_eq!(id.credential, Some(CredentialConfig::federated_token_file("/var/run/token")));
    assert_eq!(with(&[]).unwrap().credential, None);

    let id = with(&[
        ("ENTRA_CLIENT_CERTIFICATE_PATH", "/certs/tls.crt"),
        ("ENTRA_CLIENT_PRIVATE_KEY_PATH", "/certs/tls.key"),
        ("AZURE_CLIENT_CERTIFICATE_PASSWORD", "pw"),
    ])
    .unwrap();
    assert_eq!(
        id.credential,
        Some(CredentialConfig::Certificate {
            path: "/certs/tls.crt".into(),
            private_key_path: Some("/certs/tls.key".into()),
            password: Some(Secret::new("pw")),
        })
    );
    let id =
        with(&[("SSO_ENTRA_CLIENT_SECRET", "s"), ("ENTRA_CLIENT_AUTH", "client_secret_basic")])
            .unwrap();
    assert!(matches!(
        id.credential,
        Some(CredentialConfig::Secret { placement: SecretPlacement::Basic, .. })
    ));

    for (extra, name) in [
        (("ENTRA_CLIENT_AUTH", "client_secret_basic"), "ENTRA_CLIENT_AUTH"),
        (("AZURE_CLIENT_CERTIFICATE_PASSWORD", "pw-value"), "AZURE_CLIENT_CERTIFICATE_PASSWORD"),
        (("ENTRA_CLIENT_PRIVATE_KEY_PATH", "/k.pem"), "ENTRA_CLIENT_PRIVATE_KEY_PATH"),
    ] {
        let err = with(&[extra, ("ENTRA_FEDERATED_TOKEN_FILE", "/t")]).unwrap_err();
        assert!(matches!(err, Error::InvalidEnv { name: n, .. } if n == name), "{err:?}");
        assert!(err.to_string().contains("only used together with"), "{err}");
        assert!(!err.to_string().contains("pw-value"));
    }
    let err = from_json(serde_json::json!({
        "tenant_id": TID, "client_id": CID, "client_certificate_password": "pw"
    }))
    .unwrap_err();
    assert!(
        err.contains(
            "`client_certificate_password` is only used together with `client_certificate_path`"
        ),
        "{err}"
    );
}

#[test]
fn serde_and_environment_give_the_same_identity() {
    let env = [
        ("SSO_ENTRA_TENANT_ID", "organizations"),
        ("AZURE_CLIENT_ID", CID),
        ("ENTRA_CLIENT_CERTIFICATE_PATH", "/certs/app.pem"),
        ("ENTRA_CLIENT_CERTIFICATE_PASSWORD", "pw"),
        ("ENTRA_AUDIENCES", &format!("api://{CID}, https://api.contoso.com")),
        ("ENTRA_ALLOWED_TENANTS", &format!(r#"["{TID}", "{OTHER_TID}"]"#)),
    ];
    let json = serde_json::json!({
        "tenant_id": "organizations",
        "client_id": CID,
        "client_certificate_path": "/certs/app.pem",
        "client_certificate_password": "pw",
        "audiences": [format!("api://{CID}"), "https://api.contoso.com"],
        "allowed_tenants": format!("{TID},{OTHER_TID}"),
    });
    let a = from_env(&env).unwrap();
    assert_eq!(a, from_json(json).unwrap());
    assert_eq!(a.audiences.len(), 2);
    assert!(matches!(&a.allowed_tenants, Some(TenantPolicy::Only(t)) if t.len() == 2));
    let any = from_env(&[
        ("ENTRA_TENANT_ID", "common"),
        ("ENTRA_CLIENT_ID", CID),
        ("ENTRA_ALLOWED_TENANTS", "*"),
    ])
    .unwrap();
    assert_eq!(any.allowed_tenants, Some(TenantPolicy::Any));
    // Every serde key is the table's key of a variable.
    let keys = [
        "authority",
        "tenant_id",
        "cloud",
        "client_id",
        "client_secret",
        "client_auth",
        "client_certificate_path",
        "client_certificate_password",
        "client_private_key_path",
        "federated_token_file",
        "audiences",
        "allowed_tenants",
    ];
    for key in keys {
        assert!(env::ALL.iter().any(|v| v.key() == key), "{key}");
    }
    let err =
        from_json(serde_json::json!({"tenant_id": TID, "client_id": CID, "client_secrets": "x"}))
            .unwrap_err();
    assert!(err.contains("unknown field `client_secrets`"), "{err}");
}

#[test]
fn debug_never_shows_secrets() {
    let id = from_env(&[
        ("ENTRA_TENANT_ID", TID),
        ("ENTRA_CLIENT_ID", CID),
        ("ENTRA_CLIENT_CERTIFICATE_PATH", "/c.pem"),
        ("ENTRA_CLIENT_CERTIFICATE_PASSWORD", "pw-hunter2"),
    ])
    .unwrap();
    assert!(!format!("{id:?}").contains("hunter2"));
    let id = from_env(&[
        ("ENTRA_TENANT_ID", TID),
        ("ENTRA_CLIENT_ID", CID),
        ("ENTRA_CLIENT_SECRET", "s-hunter2"),
    ])
    .unwrap();
    assert!(!format!("{id:?}").contains("hunter2"));
}

async fn assertion(credential: ClientCredential) -> String {
    let ClientCredential::Assertion(provider) = credential else { panic!("not an assertion") };
    let id = ClientId::parse(CID).unwrap();
    provider
        .client_assertion(&id, "https://login.example/t/oauth2/v2.0/token")
        .await
        .unwrap()
        .expose_secret()
        .to_owned()
}

#[tokio::test]
async fn credentials_load() {
    // A secret.
    assert!(matches!(CredentialConfig::secret("s").load(), Ok(ClientCredential::Secret { .. })));
    assert!(matches!(CredentialConfig::secret("").load(), Err(Error::Empty { .. })));
    // A certificate with its key encrypted, in two PBES2 flavours.
    for key in ["key-aes256-sha256.pem", "key-aes128-sha1.pem"] {
        let config = CredentialConfig::Certificate {
            path: testdata("cert.pem"),
            private_key_path: Some(testdata(key)),
            password: Some(Secret::new("correct-horse")),
        };
        let jwt = assertion(config.load().unwrap()).await;
        assert_eq!(jwt.split('.').count(), 3, "{key}");
    }
    let load = |key: &str, password: Option<&str>| {
        CredentialConfig::Certificate {
            path: testdata("cert.pem"),
            private_key_path: Some(testdata(key)),
            password: password.map(Secret::new),
        }
        .load()
        .err()
        .map(|e| e.to_string())
    };
    let wrong = load("key-aes256-sha256.pem", Some("wrong-horse")).unwrap();
    assert!(wrong.contains("wrong password"), "{wrong}");
    let none = load("key-aes256-sha256.pem", None).unwrap();
    assert!(none.contains("no password"), "{none}");
    let pbes1 = load("key-pbes1.pem", Some("correct-horse")).unwrap();
    assert!(pbes1.contains("only PBES2"), "{pbes1}");
    // A certificate file holding certificate and key, unencrypted.
    let k = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).unwrap();
    let c = rcgen::CertificateParams::new(vec!["app".into()]).unwrap().self_signed(&k).unwrap();
    let dir = std::env::temp_dir().join(format!("entra-core-identity-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let combined = dir.join("app.pem");
    std::fs::write(&combined, format!("{}{}", c.pem(), k.serialize_pem())).unwrap();
    let jwt = assertion(CredentialConfig::certificate(&combined).load().unwrap()).await;
    assert_eq!(jwt.split('.').count(), 3);
    // Unreadable, binary (PKCS#12) and missing files.
    let pfx = dir.join("app.pfx");
    std::fs::write(&pfx, [0x30, 0x82, 0xff, 0xfe, 0x80]).unwrap();
    let err = CredentialConfig::certificate(&pfx).load().err().unwrap();
    assert!(err.to_string().contains("PKCS#12"), "{err}");
    let err = CredentialConfig::certificate(dir.join("missing.pem")).load().err().unwrap();
    assert!(matches!(&err, Error::CredentialFile { what: "certificate", .. }), "{err:?}");
    assert!(err.to_string().contains("missing.pem"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
    // A federated token file is read at each use, not now.
    let fed = CredentialConfig::federated_token_file("/nonexistent/token").load().unwrap();
    assert!(matches!(fed, ClientCredential::Assertion(_)));
}

#[test]
fn identity_credential_is_loaded_on_demand() {
    let mut id = AppIdentity::new(
        Authority::parse(&format!("https://login.microsoftonline.com/{TID}")).unwrap(),
        ClientId::parse(CID).unwrap(),
    );
    assert!(id.client_credential().unwrap().is_none());
    id.credential = Some(CredentialConfig::secret("s"));
    assert!(matches!(id.client_credential(), Ok(Some(ClientCredential::Secret { .. }))));
}
