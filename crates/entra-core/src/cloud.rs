//! National clouds and tenants.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer};

use crate::error::shorten;
use crate::{Error, TenantId};

/// The hosts of one Microsoft cloud: where users sign in, where v1 tokens say they
/// come from, and where Microsoft Graph lives.
#[derive(Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Cloud {
    /// The global Azure cloud (`login.microsoftonline.com`).
    Public,
    /// Azure US Government (`login.microsoftonline.us`).
    UsGovernment,
    /// Azure China, operated by 21Vianet (`login.partner.microsoftonline.cn`).
    China,
    /// Any other hosts: a mock Entra on loopback, a CIAM tenant, a future cloud.
    Custom(CustomCloud),
}

/// The hosts of a cloud not built into [`Cloud`]; see [`Cloud::custom`].
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct CustomCloud {
    login: String,
    graph: String,
    sts: String,
}

impl fmt::Debug for CustomCloud {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CustomCloud")
            .field("login", &self.login)
            .field("graph", &self.graph)
            .field("sts", &self.sts)
            .finish()
    }
}

impl fmt::Debug for Cloud {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Public => f.write_str("Cloud::Public"),
            Self::UsGovernment => f.write_str("Cloud::UsGovernment"),
            Self::China => f.write_str("Cloud::China"),
            Self::Custom(c) => f.debug_tuple("Cloud::Custom").field(c).finish(),
        }
    }
}

/// Checks and normalizes a base URL: `http(s)://host[:port][/path]`, no user info, no
/// query, no fragment, no trailing slash. Plain `http` is accepted only for loopback
/// hosts.
///
/// The result is the URL as `url::Url` parsed it, not the caller's text: the host a
/// request goes to is the host the value displays. (`https://evil.example\@login.microsoftonline.com`
/// is the host `evil.example`, as browsers and HTTP clients read it, so it is kept
/// and shown as `https://evil.example/@login.microsoftonline.com`.)
fn normalize_base(input: &str) -> Option<String> {
    let url = url::Url::parse(input.trim()).ok()?;
    let host = url.host_str()?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(host) => {}
        _ => return None,
    }
    if url.query().is_some()
        || url.fragment().is_some()
        || !url.username().is_empty()
        || url.password().is_some()
    {
        return None;
    }
    let mut base = url.origin().ascii_serialization();
    base.push_str(url.path().trim_end_matches('/'));
    Some(base)
}

/// The host of a normalized base URL, lowercase.
fn host_of(base: &str) -> Option<String> {
    url::Url::parse(base).ok()?.host_str().map(str::to_ascii_lowercase)
}

/// Whether `host` is under `suffix` (a dot-separated domain), not merely ending with it.
fn host_under(host: &str, suffix: &str) -> bool {
    host.strip_suffix(suffix).is_some_and(|rest| rest.ends_with('.') && rest.len() > 1)
}

