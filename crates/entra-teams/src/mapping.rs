//! Applying the rules to what a token says: desired teams, role, admin flag and
//! the audit trail of matched rules.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt;

use entra_core::{EntraClaims, Groups, TenantId};
use serde::Serialize;

use crate::config::{ClaimKind, Config, Matcher, Rule};
use crate::directory::team_key;
use crate::error::{Error, Result};
use crate::object_id::ObjectId;

/// What Entra says the user has: the values of the `groups`, `roles` and `wids`
/// claims (or groups resolved on overage), and the tenant (`tid`) that says so.
/// Only the claims enabled in [`Config::claims`] are read by the [`Mapper`].
#[derive(Clone, Default, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub struct Assignments {
    /// Group object ids, or on-prem group names.
    pub groups: Vec<String>,
    /// App role values.
    pub roles: Vec<String>,
    /// Directory role template ids.
    pub wids: Vec<String>,
    /// The tenant that issued them (`tid`), checked against [`Config::tenants`]
    /// and [`Rule::tenant`]. Defaults to `None`, which matches no tenant-restricted
    /// rule and fails when [`Config::tenants`] is set.
    pub tenant: Option<TenantId>,
}

impl Assignments {
    /// Empty assignments.
    pub fn new() -> Self {
        Self::default()
    }

    /// The assignments listed in `claims`, with its tenant (`tid`). On group
    /// overage `groups` is left empty: use [`crate::TeamSync::resolve`] to
    /// resolve it.
    pub fn from_claims(claims: &EntraClaims) -> Self {
        let groups = match claims.groups() {
            Groups::Listed(g) => g.to_vec(),
            _ => Vec::new(),
        };
        Self {
            groups,
            roles: claims.roles.clone(),
            wids: claims.wids.clone(),
            tenant: claims.tenant_id(),
        }
    }

    /// Sets the tenant (`tid`) the assignments come from.
    #[must_use]
    pub fn with_tenant(mut self, tenant: TenantId) -> Self {
        self.tenant = Some(tenant);
        self
    }

    /// Sets the groups.
    #[must_use]
    pub fn with_groups<I: IntoIterator<Item = S>, S: Into<String>>(mut self, groups: I) -> Self {
        self.groups = groups.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the app roles.
    #[must_use]
    pub fn with_roles<I: IntoIterator<Item = S>, S: Into<String>>(mut self, roles: I) -> Self {
        self.roles = roles.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the directory role template ids.
    #[must_use]
    pub fn with_wids<I: IntoIterator<Item = S>, S: Into<String>>(mut self, wids: I) -> Self {
        self.wids = wids.into_iter().map(Into::into).collect();
        self
    }
}

/// Which configured entry matched.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RuleRef {
    /// `rules[i]`.
    Rule(usize),
    /// `admin_groups[i]`.
    AdminGroup(usize),
}

impl fmt::Display for RuleRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Rule(i) => write!(f, "rules[{i}]"),
            Self::AdminGroup(i) => write!(f, "admin_groups[{i}]"),
        }
    }
}

/// One matched rule, for audit logs.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
#[non_exhaustive]
pub struct MatchedRule {
    /// Which entry of the configuration matched.
    pub rule: RuleRef,
    /// The rule's label, if it has one.
    pub name: Option<String>,
    /// What the rule matches.
    pub matcher: Matcher,
    /// The claim value that matched, as the token (or Graph) spelled it.
    pub value: String,
}

/// Where the role came from.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RoleOrigin {
    /// From a matched rule.
    Rule(RuleRef),
    /// [`Config::default_role`]: no matched rule grants a role.
    Default,
    /// No rule matched with a role and there is no default.
    None,
}

/// Where the groups fed to the mapping came from.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum GroupsOrigin {
    /// The token's `groups` claim.
    Token,
    /// The token had group overage; the [`crate::GroupSource`] resolved them.
    GroupSource,
    /// The token carries no group information.
    Absent,
    /// The `groups` claim is not in [`Config::claims`], or the caller passed
    /// [`Assignments`] directly.
    NotConsulted,
}

