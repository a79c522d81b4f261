//! Microsoft Entra ID for axum and tower: protect an API or MCP server with a
//! bearer-token layer (RFC 6750 challenges, RFC 9728 metadata, On-Behalf-Of), and
//! sign users in with sessions, in a few lines.
//!
//! # Example
//!
//! An MCP server (or any API) that accepts Entra access tokens for its
//! `access_as_user` scope, publishes its protected-resource metadata, and calls
//! Microsoft Graph as the user. It runs here against the mocked Entra of
//! `entra-testkit` (the hidden lines set the environment and play the client):
//!
//! ```rust,standalone_crate
//! # use std::future::IntoFuture as _;
//! # #[tokio::main(flavor = "multi_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let mock = entra_testkit::MockEntra::start().await;
//! # let api = mock.default_api();
//! # mock.grant_consent(&api.client_id, "https://graph.microsoft.com", &["User.Read"]);
//! # let alice = mock.add_user(entra_testkit::TestUser::new("alice@contoso.com"));
//! # // SAFETY: this example runs in its own process, before any other thread reads the environment.
//! # unsafe {
//! #     std::env::set_var("ENTRA_AUTHORITY", mock.authority().base_url());
//! #     std::env::set_var("ENTRA_CLIENT_ID", api.client_id.as_str());
//! #     std::env::set_var("ENTRA_CLIENT_SECRET", "mock-api-secret");
//! # }
//! # let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! # let base = format!("http://{}", listener.local_addr()?);
//! use axum::{Router, routing::post};
//! use entra_axum::{Caller, EntraAuth, Error};
//!
//! async fn tool(caller: Caller) -> Result<String, Error> {
//!     let graph = caller.on_behalf_of("https://graph.microsoft.com").await?;
//!     Ok(format!("{} may call Graph: {}", caller.key(), graph.scopes.join(" ")))
//! }
//!
//! let auth = EntraAuth::api_from_env()?;
//! let mcp = auth.resource("https://mcp.example.com/mcp", ["access_as_user"])?;
//! let app = Router::new()
//!     .route("/mcp", post(tool))
//!     .layer(mcp.bearer().require_scope("access_as_user"))
//!     .merge(mcp.metadata_router());
//! let server = axum::serve(listener, app);
//! # tokio::spawn(server.into_future());
//! # let http = reqwest::Client::new();
//! # let token = mock.access_token(&alice, &api);
//! # let ok = http.post(format!("{base}/mcp")).bearer_auth(&token).send().await?;
//! # assert_eq!(ok.status(), 200);
//! # assert!(ok.text().await?.contains("may call Graph: "));
//! # let refused = http.post(format!("{base}/mcp")).send().await?;
//! # assert_eq!(refused.status(), 401);
//! # assert_eq!(refused.headers()["www-authenticate"], "Bearer realm=\"https://mcp.example.com/mcp\", resource_metadata=\"https://mcp.example.com/.well-known/oauth-protected-resource/mcp\"");
//! # let metadata: serde_json::Value = http.get(format!("{base}/.well-known/oauth-protected-resource/mcp")).send().await?.json().await?;
//! # assert_eq!(metadata["scopes_supported"][0], format!("api://{}/access_as_user", api.client_id));
//! # Ok(()) }
//! ```
//!
//! A web app with "Sign in with Microsoft": `/login`, the callback, `POST /logout`
//! and front-channel logout, sessions in tower-sessions, and a page that needs a
//! signed-in user (browsers are redirected to sign in, API calls get 401):
//!
//! ```rust,standalone_crate
//! # use std::future::IntoFuture as _;
//! # #[cfg(not(feature = "sign-in"))] fn main() {}
//! # #[cfg(feature = "sign-in")]
//! # #[tokio::main(flavor = "multi_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let mock = entra_testkit::MockEntra::start().await;
//! # let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! # let base = format!("http://{}", listener.local_addr()?);
//! # let web = mock.register_app(entra_testkit::TestApp::new("web").secret("s3cret").redirect_uri(format!("{base}/callback")));
//! # let alice = mock.add_user(entra_testkit::TestUser::new("alice@contoso.com").name("Alice"));
//! # mock.set_auto_login(Some(&alice));
//! # // SAFETY: this example runs in its own process, before any other thread reads the environment.
//! # unsafe {
//! #     std::env::set_var("ENTRA_AUTHORITY", mock.authority().base_url());
//! #     std::env::set_var("ENTRA_CLIENT_ID", web.client_id.as_str());
//! #     std::env::set_var("ENTRA_CLIENT_SECRET", "s3cret");
//! #     std::env::set_var("ENTRA_REDIRECT_URI", format!("{base}/callback"));
//! # }
//! use axum::{Router, routing::get};
//! use entra_axum::{EntraAuth, User};
//!
//! async fn me(user: User) -> String {
//!     let name = user.name().unwrap_or("you");
//!     format!("Hello {name}. Sign out: POST /logout with csrf_token={}", user.csrf_token())
//! }
//!
//! let auth = EntraAuth::from_env()?;
//! let app = Router::new()
//!     .route("/me", get(me))
//!     .merge(auth.sign_in_routes())
//!     .layer(auth.session_layer());
//! let server = axum::serve(listener, app);
//! # tokio::spawn(server.into_future());
//! # let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build()?;
//! # let go = |r: &reqwest::Response| r.headers()["location"].to_str().unwrap().to_owned();
//! # let cookie = |r: &reqwest::Response, name: &str| r.headers().get_all("set-cookie").iter()
//! #     .filter_map(|v| v.to_str().ok()?.split(';').next()).find(|c| c.starts_with(name)).unwrap().to_owned();
//! # let r = http.get(format!("{base}/me")).header("accept", "text/html").send().await?;
//! # assert_eq!(go(&r), "/login?return_to=%2Fme");
//! # let r = http.get(format!("{base}{}", go(&r))).send().await?;
//! # let state = cookie(&r, "entra.state=");
//! # let r = http.get(go(&r)).send().await?;
//! # let r = http.get(go(&r)).header("cookie", &state).send().await?;
//! # assert_eq!(go(&r), "/me");
//! # let session = cookie(&r, "entra.session=");
//! # let page = http.get(format!("{base}/me")).header("cookie", &session).send().await?.text().await?;
//! # assert!(page.starts_with("Hello Alice."), "{page}");
//! # Ok(()) }
//! ```
//!
//! For settings the environment does not cover (a clock, a Redis session store,
//! teams, another authorization server in the metadata), use
//! [`EntraAuth::builder`] or [`EntraAuth::builder_from_vars`]; for a bare layer
//! over any validator, [`BearerLayer::new`].
//!
//! # Crate features
//!
//! - `sign-in` (default): the sign-in routes, [`SessionLayer`] (tower-sessions)
//!   and the [`User`] extractor.
//! - `teams`: teams and roles from entra-teams on the signed-in user.
//!
//! # Security
//!
//! - **One credential, one place.** Only a single `Authorization: Bearer`
//!   header is read (scheme case-insensitive, RFC 9110 `token68` syntax, at most
//!   16 KiB); two headers, a malformed or oversized one are refused with 401
//!   `invalid_token`, never a 500 or a panic. (A token the validator accepts
//!   at once, having validated the same bytes before, skips the syntax check:
//!   `TokenValidator::validate_cached` may accept only `token68` bytes, and
//!   `entra_jwks::Validator` accepts only base64url parts and dots.) Tokens in the
//!   query string or a form body are ignored (RFC 6750 allows them; they leak
//!   into logs and `Referer`).
//! - **Refusals say little.** `error_description` is a fixed text per error
//!   code, never the validator's message, and never echoes the token.
//! - **Unavailable is not unauthorized.** When keys cannot be fetched the
//!   answer is 503 with `Retry-After` (at most 300 s), so clients do not throw
//!   away a good token.
//! - **Metadata is public and exact.** The RFC 9728 document is served
//!   unauthenticated at the path-inserted well-known URL, with
//!   `bearer_methods_supported: ["header"]` and fully qualified scopes; its
//!   `resource` is the URL clients call, which is not required to be the
//!   token's audience (Entra issues tokens for the client id or App ID URI).
//! - **Sign-in is bound to the browser.** A state cookie (`HttpOnly`,
//!   `SameSite=Lax`, or `None; Secure` for `form_post`) must match the
//!   callback's `state`; a callback opened in another browser, replayed or
//!   forged is refused, and the pending sign-in is take-once (entra-oidc).
//!   `return_to` must be a local path.
//! - **Sessions.** The cookie holds only the tower-sessions id: `HttpOnly`,
//!   `SameSite=Lax`, `Path=/`, `Secure` with the `__Host-` prefix except for
//!   plain http on a loopback redirect URI. The session id is rotated at sign-in
//!   (no fixation), tokens stay in the store (encrypt the store at rest when it
//!   is shared), and logout needs the session's CSRF token, deletes the session
//!   from the store and sends the browser to Entra's sign-out. Front-channel
//!   logout ends the session recorded for Entra's `sid`.
//! - **Refresh.** With `offline_access`, the access token is refreshed before
//!   it expires (by the [`entra_core::Clock`]) and the rotated refresh token is
//!   kept; a refresh Entra refuses ends the session.
//! - **Redirect or 401.** Only `GET`/`HEAD` browser navigations are redirected
//!   to sign in; API calls (including `fetch` with `Sec-Fetch-Mode: cors`) get 401.
#![cfg_attr(docsrs, feature(doc_cfg))]
// Links to items behind a feature cannot resolve without it; the documentation
// is built, and its links checked, with every feature (docs.rs and CI).
#![cfg_attr(
    not(all(feature = "sign-in", feature = "teams")),
    allow(rustdoc::broken_intra_doc_links)
)]

mod auth;
mod bearer;
mod caller;
mod challenge;
mod config;
mod error;
pub mod future;
mod metadata;
#[cfg(feature = "sign-in")]
mod session;
#[cfg(feature = "sign-in")]
mod signin;
#[cfg(feature = "teams")]
mod teams;
#[cfg(feature = "sign-in")]
mod user;

pub use auth::{EntraAuth, EntraAuthBuilder};
pub use bearer::{Bearer, BearerLayer, MAX_AUTHORIZATION_BYTES};
pub use caller::{Caller, CallerKind};
pub use error::{Error, Result};
pub use metadata::{ProtectedResource, ResourceMetadata};
#[cfg(feature = "sign-in")]
#[cfg_attr(docsrs, doc(cfg(feature = "sign-in")))]
pub use session::{Session, SessionLayer};
#[cfg(feature = "sign-in")]
#[cfg_attr(docsrs, doc(cfg(feature = "sign-in")))]
pub use signin::SignInRefusal;
#[cfg(feature = "sign-in")]
#[cfg_attr(docsrs, doc(cfg(feature = "sign-in")))]
pub use user::{SignedInUser, Teams, User};
