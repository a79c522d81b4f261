//! Where Redis is, how values are encrypted, and how long to wait for it; from
//! code or the environment.

use std::fmt;
use std::time::Duration;

use entra_core::Secret;

use crate::{Error, Keyring, Result};

/// The environment variables this crate reads, from the workspace's one table.
pub(crate) mod env {
    /// The Redis URL.
    pub(crate) const URL: &str = entra_core::env::REDIS_URL.name;
    /// The keyring, `id:base64key[,id:base64key...]`, current key first.
    pub(crate) const KEYS: &str = entra_core::env::REDIS_KEYS.name;
    /// The key prefix.
    pub(crate) const PREFIX: &str = entra_core::env::REDIS_PREFIX.name;
    /// The token cache's Redis time limit, in milliseconds.
    pub(crate) const TIMEOUT_MS: &str = entra_core::env::REDIS_TIMEOUT_MS.name;
}

const MAX_PREFIX_LEN: usize = 64;
const MAX_CACHE_TIMEOUT: Duration = Duration::from_secs(10);
const MAX_STORE_TIMEOUT: Duration = Duration::from_secs(30);
const MAX_CONNECT_TIMEOUT: Duration = Duration::from_secs(60);
const MAX_L1_TTL: Duration = Duration::from_secs(24 * 3600);

/// How to reach Redis and protect what is stored there: the URL, the encryption
/// [`Keyring`], a key prefix and the time limits. Shared by every store of a
/// [`crate::Connection`].
///
/// ```
/// use std::time::Duration;
/// use entra_core::Secret;
/// use entra_redis::{Keyring, RedisConfig};
///
/// let keys = Keyring::parse(&Secret::new("k1:q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA="))?;
/// let config = RedisConfig::new("redis://:p4ssw0rd@127.0.0.1:6379/0", keys)
///     .prefix("myapp:")
///     .cache_timeout(Duration::from_millis(20));
/// assert!(!format!("{config:?}").contains("p4ssw0rd"));
/// # Ok::<(), entra_redis::Error>(())
/// ```
#[derive(Clone)]
pub struct RedisConfig {
    pub(crate) url: Secret,
    pub(crate) keys: Keyring,
    pub(crate) prefix: String,
    pub(crate) cache_timeout: Duration,
    pub(crate) store_timeout: Duration,
    pub(crate) connect_timeout: Duration,
    pub(crate) l1_capacity: u64,
    pub(crate) l1_max_ttl: Duration,
}

impl RedisConfig {
    /// Redis at `url` (`redis://[:password@]host[:port][/db]`, or
    /// `redis+unix:///path`), encrypting with `keys`.
    pub fn new(url: impl Into<Secret>, keys: Keyring) -> Self {
        Self {
            url: url.into(),
            keys,
            prefix: "entra:".to_owned(),
            cache_timeout: Duration::from_millis(50),
            store_timeout: Duration::from_millis(500),
            connect_timeout: Duration::from_secs(1),
            l1_capacity: 10_000,
            l1_max_ttl: Duration::from_secs(300),
        }
    }

    /// The configuration from the environment, or `None` when `ENTRA_REDIS_URL`
    /// is not set (the host then keeps its in-memory stores).
    ///
    /// | setting | variable |
    /// | --- | --- |
    /// | URL | `ENTRA_REDIS_URL` |
    /// | keys | `ENTRA_REDIS_KEYS`: `id:base64key[,id:base64key...]`, the current key first (required with the URL) |
    /// | prefix | `ENTRA_REDIS_PREFIX` (optional) |
    /// | token cache time limit | `ENTRA_REDIS_TIMEOUT_MS` (optional) |
    ///
    /// # Errors
    /// [`Error::MissingVariable`] when the URL is set without keys;
    /// [`Error::InvalidKeys`] and [`Error::InvalidSetting`] for malformed values.
    pub fn from_env() -> Result<Option<Self>> {
        Self::from_lookup(entra_core::env::process_env)
    }

