//! The whole flow with in-process sources and the in-memory directory.

use std::collections::BTreeSet;

use entra_teams::{
    Config, Error, GroupsOrigin, Membership, MembershipSource, MemoryDirectory, RoleOrigin,
    StaticGroupSource, TeamSync,
};
use serde_json::json;

use crate::common::{ALICE, G_ENG, G_OPS, alice, token};

fn config(extra: &str) -> Config {
    Config::from_json(&format!(
        r#"{{
            "rules": [
                {{"group_id": "{G_ENG}", "teams": ["eng"], "role": "developer"}},
                {{"group_id": "{G_OPS}", "teams": ["ops", "oncall"]}},
                {{"app_role": "Gateway.Admin", "role": "admin", "admin": true}}
            ],
            "default_role": "viewer",
            "role_precedence": ["admin", "developer", "viewer"]
            {extra}
        }}"#
    ))
    .unwrap()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

#[tokio::test]
async fn sync_adds_then_removes_only_what_it_manages() {
    let sync = TeamSync::builder(config("")).build().unwrap();
    let dir = MemoryDirectory::new();
    for t in ["eng", "ops", "oncall", "book-club"] {
        dir.add_team(t);
    }
    let user = alice();
    dir.add_member(&user, "book-club", MembershipSource::Manual);
    dir.add_member(&user, "oncall", MembershipSource::Manual);

    let first = sync.sync(&token(json!({"groups": [G_ENG, G_OPS]})), &dir).await.unwrap();
    assert_eq!(first.mapping.teams, set(&["eng", "oncall", "ops"]));
    assert_eq!(first.mapping.role.as_deref(), Some("developer"));
    assert_eq!(first.mapping.groups, GroupsOrigin::Token);
    assert_eq!(first.plan.add, set(&["eng", "ops"]));
    assert_eq!(first.plan.unchanged, set(&["oncall"]));
    assert_eq!(first.plan.kept_manual, set(&["book-club"]));

    // The user leaves both groups: synced memberships go, hand-added ones stay,
    // even `oncall`, which the mapping once asked for but a human added.
    let second = sync.sync(&token(json!({"groups": []})), &dir).await.unwrap();
    assert_eq!(second.plan.remove, set(&["eng", "ops"]));
    assert_eq!(second.plan.kept_manual, set(&["book-club", "oncall"]));
    assert_eq!(second.mapping.role.as_deref(), Some("viewer"));
    assert_eq!(second.mapping.role_origin, RoleOrigin::Default);
    assert_eq!(
        dir.members_of(&user),
        [
            Membership::new("book-club", MembershipSource::Manual),
            Membership::new("oncall", MembershipSource::Manual)
        ]
    );

    // Nothing changes on a repeat.
    let third = sync.sync(&token(json!({"groups": []})), &dir).await.unwrap();
    assert!(third.plan.is_empty());
}

