//! The cross-crate seam traits. Each crate implements or consumes these; hosts can
//! plug in their own.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::{AccessToken, Secret, Target, ValidatedToken};

/// What an adapter needs to know about any error crossing a seam.
pub trait AuthError: std::error::Error + Send + Sync + 'static {
    /// The caller's credentials are wrong: answer 401 (or 403) and do not retry.
    fn is_unauthorized(&self) -> bool;
    /// A dependency failed (network, Entra unavailable, throttled): answer 503 and
    /// retry later. Never true at the same time as [`AuthError::is_unauthorized`].
    fn is_transient(&self) -> bool;
}

/// Validates an incoming bearer token.
///
/// Implementations must check the signature against the issuer's keys, the
/// expiry, the issuer (with the `{tenantid}` rule for multi-tenant apps) and the
/// audience, and must never return `Ok` for a token they did not verify. Errors
/// must say whether the token is bad ([`AuthError::is_unauthorized`]) or the
/// validator could not decide ([`AuthError::is_transient`]). Implemented by
/// `entra_jwks::Validator`.
#[async_trait]
pub trait TokenValidator: Send + Sync {
    /// The error type.
    type Error: AuthError;

    /// Validates `token` (the text after `Bearer `).
    async fn validate(&self, token: &str) -> Result<ValidatedToken, Self::Error>;
}

#[async_trait]
impl<T: TokenValidator + ?Sized> TokenValidator for &T {
    type Error = T::Error;
    async fn validate(&self, token: &str) -> Result<ValidatedToken, Self::Error> {
        (**self).validate(token).await
    }
}

#[async_trait]
impl<T: TokenValidator + ?Sized> TokenValidator for Box<T> {
    type Error = T::Error;
    async fn validate(&self, token: &str) -> Result<ValidatedToken, Self::Error> {
        (**self).validate(token).await
    }
}

#[async_trait]
impl<T: TokenValidator + ?Sized> TokenValidator for Arc<T> {
    type Error = T::Error;
    async fn validate(&self, token: &str) -> Result<ValidatedToken, Self::Error> {
        (**self).validate(token).await
    }
}

/// Exchanges a validated user token for a token to a downstream API, as the same
/// user (On-Behalf-Of).
///
/// Implementations must refuse app-only assertions, must never cache an error or
/// a response to a request carrying a claims challenge, and must carry Conditional
/// Access `claims` challenges back in their error. Implemented by `entra_obo::Obo`.
#[async_trait]
pub trait TokenExchanger: Send + Sync {
    /// The error type.
    type Error: AuthError;

    /// A token for `target` on behalf of the user of `user_token`.
    async fn exchange(
        &self,
        user_token: &ValidatedToken,
        target: &Target,
    ) -> Result<AccessToken, Self::Error>;
}

#[async_trait]
impl<T: TokenExchanger + ?Sized> TokenExchanger for &T {
    type Error = T::Error;
    async fn exchange(
        &self,
        user_token: &ValidatedToken,
        target: &Target,
    ) -> Result<AccessToken, Self::Error> {
        (**self).exchange(user_token, target).await
    }
}

#[async_trait]
impl<T: TokenExchanger + ?Sized> TokenExchanger for Box<T> {
    type Error = T::Error;
    async fn exchange(
        &self,
        user_token: &ValidatedToken,
        target: &Target,
    ) -> Result<AccessToken, Self::Error> {
        (**self).exchange(user_token, target).await
    }
}

#[async_trait]
impl<T: TokenExchanger + ?Sized> TokenExchanger for Arc<T> {
    type Error = T::Error;
    async fn exchange(
        &self,
        user_token: &ValidatedToken,
        target: &Target,
    ) -> Result<AccessToken, Self::Error> {
        (**self).exchange(user_token, target).await
    }
}

/// A failure of a storage backend (cache or login-state store). Always transient
/// from the caller's point of view.
#[derive(Debug, thiserror::Error)]
#[error("{what} backend failed")]
pub struct StoreError {
    what: &'static str,
    #[source]
    source: Box<dyn std::error::Error + Send + Sync>,
}

impl StoreError {
    /// Wraps a backend error; `what` names the backend (`"redis token cache"`).
    pub fn new(
        what: &'static str,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Self { what, source: source.into() }
    }
}

/// Stores small secrets (downstream tokens) with a time to live.
///
/// Keys are derived by the caller and never contain raw tokens (SHA-256 of them).
/// Implementations must not return an entry after its TTL, must be safe to share
/// between tasks, and may evict early (a miss is always allowed).
#[async_trait]
pub trait TokenCache: Send + Sync + fmt::Debug {
    /// The value stored under `key`, if present and not expired.
    async fn get(&self, key: &str) -> Result<Option<Secret>, StoreError>;
    /// Stores `value` under `key` for `ttl`.
    async fn put(&self, key: &str, value: Secret, ttl: Duration) -> Result<(), StoreError>;
    /// Removes `key`.
    async fn remove(&self, key: &str) -> Result<(), StoreError>;
}

