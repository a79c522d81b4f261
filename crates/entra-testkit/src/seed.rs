//! The directory as data: the shapes that a seed file (`--config`, JSON or TOML)
//! and the control API take and give back, and how they change the state.

use entra_core::{ClientId, TenantId, TokenVersion};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::keys::TestCertificate;
use crate::state::State;
use crate::{Error, Result, TestApp, TestUser};

/// A seed file: tenants, apps, users, consents and the auto-login user. (No
/// `Debug`: apps hold secrets.)
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Seed {
    #[serde(default)]
    pub(crate) tenants: Vec<TenantSpec>,
    #[serde(default)]
    pub(crate) apps: Vec<AppSpec>,
    #[serde(default)]
    pub(crate) users: Vec<UserSpec>,
    #[serde(default)]
    pub(crate) consents: Vec<ConsentSpec>,
    #[serde(default)]
    pub(crate) auto_login: Option<String>,
}

/// A tenant: its id (random when absent) and verified domains.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TenantSpec {
    #[serde(default)]
    pub(crate) tenant_id: Option<String>,
    #[serde(default)]
    pub(crate) domains: Vec<String>,
}

/// An app registration. (No `Debug`: it holds the secret.)
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AppSpec {
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) client_id: Option<String>,
    #[serde(default)]
    pub(crate) tenant: Option<String>,
    #[serde(default)]
    pub(crate) secret: Option<String>,
    /// Generate a certificate credential (its key comes back once, on creation).
    #[serde(default)]
    pub(crate) certificate: bool,
    #[serde(default)]
    pub(crate) public_client: bool,
    #[serde(default)]
    pub(crate) redirect_uris: Vec<String>,
    #[serde(default)]
    pub(crate) post_logout_redirect_uris: Vec<String>,
    #[serde(default)]
    pub(crate) front_channel_logout_url: Option<String>,
    #[serde(default)]
    pub(crate) scopes: Vec<String>,
    #[serde(default)]
    pub(crate) app_roles: Vec<String>,
    /// `1` or `2`: the version of access tokens issued for this app.
    #[serde(default)]
    pub(crate) token_version: Option<u8>,
    #[serde(default)]
    pub(crate) app_id_uri: Option<String>,
}

/// A user.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct UserSpec {
    pub(crate) username: String,
    #[serde(default)]
    pub(crate) name: Option<String>,
    #[serde(default)]
    pub(crate) oid: Option<String>,
    #[serde(default)]
    pub(crate) tenant: Option<String>,
    #[serde(default)]
    pub(crate) groups: Vec<String>,
    /// Adds this many groups with random ids (over 200: group overage).
    #[serde(default)]
    pub(crate) random_groups: usize,
    #[serde(default)]
    pub(crate) roles: Vec<String>,
    #[serde(default)]
    pub(crate) wids: Vec<String>,
}

/// A consent grant: `client_id` may get `scopes` of `resource`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConsentSpec {
    pub(crate) client_id: String,
    pub(crate) resource: String,
    #[serde(default)]
    pub(crate) scopes: Vec<String>,
}

fn seed_err(what: impl Into<String>) -> Error {
    Error::Seed { reason: what.into(), source: None }
}

fn seed_err_from(
    what: impl Into<String>,
    e: impl std::error::Error + Send + Sync + 'static,
) -> Error {
    Error::Seed { reason: what.into(), source: Some(Box::new(e)) }
}

/// Parses a seed: TOML when `toml`, else JSON.
pub(crate) fn parse(text: &str, toml: bool) -> Result<Seed> {
    if toml {
        ::toml::from_str(text).map_err(|e| seed_err_from("not a TOML seed", e))
    } else {
        serde_json::from_str(text).map_err(|e| seed_err_from("not a JSON seed", e))
    }
}

pub(crate) fn tenant_id(s: &str) -> Result<TenantId> {
    TenantId::parse(s.trim()).map_err(|e| seed_err_from(format!("tenant {s:?}"), e))
}

