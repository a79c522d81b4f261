//! "Sign in with Microsoft": the login, callback, logout and front-channel logout
//! routes, and their settings.

use std::collections::HashMap;
use std::fmt;
use std::hash::BuildHasher as _;
use std::sync::{Arc, PoisonError};
use std::time::Duration;

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use entra_core::{ClientCredential, Clock, Secret};
use entra_oidc::{CallbackParams, ResponseMode};
use http::header::{CACHE_CONTROL, CONTENT_TYPE, LOCATION, SET_COOKIE};
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use tower_sessions::SessionStore;

use crate::auth::DEFAULT_REFRESH_BEFORE;
use crate::error::text_response;
use crate::session::{
    CookieSettings, DynStore, SESSION_KEY, SessionLayer, cookie, end_sid_session, load_state,
    put_sid_index,
};
use crate::user::{SessionState, SignedInUser, StoredTokens};
use crate::{EntraAuth, EntraAuthBuilder, Error, Result};

/// The largest logout or `form_post` callback body read.
const MAX_FORM_BYTES: usize = 16 * 1024;

/// The route paths of sign-in.
#[derive(Clone, Debug)]
struct Paths {
    login: String,
    logout: String,
    front_channel: String,
}

impl Default for Paths {
    fn default() -> Self {
        Self {
            login: "/login".into(),
            logout: "/logout".into(),
            front_channel: "/logout/frontchannel".into(),
        }
    }
}

/// Sign-in settings collected by the builder.
#[derive(Default)]
pub(crate) struct SignInOptions {
    pub(crate) config: Option<entra_oidc::Config>,
    store: Option<DynStore>,
    login_states: Option<Arc<dyn entra_core::LoginStateStore>>,
    idle_timeout: Option<Duration>,
    refresh_before: Option<Duration>,
    paths: Paths,
    #[cfg(feature = "teams")]
    teams: Option<entra_teams::TeamSync>,
}

/// Sign-in, built.
pub(crate) struct SignIn {
    client: entra_oidc::Client,
    store: DynStore,
    cookies: CookieSettings,
    paths: Paths,
    callback_path: String,
    refresh_before: Duration,
    refreshing: Refreshing,
    login_ttl_secs: u64,
    #[cfg(feature = "teams")]
    teams: Option<entra_teams::TeamSync>,
}

/// The refreshes in flight, by a keyed hash of the refresh token: the
/// concurrent requests of one session share one refresh (the first one
/// redeems, the others wait and take its tokens). An entry lives only while
/// its refresh runs.
#[derive(Default)]
struct Refreshing {
    hasher: std::hash::RandomState,
    flights: std::sync::Mutex<HashMap<u64, Flight>>,
}

type Flight = Arc<tokio::sync::Mutex<Option<StoredTokens>>>;

impl SignInOptions {
    pub(crate) fn build(
        self,
        credential: Option<&ClientCredential>,
        clock: &Arc<dyn Clock>,
    ) -> Result<Option<SignIn>> {
        let Some(config) = self.config else { return Ok(None) };
        let redirect = config
            .redirect_uri
            .clone()
            .ok_or(Error::MissingConfig { name: entra_core::env::REDIRECT_URI.name })?;
        let url = url::Url::parse(&redirect).map_err(|_| Error::InvalidConfig {
            field: "redirect_uri",
            reason: format!("not a URL: {}", entra_core::shorten_untrusted(&redirect)),
        })?;
        if config.identity.credential.is_none() && credential.is_none() {
            return Err(Error::MissingConfig { name: entra_core::env::CLIENT_SECRET.name });
        }
        let secure = !(url.scheme() == "http" && crate::metadata::is_loopback(&url));
        let form_post = config.response_mode == ResponseMode::FormPost;
        let login_ttl_secs = config.login_ttl_secs;
        let mut builder = entra_oidc::Client::builder(config).clock(clock.clone());
        if let Some(c) = credential {
            builder = builder.credential(c.clone());
        }
        if let Some(states) = self.login_states {
            builder = builder.state_store(states);
        }
        let client = builder.build().map_err(Error::SignInSetup)?;
        let store = self
            .store
            .unwrap_or_else(|| DynStore(Arc::new(tower_sessions::MemoryStore::default())));
        let idle = self.idle_timeout.unwrap_or(Duration::from_secs(8 * 3600));
        Ok(Some(SignIn {
            client,
            store,
            cookies: CookieSettings::new(secure, form_post, idle),
            paths: self.paths,
            callback_path: url.path().to_owned(),
            refresh_before: self.refresh_before.unwrap_or(DEFAULT_REFRESH_BEFORE),
            refreshing: Refreshing::default(),
            login_ttl_secs,
            #[cfg(feature = "teams")]
            teams: self.teams,
        }))
    }
}

