//! What the bearer layer costs per request, measured with tower's `oneshot` on
//! an axum router (no sockets): a bare handler, the same handler behind the
//! layer with a token the validator has cached (as is, and extracting the
//! `Caller`), and a refusal (no credentials, and a malformed header).

#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use criterion::{Criterion, criterion_group, criterion_main};
use entra_axum::{BearerLayer, Caller, EntraAuth};
use entra_testkit::doubles::StaticValidator;
use entra_testkit::{MockEntra, TestUser};
use http::{Request, StatusCode};
use tower::ServiceExt as _;

async fn bare() -> &'static str {
    "ok"
}

async fn with_caller(caller: Caller) -> &'static str {
    black_box(caller.object_id());
    "ok"
}

/// One request to `app` (with `authorization` as its header, if any): the
/// response's status.
async fn send(app: &Router, authorization: Option<&str>) -> StatusCode {
    let mut req = Request::get("/");
    if let Some(value) = authorization {
        req = req.header("authorization", value);
    }
    app.clone().oneshot(req.body(Body::empty()).unwrap()).await.unwrap().status()
}

fn bench(c: &mut Criterion) {
    let rt =
        tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let (layer, token, validator, user) = rt.block_on(async {
        let mock = MockEntra::start().await;
        let api = mock.default_api();
        let alice = mock.add_user(TestUser::new("alice@contoso.com"));
        let auth = EntraAuth::builder(mock.authority(), api.client_id.clone()).build().unwrap();
        let token = mock.access_token(&alice, &api);
        // Fetch the keys and fill the validated-token cache once.
        auth.validator().validate(&token).await.unwrap();
        let user = mock.validated_token(&alice, &api);
        std::mem::forget(mock);
        (auth.bearer().require_scope("access_as_user"), token, auth.validator().clone(), user)
    });
    let static_layer: BearerLayer =
        BearerLayer::new(std::sync::Arc::new(StaticValidator::accepting(user)))
            .require_scope("access_as_user");
    let layered_static: Router = Router::new().route("/", get(with_caller)).layer(static_layer);
    let bare_app: Router = Router::new().route("/", get(bare));
    let layered: Router = Router::new().route("/", get(with_caller)).layer(layer.clone());
    let layered_bare: Router = Router::new().route("/", get(bare)).layer(layer);
    let header = format!("Bearer {token}");

    let mut group = c.benchmark_group("bearer_layer");
    group.bench_function("bare_handler", |b| {
        b.to_async(&rt).iter(|| async { assert_eq!(send(&bare_app, Some(&header)).await, 200) });
    });
    group.bench_function("layer_cached_token", |b| {
        b.to_async(&rt).iter(|| async { assert_eq!(send(&layered, Some(&header)).await, 200) });
    });
    group.bench_function("layer_cached_token_bare_handler", |b| {
        b.to_async(&rt)
            .iter(|| async { assert_eq!(send(&layered_bare, Some(&header)).await, 200) });
    });
    group.bench_function("validator_cached_token_alone", |b| {
        b.to_async(&rt).iter(|| async {
            black_box(validator.validate(&token).await.unwrap());
        });
    });
    group.bench_function("layer_static_validator", |b| {
        b.to_async(&rt)
            .iter(|| async { assert_eq!(send(&layered_static, Some(&header)).await, 200) });
    });
    group.bench_function("refusal_no_credentials", |b| {
        b.to_async(&rt).iter(|| async { assert_eq!(send(&layered, None).await, 401) });
    });
    group.bench_function("refusal_malformed_header", |b| {
        b.to_async(&rt)
            .iter(|| async { assert_eq!(send(&layered, Some("Bearer a b")).await, 401) });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
