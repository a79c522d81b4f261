//! Small secrets in Redis with a TTL, taken once or read many times, and
//! counters: the store behind entra-mcp's OAuth facade.

use std::time::Duration;

use async_trait::async_trait;
use entra_core::{Secret, StoreError};
use zeroize::Zeroizing;

use crate::keyring::Purpose;
use crate::{Connection, Error};

/// What names this backend in a [`StoreError`].
const WHAT: &str = "redis secret store";

/// Increments a counter and starts its window on the first increment, in one
/// atomic step.
const INCREMENT: &str = "local n = redis.call('INCR', KEYS[1]) \
    if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end return n";

/// An [`entra_core::SecretStore`] in Redis: the OAuth facade's registrations,
/// pending authorizations, codes and refresh handles, shared by every replica.
///
/// `take` is `GETDEL` (of concurrent takes of one key on any replicas, exactly
/// one gets the value); `increment` is one Lua script (`INCR`, and `PEXPIRE` on
/// the first increment), so rate limits and quotas hold across replicas. Redis
/// keys are `<prefix>secret:<SHA-256 of the key>`; values are encrypted with
/// the connection's [`crate::Keyring`] and bound to their Redis key (counters
/// hold only a number). A value that does not decrypt is refused, deleted and
/// answered as absent. A Redis failure is an error (transient), never a silent
/// success.
#[derive(Clone, Debug)]
pub struct SecretStore {
    connection: Connection,
}

impl SecretStore {
    /// A store on `connection`.
    pub fn new(connection: &Connection) -> Self {
        Self { connection: connection.clone() }
    }

    /// The connection.
    pub fn connection(&self) -> &Connection {
        &self.connection
    }

    fn open(&self, redis_key: &str, stored: Option<Vec<u8>>) -> Option<Secret> {
        let stored = stored?;
        match self.connection.keys().open(Purpose::Secret, redis_key, &stored) {
            Ok(plain) => match std::str::from_utf8(&plain) {
                Ok(text) => Some(Secret::new(text)),
                Err(_) => None,
            },
            Err(refusal) => {
                tracing::warn!(
                    code = refusal.code(),
                    "refused a secret-store value stored in redis"
                );
                None
            }
        }
    }

    async fn delete(&self, redis_key: &str) -> Result<(), StoreError> {
        let timeout = self.connection.config().store_timeout;
        self.connection.query::<()>(redis::cmd("DEL").arg(redis_key), timeout).await.map_err(err)
    }
}

fn err(e: Error) -> StoreError {
    StoreError::new(WHAT, e)
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[async_trait]
impl entra_core::SecretStore for SecretStore {
    async fn put(&self, key: &str, value: Secret, ttl: Duration) -> Result<(), StoreError> {
        let redis_key = self.connection.key(Purpose::Secret, key);
        let ms = millis(ttl);
        if ms == 0 {
            return self.delete(&redis_key).await;
        }
        let plain = Zeroizing::new(value.expose_secret().as_bytes().to_vec());
        let sealed =
            self.connection.keys().seal(Purpose::Secret, &redis_key, &plain).map_err(err)?;
        let cmd = redis::cmd("SET").arg(&redis_key).arg(sealed).arg("PX").arg(ms).clone();
        self.connection.query::<()>(&cmd, self.connection.config().store_timeout).await.map_err(err)
    }

    async fn get(&self, key: &str) -> Result<Option<Secret>, StoreError> {
        let redis_key = self.connection.key(Purpose::Secret, key);
        let timeout = self.connection.config().store_timeout;
        let stored: Option<Vec<u8>> =
            self.connection.query(redis::cmd("GET").arg(&redis_key), timeout).await.map_err(err)?;
        let present = stored.is_some();
        let value = self.open(&redis_key, stored);
        if present && value.is_none() {
            self.delete(&redis_key).await?;
        }
        Ok(value)
    }

    async fn take(&self, key: &str) -> Result<Option<Secret>, StoreError> {
        let redis_key = self.connection.key(Purpose::Secret, key);
        let timeout = self.connection.config().store_timeout;
        let stored: Option<Vec<u8>> = self
            .connection
            .query(redis::cmd("GETDEL").arg(&redis_key), timeout)
            .await
            .map_err(err)?;
        Ok(self.open(&redis_key, stored))
    }

    async fn remove(&self, key: &str) -> Result<(), StoreError> {
        self.delete(&self.connection.key(Purpose::Secret, key)).await
    }

    async fn increment(&self, key: &str, window: Duration) -> Result<u64, StoreError> {
        // Counters live under their own hashed name: a counter is never opened
        // as a sealed value, nor a value counted.
        let redis_key = self.connection.key(Purpose::Secret, &format!("count\u{0}{key}"));
        let cmd = redis::cmd("EVAL")
            .arg(INCREMENT)
            .arg(1)
            .arg(&redis_key)
            .arg(millis(window).max(1))
            .clone();
        self.connection
            .query::<u64>(&cmd, self.connection.config().store_timeout)
            .await
            .map_err(err)
    }
}
