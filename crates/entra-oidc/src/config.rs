//! Configuration: a serde struct with secure defaults, readable from the
//! environment under our `ENTRA_*` names and the gateways' `SSO_ENTRA_*` ones.

use std::fmt;
use std::time::Duration;

use entra_core::{Authority, ClientId, Cloud, Secret, Tenant, TenantId};
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
/// Only `tenant` and `client_id` are required (plus `redirect_uri` for web apps);
/// every other field has a secure default. Deserialize it from your
/// configuration file, build it with [`Config::new`], or read it from the
/// environment with [`Config::from_env`].
///
/// ```
/// use entra_oidc::Config;
/// let config: Config = serde_json::from_str(r#"{
///     "tenant": "72f988bf-86f1-41af-91ab-2d7cd011db47",
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
    /// The cloud. Defaults to `public` (`login.microsoftonline.com`).
    #[serde(default)]
    pub cloud: Cloud,
    /// The tenant: a GUID or verified domain (single tenant), or `organizations`
    /// / `common` (multi-tenant, which requires [`Config::allowed_tenants`] or
    /// [`Config::allow_any_tenant`]). Required.
    pub tenant: Tenant,
    /// The application (client) id. Required.
    pub client_id: ClientId,
    /// The client secret of a confidential client. Leave it unset for a public
    /// client (desktop, CLI) or when a certificate credential is passed to
    /// [`ClientBuilder::credential`](crate::ClientBuilder::credential).
    /// Defaults to `None`.
    #[serde(default)]
    pub client_secret: Option<Secret>,
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
    /// With a multi-tenant `tenant`, the tenants whose users may sign in.
    /// Defaults to empty.
    #[serde(default)]
    pub allowed_tenants: Vec<TenantId>,
    /// With a multi-tenant `tenant`, accept users from every tenant (the issuer
    /// is still checked against the `{tenantid}` template). Defaults to `false`.
    #[serde(default)]
    pub allow_any_tenant: bool,
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
            .field("cloud", &self.cloud)
            .field("tenant", &self.tenant)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("redirect_uri", &self.redirect_uri)
            .field("scopes", &self.scopes)
            .field("offline_access", &self.offline_access)
            .field("api_scope", &self.api_scope)
            .field("allowed_domains", &self.allowed_domains)
            .field("allowed_tenants", &self.allowed_tenants)
            .field("allow_any_tenant", &self.allow_any_tenant)
            .field("response_mode", &self.response_mode)
            .finish_non_exhaustive()
    }
}

impl Config {
    /// A configuration for `client_id` signing users in at `authority`, with
    /// every other field at its default.
    pub fn new(authority: Authority, client_id: ClientId) -> Self {
        Self {
            cloud: authority.cloud().clone(),
            tenant: authority.tenant().clone(),
            client_id,
            client_secret: None,
            redirect_uri: None,
            scopes: default_scopes(),
            offline_access: false,
            api_scope: None,
            allowed_domains: Vec::new(),
            allowed_tenants: Vec::new(),
            allow_any_tenant: false,
            response_mode: ResponseMode::default(),
            prompt: None,
            domain_hint: None,
            post_logout_redirect_uri: None,
            login_ttl_secs: default_login_ttl(),
            discovery_ttl_secs: default_discovery_ttl(),
        }
    }

    /// The authority (cloud + tenant).
    pub fn authority(&self) -> Authority {
        Authority::new(self.cloud.clone(), self.tenant.clone())
    }