fn check_path(field: &'static str, path: &str) -> Result<()> {
    if !path.starts_with('/') || path.starts_with("//") || path.contains(['{', '}', '?', '#']) {
        return Err(Error::InvalidConfig { field, reason: format!("not a route path: {path}") });
    }
    Ok(())
}

impl EntraAuthBuilder {
    /// Enables "Sign in with Microsoft" with `config` (the same app registration:
    /// its redirect URI, secret, allowed domains, `offline_access`, ...). The
    /// callback route is the redirect URI's path. Defaults to none (no sign-in).
    pub fn sign_in(mut self, config: entra_oidc::Config) -> Self {
        self.sign_in.config = Some(config);
        self
    }

    /// Where sessions are kept: any tower-sessions store (Redis, SQL, ...).
    /// Defaults to a tower-sessions `MemoryStore` (one process only).
    pub fn session_store(mut self, store: impl SessionStore) -> Self {
        self.sign_in.store = Some(DynStore(Arc::new(store)));
        self
    }

    /// Where pending sign-ins are kept between `/login` and the callback (a
    /// shared store such as entra-redis's lets the callback reach any replica).
    /// Defaults to entra-oidc's in-memory store (one process only).
    pub fn login_state_store(mut self, store: impl entra_core::LoginStateStore + 'static) -> Self {
        self.sign_in.login_states = Some(Arc::new(store));
        self
    }

    /// How long a session lives without a request. Defaults to 8 hours.
    pub fn session_idle_timeout(mut self, timeout: Duration) -> Self {
        self.sign_in.idle_timeout = Some(timeout);
        self
    }

    /// How long before it expires the access token of a signed-in user is
    /// refreshed (with a refresh token from `offline_access`). Defaults to 5
    /// minutes.
    pub fn refresh_before(mut self, before: Duration) -> Self {
        self.sign_in.refresh_before = Some(before);
        self
    }

    /// The sign-in route. Defaults to `/login`.
    ///
    /// # Errors
    /// At [`EntraAuthBuilder::build`], [`Error::InvalidConfig`] for a path that
    /// does not start with `/`.
    pub fn login_path(mut self, path: impl Into<String>) -> Self {
        self.sign_in.paths.login = path.into();
        self
    }

    /// The sign-out route (POST). Defaults to `/logout`.
    pub fn logout_path(mut self, path: impl Into<String>) -> Self {
        self.sign_in.paths.logout = path.into();
        self
    }

    /// The front-channel logout route that Entra calls (register it as the app's
    /// front-channel logout URL). Defaults to `/logout/frontchannel`.
    pub fn front_channel_logout_path(mut self, path: impl Into<String>) -> Self {
        self.sign_in.paths.front_channel = path.into();
        self
    }

    /// Resolves the user's teams and role with entra-teams at sign-in (group
    /// overage through its group source). Defaults to none.
    #[cfg(feature = "teams")]
    #[cfg_attr(docsrs, doc(cfg(feature = "teams")))]
    pub fn teams(mut self, sync: entra_teams::TeamSync) -> Self {
        self.sign_in.teams = Some(sync);
        self
    }

    pub(crate) fn check_paths(&self) -> Result<()> {
        let p = &self.sign_in.paths;
        check_path("login_path", &p.login)?;
        check_path("logout_path", &p.logout)?;
        check_path("front_channel_logout_path", &p.front_channel)
    }
}

impl EntraAuth {
    fn sign_in_ref(&self) -> Option<&SignIn> {
        self.inner.sign_in.as_ref()
    }

    /// The sign-in client, when sign-in is configured.
    pub fn sign_in_client(&self) -> Option<&entra_oidc::Client> {
        self.sign_in_ref().map(|s| &s.client)
    }

