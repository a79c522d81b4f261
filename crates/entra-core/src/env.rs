//! The one table of environment variable names, and the one way to read them.
//!
//! Every variable any entra-* crate reads is a constant here ([`ALL`] lists them),
//! with its aliases, what it sets, which crates read it and when it is required.
//! `docs/configuration.md` in the repository shows the same table (a test keeps
//! the two equal).
//!
//! # Precedence
//!
//! Each setting has one canonical `ENTRA_*` name. Its aliases are the names that
//! gateways use (`SSO_*`, from IBM's MCP Gateway) and then the names of the Azure
//! SDKs (`AZURE_*`): **`ENTRA_*` wins over `SSO_*`, which wins over `AZURE_*`**.
//! The first name holding a non-blank value is used and the others are not read;
//! a blank value counts as unset, and values are trimmed.
//!
//! Two settings decide between other settings, once, for every crate:
//!
//! - **Authority.** [`AUTHORITY`] names the cloud and the tenant in one URL.
//!   When it is set, [`TENANT_ID`] and [`CLOUD`] are not used. Otherwise the
//!   authority is [`TENANT_ID`] (then required) in [`CLOUD`] (the public cloud by
//!   default).
//! - **Credential.** The first that is set of [`CLIENT_SECRET`],
//!   [`CLIENT_CERTIFICATE_PATH`] and [`FEDERATED_TOKEN_FILE`] is the app's
//!   credential, in that order (as the Azure SDKs' environment credential does).
//!
//! The serde form of [`AppIdentity`](crate::AppIdentity) follows the same two
//! rules; its keys are the canonical names without `ENTRA_`, in lower case
//! ([`EnvVar::key`]).
//!
//! # Reading
//!
//! Readers take a lookup function (`Fn(&str) -> Option<String>`), so tests pass
//! a map instead of changing the process environment; [`process_env`] is the
//! lookup of the real environment. [`Vars`] applies the precedence rule and
//! reports a missing value ([`Error::MissingEnv`]) or a malformed one
//! ([`Error::InvalidEnv`]) under the variable's name, never with a secret's value.
//!
//! ```
//! use entra_core::env::{self, Vars};
//! let lookup = |name: &str| match name {
//!     "SSO_ENTRA_TENANT_ID" => Some("contoso.com".to_owned()),
//!     "AZURE_TENANT_ID" => Some("fabrikam.com".to_owned()),
//!     _ => None,
//! };
//! let vars = Vars::new(&lookup);
//! // The gateway name wins over the Azure SDK name.
//! assert_eq!(vars.get(&env::TENANT_ID), Some(("SSO_ENTRA_TENANT_ID", "contoso.com".to_owned())));
//! let err = vars.require(&env::CLIENT_ID).unwrap_err();
//! assert_eq!(err.to_string(), "missing configuration: set ENTRA_CLIENT_ID (or SSO_ENTRA_CLIENT_ID, AZURE_CLIENT_ID)");
//! ```

use std::fmt;

use crate::{Error, Secret, shorten_untrusted};

/// One environment variable: its canonical name, its aliases in precedence order,
/// what it sets, which crates read it and when it is required.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub struct EnvVar {
    /// The canonical name (`ENTRA_*`).
    pub name: &'static str,
    /// Other names for the same setting, in precedence order (`SSO_*`, then `AZURE_*`).
    pub aliases: &'static [&'static str],
    /// What the value sets and how it is written (Markdown).
    pub sets: &'static str,
    /// The crates that read it.
    pub read_by: &'static [&'static str],
    /// When it is required (Markdown); empty when it is optional.
    pub required: &'static str,
    /// Whether the value is a secret: it is held in a [`Secret`] and never appears
    /// in an error.
    pub secret: bool,
}

