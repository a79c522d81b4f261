//! `/oauth/authorize` (the consent page), `/oauth/consent` (the user's answer,
//! then Entra sign-in) and `/oauth/callback` (Entra's answer, then the code).

use std::collections::HashMap;

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use entra_oidc::{CallbackParams, LoginOptions};
use http::header::{CACHE_CONTROL, COOKIE, LOCATION, SET_COOKIE};
use http::{HeaderMap, HeaderValue, StatusCode};

use crate::crypto::{is_pkce_syntax, random_token, same, sha256_b64};
use crate::facade::Inner;
use crate::records::{self, ClientRecord, CodeRecord, PendingAuthorization, key};
use crate::{Error, Result, page, redirect};

/// The longest client `state` kept.
const MAX_STATE_LEN: usize = 1024;
/// The largest consent form read.
const MAX_FORM_BYTES: usize = 4096;

/// Query or form parameters; a repeated parameter is refused (RFC 6749 section 3.1).
pub(crate) fn params(raw: &[u8]) -> Result<HashMap<String, String>> {
    let mut map = HashMap::new();
    for (k, v) in url::form_urlencoded::parse(raw) {
        if map.insert(k.into_owned(), v.into_owned()).is_some() {
            return Err(Error::InvalidRequest("a parameter is repeated"));
        }
    }
    Ok(map)
}

/// The client named by `client_id`: a registration, or a metadata document.
pub(crate) async fn find_client(i: &Inner, client_id: &str) -> Result<ClientRecord> {
    if client_id.is_empty() || client_id.len() > 2048 {
        return Err(Error::UnknownClient);
    }
    if let Some(record) = records::get::<ClientRecord>(&*i.store, &key::client(client_id)).await? {
        return Ok(record);
    }
    match &i.documents {
        Some(documents) if client_id.starts_with("https://") => {
            let record = documents.fetch(i, client_id).await?;
            let ttl = i.limits.metadata_document_ttl;
            if !ttl.is_zero() {
                records::put(&*i.store, &key::client(client_id), &record, ttl).await?;
            }
            Ok(record)
        }
        _ => Err(Error::UnknownClient),
    }
}

/// Sends the browser back to the client with an OAuth error.
fn error_redirect(i: &Inner, redirect_uri: &str, state: Option<&str>, e: &Error) -> Response {
    tracing::info!(code = e.code(), "authorization refused");
    let mut pairs = vec![("error", e.oauth_error())];
    if let Some(s) = state {
        pairs.push(("state", s));
    }
    pairs.push(("iss", &i.issuer));
    see_other(&with_query(redirect_uri, &pairs))
}

pub(crate) fn with_query(base: &str, pairs: &[(&str, &str)]) -> String {
    match url::Url::parse(base) {
        Ok(mut url) => {
            url.query_pairs_mut().extend_pairs(pairs);
            url.into()
        }
        Err(_) => base.to_owned(),
    }
}

fn see_other(to: &str) -> Response {
    let mut r = Response::new(Body::empty());
    *r.status_mut() = StatusCode::SEE_OTHER;
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(LOCATION, v);
    }
    r.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// The scopes asked for, each one offered; none asked means all offered.
fn granted_scopes(i: &Inner, asked: Option<&String>) -> Result<Vec<String>> {
    let Some(asked) = asked.filter(|s| !s.trim().is_empty()) else {
        let mut all = i.scopes.clone();
        all.push("offline_access".to_owned());
        return Ok(all);
    };
    let mut out: Vec<String> = Vec::new();
    for s in asked.split_ascii_whitespace() {
        let offered = s == "offline_access" || i.scopes.iter().any(|o| o == s);
        if !offered {
            return Err(Error::InvalidScope);
        }
        if !out.iter().any(|o| o == s) {
            out.push(s.to_owned());
        }
    }
    Ok(out)
}

/// `GET /oauth/authorize`: checks the request and shows the consent page.
pub(crate) async fn authorize(i: &Inner, query: &str) -> Response {
    match authorize_inner(i, query).await {
        Ok(r) | Err(r) => r,
    }
}

