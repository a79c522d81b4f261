//! The mapping configuration: rules, defaults, which claims feed the mapping, and
//! the Microsoft Graph options for group overage. Read from serde (a file) or from
//! the environment (see [`crate::Config::from_env`]).

use std::collections::HashSet;
use std::fmt;
use std::path::Path;

use entra_core::TenantId;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result, shorten};
use crate::object_id::ObjectId;

/// A token claim that can feed the mapping.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum ClaimKind {
    /// `groups`: group object ids, or on-prem group names when the app emits them.
    /// On overage, resolved through the [`crate::GroupSource`].
    Groups,
    /// `roles`: the app roles assigned to the user (they never overflow).
    Roles,
    /// `wids`: directory role template ids (Global Administrator, ...).
    Wids,
}

impl ClaimKind {
    /// The claim name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Groups => "groups",
            Self::Roles => "roles",
            Self::Wids => "wids",
        }
    }

    /// Parses `groups`, `roles` or `wids` (case-insensitive).
    pub fn parse(input: &str) -> Option<Self> {
        match input.trim().to_ascii_lowercase().as_str() {
            "groups" => Some(Self::Groups),
            "roles" => Some(Self::Roles),
            "wids" => Some(Self::Wids),
            _ => None,
        }
    }
}

impl fmt::Display for ClaimKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a [`Rule`] matches. Serializes as in a rule: `{"group_id": "..."}`.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Matcher {
    /// A group by object id, from the `groups` claim or Microsoft Graph (compared as
    /// a GUID). Preferred: group object ids are unique across all tenants and
    /// cannot be renamed into a match.
    GroupId(ObjectId),
    /// An on-prem group by name (sAMAccountName, in the form the app emits, for
    /// example `CONTOSO\Engineering`), from the `groups` claim, case-insensitive.
    /// Names are spoofable across tenants and forests: prefer ids. Any tenant
    /// can have a group of that name, so a multi-tenant app must set
    /// [`Config::tenants`] (or the rule's [`Rule::tenant`]). Never matches groups
    /// resolved on overage (Microsoft Graph returns ids only; see
    /// [`Error::GroupNamesOnOverage`]).
    GroupName(String),
    /// An app role by value, from the `roles` claim, case-insensitive. In a
    /// multi-tenant app every customer tenant has its own copy of the app (its
    /// service principal) and that tenant's admins assign its app roles, so any
    /// tenant can grant itself any role value: set [`Config::tenants`] (or the
    /// rule's [`Rule::tenant`]).
    AppRole(String),
    /// A directory role by template id, from the `wids` claim (compared as a GUID).
    /// Template ids are the same in every tenant (Global Administrator is
    /// `62e90394-69f5-4237-9190-012177145e10` everywhere): whoever creates a
    /// tenant is its Global Administrator. A multi-tenant app must set
    /// [`Config::tenants`] (or the rule's [`Rule::tenant`]).
    DirectoryRole(ObjectId),
}

impl Matcher {
    /// Whether any tenant can make a token carry a matching value: true for
    /// group names, app roles and directory roles, false for group object ids
    /// (unique across tenants). Such matchers need [`Config::tenants`] (or
    /// [`Rule::tenant`]) in a multi-tenant app.
    pub fn is_tenant_relative(&self) -> bool {
        !matches!(self, Self::GroupId(_))
    }

    /// The claim this matcher reads.
    pub fn claim(&self) -> ClaimKind {
        match self {
            Self::GroupId(_) | Self::GroupName(_) => ClaimKind::Groups,
            Self::AppRole(_) => ClaimKind::Roles,
            Self::DirectoryRole(_) => ClaimKind::Wids,
        }
    }

    /// A value of `claim` read the way gateways read their mapping keys: a GUID is
    /// an id, anything else a name.
    pub(crate) fn from_key(claim: ClaimKind, key: &str, at: &str) -> Result<Self> {
        let key = key.trim();
        if key.is_empty() {
            return Err(Error::config(at, "empty group or role"));
        }
        let id = ObjectId::try_parse(key);
        Ok(match (claim, id) {
            (ClaimKind::Groups, Some(id)) => Self::GroupId(id),
            (ClaimKind::Groups, None) => Self::GroupName(key.to_owned()),
            (ClaimKind::Roles, _) => Self::AppRole(key.to_owned()),
            (ClaimKind::Wids, Some(id)) => Self::DirectoryRole(id),
            (ClaimKind::Wids, None) => {
                return Err(Error::config(
                    at,
                    format!("{:?} is not a directory role template id (GUID)", shorten(key)),
                ));
            }
        })
    }
}

