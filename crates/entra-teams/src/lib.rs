//! Turns the `groups`, `roles` and `wids` claims of Microsoft Entra ID tokens into
//! the host's teams, role and admin flag, resolves group overage through Microsoft
//! Graph, and reconciles team memberships without touching those added by hand.
//!
//! # Example
//!
//! Against the mocked Entra of `entra-testkit`: a user in 250 groups (group
//! overage), the incoming token validated by `entra-jwks`, the groups resolved
//! through Microsoft Graph with an On-Behalf-Of token from `entra-obo`.
//!
//! ```
//! # #[cfg(not(feature = "graph"))] fn main() {}
//! # #[cfg(feature = "graph")]
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use entra_core::{ClientCredential, Secret};
//! use entra_obo::Obo;
//! use entra_teams::{Config, GraphGroupSource, MemoryDirectory, MembershipSource, TeamSync};
//! use entra_testkit::{MockEntra, TestApp, TestUser};
//!
//! let mock = MockEntra::start().await;
//! let api = mock.register_app(TestApp::new("my-api").secret("api-secret").expose_scope("access_as_user"));
//! mock.grant_consent(&api.client_id, "https://graph.microsoft.com", &["GroupMember.Read.All"]);
//! let alice = mock.add_user(
//!     TestUser::new("alice@contoso.com").with_random_groups(250).roles(["Gateway.Admin"]),
//! );
//!
//! // A group id grants a team and a role; an app role grants admin.
//! let config = Config::from_json(&format!(r#"{{
//!     "rules": [
//!         {{"group_id": "{}", "teams": ["platform"], "role": "developer"}},
//!         {{"app_role": "Gateway.Admin", "role": "admin", "admin": true}}
//!     ],
//!     "default_role": "viewer",
//!     "role_precedence": ["admin", "developer", "viewer"],
//!     "create_missing_teams": true
//! }}"#, alice.groups[42]))?;
//!
//! // Overage is resolved through the cloud's Microsoft Graph, on behalf of the user.
//! let credential = ClientCredential::secret(Secret::new("api-secret"));
//! let obo = Obo::builder(mock.authority(), api.client_id.clone(), credential).build()?;
//! let graph = GraphGroupSource::builder(obo, &mock.cloud()).config(&config.graph).build()?;
//! let sync = TeamSync::builder(config).group_source(graph).build()?;
//!
//! // A request arrives: validate its bearer token, then sync the user's teams.
//! let validator = entra_jwks::Validator::builder(mock.authority(), api.client_id.clone()).build()?;
//! let token = validator.validate(&mock.access_token(&alice, &api)).await?;
//! let user = token.claims().identity_key().ok_or("no identity")?;
//! let directory = MemoryDirectory::new();
//! directory.add_member(&user, "book-club", MembershipSource::Manual); // added by hand
//!
//! let outcome = sync.sync(&token, &directory).await?;
//! assert_eq!(outcome.mapping.teams.iter().collect::<Vec<_>>(), ["platform"]);
//! assert_eq!(outcome.mapping.role.as_deref(), Some("admin")); // admin outranks developer
//! assert!(outcome.mapping.admin);
//! assert!(outcome.plan.kept_manual.contains("book-club")); // never removed
//! # Ok(())
//! # }
//! ```
//!
//! Without a mock: [`TeamSync`] shows the same flow with a [`StaticGroupSource`],
//! and [`Mapper`] maps [`Assignments`] with no I/O at all.
//!
//! ## Configuration
//!
//! [`Config`] deserializes from a file (JSON here, any serde format works) and
//! [`Config::from_env`] reads `ENTRA_TEAMS_CONFIG`, `ENTRA_TEAMS_TENANTS` and
//! the `ENTRA_*` teams variables, which accept the names of IBM's MCP Gateway
//! (`SSO_ENTRA_GROUPS_CLAIM`, `SSO_ENTRA_ADMIN_GROUPS`, `SSO_ENTRA_ROLE_MAPPINGS`,
//! `SSO_ENTRA_DEFAULT_ROLE`, `SSO_ENTRA_SYNC_ROLES_ON_LOGIN`,
//! `SSO_ENTRA_GRAPH_API_*`); the table is [`entra_core::env`]. Archestra's
//! "link a team to an Entra group" is a [`Rule`] on a group id with that team.
//!
//! Rules match a group object id, an on-prem group name, an app role value or a
//! directory role template id ([`Matcher`]); each grants teams, a role and/or
//! admin. Ids compare as GUIDs, names case-insensitively. The role of highest
//! precedence wins ([`Config::role_precedence`], else the first matching rule),
//! then [`Config::default_role`]. [`Mapping::matched`] lists the matched rules for
//! audit logs. [`Config::tenants`] restricts the mapping to tokens of the listed
//! tenants, and [`Rule::tenant`] restricts one rule to one tenant.
//!
//! # Crate features
//!
//! - `graph` (default): [`GraphGroupSource`], which resolves overage through
//!   Microsoft Graph (pulls in `reqwest`, `moka`, `url` and `tokio`'s sync
//!   primitives). Without it, bring your own [`GroupSource`]; mapping, the
//!   configuration and reconciliation need no HTTP client.
//!
//! # Security
//!
//! - **Multi-tenant apps must set [`Config::tenants`].** Only group object ids
//!   are unique across tenants. App roles are assigned by the admins of *each*
//!   tenant that has the app (every customer tenant has its own service
//!   principal and assigns its roles as it likes), directory role template ids
//!   (`wids`) are the same in every tenant, and group names are chosen freely:
//!   an attacker who creates a free tenant is its Global Administrator
//!   (`wids` 62e90394-69f5-4237-9190-012177145e10) and can assign himself any
//!   app role or name a group `Admins`. With `tenants` set, tokens of other
//!   tenants fail with [`Error::TenantNotAllowed`]; [`Rule::tenant`] narrows one
//!   rule further. Without it the mapping trusts every tenant the token
//!   validator accepts: fine for a single-tenant app whose validator is pinned
//!   to its own tenant, unsafe for rules other than `group_id` in a
//!   multi-tenant app ([`Matcher::is_tenant_relative`]).
//! - **Prefer group ids and app roles to group names.** Group object ids are
//!   unique and immutable; app roles never overflow. Group names
//!   (sAMAccountName) are not unique: anyone who can create a group in a synced
//!   forest can name it `Admins`. Use [`Matcher::GroupName`] only for
//!   single-tenant apps (or with [`Config::tenants`]) with on-prem groups, and
//!   never for admin rules if you can avoid it. A GUID-looking `group_name` is
//!   rejected: use `group_id`.
//! - **`_claim_sources` is never trusted.** Its endpoint is attacker-influenced
//!   text inside the token and names the retired Azure AD Graph; overage is
//!   resolved only through the configured cloud's Microsoft Graph
//!   ([`entra_core::Cloud::graph_base`]) with a token for that Graph, and
//!   `@odata.nextLink` is followed only on that same host, a bounded number of
//!   times.
//! - **Fail closed on overage.** A token with overage and no group source (or
//!   with `graph.enabled` off) fails ([`Error::GroupOverage`]), and more groups
//!   than `max_groups` fails
//!   ([`Error::TooManyGroups`]) rather than truncating: a partial list would
//!   make reconciliation remove memberships. For the same reason a token with
//!   overage fails ([`Error::GroupNamesOnOverage`]) when the configuration
//!   matches groups by name: Microsoft Graph returns object ids only, so name
//!   rules would silently stop matching.
//! - **Graph responses are bounded**: each page body is read in chunks up to
//!   [`GraphConfig::max_response_bytes`] (4 MiB by default), then
//!   [`Error::GraphResponseTooLarge`], by entra-core's HTTP layer, whose default
//!   client follows no redirect (the Graph token would go along).
//! - **Manual memberships are never removed**; only memberships recorded as
//!   [`MembershipSource::Sync`] are.
//! - Users are keyed by (`tid`, `oid`) ([`entra_core::IdentityKey`]), never by
//!   email or `preferred_username`. No token is logged; Graph errors keep only
//!   Graph's error code.
#![cfg_attr(docsrs, feature(doc_cfg))]
// Links to items behind a feature cannot resolve without it; the documentation
// is built, and its links checked, with every feature (docs.rs and CI).
#![cfg_attr(not(feature = "graph"), allow(rustdoc::broken_intra_doc_links))]

mod config;
mod directory;
mod env;
mod error;
#[cfg(feature = "graph")]
mod graph;
mod mapping;
mod object_id;
mod source;
mod sync;

pub use config::{ClaimKind, Config, GraphConfig, Matcher, Rule};
pub use directory::{Membership, MembershipSource, MemoryDirectory, Plan, TeamDirectory};
pub use error::{Error, GROUP_MEMBER_READ_ALL, Result};
#[cfg(feature = "graph")]
#[cfg_attr(docsrs, doc(cfg(feature = "graph")))]
pub use graph::{GraphGroupSource, GraphGroupSourceBuilder};
pub use mapping::{Assignments, GroupsOrigin, Mapper, Mapping, MatchedRule, RoleOrigin, RuleRef};
pub use object_id::ObjectId;
pub use source::{GroupSource, StaticGroupSource};
pub use sync::{SyncOutcome, TeamSync, TeamSyncBuilder};
