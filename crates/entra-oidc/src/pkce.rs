//! What the `oauth2` crate does not cover: the OpenID Connect `nonce`.
//!
//! The PKCE verifier and its S256 challenge, and the `state`, come from oauth2
//! (`PkceCodeChallenge::new_random_sha256`, `CsrfToken::new_random_len(32)`),
//! see [`Client::begin_with`](crate::Client::begin_with). oauth2 has no `nonce`
//! (an OpenID Connect parameter, not an OAuth 2.0 one), so it stays here.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::{Error, Result};

/// 32 random bytes (256 bits) from the operating system, base64url without
/// padding (43 characters): an unguessable `nonce`.
pub(crate) fn random_token() -> Result<String> {
    let mut bytes = [0u8; 32];
    aws_lc_rs::rand::fill(&mut bytes).map_err(|_| Error::Random)?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

#[cfg(test)]
mod tests {
    use oauth2::{CsrfToken, PkceCodeChallenge, PkceCodeVerifier};

    use super::*;

    #[test]
    fn oauth2_s256_matches_rfc7636_appendix_b() {
        let verifier = PkceCodeVerifier::new("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk".into());
        let challenge = PkceCodeChallenge::from_code_verifier_sha256(&verifier);
        assert_eq!(challenge.as_str(), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
        assert_eq!(challenge.method().as_str(), "S256");
    }

    #[test]
    fn random_values_are_long_and_distinct() {
        let a = random_token().unwrap();
        let b = random_token().unwrap();
        let (_, v1) = PkceCodeChallenge::new_random_sha256();
        let (_, v2) = PkceCodeChallenge::new_random_sha256();
        let s1 = CsrfToken::new_random_len(32);
        let s2 = CsrfToken::new_random_len(32);
        for (x, y) in [(&a, &b), (v1.secret(), v2.secret()), (s1.secret(), s2.secret())] {
            assert_eq!(x.len(), 43, "256 bits, base64url");
            assert_ne!(x, y);
            assert!(x.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
        }
    }
}
