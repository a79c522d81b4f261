//! The tower-sessions store against the real Redis.

use std::collections::HashMap;

use entra_redis::SessionStore;
use time::OffsetDateTime;
use tower_sessions_core::SessionStore as _;
use tower_sessions_core::session::{Id, Record};

use crate::support::{Prefix, contains_piece};

fn record(user: &str) -> Record {
    let mut data = HashMap::new();
    data.insert("user".to_owned(), serde_json::json!(user));
    data.insert("refresh".to_owned(), serde_json::json!("0.AXEA-refresh-token-material"));
    Record {
        id: Id::default(),
        data,
        expiry_date: OffsetDateTime::now_utc() + time::Duration::hours(1),
    }
}

#[tokio::test]
async fn a_session_created_on_a_is_valid_on_b() {
    let p = Prefix::new();
    let (a, b) = (SessionStore::new(&p.connect().await), SessionStore::new(&p.connect().await));
    let mut rec = record("alice");
    a.create(&mut rec).await.unwrap();

    let loaded = b.load(&rec.id).await.unwrap().unwrap();
    assert_eq!(loaded, rec);

    // Stored under a hash of the id, encrypted, expiring with the record.
    let key = p.only_key();
    let id = rec.id.to_string();
    assert!(key.starts_with(&format!("{}session:", p.prefix)) && !key.contains(&id), "{key}");
    let value = p.get(&key).unwrap();
    for secret in [id.as_str(), "alice", "refresh-token-material"] {
        assert!(!contains_piece(&value, secret), "{secret}");
    }
    let pttl = p.pttl(&key);
    assert!(pttl > 3_590_000 && pttl <= 3_600_000, "{pttl}");

    // Saved on B, seen on A; deleted on A, gone on B.
    let mut changed = loaded.clone();
    changed.data.insert("team".into(), serde_json::json!("ops"));
    b.save(&changed).await.unwrap();
    assert_eq!(a.load(&rec.id).await.unwrap().unwrap(), changed);
    a.delete(&rec.id).await.unwrap();
    assert!(b.load(&rec.id).await.unwrap().is_none());
    // A save after a delete (a sign-out elsewhere) does not bring it back.
    b.save(&changed).await.unwrap();
    assert!(a.load(&rec.id).await.unwrap().is_none());
    assert!(p.keys().is_empty());
}

#[tokio::test]
async fn create_never_overwrites_an_existing_session() {
    let p = Prefix::new();
    let store = SessionStore::new(&p.connect().await);
    let mut first = record("alice");
    store.create(&mut first).await.unwrap();
    let mut second = record("mallory");
    second.id = first.id;
    store.create(&mut second).await.unwrap();
    assert_ne!(second.id, first.id, "a colliding id is replaced");
    assert_eq!(store.load(&first.id).await.unwrap().unwrap(), first);
    assert_eq!(store.load(&second.id).await.unwrap().unwrap(), second);
}

#[tokio::test]
async fn an_edited_or_moved_session_is_refused_and_deleted() {
    let p = Prefix::new();
    let store = SessionStore::new(&p.connect().await);
    let mut alice = record("alice");
    store.create(&mut alice).await.unwrap();
    let alice_key = p.only_key();
    let mut mallory = record("mallory");
    store.create(&mut mallory).await.unwrap();
    let mallory_key = p.keys().into_iter().find(|k| *k != alice_key).unwrap();

    // Alice's record copied under Mallory's session id: refused.
    p.set(&mallory_key, &p.get(&alice_key).unwrap());
    assert!(store.load(&mallory.id).await.unwrap().is_none());
    assert!(!p.exists(&mallory_key));

    p.tamper(&alice_key);
    assert!(store.load(&alice.id).await.unwrap().is_none());
    assert!(!p.exists(&alice_key));
}

#[tokio::test]
async fn an_expired_record_is_not_kept() {
    let p = Prefix::new();
    let store = SessionStore::new(&p.connect().await);
    let mut rec = record("alice");
    rec.expiry_date = OffsetDateTime::now_utc() - time::Duration::minutes(1);
    store.create(&mut rec).await.unwrap();
    assert!(store.load(&rec.id).await.unwrap().is_none());
    rec.expiry_date = OffsetDateTime::UNIX_EPOCH - time::Duration::days(1);
    store.save(&rec).await.unwrap();
    assert!(p.keys().is_empty());
}