/// The outcome of the mapping for one user. Serializes to JSON for audit logs
/// (it holds group ids and role values, never a token).
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
#[non_exhaustive]
pub struct Mapping {
    /// The teams the user should be in (as configured, deduplicated
    /// case-insensitively: the first matched rule's spelling is kept).
    pub teams: BTreeSet<String>,
    /// The role: the matched role of highest precedence, else the default role.
    pub role: Option<String>,
    /// Where [`Mapping::role`] came from.
    pub role_origin: RoleOrigin,
    /// Whether an admin group or an admin rule matched.
    pub admin: bool,
    /// Every matched rule, in configuration order (rules, then admin groups).
    pub matched: Vec<MatchedRule>,
    /// Where the groups came from.
    pub groups: GroupsOrigin,
}

/// Applies a validated [`Config`] to [`Assignments`]. Build it once and share it
/// (it is `Send + Sync`).
///
/// ```
/// use entra_teams::{Assignments, Config, Mapper};
/// let mapper = Mapper::new(Config::from_json(r#"{
///     "rules": [{"group_name": "CONTOSO\\Ops", "teams": ["ops"], "role": "operator"}],
///     "default_role": "viewer"
/// }"#)?)?;
/// let mapping = mapper.map(&Assignments::new().with_groups(["contoso\\OPS"]))?;
/// assert!(mapping.teams.contains("ops"));
/// assert_eq!(mapping.role.as_deref(), Some("operator"));
/// assert_eq!(mapper.map(&Assignments::new())?.role.as_deref(), Some("viewer"));
/// # Ok::<(), entra_teams::Error>(())
/// ```
///
/// Matching: group ids and directory role ids are compared as GUIDs (case and
/// braces do not matter); group names and app role values are compared
/// case-insensitively. A `groups` value that is a GUID only matches `group_id`
/// rules; any other value only matches `group_name` rules.
///
/// Tenants: with [`Config::tenants`] set, assignments of another tenant (or
/// with no tenant) are refused ([`Error::TenantNotAllowed`]); a rule with a
/// [`Rule::tenant`] matches only assignments of that tenant.
///
/// Role precedence: with [`Config::role_precedence`] set, the matched role listed
/// first wins; without it, the role of the first matching rule in configuration
/// order wins. With no matched role, [`Config::default_role`] applies.
#[derive(Debug)]
pub struct Mapper {
    config: Config,
    claims: Vec<ClaimKind>,
    entries: Vec<(RuleRef, Matcher)>,
    by_group_id: HashMap<ObjectId, Vec<usize>>,
    by_group_name: HashMap<String, Vec<usize>>,
    by_app_role: HashMap<String, Vec<usize>>,
    by_wid: HashMap<ObjectId, Vec<usize>>,
    precedence: HashMap<String, usize>,
}

fn fold(name: &str) -> String {
    name.trim().to_lowercase()
}

