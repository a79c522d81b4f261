//! A mocked Microsoft Entra ID on loopback for integration tests: discovery,
//! JWKS with rotation, token minting, the token endpoint (authorization code with
//! PKCE, refresh, client credentials, on-behalf-of), the authorize and logout
//! endpoints, Microsoft Graph, fault injection and request recording.
//!
//! # Example
//!
//! Start a mock, mint a token, fetch the JWKS over HTTP, and validate the token
//! with a plain `jsonwebtoken::decode`:
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use entra_testkit::{MockEntra, TestApp, TestUser};
//! use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
//!
//! let mock = MockEntra::start().await;
//! let api = mock.register_app(TestApp::new("my-api").expose_scope("access_as_user"));
//! let alice = mock.add_user(TestUser::new("alice@contoso.com").name("Alice"));
//! let token = mock.access_token(&alice, &api);
//!
//! let jwks: serde_json::Value =
//!     reqwest::get(mock.authority().v2_keys_url()).await?.json().await?;
//! let kid = decode_header(&token)?.kid.unwrap();
//! let jwk = jwks["keys"].as_array().unwrap().iter().find(|k| k["kid"] == kid.as_str()).unwrap();
//! let key = DecodingKey::from_rsa_components(
//!     jwk["n"].as_str().unwrap(),
//!     jwk["e"].as_str().unwrap(),
//! )?;
//! let mut validation = Validation::new(Algorithm::RS256);
//! validation.set_audience(&[api.client_id.as_str()]);
//! validation.set_issuer(&[mock.v2_issuer(&mock.tenant_id())]);
//! let claims = decode::<serde_json::Value>(&token, &key, &validation)?.claims;
//! assert_eq!(claims["oid"], alice.oid.as_str());
//! assert_eq!(claims["scp"], "access_as_user");
//! # Ok(())
//! # }
//! ```
//!
//! # What the mock serves
//!
//! All paths are under [`MockEntra::uri`]; `{tenant}` is a tenant id of the mock,
//! `common` or `organizations`.
//!
//! | Path | |
//! |---|---|
//! | `GET /{tenant}/v2.0/.well-known/openid-configuration` | v2 discovery; `common`/`organizations` publish the `{tenantid}` issuer |
//! | `GET /{tenant}/.well-known/openid-configuration` | v1 discovery |
//! | `GET /{tenant}/discovery/v2.0/keys`, `/{tenant}/discovery/keys` | JWKS; each key has its `issuer` (`?appid=` ignored) |
//! | `POST /{tenant}/oauth2/v2.0/token` | `authorization_code`, `refresh_token`, `client_credentials`, OBO `jwt-bearer` |
//! | `GET /{tenant}/oauth2/v2.0/authorize` | sign-in page, or straight redirect with `login_hint` / auto-login |
//! | `GET /{tenant}/oauth2/v2.0/logout` | redirect to `post_logout_redirect_uri` |
//! | `GET /v1.0/me`, `POST /v1.0/me/getMemberObjects`, `POST /v1.0/users/{id}/getMemberObjects` | Microsoft Graph |
//!
//! # Crate features
//!
//! None: this crate has no optional features.
//!
//! # Security
//!
//! This crate is for tests only: its keys are generated per process, its secrets
//! are in its docs, and it listens on loopback over plain HTTP. Never point
//! production code at it. The mock does check what Entra checks (client
//! authentication, PKCE, assertion signatures, audiences, consent), so that code
//! under test meets realistic refusals.

mod authorize;
mod control;
mod error;
mod fault;
mod graph;
mod keys;
mod mint;
mod mock;
mod model;
mod obo;
mod record;
mod router;
mod state;
mod token;

pub use error::{Error, Result};
pub use fault::{Fault, JwksFault};
pub use keys::TestCertificate;
pub use mint::{GROUP_OVERAGE_LIMIT, TokenSpec};
pub use mock::{MockEntra, MockEntraBuilder};
pub use model::{TestApp, TestUser};
pub use record::RecordedRequest;

/// Re-exported for [`TokenSpec::algorithm`] and client assertions.
pub use jsonwebtoken;
