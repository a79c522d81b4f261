//! Authorities (cloud + tenant), every endpoint URL, and issuer rules.
//!
//! URLs are built by string concatenation on purpose: templating on a parsed
//! `url::Url` would percent-encode the braces of `{tenantid}`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer};

use crate::error::shorten;
use crate::{ClientId, Cloud, Error, Tenant, TenantId};

/// Which token format a URL or issuer is for.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub enum TokenVersion {
    /// v1.0 tokens (`ver: "1.0"`, issuer `https://sts.windows.net/{tid}/`).
    V1,
    /// v2.0 tokens (`ver: "2.0"`, issuer `https://login.microsoftonline.com/{tid}/v2.0`).
    V2,
}

/// An issuer, exact or templated with the literal `{tenantid}` placeholder, as
/// published by the `common`/`organizations` metadata and by each key of a
/// multi-tenant JWKS.
///
/// Matching follows Entra's documented rule: take `tid` from the token, require a GUID,
/// substitute it textually, require an exact match with `iss`. In addition the
/// issuer must name the token's tenant as one of its path segments, so a token whose
/// `tid` differs from its issuer's tenant is refused even against an exact issuer.
///
/// ```
/// use entra_core::IssuerTemplate;
/// let t = IssuerTemplate::new("https://login.microsoftonline.com/{tenantid}/v2.0");
/// let tid = "72f988bf-86f1-41af-91ab-2d7cd011db47";
/// let iss = format!("https://login.microsoftonline.com/{tid}/v2.0");
/// assert_eq!(t.check(&iss, Some(tid)).unwrap().as_str(), tid);
/// // Another tenant's issuer with this tid: refused.
/// let other = "https://login.microsoftonline.com/00000000-0000-0000-0000-000000000001/v2.0";
/// assert!(t.check(other, Some(tid)).is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct IssuerTemplate(String);

impl IssuerTemplate {
    /// The placeholder Entra publishes in multi-tenant issuers.
    pub const PLACEHOLDER: &'static str = "{tenantid}";

    /// Wraps an issuer string, templated or not. The placeholder is matched
    /// case-insensitively and also accepted in its percent-encoded form
    /// (`%7Btenantid%7D`), which some tools produce.
    pub fn new(issuer: impl Into<String>) -> Self {
        let raw: String = issuer.into();
        let mut s = raw.replace("%7Btenantid%7D", Self::PLACEHOLDER);
        s = s.replace("%7btenantid%7d", Self::PLACEHOLDER);
        if let Some(pos) = s.to_ascii_lowercase().find(Self::PLACEHOLDER) {
            s.replace_range(pos..pos + Self::PLACEHOLDER.len(), Self::PLACEHOLDER);
        }
        Self(s)
    }

    /// The issuer text, with the placeholder in its canonical spelling.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the issuer contains `{tenantid}`.
    pub fn is_templated(&self) -> bool {
        self.0.contains(Self::PLACEHOLDER)
    }

    /// The issuer for tenant `tid` (the template with `{tenantid}` replaced).
    pub fn resolve(&self, tid: &TenantId) -> String {
        self.0.replace(Self::PLACEHOLDER, tid.as_str())
    }

    /// Checks a token's `iss` against this issuer using the token's `tid`, and
    /// returns the token's tenant.
    ///
    /// # Errors
    /// [`Error::MissingTenantId`] when `tid` is absent, [`Error::InvalidTenantId`]
    /// when it is not a GUID, [`Error::IssuerMismatch`] when `iss` is not this issuer
    /// for that tenant or does not name that tenant.
    pub fn check(&self, iss: &str, tid: Option<&str>) -> Result<TenantId, Error> {
        let tid = TenantId::parse(tid.ok_or(Error::MissingTenantId)?)?;
        if !self.is_resolved_as(iss, &tid) || !names_tenant(iss, &tid) {
            return Err(Error::IssuerMismatch {
                expected: self.resolve(&tid),
                actual: shorten(iss),
            });
        }
        Ok(tid)
    }

    /// Whether `iss` equals [`IssuerTemplate::resolve`] for `tid`, compared
    /// piece by piece without building the resolved issuer.
    fn is_resolved_as(&self, iss: &str, tid: &TenantId) -> bool {
        let mut pieces = self.0.split(Self::PLACEHOLDER);
        let Some(mut rest) = pieces.next().and_then(|first| iss.strip_prefix(first)) else {
            return false;
        };
        for piece in pieces {
            match rest.strip_prefix(tid.as_str()).and_then(|r| r.strip_prefix(piece)) {
                Some(r) => rest = r,
                None => return false,
            }
        }
        rest.is_empty()
    }
}

