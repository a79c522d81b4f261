//! Explains Microsoft Entra ID tokens, AADSTS errors and app configurations:
//! decodes tokens without trusting them, runs the real validator with the app's
//! settings and says which rule refuses a token and what to change.
//!
//! The `entra-doctor` binary is a thin layer over these functions:
//!
//! ```text
//! entra-doctor token <JWT | ->   [--config app.json] [--show-pii] [--json]
//! entra-doctor error <AADSTS code | error JSON | redirect URL | ->      [--json]
//! entra-doctor check [--obo <token-file>] [--obo-target <resource>] [--config app.json] [--json]
//! ```
//!
//! # Example
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use entra_core::TokenVersion;
//! use entra_doctor::{Config, TokenOptions, Validation, explain_error, explain_token, validate_token};
//! use entra_testkit::{MockEntra, TestUser, TokenSpec};
//!
//! let mock = MockEntra::start().await;
//! let api = mock.default_api();
//! let alice = mock.add_user(TestUser::new("alice@contoso.com"));
//! let v1 = mock.mint(TokenSpec::access(&alice, &api).version(TokenVersion::V1));
//!
//! // What the token says, without trusting it (and without personal claims).
//! let report = explain_token(&v1, &TokenOptions::new().clock(mock.clock()))?;
//! assert_eq!(report.version.as_deref(), Some("1.0"));
//! assert!(!report.to_string().contains("alice@contoso.com"));
//!
//! // What the app's validator says, with its configuration (here: the mock's).
//! let config = Config::from_lookup(|name| match name {
//!     "ENTRA_AUTHORITY" => Some(mock.authority().to_string()),
//!     "ENTRA_CLIENT_ID" => Some(api.client_id.to_string()),
//!     _ => None,
//! });
//! match validate_token(&v1, &config, mock.clock()).await {
//!     Validation::Refused { rule, advice, .. } => {
//!         assert_eq!(rule, "version_not_accepted");
//!         assert!(advice.starts_with("v1 token: the API's accessTokenAcceptedVersion is null"));
//!     }
//!     other => panic!("{other:?}"),
//! }
//!
//! // What an AADSTS code means.
//! let error = explain_error("50076")?;
//! assert_eq!(error.kind, "interaction_required");
//! # Ok(())
//! # }
//! ```
//!
//! # Crate features
//!
//! None: this crate has no optional features.
//!
//! # Security
//!
//! - Tokens are decoded without trusting them, and reported as such; the
//!   signature is never printed. Names, e-mail addresses and user names are
//!   replaced by a placeholder unless [`TokenOptions::show_pii`] is set.
//! - Validation is the real entra-jwks validator (signature, expiry, issuer,
//!   tenant, audience, permissions) built from the app's settings: the doctor
//!   never reports a token as accepted on its own judgement.
//! - Secrets are read into [`entra_core::Secret`] and never printed: a check
//!   shows where a secret came from and its length only.
//! - Inputs are bounded (64 KiB for tokens and error texts, 256 KiB for
//!   discovery documents), network requests time out (10 s) and follow no
//!   redirects, and an On-Behalf-Of try makes one attempt.

mod aadsts;
mod check;
mod config;
mod credential;
mod error;
mod jwt;
mod obo;
mod report;
mod token;
mod validate;

pub use aadsts::{ErrorInput, ErrorReport, explain_error};
pub use check::{CheckOptions, CheckReport, Outcome, Progress, Status, Step, run_check};
pub use config::{Config, Setting, Sourced};
pub use error::{Error, Result};
pub use jwt::{MAX_TOKEN_BYTES, Unverified};
pub use report::{Finding, Severity};
pub use token::{GroupsInfo, HIDDEN, Subject, TokenKind, TokenOptions, TokenReport, explain_token};
pub use validate::{Validation, validate_token};
