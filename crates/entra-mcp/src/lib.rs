//! Microsoft Entra ID for MCP servers: an OAuth authorization-server facade
//! that lets MCP clients which register themselves (RFC 7591, or Client ID
//! Metadata Documents) reach a server protected by Entra, and helpers that give
//! rmcp tools their caller in one line.
//!
//! Entra has neither dynamic client registration nor Client ID Metadata
//! Documents, and most MCP clients need one of them. The [`Facade`] registers
//! those clients locally, shows the user a consent page naming the client,
//! signs the user in at Entra with the server's own app registration, and gives
//! the client the Entra access token for the server's API: the bearer layer and
//! On-Behalf-Of work unchanged. `docs/mcp-facade.md` in the repository explains
//! when a server needs it (VS Code's built-in Microsoft sign-in does not).
//!
//! # Example
//!
//! An MCP server protected by entra-axum, with the facade switched on by its
//! one line. It runs here against the mocked Entra of `entra-testkit`; the
//! hidden lines set the environment and play an MCP client discovering and
//! registering:
//!
//! ```rust,standalone_crate
//! # use std::future::IntoFuture as _;
//! # #[tokio::main(flavor = "multi_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let mock = entra_testkit::MockEntra::start().await;
//! # let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! # let base = format!("http://{}", listener.local_addr()?);
//! # let api = mock.register_app(entra_testkit::TestApp::new("mcp").secret("s3cret")
//! #     .expose_scope("access_as_user").redirect_uri(format!("{base}/oauth/callback")));
//! # // SAFETY: this example runs in its own process, before any other thread reads the environment.
//! # unsafe {
//! #     std::env::set_var("ENTRA_AUTHORITY", mock.authority().base_url());
//! #     std::env::set_var("ENTRA_CLIENT_ID", api.client_id.as_str());
//! #     std::env::set_var("ENTRA_CLIENT_SECRET", "s3cret");
//! # }
//! # let url = format!("{base}/mcp");
//! use axum::{Router, routing::post};
//! use entra_axum::{Caller, EntraAuth};
//!
//! async fn tool(caller: Caller) -> String {
//!     format!("hello {}", caller.key())
//! }
//!
//! let auth = EntraAuth::api_from_env()?;
//! let mcp = auth.resource(&url, ["access_as_user"])?;
//! let app = Router::new()
//!     .route("/mcp", post(tool))
//!     .layer(mcp.bearer().require_scope("access_as_user"))
//!     .merge(mcp.metadata_router())
//!     .layer(entra_mcp::Facade::from_env(&auth, &mcp)?); // the facade, on
//! let server = axum::serve(listener, app);
//! # tokio::spawn(server.into_future());
//! # let http = reqwest::Client::new();
//! # let prm: serde_json::Value = http.get(format!("{base}/.well-known/oauth-protected-resource/mcp")).send().await?.json().await?;
//! # assert_eq!(prm["authorization_servers"][0], base.as_str());
//! # let meta: serde_json::Value = http.get(format!("{base}/.well-known/oauth-authorization-server")).send().await?.json().await?;
//! # assert_eq!(meta["code_challenge_methods_supported"], serde_json::json!(["S256"]));
//! # let reg = http.post(meta["registration_endpoint"].as_str().unwrap())
//! #     .json(&serde_json::json!({"client_name": "Any MCP client", "redirect_uris": ["http://127.0.0.1/callback"]}))
//! #     .send().await?;
//! # assert_eq!(reg.status(), 201);
//! # Ok(()) }
//! ```
//!
//! The app registration needs `<issuer>/oauth/callback` as a web redirect URI
//! (the issuer is the resource's origin unless
//! [`FacadeBuilder::issuer`] says otherwise) and a client credential. In an
//! rmcp tool, the caller and its validated token are one parameter away:
//! [`McpCaller`] (feature `rmcp`).
//!
//! # Crate features
//!
//! - `rmcp`: [`McpCaller`], [`caller`] and [`tool_error`] for rmcp 3 tool
//!   handlers.
//!
//! # Security
//!
//! - **Registration is bounded.** A registration body is at most 8 KiB, names
//!   at most 5 redirect URIs, and is refused beyond 30 registrations a minute
//!   (429) or 10,000 per client lifetime (30 days unused); see [`Limits`].
//!   Redirect URIs are `http` on a loopback host (any port at authorization,
//!   RFC 8252) or `https` on an origin the host allowed
//!   ([`FacadeBuilder::allow_https_redirect_origin`]); nothing else.
//! - **Client ID Metadata Documents** are fetched over `https` only, from the
//!   address resolved once and pinned for the connection, with no proxy and no
//!   redirects, resolving and fetching within 5 seconds each, at most 8 KiB,
//!   cached 10 minutes. Every address the host resolves to
//!   must be public: loopback, private, link-local (cloud metadata), shared,
//!   multicast and reserved addresses, and IPv6 forms embedding them, are
//!   refused. The document must name itself as `client_id` and list the
//!   redirect URI used. Widening the address rule is only possible through
//!   [`dangerous`].
//! - **Consent is never skipped.** Every authorization shows a page naming the
//!   client (marked unverified when self-registered), the host its answer goes
//!   to and the scopes, which cannot be framed. The answer needs the page's
//!   CSRF token in the form and in an `HttpOnly`, `SameSite=Lax` cookie, both
//!   matching the pending authorization, which is taken once.
//! - **PKCE S256 is required** of the client; `plain` and no PKCE are refused.
//!   Errors before the client and its redirect URI are known good are shown,
//!   never sent to a redirect URI.
//! - **Sign-in** at Entra is entra-oidc's: its own PKCE, `state` and `nonce`, the
//!   ID token validated, the callback bound to the browser that approved by a
//!   cookie.
//! - **Codes** are 256 random bits, live 60 seconds, are bound to the client,
//!   the redirect URI and the PKCE challenge, and are taken once; a replayed
//!   code revokes the refresh token its first use issued.
//! - **Refresh tokens** given to clients are opaque handles, rotated at each
//!   use; Entra's refresh tokens never leave the server.
//! - **Storage.** Store keys are SHA-256 hashes of codes, handles and states.
//!   The default [`MemoryStore`] is bounded; with several replicas use
//!   entra-redis's store, which encrypts every value (AES-256-GCM).
//! - **What the facade cannot revoke:** an access token already handed out is
//!   Entra's and lives until it expires (about an hour).
#![cfg_attr(docsrs, feature(doc_cfg))]
// Links to items behind a feature cannot resolve without it; the documentation
// is built, and its links checked, with every feature (docs.rs and CI).
#![cfg_attr(not(feature = "rmcp"), allow(rustdoc::broken_intra_doc_links))]

mod authorize;
mod cimd;
mod crypto;
pub mod dangerous;
mod error;
mod facade;
mod metadata;
mod options;
mod page;
mod records;
mod redirect;
mod registration;
#[cfg(feature = "rmcp")]
#[cfg_attr(docsrs, doc(cfg(feature = "rmcp")))]
mod rmcp;
mod store;
mod token;

pub use error::{Error, Result};
pub use facade::{Facade, FacadeBuilder, FacadeService};
pub use options::Limits;
#[cfg(feature = "rmcp")]
#[cfg_attr(docsrs, doc(cfg(feature = "rmcp")))]
pub use rmcp::{McpCaller, caller, tool_error};
pub use store::MemoryStore;
