//! Validation of Microsoft Entra ID access tokens and ID tokens.

mod config;
mod error;
mod keys;
mod validator;

pub use config::{AcceptedVersions, Algorithm, Match, Options, TenantPolicy, ValidatorBuilder};
pub use error::{Error, JwksError, Result};
pub use validator::Validator;