impl fmt::Display for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::GroupId(id) => write!(f, "group id {id}"),
            Self::GroupName(n) => write!(f, "group name {n:?}"),
            Self::AppRole(r) => write!(f, "app role {r:?}"),
            Self::DirectoryRole(id) => write!(f, "directory role {id}"),
        }
    }
}

/// One mapping rule: when the user has the matched group or role, they get the
/// rule's teams, its role (subject to precedence) and, if set, the admin flag.
///
/// Rules on app roles, directory roles and group names match values that every
/// tenant's admins control ([`Matcher::is_tenant_relative`]). They are safe as
/// they are in a single-tenant app whose token validator accepts only its own
/// tenant; a multi-tenant app must set [`Config::tenants`] or the rule's
/// [`Rule::tenant`], or any tenant can claim them. Rules on group object ids
/// are safe everywhere.
///
/// In a file, a rule names exactly one of `group_id`, `group_name`, `app_role`,
/// `directory_role`, and at least one of `teams`, `role`, `admin`; `tenant`
/// optionally restricts it to tokens of one tenant:
///
/// ```
/// use entra_teams::{Matcher, Rule};
/// let rule: Rule = serde_json::from_str(r#"{
///     "group_id": "6f1d0f2a-1111-4a4a-9b9b-000000000001",
///     "teams": ["platform", "oncall"], "role": "developer"
/// }"#)?;
/// assert!(matches!(rule.matcher, Matcher::GroupId(_)));
/// assert_eq!(rule.teams, ["platform", "oncall"]);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(try_from = "RawRule", into = "RawRule")]
#[non_exhaustive]
pub struct Rule {
    /// A label shown in audit records ([`crate::MatchedRule`]). Defaults to `None`.
    pub name: Option<String>,
    /// What the rule matches.
    pub matcher: Matcher,
    /// Teams the user joins. Defaults to none.
    pub teams: Vec<String>,
    /// The application role the rule grants. Defaults to `None`.
    pub role: Option<String>,
    /// Whether the rule makes the user an admin. Defaults to `false`.
    pub admin: bool,
    /// The only tenant (`tid`) whose tokens the rule matches, in a file
    /// `"tenant": "<tenant id>"`. Use it in a multi-tenant app for rules on app
    /// roles, directory roles or group names (see [`Matcher::is_tenant_relative`]):
    /// `{"app_role": "Gateway.Admin", "admin": true, "tenant": "<your tenant>"}`
    /// lets only your own tenant's role assignments make admins. When
    /// [`Config::tenants`] is set, the tenant must be listed there. Defaults to
    /// `None` (any tenant the configuration accepts).
    pub tenant: Option<TenantId>,
}

impl Rule {
    /// A rule with no effect yet; add teams, a role or admin.
    pub fn new(matcher: Matcher) -> Self {
        Self { name: None, matcher, teams: Vec::new(), role: None, admin: false, tenant: None }
    }

    /// A rule on a group object id.
    pub fn group_id(id: ObjectId) -> Self {
        Self::new(Matcher::GroupId(id))
    }

    /// A rule on an on-prem group name (case-insensitive). Prefer [`Rule::group_id`].
    /// Multi-tenant apps: see [`Config::tenants`].
    pub fn group_name(name: impl Into<String>) -> Self {
        Self::new(Matcher::GroupName(name.into()))
    }

    /// A rule on an app role value (case-insensitive). Multi-tenant apps: see
    /// [`Config::tenants`].
    pub fn app_role(value: impl Into<String>) -> Self {
        Self::new(Matcher::AppRole(value.into()))
    }

    /// A rule on a directory role template id (`wids`). Template ids are the same
    /// in every tenant; multi-tenant apps: see [`Config::tenants`].
    pub fn directory_role(template_id: ObjectId) -> Self {
        Self::new(Matcher::DirectoryRole(template_id))
    }

