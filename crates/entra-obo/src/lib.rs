//! Microsoft Entra ID On-Behalf-Of: exchange a validated user token for a token to
//! a downstream API, as the same user, with `.default` scope building, client
//! credentials (secret, certificate, federated), caching with single-flight,
//! retries and claims challenges.
//!
//! # Example
//!
//! An MCP server (`mcp-server`) received Alice's token, validated it, and calls
//! Microsoft Graph as Alice. Here the mocked Entra of `entra-testkit` plays Entra,
//! and mints and verifies Alice's token as `entra-jwks` would in the server.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use entra_core::{ClientCredential, Secret};
//! use entra_obo::{Error, Obo};
//! use entra_testkit::{Fault, MockEntra, TestApp, TestUser};
//!
//! // A mocked Entra with the MCP server's app registration and a user.
//! let mock = MockEntra::start().await;
//! let app = mock.register_app(TestApp::new("mcp-server").secret("app-secret").expose_scope("access_as_user"));
//! mock.grant_consent(&app.client_id, "https://graph.microsoft.com", &["User.Read"]);
//! let alice = mock.add_user(TestUser::new("alice@contoso.com"));
//! // In a server, entra-jwks validates the bearer token and returns this.
//! let user_token = mock.validated_token(&alice, &app);
//!
//! // Once, at start-up; keep it in your server state (it is Clone + Send + Sync).
//! let obo = Obo::builder(mock.authority(), app.client_id.clone(), ClientCredential::secret(Secret::new("app-secret")))
//!     .build()?;
//!
//! // In a tool: a Graph token as Alice (requests `https://graph.microsoft.com/.default`).
//! let token = obo.exchange_on_behalf_of(&user_token, "https://graph.microsoft.com").await?;
//! assert!(!token.secret.is_empty());
//! // The second call is answered from the cache.
//! obo.exchange_on_behalf_of(&user_token, "https://graph.microsoft.com").await?;
//! assert_eq!(mock.token_requests().len(), 1);
//!
//! // Conditional Access asks for MFA: send the challenge back to the client.
//! mock.fail_next(1, Fault::aadsts(50076).claims(r#"{"access_token":{"acrs":{"essential":true,"value":"c1"}}}"#));
//! match obo.exchange_on_behalf_of(&user_token, ["User.Read"]).await {
//!     Err(e @ Error::InteractionRequired { .. }) => {
//!         let www_authenticate = e.claims_challenge().unwrap().header_value();
//!         assert!(www_authenticate.starts_with(r#"Bearer error="insufficient_claims", claims=""#));
//!     }
//!     other => panic!("{other:?}"),
//! }
//! # Ok(())
//! # }
//! ```
//!
//! Named downstream APIs (the "managed resource identifier" of gateway
//! configurations) come from [`OboBuilder::downstream_api`] or [`OboConfig`], and
//! are used with [`Obo::exchange_for`]. [`Obo`] also implements the
//! [`entra_core::TokenExchanger`] seam.
//!
//! # Crate features
//!
//! - `downstream`: [`Downstream`], which calls an API (Microsoft Graph of the
//!   configured cloud, or your own [`Api`]) as the user: a token On-Behalf-Of
//!   the user for its resource, `Authorization: Bearer`, JSON in and out,
//!   typed errors, and one renewal with the claims when the API answers a
//!   continuous access evaluation challenge (401 `insufficient_claims`). It
//!   is here rather than in entra-axum because none of it depends on a web
//!   framework; entra-axum only turns its error into a 401 challenge.
//!
//! # Security
//!
//! - App-only tokens and malformed scope sets are refused before any request.
//! - Multi-tenant apps (`common` / `organizations` authority) send each request to
//!   the user's tenant, taken from the validated token's `tid`.
//! - Cache keys hold the SHA-256 of the user token (computed once at validation),
//!   never the token. Cached tokens are dropped [`OboBuilder::expiry_skew`]
//!   (5 minutes) before they expire, judged by the [`entra_core::Clock`].
//! - Errors are never cached; a request carrying a claims challenge neither reads
//!   nor fills the cache, and removes the cached token it replaces.
//! - Each thread keeps copies of the tokens it read from the cache
//!   ([`OboBuilder::thread_cache`]), so that hits write no shared memory: keyed
//!   by the user's `tid` and `oid`, the token's SHA-256 and the target, compared
//!   byte for byte; kept until the token's expiry minus the skew; dropped in
//!   every thread whenever the client removes a cached token.
//! - Retries are bounded in attempts and total time; every request has a timeout.
//!   A `Retry-After` beyond the budget ends the retries at once.
//! - The default HTTP client follows no redirects (a 307 would resend the secret
//!   and the user's token elsewhere); a redirect is an error. Response bodies are
//!   read up to [`OboBuilder::max_response_size`] (64 KiB), and an `expires_in`
//!   above 48 hours is refused.
//! - Each request runs in its own task, so a caller that gives up (a timeout, a
//!   closed connection) neither cancels it for the others waiting on it nor
//!   leaves it behind.
//! - [`Downstream`] calls stay under their API's base URL (absolute URLs, dot
//!   segments and encoded slashes in paths are refused), follow no redirect,
//!   read at most 1 MiB of a success body and 64 KiB of an error body, and
//!   renew a token with an API's claims challenge once per call, never in a
//!   loop; the challenge must be base64 of a JSON object of at most 8 KiB.
//! - No token, secret or assertion appears in `Display`, `Debug` or the tracing
//!   spans (which name the endpoint, the attempt, the status and the outcome).
#![cfg_attr(docsrs, feature(doc_cfg))]
// Links to items behind a feature cannot resolve without it; the documentation
// is built, and its links checked, with every feature (docs.rs and CI).
#![cfg_attr(not(feature = "downstream"), allow(rustdoc::broken_intra_doc_links))]

mod cache;
mod challenge;
mod config;
#[cfg(feature = "downstream")]
mod downstream;
mod error;
mod hot;
mod obo;
mod request;
mod scope;

pub use challenge::ClaimsChallenge;
pub use config::{DownstreamApi, OboConfig};
#[cfg(feature = "downstream")]
#[cfg_attr(docsrs, doc(cfg(feature = "downstream")))]
pub use downstream::{Api, Downstream, DownstreamBuilder};
pub use entra_core::MemoryTokenCache;
pub use error::{Error, Result};
pub use obo::{Obo, OboBuilder};
pub use scope::Scopes;