fn is_loopback(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    let bare = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    bare.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

impl Cloud {
    /// A cloud with its own hosts. `login` is the base URL of the authority
    /// (`https://login.example` or, for a test, `http://127.0.0.1:PORT`); `graph` the
    /// base URL of Microsoft Graph. v1 token issuers are `{login}/{tid}/`; change that
    /// with [`Cloud::with_v1_issuer_base`].
    ///
    /// # Errors
    /// [`Error::InvalidCloud`] when a URL is not `https` (plain `http` is accepted for
    /// loopback hosts only) or carries a query or fragment.
    pub fn custom(login: &str, graph: &str) -> Result<Self, Error> {
        let bad = |v: &str| Error::InvalidCloud { value: shorten(v) };
        let login = normalize_base(login).ok_or_else(|| bad(login))?;
        let graph = normalize_base(graph).ok_or_else(|| bad(graph))?;
        Ok(Self::Custom(CustomCloud { sts: login.clone(), login, graph }))
    }

    /// For a custom cloud, sets the base of v1 issuers (`{base}/{tid}/`). Built-in
    /// clouds are returned unchanged.
    ///
    /// # Errors
    /// [`Error::InvalidCloud`] when `base` is not an acceptable base URL.
    pub fn with_v1_issuer_base(self, base: &str) -> Result<Self, Error> {
        match self {
            Self::Custom(mut c) => {
                c.sts = normalize_base(base)
                    .ok_or_else(|| Error::InvalidCloud { value: shorten(base) })?;
                Ok(Self::Custom(c))
            }
            other => Ok(other),
        }
    }

    /// The authority base URL, without a trailing slash.
    pub fn login_base(&self) -> &str {
        match self {
            Self::Public => "https://login.microsoftonline.com",
            Self::UsGovernment => "https://login.microsoftonline.us",
            Self::China => "https://login.partner.microsoftonline.cn",
            Self::Custom(c) => &c.login,
        }
    }

    /// The Microsoft Graph base URL, without a trailing slash. It is also the
    /// resource identifier used to request Graph tokens.
    pub fn graph_base(&self) -> &str {
        match self {
            Self::Public => "https://graph.microsoft.com",
            Self::UsGovernment => "https://graph.microsoft.us",
            Self::China => "https://microsoftgraph.chinacloudapi.cn",
            Self::Custom(c) => &c.graph,
        }
    }

    /// Whether this is an Entra External ID (CIAM) cloud (`*.ciamlogin.com`).
    pub fn is_ciam(&self) -> bool {
        match self {
            Self::Custom(c) => host_of(&c.login).is_some_and(|h| host_under(&h, "ciamlogin.com")),
            _ => false,
        }
    }

    fn sts_base(&self) -> &str {
        match self {
            Self::Public | Self::UsGovernment => "https://sts.windows.net",
            Self::China => "https://sts.chinacloudapi.cn",
            Self::Custom(c) => &c.sts,
        }
    }

    /// The issuer of v2 tokens from tenant `tid`: `{login}/{tid}/v2.0`.
    pub fn v2_issuer(&self, tid: &TenantId) -> String {
        format!("{}/{}/v2.0", self.login_base(), tid)
    }

    /// The issuer of v1 tokens from tenant `tid`: `https://sts.windows.net/{tid}/`
    /// (with a trailing slash) in the public cloud.
    pub fn v1_issuer(&self, tid: &TenantId) -> String {
        format!("{}/{}/", self.sts_base(), tid)
    }

    /// The v2 issuer template published by the `common` and `organizations`
    /// metadata: `{login}/{tenantid}/v2.0`, braces unencoded.
    pub fn v2_issuer_template(&self) -> String {
        format!("{}/{}/v2.0", self.login_base(), crate::IssuerTemplate::PLACEHOLDER)
    }

    /// The v1 issuer template: `https://sts.windows.net/{tenantid}/` in the public cloud.
    pub fn v1_issuer_template(&self) -> String {
        format!("{}/{}/", self.sts_base(), crate::IssuerTemplate::PLACEHOLDER)
    }

    /// Parses `public`, `usgovernment`, `china` (and the Azure SDK spellings such as
    /// `AzurePublicCloud`, `AzureUSGovernment`, `AzureChinaCloud`), a built-in login
    /// host URL, an Entra External ID (CIAM) host `https://<tenant>.ciamlogin.com`
    /// (whose Microsoft Graph is the public `https://graph.microsoft.com`), or any other
    /// base URL as a custom cloud whose Graph is on the same host.
    ///
    /// # Errors
    /// [`Error::InvalidCloud`] when nothing matches; [`Error::B2cNotSupported`] for an
    /// Azure AD B2C host (`*.b2clogin.com`), which has user-flow policies and issuers
    /// that this workspace does not implement.
    pub fn parse(input: &str) -> Result<Self, Error> {
        let key: String =
            input.trim().chars().filter(|c| !matches!(c, '-' | '_' | ' ')).collect::<String>();
        let key = key.to_ascii_lowercase();
        let named = match key.as_str() {
            "public" | "global" | "azurepublic" | "azurepubliccloud" | "azurecloud" => {
                Some(Self::Public)
            }
            "usgov" | "usgovernment" | "azureusgovernment" | "azureusgovernmentcloud" => {
                Some(Self::UsGovernment)
            }
            "china" | "azurechina" | "azurechinacloud" => Some(Self::China),
            _ => None,
        };
        if let Some(cloud) = named {
            return Ok(cloud);
        }
        let base =
            normalize_base(input).ok_or_else(|| Error::InvalidCloud { value: shorten(input) })?;
        for cloud in [Self::Public, Self::UsGovernment, Self::China] {
            if base.eq_ignore_ascii_case(cloud.login_base()) {
                return Ok(cloud);
            }
        }
        if base.eq_ignore_ascii_case("https://login.chinacloudapi.cn") {
            return Ok(Self::China);
        }
        let host = host_of(&base).unwrap_or_default();
        if host_under(&host, "b2clogin.com") {
            return Err(Error::B2cNotSupported { value: shorten(input) });
        }
        if host_under(&host, "ciamlogin.com") {
            // Entra External ID (CIAM): its own login host, the public cloud's Graph.
            return Self::custom(&base, Self::Public.graph_base());
        }
        Self::custom(&base, &base)
    }
}

impl Default for Cloud {
    /// The public cloud.
    fn default() -> Self {
        Self::Public
    }
}

impl FromStr for Cloud {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Self::parse(s)
    }
}

impl<'de> Deserialize<'de> for Cloud {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// The tenant segment of an authority.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub enum Tenant {
    /// One directory, by id.
    Id(TenantId),
    /// One directory, by one of its verified domain names (stored in lowercase).
    Domain(String),
    /// Work, school and personal accounts from any tenant (multi-tenant).
    Common,
    /// Work and school accounts from any tenant (multi-tenant).
    Organizations,
    /// Personal Microsoft accounts only.
    Consumers,
}

