//! The identity of one app registration, shared by token validation (entra-jwks),
//! sign-in (entra-oidc) and On-Behalf-Of (entra-obo).

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::de::IgnoredAny;
use serde::{Deserialize, Deserializer};

use crate::env::{self, EnvVar, Vars, parse_list};
use crate::{
    Authority, CertificateCredential, ClientCredential, ClientId, Cloud, Error, FileAssertion,
    Secret, SecretPlacement, Tenant, TenantId,
};

/// Which tenants may present tokens to the app, or sign in to it.
///
/// In configuration: `"*"` for [`TenantPolicy::Any`], or tenant ids as a list or
/// a comma-separated string for [`TenantPolicy::Only`].
///
/// ```
/// use entra_core::TenantPolicy;
/// let only: TenantPolicy = serde_json::from_str(r#""72f988bf-86f1-41af-91ab-2d7cd011db47""#)?;
/// assert!(matches!(only, TenantPolicy::Only(ids) if ids.len() == 1));
/// assert_eq!(serde_json::from_str::<TenantPolicy>(r#""*""#)?, TenantPolicy::Any);
/// assert!(serde_json::from_str::<TenantPolicy>(r#"["*", "72f988bf-86f1-41af-91ab-2d7cd011db47"]"#).is_err());
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum TenantPolicy {
    /// Only these tenants (by id). The issuer is still checked with the
    /// `{tenantid}` rule; this list is applied on top of it.
    Only(Vec<TenantId>),
    /// Any tenant whose token passes the `{tenantid}` issuer rule. An explicit
    /// choice for multi-tenant SaaS apps: the issuer check itself is never skipped,
    /// but anyone with an Entra tenant can obtain such a token.
    Any,
}

impl TenantPolicy {
    /// `*` alone for any tenant, else tenant ids.
    fn from_items(items: Vec<String>) -> Result<Self, String> {
        if items.iter().any(|t| t == "*") {
            return if items.len() == 1 {
                Ok(Self::Any)
            } else {
                Err("`*` (any tenant) cannot be combined with tenant ids".to_owned())
            };
        }
        if items.is_empty() {
            return Err("lists no tenant".to_owned());
        }
        items
            .iter()
            .map(|t| TenantId::parse(t).map_err(|e| e.to_string()))
            .collect::<Result<_, _>>()
            .map(Self::Only)
    }

    fn parse(value: &str) -> Result<Self, String> {
        let items = parse_list(value).map_err(|e| format!("not a JSON list of strings ({e})"))?;
        Self::from_items(items)
    }
}

/// A list, or one string holding a JSON or comma-separated list.
fn string_or_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    match OneOrMany::deserialize(d)? {
        OneOrMany::Many(v) => Ok(v),
        OneOrMany::One(s) => parse_list(&s).map_err(serde::de::Error::custom),
    }
}

impl<'de> Deserialize<'de> for TenantPolicy {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Self::from_items(string_or_list(d)?).map_err(serde::de::Error::custom)
    }
}

fn parse_placement(value: &str) -> Result<SecretPlacement, String> {
    match value {
        "client_secret_post" => Ok(SecretPlacement::Body),
        "client_secret_basic" => Ok(SecretPlacement::Basic),
        other => Err(format!(
            "{:?} is not `client_secret_post` or `client_secret_basic`",
            crate::shorten_untrusted(other)
        )),
    }
}

fn deserialize_placement<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<SecretPlacement>, D::Error> {
    let s = String::deserialize(d)?;
    parse_placement(&s).map(Some).map_err(serde::de::Error::custom)
}

/// Where the app's credential comes from. [`CredentialConfig::load`] turns it
/// into the [`ClientCredential`] sent to the token endpoint.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum CredentialConfig {
    /// A client secret.
    Secret {
        /// The secret's value (not its id).
        secret: Secret,
        /// Form body or HTTP Basic.
        placement: SecretPlacement,
    },
    /// A certificate and its RSA private key, in PEM files.
    Certificate {
        /// The certificate (chain) file, which also holds the key unless
        /// `private_key_path` is set.
        path: PathBuf,
        /// A separate private key file.
        private_key_path: Option<PathBuf>,
        /// The password of an encrypted private key.
        password: Option<Secret>,
    },
    /// A federated token file (Azure Workload Identity), read again when it changes.
    FederatedTokenFile {
        /// The file.
        path: PathBuf,
    },
}