/// Whether one path segment of `iss` (after the scheme and host) is `tid`.
fn names_tenant(iss: &str, tid: &TenantId) -> bool {
    let rest = iss.split_once("://").map_or(iss, |(_, r)| r);
    rest.split('/').skip(1).any(|seg| seg == tid.as_str())
}

impl fmt::Display for IssuerTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A cloud plus a tenant: the root of every Entra endpoint.
///
/// ```
/// use entra_core::{Authority, Cloud, Tenant};
/// let a = Authority::new(Cloud::Public, Tenant::parse("contoso.com").unwrap());
/// assert_eq!(
///     a.v2_discovery_url(),
///     "https://login.microsoftonline.com/contoso.com/v2.0/.well-known/openid-configuration"
/// );
/// assert_eq!(a.token_url(), "https://login.microsoftonline.com/contoso.com/oauth2/v2.0/token");
/// let multi: Authority = "https://login.microsoftonline.com/organizations".parse().unwrap();
/// assert_eq!(multi.v2_issuer().unwrap().as_str(), "https://login.microsoftonline.com/{tenantid}/v2.0");
/// ```
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct Authority {
    cloud: Cloud,
    tenant: Tenant,
}

impl Authority {
    /// An authority for `tenant` in `cloud`.
    pub fn new(cloud: Cloud, tenant: Tenant) -> Self {
        Self { cloud, tenant }
    }

    /// Parses `https://<login host>/<tenant>` (an optional trailing `/v2.0`, in any
    /// case, or `/` is ignored), for example the `authority` setting of MSAL-based
    /// configurations.
    ///
    /// The URL is parsed as HTTP clients parse it (`url::Url`), and the authority keeps
    /// the parsed form: what it displays is where its requests go, and
    /// `Authority::parse(&a.to_string()) == Ok(a)` for every accepted input.
    ///
    /// # Errors
    /// [`Error::InvalidAuthority`] when the value is not a URL, carries user info, a
    /// query or a fragment, or its path is not exactly one tenant segment;
    /// [`Error::InvalidCloud`], [`Error::B2cNotSupported`] or [`Error::InvalidTenant`]
    /// for a bad part.
    pub fn parse(input: &str) -> Result<Self, Error> {
        let bad = || Error::InvalidAuthority { value: shorten(input) };
        let url = url::Url::parse(input.trim()).map_err(|_| bad())?;
        if url.query().is_some()
            || url.fragment().is_some()
            || !url.username().is_empty()
            || url.password().is_some()
            || url.host_str().is_none()
        {
            return Err(bad());
        }
        let mut segments: Vec<&str> = url.path_segments().ok_or_else(bad)?.collect();
        if segments.last() == Some(&"") {
            segments.pop();
        }
        if segments.len() == 2 && segments[1].eq_ignore_ascii_case("v2.0") {
            segments.pop();
        }
        let [tenant] = segments[..] else {
            return Err(bad());
        };
        let cloud = Cloud::parse(&url.origin().ascii_serialization())?;
        let tenant = Tenant::parse(tenant)?;
        Ok(Self { cloud, tenant })
    }

    /// The cloud.
    pub fn cloud(&self) -> &Cloud {
        &self.cloud
    }

    /// The tenant segment.
    pub fn tenant(&self) -> &Tenant {
        &self.tenant
    }

    /// The same cloud with another tenant: multi-tenant apps send OBO and other
    /// token requests to the *user's* tenant.
    pub fn for_tenant(&self, tid: &TenantId) -> Self {
        Self { cloud: self.cloud.clone(), tenant: Tenant::Id(tid.clone()) }
    }

    /// `{login}/{tenant}`.
    pub fn base_url(&self) -> String {
        format!("{}/{}", self.cloud.login_base(), self.tenant.as_segment())
    }

    fn url(&self, path: &str) -> String {
        format!("{}/{}/{}", self.cloud.login_base(), self.tenant.as_segment(), path)
    }

    /// `{login}/{tenant}/v2.0/.well-known/openid-configuration`.
    pub fn v2_discovery_url(&self) -> String {
        self.url("v2.0/.well-known/openid-configuration")
    }

