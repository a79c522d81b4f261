//! The control API under `/_mock`: what a test in another process (or language)
//! needs to drive the mock. JSON in, JSON out; every path is listed in the crate
//! docs and in `docs/testing-with-mock-entra.md`.

use std::sync::Mutex;
use std::time::Duration;

use entra_core::TokenVersion;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

use crate::keys::pooled_key;
use crate::seed::{AppSpec, ConsentSpec, Seed, TenantSpec, UserSpec, app_json, user_json};
use crate::server::{After, Request, Response};
use crate::state::{State, lock};
use crate::{Error, Fault, JwksFault, TokenSpec};

fn reply(status: u16, body: &Value) -> Response {
    Response::new(status)
        .insert_header("cache-control", "no-store")
        .set_body_raw(body.to_string(), "application/json; charset=utf-8")
}

fn ok(body: &Value) -> Response {
    reply(200, body)
}

fn bad(description: impl Into<String>) -> Response {
    reply(400, &json!({"error": "invalid_request", "error_description": description.into()}))
}

fn refused(e: &Error) -> Response {
    bad(e.to_string_with_sources())
}

/// The request body as `T` (an empty body counts as `{}`).
fn body<T: DeserializeOwned>(req: &Request) -> Result<T, Response> {
    let raw: &[u8] = if req.body.iter().all(u8::is_ascii_whitespace) { b"{}" } else { &req.body };
    serde_json::from_slice(raw).map_err(|e| bad(format!("the body is not the JSON expected: {e}")))
}

pub(crate) fn handle(state: &Mutex<State>, req: &Request) -> Response {
    let path = req.url.path().trim_end_matches('/').to_owned();
    let rest = path.strip_prefix(crate::router::CONTROL_PREFIX).unwrap_or("");
    let mut s = lock(state);
    let r = match (req.method.as_str(), rest) {
        ("GET", "") => Ok(ok(&settings(&s))),
        ("POST", "/tokens") => mint(&s, req),
        ("POST", "/tenants") => body::<TenantSpec>(req)
            .and_then(|t| s.seed_tenant(&t).map_err(|e| refused(&e)))
            .map(|tid| ok(&json!({"tenant_id": tid}))),
        ("GET", "/users") => {
            Ok(ok(&json!(s.users.iter().map(|u| user_json(&s, u)).collect::<Vec<_>>())))
        }
        ("POST", "/users") => body::<UserSpec>(req)
            .and_then(|u| s.seed_user(&u).map_err(|e| refused(&e)))
            .map(|u| ok(&user_json(&s, &u))),
        ("POST", "/groups") => add_groups(&mut s, req),
        ("GET", "/apps") => Ok(ok(&json!(s.apps.iter().map(app_json).collect::<Vec<_>>()))),
        ("POST", "/apps") => body::<AppSpec>(req)
            .and_then(|a| s.seed_app(&a).map_err(|e| refused(&e)))
            .map(|(_, view)| ok(&view)),
        ("POST", "/consents") => body::<ConsentSpec>(req)
            .and_then(|c| s.seed_consent(&c).map_err(|e| refused(&e)))
            .map(|()| ok(&json!({}))),
        ("DELETE", "/consents") => revoke_consent(&mut s, req),
        ("POST", "/seed") => body::<Seed>(req)
            .and_then(|seed| s.apply_seed(&seed).map_err(|e| refused(&e)))
            .map(|v| ok(&v)),
        ("POST", "/faults") => add_fault(&mut s, req),
        ("DELETE", "/faults") => {
            s.faults.clear();
            s.user_faults.clear();
            s.graph_faults.clear();
            Ok(ok(&json!({})))
        }
        ("POST", "/keys/rotate") => rotate(&mut s),
        ("POST", "/keys/retire") => retire(&mut s, req),
        ("PUT", "/keys/v1-issuer") => v1_key_issuer(&mut s, req),
        ("PUT", "/keys/fault") => endpoint_fault(req).map(|f| {
            s.jwks_fault = Some(f);
            ok(&json!({}))
        }),
        ("DELETE", "/keys/fault") => {
            s.jwks_fault = None;
            Ok(ok(&json!({})))
        }
        ("PUT", "/discovery/fault") => endpoint_fault(req).map(|f| {
            s.discovery_fault = Some(f);
            ok(&json!({}))
        }),
        ("DELETE", "/discovery/fault") => {
            s.discovery_fault = None;
            Ok(ok(&json!({})))
        }
        ("GET", "/requests") => Ok(requests(&s, req)),
        ("DELETE", "/requests") => {
            s.record.clear();
            Ok(ok(&json!({})))
        }
        ("PUT", "/auto-login") => auto_login(&mut s, req),
        ("POST", "/logout") => logout(&mut s, req),
        ("POST", "/revoke-refresh-tokens") => revoke_refresh_tokens(&mut s, req),
        ("PUT", "/graph/page-size") => page_size(&mut s, req),
        _ => Err(reply(
            404,
            &json!({"error": "not_found", "error_description": format!(
                "no control endpoint {} {path}: see GET {}",
                req.method, crate::router::CONTROL_PREFIX
            )}),
        )),
    };
    r.unwrap_or_else(|e| e)
}

