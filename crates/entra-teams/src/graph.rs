//! `GraphGroupSource`: a user's groups from Microsoft Graph
//! (`POST /v1.0/me/getMemberObjects`) with an On-Behalf-Of token.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use entra_core::http::{EndpointKind, HttpClient, HttpErrorKind, HttpRequest};
use entra_core::{Cloud, IdentityKey, Target, TokenExchanger, ValidatedToken};
use moka::future::Cache;
use serde::Deserialize;
use tokio::sync::watch;
use tracing::Instrument;

use crate::config::GraphConfig;
use crate::error::{Error, GROUP_MEMBER_READ_ALL, Result};
use crate::object_id::ObjectId;
use crate::source::GroupSource;

/// Builds a [`GraphGroupSource`].
pub struct GraphGroupSourceBuilder<X> {
    exchanger: X,
    graph_base: String,
    resource: Option<String>,
    client: Option<reqwest::Client>,
    config: GraphConfig,
}

impl<X> fmt::Debug for GraphGroupSourceBuilder<X> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GraphGroupSourceBuilder")
            .field("graph_base", &self.graph_base)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl<X: TokenExchanger> GraphGroupSourceBuilder<X> {
    /// A builder calling the Microsoft Graph of `cloud` ([`Cloud::graph_base`]), with
    /// Graph tokens from `exchanger` (typically `entra_obo::Obo`).
    pub fn new(exchanger: X, cloud: &Cloud) -> Self {
        Self {
            exchanger,
            graph_base: cloud.graph_base().to_owned(),
            resource: None,
            client: None,
            config: GraphConfig::default(),
        }
    }

    /// Takes the timeouts, caps and cache settings of `config` (the `graph`
    /// section of [`crate::Config`]). Defaults to [`GraphConfig::default`].
    #[must_use]
    pub fn config(mut self, config: &GraphConfig) -> Self {
        self.config = config.clone();
        self
    }

    /// The resource the Graph token is requested for. Defaults to the cloud's
    /// Graph base URL (`https://graph.microsoft.com` in the public cloud).
    #[must_use]
    pub fn resource(mut self, resource: impl Into<String>) -> Self {
        self.resource = Some(resource.into());
        self
    }

    /// The HTTP client (proxies, roots); build it with
    /// `.redirect(reqwest::redirect::Policy::none())`. Defaults to the
    /// [`entra_core::http::HttpClient::new`] client (no redirects, 10 s connect
    /// and 30 s total timeouts, a `User-Agent`).
    #[must_use]
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.client = Some(client);
        self
    }

    /// Whether only security groups are returned. Defaults to `true`.
    #[must_use]
    pub fn security_enabled_only(mut self, yes: bool) -> Self {
        self.config.security_enabled_only = yes;
        self
    }

    /// The timeout of each Graph request. Defaults to 10 seconds.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.config.timeout_secs = timeout.as_secs().max(1);
        self
    }

    /// The most groups accepted for one user. Defaults to `5000`.
    #[must_use]
    pub fn max_groups(mut self, max: usize) -> Self {
        self.config.max_groups = max;
        self
    }

    /// The most pages followed through `@odata.nextLink`. Defaults to `10`.
    #[must_use]
    pub fn max_pages(mut self, max: usize) -> Self {
        self.config.max_pages = max;
        self
    }

    /// The largest response body read from Graph, per page, in bytes; larger
    /// fails with [`Error::GraphResponseTooLarge`]. Defaults to 4 MiB.
    #[must_use]
    pub fn max_response_bytes(mut self, max: usize) -> Self {
        self.config.max_response_bytes = max;
        self
    }

    /// How long a user's groups are cached; zero disables the cache. Defaults to 5
    /// minutes.
    #[must_use]
    pub fn cache_ttl(mut self, ttl: Duration) -> Self {
        self.config.cache_ttl_secs = ttl.as_secs();
        self
    }

    /// Builds the source.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] when a bound is zero (see [`GraphConfig::validate`]);
    /// [`Error::GraphRequest`] when no client was given and the default one
    /// cannot be built.
    pub fn build(self) -> Result<GraphGroupSource<X>> {
        self.config.validate()?;
        let base = url::Url::parse(&self.graph_base)
            .map_err(|_| Error::config("graph base", "not a URL"))?;
        let cache = (self.config.cache_ttl_secs > 0).then(|| {
            Cache::builder()
                .max_capacity(self.config.cache_capacity)
                .time_to_live(Duration::from_secs(self.config.cache_ttl_secs))
                .build()
        });
        Ok(GraphGroupSource {
            exchanger: self.exchanger,
            target: Target::Resource(self.resource.unwrap_or_else(|| self.graph_base.clone())),
            origin: base.origin(),
            graph_base: self.graph_base,
            client: HttpClient::or_default(self.client).map_err(Error::GraphRequest)?,
            config: self.config,
            cache,
            inflight: Mutex::new(HashMap::new()),
        })
    }
}

