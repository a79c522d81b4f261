//! The validator: parsing, signature, claims, tenants, audiences, permissions,
//! and the cache of validated tokens.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use entra_core::{
    Authority, ClientId, Clock, EntraClaims, HotCache, IssuerTemplate, SeamError, Secret, Tenant,
    TokenValidator, TokenVersion, ValidatedToken, constant_time, dangerous,
};
use serde::Deserialize;
use serde::de::IgnoredAny;

use crate::config::{Algorithm, Options, TenantPolicy, ValidatorBuilder};
use crate::error::{Error, Result, shorten};
use crate::keys::{KeyStore, b64url_strict, with_b64url_strict};

/// Validates Entra access tokens and ID tokens against the authority's published
/// keys and the configured rules.
///
/// Cheap to clone (an `Arc` inside), `Send + Sync`: build one per API and share it.
/// See the [crate documentation](crate) for an example and the defaults.
#[derive(Clone)]
pub struct Validator {
    inner: Arc<Inner>,
}

struct Inner {
    authority: Authority,
    client_id: ClientId,
    options: Options,
    clock: Arc<dyn Clock>,
    /// Issuer rules for v1 and v2 tokens.
    v1_issuer: IssuerTemplate,
    v2_issuer: IssuerTemplate,
    v1_keys: Option<KeyStore>,
    v2_keys: Option<KeyStore>,
    /// Moves on whenever either key store withdraws or replaces a key: a cached
    /// validation made before the move is not answered after it.
    retired: Arc<AtomicU64>,
    cache: Option<TokenCache>,
}

/// The validated-token cache: a shared bounded cache (moka) that every thread
/// fills, and in front of it each thread's own copies of its recent hits, so
/// that a hit writes no memory another core reads.
struct TokenCache {
    shared: moka::sync::Cache<u64, Cached>,
    hot: HotCache<Cached>,
    ttl: i64,
}

impl TokenCache {
    /// Where a token is looked for: a keyed hash (SipHash, random key) of its
    /// last [`HASHED_BYTES`] (the end of its signature; nothing is parsed to find
    /// them). A hit counts only when the whole token equals the one validated
    /// before, byte for byte: the same bytes, no RSA. No cryptographic hash is
    /// needed: the exact comparison decides, the hash only finds the entry. Only
    /// validated tokens are cached, and their signatures differ (192 bits of a
    /// signature nobody but the key holder can choose).
    fn key_hash(&self, token: &[u8]) -> u64 {
        let tail = token.len().saturating_sub(HASHED_BYTES);
        self.hot.key_hash(&token[tail..])
    }
}

/// Entries per thread in the hot cache: 32 sets of 8, so that a thread
/// answering 64 distinct tokens in turn keeps them all with high probability
/// (one of its sets gets more than 8 of them about once in 200 random draws);
/// a miss there costs one shared-cache lookup.
///
/// Memory: each entry is the thread's own copy of a validated token, its raw
/// bytes (at most `max_token_bytes`, 16 KiB by default; Entra access tokens are
/// typically 1 to 3 KB) and its parsed claims, so each thread that validates
/// holds at most 256 such copies: with a few KB per copy, about 1 MB per
/// thread. Entries are made only from that thread's own cache hits, and the
/// key is read from the cached token (no second copy of it).
const HOT_ENTRIES_PER_THREAD: usize = 256;

#[derive(Clone)]
struct Cached {
    token: ValidatedToken,
    /// The validator's `retired` count when the token was validated.
    keys: u64,
    /// When the cached validation ends (seconds since the epoch): validation
    /// time plus the cache TTL. `exp` is checked on every hit as well.
    until: i64,
}

impl Cached {
    /// The key of the hot cache: the whole token, which the value holds.
    fn token_bytes(&self) -> &[u8] {
        self.token.raw().expose_secret().as_bytes()
    }
}

impl fmt::Debug for Validator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        f.debug_struct("Validator")
            .field("authority", &i.authority)
            .field("client_id", &i.client_id)
            .field("options", &i.options)
            .field("v1_keys", &i.v1_keys)
            .field("v2_keys", &i.v2_keys)
            .finish_non_exhaustive()
    }
}

