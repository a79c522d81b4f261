//! [`MockEntra`]: the server, its builder and the test-facing methods.

use std::fmt;
use std::sync::{Arc, Mutex};

use entra_core::{Authority, ClientId, Clock, Cloud, SystemClock, Tenant, TenantId};

use crate::keys::pooled_key;
use crate::model::{known_guid, new_guid};
use crate::record::{Record, RecordLimits};
use crate::server::Server;
use crate::state::{State, lock};
use crate::tls::Tls;
use crate::{Error, Result, TestApp, TestUser};

/// The default cap on request bodies: larger ones get 413.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1 << 20;

/// A mocked Microsoft Entra ID (and Microsoft Graph) on `127.0.0.1`.
///
/// Cheap to clone, `Send` and `Sync`: clones share the same server and state. The
/// server runs on its own thread, so one mock may serve tests running on different
/// Tokio runtimes (keep it in a static); it stops when the last clone is dropped.
/// See the [crate docs](crate) for what it serves.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use entra_testkit::{Fault, MockEntra, TestApp, TestUser};
///
/// let mock = MockEntra::start().await;
/// // An API that calls Microsoft Graph on behalf of its users.
/// let api = mock.register_app(TestApp::new("mcp-server").secret("s").expose_scope("access_as_user"));
/// mock.grant_consent(&api.client_id, "https://graph.microsoft.com", &["User.Read"]);
/// let alice = mock.add_user(TestUser::new("alice@contoso.com"));
/// let incoming = mock.access_token(&alice, &api);
///
/// let obo = |assertion: String| {
///     let form = [
///         ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer".to_owned()),
///         ("client_id", api.client_id.to_string()),
///         ("client_secret", "s".to_owned()),
///         ("assertion", assertion),
///         ("scope", "https://graph.microsoft.com/.default".to_owned()),
///         ("requested_token_use", "on_behalf_of".to_owned()),
///     ];
///     reqwest::Client::new().post(mock.token_url()).form(&form).send()
/// };
/// let ok: serde_json::Value = obo(incoming.clone()).await?.json().await?;
/// assert!(ok["access_token"].is_string());
///
/// // Conditional Access wants MFA on the next request.
/// mock.fail_next(1, Fault::aadsts(50076).claims(r#"{"access_token":{"acrs":{"essential":true}}}"#));
/// let refused: serde_json::Value = obo(incoming).await?.json().await?;
/// assert_eq!(refused["error_codes"][0], 50076);
/// assert_eq!(mock.token_requests().len(), 2);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct MockEntra {
    pub(crate) state: Arc<Mutex<State>>,
    server: Arc<Server>,
    local_uri: String,
    ca_pem: Option<Arc<str>>,
}

impl fmt::Debug for MockEntra {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MockEntra")
            .field("uri", &self.uri())
            .field("local_addr", &self.server.local_addr)
            .finish_non_exhaustive()
    }
}

/// Options for starting a [`MockEntra`]; see [`MockEntra::builder`].
#[must_use]
pub struct MockEntraBuilder {
    clock: Arc<dyn Clock>,
    listener: Option<std::net::TcpListener>,
    seed: bool,
    seed_ids: Option<[ClientId; 3]>,
    tenant: Option<TenantId>,
    token_lifetime: i64,
    tls: bool,
    public_base_url: Option<String>,
    max_body: usize,
    record: RecordLimits,
    v1_key_issuer: crate::V1KeyIssuer,
}

impl fmt::Debug for MockEntraBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MockEntraBuilder")
            .field("seed", &self.seed)
            .field("tenant", &self.tenant)
            .field("tls", &self.tls)
            .field("public_base_url", &self.public_base_url)
            .finish_non_exhaustive()
    }
}

impl Default for MockEntraBuilder {
    fn default() -> Self {
        Self {
            clock: Arc::new(SystemClock),
            listener: None,
            seed: true,
            seed_ids: None,
            tenant: None,
            token_lifetime: 3600,
            tls: false,
            public_base_url: None,
            max_body: DEFAULT_MAX_BODY_BYTES,
            record: RecordLimits::default(),
            v1_key_issuer: crate::V1KeyIssuer::default(),
        }
    }
}

