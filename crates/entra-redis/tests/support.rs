//! Shared set-up: the Redis on 127.0.0.1:6379 under a unique key prefix that is
//! cleaned up on drop, raw access to what is stored, and a private
//! `redis-server` that tests can stop.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use entra_redis::{Connection, Keyring, RedisConfig};

/// The shared Redis of the dev and CI machines.
pub(crate) const SHARED_URL: &str = "redis://127.0.0.1:6379";

pub(crate) const KEY_1: [u8; 32] = *b"test-key-1-0123456789abcdefghijk";
pub(crate) const KEY_2: [u8; 32] = *b"test-key-2-0123456789abcdefghijk";

pub(crate) fn keyring() -> Keyring {
    Keyring::new("k1", &KEY_1).unwrap()
}

/// A key prefix no other test uses; its keys are deleted on drop.
pub(crate) struct Prefix {
    pub(crate) url: String,
    pub(crate) prefix: String,
}

impl Prefix {
    pub(crate) fn new() -> Self {
        Self::on(SHARED_URL)
    }

    pub(crate) fn on(url: &str) -> Self {
        static N: AtomicU64 = AtomicU64::new(0);
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().subsec_nanos();
        let prefix = format!(
            "entra-redis-test:{}:{}:{nanos}:",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        Self { url: url.to_owned(), prefix }
    }

    /// A configuration with generous time limits: these tests are about
    /// behaviour, and the machine may be busy.
    pub(crate) fn config(&self) -> RedisConfig {
        self.config_with(keyring())
    }

    pub(crate) fn config_with(&self, keys: Keyring) -> RedisConfig {
        RedisConfig::new(self.url.as_str(), keys)
            .prefix(self.prefix.clone())
            .cache_timeout(Duration::from_secs(2))
            .store_timeout(Duration::from_secs(2))
    }

    pub(crate) async fn connect(&self) -> Connection {
        Connection::connect(self.config()).await.unwrap()
    }

    fn raw(&self) -> redis::Connection {
        redis::Client::open(self.url.as_str()).unwrap().get_connection().unwrap()
    }

    /// Every key under this prefix, sorted.
    pub(crate) fn keys(&self) -> Vec<String> {
        let mut con = self.raw();
        let mut keys: Vec<String> =
            redis::cmd("KEYS").arg(format!("{}*", self.prefix)).query(&mut con).unwrap();
        keys.sort();
        keys
    }

    /// The one key under this prefix.
    pub(crate) fn only_key(&self) -> String {
        let keys = self.keys();
        assert_eq!(keys.len(), 1, "{keys:?}");
        keys.into_iter().next().unwrap()
    }

    pub(crate) fn get(&self, key: &str) -> Option<Vec<u8>> {
        redis::cmd("GET").arg(key).query(&mut self.raw()).unwrap()
    }

    /// Overwrites `key`, keeping its TTL.
    pub(crate) fn set(&self, key: &str, value: &[u8]) {
        let _: () =
            redis::cmd("SET").arg(key).arg(value).arg("KEEPTTL").query(&mut self.raw()).unwrap();
    }

    pub(crate) fn exists(&self, key: &str) -> bool {
        redis::cmd("EXISTS").arg(key).query::<i64>(&mut self.raw()).unwrap() == 1
    }

    pub(crate) fn pttl(&self, key: &str) -> i64 {
        redis::cmd("PTTL").arg(key).query(&mut self.raw()).unwrap()
    }

    /// Flips one bit of the stored value in the middle of its ciphertext.
    pub(crate) fn tamper(&self, key: &str) {
        let mut value = self.get(key).unwrap();
        let at = value.len() - 20;
        value[at] ^= 0x01;
        self.set(key, &value);
    }
}

impl Drop for Prefix {
    fn drop(&mut self) {
        let Ok(client) = redis::Client::open(self.url.as_str()) else { return };
        let Ok(mut con) = client.get_connection() else { return };
        let keys: Vec<String> =
            redis::cmd("KEYS").arg(format!("{}*", self.prefix)).query(&mut con).unwrap_or_default();
        if !keys.is_empty() {
            let _: redis::RedisResult<i64> = redis::cmd("DEL").arg(keys).query(&mut con);
        }
    }
}

/// Whether any 12-byte piece of `secret` appears in `haystack`.
pub(crate) fn contains_piece(haystack: &[u8], secret: &str) -> bool {
    let secret = secret.as_bytes();
    secret
        .windows(12.min(secret.len()))
        .any(|piece| haystack.windows(piece.len()).any(|w| w == piece))
}

/// A `redis-server` of this test alone, on a free port, stopped by PID.
pub(crate) struct PrivateRedis {
    pub(crate) port: u16,
    child: Option<Child>,
}

impl PrivateRedis {
    pub(crate) async fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut server = Self { port, child: None };
        server.restart().await;
        server
    }

    pub(crate) fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Starts the server (again) on the same port and waits until it answers.
    pub(crate) async fn restart(&mut self) {
        assert!(self.child.is_none(), "already running");
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server on PATH");
        self.child = Some(child);
        // Bounded polling until it answers PING (at most 10 s).
        let client = redis::Client::open(self.url()).unwrap();
        for _ in 0..1000 {
            if let Ok(mut con) = client.get_connection_with_timeout(Duration::from_millis(100))
                && redis::cmd("PING").query::<String>(&mut con).is_ok()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("redis-server on port {} did not come up", self.port);
    }

    /// Kills the server (SIGKILL to its PID) and reaps it.
    pub(crate) fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.kill();
    }
}
