//! Microsoft Graph: `GET /v1.0/me`, `POST /v1.0/me/getMemberObjects` and
//! `POST /v1.0/users/{id}/getMemberObjects`.
//!
//! Accepted tokens: signed by a published mock key (RS256), `aud` naming Graph
//! (`https://graph.microsoft.com`, `00000003-0000-0000-c000-000000000000` or the
//! mock's Graph base URL), not expired, from a mock tenant. Permissions:
//! - `/me` needs a delegated token with one of [`ME_SCOPES`];
//! - `getMemberObjects` needs a delegated token with one of [`MEMBER_SCOPES`]
//!   (for `/me` or the caller's own id), or an app-only token with one of
//!   [`MEMBER_ROLES`] in `roles` (any user).

use crate::server::{Request, Response};
use entra_core::TenantId;
use jsonwebtoken::Algorithm;
use serde_json::{Value, json};

use crate::fault::{FaultKind, timestamp};
use crate::router::json_reply;
use crate::state::State;
use crate::token::{audiences, lenient, numeric_date};

/// Delegated scopes that allow `GET /v1.0/me`.
pub(crate) const ME_SCOPES: [&str; 6] = [
    "User.Read",
    "User.ReadBasic.All",
    "User.Read.All",
    "User.ReadWrite",
    "User.ReadWrite.All",
    "Directory.Read.All",
];

/// Delegated scopes that allow `getMemberObjects`.
pub(crate) const MEMBER_SCOPES: [&str; 7] = [
    "User.Read",
    "User.ReadBasic.All",
    "User.Read.All",
    "GroupMember.Read.All",
    "Group.Read.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
];

/// Application permissions that allow `getMemberObjects` for any user.
pub(crate) const MEMBER_ROLES: [&str; 5] = [
    "User.Read.All",
    "GroupMember.Read.All",
    "Group.Read.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
];

fn graph_error(s: &State, status: u16, code: &str, message: &str) -> Response {
    json_reply(
        status,
        &json!({"error": {
            "code": code,
            "message": message,
            "innerError": {
                "date": timestamp(s.now()).replace(' ', "T"),
                "request-id": uuid::Uuid::new_v4().to_string(),
                "client-request-id": uuid::Uuid::new_v4().to_string(),
            }
        }}),
    )
    .insert_header("www-authenticate", "Bearer realm=\"\", authorization_uri=\"https://login.microsoftonline.com/common/oauth2/authorize\"")
}

/// The `WWW-Authenticate` value Graph sends when continuous access evaluation
/// asks for claims.
fn cae_challenge(claims: &str) -> String {
    use base64::Engine as _;
    format!(
        "Bearer realm=\"\", authorization_uri=\"https://login.microsoftonline.com/common/oauth2/authorize\", client_id=\"{}\", error=\"insufficient_claims\", claims=\"{}\"",
        entra_core::GRAPH_APP_ID,
        base64::engine::general_purpose::STANDARD.encode(claims)
    )
}

fn unauthorized(s: &State, message: &str) -> Response {
    graph_error(s, 401, "InvalidAuthenticationToken", message)
}

fn denied(s: &State) -> Response {
    graph_error(
        s,
        403,
        "Authorization_RequestDenied",
        "Insufficient privileges to complete the operation.",
    )
}

