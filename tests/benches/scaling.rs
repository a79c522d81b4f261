//! Scaling with cores: the same loops on 1, 2, 4, ... threads up to the
//! machine's available parallelism, each thread on its own single-threaded
//! runtime, all started together; the figure is the total calls per second and
//! its ratio to one thread.
//!
//! - `repeated validation, 1 token`: every thread validates the same cached token
//!   (the busy-server case: the same users' tokens on every core).
//! - `repeated validation, 64 tokens`: each thread cycles through 64 cached tokens.
//! - `first validation`: each thread validates tokens the validator has not seen,
//!   with the default validator (cache on), keys already fetched; a fresh validator
//!   per round so the tokens are new to it.
//! - `OBO cache hit`: `exchange_on_behalf_of` answered from the default cache.
//!
//! Run: `cargo bench -p entra-e2e --bench scaling` (`-- --max-threads N` to go
//! past the core count, `-- --seconds S` for longer rounds). Plain main, no
//! criterion: throughput per thread count is the figure.

// A bench fixture: failing loudly on a broken setup is what we want.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout, clippy::print_stderr)]

use std::hint::black_box;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use entra_core::{ClientCredential, Secret, ValidatedToken};
use entra_jwks::Validator;
use entra_obo::Obo;
use entra_testkit::{MockEntra, TestApp, TestUser, TokenSpec};

/// Calls per thread between two reads of the clock.
const BATCH: u64 = 64;
/// Rounds per thread count; the median is reported.
const ROUNDS: usize = 3;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .map(|v| v.parse().unwrap())
    };
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let max: usize = arg("--max-threads").map_or(cores, |v: String| v.parse().unwrap());
    let seconds: f64 = arg("--seconds").map_or(1.0, |v: String| v.parse().unwrap());
    let mut counts = vec![1];
    while counts.last().copied().unwrap_or(1) * 2 <= max {
        counts.push(counts.last().copied().unwrap_or(1) * 2);
    }
    if counts.last() != Some(&max) {
        counts.push(max);
    }
    let round = Duration::from_secs_f64(seconds);

    // The mock Entra runs on its own runtime for the whole bench.
    let rt =
        tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let fx = rt.block_on(Fixture::new(counts.iter().copied().max().unwrap_or(1)));
    println!(
        "machine: {cores} logical cores (available_parallelism); threads: {counts:?}; {seconds} s per round, median of {ROUNDS}"
    );

    let repeated = fx.validator(&rt);
    for t in &fx.tokens[..64] {
        rt.block_on(repeated.validate(t)).unwrap();
    }
    let one = fx.tokens[0].clone();
    report("repeated validation, 1 token", &counts, |threads| {
        run(threads, round, |_| {
            let (v, t) = (repeated.clone(), one.clone());
            move |rt: &tokio::runtime::Runtime| {
                rt.block_on(async {
                    for _ in 0..BATCH {
                        black_box(v.validate(black_box(&t)).await.unwrap());
                    }
                });
                BATCH
            }
        })
    });
    let sixty_four: Arc<Vec<String>> = Arc::new(fx.tokens[..64].to_vec());
    report("repeated validation, 64 tokens", &counts, |threads| {
        run(threads, round, |i| {
            let (v, ts) = (repeated.clone(), sixty_four.clone());
            let mut next = i * 7;
            move |rt: &tokio::runtime::Runtime| {
                rt.block_on(async {
                    for _ in 0..BATCH {
                        next = (next + 1) % ts.len();
                        black_box(v.validate(black_box(&ts[next])).await.unwrap());
                    }
                });
                BATCH
            }
        })
    });

    // First validations: each thread takes its own slice of never-seen tokens; a
    // round ends when the slice is used up or the time is over.
    let per_thread = fx.tokens.len() / counts.iter().copied().max().unwrap_or(1);
    report("first validation (default validator, cache on)", &counts, |threads| {
        let v = fx.validator(&rt);
        let tokens = Arc::new(fx.tokens.clone());
        run(threads, round, |i| {
            let (v, tokens) = (v.clone(), tokens.clone());
            let mut next = i * per_thread;
            let end = next + per_thread;
            move |rt: &tokio::runtime::Runtime| {
                if next >= end {
                    return 0;
                }
                let stop = (next + BATCH as usize).min(end);
                let n = stop - next;
                rt.block_on(async {
                    for t in &tokens[next..stop] {
                        black_box(v.validate(black_box(t)).await.unwrap());
                    }
                });
                next = stop;
                n as u64
            }
        })
    });

    let obo = fx.obo.clone();
    let user = fx.user.clone();
    rt.block_on(obo.exchange_on_behalf_of(&user, "https://graph.microsoft.com")).unwrap();
    report("OBO cache hit", &counts, |threads| {
        run(threads, round, |_| {
            // Each request has its own validated token, as a server's would.
            let (obo, user) = (obo.clone(), user.unshared());
            move |rt: &tokio::runtime::Runtime| {
                rt.block_on(async {
                    for _ in 0..BATCH {
                        black_box(
                            obo.exchange_on_behalf_of(
                                black_box(&user),
                                "https://graph.microsoft.com",
                            )
                            .await
                            .unwrap(),
                        );
                    }
                });
                BATCH
            }
        })
    });
    drop(fx);
}

