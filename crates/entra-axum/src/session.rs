//! Sessions through tower-sessions: the layer, the session data of a signed-in
//! user, cookie settings, and the index that lets front-channel logout find a
//! session by Entra's `sid`.

use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};

use async_trait::async_trait;
use axum::body::{Body, Bytes, HttpBody};
use axum::response::Response;
use http::Request;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tower_layer::Layer;
use tower_service::Service;
use tower_sessions::cookie::SameSite;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};
use tower_sessions::{Expiry, SessionManagerLayer};

use crate::EntraAuth;
use crate::future::ResponseFuture;
use crate::user::SessionState;

/// The session key under which the signed-in user's state is stored.
pub(crate) const SESSION_KEY: &str = "entra.user";

/// Any tower-sessions store, behind one type so that [`SessionLayer`] has no
/// type parameter.
#[derive(Clone)]
pub(crate) struct DynStore(pub(crate) Arc<dyn SessionStore>);

impl fmt::Debug for DynStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[async_trait]
impl SessionStore for DynStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        self.0.create(record).await
    }
    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.0.save(record).await
    }
    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        self.0.load(id).await
    }
    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.0.delete(id).await
    }
}

/// Cookie and session settings, derived from the redirect URI.
#[derive(Clone, Debug)]
pub(crate) struct CookieSettings {
    /// `Secure`, and the `__Host-` prefix: off only for plain http on loopback.
    pub(crate) secure: bool,
    pub(crate) session_name: String,
    pub(crate) state_name: String,
    /// The state cookie must reach a `form_post` callback, a cross-site POST.
    pub(crate) state_same_site_none: bool,
    pub(crate) idle_timeout: time::Duration,
}

impl CookieSettings {
    pub(crate) fn new(secure: bool, form_post: bool, idle_timeout: std::time::Duration) -> Self {
        let prefix = if secure { "__Host-" } else { "" };
        Self {
            secure,
            session_name: format!("{prefix}entra.session"),
            state_name: format!("{prefix}entra.state"),
            state_same_site_none: form_post,
            idle_timeout: time::Duration::try_from(idle_timeout)
                .unwrap_or(time::Duration::hours(8)),
        }
    }

    /// `Set-Cookie` for the sign-in state (bound to this browser until the callback).
    pub(crate) fn state_cookie(&self, value: &str, max_age_secs: u64) -> String {
        let mut c =
            format!("{}={value}; Path=/; HttpOnly; Max-Age={max_age_secs}", self.state_name);
        if self.state_same_site_none {
            // SameSite=None needs Secure; browsers accept it on http://localhost too.
            c.push_str("; SameSite=None; Secure");
        } else {
            c.push_str("; SameSite=Lax");
            if self.secure {
                c.push_str("; Secure");
            }
        }
        c
    }

    /// `Set-Cookie` removing the state cookie.
    pub(crate) fn clear_state_cookie(&self) -> String {
        let mut c = self.state_cookie("", 0);
        c.push_str("; Expires=Thu, 01 Jan 1970 00:00:00 GMT");
        c
    }
}

/// The value of cookie `name` in the request's `Cookie` headers, if present once.
pub(crate) fn cookie<'a>(headers: &'a http::HeaderMap, name: &str) -> Option<&'a str> {
    let mut found = None;
    for header in headers.get_all(http::header::COOKIE) {
        let Ok(header) = header.to_str() else { continue };
        for pair in header.split(';') {
            let Some((k, v)) = pair.trim().split_once('=') else { continue };
            if k == name {
                if found.is_some() {
                    // Two cookies of the same name (a planted one): trust neither.
                    return None;
                }
                found = Some(v.trim_matches('"'));
            }
        }
    }
    found
}

/// A tower [`Layer`] adding sessions (tower-sessions, with the store chosen on
/// [`EntraAuthBuilder::session_store`](crate::EntraAuthBuilder::session_store))
/// and the [`EntraAuth`] that the [`User`](crate::User) extractor and the sign-in
/// routes use. Put it outermost, around the sign-in routes and every route that
/// reads the user.
///
/// The session cookie is `HttpOnly`, `SameSite=Lax`, `Path=/`, `Secure` with the
/// `__Host-` prefix (`__Host-entra.session`) unless the redirect URI is plain
/// http on a loopback host (`entra.session`), and holds only the session id:
/// tokens stay in the store. Sessions end after 8 hours without a request by
/// default ([`EntraAuthBuilder::session_idle_timeout`](crate::EntraAuthBuilder::session_idle_timeout)).
#[derive(Clone)]
pub struct SessionLayer {
    auth: EntraAuth,
    manager: SessionManagerLayer<DynStore>,
}

impl fmt::Debug for SessionLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionLayer").finish_non_exhaustive()
    }
}

impl SessionLayer {
    pub(crate) fn new(auth: EntraAuth, store: DynStore, cookies: &CookieSettings) -> Self {
        let manager = SessionManagerLayer::new(store)
            .with_name(cookies.session_name.clone())
            .with_http_only(true)
            .with_same_site(SameSite::Lax)
            .with_secure(cookies.secure)
            .with_path("/")
            .with_expiry(Expiry::OnInactivity(cookies.idle_timeout));
        Self { auth, manager }
    }
}

impl<S> Layer<S> for SessionLayer {
    type Service = Session<S>;

    fn layer(&self, inner: S) -> Session<S> {
        Session { inner: self.manager.layer(inner), auth: self.auth.clone() }
    }
}