impl MockEntraBuilder {
    /// The clock for `iat`/`exp` of minted tokens and for every expiry check the
    /// mock makes (assertions, codes). Share a `ManualClock` with the code under
    /// test to move time without sleeping. Defaults to `SystemClock`.
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Serves on this listener (for a fixed port). Defaults to a random port on `127.0.0.1`.
    pub fn listener(mut self, listener: std::net::TcpListener) -> Self {
        self.listener = Some(listener);
        self
    }

    /// Whether to register the default client app and the default API
    /// ([`MockEntra::default_client`], [`MockEntra::default_api`]). Defaults to `true`.
    /// Without them, `azp` of minted tokens still names a (then unregistered) client id.
    pub fn seed(mut self, seed: bool) -> Self {
        self.seed = seed;
        self
    }

    /// The client ids of the seeded apps: the default client, the default API and
    /// the default public client (for a mock whose settings must not change
    /// between runs). Defaults to random GUIDs.
    pub fn seeded_client_ids(
        mut self,
        client: ClientId,
        api: ClientId,
        public_client: ClientId,
    ) -> Self {
        self.seed_ids = Some([client, api, public_client]);
        self
    }

    /// The id of the default tenant. Defaults to a random GUID.
    pub fn tenant_id(mut self, tid: TenantId) -> Self {
        self.tenant = Some(tid);
        self
    }

    /// Lifetime of issued tokens, in seconds. Defaults to `3600`.
    pub fn token_lifetime_secs(mut self, secs: u32) -> Self {
        self.token_lifetime = i64::from(secs);
        self
    }

    /// Serves HTTPS: a CA and a certificate for `127.0.0.1`, `::1` and `localhost`
    /// (and the host of [`MockEntraBuilder::public_base_url`]) are generated at
    /// start; clients trust [`MockEntra::ca_pem`]. For clients that insist on
    /// `https` (MSAL refuses `http` authorities). Defaults to `false` (plain HTTP).
    pub fn tls(mut self, on: bool) -> Self {
        self.tls = on;
        self
    }

    /// The base URL the mock publishes (discovery, issuers, endpoints, links),
    /// for a mock reached through a proxy or from a container:
    /// `https://mock-entra.test:8443`. It must be an origin (no path, query or
    /// fragment): the proxy forwards paths unchanged. Defaults to the address the
    /// mock listens on ([`MockEntra::local_uri`]).
    pub fn public_base_url(mut self, url: impl Into<String>) -> Self {
        self.public_base_url = Some(url.into());
        self
    }

    /// The largest request body accepted; larger ones get 413 without being read
    /// (or as soon as the limit is passed). Defaults to 1 MiB
    /// ([`DEFAULT_MAX_BODY_BYTES`]).
    pub fn max_body_bytes(mut self, bytes: usize) -> Self {
        self.max_body = bytes;
        self
    }

    /// Bounds of the request record ([`MockEntra::requests`]): a ring buffer
    /// that drops the oldest requests beyond a count or a byte budget, keeping at
    /// most a part of each body. Defaults to [`RecordLimits::default`] (1000
    /// requests, 8 MiB, 64 KiB per body).
    pub fn record_limits(mut self, limits: RecordLimits) -> Self {
        self.record = limits;
        self
    }

    /// The `issuer` the v1 keys endpoint puts on each key (see
    /// [`V1KeyIssuer`](crate::V1KeyIssuer)). Defaults to
    /// [`V1KeyIssuer::V1`](crate::V1KeyIssuer::V1).
    pub fn v1_key_issuer(mut self, issuer: crate::V1KeyIssuer) -> Self {
        self.v1_key_issuer = issuer;
        self
    }

