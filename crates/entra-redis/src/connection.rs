//! One reconnecting Redis connection shared by every store, with time limits and
//! an outage state machine that logs one warning per outage.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Cmd, FromRedisValue, Pipeline};
use sha2::{Digest, Sha256};

use crate::keyring::Purpose;
use crate::{Error, Keyring, RedisConfig, Result};

/// A handle to Redis shared by the [`crate::TokenCache`],
/// [`crate::LoginStateStore`] and session store of one app: a multiplexed
/// connection (redis-rs's `ConnectionManager`) that reconnects by itself after
/// Redis restarts, plus the [`RedisConfig`]. Cheap to clone.
///
/// Every command runs under a time limit ([`RedisConfig::cache_timeout`] for the
/// token cache, [`RedisConfig::store_timeout`] for the stores). The first failure
/// after a success logs one warning (`redis unreachable`), further failures of
/// the same outage log at debug level, and the first success after it logs
/// `redis reachable again` at info level.
#[derive(Clone)]
pub struct Connection(Arc<Inner>);

struct Inner {
    manager: ConnectionManager,
    config: RedisConfig,
    health: Health,
}

impl Connection {
    /// Connects to Redis, failing when it cannot be reached within a few retries.
    ///
    /// # Errors
    /// The configuration errors of [`RedisConfig`] ([`Error::InvalidSetting`],
    /// [`Error::InvalidUrl`]); [`Error::Connect`] when Redis does not answer.
    pub async fn connect(config: RedisConfig) -> Result<Self> {
        let (client, manager_config) = prepare(&config)?;
        let manager = ConnectionManager::new_with_config(client, manager_config)
            .await
            .map_err(|source| Error::Connect { url: config.redacted_url(), source })?;
        Ok(Self::from_parts(manager, config))
    }

    /// A connection that is made on first use: the app starts while Redis is
    /// down, its token cache serves from memory and its stores fail with transient
    /// errors until Redis answers.
    ///
    /// # Errors
    /// The configuration errors of [`Connection::connect`]; [`Error::NoRuntime`]
    /// outside a Tokio runtime.
    pub fn connect_lazy(config: RedisConfig) -> Result<Self> {
        let (client, manager_config) = prepare(&config)?;
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(Error::NoRuntime);
        }
        let manager = ConnectionManager::new_lazy_with_config(client, manager_config)
            .map_err(|source| Error::InvalidUrl { url: config.redacted_url(), source })?;
        Ok(Self::from_parts(manager, config))
    }

    fn from_parts(manager: ConnectionManager, config: RedisConfig) -> Self {
        Self(Arc::new(Inner { manager, config, health: Health::default() }))
    }

    /// The configuration.
    pub fn config(&self) -> &RedisConfig {
        &self.0.config
    }

    /// Whether the last command reached Redis (`true` before the first one).
    pub fn is_reachable(&self) -> bool {
        !self.0.health.is_down()
    }

    /// Sends `PING` under the store time limit, for a readiness probe.
    ///
    /// # Errors
    /// [`Error::Redis`] or [`Error::Timeout`].
    pub async fn ping(&self) -> Result<()> {
        let pong: String = self.query(&redis::cmd("PING"), self.0.config.store_timeout).await?;
        if pong == "PONG" {
            Ok(())
        } else {
            Err(Error::Redis(redis::RedisError::from((
                redis::ErrorKind::Parse,
                "unexpected PING answer",
            ))))
        }
    }

    pub(crate) fn keys(&self) -> &Keyring {
        &self.0.config.keys
    }

    /// `<prefix><kind>:<hex SHA-256 of id>`: the Redis key of an entry. The id
    /// (a cache key, a `state`, a session id) never appears in Redis.
    pub(crate) fn key(&self, purpose: Purpose, id: &str) -> String {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let kind = match purpose {
            Purpose::Token => "token:",
            Purpose::Login => "login:",
            Purpose::Session => "session:",
            Purpose::Secret => "secret:",
        };
        let prefix = &self.0.config.prefix;
        let mut key = String::with_capacity(prefix.len() + kind.len() + 64);
        key.push_str(prefix);
        key.push_str(kind);
        for b in Sha256::digest(id.as_bytes()) {
            key.push(char::from(HEX[usize::from(b >> 4)]));
            key.push(char::from(HEX[usize::from(b & 0xf)]));
        }
        key
    }

    /// Runs `cmd` within `timeout`, recording the outcome.
    pub(crate) async fn query<T: FromRedisValue>(&self, cmd: &Cmd, timeout: Duration) -> Result<T> {
        let mut conn = self.0.manager.clone();
        self.bounded(timeout, async move { cmd.query_async(&mut conn).await }).await
    }

    /// Runs `pipe` within `timeout`, recording the outcome.
    pub(crate) async fn query_pipe<T: FromRedisValue>(
        &self,
        pipe: &Pipeline,
        timeout: Duration,
    ) -> Result<T> {
        let mut conn = self.0.manager.clone();
        self.bounded(timeout, async move { pipe.query_async(&mut conn).await }).await
    }

    async fn bounded<T>(
        &self,
        timeout: Duration,
        fut: impl Future<Output = redis::RedisResult<T>>,
    ) -> Result<T> {
        let result = match tokio::time::timeout(timeout, fut).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(Error::Redis(e)),
            Err(_) => Err(Error::Timeout { after: timeout }),
        };
        match &result {
            Ok(_) => {
                if self.0.health.succeeded() {
                    tracing::info!(url = %self.0.config.redacted_url(), "redis reachable again");
                }
            }
            Err(e) => {
                if self.0.health.failed() {
                    tracing::warn!(
                        url = %self.0.config.redacted_url(),
                        code = e.code(),
                        error = %e,
                        "redis unreachable: the token cache serves from memory; sign-ins and \
                         sessions fail until it is back"
                    );
                } else {
                    tracing::debug!(code = e.code(), error = %e, "redis still unreachable");
                }
            }
        }
        result
    }
}

