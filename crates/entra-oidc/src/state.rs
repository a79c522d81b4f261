//! The default, in-memory store of pending sign-ins.

use std::time::Duration;

use async_trait::async_trait;
use entra_core::{Clock, ExpiringStore, LoginStateStore, PendingLogin, StoreError};

/// An in-memory [`LoginStateStore`]: bounded, with a time to live read from a
/// [`Clock`], and take-once.
///
/// When full, expired entries are dropped, then the pending sign-in closest to
/// its expiry (with one sign-in lifetime for all, the oldest) to make room (its
/// callback then fails with an unknown state): it is an [`ExpiringStore`].
/// Pending sign-ins live in one process: with several replicas behind a load
/// balancer, use a shared store (entra-redis) or sticky sessions.
///
/// # The bound can be used to flush it
///
/// Starting a sign-in needs no authentication, and every
/// [`Client::begin`](crate::Client::begin) adds an entry. An anonymous client
/// that calls the login route about [`DEFAULT_CAPACITY`](Self::DEFAULT_CAPACITY)
/// (10,000) times within the sign-in lifetime evicts every real pending
/// sign-in: those users get [`Error::UnknownState`](crate::Error::UnknownState)
/// at the callback and must start again. Nothing leaks and no sign-in can be
/// hijacked this way, but sign-in can be disrupted. The bound is deliberate (an
/// unbounded store would let the same requests exhaust memory), so:
///
/// - rate-limit the login route per client address (for example with a tower
///   or reverse-proxy limit) well below the capacity;
/// - size the capacity for the expected sign-ins per lifetime
///   ([`MemoryLoginStateStore::new`]);
/// - with several replicas, or to survive restarts, use a shared store that
///   applies its own quotas.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use std::time::Duration;
/// use entra_core::{LoginStateStore, ManualClock, PendingLogin, Secret};
/// use entra_oidc::MemoryLoginStateStore;
///
/// let clock = ManualClock::at_unix(1_700_000_000);
/// let store = MemoryLoginStateStore::new(100).with_clock(clock.clone());
/// let login =
///     PendingLogin::new(Secret::new("n"), Secret::new("v"), "/".into(), "http://127.0.0.1/cb".into(), 0);
/// store.put("s1", login.clone(), Duration::from_secs(600)).await.unwrap();
/// assert!(store.take("s1").await.unwrap().is_some());
/// assert!(store.take("s1").await.unwrap().is_none()); // taken once
///
/// store.put("s2", login, Duration::from_secs(600)).await.unwrap();
/// clock.advance(Duration::from_secs(601));
/// assert!(store.take("s2").await.unwrap().is_none()); // expired
/// # });
/// ```
#[derive(Clone, Debug)]
pub struct MemoryLoginStateStore(ExpiringStore<PendingLogin>);

impl MemoryLoginStateStore {
    /// The default capacity: 10,000 pending sign-ins.
    pub const DEFAULT_CAPACITY: usize = 10_000;

    /// A store holding at most `capacity` pending sign-ins (at least one), using
    /// the system clock.
    pub fn new(capacity: usize) -> Self {
        Self(ExpiringStore::new(capacity))
    }

    /// Uses `clock` for expiry (a `ManualClock` in tests).
    pub fn with_clock(self, clock: impl Clock + 'static) -> Self {
        Self(self.0.with_clock(clock))
    }

    /// The number of pending sign-ins held, expired ones included until they are
    /// swept.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the store holds nothing.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Default for MemoryLoginStateStore {
    /// [`MemoryLoginStateStore::DEFAULT_CAPACITY`] entries, system clock.
    fn default() -> Self {
        Self::new(Self::DEFAULT_CAPACITY)
    }
}

#[async_trait]
impl LoginStateStore for MemoryLoginStateStore {
    async fn put(&self, state: &str, login: PendingLogin, ttl: Duration) -> Result<(), StoreError> {
        self.0.put(state, login, ttl);
        Ok(())
    }

    async fn take(&self, state: &str) -> Result<Option<PendingLogin>, StoreError> {
        Ok(self.0.take(state))
    }
}

#[cfg(test)]
mod tests {
    use entra_core::{ManualClock, Secret};

    use super::*;

    fn login(tag: &str) -> PendingLogin {
        PendingLogin::new(
            Secret::new(tag),
            Secret::new("v"),
            "/".into(),
            "http://127.0.0.1/cb".into(),
            0,
        )
    }

    fn block_on<F: Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
    }

    #[test]
    fn take_once_and_expiry() {
        block_on(async {
            let clock = ManualClock::at_unix(1_000);
            let store = MemoryLoginStateStore::new(10).with_clock(clock.clone());
            let ttl = Duration::from_secs(60);
            store.put("a", login("a"), ttl).await.unwrap();
            store.put("b", login("b"), ttl).await.unwrap();
            assert_eq!(store.take("a").await.unwrap().unwrap().nonce.expose_secret(), "a");
            assert!(store.take("a").await.unwrap().is_none());
            assert!(store.take("zzz").await.unwrap().is_none());
            clock.advance(Duration::from_secs(59));
            store.put("c", login("c"), ttl).await.unwrap();
            clock.advance(Duration::from_secs(1));
            assert!(store.take("b").await.unwrap().is_none(), "expired at exactly the ttl");
            assert!(store.take("c").await.unwrap().is_some());
            assert!(store.is_empty());
        });
    }

    #[test]
    fn bounded_evicts_oldest() {
        block_on(async {
            let store = MemoryLoginStateStore::new(3).with_clock(ManualClock::at_unix(1));
            let ttl = Duration::from_secs(60);
            for k in ["a", "b", "c", "d"] {
                store.put(k, login(k), ttl).await.unwrap();
            }
            assert_eq!(store.len(), 3);
            assert!(store.take("a").await.unwrap().is_none());
            for k in ["b", "c", "d"] {
                assert!(store.take(k).await.unwrap().is_some(), "{k}");
            }
        });
    }

    #[test]
    fn queue_stays_bounded_with_out_of_order_takes() {
        block_on(async {
            let store = MemoryLoginStateStore::new(4).with_clock(ManualClock::at_unix(1));
            let ttl = Duration::from_secs(60);
            store.put("keep", login("keep"), ttl).await.unwrap();
            for i in 0..10_000 {
                let k = format!("k{i}");
                store.put(&k, login(&k), ttl).await.unwrap();
                store.take(&k).await.unwrap();
            }
            assert_eq!(store.len(), 1);
            assert!(store.take("keep").await.unwrap().is_some());
        });
    }

    #[test]
    fn concurrent_takes_yield_one_winner() {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap();
        rt.block_on(async {
            let store = MemoryLoginStateStore::default();
            store.put("s", login("s"), Duration::from_secs(60)).await.unwrap();
            let tasks: Vec<_> = (0..16)
                .map(|_| {
                    let s = store.clone();
                    tokio::spawn(async move { s.take("s").await.unwrap().is_some() })
                })
                .collect();
            let mut wins = 0;
            for t in tasks {
                wins += usize::from(t.await.unwrap());
            }
            assert_eq!(wins, 1);
        });
    }
}
