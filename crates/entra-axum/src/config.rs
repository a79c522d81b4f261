//! Configuration from the environment: the one place this crate reads variables,
//! through the workspace's one table of names (`entra_core::env`).

use entra_core::env;

use crate::{EntraAuth, EntraAuthBuilder, Error, Result};

impl EntraAuth {
    /// Validation, On-Behalf-Of and sign-in from the process environment, for a
    /// web app that signs users in (and may serve an API).
    ///
    /// Reads the workspace's one table of names (`docs/configuration.md`): the app
    /// identity (`ENTRA_TENANT_ID` or `ENTRA_AUTHORITY`, `ENTRA_CLIENT_ID`, a
    /// credential: `ENTRA_CLIENT_SECRET`, a certificate or a federated token file,
    /// `ENTRA_AUDIENCES`, `ENTRA_ALLOWED_TENANTS`) and the sign-in settings
    /// (`ENTRA_REDIRECT_URI`, `ENTRA_ALLOWED_DOMAINS`, ...), with their `SSO_ENTRA_*`
    /// and `AZURE_*` aliases. Sign-in asks for `offline_access`, so that sessions
    /// can refresh their access token.
    ///
    /// # Errors
    /// [`Error::MissingConfig`] naming the variable when the client id, tenant,
    /// redirect URI or client credential is missing; [`Error::InvalidConfig`] for
    /// a value that cannot be used; the errors of [`EntraAuthBuilder::build`].
    pub fn from_env() -> Result<Self> {
        builder_from_lookup(&env::process_env, true)?.build()
    }

    /// Validation and On-Behalf-Of from the process environment, for an API or
    /// MCP server that does not sign users in: as [`EntraAuth::from_env`], with
    /// no redirect URI, and On-Behalf-Of only when a client credential is set.
    ///
    /// # Errors
    /// As [`EntraAuth::from_env`], without the redirect URI and credential.
    pub fn api_from_env() -> Result<Self> {
        builder_from_lookup(&env::process_env, false)?.build()
    }

    /// As [`EntraAuth::from_env`] (`sign_in: true`) or
    /// [`EntraAuth::api_from_env`], reading variables through `lookup`, and
    /// returning the builder for further settings (a clock, a session store).
    ///
    /// # Errors
    /// As [`EntraAuth::from_env`].
    pub fn builder_from_vars(
        lookup: impl Fn(&str) -> Option<String>,
        sign_in: bool,
    ) -> Result<EntraAuthBuilder> {
        builder_from_lookup(&lookup, sign_in)
    }
}

/// A configuration error of the shared table, as this crate's error.
fn config_error(e: entra_core::Error) -> Error {
    match e {
        entra_core::Error::MissingEnv { vars } => {
            Error::MissingConfig { name: vars.first().map_or(env::CLIENT_ID.name, |v| v.name) }
        }
        other => Error::InvalidConfig { field: "environment", reason: other.to_string() },
    }
}

fn builder_from_lookup(
    lookup: &dyn Fn(&str) -> Option<String>,
    sign_in: bool,
) -> Result<EntraAuthBuilder> {
    let mut oidc = entra_oidc::Config::from_lookup(lookup).map_err(|e| match e {
        entra_oidc::Error::Env(e) => config_error(e),
        other => Error::SignInSetup(other),
    })?;
    let identity = oidc.identity.clone();
    let credential = identity.client_credential().map_err(config_error)?;
    let mut builder = EntraAuthBuilder::new(oidc.authority(), identity.client_id.clone());
    for aud in &identity.audiences {
        builder = builder.audience(aud);
    }
    if let Some(policy) = identity.allowed_tenants.clone() {
        builder = builder.tenants(policy);
    }
    if let Some(c) = credential.clone() {
        builder = builder.credential(c);
    }
    if sign_in {
        if oidc.redirect_uri.is_none() {
            return Err(Error::MissingConfig { name: env::REDIRECT_URI.name });
        }
        if credential.is_none() {
            return Err(Error::MissingConfig { name: env::CLIENT_SECRET.name });
        }
        oidc.offline_access = true;
        #[cfg(feature = "sign-in")]
        {
            builder = builder.sign_in(oidc);
        }
    }
    Ok(builder)
}

#[cfg(all(test, feature = "sign-in"))]
mod tests {
    use super::*;

    fn vars(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |n| pairs.iter().find(|(k, _)| *k == n).map(|(_, v)| (*v).to_owned())
    }

    const BASE: [(&str, &str); 2] = [
        ("ENTRA_TENANT_ID", "72f988bf-86f1-41af-91ab-2d7cd011db47"),
        ("ENTRA_CLIENT_ID", "6e74172b-be56-4843-9ff4-e66a39bb12e3"),
    ];

    #[test]
    fn missing_settings_name_the_variable() {
        let name = |r: Result<EntraAuthBuilder>| match r {
            Err(Error::MissingConfig { name }) => name,
            other => panic!("{other:?}"),
        };
        assert!(name(EntraAuth::builder_from_vars(vars(&[]), false)).contains("ENTRA_CLIENT_ID"));
        assert_eq!(name(EntraAuth::builder_from_vars(vars(&BASE), true)), "ENTRA_REDIRECT_URI");
        static WITH_REDIRECT: [(&str, &str); 3] =
            [BASE[0], BASE[1], ("ENTRA_REDIRECT_URI", "https://app.example.com/callback")];
        assert_eq!(
            name(EntraAuth::builder_from_vars(vars(&WITH_REDIRECT), true)),
            "ENTRA_CLIENT_SECRET"
        );
        // Passing: an API needs neither; a web app with both builds.
        EntraAuth::builder_from_vars(vars(&BASE), false).unwrap().build().unwrap();
        static FULL: [(&str, &str); 4] = [
            BASE[0],
            BASE[1],
            ("SSO_ENTRA_REDIRECT_URI", "https://app.example.com/auth/callback"),
            ("SSO_ENTRA_CLIENT_SECRET", "s3cret"),
        ];
        let auth = EntraAuth::builder_from_vars(vars(&FULL), true).unwrap().build().unwrap();
        assert!(auth.sign_in_client().is_some_and(|c| c.config().offline_access));
        assert!(auth.exchanger().is_some());
        assert!(!format!("{auth:?}").contains("s3cret"));
    }
}
