//! The On-Behalf-Of client.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use entra_core::http::HttpClient;
use entra_core::{
    AccessToken, Authority, ClientCredential, ClientId, Clock, IdentityKey, SeamError, Secret,
    SystemClock, Target, TokenCache, TokenExchanger, ValidatedToken,
};
use futures_util::FutureExt;
use futures_util::future::{BoxFuture, Shared};

use crate::cache::{decode, encode, usable};
use crate::hot::HotTokens;
use crate::request::{self, RetryPolicy};
use crate::{Error, MemoryTokenCache, Result, Scopes};

/// Exchanges validated user tokens for tokens to downstream APIs, as the same user
/// (Microsoft Entra's On-Behalf-Of flow), with caching, single-flight, retries and
/// claims challenges.
///
/// Cheap to clone (an `Arc` inside), `Send + Sync`, without type parameters: keep
/// one in your server's state. See the [crate documentation](crate) for an example.
#[derive(Clone)]
pub struct Obo {
    pub(crate) inner: Arc<Inner>,
}

/// The default of [`OboBuilder::thread_cache`]: 32 sets of 8, so that 64
/// distinct (user, resource) tokens per thread stay with high probability.
pub(crate) const DEFAULT_THREAD_CACHE: usize = 256;

type Flight = Shared<BoxFuture<'static, Result<AccessToken>>>;

/// A request in flight for one cache key, and whether a claims exchange for the
/// same key has overtaken it (then its token is returned to its callers but
/// never cached: Conditional Access just refused tokens like it).
#[derive(Clone)]
struct InFlight {
    flight: Flight,
    overtaken: Arc<AtomicBool>,
}

pub(crate) struct Inner {
    pub(crate) authority: Authority,
    pub(crate) client_id: ClientId,
    pub(crate) credential: ClientCredential,
    pub(crate) http: HttpClient,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) retry: RetryPolicy,
    cache: Arc<dyn TokenCache>,
    /// Per-thread copies of what `cache` answered (`None` when turned off).
    hot: Option<HotTokens>,
    skew: Duration,
    apis: HashMap<String, Target>,
    client_capabilities: Vec<String>,
    inflight: Mutex<HashMap<String, InFlight>>,
}

/// Builds an [`Obo`]; see [`Obo::builder`].
#[must_use]
pub struct OboBuilder {
    authority: Authority,
    client_id: ClientId,
    credential: ClientCredential,
    http: Option<reqwest::Client>,
    cache: Option<Arc<dyn TokenCache>>,
    thread_cache: usize,
    clock: Arc<dyn Clock>,
    skew: Duration,
    retry: RetryPolicy,
    apis: HashMap<String, Target>,
    client_capabilities: Vec<String>,
}

impl Obo {
    /// Starts building a client for the app `client_id` (the middle-tier API that
    /// received the user's token) registered at `authority`, authenticating with
    /// `credential`.
    ///
    /// With a `common` or `organizations` authority (a multi-tenant app), each
    /// request goes to the token endpoint of the user's own tenant (the token's
    /// `tid`).
    pub fn builder(
        authority: Authority,
        client_id: ClientId,
        credential: ClientCredential,
    ) -> OboBuilder {
        OboBuilder {
            authority,
            client_id,
            credential,
            http: None,
            cache: None,
            thread_cache: DEFAULT_THREAD_CACHE,
            clock: Arc::new(SystemClock),
            skew: Duration::from_secs(300),
            retry: RetryPolicy::default(),
            apis: HashMap::new(),
            client_capabilities: Vec::new(),
        }
    }

