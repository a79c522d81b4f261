//! The app's configuration, as the doctor reads it: from the environment (the
//! same names the other entra-* crates read) or from a JSON file.
//!
//! This module is the only place that knows setting names; the rest of the crate
//! asks it for values and for the name to print in advice.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use entra_core::env::{self, EnvVar};
use entra_core::{
    Authority, CertificateCredential, ClientCredential, ClientId, Clock, Cloud, FileAssertion,
    Secret, Tenant, TenantId,
};
use entra_jwks::{AcceptedVersions, Match, TenantPolicy, Validator};
use serde::Deserialize;

use crate::{Error, Result};

/// One setting the doctor reads.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub enum Setting {
    /// The authority URL (cloud and tenant).
    Authority,
    /// The tenant id or domain (`organizations`, `common`).
    TenantId,
    /// The cloud (`public`, `usgovernment`, `china`, or a base URL).
    Cloud,
    /// The application (client) id.
    ClientId,
    /// The client secret's value.
    ClientSecret,
    /// A PEM file with the app's certificate and private key.
    ClientCertificatePath,
    /// A federated token file (workload identity).
    FederatedTokenFile,
    /// The redirect URI of browser sign-in.
    RedirectUri,
    /// Audiences accepted besides the client id (such as the App ID URI).
    Audiences,
    /// Tenants allowed to present tokens (`*` for any).
    AllowedTenants,
    /// Accepted access token versions (`1`, `2` or `both`).
    AcceptedVersions,
    /// Scopes a delegated token must carry (any of them).
    RequiredScopes,
    /// App roles a token must carry (any of them).
    RequiredRoles,
}

/// Each setting: its key in a configuration file, and the variable of the
/// workspace's one table of environment names (`entra_core::env`) that sets it
/// (its canonical name first, then its aliases, the first set one winning).
/// Settings without a variable are read from a `--config` file only.
const TABLE: &[(Setting, &str, Option<&EnvVar>)] = &[
    (Setting::Authority, "authority", Some(&env::AUTHORITY)),
    (Setting::TenantId, "tenant_id", Some(&env::TENANT_ID)),
    (Setting::Cloud, "cloud", Some(&env::CLOUD)),
    (Setting::ClientId, "client_id", Some(&env::CLIENT_ID)),
    (Setting::ClientSecret, "client_secret", Some(&env::CLIENT_SECRET)),
    (
        Setting::ClientCertificatePath,
        "client_certificate_path",
        Some(&env::CLIENT_CERTIFICATE_PATH),
    ),
    (Setting::FederatedTokenFile, "federated_token_file", Some(&env::FEDERATED_TOKEN_FILE)),
    (Setting::RedirectUri, "redirect_uri", Some(&env::REDIRECT_URI)),
    (Setting::Audiences, "audiences", Some(&env::AUDIENCES)),
    (Setting::AllowedTenants, "allowed_tenants", Some(&env::ALLOWED_TENANTS)),
    (Setting::AcceptedVersions, "accepted_versions", Some(&env::ACCEPTED_VERSIONS)),
    (Setting::RequiredScopes, "required_scopes", Some(&env::REQUIRED_SCOPES)),
    (Setting::RequiredRoles, "required_roles", Some(&env::REQUIRED_ROLES)),
];

/// The names of `var`, canonical first.
fn names(var: Option<&EnvVar>) -> Vec<&'static str> {
    var.map(|v| std::iter::once(v.name).chain(v.aliases.iter().copied()).collect())
        .unwrap_or_default()
}

impl Setting {
    fn row(self) -> (&'static str, Vec<&'static str>) {
        TABLE
            .iter()
            .find(|(s, _, _)| *s == self)
            .map_or(("", Vec::new()), |(_, key, var)| (*key, names(*var)))
    }