/// Where the mock is and what it holds.
fn settings(s: &State) -> Value {
    let authority = format!("{}/{}", s.uri, s.default_tenant);
    json!({
        "uri": s.uri,
        "authority": authority,
        "discovery": format!("{authority}/v2.0/.well-known/openid-configuration"),
        "issuer": s.cloud.v2_issuer(&s.default_tenant),
        "token_endpoint": format!("{authority}/oauth2/v2.0/token"),
        "graph": s.cloud.graph_base(),
        "tenant_id": s.default_tenant,
        "tenants": s.tenants,
        "default_client": s.default_client,
        "default_api": s.default_api,
        "default_public_client": s.default_public_client,
        "apps": s.apps.iter().map(app_json).collect::<Vec<_>>(),
        "users": s.users.iter().map(|u| user_json(s, u)).collect::<Vec<_>>(),
        "control": format!("{}{}", s.uri, crate::router::CONTROL_PREFIX),
        "v1_key_issuer": s.v1_key_issuer.name(),
    })
}

/// `POST /_mock/tokens`: what to mint. (No `Debug`: claims may be anything.)
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct MintSpec {
    /// `access` (default), `id`, `app`, `graph` or `custom`.
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    user: Option<String>,
    /// The API (client id, App ID URI or name). Defaults to the seeded API.
    #[serde(default)]
    api: Option<String>,
    /// The client: `azp`/`appid`, the ID token's `aud`, the app-only caller.
    #[serde(default)]
    client: Option<String>,
    #[serde(default)]
    nonce: Option<String>,
    #[serde(default)]
    version: Option<u8>,
    #[serde(default)]
    tenant: Option<String>,
    #[serde(default)]
    scopes: Option<Vec<String>>,
    #[serde(default)]
    groups: Option<Vec<String>>,
    #[serde(default)]
    overage: Option<bool>,
    #[serde(default)]
    lifetime_secs: Option<u64>,
    #[serde(default)]
    expired: bool,
    #[serde(default)]
    not_yet_valid: bool,
    #[serde(default)]
    audience: Option<String>,
    #[serde(default)]
    issuer: Option<String>,
    /// Claims to set (after the defaults).
    #[serde(default)]
    claims: Map<String, Value>,
    /// Claims to remove.
    #[serde(default)]
    without: Vec<String>,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    unpublished_key: bool,
    /// `RS256` (default), `RS384`, `RS512`, `PS256`, `PS384`, `PS512`.
    #[serde(default)]
    algorithm: Option<String>,
}

