//! RFC 7591 dynamic client registration, with limits.

use std::time::Duration;

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use http::header::{CACHE_CONTROL, CONTENT_TYPE};
use http::{HeaderValue, StatusCode};
use serde::Deserialize;

use crate::crypto::random_token;
use crate::facade::Inner;
use crate::records::{self, ClientRecord, key};
use crate::{Error, Result, redirect};

/// The longest `client_name` kept, in characters.
const MAX_NAME_CHARS: usize = 100;

/// The registration request fields the facade reads; others are ignored.
#[derive(Deserialize)]
struct Request {
    redirect_uris: Option<Vec<String>>,
    client_name: Option<String>,
    grant_types: Option<Vec<String>>,
    response_types: Option<Vec<String>>,
}

/// A display name: control and bidirectional-override characters removed,
/// whitespace collapsed, cut to [`MAX_NAME_CHARS`].
pub(crate) fn clean_name(name: &str) -> Option<String> {
    let cleaned: String = name
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'))
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let cut: String = cleaned.chars().take(MAX_NAME_CHARS).collect();
    (!cut.is_empty()).then_some(cut)
}

/// Checks the redirect URIs, grant and response types of a client's metadata
/// (a registration or a metadata document).
pub(crate) fn check_client_metadata(
    inner: &Inner,
    redirect_uris: &[String],
    grant_types: Option<&[String]>,
    response_types: Option<&[String]>,
) -> Result<()> {
    if redirect_uris.is_empty() {
        return Err(Error::InvalidRedirectUri("redirect_uris is required"));
    }
    if redirect_uris.len() > inner.limits.max_redirect_uris {
        return Err(Error::InvalidRedirectUri("too many redirect_uris"));
    }
    for uri in redirect_uris {
        redirect::check_registrable(uri, &inner.https_origins)?;
    }
    if let Some(g) = grant_types
        && g.iter().any(|g| g != "authorization_code" && g != "refresh_token")
    {
        return Err(Error::InvalidClientMetadata(
            "grant_types may be authorization_code and refresh_token",
        ));
    }
    if let Some(r) = response_types
        && r.iter().any(|r| r != "code")
    {
        return Err(Error::InvalidClientMetadata("response_types may only be code"));
    }
    Ok(())
}

/// `POST /oauth/register`.
pub(crate) async fn register(inner: &Inner, body: Body) -> Result<Response> {
    let limits = &inner.limits;
    let store = &*inner.store;
    let count = store.increment(key::REGISTRATION_RATE, Duration::from_secs(60)).await?;
    if count > limits.registrations_per_minute {
        return Err(Error::RateLimited { retry_after_secs: 60 });
    }
    let bytes =
        axum::body::to_bytes(body, limits.max_metadata_bytes).await.map_err(|_| Error::TooLarge)?;
    let request: Request = serde_json::from_slice(&bytes)
        .map_err(|_| Error::InvalidClientMetadata("the body is not a JSON registration"))?;
    let redirect_uris = request.redirect_uris.unwrap_or_default();
    check_client_metadata(
        inner,
        &redirect_uris,
        request.grant_types.as_deref(),
        request.response_types.as_deref(),
    )?;
    let client_name = request.client_name.as_deref().and_then(clean_name);
    if store.increment(key::CLIENT_QUOTA, limits.client_ttl).await? > limits.max_clients {
        return Err(Error::TooManyClients);
    }
    let client_id = format!("mcp-{}", random_token()?);
    let record = ClientRecord {
        client_id: client_id.clone(),
        client_name: client_name.clone(),
        redirect_uris: redirect_uris.clone(),
        metadata_document: false,
    };
    records::put(store, &key::client(&client_id), &record, limits.client_ttl).await?;
    tracing::info!(redirect_uris = redirect_uris.len(), "mcp client registered");
    let body = serde_json::json!({
        "client_id": client_id,
        "client_id_issued_at": inner.clock.unix_now(),
        "client_name": client_name,
        "redirect_uris": redirect_uris,
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
    });
    let mut r = Response::new(Body::from(body.to_string()));
    *r.status_mut() = StatusCode::CREATED;
    r.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(r.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_cleaned_and_cut() {
        assert_eq!(clean_name("  My\u{202E}Client\n ").as_deref(), Some("MyClient"));
        assert_eq!(clean_name("a  b").as_deref(), Some("a b"));
        assert_eq!(clean_name("\u{0007}"), None);
        assert_eq!(clean_name(&"x".repeat(500)).map(|n| n.len()), Some(MAX_NAME_CHARS));
    }
}
