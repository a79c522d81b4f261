//! Shared vocabulary for the entra-* crates: clouds, tenants and authorities,
//! the app identity and the one table of environment variables ([`env`](mod@env)), Entra
//! token claims, AADSTS errors with remedies, secrets, client credentials, time,
//! and the seam traits the other crates implement.
//!
//! # Example
//!
//! ```
//! use entra_core::{Authority, Cloud, EntraClaims, Tenant, TokenVersion};
//!
//! // A multi-tenant app: issuers are checked with the `{tenantid}` template.
//! let authority = Authority::new(Cloud::Public, Tenant::parse("organizations")?);
//! assert_eq!(
//!     authority.v2_keys_url(),
//!     "https://login.microsoftonline.com/organizations/discovery/v2.0/keys"
//! );
//!
//! let claims: EntraClaims = serde_json::from_str(r#"{
//!     "ver": "2.0", "tid": "72f988bf-86f1-41af-91ab-2d7cd011db47",
//!     "iss": "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0",
//!     "oid": "00000000-0000-0000-0000-0000000000aa", "scp": "access_as_user"
//! }"#)?;
//! let tenant = authority.check_issuer(TokenVersion::V2, claims.iss.as_deref().unwrap_or(""), claims.tid.as_deref())?;
//! assert_eq!(tenant.as_str(), "72f988bf-86f1-41af-91ab-2d7cd011db47");
//! assert!(claims.has_scope("access_as_user") && !claims.is_app_only());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The test kit (`entra-testkit`) mints real tokens for these types; see its docs
//! for an end-to-end example against a mocked Entra.
//!
//! [`ExpiringStore`] is the bounded in-memory store of expiring entries behind
//! the default stores of the other crates (pending sign-ins, the MCP facade's
//! secrets).
//!
//! # Crate features
//!
//! - `http` (off by default): the `http` module, the one HTTP and token-endpoint layer of
//!   the entra-* crates (reqwest 0.13: no redirects, timeouts, capped bodies,
//!   `client-request-id`, token responses and Entra errors parsed once).
//! - `memory-cache` (off by default): [`MemoryTokenCache`], the bounded in-memory
//!   token cache (moka) that entra-obo uses by default and entra-redis keeps in
//!   front of Redis, and [`HotCache`], the per-thread cache of recent hits in
//!   front of a shared cache (hits that write no shared memory).
//!
//! # Security
//!
//! - [`Secret`] zeroizes its memory, prints as `Secret([redacted])` and has no
//!   `Display`; tokens, codes and PKCE verifiers travel in it.
//! - A [`ValidatedToken`] has no public constructor: validators build it after
//!   verifying a token, and anything else must go through [`dangerous`], whose
//!   name says what skipping the check means. Errors crossing the seams are
//!   [`SeamError`]s with a stable [`AuthError::code`] and a class (unauthorized,
//!   transient, configuration).
//! - [`PendingLogin`] keeps the `nonce` and PKCE verifier in [`Secret`]s.
//! - Issuer checks never skip: a `{tenantid}` template requires a GUID `tid`, an
//!   exact match after substitution, and an issuer that names that tenant.
//! - Untrusted input placed in error messages is shortened, and `Debug` of claims
//!   shows only routing claims.
//! - [`CertificateCredential`] signs short-lived (10 minute) assertions with PS256
//!   by default, refuses a key that does not belong to its certificate, and shows
//!   only the thumbprint in `Debug`; [`FileAssertion`] and [`FnAssertion`] refuse
//!   expired or empty federated tokens and never print them.
//! - Configuration read from the environment ([`env`](mod@env)) names the variable
//!   in its errors but never a secret's value; an encrypted private key is
//!   decrypted in zeroized buffers and a wrong password is an error, never a
//!   silently unusable credential.
//! - With `http`, the default client follows no redirect (and a redirect that
//!   reaches the layer is refused), times out, reads at most a set number of
//!   bytes of any body, and its spans never carry a path, body, token or secret.

#![cfg_attr(docsrs, feature(doc_cfg))]
// Links to items behind a feature cannot resolve without it; the documentation
// is built, and its links checked, with every feature (docs.rs and CI).
#![cfg_attr(
    not(all(feature = "http", feature = "memory-cache")),
    allow(rustdoc::broken_intra_doc_links)
)]

mod authority;
mod certificate;
mod claims;
mod clock;
mod cloud;
pub mod constant_time;
mod credential;
pub mod dangerous;
mod entra_error;
pub mod env;
mod error;
mod error_class;
mod expiring;
mod federated;
mod guid;
#[cfg(feature = "memory-cache")]
#[cfg_attr(docsrs, doc(cfg(feature = "memory-cache")))]
mod hot_cache;
#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
pub mod http;
mod identity;
#[cfg(feature = "memory-cache")]
#[cfg_attr(docsrs, doc(cfg(feature = "memory-cache")))]
mod memory_cache;
mod pkcs8;
mod seams;
mod secret;
mod token;
pub mod words;

pub use authority::{Authority, IssuerTemplate, TokenVersion};
pub use certificate::{AssertionAlgorithm, CertificateCredential};
pub use claims::{Audience, ClaimSource, EntraClaims, GRAPH_APP_ID, Groups, IdentityKey};
pub use clock::{Clock, ManualClock, Sleep, SystemClock, unix_seconds};
pub use cloud::{Cloud, CustomCloud, Tenant};
pub use credential::{
    CLIENT_ASSERTION_TYPE, ClientAssertionProvider, ClientAuth, ClientCredential, SecretPlacement,
};
pub use entra_error::{EntraErrorResponse, ErrorKind};
pub use error::{Error, shorten_untrusted};
pub use error_class::ErrorClass;
pub use expiring::ExpiringStore;
pub use federated::{BoxError, FileAssertion, FnAssertion};
pub use guid::{ClientId, TenantId};
#[cfg(feature = "memory-cache")]
pub use hot_cache::HotCache;
pub use identity::{AppIdentity, CredentialConfig, TenantPolicy};
#[cfg(feature = "memory-cache")]
pub use memory_cache::MemoryTokenCache;
pub use seams::{
    AuthError, LoginStateStore, PendingLogin, SeamError, SecretStore, StoreError, TokenCache,
    TokenExchanger, TokenValidator,
};
pub use secret::Secret;
pub use token::{AccessToken, Target, ValidatedToken};

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
