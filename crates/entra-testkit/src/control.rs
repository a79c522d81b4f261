//! [`MockEntra`] methods for minting, keys, faults and recording.

use entra_core::{ClientId, TenantId};
use serde_json::Value;

use crate::keys::pooled_key;
use crate::{Fault, JwksFault, MockEntra, RecordedRequest, Result, TestApp, TestUser, TokenSpec};

impl MockEntra {
    /// Mints `spec`, signed with the current key.
    ///
    /// # Panics
    /// When signing fails (only after every key was retired with
    /// [`MockEntra::retire_key`]); [`MockEntra::try_mint`] returns the error instead.
    pub fn mint(&self, spec: TokenSpec) -> String {
        match self.try_mint(spec) {
            Ok(t) => t,
            Err(e) => panic!("entra-testkit: cannot mint a token: {e}"),
        }
    }

    /// Mints `spec`.
    ///
    /// # Errors
    /// [`crate::Error::NoSigningKey`] after every key was retired, [`crate::Error::Key`]
    /// when signing fails.
    pub fn try_mint(&self, spec: TokenSpec) -> Result<String> {
        self.with(|s| s.mint(&spec))
    }

    /// The claims `spec` would have (times and ids differ at each call).
    pub fn claims(&self, spec: &TokenSpec) -> Value {
        self.with(|s| s.claims_for(spec))
    }

    /// A delegated access token of `user` for `api`, in the version `api` accepts:
    /// `aud` = client id (v2) or App ID URI (v1), `scp` = exposed scopes, `azp`/`appid`
    /// = the default client, valid for one hour.
    ///
    /// # Panics
    /// As [`MockEntra::mint`]: only after every key was retired.
    pub fn access_token(&self, user: &TestUser, api: &TestApp) -> String {
        self.mint(TokenSpec::access(user, api))
    }

    /// An ID token of `user` for `client_id`, with `nonce` when given.
    ///
    /// # Panics
    /// As [`MockEntra::mint`]: only after every key was retired.
    pub fn id_token(&self, user: &TestUser, client_id: &ClientId, nonce: Option<&str>) -> String {
        self.mint(TokenSpec::id_token(user, client_id, nonce))
    }

    /// An app-only token of `client` for `api` (`idtyp: app`, `roles`, no `scp`).
    ///
    /// # Panics
    /// As [`MockEntra::mint`]: only after every key was retired.
    pub fn app_token(&self, client: &TestApp, api: &TestApp) -> String {
        self.mint(TokenSpec::app_only(client, api))
    }

    /// A Microsoft Graph token of `user` (header `nonce`, `aud: https://graph.microsoft.com`,
    /// `scp: User.Read GroupMember.Read.All`): what the mock's Graph endpoints accept.
    ///
    /// # Panics
    /// As [`MockEntra::mint`]: only after every key was retired.
    pub fn graph_token(&self, user: &TestUser) -> String {
        self.mint(TokenSpec::graph(user))
    }

    /// The id (`kid`) of the key that signs new tokens.
    pub fn signing_kid(&self) -> String {
        self.with(|s| s.signing_kid.clone())
    }

    /// The ids of every published key, oldest first.
    pub fn published_kids(&self) -> Vec<String> {
        self.with(|s| s.keys.iter().map(|k| k.kid.clone()).collect())
    }

    /// Adds a new key, which signs from now on, and returns its `kid`. The previous
    /// keys stay published until [`MockEntra::retire_key`].
    ///
    /// # Panics
    /// When a key cannot be generated (it does not with the bundled backend).
    pub fn rotate_keys(&self) -> String {
        let index = self.with(|s| {
            s.next_pool_index += 1;
            s.next_pool_index - 1
        });
        let key = match pooled_key(index) {
            Ok(k) => k,
            Err(e) => panic!("entra-testkit: cannot generate a key: {e}"),
        };
        self.with(|s| s.add_signing_key(key))
    }

    /// Stops publishing key `kid`; returns whether it was published. Tokens it
    /// signed no longer validate. Retiring the signing key leaves the mock unable to
    /// mint until [`MockEntra::rotate_keys`].
    pub fn retire_key(&self, kid: &str) -> bool {
        self.with(|s| {
            let before = s.keys.len();
            s.keys.retain(|k| k.kid != kid);
            before != s.keys.len()
        })
    }

    /// Publishes key `kid` with this `issuer` in every JWKS (instead of the
    /// issuer of the tenant being asked), or, with `None`, as usual again. Real
    /// Entra gives each key its own issuer; a validator must refuse a token whose
    /// issuer differs from its key's.
    pub fn set_key_issuer(&self, kid: &str, issuer: Option<&str>) {
        self.with(|s| match issuer {
            Some(iss) => {
                s.key_issuers.insert(kid.to_owned(), iss.to_owned());
            }
            None => {
                s.key_issuers.remove(kid);
            }
        });
    }

