//! Random values, hashes of secrets used as store keys, PKCE and constant-time
//! comparison: the facade's few uses of aws-lc-rs.

use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::{Error, Result};

/// 256 random bits, base64url without padding (43 characters).
pub(crate) fn random_token() -> Result<String> {
    let mut bytes = [0u8; 32];
    SystemRandom::new().fill(&mut bytes).map_err(|_| Error::Random)?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// base64url(SHA-256(`value`)): the store key of a secret, and the PKCE S256
/// transform.
pub(crate) fn sha256_b64(value: &str) -> String {
    URL_SAFE_NO_PAD.encode(digest(&SHA256, value.as_bytes()))
}

/// Equality in constant time (for equal lengths).
pub(crate) fn same(a: &str, b: &str) -> bool {
    entra_core::constant_time::eq(a.as_bytes(), b.as_bytes())
}

/// Whether `s` is a PKCE verifier or S256 challenge by RFC 7636's syntax: 43 to
/// 128 characters of `[A-Za-z0-9-._~]`.
pub(crate) fn is_pkce_syntax(s: &str) -> bool {
    (43..=128).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// Whether `verifier` matches the S256 `challenge`.
pub(crate) fn pkce_matches(verifier: &str, challenge: &str) -> bool {
    is_pkce_syntax(verifier) && same(&sha256_b64(verifier), challenge)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_s256_of_rfc_7636_appendix_b() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert_eq!(sha256_b64(verifier), challenge);
        assert!(pkce_matches(verifier, challenge));
        assert!(!pkce_matches("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXj", challenge));
        assert!(!pkce_matches("short", challenge));
        assert!(!is_pkce_syntax(&"a".repeat(129)));
        assert!(!is_pkce_syntax(&format!("{}+", "a".repeat(43))));
        assert_ne!(random_token().unwrap(), random_token().unwrap());
        assert_eq!(random_token().unwrap().len(), 43);
    }
}
