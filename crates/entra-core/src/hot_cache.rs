//! A small per-thread cache in front of a shared one (feature `memory-cache`):
//! a hit reads and writes only the calling thread's memory, so hits scale with
//! the cores.
//!
//! A shared cache (moka, Redis) is the source of truth: bounded, with TTLs, seen
//! by every thread. Its hits still write shared memory: the cache's own
//! bookkeeping, and the reference count of the shared value when it is cloned
//! out. When every core answers the same tokens, those writes make the cores
//! take turns. [`HotCache`] keeps, per thread, the last values that thread took
//! from the shared cache, each a copy with its own reference counts.
//!
//! Each thread's entries are set-associative: the hash picks one set (of a
//! power-of-two number of sets), a lookup scans only that set's few ways, and a
//! full set replaces one of its own entries (round robin). Many distinct keys
//! per thread then cost no more per lookup than a few.

use std::cell::RefCell;
use std::fmt;
use std::hash::BuildHasher as _;
use std::sync::atomic::{AtomicU64, Ordering};

use thread_local::ThreadLocal;

/// Ways per set aimed at: sets have from 8 to 15 ways (fewer only when the whole
/// cache holds fewer than 8 entries).
const WAYS: usize = 8;

/// The largest `per_thread` honoured: larger requests are lowered to it.
const MAX_PER_THREAD: usize = 1 << 16;

/// A per-thread cache of recent hits in front of a shared cache.
///
/// Each thread holds at most [`HotCache::capacity`] entries (`per_thread`
/// rounded down to a whole number of sets, at most an eighth less); memory is
/// bounded by that times the number of threads that inserted. The hash picks a
/// set; a full set replaces its entries in turn and leaves other sets alone.
/// Keys are compared byte for byte (in constant time), the hash only finds the
/// entry, so a hash collision never answers with another key's value. An entry
/// is never returned at or after its `until` time, and [`HotCache::clear`]
/// drops every thread's entries at once. A thread allocates nothing until its
/// first insert.
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
///
/// When the value holds its own key, [`HotCache::with_key_in_value`] keeps no
/// second copy of it:
///
/// ```
/// use entra_core::HotCache;
///
/// fn key_of(v: &(String, u32)) -> &[u8] {
///     v.0.as_bytes()
/// }
/// let cache: HotCache<(String, u32)> = HotCache::with_key_in_value(16, key_of);
/// let hash = cache.key_hash(b"token");
/// cache.insert(cache.generation(), hash, b"token", ("token".to_owned(), 7), 1_000);
/// assert_eq!(cache.get(hash, b"token", 0).map(|v| v.1), Some(7));
/// assert_eq!(cache.get(hash, b"other", 0), None); // same hash, other bytes
/// ```
pub struct HotCache<V: Send> {
    threads: ThreadLocal<RefCell<Local<V>>>,
    generation: AtomicU64,
    /// The number of sets (a power of two) minus one: `hash & set_mask` is the set.
    set_mask: usize,
    ways: usize,
    /// Where an entry's key is read: `None` for a copy stored with the entry.
    key_of: Option<fn(&V) -> &[u8]>,
    hasher: std::hash::RandomState,
}

/// One thread's entries.
struct Local<V> {
    generation: u64,
    sets: Box<[Set<V>]>,
}

struct Set<V> {
    /// At most `ways` entries, in no order.
    entries: Vec<Entry<V>>,
    /// The entry replaced next when the set is full.
    next: usize,
}

struct Entry<V> {
    hash: u64,
    /// The key, or empty (no allocation) when it is read from the value.
    key: Box<[u8]>,
    value: V,
    until: i64,
}

impl<V: Clone + Send> HotCache<V> {
    /// A cache holding at most `per_thread` entries in each thread (at least 1,
    /// at most 65,536), each with its own copy of its key.
    pub fn new(per_thread: usize) -> Self {
        Self::build(per_thread, None)
    }

    /// As [`HotCache::new`], for values that hold their own key: `key_of`
    /// reads it, and entries keep no copy of it. [`HotCache::insert`] keeps
    /// nothing when its `key` is not `key_of(&value)`.
    pub fn with_key_in_value(per_thread: usize, key_of: fn(&V) -> &[u8]) -> Self {
        Self::build(per_thread, Some(key_of))
    }

    fn build(per_thread: usize, key_of: Option<fn(&V) -> &[u8]>) -> Self {
        let (sets, ways) = geometry(per_thread);
        Self {
            threads: ThreadLocal::new(),
            generation: AtomicU64::new(0),
            set_mask: sets - 1,
            ways,
            key_of,
            hasher: std::hash::RandomState::new(),
        }
    }

