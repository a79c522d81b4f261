//! The secret store (the OAuth facade's) against the real Redis: encrypted,
//! take-once across replicas, counters shared, tampering refused, failures.

use std::time::Duration;

use entra_core::{Secret, SecretStore as _};
use entra_redis::{Connection, SecretStore};

use crate::support::{Prefix, contains_piece};

const VALUE: &str = r#"{"entra_refresh":"1.AQ-refresh-token-of-the-user","client_id":"mcp-x"}"#;

#[tokio::test]
async fn values_are_encrypted_read_many_times_and_taken_once_across_replicas() {
    let p = Prefix::new();
    let (a, b) = (SecretStore::new(&p.connect().await), SecretStore::new(&p.connect().await));
    a.put("mcp:refresh:abc", Secret::new(VALUE), Duration::from_secs(600)).await.unwrap();
    let key = p.only_key();
    assert!(key.starts_with(&format!("{}secret:", p.prefix)) && !key.contains("abc"), "{key}");
    let stored = p.get(&key).unwrap();
    for piece in ["refresh-token-of-the-user", "mcp-x", "mcp:refresh"] {
        assert!(!contains_piece(&stored, piece), "{piece}");
    }
    let pttl = p.pttl(&key);
    assert!(pttl > 590_000 && pttl <= 600_000, "{pttl}");
    assert_eq!(b.get("mcp:refresh:abc").await.unwrap().unwrap().expose_secret(), VALUE);
    assert!(b.get("mcp:refresh:abc").await.unwrap().is_some(), "get keeps it");
    assert_eq!(b.take("mcp:refresh:abc").await.unwrap().unwrap().expose_secret(), VALUE);
    assert!(a.take("mcp:refresh:abc").await.unwrap().is_none(), "taken once");
    a.put("k", Secret::new("v"), Duration::from_secs(60)).await.unwrap();
    b.remove("k").await.unwrap();
    assert!(a.get("k").await.unwrap().is_none());
    a.put("z", Secret::new("v"), Duration::ZERO).await.unwrap();
    assert!(p.keys().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counters_are_shared_atomic_and_windowed() {
    let p = Prefix::new();
    let (a, b) = (SecretStore::new(&p.connect().await), SecretStore::new(&p.connect().await));
    let window = Duration::from_secs(60);
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let store = if i % 2 == 0 { a.clone() } else { b.clone() };
            tokio::spawn(async move { store.increment("mcp:rate:register", window).await.unwrap() })
        })
        .collect();
    let mut seen = Vec::new();
    for t in tasks {
        seen.push(t.await.unwrap());
    }
    seen.sort_unstable();
    assert_eq!(seen, (1..=20).collect::<Vec<u64>>(), "each increment counted once");
    let key = p.only_key();
    let pttl = p.pttl(&key);
    assert!(pttl > 50_000 && pttl <= 60_000, "the window started at the first increment: {pttl}");
    // A counter is not a sealed value, and a value of the same name is another key.
    assert!(a.get("mcp:rate:register").await.unwrap().is_none());
}

#[tokio::test]
async fn an_edited_or_moved_value_is_refused_and_deleted() {
    let p = Prefix::new();
    let store = SecretStore::new(&p.connect().await);
    store.put("victim", Secret::new(VALUE), Duration::from_secs(600)).await.unwrap();
    let victim = p.only_key();
    store.put("attacker", Secret::new("mine"), Duration::from_secs(600)).await.unwrap();
    let attacker = p.keys().into_iter().find(|k| *k != victim).unwrap();
    p.set(&attacker, &p.get(&victim).unwrap());
    assert!(store.get("attacker").await.unwrap().is_none(), "moved");
    assert!(!p.exists(&attacker), "deleted");
    p.tamper(&victim);
    assert!(store.take("victim").await.unwrap().is_none(), "edited");
    assert!(p.keys().is_empty());
}

#[tokio::test]
async fn redis_unreachable_is_a_transient_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let p = Prefix::on(&format!("redis://127.0.0.1:{port}"));
    let connection = Connection::connect_lazy(
        p.config()
            .store_timeout(Duration::from_millis(200))
            .connect_timeout(Duration::from_millis(100)),
    )
    .unwrap();
    let store = SecretStore::new(&connection);
    let errors = [
        store.put("k", Secret::new("v"), Duration::from_secs(60)).await.unwrap_err(),
        store.get("k").await.unwrap_err(),
        store.take("k").await.unwrap_err(),
        store.increment("k", Duration::from_secs(60)).await.unwrap_err(),
    ];
    for e in errors {
        assert_eq!(e.to_string(), "redis secret store backend failed");
        let inner =
            std::error::Error::source(&e).unwrap().downcast_ref::<entra_redis::Error>().unwrap();
        assert!(inner.is_transient(), "{inner:?}");
    }
}