    /// As [`RedisConfig::from_env`], reading variables through `lookup`.
    ///
    /// # Errors
    /// As [`RedisConfig::from_env`].
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Option<Self>> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let Some(url) = get(env::URL) else { return Ok(None) };
        let keys = get(env::KEYS).ok_or(Error::MissingVariable { name: env::KEYS })?;
        let mut config = Self::new(url.trim(), Keyring::parse(&Secret::new(keys))?);
        if let Some(prefix) = get(env::PREFIX) {
            config = config.prefix(prefix);
        }
        if let Some(ms) = get(env::TIMEOUT_MS) {
            let ms: u64 = ms.trim().parse().map_err(|_| Error::InvalidSetting {
                name: env::TIMEOUT_MS,
                reason: "must be a whole number of milliseconds",
            })?;
            config = config.cache_timeout(Duration::from_millis(ms));
        }
        config.check()?;
        Ok(Some(config))
    }

    /// Prepended to every Redis key, so that several apps (or test runs) share a
    /// Redis without meeting. Up to 64 printable ASCII characters. Defaults to
    /// `"entra:"`.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// How long a token cache call waits for Redis before it carries on with the
    /// in-memory level alone (1 ms to 10 s). Defaults to 50 ms.
    pub fn cache_timeout(mut self, timeout: Duration) -> Self {
        self.cache_timeout = timeout;
        self
    }

    /// How long the login-state and session stores wait for Redis before they
    /// fail with a transient error (1 ms to 30 s). Defaults to 500 ms.
    pub fn store_timeout(mut self, timeout: Duration) -> Self {
        self.store_timeout = timeout;
        self
    }

    /// How long one connection attempt may take (1 ms to 60 s). Defaults to 1 s.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How many tokens each replica keeps in its in-memory level (at least 1).
    /// Defaults to 10,000.
    pub fn l1_capacity(mut self, entries: u64) -> Self {
        self.l1_capacity = entries;
        self
    }

    /// The longest an entry stays in a replica's in-memory level (1 s to 24 h),
    /// however long its token lives: a token removed on one replica (after a
    /// claims challenge) is gone from the others after at most this long.
    /// Defaults to 5 minutes.
    pub fn l1_max_ttl(mut self, ttl: Duration) -> Self {
        self.l1_max_ttl = ttl;
        self
    }

    /// The encryption keys.
    pub fn keys(&self) -> &Keyring {
        &self.keys
    }

    /// The URL without its password, for logs.
    pub fn redacted_url(&self) -> String {
        redact(self.url.expose_secret())
    }

    /// Checks every setting against its range.
    pub(crate) fn check(&self) -> Result<()> {
        let invalid = |name, reason| Err(Error::InvalidSetting { name, reason });
        let prefix_ok = self.prefix.len() <= MAX_PREFIX_LEN
            && self.prefix.bytes().all(|b| b.is_ascii_graphic());
        if !prefix_ok {
            return invalid("prefix", "must be at most 64 printable ASCII characters");
        }
        let in_range = |d: Duration, max| d >= Duration::from_millis(1) && d <= max;
        if !in_range(self.cache_timeout, MAX_CACHE_TIMEOUT) {
            return invalid("cache_timeout", "must be between 1 ms and 10 s");
        }
        if !in_range(self.store_timeout, MAX_STORE_TIMEOUT) {
            return invalid("store_timeout", "must be between 1 ms and 30 s");
        }
        if !in_range(self.connect_timeout, MAX_CONNECT_TIMEOUT) {
            return invalid("connect_timeout", "must be between 1 ms and 60 s");
        }
        if self.l1_capacity == 0 {
            return invalid("l1_capacity", "must be at least 1");
        }
        if self.l1_max_ttl < Duration::from_secs(1) || self.l1_max_ttl > MAX_L1_TTL {
            return invalid("l1_max_ttl", "must be between 1 s and 24 h");
        }
        Ok(())
    }
}

impl fmt::Debug for RedisConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisConfig")
            .field("url", &self.redacted_url())
            .field("keys", &self.keys)
            .field("prefix", &self.prefix)
            .field("cache_timeout", &self.cache_timeout)
            .field("store_timeout", &self.store_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("l1_capacity", &self.l1_capacity)
            .field("l1_max_ttl", &self.l1_max_ttl)
            .finish_non_exhaustive()
    }
}

