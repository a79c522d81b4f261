//! Configuration from environment variables: our `ENTRA_TEAMS_CONFIG` (JSON) and
//! the `SSO_ENTRA_*` variables of IBM's MCP Gateway (ContextForge).

use std::collections::HashMap;

use entra_core::TenantId;

use crate::config::{ClaimKind, Config, Matcher, Rule};
use crate::error::{Error, Result, shorten};

/// Our variable: the whole [`Config`] as JSON.
pub const ENTRA_TEAMS_CONFIG: &str = "ENTRA_TEAMS_CONFIG";
/// Our variable: the path of a JSON file holding the whole [`Config`].
pub const ENTRA_TEAMS_CONFIG_FILE: &str = "ENTRA_TEAMS_CONFIG_FILE";
/// Our variable: [`Config::tenants`], a JSON list or comma-separated list of
/// tenant ids. Replaces the list of the base configuration.
pub const ENTRA_TEAMS_TENANTS: &str = "ENTRA_TEAMS_TENANTS";

const GROUPS_CLAIM: &str = "SSO_ENTRA_GROUPS_CLAIM";
const ADMIN_GROUPS: &str = "SSO_ENTRA_ADMIN_GROUPS";
const ROLE_MAPPINGS: &str = "SSO_ENTRA_ROLE_MAPPINGS";
const DEFAULT_ROLE: &str = "SSO_ENTRA_DEFAULT_ROLE";
const SYNC_ROLES: &str = "SSO_ENTRA_SYNC_ROLES_ON_LOGIN";
const GRAPH_ENABLED: &str = "SSO_ENTRA_GRAPH_API_ENABLED";
const GRAPH_TIMEOUT: &str = "SSO_ENTRA_GRAPH_API_TIMEOUT";
const GRAPH_MAX_GROUPS: &str = "SSO_ENTRA_GRAPH_API_MAX_GROUPS";

/// Every variable [`Config::from_env`] reads.
pub const ENV_VARS: &[&str] = &[
    ENTRA_TEAMS_CONFIG,
    ENTRA_TEAMS_CONFIG_FILE,
    ENTRA_TEAMS_TENANTS,
    GROUPS_CLAIM,
    ADMIN_GROUPS,
    ROLE_MAPPINGS,
    DEFAULT_ROLE,
    SYNC_ROLES,
    GRAPH_ENABLED,
    GRAPH_TIMEOUT,
    GRAPH_MAX_GROUPS,
];

impl Config {
    /// Reads the configuration from the process environment; see
    /// [`Config::from_vars`] for the variables.
    ///
    /// # Errors
    /// As [`Config::from_vars`].
    pub fn from_env() -> Result<Self> {
        Self::from_vars(ENV_VARS.iter().filter_map(|k| std::env::var(k).ok().map(|v| (*k, v))))
    }

    /// Reads the configuration from `(name, value)` pairs, as from the environment.
    /// Empty values count as unset (Helm charts default them to `""`).
    ///
    /// - `ENTRA_TEAMS_CONFIG` (JSON) or `ENTRA_TEAMS_CONFIG_FILE` (path of a JSON
    ///   file): the whole [`Config`]; the base the variables below add to.
    /// - `ENTRA_TEAMS_TENANTS`: [`Config::tenants`], the tenant ids whose tokens
    ///   are mapped, as a JSON list or comma-separated list. Multi-tenant apps
    ///   with rules on app roles, directory roles or group names must set it.
    /// - `SSO_ENTRA_GROUPS_CLAIM`: the one claim that feeds the mapping, `groups`,
    ///   `roles` or `wids`; replaces `claims`. It also decides how the keys of the two
    ///   variables below are read: for `groups` a GUID is a group object id and
    ///   anything else an on-prem group name; for `roles` an app role value; for
    ///   `wids` a directory role template id.
    /// - `SSO_ENTRA_ADMIN_GROUPS`: a JSON list or comma-separated list; each entry
    ///   becomes an admin rule.
    /// - `SSO_ENTRA_ROLE_MAPPINGS`: a JSON object `{"<group or role>": "<role>"}`;
    ///   each entry becomes a role rule. Set `role_precedence` (in
    ///   `ENTRA_TEAMS_CONFIG`) when several can match.
    /// - `SSO_ENTRA_DEFAULT_ROLE`: the default role.
    /// - `SSO_ENTRA_SYNC_ROLES_ON_LOGIN`: `sync_on_login` (a boolean).
    /// - `SSO_ENTRA_GRAPH_API_ENABLED` (boolean), `SSO_ENTRA_GRAPH_API_TIMEOUT`
    ///   (seconds, at least 1), `SSO_ENTRA_GRAPH_API_MAX_GROUPS` (`0` means no cap of
    ///   our own: the page bound still limits the list): the [`crate::GraphConfig`].
    ///
    /// Booleans accept `true`/`false`, `1`/`0`, `yes`/`no`, `on`/`off`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] or [`Error::ConfigJson`] naming the variable, and
    /// any error of [`Config::validate`] on the result.
    pub fn from_vars<I, K, V>(vars: I) -> Result<Self>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let vars: HashMap<String, String> = vars
            .into_iter()
            .filter(|(_, v)| !v.as_ref().trim().is_empty())
            .map(|(k, v)| (k.as_ref().to_owned(), v.as_ref().trim().to_owned()))
            .collect();
        let get = |k: &str| vars.get(k).map(String::as_str);

