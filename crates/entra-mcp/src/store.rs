//! The default [`SecretStore`]: in memory, bounded, expiring by a [`Clock`].

use std::time::Duration;

use async_trait::async_trait;
use entra_core::{Clock, ExpiringStore, Secret, SecretStore, StoreError};

/// An in-memory [`SecretStore`] for one process: take-once, with a time to live
/// read from a [`Clock`], and bounded.
///
/// When full, expired entries are swept; if it is still full, the entry closest
/// to its expiry is dropped (a pending authorization or code about to lapse
/// goes before a client registration): it is an [`ExpiringStore`]. Values stay
/// in this process's memory only; with several replicas, use a shared store
/// such as `entra_redis::SecretStore`, which encrypts them.
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
#[derive(Clone, Debug)]
pub struct MemoryStore(ExpiringStore<Secret>);

impl MemoryStore {
    /// The default capacity: 100,000 entries.
    pub const DEFAULT_CAPACITY: usize = 100_000;

    /// A store of at most `capacity` entries (at least one), on the system clock.
    pub fn new(capacity: usize) -> Self {
        Self(ExpiringStore::new(capacity))
    }

    /// Uses `clock` for expiry (a `ManualClock` in tests).
    pub fn with_clock(self, clock: impl Clock + 'static) -> Self {
        Self(self.0.with_clock(clock))
    }

    /// The number of entries held, expired ones included until swept.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the store holds nothing.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Default for MemoryStore {
    /// [`MemoryStore::DEFAULT_CAPACITY`] entries, system clock.
    fn default() -> Self {
        Self::new(Self::DEFAULT_CAPACITY)
    }
}

#[async_trait]
impl SecretStore for MemoryStore {
    async fn put(&self, key: &str, value: Secret, ttl: Duration) -> Result<(), StoreError> {
        self.0.put(key, value, ttl);
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Option<Secret>, StoreError> {
        Ok(self.0.get(key))
    }

    async fn take(&self, key: &str) -> Result<Option<Secret>, StoreError> {
        Ok(self.0.take(key))
    }

    /// The count lives in the entry's value; the window starts with the first
    /// increment, and an increment keeps it.
    async fn increment(&self, key: &str, window: Duration) -> Result<u64, StoreError> {
        Ok(self.0.update(key, window, |count| {
            let old = count.and_then(|v| v.expose_secret().parse::<u64>().ok()).unwrap_or(0);
            let count = old.saturating_add(1);
            (Secret::new(count.to_string()), count)
        }))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

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
        assert!(format!("{store:?}").starts_with("MemoryStore(ExpiringStore { capacity: 2"));
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
