//! Heap allocations the bearer layer and the `Caller` extractor add to an
//! admitted request, counted by a global allocator wrapper (this test binary
//! only): the same router call behind the bearer layer, and behind a layer that
//! does nothing (what axum itself allocates for any layer on a route).
//!
//! Counts, not times: the figures do not depend on the machine's load. Run with
//! `cargo test -p entra-axum --test allocs -- --nocapture` to see them.

#![allow(clippy::unwrap_used)]

use std::alloc::System;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use entra_axum::{BearerLayer, Caller};
use entra_core::{EntraClaims, SeamError, Secret, TokenValidator, ValidatedToken, dangerous};
use entra_testkit::doubles::StaticValidator;
use http::Request;
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use tower::ServiceExt as _;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

async fn bare() -> &'static str {
    "ok"
}

async fn with_caller(caller: Caller) -> &'static str {
    std::hint::black_box(caller.object_id());
    std::hint::black_box(caller.tenant_id());
    "ok"
}

fn request() -> Request<Body> {
    Request::get("/").header("authorization", "Bearer aaaa.bbbb.cccc").body(Body::empty()).unwrap()
}

/// The fewest allocations of one request through `app` over a few runs (the
/// runtime may allocate for its own bookkeeping in some of them).
fn allocations(rt: &tokio::runtime::Runtime, app: &Router, status: u16) -> usize {
    (0..20)
        .map(|_| {
            let req = request();
            let app = app.clone();
            let region = Region::new(GLOBAL);
            let response = rt.block_on(app.oneshot(req)).unwrap();
            assert_eq!(response.status(), status);
            drop(response);
            region.change().allocations
        })
        .min()
        .unwrap()
}

#[test]
fn the_layer_adds_few_allocations() {
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let claims: EntraClaims = serde_json::from_value(serde_json::json!({
        "tid": "72f988bf-86f1-41af-91ab-2d7cd011db47",
        "oid": "00000000-0000-0000-66f3-3332eca7ea81",
        "scp": "access_as_user",
    }))
    .unwrap();
    let token = dangerous::assume_validated(Secret::new("aaaa.bbbb.cccc"), claims);
    let layer = BearerLayer::new(Arc::new(StaticValidator::accepting(token.clone())))
        .require_scope("access_as_user");
    let bare_app: Router = Router::new().route("/", get(bare));
    // Not zero-sized, like the bearer layer: axum boxes a clone of the layer
    // for each request to a handler not yet turned into a route (`oneshot` on
    // a `Router` without `with_state`), which allocates unless it is zero-sized.
    let not_empty = Arc::new(());
    let pass_through: Router = Router::new().route("/", get(bare)).layer(
        tower::util::MapRequestLayer::new(move |r: Request<Body>| {
            let _ = &not_empty;
            r
        }),
    );
    let layered: Router = Router::new().route("/", get(with_caller)).layer(layer);
    let cached: Router = Router::new()
        .route("/", get(with_caller))
        .layer(BearerLayer::new(Arc::new(Cached(token.clone()))).require_scope("access_as_user"));

    let bare = allocations(&rt, &bare_app, 200);
    let baseline = allocations(&rt, &pass_through, 200);
    let with_layer = allocations(&rt, &layered, 200);
    let with_cached = allocations(&rt, &cached, 200);
    let added = with_layer.saturating_sub(baseline);
    let added_cached = with_cached.saturating_sub(baseline);
    println!(
        "allocations per request: bare handler {bare}, behind a pass-through layer {baseline}, \
         behind the bearer layer with Caller {with_layer} (+{added}), the same with a cached \
         answer {with_cached} (+{added_cached})"
    );
    assert!(added <= MAX_ADDED, "the layer adds {added} allocations (at most {MAX_ADDED})");
    assert!(
        added_cached <= MAX_ADDED_CACHED,
        "with a cached answer, the layer adds {added_cached} allocations (at most {MAX_ADDED_CACHED})"
    );
}

/// A validator whose answer is always at hand (as `entra_jwks::Validator`'s is
/// for a token it validated before).
struct Cached(ValidatedToken);

#[async_trait::async_trait]
impl TokenValidator for Cached {
    async fn validate(&self, _token: &str) -> Result<ValidatedToken, SeamError> {
        Ok(self.0.clone())
    }

    fn validate_cached(&self, _token: &[u8]) -> Option<Result<ValidatedToken, SeamError>> {
        Some(Ok(self.0.clone()))
    }
}

/// The allocations the bearer layer and the `Caller` extractor may add: the
/// validator's boxed future (`async_trait`), the validation's own boxed future
/// (kept in case the validator has to wait for keys), and the request extension
/// holding the `ValidatedToken` (for any service). A layer with no exchanger
/// puts nothing else in the extensions; here axum's extension map has room for
/// the token (in a server, where hyper and axum put more in it, its growth can
/// add one). The `Caller` of a repeated identity allocates nothing.
const MAX_ADDED: usize = 3;

/// With a validator that has the answer at hand (`validate_cached`): no boxed
/// future at all, only the token's request extension.
const MAX_ADDED_CACHED: usize = 1;
