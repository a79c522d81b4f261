//! Token minting: what a test asks for ([`TokenSpec`]) and how the mock signs it.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use entra_core::{ClientId, TenantId, TokenVersion};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Map, Value, json};

use crate::model::new_guid;
use crate::state::{Resource, State};
use crate::{Error, Result, TestApp, TestUser};

/// More groups than this in a token cause group overage (as in Entra's JWTs).
pub const GROUP_OVERAGE_LIMIT: usize = 200;

#[derive(Clone, Debug)]
enum Kind {
    Access { user: TestUser, api: TestApp },
    Id { user: TestUser, client_id: ClientId, nonce: Option<String> },
    AppOnly { client: TestApp, api: TestApp },
    Graph { user: TestUser },
    Custom,
}

#[derive(Clone)]
enum Signing {
    Current,
    Unpublished,
    Hmac(Vec<u8>),
    None,
}

/// A token to mint with [`MockEntra::mint`](crate::MockEntra::mint): a realistic
/// starting point (access token, ID token, app-only, Graph) plus any change a test
/// wants.
///
/// Claims are computed when minting (issuer, times from the mock's clock, the
/// default client app as `azp`/`appid`), then the overrides are applied in order:
/// [`TokenSpec::claim`] sets a claim, [`TokenSpec::without`] removes one.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use entra_testkit::{MockEntra, TestUser, TokenSpec};
/// use serde_json::json;
/// let mock = MockEntra::start().await;
/// let alice = mock.add_user(TestUser::new("alice@contoso.com"));
/// let api = mock.default_api();
/// let expired = mock.mint(TokenSpec::access_v2(&alice, &api).expired());
/// let other_tenant = mock.mint(TokenSpec::access_v2(&alice, &api).tenant(mock.add_tenant()));
/// let no_scp = mock.mint(TokenSpec::access_v2(&alice, &api).without("scp").claim("roles", json!(["Admin"])));
/// # let _ = (expired, other_tenant, no_scp);
/// # }
/// ```
#[derive(Clone)]
#[must_use]
pub struct TokenSpec {
    kind: Kind,
    version: Option<TokenVersion>,
    tenant: Option<TenantId>,
    client: Option<ClientId>,
    scopes: Option<Vec<String>>,
    groups: Option<Vec<String>>,
    overage: Option<bool>,
    lifetime: Option<i64>,
    expired: bool,
    not_yet_valid: bool,
    header_nonce: Option<bool>,
    kid: Option<String>,
    signing: Signing,
    algorithm: Algorithm,
    overrides: Vec<(String, Option<Value>)>,
}

impl std::fmt::Debug for TokenSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Overrides and HMAC keys stay out: they may hold claims or secrets.
        let kind = match &self.kind {
            Kind::Access { .. } => "access",
            Kind::Id { .. } => "id_token",
            Kind::AppOnly { .. } => "app_only",
            Kind::Graph { .. } => "graph",
            Kind::Custom => "custom",
        };
        f.debug_struct("TokenSpec")
            .field("kind", &kind)
            .field("version", &self.version)
            .field("tenant", &self.tenant)
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

impl TokenSpec {
    fn new(kind: Kind) -> Self {
        Self {
            kind,
            version: None,
            tenant: None,
            client: None,
            scopes: None,
            groups: None,
            overage: None,
            lifetime: None,
            expired: false,
            not_yet_valid: false,
            header_nonce: None,
            kid: None,
            signing: Signing::Current,
            algorithm: Algorithm::RS256,
            overrides: Vec::new(),
        }
    }

    /// A delegated access token for `api`, in the version `api` accepts
    /// ([`TestApp::access_token_version`]).
    pub fn access(user: &TestUser, api: &TestApp) -> Self {
        Self::new(Kind::Access { user: user.clone(), api: api.clone() })
    }

    /// A v2 delegated access token for `api`: `aud` = its client id, `azp`, `scp` =
    /// its exposed scopes.
    pub fn access_v2(user: &TestUser, api: &TestApp) -> Self {
        Self::access(user, api).version(TokenVersion::V2)
    }

