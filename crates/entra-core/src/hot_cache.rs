//! A small per-thread cache in front of a shared one (feature `memory-cache`):
//! a hit reads and writes only the calling thread's memory, so hits scale with
//! the cores.
//!
//! A shared cache (moka, Redis) is the source of truth: bounded, with TTLs, seen
//! by every thread. Its hits still write shared memory: the cache's own
//! bookkeeping, and the reference count of the shared value when it is cloned
//! out. When every core answers the same tokens, those writes make the cores
//! take turns. [`HotCache`] keeps, per thread, the last few values that thread
//! took from the shared cache, each a copy with its own reference counts.

use std::cell::RefCell;
use std::fmt;
use std::hash::BuildHasher as _;
use std::sync::atomic::{AtomicU64, Ordering};

use aws_lc_rs::constant_time::verify_slices_are_equal;
use thread_local::ThreadLocal;

/// A per-thread cache of recent hits in front of a shared cache.
///
/// Each thread holds at most `per_thread` entries (the oldest is replaced);
/// memory is bounded by `per_thread` x the number of threads that used it.
/// Keys are compared byte for byte (in constant time), the hash only finds the
/// entry, so a hash collision never answers with another key's value. An entry
/// is never returned at or after its `until` time, and [`HotCache::clear`]
/// drops every thread's entries at once.
///
/// Values should be copies that share no reference count with the shared
/// cache's value (for example [`crate::ValidatedToken::unshared`]): cloning
/// one out of this cache then touches only the calling thread's memory.
///
/// ```
/// use entra_core::HotCache;
///
/// let cache: HotCache<String> = HotCache::new(16);
/// let key = b"token bytes";
/// let hash = cache.key_hash(key);
/// let seen = cache.generation();
/// cache.insert(seen, hash, key, "validated".to_owned(), 1_000);
/// assert_eq!(cache.get(hash, key, 999).as_deref(), Some("validated"));
/// assert_eq!(cache.get(hash, key, 1_000), None); // expired
/// cache.clear();
/// assert_eq!(cache.get(hash, key, 0), None);
/// ```
pub struct HotCache<V: Send> {
    threads: ThreadLocal<RefCell<Slots<V>>>,
    generation: AtomicU64,
    per_thread: usize,
    hasher: std::hash::RandomState,
}

struct Slots<V> {
    generation: u64,
    entries: Vec<Slot<V>>,
    /// The entry replaced next when the thread's slots are full.
    next: usize,
}

struct Slot<V> {
    hash: u64,
    key: Box<[u8]>,
    value: V,
    until: i64,
}

impl<V: Clone + Send> HotCache<V> {
    /// A cache holding at most `per_thread` entries in each thread (at least 1).
    pub fn new(per_thread: usize) -> Self {
        Self {
            threads: ThreadLocal::new(),
            generation: AtomicU64::new(0),
            per_thread: per_thread.max(1),
            hasher: std::hash::RandomState::new(),
        }
    }

    /// The keyed hash (SipHash with a random key per cache) that finds `key`.
    pub fn key_hash(&self, key: &[u8]) -> u64 {
        self.hasher.hash_one(key)
    }

    /// The current generation: read it before reading the shared cache, and
    /// pass it to [`HotCache::insert`], so that a value read before a
    /// [`HotCache::clear`] is not kept after it.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// This thread's value for `key` (found by `hash`, compared byte for byte),
    /// unless it expired (`now >= until`) or the cache was cleared since.
    pub fn get(&self, hash: u64, key: &[u8], now: i64) -> Option<V> {
        let generation = self.generation();
        let mut slots = self.threads.get()?.try_borrow_mut().ok()?;
        if slots.generation != generation {
            slots.reset(generation);
            return None;
        }
        let i = slots.position(hash, key)?;
        if now >= slots.entries[i].until {
            slots.remove(i);
            return None;
        }
        Some(slots.entries[i].value.clone())
    }

    /// Keeps `value` for `key` in this thread until `until` (same unit as the
    /// `now` of [`HotCache::get`]). Nothing is kept when the cache was cleared
    /// after `seen` was read from [`HotCache::generation`].
    pub fn insert(&self, seen: u64, hash: u64, key: &[u8], value: V, until: i64) {
        let generation = self.generation();
        if seen != generation {
            return;
        }
        let cell = self.threads.get_or(|| RefCell::new(Slots::new(generation)));
        let Ok(mut slots) = cell.try_borrow_mut() else { return };
        if slots.generation != generation {
            slots.reset(generation);
        }
        let slot = Slot { hash, key: key.into(), value, until };
        if let Some(i) = slots.position(hash, key) {
            slots.entries[i] = slot;
        } else if slots.entries.len() < self.per_thread {
            slots.entries.push(slot);
        } else {
            let next = slots.next;
            slots.entries[next] = slot;
            slots.next = (next + 1) % self.per_thread;
        }
    }

