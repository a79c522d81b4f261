//! Helpers shared by the test modules.

use entra_testkit::MockEntra;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use serde_json::Value;

/// Fetches the JWKS at `url`.
pub async fn fetch_jwks(url: &str) -> Value {
    reqwest::get(url).await.unwrap().json().await.unwrap()
}

/// Validates `token` against the JWKS at `jwks_url` with a plain `jsonwebtoken::decode`
/// (signature, exp, nbf, and the given audience and issuer).
pub async fn decode_with_jwks(
    token: &str,
    jwks_url: &str,
    aud: &str,
    iss: &str,
) -> jsonwebtoken::errors::Result<Value> {
    let jwks = fetch_jwks(jwks_url).await;
    let kid = decode_header(token)?.kid.unwrap_or_default();
    let Some(jwk) = jwks["keys"].as_array().unwrap().iter().find(|k| k["kid"] == kid.as_str())
    else {
        return Err(jsonwebtoken::errors::ErrorKind::InvalidKeyFormat.into());
    };
    let key =
        DecodingKey::from_rsa_components(jwk["n"].as_str().unwrap(), jwk["e"].as_str().unwrap())?;
    let mut v = Validation::new(Algorithm::RS256);
    v.set_audience(&[aud]);
    v.set_issuer(&[iss]);
    Ok(decode::<Value>(token, &key, &v)?.claims)
}

/// Decodes the claims without any check.
pub fn peek(token: &str) -> Value {
    jsonwebtoken::dangerous::insecure_decode::<Value>(token).unwrap().claims
}

/// The default tenant's v2 keys URL.
pub fn keys_url(mock: &MockEntra) -> String {
    mock.authority().v2_keys_url()
}
