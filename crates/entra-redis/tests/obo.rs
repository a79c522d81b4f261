//! `entra_obo::Obo` on two replicas sharing the Redis token cache, against the
//! mock Entra: one token request for both.

use std::time::Duration;

use entra_core::{ClientCredential, Clock, ManualClock, Secret};
use entra_obo::Obo;
use entra_redis::TokenCache;
use entra_testkit::{MockEntra, TestApp, TestUser};

use crate::support::{Prefix, contains_piece};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_obo_token_fetched_on_a_is_an_l2_hit_on_b() {
    let clock = ManualClock::starting_now();
    let mock = MockEntra::builder().clock(clock.clone()).start().await.unwrap();
    let api =
        mock.register_app(TestApp::new("mcp-server").secret("s").expose_scope("access_as_user"));
    mock.grant_consent(&api.client_id, "https://graph.microsoft.com", &["User.Read"]);
    let alice = mock.add_user(TestUser::new("alice@contoso.com").name("Alice"));
    let user = mock.validated_token(&alice, &api);
    let user_token = user.raw().expose_secret().to_owned();

    let p = Prefix::new();
    let replica = |cache: TokenCache| {
        Obo::builder(
            mock.authority(),
            api.client_id.clone(),
            ClientCredential::secret(Secret::new("s")),
        )
        .clock(clock.clone())
        .cache(cache)
        .build()
        .unwrap()
    };
    let a = replica(TokenCache::new(&p.connect().await));
    let b_cache = TokenCache::new(&p.connect().await);
    let b = replica(b_cache.clone());

    let on_a = a.exchange_on_behalf_of(&user, "https://graph.microsoft.com").await.unwrap();
    assert_eq!(mock.token_requests().len(), 1);
    assert_eq!(b_cache.l1_entry_count(), 0);
    // Concurrent callers on B: all served from Redis, no second request.
    let calls: Vec<_> = (0..8)
        .map(|_| {
            let (b, user) = (b.clone(), user.clone());
            tokio::spawn(async move {
                b.exchange_on_behalf_of(&user, "https://graph.microsoft.com").await
            })
        })
        .collect();
    for call in calls {
        let on_b = call.await.unwrap().unwrap();
        assert_eq!(on_b.secret, on_a.secret);
        assert_eq!(on_b.expires_at, on_a.expires_at);
        assert_eq!(on_b.scopes, on_a.scopes);
    }
    assert_eq!(mock.token_requests().len(), 1, "exactly one token request for both replicas");

    // Nothing stored holds the downstream token or the user's token.
    let keys = p.keys();
    assert_eq!(keys.len(), 1, "{keys:?}");
    for key in &keys {
        let value = p.get(key).unwrap();
        for secret in [on_a.secret.expose_secret(), user_token.as_str()] {
            assert!(!contains_piece(&value, secret));
            assert!(!contains_piece(key.as_bytes(), secret));
        }
    }
    // The Redis TTL is the token's lifetime (`expires_in`, on the mock's stopped
    // clock) less the 5 minute skew, counted down by Redis since the put.
    let expires_in = on_a.expires_at.duration_since(clock.now()).unwrap();
    let ttl = expires_in - Duration::from_secs(300);
    let pttl = Duration::from_millis(u64::try_from(p.pttl(&keys[0])).unwrap());
    // (Expiry times are whole seconds: one second of slack.)
    let slack = Duration::from_secs(1);
    assert!(pttl <= ttl + slack && pttl >= ttl - Duration::from_secs(60), "{pttl:?} vs {ttl:?}");

    // Forgetting on B removes it from Redis: A keeps its L1 copy, a third
    // replica must ask Entra again.
    b.forget(&user, "https://graph.microsoft.com").await.unwrap();
    assert!(p.keys().is_empty());
    let c = replica(TokenCache::new(&p.connect().await));
    c.exchange_on_behalf_of(&user, "https://graph.microsoft.com").await.unwrap();
    assert_eq!(mock.token_requests().len(), 2);
}
