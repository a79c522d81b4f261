//! Reconciliation: the `TeamDirectory` seam, the plan of adds and removes, and an
//! in-memory directory.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use entra_core::IdentityKey;

use crate::error::{Error, Result};

/// Who created a membership.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum MembershipSource {
    /// Created by this library's sync: removed when the user no longer qualifies.
    Sync,
    /// Created by hand (an admin, an invitation): never removed by the sync.
    Manual,
}

/// One team membership of a user.
#[derive(Clone, PartialEq, Eq, Hash, Debug, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct Membership {
    /// The team's name.
    pub team: String,
    /// Who created it.
    pub source: MembershipSource,
}

impl Membership {
    /// A membership.
    pub fn new(team: impl Into<String>, source: MembershipSource) -> Self {
        Self { team: team.into(), source }
    }
}

/// The comparison key of a team name: team names match case-insensitively (and
/// ignoring surrounding spaces), as group names and app roles do.
pub(crate) fn team_key(name: &str) -> String {
    name.trim().to_lowercase()
}

/// What reconciliation changes for one user. Serializes to JSON for audit logs.
#[derive(Clone, PartialEq, Eq, Debug, serde::Serialize)]
#[non_exhaustive]
pub struct Plan {
    /// The user.
    pub user: IdentityKey,
    /// Teams to create before adding (only with `create_missing_teams`).
    pub create_teams: BTreeSet<String>,
    /// Teams to add the user to, as [`MembershipSource::Sync`].
    pub add: BTreeSet<String>,
    /// Teams whose [`MembershipSource::Sync`] membership is removed. A manual
    /// membership in the same team stays.
    pub remove: BTreeSet<String>,
    /// Desired teams the user is already in (by sync or by hand).
    pub unchanged: BTreeSet<String>,
    /// Manual memberships the mapping does not ask for: kept.
    pub kept_manual: BTreeSet<String>,
    /// Desired teams that do not exist and were not created: skipped.
    pub missing_teams: BTreeSet<String>,
}

impl Plan {
    /// Computes the plan: add desired teams the user is not in (creating missing
    /// teams only when `create_missing_teams`), remove sync-created memberships
    /// no longer desired, never touch manual memberships.
    ///
    /// Team names are compared case-insensitively: a desired `Platform` is the
    /// membership `platform` the user already has, not an add plus a remove. The
    /// plan spells teams as the directory does (from `current` and
    /// `existing_teams`); only teams to create keep the configured spelling.
    ///
    /// `existing_teams` needs to hold (at least) which desired teams exist.
    pub fn compute(
        user: IdentityKey,
        desired: &BTreeSet<String>,
        current: &[Membership],
        existing_teams: &BTreeSet<String>,
        create_missing_teams: bool,
    ) -> Self {
        let mut plan = Self {
            user,
            create_teams: BTreeSet::new(),
            add: BTreeSet::new(),
            remove: BTreeSet::new(),
            unchanged: BTreeSet::new(),
            kept_manual: BTreeSet::new(),
            missing_teams: BTreeSet::new(),
        };
        // Comparison key -> the directory's spelling.
        let mut synced: BTreeMap<String, &str> = BTreeMap::new();
        let mut manual: BTreeMap<String, &str> = BTreeMap::new();
        for m in current {
            let side = match m.source {
                MembershipSource::Sync => &mut synced,
                MembershipSource::Manual => &mut manual,
            };
            side.entry(team_key(&m.team)).or_insert(m.team.as_str());
        }
        let existing: HashMap<String, &String> =
            existing_teams.iter().map(|t| (team_key(t), t)).collect();
        let mut wanted = HashSet::new();
        for team in desired {
            let key = team_key(team);
            if !wanted.insert(key.clone()) {
                continue; // the same team in another spelling
            }
            if let Some(t) = synced.get(&key).or_else(|| manual.get(&key)) {
                plan.unchanged.insert((*t).to_owned());
            } else if let Some(t) = existing.get(&key) {
                plan.add.insert((*t).clone());
            } else if create_missing_teams {
                plan.create_teams.insert(team.clone());
                plan.add.insert(team.clone());
            } else {
                plan.missing_teams.insert(team.clone());
            }
        }
        for (key, team) in synced {
            if !wanted.contains(&key) {
                plan.remove.insert(team.to_owned());
            }
        }
        for (key, team) in manual {
            if !wanted.contains(&key) {
                plan.kept_manual.insert(team.to_owned());
            }
        }
        plan
    }

