//! Federated client assertions: a token obtained elsewhere (a Kubernetes
//! workload identity file, a managed identity, another identity provider) used as
//! the app's credential.

use std::fmt;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::{ClientAssertionProvider, ClientId, Clock, Error, Secret, SystemClock};

/// How long before its `exp` a federated token is read again, by default.
const REFRESH_BEFORE: Duration = Duration::from_secs(300);

/// The `exp` claim of a JWT, read without verifying it (the assertion is the
/// token endpoint's to verify; this only decides when to fetch a fresh one).
pub(crate) fn jwt_exp(token: &str) -> Option<i64> {
    let payload = token.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    #[derive(serde::Deserialize)]
    struct Exp {
        exp: Option<i64>,
    }
    serde_json::from_slice::<Exp>(&bytes).ok()?.exp
}

/// A fetched assertion and when it must be fetched again.
#[derive(Clone)]
struct Held {
    assertion: Secret,
    exp: Option<i64>,
}

impl Held {
    fn fresh(&self, now: i64, refresh_before: Duration) -> bool {
        let margin = i64::try_from(refresh_before.as_secs()).unwrap_or(i64::MAX);
        self.exp.is_some_and(|exp| exp.saturating_sub(margin) > now)
    }
}

/// A federated token read from a file, such as the projected service account
/// token of Azure Workload Identity ([`env::FEDERATED_TOKEN_FILE`](crate::env::FEDERATED_TOKEN_FILE)
/// names it; [`AppIdentity::from_env`](crate::AppIdentity::from_env) reads it).
///
/// The file is read again when it changes (modification time or size) or when
/// the token it holds is within 5 minutes of its `exp`; otherwise the token read
/// last is reused. A token that has already expired is refused.
///
/// ```
/// use entra_core::{ClientAssertionProvider, ClientId, FileAssertion};
/// let dir = std::env::temp_dir().join(format!("fa-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let path = dir.join("token");
/// std::fs::write(&path, "header.eyJleHAiOjQxMDI0NDQ4MDB9.sig\n")?; // exp in 2100
/// let provider = FileAssertion::new(&path);
/// let id = ClientId::parse("6e74172b-be56-4843-9ff4-e66a39bb12e3")?;
/// let rt = tokio::runtime::Builder::new_current_thread().build()?;
/// let token = rt.block_on(provider.client_assertion(&id, "https://login.example/t/oauth2/v2.0/token"))?;
/// assert_eq!(token.expose_secret(), "header.eyJleHAiOjQxMDI0NDQ4MDB9.sig");
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct FileAssertion {
    path: PathBuf,
    clock: Arc<dyn Clock>,
    refresh_before: Duration,
    state: Arc<Mutex<Option<(Held, FileStamp)>>>,
}

/// What identifies a version of the file without reading it.
#[derive(Clone, Copy, PartialEq, Eq)]
struct FileStamp {
    modified: Option<SystemTime>,
    len: u64,
}

impl FileAssertion {
    /// Reads the token from `path`.
    pub fn new(path: impl AsRef<Path>) -> Self {
        Self {
            path: path.as_ref().to_owned(),
            clock: Arc::new(SystemClock),
            refresh_before: REFRESH_BEFORE,
            state: Arc::default(),
        }
    }

    /// The clock deciding when the token is near expiry. Defaults to [`SystemClock`].
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// How long before `exp` the file is read again. Defaults to 5 minutes.
    pub fn refresh_before(mut self, margin: Duration) -> Self {
        self.refresh_before = margin;
        self
    }

    /// The file read.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn unavailable(reason: &'static str, source: std::io::Error) -> Error {
        Error::AssertionUnavailable { reason, source: Some(Box::new(source)) }
    }
}