/// The JOSE header. Its strings borrow from the decoded bytes unless they
/// hold JSON escapes.
#[derive(Deserialize)]
struct Header<'a> {
    #[serde(borrow)]
    alg: Cow<'a, str>,
    #[serde(default, borrow)]
    typ: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    kid: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    x5t: Option<Cow<'a, str>>,
    /// Present only on tokens for Microsoft Graph.
    #[serde(default)]
    nonce: Option<IgnoredAny>,
    #[serde(default)]
    crit: Option<IgnoredAny>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind<'a> {
    Access,
    Id { nonce: &'a str },
}

/// The three parts of a compact JWS, cut at the first and the last dot.
///
/// The payload between them is not searched for dots: `.` is not base64url,
/// so the payload's strict decoding refuses a token of more than three parts
/// (and [`Inner::verify`] then names the shape as the reason).
#[derive(Clone, Copy)]
struct Parts<'a> {
    header: &'a str,
    payload: &'a str,
    signature: &'a str,
}

impl<'a> Parts<'a> {
    fn of(token: &'a str) -> Result<Self> {
        match (token.find('.'), token.rfind('.')) {
            (Some(first), Some(last)) if first < last => Ok(Self {
                header: &token[..first],
                payload: &token[first + 1..last],
                signature: &token[last + 1..],
            }),
            _ => Err(malformed(THREE_PARTS)),
        }
    }

    /// The signed bytes: header, dot, payload.
    fn signed(&self, token: &'a str) -> &'a str {
        &token[..self.header.len() + 1 + self.payload.len()]
    }
}

const THREE_PARTS: &str = "token does not have three parts";

/// Parses JSON after checking that all of it is UTF-8 at once (a vectorized
/// pass), so that the parser does not check each string again.
fn json<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Option<T> {
    serde_json::from_str(std::str::from_utf8(bytes).ok()?).ok()
}

/// How much of the end of a token finds it in the cache (32 base64url
/// characters of its signature: 192 bits).
const HASHED_BYTES: usize = 32;

impl Validator {
    /// Starts a builder for tokens issued by `authority` to the API (or app)
    /// `client_id`.
    pub fn builder(authority: Authority, client_id: ClientId) -> ValidatorBuilder {
        ValidatorBuilder::new(authority, client_id)
    }

    pub(crate) fn from_builder(b: ValidatorBuilder, http: entra_core::http::HttpClient) -> Self {
        let o = b.options;
        let custom = o.custom_signing_keys.then_some(&b.client_id);
        let retired = Arc::new(AtomicU64::new(0));
        let store = |v: TokenVersion| {
            o.versions.accepts(v).then(|| {
                let url = b.authority.keys_url(v, custom);
                KeyStore::new(url, http.clone(), b.clock.clone(), &o, retired.clone())
            })
        };
        let cloud = b.authority.cloud();
        let rule = |v: TokenVersion| {
            b.authority.issuer(v).unwrap_or_else(|| {
                // A domain authority: its tenant id is unknown without discovery, so
                // the template rule applies (with the explicit tenant policy on top).
                IssuerTemplate::new(match v {
                    TokenVersion::V1 => cloud.v1_issuer_template(),
                    _ => cloud.v2_issuer_template(),
                })
            })
        };
        let cache = (o.token_cache_capacity > 0).then(|| TokenCache {
            shared: moka::sync::Cache::builder()
                .max_capacity(o.token_cache_capacity)
                .time_to_live(o.token_cache_ttl)
                .build(),
            hot: HotCache::with_key_in_value(HOT_ENTRIES_PER_THREAD, Cached::token_bytes),
            ttl: i64::try_from(o.token_cache_ttl.as_secs()).unwrap_or(i64::MAX),
        });
        let inner = Inner {
            v1_keys: store(TokenVersion::V1),
            v2_keys: store(TokenVersion::V2),
            v1_issuer: rule(TokenVersion::V1),
            v2_issuer: rule(TokenVersion::V2),
            authority: b.authority,
            client_id: b.client_id,
            clock: b.clock,
            retired,
            cache,
            options: o,
        };
        Self { inner: Arc::new(inner) }
    }

