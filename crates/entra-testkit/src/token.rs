//! The token endpoint: grant dispatch, client authentication, authorization code,
//! refresh and client credentials. On-behalf-of lives in `obo.rs`.

use std::collections::BTreeSet;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use entra_core::CLIENT_ASSERTION_TYPE;
use jsonwebtoken::{Algorithm, Validation};
use serde_json::{Value, json};
use sha2::Digest as _;

use crate::fault::{ErrorReply, FaultKind, aadsts_reply, fault_reply};
use crate::issue::{
    UserExtras, add_user_extras, default_permissions, delegated, graph_app, response_scope,
    server_error, token_body,
};
use crate::router::{Segment, error_reply, json_reply};
use crate::server::{Request, Response};
use crate::state::{Resource, State};
use crate::{TestApp, TestUser, TokenSpec};

/// The OBO grant type.
pub(crate) const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// Scopes that request OpenID Connect artifacts rather than a resource.
const OIDC_SCOPES: [&str; 4] = ["openid", "profile", "email", "offline_access"];

pub(crate) type Reply = Result<Value, ErrorReply>;

/// The parsed form of a token request.
pub(crate) struct Form(pub(crate) Vec<(String, String)>);

impl Form {
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
    }
}

/// An error for `code` with a specific description.
pub(crate) fn err(s: &State, code: u32, description: impl Into<String>) -> ErrorReply {
    aadsts_reply(code, Some(description.into()), s.now())
}

/// As [`err`], with another OAuth `error`.
pub(crate) fn err_as(
    s: &State,
    code: u32,
    error: &str,
    description: impl Into<String>,
) -> ErrorReply {
    let mut e = err(s, code, description);
    if let Some(m) = e.body.as_object_mut() {
        m.insert("error".into(), json!(error));
    }
    e
}

pub(crate) fn missing(s: &State, name: &str) -> ErrorReply {
    err_as(
        s,
        900144,
        "invalid_request",
        format!("The request body must contain the following parameter: '{name}'."),
    )
}

/// Applies a queued or per-user fault: `Err` with the reply, or `Ok(delay)`.
fn apply_fault(
    s: &State,
    kind: &FaultKind,
    delay: Option<Duration>,
) -> Result<Option<Duration>, Box<Response>> {
    match fault_reply(kind, s.now()) {
        None => Ok(delay),
        Some(reply) => {
            let r = error_reply(reply);
            Err(Box::new(match delay {
                Some(d) => r.set_delay(d),
                None => r,
            }))
        }
    }
}

/// The per-user fault of `oid`, as an error reply (pure delays are ignored here).
pub(crate) fn user_fault(s: &State, oid: &str) -> Result<(), ErrorReply> {
    let Some(f) = s.user_faults.get(&oid.to_ascii_lowercase()) else {
        return Ok(());
    };
    match fault_reply(&f.kind, s.now()) {
        Some(reply) => Err(reply),
        None => Ok(()),
    }
}

/// The v1 `resource` parameter as a v2 scope: `{resource}/.default`.
pub(crate) fn v1_resource_scope(resource: &str) -> String {
    format!("{}/.default", resource.trim_end_matches('/'))
}

pub(crate) fn token(s: &mut State, req: &Request, segment: &Segment, v1: bool) -> Response {
    let mut delay = None;
    if let Some(f) = s.faults.pop_front() {
        match apply_fault(s, &f.kind, f.delay) {
            Ok(d) => delay = d,
            Err(r) => return *r,
        }
    }
    let mut form = Form(serde_urlencoded::from_bytes(&req.body).unwrap_or_default());
    let token_url = if v1 {
        // The v1 endpoint takes `resource` instead of `scope`.
        if let Some(resource) = form.get("resource").map(v1_resource_scope) {
            form.0.retain(|(k, _)| k != "resource" && k != "scope");
            form.0.push(("scope".into(), resource));
        }
        format!("{}/{}/oauth2/token", s.uri, segment.as_str())
    } else {
        format!("{}/{}/oauth2/v2.0/token", s.uri, segment.as_str())
    };
    let reply = match form.get("grant_type") {
        None => Err(missing(s, "grant_type")),
        Some("authorization_code") => authorization_code(s, req, &form, &token_url),
        Some("refresh_token") => refresh(s, req, &form, &token_url),
        Some("client_credentials") => client_credentials(s, req, &form, &token_url),
        Some(JWT_BEARER) => crate::obo::on_behalf_of(s, req, &form, &token_url),
        Some(other) => Err(err_as(
            s,
            70003,
            "unsupported_grant_type",
            format!("The app requested an unsupported grant type '{}'.", short(other)),
        )),
    };
    let r = match reply {
        Ok(body) => json_reply(200, &body),
        Err(e) => error_reply(e),
    };
    match delay {
        Some(d) => r.set_delay(d),
        None => r,
    }
}