#[async_trait]
impl ClientAssertionProvider for FileAssertion {
    async fn client_assertion(
        &self,
        _client_id: &ClientId,
        _token_endpoint: &str,
    ) -> Result<Secret, Error> {
        let meta = tokio::fs::metadata(&self.path)
            .await
            .map_err(|e| Self::unavailable("cannot read the federated token file", e))?;
        let stamp = FileStamp { modified: meta.modified().ok(), len: meta.len() };
        let now = self.clock.unix_now();
        {
            let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some((held, seen)) = state.as_ref()
                && *seen == stamp
                && held.fresh(now, self.refresh_before)
            {
                return Ok(held.assertion.clone());
            }
        }
        let text = tokio::fs::read_to_string(&self.path)
            .await
            .map_err(|e| Self::unavailable("cannot read the federated token file", e))?;
        let token = text.trim();
        if token.is_empty() {
            return Err(Error::AssertionUnavailable {
                reason: "the federated token file is empty",
                source: None,
            });
        }
        let held = Held { assertion: Secret::new(token), exp: jwt_exp(token) };
        if held.exp.is_some_and(|exp| exp <= now) {
            return Err(Error::AssertionUnavailable {
                reason: "the federated token in the file has expired",
                source: None,
            });
        }
        let assertion = held.assertion.clone();
        *self.state.lock().unwrap_or_else(PoisonError::into_inner) = Some((held, stamp));
        Ok(assertion)
    }
}

impl fmt::Debug for FileAssertion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileAssertion")
            .field("path", &self.path)
            .field("refresh_before", &self.refresh_before)
            .finish_non_exhaustive()
    }
}

/// The error a [`FnAssertion`] closure may return.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

type AssertionFn =
    dyn Fn() -> Pin<Box<dyn Future<Output = Result<Secret, BoxError>> + Send>> + Send + Sync;

/// A federated assertion produced by a closure (a managed identity call, a token
/// from another identity provider).
///
/// An assertion whose `exp` claim can be read is reused until 5 minutes before
/// it expires; one without a readable `exp` is fetched again for every token
/// request.
///
/// ```
/// use entra_core::{ClientAssertionProvider, ClientId, FnAssertion, Secret};
/// let provider = FnAssertion::new(|| async { Ok(Secret::new("federated.jwt.here")) });
/// let id = ClientId::parse("6e74172b-be56-4843-9ff4-e66a39bb12e3")?;
/// let rt = tokio::runtime::Builder::new_current_thread().build()?;
/// let token = rt.block_on(provider.client_assertion(&id, "https://login.example/t/oauth2/v2.0/token"))?;
/// assert_eq!(token.expose_secret(), "federated.jwt.here");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct FnAssertion {
    f: Arc<AssertionFn>,
    clock: Arc<dyn Clock>,
    refresh_before: Duration,
    held: Arc<Mutex<Option<Held>>>,
    /// One refresh at a time: concurrent callers wait for it instead of calling
    /// the closure (often a metadata service) N times.
    refreshing: Arc<tokio::sync::Mutex<()>>,
}

impl FnAssertion {
    /// Calls `f` for an assertion.
    pub fn new<F, Fut>(f: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Secret, BoxError>> + Send + 'static,
    {
        Self {
            f: Arc::new(move || Box::pin(f())),
            clock: Arc::new(SystemClock),
            refresh_before: REFRESH_BEFORE,
            held: Arc::default(),
            refreshing: Arc::default(),
        }
    }

    /// The clock deciding when the assertion is near expiry. Defaults to [`SystemClock`].
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    fn fresh_held(&self) -> Option<Secret> {
        let now = self.clock.unix_now();
        let held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        held.as_ref().filter(|h| h.fresh(now, self.refresh_before)).map(|h| h.assertion.clone())
    }

    /// How long before `exp` the closure is called again. Defaults to 5 minutes.
    pub fn refresh_before(mut self, margin: Duration) -> Self {
        self.refresh_before = margin;
        self
    }
}

#[async_trait]
impl ClientAssertionProvider for FnAssertion {
    async fn client_assertion(
        &self,
        _client_id: &ClientId,
        _token_endpoint: &str,
    ) -> Result<Secret, Error> {
        if let Some(assertion) = self.fresh_held() {
            return Ok(assertion);
        }
        let _refresh = self.refreshing.lock().await;
        // Another caller may have refreshed while this one waited.
        if let Some(assertion) = self.fresh_held() {
            return Ok(assertion);
        }
        let assertion = (self.f)().await.map_err(|e| Error::AssertionUnavailable {
            reason: "the assertion callback failed",
            source: Some(e),
        })?;
        if assertion.is_empty() {
            return Err(Error::AssertionUnavailable {
                reason: "the assertion callback returned an empty assertion",
                source: None,
            });
        }
        let exp = jwt_exp(assertion.expose_secret());
        if exp.is_some_and(|exp| exp <= self.clock.unix_now()) {
            return Err(Error::AssertionUnavailable {
                reason: "the assertion callback returned an expired assertion",
                source: None,
            });
        }
        let held = Held { exp, assertion: assertion.clone() };
        *self.held.lock().unwrap_or_else(PoisonError::into_inner) = Some(held);
        Ok(assertion)
    }
}

impl fmt::Debug for FnAssertion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FnAssertion")
            .field("refresh_before", &self.refresh_before)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::ManualClock;