impl Mapper {
    /// Validates `config` and indexes its rules.
    ///
    /// # Errors
    /// Any error of [`Config::validate`].
    pub fn new(config: Config) -> Result<Self> {
        config.validate()?;
        let mut entries: Vec<(RuleRef, Matcher)> = config
            .rules
            .iter()
            .enumerate()
            .map(|(i, r)| (RuleRef::Rule(i), r.matcher.clone()))
            .collect();
        for (i, m) in config.admin_matchers()?.into_iter().enumerate() {
            entries.push((RuleRef::AdminGroup(i), m));
        }
        let mut mapper = Self {
            claims: Vec::new(),
            entries: Vec::new(),
            by_group_id: HashMap::new(),
            by_group_name: HashMap::new(),
            by_app_role: HashMap::new(),
            by_wid: HashMap::new(),
            precedence: config
                .role_precedence
                .iter()
                .enumerate()
                .map(|(i, r)| (fold(r), i))
                .collect(),
            config,
        };
        for c in &mapper.config.claims {
            if !mapper.claims.contains(c) {
                mapper.claims.push(*c);
            }
        }
        for (idx, (_, matcher)) in entries.iter().enumerate() {
            match matcher {
                Matcher::GroupId(id) => mapper.by_group_id.entry(*id).or_default().push(idx),
                Matcher::GroupName(n) => mapper.by_group_name.entry(fold(n)).or_default().push(idx),
                Matcher::AppRole(r) => mapper.by_app_role.entry(fold(r)).or_default().push(idx),
                Matcher::DirectoryRole(id) => mapper.by_wid.entry(*id).or_default().push(idx),
            }
        }
        mapper.entries = std::mem::take(&mut entries);
        Ok(mapper)
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Whether `claim` feeds the mapping.
    pub fn uses(&self, claim: ClaimKind) -> bool {
        self.claims.contains(&claim)
    }

    /// Whether some rule or admin group matches groups by name (such matchers
    /// cannot match groups resolved on overage, which are object ids).
    pub fn matches_group_names(&self) -> bool {
        !self.by_group_name.is_empty()
    }

    /// Checks `tenant` against [`Config::tenants`]; any tenant passes when the
    /// list is empty.
    ///
    /// # Errors
    /// [`Error::TenantNotAllowed`] when the list is set and `tenant` is `None` or
    /// not in it.
    pub fn check_tenant(&self, tenant: Option<&TenantId>) -> Result<()> {
        let tenants = &self.config.tenants;
        if tenants.is_empty() || tenant.is_some_and(|t| tenants.contains(t)) {
            return Ok(());
        }
        Err(Error::TenantNotAllowed { tenant: tenant.cloned() })
    }

    /// Maps `assignments` to teams, role and admin flag. A value that matches
    /// nothing is ignored. [`Mapping::groups`] is [`GroupsOrigin::NotConsulted`];
    /// [`crate::TeamSync::resolve`] sets it.
    ///
    /// # Errors
    /// [`Error::TenantNotAllowed`] when [`Config::tenants`] is set and
    /// [`Assignments::tenant`] is missing or not listed (see
    /// [`Mapper::check_tenant`]).
    pub fn map<'a>(&self, assignments: &'a Assignments) -> Result<Mapping> {
        self.check_tenant(assignments.tenant.as_ref())?;
        // (entry index, matched value), in claim order; the first value wins.
        let mut pairs: Vec<(usize, &'a str)> = Vec::new();
        let mut push = |ids: Option<&Vec<usize>>, value: &'a str| {
            for &i in ids.into_iter().flatten() {
                pairs.push((i, value));
            }
        };
        for claim in &self.claims {
            match claim {
                ClaimKind::Groups => {
                    for v in &assignments.groups {
                        match ObjectId::try_parse(v) {
                            Some(id) => push(self.by_group_id.get(&id), v),
                            None => push(self.by_group_name.get(&fold(v)), v),
                        }
                    }
                }
                ClaimKind::Roles => {
                    for v in &assignments.roles {
                        push(self.by_app_role.get(&fold(v)), v);
                    }
                }
                ClaimKind::Wids => {
                    for v in &assignments.wids {
                        if let Some(id) = ObjectId::try_parse(v) {
                            push(self.by_wid.get(&id), v);
                        }
                    }
                }
            }
        }
        let mut hits: HashMap<usize, &str> = HashMap::new();
        for (i, v) in pairs {
            hits.entry(i).or_insert(v);
        }
        // A rule restricted to a tenant matches only that tenant's assignments.
        hits.retain(|&i, _| match self.entries[i].0 {
            RuleRef::Rule(r) => self.config.rules[r]
                .tenant
                .as_ref()
                .is_none_or(|t| assignments.tenant.as_ref() == Some(t)),
            RuleRef::AdminGroup(_) => true,
        });
        let mut matched_idx: Vec<usize> = hits.keys().copied().collect();
        matched_idx.sort_unstable();

        let mut teams = BTreeSet::new();
        let mut team_keys = HashSet::new();
        let mut admin = false;
        let mut best: Option<((usize, usize), RuleRef, &str)> = None;
        let mut matched = Vec::with_capacity(matched_idx.len());
        for i in matched_idx {
            let (rule_ref, matcher) = &self.entries[i];
            let value = hits.get(&i).copied().unwrap_or_default();
            let mut name = None;
            match rule_ref {
                RuleRef::Rule(r) => {
                    let rule: &Rule = &self.config.rules[*r];
                    name.clone_from(&rule.name);
                    for team in &rule.teams {
                        if team_keys.insert(team_key(team)) {
                            teams.insert(team.trim().to_owned());
                        }
                    }
                    admin |= rule.admin;
                    if let Some(role) = rule.role.as_deref() {
                        let rank = self.precedence.get(&fold(role)).copied().unwrap_or(usize::MAX);
                        let key = (rank, *r);
                        if best.as_ref().is_none_or(|(k, _, _)| key < *k) {
                            best = Some((key, *rule_ref, role));
                        }
                    }
                }
                RuleRef::AdminGroup(_) => admin = true,
            }
            matched.push(MatchedRule {
                rule: *rule_ref,
                name,
                matcher: matcher.clone(),
                value: value.to_owned(),
            });
        }
        let (role, role_origin) = match best {
            Some(((rank, _), rule_ref, role)) => {
                // Spell the role as `role_precedence` does, when it is listed.
                let role = self.config.role_precedence.get(rank).map_or(role, String::as_str);
                (Some(role.trim().to_owned()), RoleOrigin::Rule(rule_ref))
            }
            None => match &self.config.default_role {
                Some(r) => {
                    let rank = self.precedence.get(&fold(r)).copied();
                    let r = rank.and_then(|i| self.config.role_precedence.get(i)).unwrap_or(r);
                    (Some(r.trim().to_owned()), RoleOrigin::Default)
                }
                None => (None, RoleOrigin::None),
            },
        };
        Ok(Mapping { teams, role, role_origin, admin, matched, groups: GroupsOrigin::NotConsulted })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const G1: &str = "6f1d0f2a-1111-4a4a-9b9b-000000000001";
    const G2: &str = "6f1d0f2a-1111-4a4a-9b9b-000000000002";
    const GLOBAL_ADMIN: &str = "62e90394-69f5-4237-9190-012177145e10";

    fn mapper(json: &str) -> Mapper {
        Mapper::new(Config::from_json(json).unwrap()).unwrap()
    }

    fn id(s: &str) -> ObjectId {
        ObjectId::parse(s).unwrap()
    }

    #[test]
    fn group_id_rule_matches_as_guid() {
        let m = mapper(&format!(r#"{{"rules":[{{"group_id":"{G1}","teams":["a","b"]}}]}}"#));
        let hit = m.map(&Assignments::new().with_groups([G1.to_uppercase()])).unwrap();
        assert_eq!(hit.teams.iter().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(hit.matched.len(), 1);
        assert_eq!(hit.matched[0].rule, RuleRef::Rule(0));
        assert_eq!(hit.matched[0].matcher, Matcher::GroupId(id(G1)));
        assert_eq!(hit.matched[0].value, G1.to_uppercase());
        let miss = m.map(&Assignments::new().with_groups([G2])).unwrap();
        assert!(miss.teams.is_empty() && miss.matched.is_empty());
        // A group *name* equal to the id's text does not match an id rule's team twice.
        let miss = m.map(&Assignments::new().with_roles([G1])).unwrap();
        assert!(miss.teams.is_empty(), "an app role value never matches a group id rule");
    }

    #[test]
    fn group_name_rule_is_case_insensitive() {
        let m = mapper(r#"{"rules":[{"group_name":"CONTOSO\\Engineering","teams":"eng"}]}"#);
        let hit = m.map(&Assignments::new().with_groups(["contoso\\ENGINEERING"])).unwrap();
        assert!(hit.teams.contains("eng"));
        let miss = m.map(&Assignments::new().with_groups(["CONTOSO\\Engineering-ext"])).unwrap();
        assert!(miss.teams.is_empty());
        let miss = m.map(&Assignments::new().with_roles(["CONTOSO\\Engineering"])).unwrap();
        assert!(miss.teams.is_empty(), "an app role never matches a group name rule");
    }

    #[test]
    fn app_role_rule() {
        let m = mapper(r#"{"rules":[{"app_role":"Gateway.Admin","role":"admin","admin":true}]}"#);
        let hit = m.map(&Assignments::new().with_roles(["gateway.admin"])).unwrap();
        assert_eq!(hit.role.as_deref(), Some("admin"));
        assert!(hit.admin);
        assert_eq!(hit.role_origin, RoleOrigin::Rule(RuleRef::Rule(0)));
        let miss = m
            .map(&Assignments::new().with_roles(["Gateway.User"]).with_groups(["Gateway.Admin"]))
            .unwrap();
        assert_eq!(miss.role, None);
        assert!(!miss.admin);
        assert_eq!(miss.role_origin, RoleOrigin::None);
    }

    #[test]
    fn directory_role_rule_only_when_wids_enabled() {
        let json = format!(
            r#"{{"claims":["groups","roles","wids"],"rules":[{{"directory_role":"{GLOBAL_ADMIN}","admin":true}}]}}"#
        );
        let m = mapper(&json);
        assert!(m.map(&Assignments::new().with_wids([GLOBAL_ADMIN])).unwrap().admin);
        assert!(!m.map(&Assignments::new().with_wids([G1])).unwrap().admin);
        assert!(!m.map(&Assignments::new().with_groups([GLOBAL_ADMIN])).unwrap().admin);
        // Without `wids` in `claims`, such a rule is a configuration error.
        let err = Config::from_json(&format!(
            r#"{{"rules":[{{"directory_role":"{GLOBAL_ADMIN}","admin":true}}]}}"#
        ))
        .unwrap_err();
        assert!(err.to_string().contains("`wids` claim"), "{err}");
    }

    #[test]
    fn disabled_claims_are_not_read() {
        let m = mapper(&format!(
            r#"{{"claims":["groups"],"rules":[{{"group_id":"{G1}","teams":"a"}}]}}"#
        ));
        assert!(m.uses(ClaimKind::Groups) && !m.uses(ClaimKind::Roles));
        let m2 = mapper(r#"{"claims":["roles"],"rules":[{"app_role":"r","teams":"a"}]}"#);
        assert!(
            m2.map(&Assignments::new().with_groups([G1]).with_roles(["r"]))
                .unwrap()
                .teams
                .contains("a")
        );
        assert!(m2.map(&Assignments::new().with_groups(["r"])).unwrap().teams.is_empty());
    }

    #[test]
    fn admin_groups_by_id_and_name() {
        let m = mapper(&format!(r#"{{"admin_groups":["{G1}","Domain Admins"]}}"#));
        let by_id = m.map(&Assignments::new().with_groups([G1])).unwrap();
        assert!(by_id.admin);
        assert_eq!(by_id.matched[0].rule, RuleRef::AdminGroup(0));
        assert!(m.map(&Assignments::new().with_groups(["domain admins"])).unwrap().admin);
        assert!(!m.map(&Assignments::new().with_groups([G2, "Domain Users"])).unwrap().admin);
        assert!(!m.map(&Assignments::new().with_roles(["Domain Admins"])).unwrap().admin);
    }

    #[test]
    fn default_role_applies_only_without_a_matched_role() {
        let m = mapper(&format!(
            r#"{{"rules":[{{"group_id":"{G1}","teams":"a"}},{{"group_id":"{G2}","role":"dev"}}],"default_role":"viewer"}}"#
        ));
        let none = m.map(&Assignments::new()).unwrap();
        assert_eq!(none.role.as_deref(), Some("viewer"));
        assert_eq!(none.role_origin, RoleOrigin::Default);
        assert!(none.teams.is_empty() && !none.admin);
        let team_only = m.map(&Assignments::new().with_groups([G1])).unwrap();
        assert_eq!(team_only.role.as_deref(), Some("viewer"));
        let dev = m.map(&Assignments::new().with_groups([G1, G2])).unwrap();
        assert_eq!(dev.role.as_deref(), Some("dev"));
        // No default configured: no role.
        let m = mapper("{}");
        assert_eq!(m.map(&Assignments::new()).unwrap().role, None);
    }

    #[test]
    fn role_precedence_beats_rule_order() {
        let rules = format!(
            r#""rules":[{{"group_id":"{G1}","role":"viewer"}},{{"group_id":"{G2}","role":"Admin"}},{{"app_role":"x","role":"developer"}}]"#
        );
        // Without precedence: first matching rule in configuration order.
        let m = mapper(&format!("{{{rules}}}"));
        let both = Assignments::new().with_groups([G2, G1]).with_roles(["x"]);
        assert_eq!(m.map(&both).unwrap().role.as_deref(), Some("viewer"));
        // With precedence: highest listed wins, spelled as listed.
        let m = mapper(&format!(r#"{{{rules},"role_precedence":["admin","developer","viewer"]}}"#));
        let r = m.map(&both).unwrap();
        assert_eq!(r.role.as_deref(), Some("admin"));
        assert_eq!(r.role_origin, RoleOrigin::Rule(RuleRef::Rule(1)));
        assert_eq!(
            m.map(&Assignments::new().with_groups([G1]).with_roles(["X"])).unwrap().role.as_deref(),
            Some("developer")
        );
        assert_eq!(r.matched.len(), 3);
    }

    #[test]
    fn teams_merge_and_dedupe_across_rules() {
        let m = mapper(&format!(
            r#"{{"rules":[{{"group_id":"{G1}","teams":["a","b"]}},{{"app_role":"r","teams":["b","c"]}}]}}"#
        ));
        let r = m.map(&Assignments::new().with_groups([G1, G1]).with_roles(["r"])).unwrap();
        assert_eq!(r.teams.iter().collect::<Vec<_>>(), ["a", "b", "c"]);
        assert_eq!(r.matched.len(), 2);
        let m2 = mapper(&format!(
            r#"{{"rules":[{{"group_id":"{G1}","teams":["Platform"]}},{{"app_role":"r","teams":["platform ","Ops"]}}]}}"#
        ));
        let r2 = m2.map(&Assignments::new().with_groups([G1]).with_roles(["r"])).unwrap();
        assert_eq!(r2.teams.iter().collect::<Vec<_>>(), ["Ops", "Platform"], "first spelling wins");
        let audit = serde_json::to_value(&r).unwrap();
        assert_eq!(audit["matched"][0]["matcher"], serde_json::json!({"group_id": G1}));
        assert_eq!(audit["matched"][0]["rule"], serde_json::json!({"rule": 0}));
        assert_eq!(audit["matched"][1]["matcher"], serde_json::json!({"app_role": "r"}));
        assert_eq!(audit["role_origin"], "none");
        assert_eq!(audit["groups"], "not_consulted");
    }

    #[test]
    fn from_claims_reads_listed_groups_only() {
        let claims: EntraClaims = serde_json::from_str(&format!(
            r#"{{"groups":["{G1}"],"roles":["r"],"wids":["{GLOBAL_ADMIN}"]}}"#
        ))
        .unwrap();
        let a = Assignments::from_claims(&claims);
        assert_eq!(a.groups, [G1]);
        assert_eq!(a.roles, ["r"]);
        assert_eq!(a.wids, [GLOBAL_ADMIN]);
        let overage: EntraClaims =
            serde_json::from_str(r#"{"_claim_names":{"groups":"src1"}}"#).unwrap();
        assert!(Assignments::from_claims(&overage).groups.is_empty());
    }

    const HOME: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    const ATTACKER: &str = "0a0a0a0a-0000-4000-8000-000000000bad";

    fn tid(s: &str) -> TenantId {
        TenantId::parse(s).unwrap()
    }

    #[test]
    fn tenant_allow_list_refuses_other_tenants() {
        let rules = format!(
            r#""claims":["groups","roles","wids"],"rules":[{{"app_role":"Gateway.Admin","admin":true}},{{"directory_role":"{GLOBAL_ADMIN}","role":"admin"}}]"#
        );
        let m = mapper(&format!(r#"{{"tenants":["{HOME}"],{rules}}}"#));
        let claims = Assignments::new().with_roles(["Gateway.Admin"]).with_wids([GLOBAL_ADMIN]);
        // The home tenant's admins match.
        let home = m.map(&claims.clone().with_tenant(tid(HOME))).unwrap();
        assert!(home.admin && home.role.as_deref() == Some("admin"));
        // The Global Administrator of a tenant anyone can create does not.
        let err = m.map(&claims.clone().with_tenant(tid(ATTACKER))).unwrap_err();
        assert!(matches!(&err, Error::TenantNotAllowed { tenant: Some(t) } if t == &tid(ATTACKER)));
        assert!(err.is_unauthorized() && !err.is_transient() && !err.is_config());
        assert!(err.to_string().contains(ATTACKER), "{err}");
        // No tenant at all is refused too.
        let err = m.map(&claims.clone()).unwrap_err();
        assert!(matches!(err, Error::TenantNotAllowed { tenant: None }), "{err}");
        assert!(m.check_tenant(Some(&tid(HOME))).is_ok());
        // Without the list (single-tenant apps), any tenant the validator let in maps.
        let open = mapper(&format!("{{{rules}}}"));
        assert!(open.map(&claims.with_tenant(tid(ATTACKER))).unwrap().admin);
    }

    #[test]
    fn rule_tenant_restricts_one_rule() {
        let m = mapper(&format!(
            r#"{{"rules":[{{"app_role":"Gateway.Admin","admin":true,"tenant":"{HOME}"}},{{"app_role":"Gateway.Admin","teams":"users"}}]}}"#
        ));
        let roles = Assignments::new().with_roles(["Gateway.Admin"]);
        let home = m.map(&roles.clone().with_tenant(tid(HOME))).unwrap();
        assert!(home.admin && home.teams.contains("users"));
        assert_eq!(home.matched.len(), 2);
        let other = m.map(&roles.clone().with_tenant(tid(ATTACKER))).unwrap();
        assert!(!other.admin, "another tenant's app role assignment never makes an admin");
        assert!(other.teams.contains("users"));
        assert_eq!(other.matched.len(), 1);
        assert!(!m.map(&roles).unwrap().admin, "no tenant matches no tenant-restricted rule");
    }

    #[test]
    fn from_claims_reads_the_tenant() {
        let claims: EntraClaims =
            serde_json::from_str(&format!(r#"{{"tid":"{}","roles":["r"]}}"#, HOME.to_uppercase()))
                .unwrap();
        assert_eq!(Assignments::from_claims(&claims).tenant, Some(tid(HOME)));
        let bad: EntraClaims = serde_json::from_str(r#"{"tid":"contoso.com"}"#).unwrap();
        assert_eq!(Assignments::from_claims(&bad).tenant, None);
    }

    #[test]
    fn group_name_matchers_are_reported() {
        assert!(mapper(r#"{"admin_groups":["Domain Admins"]}"#).matches_group_names());
        assert!(mapper(r#"{"rules":[{"group_name":"Ops","teams":"ops"}]}"#).matches_group_names());
        assert!(!mapper(&format!(r#"{{"admin_groups":["{G1}"]}}"#)).matches_group_names());
        assert!(!mapper(r#"{"rules":[{"app_role":"Ops","teams":"ops"}]}"#).matches_group_names());
    }
}
