//! Arbitrary bytes as access tokens and ID tokens, against validators whose
//! keys are in memory and whose clock stands still. Nothing may panic, no
//! validation may try to fetch keys, and an accepted token (a seed, or a lucky
//! mutation) must satisfy every configured rule (see `entra_fuzz::check_accepted`).
//!
//! Input: one byte choosing the validator and the kind of token, then the token.
#![no_main]

use entra_fuzz::{Kind, validate_and_check};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&choice, rest)) = data.split_first() else { return };
    let token = String::from_utf8_lossy(rest);
    let kind = if choice & 0x80 == 0 { Kind::Access } else { Kind::Id };
    validate_and_check(usize::from(choice & 0x7f), kind, &token);
});
