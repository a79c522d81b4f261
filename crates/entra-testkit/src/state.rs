//! The mutable state behind a mock: directory, keys, grants, faults, recording.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use entra_core::{ClientId, Clock, Cloud, GRAPH_APP_ID, TenantId};

use crate::keys::SigningKey;
use crate::record::{Record, RecordLimits};
use crate::{Fault, JwksFault, TestApp, TestUser};

/// The resource named by a scope or a consent.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub(crate) enum Resource {
    Graph,
    App(ClientId),
    Other(String),
}

/// An authorization code waiting to be redeemed.
#[derive(Clone, Debug)]
pub(crate) struct PendingCode {
    pub(crate) client_id: ClientId,
    pub(crate) redirect_uri: String,
    pub(crate) user_oid: String,
    pub(crate) scope: String,
    pub(crate) nonce: Option<String>,
    pub(crate) challenge: Option<(String, String)>,
    pub(crate) expires_at: i64,
    pub(crate) redeemed: bool,
    /// Whether the authorize request asked for `client_info=1`.
    pub(crate) client_info: bool,
}

/// The browser session of a user: which apps signed in during it. Its `sid` is
/// derived from the user and `epoch`, which sign-out advances.
#[derive(Clone, Debug, Default)]
pub(crate) struct Session {
    pub(crate) epoch: u64,
    pub(crate) clients: BTreeSet<ClientId>,
}

/// What a refresh token stands for.
#[derive(Clone, Debug)]
pub(crate) struct RefreshGrant {
    pub(crate) client_id: ClientId,
    pub(crate) user_oid: String,
    pub(crate) scope: String,
}

pub(crate) struct State {
    pub(crate) uri: String,
    pub(crate) cloud: Cloud,
    pub(crate) default_tenant: TenantId,
    pub(crate) tenants: Vec<TenantId>,
    /// Verified domain names (lowercase) of tenants.
    pub(crate) domains: HashMap<String, TenantId>,
    pub(crate) keys: Vec<Arc<SigningKey>>,
    pub(crate) signing_kid: String,
    pub(crate) next_pool_index: usize,
    pub(crate) jwks_fault: Option<JwksFault>,
    pub(crate) jwks_fetches: usize,
    /// Per-key `issuer` overrides in the JWKS (kid -> issuer).
    pub(crate) key_issuers: HashMap<String, String>,
    /// The `issuer` the v1 keys endpoint puts on keys.
    pub(crate) v1_key_issuer: crate::V1KeyIssuer,
    pub(crate) discovery_fault: Option<JwksFault>,
    pub(crate) discovery_fetches: usize,
    pub(crate) apps: Vec<TestApp>,
    pub(crate) users: Vec<TestUser>,
    pub(crate) consents: HashMap<(ClientId, Resource), BTreeSet<String>>,
    pub(crate) codes: HashMap<String, PendingCode>,
    pub(crate) refresh_tokens: HashMap<String, RefreshGrant>,
    pub(crate) faults: VecDeque<Fault>,
    pub(crate) user_faults: HashMap<String, Fault>,
    pub(crate) graph_faults: VecDeque<Fault>,
    pub(crate) graph_page_size: Option<usize>,
    pub(crate) record: Record,
    /// Sessions by lowercase user object id.
    pub(crate) sessions: HashMap<String, Session>,
    pub(crate) auto_login: Option<String>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) default_client: ClientId,
    pub(crate) default_api: ClientId,
    pub(crate) default_public_client: ClientId,
    pub(crate) token_lifetime: i64,
}

pub(crate) fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

impl State {
    pub(crate) fn now(&self) -> i64 {
        self.clock.unix_now()
    }

    pub(crate) fn signing_key(&self) -> Option<&Arc<SigningKey>> {
        self.keys.iter().find(|k| k.kid == self.signing_kid)
    }

    pub(crate) fn app(&self, client_id: &str) -> Option<&TestApp> {
        self.apps.iter().find(|a| a.client_id.as_str().eq_ignore_ascii_case(client_id))
    }

    pub(crate) fn user(&self, oid: &str) -> Option<&TestUser> {
        self.users.iter().find(|u| u.oid.eq_ignore_ascii_case(oid))
    }

    pub(crate) fn user_by_name(&self, username: &str) -> Option<&TestUser> {
        self.users.iter().find(|u| u.username.eq_ignore_ascii_case(username))
    }

    pub(crate) fn is_tenant(&self, tid: &str) -> bool {
        self.tenants.iter().any(|t| t.as_str().eq_ignore_ascii_case(tid))
    }

    /// Whether `s` names Microsoft Graph (as an audience or resource).
    pub(crate) fn is_graph(&self, s: &str) -> bool {
        let s = s.trim_end_matches('/');
        s.eq_ignore_ascii_case(GRAPH_APP_ID)
            || s.eq_ignore_ascii_case("https://graph.microsoft.com")
            || s.eq_ignore_ascii_case(self.cloud.graph_base())
    }

    /// Registers `app` (in the default tenant unless it names one), replacing an
    /// app with the same client id.
    pub(crate) fn register_app(&mut self, mut app: TestApp) -> TestApp {
        if !app.tenant_set {
            app.tid = self.default_tenant.clone();
        }
        self.apps.retain(|a| a.client_id != app.client_id);
        self.apps.push(app.clone());
        app
    }

    /// Adds `user` (to the default tenant unless it names one), replacing a user
    /// with the same object id.
    pub(crate) fn add_user(&mut self, mut user: TestUser) -> TestUser {
        if !user.tenant_set {
            user.tid = self.default_tenant.clone();
        }
        self.users.retain(|u| u.oid != user.oid);
        self.users.push(user.clone());
        user
    }

