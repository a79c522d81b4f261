//! The per-thread front of the token cache: a cache hit that writes no memory
//! shared with other threads.
//!
//! The [`entra_core::TokenCache`] stays the source of truth (bounded, with TTLs,
//! possibly Redis); each thread keeps, in an [`entra_core::HotCache`], copies of
//! the tokens it read from it. Rules:
//! - an entry is filled only from a read of the token cache, and never outlives
//!   the token's expiry minus the skew;
//! - whenever the [`crate::Obo`] removes a token-cache entry (`forget`, a claims
//!   exchange, an overtaken flight), every thread's entries are dropped, and a
//!   value read before that is not kept (the generation read before the read);
//! - the key is the user's `tid` and `oid` as the token states them, the SHA-256
//!   of the token and the target as given, in an unambiguous encoding compared
//!   byte for byte: one user's token never answers another's. The key is not in
//!   the value (an [`AccessToken`]), so each entry stores its own copy.
//!
//! The [`HotCache`] is set-associative (sets of 8 to 15 entries picked by the
//! hash): `per_thread` entries hold any 8 keys, and about a quarter as many
//! distinct keys as entries without a set overflowing, most of the time.

use std::cell::RefCell;
use std::fmt;
use std::time::{Duration, SystemTime};

use entra_core::{AccessToken, HotCache, Target, ValidatedToken, unix_seconds};

/// Per-thread copies of the tokens read from the token cache.
pub(crate) struct HotTokens {
    cache: HotCache<AccessToken>,
}

thread_local! {
    /// Where a hit builds its key: one buffer per thread, reused, so that a
    /// hit allocates nothing for its key.
    static KEY: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// What a miss needs to keep the token it then reads from the token cache:
/// the key, and the generation read *before* reading the token cache.
pub(crate) struct Ticket {
    generation: u64,
    hash: u64,
    key: Vec<u8>,
}

impl HotTokens {
    pub(crate) fn new(per_thread: usize) -> Self {
        Self { cache: HotCache::new(per_thread) }
    }

    /// This thread's copy of the token for `user_token` and `target`, if it
    /// has one that is still usable at `now`.
    pub(crate) fn get(
        &self,
        user_token: &ValidatedToken,
        target: &Target,
        now: SystemTime,
    ) -> Option<AccessToken> {
        let now = unix_seconds(now);
        KEY.with(|cell| {
            let mut key = cell.try_borrow_mut().ok()?;
            key.clear();
            write_key(&mut key, user_token, target)?;
            self.cache.get(self.hash(&key), &key, now)
        })
    }

    /// Call before reading the token cache; `None` when the token or target
    /// cannot be keyed (the exchange then never uses this cache).
    pub(crate) fn ticket(&self, user_token: &ValidatedToken, target: &Target) -> Option<Ticket> {
        let generation = self.cache.generation();
        let mut key = Vec::new();
        write_key(&mut key, user_token, target)?;
        Some(Ticket { generation, hash: self.hash(&key), key })
    }

    /// Keeps a copy of `token`, read from the token cache after `ticket` was
    /// taken, in this thread until its expiry minus `skew`.
    pub(crate) fn keep(&self, ticket: &Ticket, token: &AccessToken, skew: Duration) {
        // Whole seconds, rounded down: a hit at `now` (rounded down) means
        // `now < until <= expires_at - skew`.
        let Some(until) = token.expires_at.checked_sub(skew).map(unix_seconds) else { return };
        self.cache.insert(ticket.generation, ticket.hash, &ticket.key, token.clone(), until);
    }

    /// The hash that finds a key: that of its first 32 bytes, the token's
    /// SHA-256 (hashing the whole key would cost more than the rest of a hit).
    /// The hash only finds entries; keys are compared in full.
    fn hash(&self, key: &[u8]) -> u64 {
        self.cache.key_hash(key.get(..32).unwrap_or(key))
    }

    /// Drops every thread's copies (after a token-cache entry was removed).
    pub(crate) fn clear(&self) {
        self.cache.clear();
    }
}

impl fmt::Debug for HotTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.cache, f)
    }
}

/// Appends the key of `user_token` and `target`: the token's SHA-256, then
/// `tid`, `oid` and the target's strings, each after its length, so that no two
/// different inputs give the same bytes. `None` for a token without `tid` or
/// `oid` (which no exchange accepts) or a target of an unknown kind.
fn write_key(out: &mut Vec<u8>, user_token: &ValidatedToken, target: &Target) -> Option<()> {
    let claims = user_token.claims();
    out.extend_from_slice(user_token.sha256());
    field(out, claims.tid.as_deref()?);
    field(out, claims.oid.as_deref()?);
    match target {
        Target::Resource(resource) => {
            out.push(b'r');
            field(out, resource);
        }
        Target::Scopes(scopes) => {
            out.push(b's');
            out.extend_from_slice(&scopes.len().to_le_bytes());
            for scope in scopes {
                field(out, scope);
            }
        }
        _ => return None,
    }
    Some(())
}