    /// The sign-in routes: `GET <login>?return_to=<local path>`, the callback at
    /// the redirect URI's path (`GET` for `response_mode=query`, `POST` for
    /// `form_post`), `POST <logout>` (needs the session's CSRF token) and
    /// `GET <front-channel logout>`. They need the [`EntraAuth::session_layer`]
    /// around them. Without sign-in configured they answer 500 (and log why).
    pub fn sign_in_routes<S: Clone + Send + Sync + 'static>(&self) -> Router<S> {
        let Some(s) = self.sign_in_ref() else {
            tracing::error!(
                "sign_in_routes: sign-in is not configured (EntraAuthBuilder::sign_in)"
            );
            return Router::new().with_state(self.clone());
        };
        Router::new()
            .route(&s.paths.login, get(login))
            .route(&s.callback_path, get(callback).post(callback))
            .route(&s.paths.logout, post(logout))
            .route(&s.paths.front_channel, get(front_channel_logout))
            .with_state(self.clone())
    }

    /// The session layer (tower-sessions with the configured store, secure
    /// cookies) that the sign-in routes and the [`User`](crate::User) extractor
    /// need; see [`SessionLayer`].
    pub fn session_layer(&self) -> SessionLayer {
        match self.sign_in_ref() {
            Some(s) => SessionLayer::new(self.clone(), s.store.clone(), &s.cookies),
            None => SessionLayer::new(
                self.clone(),
                DynStore(Arc::new(tower_sessions::MemoryStore::default())),
                &CookieSettings::new(true, false, Duration::from_secs(8 * 3600)),
            ),
        }
    }

    /// The sign-in URL that returns to `return_to`: `/login?return_to=...`.
    pub fn login_url(&self, return_to: &str) -> String {
        let login = self.sign_in_ref().map_or("/login", |s| s.paths.login.as_str());
        let q: String = url::form_urlencoded::byte_serialize(return_to.as_bytes()).collect();
        format!("{login}?return_to={q}")
    }

    /// A refresh of the session's tokens, when one is due.
    pub(crate) async fn refresh_if_due(
        &self,
        state: &SessionState,
    ) -> Option<std::result::Result<StoredTokens, entra_oidc::Error>> {
        let s = self.sign_in_ref()?;
        let refresh = state.tokens.refresh_token.as_ref()?;
        let exp = state.tokens.access_expires_at?;
        let before = i64::try_from(s.refresh_before.as_secs()).unwrap_or(i64::MAX);
        if exp.saturating_sub(self.now()) > before {
            return None;
        }
        let key = s.refreshing.hasher.hash_one(refresh.as_bytes());
        let flight: Flight = {
            let mut flights = s.refreshing.flights.lock().unwrap_or_else(PoisonError::into_inner);
            flights.entry(key).or_default().clone()
        };
        let mut landed = flight.lock().await;
        if let Some(tokens) = landed.as_ref() {
            // Another request of this session refreshed while this one waited.
            return Some(Ok(tokens.clone()));
        }
        let result = s.client.refresh(&Secret::new(refresh.clone())).await;
        let result = result.map(|t| StoredTokens::from_tokens(t, Some(refresh.clone())));
        if let Ok(tokens) = &result {
            *landed = Some(tokens.clone());
        }
        drop(landed);
        // The flight ends: later requests carry the session's new tokens.
        let mut flights = s.refreshing.flights.lock().unwrap_or_else(PoisonError::into_inner);
        if flights.get(&key).is_some_and(|f| Arc::ptr_eq(f, &flight)) {
            flights.remove(&key);
        }
        Some(result)
    }
}

fn not_configured() -> Response {
    text_response(StatusCode::INTERNAL_SERVER_ERROR, "sign-in is not configured")
}

fn redirect(to: &str) -> Response {
    let mut r = Response::new(Body::empty());
    *r.status_mut() = StatusCode::SEE_OTHER;
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(LOCATION, v);
    }
    r.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn add_cookie(r: &mut Response, cookie: &str) {
    if let Ok(v) = HeaderValue::from_str(cookie) {
        r.headers_mut().append(SET_COOKIE, v);
    }
}

fn session_of(parts: &http::Extensions) -> Option<tower_sessions::Session> {
    let session = parts.get::<tower_sessions::Session>().cloned();
    if session.is_none() {
        tracing::error!("sign-in routes are served without EntraAuth::session_layer");
    }
    session
}

fn no_session_layer() -> Response {
    text_response(StatusCode::INTERNAL_SERVER_ERROR, "the session layer is not installed")
}

/// `GET /login?return_to=/path`: starts a sign-in and binds it to this browser.
async fn login(State(auth): State<EntraAuth>, RawQuery(query): RawQuery) -> Response {
    let Some(s) = auth.sign_in_ref() else { return not_configured() };
    let mut return_to = None;
    for (k, v) in url::form_urlencoded::parse(query.as_deref().unwrap_or("").as_bytes()) {
        if k == "return_to" {
            if return_to.is_some() {
                return text_response(StatusCode::BAD_REQUEST, "return_to is repeated");
            }
            return_to = Some(v.into_owned());
        }
    }
    match s.client.begin(return_to.as_deref().unwrap_or("/")).await {
        Ok(login) => {
            let mut r = redirect(login.url());
            add_cookie(&mut r, &s.cookies.state_cookie(login.state(), s.login_ttl_secs));
            r
        }
        Err(entra_oidc::Error::InvalidReturnPath { .. }) => {
            text_response(StatusCode::BAD_REQUEST, "return_to must be a local path")
        }
        Err(e) => Error::SignIn(e).into_response(),
    }
}