/// Resolves a user's group object ids through Microsoft Graph on group overage.
///
/// It asks `X` (the [`TokenExchanger`] seam, implemented by `entra_obo::Obo`) for
/// a token for the configured cloud's Graph (On-Behalf-Of the user), then calls
/// `POST {graph}/v1.0/me/getMemberObjects` with `securityEnabledOnly`, following
/// `@odata.nextLink` (same host only, at most `max_pages` pages). The result is
/// cached per user (`tid`, `oid`) for `cache_ttl_secs`; errors are not cached.
/// Concurrent callers for a user not in the cache share one lookup.
/// The token's `_claim_sources` endpoint is never called.
///
/// One type parameter, the exchanger; hosts that want no type parameters wrap
/// it in `Arc<dyn GroupSource>` (what [`crate::TeamSyncBuilder::group_source`]
/// does).
///
/// The app needs the delegated Microsoft Graph permission `GroupMember.Read.All`
/// with admin consent; without it Graph answers 403 and this returns
/// [`Error::GraphForbidden`] naming the permission.
pub struct GraphGroupSource<X> {
    exchanger: X,
    target: Target,
    graph_base: String,
    origin: url::Origin,
    client: HttpClient,
    config: GraphConfig,
    cache: Option<Cache<IdentityKey, Arc<Vec<String>>>>,
    /// Lookups under way, per user: followers wait for the leader's groups.
    inflight: Mutex<HashMap<IdentityKey, Flight>>,
}

/// The outcome of a lookup under way: `None` while running, then `Some(groups)`
/// on success or `Some(None)` on failure (followers then look up themselves).
type Flight = watch::Receiver<Option<Option<Arc<Vec<String>>>>>;

/// Removes the leader's entry from the in-flight map when it finishes or is
/// cancelled (a cancelled leader drops its sender, which releases followers).
struct FlightGuard<'a> {
    map: &'a Mutex<HashMap<IdentityKey, Flight>>,
    key: &'a IdentityKey,
}

