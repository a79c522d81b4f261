//! `TeamSync`: token -> groups (resolving overage) -> mapping -> reconciliation.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;

use entra_core::{Groups, IdentityKey, ValidatedToken};

use crate::config::{ClaimKind, Config};
use crate::directory::{Plan, TeamDirectory, team_key};
use crate::error::{Error, Result};
use crate::mapping::{Assignments, GroupsOrigin, Mapper, Mapping};
use crate::source::GroupSource;

/// Builds a [`TeamSync`].
pub struct TeamSyncBuilder {
    config: Config,
    source: Option<Arc<dyn GroupSource>>,
}

impl fmt::Debug for TeamSyncBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TeamSyncBuilder")
            .field("config", &self.config)
            .field("group_source", &self.source.is_some())
            .finish_non_exhaustive()
    }
}

impl TeamSyncBuilder {
    /// A builder over `config`, with no group source.
    pub fn new(config: Config) -> Self {
        Self { config, source: None }
    }

    /// Resolves group overage through `source` (typically a
    /// [`crate::GraphGroupSource`]). Without one, overage fails with
    /// [`Error::GroupOverage`]. Ignored when `graph.enabled` is `false`.
    #[must_use]
    pub fn group_source(mut self, source: impl GroupSource + 'static) -> Self {
        self.source = Some(Arc::new(source));
        self
    }

    /// Validates the configuration and builds.
    ///
    /// # Errors
    /// Any error of [`Config::validate`].
    pub fn build(self) -> Result<TeamSync> {
        let source = if self.config.graph.enabled { self.source } else { None };
        let create_missing_teams = self.config.create_missing_teams;
        let mapper = Mapper::new(self.config)?;
        if source.is_some() && mapper.matches_group_names() {
            tracing::warn!(
                "entra-teams: groups are matched by name, but overage resolves object ids only: \
                 tokens with group overage will fail (use `group_id` rules)"
            );
        }
        Ok(TeamSync { mapper: Arc::new(mapper), source, create_missing_teams })
    }
}

/// The outcome of [`TeamSync::sync`].
#[derive(Clone, PartialEq, Eq, Debug, serde::Serialize)]
#[non_exhaustive]
pub struct SyncOutcome {
    /// The mapping (teams, role, admin flag, matched rules).
    pub mapping: Mapping,
    /// The reconciliation plan, already applied.
    pub plan: Plan,
}

/// Turns a validated token into the user's teams, role and admin flag, resolving
/// group overage through a [`GroupSource`], and reconciles team memberships
/// through a [`TeamDirectory`].
///
/// Cheap to clone; no type parameters, so it fits in a web framework's state.
///
/// ```
/// use entra_teams::{Config, MemoryDirectory, MembershipSource, StaticGroupSource, TeamSync};
/// use entra_testkit::{MockEntra, TestUser, TokenSpec};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let config = Config::from_json(r#"{
///     "rules": [{"group_id": "6f1d0f2a-1111-4a4a-9b9b-000000000001", "teams": "platform"}],
///     "default_role": "viewer"
/// }"#)?;
/// // A token with group overage: Entra left `groups` out. In production entra-jwks
/// // validates the bearer token; here the mocked Entra mints and verifies one.
/// let mock = MockEntra::start().await;
/// let alice = mock.add_user(TestUser::new("alice@contoso.com"));
/// let token = mock.verify_token(&mock.mint(TokenSpec::access(&alice, &mock.default_api()).overage(true)))?;
/// let user = token.claims().identity_key().ok_or("no identity")?;
///
/// let groups = StaticGroupSource::new()
///     .with_user(user.clone(), ["6F1D0F2A-1111-4A4A-9B9B-000000000001"]);
/// let sync = TeamSync::builder(config).group_source(groups).build()?;
/// let directory = MemoryDirectory::new();
/// directory.add_team("platform");
/// directory.add_member(&user, "book-club", MembershipSource::Manual);
///
/// let outcome = sync.sync(&token, &directory).await?;
/// assert_eq!(outcome.mapping.role.as_deref(), Some("viewer"));
/// assert_eq!(outcome.plan.add.iter().collect::<Vec<_>>(), ["platform"]);
/// assert!(outcome.plan.kept_manual.contains("book-club"));
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct TeamSync {
    mapper: Arc<Mapper>,
    source: Option<Arc<dyn GroupSource>>,
    create_missing_teams: bool,
}

impl fmt::Debug for TeamSync {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TeamSync")
            .field("mapper", &self.mapper)
            .field("group_source", &self.source.is_some())
            .finish_non_exhaustive()
    }
}