        let mut config = match (get(ENTRA_TEAMS_CONFIG), get(ENTRA_TEAMS_CONFIG_FILE)) {
            (Some(_), Some(_)) => {
                return Err(Error::config(
                    ENTRA_TEAMS_CONFIG_FILE,
                    format!(
                        "set either {ENTRA_TEAMS_CONFIG} or {ENTRA_TEAMS_CONFIG_FILE}, not both"
                    ),
                ));
            }
            (Some(json), None) => Self::from_json_at(json, ENTRA_TEAMS_CONFIG)?,
            (None, Some(path)) => Self::from_json_file(path)?,
            (None, None) => Self::default(),
        };

        if let Some(v) = get(ENTRA_TEAMS_TENANTS) {
            config.tenants = string_list(ENTRA_TEAMS_TENANTS, v)?
                .iter()
                .enumerate()
                .map(|(i, t)| {
                    TenantId::parse(t).map_err(|_| {
                        Error::config(
                            format!("{ENTRA_TEAMS_TENANTS}[{i}]"),
                            format!("{:?} is not a tenant id (GUID)", shorten(t)),
                        )
                    })
                })
                .collect::<Result<_>>()?;
        }

        let key_claim = match get(GROUPS_CLAIM) {
            Some(v) => {
                let claim = ClaimKind::parse(v).ok_or_else(|| {
                    Error::config(
                        GROUPS_CLAIM,
                        format!("{:?} is not `groups`, `roles` or `wids`", shorten(v)),
                    )
                })?;
                config.claims = vec![claim];
                claim
            }
            None => ClaimKind::Groups,
        };

        if let Some(v) = get(ADMIN_GROUPS) {
            for (i, key) in string_list(ADMIN_GROUPS, v)?.iter().enumerate() {
                let at = format!("{ADMIN_GROUPS}[{i}]");
                let mut rule = Rule::new(Matcher::from_key(key_claim, key, &at)?).admin();
                rule.name = Some(format!("{ADMIN_GROUPS}: {key}"));
                config.rules.push(rule);
            }
        }

        if let Some(v) = get(ROLE_MAPPINGS) {
            let map: serde_json::Map<String, serde_json::Value> = serde_json::from_str(v)
                .map_err(|source| Error::ConfigJson { at: ROLE_MAPPINGS.to_owned(), source })?;
            for (key, role) in map {
                let at = format!("{ROLE_MAPPINGS}[{key:?}]");
                let role = match role {
                    serde_json::Value::String(r) if !r.trim().is_empty() => r,
                    _ => {
                        return Err(Error::config(at, "the role must be a non-empty string"));
                    }
                };
                let mut rule = Rule::new(Matcher::from_key(key_claim, &key, &at)?).role(role);
                rule.name = Some(format!("{ROLE_MAPPINGS}: {key}"));
                config.rules.push(rule);
            }
        }

        if let Some(v) = get(DEFAULT_ROLE) {
            config.default_role = Some(v.to_owned());
        }
        if let Some(v) = get(SYNC_ROLES) {
            config.sync_on_login = boolean(SYNC_ROLES, v)?;
        }
        if let Some(v) = get(GRAPH_ENABLED) {
            config.graph.enabled = boolean(GRAPH_ENABLED, v)?;
        }
        if let Some(v) = get(GRAPH_TIMEOUT) {
            config.graph.timeout_secs = match v.parse::<u64>() {
                Ok(n) if n >= 1 => n,
                _ => {
                    return Err(Error::config(
                        GRAPH_TIMEOUT,
                        format!("{:?} is not a whole number of seconds of at least 1", shorten(v)),
                    ));
                }
            };
        }
        if let Some(v) = get(GRAPH_MAX_GROUPS) {
            config.graph.max_groups = match v.parse::<usize>() {
                Ok(0) => usize::MAX,
                Ok(n) => n,
                Err(_) => {
                    return Err(Error::config(
                        GRAPH_MAX_GROUPS,
                        format!("{:?} is not a whole number (0 for no cap)", shorten(v)),
                    ));
                }
            };
        }
        config.validate()?;
        Ok(config)
    }
}