    /// `{login}/{tenant}/.well-known/openid-configuration`.
    pub fn v1_discovery_url(&self) -> String {
        self.url(".well-known/openid-configuration")
    }

    /// The discovery document URL for `version`.
    pub fn discovery_url(&self, version: TokenVersion) -> String {
        match version {
            TokenVersion::V1 => self.v1_discovery_url(),
            TokenVersion::V2 => self.v2_discovery_url(),
        }
    }

    /// `{login}/{tenant}/discovery/v2.0/keys`.
    pub fn v2_keys_url(&self) -> String {
        self.url("discovery/v2.0/keys")
    }

    /// `{login}/{tenant}/discovery/keys`.
    pub fn v1_keys_url(&self) -> String {
        self.url("discovery/keys")
    }

    /// The keys URL for `version`, with `?appid={client_id}` for apps whose tokens
    /// are signed with their own (custom) signing keys.
    pub fn keys_url(&self, version: TokenVersion, custom_keys_for: Option<&ClientId>) -> String {
        let base = match version {
            TokenVersion::V1 => self.v1_keys_url(),
            TokenVersion::V2 => self.v2_keys_url(),
        };
        match custom_keys_for {
            Some(app) => format!("{base}?appid={app}"),
            None => base,
        }
    }

    /// `{login}/{tenant}/oauth2/v2.0/authorize`.
    pub fn authorize_url(&self) -> String {
        self.url("oauth2/v2.0/authorize")
    }

    /// `{login}/{tenant}/oauth2/v2.0/token`.
    pub fn token_url(&self) -> String {
        self.url("oauth2/v2.0/token")
    }

    /// `{login}/{tenant}/oauth2/v2.0/logout` (the end-session endpoint).
    pub fn logout_url(&self) -> String {
        self.url("oauth2/v2.0/logout")
    }

    /// The v2 issuer rule: exact for a GUID or `consumers` tenant, the `{tenantid}`
    /// template for `common`/`organizations`, and `None` for a domain tenant, whose
    /// issuer comes from its discovery document.
    pub fn v2_issuer(&self) -> Option<IssuerTemplate> {
        self.issuer(TokenVersion::V2)
    }

    /// The v1 issuer rule, as [`Authority::v2_issuer`] does for v2.
    pub fn v1_issuer(&self) -> Option<IssuerTemplate> {
        self.issuer(TokenVersion::V1)
    }

    /// The issuer rule for `version`; see [`Authority::v2_issuer`].
    pub fn issuer(&self, version: TokenVersion) -> Option<IssuerTemplate> {
        let c = &self.cloud;
        if self.tenant.is_multi_tenant() {
            return Some(IssuerTemplate::new(match version {
                TokenVersion::V1 => c.v1_issuer_template(),
                TokenVersion::V2 => c.v2_issuer_template(),
            }));
        }
        let tid = self.tenant.tenant_id()?;
        Some(IssuerTemplate::new(match version {
            TokenVersion::V1 => c.v1_issuer(&tid),
            TokenVersion::V2 => c.v2_issuer(&tid),
        }))
    }

    /// Checks a token's `iss` and `tid` against this authority for `version`, and
    /// returns the token's tenant. For `organizations`, personal-account tokens
    /// (the consumers tenant) are refused; for a GUID tenant, `tid` must be that tenant.
    /// The host's tenant allow-list is applied separately (see entra-jwks).
    ///
    /// # Errors
    /// As [`IssuerTemplate::check`]; [`Error::TenantNotAllowed`] for a consumer token
    /// at `organizations`; [`Error::InvalidAuthority`] for a domain tenant (resolve its
    /// issuer through discovery first).
    pub fn check_issuer(
        &self,
        version: TokenVersion,
        iss: &str,
        tid: Option<&str>,
    ) -> Result<TenantId, Error> {
        let rule = self
            .issuer(version)
            .ok_or_else(|| Error::InvalidAuthority { value: self.base_url() })?;
        let tenant = rule.check(iss, tid)?;
        if self.tenant == Tenant::Organizations && tenant.is_consumers() {
            return Err(Error::TenantNotAllowed { tenant });
        }
        Ok(tenant)
    }
}

impl fmt::Display for Authority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.base_url())
    }
}

impl FromStr for Authority {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Self::parse(s)
    }
}

impl<'de> Deserialize<'de> for Authority {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests;
