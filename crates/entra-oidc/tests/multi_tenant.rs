//! Multi-tenant sign-in at `organizations`: the `{tenantid}` issuer and the
//! tenant allow-list.

use entra_core::{CredentialConfig, Tenant, TenantPolicy};
use entra_oidc::{Client, Config, Error, LoginOptions};
use entra_testkit::TestUser;

use crate::support::{CompleteOwn as _, Env, REDIRECT, SECRET, authorize};

fn multi_config(env: &Env) -> Config {
    let mut c =
        Config::new(env.mock.authority_for(Tenant::Organizations), env.app.client_id.clone());
    c.identity.credential = Some(CredentialConfig::secret(SECRET));
    c.redirect_uri = Some(REDIRECT.into());
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allowed_and_refused_tenants() {
    let env = Env::start().await;
    let partner = env.mock.add_tenant();
    let stranger = env.mock.add_tenant();
    let bob = env.mock.add_user(TestUser::new("bob@partner.example").tenant(partner.clone()));
    let eve = env.mock.add_user(TestUser::new("eve@stranger.example").tenant(stranger.clone()));

    // No allow-list: a configuration error, never "any tenant" by accident.
    assert!(matches!(
        Client::new(multi_config(&env)),
        Err(Error::InvalidConfig { field: "allowed_tenants", .. })
    ));

    let mut config = multi_config(&env);
    config.identity.allowed_tenants =
        Some(TenantPolicy::Only(vec![env.mock.tenant_id(), partner.clone()]));
    let client = env.client(config);
    let metadata = client.metadata().await.unwrap();
    assert!(metadata.issuer.contains("{tenantid}"), "{}", metadata.issuer);

    for (user, tid) in [(&env.alice, env.mock.tenant_id()), (&bob, partner.clone())] {
        let login =
            client.begin_with(LoginOptions::new("/").login_hint(&user.username)).await.unwrap();
        let signed_in = client.complete_own(&authorize(login.url()).await).await.unwrap();
        assert_eq!(signed_in.user().tenant_id(), &tid);
    }

    let login = client.begin_with(LoginOptions::new("/").login_hint(&eve.username)).await.unwrap();
    let err = client.complete_own(&authorize(login.url()).await).await.unwrap_err();
    assert!(
        matches!(&err, Error::IdToken(entra_jwks::Error::TenantNotAllowed { tenant }) if *tenant == stranger),
        "{err:?}"
    );
    assert!(err.is_unauthorized());

    // Any tenant (`*`): the issuer template is still checked, every tenant signs in.
    let mut config = multi_config(&env);
    config.identity.allowed_tenants = Some(TenantPolicy::Any);
    let client = env.client(config);
    let login = client.begin_with(LoginOptions::new("/").login_hint(&eve.username)).await.unwrap();
    let signed_in = client.complete_own(&authorize(login.url()).await).await.unwrap();
    assert_eq!(signed_in.user().tenant_id(), &stranger);
}