fn field(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&s.len().to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

#[cfg(test)]
mod tests {
    use std::time::UNIX_EPOCH;

    use entra_core::{EntraClaims, Secret};

    use super::*;

    fn token(raw: &str, tid: &str, oid: &str) -> ValidatedToken {
        let claims: EntraClaims =
            serde_json::from_value(serde_json::json!({"tid": tid, "oid": oid})).unwrap();
        entra_core::dangerous::assume_validated(Secret::new(raw), claims)
    }

    fn key(t: &ValidatedToken, target: &Target) -> Vec<u8> {
        let mut out = Vec::new();
        write_key(&mut out, t, target).unwrap();
        out
    }

    #[test]
    fn keys_are_unambiguous() {
        let a = token("t", "a", "bc");
        let b = token("t", "ab", "c");
        let r = Target::from("x");
        assert_ne!(key(&a, &r), key(&b, &r));
        let t = token("t", "a", "b");
        assert_ne!(key(&t, &Target::from(["x y"])), key(&t, &Target::from(["x", "y"])));
        assert_ne!(key(&t, &Target::from("x")), key(&t, &Target::from(["x"])));
        assert_ne!(key(&t, &r), key(&token("u", "a", "b"), &r));
        assert_eq!(key(&t, &r), key(&token("t", "a", "b"), &r));
    }

    #[test]
    fn tokens_without_tid_or_oid_have_no_key() {
        let claims: EntraClaims = serde_json::from_value(serde_json::json!({"oid": "o"})).unwrap();
        let t = entra_core::dangerous::assume_validated(Secret::new("t"), claims);
        assert!(write_key(&mut Vec::new(), &t, &Target::from("x")).is_none());
    }

    #[test]
    fn kept_until_expiry_minus_skew_in_whole_seconds() {
        let hot = HotTokens::new(4);
        let user = token("t", "a", "b");
        let target = Target::from("x");
        let exp = UNIX_EPOCH + Duration::from_millis(10_000_500);
        let skew = Duration::from_secs(300);
        let ticket = hot.ticket(&user, &target).unwrap();
        hot.keep(&ticket, &AccessToken::new(Secret::new("at"), exp, vec![]), skew);
        let at = |ms| UNIX_EPOCH + Duration::from_millis(ms);
        // Usable while now < exp - skew = 9,700.5 s; kept while now < 9,700 s.
        assert!(hot.get(&user, &target, at(9_699_999)).is_some());
        assert!(hot.get(&user, &target, at(9_700_000)).is_none());
    }

    #[test]
    fn the_default_size_keeps_a_set_of_users() {
        // 256 per thread: 32 sets of 8, so any 8 keys stay whatever their hashes.
        let hot = HotTokens::new(crate::obo::DEFAULT_THREAD_CACHE);
        let target = Target::from("x");
        let exp = UNIX_EPOCH + Duration::from_secs(10_000);
        let users: Vec<_> = (0..8).map(|i| token(&format!("t{i}"), "a", "b")).collect();
        for (i, user) in users.iter().enumerate() {
            let ticket = hot.ticket(user, &target).unwrap();
            let at = AccessToken::new(Secret::new(format!("at{i}")), exp, vec![]);
            hot.keep(&ticket, &at, Duration::ZERO);
        }
        for (i, user) in users.iter().enumerate() {
            let got = hot.get(user, &target, UNIX_EPOCH).map(|t| t.secret);
            assert_eq!(got.as_ref().map(Secret::expose_secret), Some(format!("at{i}").as_str()));
        }
    }

    #[test]
    fn a_value_read_before_a_clear_is_not_kept() {
        let hot = HotTokens::new(4);
        let user = token("t", "a", "b");
        let target = Target::from("x");
        let exp = UNIX_EPOCH + Duration::from_secs(10_000);
        let ticket = hot.ticket(&user, &target).unwrap();
        hot.clear();
        hot.keep(&ticket, &AccessToken::new(Secret::new("at"), exp, vec![]), Duration::ZERO);
        assert!(hot.get(&user, &target, UNIX_EPOCH).is_none());
        let ticket = hot.ticket(&user, &target).unwrap();
        hot.keep(&ticket, &AccessToken::new(Secret::new("at"), exp, vec![]), Duration::ZERO);
        assert!(hot.get(&user, &target, UNIX_EPOCH).is_some());
    }
}