    /// Adds a team.
    #[must_use]
    pub fn team(mut self, team: impl Into<String>) -> Self {
        self.teams.push(team.into());
        self
    }

    /// Adds teams.
    #[must_use]
    pub fn teams<I: IntoIterator<Item = S>, S: Into<String>>(mut self, teams: I) -> Self {
        self.teams.extend(teams.into_iter().map(Into::into));
        self
    }

    /// Sets the role.
    #[must_use]
    pub fn role(mut self, role: impl Into<String>) -> Self {
        self.role = Some(role.into());
        self
    }

    /// Makes matching users admins.
    #[must_use]
    pub fn admin(mut self) -> Self {
        self.admin = true;
        self
    }

    /// Restricts the rule to tokens of `tenant`.
    #[must_use]
    pub fn tenant(mut self, tenant: TenantId) -> Self {
        self.tenant = Some(tenant);
        self
    }

    /// Sets the audit label.
    #[must_use]
    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Checks the rule on its own (used by serde and [`Config::validate`]).
    fn check(&self, at: &str) -> Result<()> {
        match &self.matcher {
            Matcher::GroupName(n) | Matcher::AppRole(n) if n.trim().is_empty() => {
                return Err(Error::config(at, "the group name or app role is empty"));
            }
            Matcher::GroupName(n) if ObjectId::try_parse(n).is_some() => {
                return Err(Error::config(
                    at,
                    format!("group name {:?} is a GUID: use `group_id` for object ids", shorten(n)),
                ));
            }
            _ => {}
        }
        if self.teams.is_empty() && self.role.is_none() && !self.admin {
            return Err(Error::config(
                at,
                format!(
                    "the rule on {} has no effect: give it `teams`, `role` or `admin`",
                    self.matcher
                ),
            ));
        }
        if self.teams.iter().any(|t| t.trim().is_empty()) {
            return Err(Error::config(at, "a team name is empty"));
        }
        if self.role.as_deref().is_some_and(|r| r.trim().is_empty()) {
            return Err(Error::config(at, "the role is empty"));
        }
        Ok(())
    }
}

/// A single string or a list of strings.
#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(s) => vec![s],
        OneOrMany::Many(v) => v,
    })
}

/// The file form of a [`Rule`].
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    group_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    group_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    app_role: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    directory_role: Option<String>,
    #[serde(default, alias = "team", deserialize_with = "one_or_many")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    teams: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    role: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    admin: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tenant: Option<TenantId>,
}

impl TryFrom<RawRule> for Rule {
    type Error = Error;
    fn try_from(raw: RawRule) -> Result<Self> {
        let guid = |field: &str, v: &str| {
            ObjectId::try_parse(v).ok_or_else(|| {
                Error::config(
                    format!("rule.{field}"),
                    format!(
                        "{:?} is not a GUID (object ids look like 8-4-4-4-12 hex digits)",
                        shorten(v)
                    ),
                )
            })
        };
        let mut matchers = Vec::new();
        if let Some(v) = &raw.group_id {
            matchers.push(Matcher::GroupId(guid("group_id", v)?));
        }
        if let Some(v) = raw.group_name {
            matchers.push(Matcher::GroupName(v));
        }
        if let Some(v) = raw.app_role {
            matchers.push(Matcher::AppRole(v));
        }
        if let Some(v) = &raw.directory_role {
            matchers.push(Matcher::DirectoryRole(guid("directory_role", v)?));
        }
        if matchers.len() != 1 {
            return Err(Error::config(
                "rule",
                format!(
                    "a rule names exactly one of `group_id`, `group_name`, `app_role`, `directory_role` (found {})",
                    matchers.len()
                ),
            ));
        }
        let matcher = matchers.remove(0);
        let rule = Self {
            name: raw.name,
            matcher,
            teams: raw.teams,
            role: raw.role,
            admin: raw.admin,
            tenant: raw.tenant,
        };
        rule.check("rule")?;
        Ok(rule)
    }
}