/// Checks the bearer token; returns its claims.
fn authenticate(s: &State, req: &Request) -> Result<Value, Box<Response>> {
    let header = req.headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("");
    let token = match header.split_once(' ') {
        Some((scheme, t)) if scheme.eq_ignore_ascii_case("bearer") && !t.trim().is_empty() => {
            t.trim()
        }
        _ => return Err(Box::new(unauthorized(s, "Access token is empty."))),
    };
    let jwt = jsonwebtoken::decode_header(token)
        .map_err(|_| Box::new(unauthorized(s, "IDX14100: JWT is not well formed.")))?;
    let invalid_sig =
        || Box::new(unauthorized(s, "Access token validation failure. Invalid signature."));
    if jwt.alg != Algorithm::RS256 {
        return Err(invalid_sig());
    }
    let key = s
        .keys
        .iter()
        .find(|k| Some(k.kid.as_str()) == jwt.kid.as_deref())
        .ok_or_else(invalid_sig)?;
    let decoding = key.decoding_key().map_err(|_| invalid_sig())?;
    let claims: Value = jsonwebtoken::decode(token, &decoding, &lenient(Algorithm::RS256))
        .map_err(|_| invalid_sig())?
        .claims;
    if !audiences(&claims).iter().any(|a| s.is_graph(a)) {
        return Err(Box::new(unauthorized(
            s,
            "Access token validation failure. Invalid audience.",
        )));
    }
    let now = s.now();
    if numeric_date(&claims["exp"]).unwrap_or(i64::MIN) <= now {
        return Err(Box::new(unauthorized(s, "Lifetime validation failed, the token is expired.")));
    }
    if numeric_date(&claims["nbf"]).is_some_and(|nbf| nbf > now + 300) {
        return Err(Box::new(unauthorized(
            s,
            "Lifetime validation failed, the token is not yet valid.",
        )));
    }
    let tid = claims["tid"].as_str().and_then(|t| TenantId::parse(t).ok());
    let iss = claims["iss"].as_str().unwrap_or_default();
    let issuer_ok = tid.is_some_and(|t| {
        s.is_tenant(t.as_str()) && (iss == s.cloud.v1_issuer(&t) || iss == s.cloud.v2_issuer(&t))
    });
    if !issuer_ok {
        return Err(Box::new(unauthorized(s, "Access token validation failure. Invalid issuer.")));
    }
    Ok(claims)
}

fn scopes(claims: &Value) -> Vec<&str> {
    claims["scp"].as_str().unwrap_or("").split_ascii_whitespace().collect()
}

fn is_app_only(claims: &Value) -> bool {
    claims["idtyp"].as_str() == Some("app") || claims.get("scp").is_none()
}

/// Dispatches a Graph request (path after `/v1.0`), applying queued faults.
pub(crate) fn graph(s: &mut State, req: &Request, method: &str, rest: &[&str]) -> Response {
    let mut delay = None;
    if let Some(f) = s.graph_faults.pop_front() {
        delay = f.delay;
        let reply = match &f.kind {
            FaultKind::Delay => None,
            FaultKind::Throttled(secs) => Some(
                graph_error(s, 429, "TooManyRequests", "Too many requests.")
                    .insert_header("retry-after", secs.to_string().as_str()),
            ),
            FaultKind::Status(code) => {
                Some(graph_error(s, *code, "ServiceUnavailable", "The service is unavailable."))
            }
            FaultKind::Aadsts { code, status, claims, .. } => {
                let r = graph_error(
                    s,
                    status.unwrap_or(401),
                    "InvalidAuthenticationToken",
                    &format!("AADSTS{code}: the token was refused."),
                );
                // With claims: Graph's continuous access evaluation challenge.
                Some(match claims {
                    Some(c) => r.insert_header("www-authenticate", &cae_challenge(c)),
                    None => r,
                })
            }
        };
        if let Some(r) = reply {
            return match delay {
                Some(d) => r.set_delay(d),
                None => r,
            };
        }
    }
    let r = match (method, rest) {
        ("GET", ["me"]) => me(s, req),
        ("POST" | "GET", ["me", "getMemberObjects"]) => member_objects(s, req, None),
        ("POST" | "GET", ["users", id, "getMemberObjects"]) => member_objects(s, req, Some(id)),
        _ => graph_error(
            s,
            400,
            "BadRequest",
            "Resource not found for the segment (the mock serves /me and getMemberObjects).",
        ),
    };
    match delay {
        Some(d) => r.set_delay(d),
        None => r,
    }
}