impl EnvVar {
    /// The canonical name, then the aliases: the order in which they are read.
    pub fn names(&self) -> impl Iterator<Item = &'static str> + use<> {
        std::iter::once(self.name).chain(self.aliases.iter().copied())
    }

    /// The key of this setting in serde configuration: the canonical name without
    /// `ENTRA_`, in lower case (`ENTRA_CLIENT_ID` is `client_id`).
    pub fn key(&self) -> String {
        self.name.strip_prefix("ENTRA_").unwrap_or(self.name).to_ascii_lowercase()
    }

    /// The variable one of whose names is `name`.
    pub fn find(name: &str) -> Option<&'static Self> {
        ALL.iter().find(|v| v.names().any(|n| n == name))
    }
}

impl fmt::Display for EnvVar {
    /// `NAME (or ALIAS, ALIAS)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)?;
        if !self.aliases.is_empty() {
            write!(f, " (or {})", self.aliases.join(", "))?;
        }
        Ok(())
    }
}

const IDENTITY: &[&str] = &["entra-jwks", "entra-oidc", "entra-obo"];
const CREDENTIAL: &[&str] = &["entra-oidc", "entra-obo", "entra-mcp"];
const VALIDATION: &[&str] = &["entra-jwks", "entra-oidc"];
const JWKS: &[&str] = &["entra-jwks"];
const OIDC: &[&str] = &["entra-oidc"];
const TEAMS: &[&str] = &["entra-teams"];
const DOCTOR: &[&str] = &["entra-doctor"];
const REDIS: &[&str] = &["entra-redis"];
const MOCK: &[&str] = &["entra-testkit"];

const fn var(
    name: &'static str,
    aliases: &'static [&'static str],
    sets: &'static str,
    read_by: &'static [&'static str],
    required: &'static str,
) -> EnvVar {
    EnvVar { name, aliases, sets, read_by, required, secret: false }
}

const fn secret(mut v: EnvVar) -> EnvVar {
    v.secret = true;
    v
}

// The app registration: the shared identity (`AppIdentity`).

