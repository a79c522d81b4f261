//! The two-level token cache against the real Redis: sharing between replicas,
//! encryption, tampering, rotation, TTLs.

use std::time::Duration;

use entra_core::{Secret, TokenCache as _};
use entra_redis::{Connection, Keyring, TokenCache};

use crate::support::{KEY_1, KEY_2, Prefix, contains_piece, keyring};

const TOKEN: &str =
    "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL2dyYXBoIn0.c2lnbmF0dXJl";

#[tokio::test]
async fn an_entry_put_on_a_is_an_l2_hit_on_b_with_its_own_empty_l1() {
    let p = Prefix::new();
    let (a, b) = (TokenCache::new(&p.connect().await), TokenCache::new(&p.connect().await));
    a.put("obo:k", Secret::new(TOKEN), Duration::from_secs(600)).await.unwrap();
    assert_eq!(b.get("obo:missing").await.unwrap(), None);
    assert_eq!(b.l1_entry_count(), 0);

    let hit = b.get("obo:k").await.unwrap().unwrap();
    assert_eq!(hit.expose_secret(), TOKEN);
    // B kept it in its L1: with the Redis entry gone, B still answers, and A too.
    let key = p.only_key();
    redis_del(&p, &key);
    assert_eq!(b.get("obo:k").await.unwrap().unwrap().expose_secret(), TOKEN);
    assert_eq!(a.get("obo:k").await.unwrap().unwrap().expose_secret(), TOKEN);
    // A third replica has neither.
    let c = TokenCache::new(&p.connect().await);
    assert_eq!(c.get("obo:k").await.unwrap(), None);
}

fn redis_del(p: &Prefix, key: &str) {
    let mut con = redis::Client::open(p.url.as_str()).unwrap().get_connection().unwrap();
    let _: i64 = redis::cmd("DEL").arg(key).query(&mut con).unwrap();
}

#[tokio::test]
async fn redis_keys_are_hashes_and_values_hold_no_token() {
    let p = Prefix::new();
    let a = TokenCache::new(&p.connect().await);
    let cache_key = "obo:6e74172b:72f988bf:abcdef0123456789:https://graph.microsoft.com/.default";
    a.put(cache_key, Secret::new(TOKEN), Duration::from_secs(600)).await.unwrap();
    let key = p.only_key();
    let hash = key.strip_prefix(&format!("{}token:", p.prefix)).unwrap();
    assert!(hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()), "{key}");
    assert!(!key.contains("graph") && !key.contains("abcdef0123456789"));
    let value = p.get(&key).unwrap();
    assert!(!contains_piece(&value, TOKEN));
    assert!(!contains_piece(&value, "eyJ0eXAi"));
    // The value names its key id, and the TTL is the one given.
    assert_eq!(&value[..4], b"\x01\x02k1");
    let pttl = p.pttl(&key);
    assert!(pttl > 590_000 && pttl <= 600_000, "{pttl}");
}

#[tokio::test]
async fn an_edited_value_is_refused_and_deleted() {
    let p = Prefix::new();
    let (a, b) = (TokenCache::new(&p.connect().await), TokenCache::new(&p.connect().await));
    a.put("obo:k", Secret::new(TOKEN), Duration::from_secs(600)).await.unwrap();
    let key = p.only_key();
    p.tamper(&key);
    assert_eq!(b.get("obo:k").await.unwrap(), None);
    assert!(!p.exists(&key), "refused value deleted");

    // Garbage that is not an envelope at all: refused and deleted too.
    a.put("obo:k", Secret::new(TOKEN), Duration::from_secs(600)).await.unwrap();
    p.set(&key, TOKEN.as_bytes());
    let c = TokenCache::new(&p.connect().await);
    assert_eq!(c.get("obo:k").await.unwrap(), None);
    assert!(!p.exists(&key));
}

#[tokio::test]
async fn a_value_moved_to_another_key_is_refused() {
    let p = Prefix::new();
    let a = TokenCache::new(&p.connect().await);
    a.put("obo:alice", Secret::new("alice-token"), Duration::from_secs(600)).await.unwrap();
    let alice_key = p.only_key();
    a.put("obo:mallory", Secret::new("mallory-token"), Duration::from_secs(600)).await.unwrap();
    let mallory_key = p.keys().into_iter().find(|k| *k != alice_key).unwrap();
    // Mallory's entry now holds Alice's encrypted token.
    p.set(&mallory_key, &p.get(&alice_key).unwrap());

    let b = TokenCache::new(&p.connect().await);
    assert_eq!(b.get("obo:mallory").await.unwrap(), None);
    assert!(!p.exists(&mallory_key));
    assert_eq!(b.get("obo:alice").await.unwrap().unwrap().expose_secret(), "alice-token");
}

