//! Configuration: a serde struct with secure defaults around the shared
//! [`AppIdentity`], readable from the environment through the one table of names
//! ([`entra_core::env`]).

use std::fmt;
use std::time::Duration;

use entra_core::env::{self, Vars};
use entra_core::{AppIdentity, Authority, ClientId, CredentialConfig, TenantPolicy};
use entra_jwks::Algorithm;
use serde::{Deserialize, Deserializer};

use crate::{AllowedDomains, Error, Result};

/// The OpenID Connect scopes that may appear in [`Config::scopes`].
const OIDC_SCOPES: [&str; 4] = ["openid", "profile", "email", "offline_access"];

/// How Entra returns the code to the redirect URI.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ResponseMode {
    /// In the query string of a `GET` (`response_mode=query`). The default.
    #[default]
    Query,
    /// In the body of a `POST` (`response_mode=form_post`): the code never
    /// appears in URLs, browser history or `Referer` headers, but the callback is
    /// a cross-site POST, so `SameSite=Lax` cookies are not sent with it.
    FormPost,
}

impl ResponseMode {
    /// The `response_mode` parameter value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Query => "query",
            Self::FormPost => "form_post",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().replace('-', "_").as_str() {
            "query" => Some(Self::Query),
            "form_post" | "formpost" | "post" => Some(Self::FormPost),
            _ => None,
        }
    }
}

/// The `prompt` parameter: what Entra must show the user.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Prompt {
    /// Always ask for credentials (`prompt=login`).
    Login,
    /// Never show a page; fail with `interaction_required` if one is needed
    /// (`prompt=none`).
    None,
    /// Show the consent page (`prompt=consent`).
    Consent,
    /// Show the account picker (`prompt=select_account`).
    SelectAccount,
}

impl Prompt {
    /// The `prompt` parameter value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Login => "login",
            Self::None => "none",
            Self::Consent => "consent",
            Self::SelectAccount => "select_account",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().replace('-', "_").as_str() {
            "login" => Some(Self::Login),
            "none" => Some(Self::None),
            "consent" => Some(Self::Consent),
            "select_account" => Some(Self::SelectAccount),
            _ => None,
        }
    }
}

