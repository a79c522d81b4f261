//! `/oauth/token`: the `authorization_code` and `refresh_token` grants.

use std::time::Duration;

use axum::body::Body;
use axum::response::Response;
use entra_core::Secret;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, PRAGMA};
use http::{HeaderMap, HeaderValue};

use crate::authorize::params;
use crate::crypto::{pkce_matches, random_token, sha256_b64};
use crate::facade::Inner;
use crate::records::{self, CodeRecord, RefreshRecord, key};
use crate::{Error, Result};

/// The largest token request read.
const MAX_FORM_BYTES: usize = 16 * 1024;
/// How long a redeemed code is remembered, to revoke what it issued on replay.
const USED_CODE_TTL: Duration = Duration::from_secs(3600);

/// `POST /oauth/token`.
pub(crate) async fn token(i: &Inner, headers: &HeaderMap, body: Body) -> Result<Response> {
    let form_type = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !form_type.starts_with("application/x-www-form-urlencoded") {
        return Err(Error::InvalidRequest("the body must be form-encoded"));
    }
    let bytes = axum::body::to_bytes(body, MAX_FORM_BYTES).await.map_err(|_| Error::TooLarge)?;
    let form = params(&bytes)?;
    let field = |name: &'static str| {
        form.get(name).filter(|v| !v.is_empty()).ok_or(Error::InvalidRequest(name))
    };
    match form.get("grant_type").map(String::as_str) {
        Some("authorization_code") => {
            redeem_code(
                i,
                field("code")?,
                field("client_id")?,
                field("redirect_uri")?,
                field("code_verifier")?,
            )
            .await
        }
        Some("refresh_token") => refresh(i, field("refresh_token")?, field("client_id")?).await,
        Some(_) => Err(Error::UnsupportedGrantType),
        None => Err(Error::InvalidRequest("grant_type")),
    }
}

async fn redeem_code(
    i: &Inner,
    code: &str,
    client_id: &str,
    redirect_uri: &str,
    verifier: &str,
) -> Result<Response> {
    let store = &*i.store;
    let Some(record) = records::take::<CodeRecord>(store, &key::code(code)).await? else {
        // Used before? Then revoke what that redemption issued, and every
        // rotation since (RFC 6749 section 4.1.2).
        if store.take(&key::used_code(code)).await?.is_some() {
            if let Some(current) = store.take(&key::family(&sha256_b64(code))).await? {
                store.remove(&key::refresh_by_hash(current.expose_secret())).await?;
            }
            tracing::warn!("an authorization code was replayed; its refresh tokens are revoked");
            return Err(Error::CodeReplayed);
        }
        return Err(Error::InvalidGrant("the code is unknown, expired or used"));
    };
    // Remembered at once, so that a concurrent replay finds it.
    store.put(&key::used_code(code), Secret::new(""), USED_CODE_TTL).await?;
    if record.client_id != client_id {
        return Err(Error::InvalidGrant("the code was issued to another client"));
    }
    if record.redirect_uri != redirect_uri {
        return Err(Error::InvalidGrant("redirect_uri differs from the authorization request"));
    }
    if !pkce_matches(verifier, &record.code_challenge) {
        return Err(Error::PkceMismatch);
    }
    let refresh = match (&record.entra_refresh, record.scopes.iter().any(|s| s == "offline_access"))
    {
        (Some(entra_refresh), true) => {
            let handle = random_token()?;
            let hash = sha256_b64(&handle);
            let family = sha256_b64(code);
            let stored = RefreshRecord {
                family: family.clone(),
                client_id: record.client_id.clone(),
                scopes: record.scopes.clone(),
                entra_refresh: entra_refresh.clone(),
            };
            records::put(store, &key::refresh_by_hash(&hash), &stored, i.limits.refresh_ttl)
                .await?;
            store.put(&key::family(&family), Secret::new(hash), i.limits.refresh_ttl).await?;
            Some(handle)
        }
        _ => None,
    };
    let lifetime = record.expires_at.saturating_sub(i.clock.unix_now()).max(0);
    tracing::info!("mcp client redeemed an authorization code");
    Ok(answer(&record.access_token, lifetime, &record.scopes, refresh.as_deref()))
}

async fn refresh(i: &Inner, handle: &str, client_id: &str) -> Result<Response> {
    let store = &*i.store;
    let hash = sha256_b64(handle);
    let record: RefreshRecord = records::take(store, &key::refresh_by_hash(&hash))
        .await?
        .ok_or(Error::InvalidGrant("the refresh token is unknown, expired or used"))?;
    if record.client_id != client_id {
        return Err(Error::InvalidGrant("the refresh token was issued to another client"));
    }
    let tokens = match i.sign_in.refresh(&Secret::new(record.entra_refresh.clone())).await {
        Ok(t) => t,
        Err(e) if e.is_transient() => {
            // Not the client's fault: the handle stays usable.
            records::put(store, &key::refresh_by_hash(&hash), &record, i.limits.refresh_ttl)
                .await?;
            return Err(Error::SignIn(e));
        }
        Err(e) => {
            tracing::info!(code = e.code(), "entra refused a refresh for an mcp client");
            return Err(Error::InvalidGrant("the refresh token was refused"));
        }
    };
    let (_, access, entra_refresh) = tokens.into_parts();
    let access = access.ok_or(Error::InvalidGrant("entra returned no access token"))?;
    let rotated = random_token()?;
    let rotated_hash = sha256_b64(&rotated);
    let stored = RefreshRecord {
        family: record.family.clone(),
        client_id: record.client_id,
        scopes: record.scopes.clone(),
        entra_refresh: entra_refresh.map_or(record.entra_refresh, |r| r.expose_secret().to_owned()),
    };
    records::put(store, &key::refresh_by_hash(&rotated_hash), &stored, i.limits.refresh_ttl)
        .await?;
    let family = key::family(&record.family);
    store.put(&family, Secret::new(rotated_hash), i.limits.refresh_ttl).await?;
    let lifetime = access
        .expires_at
        .duration_since(i.clock.now())
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    Ok(answer(access.secret.expose_secret(), lifetime, &record.scopes, Some(&rotated)))
}

/// The token response (RFC 6749 section 5.1), never cached.
fn answer(access: &str, expires_in: i64, scopes: &[String], refresh: Option<&str>) -> Response {
    let mut body = serde_json::json!({
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": expires_in,
        "scope": scopes.join(" "),
    });
    if let Some(r) = refresh {
        body["refresh_token"] = serde_json::Value::from(r);
    }
    let mut r = Response::new(Body::from(body.to_string()));
    let h = r.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(PRAGMA, HeaderValue::from_static("no-cache"));
    r
}