    /// The options in force.
    pub fn options(&self) -> &Options {
        &self.inner.options
    }

    /// The authority tokens come from.
    pub fn authority(&self) -> &Authority {
        &self.inner.authority
    }

    /// The client id of the API (the expected audience).
    pub fn client_id(&self) -> &ClientId {
        &self.inner.client_id
    }

    /// The keys URLs this validator fetches (one per accepted version).
    pub fn keys_urls(&self) -> Vec<&str> {
        [&self.inner.v1_keys, &self.inner.v2_keys]
            .into_iter()
            .flatten()
            .map(KeyStore::url)
            .collect()
    }

    /// How many JWKS fetches this validator has started (all keys URLs).
    pub fn key_fetches(&self) -> u64 {
        [&self.inner.v1_keys, &self.inner.v2_keys]
            .into_iter()
            .flatten()
            .map(KeyStore::fetch_count)
            .sum()
    }

    /// Fetches the signing keys now, for example at startup so the first request
    /// does not wait for them.
    ///
    /// # Errors
    /// [`Error::KeysUnavailable`] when a keys endpoint fails.
    pub async fn refresh_keys(&self) -> Result<()> {
        for store in [&self.inner.v1_keys, &self.inner.v2_keys].into_iter().flatten() {
            store.refresh().await?;
        }
        Ok(())
    }

    /// Validates an access token (the text after `Bearer `) for this API.
    ///
    /// A token validated before (same bytes) is answered from the cache, after its
    /// `exp` is checked again against the clock.
    ///
    /// # Errors
    /// An [`Error`] naming the failed check; [`Error::is_transient`] when the keys
    /// could not be obtained.
    pub async fn validate(&self, token: &str) -> Result<ValidatedToken> {
        if let Some(answer) = self.cached(token.as_bytes()) {
            return answer;
        }
        let i = &self.inner;
        let Some(cache) = &i.cache else {
            return i.verify(token, Parts::of(token)?, Kind::Access).await;
        };
        let hash = cache.key_hash(token.as_bytes());
        let now = i.clock.unix_now();
        // Read before anything is validated: a key withdrawn from here on makes
        // this validation stale too.
        let keys = i.retired.load(Ordering::Acquire);
        let validated = i.verify(token, Parts::of(token)?, Kind::Access).await?;
        let until = now.saturating_add(cache.ttl);
        cache.shared.insert(hash, Cached { token: validated.clone(), keys, until });
        Ok(validated)
    }

    /// The answer for an access token that needs no verification: too large, or
    /// validated before (same bytes, keys not withdrawn since, `exp` checked
    /// again). `None` when the token must be verified. Bytes, not text: a hit
    /// is equal to a token validated before, so it is text (and base64url parts
    /// and dots) without a pass over it to check.
    fn cached(&self, token: &[u8]) -> Option<Result<ValidatedToken>> {
        let i = &self.inner;
        if let Err(e) = i.check_size(token.len()) {
            return Some(Err(e));
        }
        let cache = i.cache.as_ref()?;
        let hash = cache.key_hash(token);
        let now = i.clock.unix_now();
        let keys = i.retired.load(Ordering::Acquire);
        if let Some(hit) = cache.hot.get(hash, token, now)
            && hit.keys == keys
        {
            return Some(i.check_exp(hit.token.claims(), now).map(|()| hit.token));
        }
        let seen = cache.hot.generation();
        if let Some(hit) = cache.shared.get(&hash)
            && hit.keys == keys
            && now < hit.until
            && constant_time::eq(hit.token_bytes(), token)
        {
            if let Err(e) = i.check_exp(hit.token.claims(), now) {
                return Some(Err(e));
            }
            // This thread's own copy, so that its next hits share no counter.
            let local = Cached { token: hit.token.unshared(), ..hit };
            cache.hot.insert(seen, hash, token, local.clone(), local.until);
            return Some(Ok(local.token));
        }
        None
    }

