//! Successful token responses: the delegated access token, and what comes with it
//! (`scope`, `id_token`, `client_info`, `refresh_token`), as Entra shapes them.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use entra_core::TokenVersion;
use serde_json::{Value, json};

use crate::fault::{ErrorReply, FaultKind, aadsts_reply, fault_reply};
use crate::state::{RefreshGrant, Resource, State};
use crate::token::{Scopes, err};
use crate::{TestApp, TestUser, TokenSpec};

/// The pseudo app standing for Microsoft Graph in app-only tokens.
pub(crate) fn graph_app(roles: Vec<String>) -> TestApp {
    let mut app = TestApp::new("Microsoft Graph")
        .access_token_version(TokenVersion::V1)
        .app_id_uri_value("https://graph.microsoft.com");
    if let Ok(id) = entra_core::ClientId::parse(entra_core::GRAPH_APP_ID) {
        app = app.client_id(id);
    }
    app.app_roles = roles;
    app
}

/// Mints a delegated token of `user` for the requested resource, for `client`.
/// Returns (access token, granted scope string).
pub(crate) fn delegated(
    s: &State,
    user: &TestUser,
    client: &TestApp,
    resource: &Resource,
    permissions: &[String],
) -> Result<(String, String), ErrorReply> {
    let (spec, scope) = match resource {
        Resource::App(id) => {
            let api = s.app(id.as_str()).cloned().ok_or_else(|| {
                err(s, 500011, "The resource principal was not found in the tenant.")
            })?;
            let uri = api.app_id_uri();
            let scope =
                permissions.iter().map(|p| format!("{uri}/{p}")).collect::<Vec<_>>().join(" ");
            (TokenSpec::access(user, &api).scopes(permissions.to_vec()), scope)
        }
        Resource::Graph => {
            (TokenSpec::graph(user).scopes(permissions.to_vec()), permissions.join(" "))
        }
        Resource::Other(name) => (
            TokenSpec::access(user, &TestApp::new("other"))
                .audience(name.clone())
                .scopes(permissions.to_vec()),
            permissions.join(" "),
        ),
    };
    let token = s.mint(&spec.client(&client.client_id)).map_err(|_| server_error(s))?;
    Ok((token, scope))
}

pub(crate) fn server_error(s: &State) -> ErrorReply {
    fault_reply(&FaultKind::Status(500), s.now())
        .unwrap_or_else(|| aadsts_reply(90033, None, s.now()))
}

/// The success body of a token response.
pub(crate) fn token_body(s: &State, access: String, scope: String) -> Value {
    json!({
        "token_type": "Bearer",
        "scope": scope,
        "expires_in": s.token_lifetime,
        "ext_expires_in": s.token_lifetime,
        "access_token": access,
    })
}

/// Stores a new refresh token and returns it.
pub(crate) fn new_refresh_token(s: &mut State, grant: RefreshGrant) -> String {
    let token = format!("1.mock-rt.{}", URL_SAFE_NO_PAD.encode(uuid::Uuid::new_v4().as_bytes()));
    s.refresh_tokens.insert(token.clone(), grant);
    token
}

/// Default permissions for `.default` or no resource scope: consented, else the
/// API's exposed scopes (Graph: `User.Read`).
pub(crate) fn default_permissions(s: &State, client: &TestApp, resource: &Resource) -> Vec<String> {
    if let Some(set) = s.consents.get(&(client.client_id.clone(), resource.clone()))
        && !set.is_empty()
    {
        return set.iter().cloned().collect();
    }
    match resource {
        Resource::App(id) => s.app(id.as_str()).map(|a| a.scopes.clone()).unwrap_or_default(),
        _ => vec!["User.Read".to_owned()],
    }
}

/// The `scope` of a token response: the granted permissions, `{resource}/.default`
/// when it was asked for (so that clients caching by requested scopes find the
/// token), and the OpenID Connect scopes asked for.
pub(crate) fn response_scope(granted: String, scopes: &Scopes) -> String {
    let mut all = vec![granted];
    if scopes.default {
        all.push(format!("{}/.default", scopes.resource_id));
    }
    all.extend(scopes.oidc.iter().cloned());
    all.join(" ").split_ascii_whitespace().collect::<Vec<_>>().join(" ")
}

/// What a user token response carries besides the access token.
pub(crate) struct UserExtras<'a> {
    pub(crate) user: &'a TestUser,
    pub(crate) client: &'a TestApp,
    pub(crate) scopes: &'a Scopes,
    /// The `scope` to remember for a refresh token.
    pub(crate) refresh_scope: &'a str,
    pub(crate) nonce: Option<&'a str>,
    pub(crate) client_info: bool,
}

/// Adds `id_token` (when `openid` was asked for), `client_info` (when asked for
/// with `client_info=1`) and `refresh_token` (when `offline_access` was asked
/// for) to a token response, as Entra does.
pub(crate) fn add_user_extras(
    s: &mut State,
    body: &mut Value,
    x: &UserExtras<'_>,
) -> Result<(), ErrorReply> {
    if x.scopes.oidc.contains("openid") {
        let id = s
            .mint(&TokenSpec::id_token(x.user, &x.client.client_id, x.nonce))
            .map_err(|_| server_error(s))?;
        body["id_token"] = json!(id);
        s.join_session(x.user, &x.client.client_id);
    }
    if x.client_info {
        body["client_info"] = json!(crate::authorize::client_info(x.user));
    }
    if x.scopes.offline() {
        let rt = new_refresh_token(
            s,
            RefreshGrant {
                client_id: x.client.client_id.clone(),
                user_oid: x.user.oid.clone(),
                scope: x.refresh_scope.to_owned(),
            },
        );
        body["refresh_token"] = json!(rt);
    }
    Ok(())
}
