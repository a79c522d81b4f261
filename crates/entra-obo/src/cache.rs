//! The default in-memory token cache, and how tokens are stored in any
//! [`TokenCache`].

use std::fmt;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use entra_core::{AccessToken, Secret, StoreError, TokenCache};
use moka::Expiry;

/// A bounded in-memory [`TokenCache`] (moka), the default of [`crate::Obo`].
///
/// Each entry lives for the TTL it was stored with; the least recently used
/// entries are evicted when the cache is full.
///
/// ```
/// use std::time::Duration;
/// use entra_core::{Secret, TokenCache};
/// use entra_obo::MemoryTokenCache;
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
        Ok(self.entries.get(key).map(|e| e.value))
    }

    async fn put(&self, key: &str, value: Secret, ttl: Duration) -> Result<(), StoreError> {
        self.entries.insert(key.to_owned(), Entry { value, ttl });
        Ok(())
    }

    async fn remove(&self, key: &str) -> Result<(), StoreError> {
        self.entries.invalidate(key);
        Ok(())
    }
}

/// Stores a token as `"<expires at, unix seconds>\n<scopes>\n<token>"`: any
/// [`TokenCache`] (Redis included) holds strings.
pub(crate) fn encode(token: &AccessToken) -> Secret {
    let exp = token.expires_at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    Secret::new(format!("{exp}\n{}\n{}", token.scopes.join(" "), token.secret.expose_secret()))
}

/// Reads back what [`encode`] stored; `None` for anything else.
pub(crate) fn decode(stored: &Secret) -> Option<AccessToken> {
    let mut parts = stored.expose_secret().splitn(3, '\n');
    let exp: u64 = parts.next()?.parse().ok()?;
    let scopes = parts.next()?.split_ascii_whitespace().map(str::to_owned).collect();
    let token = parts.next().filter(|t| !t.is_empty())?;
    let expires_at = UNIX_EPOCH.checked_add(Duration::from_secs(exp))?;
    Some(AccessToken::new(Secret::new(token), expires_at, scopes))
}

/// Whether `token` is still usable at `now`, keeping `skew` in reserve.
pub(crate) fn usable(token: &AccessToken, now: SystemTime, skew: Duration) -> bool {
    token.expires_at.checked_sub(skew).is_some_and(|t| t > now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_decode_round_trip() {
        let t = AccessToken::new(
            Secret::new("eyJ.a.b"),
            UNIX_EPOCH + Duration::from_secs(1_700_003_600),
            vec!["User.Read".into(), "Mail.Read".into()],
        );
        let back = decode(&encode(&t)).unwrap();
        assert_eq!(back.secret, t.secret);
        assert_eq!(back.expires_at, t.expires_at);
        assert_eq!(back.scopes, t.scopes);
        for bad in ["", "x\ny\nz", "1\n", "1\ns\n", "18446744073709551615\ns\nt", "-1\ns\nt"] {
            assert!(decode(&Secret::new(bad)).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn usable_keeps_the_skew_in_reserve() {
        let now = UNIX_EPOCH + Duration::from_secs(1_000_000);
        let t = |secs| AccessToken::new(Secret::new("t"), now + Duration::from_secs(secs), vec![]);
        let skew = Duration::from_secs(300);
        assert!(usable(&t(301), now, skew));
        assert!(!usable(&t(300), now, skew));
        assert!(!usable(&AccessToken::new(Secret::new("t"), UNIX_EPOCH, vec![]), now, skew));
    }

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
        c.entries.run_pending_tasks();
        assert!(c.entry_count() <= 10, "{}", c.entry_count());
    }
}