    /// Whether the plan changes nothing.
    pub fn is_empty(&self) -> bool {
        self.create_teams.is_empty() && self.add.is_empty() && self.remove.is_empty()
    }
}

/// The host's store of teams and memberships.
///
/// Memberships carry a [`MembershipSource`]; the sync only ever removes the ones
/// it created. [`MemoryDirectory`] is an in-memory implementation.
#[async_trait]
pub trait TeamDirectory: Send + Sync {
    /// The user's memberships, with their source.
    async fn memberships(&self, user: &IdentityKey) -> Result<Vec<Membership>>;

    /// Which of `teams` exist, spelled as the directory spells them. Compare
    /// names case-insensitively (as [`Plan::compute`] does): for `Platform`,
    /// return `platform` if that is the directory's team.
    async fn existing_teams(&self, teams: &BTreeSet<String>) -> Result<BTreeSet<String>>;

    /// Applies `plan`: create [`Plan::create_teams`], add [`Plan::add`] as
    /// [`MembershipSource::Sync`], remove the sync memberships in [`Plan::remove`].
    /// Implementations backed by a database should do it in one transaction.
    async fn apply(&self, plan: &Plan) -> Result<()>;
}

#[async_trait]
impl<T: TeamDirectory + ?Sized> TeamDirectory for &T {
    async fn memberships(&self, user: &IdentityKey) -> Result<Vec<Membership>> {
        (**self).memberships(user).await
    }
    async fn existing_teams(&self, teams: &BTreeSet<String>) -> Result<BTreeSet<String>> {
        (**self).existing_teams(teams).await
    }
    async fn apply(&self, plan: &Plan) -> Result<()> {
        (**self).apply(plan).await
    }
}

#[async_trait]
impl<T: TeamDirectory + ?Sized> TeamDirectory for Box<T> {
    async fn memberships(&self, user: &IdentityKey) -> Result<Vec<Membership>> {
        (**self).memberships(user).await
    }
    async fn existing_teams(&self, teams: &BTreeSet<String>) -> Result<BTreeSet<String>> {
        (**self).existing_teams(teams).await
    }
    async fn apply(&self, plan: &Plan) -> Result<()> {
        (**self).apply(plan).await
    }
}

#[async_trait]
impl<T: TeamDirectory + ?Sized> TeamDirectory for Arc<T> {
    async fn memberships(&self, user: &IdentityKey) -> Result<Vec<Membership>> {
        (**self).memberships(user).await
    }
    async fn existing_teams(&self, teams: &BTreeSet<String>) -> Result<BTreeSet<String>> {
        (**self).existing_teams(teams).await
    }
    async fn apply(&self, plan: &Plan) -> Result<()> {
        (**self).apply(plan).await
    }
}

#[derive(Debug, Default)]
struct Store {
    teams: BTreeSet<String>,
    members: HashMap<IdentityKey, BTreeMap<String, MembershipSource>>,
}

fn find_team<'a>(teams: &'a BTreeSet<String>, name: &str) -> Option<&'a String> {
    let key = team_key(name);
    teams.iter().find(|t| team_key(t) == key)
}

/// An in-memory [`TeamDirectory`], for tests, examples and small hosts. Team
/// names are case-insensitive: a team keeps the spelling it was created with.
#[derive(Debug, Default)]
pub struct MemoryDirectory {
    store: Mutex<Store>,
}