fn prepare(config: &RedisConfig) -> Result<(redis::Client, ConnectionManagerConfig)> {
    config.check()?;
    let client = redis::Client::open(config.url.expose_secret())
        .map_err(|source| Error::InvalidUrl { url: config.redacted_url(), source })?;
    // Reconnect quickly once Redis is back: a round of four attempts about 25,
    // 50 and 100 ms apart (jittered); when a round fails, the next command starts
    // another, so an outage costs callers at most their time limit.
    let manager_config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(config.connect_timeout))
        .set_min_delay(Duration::from_millis(25))
        .set_max_delay(Duration::from_millis(500))
        .set_number_of_retries(3);
    Ok((client, manager_config))
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("config", &self.0.config)
            .field("reachable", &self.is_reachable())
            .finish_non_exhaustive()
    }
}

/// Up or down: the transitions are what gets logged.
#[derive(Debug, Default)]
pub(crate) struct Health {
    down: AtomicBool,
}

impl Health {
    /// Records a failure; `true` when it starts an outage.
    pub(crate) fn failed(&self) -> bool {
        !self.down.swap(true, Ordering::AcqRel)
    }

    /// Records a success; `true` when it ends an outage.
    pub(crate) fn succeeded(&self) -> bool {
        // A plain load first: successes are the common case, and must not all
        // write the same cache line.
        self.down.load(Ordering::Acquire) && self.down.swap(false, Ordering::AcqRel)
    }

    pub(crate) fn is_down(&self) -> bool {
        self.down.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_transition_per_outage() {
        let h = Health::default();
        assert!(!h.succeeded(), "no outage yet");
        assert!(h.failed(), "first failure starts the outage");
        assert!(!h.failed() && !h.failed(), "later failures do not");
        assert!(h.is_down());
        assert!(h.succeeded(), "first success ends it");
        assert!(!h.succeeded());
        assert!(h.failed(), "a new outage warns again");
    }

    #[test]
    fn concurrent_failures_start_one_outage() {
        let h = Arc::new(Health::default());
        let starts: usize = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8).map(|_| s.spawn(|| usize::from(h.failed()))).collect();
            handles.into_iter().map(|t| t.join().unwrap()).sum()
        });
        assert_eq!(starts, 1);
    }
}