/// The settings of a sign-in [`Client`](crate::Client).
///
/// The app registration is an [`AppIdentity`] (tenant or authority, client id,
/// credential, tenant allow-list), shared with token validation and
/// On-Behalf-Of; only its tenant and client id are required (plus
/// `redirect_uri` for web apps), and every other field has a secure default.
/// Deserialize it from your configuration file (the identity's keys sit at the
/// top level), build it with [`Config::new`], or read it from the environment
/// with [`Config::from_env`].
///
/// ```
/// use entra_oidc::Config;
/// let config: Config = serde_json::from_str(r#"{
///     "tenant_id": "72f988bf-86f1-41af-91ab-2d7cd011db47",
///     "client_id": "6e74172b-be56-4843-9ff4-e66a39bb12e3",
///     "client_secret": "from-the-vault",
///     "redirect_uri": "https://app.example.com/auth/callback",
///     "allowed_domains": "acme.com, acme-subsidiary.com"
/// }"#)?;
/// assert_eq!(config.scopes, ["openid", "profile", "email"]);
/// assert!(!format!("{config:?}").contains("from-the-vault"));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Deserialize)]
#[non_exhaustive]
pub struct Config {
    /// The app registration: authority, client id, credential (a client secret,
    /// a certificate or a federated token file; none for a public client such as
    /// a desktop app or CLI) and allowed tenants. A multi-tenant authority
    /// (`organizations`, `common`) requires [`AppIdentity::allowed_tenants`].
    /// Required.
    #[serde(flatten)]
    pub identity: AppIdentity,
    /// The redirect URI registered on the app (`https://...`, or `http://` on a
    /// loopback host). Required for web sign-in; the loopback flow uses its own.
    /// Defaults to `None`.
    #[serde(default)]
    pub redirect_uri: Option<String>,
    /// The OpenID Connect scopes (`openid` is always added). Only `openid`,
    /// `profile`, `email` and `offline_access` are allowed here; an API scope
    /// goes in [`Config::api_scope`]. Defaults to `["openid", "profile", "email"]`.
    #[serde(default = "default_scopes")]
    pub scopes: Vec<String>,
    /// Ask for a refresh token (`offline_access`). Defaults to `false`.
    #[serde(default)]
    pub offline_access: bool,
    /// One API scope, so that the access token is for that API (for example
    /// `api://<client-id>/access_as_user`, the token later exchanged with
    /// On-Behalf-Of). Entra accepts scopes of a single resource per request.
    /// Defaults to `None` (the access token is then for Microsoft Graph).
    #[serde(default)]
    pub api_scope: Option<String>,
    /// Email domains allowed to sign in, matched exactly, ignoring ASCII case
    /// (a list, or one string such as `"acme.com, acme-subsidiary.com"`). Domains
    /// are ASCII: write internationalized ones in their `xn--` form; an address
    /// with any non-ASCII character in its domain never matches.
    ///
    /// The address matched is the user's sign-in name (`preferred_username`,
    /// else `upn`): Entra only gives a tenant's users a sign-in name in a domain
    /// that tenant has verified. The `email` claim counts only when the ID token
    /// also carries the `xms_edov` optional claim set to `true` ("email domain
    /// owner verified"); without it, `email` is an attribute any tenant's
    /// administrator can set to any address, and it is ignored. To match users
    /// by email, add the `xms_edov` optional claim to the ID token in the app
    /// registration (Token configuration). Personal Microsoft accounts (at
    /// `common`) sign in with an email address whose domain no tenant vouches
    /// for. A domain list filters users; the tenant allow-list is the boundary.
    /// Defaults to empty: every domain of the allowed tenants.
    #[serde(default, deserialize_with = "deserialize_domains")]
    pub allowed_domains: Vec<String>,
    /// How the code comes back. Defaults to `query`.
    #[serde(default)]
    pub response_mode: ResponseMode,
    /// The `prompt` sent with each sign-in unless overridden. Defaults to `None`
    /// (Entra decides).
    #[serde(default)]
    pub prompt: Option<Prompt>,
    /// The `domain_hint` sent with each sign-in unless overridden (skips
    /// home-realm discovery). Defaults to `None`.
    #[serde(default)]
    pub domain_hint: Option<String>,
    /// Where Entra sends the browser after sign-out (registered on the app as a
    /// redirect URI). Defaults to `None`.
    #[serde(default)]
    pub post_logout_redirect_uri: Option<String>,
    /// How long a started sign-in may take, in seconds (30 to 3600).
    /// Defaults to `600`.
    #[serde(default = "default_login_ttl")]
    pub login_ttl_secs: u64,
    /// How long the discovery document is cached, in seconds (60 to 604800).
    /// Defaults to `86400`.
    #[serde(default = "default_discovery_ttl")]
    pub discovery_ttl_secs: u64,
    /// The signature algorithms accepted on ID tokens: any of those the
    /// validator supports ([`Algorithm`]: `RS256`, `RS384`, `RS512`, `PS256`,
    /// `PS384`, `PS512`, `ES256`, `ES384`; in a file, their JOSE names). Entra
    /// signs ID tokens with `RS256`; add `ES256` (or another) for an authority
    /// that signs with it. `none` and the HMAC algorithms cannot be named, and
    /// an empty list is refused. Defaults to `["RS256"]`.
    #[serde(default = "default_algorithms", deserialize_with = "deserialize_algorithms")]
    pub algorithms: Vec<Algorithm>,
}

fn default_algorithms() -> Vec<Algorithm> {
    vec![Algorithm::RS256]
}

fn deserialize_algorithms<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Algorithm>, D::Error> {
    Vec::<String>::deserialize(d)?
        .iter()
        .map(|name| {
            Algorithm::from_name(name.trim()).ok_or_else(|| {
                serde::de::Error::custom(format_args!(
                    "unsupported signature algorithm {:?}",
                    entra_core::shorten_untrusted(name)
                ))
            })
        })
        .collect()
}

fn default_scopes() -> Vec<String> {
    ["openid", "profile", "email"].map(String::from).to_vec()
}

fn default_login_ttl() -> u64 {
    600
}

fn default_discovery_ttl() -> u64 {
    86_400
}

