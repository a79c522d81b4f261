//! [`MockEntra`]: the server, its builder and the test-facing methods.

use std::fmt;
use std::sync::{Arc, Mutex};

use entra_core::{Authority, ClientId, Clock, Cloud, SystemClock, Tenant, TenantId};

use crate::keys::pooled_key;
use crate::model::{known_guid, new_guid};
use crate::state::{State, lock};
use crate::{Error, Result, TestApp, TestUser};

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
    server: Arc<wiremock::MockServer>,
}

impl fmt::Debug for MockEntra {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MockEntra").field("uri", &self.server.uri()).finish_non_exhaustive()
    }
}

/// Options for starting a [`MockEntra`]; see [`MockEntra::builder`].
#[must_use]
pub struct MockEntraBuilder {
    clock: Arc<dyn Clock>,
    listener: Option<std::net::TcpListener>,
    seed: bool,
    tenant: Option<TenantId>,
    token_lifetime: i64,
}

impl fmt::Debug for MockEntraBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MockEntraBuilder")
            .field("seed", &self.seed)
            .field("tenant", &self.tenant)
            .finish_non_exhaustive()
    }
}

impl Default for MockEntraBuilder {
    fn default() -> Self {
        Self {
            clock: Arc::new(SystemClock),
            listener: None,
            seed: true,
            tenant: None,
            token_lifetime: 3600,
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

    /// Starts the server.
    ///
    /// # Errors
    /// [`Error::Start`] when the listener cannot be used, [`Error::Certificate`]
    /// when keys cannot be generated.
    pub async fn start(self) -> Result<MockEntra> {
        let key = pooled_key(0)?;
        let builder = wiremock::MockServer::builder().disable_request_recording();
        let builder = match self.listener {
            Some(l) => {
                l.set_nonblocking(true).map_err(Error::Start)?;
                builder.listener(l)
            }
            None => builder,
        };
        let server = builder.start().await;
        let uri = server.uri();
        let cloud = Cloud::custom(&uri, &uri).map_err(Error::Cloud)?;
        let default_tenant = match self.tenant {
            Some(t) => t,
            None => TenantId::parse(&new_guid()).map_err(Error::Cloud)?,
        };
        let client = TestApp::new("mock-client")
            .tenant(default_tenant.clone())
            .secret("mock-client-secret")
            .redirect_uri("http://localhost/callback");
        let api = TestApp::new("mock-api")
            .tenant(default_tenant.clone())
            .secret("mock-api-secret")
            .expose_scope("access_as_user")
            .app_role("Data.Read");
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
        let state = Arc::new(Mutex::new(state));
        wiremock::Mock::given(wiremock::matchers::any())
            .respond_with(crate::router::Router { state: Arc::clone(&state) })
            .mount(&server)
            .await;
        let mock = MockEntra { state, server: Arc::new(server) };
        if self.seed {
            let client = mock.register_app(client);
            let api = mock.register_app(api);
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

    /// The base URL, `http://127.0.0.1:PORT` (no trailing slash).
    pub fn uri(&self) -> String {
        self.with(|s| s.uri.clone())
    }

    /// The mock as a cloud: login, v1 issuers and Microsoft Graph all on [`MockEntra::uri`].
    pub fn cloud(&self) -> Cloud {
        self.with(|s| s.cloud.clone())
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
        self.with(|s| {
            let mut app = app;
            if !app.tenant_set {
                app.tid = s.default_tenant.clone();
            }
            s.apps.retain(|a| a.client_id != app.client_id);
            s.apps.push(app.clone());
            app
        })
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
        self.with(|s| {
            let r = s.resource(resource);
            s.consents
                .entry((client_id.clone(), r))
                .or_default()
                .extend(scopes.iter().map(|x| (*x).to_owned()));
        });
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
        self.with(|s| {
            let mut user = user;
            if !user.tenant_set {
                user.tid = s.default_tenant.clone();
            }
            s.users.retain(|u| u.oid != user.oid);
            s.users.push(user.clone());
            user
        })
    }

    /// Every registered user.
    pub fn users(&self) -> Vec<TestUser> {
        self.with(|s| s.users.clone())
    }

    /// The user with this username (case-insensitive).
    pub fn find_user(&self, username: &str) -> Option<TestUser> {
        self.with(|s| s.user_by_name(username).cloned())
    }

    /// The user the authorize endpoint signs in without showing its page (when no
    /// `login_hint` names another user), or `None` to show the page. Defaults to `None`.
    pub fn set_auto_login(&self, user: Option<&TestUser>) {
        self.with(|s| s.auto_login = user.map(|u| u.oid.clone()));
    }
}
