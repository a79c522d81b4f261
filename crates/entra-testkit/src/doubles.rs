//! Test doubles for the seams of `entra-core`: a validator and an exchanger with
//! fixed answers, a recording token cache, and failing or tampering stores.
//!
//! They stand in for a dependency of the code under test, never for the code
//! under test itself: to test a validator, run it against [`crate::MockEntra`].
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! use std::sync::Arc;
//! use std::time::{Duration, SystemTime};
//!
//! use entra_core::{AccessToken, AuthError, Secret, TokenExchanger, TokenValidator};
//! use entra_testkit::doubles::{StaticError, StaticExchanger, StaticValidator};
//! use entra_testkit::{MockEntra, TestUser};
//!
//! let mock = MockEntra::start().await;
//! let alice = mock.add_user(TestUser::new("alice@contoso.com"));
//! let validator: Arc<dyn TokenValidator> =
//!     Arc::new(StaticValidator::accepting(mock.validated_token(&alice, &mock.default_api())));
//! let challenge = r#"{"access_token":{"acrs":{"essential":true,"value":"c1"}}}"#;
//! let exchanger: Arc<dyn TokenExchanger> = Arc::new(StaticExchanger::refusing(
//!     StaticError::unauthorized("interaction_required").with_claims_challenge(challenge),
//! ));
//!
//! let user = validator.validate("any text").await.unwrap();
//! let e = exchanger.exchange(&user, &"https://graph.microsoft.com".into()).await.unwrap_err();
//! assert!(e.is_unauthorized());
//! assert_eq!(e.claims_challenge(), Some(challenge));
//! # }
//! ```

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use entra_core::{
    AccessToken, AuthError, Clock, LoginStateStore, PendingLogin, SeamError, Secret, StoreError,
    SystemClock, Target, TokenCache, TokenExchanger, TokenValidator, ValidatedToken,
};

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Checks a crate's list of error codes: each is unique and a non-empty
/// `snake_case` word list (`token_expired`), as every `code()` must be.
///
/// # Panics
/// When a code is repeated or is not `snake_case`: this is an assertion for tests.
pub fn assert_error_codes(codes: &[&str]) {
    let mut seen = std::collections::HashSet::new();
    for code in codes {
        assert!(seen.insert(*code), "duplicate error code {code:?}");
        assert!(is_snake_case(code), "error code {code:?} is not snake_case");
    }
}

fn is_snake_case(code: &str) -> bool {
    code.starts_with(|c: char| c.is_ascii_lowercase())
        && !code.ends_with('_')
        && !code.contains("__")
        && code.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// What a [`StaticError`] says about itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Class {
    Unauthorized,
    Transient,
    Config,
    Other,
}

/// An [`AuthError`] with a chosen code and class, for the answers of
/// [`StaticValidator`] and [`StaticExchanger`].
#[derive(Clone, Debug)]
pub struct StaticError {
    code: &'static str,
    class: Class,
    claims: Option<String>,
    retry_after: Option<Duration>,
}

impl StaticError {
    fn new(code: &'static str, class: Class) -> Self {
        Self { code, class, claims: None, retry_after: None }
    }

    /// A refusal of the caller's token ([`AuthError::is_unauthorized`]).
    pub fn unauthorized(code: &'static str) -> Self {
        Self::new(code, Class::Unauthorized)
    }

    /// A failure of a dependency ([`AuthError::is_transient`]).
    pub fn transient(code: &'static str) -> Self {
        Self::new(code, Class::Transient)
    }

    /// A configuration problem ([`AuthError::is_config`]).
    pub fn config(code: &'static str) -> Self {
        Self::new(code, Class::Config)
    }

    /// An internal or upstream fault: none of the three classes.
    pub fn other(code: &'static str) -> Self {
        Self::new(code, Class::Other)
    }

    /// Carries a Conditional Access `claims` challenge
    /// ([`AuthError::claims_challenge`]).
    pub fn with_claims_challenge(mut self, claims: impl Into<String>) -> Self {
        self.claims = Some(claims.into());
        self
    }

