//! Entry points for the fuzz targets of the repository's `fuzz/` directory
//! (feature `fuzzing`): thin wrappers that reach the private JWKS parser and
//! build a validator whose keys are given in memory. Hidden from the docs; not a
//! stable API.

use std::sync::Arc;

use crate::config::{Algorithm, ValidatorBuilder};
use crate::keys::parse_jwks;

/// Parses `body` as the key stores parse a fetched JWKS, with every algorithm
/// allowed, then verifies `signature_b64` over `message` with every usable key
/// and algorithm. Returns the `kid`s of the usable signing keys (sorted), or
/// `None` when `body` is not a JWKS document.
pub fn parse_jwks_and_verify(
    body: &[u8],
    message: &[u8],
    signature_b64: &str,
) -> Option<Vec<String>> {
    let keys = parse_jwks(body, &Algorithm::ALL).ok()?;
    for key in keys.values() {
        for alg in Algorithm::ALL {
            // Every outcome is fine here: the point is that none panics.
            let _verified = key.verify(alg, message, signature_b64).is_ok();
        }
    }
    let mut kids: Vec<String> = keys.into_keys().collect();
    kids.sort_unstable();
    Some(kids)
}

/// `builder` with its signing keys parsed from the JWKS document `jwks` (for
/// the builder's algorithms: set them first) instead of fetched. The validator
/// it builds never fetches keys while its clock stands still (a
/// [`ManualClock`](entra_core::ManualClock) that is not advanced): a token with
/// an unknown `kid` gets [`Error::UnknownKeyId`](crate::Error::UnknownKeyId).
///
/// # Errors
/// When `jwks` is not a JWKS document.
pub fn with_keys(
    mut builder: ValidatorBuilder,
    jwks: &[u8],
) -> Result<ValidatorBuilder, serde_json::Error> {
    let keys = parse_jwks(jwks, &builder.options.algorithms)?;
    builder.options.preloaded_keys = Some(Arc::new(keys));
    Ok(builder)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::task::{Context, Poll, Waker};

    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
    use entra_core::{Authority, Cloud, ManualClock, Tenant};

    use super::*;
    use crate::{Error, Validator};

    const TID: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    const CLIENT: &str = "6e74172b-be56-4843-9ff4-e66a39bb12e3";
    const NOW: i64 = 1_700_000_000;

    /// Polls once: a validator with keys in memory never waits on the network.
    fn now_or_never<F: Future>(f: F) -> F::Output {
        let mut f = std::pin::pin!(f);
        match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(out) => out,
            Poll::Pending => panic!("the validator waited (a key fetch?)"),
        }
    }

    struct Key {
        pair: EcdsaKeyPair,
        jwks: String,
    }

    fn new_key() -> Key {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let pair =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref()).unwrap();
        let point = pair.public_key().as_ref();
        let (x, y) = (B64.encode(&point[1..33]), B64.encode(&point[33..]));
        let jwks = format!(
            r#"{{"keys":[{{"kty":"EC","kid":"k1","use":"sig","crv":"P-256","x":"{x}","y":"{y}"}}]}}"#
        );
        Key { pair, jwks }
    }

    fn sign(key: &Key, kid: &str, claims: &serde_json::Value) -> String {
        let header = B64.encode(format!(r#"{{"alg":"ES256","kid":"{kid}"}}"#));
        let signed = format!("{header}.{}", B64.encode(claims.to_string()));
        let sig = key.pair.sign(&SystemRandom::new(), signed.as_bytes()).unwrap();
        format!("{signed}.{}", B64.encode(sig.as_ref()))
    }

    fn validator(key: &Key) -> Validator {
        let authority = Authority::new(Cloud::Public, Tenant::parse(TID).unwrap());
        let builder = Validator::builder(authority, CLIENT.parse().unwrap())
            .algorithms([Algorithm::ES256])
            .clock(Arc::new(ManualClock::at_unix(NOW as u64)));
        with_keys(builder, key.jwks.as_bytes()).unwrap().build().unwrap()
    }

    fn claims() -> serde_json::Value {
        serde_json::json!({
            "ver": "2.0", "tid": TID, "aud": CLIENT, "azp": CLIENT, "scp": "read",
            "iss": format!("https://login.microsoftonline.com/{TID}/v2.0"),
            "exp": NOW + 600, "nbf": NOW - 60,
        })
    }

    #[test]
    fn validates_with_keys_in_memory_and_never_fetches() {
        let key = new_key();
        let v = validator(&key);
        now_or_never(v.validate(&sign(&key, "k1", &claims()))).unwrap();
        let unknown = now_or_never(v.validate(&sign(&key, "k2", &claims())));
        assert!(matches!(unknown, Err(Error::UnknownKeyId { .. })), "{unknown:?}");
        let stranger = new_key(); // another secret key, signing under kid `k1`
        let forged = now_or_never(v.validate(&sign(&stranger, "k1", &claims())));
        assert!(matches!(forged, Err(Error::InvalidSignature)), "{forged:?}");
        assert_eq!(v.key_fetches(), 0);
        assert!(
            with_keys(Validator::builder(v.authority().clone(), v.client_id().clone()), b"[]")
                .is_err()
        );
    }

    #[test]
    fn jwks_parser_entry_point() {
        let key = new_key();
        let kids = parse_jwks_and_verify(key.jwks.as_bytes(), b"m", "AAAA").unwrap();
        assert_eq!(kids, ["k1"]);
        assert!(parse_jwks_and_verify(b"{\"keys\":5}", b"m", "").is_none());
    }
}
