//! OBO speed: a cache hit for a 1.5 KB assertion (cache key derivation included),
//! hits on 1 and 2 threads at once (with and without the per-thread copies), and
//! a miss answered by the mock Entra over loopback HTTP.
//!
//! Run with `cargo bench -p entra-obo --bench obo`.

// A bench is test code: a failed set-up should stop it loudly.
#![allow(clippy::unwrap_used)]

use std::hint::black_box;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use entra_core::{ClientCredential, Secret, StoreError, TokenCache, ValidatedToken};
use entra_obo::Obo;
use entra_testkit::{MockEntra, TestApp, TestUser, TokenSpec};

/// A cache that never holds anything: every exchange is a miss.
#[derive(Debug)]
struct NoCache;

#[async_trait]
impl TokenCache for NoCache {
    async fn get(&self, _: &str) -> Result<Option<Secret>, StoreError> {
        Ok(None)
    }
    async fn put(&self, _: &str, _: Secret, _: Duration) -> Result<(), StoreError> {
        Ok(())
    }
    async fn remove(&self, _: &str) -> Result<(), StoreError> {
        Ok(())
    }
}

fn bench(c: &mut Criterion) {
    let rt =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let (mock, api, token) = rt.block_on(async {
        let mock = MockEntra::start().await;
        let api = mock.register_app(TestApp::new("mcp").secret("s").expose_scope("access_as_user"));
        mock.grant_consent(&api.client_id, "https://graph.microsoft.com", &["User.Read"]);
        let alice = mock.add_user(TestUser::new("alice@contoso.com").name("Alice"));
        // Pad the token to about 1.5 KB, a typical Entra access token size.
        let base = mock.access_token(&alice, &api).len();
        let pad = "x".repeat(1536usize.saturating_sub(base + 16) * 3 / 4);
        let token = mock.mint(TokenSpec::access_v2(&alice, &api).claim("pad", pad.into()));
        (mock, api, token)
    });
    let credential = ClientCredential::secret(Secret::new("s"));
    let user = mock.verify_token(&token).unwrap();
    eprintln!("assertion length: {} bytes", token.len());

    let obo =
        Obo::builder(mock.authority(), api.client_id.clone(), credential.clone()).build().unwrap();
    rt.block_on(obo.exchange_on_behalf_of(&user, "https://graph.microsoft.com")).unwrap();

    let mut group = c.benchmark_group("obo");
    group.bench_function("cache_hit_1.5KB_assertion", |b| {
        b.to_async(&rt).iter(|| async {
            black_box(
                obo.exchange_on_behalf_of(black_box(&user), "https://graph.microsoft.com").await,
            )
        })
    });
    // For comparison: the same hit when the assertion is hashed again for the key
    // (what a cache without `ValidatedToken::sha256` would have to do).
    group.bench_function("cache_hit_with_sha256_of_assertion", |b| {
        b.to_async(&rt).iter(|| async {
            let again =
                entra_core::dangerous::assume_validated(user.raw().clone(), user.claims().clone());
            black_box(
                obo.exchange_on_behalf_of(black_box(&again), "https://graph.microsoft.com").await,
            )
        })
    });

    group.finish();

    // Hits on `threads` threads at once, each on its own runtime: one iteration
    // is one hit on every thread, so the throughput is hits per second in all.
    // Hits that write no shared memory scale with the cores.
    let shared_only = Obo::builder(mock.authority(), api.client_id.clone(), credential.clone())
        .thread_cache(0)
        .build()
        .unwrap();
    rt.block_on(shared_only.exchange_on_behalf_of(&user, "https://graph.microsoft.com")).unwrap();
    let mut group = c.benchmark_group("obo/hit_threads");
    for threads in [1usize, 2] {
        group.throughput(Throughput::Elements(threads as u64));
        for (name, client) in [("thread_cache", &obo), ("shared_cache_only", &shared_only)] {
            group.bench_with_input(BenchmarkId::new(name, threads), &threads, |b, &threads| {
                b.iter_custom(|iters| hits_on_threads(client, &user, threads, iters))
            });
        }
    }
    group.finish();

    let mut group = c.benchmark_group("obo");
    let uncached = Obo::builder(mock.authority(), api.client_id.clone(), credential)
        .cache(NoCache)
        .build()
        .unwrap();
    group.sample_size(30);
    group.bench_function("cache_miss_against_mock", |b| {
        b.to_async(&rt).iter(|| async {
            black_box(uncached.exchange_on_behalf_of(&user, "https://graph.microsoft.com").await)
        })
    });
    group.finish();
}

/// The wall time of `iters` hits on each of `threads` threads started together.
fn hits_on_threads(obo: &Obo, user: &ValidatedToken, threads: usize, iters: u64) -> Duration {
    let start = Barrier::new(threads + 1);
    std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
                    // A first hit on this thread before the clock starts.
                    rt.block_on(obo.exchange_on_behalf_of(user, "https://graph.microsoft.com"))
                        .unwrap();
                    start.wait();
                    let began = Instant::now();
                    rt.block_on(async {
                        for _ in 0..iters {
                            black_box(
                                obo.exchange_on_behalf_of(
                                    black_box(user),
                                    "https://graph.microsoft.com",
                                )
                                .await,
                            )
                            .unwrap();
                        }
                    });
                    (began, Instant::now())
                })
            })
            .collect();
        start.wait();
        let spans: Vec<(Instant, Instant)> =
            workers.into_iter().map(|w| w.join().unwrap()).collect();
        let began = spans.iter().map(|s| s.0).min().unwrap();
        let ended = spans.iter().map(|s| s.1).max().unwrap();
        ended - began
    })
}

criterion_group!(benches, bench);
criterion_main!(benches);
