//! Building the facade: the credential from the environment, the issuer, the
//! allowed origins and the resource's scope.

use entra_axum::EntraAuth;
use entra_core::{Authority, ClientCredential, ClientId, Cloud, Secret, TenantId};
use entra_mcp::{Error, Facade, FacadeBuilder};

const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CLIENT: &str = "6e74172b-be56-4843-9ff4-e66a39bb12e3";

fn auth() -> EntraAuth {
    let tid = TenantId::parse(TENANT).unwrap();
    EntraAuth::builder(Authority::new(Cloud::Public, tid.into()), ClientId::parse(CLIENT).unwrap())
        .build()
        .unwrap()
}

fn vars(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
    move |n| pairs.iter().find(|(k, _)| *k == n).map(|(_, v)| (*v).to_owned())
}

#[test]
fn the_credential_comes_from_the_environment() {
    let auth = auth();
    let mcp = auth.resource("https://mcp.example.com/mcp", ["access_as_user"]).unwrap();
    static NO_SECRET: [(&str, &str); 2] =
        [("ENTRA_TENANT_ID", TENANT), ("ENTRA_CLIENT_ID", CLIENT)];
    match FacadeBuilder::from_vars(&auth, &mcp, vars(&NO_SECRET)) {
        Err(Error::MissingConfig { name }) => {
            assert!(name.contains("ENTRA_CLIENT_SECRET"), "{name}")
        }
        other => panic!("{other:?}"),
    }
    static WITH_SECRET: [(&str, &str); 3] = [
        ("ENTRA_TENANT_ID", TENANT),
        ("ENTRA_CLIENT_ID", CLIENT),
        ("ENTRA_CLIENT_SECRET", "s3cret"),
    ];
    let facade =
        FacadeBuilder::from_vars(&auth, &mcp, vars(&WITH_SECRET)).unwrap().build().unwrap();
    assert_eq!(facade.issuer(), "https://mcp.example.com");
    assert_eq!(facade.resource_metadata().authorization_servers, ["https://mcp.example.com"]);
    assert!(!format!("{facade:?}").contains("s3cret"));
    // Without any credential the builder refuses too.
    assert!(matches!(Facade::builder(&auth, &mcp).build(), Err(Error::MissingConfig { .. })));
}

#[test]
fn issuers_origins_and_scopes_are_checked() {
    let auth = auth();
    let mcp = auth.resource("https://mcp.example.com/mcp", ["access_as_user"]).unwrap();
    let builder =
        || Facade::builder(&auth, &mcp).credential(ClientCredential::secret(Secret::new("s")));
    for bad in ["http://mcp.example.com", "https://mcp.example.com/auth", "https://h/?x=1", "nope"]
    {
        assert!(
            matches!(
                builder().issuer(bad).build(),
                Err(Error::InvalidConfig { field: "issuer", .. })
            ),
            "{bad}"
        );
    }
    for good in ["https://auth.example.com", "https://auth.example.com/", "http://127.0.0.1:8080"] {
        assert!(builder().issuer(good).build().is_ok(), "{good}");
    }
    for bad in ["http://claude.ai", "claude.ai", "https://"] {
        let r = builder().allow_https_redirect_origin(bad).build();
        assert!(matches!(r, Err(Error::InvalidConfig { .. })), "{bad}");
    }
    assert!(builder().allow_https_redirect_origin("https://claude.ai/").build().is_ok());
    let bare = auth.resource("https://mcp.example.com/mcp", Vec::<String>::new()).unwrap();
    let r = Facade::builder(&auth, &bare)
        .credential(ClientCredential::secret(Secret::new("s")))
        .build();
    assert!(matches!(r, Err(Error::InvalidConfig { field: "resource", .. })));
}
