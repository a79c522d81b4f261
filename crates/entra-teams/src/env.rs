//! Configuration from environment variables: `ENTRA_TEAMS_CONFIG` (JSON) and the
//! `ENTRA_*` teams variables, which accept the `SSO_ENTRA_*` names of IBM's MCP
//! Gateway (ContextForge). The names live in [`entra_core::env`].

use entra_core::TenantId;
use entra_core::env::{self, EnvVar, Vars};

use crate::config::{ClaimKind, Config, Matcher, Rule};
use crate::error::{Error, Result, shorten};

impl Config {
    /// Reads the configuration from the process environment; see
    /// [`Config::from_lookup`] for the variables.
    ///
    /// # Errors
    /// As [`Config::from_lookup`].
    pub fn from_env() -> Result<Self> {
        Self::from_lookup(env::process_env)
    }

    /// Reads the configuration through `lookup` (a variable name to its value).
    /// Blank values count as unset (Helm charts default them to `""`); for each
    /// setting, the canonical `ENTRA_*` name wins over its `SSO_ENTRA_*` alias
    /// (the precedence rule of [`entra_core::env`]).
    ///
    /// - [`env::TEAMS_CONFIG`] (JSON) or [`env::TEAMS_CONFIG_FILE`] (path of a
    ///   JSON file): the whole [`Config`]; the base the variables below add to.
    /// - [`env::TEAMS_TENANTS`]: [`Config::tenants`], the tenant ids whose tokens
    ///   are mapped, as a JSON list or comma-separated list. Multi-tenant apps
    ///   with rules on app roles, directory roles or group names must set it.
    /// - [`env::GROUPS_CLAIM`] (`SSO_ENTRA_GROUPS_CLAIM`): the one claim that
    ///   feeds the mapping, `groups`, `roles` or `wids`; replaces `claims`. It also
    ///   decides how the keys of the two variables below are read: for `groups` a
    ///   GUID is a group object id and anything else an on-prem group name; for
    ///   `roles` an app role value; for `wids` a directory role template id.
    /// - [`env::ADMIN_GROUPS`] (`SSO_ENTRA_ADMIN_GROUPS`): a JSON list or
    ///   comma-separated list; each entry becomes an admin rule.
    /// - [`env::ROLE_MAPPINGS`] (`SSO_ENTRA_ROLE_MAPPINGS`): a JSON object
    ///   `{"<group or role>": "<role>"}`; each entry becomes a role rule. Set
    ///   `role_precedence` (in `ENTRA_TEAMS_CONFIG`) when several can match.
    /// - [`env::DEFAULT_ROLE`] (`SSO_ENTRA_DEFAULT_ROLE`): the default role.
    /// - [`env::SYNC_ROLES_ON_LOGIN`] (`SSO_ENTRA_SYNC_ROLES_ON_LOGIN`):
    ///   `sync_on_login` (a boolean).
    /// - [`env::GRAPH_API_ENABLED`] (boolean), [`env::GRAPH_API_TIMEOUT`]
    ///   (seconds, at least 1), [`env::GRAPH_API_MAX_GROUPS`] (`0` means no cap of
    ///   our own: the page bound still limits the list), with their
    ///   `SSO_ENTRA_GRAPH_API_*` aliases: the [`crate::GraphConfig`].
    ///
    /// Booleans accept `true`/`false`, `1`/`0`, `yes`/`no`, `on`/`off`.
    ///
    /// ```
    /// use entra_teams::Config;
    /// let env = [
    ///     ("SSO_ENTRA_ADMIN_GROUPS", r#"["Domain Admins"]"#),
    ///     ("SSO_ENTRA_DEFAULT_ROLE", "viewer"),
    /// ];
    /// let config = Config::from_lookup(|n| env.iter().find(|(k, _)| *k == n).map(|(_, v)| v.to_string()))?;
    /// assert_eq!(config.default_role.as_deref(), Some("viewer"));
    /// assert!(config.rules[0].admin);
    /// # Ok::<(), entra_teams::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] or [`Error::ConfigJson`] naming the variable read,
    /// and any error of [`Config::validate`] on the result.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let vars = Vars::new(&lookup);
        let get = |var: &EnvVar| vars.get(var);

        let mut config = match (get(&env::TEAMS_CONFIG), get(&env::TEAMS_CONFIG_FILE)) {
            (Some((json_name, _)), Some((file_name, _))) => {
                return Err(Error::config(
                    file_name,
                    format!("set either {json_name} or {file_name}, not both"),
                ));
            }
            (Some((name, json)), None) => Self::from_json_at(&json, name)?,
            (None, Some((_, path))) => Self::from_json_file(path)?,
            (None, None) => Self::default(),
        };

        if let Some((name, v)) = get(&env::TEAMS_TENANTS) {
            config.tenants = string_list(name, &v)?
                .iter()
                .enumerate()
                .map(|(i, t)| {
                    TenantId::parse(t).map_err(|_| {
                        Error::config(
                            format!("{name}[{i}]"),
                            format!("{:?} is not a tenant id (GUID)", shorten(t)),
                        )
                    })
                })
                .collect::<Result<_>>()?;
        }