async fn authorize_inner(i: &Inner, query: &str) -> std::result::Result<Response, Response> {
    let p = params(query.as_bytes()).map_err(IntoResponse::into_response)?;
    // Until the client and its redirect URI are known good, errors are shown
    // here, never sent to a redirect URI (RFC 6749 section 4.1.2.1).
    let client_id = p.get("client_id").ok_or_else(|| Error::UnknownClient.into_response())?;
    let client = find_client(i, client_id).await.map_err(IntoResponse::into_response)?;
    let redirect_uri = p
        .get("redirect_uri")
        .ok_or_else(|| Error::InvalidRequest("redirect_uri is required").into_response())?;
    if !client.redirect_uris.iter().any(|r| redirect::matches(r, redirect_uri)) {
        return Err(Error::UnregisteredRedirectUri.into_response());
    }
    let state = p.get("state").map(String::as_str);
    if state.is_some_and(|s| s.len() > MAX_STATE_LEN) {
        return Err(Error::InvalidRequest("state is too long").into_response());
    }
    let refuse = |e: Error| error_redirect(i, redirect_uri, state, &e);
    if p.get("response_type").map(String::as_str) != Some("code") {
        let mut pairs = vec![("error", "unsupported_response_type")];
        if let Some(s) = state {
            pairs.push(("state", s));
        }
        pairs.push(("iss", &i.issuer));
        return Err(see_other(&with_query(redirect_uri, &pairs)));
    }
    let challenge = p.get("code_challenge").filter(|c| is_pkce_syntax(c));
    let (Some(challenge), Some("S256")) =
        (challenge, p.get("code_challenge_method").map(String::as_str))
    else {
        return Err(refuse(Error::PkceRequired));
    };
    if let Some(resource) = p.get("resource")
        && resource.trim_end_matches('/') != i.resource.resource.trim_end_matches('/')
    {
        return Err(refuse(Error::InvalidTarget));
    }
    let scopes = granted_scopes(i, p.get("scope")).map_err(refuse)?;
    let txn = random_token().map_err(refuse)?;
    let csrf = random_token().map_err(refuse)?;
    let pending = PendingAuthorization {
        client_id: client.client_id.clone(),
        client_name: client.client_name.clone(),
        redirect_uri: redirect_uri.clone(),
        code_challenge: challenge.clone(),
        state: state.map(str::to_owned),
        scopes,
        csrf_hash: sha256_b64(&csrf),
    };
    let ttl = i.limits.authorization_ttl;
    records::put(&*i.store, &key::consent(&txn), &pending, ttl)
        .await
        .map_err(IntoResponse::into_response)?;
    if !client.metadata_document {
        // A registration in use lives on.
        let _ =
            records::put(&*i.store, &key::client(&client.client_id), &client, i.limits.client_ttl)
                .await;
    }
    let mut r = page::consent(&pending, &client, &txn, &csrf);
    add_cookie(&mut r, &cookie(i, CONSENT_COOKIE, &csrf, ttl.as_secs()));
    Ok(r)
}

const CONSENT_COOKIE: &str = "mcp-consent";
const STATE_COOKIE: &str = "mcp-state";

fn cookie_name(i: &Inner, base: &str) -> String {
    if i.secure_cookies { format!("__Host-{base}") } else { base.to_owned() }
}

fn cookie(i: &Inner, base: &str, value: &str, max_age: u64) -> String {
    let secure = if i.secure_cookies { "; Secure" } else { "" };
    format!(
        "{}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}",
        cookie_name(i, base)
    )
}

fn add_cookie(r: &mut Response, cookie: &str) {
    if let Ok(v) = HeaderValue::from_str(cookie) {
        r.headers_mut().append(SET_COOKIE, v);
    }
}