    /// The most entries one thread holds: `per_thread` rounded down to whole
    /// sets.
    pub fn capacity(&self) -> usize {
        self.sets() * self.ways
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
        let mut local = self.threads.get()?.try_borrow_mut().ok()?;
        if local.generation != generation {
            local.reset(generation);
            return None;
        }
        let set = local.sets.get_mut(self.set_index(hash))?;
        let i = self.position(set, hash, key)?;
        if now >= set.entries[i].until {
            set.entries.swap_remove(i);
            return None;
        }
        Some(set.entries[i].value.clone())
    }

    /// Keeps `value` for `key` in this thread until `until` (same unit as the
    /// `now` of [`HotCache::get`]). Nothing is kept when the cache was cleared
    /// after `seen` was read from [`HotCache::generation`], or, for a cache
    /// made by [`HotCache::with_key_in_value`], when `key` is not the value's.
    pub fn insert(&self, seen: u64, hash: u64, key: &[u8], value: V, until: i64) {
        let generation = self.generation();
        if seen != generation {
            return;
        }
        let stored = match self.key_of {
            Some(key_of) => {
                if !crate::constant_time::eq(key_of(&value), key) {
                    return;
                }
                Box::default()
            }
            None => key.into(),
        };
        let cell = self.threads.get_or(|| RefCell::new(Local::new(generation, self.sets())));
        let Ok(mut local) = cell.try_borrow_mut() else { return };
        if local.generation != generation {
            local.reset(generation);
        }
        let Some(set) = local.sets.get_mut(self.set_index(hash)) else { return };
        let entry = Entry { hash, key: stored, value, until };
        if let Some(i) = self.position(set, hash, key) {
            set.entries[i] = entry;
        } else if set.entries.len() < self.ways {
            // The set's first entry allocates room for all its ways, no more.
            set.entries.reserve_exact(self.ways - set.entries.len());
            set.entries.push(entry);
        } else {
            let next = set.next % self.ways;
            set.entries[next] = entry;
            set.next = (next + 1) % self.ways;
        }
    }

    /// Drops every thread's entries (each thread drops its own on its next use).
    pub fn clear(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// The set that `hash` belongs to: its low bits.
    fn set_index(&self, hash: u64) -> usize {
        // Truncation keeps the low bits, the ones used.
        hash as usize & self.set_mask
    }

    /// Where `key` is in `set`: hashes compared first, then the keys.
    fn position(&self, set: &Set<V>, hash: u64, key: &[u8]) -> Option<usize> {
        set.entries.iter().position(|e| {
            e.hash == hash && {
                let stored = match self.key_of {
                    Some(key_of) => key_of(&e.value),
                    None => &e.key,
                };
                crate::constant_time::eq(stored, key)
            }
        })
    }
}

/// The sets (a power of two) and ways for `per_thread` entries: sets of 8 to
/// 15 ways, as many sets as that allows, at least one.
fn geometry(per_thread: usize) -> (usize, usize) {
    let per_thread = per_thread.clamp(1, MAX_PER_THREAD);
    let sets = (per_thread / WAYS).max(1);
    // The largest power of two not above `sets`.
    let sets = 1 << (usize::BITS - 1 - sets.leading_zeros());
    (sets, per_thread / sets)
}

impl<V: Send> HotCache<V> {
    fn sets(&self) -> usize {
        self.set_mask + 1
    }
}

impl<V> Local<V> {
    fn new(generation: u64, sets: usize) -> Self {
        let sets = (0..sets).map(|_| Set { entries: Vec::new(), next: 0 }).collect();
        Self { generation, sets }
    }