#[tokio::test]
async fn missing_teams_are_skipped_or_created() {
    let token = token(json!({"groups": [G_ENG]}));
    let skip = TeamSync::builder(config("")).build().unwrap();
    let dir = MemoryDirectory::new();
    let out = skip.sync(&token, &dir).await.unwrap();
    assert_eq!(out.plan.missing_teams, set(&["eng"]));
    assert!(dir.teams().is_empty() && dir.members_of(&alice()).is_empty());

    let create = TeamSync::builder(config(r#", "create_missing_teams": true"#)).build().unwrap();
    let out = create.sync(&token, &dir).await.unwrap();
    assert_eq!(out.plan.create_teams, set(&["eng"]));
    assert_eq!(dir.teams(), set(&["eng"]));
    assert_eq!(dir.members_of(&alice()), [Membership::new("eng", MembershipSource::Sync)]);
}

#[tokio::test]
async fn overage_without_a_source_fails_closed() {
    let sync = TeamSync::builder(config("")).build().unwrap();
    let dir = MemoryDirectory::new();
    dir.add_member(&alice(), "eng", MembershipSource::Sync);
    for claims in [
        json!({"_claim_names": {"groups": "src1"}, "_claim_sources": {"src1": {"endpoint": "https://graph.windows.net/x"}}}),
        json!({"hasgroups": true}),
    ] {
        let err = sync.sync(&token(claims), &dir).await.unwrap_err();
        assert!(matches!(err, Error::GroupOverage), "{err}");
        assert!(err.is_config() && !err.is_transient());
    }
    // Nothing was removed.
    assert_eq!(dir.members_of(&alice()).len(), 1);
}

#[tokio::test]
async fn overage_is_resolved_through_the_group_source() {
    let source = StaticGroupSource::new().with_user(alice(), [G_OPS.to_uppercase()]);
    let sync = TeamSync::builder(config("")).group_source(source).build().unwrap();
    for claims in [json!({"_claim_names": {"groups": "src1"}}), json!({"hasgroups": true})] {
        let mapping = sync.resolve(&token(claims)).await.unwrap();
        assert_eq!(mapping.groups, GroupsOrigin::GroupSource);
        assert_eq!(mapping.teams, set(&["oncall", "ops"]));
    }
    // Listed groups never ask the source.
    let listed = sync.resolve(&token(json!({"groups": [G_ENG]}))).await.unwrap();
    assert_eq!(listed.teams, set(&["eng"]));
}

#[tokio::test]
async fn graph_disabled_means_no_source() {
    let source = StaticGroupSource::new().with_user(alice(), [G_OPS]);
    let cfg = config(r#", "graph": {"enabled": false}"#);
    let sync = TeamSync::builder(cfg).group_source(source).build().unwrap();
    let err = sync.resolve(&token(json!({"hasgroups": true}))).await.unwrap_err();
    assert!(matches!(err, Error::GroupOverage));
}

#[tokio::test]
async fn overage_is_ignored_when_groups_do_not_feed_the_mapping() {
    let cfg = Config::from_json(
        r#"{"claims": ["roles"], "rules": [{"app_role": "Gateway.Admin", "teams": "admins", "admin": true}]}"#,
    )
    .unwrap();
    let sync = TeamSync::builder(cfg).build().unwrap();
    let mapping =
        sync.resolve(&token(json!({"hasgroups": true, "roles": ["gateway.admin"]}))).await.unwrap();
    assert_eq!(mapping.groups, GroupsOrigin::NotConsulted);
    assert!(mapping.admin && mapping.teams.contains("admins"));
}

#[tokio::test]
async fn absent_groups_map_roles_and_defaults() {
    let sync = TeamSync::builder(config("")).build().unwrap();
    let m = sync.resolve(&token(json!({"roles": ["Gateway.Admin"]}))).await.unwrap();
    assert_eq!(m.groups, GroupsOrigin::Absent);
    assert_eq!(m.role.as_deref(), Some("admin"));
    assert!(m.admin);
    assert_eq!(m.matched.len(), 1);
    assert_eq!(m.matched[0].value, "Gateway.Admin");
}

#[tokio::test]
async fn sync_needs_an_identity() {
    let sync = TeamSync::builder(config("")).build().unwrap();
    let mut claims = serde_json::Map::new();
    claims.insert("oid".into(), json!(ALICE));
    claims.insert("tid".into(), json!("not-a-guid"));
    let t = token(serde_json::Value::Object(claims));
    let err = sync.sync(&t, &MemoryDirectory::new()).await.unwrap_err();
    assert!(matches!(err, Error::MissingIdentity) && err.is_unauthorized());
}

const HOME: &str = crate::common::TID;
const ATTACKER: &str = "0a0a0a0a-0000-4000-8000-000000000bad";
const GLOBAL_ADMIN: &str = "62e90394-69f5-4237-9190-012177145e10";

fn multi_tenant_config(tenants: &str) -> Config {
    Config::from_json(&format!(
        r#"{{
            {tenants}
            "claims": ["groups", "roles", "wids"],
            "rules": [
                {{"app_role": "Gateway.Admin", "teams": "admins", "admin": true}},
                {{"directory_role": "{GLOBAL_ADMIN}", "role": "admin", "admin": true}}
            ]
        }}"#
    ))
    .unwrap()
}

#[tokio::test]
async fn tenant_allow_list_stops_another_tenants_admins() {
    let sync = TeamSync::builder(multi_tenant_config(&format!(r#""tenants": ["{HOME}"],"#)))
        .build()
        .unwrap();
    let admin_claims = json!({"roles": ["Gateway.Admin"], "wids": [GLOBAL_ADMIN]});
    // The home tenant's Global Administrator and app role holders map.
    let home = sync.resolve(&token(admin_claims.clone())).await.unwrap();
    assert!(home.admin && home.teams.contains("admins"));
    // The same claims from an attacker's own tenant are refused, before any
    // group lookup (overage without a source would otherwise be GroupOverage).
    let mut attacker = admin_claims.clone();
    attacker["tid"] = json!(ATTACKER);
    attacker["hasgroups"] = json!(true);
    let dir = MemoryDirectory::new();
    let err = sync.sync(&token(attacker.clone()), &dir).await.unwrap_err();
    assert!(matches!(&err, Error::TenantNotAllowed { tenant: Some(t) } if t.as_str() == ATTACKER));
    assert!(err.is_unauthorized());
    assert!(dir.teams().is_empty());
    // Without `tenants` (a single-tenant app, validator pinned to one tenant),
    // the claims are trusted as the validator let them in.
    let open = TeamSync::builder(multi_tenant_config("")).build().unwrap();
    attacker.as_object_mut().unwrap().remove("hasgroups");
    assert!(open.resolve(&token(attacker)).await.unwrap().admin);
}

fn name_config(rules: &str) -> Config {
    Config::from_json(&format!(r#"{{{rules}, "default_role": "viewer"}}"#)).unwrap()
}

#[tokio::test]
async fn group_names_fail_closed_on_overage() {
    let user = alice();
    let configs = [
        r#""rules": [{"group_name": "CONTOSO\\Eng", "teams": "eng"}]"#,
        r#""admin_groups": ["Domain Admins"]"#,
    ];
    for rules in configs {
        let source = StaticGroupSource::new().with_user(user.clone(), [G_ENG]);
        let sync = TeamSync::builder(name_config(rules)).group_source(source).build().unwrap();
        let dir = MemoryDirectory::new();
        dir.add_member(&user, "eng", MembershipSource::Sync);
        let err = sync.sync(&token(json!({"hasgroups": true})), &dir).await.unwrap_err();
        assert!(matches!(err, Error::GroupNamesOnOverage), "{rules}: {err}");
        assert!(err.is_config() && !err.is_transient());
        assert!(err.to_string().contains("group_id"), "{err}");
        // Nothing was removed.
        assert_eq!(dir.members_of(&user), [Membership::new("eng", MembershipSource::Sync)]);
        // Names listed in the token still match.
        let listed = sync
            .sync(&token(json!({"groups": ["contoso\\eng", "domain admins"]})), &dir)
            .await
            .unwrap();
        assert!(listed.mapping.teams.contains("eng") || listed.mapping.admin, "{rules}");
    }
    // Id rules keep resolving overage through the source.
    let source = StaticGroupSource::new().with_user(user, [G_ENG]);
    let ids = name_config(&format!(
        r#""rules": [{{"group_id": "{G_ENG}", "teams": "eng"}}], "admin_groups": ["{G_OPS}"]"#
    ));
    let sync = TeamSync::builder(ids).group_source(source).build().unwrap();
    let m = sync.resolve(&token(json!({"hasgroups": true}))).await.unwrap();
    assert!(m.teams.contains("eng") && m.groups == GroupsOrigin::GroupSource);
}

#[tokio::test]
async fn team_names_reconcile_case_insensitively() {
    let cfg = Config::from_json(&format!(
        r#"{{"rules": [{{"group_id": "{G_ENG}", "teams": ["Platform"]}}]}}"#
    ))
    .unwrap();
    let sync = TeamSync::builder(cfg).build().unwrap();
    let dir = MemoryDirectory::new();
    let user = alice();
    dir.add_member(&user, "platform", MembershipSource::Sync); // the directory's spelling
    dir.add_member(&user, "platform-legacy", MembershipSource::Sync);
    let t = token(json!({"groups": [G_ENG]}));
    let first = sync.sync(&t, &dir).await.unwrap();
    assert_eq!(first.plan.unchanged, set(&["platform"]));
    assert!(first.plan.add.is_empty(), "no duplicate membership in another case");
    assert_eq!(first.plan.remove, set(&["platform-legacy"]), "other names still differ");
    assert_eq!(dir.members_of(&user), [Membership::new("platform", MembershipSource::Sync)]);
    assert!(sync.sync(&t, &dir).await.unwrap().plan.is_empty());
    // An existing team in another case is joined, not created again.
    dir.add_team("OPS-Team");
    let cfg = Config::from_json(&format!(
        r#"{{"rules": [{{"group_id": "{G_OPS}", "teams": ["ops-team"]}}], "create_missing_teams": true}}"#
    ))
    .unwrap();
    let sync = TeamSync::builder(cfg).build().unwrap();
    let out = sync.sync(&token(json!({"groups": [G_OPS]})), &dir).await.unwrap();
    assert_eq!(out.plan.add, set(&["OPS-Team"]));
    assert!(out.plan.create_teams.is_empty());
    assert_eq!(dir.teams(), set(&["OPS-Team", "platform", "platform-legacy"]));
}
