//! The login-state store against the real Redis: take-once across replicas,
//! encryption, tampering, TTL, failures.

use std::time::Duration;

use entra_core::{LoginStateStore as _, PendingLogin, Secret};
use entra_redis::{Connection, LoginStateStore};

use crate::support::{Prefix, contains_piece};

const NONCE: &str = "nonce-5f1c9d0b7e2a4c6f8e1d3b5a7c9e0f2a";
const VERIFIER: &str = "pkce-verifier-Zx9Qm3Lr7Tk1Vb5Nc8Hd2Jf6Gs4Pw0Ye";

fn login() -> PendingLogin {
    PendingLogin::new(
        Secret::new(NONCE),
        Secret::new(VERIFIER),
        "/reports?id=7".into(),
        "https://app.example/callback".into(),
        1_700_000_000,
    )
}

#[tokio::test]
async fn a_sign_in_put_on_a_is_taken_once_on_b() {
    let p = Prefix::new();
    let (a, b) =
        (LoginStateStore::new(&p.connect().await), LoginStateStore::new(&p.connect().await));
    a.put("state-1", login(), Duration::from_secs(600)).await.unwrap();

    let key = p.only_key();
    assert!(key.starts_with(&format!("{}login:", p.prefix)) && !key.contains("state-1"), "{key}");
    let value = p.get(&key).unwrap();
    for secret in [NONCE, VERIFIER, "state-1", "/reports"] {
        assert!(!contains_piece(&value, secret), "{secret}");
    }
    let pttl = p.pttl(&key);
    assert!(pttl > 590_000 && pttl <= 600_000, "{pttl}");

    let taken = b.take("state-1").await.unwrap().unwrap();
    assert_eq!(
        (
            taken.nonce.expose_secret(),
            taken.pkce_verifier.expose_secret(),
            taken.return_to.as_str()
        ),
        (NONCE, VERIFIER, "/reports?id=7")
    );
    assert_eq!(
        (taken.redirect_uri.as_str(), taken.created_at),
        ("https://app.example/callback", 1_700_000_000)
    );
    assert!(b.take("state-1").await.unwrap().is_none(), "second take");
    assert!(a.take("state-1").await.unwrap().is_none(), "second take on the other replica");
    assert!(a.take("never-put").await.unwrap().is_none());
    assert!(p.keys().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_takes_on_two_replicas_have_exactly_one_winner() {
    let p = Prefix::new();
    let (a, b) =
        (LoginStateStore::new(&p.connect().await), LoginStateStore::new(&p.connect().await));
    for round in 0..10 {
        let state = format!("state-{round}");
        a.put(&state, login(), Duration::from_secs(600)).await.unwrap();
        let takes: Vec<_> = (0..16)
            .map(|i| {
                let store = if i % 2 == 0 { a.clone() } else { b.clone() };
                let state = state.clone();
                tokio::spawn(async move { store.take(&state).await.unwrap() })
            })
            .collect();
        let mut winners = 0;
        for take in takes {
            winners += usize::from(take.await.unwrap().is_some());
        }
        assert_eq!(winners, 1, "round {round}");
    }
}

#[tokio::test]
async fn an_edited_or_moved_login_is_refused() {
    let p = Prefix::new();
    let store = LoginStateStore::new(&p.connect().await);
    store.put("state-a", login(), Duration::from_secs(600)).await.unwrap();
    let key_a = p.only_key();
    p.tamper(&key_a);
    assert!(store.take("state-a").await.unwrap().is_none());
    assert!(!p.exists(&key_a));

    // The attacker's state now holds the victim's pending sign-in.
    store.put("victim", login(), Duration::from_secs(600)).await.unwrap();
    let victim_key = p.only_key();
    store.put("attacker", login(), Duration::from_secs(600)).await.unwrap();
    let attacker_key = p.keys().into_iter().find(|k| *k != victim_key).unwrap();
    p.set(&attacker_key, &p.get(&victim_key).unwrap());
    assert!(store.take("attacker").await.unwrap().is_none());
    assert!(!p.exists(&attacker_key));
    assert!(store.take("victim").await.unwrap().is_some());
}

#[tokio::test]
async fn a_zero_ttl_stores_nothing() {
    let p = Prefix::new();
    let store = LoginStateStore::new(&p.connect().await);
    store.put("s", login(), Duration::ZERO).await.unwrap();
    assert!(p.keys().is_empty());
    assert!(store.take("s").await.unwrap().is_none());
}

#[tokio::test]
async fn redis_unreachable_is_a_transient_error_never_a_silent_accept() {
    // Nothing listens on this port; the lazy connection starts anyway.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let p = Prefix::on(&format!("redis://127.0.0.1:{port}"));
    let connection = Connection::connect_lazy(
        p.config()
            .store_timeout(Duration::from_millis(200))
            .connect_timeout(Duration::from_millis(100)),
    )
    .unwrap();
    let store = LoginStateStore::new(&connection);
    let put = store.put("s", login(), Duration::from_secs(60)).await.unwrap_err();
    let take = store.take("s").await.unwrap_err();
    for e in [put, take] {
        assert_eq!(e.to_string(), "redis login-state store backend failed");
        let inner =
            std::error::Error::source(&e).unwrap().downcast_ref::<entra_redis::Error>().unwrap();
        assert!(inner.is_transient(), "{inner:?}");
    }
    assert!(!connection.is_reachable());
    assert!(connection.ping().await.unwrap_err().is_transient());
    // `connect` refuses at start-up instead.
    let err = Connection::connect(p.config().connect_timeout(Duration::from_millis(100)))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "redis_unreachable");
    assert!(err.to_string().contains(&port.to_string()));
}