impl From<Rule> for RawRule {
    fn from(rule: Rule) -> Self {
        let mut raw = Self {
            name: rule.name,
            group_id: None,
            group_name: None,
            app_role: None,
            directory_role: None,
            teams: rule.teams,
            role: rule.role,
            admin: rule.admin,
            tenant: rule.tenant,
        };
        match rule.matcher {
            Matcher::GroupId(id) => raw.group_id = Some(id.to_string()),
            Matcher::GroupName(n) => raw.group_name = Some(n),
            Matcher::AppRole(r) => raw.app_role = Some(r),
            Matcher::DirectoryRole(id) => raw.directory_role = Some(id.to_string()),
        }
        raw
    }
}

/// Options of the Microsoft Graph group source used on group overage
/// ([`crate::GraphGroupSource`]). The `ENTRA_GRAPH_API_*` variables
/// (`SSO_ENTRA_GRAPH_API_*`) set them.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct GraphConfig {
    /// Whether overage is resolved through Microsoft Graph. When `false`, a token
    /// with overage fails with [`Error::GroupOverage`]. Defaults to `true`.
    pub enabled: bool,
    /// Sends `securityEnabledOnly` to `getMemberObjects`: only security groups
    /// (what the `groups` claim holds in its default setting). Defaults to `true`.
    pub security_enabled_only: bool,
    /// Timeout of each Graph request, in seconds (at least 1). Defaults to `10`.
    pub timeout_secs: u64,
    /// The most groups accepted for one user; more fails with
    /// [`Error::TooManyGroups`] rather than truncating. Defaults to `5000`.
    pub max_groups: usize,
    /// The most `@odata.nextLink` pages followed (at least 1). Defaults to `10`.
    pub max_pages: usize,
    /// The largest response body read from Microsoft Graph, per page, in bytes (at
    /// least 1). The body is read in chunks and reading stops at the cap with
    /// [`Error::GraphResponseTooLarge`]: a misbehaving or hostile endpoint cannot
    /// make the host buffer an unbounded body. A page of 5000 group ids is about
    /// 200 KiB. Defaults to `4194304` (4 MiB).
    pub max_response_bytes: usize,
    /// How long a user's resolved groups are cached, in seconds; `0` disables the
    /// cache. Defaults to `300`.
    pub cache_ttl_secs: u64,
    /// The most users kept in the cache. Defaults to `10000`.
    pub cache_capacity: u64,
}

/// The default of [`GraphConfig::max_response_bytes`]: 4 MiB.
const DEFAULT_MAX_RESPONSE_BYTES: usize = 4 * 1024 * 1024;

impl Default for GraphConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            security_enabled_only: true,
            timeout_secs: 10,
            max_groups: 5000,
            max_pages: 10,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            cache_ttl_secs: 300,
            cache_capacity: 10_000,
        }
    }
}

impl GraphConfig {
    /// Checks the bounds.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] when the timeout, page bound, group cap or
    /// response size cap is zero.
    pub fn validate(&self) -> Result<()> {
        if self.timeout_secs == 0 {
            return Err(Error::config("graph.timeout_secs", "must be at least 1 second"));
        }
        if self.max_pages == 0 {
            return Err(Error::config("graph.max_pages", "must be at least 1"));
        }
        if self.max_groups == 0 {
            return Err(Error::config("graph.max_groups", "must be at least 1"));
        }
        if self.max_response_bytes == 0 {
            return Err(Error::config("graph.max_response_bytes", "must be at least 1"));
        }
        Ok(())
    }
}

fn default_claims() -> Vec<ClaimKind> {
    vec![ClaimKind::Groups, ClaimKind::Roles]
}