/// The redirect URI: completes the sign-in for the browser that started it,
/// rotates the session id and stores the user.
async fn callback(
    State(auth): State<EntraAuth>,
    method: Method,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    extensions: http::Extensions,
    body: Body,
) -> Response {
    let Some(s) = auth.sign_in_ref() else { return not_configured() };
    let Some(session) = session_of(&extensions) else { return no_session_layer() };
    let params = if method == Method::POST {
        match axum::body::to_bytes(body, MAX_FORM_BYTES).await {
            Ok(b) => CallbackParams::from_form(&b),
            Err(_) => {
                return text_response(StatusCode::PAYLOAD_TOO_LARGE, "the callback is too large");
            }
        }
    } else {
        CallbackParams::from_query(query.as_deref().unwrap_or(""))
    };
    let result = match params {
        Ok(params) => {
            // No state cookie (another browser): an empty expected state never matches.
            let browser_state = cookie(&headers, &s.cookies.state_name).unwrap_or("");
            s.client.complete(&params, browser_state).await.map_err(Error::SignIn)
        }
        Err(e) => Err(Error::SignIn(e)),
    };
    let mut response = match result {
        Ok(signed_in) => match start_session(s, &session, signed_in).await {
            Ok(return_to) => redirect(&return_to),
            Err(e) => e.into_response(),
        },
        Err(e) => {
            tracing::info!(code = e.code(), error = %e, "sign-in callback refused");
            let refusal = SignInRefusal::from_error(&e);
            let mut r = e.into_response();
            r.extensions_mut().insert(refusal);
            r
        }
    };
    add_cookie(&mut response, &s.cookies.clear_state_cookie());
    response
}

async fn start_session(
    s: &SignIn,
    session: &tower_sessions::Session,
    signed_in: entra_oidc::SignedIn,
) -> Result<String> {
    let (user, tokens, return_to) = signed_in.into_parts();
    let claims = user.claims();
    let groups = match user.groups() {
        entra_oidc::UserGroups::Listed(g) => Some(g.clone()),
        _ => None,
    };
    let sid = claims.sid.clone().zip(claims.iss.clone());
    let login_hint = claims.login_hint.clone();
    #[cfg_attr(not(feature = "teams"), allow(unused_mut))]
    let mut info = SignedInUser {
        key: user.key().clone(),
        name: user.name().map(str::to_owned),
        username: user.username().map(str::to_owned),
        email: user.email().map(str::to_owned),
        roles: user.roles().to_vec(),
        groups,
        teams: None,
    };
    #[cfg(feature = "teams")]
    if let Some(sync) = &s.teams {
        info.teams = Some(crate::teams::resolve(sync, &user, &tokens).await?);
    }
    let state = SessionState {
        user: info,
        tokens: StoredTokens::from_tokens(tokens, None),
        csrf: random_token()?,
        sid: sid.clone(),
        login_hint,
    };
    // A new session id at sign-in: a session id planted before it is worthless.
    session.cycle_id().await.map_err(Error::Session)?;
    session.insert(SESSION_KEY, &state).await.map_err(Error::Session)?;
    session.save().await.map_err(Error::Session)?;
    if let (Some((sid, iss)), Some(id)) = (sid, session.id())
        && let Err(e) = put_sid_index(&s.store, &iss, &sid, id, session.expiry_date()).await
    {
        tracing::warn!(error = %e, "front-channel logout index not stored");
    }
    tracing::info!(tid = %state.user.key.tid, "signed in");
    Ok(return_to)
}