fn client_id(s: &str) -> Result<ClientId> {
    ClientId::parse(s.trim()).map_err(|e| seed_err_from(format!("client id {s:?}"), e))
}

impl State {
    /// The tenant named by id or verified domain.
    pub(crate) fn find_tenant(&self, name: &str) -> Result<TenantId> {
        let lower = name.trim().to_ascii_lowercase();
        if let Some(t) = self.domains.get(&lower) {
            return Ok(t.clone());
        }
        let tid = tenant_id(name)?;
        if self.is_tenant(tid.as_str()) {
            Ok(tid)
        } else {
            Err(seed_err(format!("no tenant {name:?} in the mock")))
        }
    }

    /// The user named by object id, username, `login_hint` or (when unique) the
    /// part of the username before `@`.
    pub(crate) fn find_user(&self, key: &str) -> Result<TestUser> {
        let key = key.trim();
        if let Some(u) = self.user(key).or_else(|| self.user_by_name(key)) {
            return Ok(u.clone());
        }
        if let Some(u) = TestUser::oid_of_login_hint(key).and_then(|oid| self.user(&oid)) {
            return Ok(u.clone());
        }
        let local: Vec<&TestUser> = self
            .users
            .iter()
            .filter(|u| u.username.split('@').next().is_some_and(|l| l.eq_ignore_ascii_case(key)))
            .collect();
        match local.as_slice() {
            [one] => Ok((*one).clone()),
            [] => Err(seed_err(format!("no user {key:?} in the mock"))),
            _ => Err(seed_err(format!("{key:?} names more than one user: use the username"))),
        }
    }

    /// The app named by client id, App ID URI or (when unique) display name.
    pub(crate) fn find_app(&self, key: &str) -> Result<TestApp> {
        let key = key.trim();
        if let Some(a) = self.apps.iter().find(|a| a.is_audience(key.trim_end_matches('/'))) {
            return Ok(a.clone());
        }
        let named: Vec<&TestApp> =
            self.apps.iter().filter(|a| a.name.eq_ignore_ascii_case(key)).collect();
        match named.as_slice() {
            [one] => Ok((*one).clone()),
            [] => Err(seed_err(format!("no app {key:?} in the mock"))),
            _ => Err(seed_err(format!("{key:?} names more than one app: use the client id"))),
        }
    }

    /// Adds a tenant; returns its id.
    pub(crate) fn seed_tenant(&mut self, spec: &TenantSpec) -> Result<TenantId> {
        let tid = match &spec.tenant_id {
            Some(t) => tenant_id(t)?,
            None => tenant_id(&crate::model::new_guid())?,
        };
        if !self.is_tenant(tid.as_str()) {
            self.tenants.push(tid.clone());
        }
        for d in &spec.domains {
            self.domains.insert(d.trim().to_ascii_lowercase(), tid.clone());
        }
        Ok(tid)
    }

    /// Registers an app; returns it (with its certificate's key, once).
    pub(crate) fn seed_app(&mut self, spec: &AppSpec) -> Result<(TestApp, Value)> {
        let mut app = TestApp::new(spec.name.clone());
        if let Some(id) = &spec.client_id {
            app = app.client_id(client_id(id)?);
        }
        if let Some(t) = &spec.tenant {
            app = app.tenant(self.find_tenant(t)?);
        }
        if let Some(secret) = &spec.secret {
            app = app.secret(secret.clone());
        }
        let cert = if spec.certificate {
            let c = TestCertificate::try_generate(&format!("CN={}", spec.name))?;
            app = app.certificate(c.clone());
            Some(c)
        } else {
            None
        };
        if spec.public_client {
            app = app.public_client();
        }
        for u in &spec.redirect_uris {
            app = app.redirect_uri(u.clone());
        }
        for u in &spec.post_logout_redirect_uris {
            app = app.post_logout_redirect_uri(u.clone());
        }
        if let Some(u) = &spec.front_channel_logout_url {
            app = app.front_channel_logout_url(u.clone());
        }
        for sc in &spec.scopes {
            app = app.expose_scope(sc.clone());
        }
        for r in &spec.app_roles {
            app = app.app_role(r.clone());
        }
        match spec.token_version {
            None | Some(2) => {}
            Some(1) => app = app.access_token_version(TokenVersion::V1),
            Some(v) => return Err(seed_err(format!("token_version {v}: use 1 or 2"))),
        }
        if let Some(uri) = &spec.app_id_uri {
            app = app.app_id_uri_value(uri.clone());
        }
        let app = self.register_app(app);
        let mut view = app_json(&app);
        if let Some(c) = cert {
            view["certificate"] = certificate_json(&c, true);
        }
        Ok((app, view))
    }

