//! Helpers shared by the integration tests.

use entra_core::{EntraClaims, IdentityKey, Secret, ValidatedToken};
use serde_json::{Value, json};

pub(crate) const TID: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
pub(crate) const ALICE: &str = "00000000-0000-0000-0000-0000000000aa";
pub(crate) const G_ENG: &str = "6f1d0f2a-1111-4a4a-9b9b-000000000001";
pub(crate) const G_OPS: &str = "6f1d0f2a-1111-4a4a-9b9b-000000000002";

/// A validated token built from claims (the tests of this crate do not check
/// signatures; entra-jwks does).
pub(crate) fn token(claims: Value) -> ValidatedToken {
    let mut base = json!({"tid": TID, "oid": ALICE, "scp": "access_as_user", "ver": "2.0"});
    if let (Some(b), Some(c)) = (base.as_object_mut(), claims.as_object()) {
        for (k, v) in c {
            b.insert(k.clone(), v.clone());
        }
    }
    let claims: EntraClaims = serde_json::from_value(base).unwrap();
    entra_core::dangerous::assume_validated(Secret::new("user-token"), claims)
}

pub(crate) fn alice() -> IdentityKey {
    token(json!({})).claims().identity_key().unwrap()
}
