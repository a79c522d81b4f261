//! A server for `scripts/load-bearer.sh`, against a mocked Entra on loopback:
//! - `/bare`: a handler returning "ok";
//! - `/noop`: that handler behind a layer that does nothing (what axum itself
//!   costs for any layer on a route);
//! - `/extension`: that handler behind a layer that only puts a validated token
//!   in the request extensions, checking nothing (the least any bearer layer
//!   costs);
//! - `/layered`: that handler behind the bearer layer (an `entra_jwks::Validator`
//!   with the token cached);
//! - `/caller`: a handler extracting the [`Caller`] behind the same layer;
//! - `/static`: that handler behind the layer over a validator with no cache
//!   that answers at once.
//!
//! Prints `URL=`, `TOKEN=` lines, then serves for the given number of seconds
//! (default 120) and exits.

use std::future::IntoFuture as _;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::routing::get;
use entra_axum::{BearerLayer, Caller, EntraAuth};
use entra_testkit::doubles::StaticValidator;
use entra_testkit::{MockEntra, TestUser};

async fn bare() -> &'static str {
    "ok"
}

async fn layered(caller: Caller) -> &'static str {
    std::hint::black_box(caller.object_id());
    "ok"
}

/// The request mapping of `/extension`: the token goes into the extensions, as
/// the bearer layer puts it there, with no check.
fn inserting(mock: &MockEntra, user: &TestUser) -> impl Fn(Request) -> Request + Clone + use<> {
    let token = mock.validated_token(user, &mock.default_api());
    move |mut request: Request| {
        request.extensions_mut().insert(token.clone());
        request
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let seconds: u64 = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(120);
    let mock = MockEntra::start().await;
    let api = mock.default_api();
    let alice = mock.add_user(TestUser::new("alice@contoso.com"));
    let auth = EntraAuth::builder(mock.authority(), api.client_id.clone()).build()?;
    let token = mock.access_token(&alice, &api);
    auth.validator().validate(&token).await?;
    let accepting = Arc::new(StaticValidator::accepting(mock.validated_token(&alice, &api)));
    let app = Router::new()
        .route("/layered", get(bare).layer(auth.bearer().require_scope("access_as_user")))
        .route("/caller", get(layered).layer(auth.bearer().require_scope("access_as_user")))
        .route(
            "/static",
            get(layered).layer(BearerLayer::new(accepting).require_scope("access_as_user")),
        )
        .route("/bare", get(bare))
        .route("/noop", get(bare).layer(tower::util::MapRequestLayer::new(|r| r)))
        .route(
            "/extension",
            get(bare).layer(tower::util::MapRequestLayer::new(inserting(&mock, &alice))),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    println!("URL=http://{}", listener.local_addr()?);
    println!("TOKEN={token}");
    let server = axum::serve(listener, app);
    tokio::select! {
        r = server.into_future() => r?,
        () = tokio::time::sleep(Duration::from_secs(seconds)) => {}
    }
    Ok(())
}