/// The whole mapping configuration.
///
/// ```
/// let config: entra_teams::Config = serde_json::from_str(r#"{
///     "rules": [
///         {"group_id": "6f1d0f2a-1111-4a4a-9b9b-000000000001", "teams": "platform"},
///         {"app_role": "Gateway.Admin", "role": "admin", "admin": true}
///     ],
///     "default_role": "viewer",
///     "role_precedence": ["admin", "developer", "viewer"]
/// }"#)?;
/// config.validate()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct Config {
    /// The claims that feed the mapping, in order. Rules on a claim not listed
    /// are a configuration error. Defaults to `["groups", "roles"]`.
    pub claims: Vec<ClaimKind>,
    /// The tenants (`tid`) whose tokens the mapping accepts. When set, a token of
    /// any other tenant (or without `tid`) fails with [`Error::TenantNotAllowed`]
    /// before anything is matched or any group lookup is made.
    ///
    /// **Multi-tenant apps must set it** when they have rules on app roles,
    /// directory roles (`wids`) or group names, or name `admin_groups`: those
    /// values are chosen by each tenant's own admins (directory role template ids
    /// are the same in every tenant, and anyone can create a tenant and be its
    /// Global Administrator), so without the list any tenant your validator
    /// accepts can claim them. Rules on group object ids are safe without it (ids
    /// are unique across tenants). Single-tenant apps, whose token validator
    /// accepts only their own tenant, may leave it empty. The environment variable
    /// [`entra_core::env::TEAMS_TENANTS`] sets it. Defaults to empty (no tenant check here).
    pub tenants: Vec<TenantId>,
    /// The rules. Defaults to none.
    pub rules: Vec<Rule>,
    /// Groups whose members are admins: a GUID is a group object id, anything else
    /// an on-prem group name (case-insensitive). Names need [`Config::tenants`] in
    /// a multi-tenant app, and fail on group overage
    /// ([`Error::GroupNamesOnOverage`]): prefer ids. Defaults to none.
    pub admin_groups: Vec<String>,
    /// The role of users whom no rule gives a role. Defaults to `None` (no role).
    pub default_role: Option<String>,
    /// Roles from highest to lowest precedence: when several matched rules grant
    /// roles, the one listed first wins. When set, every role used by a rule or as
    /// the default must be listed. When empty, the first matching rule (in
    /// configuration order) that grants a role wins. Defaults to empty.
    pub role_precedence: Vec<String>,
    /// Whether reconciliation creates desired teams that do not exist yet.
    /// Defaults to `false` (missing teams are reported and skipped).
    pub create_missing_teams: bool,
    /// Whether the host re-syncs teams and roles on every sign-in
    /// (`ENTRA_SYNC_ROLES_ON_LOGIN`); informational for the host.
    /// Defaults to `true`.
    pub sync_on_login: bool,
    /// Microsoft Graph options for group overage.
    pub graph: GraphConfig,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            claims: default_claims(),
            tenants: Vec::new(),
            rules: Vec::new(),
            admin_groups: Vec::new(),
            default_role: None,
            role_precedence: Vec::new(),
            create_missing_teams: false,
            sync_on_login: true,
            graph: GraphConfig::default(),
        }
    }
}

impl Config {
    /// Parses a JSON configuration and validates it.
    ///
    /// # Errors
    /// [`Error::ConfigJson`] (source with line and column) or [`Error::InvalidConfig`].
    pub fn from_json(json: &str) -> Result<Self> {
        Self::from_json_at(json, "configuration")
    }

    pub(crate) fn from_json_at(json: &str, at: &str) -> Result<Self> {
        let config: Self = serde_json::from_str(json)
            .map_err(|source| Error::ConfigJson { at: at.to_owned(), source })?;
        config.validate()?;
        Ok(config)
    }

    /// Reads and validates a JSON configuration file. (For TOML or YAML, read the
    /// file with that format's serde crate and call [`Config::validate`].)
    ///
    /// # Errors
    /// [`Error::ConfigFile`], [`Error::ConfigJson`] or [`Error::InvalidConfig`].
    pub fn from_json_file(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .map_err(|source| Error::ConfigFile { path: path.to_owned(), source })?;
        Self::from_json_at(&text, &path.display().to_string())
    }

    /// The admin groups as matchers.
    pub(crate) fn admin_matchers(&self) -> Result<Vec<Matcher>> {
        self.admin_groups
            .iter()
            .enumerate()
            .map(|(i, g)| Matcher::from_key(ClaimKind::Groups, g, &format!("admin_groups[{i}]")))
            .collect()
    }

