//! Validation options and the builder.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use entra_core::env::{self, Vars};
use entra_core::http::HttpClient;
use entra_core::{AppIdentity, Authority, ClientId, Clock, SystemClock, Tenant, TokenVersion};

use crate::error::{Error, Result};
use crate::validator::Validator;

pub use entra_core::TenantPolicy;

/// Which token versions (`ver` claim) are accepted.
///
/// The *resource* app's `accessTokenAcceptedVersion` in its manifest decides
/// what Entra issues for it: v1 (`null` or `1`) or v2 (`2`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum AcceptedVersions {
    /// Only v1.0 tokens (issuer `https://sts.windows.net/{tid}/`), keys from
    /// `{authority}/discovery/keys`.
    V1,
    /// Only v2.0 tokens (issuer `{login}/{tid}/v2.0`), keys from
    /// `{authority}/discovery/v2.0/keys`.
    V2,
    /// Both; each version's keys come from its own keys URL.
    Both,
}

impl AcceptedVersions {
    pub(crate) fn accepts(self, v: TokenVersion) -> bool {
        matches!(
            (self, v),
            (Self::Both, _) | (Self::V1, TokenVersion::V1) | (Self::V2, TokenVersion::V2)
        )
    }
}

/// A JWS signing algorithm that may be accepted. `none` and the HMAC algorithms
/// are not representable: they are never accepted.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub enum Algorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256: what Entra signs with.
    RS256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    RS384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    RS512,
    /// RSASSA-PSS with SHA-256.
    PS256,
    /// RSASSA-PSS with SHA-384.
    PS384,
    /// RSASSA-PSS with SHA-512.
    PS512,
    /// ECDSA P-256 with SHA-256.
    ES256,
    /// ECDSA P-384 with SHA-384.
    ES384,
}

impl Algorithm {
    /// Every algorithm, in a fixed order (used to index parsed keys).
    pub(crate) const ALL: [Self; 8] = [
        Self::RS256,
        Self::RS384,
        Self::RS512,
        Self::PS256,
        Self::PS384,
        Self::PS512,
        Self::ES256,
        Self::ES384,
    ];

    /// The JOSE name (`RS256`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RS256 => "RS256",
            Self::RS384 => "RS384",
            Self::RS512 => "RS512",
            Self::PS256 => "PS256",
            Self::PS384 => "PS384",
            Self::PS512 => "PS512",
            Self::ES256 => "ES256",
            Self::ES384 => "ES384",
        }
    }

    /// Parses a JOSE name; `None` for anything not representable (`none`, `HS256`, ...).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == name)
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A rule over a set of values (scopes or roles): any one of them, or all of them.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum Match {
    /// At least one of these.
    AnyOf(Vec<String>),
    /// Every one of these.
    AllOf(Vec<String>),
}

impl Match {
    /// At least one of `items`.
    pub fn any_of<I: IntoIterator<Item = S>, S: Into<String>>(items: I) -> Self {
        Self::AnyOf(items.into_iter().map(Into::into).collect())
    }

    /// Every one of `items`.
    pub fn all_of<I: IntoIterator<Item = S>, S: Into<String>>(items: I) -> Self {
        Self::AllOf(items.into_iter().map(Into::into).collect())
    }

    pub(crate) fn matches(&self, has: impl Fn(&str) -> bool) -> bool {
        match self {
            Self::AnyOf(v) => v.iter().any(|s| has(s)),
            Self::AllOf(v) => v.iter().all(|s| has(s)),
        }
    }

    fn is_empty(&self) -> bool {
        match self {
            Self::AnyOf(v) | Self::AllOf(v) => v.is_empty(),
        }
    }
}