impl MemoryDirectory {
    /// An empty directory.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Creates a team (no-op if it exists, in any case).
    pub fn add_team(&self, team: impl Into<String>) {
        let team = team.into();
        let mut store = self.lock();
        if find_team(&store.teams, &team).is_none() {
            store.teams.insert(team);
        }
    }

    /// The teams.
    pub fn teams(&self) -> BTreeSet<String> {
        self.lock().teams.clone()
    }

    /// Adds `user` to `team` (creating the team), as a host would by hand with
    /// [`MembershipSource::Manual`]. An existing membership keeps its source unless
    /// the new one is manual.
    pub fn add_member(
        &self,
        user: &IdentityKey,
        team: impl Into<String>,
        source: MembershipSource,
    ) {
        let team = team.into();
        let mut store = self.lock();
        let team = match find_team(&store.teams, &team) {
            Some(t) => t.clone(),
            None => {
                store.teams.insert(team.clone());
                team
            }
        };
        let entry = store.members.entry(user.clone()).or_default().entry(team).or_insert(source);
        if source == MembershipSource::Manual {
            *entry = MembershipSource::Manual;
        }
    }

    /// Removes `user` from `team` (case-insensitive), whatever the source.
    pub fn remove_member(&self, user: &IdentityKey, team: &str) {
        if let Some(m) = self.lock().members.get_mut(user) {
            let key = team_key(team);
            m.retain(|t, _| team_key(t) != key);
        }
    }

    /// The user's memberships, sorted by team.
    pub fn members_of(&self, user: &IdentityKey) -> Vec<Membership> {
        self.lock()
            .members
            .get(user)
            .map(|m| m.iter().map(|(t, s)| Membership::new(t.clone(), *s)).collect())
            .unwrap_or_default()
    }
}

#[async_trait]
impl TeamDirectory for MemoryDirectory {
    async fn memberships(&self, user: &IdentityKey) -> Result<Vec<Membership>> {
        Ok(self.members_of(user))
    }

    async fn existing_teams(&self, teams: &BTreeSet<String>) -> Result<BTreeSet<String>> {
        let store = self.lock();
        Ok(teams.iter().filter_map(|t| find_team(&store.teams, t)).cloned().collect())
    }

