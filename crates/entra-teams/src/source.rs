//! The `GroupSource` seam: where a user's groups come from when the token has
//! group overage.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use entra_core::{IdentityKey, ValidatedToken};

use crate::error::{Error, Result};

/// Resolves a user's group object ids when the token's `groups` claim overflowed
/// (`_claim_names.groups` or `hasgroups`).
///
/// Sources return object ids, never names: with group-name matchers configured,
/// [`crate::TeamSync`] refuses overage ([`Error::GroupNamesOnOverage`]) instead
/// of asking the source.
///
/// Implementations must resolve the groups of the user of `user` (never of a
/// principal named elsewhere in the token) and must never call the endpoint named
/// in the token's `_claim_sources`. [`crate::GraphGroupSource`] asks Microsoft
/// Graph on behalf of the user; [`StaticGroupSource`] serves tests and examples.
#[async_trait]
pub trait GroupSource: Send + Sync {
    /// The group object ids of the user of `user`.
    async fn groups(&self, user: &ValidatedToken) -> Result<Vec<String>>;
}

#[async_trait]
impl<T: GroupSource + ?Sized> GroupSource for &T {
    async fn groups(&self, user: &ValidatedToken) -> Result<Vec<String>> {
        (**self).groups(user).await
    }
}

#[async_trait]
impl<T: GroupSource + ?Sized> GroupSource for Box<T> {
    async fn groups(&self, user: &ValidatedToken) -> Result<Vec<String>> {
        (**self).groups(user).await
    }
}

#[async_trait]
impl<T: GroupSource + ?Sized> GroupSource for Arc<T> {
    async fn groups(&self, user: &ValidatedToken) -> Result<Vec<String>> {
        (**self).groups(user).await
    }
}

/// A fixed list of groups per user (by identity key), for tests and examples.
/// Unknown users have no groups.
#[derive(Clone, Default)]
pub struct StaticGroupSource {
    groups: HashMap<IdentityKey, Vec<String>>,
}

impl StaticGroupSource {
    /// An empty source.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the groups of `user`.
    #[must_use]
    pub fn with_user<I: IntoIterator<Item = S>, S: Into<String>>(
        mut self,
        user: IdentityKey,
        groups: I,
    ) -> Self {
        self.groups.insert(user, groups.into_iter().map(Into::into).collect());
        self
    }
}

impl fmt::Debug for StaticGroupSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaticGroupSource")
            .field("users", &self.groups.len())
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl GroupSource for StaticGroupSource {
    async fn groups(&self, user: &ValidatedToken) -> Result<Vec<String>> {
        let key = user.claims().identity_key().ok_or(Error::MissingIdentity)?;
        Ok(self.groups.get(&key).cloned().unwrap_or_default())
    }
}
