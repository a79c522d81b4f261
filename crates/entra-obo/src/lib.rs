//! Microsoft Entra ID On-Behalf-Of: exchange a validated user token for a token to
//! a downstream API, as the same user.
//!
//! # Crate features
//!
//! None: this crate has no optional features.
//!
//! # Security
//!
//! - App-only tokens are refused before any request.
//! - Cache keys hold the SHA-256 of the user token, never the token.
//! - Errors are never cached; a request carrying a claims challenge neither reads
//!   nor fills the cache.
//! - No token, secret or assertion appears in `Display`, `Debug` or logs.

mod cache;
mod challenge;
mod config;
mod error;
mod obo;
mod request;
mod scope;

pub use cache::MemoryTokenCache;
pub use challenge::ClaimsChallenge;
pub use config::{ClientAuthMethod, DownstreamApi, OboConfig};
pub use error::{Error, Result};
pub use obo::{Obo, OboBuilder};
pub use scope::Scopes;