fn deserialize_domains<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::Many(v) => v,
        OneOrMany::One(s) => {
            AllowedDomains::parse_list(&s).map_err(serde::de::Error::custom)?.domains().to_vec()
        }
    })
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("identity", &self.identity)
            .field("redirect_uri", &self.redirect_uri)
            .field("scopes", &self.scopes)
            .field("offline_access", &self.offline_access)
            .field("api_scope", &self.api_scope)
            .field("allowed_domains", &self.allowed_domains)
            .field("response_mode", &self.response_mode)
            .field("algorithms", &self.algorithms)
            .finish_non_exhaustive()
    }
}

impl Config {
    /// A configuration for `client_id` signing users in at `authority`, with
    /// no credential and every other field at its default.
    pub fn new(authority: Authority, client_id: ClientId) -> Self {
        Self::from_identity(AppIdentity::new(authority, client_id))
    }

    /// A configuration for the app registration `identity`, with every other
    /// field at its default.
    pub fn from_identity(identity: AppIdentity) -> Self {
        Self {
            identity,
            redirect_uri: None,
            scopes: default_scopes(),
            offline_access: false,
            api_scope: None,
            allowed_domains: Vec::new(),
            response_mode: ResponseMode::default(),
            prompt: None,
            domain_hint: None,
            post_logout_redirect_uri: None,
            login_ttl_secs: default_login_ttl(),
            discovery_ttl_secs: default_discovery_ttl(),
            algorithms: default_algorithms(),
        }
    }

    /// The authority (cloud + tenant).
    pub fn authority(&self) -> Authority {
        self.identity.authority.clone()
    }

    /// Reads the configuration from the process environment; see
    /// [`Config::from_lookup`] for the names.
    ///
    /// # Errors
    /// As [`Config::from_lookup`].
    pub fn from_env() -> Result<Self> {
        Self::from_lookup(env::process_env)
    }