    /// Starts the server.
    ///
    /// # Errors
    /// [`Error::Start`] when the listener cannot be used, [`Error::Certificate`]
    /// when keys or TLS certificates cannot be generated,
    /// [`Error::PublicBaseUrl`] for a public base URL that is not an origin.
    pub async fn start(self) -> Result<MockEntra> {
        let key = pooled_key(0)?;
        let listener = match self.listener {
            Some(l) => l,
            None => std::net::TcpListener::bind(("127.0.0.1", 0)).map_err(Error::Start)?,
        };
        let addr = listener.local_addr().map_err(Error::Start)?;
        let public = match &self.public_base_url {
            Some(u) => Some(origin(u)?),
            None => None,
        };
        let tls = if self.tls {
            let host = public.as_ref().and_then(|u| u.host_str().map(str::to_owned));
            Some(Tls::generate(host.as_deref())?)
        } else {
            None
        };
        let scheme = if tls.is_some() { "https" } else { "http" };
        let local_uri = format!("{scheme}://{addr}");
        let uri = match &public {
            Some(u) => u.as_str().trim_end_matches('/').to_owned(),
            None => local_uri.clone(),
        };
        let cloud = Cloud::custom(&uri, &uri).map_err(Error::Cloud)?;
        let default_tenant = match self.tenant {
            Some(t) => t,
            None => TenantId::parse(&new_guid()).map_err(Error::Cloud)?,
        };
        let [client_id, api_id, public_id] = match self.seed_ids {
            Some(ids) => ids,
            None => [0, 1, 2].map(|_| known_guid(ClientId::parse(&new_guid()))),
        };
        let client = TestApp::new("mock-client")
            .client_id(client_id)
            .tenant(default_tenant.clone())
            .secret("mock-client-secret")
            .redirect_uri("http://localhost/callback");
        let api = TestApp::new("mock-api")
            .client_id(api_id)
            .tenant(default_tenant.clone())
            .secret("mock-api-secret")
            .expose_scope("access_as_user")
            .app_role("Data.Read");
        let public_client = TestApp::new("mock-public-client")
            .client_id(public_id)
            .tenant(default_tenant.clone())
            .public_client()
            .redirect_uri("http://localhost")
            .redirect_uri("http://127.0.0.1");
        let mut state = State::new(
            uri.clone(),
            cloud,
            default_tenant,
            client.client_id.clone(),
            api.client_id.clone(),
            self.clock,
            self.token_lifetime,
        );
        state.signing_kid = key.kid.clone();
        state.keys = vec![key];
        state.next_pool_index = 1;
        state.record = Record::new(self.record);
        state.v1_key_issuer = self.v1_key_issuer;
        state.default_public_client = public_client.client_id.clone();
        let state = Arc::new(Mutex::new(state));
        let ca_pem: Option<Arc<str>> = tls.as_ref().map(|t| Arc::from(t.ca_pem.as_str()));
        let server = Server::spawn(
            listener,
            tls.map(|t| t.config),
            Arc::clone(&state),
            self.max_body,
            outbound_client(ca_pem.as_deref(), false),
        )?;
        let mock = MockEntra { state, server: Arc::new(server), local_uri, ca_pem };
        if self.seed {
            let client = mock.register_app(client);
            let api = mock.register_app(api);
            let public_client = mock.register_app(public_client);
            mock.grant_consent(&public_client.client_id, &api.app_id_uri(), &["access_as_user"]);
            mock.grant_consent(
                &public_client.client_id,
                "https://graph.microsoft.com",
                &["User.Read"],
            );
            mock.grant_consent(&client.client_id, &api.app_id_uri(), &["access_as_user"]);
            mock.grant_consent(
                &client.client_id,
                "https://graph.microsoft.com",
                &["User.Read", "GroupMember.Read.All"],
            );
        }
        Ok(mock)
    }
}

impl MockEntra {
    /// Starts a mock on a random loopback port with one tenant, the default client
    /// app and the default API (see [`MockEntraBuilder::start`]).
    ///
    /// # Panics
    /// When the server cannot start; use [`MockEntra::builder`] to get the error.
    pub async fn start() -> Self {
        match Self::builder().start().await {
            Ok(m) => m,
            Err(e) => panic!("entra-testkit: cannot start the mock: {e}"),
        }
    }