    /// A token for `target` (a resource such as `https://graph.microsoft.com`, whose
    /// `.default` scope is requested, or explicit scopes of one resource) on behalf
    /// of the user of `user_token`.
    ///
    /// A cached token is returned while it has more than the expiry skew left;
    /// concurrent callers missing the same entry share one request.
    ///
    /// # Errors
    /// Before any request: [`Error::AppOnlyToken`], [`Error::MissingTenant`] and
    /// the scope errors ([`Error::NoScopes`], [`Error::MultipleResources`],
    /// [`Error::DefaultWithOtherScopes`], [`Error::MalformedScope`]). From Entra:
    /// [`Error::InteractionRequired`] (with a claims challenge),
    /// [`Error::ConsentRequired`], [`Error::InvalidScope`],
    /// [`Error::InvalidClientCredential`], [`Error::WrongAudience`] and the other
    /// variants; [`Error::Throttled`], [`Error::Unavailable`] and
    /// [`Error::Transport`] once the retries are spent.
    pub async fn exchange_on_behalf_of(
        &self,
        user_token: &ValidatedToken,
        target: impl Into<Target>,
    ) -> Result<AccessToken> {
        self.exchange_target(user_token, &target.into(), None).await
    }

    /// Like [`Obo::exchange_on_behalf_of`], passing a claims challenge (JSON text,
    /// for example from a downstream API's `WWW-Authenticate`, see
    /// [`crate::ClaimsChallenge::from_header_value`]). Such a request never reads
    /// nor fills the cache, and it first removes the cached token of this user and
    /// target: the challenge says the downstream API refused it, so the next plain
    /// exchange requests a new one.
    ///
    /// # Errors
    /// As [`Obo::exchange_on_behalf_of`].
    pub async fn exchange_with_claims(
        &self,
        user_token: &ValidatedToken,
        target: impl Into<Target>,
        claims: &str,
    ) -> Result<AccessToken> {
        self.exchange_target(user_token, &target.into(), Some(claims)).await
    }

    /// A token for the downstream API configured under `name` (see
    /// [`OboBuilder::downstream_api`]).
    ///
    /// # Errors
    /// [`Error::UnknownApi`] when no API has that name; otherwise as
    /// [`Obo::exchange_on_behalf_of`].
    pub async fn exchange_for(
        &self,
        name: &str,
        user_token: &ValidatedToken,
    ) -> Result<AccessToken> {
        let target = self
            .inner
            .apis
            .get(name)
            .ok_or_else(|| Error::UnknownApi { name: crate::error::shorten(name) })?;
        self.exchange_target(user_token, target, None).await
    }

    /// The scopes that a request for `target` would carry, checked as an exchange
    /// checks them.
    ///
    /// # Errors
    /// The scope errors of [`Obo::exchange_on_behalf_of`].
    pub fn scopes_for(&self, target: &Target) -> Result<Scopes> {
        Scopes::build(target, self.inner.authority.cloud())
    }

    /// Removes the cached token of this user and target, for example after the
    /// downstream API refused it.
    ///
    /// # Errors
    /// As [`Obo::exchange_on_behalf_of`] for the checks; cache failures are ignored.
    pub async fn forget(
        &self,
        user_token: &ValidatedToken,
        target: impl Into<Target>,
    ) -> Result<()> {
        let scopes = self.scopes_for(&target.into())?;
        let tenant = self.tenant_segment(user_token)?;
        let user = user_identity(user_token)?;
        let key = self.cache_key(user_token, tenant, &user, &scopes);
        self.inner.remove(&key).await;
        Ok(())
    }

    /// The app's client id.
    pub fn client_id(&self) -> &ClientId {
        &self.inner.client_id
    }

    /// The configured authority.
    pub fn authority(&self) -> &Authority {
        &self.inner.authority
    }

    fn tenant_segment<'a>(&'a self, user_token: &'a ValidatedToken) -> Result<&'a str> {
        if self.inner.authority.tenant().is_multi_tenant() {
            let tid = user_token.claims().tid.as_deref().ok_or(Error::MissingTenant)?;
            if entra_core::TenantId::parse(tid).is_err() {
                return Err(Error::MissingTenant);
            }
            Ok(tid)
        } else {
            Ok(self.inner.authority.tenant().as_segment())
        }
    }