    /// Reads the configuration through `lookup` (a variable name to its value):
    /// the [`AppIdentity`] of [`AppIdentity::from_vars`], then the sign-in
    /// settings [`env::REDIRECT_URI`], [`env::POST_LOGOUT_REDIRECT_URI`],
    /// [`env::SCOPES`] (OpenID Connect scopes, `offline_access` and at most one
    /// API scope, split into [`Config::scopes`], [`Config::offline_access`] and
    /// [`Config::api_scope`]), [`env::API_SCOPE`], [`env::OFFLINE_ACCESS`],
    /// [`env::ALLOWED_DOMAINS`], [`env::RESPONSE_MODE`], [`env::PROMPT`],
    /// [`env::DOMAIN_HINT`] and [`env::LOGIN_TTL_SECS`]. Every name, its
    /// aliases and the precedence rule: [`entra_core::env`].
    ///
    /// ```
    /// use entra_oidc::Config;
    /// let env = [
    ///     ("SSO_ENTRA_CLIENT_ID", "12345678-1234-1234-1234-123456789012"),
    ///     ("SSO_ENTRA_CLIENT_SECRET", "your~secret"),
    ///     ("SSO_ENTRA_TENANT_ID", "87654321-4321-4321-4321-210987654321"),
    ///     ("SSO_TRUSTED_DOMAINS", r#"["yourcompany.com"]"#),
    /// ];
    /// let config = Config::from_lookup(|n| env.iter().find(|(k, _)| *k == n).map(|(_, v)| v.to_string()))?;
    /// assert_eq!(config.allowed_domains, ["yourcompany.com"]);
    /// # Ok::<(), entra_oidc::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Env`] naming the variable that is missing or malformed.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self> {
        Self::read(&Vars::new(&lookup)).map_err(Error::Env)
    }

    fn read(vars: &Vars<'_>) -> Result<Self, entra_core::Error> {
        let mut config = Self::from_identity(AppIdentity::from_vars(vars)?);
        config.redirect_uri = vars.text(&env::REDIRECT_URI);
        if let Some(scopes) = vars.parse(&env::SCOPES, |v| config.scopes_from_list(v))? {
            (config.scopes, config.offline_access, config.api_scope) = scopes;
        }
        if let Some(api) = vars.text(&env::API_SCOPE) {
            config.api_scope = Some(api);
        }
        if let Some(offline) = vars.flag(&env::OFFLINE_ACCESS)? {
            config.offline_access = offline;
        }
        if let Some(d) = vars.parse(&env::ALLOWED_DOMAINS, AllowedDomains::parse_list)? {
            config.allowed_domains = d.domains().to_vec();
        }
        if let Some(mode) = vars.parse(&env::RESPONSE_MODE, |m| {
            ResponseMode::parse(m).ok_or("expected `query` or `form_post`")
        })? {
            config.response_mode = mode;
        }
        config.prompt = vars.parse(&env::PROMPT, |p| {
            Prompt::parse(p).ok_or("expected `login`, `none`, `consent` or `select_account`")
        })?;
        config.domain_hint = vars.text(&env::DOMAIN_HINT);
        config.post_logout_redirect_uri = vars.text(&env::POST_LOGOUT_REDIRECT_URI);
        if let Some(ttl) = vars.number(&env::LOGIN_TTL_SECS)? {
            config.login_ttl_secs = ttl;
        }
        Ok(config)
    }

    /// Splits a scope list such as `openid profile email offline_access
    /// api://x/access_as_user` into OIDC scopes, the refresh flag and the API scope.
    fn scopes_from_list(
        &self,
        list: &str,
    ) -> Result<(Vec<String>, bool, Option<String>), &'static str> {
        let (mut scopes, mut offline, mut api) = (Vec::new(), self.offline_access, None);
        for s in list.split(|c: char| c == ',' || c.is_whitespace()).filter(|s| !s.is_empty()) {
            if s == "offline_access" {
                offline = true;
            } else if OIDC_SCOPES.contains(&s) {
                scopes.push(s.to_owned());
            } else if api.replace(s.to_owned()).is_some() {
                return Err("at most one API scope may be requested at sign-in");
            }
        }
        Ok((scopes, offline, api.or_else(|| self.api_scope.clone())))
    }

    /// Checks every field and derives what the client needs.
    pub(crate) fn resolve(&self) -> Result<Resolved> {
        let invalid = |field: &'static str, reason: &str| Error::InvalidConfig {
            field,
            reason: reason.to_owned(),
        };
        let authority = self.authority();
        match &self.identity.allowed_tenants {
            None if authority.tenant().is_multi_tenant() => {
                return Err(invalid(
                    "allowed_tenants",
                    "a multi-tenant authority (common/organizations) needs an explicit tenant allow-list, or `*` for any tenant",
                ));
            }
            Some(TenantPolicy::Only(ids)) if ids.is_empty() => {
                return Err(invalid("allowed_tenants", "the tenant allow-list is empty"));
            }
            _ => {}
        }
        if matches!(&self.identity.credential, Some(CredentialConfig::Secret { secret, .. }) if secret.is_empty())
        {
            return Err(invalid("client_secret", "must not be empty"));
        }
        let mut scopes: Vec<String> = vec!["openid".to_owned()];
        for s in &self.scopes {
            let s = s.trim();
            if !OIDC_SCOPES.contains(&s) {
                return Err(invalid(
                    "scopes",
                    "only openid, profile, email and offline_access belong here; put an API scope in api_scope",
                ));
            }
            if !scopes.iter().any(|x| x == s) {
                scopes.push(s.to_owned());
            }
        }
        if self.offline_access && !scopes.iter().any(|x| x == "offline_access") {
            scopes.push("offline_access".to_owned());
        }
        if let Some(api) = &self.api_scope {
            let api = api.trim();
            if api.is_empty()
                || api.len() > 512
                || api.contains(|c: char| c.is_whitespace() || c.is_control())
            {
                return Err(invalid("api_scope", "must be one scope, without spaces"));
            }
            if OIDC_SCOPES.contains(&api) {
                return Err(invalid(
                    "api_scope",
                    "must be an API scope, not an OpenID Connect scope",
                ));
            }
            scopes.push(api.to_owned());
        }
        let redirect_uri = self
            .redirect_uri
            .as_deref()
            .map(|u| check_redirect_uri(u).map_err(|reason| invalid("redirect_uri", reason)))
            .transpose()?;
        let post_logout_redirect_uri = self
            .post_logout_redirect_uri
            .as_deref()
            .map(|u| {
                check_redirect_uri(u).map_err(|reason| invalid("post_logout_redirect_uri", reason))
            })
            .transpose()?;
        if !(30..=3600).contains(&self.login_ttl_secs) {
            return Err(invalid("login_ttl_secs", "must be between 30 and 3600 seconds"));
        }
        if !(60..=604_800).contains(&self.discovery_ttl_secs) {
            return Err(invalid("discovery_ttl_secs", "must be between 60 and 604800 seconds"));
        }
        if let Some(h) = &self.domain_hint {
            check_hint(h).map_err(|reason| invalid("domain_hint", reason))?;
        }
        if self.algorithms.is_empty() {
            return Err(invalid("algorithms", "name at least one signature algorithm"));
        }
        Ok(Resolved {
            authority,
            scope: scopes.join(" "),
            redirect_uri,
            post_logout_redirect_uri,
            domains: AllowedDomains::new(&self.allowed_domains)?,
            login_ttl: Duration::from_secs(self.login_ttl_secs),
            discovery_ttl: Duration::from_secs(self.discovery_ttl_secs),
        })
    }
}

