//! Serde configuration: the settings gateways already expose, mapped 1:1.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use entra_core::{
    Authority, CertificateCredential, ClientCredential, ClientId, Cloud, FileAssertion, Secret,
    Target, Tenant,
};
use serde::Deserialize;

use crate::{Error, Obo, OboBuilder, Result};

/// How a client secret is sent (the "Exchange Client Authentication" setting of
/// gateway configurations).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ClientAuthMethod {
    /// `client_secret` in the form body. The default.
    #[default]
    ClientSecretPost,
    /// HTTP Basic authentication.
    ClientSecretBasic,
}

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
/// Exactly one credential: `client_secret`, `certificate_file` (with
/// `private_key_file` unless the file holds both), or `federated_token_file`.
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
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct OboConfig {
    /// The authority: `https://login.microsoftonline.com/<tenant id>` for a
    /// single-tenant app, `.../organizations` or `.../common` for a multi-tenant one.
    pub authority: Authority,
    /// The application (client) id of the app that receives the user tokens.
    pub client_id: ClientId,
    /// The client secret's value.
    #[serde(default)]
    pub client_secret: Option<Secret>,
    /// How the secret is sent. Defaults to `client_secret_post`.
    #[serde(default)]
    pub client_auth: ClientAuthMethod,
    /// A PEM file with the app's certificate (and possibly its private key).
    #[serde(default)]
    pub certificate_file: Option<PathBuf>,
    /// A PEM file with the certificate's private key. Defaults to `certificate_file`.
    #[serde(default)]
    pub private_key_file: Option<PathBuf>,
    /// A federated token file (`AZURE_FEDERATED_TOKEN_FILE` in Kubernetes).
    #[serde(default)]
    pub federated_token_file: Option<PathBuf>,
    /// Named downstream APIs for [`Obo::exchange_for`]. Defaults to none.
    #[serde(default)]
    pub downstream_apis: BTreeMap<String, DownstreamApi>,
    /// Seconds before expiry when a cached token is renewed. Defaults to `300`.
    #[serde(default)]
    pub expiry_skew_secs: Option<u64>,
}

impl OboConfig {
    /// The credential this configuration names.
    ///
    /// # Errors
    /// [`Error::Config`] when none or several are configured or a file is
    /// unreadable; [`Error::Credential`] when the certificate or key is unusable.
    pub fn credential(&self) -> Result<ClientCredential> {
        let configured = [
            self.client_secret.is_some(),
            self.certificate_file.is_some(),
            self.federated_token_file.is_some(),
        ];
        if configured.iter().filter(|c| **c).count() != 1 {
            return Err(Error::Config {
                reason:
                    "configure exactly one of client_secret, certificate_file, federated_token_file"
                        .into(),
            });
        }
        if let Some(secret) = &self.client_secret {
            return Ok(match self.client_auth {
                ClientAuthMethod::ClientSecretPost => ClientCredential::secret(secret.clone()),
                ClientAuthMethod::ClientSecretBasic => {
                    ClientCredential::secret_basic(secret.clone())
                }
            });
        }
        if let Some(cert_file) = &self.certificate_file {
            let read = |p: &PathBuf| {
                std::fs::read_to_string(p).map_err(|e| Error::Config {
                    reason: format!("cannot read {}: {e}", p.display()),
                })
            };
            let cert = read(cert_file)?;
            let key = match &self.private_key_file {
                Some(p) => read(p)?,
                None => cert.clone(),
            };
            let cred = CertificateCredential::from_pem(&cert, &key)
                .map_err(|e| Error::Credential(e.into()))?;
            return Ok(ClientCredential::assertion(cred));
        }
        match &self.federated_token_file {
            Some(path) => Ok(ClientCredential::assertion(FileAssertion::new(path))),
            None => Err(Error::Config { reason: "no credential configured".into() }),
        }
    }

