//! The cross-crate seam traits. Each crate implements or consumes these; hosts can
//! plug in their own.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::{AccessToken, Secret, Target, ValidatedToken};

/// What an adapter needs to know about any error crossing a seam.
///
/// Every error of the entra-* crates implements it, and so does [`SeamError`],
/// the erased error the seam traits return. At most one of
/// [`AuthError::is_unauthorized`], [`AuthError::is_transient`] and
/// [`AuthError::is_config`] is true; when none is, the failure is an internal or
/// upstream fault (answer 500 or 502).
pub trait AuthError: std::error::Error + Send + Sync + 'static {
    /// The caller's credentials are wrong: answer 401 (or 403) and do not retry.
    fn is_unauthorized(&self) -> bool;
    /// A dependency failed (network, Entra unavailable, throttled): answer 503 and
    /// retry later. Never true at the same time as [`AuthError::is_unauthorized`].
    fn is_transient(&self) -> bool;
    /// The host's configuration is wrong (settings, credentials, permissions of
    /// the app registration): answer 500 and fix the deployment, not the request.
    fn is_config(&self) -> bool;
    /// A stable, documented `snake_case` code naming the failure
    /// (`"token_expired"`, `"unknown_kid"`), for logs, metrics and mapping. Codes
    /// never change meaning; each crate's `Error` documents its table.
    fn code(&self) -> &'static str;
    /// The Conditional Access `claims` challenge (JSON text) the failure carries,
    /// for `WWW-Authenticate: Bearer error="insufficient_claims", claims="..."`.
    /// Defaults to `None`.
    fn claims_challenge(&self) -> Option<&str> {
        None
    }
    /// How long the caller should wait before retrying, when the dependency said
    /// so (`Retry-After`). Defaults to `None`.
    fn retry_after(&self) -> Option<Duration> {
        None
    }
}

/// The error the seam traits ([`TokenValidator`], [`TokenExchanger`]) return: any
/// [`AuthError`], erased so that hosts can hold an `Arc<dyn TokenValidator>`.
///
/// `Display`, `Debug` and [`std::error::Error::source`] are those of the inner
/// error, and its [`AuthError`] answers are passed through. Get the typed error
/// back with [`SeamError::downcast_ref`] or [`SeamError::downcast`].
///
/// ```
/// use entra_core::{AuthError, SeamError};
///
/// #[derive(Debug, thiserror::Error)]
/// #[error("keys are unavailable")]
/// struct KeysDown;
///
/// impl AuthError for KeysDown {
///     fn is_unauthorized(&self) -> bool { false }
///     fn is_transient(&self) -> bool { true }
///     fn is_config(&self) -> bool { false }
///     fn code(&self) -> &'static str { "keys_unavailable" }
/// }
///
/// let e = SeamError::new(KeysDown);
/// assert_eq!((e.code(), e.is_transient()), ("keys_unavailable", true));
/// assert_eq!(e.to_string(), "keys are unavailable");
/// assert!(e.downcast_ref::<KeysDown>().is_some());
/// ```
pub struct SeamError(Box<dyn AuthError>);

impl SeamError {
    /// Erases `error`. A [`SeamError`] passed in is returned as it is, not wrapped
    /// twice.
    pub fn new(error: impl AuthError) -> Self {
        let mut slot = Some(error);
        if let Some(seam) = (&mut slot as &mut dyn std::any::Any).downcast_mut::<Option<Self>>()
            && let Some(seam) = seam.take()
        {
            return seam;
        }
        match slot {
            Some(error) => Self(Box::new(error)),
            // Unreachable: only a `SeamError` is taken out above, and it returned.
            None => Self(Box::new(Taken)),
        }
    }

    /// The inner error.
    pub fn get_ref(&self) -> &(dyn AuthError + 'static) {
        &*self.0
    }

    /// The inner error, mutably.
    pub fn get_mut(&mut self) -> &mut (dyn AuthError + 'static) {
        &mut *self.0
    }

