//! The router: records each request and dispatches by path.

use std::sync::Mutex;

use crate::server::{Request, Response};
use entra_core::TenantId;
use serde_json::{Value, json};

use crate::fault::{ErrorReply, aadsts_reply};
use crate::state::{State, lock};
use crate::{JwksFault, RecordedRequest};

/// The tenant segment of a request path.
#[derive(Clone, Debug)]
pub(crate) enum Segment {
    /// A tenant of this mock.
    Tenant(TenantId),
    /// `common` or `organizations` (the text, lowercase).
    Multi(String),
}

impl Segment {
    pub(crate) fn as_str(&self) -> &str {
        match self {
            Self::Tenant(t) => t.as_str(),
            Self::Multi(s) => s,
        }
    }
}

pub(crate) fn json_reply(status: u16, body: &Value) -> Response {
    Response::new(status)
        .insert_header("cache-control", "no-store, no-cache")
        .insert_header("access-control-allow-origin", "*")
        .set_body_raw(body.to_string(), "application/json; charset=utf-8")
}

pub(crate) fn error_reply(e: ErrorReply) -> Response {
    let mut r = json_reply(e.status, &e.body);
    if let Some(secs) = e.retry_after {
        r = r.insert_header("retry-after", secs.to_string().as_str());
    }
    r
}

pub(crate) fn html_reply(status: u16, html: String) -> Response {
    Response::new(status).set_body_raw(html, "text/html; charset=utf-8")
}

fn not_found() -> Response {
    json_reply(
        404,
        &json!({"error": "not_found", "error_description": "no such endpoint on the mock Entra"}),
    )
}

fn resolve_segment(s: &State, seg: &str) -> Option<Segment> {
    let lower = seg.to_ascii_lowercase();
    if lower == "common" || lower == "organizations" {
        return Some(Segment::Multi(lower));
    }
    if let Some(tid) = s.domains.get(&lower) {
        return Some(Segment::Tenant(tid.clone()));
    }
    s.tenants.iter().find(|t| t.as_str() == lower).map(|t| Segment::Tenant(t.clone()))
}

fn unknown_tenant(s: &State, seg: &str) -> Response {
    let mut e = aadsts_reply(
        90002,
        Some(format!(
            "Tenant '{}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.",
            seg.chars().take(64).collect::<String>()
        )),
        s.now(),
    );
    if let Some(m) = e.body.as_object_mut() {
        m.insert("error".into(), json!("invalid_tenant"));
    }
    e.status = 400;
    error_reply(e)
}

/// The path prefix of the control API ([`crate::remote`]); no Entra path starts with it.
pub(crate) const CONTROL_PREFIX: &str = "/_mock";

/// Answers one request (whose body was read within the limit).
pub(crate) fn handle(state: &Mutex<State>, req: &Request) -> Response {
    let path = req.url.path().to_owned();
    if path == CONTROL_PREFIX || path.starts_with("/_mock/") {
        // The test harness talking: not part of the record.
        return crate::remote::handle(state, req);
    }
    let mut s = lock(state);
    let cap = s.record.limits().body_bytes;
    s.record.push(RecordedRequest::from_request(req, req.body.len(), cap));
    dispatch(&mut s, req, &path)
}

fn dispatch(s: &mut State, req: &Request, path: &str) -> Response {
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let method = req.method.as_str();
    if method == "OPTIONS" {
        // CORS preflight, as Entra answers for SPA redirect URIs.
        return Response::new(204)
            .insert_header("access-control-allow-origin", "*")
            .insert_header("access-control-allow-methods", "GET, POST, OPTIONS")
            .insert_header("access-control-allow-headers", "*")
            .insert_header("access-control-max-age", "86400");
    }
    if parts.first() == Some(&"v1.0") {
        return crate::graph::graph(s, req, method, &parts[1..]);
    }
    match (method, parts.as_slice()) {
        ("GET", [seg, rest @ ..]) if !rest.is_empty() => {
            let Some(segment) = resolve_segment(s, seg) else {
                return unknown_tenant(s, seg);
            };
            match rest {
                ["v2.0", ".well-known", "openid-configuration"] => {
                    let doc = discovery_v2(s, &segment);
                    discovery(s, &doc)
                }
                [".well-known", "openid-configuration"] => {
                    let doc = discovery_v1(s, &segment);
                    discovery(s, &doc)
                }
                ["discovery", "v2.0", "keys"] => keys(s, &segment, true),
                ["discovery", "keys"] => keys(s, &segment, false),
                ["oauth2", "v2.0", "authorize"] => {
                    crate::authorize::authorize(s, req, &segment, false)
                }
                ["oauth2", "authorize"] => crate::authorize::authorize(s, req, &segment, true),
                ["oauth2", "v2.0", "logout"] | ["oauth2", "logout"] => {
                    crate::authorize::logout(s, req)
                }
                _ => not_found(),
            }
        }
        ("POST", [seg, "oauth2", "v2.0", "token"]) => {
            let Some(segment) = resolve_segment(s, seg) else {
                return unknown_tenant(s, seg);
            };
            crate::token::token(s, req, &segment, false)
        }
        ("POST", [seg, "oauth2", "token"]) => {
            let Some(segment) = resolve_segment(s, seg) else {
                return unknown_tenant(s, seg);
            };
            crate::token::token(s, req, &segment, true)
        }
        _ => not_found(),
    }
}