    /// The key in a configuration file (`client_id`).
    pub fn file_key(self) -> &'static str {
        self.row().0
    }

    /// The main environment variable (`ENTRA_CLIENT_ID`).
    pub fn env_name(self) -> &'static str {
        self.row().1.first().copied().unwrap_or("")
    }

    /// How advice names the setting: ``ENTRA_CLIENT_ID (`client_id` in a --config file)``.
    pub fn display(self) -> String {
        format!("{} (`{}` in a --config file)", self.env_name(), self.file_key())
    }
}

/// A value and where it came from (`ENTRA_CLIENT_ID`, or `client_id in app.json`).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Sourced<T> {
    /// The value.
    pub value: T,
    /// Where it came from.
    pub from: String,
}

/// The settings of one app registration, unparsed (so that a check can say what
/// is wrong with each), with their sources. Secrets are [`Secret`]s.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct Config {
    /// Where the settings were read: `environment` or the file's path.
    pub origin: String,
    /// Raw values by setting, in [`Setting`] order.
    values: Vec<(Setting, Sourced<String>)>,
    secret: Option<Sourced<Secret>>,
}

/// A configuration file: every key optional, unknown keys refused.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    authority: Option<String>,
    tenant_id: Option<String>,
    cloud: Option<String>,
    client_id: Option<String>,
    client_secret: Option<Secret>,
    client_certificate_path: Option<String>,
    federated_token_file: Option<String>,
    redirect_uri: Option<String>,
    audiences: Option<List>,
    allowed_tenants: Option<List>,
    accepted_versions: Option<String>,
    required_scopes: Option<List>,
    required_roles: Option<List>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum List {
    One(String),
    Many(Vec<String>),
}

impl List {
    fn joined(self) -> String {
        match self {
            Self::One(s) => s,
            Self::Many(v) => v.join(","),
        }
    }
}

impl Config {
    /// Reads the environment.
    pub fn from_env() -> Self {
        Self::from_lookup(env::process_env)
    }