/// The tenant.
pub const TENANT_ID: EnvVar = var(
    "ENTRA_TENANT_ID",
    &["SSO_ENTRA_TENANT_ID", "AZURE_TENANT_ID"],
    "The tenant: a tenant id (GUID), a verified domain, or `organizations` / `common` / `consumers` (multi-tenant).",
    IDENTITY,
    "unless `ENTRA_AUTHORITY` is set",
);
/// The authority URL (cloud and tenant); wins over [`TENANT_ID`] and [`CLOUD`].
pub const AUTHORITY: EnvVar = var(
    "ENTRA_AUTHORITY",
    &["SSO_ENTRA_AUTHORITY"],
    "The authority URL `https://<login host>/<tenant>`: cloud and tenant in one value. When set, `ENTRA_TENANT_ID` and `ENTRA_CLOUD` are not used.",
    IDENTITY,
    "instead of `ENTRA_TENANT_ID`",
);
/// The cloud.
pub const CLOUD: EnvVar = var(
    "ENTRA_CLOUD",
    &["AZURE_AUTHORITY_HOST"],
    "The cloud: `public`, `usgovernment`, `china`, or a login host URL (`https://login.microsoftonline.us`). Defaults to `public`.",
    IDENTITY,
    "",
);
/// This app's application (client) id.
pub const CLIENT_ID: EnvVar = var(
    "ENTRA_CLIENT_ID",
    &["SSO_ENTRA_CLIENT_ID", "AZURE_CLIENT_ID"],
    "The application (client) id of this app's registration: the audience of the tokens it accepts and the client of its sign-in and On-Behalf-Of requests.",
    IDENTITY,
    "always",
);
/// Audiences accepted besides the client id.
pub const AUDIENCES: EnvVar = var(
    "ENTRA_AUDIENCES",
    &[],
    "Audiences accepted besides the client id, such as the App ID URI `api://<client id>` that v1 tokens carry (comma-separated or a JSON list).",
    JWKS,
    "",
);
/// The tenant allow-list of a multi-tenant app.
pub const ALLOWED_TENANTS: EnvVar = var(
    "ENTRA_ALLOWED_TENANTS",
    &[],
    "The tenants whose users and tokens are accepted: tenant ids (comma-separated or a JSON list), or `*` for every tenant. Defaults to the tenant of a single-tenant authority.",
    VALIDATION,
    "with `organizations` or `common`; for entra-jwks also with a domain tenant",
);
/// The client secret.
pub const CLIENT_SECRET: EnvVar = secret(var(
    "ENTRA_CLIENT_SECRET",
    &["SSO_ENTRA_CLIENT_SECRET", "AZURE_CLIENT_SECRET"],
    "The client secret's value (not its id). The first credential: wins over a certificate and a federated token file.",
    CREDENTIAL,
    "for On-Behalf-Of, unless another credential is set",
));
/// How the client secret is sent.
pub const CLIENT_AUTH: EnvVar = var(
    "ENTRA_CLIENT_AUTH",
    &[],
    "How the client secret is sent: `client_secret_post` (in the form body) or `client_secret_basic` (HTTP Basic). Defaults to `client_secret_post`.",
    CREDENTIAL,
    "",
);
/// The certificate file.
pub const CLIENT_CERTIFICATE_PATH: EnvVar = var(
    "ENTRA_CLIENT_CERTIFICATE_PATH",
    &["AZURE_CLIENT_CERTIFICATE_PATH"],
    "A PEM file with the app's certificate (chain) and, unless `ENTRA_CLIENT_PRIVATE_KEY_PATH` is set, its RSA private key. The second credential.",
    CREDENTIAL,
    "",
);
/// The password of an encrypted private key.
pub const CLIENT_CERTIFICATE_PASSWORD: EnvVar = secret(var(
    "ENTRA_CLIENT_CERTIFICATE_PASSWORD",
    &["AZURE_CLIENT_CERTIFICATE_PASSWORD"],
    "The password of an encrypted private key (`ENCRYPTED PRIVATE KEY`, PKCS#8 with PBES2).",
    CREDENTIAL,
    "when the private key is encrypted",
));
/// The private key file, when the certificate file does not hold it.
pub const CLIENT_PRIVATE_KEY_PATH: EnvVar = var(
    "ENTRA_CLIENT_PRIVATE_KEY_PATH",
    &[],
    "A PEM file with the certificate's private key, when `ENTRA_CLIENT_CERTIFICATE_PATH` holds only the certificate (as `tls.crt` and `tls.key` of a Kubernetes TLS secret).",
    CREDENTIAL,
    "",
);
/// The federated token file.
pub const FEDERATED_TOKEN_FILE: EnvVar = var(
    "ENTRA_FEDERATED_TOKEN_FILE",
    &["AZURE_FEDERATED_TOKEN_FILE"],
    "A file holding a federated token used as the client assertion (Azure Workload Identity in Kubernetes sets it). Read again when it changes. The third credential.",
    CREDENTIAL,
    "",
);

// Sign-in (entra-oidc).

