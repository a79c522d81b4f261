//! Validly signed tokens with arbitrary claims: the target signs the
//! fuzzer's payload bytes (and a header it picks) with the trusted key, so every
//! check after the signature is reached. The property: whatever a validator
//! accepts satisfies every rule it was configured with (issuer and tenant,
//! audience, `exp`/`nbf` with the leeway against the fixed clock, required
//! scopes and roles, the app-only policy, the version, never a Graph token, the
//! nonce of ID tokens), checked by `entra_fuzz::check_accepted`, which reads
//! the token on its own. A broken rule is a panic, which libFuzzer reports.
//!
//! Input: byte 0 picks the validator, byte 1 the header, byte 2 the kind of
//! token; the rest is the payload, signed as it is (JSON or not).
#![no_main]

use entra_fuzz::{KID, KID_PLAIN, KID_RSA, Kind, sign, validate_and_check};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};

fn header(flags: u8) -> Vec<u8> {
    let mut h = Map::new();
    let alg = if flags & 0x20 == 0 { "ES256" } else { "RS256" };
    h.insert("alg".into(), alg.into());
    let kid = [KID, KID_PLAIN, KID_RSA, "unknown"][usize::from(flags & 3)];
    let name = if flags & 4 == 0 { "kid" } else { "x5t" };
    h.insert(name.into(), kid.into());
    if flags & 8 != 0 {
        h.insert("typ".into(), "JWT".into());
    }
    if flags & 0x10 != 0 {
        // Tokens for Microsoft Graph carry a nonce in the header.
        h.insert("nonce".into(), "graph".into());
    }
    if flags & 0x40 != 0 {
        h.insert("crit".into(), Value::Array(vec!["exp".into()]));
    }
    serde_json::to_vec(&Value::Object(h)).expect("header")
}

fuzz_target!(|data: &[u8]| {
    let [setup, flags, mode, payload @ ..] = data else { return };
    let token = sign(&header(*flags), payload);
    let kind = if mode & 1 == 0 { Kind::Access } else { Kind::Id };
    let accepted = validate_and_check(usize::from(*setup), kind, &token);
    if accepted && kind == Kind::Access && mode & 2 != 0 {
        // Again: answered from the cache of validated tokens, same rules.
        assert!(validate_and_check(usize::from(*setup), kind, &token), "cache hit refused");
    }
});