    /// Reads settings through `lookup` (a variable name to its value), as
    /// [`Config::from_env`] does with the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let mut config = Self { origin: "environment".into(), ..Self::default() };
        for (setting, _, var) in TABLE {
            let found = names(*var).into_iter().find_map(|n| {
                lookup(n).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()).map(|v| (n, v))
            });
            if let Some((name, value)) = found {
                if *setting == Setting::ClientSecret {
                    config.secret =
                        Some(Sourced { value: Secret::new(value), from: name.to_owned() });
                } else {
                    config.values.push((*setting, Sourced { value, from: name.to_owned() }));
                }
            }
        }
        config
    }

    /// Reads a JSON file whose keys are the settings' file keys (`authority`,
    /// `tenant_id`, `cloud`, `client_id`, `client_secret`, `client_certificate_path`,
    /// `federated_token_file`, `redirect_uri`, `audiences`, `allowed_tenants`,
    /// `accepted_versions`, `required_scopes`, `required_roles`); lists may be JSON
    /// arrays or comma-separated strings.
    ///
    /// # Errors
    /// [`Error::Read`] when the file cannot be read, [`Error::ConfigFormat`] when it
    /// is not a JSON object of these keys.
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read(path).map_err(|source| Error::Read {
            what: "configuration file",
            path: path.to_owned(),
            source,
        })?;
        let file: File = serde_json::from_slice(&text)
            .map_err(|source| Error::ConfigFormat { path: path.to_owned(), source })?;
        let origin = path.display().to_string();
        let mut config = Self { origin: origin.clone(), ..Self::default() };
        let mut put = |setting: Setting, value: Option<String>| {
            if let Some(v) = value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()) {
                let from = format!("{} in {origin}", setting.file_key());
                config.values.push((setting, Sourced { value: v, from }));
            }
        };
        put(Setting::Authority, file.authority);
        put(Setting::TenantId, file.tenant_id);
        put(Setting::Cloud, file.cloud);
        put(Setting::ClientId, file.client_id);
        put(Setting::ClientCertificatePath, file.client_certificate_path);
        put(Setting::FederatedTokenFile, file.federated_token_file);
        put(Setting::RedirectUri, file.redirect_uri);
        put(Setting::Audiences, file.audiences.map(List::joined));
        put(Setting::AllowedTenants, file.allowed_tenants.map(List::joined));
        put(Setting::AcceptedVersions, file.accepted_versions);
        put(Setting::RequiredScopes, file.required_scopes.map(List::joined));
        put(Setting::RequiredRoles, file.required_roles.map(List::joined));
        config.secret = file
            .client_secret
            .filter(|s| !s.expose_secret().trim().is_empty())
            .map(|value| Sourced { value, from: format!("client_secret in {}", path.display()) });
        Ok(config)
    }

    /// Whether nothing identifying an app is set (no authority, tenant or client id).
    pub fn is_empty(&self) -> bool {
        [Setting::Authority, Setting::TenantId, Setting::ClientId]
            .iter()
            .all(|s| self.raw(*s).is_none())
    }

    /// The raw value of a setting (never the secret: see [`Config::client_secret`]).
    pub fn raw(&self, setting: Setting) -> Option<&Sourced<String>> {
        self.values.iter().find(|(s, _)| *s == setting).map(|(_, v)| v)
    }

    /// The client secret, if set.
    pub fn client_secret(&self) -> Option<&Sourced<Secret>> {
        self.secret.as_ref()
    }

    /// A list setting: a JSON array or values separated by commas or spaces.
    pub fn list(&self, setting: Setting) -> Vec<String> {
        let Some(raw) = self.raw(setting) else { return Vec::new() };
        if let Ok(v) = serde_json::from_str::<Vec<String>>(&raw.value) {
            return v.into_iter().map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect();
        }
        raw.value
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    }

    fn bad(&self, setting: Setting, reason: impl Into<String>) -> Error {
        let name =
            self.raw(setting).map_or_else(|| setting.env_name().to_owned(), |v| v.from.clone());
        Error::config(name, reason)
    }

    /// The authority: the authority URL if set, else the tenant in the cloud
    /// (public by default).
    ///
    /// # Errors
    /// [`Error::Config`] when neither is set or a value does not parse.
    pub fn authority(&self) -> Result<Authority> {
        if let Some(a) = self.raw(Setting::Authority) {
            return Authority::parse(&a.value)
                .map_err(|e| self.bad(Setting::Authority, e.to_string()));
        }
        let Some(t) = self.raw(Setting::TenantId) else {
            return Err(Error::config(
                Setting::TenantId.env_name(),
                format!(
                    "not set: set {} or {}",
                    Setting::TenantId.display(),
                    Setting::Authority.display()
                ),
            ));
        };
        let tenant =
            Tenant::parse(&t.value).map_err(|e| self.bad(Setting::TenantId, e.to_string()))?;
        Ok(Authority::new(self.cloud()?.unwrap_or(Cloud::Public), tenant))
    }

    /// The cloud setting, when set.
    ///
    /// # Errors
    /// [`Error::Config`] when it does not parse.
    pub fn cloud(&self) -> Result<Option<Cloud>> {
        self.raw(Setting::Cloud)
            .map(|c| Cloud::parse(&c.value).map_err(|e| self.bad(Setting::Cloud, e.to_string())))
            .transpose()
    }

    /// The client id.
    ///
    /// # Errors
    /// [`Error::Config`] when it is missing or not a GUID.
    pub fn client_id(&self) -> Result<ClientId> {
        let raw = self.raw(Setting::ClientId).ok_or_else(|| {
            Error::config(
                Setting::ClientId.env_name(),
                format!("not set: set {}", Setting::ClientId.display()),
            )
        })?;
        ClientId::parse(&raw.value).map_err(|_| {
            let hint = if raw.value.starts_with("api://") {
                "this is an App ID URI; the client id is the GUID on the app registration's Overview page"
            } else {
                "expected the Application (client) ID GUID from the app registration's Overview page"
            };
            self.bad(Setting::ClientId, hint)
        })
    }

    /// The tenant policy: `*` for any, else the listed tenant ids; `None` when
    /// not set.
    ///
    /// # Errors
    /// [`Error::Config`] when an entry is not a tenant id GUID.
    pub fn tenant_policy(&self) -> Result<Option<TenantPolicy>> {
        let list = self.list(Setting::AllowedTenants);
        if list.is_empty() {
            return Ok(None);
        }
        if list.iter().any(|t| t == "*") {
            return Ok(Some(TenantPolicy::Any));
        }
        let ids = list
            .iter()
            .map(|t| {
                TenantId::parse(t).map_err(|_| {
                    self.bad(
                        Setting::AllowedTenants,
                        "list tenant ids (GUIDs), or `*` for any tenant",
                    )
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Some(TenantPolicy::Only(ids)))
    }

    /// The accepted token versions. Defaults to v2 only, as the validator does.
    ///
    /// # Errors
    /// [`Error::Config`] for a value other than `1`, `2` or `both`.
    pub fn versions(&self) -> Result<AcceptedVersions> {
        match self.raw(Setting::AcceptedVersions).map(|v| v.value.to_ascii_lowercase()).as_deref() {
            None | Some("2" | "2.0" | "v2") => Ok(AcceptedVersions::V2),
            Some("1" | "1.0" | "v1") => Ok(AcceptedVersions::V1),
            Some("both" | "1,2" | "any") => Ok(AcceptedVersions::Both),
            Some(_) => Err(self.bad(Setting::AcceptedVersions, "expected `1`, `2` or `both`")),
        }
    }

    /// The validator this configuration describes: the same rules the app's
    /// entra-jwks validator applies, with the given clock.
    ///
    /// # Errors
    /// [`Error::Config`] for a missing or invalid setting. A validator that
    /// refuses to build (a multi-tenant authority with no tenant list) is an
    /// `Err` of the inner result, to be explained like any refusal.
    pub fn validator(
        &self,
        clock: Arc<dyn Clock>,
    ) -> Result<std::result::Result<Validator, entra_jwks::Error>> {
        let mut b = Validator::builder(self.authority()?, self.client_id()?)
            .audiences(self.list(Setting::Audiences))
            .versions(self.versions()?)
            .clock(clock)
            .token_cache_capacity(0);
        if let Some(policy) = self.tenant_policy()? {
            b = b.tenants(policy);
        }
        let scopes = self.list(Setting::RequiredScopes);
        if !scopes.is_empty() {
            b = b.required_scopes(Match::any_of(scopes));
        }
        let roles = self.list(Setting::RequiredRoles);
        if !roles.is_empty() {
            b = b.required_roles(Match::any_of(roles));
        }
        Ok(b.build())
    }

    /// The credential, as the app would use it: the secret, else the certificate,
    /// else the federated token file (the Azure SDKs' order). `None` when none is set.
    ///
    /// # Errors
    /// [`Error::Read`] for an unreadable certificate file, [`Error::Config`] for an
    /// unusable certificate.
    pub fn credential(&self) -> Result<Option<ClientCredential>> {
        if let Some(s) = &self.secret {
            return Ok(Some(ClientCredential::secret(s.value.clone())));
        }
        if let Some(path) = self.path(Setting::ClientCertificatePath) {
            let pem = std::fs::read_to_string(&path).map_err(|source| Error::Read {
                what: "certificate file",
                path: path.clone(),
                source,
            })?;
            let cred = CertificateCredential::from_combined_pem(&pem)
                .map_err(|e| self.bad(Setting::ClientCertificatePath, e.to_string()))?;
            return Ok(Some(ClientCredential::assertion(cred)));
        }
        Ok(self
            .path(Setting::FederatedTokenFile)
            .map(|p| ClientCredential::assertion(FileAssertion::new(p))))
    }

    /// A path setting.
    pub fn path(&self, setting: Setting) -> Option<PathBuf> {
        self.raw(setting).map(|v| PathBuf::from(&v.value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TID: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    const CID: &str = "6e74172b-be56-4843-9ff4-e66a39bb12e3";

    fn env(vars: &'static [(&'static str, &'static str)]) -> Config {
        Config::from_lookup(move |name| {
            vars.iter().find(|(k, _)| *k == name).map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn reads_aliases_first_one_wins() {
        let c = env(&[
            ("SSO_ENTRA_TENANT_ID", TID),
            ("AZURE_TENANT_ID", "ignored"),
            ("AZURE_CLIENT_ID", CID),
            ("SSO_ENTRA_CLIENT_SECRET", "s3cret"),
            ("ENTRA_ALLOWED_TENANTS", "*"),
        ]);
        assert!(!c.is_empty());
        assert_eq!(c.raw(Setting::TenantId).unwrap().from, "SSO_ENTRA_TENANT_ID");
        assert_eq!(c.client_id().unwrap().as_str(), CID);
        assert_eq!(c.authority().unwrap().tenant().as_segment(), TID);
        assert_eq!(c.client_secret().unwrap().from, "SSO_ENTRA_CLIENT_SECRET");
        assert_eq!(c.tenant_policy().unwrap(), Some(TenantPolicy::Any));
        assert!(!format!("{c:?}").contains("s3cret"));
        assert!(c.validator(Arc::new(entra_core::SystemClock)).unwrap().is_ok());
    }

    #[test]
    fn bad_values_name_their_source() {
        let c = env(&[("ENTRA_TENANT_ID", "organizations"), ("ENTRA_CLIENT_ID", "api://x")]);
        let e = c.client_id().unwrap_err().to_string();
        assert!(e.starts_with("ENTRA_CLIENT_ID: this is an App ID URI"), "{e}");
        // A multi-tenant authority without a tenant list: the validator refuses.
        let c = env(&[("ENTRA_TENANT_ID", "organizations"), ("ENTRA_CLIENT_ID", CID)]);
        assert!(matches!(
            c.validator(Arc::new(entra_core::SystemClock)).unwrap(),
            Err(entra_jwks::Error::TenantPolicyRequired { .. })
        ));
        let c = env(&[("ENTRA_ACCEPTED_VERSIONS", "3"), ("ENTRA_ALLOWED_TENANTS", "x, y")]);
        assert!(c.versions().is_err() && c.tenant_policy().is_err());
        assert!(c.is_empty());
        assert!(c.authority().unwrap_err().to_string().contains("ENTRA_TENANT_ID"));
    }

    #[test]
    fn lists_accept_json_and_separators() {
        let c =
            env(&[("ENTRA_AUDIENCES", r#"["api://a", "b"]"#), ("ENTRA_REQUIRED_SCOPES", "x, y z")]);
        assert_eq!(c.list(Setting::Audiences), ["api://a", "b"]);
        assert_eq!(c.list(Setting::RequiredScopes), ["x", "y", "z"]);
        assert_eq!(Setting::AllowedTenants.env_name(), "ENTRA_ALLOWED_TENANTS");
        assert!(Setting::AllowedTenants.display().contains("allowed_tenants"));
    }

    #[test]
    fn reads_a_json_file() {
        let dir = std::env::temp_dir().join(format!("entra-doctor-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("app.json");
        std::fs::write(
            &path,
            format!(
                r#"{{"tenant_id":"{TID}","client_id":"{CID}","client_secret":"v","audiences":["api://x"],"accepted_versions":"both"}}"#
            ),
        )
        .unwrap();
        let c = Config::from_file(&path).unwrap();
        assert_eq!(c.versions().unwrap(), AcceptedVersions::Both);
        assert_eq!(c.list(Setting::Audiences), ["api://x"]);
        assert!(c.raw(Setting::ClientId).unwrap().from.starts_with("client_id in "));
        std::fs::write(&path, r#"{"client_idd":"x"}"#).unwrap();
        assert!(matches!(Config::from_file(&path), Err(Error::ConfigFormat { .. })));
        assert!(matches!(Config::from_file(&dir.join("none.json")), Err(Error::Read { .. })));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