    /// Carries a `Retry-After` delay ([`AuthError::retry_after`]).
    pub fn with_retry_after(mut self, delay: Duration) -> Self {
        self.retry_after = Some(delay);
        self
    }
}

impl fmt::Display for StaticError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (test double)", self.code)
    }
}

impl std::error::Error for StaticError {}

impl AuthError for StaticError {
    fn is_unauthorized(&self) -> bool {
        self.class == Class::Unauthorized
    }
    fn is_transient(&self) -> bool {
        self.class == Class::Transient
    }
    fn is_config(&self) -> bool {
        self.class == Class::Config
    }
    fn code(&self) -> &'static str {
        self.code
    }
    fn claims_challenge(&self) -> Option<&str> {
        self.claims.as_deref()
    }
    fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }
}

/// Builds the same error again for every call.
type MakeError = Arc<dyn Fn() -> SeamError + Send + Sync>;

fn maker(error: impl AuthError + Clone) -> MakeError {
    Arc::new(move || SeamError::new(error.clone()))
}

/// A [`TokenValidator`] that answers every token with the same validated token,
/// or the same error, and counts its calls.
#[derive(Clone)]
pub struct StaticValidator {
    answer: Result<ValidatedToken, MakeError>,
    calls: Arc<AtomicUsize>,
}

impl StaticValidator {
    /// Accepts every token as `user` (get one from
    /// [`crate::MockEntra::validated_token`]).
    pub fn accepting(user: ValidatedToken) -> Self {
        Self { answer: Ok(user), calls: Arc::default() }
    }

    /// Refuses every token with `error` (a [`StaticError`], or any cloneable
    /// [`AuthError`] such as `entra_obo::Error`).
    pub fn refusing(error: impl AuthError + Clone) -> Self {
        Self { answer: Err(maker(error)), calls: Arc::default() }
    }

    /// How many tokens it was asked to validate.
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl TokenValidator for StaticValidator {
    async fn validate(&self, _token: &str) -> Result<ValidatedToken, SeamError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        match &self.answer {
            Ok(user) => Ok(user.clone()),
            Err(make) => Err(make()),
        }
    }
}

impl fmt::Debug for StaticValidator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaticValidator")
            .field("accepts", &self.answer.is_ok())
            .field("calls", &self.calls())
            .finish_non_exhaustive()
    }
}

/// A [`TokenExchanger`] that answers every exchange with the same token, or the
/// same error, and records the targets it was asked for.
#[derive(Clone)]
pub struct StaticExchanger {
    answer: Result<AccessToken, MakeError>,
    targets: Arc<Mutex<Vec<Target>>>,
}

impl StaticExchanger {
    /// Issues `token` for every exchange.
    pub fn issuing(token: AccessToken) -> Self {
        Self { answer: Ok(token), targets: Arc::default() }
    }

    /// Fails every exchange with `error` (a [`StaticError`], or any cloneable
    /// [`AuthError`] such as `entra_obo::Error`).
    pub fn refusing(error: impl AuthError + Clone) -> Self {
        Self { answer: Err(maker(error)), targets: Arc::default() }
    }

    /// How many exchanges it was asked for.
    pub fn calls(&self) -> usize {
        lock(&self.targets).len()
    }

    /// The targets of the exchanges, in order.
    pub fn targets(&self) -> Vec<Target> {
        lock(&self.targets).clone()
    }
}

#[async_trait]
impl TokenExchanger for StaticExchanger {
    async fn exchange(
        &self,
        _user_token: &ValidatedToken,
        target: &Target,
    ) -> Result<AccessToken, SeamError> {
        lock(&self.targets).push(target.clone());
        match &self.answer {
            Ok(token) => Ok(token.clone()),
            Err(make) => Err(make()),
        }
    }
}