/// The redirect URI of the web sign-in.
pub const REDIRECT_URI: EnvVar = var(
    "ENTRA_REDIRECT_URI",
    &["SSO_ENTRA_REDIRECT_URI"],
    "The redirect URI registered on the app (`https://...`, or `http://` on a loopback host).",
    OIDC,
    "for web sign-in",
);
/// Where Entra sends the browser after sign-out.
pub const POST_LOGOUT_REDIRECT_URI: EnvVar = var(
    "ENTRA_POST_LOGOUT_REDIRECT_URI",
    &["SSO_ENTRA_POST_LOGOUT_REDIRECT_URI"],
    "Where Entra sends the browser after sign-out (registered on the app).",
    OIDC,
    "",
);
/// The sign-in scopes.
pub const SCOPES: EnvVar = var(
    "ENTRA_SCOPES",
    &["SSO_ENTRA_SCOPES"],
    "The sign-in scopes, space- or comma-separated: OpenID Connect scopes, `offline_access` and at most one API scope.",
    OIDC,
    "",
);
/// One API scope requested at sign-in.
pub const API_SCOPE: EnvVar = var(
    "ENTRA_API_SCOPE",
    &[],
    "One API scope requested at sign-in (`api://<client id>/access_as_user`), so the access token is for that API.",
    OIDC,
    "",
);
/// Whether a refresh token is requested.
pub const OFFLINE_ACCESS: EnvVar = var(
    "ENTRA_OFFLINE_ACCESS",
    &[],
    "Ask for a refresh token (`true` / `false`). Defaults to `false`.",
    OIDC,
    "",
);
/// The email domains allowed to sign in.
pub const ALLOWED_DOMAINS: EnvVar = var(
    "ENTRA_ALLOWED_DOMAINS",
    &["SSO_TRUSTED_DOMAINS"],
    "Email domains allowed to sign in (comma-separated or a JSON list). Defaults to every domain of the allowed tenants.",
    OIDC,
    "",
);
/// How the code comes back.
pub const RESPONSE_MODE: EnvVar = var(
    "ENTRA_RESPONSE_MODE",
    &[],
    "How the code comes back: `query` or `form_post`. Defaults to `query`.",
    OIDC,
    "",
);
/// The default `prompt`.
pub const PROMPT: EnvVar = var(
    "ENTRA_PROMPT",
    &[],
    "The `prompt` of every sign-in: `login`, `none`, `consent` or `select_account`.",
    OIDC,
    "",
);
/// The default `domain_hint`.
pub const DOMAIN_HINT: EnvVar =
    var("ENTRA_DOMAIN_HINT", &[], "The `domain_hint` of every sign-in.", OIDC, "");
/// How long a sign-in may take.
pub const LOGIN_TTL_SECS: EnvVar = var(
    "ENTRA_LOGIN_TTL_SECS",
    &[],
    "How long a started sign-in may take, in seconds (30 to 3600). Defaults to `600`.",
    OIDC,
    "",
);

// Teams and roles (entra-teams).

/// The whole teams configuration as JSON.
pub const TEAMS_CONFIG: EnvVar = var(
    "ENTRA_TEAMS_CONFIG",
    &[],
    "The whole teams configuration as JSON: the base the variables below add to.",
    TEAMS,
    "",
);
/// A JSON file holding the whole teams configuration.
pub const TEAMS_CONFIG_FILE: EnvVar = var(
    "ENTRA_TEAMS_CONFIG_FILE",
    &[],
    "The path of a JSON file holding the whole teams configuration (instead of `ENTRA_TEAMS_CONFIG`).",
    TEAMS,
    "",
);
/// The tenants whose tokens are mapped to teams.
pub const TEAMS_TENANTS: EnvVar = var(
    "ENTRA_TEAMS_TENANTS",
    &[],
    "The tenant ids whose tokens are mapped to teams (comma-separated or a JSON list).",
    TEAMS,
    "for a multi-tenant app with rules on app roles, directory roles or group names",
);
/// The claim that feeds the mapping.
pub const GROUPS_CLAIM: EnvVar = var(
    "ENTRA_GROUPS_CLAIM",
    &["SSO_ENTRA_GROUPS_CLAIM"],
    "The claim that feeds the mapping: `groups`, `roles` or `wids`. Defaults to `groups`.",
    TEAMS,
    "",
);
/// Groups (or roles) that make a user an admin.
pub const ADMIN_GROUPS: EnvVar = var(
    "ENTRA_ADMIN_GROUPS",
    &["SSO_ENTRA_ADMIN_GROUPS"],
    "Groups (or app roles, or directory roles, after `ENTRA_GROUPS_CLAIM`) that make a user an admin (comma-separated or a JSON list).",
    TEAMS,
    "",
);
/// Group (or role) to role mappings.
pub const ROLE_MAPPINGS: EnvVar = var(
    "ENTRA_ROLE_MAPPINGS",
    &["SSO_ENTRA_ROLE_MAPPINGS"],
    "A JSON object `{\"<group or role>\": \"<role>\"}`: each entry is a role rule.",
    TEAMS,
    "",
);
/// The default role.
pub const DEFAULT_ROLE: EnvVar = var(
    "ENTRA_DEFAULT_ROLE",
    &["SSO_ENTRA_DEFAULT_ROLE"],
    "The role of a user no rule gives one.",
    TEAMS,
    "",
);
/// Whether roles are synchronized at each sign-in.
pub const SYNC_ROLES_ON_LOGIN: EnvVar = var(
    "ENTRA_SYNC_ROLES_ON_LOGIN",
    &["SSO_ENTRA_SYNC_ROLES_ON_LOGIN"],
    "Synchronize teams and roles at each sign-in (`true` / `false`). Defaults to `true`.",
    TEAMS,
    "",
);
/// Whether group overage is resolved through Microsoft Graph.
pub const GRAPH_API_ENABLED: EnvVar = var(
    "ENTRA_GRAPH_API_ENABLED",
    &["SSO_ENTRA_GRAPH_API_ENABLED"],
    "Resolve group overage (more than 200 groups) through Microsoft Graph (`true` / `false`). Defaults to `true`.",
    TEAMS,
    "",
);
/// The Microsoft Graph request timeout.
pub const GRAPH_API_TIMEOUT: EnvVar = var(
    "ENTRA_GRAPH_API_TIMEOUT",
    &["SSO_ENTRA_GRAPH_API_TIMEOUT"],
    "Timeout of each Microsoft Graph request, in seconds (at least 1). Defaults to `10`.",
    TEAMS,
    "",
);
/// The most groups accepted for one user.
pub const GRAPH_API_MAX_GROUPS: EnvVar = var(
    "ENTRA_GRAPH_API_MAX_GROUPS",
    &["SSO_ENTRA_GRAPH_API_MAX_GROUPS"],
    "The most groups accepted for one user from Microsoft Graph; `0` for no cap of our own. Defaults to `5000`.",
    TEAMS,
    "",
);