fn issuer_for(s: &State, segment: &Segment, v2: bool) -> String {
    match (segment, v2) {
        (Segment::Tenant(t), true) => s.cloud.v2_issuer(t),
        (Segment::Tenant(t), false) => s.cloud.v1_issuer(t),
        (Segment::Multi(_), true) => s.cloud.v2_issuer_template(),
        (Segment::Multi(_), false) => s.cloud.v1_issuer_template(),
    }
}

fn discovery_v2(s: &State, segment: &Segment) -> Value {
    let base = format!("{}/{}", s.uri, segment.as_str());
    json!({
        "token_endpoint": format!("{base}/oauth2/v2.0/token"),
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": format!("{base}/discovery/v2.0/keys"),
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": issuer_for(s, segment, true),
        "request_uri_parameter_supported": false,
        "userinfo_endpoint": format!("{}/oidc/userinfo", s.cloud.graph_base()),
        "authorization_endpoint": format!("{base}/oauth2/v2.0/authorize"),
        "device_authorization_endpoint": format!("{base}/oauth2/v2.0/devicecode"),
        "http_logout_supported": true,
        "frontchannel_logout_supported": true,
        "end_session_endpoint": format!("{base}/oauth2/v2.0/logout"),
        "claims_supported": ["sub", "iss", "cloud_instance_name", "cloud_instance_host_name",
            "cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time", "acr",
            "nonce", "preferred_username", "name", "tid", "ver", "at_hash", "c_hash", "email"],
        "kerberos_endpoint": format!("{base}/kerberos"),
        "code_challenge_methods_supported": ["plain", "S256"],
        "tenant_region_scope": "NA",
        "cloud_instance_name": "mock-entra",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": s.cloud.graph_base().split("://").nth(1).unwrap_or_default(),
        "rbac_url": "https://pas.windows.net",
    })
}

fn discovery_v1(s: &State, segment: &Segment) -> Value {
    let base = format!("{}/{}", s.uri, segment.as_str());
    json!({
        "token_endpoint": format!("{base}/oauth2/token"),
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": format!("{base}/discovery/keys"),
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "token id_token", "token"],
        "scopes_supported": ["openid"],
        "issuer": issuer_for(s, segment, false),
        "microsoft_multi_refresh_token": true,
        "authorization_endpoint": format!("{base}/oauth2/authorize"),
        "device_authorization_endpoint": format!("{base}/oauth2/devicecode"),
        "http_logout_supported": true,
        "frontchannel_logout_supported": true,
        "end_session_endpoint": format!("{base}/oauth2/logout"),
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "acr", "amr",
            "nonce", "email", "given_name", "family_name", "nickname"],
        "check_session_iframe": format!("{base}/oauth2/checksession"),
        "userinfo_endpoint": format!("{base}/openid/userinfo"),
        "kerberos_endpoint": format!("{base}/kerberos"),
        "tenant_region_scope": "NA",
        "cloud_instance_name": "mock-entra",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": s.cloud.graph_base().split("://").nth(1).unwrap_or_default(),
        "rbac_url": "https://pas.windows.net",
    })
}

/// The JWKS body: every published key, each with `issuer` when one is given
/// (a per-key override of [`MockEntra::set_key_issuer`](crate::MockEntra::set_key_issuer)
/// wins).
pub(crate) fn jwks_body(s: &State, issuer: Option<&str>) -> Value {
    let keys: Vec<Value> = s
        .keys
        .iter()
        .map(|k| k.jwk(s.key_issuers.get(&k.kid).map(String::as_str).or(issuer)))
        .collect();
    json!({ "keys": keys })
}

fn discovery(s: &mut State, doc: &Value) -> Response {
    s.discovery_fetches += 1;
    faulty(s.discovery_fault.as_ref(), doc)
}

fn keys(s: &mut State, segment: &Segment, v2: bool) -> Response {
    s.jwks_fetches += 1;
    let issuer = match (v2, s.v1_key_issuer) {
        (true, _) | (false, crate::V1KeyIssuer::V1) => Some(issuer_for(s, segment, v2)),
        (false, crate::V1KeyIssuer::V2Template) => Some(s.cloud.v2_issuer_template()),
        (false, crate::V1KeyIssuer::None) => None,
    };
    let body = jwks_body(s, issuer.as_deref());
    faulty(s.jwks_fault.as_ref(), &body)
}

/// `body`, or what `fault` makes of it.
fn faulty(fault: Option<&JwksFault>, body: &Value) -> Response {
    match fault {
        None => json_reply(200, body),
        Some(JwksFault::Status(code)) => json_reply(*code, &json!({})),
        Some(JwksFault::Delay(d)) => json_reply(200, body).set_delay(*d),
        Some(JwksFault::Garbage) => Response::new(200)
            .set_body_raw("<html>this is not what you asked for</html>", "application/json"),
        Some(JwksFault::Oversized(size)) => {
            let mut padded = body.clone();
            if let Some(map) = padded.as_object_mut() {
                map.insert("padding".into(), Value::String("x".repeat(*size)));
            }
            json_reply(200, &padded)
        }
    }
}
