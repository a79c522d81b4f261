//! Tokens passed between the seams: a validated incoming token, a downstream
//! token, and what a downstream token is requested for.

use std::fmt;
use std::sync::{Arc, OnceLock};
use std::time::SystemTime;

use crate::{EntraClaims, Secret};

/// An incoming token that a [`crate::TokenValidator`] has verified: its claims, the
/// raw token (needed as the OBO assertion) and its SHA-256, computed once, the
/// first time it is asked for (validation itself never needs it).
///
/// Cheap to clone (the parts are shared behind an `Arc`), so validators can cache
/// it and hosts can put it in request extensions. There is no public constructor:
/// validators build it through [`crate::dangerous`], tests through `entra-testkit`.
///
/// `Debug` shows only what [`EntraClaims`]'s `Debug` shows; the raw token never prints.
#[derive(Clone)]
pub struct ValidatedToken(Arc<Parts>);

struct Parts {
    claims: EntraClaims,
    raw: Secret,
    sha256: OnceLock<[u8; 32]>,
}

impl ValidatedToken {
    /// Wraps a verified token. Public construction goes through
    /// [`crate::dangerous`], whose name says what skipping the check means.
    pub(crate) fn from_verified(
        raw: Secret,
        claims: EntraClaims,
        sha256: Option<[u8; 32]>,
    ) -> Self {
        let sha256 = sha256.map_or_else(OnceLock::new, OnceLock::from);
        Self(Arc::new(Parts { claims, raw, sha256 }))
    }

    /// The verified claims.
    pub fn claims(&self) -> &EntraClaims {
        &self.0.claims
    }

    /// The raw token. Never log it.
    pub fn raw(&self) -> &Secret {
        &self.0.raw
    }

    /// SHA-256 of the raw token bytes: a cache key that contains no token.
    /// Computed on the first call, then kept.
    pub fn sha256(&self) -> &[u8; 32] {
        use sha2::{Digest, Sha256};
        self.0.sha256.get_or_init(|| Sha256::digest(self.0.raw.expose_secret().as_bytes()).into())
    }

    /// A copy that shares no reference count with `self`: cloning it (and
    /// dropping the clones) writes only the copy's memory. For a per-thread
    /// cache such as [`crate::HotCache`], so that threads answering the same
    /// token do not take turns on one counter. Claims and raw token are copied.
    pub fn unshared(&self) -> Self {
        let sha256 = self.0.sha256.get().copied();
        Self::from_verified(self.0.raw.clone(), self.0.claims.clone(), sha256)
    }

    /// Splits into claims and raw token (cloning them when the token is shared).
    pub fn into_parts(self) -> (EntraClaims, Secret) {
        match Arc::try_unwrap(self.0) {
            Ok(p) => (p.claims, p.raw),
            Err(shared) => (shared.claims.clone(), shared.raw.clone()),
        }
    }
}

impl fmt::Debug for ValidatedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ValidatedToken").field("claims", self.claims()).finish_non_exhaustive()
    }
}

/// A token obtained for a downstream API (by OBO, a code exchange or a refresh).
#[derive(Clone)]
#[non_exhaustive]
pub struct AccessToken {
    /// The bearer token. Never log it.
    pub secret: Secret,
    /// When it stops being valid.
    pub expires_at: SystemTime,
    /// The scopes granted (from the token response's `scope`).
    pub scopes: Vec<String>,
}

impl AccessToken {
    /// A token with its expiry and granted scopes.
    pub fn new(secret: Secret, expires_at: SystemTime, scopes: Vec<String>) -> Self {
        Self { secret, expires_at, scopes }
    }

    /// The `Authorization` header value: `Bearer <token>`. Never log it.
    pub fn bearer_header(&self) -> Secret {
        Secret::new(format!("Bearer {}", self.secret.expose_secret()))
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken")
            .field("secret", &self.secret)
            .field("expires_at", &self.expires_at)
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

/// What a downstream token is requested for: a resource (whose `.default` scope is
/// built by the exchanger) or an explicit list of scopes of one resource.
///
/// ```
/// use entra_core::Target;
/// assert_eq!(Target::from("https://graph.microsoft.com"), Target::Resource("https://graph.microsoft.com".into()));
/// assert_eq!(Target::from(["User.Read", "Mail.Read"]), Target::Scopes(vec!["User.Read".into(), "Mail.Read".into()]));
/// ```
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub enum Target {
    /// A resource identifier: `https://graph.microsoft.com`, `api://<app-id>`, a GUID.
    Resource(String),
    /// Explicit scopes, all of one resource.
    Scopes(Vec<String>),
}

impl From<&str> for Target {
    fn from(s: &str) -> Self {
        Self::Resource(s.to_owned())
    }
}

impl From<String> for Target {
    fn from(s: String) -> Self {
        Self::Resource(s)
    }
}

impl From<&String> for Target {
    fn from(s: &String) -> Self {
        Self::Resource(s.clone())
    }
}

impl From<Vec<String>> for Target {
    fn from(v: Vec<String>) -> Self {
        Self::Scopes(v)
    }
}

impl From<&[&str]> for Target {
    fn from(v: &[&str]) -> Self {
        Self::Scopes(v.iter().map(|s| (*s).to_owned()).collect())
    }
}

impl<const N: usize> From<[&str; N]> for Target {
    fn from(v: [&str; N]) -> Self {
        Self::Scopes(v.iter().map(|s| (*s).to_owned()).collect())
    }
}

impl From<&Self> for Target {
    fn from(t: &Self) -> Self {
        t.clone()
    }
}