fn read_cookie(i: &Inner, headers: &HeaderMap, base: &str) -> Option<String> {
    let name = cookie_name(i, base);
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// `POST /oauth/consent`: the user's answer. Needs the page's CSRF token in
/// the form and in the cookie, both matching the pending authorization.
pub(crate) async fn consent(i: &Inner, headers: &HeaderMap, body: Body) -> Response {
    match consent_inner(i, headers, body).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn consent_inner(i: &Inner, headers: &HeaderMap, body: Body) -> Result<Response> {
    let bytes = axum::body::to_bytes(body, MAX_FORM_BYTES).await.map_err(|_| Error::TooLarge)?;
    let form = params(&bytes)?;
    let txn = form.get("txn").ok_or(Error::UnknownTransaction)?;
    let sent = form.get("csrf_token").ok_or(Error::Csrf)?;
    let jar = read_cookie(i, headers, CONSENT_COOKIE).ok_or(Error::Csrf)?;
    if sent.is_empty() || !same(sent, &jar) {
        return Err(Error::Csrf);
    }
    let key = key::consent(txn);
    let pending: PendingAuthorization =
        records::get(&*i.store, &key).await?.ok_or(Error::UnknownTransaction)?;
    if !same(&sha256_b64(sent), &pending.csrf_hash) {
        return Err(Error::Csrf);
    }
    // Take-once: a second submission finds nothing.
    let pending: PendingAuthorization =
        records::take(&*i.store, &key).await?.ok_or(Error::UnknownTransaction)?;
    let mut response = if form.get("decision").map(String::as_str) == Some("approve") {
        let login = i.sign_in.begin_with(LoginOptions::new("/")).await.map_err(Error::SignIn)?;
        let ttl = i.limits.authorization_ttl;
        records::put(&*i.store, &key::sign_in(login.state()), &pending, ttl).await?;
        let mut r = see_other(login.url());
        add_cookie(&mut r, &cookie(i, STATE_COOKIE, login.state(), ttl.as_secs()));
        r
    } else {
        error_redirect(i, &pending.redirect_uri, pending.state.as_deref(), &Error::AccessDenied)
    };
    add_cookie(&mut response, &cookie(i, CONSENT_COOKIE, "", 0));
    Ok(response)
}

/// `GET /oauth/callback`: Entra's answer. Completes the sign-in for the browser
/// that approved, then sends the client a one-time code.
pub(crate) async fn callback(i: &Inner, headers: &HeaderMap, query: &str) -> Response {
    let mut r = match callback_inner(i, headers, query).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    };
    add_cookie(&mut r, &cookie(i, STATE_COOKIE, "", 0));
    r
}

async fn callback_inner(i: &Inner, headers: &HeaderMap, query: &str) -> Result<Response> {
    let params = CallbackParams::from_query(query).map_err(|_| Error::UnknownTransaction)?;
    let state = params.state.clone().filter(|s| !s.is_empty() && s.len() <= 512);
    let state = state.ok_or(Error::UnknownTransaction)?;
    let pending: PendingAuthorization =
        records::take(&*i.store, &key::sign_in(&state)).await?.ok_or(Error::UnknownTransaction)?;
    let browser = read_cookie(i, headers, STATE_COOKIE).unwrap_or_default();
    let client_state = pending.state.as_deref();
    let signed_in = match i.sign_in.complete(&params, &browser).await {
        Ok(s) => s,
        Err(e) => {
            tracing::info!(code = e.code(), error = %e, "entra sign-in for an mcp client failed");
            let refusal = if e.is_transient() { Error::SignIn(e) } else { Error::AccessDenied };
            return Ok(error_redirect(i, &pending.redirect_uri, client_state, &refusal));
        }
    };
    let (_, tokens, _) = signed_in.into_parts();
    let (_, access, refresh) = tokens.into_parts();
    let Some(access) = access else {
        let e = Error::InvalidGrant("entra returned no access token");
        return Ok(error_redirect(i, &pending.redirect_uri, client_state, &e));
    };
    let expires_at = access
        .expires_at
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    let code = random_token()?;
    let record = CodeRecord {
        client_id: pending.client_id.clone(),
        redirect_uri: pending.redirect_uri.clone(),
        code_challenge: pending.code_challenge.clone(),
        scopes: pending.scopes.clone(),
        access_token: access.secret.expose_secret().to_owned(),
        expires_at,
        entra_refresh: refresh.map(|r| r.expose_secret().to_owned()),
    };
    records::put(&*i.store, &key::code(&code), &record, i.limits.code_ttl).await?;
    let mut pairs = vec![("code", code.as_str())];
    if let Some(s) = client_state {
        pairs.push(("state", s));
    }
    pairs.push(("iss", &i.issuer));
    Ok(see_other(&with_query(&pending.redirect_uri, &pairs)))
}