/// A JSON list of strings, or a comma-separated list.
fn string_list(at: &str, v: &str) -> Result<Vec<String>> {
    if v.starts_with('[') {
        let list: Vec<String> = serde_json::from_str(v)
            .map_err(|source| Error::ConfigJson { at: at.to_owned(), source })?;
        Ok(list.into_iter().map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect())
    } else {
        Ok(v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect())
    }
}

fn boolean(at: &str, v: &str) -> Result<bool> {
    match v.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(Error::config(
            at,
            format!("{:?} is not a boolean (true/false, 1/0, yes/no, on/off)", shorten(v)),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ObjectId;

    const G1: &str = "6f1d0f2a-1111-4a4a-9b9b-000000000001";

    #[test]
    fn gateway_variables_are_accepted() {
        let c = Config::from_vars([
            ("SSO_ENTRA_GROUPS_CLAIM", "groups"),
            ("SSO_ENTRA_ADMIN_GROUPS", &*format!("{G1}, Domain Admins")),
            ("SSO_ENTRA_ROLE_MAPPINGS", r#"{"Developers": "developer"}"#),
            ("SSO_ENTRA_DEFAULT_ROLE", "viewer"),
            ("SSO_ENTRA_SYNC_ROLES_ON_LOGIN", "false"),
            ("SSO_ENTRA_GRAPH_API_ENABLED", "off"),
            ("SSO_ENTRA_GRAPH_API_TIMEOUT", "25"),
            ("SSO_ENTRA_GRAPH_API_MAX_GROUPS", "0"),
        ])
        .unwrap();
        assert_eq!(c.claims, [ClaimKind::Groups]);
        assert_eq!(c.rules.len(), 3);
        assert_eq!(c.rules[0].matcher, Matcher::GroupId(ObjectId::parse(G1).unwrap()));
        assert!(c.rules[0].admin);
        assert_eq!(c.rules[1].matcher, Matcher::GroupName("Domain Admins".into()));
        assert_eq!(c.rules[2].matcher, Matcher::GroupName("Developers".into()));
        assert_eq!(c.rules[2].role.as_deref(), Some("developer"));
        assert_eq!(c.default_role.as_deref(), Some("viewer"));
        assert!(!c.sync_on_login && !c.graph.enabled);
        assert_eq!(c.graph.timeout_secs, 25);
        assert_eq!(c.graph.max_groups, usize::MAX);
    }

    #[test]
    fn roles_claim_reads_keys_as_app_roles() {
        let c = Config::from_vars([
            ("SSO_ENTRA_GROUPS_CLAIM", "ROLES"),
            ("SSO_ENTRA_ADMIN_GROUPS", r#"["gateway.admin"]"#),
        ])
        .unwrap();
        assert_eq!(c.claims, [ClaimKind::Roles]);
        assert_eq!(c.rules[0].matcher, Matcher::AppRole("gateway.admin".into()));
    }

    #[test]
    fn empty_values_are_unset_and_base_json_is_extended() {
        let c = Config::from_vars([
            ("ENTRA_TEAMS_CONFIG", r#"{"rules":[{"app_role":"a","teams":"t"}]}"#),
            ("SSO_ENTRA_DEFAULT_ROLE", ""),
            ("SSO_ENTRA_ADMIN_GROUPS", "[]"),
            ("SSO_ENTRA_ROLE_MAPPINGS", "{}"),
            ("UNRELATED", "x"),
        ])
        .unwrap();
        assert_eq!(c.rules.len(), 1);
        assert!(c.default_role.is_none());
        assert_eq!(Config::from_vars(Vec::<(String, String)>::new()).unwrap(), Config::default());
    }

    #[test]
    fn config_file_variable() {
        let path = std::env::temp_dir().join(format!("entra-teams-{}.json", std::process::id()));
        std::fs::write(&path, r#"{"default_role": "viewer", "create_missing_teams": true}"#)
            .unwrap();
        let c = Config::from_vars([("ENTRA_TEAMS_CONFIG_FILE", path.to_str().unwrap())]).unwrap();
        assert_eq!(c.default_role.as_deref(), Some("viewer"));
        assert!(c.create_missing_teams);
        std::fs::write(&path, r#"{"default_role": 3}"#).unwrap();
        let err =
            Config::from_vars([("ENTRA_TEAMS_CONFIG_FILE", path.to_str().unwrap())]).unwrap_err();
        assert!(matches!(err, Error::ConfigJson { .. }), "{err}");
        assert!(err.to_string().contains("entra-teams-"), "{err}");
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn errors_name_the_variable() {
        let cases: &[(&str, &str, &str)] = &[
            ("SSO_ENTRA_GROUPS_CLAIM", "memberOf", "not `groups`, `roles` or `wids`"),
            ("SSO_ENTRA_ROLE_MAPPINGS", r#"{"g": 3}"#, "non-empty string"),
            ("SSO_ENTRA_GRAPH_API_TIMEOUT", "0", "at least 1"),
            ("SSO_ENTRA_GRAPH_API_TIMEOUT", "ten", "whole number"),
            ("SSO_ENTRA_GRAPH_API_MAX_GROUPS", "-1", "whole number"),
            ("SSO_ENTRA_GRAPH_API_ENABLED", "maybe", "not a boolean"),
            ("SSO_ENTRA_SYNC_ROLES_ON_LOGIN", "2", "not a boolean"),
        ];
        for (var, value, want) in cases {
            let err = Config::from_vars([(*var, *value)]).unwrap_err();
            let s = err.to_string();
            assert!(s.contains(var) && s.contains(want), "{var}={value}: {s}");
        }
        let err = Config::from_vars([("SSO_ENTRA_ROLE_MAPPINGS", "{not json")]).unwrap_err();
        assert!(matches!(&err, Error::ConfigJson { at, .. } if at == "SSO_ENTRA_ROLE_MAPPINGS"));
        assert!(err.to_string().contains("SSO_ENTRA_ROLE_MAPPINGS"));
        let err = Config::from_vars([("SSO_ENTRA_ADMIN_GROUPS", "[1,2]")]).unwrap_err();
        assert!(matches!(err, Error::ConfigJson { .. }));
        let err = Config::from_vars([("ENTRA_TEAMS_CONFIG", r#"{"rule":[]}"#)]).unwrap_err();
        let src = std::error::Error::source(&err).unwrap().to_string();
        assert!(err.to_string().contains("ENTRA_TEAMS_CONFIG") && src.contains("unknown field"));
        let err = Config::from_vars([
            ("SSO_ENTRA_GROUPS_CLAIM", "wids"),
            ("SSO_ENTRA_ADMIN_GROUPS", "x"),
        ])
        .unwrap_err();
        assert!(err.to_string().contains("SSO_ENTRA_ADMIN_GROUPS[0]"), "{err}");
        let err = Config::from_vars([
            ("ENTRA_TEAMS_CONFIG", "{}"),
            ("ENTRA_TEAMS_CONFIG_FILE", "/x.json"),
        ])
        .unwrap_err();
        assert!(err.to_string().contains("not both"));
    }

    #[test]
    fn tenants_variable() {
        const T1: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
        const T2: &str = "0a0a0a0a-0000-4000-8000-000000000bad";
        let c = Config::from_vars([
            ("ENTRA_TEAMS_CONFIG", &*format!(r#"{{"tenants":["{T2}"]}}"#)),
            ("ENTRA_TEAMS_TENANTS", &*format!("{}, {T2}", T1.to_uppercase())),
        ])
        .unwrap();
        assert_eq!(c.tenants, [TenantId::parse(T1).unwrap(), TenantId::parse(T2).unwrap()]);
        let c = Config::from_vars([("ENTRA_TEAMS_TENANTS", &*format!(r#"["{T1}"]"#))]).unwrap();
        assert_eq!(c.tenants, [TenantId::parse(T1).unwrap()]);
        let err = Config::from_vars([("ENTRA_TEAMS_TENANTS", &*format!("{T1},common"))])
            .unwrap_err()
            .to_string();
        assert!(err.contains("ENTRA_TEAMS_TENANTS[1]") && err.contains("not a tenant id"), "{err}");
        assert!(ENV_VARS.contains(&ENTRA_TEAMS_TENANTS));
    }
}