    /// Validates an ID token from a sign-in: the same checks as access tokens
    /// (signature, `exp`/`nbf`, issuer and tenant), with `aud` equal to the client
    /// id and `nonce` equal to `expected_nonce`. Scope, role and app-only rules do
    /// not apply. ID tokens are not cached.
    ///
    /// # Errors
    /// As [`Validator::validate`], plus [`Error::NonceMismatch`].
    pub async fn validate_id_token(
        &self,
        token: &str,
        expected_nonce: &str,
    ) -> Result<ValidatedToken> {
        let i = &self.inner;
        i.check_size(token.len())?;
        i.verify(token, Parts::of(token)?, Kind::Id { nonce: expected_nonce }).await
    }
}

#[async_trait]
impl TokenValidator for Validator {
    async fn validate(&self, token: &str) -> Result<ValidatedToken, SeamError> {
        Self::validate(self, token).await.map_err(SeamError::new)
    }

    fn validate_cached(&self, token: &[u8]) -> Option<Result<ValidatedToken, SeamError>> {
        self.cached(token).map(|answer| answer.map_err(SeamError::new))
    }
}

fn malformed(reason: &'static str) -> Error {
    Error::Malformed { reason }
}

impl Inner {
    /// Refuses oversized input before anything else.
    fn check_size(&self, len: usize) -> Result<()> {
        let max = self.options.max_token_bytes;
        if len > max {
            return Err(Error::TokenTooLarge { len, max });
        }
        Ok(())
    }

    fn check_exp(&self, claims: &EntraClaims, now: i64) -> Result<()> {
        let exp = claims.exp.ok_or(Error::MissingClaim { claim: "exp" })?;
        let leeway = i64::try_from(self.options.leeway.as_secs()).unwrap_or(i64::MAX);
        if now.saturating_sub(leeway) >= exp {
            return Err(Error::Expired { exp, now });
        }
        if let Some(nbf) = claims.nbf
            && now.saturating_add(leeway) < nbf
        {
            return Err(Error::NotYetValid { nbf, now });
        }
        Ok(())
    }