    /// A v1 delegated access token for `api`: `iss` = the v1 issuer, `aud` = its
    /// App ID URI, `appid`, `ver: "1.0"`.
    pub fn access_v1(user: &TestUser, api: &TestApp) -> Self {
        Self::access(user, api).version(TokenVersion::V1)
    }

    /// A v2 ID token for `client_id`, with `nonce` when given.
    pub fn id_token(user: &TestUser, client_id: &ClientId, nonce: Option<&str>) -> Self {
        Self::new(Kind::Id {
            user: user.clone(),
            client_id: client_id.clone(),
            nonce: nonce.map(str::to_owned),
        })
    }

    /// An app-only token (client credentials) for `api`, obtained by `client`:
    /// `idtyp: app`, `roles` = the app roles of `api`, no `scp`.
    pub fn app_only(client: &TestApp, api: &TestApp) -> Self {
        Self::new(Kind::AppOnly { client: client.clone(), api: api.clone() })
    }

    /// A v1 token for Microsoft Graph (`aud: https://graph.microsoft.com`, a `nonce`
    /// in the header, `scp: User.Read GroupMember.Read.All`), which the mock's Graph
    /// endpoints accept and API validators must refuse.
    pub fn graph(user: &TestUser) -> Self {
        Self::new(Kind::Graph { user: user.clone() })
    }

    /// A token with only the registered claims (`iss`, `iat`, `nbf`, `exp`, `uti`,
    /// `tid` = default tenant, `ver: "2.0"`): build the rest with [`TokenSpec::claim`].
    pub fn custom() -> Self {
        Self::new(Kind::Custom)
    }

    /// The token version (`ver`, issuer, `azp`/`appid`, audience form).
    pub fn version(mut self, version: TokenVersion) -> Self {
        self.version = Some(version);
        self
    }

    /// Issues the token from another tenant: `tid` and the issuer name `tid`.
    pub fn tenant(mut self, tid: TenantId) -> Self {
        self.tenant = Some(tid);
        self
    }

    /// The client app in `azp` (v2) or `appid` (v1). Defaults to the mock's
    /// [default client](crate::MockEntra::default_client).
    pub fn client(mut self, client_id: &ClientId) -> Self {
        self.client = Some(client_id.clone());
        self
    }

    /// The delegated scopes in `scp`. Defaults to the exposed scopes of the API.
    pub fn scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes = Some(scopes.into_iter().map(Into::into).collect());
        self
    }

    /// The groups. Defaults to the user's; more than 200 cause overage.
    pub fn groups<I, S>(mut self, groups: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.groups = Some(groups.into_iter().map(Into::into).collect());
        self
    }

    /// Forces group overage on (`_claim_names`/`_claim_sources`, no `groups`) or off.
    /// Defaults to on exactly when there are more than 200 groups.
    pub fn overage(mut self, on: bool) -> Self {
        self.overage = Some(on);
        self
    }

    /// Lifetime from `iat` to `exp`. Defaults to one hour.
    pub fn lifetime(mut self, lifetime: Duration) -> Self {
        self.lifetime = Some(i64::try_from(lifetime.as_secs()).unwrap_or(i64::MAX / 4));
        self
    }

    /// Expired for one hour (issued two hours ago, with a one-hour lifetime).
    pub fn expired(mut self) -> Self {
        self.expired = true;
        self
    }

    /// Not valid before one hour from now (`nbf` in the future).
    pub fn not_yet_valid(mut self) -> Self {
        self.not_yet_valid = true;
        self
    }

    /// Adds a `nonce` to the JWT header, as Entra does for Graph tokens.
    pub fn header_nonce(mut self) -> Self {
        self.header_nonce = Some(true);
        self
    }

    /// Sets the header `kid` (and `x5t`). Defaults to the current signing key's id.
    pub fn kid(mut self, kid: impl Into<String>) -> Self {
        self.kid = Some(kid.into());
        self
    }

    /// Signs with a key that is never published (the header still names the
    /// current key): the signature does not verify.
    pub fn unpublished_key(mut self) -> Self {
        self.signing = Signing::Unpublished;
        self
    }

    /// Signs with HMAC-SHA256 and `secret` (`alg: HS256`), for algorithm-confusion tests.
    pub fn hs256(mut self, secret: &[u8]) -> Self {
        self.signing = Signing::Hmac(secret.to_vec());
        self.algorithm = Algorithm::HS256;
        self
    }

    /// An unsigned token (`alg: none`, empty signature).
    pub fn unsigned(mut self) -> Self {
        self.signing = Signing::None;
        self
    }

    /// The RSA algorithm: `RS256` (what Entra uses, the default), `RS384`,
    /// `RS512`, `PS256`, ...
    pub fn algorithm(mut self, alg: Algorithm) -> Self {
        self.algorithm = alg;
        self
    }

    /// Sets (or replaces) a claim after the defaults are computed.
    pub fn claim(mut self, name: impl Into<String>, value: Value) -> Self {
        self.overrides.push((name.into(), Some(value)));
        self
    }

    /// Removes a claim.
    pub fn without(mut self, name: impl Into<String>) -> Self {
        self.overrides.push((name.into(), None));
        self
    }

    /// Sets `aud`.
    pub fn audience(self, aud: impl Into<String>) -> Self {
        let aud: String = aud.into();
        self.claim("aud", Value::String(aud))
    }

    /// Sets `iss`.
    pub fn issuer(self, iss: impl Into<String>) -> Self {
        let iss: String = iss.into();
        self.claim("iss", Value::String(iss))
    }
}

