//! A bounded store whose entries expire: the one in-memory structure behind the
//! default stores of pending sign-ins (entra-oidc) and of the MCP facade's
//! secrets (entra-mcp).

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use crate::{Clock, SystemClock};

/// A bounded in-memory store of values that expire, from text keys, on a
/// [`Clock`]: cheap to clone (clones share the entries), safe to share between
/// tasks and threads.
///
/// An entry is live until `ttl` after it was put. When a new key finds the
/// store full, expired entries go first; if it is still full, the entry closest
/// to its expiry goes (among entries expiring at the same instant, the one put
/// first). Every operation costs O(log n) under one lock: a full store under a
/// flood of insertions costs no more per insertion than an empty one. `Debug`
/// shows the capacity and the number of entries, never a key or a value.
///
/// ```
/// use std::time::Duration;
/// use entra_core::{ExpiringStore, ManualClock};
///
/// let clock = ManualClock::at_unix(1_700_000_000);
/// let store = ExpiringStore::new(2).with_clock(clock.clone());
/// store.put("a", 1, Duration::from_secs(10));
/// store.put("b", 2, Duration::from_secs(60));
/// store.put("c", 3, Duration::from_secs(60)); // full: "a", the soonest to expire, goes
/// assert_eq!(store.get("a"), None);
/// assert_eq!(store.take("b"), Some(2));
/// assert_eq!(store.take("b"), None); // taken once
/// clock.advance(Duration::from_secs(60));
/// assert_eq!(store.get("c"), None); // expired
/// ```
pub struct ExpiringStore<V> {
    map: Arc<Mutex<ExpiringMap<V>>>,
    clock: Arc<dyn Clock>,
}

impl<V> Clone for ExpiringStore<V> {
    /// Another handle on the same entries (whatever `V` is).
    fn clone(&self) -> Self {
        Self { map: Arc::clone(&self.map), clock: Arc::clone(&self.clock) }
    }
}

impl<V> ExpiringStore<V> {
    /// An empty store holding at most `capacity` entries (at least one), on the
    /// system clock.
    pub fn new(capacity: usize) -> Self {
        Self { map: Arc::new(Mutex::new(ExpiringMap::new(capacity))), clock: Arc::new(SystemClock) }
    }

    /// Uses `clock` for expiry (a `ManualClock` in tests; an `Arc<dyn Clock>`
    /// shares one).
    pub fn with_clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The most entries held at once.
    pub fn capacity(&self) -> usize {
        self.lock().capacity()
    }

    /// The number of entries held, expired ones included until they are dropped
    /// (by an insertion or a [`take`](Self::take)).
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether the store holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Puts `value` for `key`, live for `ttl` from now, replacing any value
    /// `key` had.
    pub fn put(&self, key: &str, value: V, ttl: Duration) {
        let now = self.clock.now();
        self.lock().insert(key, value, expiry(now, ttl), now);
    }

    /// Removes `key`; its value if it was live.
    pub fn take(&self, key: &str) -> Option<V> {
        let now = self.clock.now();
        self.lock().take(key, now)
    }

    /// Replaces the value of `key` by what `f` makes of the live one (`None`
    /// when there is none), under one lock: a live entry keeps its expiry, a new
    /// one lives for `ttl`. Returns what `f` returns beside the value.
    pub fn update<R>(&self, key: &str, ttl: Duration, f: impl FnOnce(Option<&V>) -> (V, R)) -> R {
        let now = self.clock.now();
        let mut map = self.lock();
        let live = map.get(key, now);
        let expires = live.map_or_else(|| expiry(now, ttl), |(_, expires)| expires);
        let (value, out) = f(live.map(|(old, _)| old));
        map.insert(key, value, expires, now);
        out
    }