    fn reset(&mut self, generation: u64) {
        for set in &mut self.sets {
            set.entries.clear();
            set.next = 0;
        }
        self.generation = generation;
    }
}

impl<V: Send> fmt::Debug for HotCache<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HotCache")
            .field("sets", &self.sets())
            .field("ways", &self.ways)
            .field("key_in_value", &self.key_of.is_some())
            .field("generation", &self.generation.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    impl<V: Clone + Send> HotCache<V> {
        /// This thread's entries.
        fn len(&self) -> usize {
            self.threads.get().map_or(0, |c| c.borrow().sets.iter().map(|s| s.entries.len()).sum())
        }
    }

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
    fn a_thread_allocates_nothing_before_its_first_insert() {
        let c: HotCache<u32> = HotCache::new(256);
        let h = c.key_hash(b"k");
        assert_eq!(c.get(h, b"k", 0), None);
        assert!(c.threads.get().is_none());
        c.insert(c.generation(), h, b"k", 1, 100);
        assert!(c.threads.get().is_some());
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

    #[test]
    fn capacity_is_bounded_by_per_thread() {
        for per_thread in [0, 1, 2, 7, 8, 9, 15, 16, 17, 64, 100, 255, 256, 1000] {
            let c: HotCache<usize> = HotCache::new(per_thread);
            let cap = c.capacity();
            assert!(cap <= per_thread.max(1), "{per_thread}: {cap}");
            // Rounded down to whole sets, losing at most an eighth.
            assert!(cap * 8 >= per_thread * 7, "{per_thread}: {cap}");
            assert!(c.sets().is_power_of_two());
            let g = c.generation();
            for i in 0..4 * cap {
                let k = i.to_le_bytes();
                c.insert(g, c.key_hash(&k), &k, i, 100);
                assert!(c.len() <= cap, "{per_thread}: {} > {cap}", c.len());
            }
            // Many keys fill (nearly) every set.
            assert!(c.len() * 8 >= cap * 7, "{per_thread}: {} of {cap}", c.len());
        }
        assert_eq!(HotCache::<u8>::new(usize::MAX).capacity(), MAX_PER_THREAD);
        assert_eq!(HotCache::<u8>::new(256).ways, 8);
        assert_eq!(HotCache::<u8>::new(64).ways, 8);
    }

    #[test]
    fn a_full_set_replaces_within_its_set_only() {
        // Two sets of 8 ways; the hash's low bit picks the set.
        let c: HotCache<u64> = HotCache::new(16);
        assert_eq!((c.sets(), c.ways), (2, 8));
        let g = c.generation();
        let key = |h: u64| h.to_le_bytes();
        // Set 1 full, then 9 keys into set 0.
        for h in (1..16).step_by(2) {
            c.insert(g, h, &key(h), h, 100);
        }
        for h in (0..18).step_by(2) {
            c.insert(g, h, &key(h), h, 100);
        }
        // Set 0's first entry made room for the ninth; set 1 is untouched.
        assert_eq!(c.get(0, &key(0), 0), None);
        for h in (2..18).step_by(2).chain((1..16).step_by(2)) {
            assert_eq!(c.get(h, &key(h), 0), Some(h), "{h}");
        }
        assert_eq!(c.len(), 16);
        // Replacement goes round the set: next the second entry.
        c.insert(g, 18, &key(18), 18, 100);
        assert_eq!(c.get(2, &key(2), 0), None);
        assert_eq!(c.get(18, &key(18), 0), Some(18));
        assert_eq!(c.get(4, &key(4), 0), Some(4));
    }

    fn key_of(v: &(Vec<u8>, u32)) -> &[u8] {
        &v.0
    }

    #[test]
    fn keys_read_from_values_are_compared_and_not_copied() {
        let c: HotCache<(Vec<u8>, u32)> = HotCache::with_key_in_value(16, key_of);
        let g = c.generation();
        let h = c.key_hash(b"a");
        c.insert(g, h, b"a", (b"a".to_vec(), 1), 10);
        assert_eq!(c.get(h, b"a", 0).map(|v| v.1), Some(1));
        // Same hash, other bytes (longer, shorter, same length): no answer.
        for other in [&b"b"[..], b"ab", b""] {
            assert_eq!(c.get(h, other, 0), None);
        }
        // No copy of the key is stored.
        let local = c.threads.get().map(RefCell::borrow);
        let stored: Vec<usize> = local
            .iter()
            .flat_map(|l| l.sets.iter().flat_map(|s| &s.entries))
            .map(|e| e.key.len())
            .collect();
        assert_eq!(stored, [0]);
        drop(local);
        // A key that is not the value's keeps nothing.
        let hb = c.key_hash(b"b");
        c.insert(g, hb, b"b", (b"c".to_vec(), 2), 10);
        assert_eq!(c.get(hb, b"b", 0), None);
        assert_eq!(c.get(hb, b"c", 0), None);
        assert_eq!(c.len(), 1);
        // Updating in place, expiry as for stored keys.
        c.insert(g, h, b"a", (b"a".to_vec(), 3), 10);
        assert_eq!(c.get(h, b"a", 9).map(|v| v.1), Some(3));
        assert_eq!(c.len(), 1);
        assert_eq!(c.get(h, b"a", 10), None);
        assert_eq!(c.len(), 0);
    }

    #[test]
    fn stored_keys_are_copied() {
        let c: HotCache<u32> = HotCache::new(16);
        let h = c.key_hash(b"abc");
        c.insert(c.generation(), h, b"abc", 1, 10);
        assert_eq!(c.get(h, b"abc", 0), Some(1));
        assert_eq!(c.get(h, b"abd", 0), None);
        assert_eq!(c.get(h, b"ab", 0), None);
    }
}