impl fmt::Debug for StaticExchanger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaticExchanger")
            .field("issues", &self.answer.is_ok())
            .field("calls", &self.calls())
            .finish_non_exhaustive()
    }
}

/// One operation a [`RecordingCache`] saw.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CacheOp {
    /// A read, and whether it found a live entry.
    Get {
        /// The key.
        key: String,
        /// Whether a live entry was there.
        hit: bool,
    },
    /// A write.
    Put {
        /// The key.
        key: String,
        /// The time to live asked for.
        ttl: Duration,
    },
    /// A removal.
    Remove {
        /// The key.
        key: String,
    },
}

/// An in-memory [`TokenCache`] that honours TTLs on its [`Clock`] and records
/// every operation, so tests can check keys and lifetimes.
#[derive(Clone)]
pub struct RecordingCache {
    entries: Arc<Mutex<HashMap<String, (Secret, i64)>>>,
    ops: Arc<Mutex<Vec<CacheOp>>>,
    clock: Arc<dyn Clock>,
}

impl RecordingCache {
    /// An empty cache on the system clock.
    pub fn new() -> Self {
        Self::with_clock(SystemClock)
    }

    /// An empty cache whose TTLs run on `clock`.
    pub fn with_clock(clock: impl Clock + 'static) -> Self {
        Self { entries: Arc::default(), ops: Arc::default(), clock: Arc::new(clock) }
    }

    /// Every operation so far, in order.
    pub fn ops(&self) -> Vec<CacheOp> {
        lock(&self.ops).clone()
    }

    /// The writes so far: key and TTL.
    pub fn puts(&self) -> Vec<(String, Duration)> {
        self.ops()
            .into_iter()
            .filter_map(|op| match op {
                CacheOp::Put { key, ttl } => Some((key, ttl)),
                _ => None,
            })
            .collect()
    }

    /// How many live entries it holds.
    pub fn len(&self) -> usize {
        let now = self.clock.unix_now();
        lock(&self.entries).values().filter(|(_, expires)| *expires > now).count()
    }

    /// Whether it holds no live entry.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Default for RecordingCache {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for RecordingCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecordingCache")
            .field("ops", &lock(&self.ops).len())
            .finish_non_exhaustive()
    }
}

fn seconds(ttl: Duration) -> i64 {
    i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX)
}

#[async_trait]
impl TokenCache for RecordingCache {
    async fn get(&self, key: &str) -> Result<Option<Secret>, StoreError> {
        let now = self.clock.unix_now();
        let value = lock(&self.entries)
            .get(key)
            .filter(|(_, expires)| *expires > now)
            .map(|(value, _)| value.clone());
        lock(&self.ops).push(CacheOp::Get { key: key.to_owned(), hit: value.is_some() });
        Ok(value)
    }

    async fn put(&self, key: &str, value: Secret, ttl: Duration) -> Result<(), StoreError> {
        let expires = self.clock.unix_now().saturating_add(seconds(ttl));
        lock(&self.entries).insert(key.to_owned(), (value, expires));
        lock(&self.ops).push(CacheOp::Put { key: key.to_owned(), ttl });
        Ok(())
    }

    async fn remove(&self, key: &str) -> Result<(), StoreError> {
        lock(&self.entries).remove(key);
        lock(&self.ops).push(CacheOp::Remove { key: key.to_owned() });
        Ok(())
    }
}

/// A [`TokenCache`] and [`LoginStateStore`] whose backend is down: every
/// operation fails with a [`StoreError`].
#[derive(Clone, Copy, Debug, Default)]
pub struct FailingStore;

fn down() -> StoreError {
    StoreError::new("failing test store", "the backend is down")
}

#[async_trait]
impl TokenCache for FailingStore {
    async fn get(&self, _: &str) -> Result<Option<Secret>, StoreError> {
        Err(down())
    }
    async fn put(&self, _: &str, _: Secret, _: Duration) -> Result<(), StoreError> {
        Err(down())
    }
    async fn remove(&self, _: &str) -> Result<(), StoreError> {
        Err(down())
    }
}

