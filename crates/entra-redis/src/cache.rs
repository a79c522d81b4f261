//! The two-level token cache: memory in each replica (L1) in front of Redis (L2).

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use entra_core::{MemoryTokenCache, Secret, StoreError};

use crate::keyring::{Purpose, Refusal};
use crate::{Connection, Error};

/// An [`entra_core::TokenCache`] for several replicas: each replica's bounded
/// in-memory level (L1: an [`entra_core::MemoryTokenCache`]) in front of one
/// shared Redis (L2).
///
/// - `get` answers from L1; on a miss it reads Redis (one round trip for the
///   value and its remaining TTL), decrypts, and fills L1 for the rest of the
///   TTL, at most [`crate::RedisConfig::l1_max_ttl`].
/// - `put` fills L1 and writes Redis with the TTL it was given (for
///   `entra_obo::Obo`, the token's lifetime less the expiry skew).
/// - `remove` clears L1 and Redis.
///
/// Redis keys are `<prefix>token:<SHA-256 of the cache key>`, values are
/// encrypted with the current key of the [`crate::Keyring`] and bound to their
/// Redis key. A value that does not decrypt (edited, moved from another key,
/// sealed with a key id the keyring lacks) is refused, deleted and treated as a
/// miss.
///
/// Redis failures never reach the caller: a call that fails or takes longer
/// than [`crate::RedisConfig::cache_timeout`] carries on with L1 alone (a miss
/// costs at most that time limit), and the outage is logged once by the
/// [`Connection`].
#[derive(Clone)]
pub struct TokenCache {
    connection: Connection,
    l1: MemoryTokenCache,
}

impl TokenCache {
    /// A cache on `connection`, with an empty L1 of
    /// [`crate::RedisConfig::l1_capacity`] entries.
    pub fn new(connection: &Connection) -> Self {
        let config = connection.config();
        Self { connection: connection.clone(), l1: MemoryTokenCache::new(config.l1_capacity) }
    }

    /// The number of entries in this replica's L1 (approximate: moka counts
    /// lazily).
    pub fn l1_entry_count(&self) -> u64 {
        self.l1.entry_count()
    }

    /// The connection.
    pub fn connection(&self) -> &Connection {
        &self.connection
    }

    fn l1_ttl(&self, ttl: Duration) -> Duration {
        ttl.min(self.connection.config().l1_max_ttl)
    }

    /// Reads `key` from Redis: `None` on a miss, a failure or a refused value.
    async fn get_l2(&self, key: &str) -> Option<Secret> {
        let redis_key = self.connection.key(Purpose::Token, key);
        let mut pipe = redis::pipe();
        pipe.cmd("GET").arg(&redis_key).cmd("PTTL").arg(&redis_key);
        let timeout = self.connection.config().cache_timeout;
        // Failures are logged by the connection (once per outage).
        let (stored, pttl): (Option<Vec<u8>>, i64) =
            self.connection.query_pipe(&pipe, timeout).await.ok()?;
        let stored = stored?;
        let value = match self.connection.keys().open(Purpose::Token, &redis_key, &stored) {
            Ok(plain) => String::from_utf8(plain.to_vec()).map(Secret::new).map_err(|e| {
                drop(zeroize::Zeroizing::new(e.into_bytes()));
                Refusal::Malformed
            }),
            Err(refusal) => Err(refusal),
        };
        let value = match value {
            Ok(value) => value,
            Err(refusal) => {
                tracing::warn!(
                    code = refusal.code(),
                    "refused a token cache value stored in redis; deleting it"
                );
                let _: Result<i64, Error> =
                    self.connection.query(redis::cmd("DEL").arg(&redis_key), timeout).await;
                return None;
            }
        };
        // -1: no expiry (not written by this crate, but it decrypted): keep it in
        // L1 for the longest L1 time; -2: gone since the GET.
        let ttl = match u64::try_from(pttl) {
            Ok(ms) => Duration::from_millis(ms),
            Err(_) if pttl == -1 => self.connection.config().l1_max_ttl,
            Err(_) => return None,
        };
        if !ttl.is_zero() {
            self.l1.insert(key, value.clone(), self.l1_ttl(ttl));
        }
        Some(value)
    }
}

#[async_trait]
impl entra_core::TokenCache for TokenCache {
    async fn get(&self, key: &str) -> Result<Option<Secret>, StoreError> {
        if let Some(value) = self.l1.get_now(key) {
            return Ok(Some(value));
        }
        Ok(self.get_l2(key).await)
    }

    async fn put(&self, key: &str, value: Secret, ttl: Duration) -> Result<(), StoreError> {
        let redis_key = self.connection.key(Purpose::Token, key);
        let timeout = self.connection.config().cache_timeout;
        // Whole milliseconds, rounded down: Redis never outlives the TTL.
        let ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX);
        if ms == 0 {
            self.l1.invalidate(key);
            let _: Result<i64, Error> =
                self.connection.query(redis::cmd("DEL").arg(&redis_key), timeout).await;
            return Ok(());
        }
        let sealed = self.connection.keys().seal(
            Purpose::Token,
            &redis_key,
            value.expose_secret().as_bytes(),
        );
        self.l1.insert(key, value, self.l1_ttl(ttl));
        match sealed {
            Ok(sealed) => {
                let cmd = redis::cmd("SET").arg(&redis_key).arg(sealed).arg("PX").arg(ms).clone();
                let _: Result<(), Error> = self.connection.query(&cmd, timeout).await;
            }
            Err(e) => {
                // Only for values over 64 KiB; such a token stays in L1 only.
                tracing::warn!(code = e.code(), error = %e, "token not written to redis");
            }
        }
        Ok(())
    }

    async fn remove(&self, key: &str) -> Result<(), StoreError> {
        self.l1.invalidate(key);
        let redis_key = self.connection.key(Purpose::Token, key);
        let timeout = self.connection.config().cache_timeout;
        let _: Result<i64, Error> =
            self.connection.query(redis::cmd("DEL").arg(&redis_key), timeout).await;
        Ok(())
    }
}

impl fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenCache")
            .field("l1_entries", &self.l1.entry_count())
            .field("connection", &self.connection)
            .finish_non_exhaustive()
    }
}