    /// Options for starting a mock.
    pub fn builder() -> MockEntraBuilder {
        MockEntraBuilder::default()
    }

    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        f(&mut lock(&self.state))
    }

    /// The base URL the mock publishes (no trailing slash): `http://127.0.0.1:PORT`,
    /// `https://127.0.0.1:PORT` with [TLS](MockEntraBuilder::tls), or the
    /// [public base URL](MockEntraBuilder::public_base_url).
    pub fn uri(&self) -> String {
        self.with(|s| s.uri.clone())
    }

    /// The address the mock listens on, as a base URL (`http://127.0.0.1:PORT` or
    /// `https://...`): the same as [`MockEntra::uri`] unless a public base URL is set.
    pub fn local_uri(&self) -> &str {
        &self.local_uri
    }

    /// The PEM of the CA that signed the mock's TLS certificate, when serving HTTPS:
    /// what clients of the mock must trust (Python `verify=`, `SSL_CERT_FILE`,
    /// `NODE_EXTRA_CA_CERTS`, `reqwest::Certificate::from_pem`).
    pub fn ca_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }

    /// A `reqwest` client for talking to the mock: it trusts only the mock's CA
    /// when serving HTTPS, and does not follow redirects (so tests see the
    /// authorize endpoint's answer).
    pub fn http_client(&self) -> reqwest::Client {
        outbound_client(self.ca_pem(), true)
    }

    /// The mock as a cloud: login, v1 issuers and Microsoft Graph all on [`MockEntra::uri`].
    pub fn cloud(&self) -> Cloud {
        self.with(|s| s.cloud.clone())
    }

    /// The session id (`sid`) the mock puts in `user`'s ID tokens for their current
    /// sign-in session: what Entra sends to an app's front-channel logout URL.
    pub fn session_id(&self, user: &TestUser) -> String {
        self.with(|s| s.sid(user))
    }

    /// The default tenant.
    pub fn tenant_id(&self) -> TenantId {
        self.with(|s| s.default_tenant.clone())
    }

    /// Adds a tenant (a random id) served with the same signing keys.
    pub fn add_tenant(&self) -> TenantId {
        let tid = known_guid(TenantId::parse(&new_guid()));
        self.with(|s| s.tenants.push(tid.clone()));
        tid
    }

    /// Adds a verified domain name to tenant `tid`: `/{domain}/...` URLs then serve
    /// that tenant (discovery documents name it by id, as Entra's do).
    pub fn add_domain(&self, tid: &TenantId, domain: &str) {
        self.with(|s| s.domains.insert(domain.trim().to_ascii_lowercase(), tid.clone()));
    }

    /// Every tenant, the default first.
    pub fn tenants(&self) -> Vec<TenantId> {
        self.with(|s| s.tenants.clone())
    }

    /// The authority of the default tenant, by GUID.
    pub fn authority(&self) -> Authority {
        Authority::new(self.cloud(), Tenant::Id(self.tenant_id()))
    }

    /// The authority for any tenant segment (`Tenant::Common`, `Tenant::Organizations`,
    /// another tenant's id).
    pub fn authority_for(&self, tenant: Tenant) -> Authority {
        Authority::new(self.cloud(), tenant)
    }

    /// The v2 issuer of tenant `tid`: `{uri}/{tid}/v2.0`.
    pub fn v2_issuer(&self, tid: &TenantId) -> String {
        self.cloud().v2_issuer(tid)
    }

    /// The v1 issuer of tenant `tid`: `{uri}/{tid}/` (the mock plays `sts.windows.net`).
    pub fn v1_issuer(&self, tid: &TenantId) -> String {
        self.cloud().v1_issuer(tid)
    }

    /// The token endpoint of the default tenant.
    pub fn token_url(&self) -> String {
        self.authority().token_url()
    }

    /// The clock the mock uses.
    pub fn clock(&self) -> Arc<dyn Clock> {
        self.with(|s| Arc::clone(&s.clock))
    }

    /// Registers an app (in the default tenant unless [`TestApp::tenant`] was set)
    /// and returns it as registered. Registering the same client id again replaces it.
    pub fn register_app(&self, app: TestApp) -> TestApp {
        self.with(|s| s.register_app(app))
    }

    /// A registered app.
    pub fn app(&self, client_id: &ClientId) -> Option<TestApp> {
        self.with(|s| s.app(client_id.as_str()).cloned())
    }

    /// The seeded confidential web client (`mock-client`, secret
    /// `mock-client-secret`, redirect URI `http://localhost/callback`), which is
    /// `azp`/`appid` of minted tokens unless a spec says otherwise. It has consent
    /// for the default API (`access_as_user`) and for Graph (`User.Read`,
    /// `GroupMember.Read.All`).
    pub fn default_client(&self) -> TestApp {
        self.with(|s| {
            let id = s.default_client.clone();
            s.app(id.as_str()).cloned().unwrap_or_else(|| TestApp::new("mock-client").client_id(id))
        })
    }

    /// The seeded public client (`mock-public-client`: no secret, redirect URIs
    /// `http://localhost` and `http://127.0.0.1`, which match any port), as a CLI
    /// or desktop app registers. It has consent for the default API and for Graph
    /// `User.Read`.
    pub fn default_public_client(&self) -> TestApp {
        self.with(|s| {
            let id = s.default_public_client.clone();
            s.app(id.as_str())
                .cloned()
                .unwrap_or_else(|| TestApp::new("mock-public-client").client_id(id).public_client())
        })
    }

    /// The seeded API (`mock-api`, secret `mock-api-secret`, scope `access_as_user`,
    /// app role `Data.Read`, v2 tokens).
    pub fn default_api(&self) -> TestApp {
        self.with(|s| {
            let id = s.default_api.clone();
            s.app(id.as_str()).cloned().unwrap_or_else(|| TestApp::new("mock-api").client_id(id))
        })
    }

    /// Grants (admin) consent: `client_id` may obtain `scopes` of `resource`
    /// (a Graph URL or app id, an App ID URI, or an API's client id) on behalf of
    /// users, or those app roles with client credentials. Adds to earlier grants.
    pub fn grant_consent(&self, client_id: &ClientId, resource: &str, scopes: &[&str]) {
        self.with(|s| s.grant_consent(client_id, resource, scopes.iter().map(|x| (*x).to_owned())));
    }

    /// Removes every consent of `client_id` for `resource`.
    pub fn revoke_consent(&self, client_id: &ClientId, resource: &str) {
        self.with(|s| {
            let r = s.resource(resource);
            s.consents.remove(&(client_id.clone(), r));
        });
    }

    /// Adds a user (to the default tenant unless [`TestUser::tenant`] was set) and
    /// returns it as registered.
    pub fn add_user(&self, user: TestUser) -> TestUser {
        self.with(|s| s.add_user(user))
    }

    /// Every registered user.
    pub fn users(&self) -> Vec<TestUser> {
        self.with(|s| s.users.clone())
    }

    /// The user with this username (case-insensitive).
    pub fn find_user(&self, username: &str) -> Option<TestUser> {
        self.with(|s| s.user_by_name(username).cloned())
    }

    /// Seeds the directory from a JSON or TOML file (by its extension: `.toml`
    /// is TOML, anything else JSON): `tenants`, `apps`, `users`, `consents` and
    /// `auto_login`, in the shapes the control API takes (see the crate docs).
    /// Returns what was registered, with the keys of generated certificates.
    ///
    /// # Errors
    /// [`Error::Seed`] when the file cannot be read or parsed, or names an unknown
    /// tenant, user or app (what came before the error stays registered).
    pub fn apply_config(&self, path: &std::path::Path) -> Result<serde_json::Value> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::Seed {
            reason: format!("cannot read {}", path.display()),
            source: Some(Box::new(e)),
        })?;
        let toml = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("toml"));
        self.apply_config_str(&text, toml)
    }

    /// As [`MockEntra::apply_config`], from text: TOML when `toml`, else JSON.
    ///
    /// # Errors
    /// As [`MockEntra::apply_config`].
    pub fn apply_config_str(&self, text: &str, toml: bool) -> Result<serde_json::Value> {
        let seed = crate::seed::parse(text, toml)?;
        self.with(|s| s.apply_seed(&seed))
    }

    /// The user the authorize endpoint signs in without showing its page (when no
    /// `login_hint` names another user), or `None` to show the page. Defaults to `None`.
    pub fn set_auto_login(&self, user: Option<&TestUser>) {
        self.with(|s| s.auto_login = user.map(|u| u.oid.clone()));
    }
}

/// The origin of a public base URL.
fn origin(url: &str) -> Result<url::Url> {
    let bad = || Error::PublicBaseUrl(url.chars().take(200).collect());
    let u = url::Url::parse(url.trim()).map_err(|_| bad())?;
    let ok = matches!(u.scheme(), "http" | "https")
        && u.host_str().is_some()
        && u.path() == "/"
        && u.query().is_none()
        && u.fragment().is_none()
        && u.username().is_empty()
        && u.password().is_none();
    if ok { Ok(u) } else { Err(bad()) }
}

/// A client trusting the mock's CA: only it (`only`), or it besides the usual
/// roots. No redirects, short timeouts.
pub(crate) fn outbound_client(ca_pem: Option<&str>, only: bool) -> reqwest::Client {
    let base = || {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(30))
    };
    let mut builder = base();
    if let Some(cert) = ca_pem.and_then(|p| reqwest::Certificate::from_pem(p.as_bytes()).ok()) {
        builder =
            if only { builder.tls_certs_only([cert]) } else { builder.tls_certs_merge([cert]) };
    }
    builder.build().or_else(|_| base().build()).unwrap_or_default()
}