    /// `obo:<client id>:<tenant>:<tid>:<oid>:<hex SHA-256 of the assertion>:<scopes>`:
    /// no token in it, the SHA-256 was computed once when the token was
    /// validated, and the user's identity is part of the key (and checked again
    /// against the stored value), so one user's entry never answers another's,
    /// whatever the hash.
    fn cache_key(
        &self,
        user_token: &ValidatedToken,
        tenant: &str,
        user: &IdentityKey,
        scopes: &Scopes,
    ) -> String {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let client = self.inner.client_id.as_str();
        let scope_key = scopes.cache_key();
        let (tid, oid) = (user.tid.as_str(), user.oid.as_str());
        let mut key = String::with_capacity(
            4 + client.len() + tenant.len() + tid.len() + oid.len() + 64 + scope_key.len() + 5,
        );
        key.push_str("obo:");
        key.push_str(client);
        key.push(':');
        key.extend(tenant.chars().map(|c| c.to_ascii_lowercase()));
        key.push(':');
        key.push_str(tid);
        key.push(':');
        key.push_str(oid);
        key.push(':');
        for b in user_token.sha256() {
            key.push(char::from(HEX[usize::from(b >> 4)]));
            key.push(char::from(HEX[usize::from(b & 0xf)]));
        }
        key.push(':');
        key.push_str(scope_key);
        key
    }

    async fn exchange_target(
        &self,
        user_token: &ValidatedToken,
        target: &Target,
        claims: Option<&str>,
    ) -> Result<AccessToken> {
        if user_token.claims().is_app_only() {
            return Err(Error::AppOnlyToken { response: None });
        }
        let hot = self.inner.hot.as_ref().filter(|_| claims.is_none());
        if let Some(token) = hot.and_then(|h| h.get(user_token, target, self.inner.clock.now())) {
            return Ok(token);
        }
        let scopes = self.scopes_for(target)?;
        let tenant = self.tenant_segment(user_token)?;
        let user = user_identity(user_token)?;
        let token_url = || self.token_url(tenant);
        let key = self.cache_key(user_token, tenant, &user, &scopes);
        if let Some(claims) = claims {
            // A claims challenge means the downstream API refused a token like the
            // cached one: a plain request already in flight must not cache its
            // answer, and the cached token goes, so that other calls do not keep
            // receiving it. (The flight also checks after its write: see `fetch`.)
            let overtaken =
                self.inner.inflight.lock().unwrap_or_else(PoisonError::into_inner).remove(&key);
            if let Some(flight) = overtaken {
                flight.overtaken.store(true, Ordering::SeqCst);
            }
            self.inner.remove(&key).await;
            let issued = request::exchange(
                &self.inner,
                &token_url(),
                user_token.raw(),
                &scopes,
                Some(claims),
            )
            .await?;
            return Ok(issued.token);
        }
        // The generation is read before the token cache: a token read there
        // before a removal is then not kept after it.
        let ticket = hot.and_then(|h| h.ticket(user_token, target));
        if let Some(token) = self.inner.cached(&key, &user).await {
            if let (Some(hot), Some(ticket)) = (hot, &ticket) {
                hot.keep(ticket, &token, self.inner.skew);
            }
            return Ok(token);
        }
        let flight = {
            let mut inflight = self.inner.inflight.lock().unwrap_or_else(PoisonError::into_inner);
            match inflight.get(&key) {
                Some(in_flight) => in_flight.flight.clone(),
                None => {
                    // The request runs in its own task: it completes (and leaves
                    // the map) even when every caller waiting for it goes away.
                    let runtime = tokio::runtime::Handle::try_current()
                        .map_err(|_| Error::ExchangeTask { reason: "no tokio runtime" })?;
                    let overtaken = Arc::new(AtomicBool::new(false));
                    let task = runtime.spawn(Inner::fetch(
                        self.inner.clone(),
                        Fetch {
                            key: key.clone(),
                            user,
                            token_url: token_url(),
                            assertion: user_token.raw().clone(),
                            scopes,
                            overtaken: overtaken.clone(),
                        },
                    ));
                    let flight = async move {
                        task.await.unwrap_or_else(|e| {
                            Err(Error::ExchangeTask {
                                reason: if e.is_panic() { "panicked" } else { "cancelled" },
                            })
                        })
                    }
                    .boxed()
                    .shared();
                    inflight.insert(key, InFlight { flight: flight.clone(), overtaken });
                    flight
                }
            }
        };
        flight.await
    }