/// A deterministic object id for the service principal of an app.
pub(crate) fn service_principal_oid(client_id: &ClientId) -> String {
    use sha2::Digest as _;
    let d = sha2::Sha256::digest(format!("sp|{client_id}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&d[..16]);
    uuid::Builder::from_random_bytes(bytes).into_uuid().to_string()
}

fn uti() -> String {
    URL_SAFE_NO_PAD.encode(uuid::Uuid::new_v4().as_bytes())
}

impl State {
    fn insert_groups(&self, map: &mut Map<String, Value>, spec: &TokenSpec, user: &TestUser) {
        let groups = spec.groups.as_ref().unwrap_or(&user.groups);
        let overage = spec.overage.unwrap_or(groups.len() > GROUP_OVERAGE_LIMIT);
        if overage {
            let tid = spec.tenant.as_ref().unwrap_or(&user.tid);
            map.insert("_claim_names".into(), json!({"groups": "src1"}));
            map.insert(
                "_claim_sources".into(),
                json!({"src1": {"endpoint": format!(
                    "https://graph.windows.net/{tid}/users/{}/getMemberObjects", user.oid
                )}}),
            );
        } else if !groups.is_empty() {
            map.insert("groups".into(), json!(groups));
        }
    }

    fn user_claims(
        &self,
        map: &mut Map<String, Value>,
        user: &TestUser,
        version: TokenVersion,
        sub_app: &ClientId,
    ) {
        map.insert("oid".into(), json!(user.oid));
        map.insert("sub".into(), json!(user.sub_for(sub_app)));
        map.insert("name".into(), json!(user.name));
        match version {
            TokenVersion::V2 => {
                map.insert("preferred_username".into(), json!(user.username));
            }
            _ => {
                map.insert("upn".into(), json!(user.username));
                map.insert("unique_name".into(), json!(user.username));
                map.insert("amr".into(), json!(["pwd"]));
            }
        }
        if !user.roles.is_empty() {
            map.insert("roles".into(), json!(user.roles));
        }
        if !user.wids.is_empty() {
            map.insert("wids".into(), json!(user.wids));
        }
    }

    fn caller_claims(&self, map: &mut Map<String, Value>, version: TokenVersion, client: &str) {
        match version {
            TokenVersion::V2 => {
                map.insert("azp".into(), json!(client));
                map.insert("azpacr".into(), json!("1"));
            }
            _ => {
                map.insert("appid".into(), json!(client));
                map.insert("appidacr".into(), json!("1"));
            }
        }
    }

    /// The claims of `spec`, before signing.
    pub(crate) fn claims_for(&self, spec: &TokenSpec) -> Value {
        let now = self.now();
        let lifetime = spec.lifetime.unwrap_or(self.token_lifetime);
        let iat = if spec.expired { now - 3600 - lifetime } else { now };
        let nbf = if spec.not_yet_valid { now + 3600 } else { iat };
        let default_client = spec.client.clone().unwrap_or_else(|| self.default_client.clone());
        let mut map = Map::new();
        let (version, tid) = match &spec.kind {
            Kind::Access { user, api } => {
                let version = spec.version.unwrap_or(api.version);
                let aud = match version {
                    TokenVersion::V2 => api.client_id.to_string(),
                    _ => api.app_id_uri(),
                };
                map.insert("aud".into(), json!(aud));
                self.caller_claims(&mut map, version, default_client.as_str());
                self.user_claims(&mut map, user, version, &api.client_id);
                let scopes = spec.scopes.clone().unwrap_or_else(|| {
                    if api.scopes.is_empty() {
                        vec!["access_as_user".to_owned()]
                    } else {
                        api.scopes.clone()
                    }
                });
                map.insert("scp".into(), json!(scopes.join(" ")));
                self.insert_groups(&mut map, spec, user);
                (version, user.tid.clone())
            }
            Kind::Id { user, client_id, nonce } => {
                let version = spec.version.unwrap_or(TokenVersion::V2);
                map.insert("aud".into(), json!(client_id));
                self.user_claims(&mut map, user, version, client_id);
                map.insert("email".into(), json!(user.username));
                if let Some(n) = nonce {
                    map.insert("nonce".into(), json!(n));
                }
                map.insert("auth_time".into(), json!(iat));
                // Entra's session id, for front-channel logout: one session per user here.
                map.insert("sid".into(), json!(format!("mock-session-{}", user.oid)));
                self.insert_groups(&mut map, spec, user);
                (version, user.tid.clone())
            }
            Kind::AppOnly { client, api } => {
                let version = spec.version.unwrap_or(api.version);
                let aud = match version {
                    TokenVersion::V2 => api.client_id.to_string(),
                    _ => api.app_id_uri(),
                };
                let caller = spec.client.clone().unwrap_or_else(|| client.client_id.clone());
                map.insert("aud".into(), json!(aud));
                self.caller_claims(&mut map, version, caller.as_str());
                let sp = service_principal_oid(&caller);
                map.insert("oid".into(), json!(sp));
                map.insert("sub".into(), json!(sp));
                map.insert("idtyp".into(), json!("app"));
                // Consented app roles of the API, else all of them.
                let consented: Vec<String> = self
                    .consents
                    .get(&(caller.clone(), Resource::App(api.client_id.clone())))
                    .map(|s| s.iter().filter(|r| api.app_roles.contains(r)).cloned().collect())
                    .unwrap_or_default();
                let roles = if consented.is_empty() { api.app_roles.clone() } else { consented };
                if !roles.is_empty() {
                    map.insert("roles".into(), json!(roles));
                }
                (version, client.tid.clone())
            }
            Kind::Graph { user } => {
                let version = spec.version.unwrap_or(TokenVersion::V1);
                map.insert("aud".into(), json!("https://graph.microsoft.com"));
                self.caller_claims(&mut map, version, default_client.as_str());
                self.user_claims(
                    &mut map,
                    user,
                    version,
                    &ClientId::parse(entra_core::GRAPH_APP_ID)
                        .unwrap_or_else(|_| default_client.clone()),
                );
                let scopes = spec.scopes.clone().unwrap_or_else(|| {
                    vec!["User.Read".to_owned(), "GroupMember.Read.All".to_owned()]
                });
                map.insert("scp".into(), json!(scopes.join(" ")));
                map.insert("idtyp".into(), json!("user"));
                (version, user.tid.clone())
            }
            Kind::Custom => (spec.version.unwrap_or(TokenVersion::V2), self.default_tenant.clone()),
        };
        let tid = spec.tenant.clone().unwrap_or(tid);
        let iss = match version {
            TokenVersion::V1 => self.cloud.v1_issuer(&tid),
            _ => self.cloud.v2_issuer(&tid),
        };
        map.insert("iss".into(), json!(iss));
        map.insert("iat".into(), json!(iat));
        map.insert("nbf".into(), json!(nbf));
        map.insert("exp".into(), json!(iat + lifetime));
        map.insert("tid".into(), json!(tid));
        map.insert("uti".into(), json!(uti()));
        map.insert("rh".into(), json!(format!("0.{}.", new_guid())));
        map.insert(
            "ver".into(),
            json!(match version {
                TokenVersion::V1 => "1.0",
                _ => "2.0",
            }),
        );
        for (name, value) in &spec.overrides {
            match value {
                Some(v) => {
                    map.insert(name.clone(), v.clone());
                }
                None => {
                    map.remove(name);
                }
            }
        }
        Value::Object(map)
    }

    /// Mints `spec`: claims, header, signature.
    pub(crate) fn mint(&self, spec: &TokenSpec) -> Result<String> {
        let claims = self.claims_for(spec);
        self.sign(spec, &claims)
    }

    pub(crate) fn sign(&self, spec: &TokenSpec, claims: &Value) -> Result<String> {
        let key = self.signing_key().ok_or(Error::NoSigningKey)?;
        let kid = spec.kid.clone().unwrap_or_else(|| key.kid.clone());
        let mut header = Header::new(spec.algorithm);
        header.kid = Some(kid.clone());
        if matches!(spec.signing, Signing::Current | Signing::Unpublished) {
            header.x5t = Some(kid);
        }
        let graph = matches!(spec.kind, Kind::Graph { .. });
        if spec.header_nonce.unwrap_or(graph) {
            header.nonce = Some(URL_SAFE_NO_PAD.encode(uuid::Uuid::new_v4().as_bytes()));
        }
        match &spec.signing {
            Signing::Current => {
                jsonwebtoken::encode(&header, claims, &key.encoding).map_err(Error::Key)
            }
            Signing::Unpublished => {
                let other = crate::keys::unpublished_key()?;
                jsonwebtoken::encode(&header, claims, &other.encoding).map_err(Error::Key)
            }
            Signing::Hmac(secret) => {
                jsonwebtoken::encode(&header, claims, &EncodingKey::from_secret(secret))
                    .map_err(Error::Key)
            }
            Signing::None => {
                let mut h = serde_json::to_value(&header).map_err(Error::Json)?;
                if let Some(m) = h.as_object_mut() {
                    m.insert("alg".into(), json!("none"));
                }
                let h = serde_json::to_vec(&h).map_err(Error::Json)?;
                let c = serde_json::to_vec(claims).map_err(Error::Json)?;
                Ok(format!("{}.{}.", URL_SAFE_NO_PAD.encode(h), URL_SAFE_NO_PAD.encode(c)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::test_support::state;

    #[test]
    fn claims_follow_version_and_overrides() {
        let s = state();
        let user = TestUser::new("u@contoso.com").tenant(s.default_tenant.clone());
        let api = TestApp::new("api").expose_scope("x");
        let v2 = s.claims_for(&TokenSpec::access(&user, &api));
        assert_eq!(v2["ver"], "2.0");
        assert_eq!(v2["iat"], 1_700_000_000);
        assert_eq!(v2["exp"], 1_700_003_600);
        assert_eq!(v2["iss"], "http://127.0.0.1:1/11111111-1111-1111-1111-111111111111/v2.0");
        let v1 = s.claims_for(&TokenSpec::access_v1(&user, &api).expired());
        assert_eq!(v1["iss"], "http://127.0.0.1:1/11111111-1111-1111-1111-111111111111/");
        assert!(v1["exp"].as_i64().unwrap() < 1_700_000_000);
        let c = s.claims_for(&TokenSpec::custom().claim("x", json!(1)).without("uti"));
        assert_eq!(c["x"], 1);
        assert!(c.get("uti").is_none());
        let big = TestUser::new("b@c").with_random_groups(GROUP_OVERAGE_LIMIT);
        assert!(s.claims_for(&TokenSpec::access(&big, &api))["groups"].is_array());
        let bigger = big.with_random_groups(1);
        assert!(s.claims_for(&TokenSpec::access(&bigger, &api)).get("groups").is_none());
    }

    #[test]
    fn debug_hides_overrides_and_keys() {
        let spec = TokenSpec::custom().claim("secret_claim", json!("v")).hs256(b"hmac-key");
        let d = format!("{spec:?}");
        assert!(!d.contains("secret_claim") && !d.contains("hmac"));
        let a = service_principal_oid(
            &ClientId::parse("22222222-2222-2222-2222-222222222222").unwrap(),
        );
        assert_eq!(a.len(), 36);
    }
}