fn random_token() -> Result<String> {
    let mut bytes = [0u8; 32];
    SystemRandom::new().fill(&mut bytes).map_err(|_| Error::InvalidConfig {
        field: "random",
        reason: "the system random generator failed".into(),
    })?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// Why the sign-in callback refused a sign-in, in the extensions of its
/// response, so that an app can answer with its own page (for example with
/// `axum::middleware::map_response`) instead of the short text response.
///
/// ```
/// use axum::response::{Html, IntoResponse, Response};
/// use entra_axum::SignInRefusal;
///
/// async fn refusal_page(response: Response) -> Response {
///     match response.extensions().get::<SignInRefusal>() {
///         Some(r) if r.code() == "domain_not_allowed" => {
///             Html("<h1>This account may not sign in here</h1>").into_response()
///         }
///         _ => response,
///     }
/// }
/// let app: axum::Router = axum::Router::new().layer(axum::middleware::map_response(refusal_page));
/// ```
#[derive(Clone, Debug)]
pub struct SignInRefusal {
    code: &'static str,
    domain: Option<String>,
}

impl SignInRefusal {
    fn from_error(e: &Error) -> Self {
        match e {
            Error::SignIn(inner) => Self {
                code: inner.code(),
                domain: match inner {
                    entra_oidc::Error::DomainNotAllowed { domain } => domain.clone(),
                    _ => None,
                },
            },
            other => Self { code: other.code(), domain: None },
        }
    }

    /// The stable code of the refusal: entra-oidc's code for a refused sign-in
    /// (`domain_not_allowed`, `state_mismatch`, an Entra error's code, ...),
    /// else this crate's [`Error::code`] (`teams`, `session_store`, ...).
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// For `domain_not_allowed`, the refused email domain (from the ID token:
    /// escape it before showing it).
    pub fn domain(&self) -> Option<&str> {
        self.domain.as_deref()
    }
}

/// `POST /logout`: checks the CSRF token, ends the session here and at Entra.
async fn logout(
    State(auth): State<EntraAuth>,
    headers: HeaderMap,
    extensions: http::Extensions,
    body: Body,
) -> Response {
    let Some(s) = auth.sign_in_ref() else { return not_configured() };
    let Some(session) = session_of(&extensions) else { return no_session_layer() };
    let state = match load_state(&session).await {
        Ok(state) => state,
        Err(e) => return e.into_response(),
    };
    let Some(state) = state else {
        // Nobody is signed in here: nothing to end.
        return redirect("/");
    };
    let body: Bytes = match axum::body::to_bytes(body, MAX_FORM_BYTES).await {
        Ok(b) => b,
        Err(_) => return text_response(StatusCode::PAYLOAD_TOO_LARGE, "the form is too large"),
    };
    let sent =
        headers.get("x-csrf-token").and_then(|v| v.to_str().ok()).map(str::to_owned).or_else(
            || {
                url::form_urlencoded::parse(&body)
                    .find(|(k, _)| k == "csrf_token")
                    .map(|(_, v)| v.into_owned())
            },
        );
    let matches =
        sent.is_some_and(|t| entra_core::constant_time::eq(t.as_bytes(), state.csrf.as_bytes()));
    if !matches {
        return Error::Csrf.into_response();
    }
    if let Some((sid, iss)) = &state.sid {
        let _ = end_sid_session(&s.store, iss, sid).await;
    }
    if let Err(e) = session.flush().await {
        return Error::Session(e).into_response();
    }
    match s.client.logout_url(state.login_hint.as_deref()).await {
        Ok(url) => redirect(&url),
        Err(e) => {
            tracing::warn!(error = %e, "signed out locally; the Entra sign-out URL is unavailable");
            redirect("/")
        }
    }
}

/// `GET /logout/frontchannel?sid=...&iss=...`: Entra ends the user's session in
/// an iframe. Ends the session recorded for that `sid` and, when the browser
/// sent its session cookie, that session too.
async fn front_channel_logout(
    State(auth): State<EntraAuth>,
    RawQuery(query): RawQuery,
    extensions: http::Extensions,
) -> Response {
    let Some(s) = auth.sign_in_ref() else { return not_configured() };
    let mut sid = None;
    let mut iss = None;
    for (k, v) in url::form_urlencoded::parse(query.as_deref().unwrap_or("").as_bytes()) {
        match &*k {
            "sid" => sid = Some(v.into_owned()),
            "iss" => iss = Some(v.into_owned()),
            _ => {}
        }
    }
    // The browser's own session, when it sent its cookie, ends only for its own
    // `sid`: a link to this route cannot sign anyone out.
    if let (Some(session), Some(given)) = (session_of(&extensions), &sid)
        && let Ok(Some(state)) = load_state(&session).await
        && state.sid.as_ref().is_some_and(|(own, _)| own == given)
    {
        let _ = session.flush().await;
    }
    if let (Some(sid), Some(iss)) = (sid, iss)
        && let Err(e) = end_sid_session(&s.store, &iss, &sid).await
    {
        tracing::warn!(error = %e, "front-channel logout: the session store failed");
    }
    let mut r = Response::new(Body::from("<!DOCTYPE html><title>Signed out</title>"));
    r.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    r.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

impl fmt::Debug for SignIn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignIn").field("client", &self.client).finish_non_exhaustive()
    }
}
