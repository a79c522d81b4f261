//! The app's Entra set-up: one app registration for sign-in, On-Behalf-Of and
//! teams, read from environment variables (or any lookup).

use std::sync::Arc;

use entra_axum::{EntraAuth, EntraAuthBuilder};
use entra_core::AppIdentity;
use entra_teams::{GraphGroupSource, TeamSync};

/// Why the app could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The app registration's settings are missing or wrong.
    #[error("the app registration settings are incomplete or invalid")]
    Identity(#[source] entra_core::Error),
    /// The sign-in settings are missing or wrong.
    #[error("the sign-in settings are incomplete or invalid")]
    Auth(#[source] entra_axum::Error),
    /// The On-Behalf-Of client (for Microsoft Graph) could not be built.
    #[error("the on-behalf-of client could not be built")]
    Obo(#[source] entra_obo::Error),
    /// The teams configuration is invalid.
    #[error("the teams configuration is invalid")]
    Teams(#[source] entra_teams::Error),
    /// Redis (sessions, sign-in state, token cache) is misconfigured or down.
    #[error("redis could not be used")]
    Redis(#[source] entra_redis::Error),
}

impl Error {
    /// A stable code: `identity`, `auth`, `obo`, `teams`, `redis`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Identity(_) => "identity",
            Self::Auth(_) => "auth",
            Self::Obo(_) => "obo",
            Self::Teams(_) => "teams",
            Self::Redis(_) => "redis",
        }
    }

    /// The message with its causes, one per line, for a start-up failure.
    pub fn report(&self) -> String {
        let mut text = self.to_string();
        let mut source = std::error::Error::source(self);
        while let Some(e) = source {
            text.push_str(&format!("\n  caused by: {e}"));
            source = e.source();
        }
        text
    }
}

/// [`EntraAuth`] for this app from the process environment; see
/// [`auth_builder`].
///
/// # Errors
/// As [`auth_builder`], and [`Error::Auth`] when the sign-in client cannot be
/// built.
pub async fn auth_from_env() -> Result<EntraAuth, Error> {
    auth_builder(&entra_core::env::process_env).await?.build().map_err(Error::Auth)
}

/// The app's [`EntraAuthBuilder`] from `lookup` (a variable name to its value),
/// for a host that adds settings before building (a clock, other stores).
///
/// It reads the workspace's one table of variables (`docs/configuration.md`):
/// - sign-in: `ENTRA_TENANT_ID` (or `ENTRA_AUTHORITY`), `ENTRA_CLIENT_ID`,
///   `ENTRA_CLIENT_SECRET`, `ENTRA_REDIRECT_URI`, `ENTRA_ALLOWED_DOMAINS`
///   (alias `SSO_TRUSTED_DOMAINS`), `ENTRA_API_SCOPE` (the app's own scope, such
///   as `api://<client-id>/access_as_user`, needed to resolve group overage);
/// - teams: `ENTRA_TEAMS_CONFIG` and the `ENTRA_*` / `SSO_ENTRA_*` teams
///   variables of entra-teams; group overage is resolved through Microsoft
///   Graph on behalf of the user;
/// - Redis, when `ENTRA_REDIS_URL` is set (with `ENTRA_REDIS_KEYS`): sessions,
///   pending sign-ins and the On-Behalf-Of token cache go there, so that
///   several replicas serve the same users.
///
/// # Errors
/// [`Error::Identity`], [`Error::Auth`] (a missing variable is named),
/// [`Error::Teams`], [`Error::Obo`], [`Error::Redis`] (including a Redis that
/// does not answer at start-up).
pub async fn auth_builder(
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<EntraAuthBuilder, Error> {
    let mut builder = EntraAuth::builder_from_vars(lookup, true).map_err(Error::Auth)?;
    let identity = AppIdentity::from_lookup(lookup).map_err(Error::Identity)?;
    let Some(credential) = identity.client_credential().map_err(Error::Identity)? else {
        return Err(Error::Auth(entra_axum::Error::MissingConfig {
            name: entra_core::env::CLIENT_SECRET.name,
        }));
    };
    let redis = match entra_redis::RedisConfig::from_lookup(lookup).map_err(Error::Redis)? {
        Some(config) => Some(entra_redis::Connection::connect(config).await.map_err(Error::Redis)?),
        None => None,
    };
    // One On-Behalf-Of client (and token cache) for the app and its group lookups.
    let mut obo =
        entra_obo::Obo::builder(identity.authority.clone(), identity.client_id, credential);
    if let Some(redis) = &redis {
        obo = obo.cache(entra_redis::TokenCache::new(redis));
    }
    let obo = obo.build().map_err(Error::Obo)?;
    let teams = entra_teams::Config::from_lookup(lookup).map_err(Error::Teams)?;
    let graph = GraphGroupSource::builder(obo.clone(), identity.authority.cloud())
        .config(&teams.graph)
        .build()
        .map_err(Error::Teams)?;
    let sync = TeamSync::builder(teams).group_source(graph).build().map_err(Error::Teams)?;
    builder = builder.exchanger(Arc::new(obo)).teams(sync);
    if let Some(redis) = &redis {
        builder = builder
            .session_store(entra_redis::SessionStore::new(redis))
            .login_state_store(entra_redis::LoginStateStore::new(redis));
    }
    Ok(builder)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |n| pairs.iter().find(|(k, _)| *k == n).map(|(_, v)| (*v).to_owned())
    }

    const APP: [(&str, &str); 5] = [
        ("ENTRA_TENANT_ID", "72f988bf-86f1-41af-91ab-2d7cd011db47"),
        ("ENTRA_CLIENT_ID", "6e74172b-be56-4843-9ff4-e66a39bb12e3"),
        ("ENTRA_CLIENT_SECRET", "s3cret"),
        ("SSO_ENTRA_REDIRECT_URI", "http://localhost:3000/callback"),
        ("SSO_TRUSTED_DOMAINS", "contoso.com, fabrikam.com"),
    ];

    #[tokio::test]
    async fn builds_from_the_gateway_names_and_names_what_is_missing() {
        // Passing: the gateways' names, allowed domains included.
        let auth = auth_builder(&lookup(&APP)).await.unwrap().build().unwrap();
        let config = auth.sign_in_client().unwrap().config();
        assert_eq!(config.allowed_domains, ["contoso.com", "fabrikam.com"]);
        assert!(auth.exchanger().is_some());
        // Failing: nothing set names the client id; no secret names the secret.
        let missing = |e: Error| match e {
            Error::Auth(entra_axum::Error::MissingConfig { name }) => name,
            other => panic!("{other:?}"),
        };
        assert!(missing(auth_builder(&lookup(&[])).await.unwrap_err()).contains("CLIENT_ID"));
        static NO_SECRET: [(&str, &str); 3] = [APP[0], APP[1], APP[3]];
        assert!(missing(auth_builder(&lookup(&NO_SECRET)).await.unwrap_err()).contains("SECRET"));
        // Failing: a Redis URL without encryption keys.
        static REDIS: [(&str, &str); 6] =
            [APP[0], APP[1], APP[2], APP[3], APP[4], ("ENTRA_REDIS_URL", "redis://127.0.0.1:6379")];
        let e = auth_builder(&lookup(&REDIS)).await.unwrap_err();
        assert_eq!(e.code(), "redis");
        assert!(e.report().contains("caused by"));
    }
}
