//! Validation cost: a bare `jsonwebtoken::decode` of a realistic Entra v2 access
//! token against entra-jwks's first validation and its repeated validation
//! (token cache hit).
//!
//! The first validation is measured twice: with the default validator (cache
//! on: a token it has never seen is looked up, validated and then kept), and
//! with the cache off (`token_cache_capacity(0)`: validation alone). For the
//! default validator every timed call validates a distinct token (the same
//! claims, each with its own `uti`), and each batch gets a new validator whose
//! keys were fetched before the clock starts.
//!
//! Run: `cargo bench -p entra-jwks --bench validate`

// A bench fixture: failing loudly on a broken setup is what we want.
#![allow(clippy::unwrap_used)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use entra_core::EntraClaims;
use entra_jwks::Validator;
use entra_testkit::jsonwebtoken::{self, Algorithm, DecodingKey, Validation};
use entra_testkit::{MockEntra, TestApp, TestUser, TokenSpec};
use serde_json::json;

struct Fixture {
    _mock: MockEntra,
    token: String,
    /// Distinct tokens with the claims of `token`, for first validations with
    /// the default validator.
    distinct: Vec<String>,
    new_validator: Box<dyn Fn() -> Validator>,
    key: DecodingKey,
    validation: Validation,
    first: Validator,
    repeated: Validator,
}

fn fixture(rt: &tokio::runtime::Runtime) -> Fixture {
    rt.block_on(async {
        let mock = MockEntra::start().await;
        let api = mock.register_app(TestApp::new("mcp-server").expose_scope("access_as_user"));
        let alice = mock.add_user(
            TestUser::new("alice.example@contoso.onmicrosoft.com")
                .name("Alice Example")
                .with_random_groups(20)
                .roles(["Tasks.Read", "Tasks.Write"]),
        );
        // Claims Entra adds to a typical v2 access token.
        let spec = || {
            TokenSpec::access_v2(&alice, &api)
                .claim("aio", json!("AWQAm/8YAAAAfW3qq4sJ1Qp1kQf6y3Zr0mJ8dN4oT6uB2cV9xE1hL5pK7sR3"))
                .claim("amr", json!(["pwd", "mfa"]))
                .claim("family_name", json!("Example"))
                .claim("given_name", json!("Alice"))
                .claim("ipaddr", json!("203.0.113.42"))
                .claim("rh", json!("1.AXwAv4j5cvGGr0GRqy180BHbRysXdG6-vkNIn-T-ZjnLEuN8AJ18AA."))
                .claim("sid", json!("00af2b3c-1d4e-5f60-7182-93a4b5c6d7e8"))
                .claim("xms_tcdt", json!(1_600_000_000))
                .claim("wids", json!(["b79fbf4d-3ef9-4689-8143-76b194e85509"]))
        };
        let token = mock.mint(spec());
        let distinct: Vec<String> = (0..DISTINCT).map(|_| mock.mint(spec())).collect();
        let jwks = mock.jwks(&mock.tenant_id());
        let kid = jsonwebtoken::decode_header(&token).unwrap().kid.unwrap();
        let jwk =
            jwks["keys"].as_array().unwrap().iter().find(|k| k["kid"] == kid.as_str()).unwrap();
        let key = DecodingKey::from_rsa_components(
            jwk["n"].as_str().unwrap(),
            jwk["e"].as_str().unwrap(),
        )
        .unwrap();
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_audience(&[api.client_id.as_str()]);
        validation.set_issuer(&[mock.v2_issuer(&mock.tenant_id())]);
        validation.validate_nbf = true;

        let (authority, client_id) = (mock.authority(), api.client_id.clone());
        let builder = move || Validator::builder(authority.clone(), client_id.clone());
        let first = builder().token_cache_capacity(0).build().unwrap();
        first.validate(&token).await.unwrap();
        let repeated = builder().build().unwrap();
        repeated.validate(&token).await.unwrap();
        let new_validator = Box::new(move || builder().build().unwrap());
        Fixture { _mock: mock, token, distinct, new_validator, key, validation, first, repeated }
    })
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let f = fixture(&rt);
    let validated = rt.block_on(f.first.validate(&f.token)).unwrap();
    let groups = validated.claims().groups.as_ref().map_or(0, Vec::len);
    eprintln!("token: {} bytes, {groups} groups", f.token.len());
    paired(&rt, &f);

    let mut g = c.benchmark_group("entra_v2_access_token");
    g.bench_function("bare_jsonwebtoken_decode", |b| {
        b.iter(|| {
            jsonwebtoken::decode::<EntraClaims>(black_box(&f.token), &f.key, &f.validation).unwrap()
        });
    });
    g.bench_function("entra_jwks_first_validation_default", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            let mut left = iters;
            while left > 0 {
                let n = left.min(DISTINCT as u64);
                let v = fresh(&rt, &f);
                let tokens = &f.distinct[..usize::try_from(n).unwrap()];
                let t = Instant::now();
                validate_each(&rt, &v, tokens);
                total += t.elapsed();
                left -= n;
            }
            total
        });
    });
    g.bench_function("entra_jwks_first_validation_cache_off", |b| {
        b.to_async(&rt).iter(|| async { f.first.validate(black_box(&f.token)).await.unwrap() });
    });
    g.bench_function("entra_jwks_repeated_validation", |b| {
        b.to_async(&rt).iter(|| async { f.repeated.validate(black_box(&f.token)).await.unwrap() });
    });
    g.finish();
}