struct Fixture {
    mock: MockEntra,
    api: TestApp,
    tokens: Vec<String>,
    obo: Obo,
    user: ValidatedToken,
}

impl Fixture {
    async fn new(max_threads: usize) -> Self {
        let mock = MockEntra::start().await;
        let api = mock
            .register_app(TestApp::new("scaling-api").secret("s").expose_scope("access_as_user"));
        mock.grant_consent(&api.client_id, "https://graph.microsoft.com", &["User.Read"]);
        let alice = mock.add_user(
            TestUser::new("alice@contoso.onmicrosoft.com").name("Alice").with_random_groups(20),
        );
        // Enough distinct tokens for every thread's first validations (a second of
        // RSA verifications per thread at most, usually less).
        let count = (max_threads * 2_000).max(64);
        eprintln!("minting {count} tokens...");
        let tokens: Vec<String> = (0..count)
            .map(|i| {
                mock.mint(TokenSpec::access_v2(&alice, &api).claim("uti", format!("u{i}").into()))
            })
            .collect();
        let user = mock.verify_token(&tokens[0]).unwrap();
        let obo = Obo::builder(
            mock.authority(),
            api.client_id.clone(),
            ClientCredential::secret(Secret::new("s")),
        )
        .build()
        .unwrap();
        Self { mock, api, tokens, obo, user }
    }

    /// A default validator with its keys already fetched.
    fn validator(&self, rt: &tokio::runtime::Runtime) -> Validator {
        let v =
            Validator::builder(self.mock.authority(), self.api.client_id.clone()).build().unwrap();
        rt.block_on(v.refresh_keys()).unwrap();
        v
    }
}

/// Runs `make(i)`'s closure on `threads` threads until `round` is over (or every
/// closure returns 0); the total calls per second.
fn run<F, M>(threads: usize, round: Duration, make: M) -> f64
where
    M: Fn(usize) -> F,
    F: FnMut(&tokio::runtime::Runtime) -> u64 + Send + 'static,
{
    let start = Arc::new(Barrier::new(threads + 1));
    let handles: Vec<_> = (0..threads)
        .map(|i| {
            let mut step = make(i);
            let start = start.clone();
            std::thread::spawn(move || {
                let rt =
                    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
                start.wait();
                let began = Instant::now();
                let mut calls = 0;
                while began.elapsed() < round {
                    let n = step(&rt);
                    if n == 0 {
                        break;
                    }
                    calls += n;
                }
                (calls, began.elapsed())
            })
        })
        .collect();
    start.wait();
    let results: Vec<(u64, Duration)> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    // Each thread's own rate, summed: threads that ran out of tokens early do not
    // dilute the others.
    results.iter().map(|(calls, took)| *calls as f64 / took.as_secs_f64()).sum()
}

fn report(name: &str, counts: &[usize], mut measure: impl FnMut(usize) -> f64) {
    println!("\n{name}");
    println!("  threads  calls/s      per call   vs 1 thread");
    let mut base = None;
    for &threads in counts {
        let mut rates: Vec<f64> = (0..ROUNDS).map(|_| measure(threads)).collect();
        rates.sort_by(f64::total_cmp);
        let rate = rates[rates.len() / 2];
        let base = *base.get_or_insert(rate);
        println!(
            "  {threads:>7}  {rate:>11.0}  {:>8.0} ns  {:>6.2}x",
            1e9 * threads as f64 / rate,
            rate / base
        );
    }
}
