//! JWKS documents through entra-jwks' private parser (as fetched key sets are
//! parsed), then a signature check with every usable key and algorithm.
//! Nothing may panic.
//!
//! Input: the document; after a NUL byte, the base64url signature to check.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (doc, sig) = match data.iter().rposition(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &b""[..]),
    };
    let sig = String::from_utf8_lossy(sig);
    if let Some(kids) = entra_jwks::fuzzing::parse_jwks_and_verify(doc, b"e30.e30", &sig) {
        let mut unique = kids.clone();
        unique.dedup();
        assert_eq!(unique, kids, "one key per kid");
    }
});