/// `url` with any password replaced; an unparsable URL shows its scheme only.
pub(crate) fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            if parsed.password().is_some() {
                // Cannot fail: a URL with a password has a host.
                let _ = parsed.set_password(Some("redacted"));
            }
            parsed.to_string()
        }
        Err(_) => {
            let scheme = url.split_once("://").map_or("", |(s, _)| s);
            let scheme: String =
                scheme.chars().filter(char::is_ascii_alphanumeric).take(16).collect();
            format!("{scheme}://(unparsable)")
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    const KEY: &str = "k1:q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=";

    fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
        let map: HashMap<String, String> =
            vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn from_lookup_reads_the_table() {
        assert!(RedisConfig::from_lookup(lookup(&[])).unwrap().is_none());
        assert!(RedisConfig::from_lookup(lookup(&[(env::URL, " ")])).unwrap().is_none());
        let c = RedisConfig::from_lookup(lookup(&[
            (env::URL, "redis://127.0.0.1:6379"),
            (env::KEYS, KEY),
            (env::PREFIX, "app1:"),
            (env::TIMEOUT_MS, "20"),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(c.prefix, "app1:");
        assert_eq!(c.cache_timeout, Duration::from_millis(20));
        assert_eq!(c.keys().current_id(), "k1");
        // Defaults.
        let d = RedisConfig::from_lookup(lookup(&[(env::URL, "redis://h"), (env::KEYS, KEY)]))
            .unwrap()
            .unwrap();
        assert_eq!((d.prefix.as_str(), d.cache_timeout), ("entra:", Duration::from_millis(50)));
    }

    #[test]
    fn from_lookup_refuses_missing_keys_and_bad_values() {
        let err = RedisConfig::from_lookup(lookup(&[(env::URL, "redis://h")])).unwrap_err();
        assert_eq!(err.to_string(), "ENTRA_REDIS_KEYS is not set");
        for (name, value) in
            [(env::TIMEOUT_MS, "fast"), (env::TIMEOUT_MS, "0"), (env::PREFIX, "a b")]
        {
            let err = RedisConfig::from_lookup(lookup(&[
                (env::URL, "redis://h"),
                (env::KEYS, KEY),
                (name, value),
            ]))
            .unwrap_err();
            assert!(err.is_config(), "{name}={value}: {err}");
        }
        let err =
            RedisConfig::from_lookup(lookup(&[(env::URL, "redis://h"), (env::KEYS, "k1:short")]))
                .unwrap_err();
        assert_eq!(err.code(), "invalid_keys");
    }

    #[test]
    fn ranges_are_checked() {
        let keys = Keyring::parse(&Secret::new(KEY)).unwrap();
        let base = RedisConfig::new("redis://h", keys);
        assert!(base.check().is_ok());
        let bad = [
            base.clone().cache_timeout(Duration::ZERO),
            base.clone().cache_timeout(Duration::from_secs(11)),
            base.clone().store_timeout(Duration::from_secs(31)),
            base.clone().connect_timeout(Duration::ZERO),
            base.clone().l1_capacity(0),
            base.clone().l1_max_ttl(Duration::from_millis(10)),
            base.clone().prefix("x".repeat(65)),
            base.clone().prefix("tab\t"),
        ];
        for c in bad {
            assert_eq!(c.check().unwrap_err().code(), "invalid_setting", "{c:?}");
        }
    }

    #[test]
    fn urls_are_redacted() {
        assert_eq!(redact("redis://:hunter2@10.0.0.1:6380/2"), "redis://:redacted@10.0.0.1:6380/2");
        assert_eq!(redact("redis://user:hunter2@h"), "redis://user:redacted@h");
        assert_eq!(redact("redis://h:6379"), "redis://h:6379");
        assert_eq!(redact("redis://:hun ter2@@h:x"), "redis://(unparsable)");
    }
}