    /// How many distinct requests are in flight (for tests of the single-flight map).
    #[doc(hidden)]
    pub fn in_flight(&self) -> usize {
        self.inner.inflight.lock().unwrap_or_else(PoisonError::into_inner).len()
    }

    fn token_url(&self, tenant: &str) -> String {
        let a = &self.inner.authority;
        if a.tenant().as_segment() == tenant {
            return a.token_url();
        }
        match entra_core::TenantId::parse(tenant) {
            Ok(tid) => a.for_tenant(&tid).token_url(),
            Err(_) => a.token_url(),
        }
    }
}

/// The user's (tid, oid), which every OBO cache entry is bound to.
fn user_identity(user_token: &ValidatedToken) -> Result<IdentityKey> {
    user_token.claims().identity_key().ok_or(Error::MissingTenant)
}

/// What one flight requests.
struct Fetch {
    key: String,
    user: IdentityKey,
    token_url: String,
    assertion: Secret,
    scopes: Scopes,
    overtaken: Arc<AtomicBool>,
}

/// Removes a flight from the in-flight map when it ends, however it ends (unless
/// a claims exchange removed it first and a newer flight took its place).
struct Landing {
    inner: Arc<Inner>,
    key: String,
    overtaken: Arc<AtomicBool>,
}

impl Drop for Landing {
    fn drop(&mut self) {
        let mut inflight = self.inner.inflight.lock().unwrap_or_else(PoisonError::into_inner);
        if inflight.get(&self.key).is_some_and(|f| Arc::ptr_eq(&f.overtaken, &self.overtaken)) {
            inflight.remove(&self.key);
        }
    }
}

impl Inner {
    /// Removes `key` from the token cache, then drops every thread's copies
    /// (in this order: a copy read before the removal is then not kept).
    async fn remove(&self, key: &str) {
        if let Err(e) = self.cache.remove(key).await {
            tracing::warn!(error = %e, "token cache remove failed");
        }
        if let Some(hot) = &self.hot {
            hot.clear();
        }
    }

    async fn cached(&self, key: &str, user: &IdentityKey) -> Option<AccessToken> {
        let stored = match self.cache.get(key).await {
            Ok(stored) => stored?,
            Err(e) => {
                tracing::warn!(error = %e, "token cache read failed; requesting a new token");
                return None;
            }
        };
        decode(&stored, user).filter(|t| usable(t, self.clock.now(), self.skew))
    }

    /// The `claims` parameter of a token request: the challenge being answered,
    /// if any, with the declared client capabilities merged in
    /// (`{"access_token":{"xms_cc":{"values":["cp1"]}}}`). A challenge that is not
    /// a JSON object is sent as it came.
    pub(crate) fn claims_param(&self, challenge: Option<&str>) -> Option<String> {
        if self.client_capabilities.is_empty() {
            return challenge.map(str::to_owned);
        }
        let mut claims = match challenge.map(serde_json::from_str::<serde_json::Value>) {
            None => serde_json::Value::Object(serde_json::Map::new()),
            Some(Ok(value @ serde_json::Value::Object(_))) => value,
            Some(_) => return challenge.map(str::to_owned),
        };
        let capabilities = serde_json::json!({ "values": self.client_capabilities });
        match claims.get_mut("access_token") {
            Some(serde_json::Value::Object(access)) => {
                access.entry("xms_cc").or_insert(capabilities);
            }
            Some(_) => return challenge.map(str::to_owned),
            None => {
                claims["access_token"] = serde_json::json!({ "xms_cc": capabilities });
            }
        }
        Some(claims.to_string())
    }

