//! The per-thread front of the token cache (`OboBuilder::thread_cache`): hits
//! answered without reading the token cache, and never a token the `Obo`
//! removed, an expired one, or another user's.
//!
//! Each `Worker` is an OS thread with its own runtime, so its copies are its own;
//! the test's thread asks it to exchange and waits for the answer.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use entra_core::{AccessToken, MemoryTokenCache, Secret, StoreError, TokenCache, ValidatedToken};
use entra_obo::{Error, Obo};
use entra_testkit::TestUser;
use entra_testkit::doubles::{CacheOp, RecordingCache};
use tokio::sync::{Notify, oneshot};

use crate::support::Env;

const GRAPH: &str = "https://graph.microsoft.com";
const CLAIMS: &str = r#"{"access_token":{"acrs":{"essential":true,"value":"c1"}}}"#;

type Job = (ValidatedToken, oneshot::Sender<Result<AccessToken, Error>>);

/// A thread of its own that exchanges tokens for the test.
struct Worker(mpsc::Sender<Job>);

impl Worker {
    fn start(obo: &Obo) -> Self {
        let obo = obo.clone();
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            for (user, reply) in rx {
                let _ = reply.send(rt.block_on(obo.exchange_on_behalf_of(&user, GRAPH)));
            }
        });
        Self(tx)
    }

    async fn secret(&self, user: &ValidatedToken) -> String {
        let (tx, rx) = oneshot::channel();
        self.0.send((user.clone(), tx)).unwrap();
        rx.await.unwrap().unwrap().secret.expose_secret().to_owned()
    }
}

