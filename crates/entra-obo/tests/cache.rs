//! Caching: hits, expiry with the ManualClock, claims bypass, errors never cached,
//! and single-flight under concurrency.

use std::sync::Arc;
use std::time::Duration;

use entra_obo::Error;
use entra_testkit::doubles::{FailingStore, RecordingCache};
use entra_testkit::{Fault, TestUser};

use crate::support::{Env, claims_of};

const GRAPH: &str = "https://graph.microsoft.com";

#[tokio::test]
async fn a_second_exchange_is_a_cache_hit() {
    let env = Env::start().await;
    let obo = env.obo();
    let user = env.user_token(&env.alice);
    let first = obo.exchange_on_behalf_of(&user, GRAPH).await.unwrap();
    let second = obo.exchange_on_behalf_of(&user, GRAPH).await.unwrap();
    assert_eq!(first.secret, second.secret);
    assert_eq!(first.expires_at, second.expires_at);
    assert_eq!(env.token_requests().len(), 1);
    // Another resource, other scopes, another user: their own entries.
    obo.exchange_on_behalf_of(&user, env.downstream.app_id_uri()).await.unwrap();
    obo.exchange_on_behalf_of(&user, ["User.Read"]).await.unwrap();
    obo.exchange_on_behalf_of(&user, ["openid", "User.Read"]).await.unwrap(); // same set
    let bob = env.mock.add_user(TestUser::new("bob@contoso.com"));
    obo.exchange_on_behalf_of(&env.user_token(&bob), GRAPH).await.unwrap();
    assert_eq!(env.token_requests().len(), 4);
    // A clone shares the cache.
    obo.clone().exchange_on_behalf_of(&user, GRAPH).await.unwrap();
    assert_eq!(env.token_requests().len(), 4);
}

#[tokio::test]
async fn cached_tokens_expire_with_the_skew() {
    let env = Env::start().await;
    let obo = env.obo();
    let user = env.user_token(&env.alice);
    let first = obo.exchange_on_behalf_of(&user, GRAPH).await.unwrap();
    // The mock issues 1-hour tokens; the default skew is 5 minutes.
    env.clock.advance(Duration::from_secs(54 * 60));
    assert_eq!(obo.exchange_on_behalf_of(&user, GRAPH).await.unwrap().secret, first.secret);
    assert_eq!(env.token_requests().len(), 1);
    env.clock.advance(Duration::from_secs(60 + 1));
    let renewed = obo.exchange_on_behalf_of(&user, GRAPH).await.unwrap();
    assert_ne!(renewed.secret, first.secret);
    assert_eq!(env.token_requests().len(), 2);
}

#[tokio::test]
async fn a_custom_skew_and_forget() {
    let env = Env::start().await;
    let obo = env.builder().expiry_skew(Duration::from_secs(30 * 60)).build().unwrap();
    let user = env.user_token(&env.alice);
    obo.exchange_on_behalf_of(&user, GRAPH).await.unwrap();
    env.clock.advance(Duration::from_secs(29 * 60));
    obo.exchange_on_behalf_of(&user, GRAPH).await.unwrap();
    assert_eq!(env.token_requests().len(), 1);
    env.clock.advance(Duration::from_secs(2 * 60));
    obo.exchange_on_behalf_of(&user, GRAPH).await.unwrap();
    assert_eq!(env.token_requests().len(), 2);
    obo.forget(&user, GRAPH).await.unwrap();
    obo.exchange_on_behalf_of(&user, GRAPH).await.unwrap();
    assert_eq!(env.token_requests().len(), 3);
}

