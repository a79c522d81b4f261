//! tower-sessions records in Redis, encrypted.

use async_trait::async_trait;
use tower_sessions_core::SessionStore as _;
use tower_sessions_core::session::{Id, Record};
use tower_sessions_core::session_store;

use crate::keyring::Purpose;
use crate::{Connection, Error};

/// How many fresh ids `create` tries before giving up (a collision of random
/// 128-bit ids does not happen; this only bounds the loop).
const CREATE_ATTEMPTS: usize = 8;

/// A tower-sessions [`SessionStore`](tower_sessions_core::SessionStore) in
/// Redis: a session created on one replica is valid on every other.
///
/// Redis keys are `<prefix>session:<SHA-256 of the session id>`, so reading
/// Redis does not give anyone a session cookie; records are encrypted and bound
/// to their key, and expire in Redis at their `expiry_date`. `create` never
/// overwrites a session (`SET NX`, retrying with a new id), and `save` never
/// brings back a session deleted meanwhile, for example by a sign-out on another
/// replica (`SET XX`). A stored record that does not decrypt is refused,
/// deleted and loads as no session.
///
/// Redis failures and time-outs ([`crate::RedisConfig::store_timeout`]) are
/// `session_store::Error::Backend` errors whose text starts with this crate's
/// [`Error::code`].
#[derive(Clone, Debug)]
pub struct SessionStore {
    connection: Connection,
}

impl SessionStore {
    /// A store on `connection`.
    pub fn new(connection: &Connection) -> Self {
        Self { connection: connection.clone() }
    }

    /// The connection.
    pub fn connection(&self) -> &Connection {
        &self.connection
    }

    /// `SET key sealed PXAT expiry (NX|XX)`: whether it was written.
    async fn write(&self, record: &Record, condition: &str) -> session_store::Result<bool> {
        let redis_key = self.connection.key(Purpose::Session, &record.id.to_string());
        let expires_ms = record.expiry_date.unix_timestamp_nanos() / 1_000_000;
        if expires_ms <= 0 {
            // Expired before 1970: nothing to keep (Redis refuses PXAT 0). A save
            // removes the stored record; a create has nothing to remove.
            if condition == "XX" {
                self.delete(&record.id).await?;
            }
            return Ok(true);
        }
        let plain = zeroize::Zeroizing::new(
            serde_json::to_vec(record).map_err(|e| encode_error(&Error::Encode(e)))?,
        );
        let sealed = self
            .connection
            .keys()
            .seal(Purpose::Session, &redis_key, &plain)
            .map_err(|e| encode_error(&e))?;
        let cmd = redis::cmd("SET")
            .arg(&redis_key)
            .arg(sealed)
            .arg("PXAT")
            .arg(i64::try_from(expires_ms).unwrap_or(i64::MAX))
            .arg(condition)
            .clone();
        let written: Option<String> = self
            .connection
            .query(&cmd, self.connection.config().store_timeout)
            .await
            .map_err(|e| backend_error(&e))?;
        Ok(written.is_some())
    }
}

fn backend_error(e: &Error) -> session_store::Error {
    session_store::Error::Backend(format!("{}: {e}", e.code()))
}

fn encode_error(e: &Error) -> session_store::Error {
    session_store::Error::Encode(format!("{}: {e}", e.code()))
}

#[async_trait]
impl tower_sessions_core::SessionStore for SessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        for _ in 0..CREATE_ATTEMPTS {
            if self.write(record, "NX").await? {
                return Ok(());
            }
            record.id = Id::default();
        }
        Err(session_store::Error::Backend("no free session id".into()))
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.write(record, "XX").await.map(drop)
    }

    async fn load(&self, session_id: &Id) -> session_store::Result<Option<Record>> {
        let redis_key = self.connection.key(Purpose::Session, &session_id.to_string());
        let timeout = self.connection.config().store_timeout;
        let stored: Option<Vec<u8>> = self
            .connection
            .query(redis::cmd("GET").arg(&redis_key), timeout)
            .await
            .map_err(|e| backend_error(&e))?;
        let Some(stored) = stored else { return Ok(None) };
        let record = match self.connection.keys().open(Purpose::Session, &redis_key, &stored) {
            Ok(plain) => serde_json::from_slice::<Record>(&plain).map_err(|e| {
                let e = Error::Decode(e);
                session_store::Error::Decode(format!("{}: {e}", e.code()))
            })?,
            Err(refusal) => {
                tracing::warn!(
                    code = refusal.code(),
                    "refused a session record stored in redis; deleting it"
                );
                self.delete(session_id).await?;
                return Ok(None);
            }
        };
        // The key already binds the record to its id; a record naming another id
        // was not written by this store.
        if record.id != *session_id {
            tracing::warn!(code = "session_id_mismatch", "refused a session record; deleting it");
            self.delete(session_id).await?;
            return Ok(None);
        }
        Ok(Some(record))
    }

    async fn delete(&self, session_id: &Id) -> session_store::Result<()> {
        let redis_key = self.connection.key(Purpose::Session, &session_id.to_string());
        self.connection
            .query::<i64>(redis::cmd("DEL").arg(&redis_key), self.connection.config().store_timeout)
            .await
            .map(drop)
            .map_err(|e| backend_error(&e))
    }
}