/// The service of [`SessionLayer`].
pub struct Session<S> {
    inner: <SessionManagerLayer<DynStore> as Layer<S>>::Service,
    auth: EntraAuth,
}

impl<S: Clone> Clone for Session<S> {
    fn clone(&self) -> Self {
        Self { inner: self.inner.clone(), auth: self.auth.clone() }
    }
}

impl<S> fmt::Debug for Session<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session").finish_non_exhaustive()
    }
}

impl<S, B, ResBody> Service<Request<B>> for Session<S>
where
    S: Service<Request<B>, Response = http::Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send,
    S::Error: Send + 'static,
    B: Send + 'static,
    ResBody: HttpBody<Data = Bytes> + Default + Send + 'static,
    ResBody::Error: Into<axum::BoxError>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = ResponseFuture<S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<B>) -> Self::Future {
        req.extensions_mut().insert(self.auth.clone());
        let future = self.inner.call(req);
        ResponseFuture::new(Box::pin(async move { Ok(future.await?.map(Body::new)) }))
    }
}

/// The id of the index record that maps Entra's session id (`sid`, with the
/// issuer) to our session: derived, so any store can hold it.
pub(crate) fn sid_index_id(iss: &str, sid: &str) -> Id {
    let mut h = Sha256::new();
    h.update(b"entra-axum sid index\0");
    h.update(iss.as_bytes());
    h.update(b"\0");
    h.update(sid.as_bytes());
    let digest = h.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    Id(i128::from_le_bytes(bytes))
}

/// The session id, in its cookie form: JSON numbers cannot hold an `i128`.
#[derive(Serialize, Deserialize)]
struct SidIndex {
    session: String,
}

const SID_INDEX_KEY: &str = "entra.sid_index";

/// Records that the session `session` belongs to Entra session `sid`.
pub(crate) async fn put_sid_index(
    store: &DynStore,
    iss: &str,
    sid: &str,
    session: Id,
    expiry_date: time::OffsetDateTime,
) -> session_store::Result<()> {
    let mut data = std::collections::HashMap::new();
    let value = serde_json::to_value(SidIndex { session: session.to_string() })
        .map_err(|e| session_store::Error::Encode(e.to_string()))?;
    data.insert(SID_INDEX_KEY.to_owned(), value);
    let record = Record { id: sid_index_id(iss, sid), data, expiry_date };
    store.save(&record).await
}

/// Ends the session recorded for Entra session `sid`, if any. Returns whether
/// one was found.
pub(crate) async fn end_sid_session(
    store: &DynStore,
    iss: &str,
    sid: &str,
) -> session_store::Result<bool> {
    let index = sid_index_id(iss, sid);
    let Some(record) = store.load(&index).await? else { return Ok(false) };
    store.delete(&index).await?;
    let Some(entry) = record.data.get(SID_INDEX_KEY) else { return Ok(false) };
    let Ok(entry) = serde_json::from_value::<SidIndex>(entry.clone()) else { return Ok(false) };
    let Ok(session) = entry.session.parse::<Id>() else { return Ok(false) };
    store.delete(&session).await?;
    Ok(true)
}

/// The state of the signed-in user in `session`, if any.
pub(crate) async fn load_state(
    session: &tower_sessions::Session,
) -> Result<Option<SessionState>, crate::Error> {
    match session.get::<SessionState>(SESSION_KEY).await {
        Ok(s) => Ok(s),
        Err(tower_sessions::session::Error::SerdeJson(_)) => {
            // Data from another version of this crate: sign in again.
            Ok(None)
        }
        Err(e) => Err(crate::Error::Session(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies() {
        let s = CookieSettings::new(true, false, std::time::Duration::from_secs(60));
        assert_eq!(s.session_name, "__Host-entra.session");
        assert_eq!(
            s.state_cookie("abc", 600),
            "__Host-entra.state=abc; Path=/; HttpOnly; Max-Age=600; SameSite=Lax; Secure"
        );
        let s = CookieSettings::new(false, true, std::time::Duration::from_secs(60));
        assert_eq!(s.state_name, "entra.state");
        assert!(s.state_cookie("abc", 600).ends_with("SameSite=None; Secure"));

        let mut h = http::HeaderMap::new();
        h.append(http::header::COOKIE, "a=1; entra.state=xyz".parse().unwrap());
        assert_eq!(cookie(&h, "entra.state"), Some("xyz"));
        assert_eq!(cookie(&h, "b"), None);
        h.append(http::header::COOKIE, "entra.state=planted".parse().unwrap());
        assert_eq!(cookie(&h, "entra.state"), None);
    }

    #[tokio::test]
    async fn sid_index_ends_the_session() {
        let store = DynStore(Arc::new(tower_sessions::MemoryStore::default()));
        let expiry = time::OffsetDateTime::now_utc() + time::Duration::hours(1);
        let id = Id(i128::MAX - 7); // beyond what a JSON number holds
        let session = Record { id, data: Default::default(), expiry_date: expiry };
        store.save(&session).await.unwrap();
        put_sid_index(&store, "iss", "sid-1", id, expiry).await.unwrap();
        // Failing: another sid, or the same sid of another issuer.
        assert!(!end_sid_session(&store, "iss", "sid-2").await.unwrap());
        assert!(!end_sid_session(&store, "other", "sid-1").await.unwrap());
        assert!(store.load(&id).await.unwrap().is_some());
        // Passing.
        assert!(end_sid_session(&store, "iss", "sid-1").await.unwrap());
        assert!(store.load(&id).await.unwrap().is_none());
        assert!(!end_sid_session(&store, "iss", "sid-1").await.unwrap());
    }
}
