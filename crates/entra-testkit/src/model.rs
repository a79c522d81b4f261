//! Test users and app registrations.

use std::fmt;

use entra_core::{ClientId, Secret, TenantId, TokenVersion};

use crate::TestCertificate;

/// The placeholder tenant of a user or app not yet registered with a mock.
const UNSET_TENANT: &str = "00000000-0000-0000-0000-000000000000";

fn unset_tenant() -> TenantId {
    // A valid GUID: parsing cannot fail.
    TenantId::parse(UNSET_TENANT).unwrap_or_else(|_| unreachable_tenant())
}

#[cold]
fn unreachable_tenant() -> TenantId {
    // `UNSET_TENANT` is a GUID; keep a total function without panicking paths.
    TenantId::parse("00000000-0000-0000-0000-000000000001").unwrap_or_else(|_| unreachable_tenant())
}

pub(crate) fn new_guid() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// A user of the mocked directory.
///
/// Build one with [`TestUser::new`] and register it with
/// [`MockEntra::add_user`](crate::MockEntra::add_user), which returns the registered
/// user (with its tenant filled in).
///
/// ```
/// use entra_testkit::TestUser;
/// let u = TestUser::new("alice@contoso.com").name("Alice").groups(["g1"]).roles(["Admin"]);
/// assert_eq!(u.username, "alice@contoso.com");
/// assert_eq!(u.oid.len(), 36);
/// ```
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TestUser {
    /// Object id (random GUID): with `tid`, the user's stable identity.
    pub oid: String,
    /// Home tenant. The mock's default tenant unless set with [`TestUser::tenant`].
    pub tid: TenantId,
    /// Sign-in name (`preferred_username`, `upn`, `email`).
    pub username: String,
    /// Display name (`name`). Defaults to the part of the username before `@`.
    pub name: String,
    /// Group object ids (more than 200 produce an overage token).
    pub groups: Vec<String>,
    /// App roles assigned to the user (the `roles` claim of delegated tokens).
    pub roles: Vec<String>,
    /// Directory role template ids (`wids`).
    pub wids: Vec<String>,
    pub(crate) tenant_set: bool,
}

impl fmt::Debug for TestUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestUser")
            .field("oid", &self.oid)
            .field("tid", &self.tid)
            .field("username", &self.username)
            .field("groups", &self.groups.len())
            .finish_non_exhaustive()
    }
}

impl TestUser {
    /// A user with a random object id.
    pub fn new(username: impl Into<String>) -> Self {
        let username: String = username.into();
        let name = username.split('@').next().unwrap_or(&username).to_owned();
        Self {
            oid: new_guid(),
            tid: unset_tenant(),
            username,
            name,
            groups: Vec::new(),
            roles: Vec::new(),
            wids: Vec::new(),
            tenant_set: false,
        }
    }

    /// Sets the display name.
    #[must_use]
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Sets the object id. Defaults to a random GUID.
    #[must_use]
    pub fn oid(mut self, oid: impl Into<String>) -> Self {
        self.oid = oid.into();
        self
    }

    /// Sets the home tenant. Defaults to the mock's default tenant.
    #[must_use]
    pub fn tenant(mut self, tid: TenantId) -> Self {
        self.tid = tid;
        self.tenant_set = true;
        self
    }

    /// Adds groups (object ids).
    #[must_use]
    pub fn groups<I, S>(mut self, groups: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.groups.extend(groups.into_iter().map(Into::into));
        self
    }

    /// Adds `count` groups with random ids (more than 200 cause group overage).
    #[must_use]
    pub fn with_random_groups(mut self, count: usize) -> Self {
        self.groups.extend((0..count).map(|_| new_guid()));
        self
    }

    /// Adds app roles.
    #[must_use]
    pub fn roles<I, S>(mut self, roles: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.roles.extend(roles.into_iter().map(Into::into));
        self
    }

    /// Adds directory role template ids (`wids`).
    #[must_use]
    pub fn wids<I, S>(mut self, wids: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.wids.extend(wids.into_iter().map(Into::into));
        self
    }

    /// The pairwise `sub` of this user for one app (stable per user and app).
    pub fn sub_for(&self, client_id: &ClientId) -> String {
        use base64::Engine as _;
        use sha2::Digest as _;
        let digest = sha2::Sha256::digest(format!("{}|{}", self.oid, client_id).as_bytes());
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..24])
    }
}

/// An app registration: a client, an API (resource), or both.
///
/// ```
/// use entra_testkit::TestApp;
/// let api = TestApp::new("mcp-server").secret("api-secret").expose_scope("access_as_user");
/// assert_eq!(api.app_id_uri(), format!("api://{}", api.client_id));
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct TestApp {
    /// Application (client) id, a random GUID.
    pub client_id: ClientId,
    /// Display name.
    pub name: String,
    /// Home tenant. The mock's default tenant unless set with [`TestApp::tenant`].
    pub tid: TenantId,
    pub(crate) tenant_set: bool,
    pub(crate) secret: Option<Secret>,
    pub(crate) certificate: Option<TestCertificate>,
    pub(crate) public_client: bool,
    pub(crate) redirect_uris: Vec<String>,
    pub(crate) post_logout_redirect_uris: Vec<String>,
    pub(crate) scopes: Vec<String>,
    pub(crate) app_roles: Vec<String>,
    pub(crate) version: TokenVersion,
    pub(crate) app_id_uri: Option<String>,
}

