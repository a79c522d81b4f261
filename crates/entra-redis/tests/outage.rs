//! Redis killed in the middle of a bounded load of requests, then restarted:
//! the cache never fails its callers, sign-ins fail with a transient error, each
//! replica logs one warning for the outage, and everything recovers.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use entra_core::{LoginStateStore as _, PendingLogin, Secret, StoreError, TokenCache as _};
use entra_redis::{Connection, LoginStateStore, TokenCache};

use crate::support::{Prefix, PrivateRedis};

/// Everything logged at info level and above by this crate, in this process.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Capture {
    /// One process-wide subscriber. A thread-local `set_default` races with the
    /// callsite-interest cache of the tests running on other threads (the
    /// `secret` tests log the same warning): an event could be dropped before
    /// reaching this test's subscriber, and the count came out 0 in CI.
    fn global() -> &'static Self {
        static CAPTURE: OnceLock<Capture> = OnceLock::new();
        CAPTURE.get_or_init(|| {
            let capture = Self::default();
            let writer = capture.clone();
            let subscriber = tracing_subscriber::fmt()
                .with_env_filter("entra_redis=info")
                .with_ansi(false)
                .with_writer(move || writer.clone())
                .finish();
            tracing::subscriber::set_global_default(subscriber).unwrap();
            capture
        })
    }

    /// Lines containing `needle` that name `url`: other tests log too.
    fn count(&self, needle: &str, url: &str) -> usize {
        let url = format!("url={url}");
        let text = self.text();
        let names_url = |l: &str| l.split_whitespace().any(|field| field == url);
        text.lines().filter(|l| l.contains(needle) && names_url(l)).count()
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

fn login() -> PendingLogin {
    PendingLogin::new(Secret::new("n"), Secret::new("v"), "/".into(), "https://app/cb".into(), 0)
}

fn assert_transient(e: &StoreError) {
    let inner = std::error::Error::source(e).unwrap().downcast_ref::<entra_redis::Error>().unwrap();
    assert!(inner.is_transient(), "{inner:?}");
}

const UP_BEFORE: usize = 10;
const DOWN: usize = 5;
const UP_AFTER: usize = 10;

#[tokio::test]
async fn redis_killed_mid_load_degrades_then_recovers() {
    let logs = Capture::global();
    let mut server = PrivateRedis::start().await;
    let url = server.url();
    let p = Prefix::on(&url);
    let config = p
        .config()
        .cache_timeout(Duration::from_millis(500))
        .store_timeout(Duration::from_millis(500))
        .connect_timeout(Duration::from_millis(200));
    let (replica_a, replica_b) = (
        Connection::connect(config.clone()).await.unwrap(),
        Connection::connect(config).await.unwrap(),
    );
    let (cache_a, cache_b) = (TokenCache::new(&replica_a), TokenCache::new(&replica_b));
    let (login_a, login_b) = (LoginStateStore::new(&replica_a), LoginStateStore::new(&replica_b));
    let ttl = Duration::from_secs(600);
    cache_a.put("warm", Secret::new("warm-token"), ttl).await.unwrap();
    assert!(cache_b.get("warm").await.unwrap().is_some(), "B's L1 warmed from Redis");

    for round in 0..UP_BEFORE + DOWN + UP_AFTER {
        if round == UP_BEFORE {
            server.kill();
            assert!(replica_a.ping().await.unwrap_err().is_transient());
        }
        if round == UP_BEFORE + DOWN {
            server.restart().await;
            wait_for_recovery(&login_a, &login_b).await;
        }
        let down = (UP_BEFORE..UP_BEFORE + DOWN).contains(&round);

        // Cache paths: never an error; L1 keeps answering.
        for cache in [&cache_a, &cache_b] {
            assert_eq!(cache.get("warm").await.unwrap().unwrap().expose_secret(), "warm-token");
            assert_eq!(cache.get("never-stored").await.unwrap(), None);
        }
        let key = format!("k{round}");
        cache_a.put(&key, Secret::new(format!("v{round}")), ttl).await.unwrap();
        assert_eq!(cache_a.get(&key).await.unwrap().unwrap().expose_secret(), format!("v{round}"));
        let on_b = cache_b.get(&key).await.unwrap();
        if down {
            assert_eq!(on_b, None, "round {round}: nothing reaches B while Redis is down");
        } else {
            assert_eq!(on_b.unwrap().expose_secret(), format!("v{round}"), "round {round}: L2 hit");
        }
        cache_b.remove(&key).await.unwrap();

        // Login state: a transient error while Redis is down, never a silent accept.
        let state = format!("s{round}");
        let put = login_a.put(&state, login(), ttl).await;
        let take = login_b.take(&state).await;
        if down {
            assert_transient(&put.unwrap_err());
            assert_transient(&take.unwrap_err());
        } else {
            put.unwrap();
            assert!(take.unwrap().is_some(), "round {round}");
            assert!(login_a.take(&state).await.unwrap().is_none());
        }
    }

    // One warning per outage and one recovery note, per replica connection.
    assert_eq!(logs.count("redis unreachable", &url), 2, "{}", logs.text());
    assert_eq!(logs.count("redis reachable again", &url), 2, "{}", logs.text());
    assert!(replica_a.is_reachable() && replica_b.is_reachable());
    replica_a.ping().await.unwrap();
    assert!(!logs.text().contains("warm-token"));
}

/// Bounded polling until both replicas reach the restarted Redis.
async fn wait_for_recovery(a: &LoginStateStore, b: &LoginStateStore) {
    for _ in 0..200 {
        let ok_a = a.put("probe-a", login(), Duration::from_secs(5)).await.is_ok();
        let ok_b = b.put("probe-b", login(), Duration::from_secs(5)).await.is_ok();
        if ok_a && ok_b {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the replicas did not reconnect to the restarted Redis");
}
