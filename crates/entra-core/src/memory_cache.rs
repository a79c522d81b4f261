//! The bounded in-memory token cache (feature `memory-cache`): the one
//! in-memory [`TokenCache`] of the entra-* crates.

use std::fmt;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use moka::Expiry;

use crate::{Secret, StoreError, TokenCache};

/// A bounded in-memory [`TokenCache`] (moka): the default cache of
/// `entra_obo::Obo`, and the first level (L1) of entra-redis' two-level cache.
///
/// Each entry lives for the TTL it was stored with; the least recently used
/// entries are evicted when the cache is full. Besides the async [`TokenCache`]
/// methods it has synchronous ones ([`MemoryTokenCache::get_now`],
/// [`MemoryTokenCache::insert`], [`MemoryTokenCache::invalidate`]) for a caller
/// that is itself a cache level.
///
/// ```
/// use std::time::Duration;
/// use entra_core::{Secret, TokenCache};
/// use entra_core::MemoryTokenCache;
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let cache = MemoryTokenCache::new(1_000);
/// cache.put("k", Secret::new("v"), Duration::from_secs(60)).await?;
/// assert_eq!(cache.get("k").await?.unwrap().expose_secret(), "v");
/// # Ok::<(), entra_core::StoreError>(())
/// # }).unwrap();
/// ```
#[derive(Clone)]
pub struct MemoryTokenCache {
    entries: moka::sync::Cache<String, Entry>,
}

#[derive(Clone)]
struct Entry {
    value: Secret,
    ttl: Duration,
}

struct PerEntryTtl;

impl Expiry<String, Entry> for PerEntryTtl {
    fn expire_after_create(&self, _: &String, entry: &Entry, _: Instant) -> Option<Duration> {
        Some(entry.ttl)
    }

    fn expire_after_update(
        &self,
        _: &String,
        entry: &Entry,
        _: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        Some(entry.ttl)
    }
}

impl MemoryTokenCache {
    /// A cache holding at most `max_entries` tokens.
    pub fn new(max_entries: u64) -> Self {
        Self {
            entries: moka::sync::Cache::builder()
                .max_capacity(max_entries)
                .expire_after(PerEntryTtl)
                .build(),
        }
    }

    /// The number of entries (approximate: moka counts lazily).
    pub fn entry_count(&self) -> u64 {
        self.entries.entry_count()
    }

    /// The value stored under `key`, if it has not expired.
    pub fn get_now(&self, key: &str) -> Option<Secret> {
        self.entries.get(key).map(|e| e.value)
    }

    /// Stores `value` under `key` for `ttl` (a zero TTL removes the entry).
    pub fn insert(&self, key: &str, value: Secret, ttl: Duration) {
        if ttl.is_zero() {
            self.entries.invalidate(key);
        } else {
            self.entries.insert(key.to_owned(), Entry { value, ttl });
        }
    }

    /// Removes `key`.
    pub fn invalidate(&self, key: &str) {
        self.entries.invalidate(key);
    }

    /// Runs moka's pending maintenance (evictions, counts) now.
    pub fn run_pending_tasks(&self) {
        self.entries.run_pending_tasks();
    }
}

impl Default for MemoryTokenCache {
    /// A cache of 10,000 tokens.
    fn default() -> Self {
        Self::new(10_000)
    }
}

impl fmt::Debug for MemoryTokenCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryTokenCache")
            .field("entries", &self.entries.entry_count())
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl TokenCache for MemoryTokenCache {
    async fn get(&self, key: &str) -> Result<Option<Secret>, StoreError> {
        Ok(self.get_now(key))
    }

    async fn put(&self, key: &str, value: Secret, ttl: Duration) -> Result<(), StoreError> {
        self.insert(key, value, ttl);
        Ok(())
    }

    async fn remove(&self, key: &str) -> Result<(), StoreError> {
        self.invalidate(key);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn memory_cache_get_put_remove() {
        let c = MemoryTokenCache::new(10);
        assert!(c.get("a").await.unwrap().is_none());
        c.put("a", Secret::new("1"), Duration::from_secs(60)).await.unwrap();
        assert_eq!(c.get("a").await.unwrap().unwrap().expose_secret(), "1");
        c.remove("a").await.unwrap();
        assert!(c.get("a").await.unwrap().is_none());
        // A zero TTL expires at once.
        c.put("b", Secret::new("2"), Duration::ZERO).await.unwrap();
        assert!(c.get("b").await.unwrap().is_none());
    }

    #[tokio::test]
    async fn memory_cache_is_bounded() {
        let c = MemoryTokenCache::new(10);
        for i in 0..200 {
            c.put(&format!("k{i}"), Secret::new("v"), Duration::from_secs(60)).await.unwrap();
        }
        c.run_pending_tasks();
        assert!(c.entry_count() <= 10, "{}", c.entry_count());
    }
}
