//! Serde and environment configuration: the shared [`AppIdentity`] plus the
//! downstream APIs.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use entra_core::env::{self, Vars};
use entra_core::{AppIdentity, ClientCredential, Target};
use serde::Deserialize;

use crate::{Error, Obo, OboBuilder, Result};

/// A downstream API: a resource identifier (the "managed resource identifier",
/// whose `.default` scope is requested) or explicit scopes of one resource.
///
/// In configuration, either a string or `{ "scopes": [...] }`.
#[derive(Clone, PartialEq, Eq, Debug, Deserialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum DownstreamApi {
    /// `https://graph.microsoft.com`, `api://<app-id>`, a GUID.
    Resource(String),
    /// Explicit scopes.
    Scopes {
        /// The scopes, all of one resource.
        scopes: Vec<String>,
    },
}

impl From<&DownstreamApi> for Target {
    fn from(api: &DownstreamApi) -> Self {
        match api {
            DownstreamApi::Resource(r) => Self::Resource(r.clone()),
            DownstreamApi::Scopes { scopes } => Self::Scopes(scopes.clone()),
        }
    }
}

/// The configuration of an [`Obo`], for example from a TOML or JSON file.
///
/// The app registration is an [`AppIdentity`] (its keys sit at the top level),
/// shared with token validation and sign-in; On-Behalf-Of needs its credential:
/// `client_secret` (with `client_auth`), `client_certificate_path` (with
/// `client_private_key_path` and `client_certificate_password` when needed) or
/// `federated_token_file`. When several are set, the first in that order is used.
///
/// ```
/// use entra_obo::OboConfig;
/// let config: OboConfig = serde_json::from_str(r#"{
///     "authority": "https://login.microsoftonline.com/organizations",
///     "client_id": "6e74172b-be56-4843-9ff4-e66a39bb12e3",
///     "client_secret": "from-the-vault",
///     "downstream_apis": {
///         "graph": "https://graph.microsoft.com",
///         "crm": "api://0e0d9e5a-8a4f-4f7e-9b8e-7a1c2d3e4f50",
///         "mail": { "scopes": ["Mail.Read", "User.Read"] }
///     }
/// }"#)?;
/// let obo = config.build()?;
/// assert_eq!(obo.client_id().as_str(), "6e74172b-be56-4843-9ff4-e66a39bb12e3");
/// assert!(!format!("{config:?}").contains("from-the-vault"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, Deserialize)]
#[non_exhaustive]
pub struct OboConfig {
    /// The app that receives the user tokens and exchanges them: authority,
    /// client id and credential. Required, with a credential.
    #[serde(flatten)]
    pub identity: AppIdentity,
    /// Named downstream APIs for [`Obo::exchange_for`]. Defaults to none.
    #[serde(default)]
    pub downstream_apis: BTreeMap<String, DownstreamApi>,
    /// Seconds before expiry when a cached token is renewed. Defaults to `300`.
    #[serde(default)]
    pub expiry_skew_secs: Option<u64>,
}

impl OboConfig {
    /// A configuration for the app registration `identity`, without downstream APIs.
    pub fn new(identity: AppIdentity) -> Self {
        Self { identity, downstream_apis: BTreeMap::new(), expiry_skew_secs: None }
    }

    /// The credential this configuration names, loaded (certificate files are
    /// read now).
    ///
    /// # Errors
    /// [`Error::Config`] when no credential is configured; [`Error::Credential`]
    /// when a file is unreadable or the certificate, key or password is unusable.
    pub fn credential(&self) -> Result<ClientCredential> {
        self.identity.client_credential().map_err(|e| Error::Credential(Arc::new(e)))?.ok_or_else(
            || Error::Config {
                reason: "On-Behalf-Of needs a credential: configure client_secret, \
                         client_certificate_path or federated_token_file"
                    .into(),
            },
        )
    }

    /// Reads the configuration from the process environment; see
    /// [`OboConfig::from_lookup`].
    ///
    /// # Errors
    /// As [`OboConfig::from_lookup`].
    pub fn from_env() -> Result<Self> {
        Self::from_lookup(env::process_env)
    }