fn gets(cache: &RecordingCache) -> usize {
    cache.ops().iter().filter(|op| matches!(op, CacheOp::Get { .. })).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hits_skip_the_token_cache_until_expiry_minus_the_skew() {
    let env = Env::start().await;
    let cache = RecordingCache::with_clock(env.clock.clone());
    let obo = env.builder().cache(cache.clone()).build().unwrap();
    let user = env.user_token(&env.alice);
    let first = obo.exchange_on_behalf_of(&user, GRAPH).await.unwrap();
    let first = first.secret.expose_secret();
    let worker = Worker::start(&obo);
    // The first read on a thread goes to the token cache, the next ones do not.
    assert_eq!(worker.secret(&user).await, first);
    let reads = gets(&cache);
    for _ in 0..3 {
        assert_eq!(worker.secret(&user).await, first);
    }
    assert_eq!(gets(&cache), reads);
    // 1-hour tokens, 5 minutes of skew: still a hit at 54 minutes...
    env.clock.advance(Duration::from_secs(54 * 60));
    assert_eq!(worker.secret(&user).await, first);
    assert_eq!((gets(&cache), env.token_requests().len()), (reads, 1));
    // ... and no longer one past 55.
    env.clock.advance(Duration::from_secs(60 + 1));
    assert_ne!(worker.secret(&user).await, first);
    assert_eq!(env.token_requests().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn turned_off_every_exchange_reads_the_token_cache() {
    let env = Env::start().await;
    let cache = RecordingCache::with_clock(env.clock.clone());
    let obo = env.builder().cache(cache.clone()).thread_cache(0).build().unwrap();
    let user = env.user_token(&env.alice);
    obo.exchange_on_behalf_of(&user, GRAPH).await.unwrap();
    let worker = Worker::start(&obo);
    worker.secret(&user).await;
    let reads = gets(&cache);
    worker.secret(&user).await;
    assert_eq!(gets(&cache), reads + 1);
}

/// Fills two threads' copies with the user's token, runs `remove`, and checks
/// that neither thread answers with the removed token.
async fn removal_reaches_every_thread<F, Fut>(remove: F)
where
    F: FnOnce(Obo, ValidatedToken) -> Fut,
    Fut: Future<Output = ()>,
{
    let env = Env::start().await;
    let obo = env.obo();
    let user = env.user_token(&env.alice);
    let old = obo.exchange_on_behalf_of(&user, GRAPH).await.unwrap();
    let old = old.secret.expose_secret();
    let workers = [Worker::start(&obo), Worker::start(&obo)];
    for w in &workers {
        assert_eq!(w.secret(&user).await, old);
        assert_eq!(w.secret(&user).await, old);
    }
    assert_eq!(env.token_requests().len(), 1);
    remove(obo.clone(), user.clone()).await;
    let new = workers[0].secret(&user).await;
    assert_ne!(new, old);
    assert_eq!(workers[1].secret(&user).await, new);
    assert_ne!(obo.exchange_on_behalf_of(&user, GRAPH).await.unwrap().secret.expose_secret(), old);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forget_drops_every_threads_copy() {
    removal_reaches_every_thread(|obo, user| async move {
        obo.forget(&user, GRAPH).await.unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claims_exchange_drops_every_threads_copy() {
    removal_reaches_every_thread(|obo, user| async move {
        obo.exchange_with_claims(&user, GRAPH, CLAIMS).await.unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_user_or_another_token_never_gets_a_copy() {
    let env = Env::start().await;
    let obo = env.obo();
    let alice = env.user_token(&env.alice);
    let worker = Worker::start(&obo);
    let for_alice = obo.exchange_on_behalf_of(&alice, GRAPH).await.unwrap();
    let for_alice = for_alice.secret.expose_secret();
    assert_eq!(worker.secret(&alice).await, for_alice);
    assert_eq!(worker.secret(&alice).await, for_alice);
    // Bob's token carrying Alice's hash: another (tid, oid), another entry.
    let bob = env.user_token(&env.mock.add_user(TestUser::new("bob@contoso.com")));
    let forged = entra_core::dangerous::assume_validated_with_sha256(
        bob.raw().clone(),
        bob.claims().clone(),
        *alice.sha256(),
    );
    assert_ne!(worker.secret(&forged).await, for_alice);
    // Alice's claims with another token: another hash, another entry.
    let other = env.user_token(&env.alice);
    let other =
        entra_core::dangerous::assume_validated(other.raw().clone(), alice.claims().clone());
    assert_ne!(worker.secret(&other).await, for_alice);
    assert_eq!(env.token_requests().len(), 3);
}

/// A memory cache whose next `put` stops twice: before writing (until
/// `write`), and after writing (until `finish`), saying so each time.
#[derive(Clone, Debug, Default)]
struct GatedCache(Arc<Gates>);

#[derive(Debug, Default)]
struct Gates {
    inner: MemoryTokenCache,
    armed: Mutex<bool>,
    put_arrived: Notify,
    write: Notify,
    written: Notify,
    finish: Notify,
}

#[async_trait]
impl TokenCache for GatedCache {
    async fn get(&self, key: &str) -> Result<Option<Secret>, StoreError> {
        self.0.inner.get(key).await
    }
    async fn put(&self, key: &str, value: Secret, ttl: Duration) -> Result<(), StoreError> {
        let g = &self.0;
        let gated = std::mem::take(&mut *g.armed.lock().unwrap());
        if gated {
            g.put_arrived.notify_one();
            g.write.notified().await;
        }
        g.inner.put(key, value, ttl).await?;
        if gated {
            g.written.notify_one();
            g.finish.notified().await;
        }
        Ok(())
    }
    async fn remove(&self, key: &str) -> Result<(), StoreError> {
        self.0.inner.remove(key).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flight_overtaken_during_its_write_drops_every_threads_copy() {
    let env = Env::start().await;
    let cache = GatedCache::default();
    *cache.0.armed.lock().unwrap() = true;
    let gates = cache.0.clone();
    let obo = env.builder().cache(cache.clone()).build().unwrap();
    let user = env.user_token(&env.alice);
    let worker = Worker::start(&obo);
    let plain = tokio::spawn({
        let (obo, user) = (obo.clone(), user.clone());
        async move { obo.exchange_on_behalf_of(&user, GRAPH).await }
    });
    // The plain flight has its token and is about to write it: a claims
    // exchange overtakes it (it removes the entry, which is not there yet).
    gates.put_arrived.notified().await;
    obo.exchange_with_claims(&user, GRAPH, CLAIMS).await.unwrap();
    gates.write.notify_one();
    // The refused token is in the token cache for a moment: the worker reads
    // it, and keeps a copy.
    gates.written.notified().await;
    let refused = worker.secret(&user).await;
    gates.finish.notify_one();
    assert_eq!(plain.await.unwrap().unwrap().secret.expose_secret(), refused);
    // The flight saw it was overtaken and removed the entry again: the copy
    // went with it.
    assert_ne!(worker.secret(&user).await, refused);
    assert_eq!(env.token_requests().len(), 3);
}