// Validation rules read by entra-doctor when it runs the validator.

/// Accepted access token versions.
pub const ACCEPTED_VERSIONS: EnvVar = var(
    "ENTRA_ACCEPTED_VERSIONS",
    &[],
    "Access token versions the API accepts: `1`, `2` or `both`. Defaults to both.",
    DOCTOR,
    "",
);
/// Scopes a delegated token must carry.
pub const REQUIRED_SCOPES: EnvVar = var(
    "ENTRA_REQUIRED_SCOPES",
    &[],
    "Delegated scopes of which a token must carry one (comma-separated). Defaults to none.",
    DOCTOR,
    "",
);
/// App roles a token must carry.
pub const REQUIRED_ROLES: EnvVar = var(
    "ENTRA_REQUIRED_ROLES",
    &[],
    "App roles of which a token must carry one (comma-separated). Defaults to none.",
    DOCTOR,
    "",
);

// Several replicas (entra-redis).

/// The Redis URL.
pub const REDIS_URL: EnvVar = var(
    "ENTRA_REDIS_URL",
    &[],
    "The Redis server shared by the replicas (`redis://host:6379/0`, `rediss://` for TLS). Unset: in-memory stores only.",
    REDIS,
    "",
);
/// The Redis encryption keyring.
pub const REDIS_KEYS: EnvVar = secret(var(
    "ENTRA_REDIS_KEYS",
    &[],
    "The keys that encrypt values in Redis: `id:base64key[,id:base64key...]`, current key first (32-byte keys).",
    REDIS,
    "when ENTRA_REDIS_URL is set",
));
/// The Redis key prefix.
pub const REDIS_PREFIX: EnvVar = var(
    "ENTRA_REDIS_PREFIX",
    &[],
    "The prefix of every Redis key this app writes. Defaults to `entra:`.",
    REDIS,
    "",
);
/// The token cache's Redis time limit.
pub const REDIS_TIMEOUT_MS: EnvVar = var(
    "ENTRA_REDIS_TIMEOUT_MS",
    &[],
    "The token cache's time limit for one Redis call, in milliseconds; past it the cache answers from memory. Defaults to 50.",
    REDIS,
    "",
);