/// Distinct tokens minted for the default validator's first validations.
const DISTINCT: usize = 500;

/// A new default validator with its keys already fetched: the tokens are new
/// to it, the keys are not.
fn fresh(rt: &tokio::runtime::Runtime, f: &Fixture) -> Validator {
    let v = (f.new_validator)();
    rt.block_on(v.refresh_keys()).unwrap();
    v
}

/// Validates each of `tokens` once (first validations, for a new validator).
fn validate_each(rt: &tokio::runtime::Runtime, v: &Validator, tokens: &[String]) {
    rt.block_on(async {
        for token in tokens {
            black_box(v.validate(black_box(token)).await.unwrap());
        }
    });
}

/// Interleaved rounds of the four measurements, so that load from other
/// processes hits all three alike; prints the per-call minimum and median of the
/// rounds. Criterion's figures follow.
fn paired(rt: &tokio::runtime::Runtime, f: &Fixture) {
    const ROUNDS: usize = 40;
    const CALLS: usize = 200;
    let per_call = |d: Duration| d / u32::try_from(CALLS).unwrap();
    let mut times = [Vec::new(), Vec::new(), Vec::new(), Vec::new()];
    for _ in 0..ROUNDS {
        let t = Instant::now();
        for _ in 0..CALLS {
            black_box(
                jsonwebtoken::decode::<EntraClaims>(black_box(&f.token), &f.key, &f.validation)
                    .unwrap(),
            );
        }
        times[0].push(per_call(t.elapsed()));
        let default = fresh(rt, f);
        let t = Instant::now();
        validate_each(rt, &default, &f.distinct[..CALLS]);
        times[1].push(per_call(t.elapsed()));
        drop(default);
        for (slot, v) in [(2, &f.first), (3, &f.repeated)] {
            let t = Instant::now();
            rt.block_on(async {
                for _ in 0..CALLS {
                    black_box(v.validate(black_box(&f.token)).await.unwrap());
                }
            });
            times[slot].push(per_call(t.elapsed()));
        }
    }
    let stat = |v: &mut Vec<Duration>| {
        v.sort();
        (v[0], v[v.len() / 2])
    };
    let [bare, default, cache_off, repeated] = times.each_mut().map(stat);
    let ratio = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64();
    eprintln!("paired rounds ({ROUNDS} x {CALLS} calls), per call, min / median:");
    eprintln!("  bare jsonwebtoken::decode        {:?} / {:?}", bare.0, bare.1);
    for (name, t) in [("first, default validator", default), ("first, cache off       ", cache_off)]
    {
        eprintln!(
            "  entra-jwks {name} {:?} / {:?}  ({:.2}x / {:.2}x of bare)",
            t.0,
            t.1,
            ratio(t.0, bare.0),
            ratio(t.1, bare.1)
        );
    }
    eprintln!(
        "  entra-jwks repeated              {:?} / {:?}  ({:.1}x / {:.1}x faster than bare)",
        repeated.0,
        repeated.1,
        ratio(bare.0, repeated.0),
        ratio(bare.1, repeated.1)
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