    /// Reads the configuration through `lookup` (a variable name to its value):
    /// the [`AppIdentity`] of [`AppIdentity::from_vars`] (this app's client id,
    /// [`env::AUTHORITY`] or [`env::TENANT_ID`] and [`env::CLOUD`], and one of
    /// [`env::CREDENTIALS`]). Every name, its aliases and the precedence rule:
    /// [`entra_core::env`]. Downstream APIs are not read from the environment.
    ///
    /// ```
    /// use entra_obo::OboConfig;
    /// let env = [
    ///     ("AZURE_TENANT_ID", "72f988bf-86f1-41af-91ab-2d7cd011db47"),
    ///     ("AZURE_CLIENT_ID", "6e74172b-be56-4843-9ff4-e66a39bb12e3"),
    ///     ("AZURE_FEDERATED_TOKEN_FILE", "/var/run/secrets/azure/tokens/azure-identity-token"),
    /// ];
    /// let config = OboConfig::from_lookup(|n| env.iter().find(|(k, _)| *k == n).map(|(_, v)| v.to_string()))?;
    /// let obo = config.build()?;
    /// # Ok::<(), entra_obo::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Env`] naming the variable that is missing or malformed, or the
    /// credential variables when none is set.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let identity =
            AppIdentity::from_vars(&Vars::new(&lookup)).map_err(|e| Error::Env(Arc::new(e)))?;
        if identity.credential.is_none() {
            return Err(Error::Env(Arc::new(entra_core::Error::MissingEnv {
                vars: env::CREDENTIALS,
            })));
        }
        Ok(Self::new(identity))
    }

    /// A builder with everything this configuration sets; add an HTTP client, a
    /// cache or a clock before building.
    ///
    /// # Errors
    /// As [`OboConfig::credential`].
    pub fn builder(&self) -> Result<OboBuilder> {
        let mut builder = Obo::builder(
            self.identity.authority.clone(),
            self.identity.client_id.clone(),
            self.credential()?,
        );
        if let Some(secs) = self.expiry_skew_secs {
            builder = builder.expiry_skew(Duration::from_secs(secs));
        }
        for (name, api) in &self.downstream_apis {
            builder = builder.downstream_api(name.clone(), Target::from(api));
        }
        Ok(builder)
    }

    /// Builds the client.
    ///
    /// # Errors
    /// As [`OboConfig::builder`] and [`OboBuilder::build`].
    pub fn build(&self) -> Result<Obo> {
        self.builder()?.build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> OboConfig {
        serde_json::from_str(json).unwrap()
    }

    const BASE: &str = r#""authority": "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47",
        "client_id": "6e74172b-be56-4843-9ff4-e66a39bb12e3""#;

    #[test]
    fn credentials_from_serde() {
        let none = parse(&format!("{{{BASE}}}"));
        assert!(matches!(none.credential(), Err(Error::Config { .. })));
        // The secret wins over the federated token file, as in the environment.
        let two = parse(&format!(
            r#"{{{BASE}, "client_secret": "s", "federated_token_file": "/var/run/token"}}"#
        ));
        assert!(matches!(two.credential(), Ok(ClientCredential::Secret { .. })));
        let basic = parse(&format!(
            r#"{{{BASE}, "client_secret": "s", "client_auth": "client_secret_basic"}}"#
        ));
        assert!(matches!(
            basic.credential(),
            Ok(ClientCredential::Secret { placement: entra_core::SecretPlacement::Basic, .. })
        ));
        let fed = parse(&format!(r#"{{{BASE}, "federated_token_file": "/var/run/token"}}"#));
        assert!(matches!(fed.credential(), Ok(ClientCredential::Assertion(_))));
        let cert =
            parse(&format!(r#"{{{BASE}, "client_certificate_path": "/nonexistent/cert.pem"}}"#));
        assert!(matches!(cert.credential(), Err(Error::Credential(_))));
    }

    fn env(
        vars: &'static [(&'static str, &'static str)],
    ) -> impl Fn(&str) -> Option<String> + 'static {
        move |name: &str| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| (*v).to_owned())
    }

    #[test]
    fn from_environment_names() {
        let c = OboConfig::from_lookup(env(&[
            ("SSO_ENTRA_TENANT_ID", "72f988bf-86f1-41af-91ab-2d7cd011db47"),
            ("SSO_ENTRA_CLIENT_ID", "6e74172b-be56-4843-9ff4-e66a39bb12e3"),
            ("SSO_ENTRA_CLIENT_SECRET", "s"),
            ("AZURE_FEDERATED_TOKEN_FILE", "/var/run/token"),
        ]))
        .unwrap();
        assert_eq!(
            c.identity.authority.token_url(),
            "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/oauth2/v2.0/token"
        );
        assert!(matches!(c.credential(), Ok(ClientCredential::Secret { .. })), "the secret wins");

        // SSO_ENTRA_AUTHORITY is read here too, and wins over the tenant.
        let c = OboConfig::from_lookup(env(&[
            ("SSO_ENTRA_AUTHORITY", "https://login.microsoftonline.us/organizations"),
            ("AZURE_TENANT_ID", "72f988bf-86f1-41af-91ab-2d7cd011db47"),
            ("AZURE_CLIENT_ID", "6e74172b-be56-4843-9ff4-e66a39bb12e3"),
            ("AZURE_FEDERATED_TOKEN_FILE", "/var/run/token"),
        ]))
        .unwrap();
        assert_eq!(c.identity.authority.cloud(), &entra_core::Cloud::UsGovernment);
        assert_eq!(c.identity.authority.tenant(), &entra_core::Tenant::Organizations);
        assert!(matches!(c.credential(), Ok(ClientCredential::Assertion(_))));

        let err = OboConfig::from_lookup(env(&[])).unwrap_err();
        assert!(err.to_string().contains("ENTRA_CLIENT_ID"), "{err}");
        let err = OboConfig::from_lookup(env(&[
            ("ENTRA_TENANT_ID", "contoso.com"),
            ("ENTRA_CLIENT_ID", "6e74172b-be56-4843-9ff4-e66a39bb12e3"),
        ]))
        .unwrap_err();
        assert!(
            matches!(&err, Error::Env(e) if matches!(**e, entra_core::Error::MissingEnv { .. }))
        );
        let text = err.to_string();
        for name in
            ["ENTRA_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_FEDERATED_TOKEN_FILE"]
        {
            assert!(text.contains(name), "{text}");
        }
        for (bad, name) in [
            (
                &[("ENTRA_TENANT_ID", "contoso.com"), ("ENTRA_CLIENT_ID", "not-a-guid")][..],
                "ENTRA_CLIENT_ID",
            ),
            (
                &[
                    ("ENTRA_TENANT_ID", "contoso.com"),
                    ("ENTRA_CLIENT_ID", "6e74172b-be56-4843-9ff4-e66a39bb12e3"),
                    ("ENTRA_CLIENT_SECRET", "s"),
                    ("ENTRA_CLIENT_AUTH", "private_key_jwt"),
                ][..],
                "ENTRA_CLIENT_AUTH",
            ),
        ] {
            let err = OboConfig::from_lookup(env(bad)).unwrap_err();
            assert!(
                matches!(&err, Error::Env(e) if matches!(**e, entra_core::Error::InvalidEnv { name: n, .. } if n == name)),
                "{err:?}"
            );
        }
    }

    #[test]
    fn every_variable_the_table_gives_to_entra_obo_is_read() {
        let looked_up = std::cell::RefCell::new(Vec::new());
        let lookup = |name: &str| {
            looked_up.borrow_mut().push(name.to_owned());
            match name {
                "ENTRA_CLIENT_ID" => Some("6e74172b-be56-4843-9ff4-e66a39bb12e3".to_owned()),
                "ENTRA_TENANT_ID" => Some("contoso.com".to_owned()),
                _ => None,
            }
        };
        assert!(OboConfig::from_lookup(lookup).is_err(), "no credential");
        let looked_up = looked_up.into_inner();
        for var in env::ALL.iter().filter(|v| v.read_by.contains(&"entra-obo")) {
            assert!(looked_up.iter().any(|n| n == var.name), "{} is not read", var.name);
        }
        for name in &looked_up {
            assert!(env::EnvVar::find(name).is_some(), "{name} is not in the table");
        }
    }

    #[test]
    fn downstream_apis_map_to_targets() {
        let c = parse(&format!(
            r#"{{{BASE}, "client_secret": "s", "downstream_apis": {{
                "graph": "https://graph.microsoft.com", "mail": {{"scopes": ["Mail.Read"]}} }}}}"#
        ));
        assert_eq!(
            Target::from(&c.downstream_apis["graph"]),
            Target::from("https://graph.microsoft.com")
        );
        assert_eq!(Target::from(&c.downstream_apis["mail"]), Target::from(["Mail.Read"]));
        assert!(c.build().is_ok());
        let bad = parse(&format!(
            r#"{{{BASE}, "client_secret": "s", "downstream_apis": {{ "x": {{"scopes": ["User.Read", "api://a/b"]}} }}}}"#
        ));
        assert!(matches!(bad.build(), Err(Error::MultipleResources { .. })));
        let typo = serde_json::from_str::<OboConfig>(&format!(r#"{{{BASE}, "typo": 1}}"#));
        assert!(typo.unwrap_err().to_string().contains("unknown field `typo`"));
    }
}