// The mocked Entra of entra-testkit (the `mock-entra` binary): its own settings,
// not an app's.

/// The mock's port.
pub const MOCK_PORT: EnvVar = var(
    "MOCK_ENTRA_PORT",
    &[],
    "`mock-entra serve`: the port to listen on (`0`: any free port). Defaults to `8400`.",
    MOCK,
    "",
);
/// Where the mock runs, for its control commands.
pub const MOCK_URL: EnvVar = var(
    "MOCK_ENTRA_URL",
    &[],
    "`mock-entra` control commands: the running mock's URL. Defaults to `http://127.0.0.1:8400`.",
    MOCK,
    "",
);
/// The mock's CA, for its control commands.
pub const MOCK_CA: EnvVar = var(
    "MOCK_ENTRA_CA",
    &[],
    "`mock-entra` control commands: the CA file (PEM) of a mock started with `--tls`.",
    MOCK,
    "when the mock serves HTTPS",
);

/// Every variable, in the order of `docs/configuration.md`.
pub const ALL: &[EnvVar] = &[
    TENANT_ID,
    AUTHORITY,
    CLOUD,
    CLIENT_ID,
    AUDIENCES,
    ALLOWED_TENANTS,
    CLIENT_SECRET,
    CLIENT_AUTH,
    CLIENT_CERTIFICATE_PATH,
    CLIENT_CERTIFICATE_PASSWORD,
    CLIENT_PRIVATE_KEY_PATH,
    FEDERATED_TOKEN_FILE,
    REDIRECT_URI,
    POST_LOGOUT_REDIRECT_URI,
    SCOPES,
    API_SCOPE,
    OFFLINE_ACCESS,
    ALLOWED_DOMAINS,
    RESPONSE_MODE,
    PROMPT,
    DOMAIN_HINT,
    LOGIN_TTL_SECS,
    TEAMS_CONFIG,
    TEAMS_CONFIG_FILE,
    TEAMS_TENANTS,
    GROUPS_CLAIM,
    ADMIN_GROUPS,
    ROLE_MAPPINGS,
    DEFAULT_ROLE,
    SYNC_ROLES_ON_LOGIN,
    GRAPH_API_ENABLED,
    GRAPH_API_TIMEOUT,
    GRAPH_API_MAX_GROUPS,
    ACCEPTED_VERSIONS,
    REQUIRED_SCOPES,
    REQUIRED_ROLES,
    REDIS_URL,
    REDIS_KEYS,
    REDIS_PREFIX,
    REDIS_TIMEOUT_MS,
    MOCK_PORT,
    MOCK_URL,
    MOCK_CA,
];

/// The variables that name the tenant: the tenant, or an authority.
pub(crate) const TENANT_OR_AUTHORITY: &[EnvVar] = &[TENANT_ID, AUTHORITY];
/// The variables that name a credential, in precedence order.
pub const CREDENTIALS: &[EnvVar] = &[CLIENT_SECRET, CLIENT_CERTIFICATE_PATH, FEDERATED_TOKEN_FILE];

/// `A (or B), C or D`: the variables of an [`Error::MissingEnv`].
pub(crate) fn one_of(vars: &[EnvVar]) -> String {
    let names: Vec<String> = vars.iter().map(ToString::to_string).collect();
    match names.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("one of {} or {last}", rest.join(", ")),
    }
}

/// The lookup of the process environment: the value of `name`, if set. A value
/// that is not valid Unicode is read lossily (and then fails to parse, naming
/// the variable).
pub fn process_env(name: &str) -> Option<String> {
    std::env::var_os(name).map(|v| v.to_string_lossy().into_owned())
}