impl CredentialConfig {
    /// A client secret sent in the form body.
    pub fn secret(secret: impl Into<Secret>) -> Self {
        Self::Secret { secret: secret.into(), placement: SecretPlacement::Body }
    }

    /// A certificate file holding the certificate and its unencrypted private key.
    pub fn certificate(path: impl Into<PathBuf>) -> Self {
        Self::Certificate { path: path.into(), private_key_path: None, password: None }
    }

    /// A federated token file.
    pub fn federated_token_file(path: impl Into<PathBuf>) -> Self {
        Self::FederatedTokenFile { path: path.into() }
    }

    /// The credential for token requests. Certificate files are read now; a
    /// federated token file is read at each use (and when it changes).
    ///
    /// # Errors
    /// [`Error::Empty`] for an empty secret; [`Error::CredentialFile`] for an
    /// unreadable file; [`Error::InvalidCertificate`] or [`Error::InvalidPrivateKey`]
    /// for unusable contents or a wrong password.
    pub fn load(&self) -> Result<ClientCredential, Error> {
        match self {
            Self::Secret { secret, .. } if secret.is_empty() => {
                Err(Error::Empty { what: "client secret" })
            }
            Self::Secret { secret, placement } => {
                Ok(ClientCredential::Secret { secret: secret.clone(), placement: *placement })
            }
            Self::Certificate { path, private_key_path, password } => {
                let cert = read_pem(path, "certificate")?;
                let key = match private_key_path {
                    Some(p) => read_pem(p, "private key")?,
                    None => cert.clone(),
                };
                let (cert, key) = (cert.expose_secret(), key.expose_secret());
                let credential = match password {
                    Some(password) => {
                        CertificateCredential::from_pem_with_password(cert, key, password)?
                    }
                    None => CertificateCredential::from_pem(cert, key)?,
                };
                Ok(ClientCredential::assertion(credential))
            }
            Self::FederatedTokenFile { path } => {
                Ok(ClientCredential::assertion(FileAssertion::new(path)))
            }
        }
    }
}

/// Reads a PEM file; the text stays in a [`Secret`] (it may hold a private key).
fn read_pem(path: &Path, what: &'static str) -> Result<Secret, Error> {
    let bytes = std::fs::read(path).map_err(|source| Error::CredentialFile {
        what,
        path: path.into(),
        source,
    })?;
    let text = String::from_utf8(bytes).map_err(|_| Error::InvalidCertificate {
        reason: "not a PEM file (PKCS#12 `.pfx` files are not supported: convert one with `openssl pkcs12 -nodes`)",
    })?;
    Ok(Secret::new(text))
}

/// One app registration: where its tokens come from, its client id, its
/// credential, and whom it accepts tokens from.
///
/// The same values build the token validator (`entra_jwks::ValidatorBuilder::from_identity`),
/// the sign-in client (`entra_oidc::Config`) and the On-Behalf-Of client
/// (`entra_obo::OboConfig`): `client_id` is always *this* app's registration.
///
/// Read it from the environment with [`AppIdentity::from_env`] (names and
/// precedence in [`env`](crate::env)) or deserialize it. Its serde keys are the
/// canonical variable names without `ENTRA_`, in lower case, and the same two
/// rules apply: `authority` wins over `tenant_id` and `cloud`; the credential is
/// the first of `client_secret`, `client_certificate_path` and
/// `federated_token_file`. Unknown keys are refused.
///
/// ```
/// use entra_core::{AppIdentity, CredentialConfig};
/// let id: AppIdentity = serde_json::from_str(r#"{
///     "tenant_id": "72f988bf-86f1-41af-91ab-2d7cd011db47",
///     "client_id": "6e74172b-be56-4843-9ff4-e66a39bb12e3",
///     "client_secret": "from-the-vault",
///     "audiences": "api://6e74172b-be56-4843-9ff4-e66a39bb12e3"
/// }"#)?;
/// assert_eq!(id.authority.base_url(), "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47");
/// assert!(matches!(id.credential, Some(CredentialConfig::Secret { .. })));
/// assert!(!format!("{id:?}").contains("from-the-vault"));
///
/// // The same identity from the environment, under the gateway names.
/// let env = [
///     ("SSO_ENTRA_TENANT_ID", "72f988bf-86f1-41af-91ab-2d7cd011db47"),
///     ("SSO_ENTRA_CLIENT_ID", "6e74172b-be56-4843-9ff4-e66a39bb12e3"),
///     ("SSO_ENTRA_CLIENT_SECRET", "from-the-vault"),
///     ("ENTRA_AUDIENCES", "api://6e74172b-be56-4843-9ff4-e66a39bb12e3"),
/// ];
/// let lookup = |n: &str| env.iter().find(|(k, _)| *k == n).map(|(_, v)| v.to_string());
/// assert_eq!(AppIdentity::from_lookup(lookup)?, id);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Eq, Debug, Deserialize)]
#[serde(try_from = "RawIdentity")]
#[non_exhaustive]
pub struct AppIdentity {
    /// Where tokens are issued: cloud and tenant. Required (as `authority`, or
    /// `tenant_id` and `cloud`).
    pub authority: Authority,
    /// This app's application (client) id. Required.
    pub client_id: ClientId,
    /// How the app proves itself at the token endpoint. Defaults to `None`: a
    /// public client, or an API that only validates tokens.
    pub credential: Option<CredentialConfig>,
    /// Audiences accepted besides the client id (the App ID URI). Defaults to none.
    pub audiences: Vec<String>,
    /// Which tenants may present tokens or sign in. Defaults to `None`: the
    /// authority's own tenant, and an error for a multi-tenant or domain authority.
    pub allowed_tenants: Option<TenantPolicy>,
}