    /// Adds a user; returns it.
    pub(crate) fn seed_user(&mut self, spec: &UserSpec) -> Result<TestUser> {
        if spec.username.trim().is_empty() {
            return Err(seed_err("a user needs a username"));
        }
        let mut user = TestUser::new(spec.username.trim());
        if let Some(n) = &spec.name {
            user = user.name(n.clone());
        }
        if let Some(oid) = &spec.oid {
            let oid = uuid::Uuid::parse_str(oid.trim())
                .map_err(|_| seed_err(format!("oid {oid:?} is not a GUID")))?;
            user = user.oid(oid.to_string());
        }
        if let Some(t) = &spec.tenant {
            user = user.tenant(self.find_tenant(t)?);
        }
        user = user
            .groups(spec.groups.iter().cloned())
            .with_random_groups(spec.random_groups.min(100_000))
            .roles(spec.roles.iter().cloned())
            .wids(spec.wids.iter().cloned());
        Ok(self.add_user(user))
    }

    /// Grants a consent.
    pub(crate) fn seed_consent(&mut self, spec: &ConsentSpec) -> Result<()> {
        let app = self.find_app(&spec.client_id)?;
        self.grant_consent(&app.client_id, &spec.resource, spec.scopes.iter().cloned());
        Ok(())
    }

    /// Applies a whole seed, in order: tenants, apps, users, consents, auto-login.
    /// Returns the registered apps (with generated certificates) and users.
    pub(crate) fn apply_seed(&mut self, seed: &Seed) -> Result<Value> {
        let mut tenants = Vec::new();
        for t in &seed.tenants {
            tenants.push(json!(self.seed_tenant(t)?));
        }
        let mut apps = Vec::new();
        for a in &seed.apps {
            apps.push(self.seed_app(a)?.1);
        }
        let mut users = Vec::new();
        for u in &seed.users {
            let user = self.seed_user(u)?;
            users.push(user_json(self, &user));
        }
        for c in &seed.consents {
            self.seed_consent(c)?;
        }
        if let Some(name) = &seed.auto_login {
            self.auto_login = Some(self.find_user(name)?.oid);
        }
        Ok(json!({"tenants": tenants, "apps": apps, "users": users}))
    }
}

/// An app as the control API shows it.
pub(crate) fn app_json(app: &TestApp) -> Value {
    json!({
        "client_id": app.client_id,
        "name": app.name,
        "tenant_id": app.tid,
        "app_id_uri": app.app_id_uri(),
        "secret": app.client_secret().map(|s| s.expose_secret().to_owned()),
        "public_client": app.is_public_client(),
        "redirect_uris": app.redirect_uris(),
        "post_logout_redirect_uris": app.post_logout_redirect_uris(),
        "front_channel_logout_url": app.front_channel_logout(),
        "scopes": app.scopes(),
        "qualified_scopes": app.qualified_scopes(),
        "app_roles": app.app_roles(),
        "token_version": match app.token_version() { TokenVersion::V1 => 1, _ => 2 },
        "certificate": app.client_certificate().map(|c| certificate_json(c, false)),
    })
}

