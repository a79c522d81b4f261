//! Each AADSTS error the mock produces comes back as the right variant, with
//! the code and the remedy in its message and no secret anywhere.

use entra_core::{ClientCredential, ClientId, Secret};
use entra_obo::{Error, Obo};
use entra_testkit::{Fault, TestApp};

use crate::support::{API_SECRET, Env};

const GRAPH: &str = "https://graph.microsoft.com";
const CLAIMS: &str = r#"{"access_token":{"capolids":{"essential":true,"values":["1"]}}}"#;

fn check_message(e: &Error, code: u32) {
    let text = e.to_string();
    assert!(text.contains(&format!("AADSTS{code}")), "{text}");
    assert!(!text.contains(API_SECRET) && !format!("{e:?}").contains(API_SECRET));
    assert!(!text.contains("eyJ") && !format!("{e:?}").contains("eyJ"), "{text}");
}

/// Whether an error is the expected one.
type Check = fn(&Error) -> bool;

#[tokio::test]
async fn injected_aadsts_errors_map_to_variants() {
    let env = Env::start().await;
    let obo = env.obo();
    let user = env.user_token(&env.alice);
    let cases: Vec<(u32, Check)> = vec![
        (50076, |e| matches!(e, Error::InteractionRequired { .. })),
        (50079, |e| matches!(e, Error::InteractionRequired { .. })),
        (53003, |e| matches!(e, Error::InteractionRequired { .. })),
        (65001, |e| matches!(e, Error::ConsentRequired { .. })),
        (70011, |e| matches!(e, Error::InvalidScope { .. })),
        (28000, |e| matches!(e, Error::InvalidScope { .. })),
        (28003, |e| matches!(e, Error::InvalidScope { .. })),
        (7000215, |e| matches!(e, Error::InvalidClientCredential { .. })),
        (7000222, |e| matches!(e, Error::InvalidClientCredential { .. })),
        (700027, |e| matches!(e, Error::InvalidClientCredential { .. })),
        (700016, |e| matches!(e, Error::AppNotFound { .. })),
        (90002, |e| matches!(e, Error::AppNotFound { .. })),
        (50013, |e| matches!(e, Error::WrongAudience { .. })),
        (7000114, |e| matches!(e, Error::AppOnlyToken { response: Some(_) })),
        (500011, |e| matches!(e, Error::ResourceNotFound { .. })),
        (50105, |e| matches!(e, Error::UserNotAssigned { .. })),
        (500133, |e| matches!(e, Error::InvalidGrant { .. })),
        (9010010, |e| matches!(e, Error::InvalidScope { .. })),
    ];
    for (code, expected) in cases {
        env.mock.fail_next(1, Fault::aadsts(code));
        let e = obo.exchange_on_behalf_of(&user, GRAPH).await.unwrap_err();
        assert!(expected(&e), "AADSTS{code}: {e:?}");
        assert_eq!(e.aadsts(), Some(code));
        assert!(e.aadsts_codes().contains(&code));
        check_message(&e, code);
        assert!(!e.is_transient(), "{code}");
    }
    assert!(obo.exchange_on_behalf_of(&user, GRAPH).await.is_ok());
}

#[tokio::test]
async fn interaction_required_carries_the_claims_challenge() {
    let env = Env::start().await;
    let obo = env.obo();
    let user = env.user_token(&env.alice);
    env.mock.fail_next(1, Fault::aadsts(50076).claims(CLAIMS));
    let e = obo.exchange_on_behalf_of(&user, GRAPH).await.unwrap_err();
    assert!(matches!(e, Error::InteractionRequired { .. }), "{e}");
    assert!(e.is_unauthorized() && !e.is_transient());
    assert_eq!(e.claims(), Some(CLAIMS));
    let header = e.claims_challenge().unwrap().realm("mcp").header_value();
    assert!(header.starts_with("Bearer realm=\"mcp\", error=\"insufficient_claims\", claims=\""));
    assert_eq!(entra_obo::ClaimsChallenge::from_header_value(&header).unwrap().claims(), CLAIMS);
    assert!(e.to_string().contains("claims challenge"), "{e}");
    // Without claims there is no challenge to send.
    env.mock.fail_next(1, Fault::aadsts(65001));
    let e = obo.exchange_on_behalf_of(&user, GRAPH).await.unwrap_err();
    assert!(e.claims_challenge().is_none());
    assert!(e.to_string().contains("admin consent"), "{e}");
}

#[tokio::test]
async fn errors_entra_raises_on_its_own() {
    let env = Env::start().await;
    let user = env.user_token(&env.alice);

    // A wrong secret.
    let wrong = env
        .builder_with(env.mock.authority(), ClientCredential::secret(Secret::new("not-the-secret")))
        .build()
        .unwrap();
    let e = wrong.exchange_on_behalf_of(&user, GRAPH).await.unwrap_err();
    assert!(matches!(e, Error::InvalidClientCredential { .. }), "{e}");
    check_message(&e, 7000215);
    assert!(!e.to_string().contains("not-the-secret"));

    // An unknown client id.
    let stranger = ClientId::parse("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0").unwrap();
    let unknown =
        Obo::builder(env.mock.authority(), stranger, ClientCredential::secret(Secret::new("x")))
            .build()
            .unwrap();
    let e = unknown.exchange_on_behalf_of(&user, GRAPH).await.unwrap_err();
    assert!(matches!(e, Error::AppNotFound { .. }), "{e}");

    let obo = env.obo();
    // A user token issued for another API (here the downstream one): AADSTS50013.
    let for_other =
        env.mock.verify_token(&env.mock.access_token(&env.alice, &env.downstream)).unwrap();
    let e = obo.exchange_on_behalf_of(&for_other, GRAPH).await.unwrap_err();
    assert!(matches!(e, Error::WrongAudience { .. }), "{e}");
    assert!(e.is_unauthorized());
    check_message(&e, 50013);

    // No consent for that downstream API: AADSTS65001.
    let unconsented = env.mock.register_app(TestApp::new("billing").expose_scope("read"));
    let e = obo.exchange_on_behalf_of(&user, unconsented.app_id_uri()).await.unwrap_err();
    assert!(matches!(e, Error::ConsentRequired { .. }), "{e}");

    // A scope the API does not expose: AADSTS70011.
    let bogus = format!("{}/delete_everything", env.downstream.app_id_uri());
    let e = obo.exchange_on_behalf_of(&user, [bogus.as_str()]).await.unwrap_err();
    assert!(matches!(e, Error::InvalidScope { .. }), "{e}");

    // An expired user token: invalid_grant AADSTS500133.
    env.clock.advance(std::time::Duration::from_secs(2 * 3600));
    let e = obo.exchange_on_behalf_of(&user, GRAPH).await.unwrap_err();
    assert!(matches!(e, Error::InvalidGrant { .. }), "{e}");
    assert!(e.is_unauthorized());
}
