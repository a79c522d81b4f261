//! Building trusted values without the check that makes them trusted.
//!
//! Everything downstream of a [`crate::TokenValidator`] (OBO, team mapping, the
//! host's handlers) trusts a [`ValidatedToken`]: its claims are taken as proven.
//! The functions here build one without verifying anything. They exist for the
//! code that *did* verify the token by other means (a validator implementing
//! [`crate::TokenValidator`]) and for tests; calling them on a token that was not
//! verified lets anyone who can send a request choose its user.
//!
//! Tests should prefer `entra-testkit`, whose `validated_token` helper mints a
//! token and validates it with `entra-jwks` against the mocked Entra.

use crate::{EntraClaims, Secret, ValidatedToken};

/// Wraps `raw` and `claims` as a validated token **without validating anything**
/// (its SHA-256 is computed when first asked for).
///
/// Only for a token whose signature, issuer, audience and lifetime the caller has
/// already verified; see the [module docs](self).
pub fn assume_validated(raw: Secret, claims: EntraClaims) -> ValidatedToken {
    ValidatedToken::from_verified(raw, claims, None)
}

/// As [`assume_validated`], with the SHA-256 of `raw` the caller already
/// computed.
///
/// `sha256` must be the SHA-256 of `raw`'s bytes: caches key on it. (A wrong
/// one cannot make entra-obo answer with another user's token: its cache keys
/// and entries are also bound to the user's `tid` and `oid`.)
pub fn assume_validated_with_sha256(
    raw: Secret,
    claims: EntraClaims,
    sha256: [u8; 32],
) -> ValidatedToken {
    ValidatedToken::from_verified(raw, claims, Some(sha256))
}
