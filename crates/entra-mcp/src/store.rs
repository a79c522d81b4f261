//! The default [`SecretStore`]: in memory, bounded, expiring by a [`Clock`].

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use entra_core::{Clock, ExpiringMap, Secret, SecretStore, StoreError, SystemClock};

/// An in-memory [`SecretStore`] for one process: take-once, with a time to live
/// read from a [`Clock`], and bounded.
///
/// When full, expired entries are swept; if it is still full, the entry closest
/// to its expiry is dropped (a pending authorization or code about to lapse
/// goes before a client registration); see [`ExpiringMap`]. Values stay in this process's memory
/// only; with several replicas, use a shared store such as
/// `entra_redis::SecretStore`, which encrypts them.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use std::time::Duration;
/// use entra_core::{ManualClock, Secret, SecretStore as _};
/// use entra_mcp::MemoryStore;
///
/// let clock = ManualClock::at_unix(1_700_000_000);
/// let store = MemoryStore::new(100).with_clock(clock.clone());
/// store.put("code:abc", Secret::new("v"), Duration::from_secs(60)).await.unwrap();
/// assert!(store.take("code:abc").await.unwrap().is_some());
/// assert!(store.take("code:abc").await.unwrap().is_none()); // taken once
/// store.put("client:x", Secret::new("v"), Duration::from_secs(60)).await.unwrap();
/// clock.advance(Duration::from_secs(61));
/// assert!(store.get("client:x").await.unwrap().is_none()); // expired
/// # });
/// ```
#[derive(Clone)]
pub struct MemoryStore {
    map: Arc<Mutex<ExpiringMap<Secret>>>,
    clock: Arc<dyn Clock>,
}

impl MemoryStore {
    /// The default capacity: 100,000 entries.
    pub const DEFAULT_CAPACITY: usize = 100_000;

    /// A store of at most `capacity` entries (at least one), on the system clock.
    pub fn new(capacity: usize) -> Self {
        Self { map: Arc::new(Mutex::new(ExpiringMap::new(capacity))), clock: Arc::new(SystemClock) }
    }

    /// Uses `clock` for expiry (a `ManualClock` in tests).
    pub fn with_clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    pub(crate) fn with_shared_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The number of entries held, expired ones included until swept.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether the store holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ExpiringMap<Secret>> {
        self.map.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Default for MemoryStore {
    /// [`MemoryStore::DEFAULT_CAPACITY`] entries, system clock.
    fn default() -> Self {
        Self::new(Self::DEFAULT_CAPACITY)
    }
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let map = self.lock();
        f.debug_struct("MemoryStore")
            .field("capacity", &map.capacity())
            .field("len", &map.len())
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl SecretStore for MemoryStore {
    async fn put(&self, key: &str, value: Secret, ttl: Duration) -> Result<(), StoreError> {
        let now = self.clock.now();
        self.lock().insert(key, value, now.checked_add(ttl).unwrap_or(now), now);
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Option<Secret>, StoreError> {
        let now = self.clock.now();
        Ok(self.lock().get(key, now).map(|(value, _)| value.clone()))
    }

    async fn take(&self, key: &str) -> Result<Option<Secret>, StoreError> {
        let now = self.clock.now();
        Ok(self.lock().take(key, now))
    }

    async fn increment(&self, key: &str, window: Duration) -> Result<u64, StoreError> {
        let now = self.clock.now();
        let mut map = self.lock();
        let (count, expires) = match map.get(key, now) {
            Some((v, expires)) => {
                (v.expose_secret().parse::<u64>().unwrap_or(0).saturating_add(1), expires)
            }
            None => (1, now.checked_add(window).unwrap_or(now)),
        };
        map.insert(key, Secret::new(count.to_string()), expires, now);
        Ok(count)
    }
}

#[cfg(test)]
mod tests {
    use entra_core::ManualClock;

    use super::*;

    #[tokio::test]
    async fn bounded_take_once_and_counters_by_window() {
        let clock = ManualClock::at_unix(1_700_000_000);
        let store = MemoryStore::new(2).with_clock(clock.clone());
        let s = |v: &str| Secret::new(v);
        store.put("a", s("1"), Duration::from_secs(10)).await.unwrap();
        store.put("b", s("2"), Duration::from_secs(100)).await.unwrap();
        store.put("c", s("3"), Duration::from_secs(100)).await.unwrap();
        // Full: the entry nearest its expiry went.
        assert_eq!(store.len(), 2);
        assert!(store.get("a").await.unwrap().is_none());
        assert_eq!(store.get("b").await.unwrap().unwrap().expose_secret(), "2");
        assert!(store.get("b").await.unwrap().is_some(), "get keeps the value");
        assert!(store.take("b").await.unwrap().is_some());
        assert!(store.take("b").await.unwrap().is_none());
        store.remove("c").await.unwrap();
        assert!(store.is_empty());

        let w = Duration::from_secs(60);
        assert_eq!(store.increment("n", w).await.unwrap(), 1);
        assert_eq!(store.increment("n", w).await.unwrap(), 2);
        clock.advance(Duration::from_secs(59));
        assert_eq!(store.increment("n", w).await.unwrap(), 3, "same window");
        clock.advance(Duration::from_secs(2));
        assert_eq!(store.increment("n", w).await.unwrap(), 1, "a new window");
        assert!(format!("{store:?}").starts_with("MemoryStore { capacity: 2"));
    }

    /// A store with only the required methods: the provided `increment`.
    #[derive(Debug)]
    struct Plain(MemoryStore);

    #[async_trait]
    impl SecretStore for Plain {
        async fn put(&self, key: &str, value: Secret, ttl: Duration) -> Result<(), StoreError> {
            self.0.put(key, value, ttl).await
        }
        async fn get(&self, key: &str) -> Result<Option<Secret>, StoreError> {
            self.0.get(key).await
        }
        async fn take(&self, key: &str) -> Result<Option<Secret>, StoreError> {
            self.0.take(key).await
        }
    }

    #[tokio::test]
    async fn provided_methods_work_through_the_blanket_impls() {
        let store: Arc<dyn SecretStore> = Arc::new(Plain(MemoryStore::default()));
        let w = Duration::from_secs(60);
        assert_eq!(store.increment("n", w).await.unwrap(), 1);
        assert_eq!(store.increment("n", w).await.unwrap(), 2);
        store.remove("n").await.unwrap();
        assert!(store.get("n").await.unwrap().is_none());
    }
}