/// A boolean value: `true`/`false`, `1`/`0`, `yes`/`no`, `on`/`off` (ASCII case
/// ignored).
pub fn parse_flag(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// A list value: a JSON list of strings (`["a", "b"]`) or a comma-separated list
/// (`a, b`). Items are trimmed and blank items dropped.
///
/// # Errors
/// The JSON error when the value starts with `[` and is not a list of strings.
pub fn parse_list(value: &str) -> Result<Vec<String>, serde_json::Error> {
    let value = value.trim();
    let items: Vec<String> = if value.starts_with('[') {
        serde_json::from_str(value)?
    } else {
        value.split(',').map(str::to_owned).collect()
    };
    Ok(items.into_iter().map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect())
}

/// Reads variables of the table through a lookup function, applying the
/// precedence rule (see the [module docs](self)).
#[derive(Clone, Copy)]
pub struct Vars<'a> {
    lookup: &'a dyn Fn(&str) -> Option<String>,
}

impl fmt::Debug for Vars<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Vars").finish_non_exhaustive()
    }
}

impl<'a> Vars<'a> {
    /// Reads through `lookup` (a name to its value); [`process_env`] reads the
    /// process environment.
    pub fn new(lookup: &'a dyn Fn(&str) -> Option<String>) -> Self {
        Self { lookup }
    }

    /// The first of `var`'s names holding a non-blank value: that name and the
    /// trimmed value. Names after it are not read.
    pub fn get(&self, var: &EnvVar) -> Option<(&'static str, String)> {
        var.names().find_map(|name| {
            let value = (self.lookup)(name)?;
            let value = value.trim();
            (!value.is_empty()).then(|| (name, value.to_owned()))
        })
    }

    /// The value of `var`, if set.
    pub fn text(&self, var: &EnvVar) -> Option<String> {
        self.get(var).map(|(_, v)| v)
    }

    /// The value of a secret `var`, if set.
    pub fn secret(&self, var: &EnvVar) -> Option<Secret> {
        self.get(var).map(|(_, v)| Secret::new(v))
    }

    /// The value of `var`.
    ///
    /// # Errors
    /// [`Error::MissingEnv`] naming the variable and its aliases when none is set.
    pub fn require(&self, var: &'static EnvVar) -> Result<String, Error> {
        self.text(var).ok_or(Error::MissingEnv { vars: std::slice::from_ref(var) })
    }

    /// The value of `var` parsed by `parse`, if set.
    ///
    /// # Errors
    /// [`Error::InvalidEnv`] naming the variable that was read, with `parse`'s
    /// error as the reason (for a secret variable, a fixed text instead).
    pub fn parse<T, E: fmt::Display>(
        &self,
        var: &EnvVar,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Result<Option<T>, Error> {
        let Some((name, value)) = self.get(var) else { return Ok(None) };
        parse(&value).map(Some).map_err(|e| Error::InvalidEnv {
            name,
            reason: if var.secret { "the value cannot be used".to_owned() } else { e.to_string() },
        })
    }

    /// A boolean `var` (see [`parse_flag`]), if set.
    ///
    /// # Errors
    /// [`Error::InvalidEnv`] for anything but a boolean.
    pub fn flag(&self, var: &EnvVar) -> Result<Option<bool>, Error> {
        self.parse(var, |v| {
            parse_flag(v).ok_or_else(|| {
                format!(
                    "{:?} is not a boolean (true/false, 1/0, yes/no, on/off)",
                    shorten_untrusted(v)
                )
            })
        })
    }

    /// A whole number `var`, if set.
    ///
    /// # Errors
    /// [`Error::InvalidEnv`] for anything but a whole number.
    pub fn number(&self, var: &EnvVar) -> Result<Option<u64>, Error> {
        self.parse(var, |v| {
            v.parse::<u64>()
                .map_err(|_| format!("{:?} is not a whole number", shorten_untrusted(v)))
        })
    }

    /// A list `var` (see [`parse_list`]), if set.
    ///
    /// # Errors
    /// [`Error::InvalidEnv`] for a value starting with `[` that is not a JSON list
    /// of strings.
    pub fn list(&self, var: &EnvVar) -> Result<Option<Vec<String>>, Error> {
        self.parse(var, |v| parse_list(v).map_err(|e| format!("not a JSON list of strings ({e})")))
    }
}

#[cfg(test)]
mod tests;