    fn lock(&self) -> MutexGuard<'_, ExpiringMap<V>> {
        // The map is consistent after every method: a panic elsewhere while
        // the lock was held leaves nothing half-done.
        self.map.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<V: Clone> ExpiringStore<V> {
    /// A copy of the live value of `key`.
    pub fn get(&self, key: &str) -> Option<V> {
        let now = self.clock.now();
        self.lock().get(key, now).map(|(value, _)| value.clone())
    }
}

impl<V> fmt::Debug for ExpiringStore<V> {
    /// The capacity and the number of entries: never keys or values.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let map = self.lock();
        f.debug_struct("ExpiringStore")
            .field("capacity", &map.capacity())
            .field("len", &map.len())
            .finish_non_exhaustive()
    }
}

/// `ttl` after `now`, or `now` (expired at once) past the end of time.
fn expiry(now: SystemTime, ttl: Duration) -> SystemTime {
    now.checked_add(ttl).unwrap_or(now)
}

/// The map behind [`ExpiringStore`], with no clock and no lock: every call that
/// needs the time takes `now`. An entry is live while `now < expires`.
struct ExpiringMap<V> {
    entries: HashMap<String, Entry<V>>,
    /// Every entry once, by expiry then insertion number: the next to go first.
    by_expiry: BTreeMap<(SystemTime, u64), String>,
    capacity: usize,
    next: u64,
}

struct Entry<V> {
    value: V,
    expires: SystemTime,
    seq: u64,
}

impl<V> ExpiringMap<V> {
    /// An empty map holding at most `capacity` entries (at least one).
    fn new(capacity: usize) -> Self {
        Self {
            entries: HashMap::new(),
            by_expiry: BTreeMap::new(),
            capacity: capacity.max(1),
            next: 0,
        }
    }

    /// The most entries held at once.
    fn capacity(&self) -> usize {
        self.capacity
    }

    /// The number of entries held, expired ones included until they are
    /// dropped (by an insertion or a [`take`](Self::take)).
    fn len(&self) -> usize {
        self.entries.len()
    }

    /// Inserts `value` for `key`, live until `expires`, replacing any value
    /// `key` had. Expired entries are dropped first; a new key in a map still
    /// full then pushes out the entry closest to its expiry.
    fn insert(&mut self, key: &str, value: V, expires: SystemTime, now: SystemTime) {
        self.sweep(now);
        if let Some(old) = self.entries.remove(key) {
            self.by_expiry.remove(&(old.expires, old.seq));
        } else if self.entries.len() >= self.capacity
            && let Some((_, soonest)) = self.by_expiry.pop_first()
        {
            self.entries.remove(&soonest);
        }
        let seq = self.next;
        self.next = self.next.wrapping_add(1);
        self.by_expiry.insert((expires, seq), key.to_owned());
        self.entries.insert(key.to_owned(), Entry { value, expires, seq });
    }

    /// The live value of `key` and when it expires.
    fn get(&self, key: &str, now: SystemTime) -> Option<(&V, SystemTime)> {
        self.entries.get(key).filter(|e| now < e.expires).map(|e| (&e.value, e.expires))
    }

    /// Removes `key`; its value if it was live. Expired entries are dropped too.
    fn take(&mut self, key: &str, now: SystemTime) -> Option<V> {
        let entry = self.entries.remove(key);
        if let Some(e) = &entry {
            self.by_expiry.remove(&(e.expires, e.seq));
        }
        self.sweep(now);
        entry.filter(|e| now < e.expires).map(|e| e.value)
    }

