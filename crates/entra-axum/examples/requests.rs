//! Sends `count` requests through an axum router with `oneshot`, on one thread:
//! the bare handler (`bare`) or the same handler extracting `Caller` behind the
//! bearer layer over a validator that does no work (`layer`). For counting
//! instructions, which unlike times do not depend on the machine's load:
//!
//! ```sh
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null target/release/examples/requests layer 20000
//! ```
//!
//! (the difference between two counts, 20000 and 10000 requests, divided by
//! 10000, is the cost of one request without the start-up).

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use entra_axum::{BearerLayer, Caller};
use entra_core::{EntraClaims, Secret, dangerous};
use entra_testkit::doubles::StaticValidator;
use http::Request;
use tower::ServiceExt as _;

async fn bare() -> &'static str {
    "ok"
}

async fn with_caller(caller: Caller) -> &'static str {
    std::hint::black_box(caller.object_id());
    "ok"
}

fn main() {
    let which = std::env::args().nth(1).unwrap_or_default();
    let count: usize = std::env::args().nth(2).and_then(|s| s.parse().ok()).unwrap_or(10_000);
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let claims: EntraClaims = serde_json::from_value(serde_json::json!({
        "tid": "72f988bf-86f1-41af-91ab-2d7cd011db47",
        "oid": "00000000-0000-0000-66f3-3332eca7ea81",
        "scp": "access_as_user",
    }))
    .unwrap();
    // A token of the size of Entra's (2.7 KB), so that the header checks cost what they do.
    let raw = format!("{}.{}.{}", "a".repeat(100), "b".repeat(2200), "c".repeat(342));
    let header = format!("Bearer {raw}");
    let token = dangerous::assume_validated(Secret::new(raw), claims);
    let layer = BearerLayer::new(Arc::new(StaticValidator::accepting(token)))
        .require_scope("access_as_user");
    let app: Router<()> = match which.as_str() {
        "bare" => Router::new().route("/", get(bare)),
        "layer" => Router::new().route("/", get(with_caller)).layer(layer),
        _ => panic!("usage: requests bare|layer [count]"),
    };
    // As `axum::serve` does: the handlers become routes once, not per request.
    let app = app.with_state(());
    for _ in 0..count {
        let req = Request::get("/").header("authorization", &header).body(Body::empty()).unwrap();
        let response = rt.block_on(app.clone().oneshot(req)).unwrap();
        assert_eq!(response.status(), 200);
    }
}