#[tokio::test]
async fn foreign_keys_are_refused_and_rotation_keeps_entries() {
    let p = Prefix::new();
    let old = TokenCache::new(&p.connect().await);
    old.put("obo:k", Secret::new(TOKEN), Duration::from_secs(600)).await.unwrap();
    let key = p.only_key();

    // A replica with the new key current and the old one as previous reads it.
    let rotated_ring = Keyring::new("k2", &KEY_2).unwrap().with_previous("k1", &KEY_1).unwrap();
    let rotated = TokenCache::new(&Connection::connect(p.config_with(rotated_ring)).await.unwrap());
    assert_eq!(rotated.get("obo:k").await.unwrap().unwrap().expose_secret(), TOKEN);
    // What it writes carries the new id.
    rotated.put("obo:k2", Secret::new(TOKEN), Duration::from_secs(600)).await.unwrap();
    let new_key = p.keys().into_iter().find(|k| *k != key).unwrap();
    assert_eq!(&p.get(&new_key).unwrap()[..4], b"\x01\x02k2");

    // Another app's key under the same id: refused and deleted.
    let foreign = Keyring::new("k1", &KEY_2).unwrap();
    let stranger = TokenCache::new(&Connection::connect(p.config_with(foreign)).await.unwrap());
    assert_eq!(stranger.get("obo:k").await.unwrap(), None);
    assert!(!p.exists(&key));
    // An id the keyring does not hold: refused and deleted.
    let stale = TokenCache::new(&Connection::connect(p.config_with(keyring())).await.unwrap());
    assert_eq!(stale.get("obo:k2").await.unwrap(), None);
    assert!(!p.exists(&new_key));
}

#[tokio::test]
async fn remove_and_zero_ttl_clear_both_levels() {
    let p = Prefix::new();
    let (a, b) = (TokenCache::new(&p.connect().await), TokenCache::new(&p.connect().await));
    a.put("obo:k", Secret::new(TOKEN), Duration::from_secs(600)).await.unwrap();
    a.remove("obo:k").await.unwrap();
    assert!(p.keys().is_empty());
    assert_eq!(a.get("obo:k").await.unwrap(), None);
    assert_eq!(b.get("obo:k").await.unwrap(), None);

    a.put("obo:k", Secret::new(TOKEN), Duration::from_secs(600)).await.unwrap();
    a.put("obo:k", Secret::new(TOKEN), Duration::ZERO).await.unwrap();
    assert!(p.keys().is_empty());
    assert_eq!(a.get("obo:k").await.unwrap(), None);
}

#[tokio::test]
async fn l1_keeps_an_entry_no_longer_than_its_redis_ttl() {
    let p = Prefix::new();
    let (a, b) = (TokenCache::new(&p.connect().await), TokenCache::new(&p.connect().await));
    a.put("obo:k", Secret::new(TOKEN), Duration::from_secs(600)).await.unwrap();
    let key = p.only_key();
    // Shorten the Redis TTL to 1 s; B's L1 copy must not outlive it.
    let mut con = redis::Client::open(p.url.as_str()).unwrap().get_connection().unwrap();
    let _: i64 = redis::cmd("PEXPIRE").arg(&key).arg(1000).query(&mut con).unwrap();
    assert!(b.get("obo:k").await.unwrap().is_some());
    // Bounded polling for Redis' own expiry (Redis time, not ours).
    for _ in 0..300 {
        if !p.exists(&key) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(!p.exists(&key));
    for _ in 0..100 {
        if b.get("obo:k").await.unwrap().is_none() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("B's L1 kept the entry after its Redis TTL");
}

#[tokio::test]
async fn a_value_too_large_for_redis_stays_in_l1() {
    let p = Prefix::new();
    let a = TokenCache::new(&p.connect().await);
    let big = "x".repeat(70 * 1024);
    a.put("obo:big", Secret::new(big.clone()), Duration::from_secs(60)).await.unwrap();
    assert!(p.keys().is_empty());
    assert_eq!(a.get("obo:big").await.unwrap().unwrap().expose_secret(), big);
}
