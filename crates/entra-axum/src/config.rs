//! Configuration from the environment: the one place this crate reads variables.
//! It delegates to the `from_env` readers of entra-oidc and entra-obo, so that
//! the names and their precedence are those of the workspace's table.

use entra_jwks::TenantPolicy;

use crate::{EntraAuth, EntraAuthBuilder, Error, Result};

/// Accepted audiences beside the client id and App ID URI (comma or space separated).
pub const ENTRA_AUDIENCES: &str = "ENTRA_AUDIENCES";
/// The App ID URI, when it is not `api://<client-id>`.
pub const ENTRA_APP_ID_URI: &str = "ENTRA_APP_ID_URI";

impl EntraAuth {
    /// Validation, On-Behalf-Of and sign-in from the process environment, for a
    /// web app that signs users in (and may serve an API).
    ///
    /// Reads the names of entra-oidc's `Config::from_vars` (`ENTRA_TENANT_ID` or
    /// `ENTRA_AUTHORITY`, `ENTRA_CLIENT_ID`, `ENTRA_CLIENT_SECRET`,
    /// `ENTRA_REDIRECT_URI`, `ENTRA_ALLOWED_DOMAINS`, ..., with their `SSO_ENTRA_*`
    /// and `AZURE_*` aliases), the credential names of entra-obo's
    /// `OboConfig::from_env` (a certificate or federated token instead of a
    /// secret), plus [`ENTRA_AUDIENCES`] and [`ENTRA_APP_ID_URI`]. Sign-in asks
    /// for `offline_access`, so that sessions can refresh their access token.
    ///
    /// # Errors
    /// [`Error::MissingConfig`] naming the variable when the client id, tenant,
    /// redirect URI or client credential is missing; [`Error::InvalidConfig`] for
    /// a value that cannot be parsed; the errors of [`EntraAuthBuilder::build`].
    pub fn from_env() -> Result<Self> {
        builder_from_lookup(&|n| std::env::var(n).ok(), true)?.build()
    }

    /// Validation and On-Behalf-Of from the process environment, for an API or
    /// MCP server that does not sign users in: as [`EntraAuth::from_env`], with
    /// no redirect URI, and On-Behalf-Of only when a client credential is set.
    ///
    /// # Errors
    /// As [`EntraAuth::from_env`], without the redirect URI and credential.
    pub fn api_from_env() -> Result<Self> {
        builder_from_lookup(&|n| std::env::var(n).ok(), false)?.build()
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

fn builder_from_lookup(
    lookup: &dyn Fn(&str) -> Option<String>,
    sign_in: bool,
) -> Result<EntraAuthBuilder> {
    let get = |name: &str| lookup(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    let mut oidc = entra_oidc::Config::from_vars(lookup).map_err(|e| match e {
        entra_oidc::Error::MissingConfig { names, .. } => Error::MissingConfig { name: names },
        other => Error::SignInSetup(other),
    })?;
    let obo = entra_obo::OboConfig::from_lookup(lookup).map_err(Error::OboSetup)?;
    let credential = if obo.client_secret.is_some()
        || obo.certificate_file.is_some()
        || obo.federated_token_file.is_some()
    {
        Some(obo.credential().map_err(Error::OboSetup)?)
    } else {
        None
    };
    let mut builder = EntraAuthBuilder::new(oidc.authority(), oidc.client_id.clone());
    if let Some(uri) = get(ENTRA_APP_ID_URI) {
        builder = builder.app_id_uri(uri);
    }
    for aud in get(ENTRA_AUDIENCES).unwrap_or_default().split([',', ' ']).filter(|a| !a.is_empty())
    {
        builder = builder.audience(aud);
    }
    if oidc.allow_any_tenant {
        builder = builder.tenants(TenantPolicy::Any);
    } else if !oidc.allowed_tenants.is_empty() {
        builder = builder.tenants(TenantPolicy::Only(oidc.allowed_tenants.clone()));
    }
    if let Some(c) = credential.clone() {
        builder = builder.credential(c);
    }
    if sign_in {
        if oidc.redirect_uri.is_none() {
            return Err(Error::MissingConfig { name: "ENTRA_REDIRECT_URI" });
        }
        if credential.is_none() {
            return Err(Error::MissingConfig { name: "ENTRA_CLIENT_SECRET" });
        }
        oidc.offline_access = true;
        #[cfg(feature = "sign-in")]
        {
            builder = builder.sign_in(oidc);
        }
    }
    Ok(builder)
}

#[cfg(test)]
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
    #[cfg(feature = "sign-in")]
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