    /// Drops every thread's entries (each thread drops its own on its next use).
    pub fn clear(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }
}

impl<V> Slots<V> {
    fn new(generation: u64) -> Self {
        Self { generation, entries: Vec::new(), next: 0 }
    }

    fn reset(&mut self, generation: u64) {
        self.entries.clear();
        self.next = 0;
        self.generation = generation;
    }

    fn position(&self, hash: u64, key: &[u8]) -> Option<usize> {
        self.entries
            .iter()
            .position(|s| s.hash == hash && verify_slices_are_equal(&s.key, key).is_ok())
    }

    fn remove(&mut self, i: usize) {
        self.entries.swap_remove(i);
        if self.next > self.entries.len() {
            self.next = 0;
        }
    }
}

impl<V: Send> fmt::Debug for HotCache<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HotCache")
            .field("per_thread", &self.per_thread)
            .field("generation", &self.generation.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[test]
    fn hit_miss_expiry_and_exact_keys() {
        let c: HotCache<u32> = HotCache::new(4);
        let g = c.generation();
        let h = c.key_hash(b"a");
        assert_eq!(c.get(h, b"a", 0), None);
        c.insert(g, h, b"a", 1, 10);
        assert_eq!(c.get(h, b"a", 9), Some(1));
        // Same hash, other bytes: never the value of another key.
        assert_eq!(c.get(h, b"b", 9), None);
        // Expired at `until`, and gone after.
        assert_eq!(c.get(h, b"a", 10), None);
        assert_eq!(c.get(h, b"a", 0), None);
    }

    #[test]
    fn each_thread_has_its_own_entries() {
        let c: Arc<HotCache<u32>> = Arc::new(HotCache::new(4));
        let h = c.key_hash(b"k");
        c.insert(c.generation(), h, b"k", 7, 100);
        let other = Arc::clone(&c);
        let seen = std::thread::spawn(move || other.get(h, b"k", 0)).join().ok().flatten();
        assert_eq!(seen, None);
        assert_eq!(c.get(h, b"k", 0), Some(7));
    }

    #[test]
    fn clear_drops_every_thread_and_stale_inserts() {
        let c: Arc<HotCache<u32>> = Arc::new(HotCache::new(4));
        let h = c.key_hash(b"k");
        let other = Arc::clone(&c);
        std::thread::spawn(move || {
            other.insert(other.generation(), h, b"k", 1, 100);
            assert_eq!(other.get(h, b"k", 0), Some(1));
        })
        .join()
        .ok();
        c.insert(c.generation(), h, b"k", 2, 100);
        let before = c.generation();
        c.clear();
        assert_eq!(c.get(h, b"k", 0), None);
        let other = Arc::clone(&c);
        let seen = std::thread::spawn(move || other.get(h, b"k", 0)).join().ok().flatten();
        assert_eq!(seen, None);
        // A value read before the clear is not kept after it.
        c.insert(before, h, b"k", 3, 100);
        assert_eq!(c.get(h, b"k", 0), None);
    }

    #[test]
    fn bounded_per_thread_and_replaces_oldest() {
        let c: HotCache<usize> = HotCache::new(2);
        let g = c.generation();
        let keys: Vec<Vec<u8>> = (0..3u8).map(|i| vec![i]).collect();
        for (i, k) in keys.iter().enumerate() {
            c.insert(g, c.key_hash(k), k, i, 100);
        }
        assert_eq!(c.get(c.key_hash(&keys[0]), &keys[0], 0), None);
        assert_eq!(c.get(c.key_hash(&keys[1]), &keys[1], 0), Some(1));
        assert_eq!(c.get(c.key_hash(&keys[2]), &keys[2], 0), Some(2));
        // Updating an existing key does not take another slot.
        c.insert(g, c.key_hash(&keys[2]), &keys[2], 20, 100);
        assert_eq!(c.get(c.key_hash(&keys[1]), &keys[1], 0), Some(1));
        assert_eq!(c.get(c.key_hash(&keys[2]), &keys[2], 0), Some(20));
    }
}