    /// Reads the configuration from the process environment; see
    /// [`Config::from_vars`] for the names.
    ///
    /// # Errors
    /// As [`Config::from_vars`].
    pub fn from_env() -> Result<Self> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `lookup` (a variable name to its value).
    /// For each setting the first non-empty name wins:
    ///
    /// | setting | names |
    /// |---|---|
    /// | client id (required) | `ENTRA_CLIENT_ID`, `SSO_ENTRA_CLIENT_ID`, `AZURE_CLIENT_ID` |
    /// | client secret | `ENTRA_CLIENT_SECRET`, `SSO_ENTRA_CLIENT_SECRET`, `AZURE_CLIENT_SECRET` |
    /// | tenant (required unless an authority is set) | `ENTRA_TENANT_ID`, `SSO_ENTRA_TENANT_ID`, `AZURE_TENANT_ID` |
    /// | authority URL (cloud + tenant) | `ENTRA_AUTHORITY`, `SSO_ENTRA_AUTHORITY` |
    /// | cloud | `ENTRA_CLOUD`, `AZURE_AUTHORITY_HOST` |
    /// | redirect URI | `ENTRA_REDIRECT_URI`, `SSO_ENTRA_REDIRECT_URI` |
    /// | scopes (OIDC scopes, `offline_access`, one API scope) | `ENTRA_SCOPES`, `SSO_ENTRA_SCOPES` |
    /// | API scope | `ENTRA_API_SCOPE` |
    /// | refresh tokens (`true`/`false`) | `ENTRA_OFFLINE_ACCESS` |
    /// | allowed domains | `ENTRA_ALLOWED_DOMAINS`, `SSO_TRUSTED_DOMAINS`, `SSO_ENTRA_ALLOWED_DOMAINS` |
    /// | allowed tenants (list, or `*` for any) | `ENTRA_ALLOWED_TENANTS` |
    /// | response mode (`query`, `form_post`) | `ENTRA_RESPONSE_MODE` |
    /// | prompt | `ENTRA_PROMPT` |
    /// | domain hint | `ENTRA_DOMAIN_HINT` |
    /// | post-logout redirect URI | `ENTRA_POST_LOGOUT_REDIRECT_URI`, `SSO_ENTRA_POST_LOGOUT_REDIRECT_URI` |
    /// | sign-in lifetime (seconds) | `ENTRA_LOGIN_TTL_SECS` |
    ///
    /// ```
    /// use entra_oidc::Config;
    /// let env = [
    ///     ("SSO_ENTRA_CLIENT_ID", "12345678-1234-1234-1234-123456789012"),
    ///     ("SSO_ENTRA_CLIENT_SECRET", "your~secret"),
    ///     ("SSO_ENTRA_TENANT_ID", "87654321-4321-4321-4321-210987654321"),
    ///     ("SSO_TRUSTED_DOMAINS", r#"["yourcompany.com"]"#),
    /// ];
    /// let config = Config::from_vars(|n| env.iter().find(|(k, _)| *k == n).map(|(_, v)| v.to_string()))?;
    /// assert_eq!(config.allowed_domains, ["yourcompany.com"]);
    /// # Ok::<(), entra_oidc::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::MissingConfig`] when the client id or tenant is missing;
    /// [`Error::InvalidConfigValue`] / [`Error::InvalidConfig`] for a value that
    /// cannot be parsed.
    pub fn from_vars(lookup: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let get = |names: &[&str]| {
            names
                .iter()
                .find_map(|n| lookup(n).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()))
        };
        let client_id = get(&["ENTRA_CLIENT_ID", "SSO_ENTRA_CLIENT_ID", "AZURE_CLIENT_ID"]).ok_or(
            Error::MissingConfig {
                what: "client id",
                names: "ENTRA_CLIENT_ID, SSO_ENTRA_CLIENT_ID, AZURE_CLIENT_ID",
            },
        )?;
        let client_id = ClientId::parse(&client_id)
            .map_err(|source| Error::InvalidConfigValue { field: "client_id", source })?;

        let mut cloud = match get(&["ENTRA_CLOUD", "AZURE_AUTHORITY_HOST"]) {
            Some(c) => Cloud::parse(&c)
                .map_err(|source| Error::InvalidConfigValue { field: "cloud", source })?,
            None => Cloud::Public,
        };
        let mut tenant = None;
        if let Some(a) = get(&["ENTRA_AUTHORITY", "SSO_ENTRA_AUTHORITY"]) {
            let a = Authority::parse(&a)
                .map_err(|source| Error::InvalidConfigValue { field: "authority", source })?;
            cloud = a.cloud().clone();
            tenant = Some(a.tenant().clone());
        }
        if let Some(t) = get(&["ENTRA_TENANT_ID", "SSO_ENTRA_TENANT_ID", "AZURE_TENANT_ID"]) {
            tenant = Some(
                Tenant::parse(&t)
                    .map_err(|source| Error::InvalidConfigValue { field: "tenant", source })?,
            );
        }
        let tenant = tenant.ok_or(Error::MissingConfig {
            what: "tenant",
            names: "ENTRA_TENANT_ID, SSO_ENTRA_TENANT_ID, AZURE_TENANT_ID or ENTRA_AUTHORITY",
        })?;