impl AppIdentity {
    /// The identity of `client_id` at `authority`, with no credential.
    pub fn new(authority: Authority, client_id: ClientId) -> Self {
        Self {
            authority,
            client_id,
            credential: None,
            audiences: Vec::new(),
            allowed_tenants: None,
        }
    }

    /// Reads the identity from the process environment.
    ///
    /// # Errors
    /// As [`AppIdentity::from_vars`].
    pub fn from_env() -> Result<Self, Error> {
        Self::from_lookup(env::process_env)
    }

    /// Reads the identity through `lookup` (a variable name to its value).
    ///
    /// # Errors
    /// As [`AppIdentity::from_vars`].
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        Self::from_vars(&Vars::new(&lookup))
    }

    /// Reads the identity from `vars`: [`env::CLIENT_ID`], [`env::AUTHORITY`] or
    /// [`env::TENANT_ID`] and [`env::CLOUD`], the credential variables,
    /// [`env::AUDIENCES`] and [`env::ALLOWED_TENANTS`].
    ///
    /// # Errors
    /// [`Error::MissingEnv`] without a client id, or without both a tenant and an
    /// authority; [`Error::InvalidEnv`] for a malformed value, or a setting that
    /// modifies a credential that is not configured (a certificate password
    /// without a certificate).
    pub fn from_vars(vars: &Vars<'_>) -> Result<Self, Error> {
        let authority = vars.parse(&env::AUTHORITY, Authority::parse)?;
        let (tenant_id, cloud) = match authority {
            Some(_) => (None, None),
            None => (
                vars.parse(&env::TENANT_ID, Tenant::parse)?,
                vars.parse(&env::CLOUD, Cloud::parse)?,
            ),
        };
        let path = |var: &EnvVar| vars.text(var).map(PathBuf::from);
        let raw = RawIdentity {
            authority,
            tenant_id,
            cloud,
            client_id: vars.parse(&env::CLIENT_ID, ClientId::parse)?,
            client_secret: vars.secret(&env::CLIENT_SECRET),
            client_auth: vars.parse(&env::CLIENT_AUTH, parse_placement)?,
            client_certificate_path: path(&env::CLIENT_CERTIFICATE_PATH),
            client_certificate_password: vars.secret(&env::CLIENT_CERTIFICATE_PASSWORD),
            client_private_key_path: path(&env::CLIENT_PRIVATE_KEY_PATH),
            federated_token_file: path(&env::FEDERATED_TOKEN_FILE),
            audiences: vars.list(&env::AUDIENCES)?.unwrap_or_default(),
            allowed_tenants: vars.parse(&env::ALLOWED_TENANTS, TenantPolicy::parse)?,
            unknown: BTreeMap::new(),
        };
        raw.resolve().map_err(|problem| match problem {
            Problem::Missing(vars) => Error::MissingEnv { vars },
            Problem::Unused { set, needs } => Error::InvalidEnv {
                name: vars.get(set).map_or(set.name, |(name, _)| name),
                reason: format!("only used together with {}", needs),
            },
        })
    }

    /// The credential for token requests, if one is configured (see
    /// [`CredentialConfig::load`]).
    ///
    /// # Errors
    /// As [`CredentialConfig::load`].
    pub fn client_credential(&self) -> Result<Option<ClientCredential>, Error> {
        self.credential.as_ref().map(CredentialConfig::load).transpose()
    }
}