        let key_claim = match get(&env::GROUPS_CLAIM) {
            Some((name, v)) => {
                let claim = ClaimKind::parse(&v).ok_or_else(|| {
                    Error::config(
                        name,
                        format!("{:?} is not `groups`, `roles` or `wids`", shorten(&v)),
                    )
                })?;
                config.claims = vec![claim];
                claim
            }
            None => ClaimKind::Groups,
        };

        if let Some((name, v)) = get(&env::ADMIN_GROUPS) {
            for (i, key) in string_list(name, &v)?.iter().enumerate() {
                let at = format!("{name}[{i}]");
                let mut rule = Rule::new(Matcher::from_key(key_claim, key, &at)?).admin();
                rule.name = Some(format!("{name}: {key}"));
                config.rules.push(rule);
            }
        }

        if let Some((name, v)) = get(&env::ROLE_MAPPINGS) {
            let map: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&v)
                .map_err(|source| Error::ConfigJson { at: name.to_owned(), source })?;
            for (key, role) in map {
                let at = format!("{name}[{key:?}]");
                let role = match role {
                    serde_json::Value::String(r) if !r.trim().is_empty() => r,
                    _ => {
                        return Err(Error::config(at, "the role must be a non-empty string"));
                    }
                };
                let mut rule = Rule::new(Matcher::from_key(key_claim, &key, &at)?).role(role);
                rule.name = Some(format!("{name}: {key}"));
                config.rules.push(rule);
            }
        }

        if let Some((_, v)) = get(&env::DEFAULT_ROLE) {
            config.default_role = Some(v);
        }
        if let Some((name, v)) = get(&env::SYNC_ROLES_ON_LOGIN) {
            config.sync_on_login = boolean(name, &v)?;
        }
        if let Some((name, v)) = get(&env::GRAPH_API_ENABLED) {
            config.graph.enabled = boolean(name, &v)?;
        }
        if let Some((name, v)) = get(&env::GRAPH_API_TIMEOUT) {
            config.graph.timeout_secs = match v.parse::<u64>() {
                Ok(n) if n >= 1 => n,
                _ => {
                    return Err(Error::config(
                        name,
                        format!("{:?} is not a whole number of seconds of at least 1", shorten(&v)),
                    ));
                }
            };
        }
        if let Some((name, v)) = get(&env::GRAPH_API_MAX_GROUPS) {
            config.graph.max_groups = match v.parse::<usize>() {
                Ok(0) => usize::MAX,
                Ok(n) => n,
                Err(_) => {
                    return Err(Error::config(
                        name,
                        format!("{:?} is not a whole number (0 for no cap)", shorten(&v)),
                    ));
                }
            };
        }
        config.validate()?;
        Ok(config)
    }
}

/// A JSON list of strings, or a comma-separated list ([`env::parse_list`]).
fn string_list(at: &str, v: &str) -> Result<Vec<String>> {
    env::parse_list(v).map_err(|source| Error::ConfigJson { at: at.to_owned(), source })
}

