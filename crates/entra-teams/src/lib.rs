//! Turns the `groups`, `roles` and `wids` claims of Microsoft Entra ID tokens into
//! the host's teams, role and admin flag, resolves group overage through Microsoft
//! Graph, and reconciles team memberships without touching those added by hand.
//!
//! # Example
//!
//! ```
//! use entra_core::{EntraClaims, Secret, ValidatedToken};
//! use entra_teams::{Config, MemoryDirectory, MembershipSource, StaticGroupSource, TeamSync};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let config = Config::from_json(r#"{
//!     "rules": [
//!         {"group_id": "6f1d0f2a-1111-4a4a-9b9b-000000000001", "teams": ["platform"], "role": "developer"},
//!         {"app_role": "Gateway.Admin", "role": "admin", "admin": true}
//!     ],
//!     "default_role": "viewer",
//!     "role_precedence": ["admin", "developer", "viewer"],
//!     "create_missing_teams": true
//! }"#)?;
//!
//! // A token with group overage: Entra left `groups` out (over 200 groups).
//! let claims: EntraClaims = serde_json::from_str(r#"{
//!     "tid": "72f988bf-86f1-41af-91ab-2d7cd011db47",
//!     "oid": "00000000-0000-0000-0000-0000000000aa",
//!     "roles": ["gateway.admin"],
//!     "_claim_names": {"groups": "src1"},
//!     "_claim_sources": {"src1": {"endpoint": "https://graph.windows.net/never-called"}}
//! }"#)?;
//! let user = claims.identity_key().ok_or("no identity")?;
//! // In production, a validator (entra-jwks) builds this after checking the signature.
//! let token = ValidatedToken::new(Secret::new("eyJ...".to_owned()), claims);
//!
//! // On overage, groups come from a `GroupSource`: `GraphGroupSource` (Microsoft Graph
//! // with an On-Behalf-Of token) in production, a fixed list here.
//! let groups = StaticGroupSource::new()
//!     .with_user(user.clone(), ["6F1D0F2A-1111-4A4A-9B9B-000000000001"]);
//! let sync = TeamSync::builder(config).group_source(groups).build()?;
//!
//! let directory = MemoryDirectory::new();
//! directory.add_member(&user, "book-club", MembershipSource::Manual); // added by hand
//! let outcome = sync.sync(&token, &directory).await?;
//!
//! assert_eq!(outcome.mapping.role.as_deref(), Some("admin")); // admin outranks developer
//! assert!(outcome.mapping.admin);
//! assert_eq!(outcome.plan.add.iter().collect::<Vec<_>>(), ["platform"]);
//! assert!(outcome.plan.kept_manual.contains("book-club")); // never removed
//! # Ok(())
//! # }
//! ```
//!
//! The integration tests resolve a user with 250 groups through the mocked Entra of
//! `entra-testkit`: an On-Behalf-Of exchange by `entra_obo::Obo`, then
//! `getMemberObjects` on the mocked Microsoft Graph.
//!
//! ## Configuration
//!
//! [`Config`] deserializes from a file (JSON here, any serde format works) and
//! [`Config::from_env`] reads `ENTRA_TEAMS_CONFIG` plus the variables of IBM's MCP
//! Gateway: `SSO_ENTRA_GROUPS_CLAIM`, `SSO_ENTRA_ADMIN_GROUPS`,
//! `SSO_ENTRA_ROLE_MAPPINGS`, `SSO_ENTRA_DEFAULT_ROLE`,
//! `SSO_ENTRA_SYNC_ROLES_ON_LOGIN`, `SSO_ENTRA_GRAPH_API_ENABLED`,
//! `SSO_ENTRA_GRAPH_API_TIMEOUT`, `SSO_ENTRA_GRAPH_API_MAX_GROUPS`. Archestra's
//! "link a team to an Entra group" is a [`Rule`] on a group id with that team.
//!
//! Rules match a group object id, an on-prem group name, an app role value or a
//! directory role template id ([`Matcher`]); each grants teams, a role and/or
//! admin. Ids compare as GUIDs, names case-insensitively. The role of highest
//! precedence wins ([`Config::role_precedence`], else the first matching rule),
//! then [`Config::default_role`]. [`Mapping::matched`] lists the matched rules for
//! audit logs.
//!
//! # Crate features
//!
//! - `graph` (default): [`GraphGroupSource`], which resolves overage through
//!   Microsoft Graph (pulls in `reqwest` and `moka`). Without it, bring your own
//!   [`GroupSource`].
//!
//! # Security
//!
//! - **Prefer ids and app roles to names.** Group object ids are unique and
//!   immutable; app roles are assigned by the app's own tenant admins and never
//!   overflow. Group names (sAMAccountName) are not unique: anyone who can create
//!   a group in a synced forest, or in another tenant of a multi-tenant app, can
//!   name it `Admins`. Use [`Matcher::GroupName`] only for single-tenant apps with
//!   on-prem groups, and never for admin rules if you can avoid it. A
//!   GUID-looking `group_name` is rejected: use `group_id`.
//! - **`_claim_sources` is never trusted.** Its endpoint is attacker-influenced
//!   text inside the token and names the retired Azure AD Graph; overage is
//!   resolved only through the configured cloud's Microsoft Graph
//!   ([`entra_core::Cloud::graph_base`]) with a token for that Graph, and
//!   `@odata.nextLink` is followed only on that same host, a bounded number of
//!   times.
//! - **Fail closed on overage.** A token with overage and no group source fails
//!   ([`Error::GroupOverage`]), and more groups than `max_groups` fails
//!   ([`Error::TooManyGroups`]) rather than truncating: a partial list would
//!   make reconciliation remove memberships.
//! - **Manual memberships are never removed**; only memberships recorded as
//!   [`MembershipSource::Sync`] are.
//! - Users are keyed by (`tid`, `oid`) ([`entra_core::IdentityKey`]), never by
//!   email or `preferred_username`. No token is logged; Graph errors keep only
//!   Graph's error code.
#![cfg_attr(docsrs, feature(doc_cfg))]

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
pub use env::{ENTRA_TEAMS_CONFIG, ENTRA_TEAMS_CONFIG_FILE, ENV_VARS};
pub use error::{Error, GROUP_MEMBER_READ_ALL, Result};
#[cfg(feature = "graph")]
#[cfg_attr(docsrs, doc(cfg(feature = "graph")))]
pub use graph::{GraphGroupSource, GraphGroupSourceBuilder};
pub use mapping::{Assignments, GroupsOrigin, Mapper, Mapping, MatchedRule, RoleOrigin, RuleRef};
pub use object_id::ObjectId;
pub use source::{GroupSource, StaticGroupSource};
pub use sync::{SyncOutcome, TeamSync, TeamSyncBuilder};