#[async_trait]
impl<T: TokenCache + ?Sized> TokenCache for &T {
    async fn get(&self, key: &str) -> Result<Option<Secret>, StoreError> {
        (**self).get(key).await
    }
    async fn put(&self, key: &str, value: Secret, ttl: Duration) -> Result<(), StoreError> {
        (**self).put(key, value, ttl).await
    }
    async fn remove(&self, key: &str) -> Result<(), StoreError> {
        (**self).remove(key).await
    }
}

#[async_trait]
impl<T: TokenCache + ?Sized> TokenCache for Box<T> {
    async fn get(&self, key: &str) -> Result<Option<Secret>, StoreError> {
        (**self).get(key).await
    }
    async fn put(&self, key: &str, value: Secret, ttl: Duration) -> Result<(), StoreError> {
        (**self).put(key, value, ttl).await
    }
    async fn remove(&self, key: &str) -> Result<(), StoreError> {
        (**self).remove(key).await
    }
}

#[async_trait]
impl<T: TokenCache + ?Sized> TokenCache for Arc<T> {
    async fn get(&self, key: &str) -> Result<Option<Secret>, StoreError> {
        (**self).get(key).await
    }
    async fn put(&self, key: &str, value: Secret, ttl: Duration) -> Result<(), StoreError> {
        (**self).put(key, value, ttl).await
    }
    async fn remove(&self, key: &str) -> Result<(), StoreError> {
        (**self).remove(key).await
    }
}

/// A sign-in that has started and not yet come back: what the callback needs.
#[derive(Clone, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PendingLogin {
    /// The `nonce` sent in the authorization request. Never log it.
    pub nonce: String,
    /// The PKCE code verifier. Never log it.
    pub pkce_verifier: String,
    /// The local path to return to after sign-in (already checked to be local).
    pub return_to: String,
    /// The redirect URI used in the authorization request.
    pub redirect_uri: String,
    /// When the sign-in started, seconds since the epoch.
    pub created_at: i64,
}

impl PendingLogin {
    /// A pending sign-in.
    pub fn new(
        nonce: String,
        pkce_verifier: String,
        return_to: String,
        redirect_uri: String,
        created_at: i64,
    ) -> Self {
        Self { nonce, pkce_verifier, return_to, redirect_uri, created_at }
    }
}

impl fmt::Debug for PendingLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingLogin")
            .field("return_to", &self.return_to)
            .field("redirect_uri", &self.redirect_uri)
            .field("created_at", &self.created_at)
            .finish_non_exhaustive()
    }
}

/// Stores pending sign-ins by their `state` value.
///
/// Implementations must make [`LoginStateStore::take`] take-once (a second take of
/// the same state returns `None`, even under concurrency), must not return an entry
/// after its TTL, and should bound their size.
#[async_trait]
pub trait LoginStateStore: Send + Sync + fmt::Debug {
    /// Stores `login` under `state` for `ttl`.
    async fn put(&self, state: &str, login: PendingLogin, ttl: Duration) -> Result<(), StoreError>;
    /// Removes and returns the login stored under `state`.
    async fn take(&self, state: &str) -> Result<Option<PendingLogin>, StoreError>;
}

#[async_trait]
impl<T: LoginStateStore + ?Sized> LoginStateStore for &T {
    async fn put(&self, state: &str, login: PendingLogin, ttl: Duration) -> Result<(), StoreError> {
        (**self).put(state, login, ttl).await
    }
    async fn take(&self, state: &str) -> Result<Option<PendingLogin>, StoreError> {
        (**self).take(state).await
    }
}

#[async_trait]
impl<T: LoginStateStore + ?Sized> LoginStateStore for Box<T> {
    async fn put(&self, state: &str, login: PendingLogin, ttl: Duration) -> Result<(), StoreError> {
        (**self).put(state, login, ttl).await
    }
    async fn take(&self, state: &str) -> Result<Option<PendingLogin>, StoreError> {
        (**self).take(state).await
    }
}

#[async_trait]
impl<T: LoginStateStore + ?Sized> LoginStateStore for Arc<T> {
    async fn put(&self, state: &str, login: PendingLogin, ttl: Duration) -> Result<(), StoreError> {
        (**self).put(state, login, ttl).await
    }
    async fn take(&self, state: &str) -> Result<Option<PendingLogin>, StoreError> {
        (**self).take(state).await
    }
}