    /// The inner error, if it is a `T`.
    pub fn downcast_ref<T: AuthError>(&self) -> Option<&T> {
        let inner: &(dyn std::error::Error + 'static) = &*self.0;
        inner.downcast_ref::<T>()
    }

    /// The inner error as a `T`, or `self` unchanged if it is another type.
    ///
    /// # Errors
    /// Returns `self` when the inner error is not a `T`.
    pub fn downcast<T: AuthError>(self) -> Result<T, Self> {
        if self.downcast_ref::<T>().is_none() {
            return Err(self);
        }
        let inner: Box<dyn std::error::Error + Send + Sync> = self.0;
        inner.downcast::<T>().map(|b| *b).map_err(|_| Self(Box::new(Taken)))
    }

    /// The inner error, boxed.
    pub fn into_inner(self) -> Box<dyn AuthError> {
        self.0
    }
}

/// Never built in practice: the placeholder of an impossible branch in
/// [`SeamError`], so that no code path can panic.
#[derive(Debug, thiserror::Error)]
#[error("internal error: seam error lost")]
struct Taken;

impl AuthError for Taken {
    fn is_unauthorized(&self) -> bool {
        false
    }
    fn is_transient(&self) -> bool {
        false
    }
    fn is_config(&self) -> bool {
        false
    }
    fn code(&self) -> &'static str {
        "internal"
    }
}

impl fmt::Debug for SeamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for SeamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&*self.0, f)
    }
}

impl std::error::Error for SeamError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

impl AuthError for SeamError {
    fn is_unauthorized(&self) -> bool {
        self.0.is_unauthorized()
    }
    fn is_transient(&self) -> bool {
        self.0.is_transient()
    }
    fn is_config(&self) -> bool {
        self.0.is_config()
    }
    fn code(&self) -> &'static str {
        self.0.code()
    }
    fn claims_challenge(&self) -> Option<&str> {
        self.0.claims_challenge()
    }
    fn retry_after(&self) -> Option<Duration> {
        self.0.retry_after()
    }
}

/// Validates an incoming bearer token.
///
/// Implementations must check the signature against the issuer's keys, the
/// expiry, the issuer (with the `{tenantid}` rule for multi-tenant apps) and the
/// audience, and must never return `Ok` for a token they did not verify. Errors
/// must say whether the token is bad ([`AuthError::is_unauthorized`]) or the
/// validator could not decide ([`AuthError::is_transient`]). Implemented by
/// `entra_jwks::Validator`; hosts hold an `Arc<dyn TokenValidator>`.
#[async_trait]
pub trait TokenValidator: Send + Sync {
    /// Validates `token` (the text after `Bearer `).
    ///
    /// # Errors
    /// The implementation's error, erased: inspect it with the [`AuthError`]
    /// methods or [`SeamError::downcast_ref`].
    async fn validate(&self, token: &str) -> Result<ValidatedToken, SeamError>;

    /// The answer for `token` when the validator has it at hand, without waiting
    /// or verifying a signature (typically a token it validated before, same
    /// bytes, its `exp` checked again), or `None`: then the caller checks the
    /// token's syntax and awaits [`validate`](Self::validate). Defaults to
    /// `None`.
    ///
    /// `token` is the credential as received (the bytes after `Bearer `), its
    /// syntax not yet checked: middleware calls this first on every request, so
    /// that a cached token needs no future (nor its allocation) and no second
    /// pass over its bytes. So:
    ///
    /// - `Some(Ok(_))` only for bytes that `validate` accepted before as a token
    ///   (the same bytes), that it would accept now, **and that are an RFC 9110
    ///   `token68`** (otherwise answer `None`). Such an answer vouches for the
    ///   syntax: the caller skips its own check of it (the bearer layer's
    ///   `token68` rule), so a validator that accepts other text (opaque
    ///   tokens, trimmed input) must not answer `Some(Ok)` for it. A compact
    ///   JWS is base64url parts and dots, all `token68`.
    /// - `Some(Err(_))` for a refusal decided without waiting (a token too
    ///   large, or validated before and expired since). The caller still checks
    ///   the syntax first: a malformed token is refused as malformed.
    /// - `None` for anything else, non-UTF-8 bytes included.
    fn validate_cached(&self, token: &[u8]) -> Option<Result<ValidatedToken, SeamError>> {
        let _ = token;
        None
    }
}

// The same trait through a reference, a box or an `Arc`: every method
// forwarded, the provided ones included (a default left in place would be
// answered by the wrapper, not the validator).
macro_rules! forward_token_validator {
    ($($ty:ty),*) => {$(
        #[async_trait]
        impl<T: TokenValidator + ?Sized> TokenValidator for $ty {
            async fn validate(&self, token: &str) -> Result<ValidatedToken, SeamError> {
                (**self).validate(token).await
            }
            fn validate_cached(&self, token: &[u8]) -> Option<Result<ValidatedToken, SeamError>> {
                (**self).validate_cached(token)
            }
        }
    )*};
}
forward_token_validator!(&T, Box<T>, Arc<T>);

