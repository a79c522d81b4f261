//! The mutable state behind a mock: directory, keys, grants, faults, recording.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use entra_core::{ClientId, Clock, Cloud, GRAPH_APP_ID, TenantId};

use crate::keys::SigningKey;
use crate::{Fault, JwksFault, RecordedRequest, TestApp, TestUser};

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
    pub(crate) requests: Vec<RecordedRequest>,
    pub(crate) auto_login: Option<String>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) default_client: ClientId,
    pub(crate) default_api: ClientId,
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
            requests: Vec::new(),
            auto_login: None,
            clock,
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