    /// The one request of a flight: checks the cache again (a flight that just
    /// landed may have filled it), requests, caches the token unless a claims
    /// exchange overtook the flight.
    async fn fetch(inner: Arc<Self>, f: Fetch) -> Result<AccessToken> {
        let _landing =
            Landing { inner: inner.clone(), key: f.key.clone(), overtaken: f.overtaken.clone() };
        if let Some(token) = inner.cached(&f.key, &f.user).await {
            return Ok(token);
        }
        let issued = request::exchange(&inner, &f.token_url, &f.assertion, &f.scopes, None).await?;
        let overtaken = || f.overtaken.load(Ordering::SeqCst);
        if let Some(ttl) = issued.expires_in.checked_sub(inner.skew).filter(|t| !t.is_zero())
            && !overtaken()
        {
            if let Err(e) = inner.cache.put(&f.key, encode(&issued.token, &f.user), ttl).await {
                tracing::warn!(error = %e, "token cache write failed");
            }
            // A claims exchange that started during the write removed the entry
            // before it was written: remove it again.
            if overtaken() {
                inner.remove(&f.key).await;
            }
        }
        Ok(issued.token)
    }
}

#[async_trait]
impl TokenExchanger for Obo {
    async fn exchange(
        &self,
        user_token: &ValidatedToken,
        target: &Target,
    ) -> Result<AccessToken, SeamError> {
        self.exchange_target(user_token, target, None).await.map_err(SeamError::new)
    }

    async fn exchange_with_claims(
        &self,
        user_token: &ValidatedToken,
        target: &Target,
        claims: &str,
    ) -> Result<AccessToken, SeamError> {
        self.exchange_target(user_token, target, Some(claims)).await.map_err(SeamError::new)
    }
}