    /// How many times a keys endpoint was requested (faulty answers included).
    pub fn jwks_fetch_count(&self) -> usize {
        self.with(|s| s.jwks_fetches)
    }

    /// Makes the keys endpoints fail (or, with `None`, work again).
    pub fn set_jwks_fault(&self, fault: Option<JwksFault>) {
        self.with(|s| s.jwks_fault = fault);
    }

    /// How many times a discovery document (v1 or v2) was requested.
    pub fn discovery_fetch_count(&self) -> usize {
        self.with(|s| s.discovery_fetches)
    }

    /// Makes the discovery endpoints fail like [`MockEntra::set_jwks_fault`] does for
    /// keys (or, with `None`, work again).
    pub fn set_discovery_fault(&self, fault: Option<JwksFault>) {
        self.with(|s| s.discovery_fault = fault);
    }

    /// The JWKS the v2 keys endpoint of `tid` serves.
    pub fn jwks(&self, tid: &TenantId) -> Value {
        self.with(|s| {
            let iss = s.cloud.v2_issuer(tid);
            crate::router::jwks_body(s, &iss)
        })
    }

    /// The next `n` token requests fail with `fault` (queued after earlier ones).
    pub fn fail_next(&self, n: usize, fault: Fault) {
        self.with(|s| s.faults.extend(std::iter::repeat_n(fault, n)));
    }

    /// Every token request for the user with object id `oid` (authorization code,
    /// refresh, on-behalf-of) fails with `fault` until [`MockEntra::clear_faults`].
    pub fn fail_for_user(&self, oid: &str, fault: Fault) {
        self.with(|s| s.user_faults.insert(oid.to_ascii_lowercase(), fault));
    }

    /// The next `n` Microsoft Graph requests fail with `fault`: `Fault::throttled`
    /// gives 429 with `Retry-After`, `Fault::status` that status, `Fault::aadsts`
    /// a 401 `InvalidAuthenticationToken` naming the code (with `.claims(..)`,
    /// also Graph's continuous access evaluation challenge,
    /// `WWW-Authenticate: Bearer ..., error="insufficient_claims", claims="<base64>"`),
    /// `Fault::delay` latency.
    pub fn fail_graph_next(&self, n: usize, fault: Fault) {
        self.with(|s| s.graph_faults.extend(std::iter::repeat_n(fault, n)));
    }

    /// Pages `getMemberObjects` answers: at most `size` ids per page, the rest
    /// behind `@odata.nextLink` (fetched with GET, as OData clients do).
    /// Defaults to `None`: every id in one answer, as Graph does for up to 11,000.
    pub fn set_graph_page_size(&self, size: Option<usize>) {
        self.with(|s| s.graph_page_size = size);
    }

    /// Removes every queued and per-user fault of the token endpoint and Graph (not
    /// the JWKS fault).
    pub fn clear_faults(&self) {
        self.with(|s| {
            s.faults.clear();
            s.user_faults.clear();
            s.graph_faults.clear();
        });
    }

    /// Revokes every refresh token of the user with object id `oid`: redeeming one
    /// fails with `invalid_grant`.
    pub fn revoke_refresh_tokens(&self, oid: &str) {
        self.with(|s| s.refresh_tokens.retain(|_, g| !g.user_oid.eq_ignore_ascii_case(oid)));
    }

    /// The requests received, oldest first: the last ones within the
    /// [record limits](crate::MockEntraBuilder::record_limits) (control API calls
    /// are not recorded).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.with(|s| s.record.iter().cloned().collect())
    }

    /// How many bytes the request record holds now ([`RecordedRequest::size`]
    /// summed): never more than the record's byte budget.
    pub fn recorded_bytes(&self) -> usize {
        self.with(|s| s.record.bytes())
    }

    /// The POSTs to any token endpoint, oldest first.
    pub fn token_requests(&self) -> Vec<RecordedRequest> {
        self.with(|s| s.record.iter().filter(|r| r.is_token_request()).cloned().collect())
    }

    /// How many requests had a path ending with `path_suffix`.
    pub fn count(&self, path_suffix: &str) -> usize {
        self.with(|s| s.record.iter().filter(|r| r.path.ends_with(path_suffix)).count())
    }

    /// Forgets the recorded requests (not the JWKS fetch count).
    pub fn clear_requests(&self) {
        self.with(|s| s.record.clear());
    }
}