fn is_domain(s: &str) -> bool {
    if s.len() > 253 || !s.contains('.') {
        return false;
    }
    // A top-level label is never all digits (`v2.0` is a path, not a domain).
    if s.rsplit('.').next().is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit())) {
        return false;
    }
    s.split('.').all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    })
}

impl Tenant {
    /// Parses a tenant GUID, a domain name, `common`, `organizations` or `consumers`
    /// (case-insensitive).
    ///
    /// # Errors
    /// [`Error::InvalidTenant`] for anything else (empty, spaces, slashes, a URL).
    pub fn parse(input: &str) -> Result<Self, Error> {
        let s = input.trim();
        let lower = s.to_ascii_lowercase();
        match lower.as_str() {
            "common" => return Ok(Self::Common),
            "organizations" => return Ok(Self::Organizations),
            "consumers" => return Ok(Self::Consumers),
            _ => {}
        }
        if let Some(guid) = crate::guid::parse_guid(s) {
            return TenantId::parse(&guid).map(Self::Id);
        }
        if is_domain(&lower) {
            return Ok(Self::Domain(lower));
        }
        Err(Error::InvalidTenant { value: shorten(input) })
    }

    /// The path segment used in URLs.
    pub fn as_segment(&self) -> &str {
        match self {
            Self::Id(id) => id.as_str(),
            Self::Domain(d) => d,
            Self::Common => "common",
            Self::Organizations => "organizations",
            Self::Consumers => "consumers",
        }
    }

    /// Whether tokens from many tenants arrive through this authority (`common`,
    /// `organizations`), so issuers are checked with the `{tenantid}` template.
    pub fn is_multi_tenant(&self) -> bool {
        matches!(self, Self::Common | Self::Organizations)
    }

    /// The one tenant id this segment stands for, when it is known without discovery
    /// (a GUID, or the fixed id of `consumers`).
    pub fn tenant_id(&self) -> Option<TenantId> {
        match self {
            Self::Id(id) => Some(id.clone()),
            Self::Consumers => TenantId::parse(TenantId::CONSUMERS).ok(),
            _ => None,
        }
    }
}

impl fmt::Display for Tenant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_segment())
    }
}

impl FromStr for Tenant {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Self::parse(s)
    }
}

impl From<TenantId> for Tenant {
    fn from(id: TenantId) -> Self {
        Self::Id(id)
    }
}

impl<'de> Deserialize<'de> for Tenant {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cloud_names_and_hosts() {
        assert_eq!(Cloud::parse("AzureUSGovernment").unwrap(), Cloud::UsGovernment);
        assert_eq!(Cloud::parse("public").unwrap(), Cloud::Public);
        assert_eq!(Cloud::parse("azure_china_cloud").unwrap(), Cloud::China);
        assert_eq!(Cloud::parse("https://login.microsoftonline.com/").unwrap(), Cloud::Public);
        assert_eq!(Cloud::parse("https://login.chinacloudapi.cn").unwrap(), Cloud::China);
        let c = Cloud::parse("http://127.0.0.1:8080/").unwrap();
        assert_eq!(c.login_base(), "http://127.0.0.1:8080");
        assert_eq!(c.graph_base(), "http://127.0.0.1:8080");
        assert!(Cloud::parse("http://[::1]:9000").is_ok());
        assert!(Cloud::parse("http://localhost:9000").is_ok());
    }

    #[test]
    fn cloud_rejects_garbage() {
        for bad in [
            "",
            "mars",
            "http://example.com",
            "http://127.evil.com",
            "http://127.0.0.1.evil.com",
            "ftp://x",
            "https://x/?a=b",
            "https://u:p@x",
            "https://u@x",
        ] {
            assert!(matches!(Cloud::parse(bad), Err(Error::InvalidCloud { .. })), "{bad}");
        }
    }

    #[test]
    fn tenant_kinds() {
        assert_eq!(Tenant::parse("Common").unwrap(), Tenant::Common);
        assert_eq!(Tenant::parse("organizations").unwrap(), Tenant::Organizations);
        assert_eq!(Tenant::parse("CONSUMERS").unwrap(), Tenant::Consumers);
        assert_eq!(Tenant::parse("Contoso.COM").unwrap(), Tenant::Domain("contoso.com".into()));
        assert!(matches!(
            Tenant::parse("72F988BF-86F1-41AF-91AB-2D7CD011DB47").unwrap(),
            Tenant::Id(_)
        ));
        assert_eq!(
            Tenant::Consumers.tenant_id().unwrap().as_str(),
            "9188040d-6c67-4c5b-b112-36a304b66dad"
        );
    }

    #[test]
    fn tenant_rejects_garbage() {
        for bad in [
            "",
            "contoso",
            "a/b.com",
            "https://contoso.com",
            "-x.com",
            "x..com",
            "con toso.com",
            "v2.0",
            "V2.0",
        ] {
            assert!(matches!(Tenant::parse(bad), Err(Error::InvalidTenant { .. })), "{bad}");
        }
    }
}