/// The options a [`Validator`] applies. Built by [`ValidatorBuilder`]; read back
/// with [`Validator::options`].
#[derive(Clone)]
#[non_exhaustive]
pub struct Options {
    /// Audiences accepted besides the client id (for example the App ID URI
    /// `api://<client id>`, which v1 tokens carry). Defaults to none: only the client id.
    pub audiences: Vec<String>,
    /// Which tenants may present tokens. Defaults to the authority's tenant for a
    /// GUID (or `consumers`) authority; `common`, `organizations` and domain
    /// authorities have no default and [`ValidatorBuilder::build`] fails without one.
    pub tenants: TenantPolicy,
    /// Accepted token versions. Defaults to [`AcceptedVersions::V2`].
    pub versions: AcceptedVersions,
    /// The signature algorithm allow-list. Defaults to `[RS256]`, which is all
    /// Entra uses.
    pub algorithms: Vec<Algorithm>,
    /// Clock skew tolerated on `exp` and `nbf`, at most [`Options::MAX_LEEWAY`]
    /// (a larger one would in effect switch the expiry check off, and
    /// [`ValidatorBuilder::build`] refuses it with [`Error::LeewayTooLarge`]).
    /// Defaults to 60 seconds.
    pub leeway: Duration,
    /// Scopes (`scp`) a delegated access token must carry. Defaults to `None`.
    pub required_scopes: Option<Match>,
    /// App roles (`roles`) an access token must carry. Defaults to `None`.
    pub required_roles: Option<Match>,
    /// When both [`Options::required_scopes`] and [`Options::required_roles`] are
    /// set: `true` accepts a token satisfying either rule (delegated callers by
    /// scope, daemons by role), `false` requires both. Defaults to `false`.
    pub scopes_or_roles: bool,
    /// Whether app-only access tokens (client credentials: `idtyp=app`, or no
    /// `scp`) are accepted. Defaults to `true`; such tokens must still carry a role
    /// (see [`Error::NoPermissions`]).
    pub allow_app_only: bool,
    /// Tokens longer than this are refused before any parsing. Defaults to 16 KiB
    /// (Entra tokens with 200 groups are about 10 KiB).
    pub max_token_bytes: usize,
    /// Fetch keys from the app-specific keys URL (`?appid=<client id>`), for apps
    /// with custom signing keys (for example claims mapping). Defaults to `false`.
    pub custom_signing_keys: bool,
    /// Timeout of one JWKS request. Defaults to 10 seconds.
    pub jwks_timeout: Duration,
    /// Largest accepted JWKS response. Defaults to 256 KiB.
    pub jwks_max_bytes: usize,
    /// Keys are refetched when older than this. There is no background task: the
    /// first validation after this time refetches (one caller; the others go on
    /// with the current keys). Defaults to 1 hour.
    pub refresh_interval: Duration,
    /// A token with an unknown `kid` triggers a refetch at most this often.
    /// Defaults to 5 minutes.
    pub min_refresh_interval: Duration,
    /// After a failed fetch, the next attempt waits at least this long. Defaults
    /// to 10 seconds.
    pub retry_interval: Duration,
    /// When the keys endpoint fails, the last good keys keep being used for this
    /// long after they were due for refresh (with a `tracing` warning). Defaults to
    /// 24 hours.
    pub stale_grace: Duration,
    /// Entries in the cache of validated access tokens; 0 disables it. Entries are
    /// keyed by the SHA-256 of the token's signature part and answer only a token
    /// equal byte for byte to the one validated. Defaults to 10 000.
    pub token_cache_capacity: u64,
    /// Longest time a validated access token stays cached (its `exp` is rechecked
    /// on every hit regardless). Defaults to 5 minutes.
    pub token_cache_ttl: Duration,
    /// Signing keys given in memory instead of fetched (see `crate::fuzzing`).
    #[cfg(feature = "fuzzing")]
    pub(crate) preloaded_keys: Option<crate::keys::KeyMap>,
}

impl Options {
    /// The largest [`Options::leeway`] a validator accepts: 5 minutes, the clock
    /// skew Entra itself tolerates.
    pub const MAX_LEEWAY: Duration = Duration::from_secs(300);
}

impl fmt::Debug for Options {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Options")
            .field("audiences", &self.audiences)
            .field("tenants", &self.tenants)
            .field("versions", &self.versions)
            .field("algorithms", &self.algorithms)
            .field("leeway", &self.leeway)
            .field("required_scopes", &self.required_scopes)
            .field("required_roles", &self.required_roles)
            .field("allow_app_only", &self.allow_app_only)
            .finish_non_exhaustive()
    }
}