impl fmt::Debug for Obo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Obo")
            .field("authority", &self.inner.authority)
            .field("client_id", &self.inner.client_id)
            .field("credential", &self.inner.credential)
            .field("cache", &self.inner.cache)
            .field("apis", &self.inner.apis.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl OboBuilder {
    /// The HTTP client (proxies, root certificates, connection pool). Defaults to
    /// the [`entra_core::http::HttpClient::new`] client (rustls, no redirects, 10 s
    /// connect and 30 s total timeouts, a `User-Agent`).
    ///
    /// Build a host-supplied client with
    /// `.redirect(reqwest::redirect::Policy::none())`: a client that follows
    /// redirects would resend the request body (the client secret or assertion and
    /// the user's token) to wherever a 307 or 308 points. A redirect that reaches
    /// this crate is refused with [`Error::InvalidResponse`].
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// Where tokens are cached. Defaults to a [`MemoryTokenCache`] of 10,000 entries.
    pub fn cache(mut self, cache: impl TokenCache + 'static) -> Self {
        self.cache = Some(Arc::new(cache));
        self
    }

    /// How many tokens each thread keeps in its own front of the cache (0 turns
    /// it off). Defaults to 256.
    ///
    /// The entries are kept in sets of 8 (or fewer, for fewer than 8 entries)
    /// picked by a hash of the key, so the number is rounded down to whole sets,
    /// and a set that is full replaces its own oldest entry: a thread reliably
    /// keeps about a quarter of this many distinct tokens. Each entry is a copy
    /// of one access token (a few KB).
    ///
    /// A hit there writes no memory shared with other threads (no lock, no
    /// shared reference count), so hits scale with the cores. Each thread keeps
    /// copies of the tokens it read from the cache ([`OboBuilder::cache`], which
    /// stays the source of truth) until their expiry minus the skew; the copies
    /// of every thread are dropped whenever this client removes a cached token
    /// ([`Obo::forget`], [`Obo::exchange_with_claims`]). A token removed from a
    /// shared cache (Redis) by *another* process stays in this process's copies
    /// until its expiry: turn this off if that matters.
    pub fn thread_cache(mut self, tokens_per_thread: usize) -> Self {
        self.thread_cache = tokens_per_thread;
        self
    }

    /// The clock deciding whether a cached token is still fresh. Defaults to
    /// [`SystemClock`].
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// How long before its expiry a cached token stops being returned (and how much
    /// shorter than `expires_in` it is cached for; a token living less than this
    /// is returned but not cached). Defaults to 5 minutes.
    pub fn expiry_skew(mut self, skew: Duration) -> Self {
        self.skew = skew;
        self
    }

    /// The timeout of each HTTP request. Defaults to 10 seconds.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.retry.request_timeout = timeout;
        self
    }

    /// How many times a request is sent at most (1 = no retries), for 429, 5xx and
    /// network failures. Defaults to `3`.
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.retry.max_attempts = attempts.max(1);
        self
    }

    /// The first backoff between attempts (doubling, with jitter, up to `max`),
    /// used when Entra sends no `Retry-After`. Defaults to 500 ms and 8 s.
    pub fn backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.retry.initial_backoff = initial;
        self.retry.max_backoff = max.max(initial);
        self
    }

    /// The largest token endpoint response body read, in bytes; a longer one is
    /// refused with [`Error::InvalidResponse`]. Defaults to 64 KiB.
    pub fn max_response_size(mut self, bytes: usize) -> Self {
        self.retry.max_response_size = bytes;
        self
    }

    /// The total time an exchange may spend on attempts and waits; a `Retry-After`
    /// beyond it ends the retries at once. Defaults to 30 seconds.
    pub fn retry_budget(mut self, budget: Duration) -> Self {
        self.retry.budget = budget;
        self
    }

    /// Names a downstream API for [`Obo::exchange_for`]: a resource identifier
    /// (`https://graph.microsoft.com`, `api://<app-id>`, the "managed resource
    /// identifier" of gateway configurations) or a list of scopes. Defaults to none.
    pub fn downstream_api(mut self, name: impl Into<String>, target: impl Into<Target>) -> Self {
        self.apis.insert(name.into(), target.into());
        self
    }

    /// Declares client capabilities (`cp1`: the app handles Continuous Access
    /// Evaluation claims challenges), sent on every token request as
    /// `claims={"access_token":{"xms_cc":{"values":[...]}}}` and merged into the
    /// claims of a challenge being answered. Entra then issues long-lived,
    /// revocable tokens and resource APIs may answer with CAE challenges.
    /// Defaults to none.
    pub fn client_capabilities<I, S>(mut self, capabilities: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.client_capabilities = capabilities.into_iter().map(Into::into).collect();
        self
    }

    /// Builds the client.
    ///
    /// # Errors
    /// [`Error::HttpClient`] when no client was given and the default one cannot be
    /// built; the scope errors when a downstream API's target is invalid.
    pub fn build(self) -> Result<Obo> {
        for target in self.apis.values() {
            Scopes::build(target, self.authority.cloud())?;
        }
        let http = HttpClient::or_default(self.http).map_err(|e| Error::HttpClient(e.into()))?;
        Ok(Obo {
            inner: Arc::new(Inner {
                authority: self.authority,
                client_id: self.client_id,
                credential: self.credential,
                http,
                clock: self.clock,
                retry: self.retry,
                cache: self.cache.unwrap_or_else(|| Arc::new(MemoryTokenCache::default())),
                hot: (self.thread_cache > 0).then(|| HotTokens::new(self.thread_cache)),
                skew: self.skew,
                apis: self.apis,
                client_capabilities: self.client_capabilities,
                inflight: Mutex::new(HashMap::new()),
            }),
        })
    }
}

impl fmt::Debug for OboBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OboBuilder")
            .field("authority", &self.authority)
            .field("client_id", &self.client_id)
            .field("credential", &self.credential)
            .finish_non_exhaustive()
    }
}
