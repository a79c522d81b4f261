//! Pending sign-ins in Redis, taken once.

use std::borrow::Cow;
use std::time::Duration;

use async_trait::async_trait;
use entra_core::{PendingLogin, Secret, StoreError};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::keyring::Purpose;
use crate::{Connection, Error};

/// What names this backend in a [`StoreError`].
const WHAT: &str = "redis login-state store";

/// An [`entra_core::LoginStateStore`] in Redis: a sign-in begun on one replica
/// completes on any other.
///
/// `take` is `GETDEL`, atomic in Redis: of any number of concurrent takes of one
/// `state`, on any replicas, exactly one gets the sign-in. Entries expire with
/// the TTL given to `put`. Redis keys are `<prefix>login:<SHA-256 of state>`;
/// values (nonce, PKCE verifier, return path) are encrypted and bound to their
/// key.
///
/// Unlike the token cache, a Redis failure here is an error: `put` and `take`
/// return a [`StoreError`] (transient: answer 503) when Redis fails or takes
/// longer than [`crate::RedisConfig::store_timeout`], never a silent success. A
/// stored value that does not decrypt is refused: `take` deletes it and answers
/// `None`, as for an unknown `state`.
#[derive(Clone, Debug)]
pub struct LoginStateStore {
    connection: Connection,
}

/// The stored form of a [`PendingLogin`].
#[derive(Serialize, Deserialize)]
struct Wire<'a> {
    #[serde(borrow)]
    nonce: Cow<'a, str>,
    #[serde(borrow)]
    pkce_verifier: Cow<'a, str>,
    #[serde(borrow)]
    return_to: Cow<'a, str>,
    #[serde(borrow)]
    redirect_uri: Cow<'a, str>,
    created_at: i64,
}

impl LoginStateStore {
    /// A store on `connection`.
    pub fn new(connection: &Connection) -> Self {
        Self { connection: connection.clone() }
    }

    /// The connection.
    pub fn connection(&self) -> &Connection {
        &self.connection
    }
}

fn store_error(e: Error) -> StoreError {
    StoreError::new(WHAT, e)
}

#[async_trait]
impl entra_core::LoginStateStore for LoginStateStore {
    async fn put(&self, state: &str, login: PendingLogin, ttl: Duration) -> Result<(), StoreError> {
        let ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX);
        if ms == 0 {
            // Expired on arrival: nothing to keep.
            return Ok(());
        }
        let wire = Wire {
            nonce: Cow::Borrowed(login.nonce.expose_secret()),
            pkce_verifier: Cow::Borrowed(login.pkce_verifier.expose_secret()),
            return_to: Cow::Borrowed(&login.return_to),
            redirect_uri: Cow::Borrowed(&login.redirect_uri),
            created_at: login.created_at,
        };
        let plain =
            Zeroizing::new(serde_json::to_vec(&wire).map_err(Error::Encode).map_err(store_error)?);
        let redis_key = self.connection.key(Purpose::Login, state);
        let sealed =
            self.connection.keys().seal(Purpose::Login, &redis_key, &plain).map_err(store_error)?;
        let cmd = redis::cmd("SET").arg(&redis_key).arg(sealed).arg("PX").arg(ms).clone();
        self.connection
            .query::<()>(&cmd, self.connection.config().store_timeout)
            .await
            .map_err(store_error)
    }

    async fn take(&self, state: &str) -> Result<Option<PendingLogin>, StoreError> {
        let redis_key = self.connection.key(Purpose::Login, state);
        let stored: Option<Vec<u8>> = self
            .connection
            .query(redis::cmd("GETDEL").arg(&redis_key), self.connection.config().store_timeout)
            .await
            .map_err(store_error)?;
        let Some(stored) = stored else { return Ok(None) };
        let plain = match self.connection.keys().open(Purpose::Login, &redis_key, &stored) {
            Ok(plain) => plain,
            Err(refusal) => {
                // GETDEL already deleted it.
                tracing::warn!(
                    code = refusal.code(),
                    "refused and deleted a login-state value stored in redis"
                );
                return Ok(None);
            }
        };
        let wire: Wire<'_> =
            serde_json::from_slice(&plain).map_err(Error::Decode).map_err(store_error)?;
        Ok(Some(PendingLogin::new(
            Secret::new(wire.nonce),
            Secret::new(wire.pkce_verifier),
            wire.return_to.into_owned(),
            wire.redirect_uri.into_owned(),
            wire.created_at,
        )))
    }
}
