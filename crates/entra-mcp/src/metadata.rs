//! RFC 8414 authorization server metadata of the facade.

use axum::body::{Body, Bytes};
use axum::response::Response;
use http::HeaderValue;
use http::header::{ACCESS_CONTROL_ALLOW_ORIGIN, CACHE_CONTROL, CONTENT_TYPE};

use crate::facade::{AUTHORIZE, Inner, REGISTER, TOKEN};

/// Where the document is served: RFC 8414's well-known path and the OpenID
/// Connect discovery path some MCP clients try first.
pub(crate) const PATHS: [&str; 2] =
    ["/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"];

/// The metadata document, serialized once.
pub(crate) fn document(i: &Inner) -> Bytes {
    let issuer = &i.issuer;
    let mut scopes = i.scopes.clone();
    scopes.push("offline_access".to_owned());
    let doc = serde_json::json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}{AUTHORIZE}"),
        "token_endpoint": format!("{issuer}{TOKEN}"),
        "registration_endpoint": format!("{issuer}{REGISTER}"),
        "scopes_supported": scopes,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "token_endpoint_auth_methods_supported": ["none"],
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": true,
        "client_id_metadata_document_supported": i.documents.is_some(),
    });
    Bytes::from(doc.to_string())
}

pub(crate) fn respond(body: Bytes) -> Response {
    let mut r = Response::new(Body::from(body));
    let h = r.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    h.insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
    r
}