    /// Checks the whole configuration: every rule, that each rule's claim is
    /// enabled, that a rule's tenant is in `tenants` when it is set, and that
    /// roles are in `role_precedence` when it is set.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the setting and what is expected.
    pub fn validate(&self) -> Result<()> {
        if self.claims.is_empty() {
            return Err(Error::config("claims", "list at least one of `groups`, `roles`, `wids`"));
        }
        let claims: Vec<&str> = self.claims.iter().map(|c| c.as_str()).collect();
        for (i, rule) in self.rules.iter().enumerate() {
            let at = format!("rules[{i}]");
            rule.check(&at)?;
            if let Some(t) = &rule.tenant
                && !self.tenants.is_empty()
                && !self.tenants.contains(t)
            {
                return Err(Error::config(
                    format!("{at}.tenant"),
                    format!("tenant {t} is not in `tenants`: the rule could never match"),
                ));
            }
            let claim = rule.matcher.claim();
            if !self.claims.contains(&claim) {
                return Err(Error::config(
                    at,
                    format!(
                        "the rule on {} reads the `{claim}` claim, which is not in `claims` {claims:?}",
                        rule.matcher
                    ),
                ));
            }
        }
        let admins = self.admin_matchers()?;
        if !admins.is_empty() && !self.claims.contains(&ClaimKind::Groups) {
            return Err(Error::config(
                "admin_groups",
                format!(
                    "admin groups need the `groups` claim, which is not in `claims` {claims:?}"
                ),
            ));
        }
        let mut seen = HashSet::new();
        for (i, role) in self.role_precedence.iter().enumerate() {
            if role.trim().is_empty() {
                return Err(Error::config(format!("role_precedence[{i}]"), "empty role"));
            }
            if !seen.insert(role.to_lowercase()) {
                return Err(Error::config(
                    format!("role_precedence[{i}]"),
                    format!("role {:?} is listed twice", shorten(role)),
                ));
            }
        }
        if self.default_role.as_deref().is_some_and(|r| r.trim().is_empty()) {
            return Err(Error::config("default_role", "empty role (leave it out for no role)"));
        }
        if !self.role_precedence.is_empty() {
            let listed = |r: &str| seen.contains(&r.to_lowercase());
            for (i, rule) in self.rules.iter().enumerate() {
                if let Some(role) = rule.role.as_deref().filter(|r| !listed(r)) {
                    return Err(Error::config(
                        format!("rules[{i}].role"),
                        format!("role {:?} is not in `role_precedence`", shorten(role)),
                    ));
                }
            }
            if let Some(role) = self.default_role.as_deref().filter(|r| !listed(r)) {
                return Err(Error::config(
                    "default_role",
                    format!("role {:?} is not in `role_precedence`", shorten(role)),
                ));
            }
        }
        self.graph.validate()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const G1: &str = "6f1d0f2a-1111-4a4a-9b9b-000000000001";

    #[test]
    fn rule_kinds_parse() {
        let r: Rule =
            serde_json::from_str(&format!(r#"{{"group_id":"{G1}","team":"a"}}"#)).unwrap();
        assert_eq!(r.matcher, Matcher::GroupId(ObjectId::parse(G1).unwrap()));
        assert_eq!(r.teams, ["a"]);
        let r: Rule =
            serde_json::from_str(r#"{"group_name":"CONTOSO\\Eng","role":"dev"}"#).unwrap();
        assert_eq!(r.matcher, Matcher::GroupName("CONTOSO\\Eng".into()));
        let r: Rule = serde_json::from_str(r#"{"app_role":"Admin","admin":true}"#).unwrap();
        assert_eq!(r.matcher, Matcher::AppRole("Admin".into()));
        let r: Rule =
            serde_json::from_str(&format!(r#"{{"directory_role":"{G1}","admin":true}}"#)).unwrap();
        assert_eq!(r.matcher.claim(), ClaimKind::Wids);
        // Round trip.
        let back: Rule = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn bad_rules_have_clear_errors() {
        let cases = [
            (r#"{"teams":["a"]}"#, "exactly one of"),
            (&*format!(r#"{{"group_id":"{G1}","app_role":"x","teams":["a"]}}"#), "found 2"),
            (r#"{"group_id":"eng","teams":["a"]}"#, "not a GUID"),
            (r#"{"app_role":"x"}"#, "has no effect"),
            (&*format!(r#"{{"group_name":"{G1}","teams":["a"]}}"#), "use `group_id`"),
            (r#"{"app_role":"x","teams":[""]}"#, "team name is empty"),
            (r#"{"app_role":"x","tems":["a"]}"#, "unknown field `tems`"),
        ];
        for (json, want) in cases {
            let err = serde_json::from_str::<Rule>(json).unwrap_err().to_string();
            assert!(err.contains(want), "{json}: {err}");
        }
    }

    #[test]
    fn defaults() {
        let c = Config::from_json("{}").unwrap();
        assert_eq!(c.claims, [ClaimKind::Groups, ClaimKind::Roles]);
        assert!(c.rules.is_empty() && c.default_role.is_none() && !c.create_missing_teams);
        assert!(c.graph.enabled && c.graph.security_enabled_only);
        assert_eq!(c.graph.timeout_secs, 10);
        assert_eq!(c.graph.max_response_bytes, 4 * 1024 * 1024);
        assert_eq!(c, Config::default());
    }

    #[test]
    fn validation_errors_name_the_setting() {
        let cases = [
            (r#"{"claims":[]}"#, "claims"),
            (r#"{"claims":["groups"],"rules":[{"app_role":"a","role":"r"}]}"#, "rules[0]"),
            (r#"{"role_precedence":["a","A"]}"#, "listed twice"),
            (r#"{"role_precedence":["a"],"rules":[{"app_role":"x","role":"b"}]}"#, "rules[0].role"),
            (r#"{"role_precedence":["a"],"default_role":"b"}"#, "default_role"),
            (r#"{"claims":["roles"],"admin_groups":["x"]}"#, "admin_groups"),
            (r#"{"graph":{"timeout_secs":0}}"#, "graph.timeout_secs"),
            (r#"{"graph":{"max_pages":0}}"#, "graph.max_pages"),
            (r#"{"graph":{"max_response_bytes":0}}"#, "graph.max_response_bytes"),
            (r#"{"default_role":" "}"#, "default_role"),
        ];
        for (json, want) in cases {
            let err = Config::from_json(json).unwrap_err().to_string();
            assert!(err.contains(want), "{json}: {err}");
        }
        let err = Config::from_json(r#"{"claims":["group"]}"#).unwrap_err();
        assert!(matches!(err, Error::ConfigJson { .. }));
        let src = std::error::Error::source(&err).unwrap().to_string();
        assert!(src.contains("unknown variant `group`") && src.contains("line 1"), "{src}");
    }

    #[test]
    fn config_file_errors() {
        let err = Config::from_json_file("/nonexistent/entra-teams.json").unwrap_err();
        assert!(matches!(err, Error::ConfigFile { .. }));
        assert!(err.to_string().contains("entra-teams.json"));
    }

    const HOME: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";

    #[test]
    fn tenants_and_rule_tenant() {
        let c = Config::from_json(&format!(
            r#"{{"tenants":["{}"],"rules":[{{"app_role":"A","admin":true,"tenant":"{HOME}"}}]}}"#,
            HOME.to_uppercase()
        ))
        .unwrap();
        let home = TenantId::parse(HOME).unwrap();
        assert_eq!(c.tenants.len(), 1);
        assert_eq!(c.tenants[0], home);
        assert_eq!(c.rules[0].tenant, Some(home.clone()));
        assert!(c.rules[0].matcher.is_tenant_relative());
        assert!(!Matcher::GroupId(ObjectId::parse(G1).unwrap()).is_tenant_relative());
        let back: Rule =
            serde_json::from_str(&serde_json::to_string(&c.rules[0]).unwrap()).unwrap();
        assert_eq!(back, c.rules[0]);
        assert_eq!(Rule::app_role("A").admin().tenant(home), c.rules[0]);
        // A rule on a tenant outside `tenants` could never match.
        let other = "0a0a0a0a-0000-4000-8000-000000000bad";
        let err = Config::from_json(&format!(
            r#"{{"tenants":["{HOME}"],"rules":[{{"app_role":"A","admin":true,"tenant":"{other}"}}]}}"#
        ))
        .unwrap_err();
        assert!(err.to_string().contains("rules[0].tenant"), "{err}");
        // Tenant ids must be GUIDs.
        let err = Config::from_json(r#"{"tenants":["contoso.com"]}"#).unwrap_err();
        assert!(matches!(err, Error::ConfigJson { .. }), "{err}");
        assert!(
            serde_json::from_str::<Rule>(r#"{"app_role":"A","admin":true,"tenant":"x"}"#).is_err()
        );
    }
}