    const NOW: u64 = 1_700_000_000;

    fn jwt(exp: i64, tag: &str) -> String {
        let payload = URL_SAFE_NO_PAD.encode(format!(r#"{{"exp":{exp},"sub":"{tag}"}}"#));
        format!("eyJhbGciOiJSUzI1NiJ9.{payload}.sig")
    }

    fn id() -> ClientId {
        ClientId::parse("6e74172b-be56-4843-9ff4-e66a39bb12e3").unwrap()
    }

    struct TempFile(PathBuf);
    impl TempFile {
        fn new(name: &str) -> Self {
            let dir = std::env::temp_dir().join(format!(
                "entra-core-fed-{}-{name}-{}",
                std::process::id(),
                uuid::Uuid::new_v4()
            ));
            std::fs::create_dir_all(&dir).unwrap();
            Self(dir.join("token"))
        }
    }
    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(self.0.parent().unwrap());
        }
    }

    #[test]
    fn jwt_exp_reads_the_payload_only() {
        assert_eq!(jwt_exp(&jwt(42, "a")), Some(42));
        assert_eq!(jwt_exp("not a jwt"), None);
        assert_eq!(jwt_exp("a.!!!.c"), None);
        assert_eq!(jwt_exp("a.e30.c"), None); // {}
    }

    #[tokio::test]
    async fn file_assertion_rereads_a_changed_file() {
        let f = TempFile::new("changed");
        let exp = i64::try_from(NOW).unwrap() + 3600;
        std::fs::write(&f.0, jwt(exp, "first")).unwrap();
        let p = FileAssertion::new(&f.0).clock(ManualClock::at_unix(NOW));
        let a = p.client_assertion(&id(), "e").await.unwrap();
        assert_eq!(a.expose_secret(), jwt(exp, "first"));
        // Unchanged file: the same token.
        assert_eq!(p.client_assertion(&id(), "e").await.unwrap(), a);
        // Kubernetes rotates the file: the new token is read (different size).
        std::fs::write(&f.0, format!("{}\n", jwt(exp + 60, "second-token"))).unwrap();
        let b = p.client_assertion(&id(), "e").await.unwrap();
        assert_eq!(b.expose_secret(), jwt(exp + 60, "second-token"));
    }

    #[tokio::test]
    async fn file_assertion_rereads_near_expiry_and_refuses_expired_tokens() {
        let f = TempFile::new("expiry");
        let exp = i64::try_from(NOW).unwrap() + 600;
        std::fs::write(&f.0, jwt(exp, "a")).unwrap();
        let clock = ManualClock::at_unix(NOW);
        let p = FileAssertion::new(&f.0).clock(clock.clone());
        assert!(p.client_assertion(&id(), "e").await.is_ok());
        // Overwrite with the same size and, possibly, the same mtime: not noticed
        // while the held token is fresh ...
        std::fs::write(&f.0, jwt(exp, "b")).unwrap();
        let stamp = std::fs::metadata(&f.0).unwrap().modified().ok();
        let held_stamp = p.state.lock().unwrap().as_ref().unwrap().1.modified;
        if stamp == held_stamp {
            assert_eq!(
                p.client_assertion(&id(), "e").await.unwrap().expose_secret(),
                jwt(exp, "a")
            );
        }
        // ... but within 5 minutes of expiry the file is read again.
        clock.advance(Duration::from_secs(301));
        assert_eq!(p.client_assertion(&id(), "e").await.unwrap().expose_secret(), jwt(exp, "b"));
        // An expired token is refused.
        clock.advance(Duration::from_secs(300));
        let e = p.client_assertion(&id(), "e").await.unwrap_err();
        assert!(matches!(e, Error::AssertionUnavailable { .. }), "{e}");
        assert!(!e.to_string().contains("eyJ"));
    }