    /// Drops the entries expired at `now`.
    fn sweep(&mut self, now: SystemTime) {
        while let Some(entry) = self.by_expiry.first_entry() {
            if now < entry.key().0 {
                break;
            }
            let key = entry.remove();
            self.entries.remove(&key);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::UNIX_EPOCH;

    use super::*;
    use crate::ManualClock;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn live_until_expiry_then_gone() {
        let mut map = ExpiringMap::new(10);
        map.insert("a", "1", at(160), at(100));
        assert_eq!(map.get("a", at(159)), Some((&"1", at(160))));
        assert_eq!(map.get("a", at(160)), None, "expired at exactly its expiry");
        assert_eq!(map.take("a", at(160)), None);
        assert_eq!(map.len(), 0);
    }

    #[test]
    fn full_maps_drop_expired_then_the_soonest_then_the_oldest() {
        let mut map = ExpiringMap::new(3);
        map.insert("late", 1, at(500), at(0));
        map.insert("soon", 2, at(100), at(0));
        map.insert("mid", 3, at(300), at(0));
        map.insert("new", 4, at(400), at(0));
        assert_eq!(map.len(), 3);
        assert_eq!(map.get("soon", at(0)), None, "the soonest to expire went");
        // At 350 "mid" has expired: it goes, and nothing live is pushed out.
        map.insert("newer", 5, at(600), at(350));
        assert_eq!(map.len(), 3);
        assert!(map.get("late", at(350)).is_some() && map.get("new", at(350)).is_some());
        // The same expiry for all: the first inserted goes.
        let mut map = ExpiringMap::new(2);
        for k in ["a", "b", "c"] {
            map.insert(k, k, at(60), at(0));
        }
        assert_eq!(map.get("a", at(0)), None);
        assert_eq!(map.take("b", at(0)), Some("b"));
        assert_eq!(map.take("c", at(0)), Some("c"));
    }

    #[test]
    fn replacing_a_key_keeps_one_entry_and_its_new_expiry() {
        let mut map = ExpiringMap::new(2);
        map.insert("a", 1, at(100), at(0));
        map.insert("b", 2, at(200), at(0));
        map.insert("a", 3, at(300), at(0)); // not new: nothing is pushed out
        assert_eq!(map.len(), 2);
        assert_eq!(map.get("b", at(0)).map(|(v, _)| *v), Some(2));
        assert_eq!(map.get("a", at(250)), Some((&3, at(300))));
        assert_eq!(map.by_expiry.len(), 2);
    }

    #[test]
    fn the_index_never_outgrows_the_entries() {
        let mut map = ExpiringMap::new(4);
        map.insert("keep", 0, at(1_000), at(0));
        for i in 0..10_000u64 {
            let k = format!("k{i}");
            map.insert(&k, i, at(100 + i % 7), at(i / 100));
            if i % 3 == 0 {
                map.take(&k, at(i / 100));
            }
            assert_eq!(map.by_expiry.len(), map.len());
            assert!(map.len() <= 4);
        }
        assert_eq!(map.take("keep", at(0)), Some(0), "the latest expiry stays");
    }

    #[test]
    fn the_store_puts_takes_and_updates_on_its_clock() {
        let clock = ManualClock::at_unix(1_000);
        let store = ExpiringStore::new(10).with_clock(clock.clone());
        let ttl = Duration::from_secs(60);
        let add = |n: Option<&u64>| {
            let n = n.copied().unwrap_or(0) + 1;
            (n, n)
        };
        assert_eq!(store.update("n", ttl, add), 1, "a new entry");
        clock.advance(Duration::from_secs(59));
        assert_eq!(store.update("n", ttl, add), 2, "a live entry");
        clock.advance(Duration::from_secs(1));
        assert_eq!(store.get("n"), None, "an update keeps the first expiry");
        assert_eq!(store.update("n", ttl, add), 1, "then starts again");
        store.put("a", 7, Duration::MAX);
        assert_eq!(store.get("a"), None, "a ttl past the end of time is expired at once");
        store.put("a", 7, ttl);
        let clone = store.clone();
        assert_eq!(clone.take("a"), Some(7), "clones share the entries");
        assert_eq!(store.take("a"), None);
        let shared: Arc<dyn Clock> = Arc::new(clock.clone());
        let on_shared = ExpiringStore::new(1).with_clock(shared);
        on_shared.put("b", 1, ttl);
        clock.advance(ttl);
        assert_eq!(on_shared.get("b"), None, "a shared clock is followed");
    }

    #[test]
    fn debug_shows_no_keys_or_values() {
        let store = ExpiringStore::new(2);
        store.put("state-123", "verifier-xyz", Duration::from_secs(60));
        let debug = format!("{store:?}");
        assert!(!debug.contains("state-123") && !debug.contains("verifier-xyz"), "{debug}");
        assert!(debug.starts_with("ExpiringStore { capacity: 2, len: 1"), "{debug}");
    }
}
