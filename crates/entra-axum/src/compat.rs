//! TEMPORARY: the erased seams of entra-core (branch `seams`), until it is merged.
//! Remove this file and import the same names from `entra_core` afterwards.
#![allow(missing_docs, unreachable_pub, missing_debug_implementations)]

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
pub use entra_core::AuthError;
use entra_core::{AccessToken, Target, ValidatedToken};

pub struct SeamError(Box<dyn AuthError>);

impl SeamError {
    pub fn new(e: impl AuthError) -> Self {
        Self(Box::new(e))
    }
    pub fn get_ref(&self) -> &(dyn AuthError + 'static) {
        &*self.0
    }
    pub fn code(&self) -> &'static str {
        self.get_ref().code()
    }
    pub fn is_config(&self) -> bool {
        self.get_ref().is_config()
    }
    pub fn claims_challenge(&self) -> Option<&str> {
        self.get_ref().claims_challenge()
    }
    pub fn is_transient(&self) -> bool {
        self.0.is_transient()
    }
    pub fn is_unauthorized(&self) -> bool {
        self.0.is_unauthorized()
    }
}

impl fmt::Debug for SeamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}
impl fmt::Display for SeamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}
impl std::error::Error for SeamError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

pub trait AuthErrorExt {
    fn code(&self) -> &'static str;
    fn is_config(&self) -> bool;
    fn claims_challenge(&self) -> Option<&str>;
    fn retry_after(&self) -> Option<Duration>;
}

impl AuthErrorExt for dyn AuthError {
    fn code(&self) -> &'static str {
        "unknown"
    }
    fn is_config(&self) -> bool {
        false
    }
    fn claims_challenge(&self) -> Option<&str> {
        let e: &(dyn std::error::Error + 'static) = self;
        e.downcast_ref::<entra_obo::Error>().and_then(entra_obo::Error::claims)
    }
    fn retry_after(&self) -> Option<Duration> {
        None
    }
}

#[async_trait]
pub trait TokenValidator: Send + Sync {
    async fn validate(&self, token: &str) -> Result<ValidatedToken, SeamError>;
}

#[async_trait]
impl TokenValidator for entra_jwks::Validator {
    async fn validate(&self, token: &str) -> Result<ValidatedToken, SeamError> {
        entra_jwks::Validator::validate(self, token).await.map_err(SeamError::new)
    }
}

#[async_trait]
pub trait TokenExchanger: Send + Sync {
    async fn exchange(
        &self,
        user_token: &ValidatedToken,
        target: &Target,
    ) -> Result<AccessToken, SeamError>;
}

#[async_trait]
impl TokenExchanger for entra_obo::Obo {
    async fn exchange(
        &self,
        user_token: &ValidatedToken,
        target: &Target,
    ) -> Result<AccessToken, SeamError> {
        self.exchange_on_behalf_of(user_token, target.clone()).await.map_err(SeamError::new)
    }
}

pub mod dangerous {
    use entra_core::{EntraClaims, Secret, ValidatedToken};
    pub fn assume_validated(raw: Secret, claims: EntraClaims) -> ValidatedToken {
        ValidatedToken::new(raw, claims)
    }
}