fn boolean(at: &str, v: &str) -> Result<bool> {
    env::parse_flag(v).ok_or_else(|| {
        Error::config(
            at,
            format!("{:?} is not a boolean (true/false, 1/0, yes/no, on/off)", shorten(v)),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ObjectId;

    const G1: &str = "6f1d0f2a-1111-4a4a-9b9b-000000000001";

    fn from_pairs<V: AsRef<str>>(
        pairs: impl IntoIterator<Item = (&'static str, V)>,
    ) -> Result<Config> {
        let pairs: Vec<(&str, String)> =
            pairs.into_iter().map(|(k, v)| (k, v.as_ref().to_owned())).collect();
        Config::from_lookup(move |n| pairs.iter().find(|(k, _)| *k == n).map(|(_, v)| v.clone()))
    }

    #[test]
    fn gateway_variables_are_accepted() {
        let c = from_pairs([
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
        let c = from_pairs([
            ("SSO_ENTRA_GROUPS_CLAIM", "ROLES"),
            ("SSO_ENTRA_ADMIN_GROUPS", r#"["gateway.admin"]"#),
        ])
        .unwrap();
        assert_eq!(c.claims, [ClaimKind::Roles]);
        assert_eq!(c.rules[0].matcher, Matcher::AppRole("gateway.admin".into()));
    }

    #[test]
    fn empty_values_are_unset_and_base_json_is_extended() {
        let c = from_pairs([
            ("ENTRA_TEAMS_CONFIG", r#"{"rules":[{"app_role":"a","teams":"t"}]}"#),
            ("SSO_ENTRA_DEFAULT_ROLE", ""),
            ("SSO_ENTRA_ADMIN_GROUPS", "[]"),
            ("SSO_ENTRA_ROLE_MAPPINGS", "{}"),
            ("UNRELATED", "x"),
        ])
        .unwrap();
        assert_eq!(c.rules.len(), 1);
        assert!(c.default_role.is_none());
        assert_eq!(from_pairs::<&str>([]).unwrap(), Config::default());
    }

    #[test]
    fn config_file_variable() {
        let path = std::env::temp_dir().join(format!("entra-teams-{}.json", std::process::id()));
        std::fs::write(&path, r#"{"default_role": "viewer", "create_missing_teams": true}"#)
            .unwrap();
        let c = from_pairs([("ENTRA_TEAMS_CONFIG_FILE", path.to_str().unwrap())]).unwrap();
        assert_eq!(c.default_role.as_deref(), Some("viewer"));
        assert!(c.create_missing_teams);
        std::fs::write(&path, r#"{"default_role": 3}"#).unwrap();
        let err = from_pairs([("ENTRA_TEAMS_CONFIG_FILE", path.to_str().unwrap())]).unwrap_err();
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
            let err = from_pairs([(*var, *value)]).unwrap_err();
            let s = err.to_string();
            assert!(s.contains(var) && s.contains(want), "{var}={value}: {s}");
        }
        let err = from_pairs([("SSO_ENTRA_ROLE_MAPPINGS", "{not json")]).unwrap_err();
        assert!(matches!(&err, Error::ConfigJson { at, .. } if at == "SSO_ENTRA_ROLE_MAPPINGS"));
        assert!(err.to_string().contains("SSO_ENTRA_ROLE_MAPPINGS"));
        let err = from_pairs([("SSO_ENTRA_ADMIN_GROUPS", "[1,2]")]).unwrap_err();
        assert!(matches!(err, Error::ConfigJson { .. }));
        let err = from_pairs([("ENTRA_TEAMS_CONFIG", r#"{"rule":[]}"#)]).unwrap_err();
        let src = std::error::Error::source(&err).unwrap().to_string();
        assert!(err.to_string().contains("ENTRA_TEAMS_CONFIG") && src.contains("unknown field"));
        let err = from_pairs([("SSO_ENTRA_GROUPS_CLAIM", "wids"), ("SSO_ENTRA_ADMIN_GROUPS", "x")])
            .unwrap_err();
        assert!(err.to_string().contains("SSO_ENTRA_ADMIN_GROUPS[0]"), "{err}");
        let err =
            from_pairs([("ENTRA_TEAMS_CONFIG", "{}"), ("ENTRA_TEAMS_CONFIG_FILE", "/x.json")])
                .unwrap_err();
        assert!(err.to_string().contains("not both"));
    }

    #[test]
    fn tenants_variable() {
        const T1: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
        const T2: &str = "0a0a0a0a-0000-4000-8000-000000000bad";
        let c = from_pairs([
            ("ENTRA_TEAMS_CONFIG", &*format!(r#"{{"tenants":["{T2}"]}}"#)),
            ("ENTRA_TEAMS_TENANTS", &*format!("{}, {T2}", T1.to_uppercase())),
        ])
        .unwrap();
        assert_eq!(c.tenants, [TenantId::parse(T1).unwrap(), TenantId::parse(T2).unwrap()]);
        let c = from_pairs([("ENTRA_TEAMS_TENANTS", &*format!(r#"["{T1}"]"#))]).unwrap();
        assert_eq!(c.tenants, [TenantId::parse(T1).unwrap()]);
        let err = from_pairs([("ENTRA_TEAMS_TENANTS", &*format!("{T1},common"))])
            .unwrap_err()
            .to_string();
        assert!(err.contains("ENTRA_TEAMS_TENANTS[1]") && err.contains("not a tenant id"), "{err}");
    }

    #[test]
    fn canonical_names_win_over_the_gateway_names() {
        let c = from_pairs([
            ("ENTRA_DEFAULT_ROLE", "member"),
            ("SSO_ENTRA_DEFAULT_ROLE", "viewer"),
            ("ENTRA_GRAPH_API_TIMEOUT", "30"),
            ("SSO_ENTRA_GRAPH_API_TIMEOUT", "bogus"),
        ])
        .unwrap();
        assert_eq!(c.default_role.as_deref(), Some("member"));
        assert_eq!(c.graph.timeout_secs, 30);
        let err = from_pairs([("ENTRA_GRAPH_API_ENABLED", "maybe")]).unwrap_err().to_string();
        assert!(err.contains("ENTRA_GRAPH_API_ENABLED"), "{err}");
    }

    #[test]
    fn every_variable_the_table_gives_to_entra_teams_is_read() {
        let looked_up = std::cell::RefCell::new(Vec::new());
        Config::from_lookup(|name| {
            looked_up.borrow_mut().push(name.to_owned());
            None
        })
        .unwrap();
        let looked_up = looked_up.into_inner();
        for var in env::ALL {
            let read = var.names().all(|n| looked_up.iter().any(|l| l == n));
            assert_eq!(read, var.read_by.contains(&"entra-teams"), "{}", var.name);
        }
    }
}