/// What [`Config::resolve`] derives.
#[derive(Debug)]
pub(crate) struct Resolved {
    pub(crate) authority: Authority,
    pub(crate) scope: String,
    pub(crate) redirect_uri: Option<String>,
    pub(crate) post_logout_redirect_uri: Option<String>,
    pub(crate) domains: AllowedDomains,
    pub(crate) login_ttl: Duration,
    pub(crate) discovery_ttl: Duration,
}

/// Whether `host` is a loopback host, where plain `http` is acceptable.
pub(crate) fn is_loopback_host(host: &url::Host<&str>) -> bool {
    match host {
        url::Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
    }
}

/// A redirect URI must be absolute, `https` (or `http` on a loopback host),
/// without credentials or fragment.
pub(crate) fn check_redirect_uri(uri: &str) -> Result<String, &'static str> {
    let url = url::Url::parse(uri.trim()).map_err(|_| "not an absolute url")?;
    let host = url.host().ok_or("the url has no host")?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback_host(&host) => {}
        "http" => return Err("plain http is only allowed on loopback hosts; use https"),
        _ => return Err("the scheme must be https"),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("the url must not carry credentials");
    }
    if url.fragment().is_some() {
        return Err("the url must not have a fragment");
    }
    Ok(uri.trim().to_owned())
}

