//! A bounded map whose entries expire: the one in-memory structure behind the
//! default stores of pending sign-ins (entra-oidc) and of the MCP facade's
//! secrets (entra-mcp).

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::time::SystemTime;

/// A map from text keys to values that expire, holding at most `capacity`
/// entries, with no clock of its own: every call that needs the time takes
/// `now`.
///
/// An entry is live while `now < expires`. When an insertion finds the map
/// full, expired entries go first; if it is still full, the entry closest to
/// its expiry goes (among entries expiring at the same instant, the one inserted
/// first). Every operation costs O(log n): a full map under a flood of
/// insertions costs no more per insertion than an empty one.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use entra_core::ExpiringMap;
///
/// let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
/// let mut map = ExpiringMap::new(2);
/// map.insert("a", 1, now + Duration::from_secs(10), now);
/// map.insert("b", 2, now + Duration::from_secs(60), now);
/// map.insert("c", 3, now + Duration::from_secs(60), now); // full: "a" goes
/// assert_eq!(map.get("a", now), None);
/// assert_eq!(map.take("b", now), Some(2));
/// assert_eq!(map.take("b", now), None); // taken once
/// assert_eq!(map.get("c", now + Duration::from_secs(60)), None); // expired
/// ```
pub struct ExpiringMap<V> {
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
    pub fn new(capacity: usize) -> Self {
        Self {
            entries: HashMap::new(),
            by_expiry: BTreeMap::new(),
            capacity: capacity.max(1),
            next: 0,
        }
    }

    /// The most entries held at once.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The number of entries held, expired ones included until they are
    /// dropped (by an insertion or a [`take`](Self::take)).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the map holds nothing.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Inserts `value` for `key`, live until `expires`, replacing any value
    /// `key` had. Expired entries are dropped first; a new key in a map still
    /// full then pushes out the entry closest to its expiry.
    pub fn insert(&mut self, key: &str, value: V, expires: SystemTime, now: SystemTime) {
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
    pub fn get(&self, key: &str, now: SystemTime) -> Option<(&V, SystemTime)> {
        self.entries.get(key).filter(|e| now < e.expires).map(|e| (&e.value, e.expires))
    }

    /// Removes `key`; its value if it was live. Expired entries are dropped too.
    pub fn take(&mut self, key: &str, now: SystemTime) -> Option<V> {
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

impl<V> fmt::Debug for ExpiringMap<V> {
    /// The capacity and the number of entries: never keys or values.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExpiringMap")
            .field("capacity", &self.capacity)
            .field("len", &self.len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;

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
        assert!(map.is_empty());
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
    fn debug_shows_no_keys_or_values() {
        let mut map = ExpiringMap::new(2);
        map.insert("state-123", "verifier-xyz", at(60), at(0));
        let debug = format!("{map:?}");
        assert!(!debug.contains("state-123") && !debug.contains("verifier-xyz"), "{debug}");
        assert!(debug.starts_with("ExpiringMap { capacity: 2, len: 1"));
    }
}