        let mut config = Self::new(Authority::new(cloud, tenant), client_id);
        config.client_secret =
            get(&["ENTRA_CLIENT_SECRET", "SSO_ENTRA_CLIENT_SECRET", "AZURE_CLIENT_SECRET"])
                .map(Secret::new);
        config.redirect_uri = get(&["ENTRA_REDIRECT_URI", "SSO_ENTRA_REDIRECT_URI"]);
        if let Some(scopes) = get(&["ENTRA_SCOPES", "SSO_ENTRA_SCOPES"]) {
            config.set_scopes_from_list(&scopes)?;
        }
        if let Some(api) = get(&["ENTRA_API_SCOPE"]) {
            config.api_scope = Some(api);
        }
        if let Some(v) = get(&["ENTRA_OFFLINE_ACCESS"]) {
            config.offline_access = parse_bool(&v).ok_or_else(|| Error::InvalidConfig {
                field: "offline_access",
                reason: "expected true or false".into(),
            })?;
        }
        if let Some(d) =
            get(&["ENTRA_ALLOWED_DOMAINS", "SSO_TRUSTED_DOMAINS", "SSO_ENTRA_ALLOWED_DOMAINS"])
        {
            config.allowed_domains = AllowedDomains::parse_list(&d)?.domains().to_vec();
        }
        if let Some(t) = get(&["ENTRA_ALLOWED_TENANTS"]) {
            config.set_tenants_from_list(&t)?;
        }
        if let Some(m) = get(&["ENTRA_RESPONSE_MODE"]) {
            config.response_mode = ResponseMode::parse(&m).ok_or_else(|| Error::InvalidConfig {
                field: "response_mode",
                reason: "expected query or form_post".into(),
            })?;
        }
        if let Some(p) = get(&["ENTRA_PROMPT"]) {
            config.prompt = Some(Prompt::parse(&p).ok_or_else(|| Error::InvalidConfig {
                field: "prompt",
                reason: "expected login, none, consent or select_account".into(),
            })?);
        }
        config.domain_hint = get(&["ENTRA_DOMAIN_HINT"]);
        config.post_logout_redirect_uri =
            get(&["ENTRA_POST_LOGOUT_REDIRECT_URI", "SSO_ENTRA_POST_LOGOUT_REDIRECT_URI"]);
        if let Some(ttl) = get(&["ENTRA_LOGIN_TTL_SECS"]) {
            config.login_ttl_secs = ttl.parse().map_err(|_| Error::InvalidConfig {
                field: "login_ttl_secs",
                reason: "expected a number of seconds".into(),
            })?;
        }
        Ok(config)
    }

    /// Splits a scope list such as `openid profile email offline_access
    /// api://x/access_as_user` into OIDC scopes, the refresh flag and the API scope.
    fn set_scopes_from_list(&mut self, list: &str) -> Result<()> {
        let mut scopes = Vec::new();
        for s in list.split(|c: char| c == ',' || c.is_whitespace()).filter(|s| !s.is_empty()) {
            if s == "offline_access" {
                self.offline_access = true;
            } else if OIDC_SCOPES.contains(&s) {
                scopes.push(s.to_owned());
            } else if self.api_scope.replace(s.to_owned()).is_some() {
                return Err(Error::InvalidConfig {
                    field: "scopes",
                    reason: "at most one API scope may be requested at sign-in".into(),
                });
            }
        }
        self.scopes = scopes;
        Ok(())
    }

    fn set_tenants_from_list(&mut self, list: &str) -> Result<()> {
        let mut tenants = Vec::new();
        for t in list
            .trim_matches(|c| c == '[' || c == ']')
            .split(|c: char| c == ',' || c.is_whitespace())
            .map(|s| s.trim_matches(|c| c == '"' || c == '\''))
            .filter(|s| !s.is_empty())
        {
            if t == "*" || t.eq_ignore_ascii_case("any") {
                self.allow_any_tenant = true;
            } else {
                tenants.push(TenantId::parse(t).map_err(|source| Error::InvalidConfigValue {
                    field: "allowed_tenants",
                    source,
                })?);
            }
        }
        self.allowed_tenants = tenants;
        Ok(())
    }

    /// Checks every field and derives what the client needs.
    pub(crate) fn resolve(&self) -> Result<Resolved> {
        let invalid = |field: &'static str, reason: &str| Error::InvalidConfig {
            field,
            reason: reason.to_owned(),
        };
        let authority = self.authority();
        if self.tenant.is_multi_tenant()
            && !self.allow_any_tenant
            && self.allowed_tenants.is_empty()
        {
            return Err(invalid(
                "allowed_tenants",
                "a multi-tenant authority (common/organizations) needs an explicit tenant allow-list or allow_any_tenant = true",
            ));
        }
        if matches!(&self.client_secret, Some(s) if s.is_empty()) {
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

fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
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
    use super::*;

    const TID: &str = "87654321-4321-4321-4321-210987654321";
    const CID: &str = "12345678-1234-1234-1234-123456789012";

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let owned: Vec<(String, String)> =
            pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        move |n| owned.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone())
    }

    #[test]
    fn gateway_names() {
        let c = Config::from_vars(vars(&[
            ("SSO_ENTRA_CLIENT_ID", CID),
            ("SSO_ENTRA_CLIENT_SECRET", "s~ecret"),
            ("SSO_ENTRA_TENANT_ID", TID),
            ("SSO_TRUSTED_DOMAINS", r#"["acmecorp.com"]"#),
            ("SSO_ENTRA_REDIRECT_URI", "https://gateway.example.com/auth/sso/callback/entra"),
        ]))
        .unwrap();
        assert_eq!(c.client_id.as_str(), CID);
        assert_eq!(c.tenant, Tenant::parse(TID).unwrap());
        assert_eq!(c.client_secret.as_ref().unwrap().expose_secret(), "s~ecret");
        assert_eq!(c.allowed_domains, ["acmecorp.com"]);
        let r = c.resolve().unwrap();
        assert_eq!(r.scope, "openid profile email");
        assert!(!format!("{c:?}").contains("s~ecret"));
    }

    #[test]
    fn entra_names_win_and_scopes_split() {
        let c = Config::from_vars(vars(&[
            ("ENTRA_CLIENT_ID", CID),
            ("SSO_ENTRA_CLIENT_ID", "not-used"),
            ("ENTRA_AUTHORITY", "https://login.microsoftonline.us/organizations"),
            ("ENTRA_ALLOWED_TENANTS", TID),
            ("ENTRA_SCOPES", "openid profile email offline_access api://x/access_as_user"),
            ("ENTRA_RESPONSE_MODE", "form_post"),
            ("ENTRA_PROMPT", "select_account"),
        ]))
        .unwrap();
        assert_eq!(c.cloud, Cloud::UsGovernment);
        assert_eq!(c.tenant, Tenant::Organizations);
        assert!(c.offline_access);
        assert_eq!(c.api_scope.as_deref(), Some("api://x/access_as_user"));
        assert_eq!(c.response_mode, ResponseMode::FormPost);
        assert_eq!(c.prompt, Some(Prompt::SelectAccount));
        assert_eq!(
            c.resolve().unwrap().scope,
            "openid profile email offline_access api://x/access_as_user"
        );
    }

    #[test]
    fn missing_and_bad_values_are_errors() {
        assert!(matches!(
            Config::from_vars(vars(&[("ENTRA_TENANT_ID", TID)])),
            Err(Error::MissingConfig { what: "client id", .. })
        ));
        assert!(matches!(
            Config::from_vars(vars(&[("ENTRA_CLIENT_ID", CID)])),
            Err(Error::MissingConfig { what: "tenant", .. })
        ));
        assert!(matches!(
            Config::from_vars(vars(&[
                ("ENTRA_CLIENT_ID", "dev-client-id"),
                ("ENTRA_TENANT_ID", TID)
            ])),
            Err(Error::InvalidConfigValue { field: "client_id", .. })
        ));
        for (k, v) in [
            ("ENTRA_SCOPES", "openid api://a/x api://b/y"),
            ("ENTRA_OFFLINE_ACCESS", "maybe"),
            ("SSO_TRUSTED_DOMAINS", "*.acme.com"),
            ("ENTRA_ALLOWED_TENANTS", "contoso.com"),
            ("ENTRA_RESPONSE_MODE", "fragment"),
            ("ENTRA_LOGIN_TTL_SECS", "ten"),
        ] {
            let r = Config::from_vars(vars(&[
                ("ENTRA_CLIENT_ID", CID),
                ("ENTRA_TENANT_ID", TID),
                (k, v),
            ]));
            assert!(r.is_err(), "{k}={v}");
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
        multi.tenant = Tenant::Common;
        assert!(matches!(
            multi.resolve(),
            Err(Error::InvalidConfig { field: "allowed_tenants", .. })
        ));
        multi.allow_any_tenant = true;
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
            ("client_secret", Box::new(|c| c.client_secret = Some(Secret::new("")))),
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
            "tenant": TID, "client_id": CID, "allowed_domains": ["acme.com"],
            "response_mode": "form_post", "prompt": "login"
        }))
        .unwrap();
        assert_eq!(c.login_ttl_secs, 600);
        assert_eq!(c.allowed_domains, ["acme.com"]);
        assert_eq!(c.prompt, Some(Prompt::Login));
        let bad =
            serde_json::from_value::<Config>(serde_json::json!({"tenant": "x", "client_id": CID}));
        assert!(bad.is_err());
    }
}
