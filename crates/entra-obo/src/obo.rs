//! The On-Behalf-Of client.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use entra_core::http::HttpClient;
use entra_core::{
    AccessToken, Authority, ClientCredential, ClientId, Clock, SeamError, Secret, SystemClock,
    Target, TokenCache, TokenExchanger, ValidatedToken,
};
use futures_util::FutureExt;
use futures_util::future::{BoxFuture, Shared};

use crate::cache::{decode, encode, usable};
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

type Flight = Shared<BoxFuture<'static, Result<AccessToken>>>;

pub(crate) struct Inner {
    pub(crate) authority: Authority,
    pub(crate) client_id: ClientId,
    pub(crate) credential: ClientCredential,
    pub(crate) http: HttpClient,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) retry: RetryPolicy,
    cache: Arc<dyn TokenCache>,
    skew: Duration,
    apis: HashMap<String, Target>,
    inflight: Mutex<HashMap<String, Flight>>,
}

/// Builds an [`Obo`]; see [`Obo::builder`].
#[must_use]
pub struct OboBuilder {
    authority: Authority,
    client_id: ClientId,
    credential: ClientCredential,
    http: Option<reqwest::Client>,
    cache: Option<Arc<dyn TokenCache>>,
    clock: Arc<dyn Clock>,
    skew: Duration,
    retry: RetryPolicy,
    apis: HashMap<String, Target>,
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
            clock: Arc::new(SystemClock),
            skew: Duration::from_secs(300),
            retry: RetryPolicy::default(),
            apis: HashMap::new(),
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
        let key = self.cache_key(user_token, tenant, &scopes);
        if let Err(e) = self.inner.cache.remove(&key).await {
            tracing::warn!(error = %e, "token cache remove failed");
        }
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

    /// `obo:<client id>:<tenant>:<hex SHA-256 of the assertion>:<scopes>`: no token
    /// in it, and the SHA-256 was computed once when the token was validated.
    fn cache_key(&self, user_token: &ValidatedToken, tenant: &str, scopes: &Scopes) -> String {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let client = self.inner.client_id.as_str();
        let scope_key = scopes.cache_key();
        let mut key = String::with_capacity(
            4 + client.len() + 1 + tenant.len() + 1 + 64 + 1 + scope_key.len(),
        );
        key.push_str("obo:");
        key.push_str(client);
        key.push(':');
        key.push_str(&tenant.to_ascii_lowercase());
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
        let scopes = self.scopes_for(target)?;
        let tenant = self.tenant_segment(user_token)?;
        let token_url = || self.token_url(tenant);
        if let Some(claims) = claims {
            // A claims challenge means the downstream API refused a token like the
            // cached one: drop it, so that other calls do not keep receiving it.
            let key = self.cache_key(user_token, tenant, &scopes);
            if let Err(e) = self.inner.cache.remove(&key).await {
                tracing::warn!(error = %e, "token cache remove failed");
            }
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
        let key = self.cache_key(user_token, tenant, &scopes);
        if let Some(token) = self.inner.cached(&key).await {
            return Ok(token);
        }
        let flight = {
            let mut inflight = self.inner.inflight.lock().unwrap_or_else(PoisonError::into_inner);
            match inflight.get(&key) {
                Some(flight) => flight.clone(),
                None => {
                    // The request runs in its own task: it completes (and leaves
                    // the map) even when every caller waiting for it goes away.
                    let runtime = tokio::runtime::Handle::try_current()
                        .map_err(|_| Error::ExchangeTask { reason: "no tokio runtime" })?;
                    let task = runtime.spawn(Inner::fetch(
                        self.inner.clone(),
                        key.clone(),
                        token_url(),
                        user_token.raw().clone(),
                        scopes,
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
                    inflight.insert(key, flight.clone());
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

/// Removes a flight from the in-flight map when it ends, however it ends.
struct Landing {
    inner: Arc<Inner>,
    key: String,
}

impl Drop for Landing {
    fn drop(&mut self) {
        self.inner.inflight.lock().unwrap_or_else(PoisonError::into_inner).remove(&self.key);
    }
}

impl Inner {
    async fn cached(&self, key: &str) -> Option<AccessToken> {
        let stored = match self.cache.get(key).await {
            Ok(stored) => stored?,
            Err(e) => {
                tracing::warn!(error = %e, "token cache read failed; requesting a new token");
                return None;
            }
        };
        decode(&stored).filter(|t| usable(t, self.clock.now(), self.skew))
    }

    /// The one request of a flight: checks the cache again (a flight that just
    /// landed may have filled it), requests, caches the token.
    async fn fetch(
        inner: Arc<Self>,
        key: String,
        token_url: String,
        assertion: Secret,
        scopes: Scopes,
    ) -> Result<AccessToken> {
        let _landing = Landing { inner: inner.clone(), key: key.clone() };
        if let Some(token) = inner.cached(&key).await {
            return Ok(token);
        }
        let issued = request::exchange(&inner, &token_url, &assertion, &scopes, None).await?;
        if let Some(ttl) = issued.expires_in.checked_sub(inner.skew).filter(|t| !t.is_zero())
            && let Err(e) = inner.cache.put(&key, encode(&issued.token), ttl).await
        {
            tracing::warn!(error = %e, "token cache write failed");
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
                skew: self.skew,
                apis: self.apis,
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