    /// Reads the configuration from the environment, accepting the names gateways
    /// and the Azure SDKs already use (the first one set wins):
    ///
    /// | setting | variables |
    /// |---|---|
    /// | authority | `ENTRA_AUTHORITY` (a full URL), else the tenant from `ENTRA_TENANT_ID`, `SSO_ENTRA_TENANT_ID`, `AZURE_TENANT_ID` in the cloud of `ENTRA_CLOUD` or `AZURE_AUTHORITY_HOST` (public by default) |
    /// | client id | `ENTRA_CLIENT_ID`, `SSO_ENTRA_CLIENT_ID`, `AZURE_CLIENT_ID` |
    /// | secret | `ENTRA_CLIENT_SECRET`, `SSO_ENTRA_CLIENT_SECRET`, `AZURE_CLIENT_SECRET`; `ENTRA_CLIENT_AUTH=client_secret_basic` for HTTP Basic |
    /// | certificate | `ENTRA_CLIENT_CERTIFICATE_PATH`, `AZURE_CLIENT_CERTIFICATE_PATH` (PEM with the key) |
    /// | federated token | `AZURE_FEDERATED_TOKEN_FILE` |
    ///
    /// When several credentials are set, the secret wins over the certificate,
    /// which wins over the federated token (as the Azure SDKs' environment
    /// credential does). Downstream APIs are not read from the environment.
    ///
    /// # Errors
    /// [`Error::Config`] when the authority or client id is missing or invalid.
    pub fn from_env() -> Result<Self> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// As [`OboConfig::from_env`], reading variables through `lookup`.
    ///
    /// # Errors
    /// As [`OboConfig::from_env`].
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let first = |names: &[&str]| {
            names
                .iter()
                .find_map(|n| lookup(n).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()))
        };
        let config = |reason: String| Error::Config { reason };
        let authority = match first(&["ENTRA_AUTHORITY"]) {
            Some(url) => {
                Authority::parse(&url).map_err(|e| config(format!("ENTRA_AUTHORITY: {e}")))?
            }
            None => {
                let tenant = first(&["ENTRA_TENANT_ID", "SSO_ENTRA_TENANT_ID", "AZURE_TENANT_ID"])
                    .ok_or_else(|| config("set ENTRA_AUTHORITY or ENTRA_TENANT_ID".into()))?;
                let tenant = Tenant::parse(&tenant).map_err(|e| config(format!("tenant: {e}")))?;
                let cloud = match first(&["ENTRA_CLOUD", "AZURE_AUTHORITY_HOST"]) {
                    Some(c) => Cloud::parse(&c).map_err(|e| config(format!("cloud: {e}")))?,
                    None => Cloud::Public,
                };
                Authority::new(cloud, tenant)
            }
        };
        let client_id = first(&["ENTRA_CLIENT_ID", "SSO_ENTRA_CLIENT_ID", "AZURE_CLIENT_ID"])
            .ok_or_else(|| config("set ENTRA_CLIENT_ID".into()))?;
        let client_id =
            ClientId::parse(&client_id).map_err(|e| config(format!("client id: {e}")))?;
        let client_secret =
            first(&["ENTRA_CLIENT_SECRET", "SSO_ENTRA_CLIENT_SECRET", "AZURE_CLIENT_SECRET"])
                .map(Secret::new);
        let certificate_file =
            first(&["ENTRA_CLIENT_CERTIFICATE_PATH", "AZURE_CLIENT_CERTIFICATE_PATH"])
                .filter(|_| client_secret.is_none())
                .map(PathBuf::from);
        let federated_token_file = first(&[entra_core::AZURE_FEDERATED_TOKEN_FILE])
            .filter(|_| client_secret.is_none() && certificate_file.is_none())
            .map(PathBuf::from);
        let client_auth = match first(&["ENTRA_CLIENT_AUTH"]).as_deref() {
            Some("client_secret_basic") => ClientAuthMethod::ClientSecretBasic,
            None | Some("client_secret_post") => ClientAuthMethod::ClientSecretPost,
            Some(_) => {
                return Err(config(
                    "ENTRA_CLIENT_AUTH must be client_secret_post or client_secret_basic".into(),
                ));
            }
        };
        Ok(Self {
            authority,
            client_id,
            client_secret,
            client_auth,
            certificate_file,
            private_key_file: None,
            federated_token_file,
            downstream_apis: BTreeMap::new(),
            expiry_skew_secs: None,
        })
    }

    /// A builder with everything this configuration sets; add an HTTP client, a
    /// cache or a clock before building.
    ///
    /// # Errors
    /// As [`OboConfig::credential`].
    pub fn builder(&self) -> Result<OboBuilder> {
        let mut builder =
            Obo::builder(self.authority.clone(), self.client_id.clone(), self.credential()?);
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
    fn exactly_one_credential() {
        let none = parse(&format!("{{{BASE}}}"));
        assert!(matches!(none.credential(), Err(Error::Config { .. })));
        let two = parse(&format!(
            r#"{{{BASE}, "client_secret": "s", "federated_token_file": "/var/run/token"}}"#
        ));
        assert!(matches!(two.credential(), Err(Error::Config { .. })));
        let basic = parse(&format!(
            r#"{{{BASE}, "client_secret": "s", "client_auth": "client_secret_basic"}}"#
        ));
        assert!(matches!(basic.credential(), Ok(ClientCredential::Secret { .. })));
        let fed = parse(&format!(r#"{{{BASE}, "federated_token_file": "/var/run/token"}}"#));
        assert!(matches!(fed.credential(), Ok(ClientCredential::Assertion(_))));
        let cert = parse(&format!(r#"{{{BASE}, "certificate_file": "/nonexistent/cert.pem"}}"#));
        assert!(matches!(cert.credential(), Err(Error::Config { .. })));
    }

    #[test]
    fn from_environment_names() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |name: &str| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| (*v).to_owned())
        };
        let c = OboConfig::from_lookup(env(&[
            ("SSO_ENTRA_TENANT_ID", "72f988bf-86f1-41af-91ab-2d7cd011db47"),
            ("SSO_ENTRA_CLIENT_ID", "6e74172b-be56-4843-9ff4-e66a39bb12e3"),
            ("SSO_ENTRA_CLIENT_SECRET", "s"),
            ("AZURE_FEDERATED_TOKEN_FILE", "/var/run/token"),
        ]))
        .unwrap();
        assert_eq!(
            c.authority.token_url(),
            "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/oauth2/v2.0/token"
        );
        assert!(c.federated_token_file.is_none(), "the secret wins");
        assert!(matches!(c.credential(), Ok(ClientCredential::Secret { .. })));

        let c = OboConfig::from_lookup(env(&[
            ("ENTRA_AUTHORITY", "https://login.microsoftonline.us/organizations"),
            ("AZURE_CLIENT_ID", "6e74172b-be56-4843-9ff4-e66a39bb12e3"),
            ("AZURE_FEDERATED_TOKEN_FILE", "/var/run/token"),
        ]))
        .unwrap();
        assert_eq!(c.authority.cloud(), &Cloud::UsGovernment);
        assert!(matches!(c.credential(), Ok(ClientCredential::Assertion(_))));

        assert!(OboConfig::from_lookup(env(&[])).is_err());
        assert!(
            OboConfig::from_lookup(env(&[
                ("ENTRA_TENANT_ID", "contoso.com"),
                ("ENTRA_CLIENT_ID", "not-a-guid"),
            ]))
            .is_err()
        );
        assert!(
            OboConfig::from_lookup(env(&[
                ("ENTRA_TENANT_ID", "contoso.com"),
                ("ENTRA_CLIENT_ID", "6e74172b-be56-4843-9ff4-e66a39bb12e3"),
                ("ENTRA_CLIENT_AUTH", "private_key_jwt"),
            ]))
            .is_err()
        );
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
        assert!(serde_json::from_str::<OboConfig>(&format!(r#"{{{BASE}, "typo": 1}}"#)).is_err());
    }
}