/// A certificate credential; the private key only when `with_key`.
pub(crate) fn certificate_json(c: &TestCertificate, with_key: bool) -> Value {
    use sha1::Digest as _;
    let sha1_hex: String = sha1::Sha1::digest(c.der()).iter().map(|b| format!("{b:02X}")).collect();
    let mut v = json!({
        "cert_pem": c.cert_pem(),
        "x5t": c.x5t(),
        "x5t_s256": c.x5t_s256(),
        "thumbprint_sha1_hex": sha1_hex,
    });
    if with_key {
        v["key_pem"] = json!(c.key_pem());
    }
    v
}

/// A user as the control API shows it.
pub(crate) fn user_json(s: &State, u: &TestUser) -> Value {
    json!({
        "oid": u.oid,
        "tenant_id": u.tid,
        "username": u.username,
        "name": u.name,
        "groups": u.groups,
        "roles": u.roles,
        "wids": u.wids,
        "login_hint": u.login_hint(),
        "sid": s.sid(u),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::test_support::state;

    #[test]
    fn json_and_toml_seeds_fill_the_directory() {
        let toml = r#"
            auto_login = "alice"
            [[tenants]]
            tenant_id = "33333333-3333-3333-3333-333333333333"
            domains = ["fabrikam.example"]
            [[apps]]
            name = "web"
            client_id = "44444444-4444-4444-4444-444444444444"
            secret = "s"
            redirect_uris = ["http://localhost:3000/cb"]
            [[users]]
            username = "alice@contoso.example"
            groups = ["g1"]
            [[users]]
            username = "carol@fabrikam.example"
            tenant = "fabrikam.example"
            [[consents]]
            client_id = "web"
            resource = "https://graph.microsoft.com"
            scopes = ["User.Read"]
        "#;
        let mut s = state();
        let out = s.apply_seed(&parse(toml, true).unwrap()).unwrap();
        assert_eq!(out["apps"][0]["client_id"], "44444444-4444-4444-4444-444444444444");
        assert_eq!(s.find_user("alice").unwrap().groups, vec!["g1".to_owned()]);
        assert_eq!(
            s.find_user("carol@fabrikam.example").unwrap().tid.as_str(),
            "33333333-3333-3333-3333-333333333333"
        );
        assert!(s.auto_login.is_some());
        assert_eq!(s.find_app("web").unwrap().redirect_uris().len(), 1);

        let json = r#"{"apps": [{"name": "cert-app", "certificate": true, "token_version": 1}]}"#;
        let out = s.apply_seed(&parse(json, false).unwrap()).unwrap();
        assert!(out["apps"][0]["certificate"]["key_pem"].as_str().unwrap().contains("PRIVATE KEY"));
        assert_eq!(out["apps"][0]["token_version"], 1);
    }

    #[test]
    fn bad_seeds_are_refused_with_the_reason() {
        let mut s = state();
        let Err(e) = parse(r#"{"apps": [{"name": "x", "colour": "red"}]}"#, false) else {
            panic!("an unknown field must be refused")
        };
        assert!(e.to_string_with_sources().contains("colour"), "{e}");
        assert!(parse("apps = 3", true).is_err());
        let bad_version = parse(r#"{"apps": [{"name": "x", "token_version": 3}]}"#, false).unwrap();
        let e = s.apply_seed(&bad_version).unwrap_err();
        assert!(e.to_string().contains("token_version") && e.code() == "invalid_seed");
        let no_tenant =
            parse(r#"{"users": [{"username": "u@x", "tenant": "nowhere.example"}]}"#, false)
                .unwrap();
        assert!(s.apply_seed(&no_tenant).is_err());
        let bad_oid = parse(r#"{"users": [{"username": "u@x", "oid": "nope"}]}"#, false).unwrap();
        assert!(s.apply_seed(&bad_oid).is_err());
        assert!(s.find_user("nobody").is_err());
    }
}