/// Exchanges a validated user token for a token to a downstream API, as the same
/// user (On-Behalf-Of).
///
/// Implementations must refuse app-only assertions, must never cache an error or
/// a response to a request carrying a claims challenge, and must carry Conditional
/// Access `claims` challenges back in their error
/// ([`AuthError::claims_challenge`]). Implemented by `entra_obo::Obo`; hosts hold
/// an `Arc<dyn TokenExchanger>`.
#[async_trait]
pub trait TokenExchanger: Send + Sync {
    /// A token for `target` on behalf of the user of `user_token`.
    ///
    /// # Errors
    /// The implementation's error, erased: inspect it with the [`AuthError`]
    /// methods or [`SeamError::downcast_ref`].
    async fn exchange(
        &self,
        user_token: &ValidatedToken,
        target: &Target,
    ) -> Result<AccessToken, SeamError>;

    /// A token for `target` requested with the `claims` challenge (JSON text) a
    /// downstream API sent back (continuous access evaluation), bypassing any
    /// cache: the API refused a token like the cached one.
    ///
    /// The default, for exchangers that cannot send claims, returns an error
    /// carrying the same challenge ([`AuthError::claims_challenge`], code
    /// `insufficient_claims`), so that the client is asked to answer it.
    ///
    /// # Errors
    /// As [`TokenExchanger::exchange`].
    async fn exchange_with_claims(
        &self,
        user_token: &ValidatedToken,
        target: &Target,
        claims: &str,
    ) -> Result<AccessToken, SeamError> {
        let _ = (user_token, target);
        Err(SeamError::new(UnansweredChallenge(claims.to_owned())))
    }
}

/// The error of [`TokenExchanger::exchange_with_claims`] for an exchanger that
/// cannot send claims: the challenge goes back to the client.
#[derive(thiserror::Error)]
#[error("the token exchanger cannot request the claims a downstream api asked for")]
struct UnansweredChallenge(String);

impl fmt::Debug for UnansweredChallenge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnansweredChallenge").finish_non_exhaustive()
    }
}

impl AuthError for UnansweredChallenge {
    fn is_unauthorized(&self) -> bool {
        true
    }
    fn is_transient(&self) -> bool {
        false
    }
    fn is_config(&self) -> bool {
        false
    }
    fn code(&self) -> &'static str {
        "insufficient_claims"
    }
    fn claims_challenge(&self) -> Option<&str> {
        Some(&self.0)
    }
}

macro_rules! forward_token_exchanger {
    ($($ty:ty),*) => {$(
        #[async_trait]
        impl<T: TokenExchanger + ?Sized> TokenExchanger for $ty {
            async fn exchange(
                &self,
                user_token: &ValidatedToken,
                target: &Target,
            ) -> Result<AccessToken, SeamError> {
                (**self).exchange(user_token, target).await
            }
            async fn exchange_with_claims(
                &self,
                user_token: &ValidatedToken,
                target: &Target,
                claims: &str,
            ) -> Result<AccessToken, SeamError> {
                (**self).exchange_with_claims(user_token, target, claims).await
            }
        }
    )*};
}
forward_token_exchanger!(&T, Box<T>, Arc<T>);

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