#[async_trait]
impl LoginStateStore for FailingStore {
    async fn put(&self, _: &str, _: PendingLogin, _: Duration) -> Result<(), StoreError> {
        Err(down())
    }
    async fn take(&self, _: &str) -> Result<Option<PendingLogin>, StoreError> {
        Err(down())
    }
}

/// A [`TokenCache`] shared with a hostile or broken writer: every read finds the
/// same value (corrupt, foreign or forged), whatever the key; writes are ignored.
#[derive(Clone)]
pub struct TamperingCache {
    value: Secret,
}

impl TamperingCache {
    /// Answers every read with `value`.
    pub fn returning(value: impl Into<Secret>) -> Self {
        Self { value: value.into() }
    }
}

impl fmt::Debug for TamperingCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TamperingCache").finish_non_exhaustive()
    }
}

#[async_trait]
impl TokenCache for TamperingCache {
    async fn get(&self, _: &str) -> Result<Option<Secret>, StoreError> {
        Ok(Some(self.value.clone()))
    }
    async fn put(&self, _: &str, _: Secret, _: Duration) -> Result<(), StoreError> {
        Ok(())
    }
    async fn remove(&self, _: &str) -> Result<(), StoreError> {
        Ok(())
    }
}

/// Changes a pending sign-in when it is taken.
type Tamper = Arc<dyn Fn(&mut PendingLogin) + Send + Sync>;

/// An in-memory [`LoginStateStore`] (take-once, TTL on its [`Clock`]) that changes
/// each pending sign-in as it is taken: another nonce, another PKCE verifier,
/// another return path, an older `created_at`. It checks that the code under test
/// does not trust its store.
#[derive(Clone)]
pub struct TamperingLoginStore {
    entries: Arc<Mutex<HashMap<String, (PendingLogin, i64)>>>,
    tamper: Tamper,
    ignore_ttl: bool,
    clock: Arc<dyn Clock>,
}

impl TamperingLoginStore {
    /// A store applying `tamper` to every pending sign-in it hands out.
    pub fn new(tamper: impl Fn(&mut PendingLogin) + Send + Sync + 'static) -> Self {
        Self {
            entries: Arc::default(),
            tamper: Arc::new(tamper),
            ignore_ttl: false,
            clock: Arc::new(SystemClock),
        }
    }

    /// Keeps entries past their TTL, so the caller's own age check is reached.
    pub fn ignoring_ttl(mut self) -> Self {
        self.ignore_ttl = true;
        self
    }

    /// Runs TTLs on `clock`. Defaults to the system clock.
    pub fn with_clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }
}