impl TeamSync {
    /// A builder over `config`.
    pub fn builder(config: Config) -> TeamSyncBuilder {
        TeamSyncBuilder::new(config)
    }

    /// The mapper.
    pub fn mapper(&self) -> &Mapper {
        &self.mapper
    }

    /// Maps the user of `token`: checks its tenant against [`Config::tenants`],
    /// reads the enabled claims and, when the `groups` claim overflowed, asks the
    /// group source. The `_claim_sources` endpoint in the token is never called.
    ///
    /// # Errors
    /// [`Error::TenantNotAllowed`] when [`Config::tenants`] is set and does not
    /// list the token's `tid` (checked before any group lookup);
    /// [`Error::GroupOverage`] on overage without a group source;
    /// [`Error::GroupNamesOnOverage`] on overage when the configuration matches
    /// groups by name (the group source returns ids only); the group source's
    /// errors (for Microsoft Graph: [`Error::GraphToken`],
    /// [`Error::GraphForbidden`], ...).
    pub async fn resolve(&self, token: &ValidatedToken) -> Result<Mapping> {
        let claims = token.claims();
        let mut assignments = Assignments::from_claims(claims);
        self.mapper.check_tenant(assignments.tenant.as_ref())?;
        let mut origin = GroupsOrigin::NotConsulted;
        if self.mapper.uses(ClaimKind::Groups) {
            origin = match claims.groups() {
                Groups::Listed(_) => GroupsOrigin::Token,
                Groups::Overage => {
                    let source = self.source.as_ref().ok_or(Error::GroupOverage)?;
                    // The source returns object ids: name matchers would silently
                    // miss and reconciliation would remove memberships.
                    if self.mapper.matches_group_names() {
                        return Err(Error::GroupNamesOnOverage);
                    }
                    assignments.groups = source.groups(token).await?;
                    GroupsOrigin::GroupSource
                }
                _ => GroupsOrigin::Absent,
            };
        }
        let mut mapping = self.mapper.map(&assignments)?;
        mapping.groups = origin;
        tracing::debug!(
            teams = mapping.teams.len(),
            matched = mapping.matched.len(),
            admin = mapping.admin,
            groups = ?origin,
            "entra-teams mapping"
        );
        Ok(mapping)
    }

    /// Computes the reconciliation plan for `user` against `directory` and applies
    /// it: adds the desired teams, removes sync-created memberships no longer
    /// desired, never removes manual memberships. Team names compare
    /// case-insensitively and keep the directory's spelling (see
    /// [`Plan::compute`]).
    ///
    /// # Errors
    /// The directory's errors ([`Error::Directory`]).
    pub async fn reconcile<D: TeamDirectory + ?Sized>(
        &self,
        directory: &D,
        user: &IdentityKey,
        desired: &BTreeSet<String>,
    ) -> Result<Plan> {
        let current = directory.memberships(user).await?;
        let absent: BTreeSet<String> = desired
            .iter()
            .filter(|t| {
                let key = team_key(t);
                !current.iter().any(|m| team_key(&m.team) == key)
            })
            .cloned()
            .collect();
        let existing = if absent.is_empty() {
            BTreeSet::new()
        } else {
            directory.existing_teams(&absent).await?
        };
        let plan =
            Plan::compute(user.clone(), desired, &current, &existing, self.create_missing_teams);
        if !plan.is_empty() {
            directory.apply(&plan).await?;
        }
        tracing::debug!(
            added = plan.add.len(),
            removed = plan.remove.len(),
            created = plan.create_teams.len(),
            missing = plan.missing_teams.len(),
            "entra-teams reconciliation"
        );
        Ok(plan)
    }

    /// [`TeamSync::resolve`] then [`TeamSync::reconcile`] for the user of `token`.
    ///
    /// # Errors
    /// [`Error::MissingIdentity`] when the token has no (`tid`, `oid`); the errors
    /// of [`TeamSync::resolve`] and [`TeamSync::reconcile`].
    pub async fn sync<D: TeamDirectory + ?Sized>(
        &self,
        token: &ValidatedToken,
        directory: &D,
    ) -> Result<SyncOutcome> {
        let user = token.claims().identity_key().ok_or(Error::MissingIdentity)?;
        let mapping = self.resolve(token).await?;
        let plan = self.reconcile(directory, &user, &mapping.teams).await?;
        Ok(SyncOutcome { mapping, plan })
    }
}
