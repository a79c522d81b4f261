//! Every way a sign-in is refused.

use std::time::Duration;

use entra_core::{CredentialConfig, ErrorKind, Secret};
use entra_oidc::{CallbackParams, Error, LoginOptions};
use entra_testkit::doubles::TamperingLoginStore;
use entra_testkit::{Fault, TestUser};

use crate::support::{CompleteOwn as _, Env, authorize};

async fn begin_for(client: &entra_oidc::Client, user: &TestUser) -> CallbackParams {
    let login = client.begin_with(LoginOptions::new("/").login_hint(&user.username)).await.unwrap();
    authorize(login.url()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_and_missing_state() {
    let env = Env::start().await;
    let client = env.client(env.config());
    let mut params = begin_for(&client, &env.alice).await;
    let real_state = params.state.clone();

    params.state = Some("forged-state".into());
    assert!(matches!(client.complete_own(&params).await, Err(Error::UnknownState)));
    params.state = Some("x".repeat(10_000));
    assert!(matches!(client.complete_own(&params).await, Err(Error::UnknownState)));
    params.state = None;
    assert!(matches!(client.complete_own(&params).await, Err(Error::MissingState)));

    // The genuine state still works, once: the forged ones consumed nothing.
    params.state = real_state;
    let ok = client.complete_own(&params).await.unwrap();
    let err = client.complete_own(&params).await.unwrap_err();
    assert!(matches!(err, Error::UnknownState), "a replayed callback must fail: {err:?}");
    assert!(err.is_unauthorized());
    assert_eq!(ok.return_to(), "/");
    // Only the first callback reached the token endpoint.
    assert_eq!(env.mock.token_requests().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_state() {
    let env = Env::start().await;
    let client = env.client(env.config());
    let ok = begin_for(&client, &env.alice).await;
    env.clock.advance(Duration::from_secs(599));
    client.complete_own(&ok).await.unwrap();

    let late = begin_for(&client, &env.alice).await;
    env.clock.advance(Duration::from_secs(600));
    assert!(matches!(client.complete_own(&late).await, Err(Error::UnknownState)));

    // A store that keeps entries too long: the client's own age check refuses it.
    let store = TamperingLoginStore::new(|_| {}).ignoring_ttl();
    let client = env.client_with_store(env.config(), store);
    let late = begin_for(&client, &env.alice).await;
    env.clock.advance(Duration::from_secs(601));
    assert!(matches!(client.complete_own(&late).await, Err(Error::ExpiredState)));
    assert!(env.mock.token_requests().len() == 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_nonce_is_refused() {
    let env = Env::start().await;
    let client = env.client_with_store(
        env.config(),
        TamperingLoginStore::new(|l| l.nonce = Secret::new("another-sign-in's-nonce")),
    );
    let params = begin_for(&client, &env.alice).await;
    let err = client.complete_own(&params).await.unwrap_err();
    assert!(matches!(&err, Error::IdToken(entra_jwks::Error::NonceMismatch)), "{err:?}");
    assert!(err.is_unauthorized());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pkce_verifier_mismatch_is_detected_by_entra() {
    let env = Env::start().await;
    let client = env.client_with_store(
        env.config(),
        TamperingLoginStore::new(|l| l.pkce_verifier = Secret::new("x".repeat(43))),
    );
    let params = begin_for(&client, &env.alice).await;
    let err = client.complete_own(&params).await.unwrap_err();
    let entra = err.entra_error().expect("an entra error");
    assert_eq!(entra.kind(), ErrorKind::PkceMismatch);
    assert_eq!(entra.aadsts(), Some(501481));
    assert!(err.is_unauthorized());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entra_error_callback_has_a_remedy() {
    let env = Env::start().await;
    let client = env.client(env.config());
    env.mock.fail_for_user(&env.alice.oid, Fault::aadsts(50105));
    let params = begin_for(&client, &env.alice).await;
    assert!(params.code.is_none() && params.error.is_some());
    let err = client.complete_own(&params).await.unwrap_err();
    assert!(matches!(err, Error::Authorization(_)), "{err:?}");
    assert_eq!(err.entra_error().unwrap().kind(), ErrorKind::UserNotAssigned);
    assert!(err.remedy().unwrap().contains("Users and groups"));
    assert!(err.is_unauthorized());
    // The pending sign-in was consumed with the error.
    let mut replay = params.clone();
    replay.error = None;
    replay.code = Some(Secret::new("stolen"));
    assert!(matches!(client.complete_own(&replay).await, Err(Error::UnknownState)));

    // The user cancelled (a callback built by hand, as a host would parse it).
    let login = client.begin("/").await.unwrap();
    let q = format!(
        "error=access_denied&error_description=AADSTS65004%3A+User+declined+to+consent&state={}",
        login.state()
    );
    let err = client.complete_own(&CallbackParams::from_query(&q).unwrap()).await.unwrap_err();
    assert_eq!(err.entra_error().unwrap().kind(), ErrorKind::ConsentDeclined);
    assert!(!err.remedy().unwrap().contains("admin"), "{:?}", err.remedy());
    assert!(env.mock.token_requests().is_empty());

    // A callback with neither code nor error.
    let login = client.begin("/").await.unwrap();
    let q = format!("state={}", login.state());
    assert!(matches!(
        client.complete_own(&CallbackParams::from_query(&q).unwrap()).await,
        Err(Error::MissingCode)
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_client_secret_and_entra_outage() {
    let env = Env::start().await;
    let mut config = env.config();
    config.identity.credential = Some(CredentialConfig::secret("the-secret-id-not-its-value"));
    let client = env.client(config);
    let params = begin_for(&client, &env.alice).await;
    let err = client.complete_own(&params).await.unwrap_err();
    assert_eq!(err.entra_error().unwrap().kind(), ErrorKind::InvalidClientSecret, "{err:?}");
    // The error names the client-request-id the token request carried.
    let sent = env.mock.token_requests().pop().unwrap();
    let id = err.entra_error().unwrap().client_request_id.clone();
    assert_eq!(id.as_deref(), sent.header("client-request-id"));
    assert!(id.is_some());

    let client = env.client(env.config());
    let params = begin_for(&client, &env.alice).await;
    env.mock.fail_next(1, Fault::status(503));
    let err = client.complete_own(&params).await.unwrap_err();
    assert!(err.is_transient() && !err.is_unauthorized(), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allowed_domains() {
    let env = Env::start().await;
    let mut config = env.config();
    config.allowed_domains = vec!["ACME.com".into()];
    let client = env.client(config);

    let carol = env.mock.add_user(TestUser::new("carol@acme.com"));
    let ok = client.complete_own(&begin_for(&client, &carol).await).await.unwrap();
    assert_eq!(ok.user().address(), Some("carol@acme.com"));

    for (username, domain) in [
        ("alice@contoso.com", "contoso.com"),
        ("mallory@evil-acme.com", "evil-acme.com"),
        ("mallory@acme.com.evil.io", "acme.com.evil.io"),
        ("mallory@sub.acme.com", "sub.acme.com"),
    ] {
        let user = match env.mock.find_user(username) {
            Some(u) => u,
            None => env.mock.add_user(TestUser::new(username)),
        };
        let err = client.complete_own(&begin_for(&client, &user).await).await.unwrap_err();
        match err {
            Error::DomainNotAllowed { domain: d } => assert_eq!(d.as_deref(), Some(domain)),
            other => panic!("{username}: {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_redirect_shapes_are_refused() {
    let env = Env::start().await;
    let client = env.client(env.config());
    for bad in [
        "https://evil.example/",
        "http://evil.example",
        "//evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "/%2f%2fevil.example",
        "/%2F%2Fevil.example",
        "/%5cevil.example",
        "/%252f%252fevil.example",
        "/\t/evil.example",
        "/%09/evil.example",
        "/%0d%0aLocation:%20https://evil.example",
        "javascript:alert(document.domain)",
        "data:text/html,hi",
        "evil.example",
        "",
    ] {
        let err = client.begin(bad).await.unwrap_err();
        assert!(matches!(err, Error::InvalidReturnPath { .. }), "{bad:?}: {err:?}");
    }
    assert_eq!(env.mock.requests().len(), 0, "refused before any network call");

    // A return path altered in the store is checked again on the way back.
    let client = env.client_with_store(
        env.config(),
        TamperingLoginStore::new(|l| l.return_to = "//evil.example".into()),
    );
    let err = client.complete_own(&begin_for(&client, &env.alice).await).await.unwrap_err();
    assert!(matches!(err, Error::InvalidReturnPath { .. }), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_callbacks_complete_once() {
    let env = Env::start().await;
    let client = env.client(env.config());
    let params = begin_for(&client, &env.alice).await;
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (client, params) = (client.clone(), params.clone());
            tokio::spawn(async move { client.complete_own(&params).await })
        })
        .collect();
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => ok += 1,
            Err(e) => assert!(matches!(e, Error::UnknownState), "{e:?}"),
        }
    }
    assert_eq!(ok, 1);
    assert_eq!(env.mock.token_requests().len(), 1);
}
