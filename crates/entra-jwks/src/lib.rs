//! Validation of Microsoft Entra ID access tokens and ID tokens, done right for
//! Entra: multi-tenant `{tenantid}` issuers, per-key issuers, v1 and v2 tokens, key
//! rotation, and Microsoft Graph tokens refused with a clear error.
//!
//! # Example
//!
//! Validate a token minted by the mocked Entra of `entra-testkit` (the keys are
//! fetched from the mock's JWKS endpoint over HTTP):
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use entra_jwks::{AcceptedVersions, Error, Match, TenantPolicy, Validator};
//! use entra_testkit::{MockEntra, TestApp, TestUser};
//!
//! let mock = MockEntra::start().await;
//! let api = mock.register_app(TestApp::new("mcp-server").expose_scope("access_as_user"));
//! let alice = mock.add_user(TestUser::new("alice@contoso.com"));
//!
//! // A single-tenant API: the tenant comes from the authority (a tenant GUID).
//! let validator = Validator::builder(mock.authority(), api.client_id.clone())
//!     .audiences([api.app_id_uri()])
//!     .versions(AcceptedVersions::V2)
//!     .required_scopes(Match::any_of(["access_as_user"]))
//!     .build()?;
//!
//! let token = mock.access_token(&alice, &api);
//! let validated = validator.validate(&token).await?;
//! assert_eq!(validated.claims().oid.as_deref(), Some(alice.oid.as_str()));
//! assert!(validated.claims().has_scope("access_as_user"));
//!
//! // A token for Microsoft Graph is refused with an error that says so.
//! let err = validator.validate(&mock.graph_token(&alice)).await.unwrap_err();
//! assert!(matches!(err, Error::ForGraph) && err.is_unauthorized());
//!
//! // Multi-tenant: `organizations` needs an explicit tenant choice.
//! let partner = mock.add_tenant();
//! let multi = Validator::builder(
//!     mock.authority_for(entra_core::Tenant::Organizations),
//!     api.client_id.clone(),
//! )
//! .tenants(TenantPolicy::Only(vec![mock.tenant_id(), partner]))
//! .build()?;
//! multi.validate(&token).await?;
//! # Ok(())
//! # }
//! ```
//!
//! [`Validator`] implements [`entra_core::TokenValidator`]; its errors implement
//! [`entra_core::AuthError`]: answer 401 when [`Error::is_unauthorized`], 503 when
//! [`Error::is_transient`] (the keys could not be fetched and no usable cached keys
//! remain).
//!
//! # Crate features
//!
//! None for applications (the hidden `fuzzing` feature only serves the
//! repository's fuzz targets). Signatures (RSA and EC) are verified
//! with `aws-lc-rs`, its one signature backend (the one pinned for `jsonwebtoken`
//! elsewhere in the workspace).
//!
//! # Security
//!
//! What the defaults are, and what cannot be turned off:
//!
//! - **Signature**: always verified, with an algorithm allow-list that defaults to
//!   `RS256` (all Entra uses). `none` and the HMAC algorithms cannot be expressed in
//!   [`Algorithm`], so they are never accepted (no key confusion with a public key
//!   used as an HMAC secret). A key's own `alg` and `use` are honoured. Header
//!   `crit` extensions are refused.
//! - **Keys**: fetched from the authority's keys URL for each accepted version (v1
//!   and v2 keys carry different issuers), through entra-core's HTTP layer (no
//!   redirects followed, a `client-request-id` per request), with a timeout
//!   (10 s) and a size cap (256 KiB). Keys are refreshed every hour; a token with an unknown `kid` causes
//!   at most one refetch per 5 minutes, shared by all concurrent callers. If the
//!   endpoint fails, the last good keys stay in use for 24 hours beyond their
//!   refresh time (with a `tracing` warning); after that, and when no keys were
//!   ever fetched, validation fails with the *transient*
//!   [`Error::KeysUnavailable`], never with "invalid token".
//! - **Expiry**: `exp` is required and `nbf` checked, both against the [`Clock`]
//!   seam with a 60 s leeway; a leeway above 5 minutes
//!   ([`Options::MAX_LEEWAY`]) is refused when building
//!   ([`Error::LeewayTooLarge`]).
//! - **Issuer**: never skipped. v1 tokens must carry the v1 issuer and v2 tokens the
//!   v2 issuer. For `common`/`organizations` (and domain) authorities the
//!   `{tenantid}` template is resolved with the token's `tid`, which must be a GUID
//!   and must be the tenant the issuer names; a key that publishes its own `issuer`
//!   must match too. On top of that comes the tenant policy: the authority's tenant
//!   by default, and for multi-tenant authorities an explicit
//!   [`TenantPolicy::Only`] allow-list or [`TenantPolicy::Any`];
//!   [`ValidatorBuilder::build`] fails without one. `organizations` refuses
//!   personal-account tokens.
//! - **Audience**: the client id, plus the audiences you add (such as the App ID
//!   URI). ID tokens accept the client id only, and need the expected `nonce`
//!   (compared in constant time).
//! - **Permissions**: an access token with neither `scp` nor `roles` is refused
//!   (Entra issues such app-only tokens to any app in the tenant). Required scopes
//!   and roles are opt-in ([`Match::AnyOf`] / [`Match::AllOf`]); app-only tokens are
//!   accepted unless [`ValidatorBuilder::allow_app_only`] is `false`.
//! - **Microsoft Graph tokens** (header `nonce`, or `aud` naming Graph) are refused
//!   before any key is fetched, with [`Error::ForGraph`].
//! - **Input limits**: tokens over 16 KiB and anything that is not three base64url
//!   parts with JSON header and claims are refused before any key work.
//! - **Cache of validated tokens**: a token answers from the cache only when it is
//!   byte for byte the token validated before, and its `exp` is checked again on
//!   every hit; entries live at most 5 minutes. Errors are never cached.
//! - **Secrets in output**: `Debug` of the validator, its options and
//!   [`entra_core::ValidatedToken`] never shows a token; error messages carry no
//!   token or claim set (only shortened `kid`/`alg`/`ver` values and tenant ids).
//!
//! [`Clock`]: entra_core::Clock

mod config;
mod error;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod keys;
mod validator;

pub use config::{AcceptedVersions, Algorithm, Match, Options, TenantPolicy, ValidatorBuilder};
pub use error::{Error, JwksError, Result};
pub use validator::Validator;