macro_rules! forward_token_cache {
    ($($ty:ty),*) => {$(
        #[async_trait]
        impl<T: TokenCache + ?Sized> TokenCache for $ty {
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
    )*};
}
forward_token_cache!(&T, Box<T>, Arc<T>);

/// A sign-in that has started and not yet come back: what the callback needs.
///
/// The `nonce` and the PKCE verifier are [`Secret`]s: they never print. A
/// [`LoginStateStore`] that serializes a pending login (to Redis, a cookie) writes
/// them in clear as plain strings, so such a store must keep its entries
/// server-side or encrypt them.
///
/// ```
/// use entra_core::{PendingLogin, Secret};
///
/// let login = PendingLogin::new(
///     Secret::new("nonce-1"),
///     Secret::new("verifier-1"),
///     "/reports".into(),
///     "https://app.example.com/callback".into(),
///     1_700_000_000,
/// );
/// assert!(!format!("{login:?}").contains("nonce-1"));
/// let stored = serde_json::to_string(&login)?;
/// let back: PendingLogin = serde_json::from_str(&stored)?;
/// assert_eq!(back.pkce_verifier.expose_secret(), "verifier-1");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PendingLogin {
    /// The `nonce` sent in the authorization request.
    #[serde(serialize_with = "expose")]
    pub nonce: Secret,
    /// The PKCE code verifier.
    #[serde(serialize_with = "expose")]
    pub pkce_verifier: Secret,
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
        nonce: Secret,
        pkce_verifier: Secret,
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

/// Writes a secret of a [`PendingLogin`] for its store: the one place a
/// [`Secret`] is serialized.
fn expose<S: serde::Serializer>(secret: &Secret, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(secret.expose_secret())
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

macro_rules! forward_login_state_store {
    ($($ty:ty),*) => {$(
        #[async_trait]
        impl<T: LoginStateStore + ?Sized> LoginStateStore for $ty {
            async fn put(
                &self,
                state: &str,
                login: PendingLogin,
                ttl: Duration,
            ) -> Result<(), StoreError> {
                (**self).put(state, login, ttl).await
            }
            async fn take(&self, state: &str) -> Result<Option<PendingLogin>, StoreError> {
                (**self).take(state).await
            }
        }
    )*};
}
forward_login_state_store!(&T, Box<T>, Arc<T>);

/// Small secrets kept server-side for a while: take-once records (codes,
/// pending authorizations, rotated handles), records read many times (client
/// registrations) and counters (rate limits). The store behind entra-mcp's OAuth
/// facade; generic enough for any such state.
///
/// Keys are derived by the caller and never contain a raw secret (a code or a
/// handle is hashed first). Implementations must make
/// [`SecretStore::take`] take-once (of concurrent takes of one key, at most one
/// gets the value, on any replica), must not return a value after its TTL, should
/// bound their size, and must keep values they write outside the process
/// encrypted (entra-redis does).
#[async_trait]
pub trait SecretStore: Send + Sync + fmt::Debug {
    /// Stores `value` under `key` for `ttl`, replacing any value there.
    async fn put(&self, key: &str, value: Secret, ttl: Duration) -> Result<(), StoreError>;
    /// The value under `key`, if present and not expired; it stays stored.
    async fn get(&self, key: &str) -> Result<Option<Secret>, StoreError>;
    /// Removes and returns the value under `key`.
    async fn take(&self, key: &str) -> Result<Option<Secret>, StoreError>;
    /// Removes `key`. Defaults to a [`SecretStore::take`] whose value is dropped.
    async fn remove(&self, key: &str) -> Result<(), StoreError> {
        self.take(key).await.map(|_| ())
    }
    /// Adds one to the counter under `key` and returns its new value; the
    /// counter starts at 1 and disappears `window` after its first increment
    /// (a fixed window, for rate limits and quotas).
    ///
    /// Defaults to a read and a write through [`SecretStore::get`] and
    /// [`SecretStore::put`], which is not atomic and restarts the window at
    /// each write: a store shared by several processes should override it (Redis:
    /// `INCR` and `PEXPIRE ... NX`).
    async fn increment(&self, key: &str, window: Duration) -> Result<u64, StoreError> {
        let now = self
            .get(key)
            .await?
            .and_then(|v| v.expose_secret().parse::<u64>().ok())
            .unwrap_or(0)
            .saturating_add(1);
        self.put(key, Secret::new(now.to_string()), window).await?;
        Ok(now)
    }
}

macro_rules! forward_secret_store {
    ($($ty:ty),*) => {$(
        #[async_trait]
        impl<T: SecretStore + ?Sized> SecretStore for $ty {
            async fn put(&self, key: &str, value: Secret, ttl: Duration) -> Result<(), StoreError> {
                (**self).put(key, value, ttl).await
            }
            async fn get(&self, key: &str) -> Result<Option<Secret>, StoreError> {
                (**self).get(key).await
            }
            async fn take(&self, key: &str) -> Result<Option<Secret>, StoreError> {
                (**self).take(key).await
            }
            async fn remove(&self, key: &str) -> Result<(), StoreError> {
                (**self).remove(key).await
            }
            async fn increment(&self, key: &str, window: Duration) -> Result<u64, StoreError> {
                (**self).increment(key, window).await
            }
        }
    )*};
}
forward_secret_store!(&T, Box<T>, Arc<T>);

/// Checks a crate's list of error codes: unique, non-empty `snake_case`.
#[cfg(test)]
pub(crate) fn assert_codes_well_formed(codes: &[&str]) {
    let mut seen = std::collections::HashSet::new();
    for code in codes {
        assert!(seen.insert(*code), "duplicate code {code}");
        assert!(
            !code.is_empty()
                && code.starts_with(|c: char| c.is_ascii_lowercase())
                && !code.ends_with('_')
                && !code.contains("__")
                && code.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
            "code {code} is not snake_case"
        );
    }
}

#[cfg(test)]
mod tests;
