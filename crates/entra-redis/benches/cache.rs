//! Token cache speed against the Redis on 127.0.0.1:6379: an L1 hit (beside the
//! in-memory `MemoryTokenCache` of entra-obo), an L2 hit on a replica whose L1
//! is empty (decryption and L1 fill included), and a raw `GET` of the same
//! value over its own connection, the loopback round trip the L2 hit is
//! measured against.
//!
//! Run with `cargo bench -p entra-redis --bench cache` (Redis must be running).

// A bench is test code: a failed set-up should stop it loudly.
#![allow(clippy::unwrap_used)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use entra_core::{Secret, TokenCache as _};
use entra_obo::MemoryTokenCache;
use entra_redis::{Connection, Keyring, RedisConfig, TokenCache};

const KEY: &str = "obo:6e74172b-be56-4843-9ff4-e66a39bb12e3:72f988bf-86f1-41af-91ab-2d7cd011db47:\
    0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0:https://graph.microsoft.com/.default";

fn bench(c: &mut Criterion) {
    let rt =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let prefix = format!("entra-redis-bench:{}:", std::process::id());
    let keys = Keyring::new("k1", b"bench-key-0123456789abcdefghijkl").unwrap();
    let config = RedisConfig::new("redis://127.0.0.1:6379", keys).prefix(prefix.clone());
    // What entra-obo stores: expiry, scopes, then a 1.5 KB downstream token.
    let value = Secret::new(format!(
        "1900000000\nhttps://graph.microsoft.com/User.Read\n{}",
        "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.".repeat(40)
    ));
    let (connection, memory, raw) = rt.block_on(async {
        let connection = Connection::connect(config.clone()).await.unwrap();
        let memory = MemoryTokenCache::default();
        memory.put(KEY, value.clone(), Duration::from_secs(3600)).await.unwrap();
        let raw = redis::Client::open("redis://127.0.0.1:6379")
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap();
        (connection, memory, raw)
    });
    let writer = TokenCache::new(&connection);
    rt.block_on(writer.put(KEY, value.clone(), Duration::from_secs(3600))).unwrap();
    let redis_key: String = rt.block_on(async {
        let mut raw = raw.clone();
        let keys: Vec<String> =
            redis::cmd("KEYS").arg(format!("{prefix}*")).query_async(&mut raw).await.unwrap();
        keys.into_iter().next().unwrap()
    });

    let mut group = c.benchmark_group("redis_cache");
    group.bench_function("l1_hit", |b| {
        b.to_async(&rt).iter(|| async { black_box(writer.get(black_box(KEY)).await.unwrap()) })
    });
    group.bench_function("memory_token_cache_hit", |b| {
        b.to_async(&rt).iter(|| async { black_box(memory.get(black_box(KEY)).await.unwrap()) })
    });
    // A replica with an empty L1 each time: the read goes to Redis.
    group.bench_function("l2_hit_loopback", |b| {
        b.to_async(&rt).iter_batched(
            || TokenCache::new(&connection),
            |replica| async move {
                let hit = replica.get(black_box(KEY)).await.unwrap();
                assert!(hit.is_some());
                (replica, hit)
            },
            BatchSize::SmallInput,
        )
    });
    group.bench_function("raw_get_loopback", |b| {
        b.to_async(&rt).iter(|| {
            let mut raw = raw.clone();
            let key = redis_key.clone();
            async move {
                let v: Option<Vec<u8>> =
                    redis::cmd("GET").arg(&key).query_async(&mut raw).await.unwrap();
                black_box(v)
            }
        })
    });
    group.finish();

    rt.block_on(async {
        let mut raw = raw.clone();
        let _: i64 = redis::cmd("DEL").arg(&redis_key).query_async(&mut raw).await.unwrap();
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
