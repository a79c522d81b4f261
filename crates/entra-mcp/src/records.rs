//! What the facade keeps in its store, and under which keys. Every value is a
//! JSON document in a [`Secret`]; every key naming a secret (a code, a handle,
//! a state) is a hash of it, never the secret itself.

use std::time::Duration;

use entra_core::{LoginStateStore, PendingLogin, Secret, SecretStore, StoreError};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::crypto::sha256_b64;
use crate::{Error, Result};

/// A registered client (dynamic, or from a metadata document).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct ClientRecord {
    pub(crate) client_id: String,
    pub(crate) client_name: Option<String>,
    pub(crate) redirect_uris: Vec<String>,
    /// Whether the client id is a Client ID Metadata Document URL.
    #[serde(default)]
    pub(crate) metadata_document: bool,
}

/// An authorization between `/authorize` and the code: what the client asked.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct PendingAuthorization {
    pub(crate) client_id: String,
    pub(crate) client_name: Option<String>,
    pub(crate) redirect_uri: String,
    pub(crate) code_challenge: String,
    pub(crate) state: Option<String>,
    pub(crate) scopes: Vec<String>,
    /// SHA-256 of the consent page's CSRF token.
    pub(crate) csrf_hash: String,
}

/// An issued authorization code: bound to its client, redirect URI and PKCE
/// challenge, holding what it will hand out.
#[derive(Serialize, Deserialize)]
pub(crate) struct CodeRecord {
    pub(crate) client_id: String,
    pub(crate) redirect_uri: String,
    pub(crate) code_challenge: String,
    pub(crate) scopes: Vec<String>,
    pub(crate) access_token: String,
    pub(crate) expires_at: i64,
    pub(crate) entra_refresh: Option<String>,
}

/// What an opaque refresh handle stands for.
#[derive(Serialize, Deserialize)]
pub(crate) struct RefreshRecord {
    /// The hash of the code the chain of rotated handles descends from.
    pub(crate) family: String,
    pub(crate) client_id: String,
    pub(crate) scopes: Vec<String>,
    pub(crate) entra_refresh: String,
}

/// The store keys of each kind of record.
pub(crate) mod key {
    use super::sha256_b64;

    pub(crate) fn client(client_id: &str) -> String {
        format!("mcp:client:{}", sha256_b64(client_id))
    }
    pub(crate) fn consent(txn: &str) -> String {
        format!("mcp:consent:{}", sha256_b64(txn))
    }
    pub(crate) fn sign_in(state: &str) -> String {
        format!("mcp:signin:{}", sha256_b64(state))
    }
    pub(crate) fn code(code: &str) -> String {
        format!("mcp:code:{}", sha256_b64(code))
    }
    pub(crate) fn used_code(code: &str) -> String {
        format!("mcp:used:{}", sha256_b64(code))
    }
    /// The current refresh handle (its hash) of the chain descending from a
    /// code, for revoking it when the code is replayed.
    pub(crate) fn family(code_hash: &str) -> String {
        format!("mcp:family:{code_hash}")
    }
    pub(crate) fn refresh_by_hash(hash: &str) -> String {
        format!("mcp:refresh:{hash}")
    }
    pub(crate) fn login(state: &str) -> String {
        format!("mcp:login:{}", sha256_b64(state))
    }
    pub(crate) const REGISTRATION_RATE: &str = "mcp:rate:register";
    pub(crate) const CLIENT_QUOTA: &str = "mcp:quota:clients";
}

pub(crate) async fn put<T: Serialize>(
    store: &dyn SecretStore,
    key: &str,
    value: &T,
    ttl: Duration,
) -> Result<()> {
    let json = serde_json::to_string(value).map_err(|_| Error::InvalidRequest("unencodable"))?;
    store.put(key, Secret::new(json), ttl).await?;
    Ok(())
}

fn decode<T: DeserializeOwned>(value: Option<Secret>) -> Option<T> {
    // A value that does not decode is treated as absent (and was taken, for take).
    value.and_then(|v| serde_json::from_str(v.expose_secret()).ok())
}

pub(crate) async fn get<T: DeserializeOwned>(
    store: &dyn SecretStore,
    key: &str,
) -> Result<Option<T>> {
    Ok(decode(store.get(key).await?))
}

pub(crate) async fn take<T: DeserializeOwned>(
    store: &dyn SecretStore,
    key: &str,
) -> Result<Option<T>> {
    Ok(decode(store.take(key).await?))
}

/// The facade's store as entra-oidc's [`LoginStateStore`]: Entra sign-ins
/// begun on one replica complete on any other sharing the store.
#[derive(Debug)]
pub(crate) struct Logins(pub(crate) std::sync::Arc<dyn SecretStore>);

#[async_trait::async_trait]
impl LoginStateStore for Logins {
    async fn put(&self, state: &str, login: PendingLogin, ttl: Duration) -> Result<(), StoreError> {
        let json = serde_json::to_string(&login)
            .map_err(|e| StoreError::new("mcp facade login state", e))?;
        self.0.put(&key::login(state), Secret::new(json), ttl).await
    }

    async fn take(&self, state: &str) -> Result<Option<PendingLogin>, StoreError> {
        Ok(decode(self.0.take(&key::login(state)).await?))
    }
}