impl fmt::Debug for TestApp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestApp")
            .field("client_id", &self.client_id)
            .field("name", &self.name)
            .field("tid", &self.tid)
            .finish_non_exhaustive()
    }
}

impl TestApp {
    /// A new app registration with a random client id, no credentials, no redirect
    /// URIs, no exposed scopes, and v2 access tokens.
    pub fn new(name: impl Into<String>) -> Self {
        let client_id = ClientId::parse(&new_guid()).unwrap_or_else(|_| unreachable_client());
        Self {
            client_id,
            name: name.into(),
            tid: unset_tenant(),
            tenant_set: false,
            secret: None,
            certificate: None,
            public_client: false,
            redirect_uris: Vec::new(),
            post_logout_redirect_uris: Vec::new(),
            scopes: Vec::new(),
            app_roles: Vec::new(),
            version: TokenVersion::V2,
            app_id_uri: None,
        }
    }

    /// Sets the client id. Defaults to a random GUID.
    #[must_use]
    pub fn client_id(mut self, client_id: ClientId) -> Self {
        self.client_id = client_id;
        self
    }

    /// Sets the home tenant. Defaults to the mock's default tenant.
    #[must_use]
    pub fn tenant(mut self, tid: TenantId) -> Self {
        self.tid = tid;
        self.tenant_set = true;
        self
    }

    /// Adds a client secret (`client_secret` in the body or HTTP Basic).
    #[must_use]
    pub fn secret(mut self, secret: impl Into<String>) -> Self {
        self.secret = Some(Secret::new(secret.into()));
        self
    }

    /// Registers a certificate credential (client assertions signed with its key).
    #[must_use]
    pub fn certificate(mut self, cert: TestCertificate) -> Self {
        self.certificate = Some(cert);
        self
    }

    /// Marks the app as a public client (no credential needed at the token endpoint).
    #[must_use]
    pub fn public_client(mut self) -> Self {
        self.public_client = true;
        self
    }

    /// Registers a redirect URI (exact match at the authorize and token endpoints).
    #[must_use]
    pub fn redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.redirect_uris.push(uri.into());
        self
    }

    /// Registers a post-logout redirect URI. Redirect URIs are accepted too.
    #[must_use]
    pub fn post_logout_redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.post_logout_redirect_uris.push(uri.into());
        self
    }

    /// Exposes a delegated scope (`access_as_user`); delegated tokens for this app
    /// carry the exposed scopes in `scp`.
    #[must_use]
    pub fn expose_scope(mut self, scope: impl Into<String>) -> Self {
        self.scopes.push(scope.into());
        self
    }

    /// Defines an app role (application permission); app-only tokens for this app
    /// carry its app roles in `roles`.
    #[must_use]
    pub fn app_role(mut self, role: impl Into<String>) -> Self {
        self.app_roles.push(role.into());
        self
    }

    /// The version of access tokens issued *for* this app
    /// (`accessTokenAcceptedVersion`). Defaults to `TokenVersion::V2`. v1 tokens
    /// carry the App ID URI in `aud`.
    #[must_use]
    pub fn access_token_version(mut self, version: TokenVersion) -> Self {
        self.version = version;
        self
    }

    /// Sets the App ID URI. Defaults to `api://{client_id}`.
    #[must_use]
    pub fn app_id_uri_value(mut self, uri: impl Into<String>) -> Self {
        self.app_id_uri = Some(uri.into());
        self
    }

    /// The App ID URI: `api://{client_id}` unless set.
    pub fn app_id_uri(&self) -> String {
        self.app_id_uri.clone().unwrap_or_else(|| format!("api://{}", self.client_id))
    }

    /// The client secret, if any.
    pub fn client_secret(&self) -> Option<&Secret> {
        self.secret.as_ref()
    }

    /// The certificate credential, if any.
    pub fn client_certificate(&self) -> Option<&TestCertificate> {
        self.certificate.as_ref()
    }

    /// The exposed delegated scopes.
    pub fn scopes(&self) -> &[String] {
        &self.scopes
    }

    /// The app roles.
    pub fn app_roles(&self) -> &[String] {
        &self.app_roles
    }

    /// The registered redirect URIs.
    pub fn redirect_uris(&self) -> &[String] {
        &self.redirect_uris
    }

    /// The access token version for this app as a resource.
    pub fn token_version(&self) -> TokenVersion {
        self.version
    }

    /// Whether this is a public client.
    pub fn is_public_client(&self) -> bool {
        self.public_client
    }

    /// Fully qualified scopes: `{app_id_uri}/{scope}` for each exposed scope.
    pub fn qualified_scopes(&self) -> Vec<String> {
        let uri = self.app_id_uri();
        self.scopes.iter().map(|s| format!("{uri}/{s}")).collect()
    }

    /// Whether `aud` names this app (client id or App ID URI).
    pub(crate) fn is_audience(&self, aud: &str) -> bool {
        aud.eq_ignore_ascii_case(self.client_id.as_str()) || aud == self.app_id_uri()
    }
}

#[cold]
fn unreachable_client() -> ClientId {
    ClientId::parse("00000000-0000-0000-0000-000000000002").unwrap_or_else(|_| unreachable_client())
}