impl Drop for FlightGuard<'_> {
    fn drop(&mut self) {
        lock(self.map).remove(self.key);
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<X> fmt::Debug for GraphGroupSource<X> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GraphGroupSource")
            .field("graph_base", &self.graph_base)
            .field("target", &self.target)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct Page {
    #[serde(default)]
    value: Vec<String>,
    #[serde(rename = "@odata.nextLink", default)]
    next_link: Option<String>,
}

#[derive(Deserialize)]
struct GraphErrorBody {
    error: GraphErrorDetail,
}

#[derive(Deserialize)]
struct GraphErrorDetail {
    #[serde(default)]
    code: Option<String>,
}

fn error_code(body: &[u8]) -> Option<String> {
    let code = serde_json::from_slice::<GraphErrorBody>(body).ok()?.error.code?;
    // Keep only an identifier-like code: never echo a long or odd body.
    let ok = !code.is_empty()
        && code.len() <= 80
        && code.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    ok.then_some(code)
}

impl<X: TokenExchanger> GraphGroupSource<X> {
    /// A builder; see [`GraphGroupSourceBuilder::new`].
    pub fn builder(exchanger: X, cloud: &Cloud) -> GraphGroupSourceBuilder<X> {
        GraphGroupSourceBuilder::new(exchanger, cloud)
    }

    /// The exchanger.
    pub fn get_ref(&self) -> &X {
        &self.exchanger
    }

    /// Drops the cached groups of `user` (after a membership change).
    pub async fn invalidate(&self, user: &IdentityKey) {
        if let Some(cache) = &self.cache {
            cache.invalidate(user).await;
        }
    }

    async fn fetch(&self, user: &ValidatedToken) -> Result<Vec<String>> {
        let token =
            self.exchanger.exchange(user, &self.target).await.map_err(Error::graph_token)?;
        let timeout = Duration::from_secs(self.config.timeout_secs);
        let limit = self.config.max_response_bytes;
        let first = format!("{}/v1.0/me/getMemberObjects", self.graph_base);
        let body = serde_json::json!({ "securityEnabledOnly": self.config.security_enabled_only });
        let mut groups = Vec::new();
        let mut request = HttpRequest::post(EndpointKind::Graph, first).json(&body);
        let mut pages = 0usize;
        loop {
            pages += 1;
            let request_now = request
                .bearer(&token.secret)
                .map_err(Error::GraphRequest)?
                .timeout(timeout)
                .limit(limit);
            let response = self.client.send(request_now).await.map_err(|e| match e.kind() {
                // An error status keeps its meaning when its body is too large.
                HttpErrorKind::TooLarge { status, .. } if !(200..300).contains(status) => {
                    status_error(*status, None, None)
                }
                HttpErrorKind::TooLarge { .. } => Error::GraphResponseTooLarge { limit },
                HttpErrorKind::Redirected { status } => status_error(*status, None, None),
                _ => Error::GraphRequest(e),
            })?;
            let status = response.status();
            if !status.is_success() {
                // This source has no clock; the system time only reads an
                // HTTP-date `Retry-After`, reported to the caller, never slept on.
                let retry_after = response.retry_after(SystemTime::now());
                return Err(status_error(
                    status.as_u16(),
                    error_code(response.body()),
                    retry_after,
                ));
            }
            let page: Page =
                serde_json::from_slice(response.body()).map_err(Error::GraphResponse)?;
            for value in page.value {
                match ObjectId::try_parse(&value) {
                    Some(id) => groups.push(id.to_string()),
                    None => {
                        tracing::warn!("microsoft graph returned a non-GUID object id; ignored")
                    }
                }
                if groups.len() > self.config.max_groups {
                    return Err(Error::TooManyGroups { limit: self.config.max_groups });
                }
            }
            let Some(next) = page.next_link else { break };
            if pages >= self.config.max_pages {
                return Err(Error::TooManyPages { limit: self.config.max_pages });
            }
            let next = url::Url::parse(&next).map_err(|_| Error::ForeignNextLink)?;
            if next.origin() != self.origin || !next.as_str().starts_with(&self.graph_base) {
                return Err(Error::ForeignNextLink);
            }
            // OData: the next page is fetched with GET on the link.
            request = HttpRequest::get(EndpointKind::Graph, next.as_str());
        }
        groups.sort_unstable();
        groups.dedup();
        Ok(groups)
    }
}

/// The error for an error status from Graph.
fn status_error(status: u16, code: Option<String>, retry_after: Option<Duration>) -> Error {
    match status {
        401 | 403 => Error::GraphForbidden { status, code, permission: GROUP_MEMBER_READ_ALL },
        429 | 500..=599 => Error::GraphUnavailable { status, retry_after },
        _ => Error::GraphStatus { status, code },
    }
}

#[async_trait]
impl<X: TokenExchanger> GroupSource for GraphGroupSource<X> {
    async fn groups(&self, user: &ValidatedToken) -> Result<Vec<String>> {
        let (Some(cache), Some(key)) = (&self.cache, user.claims().identity_key()) else {
            return self.lookup(user).await;
        };
        if let Some(hit) = cache.get(&key).await {
            tracing::debug!(groups = hit.len(), "entra-teams graph groups: cache hit");
            return Ok(hit.as_ref().clone());
        }
        // Concurrent callers for one user share the first caller's lookup. Errors
        // are not shared: after a failed (or cancelled) lookup, each caller asks
        // on its own, so every caller gets its own, fully typed error.
        let follower = {
            let mut map = lock(&self.inflight);
            match map.get(&key) {
                Some(rx) => Err(rx.clone()),
                None => {
                    let (tx, rx) = watch::channel(None);
                    map.insert(key.clone(), rx);
                    Ok(tx)
                }
            }
        };
        match follower {
            Err(mut rx) => {
                let shared = match rx.wait_for(Option::is_some).await {
                    Ok(outcome) => outcome.clone().flatten(),
                    Err(_) => None,
                };
                match shared {
                    Some(groups) => Ok(groups.as_ref().clone()),
                    None => self.lookup(user).await,
                }
            }
            Ok(tx) => {
                let _guard = FlightGuard { map: &self.inflight, key: &key };
                let result = self.lookup(user).await;
                let shared = result.as_ref().ok().map(|g| Arc::new(g.clone()));
                if let Some(groups) = &shared {
                    cache.insert(key.clone(), groups.clone()).await;
                }
                tx.send_replace(Some(shared));
                result
            }
        }
    }
}

impl<X: TokenExchanger> GraphGroupSource<X> {
    /// One traced lookup (token exchange, then Graph).
    async fn lookup(&self, user: &ValidatedToken) -> Result<Vec<String>> {
        let span = tracing::info_span!(
            "entra_teams.graph.get_member_objects",
            endpoint = %format!("{}/v1.0/me/getMemberObjects", self.graph_base),
            outcome = tracing::field::Empty,
            groups = tracing::field::Empty,
        );
        let result = self.fetch(user).instrument(span.clone()).await;
        match &result {
            Ok(groups) => {
                span.record("outcome", "ok");
                span.record("groups", groups.len());
            }
            Err(e) => {
                span.record("outcome", tracing::field::display(e));
            }
        }
        result
    }
}

#[cfg(test)]
#[path = "graph_tests.rs"]
mod tests;