    async fn apply(&self, plan: &Plan) -> Result<()> {
        let mut store = self.lock();
        for team in &plan.create_teams {
            if find_team(&store.teams, team).is_none() {
                store.teams.insert(team.clone());
            }
        }
        let mut add = Vec::with_capacity(plan.add.len());
        for team in &plan.add {
            match find_team(&store.teams, team) {
                Some(t) => add.push(t.clone()),
                None => return Err(Error::directory(format!("team {team:?} does not exist"))),
            }
        }
        let members = store.members.entry(plan.user.clone()).or_default();
        for team in add {
            let key = team_key(&team);
            if !members.keys().any(|t| team_key(t) == key) {
                members.insert(team, MembershipSource::Sync);
            }
        }
        for team in &plan.remove {
            let key = team_key(team);
            members.retain(|t, s| team_key(t) != key || *s != MembershipSource::Sync);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use MembershipSource::{Manual, Sync};

    fn user() -> IdentityKey {
        let claims: entra_core::EntraClaims = serde_json::from_str(
            r#"{"tid":"72f988bf-86f1-41af-91ab-2d7cd011db47","oid":"00000000-0000-0000-0000-0000000000aa"}"#,
        )
        .unwrap();
        claims.identity_key().unwrap()
    }

    fn set(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn plan_adds_removes_and_keeps_manual() {
        let current = [
            Membership::new("old-sync", Sync),
            Membership::new("hand-added", Manual),
            Membership::new("kept-sync", Sync),
            Membership::new("desired-manual", Manual),
        ];
        let plan = Plan::compute(
            user(),
            &set(&["kept-sync", "desired-manual", "new", "ghost"]),
            &current,
            &set(&["new"]),
            false,
        );
        assert_eq!(plan.add, set(&["new"]));
        assert_eq!(plan.remove, set(&["old-sync"]));
        assert_eq!(plan.unchanged, set(&["desired-manual", "kept-sync"]));
        assert_eq!(plan.kept_manual, set(&["hand-added"]));
        assert_eq!(plan.missing_teams, set(&["ghost"]));
        assert!(plan.create_teams.is_empty() && !plan.is_empty());
    }

    #[test]
    fn plan_creates_missing_teams_when_asked() {
        let plan = Plan::compute(user(), &set(&["ghost"]), &[], &set(&[]), true);
        assert_eq!(plan.create_teams, set(&["ghost"]));
        assert_eq!(plan.add, set(&["ghost"]));
        assert!(plan.missing_teams.is_empty());
    }

    #[tokio::test]
    async fn memory_directory_applies_without_touching_manual() {
        let dir = MemoryDirectory::new();
        let u = user();
        dir.add_team("a");
        dir.add_member(&u, "manual", Manual);
        dir.add_member(&u, "old", Sync);
        let current = dir.memberships(&u).await.unwrap();
        let desired = set(&["a"]);
        let existing = dir.existing_teams(&desired).await.unwrap();
        let mut plan = Plan::compute(u.clone(), &desired, &current, &existing, false);
        // Even a plan asking to remove a manual membership leaves it alone.
        plan.remove.insert("manual".into());
        dir.apply(&plan).await.unwrap();
        assert_eq!(
            dir.members_of(&u),
            [Membership::new("a", Sync), Membership::new("manual", Manual)]
        );
        dir.remove_member(&u, "manual");
        assert_eq!(dir.members_of(&u).len(), 1);
    }

    #[tokio::test]
    async fn memory_directory_refuses_unknown_team() {
        let dir = MemoryDirectory::new();
        let plan = Plan::compute(user(), &set(&["x"]), &[], &set(&["x"]), false);
        let err = dir.apply(&plan).await.unwrap_err();
        assert!(matches!(err, Error::Directory(_)) && err.is_transient());
    }

    #[test]
    fn plan_compares_team_names_case_insensitively() {
        let current = [
            Membership::new("platform", Sync),
            Membership::new("Book-Club", Manual),
            Membership::new("platform-old", Sync),
        ];
        let plan = Plan::compute(
            user(),
            &set(&["Platform", "OPS", "ops", "book-club", "New"]),
            &current,
            &set(&["Ops"]),
            true,
        );
        // Same team in another case: unchanged, in the directory's spelling.
        assert_eq!(plan.unchanged, set(&["Book-Club", "platform"]));
        // Existing team: added in the directory's spelling, once.
        assert_eq!(plan.add, set(&["New", "Ops"]));
        assert_eq!(plan.create_teams, set(&["New"]));
        // A different name is still a different team.
        assert_eq!(plan.remove, set(&["platform-old"]));
        assert!(plan.kept_manual.is_empty() && plan.missing_teams.is_empty());
    }

    #[tokio::test]
    async fn memory_directory_team_names_are_case_insensitive() {
        let dir = MemoryDirectory::new();
        let u = user();
        dir.add_team("Platform");
        dir.add_team("PLATFORM");
        assert_eq!(dir.teams(), set(&["Platform"]));
        assert_eq!(
            dir.existing_teams(&set(&["platform", "other"])).await.unwrap(),
            set(&["Platform"])
        );
        dir.add_member(&u, "platform", Sync);
        assert_eq!(dir.members_of(&u), [Membership::new("Platform", Sync)]);
        let mut plan = Plan::compute(u.clone(), &set(&[]), &[], &set(&[]), false);
        plan.add.insert("PLATFORM".into());
        dir.apply(&plan).await.unwrap();
        assert_eq!(dir.members_of(&u).len(), 1, "no second membership in another case");
        plan.add.clear();
        plan.remove.insert("platForm".into());
        dir.apply(&plan).await.unwrap();
        assert!(dir.members_of(&u).is_empty());
    }
}