    #[tokio::test]
    async fn file_assertion_errors() {
        let f = TempFile::new("missing");
        let p = FileAssertion::new(&f.0);
        let e = p.client_assertion(&id(), "e").await.unwrap_err();
        assert!(matches!(e, Error::AssertionUnavailable { source: Some(_), .. }));
        std::fs::write(&f.0, "  \n").unwrap();
        let e = p.client_assertion(&id(), "e").await.unwrap_err();
        assert!(e.to_string().contains("empty"), "{e}");
        // A token without a readable exp is re-read on every call, never refused.
        std::fs::write(&f.0, "opaque-token").unwrap();
        assert_eq!(p.client_assertion(&id(), "e").await.unwrap().expose_secret(), "opaque-token");
        assert!(format!("{p:?}").contains("FileAssertion"));
    }

    #[tokio::test]
    async fn fn_assertion_caches_until_near_expiry() {
        let calls = Arc::new(AtomicUsize::new(0));
        let exp = i64::try_from(NOW).unwrap() + 3600;
        let c = calls.clone();
        let clock = ManualClock::at_unix(NOW);
        let p = FnAssertion::new(move || {
            let n = c.fetch_add(1, Ordering::SeqCst);
            async move { Ok(Secret::new(jwt(exp, &n.to_string()))) }
        })
        .clock(clock.clone());
        let a = p.client_assertion(&id(), "e").await.unwrap();
        assert_eq!(p.client_assertion(&id(), "e").await.unwrap(), a);
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        clock.advance(Duration::from_secs(3301));
        let b = p.client_assertion(&id(), "e").await.unwrap();
        assert_ne!(a, b);
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn fn_assertion_errors_and_opaque_values() {
        let p =
            FnAssertion::new(|| async { Err::<Secret, BoxError>("metadata service down".into()) });
        let e = p.client_assertion(&id(), "e").await.unwrap_err();
        assert!(matches!(e, Error::AssertionUnavailable { source: Some(_), .. }));
        let p = FnAssertion::new(|| async { Ok(Secret::new("")) });
        assert!(p.client_assertion(&id(), "e").await.is_err());
        let calls = Arc::new(AtomicUsize::new(0));
        let c = calls.clone();
        let p = FnAssertion::new(move || {
            c.fetch_add(1, Ordering::SeqCst);
            async { Ok(Secret::new("opaque")) }
        });
        p.client_assertion(&id(), "e").await.unwrap();
        p.client_assertion(&id(), "e").await.unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn fn_assertion_refuses_an_expired_assertion() {
        let clock = ManualClock::at_unix(NOW);
        let past = i64::try_from(NOW).unwrap() - 1;
        let p = FnAssertion::new(move || async move { Ok(Secret::new(jwt(past, "old"))) })
            .clock(clock.clone());
        let e = p.client_assertion(&id(), "e").await.unwrap_err();
        assert!(matches!(e, Error::AssertionUnavailable { source: None, .. }), "{e:?}");
        let future = i64::try_from(NOW).unwrap() + 3600;
        let p = FnAssertion::new(move || async move { Ok(Secret::new(jwt(future, "new"))) })
            .clock(clock);
        p.client_assertion(&id(), "e").await.unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn fn_assertion_concurrent_callers_share_one_refresh() {
        let calls = Arc::new(AtomicUsize::new(0));
        let exp = i64::try_from(NOW).unwrap() + 3600;
        let c = calls.clone();
        let p = FnAssertion::new(move || {
            c.fetch_add(1, Ordering::SeqCst);
            async move {
                tokio::task::yield_now().await;
                Ok(Secret::new(jwt(exp, "shared")))
            }
        })
        .clock(ManualClock::at_unix(NOW));
        let tasks: Vec<_> = (0..50)
            .map(|_| {
                let p = p.clone();
                tokio::spawn(async move { p.client_assertion(&id(), "e").await })
            })
            .collect();
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }
}