impl fmt::Debug for TamperingLoginStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TamperingLoginStore")
            .field("ignore_ttl", &self.ignore_ttl)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl LoginStateStore for TamperingLoginStore {
    async fn put(&self, state: &str, login: PendingLogin, ttl: Duration) -> Result<(), StoreError> {
        let expires = self.clock.unix_now().saturating_add(seconds(ttl));
        lock(&self.entries).insert(state.to_owned(), (login, expires));
        Ok(())
    }

    async fn take(&self, state: &str) -> Result<Option<PendingLogin>, StoreError> {
        let now = self.clock.unix_now();
        let entry = lock(&self.entries).remove(state);
        Ok(entry.filter(|(_, expires)| self.ignore_ttl || *expires > now).map(|(mut login, _)| {
            (self.tamper)(&mut login);
            login
        }))
    }
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use entra_core::ManualClock;

    use super::*;
    use crate::{MockEntra, TestUser};

    #[tokio::test]
    async fn static_doubles_answer_and_record() {
        let mock = MockEntra::start().await;
        let alice = mock.add_user(TestUser::new("alice@contoso.com"));
        let user = mock.validated_token(&alice, &mock.default_api());

        let accepting: Arc<dyn TokenValidator> = Arc::new(StaticValidator::accepting(user.clone()));
        assert_eq!(accepting.validate("x").await.unwrap().sha256(), user.sha256());
        let refusing = StaticValidator::refusing(
            StaticError::transient("keys_unavailable").with_retry_after(Duration::from_secs(5)),
        );
        let e = refusing.validate("x").await.unwrap_err();
        assert_eq!(
            (e.code(), e.is_transient(), e.retry_after()),
            ("keys_unavailable", true, Some(Duration::from_secs(5)))
        );
        assert!(refusing.validate("y").await.is_err());
        assert_eq!(refusing.calls(), 2);
        assert_eq!(e.to_string(), "keys_unavailable (test double)");

        let token = AccessToken::new(Secret::new("graph-token"), SystemTime::UNIX_EPOCH, vec![]);
        let issuing = StaticExchanger::issuing(token);
        let got = issuing.exchange(&user, &Target::from(["User.Read"])).await.unwrap();
        assert_eq!(got.secret.expose_secret(), "graph-token");
        assert_eq!(issuing.targets(), [Target::from(["User.Read"])]);
        let config = StaticExchanger::refusing(StaticError::config("invalid_scope"));
        let e = config.exchange(&user, &Target::from("api://x")).await.unwrap_err();
        assert!(e.is_config() && !e.is_unauthorized() && e.claims_challenge().is_none());
        assert_eq!(config.calls(), 1);
        assert!(StaticError::other("bug").code() == "bug");
    }

    #[tokio::test]
    async fn recording_cache_honours_ttl_and_records() {
        let clock = ManualClock::at_unix(1_000);
        let cache = RecordingCache::with_clock(clock.clone());
        cache.put("k", Secret::new("v"), Duration::from_secs(10)).await.unwrap();
        assert_eq!(cache.get("k").await.unwrap().unwrap().expose_secret(), "v");
        clock.advance(Duration::from_secs(10));
        assert!(cache.get("k").await.unwrap().is_none() && cache.is_empty());
        cache.remove("k").await.unwrap();
        assert_eq!(
            cache.ops(),
            [
                CacheOp::Put { key: "k".into(), ttl: Duration::from_secs(10) },
                CacheOp::Get { key: "k".into(), hit: true },
                CacheOp::Get { key: "k".into(), hit: false },
                CacheOp::Remove { key: "k".into() },
            ]
        );
        assert_eq!(cache.puts(), [("k".to_owned(), Duration::from_secs(10))]);
    }

    #[tokio::test]
    async fn failing_and_tampering_stores() {
        assert!(TokenCache::get(&FailingStore, "k").await.is_err());
        assert!(
            TokenCache::put(&FailingStore, "k", Secret::new("v"), Duration::ZERO).await.is_err()
        );
        assert!(LoginStateStore::take(&FailingStore, "s").await.is_err());
        let tampering = TamperingCache::returning("garbage");
        assert_eq!(tampering.get("any").await.unwrap().unwrap().expose_secret(), "garbage");

        let clock = ManualClock::at_unix(1_000);
        let store =
            TamperingLoginStore::new(|l| l.nonce = Secret::new("other")).with_clock(clock.clone());
        let login = || {
            PendingLogin::new(
                Secret::new("n"),
                Secret::new("v"),
                "/".into(),
                "http://x/cb".into(),
                0,
            )
        };
        store.put("s", login(), Duration::from_secs(60)).await.unwrap();
        assert_eq!(store.take("s").await.unwrap().unwrap().nonce.expose_secret(), "other");
        assert!(store.take("s").await.unwrap().is_none(), "taken once");
        store.put("s", login(), Duration::from_secs(60)).await.unwrap();
        clock.advance(Duration::from_secs(61));
        assert!(store.take("s").await.unwrap().is_none(), "expired");
        let lenient = store.clone().ignoring_ttl();
        lenient.put("s", login(), Duration::from_secs(60)).await.unwrap();
        clock.advance(Duration::from_secs(61));
        assert!(lenient.take("s").await.unwrap().is_some());
    }
}
