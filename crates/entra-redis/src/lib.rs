//! Redis backends for apps running several replicas: a two-level OBO token cache,
//! a take-once login-state store, a tower-sessions store and the store of
//! entra-mcp's OAuth facade, encrypted at rest and tolerant of Redis outages.
//!
//! # Example
//!
//! Two replicas of one app, each with its own in-memory level, sharing a Redis
//! (here the one on `127.0.0.1:6379`): a token cached by one is found by the
//! other, and a sign-in begun on one completes on the other.
//!
//! ```
//! use std::time::Duration;
//! use entra_core::{LoginStateStore as _, PendingLogin, Secret, TokenCache as _};
//! use entra_redis::{Connection, Keyring, LoginStateStore, RedisConfig, TokenCache};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // In production: `RedisConfig::from_env()` (ENTRA_REDIS_URL, ENTRA_REDIS_KEYS).
//! let keys = Keyring::parse(&Secret::new("k1:q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA="))?;
//! # let prefix = format!("doctest:{}:", std::process::id());
//! let config = RedisConfig::new("redis://127.0.0.1:6379", keys)
//! #   .prefix(prefix)
//!     ;
//! let replica_a = Connection::connect(config.clone()).await?;
//! let replica_b = Connection::connect(config).await?;
//!
//! let (cache_a, cache_b) = (TokenCache::new(&replica_a), TokenCache::new(&replica_b));
//! cache_a.put("obo:key", Secret::new("eyJ0eXAi.downstream"), Duration::from_secs(60)).await?;
//! let hit = cache_b.get("obo:key").await?.expect("an L2 hit on replica B");
//! assert_eq!(hit.expose_secret(), "eyJ0eXAi.downstream");
//!
//! let (logins_a, logins_b) = (LoginStateStore::new(&replica_a), LoginStateStore::new(&replica_b));
//! let login = PendingLogin::new(Secret::new("n"), Secret::new("v"), "/".into(), "https://app/cb".into(), 0);
//! logins_a.put("state-123", login, Duration::from_secs(600)).await?;
//! assert!(logins_b.take("state-123").await?.is_some());
//! assert!(logins_a.take("state-123").await?.is_none(), "taken once");
//! # cache_a.remove("obo:key").await?;
//! # Ok(())
//! # }
//! ```
//!
//! `docs/deploying-replicas.md` in the repository explains what the replicas
//! share, how to make and rotate keys, and what happens when Redis fails.
//!
//! # Crate features
//!
//! - `sessions`: `SessionStore`, a tower-sessions 0.14 store (the version
//!   `entra-axum` uses).
//!
//! # The Redis client
//!
//! [redis-rs](https://docs.rs/redis) 1.x with its `ConnectionManager`, rather
//! than fred: one multiplexed connection per replica is all these stores need
//! (every operation is a single command or a one-key pipeline), the manager
//! reconnects by itself after Redis restarts, and with default features off it
//! brings five small crates the workspace did not already have (arc-swap,
//! arcstr, backon, fastrand, xxhash-rust). fred's strengths (pools, its own
//! reconnection policies) are not needed here. The one reason to take fred
//! would have been the fred-based `tower-sessions-redis-store`, and it does not
//! fit: it stores records in clear text (MessagePack) under the raw session id,
//! so reading Redis would hand out session cookies and their contents. Redis
//! Cluster and Sentinel are not supported by this crate
//! yet: the manager serves one endpoint (a single node, or a proxy or managed
//! service that presents one).
//!
//! # Security
//!
//! - Values are encrypted with AES-256-GCM (aws-lc-rs), with a key derived per
//!   kind of value (HKDF-SHA256) from the current key of the [`Keyring`], a
//!   random nonce per write, and the key id stored with the value so that keys
//!   rotate without losing entries.
//! - The associated data binds each value to its kind and its full Redis key: a
//!   value edited in Redis, copied under another key, or sealed with an unknown
//!   key id is refused and deleted.
//! - Redis keys are SHA-256 hashes of the cache key, `state` or session id, so
//!   reading Redis yields neither tokens nor session cookies, and no stored value
//!   contains a token in clear.
//! - [`SecretStore`] (the store of entra-mcp's OAuth facade: registrations,
//!   pending authorizations, codes, refresh handles) encrypts the same way;
//!   its counters (rate limits, quotas) hold only numbers and are atomic
//!   across replicas.
//! - The token cache never turns a Redis failure into a caller error; the
//!   login-state, session and secret stores always do (a transient error), so a Redis
//!   outage never silently accepts a sign-in.
//! - URLs are logged and shown in errors without their password; keys never
//!   appear in `Debug` or errors.

#![cfg_attr(docsrs, feature(doc_cfg))]

mod cache;
mod config;
mod connection;
mod error;
mod keyring;
mod login;
mod secret;
#[cfg(feature = "sessions")]
#[cfg_attr(docsrs, doc(cfg(feature = "sessions")))]
mod session;

pub use cache::TokenCache;
pub use config::RedisConfig;
pub use connection::Connection;
pub use error::{Error, Result};
pub use keyring::{KEY_LEN, Keyring};
pub use login::LoginStateStore;
pub use secret::SecretStore;
#[cfg(feature = "sessions")]
#[cfg_attr(docsrs, doc(cfg(feature = "sessions")))]
pub use session::SessionStore;