pub(crate) fn short(s: &str) -> String {
    s.chars().take(80).collect()
}

/// How the client authenticated.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum ClientAuth {
    Public,
    Secret,
    Certificate,
}

fn basic_credentials(req: &Request) -> Option<(String, String)> {
    let value = req.headers.get("authorization")?.to_str().ok()?;
    let (scheme, rest) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = STANDARD.decode(rest.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    let unescape = |v: &str| {
        url::form_urlencoded::parse(format!("v={v}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    Some((unescape(id), unescape(secret)))
}

/// Authenticates the client: secret (body or Basic), certificate assertion, or
/// none for public clients.
pub(crate) fn authenticate(
    s: &State,
    req: &Request,
    form: &Form,
    token_url: &str,
) -> Result<(TestApp, ClientAuth), ErrorReply> {
    let basic = basic_credentials(req);
    let client_id = match (form.get("client_id"), &basic) {
        (Some(id), Some((b, _))) if !id.eq_ignore_ascii_case(b) => {
            return Err(err_as(
                s,
                900144,
                "invalid_request",
                "The client_id in the body does not match the one in the Authorization header.",
            ));
        }
        (Some(id), _) => id.to_owned(),
        (None, Some((b, _))) => b.clone(),
        (None, None) => return Err(missing(s, "client_id")),
    };
    let Some(app) = s.app(&client_id).cloned() else {
        return Err(err(
            s,
            700016,
            format!(
                "Application with identifier '{}' was not found in the directory. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.",
                short(&client_id)
            ),
        ));
    };
    let secret = form.get("client_secret").map(str::to_owned).or(basic.map(|(_, s)| s));
    if let Some(kind) = form.get("client_assertion_type") {
        if kind != CLIENT_ASSERTION_TYPE {
            return Err(err_as(
                s,
                700023,
                "invalid_request",
                "The client_assertion_type is not supported.",
            ));
        }
        let Some(assertion) = form.get("client_assertion") else {
            return Err(missing(s, "client_assertion"));
        };
        verify_client_assertion(s, &app, assertion, token_url)?;
        return Ok((app, ClientAuth::Certificate));
    }
    if let Some(secret) = secret {
        if app.public_client && app.secret.is_none() {
            return Err(err(
                s,
                700025,
                "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.",
            ));
        }
        let ok = app
            .secret
            .as_ref()
            .is_some_and(|known| known.expose_secret().as_bytes() == secret.as_bytes());
        if !ok {
            return Err(err(
                s,
                7000215,
                format!(
                    "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{}'.",
                    app.client_id
                ),
            ));
        }
        return Ok((app, ClientAuth::Secret));
    }
    if app.public_client {
        return Ok((app, ClientAuth::Public));
    }
    Err(err(
        s,
        7000218,
        "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
    ))
}

fn verify_client_assertion(
    s: &State,
    app: &TestApp,
    assertion: &str,
    token_url: &str,
) -> Result<(), ErrorReply> {
    let bad_sig = |why: &str| {
        err(s, 700027, format!("Client assertion failed signature validation. [Reason - {why}]"))
    };
    let header = jsonwebtoken::decode_header(assertion)
        .map_err(|_| bad_sig("The assertion is not a valid JWT."))?;
    let Some(cert) = &app.certificate else {
        return Err(bad_sig(
            "The key was not found. The application has no certificate credential.",
        ));
    };
    // Thumbprints are base64url; MSAL Python pads them, which Entra accepts.
    let same = |sent: Option<&str>, known: String| {
        sent.is_some_and(|t| t.trim_end_matches('=') == known.as_str())
    };
    let thumb_ok = match header.alg {
        Algorithm::PS256 => same(header.x5t_s256.as_deref(), cert.x5t_s256()),
        Algorithm::RS256 => {
            same(header.x5t.as_deref(), cert.x5t())
                || same(header.x5t_s256.as_deref(), cert.x5t_s256())
        }
        _ => return Err(bad_sig("The algorithm is not supported; use PS256 or RS256.")),
    };
    if !thumb_ok {
        return Err(bad_sig("The key was not found. No certificate matches the thumbprint."));
    }
    let key = cert.decoding_key().map_err(|_| bad_sig("The certificate key is unusable."))?;
    let claims: Value = jsonwebtoken::decode(assertion, &key, &lenient(header.alg))
        .map_err(|_| bad_sig("The signature does not verify."))?
        .claims;
    let aud_ok = audiences(&claims).iter().any(|a| {
        a == token_url
            || s.tenants.iter().any(|t| {
                *a == format!("{}/{t}/oauth2/v2.0/token", s.uri) || *a == s.cloud.v2_issuer(t)
            })
    });
    if !aud_ok {
        return Err(err(
            s,
            700023,
            format!(
                "Client assertion audience claim does not match Realm issuer. Expected '{token_url}'."
            ),
        ));
    }
    let id = app.client_id.as_str();
    if claims["iss"].as_str() != Some(id) || claims["sub"].as_str() != Some(id) {
        return Err(err(
            s,
            700021,
            "Client assertion application identifier doesn't match 'client_id' parameter.",
        ));
    }
    let now = s.now();
    let exp = numeric_date(&claims["exp"]).unwrap_or(i64::MIN);
    let nbf = numeric_date(&claims["nbf"]).unwrap_or(i64::MIN);
    if exp <= now - 300 || nbf > now + 300 {
        return Err(err(s, 700024, "Client assertion is not within its valid time range."));
    }
    Ok(())
}

/// Signature-only validation: the mock checks times and audiences with its clock.
pub(crate) fn lenient(alg: Algorithm) -> Validation {
    let mut v = Validation::new(alg);
    v.validate_exp = false;
    v.validate_nbf = false;
    v.validate_aud = false;
    v.required_spec_claims.clear();
    v
}

/// A JWT NumericDate (RFC 7519 section 2): whole seconds, or fractional ones as
/// PyJWT writes them, rounded down.
pub(crate) fn numeric_date(v: &Value) -> Option<i64> {
    v.as_i64().or_else(|| {
        let f = v.as_f64().filter(|f| f.is_finite() && f.abs() < 1e15)?;
        #[allow(clippy::cast_possible_truncation)] // finite and within range: checked above
        Some(f.floor() as i64)
    })
}

pub(crate) fn audiences(claims: &Value) -> Vec<String> {
    match &claims["aud"] {
        Value::String(a) => vec![a.clone()],
        Value::Array(v) => v.iter().filter_map(|a| a.as_str().map(str::to_owned)).collect(),
        _ => Vec::new(),
    }
}

/// A parsed `scope` parameter.
#[derive(Debug, Default)]
pub(crate) struct Scopes {
    pub(crate) oidc: BTreeSet<String>,
    pub(crate) resource: Option<Resource>,
    pub(crate) resource_id: String,
    pub(crate) permissions: Vec<String>,
    pub(crate) default: bool,
}

impl Scopes {
    pub(crate) fn offline(&self) -> bool {
        self.oidc.contains("offline_access")
    }
}

/// Parses scopes as Entra does: one resource per request, `.default` alone.
pub(crate) fn parse_scopes(s: &State, scope: &str) -> Result<Scopes, ErrorReply> {
    let mut out = Scopes::default();
    let mut resources: Vec<(String, Resource)> = Vec::new();
    let mut others = 0usize;
    for item in scope.split_ascii_whitespace() {
        if OIDC_SCOPES.contains(&item.to_ascii_lowercase().as_str()) {
            out.oidc.insert(item.to_ascii_lowercase());
            continue;
        }
        let (resource_id, perm) = match item.rsplit_once('/') {
            Some((r, p)) if !r.is_empty() => (r.to_owned(), p.to_owned()),
            _ => (s.cloud.graph_base().to_owned(), item.trim_start_matches('/').to_owned()),
        };
        let resource = s.resource(&resource_id);
        if !resources.iter().any(|(_, r)| *r == resource) {
            resources.push((resource_id.clone(), resource));
        }
        if perm == ".default" {
            out.default = true;
        } else {
            others += 1;
            out.permissions.push(perm);
        }
    }
    if resources.len() > 1 {
        return Err(err_as(
            s,
            28000,
            "invalid_scope",
            format!(
                "Provided value for the input parameter scope is not valid because it contains more than one resource. Scope {} is not valid.",
                short(scope)
            ),
        ));
    }
    if out.default && others > 0 {
        return Err(err_as(
            s,
            70011,
            "invalid_scope",
            format!(
                "The provided value for the input parameter 'scope' is not valid. The scope {} is not valid. static scope limit exceeded.",
                short(scope)
            ),
        ));
    }
    if let Some((id, r)) = resources.pop() {
        if let Resource::Other(name) = &r {
            return Err(err_as(
                s,
                500011,
                "invalid_resource",
                format!(
                    "The resource principal named {} was not found in the tenant. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.",
                    short(name)
                ),
            ));
        }
        out.resource = Some(r);
        out.resource_id = id;
    }
    Ok(out)
}

/// Issues the tokens of a user sign-in (authorization code or refresh).
fn issue_for_user(
    s: &mut State,
    user: &TestUser,
    client: &TestApp,
    scope: &str,
    nonce: Option<&str>,
    client_info: bool,
) -> Reply {
    let scopes = parse_scopes(s, scope)?;
    let resource = scopes.resource.clone().unwrap_or(Resource::Graph);
    let permissions = if scopes.default || scopes.permissions.is_empty() {
        default_permissions(s, client, &resource)
    } else {
        scopes.permissions.clone()
    };
    let (access, granted) = delegated(s, user, client, &resource, &permissions)?;
    let mut body = token_body(s, access, response_scope(granted, &scopes));
    let extras =
        UserExtras { user, client, scopes: &scopes, refresh_scope: scope, nonce, client_info };
    add_user_extras(s, &mut body, &extras)?;
    Ok(body)
}

fn authorization_code(s: &mut State, req: &Request, form: &Form, token_url: &str) -> Reply {
    let (client, _) = authenticate(s, req, form, token_url)?;
    let code = form.get("code").ok_or_else(|| missing(s, "code"))?.to_owned();
    let invalid_code = |s: &State, why: &str| {
        err(s, 70000, format!("The provided value for the 'code' parameter is not valid. {why}"))
    };
    let Some(pending) = s.codes.get(&code).cloned() else {
        return Err(invalid_code(s, "The code is unknown."));
    };
    if pending.redeemed {
        return Err(err(
            s,
            54005,
            "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.",
        ));
    }
    if pending.client_id != client.client_id {
        return Err(invalid_code(s, "The code was issued to another client."));
    }
    if pending.expires_at <= s.now() {
        return Err(err(
            s,
            70008,
            "The provided authorization code or refresh token has expired due to inactivity.",
        ));
    }
    if form.get("redirect_uri") != Some(pending.redirect_uri.as_str()) {
        return Err(err_as(
            s,
            50011,
            "invalid_grant",
            format!(
                "The redirect URI '{}' specified in the request does not match the redirect URI of the authorization request.",
                short(form.get("redirect_uri").unwrap_or(""))
            ),
        ));
    }
    if let Some((challenge, method)) = &pending.challenge {
        let Some(verifier) = form.get("code_verifier") else {
            return Err(err(
                s,
                501481,
                "The Code_Verifier does not match the code_challenge supplied in the authorization request. The code_verifier is missing.",
            ));
        };
        let computed = if method == "plain" {
            verifier.to_owned()
        } else {
            URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()))
        };
        if &computed != challenge {
            return Err(err(
                s,
                501481,
                "The Code_Verifier does not match the code_challenge supplied in the authorization request.",
            ));
        }
    }
    let Some(user) = s.user(&pending.user_oid).cloned() else {
        return Err(invalid_code(s, "The user no longer exists."));
    };
    user_fault(s, &user.oid)?;
    let scope = form.get("scope").map_or_else(
        || pending.scope.clone(),
        |sc| {
            // The token request may repeat the scopes; OIDC scopes come from the authorize request.
            let mut all: Vec<&str> = sc.split_ascii_whitespace().collect();
            for o in pending.scope.split_ascii_whitespace() {
                if OIDC_SCOPES.contains(&o) && !all.contains(&o) {
                    all.push(o);
                }
            }
            all.join(" ")
        },
    );
    if let Some(p) = s.codes.get_mut(&code) {
        p.redeemed = true;
    }
    let client_info = pending.client_info || form.get("client_info") == Some("1");
    issue_for_user(s, &user, &client, &scope, pending.nonce.as_deref(), client_info)
}

fn refresh(s: &mut State, req: &Request, form: &Form, token_url: &str) -> Reply {
    let (client, _) = authenticate(s, req, form, token_url)?;
    let rt = form.get("refresh_token").ok_or_else(|| missing(s, "refresh_token"))?;
    let Some(grant) = s.refresh_tokens.get(rt).cloned() else {
        return Err(err_as(
            s,
            9002313,
            "invalid_grant",
            "Invalid request. Request is malformed or invalid. The refresh token is unknown or revoked.",
        ));
    };
    if grant.client_id != client.client_id {
        return Err(err(s, 70000, "The refresh token was issued to another client."));
    }
    let Some(user) = s.user(&grant.user_oid).cloned() else {
        return Err(err(s, 70000, "The user no longer exists."));
    };
    user_fault(s, &user.oid)?;
    let mut scope = form.get("scope").unwrap_or(&grant.scope).to_owned();
    if !scope.split_ascii_whitespace().any(|x| x == "offline_access") {
        scope.push_str(" offline_access");
    }
    issue_for_user(s, &user, &client, &scope, None, form.get("client_info") == Some("1"))
}

fn client_credentials(s: &mut State, req: &Request, form: &Form, token_url: &str) -> Reply {
    let (client, auth) = authenticate(s, req, form, token_url)?;
    if auth == ClientAuth::Public {
        return Err(err(
            s,
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        ));
    }
    let scope = form.get("scope").ok_or_else(|| missing(s, "scope"))?;
    let scopes = parse_scopes(s, scope)?;
    let (Some(resource), true, true) = (&scopes.resource, scopes.default, scopes.oidc.is_empty())
    else {
        return Err(err_as(
            s,
            1002012,
            "invalid_scope",
            format!(
                "The provided value for scope {} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).",
                short(scope)
            ),
        ));
    };
    let consented: Vec<String> = s
        .consents
        .get(&(client.client_id.clone(), resource.clone()))
        .map(|x| x.iter().cloned().collect())
        .unwrap_or_default();
    let spec = match resource {
        Resource::App(id) => {
            let api = s.app(id.as_str()).cloned().ok_or_else(|| server_error(s))?;
            TokenSpec::app_only(&client, &api)
        }
        _ => TokenSpec::app_only(&client, &graph_app(consented)).header_nonce(),
    };
    let token = s.mint(&spec).map_err(|_| server_error(s))?;
    let mut body = token_body(s, token, format!("{}/.default", scopes.resource_id));
    if let Some(m) = body.as_object_mut() {
        m.remove("scope");
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::test_support::state;

    fn code(e: &ErrorReply) -> u64 {
        e.body["error_codes"][0].as_u64().unwrap_or_default()
    }

    #[test]
    fn scope_parsing_follows_entra() {
        let mut s = state();
        let api = TestApp::new("api").expose_scope("access_as_user");
        s.apps.push(api.clone());
        let uri = api.app_id_uri();

        let p = parse_scopes(&s, &format!("openid offline_access {uri}/access_as_user")).unwrap();
        assert_eq!(p.resource, Some(Resource::App(api.client_id.clone())));
        assert_eq!(p.permissions, vec!["access_as_user".to_owned()]);
        assert!(p.offline() && !p.default);

        let p = parse_scopes(&s, "User.Read Mail.Read").unwrap();
        assert_eq!(p.resource, Some(Resource::Graph));
        let p = parse_scopes(&s, "00000003-0000-0000-c000-000000000000/.default").unwrap();
        assert_eq!((p.resource, p.default), (Some(Resource::Graph), true));
        let p = parse_scopes(&s, "openid profile").unwrap();
        assert!(p.resource.is_none());

        let two = parse_scopes(&s, &format!("User.Read {uri}/access_as_user")).unwrap_err();
        assert_eq!(code(&two), 28000);
        let mixed = parse_scopes(&s, &format!("{uri}/.default {uri}/access_as_user")).unwrap_err();
        assert_eq!(code(&mixed), 70011);
        let unknown = parse_scopes(&s, "api://nothing-here/.default").unwrap_err();
        assert_eq!(code(&unknown), 500011);
    }

    #[test]
    fn numeric_dates_may_be_fractional() {
        assert_eq!(numeric_date(&json!(1_700_000_000)), Some(1_700_000_000));
        assert_eq!(numeric_date(&json!(1_700_000_000.75)), Some(1_700_000_000));
        assert_eq!(numeric_date(&json!("1700000000")), None);
        assert_eq!(numeric_date(&json!(1e300)), None);
        assert_eq!(numeric_date(&Value::Null), None);
    }

    #[test]
    fn audiences_accept_string_or_array() {
        assert_eq!(audiences(&json!({"aud": "a"})), vec!["a".to_owned()]);
        assert_eq!(audiences(&json!({"aud": ["a", "b"]})).len(), 2);
        assert!(audiences(&json!({})).is_empty());
    }

    #[test]
    fn form_ignores_empty_values() {
        let f = Form(vec![("a".into(), String::new()), ("b".into(), "x".into())]);
        assert_eq!(f.get("a"), None);
        assert_eq!(f.get("b"), Some("x"));
        assert_eq!(f.get("c"), None);
    }
}