/// Builds a [`Validator`]; start with [`Validator::builder`].
///
/// ```
/// use entra_core::{Authority, ClientId, Cloud, Tenant};
/// use entra_jwks::{AcceptedVersions, TenantPolicy, Validator};
///
/// let authority = Authority::new(Cloud::Public, Tenant::parse("organizations")?);
/// let client_id: ClientId = "6e74172b-be56-4843-9ff4-e66a39bb12e3".parse()?;
/// // A multi-tenant authority needs an explicit tenant choice.
/// assert!(Validator::builder(authority.clone(), client_id.clone()).build().is_err());
/// let tid = "72f988bf-86f1-41af-91ab-2d7cd011db47".parse()?;
/// let validator = Validator::builder(authority, client_id)
///     .tenants(TenantPolicy::Only(vec![tid]))
///     .versions(AcceptedVersions::Both)
///     .build()?;
/// # let _ = validator;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use]
pub struct ValidatorBuilder {
    pub(crate) authority: Authority,
    pub(crate) client_id: ClientId,
    pub(crate) tenants: Option<TenantPolicy>,
    pub(crate) http: Option<reqwest::Client>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) options: Options,
}

impl fmt::Debug for ValidatorBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ValidatorBuilder")
            .field("authority", &self.authority)
            .field("client_id", &self.client_id)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl ValidatorBuilder {
    /// A builder for tokens issued by `authority` to the API `client_id`.
    pub fn new(authority: Authority, client_id: ClientId) -> Self {
        Self {
            authority,
            client_id,
            tenants: None,
            http: None,
            clock: Arc::new(SystemClock),
            options: Options {
                audiences: Vec::new(),
                tenants: TenantPolicy::Only(Vec::new()),
                versions: AcceptedVersions::V2,
                algorithms: vec![Algorithm::RS256],
                leeway: Duration::from_secs(60),
                required_scopes: None,
                required_roles: None,
                scopes_or_roles: false,
                allow_app_only: true,
                max_token_bytes: 16 * 1024,
                custom_signing_keys: false,
                jwks_timeout: Duration::from_secs(10),
                jwks_max_bytes: 256 * 1024,
                refresh_interval: Duration::from_secs(3600),
                min_refresh_interval: Duration::from_secs(300),
                retry_interval: Duration::from_secs(10),
                stale_grace: Duration::from_secs(24 * 3600),
                token_cache_capacity: 10_000,
                token_cache_ttl: Duration::from_secs(300),
                #[cfg(feature = "fuzzing")]
                preloaded_keys: None,
            },
        }
    }

    /// A builder for tokens issued to `identity`: its authority, its client id as
    /// the audience plus [`AppIdentity::audiences`], and its
    /// [`AppIdentity::allowed_tenants`] when set. The credential is not used.
    ///
    /// ```
    /// use entra_core::AppIdentity;
    /// use entra_jwks::ValidatorBuilder;
    /// let identity: AppIdentity = serde_json::from_str(r#"{
    ///     "tenant_id": "72f988bf-86f1-41af-91ab-2d7cd011db47",
    ///     "client_id": "6e74172b-be56-4843-9ff4-e66a39bb12e3",
    ///     "audiences": ["api://6e74172b-be56-4843-9ff4-e66a39bb12e3"]
    /// }"#)?;
    /// let validator = ValidatorBuilder::from_identity(&identity).build()?;
    /// assert_eq!(validator.options().audiences, ["api://6e74172b-be56-4843-9ff4-e66a39bb12e3"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_identity(identity: &AppIdentity) -> Self {
        let mut builder = Self::new(identity.authority.clone(), identity.client_id.clone())
            .audiences(identity.audiences.iter().cloned());
        builder.tenants = identity.allowed_tenants.clone();
        builder
    }

    /// A builder from the process environment; see [`ValidatorBuilder::from_lookup`].
    ///
    /// # Errors
    /// As [`ValidatorBuilder::from_lookup`].
    pub fn from_env() -> Result<Self> {
        Self::from_lookup(env::process_env)
    }

    /// A builder from the environment read through `lookup`: the
    /// [`AppIdentity`] of [`AppIdentity::from_vars`] (this app's client id,
    /// [`env::AUTHORITY`] or [`env::TENANT_ID`] and [`env::CLOUD`],
    /// [`env::AUDIENCES`], [`env::ALLOWED_TENANTS`]), as
    /// [`ValidatorBuilder::from_identity`]. Names and precedence: [`entra_core::env`].
    ///
    /// ```
    /// use entra_jwks::ValidatorBuilder;
    /// let env = [
    ///     ("AZURE_TENANT_ID", "72f988bf-86f1-41af-91ab-2d7cd011db47"),
    ///     ("AZURE_CLIENT_ID", "6e74172b-be56-4843-9ff4-e66a39bb12e3"),
    /// ];
    /// let lookup = |n: &str| env.iter().find(|(k, _)| *k == n).map(|(_, v)| v.to_string());
    /// let validator = ValidatorBuilder::from_lookup(lookup)?.build()?;
    /// assert_eq!(validator.client_id().as_str(), "6e74172b-be56-4843-9ff4-e66a39bb12e3");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Env`] naming the variable that is missing or malformed.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let identity = AppIdentity::from_vars(&Vars::new(&lookup)).map_err(Error::Env)?;
        Ok(Self::from_identity(&identity))
    }

    /// Audiences accepted besides the client id, such as the App ID URI. See
    /// [`Options::audiences`].
    pub fn audiences<I: IntoIterator<Item = S>, S: Into<String>>(mut self, auds: I) -> Self {
        self.options.audiences.extend(auds.into_iter().map(Into::into));
        self
    }

    /// Which tenants may present tokens. See [`Options::tenants`].
    pub fn tenants(mut self, policy: TenantPolicy) -> Self {
        self.tenants = Some(policy);
        self
    }

    /// Accepted token versions. See [`Options::versions`].
    pub fn versions(mut self, versions: AcceptedVersions) -> Self {
        self.options.versions = versions;
        self
    }

    /// The signature algorithm allow-list. See [`Options::algorithms`].
    pub fn algorithms<I: IntoIterator<Item = Algorithm>>(mut self, algs: I) -> Self {
        self.options.algorithms = algs.into_iter().collect();
        self
    }

    /// The HTTP client for the keys endpoint (proxies, roots); build it with
    /// `.redirect(reqwest::redirect::Policy::none())`. Defaults to the
    /// [`entra_core::http::HttpClient::new`] client (no redirects, 10 s connect
    /// and 30 s total timeouts, a `User-Agent`).
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// The clock for `exp`/`nbf` and key refresh decisions. Defaults to
    /// [`SystemClock`].
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Clock skew tolerated on `exp` and `nbf`, at most [`Options::MAX_LEEWAY`].
    /// See [`Options::leeway`].
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.options.leeway = leeway;
        self
    }

    /// Scopes a delegated token must carry. See [`Options::required_scopes`].
    pub fn required_scopes(mut self, rule: Match) -> Self {
        self.options.required_scopes = Some(rule);
        self
    }

    /// App roles a token must carry. See [`Options::required_roles`].
    pub fn required_roles(mut self, rule: Match) -> Self {
        self.options.required_roles = Some(rule);
        self
    }

    /// Accept a token that satisfies either the scope rule or the role rule. See
    /// [`Options::scopes_or_roles`].
    pub fn scopes_or_roles(mut self, either: bool) -> Self {
        self.options.scopes_or_roles = either;
        self
    }

    /// Whether app-only tokens are accepted. See [`Options::allow_app_only`].
    pub fn allow_app_only(mut self, allow: bool) -> Self {
        self.options.allow_app_only = allow;
        self
    }

    /// Longest accepted token. See [`Options::max_token_bytes`].
    pub fn max_token_bytes(mut self, max: usize) -> Self {
        self.options.max_token_bytes = max;
        self
    }

    /// Use the app-specific keys URL. See [`Options::custom_signing_keys`].
    pub fn custom_signing_keys(mut self, custom: bool) -> Self {
        self.options.custom_signing_keys = custom;
        self
    }

    /// Timeout of one JWKS request. See [`Options::jwks_timeout`].
    pub fn jwks_timeout(mut self, timeout: Duration) -> Self {
        self.options.jwks_timeout = timeout;
        self
    }

    /// Largest accepted JWKS response. See [`Options::jwks_max_bytes`].
    pub fn jwks_max_bytes(mut self, max: usize) -> Self {
        self.options.jwks_max_bytes = max;
        self
    }

    /// Scheduled key refresh. See [`Options::refresh_interval`].
    pub fn refresh_interval(mut self, every: Duration) -> Self {
        self.options.refresh_interval = every;
        self
    }

    /// Unknown-`kid` refresh rate limit. See [`Options::min_refresh_interval`].
    pub fn min_refresh_interval(mut self, every: Duration) -> Self {
        self.options.min_refresh_interval = every;
        self
    }

    /// Wait after a failed fetch. See [`Options::retry_interval`].
    pub fn retry_interval(mut self, wait: Duration) -> Self {
        self.options.retry_interval = wait;
        self
    }

    /// How long stale keys stay usable during an outage. See [`Options::stale_grace`].
    pub fn stale_grace(mut self, grace: Duration) -> Self {
        self.options.stale_grace = grace;
        self
    }

    /// Size of the validated-token cache; 0 disables it. See
    /// [`Options::token_cache_capacity`].
    pub fn token_cache_capacity(mut self, entries: u64) -> Self {
        self.options.token_cache_capacity = entries;
        self
    }

    /// Longest caching of a validated token. See [`Options::token_cache_ttl`].
    pub fn token_cache_ttl(mut self, ttl: Duration) -> Self {
        self.options.token_cache_ttl = ttl;
        self
    }

    /// Builds the validator. No network call happens here: keys are fetched on
    /// first use (or by [`Validator::refresh_keys`]).
    ///
    /// # Errors
    /// [`Error::TenantPolicyRequired`] for a `common`, `organizations` or domain
    /// authority without [`ValidatorBuilder::tenants`]; [`Error::HttpClient`] when no
    /// client was given and the default one cannot be built; [`Error::Config`] for an
    /// empty algorithm list, an empty tenant list, an empty scope or role rule, or a
    /// zero size limit.
    pub fn build(mut self) -> Result<Validator> {
        let policy = match (self.tenants.take(), self.authority.tenant()) {
            (Some(p), _) => p,
            (None, Tenant::Id(id)) => TenantPolicy::Only(vec![id.clone()]),
            (None, t @ Tenant::Consumers) => {
                TenantPolicy::Only(t.tenant_id().into_iter().collect())
            }
            (None, _) => {
                return Err(Error::TenantPolicyRequired { authority: self.authority.base_url() });
            }
        };
        if matches!(&policy, TenantPolicy::Only(v) if v.is_empty()) {
            return Err(Error::Config { reason: "the tenant allow-list is empty" });
        }
        self.options.tenants = policy;
        let o = &self.options;
        if o.algorithms.is_empty() {
            return Err(Error::Config { reason: "the algorithm allow-list is empty" });
        }
        if o.required_scopes.as_ref().is_some_and(Match::is_empty)
            || o.required_roles.as_ref().is_some_and(Match::is_empty)
        {
            return Err(Error::Config { reason: "a required scope or role rule is empty" });
        }
        if o.leeway > Options::MAX_LEEWAY {
            return Err(Error::LeewayTooLarge { leeway: o.leeway, max: Options::MAX_LEEWAY });
        }
        if o.max_token_bytes == 0 || o.jwks_max_bytes == 0 {
            return Err(Error::Config { reason: "size limits must be above zero" });
        }
        let http = HttpClient::or_default(self.http.take()).map_err(Error::HttpClient)?;
        Ok(Validator::from_builder(self, http))
    }
}