/// What is wrong with a combination of settings; named as variables or as serde
/// keys by the caller.
enum Problem {
    /// One of these is required.
    Missing(&'static [EnvVar]),
    /// `set` modifies `needs`, which is not set.
    Unused { set: &'static EnvVar, needs: &'static EnvVar },
}

impl fmt::Display for Problem {
    /// The serde wording: keys, not variable names.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missing(vars) => {
                let keys: Vec<String> = vars.iter().map(|v| format!("`{}`", v.key())).collect();
                write!(f, "missing field {}", keys.join(" or "))
            }
            Self::Unused { set, needs } => {
                write!(f, "`{}` is only used together with `{}`", set.key(), needs.key())
            }
        }
    }
}

/// Every setting of an identity, as read; [`RawIdentity::resolve`] applies the
/// rules. The serde form, and what the environment fills in.
#[derive(Deserialize)]
struct RawIdentity {
    #[serde(default)]
    authority: Option<Authority>,
    #[serde(default)]
    tenant_id: Option<Tenant>,
    #[serde(default)]
    cloud: Option<Cloud>,
    #[serde(default)]
    client_id: Option<ClientId>,
    #[serde(default)]
    client_secret: Option<Secret>,
    #[serde(default, deserialize_with = "deserialize_placement")]
    client_auth: Option<SecretPlacement>,
    #[serde(default)]
    client_certificate_path: Option<PathBuf>,
    #[serde(default)]
    client_certificate_password: Option<Secret>,
    #[serde(default)]
    client_private_key_path: Option<PathBuf>,
    #[serde(default)]
    federated_token_file: Option<PathBuf>,
    #[serde(default, deserialize_with = "string_or_list")]
    audiences: Vec<String>,
    #[serde(default)]
    allowed_tenants: Option<TenantPolicy>,
    /// Keys no field took. When the identity is flattened into a larger
    /// configuration, these are the keys that struct did not take either.
    #[serde(flatten)]
    unknown: BTreeMap<String, IgnoredAny>,
}

impl RawIdentity {
    /// The two rules: an authority wins over tenant and cloud; the credential is
    /// the first of secret, certificate and federated token file.
    fn resolve(self) -> Result<AppIdentity, Problem> {
        let client_id =
            self.client_id.ok_or(Problem::Missing(std::slice::from_ref(&env::CLIENT_ID)))?;
        let authority = match (self.authority, self.tenant_id) {
            (Some(authority), _) => authority,
            (None, Some(tenant)) => Authority::new(self.cloud.unwrap_or_default(), tenant),
            (None, None) => return Err(Problem::Missing(env::TENANT_OR_AUTHORITY)),
        };
        if self.client_auth.is_some() && self.client_secret.is_none() {
            return Err(Problem::Unused { set: &env::CLIENT_AUTH, needs: &env::CLIENT_SECRET });
        }
        if self.client_certificate_path.is_none() {
            let needs = &env::CLIENT_CERTIFICATE_PATH;
            if self.client_certificate_password.is_some() {
                return Err(Problem::Unused { set: &env::CLIENT_CERTIFICATE_PASSWORD, needs });
            }
            if self.client_private_key_path.is_some() {
                return Err(Problem::Unused { set: &env::CLIENT_PRIVATE_KEY_PATH, needs });
            }
        }
        let credential = if let Some(secret) = self.client_secret {
            Some(CredentialConfig::Secret {
                secret,
                placement: self.client_auth.unwrap_or_default(),
            })
        } else if let Some(path) = self.client_certificate_path {
            Some(CredentialConfig::Certificate {
                path,
                private_key_path: self.client_private_key_path,
                password: self.client_certificate_password,
            })
        } else {
            self.federated_token_file.map(|path| CredentialConfig::FederatedTokenFile { path })
        };
        Ok(AppIdentity {
            authority,
            client_id,
            credential,
            audiences: self.audiences,
            allowed_tenants: self.allowed_tenants,
        })
    }
}

impl TryFrom<RawIdentity> for AppIdentity {
    type Error = String;

    fn try_from(raw: RawIdentity) -> Result<Self, String> {
        if let Some(key) = raw.unknown.keys().next() {
            return Err(format!("unknown field `{}`", crate::shorten_untrusted(key)));
        }
        raw.resolve().map_err(|p| p.to_string())
    }
}

#[cfg(test)]
mod tests;