    /// Adds to the consents of `client_id` for `resource`.
    pub(crate) fn grant_consent(
        &mut self,
        client_id: &ClientId,
        resource: &str,
        scopes: impl IntoIterator<Item = String>,
    ) {
        let r = self.resource(resource);
        self.consents.entry((client_id.clone(), r)).or_default().extend(scopes);
    }

    /// Publishes `key` and signs with it from now on; returns its `kid`.
    pub(crate) fn add_signing_key(&mut self, key: Arc<SigningKey>) -> String {
        let kid = key.kid.clone();
        self.keys.retain(|k| k.kid != key.kid);
        self.keys.push(key);
        self.signing_kid = kid.clone();
        kid
    }

    /// The session id (`sid`) of `user`'s current session.
    pub(crate) fn sid(&self, user: &TestUser) -> String {
        use sha2::Digest as _;
        let epoch = self.sessions.get(&user.oid.to_ascii_lowercase()).map_or(0, |x| x.epoch);
        let d = sha2::Sha256::digest(format!("sid|{}|{epoch}", user.oid).as_bytes());
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&d[..16]);
        uuid::Builder::from_random_bytes(bytes).into_uuid().to_string()
    }

    /// Notes that `client` signed `user` in during the current session.
    pub(crate) fn join_session(&mut self, user: &TestUser, client: &ClientId) {
        self.sessions
            .entry(user.oid.to_ascii_lowercase())
            .or_default()
            .clients
            .insert(client.clone());
    }

    /// The user whose current session is `sid`.
    pub(crate) fn user_by_sid(&self, sid: &str) -> Option<&TestUser> {
        self.users.iter().find(|u| self.sid(u).eq_ignore_ascii_case(sid.trim()))
    }

    /// Ends `user`'s session: returns the front-channel logout URLs to call (with
    /// `sid` and `iss`), for the apps that signed in during it, or for `only`.
    pub(crate) fn end_session(&mut self, user: &TestUser, only: Option<&ClientId>) -> Vec<String> {
        let sid = self.sid(user);
        let iss = self.cloud.v2_issuer(&user.tid);
        let session = self.sessions.entry(user.oid.to_ascii_lowercase()).or_default();
        let clients = std::mem::take(&mut session.clients);
        session.epoch += 1;
        let wanted: Vec<ClientId> = match only {
            Some(c) => vec![c.clone()],
            None => clients.into_iter().collect(),
        };
        wanted
            .iter()
            .filter_map(|c| self.app(c.as_str()))
            .filter_map(|a| a.front_channel_logout_url.as_deref())
            .map(|u| {
                let mut url = u.to_owned();
                url.push(if url.contains('?') { '&' } else { '?' });
                url.push_str(
                    &url::form_urlencoded::Serializer::new(String::new())
                        .append_pair("sid", &sid)
                        .append_pair("iss", &iss)
                        .finish(),
                );
                url
            })
            .collect()
    }

    /// The resource a resource identifier (App ID URI, client id, Graph URL) names.
    pub(crate) fn resource(&self, id: &str) -> Resource {
        let id = id.trim();
        if self.is_graph(id) {
            return Resource::Graph;
        }
        let trimmed = id.trim_end_matches('/');
        match self.apps.iter().find(|a| a.is_audience(trimmed)) {
            Some(app) => Resource::App(app.client_id.clone()),
            None => Resource::Other(trimmed.to_owned()),
        }
    }
}

impl State {
    /// A fresh state: one tenant, no apps, users, keys or faults.
    pub(crate) fn new(
        uri: String,
        cloud: Cloud,
        default_tenant: TenantId,
        default_client: ClientId,
        default_api: ClientId,
        clock: Arc<dyn Clock>,
        token_lifetime: i64,
    ) -> Self {
        Self {
            uri,
            cloud,
            default_tenant: default_tenant.clone(),
            tenants: vec![default_tenant],
            domains: HashMap::new(),
            keys: Vec::new(),
            signing_kid: String::new(),
            next_pool_index: 0,
            jwks_fault: None,
            jwks_fetches: 0,
            key_issuers: HashMap::new(),
            v1_key_issuer: crate::V1KeyIssuer::default(),
            discovery_fault: None,
            discovery_fetches: 0,
            apps: Vec::new(),
            users: Vec::new(),
            consents: HashMap::new(),
            codes: HashMap::new(),
            refresh_tokens: HashMap::new(),
            faults: VecDeque::new(),
            user_faults: HashMap::new(),
            graph_faults: VecDeque::new(),
            graph_page_size: None,
            record: Record::new(RecordLimits::default()),
            sessions: HashMap::new(),
            auto_login: None,
            clock,
            default_public_client: default_client.clone(),
            default_client,
            default_api,
            token_lifetime,
        }
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    use super::*;

    /// A state with one tenant and no apps, users or keys, for unit tests.
    pub(crate) fn state() -> State {
        let uri = "http://127.0.0.1:1".to_owned();
        let tid = TenantId::parse("11111111-1111-1111-1111-111111111111").unwrap();
        let client = ClientId::parse("22222222-2222-2222-2222-222222222222").unwrap();
        State::new(
            uri.clone(),
            Cloud::custom(&uri, &uri).unwrap(),
            tid,
            client.clone(),
            client,
            Arc::new(entra_core::ManualClock::at_unix(1_700_000_000)),
            3600,
        )
    }
}