fn mint(s: &State, req: &Request) -> Result<Response, Response> {
    let m: MintSpec = body(req)?;
    let user = || {
        let name = m.user.as_deref().ok_or_else(|| bad("this kind of token needs \"user\""))?;
        s.find_user(name).map_err(|e| refused(&e))
    };
    let app = |key: Option<&str>, default: &entra_core::ClientId| {
        s.find_app(key.unwrap_or(default.as_str())).map_err(|e| refused(&e))
    };
    let mut spec = match m.kind.as_deref().unwrap_or("access") {
        "access" => TokenSpec::access(&user()?, &app(m.api.as_deref(), &s.default_api)?),
        "id" => {
            let client = app(m.client.as_deref(), &s.default_client)?;
            TokenSpec::id_token(&user()?, &client.client_id, m.nonce.as_deref())
        }
        "app" => TokenSpec::app_only(
            &app(m.client.as_deref(), &s.default_client)?,
            &app(m.api.as_deref(), &s.default_api)?,
        ),
        "graph" => TokenSpec::graph(&user()?),
        "custom" => TokenSpec::custom(),
        other => {
            return Err(bad(format!("kind {other:?}: use access, id, app, graph or custom")));
        }
    };
    if m.kind.as_deref() != Some("app")
        && let Some(c) = &m.client
    {
        spec = spec.client(&app(Some(c), &s.default_client)?.client_id);
    }
    match m.version {
        None => {}
        Some(1) => spec = spec.version(TokenVersion::V1),
        Some(2) => spec = spec.version(TokenVersion::V2),
        Some(v) => return Err(bad(format!("version {v}: use 1 or 2"))),
    }
    if let Some(t) = &m.tenant {
        spec = spec.tenant(s.find_tenant(t).map_err(|e| refused(&e))?);
    }
    if let Some(v) = m.scopes {
        spec = spec.scopes(v);
    }
    if let Some(v) = m.groups {
        spec = spec.groups(v);
    }
    if let Some(v) = m.overage {
        spec = spec.overage(v);
    }
    if let Some(secs) = m.lifetime_secs {
        spec = spec.lifetime(Duration::from_secs(secs));
    }
    if m.expired {
        spec = spec.expired();
    }
    if m.not_yet_valid {
        spec = spec.not_yet_valid();
    }
    if let Some(a) = m.audience {
        spec = spec.audience(a);
    }
    if let Some(i) = m.issuer {
        spec = spec.issuer(i);
    }
    for (k, v) in m.claims {
        spec = spec.claim(k, v);
    }
    for k in m.without {
        spec = spec.without(k);
    }
    if let Some(k) = m.kid {
        spec = spec.kid(k);
    }
    if m.unpublished_key {
        spec = spec.unpublished_key();
    }
    if let Some(alg) = &m.algorithm {
        let alg = match alg.to_ascii_uppercase().as_str() {
            "RS256" => jsonwebtoken::Algorithm::RS256,
            "RS384" => jsonwebtoken::Algorithm::RS384,
            "RS512" => jsonwebtoken::Algorithm::RS512,
            "PS256" => jsonwebtoken::Algorithm::PS256,
            "PS384" => jsonwebtoken::Algorithm::PS384,
            "PS512" => jsonwebtoken::Algorithm::PS512,
            _ => return Err(bad(format!("algorithm {alg:?}: use RS256/384/512 or PS256/384/512"))),
        };
        spec = spec.algorithm(alg);
    }
    let claims = s.claims_for(&spec);
    let token = s.sign(&spec, &claims).map_err(|e| refused(&e))?;
    Ok(ok(&json!({"token": token, "claims": claims})))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupsSpec {
    user: String,
    #[serde(default)]
    groups: Vec<String>,
    /// Adds this many groups with random ids.
    #[serde(default)]
    count: usize,
}

fn add_groups(s: &mut State, req: &Request) -> Result<Response, Response> {
    let g: GroupsSpec = body(req)?;
    let user = s.find_user(&g.user).map_err(|e| refused(&e))?;
    let user = s.add_user(user.groups(g.groups).with_random_groups(g.count.min(100_000)));
    Ok(ok(&user_json(s, &user)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RevokeSpec {
    client_id: String,
    resource: String,
}

fn revoke_consent(s: &mut State, req: &Request) -> Result<Response, Response> {
    let r: RevokeSpec = body(req)?;
    let app = s.find_app(&r.client_id).map_err(|e| refused(&e))?;
    let resource = s.resource(&r.resource);
    s.consents.remove(&(app.client_id, resource));
    Ok(ok(&json!({})))
}

/// `POST /_mock/faults`: one of `aadsts`, `retry_after` (429), `status` (5xx) or
/// only `delay_ms` (latency).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FaultSpec {
    /// `token` (default) or `graph`.
    #[serde(default)]
    target: Option<String>,
    /// Every token request for this user fails (until cleared).
    #[serde(default)]
    user: Option<String>,
    /// How many requests fail. Defaults to 1.
    #[serde(default)]
    count: Option<usize>,
    #[serde(default)]
    aadsts: Option<u32>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    suberror: Option<String>,
    #[serde(default)]
    claims: Option<Value>,
    #[serde(default)]
    http_status: Option<u16>,
    #[serde(default)]
    retry_after: Option<u64>,
    #[serde(default)]
    status: Option<u16>,
    #[serde(default)]
    delay_ms: Option<u64>,
}

fn add_fault(s: &mut State, req: &Request) -> Result<Response, Response> {
    let f: FaultSpec = body(req)?;
    let delay = f.delay_ms.map(Duration::from_millis);
    let mut fault = match (f.aadsts, f.retry_after, f.status) {
        (Some(code), None, None) => {
            let mut fault = Fault::aadsts(code);
            if let Some(e) = f.error {
                fault = fault.error(e);
            }
            if let Some(d) = f.description {
                fault = fault.description(d);
            }
            if let Some(x) = f.suberror {
                fault = fault.suberror(x);
            }
            if let Some(c) = f.claims {
                // Entra sends the challenge as JSON text.
                fault = fault.claims(c.as_str().map_or_else(|| c.to_string(), str::to_owned));
            }
            if let Some(st) = f.http_status {
                fault = fault.http_status(st);
            }
            fault
        }
        (None, Some(secs), None) => Fault::throttled(secs),
        (None, None, Some(st)) if (400..=599).contains(&st) => Fault::status(st),
        (None, None, None) => match delay {
            Some(d) => Fault::delay(d),
            None => return Err(bad("give one of aadsts, retry_after, status or delay_ms")),
        },
        _ => return Err(bad("give only one of aadsts, retry_after or status (400-599)")),
    };
    if let Some(d) = delay {
        fault = fault.with_delay(d);
    }
    let count = f.count.unwrap_or(1).min(10_000);
    match (f.target.as_deref().unwrap_or("token"), f.user) {
        ("token", Some(u)) => {
            let user = s.find_user(&u).map_err(|e| refused(&e))?;
            s.user_faults.insert(user.oid.to_ascii_lowercase(), fault);
        }
        ("token", None) => s.faults.extend(std::iter::repeat_n(fault, count)),
        ("graph", None) => s.graph_faults.extend(std::iter::repeat_n(fault, count)),
        (t, _) => return Err(bad(format!("target {t:?} (with user): use token or graph"))),
    }
    Ok(ok(&json!({})))
}

fn rotate(s: &mut State) -> Result<Response, Response> {
    let index = s.next_pool_index;
    let key = pooled_key(index).map_err(|e| refused(&e))?;
    s.next_pool_index += 1;
    let kid = s.add_signing_key(key);
    Ok(ok(&json!({"kid": kid, "published": s.keys.iter().map(|k| &k.kid).collect::<Vec<_>>()})))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct KidSpec {
    kid: String,
}

fn retire(s: &mut State, req: &Request) -> Result<Response, Response> {
    let k: KidSpec = body(req)?;
    let before = s.keys.len();
    s.keys.retain(|x| x.kid != k.kid);
    Ok(ok(&json!({"retired": before != s.keys.len()})))
}

/// A JWKS or discovery outage: `status`, `delay_ms`, `garbage` or `oversized`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct EndpointFaultSpec {
    #[serde(default)]
    status: Option<u16>,
    #[serde(default)]
    delay_ms: Option<u64>,
    #[serde(default)]
    garbage: bool,
    #[serde(default)]
    oversized: Option<usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct V1KeyIssuerSpec {
    issuer: String,
}

/// `PUT /_mock/keys/v1-issuer {"issuer": "v1" | "v2" | "none"}`.
fn v1_key_issuer(s: &mut State, req: &Request) -> Result<Response, Response> {
    let spec: V1KeyIssuerSpec = body(req)?;
    let issuer = crate::V1KeyIssuer::parse(&spec.issuer)
        .ok_or_else(|| bad("issuer: use \"v1\", \"v2\" or \"none\""))?;
    s.v1_key_issuer = issuer;
    Ok(ok(&json!({ "v1_key_issuer": issuer.name() })))
}

fn endpoint_fault(req: &Request) -> Result<JwksFault, Response> {
    let f: EndpointFaultSpec = body(req)?;
    match (f.status, f.delay_ms, f.garbage, f.oversized) {
        (Some(st), None, false, None) if (100..=599).contains(&st) => Ok(JwksFault::Status(st)),
        (None, Some(ms), false, None) => Ok(JwksFault::Delay(Duration::from_millis(ms))),
        (None, None, true, None) => Ok(JwksFault::Garbage),
        (None, None, false, Some(n)) => Ok(JwksFault::Oversized(n.min(64 << 20))),
        _ => Err(bad("give exactly one of status, delay_ms, garbage or oversized")),
    }
}

/// `GET /_mock/requests[?path_suffix=...]`: the record, oldest first.
fn requests(s: &State, req: &Request) -> Response {
    let suffix: Option<String> =
        req.url.query_pairs().find(|(k, _)| k == "path_suffix").map(|(_, v)| v.into_owned());
    let list: Vec<Value> = s
        .record
        .iter()
        .filter(|r| suffix.as_deref().is_none_or(|x| r.path.ends_with(x)))
        .map(|r| {
            json!({
                "method": r.method,
                "path": r.path,
                "query": r.query,
                "headers": r.headers,
                "form": r.form,
                "body": String::from_utf8_lossy(&r.body),
                "body_len": r.body_len,
                "body_truncated": r.body_truncated,
            })
        })
        .collect();
    ok(&json!({"requests": list, "recorded_bytes": s.record.bytes()}))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct UserRef {
    #[serde(default)]
    user: Option<String>,
}

fn auto_login(s: &mut State, req: &Request) -> Result<Response, Response> {
    let u: UserRef = body(req)?;
    s.auto_login = match u.user {
        Some(name) => Some(s.find_user(&name).map_err(|e| refused(&e))?.oid),
        None => None,
    };
    Ok(ok(&json!({"auto_login": s.auto_login})))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct LogoutSpec {
    #[serde(default)]
    user: Option<String>,
    #[serde(default)]
    sid: Option<String>,
    /// Call this app's front-channel logout URL (even if it did not sign in).
    #[serde(default)]
    client_id: Option<String>,
}

/// `POST /_mock/logout`: ends a session and calls the front-channel logout URLs.
fn logout(s: &mut State, req: &Request) -> Result<Response, Response> {
    let l: LogoutSpec = body(req)?;
    let user = match (&l.user, &l.sid) {
        (Some(u), None) => s.find_user(u).map_err(|e| refused(&e))?,
        (None, Some(sid)) => {
            s.user_by_sid(sid).cloned().ok_or_else(|| bad(format!("no session {sid:?}")))?
        }
        _ => return Err(bad("give one of user or sid")),
    };
    let only = match &l.client_id {
        Some(c) => Some(s.find_app(c).map_err(|e| refused(&e))?.client_id),
        None => None,
    };
    let urls = s.end_session(&user, only.as_ref());
    Ok(ok(&json!({"called": []})).then(After::Call { urls, report: true }))
}

fn revoke_refresh_tokens(s: &mut State, req: &Request) -> Result<Response, Response> {
    let u: UserRef = body(req)?;
    let user = s.find_user(u.user.as_deref().unwrap_or_default()).map_err(|e| refused(&e))?;
    s.refresh_tokens.retain(|_, g| !g.user_oid.eq_ignore_ascii_case(&user.oid));
    Ok(ok(&json!({})))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PageSize {
    #[serde(default)]
    size: Option<usize>,
}

fn page_size(s: &mut State, req: &Request) -> Result<Response, Response> {
    let p: PageSize = body(req)?;
    s.graph_page_size = p.size;
    Ok(ok(&json!({})))
}