#[cfg(test)]
mod tests {
    use entra_core::{Cloud, TenantId};

    use super::*;

    const TID: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    const CID: &str = "6e74172b-be56-4843-9ff4-e66a39bb12e3";

    fn read(pairs: &'static [(&'static str, &'static str)]) -> Result<ValidatorBuilder> {
        ValidatorBuilder::from_lookup(|n| {
            pairs.iter().find(|(k, _)| *k == n).map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn from_environment() {
        let b = read(&[
            ("AZURE_TENANT_ID", TID),
            ("AZURE_AUTHORITY_HOST", "https://login.microsoftonline.us"),
            ("SSO_ENTRA_CLIENT_ID", CID),
            (
                "ENTRA_AUDIENCES",
                "api://6e74172b-be56-4843-9ff4-e66a39bb12e3, https://api.contoso.com",
            ),
        ])
        .unwrap();
        assert_eq!(b.authority.cloud(), &Cloud::UsGovernment);
        assert_eq!(b.client_id.as_str(), CID);
        assert_eq!(b.options.audiences.len(), 2);
        let v = b.build().unwrap();
        assert_eq!(v.options().tenants, TenantPolicy::Only(vec![TenantId::parse(TID).unwrap()]));

        // A multi-tenant authority takes its tenants from ENTRA_ALLOWED_TENANTS.
        let b = read(&[
            ("ENTRA_AUTHORITY", "https://login.microsoftonline.com/organizations"),
            ("ENTRA_TENANT_ID", TID),
            ("ENTRA_CLIENT_ID", CID),
            ("ENTRA_ALLOWED_TENANTS", "*"),
        ])
        .unwrap();
        assert_eq!(b.authority.tenant(), &Tenant::Organizations, "the authority wins");
        assert_eq!(b.build().unwrap().options().tenants, TenantPolicy::Any);
        let b = read(&[
            ("ENTRA_AUTHORITY", "https://login.microsoftonline.com/organizations"),
            ("ENTRA_CLIENT_ID", CID),
        ])
        .unwrap();
        assert!(matches!(b.build(), Err(Error::TenantPolicyRequired { .. })));
    }

    #[test]
    fn missing_and_malformed_values_name_the_variable() {
        let err = read(&[("ENTRA_TENANT_ID", TID)]).unwrap_err();
        assert!(matches!(&err, Error::Env(entra_core::Error::MissingEnv { .. })), "{err:?}");
        assert!(
            err.to_string().contains("ENTRA_CLIENT_ID (or SSO_ENTRA_CLIENT_ID, AZURE_CLIENT_ID)")
        );
        let err = read(&[
            ("ENTRA_TENANT_ID", TID),
            ("ENTRA_CLIENT_ID", CID),
            ("ENTRA_ALLOWED_TENANTS", "contoso.com"),
        ])
        .unwrap_err();
        assert!(matches!(
            err,
            Error::Env(entra_core::Error::InvalidEnv { name: "ENTRA_ALLOWED_TENANTS", .. })
        ));
        assert!(!err.is_unauthorized() && !err.is_transient());
    }

    #[test]
    fn every_variable_the_table_gives_to_entra_jwks_is_read() {
        let looked_up = std::cell::RefCell::new(Vec::new());
        let lookup = |name: &str| {
            looked_up.borrow_mut().push(name.to_owned());
            match name {
                "ENTRA_CLIENT_ID" => Some(CID.to_owned()),
                "ENTRA_TENANT_ID" => Some(TID.to_owned()),
                _ => None,
            }
        };
        let _builder = ValidatorBuilder::from_lookup(lookup).unwrap();
        let looked_up = looked_up.into_inner();
        for var in env::ALL.iter().filter(|v| v.read_by.contains(&"entra-jwks")) {
            assert!(looked_up.iter().any(|n| n == var.name), "{} is not read", var.name);
        }
        for name in &looked_up {
            assert!(env::EnvVar::find(name).is_some(), "{name} is not in the table");
        }
    }
}