/// A `login_hint` or `domain_hint` is a short printable value.
pub(crate) fn check_hint(value: &str) -> Result<(), &'static str> {
    if value.is_empty() || value.len() > 256 || value.chars().any(char::is_control) {
        return Err("must be a short value without control characters");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use entra_core::{Cloud, Tenant, TenantId};

    use super::*;

    const TID: &str = "87654321-4321-4321-4321-210987654321";
    const CID: &str = "12345678-1234-1234-1234-123456789012";

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let owned: Vec<(String, String)> =
            pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        move |n| owned.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone())
    }

    fn read(pairs: &[(&str, &str)]) -> Result<Config> {
        Config::from_lookup(vars(pairs))
    }

    #[test]
    fn gateway_names() {
        let c = read(&[
            ("SSO_ENTRA_CLIENT_ID", CID),
            ("SSO_ENTRA_CLIENT_SECRET", "s~ecret"),
            ("SSO_ENTRA_TENANT_ID", TID),
            ("SSO_TRUSTED_DOMAINS", r#"["acmecorp.com"]"#),
            ("SSO_ENTRA_REDIRECT_URI", "https://gateway.example.com/auth/sso/callback/entra"),
        ])
        .unwrap();
        assert_eq!(c.identity.client_id.as_str(), CID);
        assert_eq!(c.authority().tenant(), &Tenant::parse(TID).unwrap());
        assert_eq!(c.identity.credential, Some(CredentialConfig::secret("s~ecret")));
        assert_eq!(c.allowed_domains, ["acmecorp.com"]);
        assert_eq!(
            c.redirect_uri.as_deref(),
            Some("https://gateway.example.com/auth/sso/callback/entra")
        );
        let r = c.resolve().unwrap();
        assert_eq!(r.scope, "openid profile email");
        assert!(!format!("{c:?}").contains("s~ecret"));
    }

    #[test]
    fn entra_names_win_and_scopes_split() {
        let c = read(&[
            ("ENTRA_CLIENT_ID", CID),
            ("SSO_ENTRA_CLIENT_ID", "not-used"),
            ("ENTRA_AUTHORITY", "https://login.microsoftonline.us/organizations"),
            ("ENTRA_ALLOWED_TENANTS", TID),
            ("ENTRA_SCOPES", "openid profile email offline_access api://x/access_as_user"),
            ("ENTRA_RESPONSE_MODE", "form_post"),
            ("ENTRA_PROMPT", "select_account"),
            ("ENTRA_LOGIN_TTL_SECS", "120"),
            ("ENTRA_DOMAIN_HINT", "contoso.com"),
            ("SSO_ENTRA_POST_LOGOUT_REDIRECT_URI", "https://app.example.com/"),
        ])
        .unwrap();
        assert_eq!(c.authority().cloud(), &Cloud::UsGovernment);
        assert_eq!(c.authority().tenant(), &Tenant::Organizations);
        assert_eq!(
            c.identity.allowed_tenants,
            Some(TenantPolicy::Only(vec![TenantId::parse(TID).unwrap()]))
        );
        assert!(c.offline_access);
        assert_eq!(c.api_scope.as_deref(), Some("api://x/access_as_user"));
        assert_eq!(c.response_mode, ResponseMode::FormPost);
        assert_eq!(c.prompt, Some(Prompt::SelectAccount));
        assert_eq!(c.login_ttl_secs, 120);
        assert_eq!(c.domain_hint.as_deref(), Some("contoso.com"));
        assert_eq!(c.post_logout_redirect_uri.as_deref(), Some("https://app.example.com/"));
        assert_eq!(
            c.resolve().unwrap().scope,
            "openid profile email offline_access api://x/access_as_user"
        );
        // ENTRA_API_SCOPE and ENTRA_OFFLINE_ACCESS on their own.
        let c = read(&[
            ("ENTRA_CLIENT_ID", CID),
            ("ENTRA_TENANT_ID", TID),
            ("ENTRA_API_SCOPE", "api://x/.default"),
            ("ENTRA_OFFLINE_ACCESS", "yes"),
        ])
        .unwrap();
        assert_eq!(
            c.resolve().unwrap().scope,
            "openid profile email offline_access api://x/.default"
        );
    }

    #[test]
    fn missing_and_bad_values_name_the_variable() {
        let err = read(&[("ENTRA_TENANT_ID", TID)]).unwrap_err();
        assert!(matches!(&err, Error::Env(entra_core::Error::MissingEnv { .. })), "{err:?}");
        assert!(
            err.to_string().contains("ENTRA_CLIENT_ID (or SSO_ENTRA_CLIENT_ID, AZURE_CLIENT_ID)"),
            "{err}"
        );
        let err = read(&[("ENTRA_CLIENT_ID", CID)]).unwrap_err();
        assert!(
            err.to_string().contains("ENTRA_TENANT_ID")
                && err.to_string().contains("ENTRA_AUTHORITY"),
            "{err}"
        );
        for (k, v) in [
            ("ENTRA_CLIENT_ID", "dev-client-id"),
            ("ENTRA_SCOPES", "openid api://a/x api://b/y"),
            ("ENTRA_OFFLINE_ACCESS", "maybe"),
            ("SSO_TRUSTED_DOMAINS", "*.acme.com"),
            ("ENTRA_ALLOWED_TENANTS", "contoso.com"),
            ("ENTRA_RESPONSE_MODE", "fragment"),
            ("ENTRA_PROMPT", "always"),
            ("ENTRA_LOGIN_TTL_SECS", "ten"),
        ] {
            let mut env = vec![("ENTRA_CLIENT_ID", CID), ("ENTRA_TENANT_ID", TID)];
            env.retain(|(name, _)| *name != k);
            env.push((k, v));
            match read(&env) {
                Err(Error::Env(entra_core::Error::InvalidEnv { name, .. })) => assert_eq!(name, k),
                other => panic!("{k}={v}: {other:?}"),
            }
        }
    }

    #[test]
    fn every_variable_the_table_gives_to_entra_oidc_is_read() {
        let looked_up = std::cell::RefCell::new(Vec::new());
        let lookup = |name: &str| {
            looked_up.borrow_mut().push(name.to_owned());
            match name {
                "ENTRA_CLIENT_ID" => Some(CID.to_owned()),
                "ENTRA_TENANT_ID" => Some(TID.to_owned()),
                _ => None,
            }
        };
        Config::from_lookup(lookup).unwrap();
        let looked_up = looked_up.into_inner();
        for var in env::ALL {
            let reads = looked_up.iter().any(|n| n == var.name);
            let listed = var.read_by.contains(&"entra-oidc");
            assert!(!listed || reads, "{} is listed for entra-oidc but not read", var.name);
        }
        for name in &looked_up {
            let var =
                env::EnvVar::find(name).unwrap_or_else(|| panic!("{name} is not in the table"));
            assert!(
                var.read_by.contains(&"entra-oidc") || var.read_by.contains(&"entra-jwks"),
                "{name}"
            );
        }
    }

    fn base() -> Config {
        Config::new(
            Authority::new(Cloud::Public, Tenant::parse(TID).unwrap()),
            ClientId::parse(CID).unwrap(),
        )
    }

    #[test]
    fn resolve_refuses_weak_settings() {
        let mut multi = base();
        multi.identity.authority = Authority::new(Cloud::Public, Tenant::Common);
        assert!(matches!(
            multi.resolve(),
            Err(Error::InvalidConfig { field: "allowed_tenants", .. })
        ));
        multi.identity.allowed_tenants = Some(TenantPolicy::Only(Vec::new()));
        assert!(matches!(
            multi.resolve(),
            Err(Error::InvalidConfig { field: "allowed_tenants", .. })
        ));
        multi.identity.allowed_tenants = Some(TenantPolicy::Any);
        assert!(multi.resolve().is_ok());

        type Change = Box<dyn Fn(&mut Config)>;
        let cases: Vec<(&str, Change)> = vec![
            (
                "redirect_uri",
                Box::new(|c| c.redirect_uri = Some("http://app.example.com/cb".into())),
            ),
            ("redirect_uri", Box::new(|c| c.redirect_uri = Some("/callback".into()))),
            (
                "redirect_uri",
                Box::new(|c| c.redirect_uri = Some("https://u:p@app.example.com/cb".into())),
            ),
            (
                "redirect_uri",
                Box::new(|c| c.redirect_uri = Some("https://app.example.com/cb#x".into())),
            ),
            (
                "post_logout_redirect_uri",
                Box::new(|c| c.post_logout_redirect_uri = Some("javascript:x".into())),
            ),
            ("scopes", Box::new(|c| c.scopes = vec!["User.Read".into()])),
            ("api_scope", Box::new(|c| c.api_scope = Some("a b".into()))),
            ("api_scope", Box::new(|c| c.api_scope = Some("openid".into()))),
            (
                "client_secret",
                Box::new(|c| c.identity.credential = Some(CredentialConfig::secret(""))),
            ),
            ("login_ttl_secs", Box::new(|c| c.login_ttl_secs = 0)),
            ("discovery_ttl_secs", Box::new(|c| c.discovery_ttl_secs = 10)),
            ("allowed_domains", Box::new(|c| c.allowed_domains = vec!["acme".into()])),
        ];
        for (field, change) in cases {
            let mut c = base();
            change(&mut c);
            match c.resolve() {
                Err(Error::InvalidConfig { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{field}: {other:?}"),
            }
        }
    }

    #[test]
    fn resolve_accepts_loopback_http_and_adds_openid() {
        let mut c = base();
        c.redirect_uri = Some("http://127.0.0.1:53100/callback".into());
        c.post_logout_redirect_uri = Some("http://localhost:3000/".into());
        c.scopes = vec!["email".into()];
        c.offline_access = true;
        let r = c.resolve().unwrap();
        assert_eq!(r.scope, "openid email offline_access");
        assert_eq!(r.redirect_uri.as_deref(), Some("http://127.0.0.1:53100/callback"));
    }

    #[test]
    fn serde_defaults_and_domain_string() {
        let c: Config = serde_json::from_value(serde_json::json!({
            "tenant_id": TID, "client_id": CID, "allowed_domains": ["acme.com"],
            "response_mode": "form_post", "prompt": "login"
        }))
        .unwrap();
        assert_eq!(c.login_ttl_secs, 600);
        assert_eq!(c.allowed_domains, ["acme.com"]);
        assert_eq!(c.prompt, Some(Prompt::Login));
        let bad = serde_json::from_value::<Config>(
            serde_json::json!({"tenant_id": "x", "client_id": CID}),
        );
        assert!(bad.is_err());
        // A key neither the sign-in settings nor the identity take is refused.
        let typo = serde_json::from_value::<Config>(
            serde_json::json!({"tenant_id": TID, "client_id": CID, "redirect_url": "https://a.example/cb"}),
        )
        .unwrap_err();
        assert!(typo.to_string().contains("unknown field `redirect_url`"), "{typo}");
    }
}