#[tokio::test]
async fn a_claims_challenge_skips_the_cache_and_replaces_the_cached_token() {
    let env = Env::start().await;
    let obo = env.obo();
    let user = env.user_token(&env.alice);
    let cached = obo.exchange_on_behalf_of(&user, GRAPH).await.unwrap();
    let claims = r#"{"access_token":{"acrs":{"essential":true,"value":"c1"}}}"#;
    let fresh = obo.exchange_with_claims(&user, GRAPH, claims).await.unwrap();
    assert_ne!(fresh.secret, cached.secret);
    let requests = env.token_requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[1].form_value("claims"), Some(claims));
    assert!(requests[0].form_value("claims").is_none());
    // The refused token was dropped from the cache (the claims token was not
    // cached): the next plain exchange asks again, and caches its answer.
    let next = obo.exchange_on_behalf_of(&user, GRAPH).await.unwrap();
    assert_ne!(next.secret, cached.secret);
    assert_eq!(env.token_requests().len(), 3);
    assert!(env.token_requests()[2].form_value("claims").is_none());
    assert_eq!(obo.exchange_on_behalf_of(&user, GRAPH).await.unwrap().secret, next.secret);
    assert_eq!(env.token_requests().len(), 3);
}

#[tokio::test]
async fn errors_are_never_cached() {
    let env = Env::start().await;
    let obo = env.obo();
    let user = env.user_token(&env.alice);
    env.mock.fail_next(1, Fault::aadsts(65001));
    assert!(matches!(
        obo.exchange_on_behalf_of(&user, GRAPH).await,
        Err(Error::ConsentRequired { .. })
    ));
    obo.exchange_on_behalf_of(&user, GRAPH).await.unwrap();
    assert_eq!(env.token_requests().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_callers_for_one_user_make_one_request() {
    let env = Env::start().await;
    let obo = env.obo();
    let user = Arc::new(env.user_token(&env.alice));
    // Slow the answer so that every caller arrives while the request is in flight.
    env.mock.fail_next(1, Fault::delay(Duration::from_millis(200)));
    let tasks: Vec<_> = (0..1000)
        .map(|_| {
            let (obo, user) = (obo.clone(), user.clone());
            tokio::spawn(async move { obo.exchange_on_behalf_of(&user, GRAPH).await })
        })
        .collect();
    let mut tokens = Vec::new();
    for t in tasks {
        tokens.push(t.await.unwrap().unwrap().secret);
    }
    assert_eq!(env.token_requests().len(), 1);
    assert!(tokens.iter().all(|t| *t == tokens[0]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_users_make_a_hundred_requests() {
    let env = Env::start().await;
    let obo = env.obo();
    let users: Vec<_> = (0..100)
        .map(|i| {
            let u = env.mock.add_user(TestUser::new(format!("user{i}@contoso.com")));
            Arc::new(env.user_token(&u))
        })
        .collect();
    env.mock.fail_next(1, Fault::delay(Duration::from_millis(100)));
    let tasks: Vec<_> = (0..1000)
        .map(|i| {
            let (obo, user) = (obo.clone(), users[i % 100].clone());
            tokio::spawn(async move { obo.exchange_on_behalf_of(&user, GRAPH).await })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(env.token_requests().len(), 100);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_callers_share_an_error_too() {
    let env = Env::start().await;
    let obo = env.obo();
    let user = Arc::new(env.user_token(&env.alice));
    env.mock.fail_next(1, Fault::aadsts(50076).with_delay(Duration::from_millis(200)));
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let (obo, user) = (obo.clone(), user.clone());
            tokio::spawn(async move { obo.exchange_on_behalf_of(&user, GRAPH).await })
        })
        .collect();
    for t in tasks {
        assert!(matches!(t.await.unwrap(), Err(Error::InteractionRequired { .. })));
    }
    assert_eq!(env.token_requests().len(), 1);
    // And the next caller tries again.
    obo.exchange_on_behalf_of(&user, GRAPH).await.unwrap();
    assert_eq!(env.token_requests().len(), 2);
}

#[tokio::test]
async fn keys_hold_no_token_and_ttl_is_lifetime_minus_skew() {
    let env = Env::start().await;
    let cache = RecordingCache::with_clock(env.clock.clone());
    let obo = env.builder().cache(cache.clone()).build().unwrap();
    let user = env.user_token(&env.alice);
    obo.exchange_on_behalf_of(&user, GRAPH).await.unwrap();
    let puts = cache.puts();
    assert_eq!(puts.len(), 1);
    let (key, ttl) = &puts[0];
    assert_eq!(*ttl, Duration::from_secs(3600 - 300));
    assert!(!key.contains(user.raw().expose_secret()));
    let sig = user.raw().expose_secret().rsplit('.').next().unwrap();
    assert!(!key.contains(sig));
    assert!(
        key.contains(env.api.client_id.as_str()) && key.contains(env.mock.tenant_id().as_str())
    );

    // A cache whose backend is down: exchanges still work, uncached.
    let broken = env.builder().cache(FailingStore).build().unwrap();
    broken.exchange_on_behalf_of(&user, GRAPH).await.unwrap();
    broken.exchange_on_behalf_of(&user, GRAPH).await.unwrap();
    assert_eq!(env.token_requests().len(), 3);
}

#[tokio::test]
async fn a_claims_exchange_overtakes_a_plain_exchange_in_flight() {
    let env = Env::start().await;
    let obo = env.obo();
    let user = env.user_token(&env.alice);
    // Every token request takes a while, so the plain one is still in flight
    // when the claims challenge is answered.
    env.mock.fail_next(2, Fault::delay(Duration::from_millis(400)));
    let plain = tokio::spawn({
        let (obo, user) = (obo.clone(), user.clone());
        async move { obo.exchange_on_behalf_of(&user, GRAPH).await }
    });
    while obo.in_flight() == 0 {
        tokio::task::yield_now().await;
    }
    let claims = r#"{"access_token":{"acrs":{"essential":true,"value":"c1"}}}"#;
    let fresh = obo.exchange_with_claims(&user, GRAPH, claims).await.unwrap();
    let pre_challenge = plain.await.unwrap().unwrap();
    assert_ne!(fresh.secret, pre_challenge.secret);
    assert_eq!(env.token_requests().len(), 2);
    // The pre-challenge token was handed to its caller but not cached: the next
    // plain exchange asks Entra again instead of returning it.
    let next = obo.exchange_on_behalf_of(&user, GRAPH).await.unwrap();
    assert_ne!(next.secret, pre_challenge.secret);
    assert_eq!(env.token_requests().len(), 3);
}

#[tokio::test]
async fn one_users_cache_entry_never_answers_another_even_with_the_same_hash() {
    let env = Env::start().await;
    let cache = RecordingCache::with_clock(env.clock.clone());
    let obo = env.builder().cache(cache.clone()).build().unwrap();
    let alice = env.user_token(&env.alice);
    let bob_user = env.mock.add_user(TestUser::new("bob@contoso.com"));
    let bob = env.user_token(&bob_user);
    let for_alice = obo.exchange_on_behalf_of(&alice, GRAPH).await.unwrap();
    // Bob's token carrying Alice's hash (a wrong hash supplied by the caller).
    let forged = entra_core::dangerous::assume_validated_with_sha256(
        bob.raw().clone(),
        bob.claims().clone(),
        *alice.sha256(),
    );
    let for_bob = obo.exchange_on_behalf_of(&forged, GRAPH).await.unwrap();
    assert_ne!(for_bob.secret, for_alice.secret);
    assert_eq!(claims_of(for_bob.secret.expose_secret())["oid"], bob_user.oid.as_str());
    assert_eq!(env.token_requests().len(), 2);
    let keys: Vec<String> = cache.puts().into_iter().map(|(k, _)| k).collect();
    assert_eq!(keys.len(), 2);
    assert_ne!(keys[0], keys[1]);
    assert!(keys[0].contains(env.alice.oid.as_str()) && keys[1].contains(bob_user.oid.as_str()));
}