pub(crate) fn me(s: &State, req: &Request) -> Response {
    let claims = match authenticate(s, req) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    if is_app_only(&claims) {
        return graph_error(
            s,
            400,
            "BadRequest",
            "/me request is only valid with delegated authentication flow.",
        );
    }
    if !scopes(&claims).iter().any(|sc| ME_SCOPES.contains(sc)) {
        return denied(s);
    }
    let oid = claims["oid"].as_str().unwrap_or_default();
    let Some(user) = s.user(oid) else {
        return graph_error(
            s,
            404,
            "Request_ResourceNotFound",
            "Resource does not exist or one of its queried reference-property objects are not present.",
        );
    };
    let given = user.name.split_whitespace().next().unwrap_or_default();
    let surname = user.name.split_whitespace().skip(1).collect::<Vec<_>>().join(" ");
    json_reply(
        200,
        &json!({
            "@odata.context": format!("{}/v1.0/$metadata#users/$entity", s.cloud.graph_base()),
            "businessPhones": [],
            "displayName": user.name,
            "givenName": given,
            "surname": if surname.is_empty() { Value::Null } else { json!(surname) },
            "jobTitle": null,
            "mail": user.username,
            "mobilePhone": null,
            "officeLocation": null,
            "preferredLanguage": "en-US",
            "userPrincipalName": user.username,
            "id": user.oid,
        }),
    )
}

pub(crate) fn member_objects(s: &State, req: &Request, id: Option<&str>) -> Response {
    let claims = match authenticate(s, req) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let caller = claims["oid"].as_str().unwrap_or_default();
    let target = if is_app_only(&claims) {
        let roles: Vec<&str> = claims["roles"]
            .as_array()
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if !roles.iter().any(|r| MEMBER_ROLES.contains(r)) {
            return denied(s);
        }
        match id {
            Some(id) => id,
            None => {
                return graph_error(
                    s,
                    400,
                    "BadRequest",
                    "/me request is only valid with delegated authentication flow.",
                );
            }
        }
    } else {
        if !scopes(&claims).iter().any(|sc| MEMBER_SCOPES.contains(sc)) {
            return denied(s);
        }
        match id {
            Some(id) if !id.eq_ignore_ascii_case(caller) => {
                // Reading another user's memberships needs directory-wide scopes.
                let wide = [
                    "User.Read.All",
                    "GroupMember.Read.All",
                    "Group.Read.All",
                    "Directory.Read.All",
                    "Directory.ReadWrite.All",
                ];
                if !scopes(&claims).iter().any(|sc| wide.contains(sc)) {
                    return denied(s);
                }
                id
            }
            _ => caller,
        }
    };
    // A continuation (GET on `@odata.nextLink`) carries the offset; the first
    // request (POST) carries the JSON body.
    let skip = req
        .url
        .query_pairs()
        .find(|(k, _)| k == "$skiptoken")
        .and_then(|(_, v)| v.strip_prefix("mock-").and_then(|n| n.parse::<usize>().ok()));
    if req.method.as_str() == "GET" && skip.is_none() {
        return graph_error(s, 405, "Request_BadRequest", "Use POST with a JSON body.");
    }
    if skip.is_none() {
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Body {
            security_enabled_only: Option<bool>,
        }
        let body: Option<Body> = serde_json::from_slice(&req.body).ok();
        if body.and_then(|b| b.security_enabled_only).is_none() {
            return graph_error(
                s,
                400,
                "Request_BadRequest",
                "The request body must be JSON with the parameter securityEnabledOnly.",
            );
        }
    }
    let Some(user) = s.user(target) else {
        return graph_error(
            s,
            404,
            "Request_ResourceNotFound",
            "Resource does not exist or one of its queried reference-property objects are not present.",
        );
    };
    // Every group of a test user is security-enabled, so both answers are the same.
    let offset = skip.unwrap_or(0).min(user.groups.len());
    let end =
        s.graph_page_size.map_or(user.groups.len(), |n| (offset + n.max(1)).min(user.groups.len()));
    let mut body = json!({
        "@odata.context": format!("{}/v1.0/$metadata#Collection(Edm.String)", s.cloud.graph_base()),
        "value": user.groups[offset..end],
    });
    if end < user.groups.len() {
        body["@odata.nextLink"] =
            json!(format!("{}{}?$skiptoken=mock-{end}", s.cloud.graph_base(), req.url.path()));
    }
    json_reply(200, &body)
}
