//! Shared vocabulary for the entra-* crates: clouds, tenants and authorities,
//! Entra token claims, AADSTS errors with remedies, secrets, client credentials,
//! time, and the seam traits the other crates implement.
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
//! # Crate features
//!
//! None: this crate has no optional features.
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

mod authority;
mod certificate;
mod claims;
mod clock;
mod cloud;
mod credential;
pub mod dangerous;
mod entra_error;
mod error;
mod federated;
mod guid;
mod seams;
mod secret;
mod token;

pub use authority::{Authority, IssuerTemplate, TokenVersion};
pub use certificate::{AssertionAlgorithm, CertificateCredential};
pub use claims::{Audience, ClaimSource, EntraClaims, GRAPH_APP_ID, Groups, IdentityKey};
pub use clock::{Clock, ManualClock, SystemClock};
pub use cloud::{Cloud, CustomCloud, Tenant};
pub use credential::{
    CLIENT_ASSERTION_TYPE, ClientAssertionProvider, ClientAuth, ClientCredential, SecretPlacement,
};
pub use entra_error::{EntraErrorResponse, ErrorKind};
pub use error::{Error, shorten_untrusted};
pub use federated::{AZURE_FEDERATED_TOKEN_FILE, BoxError, FileAssertion, FnAssertion};
pub use guid::{ClientId, TenantId};
pub use seams::{
    AuthError, LoginStateStore, PendingLogin, SeamError, StoreError, TokenCache, TokenExchanger,
    TokenValidator,
};
pub use secret::Secret;
pub use token::{AccessToken, Target, ValidatedToken};

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
