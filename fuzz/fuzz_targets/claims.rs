//! Claims (`entra_core::EntraClaims`) from JSON bytes, as the validator reads a
//! token's payload. Every accessor must work on whatever parses, and the
//! claims must survive a round trip: `parse(serialize(c)) == c` for every claim it
//! reads (unknown claims keep serde_json's float precision).
#![no_main]

use entra_core::EntraClaims;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(claims) = serde_json::from_slice::<EntraClaims>(data) else { return };
    let _ = (claims.version(), claims.identity_key(), claims.tenant_id());
    let _ = (claims.caller_app_id(), claims.scopes(), claims.roles(), claims.groups());
    let _ = (claims.is_app_only(), claims.is_for_graph(), claims.username());
    for s in claims.scopes() {
        assert!(claims.has_scope(s), "a listed scope is held");
    }
    for r in claims.roles() {
        assert!(claims.has_role(r), "a listed role is held");
    }
    let _ = format!("{claims:?}");
    let round_trip = |c: &EntraClaims| -> EntraClaims {
        let text = serde_json::to_vec(c).expect("parsed claims serialize");
        serde_json::from_slice(&text).expect("serialized claims parse")
    };
    let back = round_trip(&claims);
    // Unknown claims are kept as `serde_json::Value`s, whose floats serde_json
    // parses fast rather than exactly (its `float_roundtrip` feature is off): a
    // huge number may move in its last digits at each round trip. The claims this
    // crate reads must not change.
    let (mut known, mut known_back) = (claims.clone(), back.clone());
    known.extra.clear();
    known_back.extra.clear();
    assert!(known_back == known, "round trip changed the claims");
});