    async fn verify(
        &self,
        token: &str,
        parts: Parts<'_>,
        kind: Kind<'_>,
    ) -> Result<ValidatedToken> {
        let header_json = b64url_strict(parts.header)
            .ok_or(malformed("header is not a base64url JSON object with `alg`"))?;
        let header: Header<'_> = json(&header_json)
            .ok_or(malformed("header is not a base64url JSON object with `alg`"))?;
        if header.nonce.is_some() {
            return Err(Error::ForGraph);
        }
        if header.crit.is_some() {
            return Err(malformed("header has critical extensions"));
        }
        if let Some(typ) = &header.typ
            && !typ.eq_ignore_ascii_case("JWT")
        {
            return Err(Error::TokenTypeNotAllowed { typ: shorten(typ) });
        }
        // One pass over the bytes, duplicate claims refused (see `EntraClaims`).
        let claims = with_b64url_strict(parts.payload, |p| json::<EntraClaims>(p));
        let claims = match claims {
            Some(Some(claims)) => claims,
            // Dots were searched for only up to the first and from the last.
            None if parts.payload.contains('.') => return Err(malformed(THREE_PARTS)),
            _ => return Err(malformed("payload is not a base64url JSON object of claims")),
        };
        if claims.is_for_graph() {
            return Err(Error::ForGraph);
        }
        let alg = Algorithm::from_name(&header.alg)
            .filter(|a| self.options.algorithms.contains(a))
            .ok_or_else(|| Error::AlgorithmNotAllowed { alg: shorten(&header.alg) })?;
        let version =
            claims.version().filter(|v| self.options.versions.accepts(*v)).ok_or_else(|| {
                Error::VersionNotAccepted { version: shorten(claims.ver.as_deref().unwrap_or("")) }
            })?;
        let kid = header.kid.as_deref().or(header.x5t.as_deref()).ok_or(Error::MissingKeyId)?;
        let (store, rule) = match version {
            TokenVersion::V1 => (&self.v1_keys, &self.v1_issuer),
            _ => (&self.v2_keys, &self.v2_issuer),
        };
        let store = store.as_ref().ok_or_else(|| Error::VersionNotAccepted {
            version: shorten(claims.ver.as_deref().unwrap_or("")),
        })?;
        let key = store.get(kid).await?;
        key.verify(alg, parts.signed(token).as_bytes(), parts.signature)?;

        // The signature holds: the claims are Entra's.
        self.check_exp(&claims, self.clock.unix_now())?;
        let iss = claims.iss.as_deref().ok_or(Error::MissingClaim { claim: "iss" })?;
        let tid = claims.tid.as_deref();
        let tenant = rule.check(iss, tid).map_err(Error::InvalidIssuer)?;
        // A key's own `issuer`, with the token's tid put in, must be the token's
        // `iss` or the v2 issuer of that tenant: Entra signs v1 and v2 tokens with
        // the same keys and publishes the v2 form on them, so a v1 token
        // (`https://sts.windows.net/{tid}/`) may meet a key that names
        // `{login}/{tenantid}/v2.0` (Microsoft.IdentityModel's rule). That `iss`
        // names the tid was checked above.
        if let Some(key_issuer) = &key.issuer
            && let Err(e) = key_issuer.check(iss, tid)
            && key_issuer.resolve(&tenant) != self.authority.cloud().v2_issuer(&tenant)
        {
            return Err(Error::KeyIssuerMismatch(e));
        }
        if *self.authority.tenant() == Tenant::Organizations && tenant.is_consumers() {
            return Err(Error::TenantNotAllowed { tenant });
        }
        if let TenantPolicy::Only(allowed) = &self.options.tenants
            && !allowed.contains(&tenant)
        {
            return Err(Error::TenantNotAllowed { tenant });
        }
        let client_id = self.client_id.as_str();
        let aud_ok = match kind {
            Kind::Access => claims.aud.iter().any(|a| {
                a.eq_ignore_ascii_case(client_id) || self.options.audiences.iter().any(|x| x == a)
            }),
            Kind::Id { .. } => claims.aud.iter().any(|a| a.eq_ignore_ascii_case(client_id)),
        };
        if !aud_ok {
            return Err(Error::InvalidAudience);
        }
        match kind {
            Kind::Access => {
                if claims.caller_app_id().is_none() {
                    return Err(Error::NotAnAccessToken);
                }
                self.check_permissions(&claims)?;
            }
            Kind::Id { nonce } => {
                let got = claims.nonce.as_deref().unwrap_or("");
                if nonce.is_empty() || !constant_time::eq(got.as_bytes(), nonce.as_bytes()) {
                    return Err(Error::NonceMismatch);
                }
            }
        }
        Ok(dangerous::assume_validated(Secret::new(token), claims))
    }

    fn check_permissions(&self, claims: &EntraClaims) -> Result<()> {
        let o = &self.options;
        let has_scopes = claims.scp.as_deref().is_some_and(|s| !s.trim().is_empty());
        if !has_scopes && claims.roles.is_empty() {
            return Err(Error::NoPermissions);
        }
        if !o.allow_app_only && claims.is_app_only() {
            return Err(Error::AppOnlyNotAllowed);
        }
        let scopes = o.required_scopes.as_ref().map(|m| m.matches(|s| claims.has_scope(s)));
        let roles = o.required_roles.as_ref().map(|m| m.matches(|r| claims.has_role(r)));
        let ok = match (scopes, roles) {
            (None, None) => true,
            (Some(a), None) | (None, Some(a)) => a,
            (Some(a), Some(b)) if o.scopes_or_roles => a || b,
            (Some(a), Some(b)) => a && b,
        };
        if ok { Ok(()) } else { Err(Error::InsufficientPermissions) }
    }
}

#[cfg(test)]
mod tests;
