//! Teams and roles from entra-teams at sign-in.

use crate::user::Teams;
use crate::{Error, Result};
use entra_core::{Secret, dangerous};

/// Maps the signed-in user with `sync`. The ID token's claims (verified by the
/// sign-in client) carry the groups and roles; on group overage the group
/// source needs a user token it can exchange, so the sign-in access token (for
/// the configured API scope) is the raw token when there is one.
pub(crate) async fn resolve(
    sync: &entra_teams::TeamSync,
    user: &entra_oidc::User,
    tokens: &entra_oidc::Tokens,
) -> Result<Teams> {
    let raw = tokens
        .access_token()
        .map(|a| a.secret.clone())
        .or_else(|| tokens.id_token().cloned())
        .unwrap_or_else(|| Secret::new(""));
    let token = dangerous::assume_validated(raw, user.claims().clone());
    let mapping = sync.resolve(&token).await.map_err(Error::Teams)?;
    Ok(Teams {
        teams: mapping.teams.into_iter().collect(),
        role: mapping.role,
        admin: mapping.admin,
    })
}
