//! Helpers shared by the test modules.

use entra_testkit::MockEntra;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use serde_json::Value;

/// Fetches the JWKS at `url`.
pub(crate) async fn fetch_jwks(url: &str) -> Value {
    reqwest::get(url).await.unwrap().json().await.unwrap()
}

/// Validates `token` against the JWKS at `jwks_url` with a plain `jsonwebtoken::decode`
/// (signature, exp, nbf, and the given audience and issuer).
pub(crate) async fn decode_with_jwks(
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
pub(crate) fn peek(token: &str) -> Value {
    jsonwebtoken::dangerous::insecure_decode::<Value>(token).unwrap().claims
}

/// The default tenant's v2 keys URL.
pub(crate) fn keys_url(mock: &MockEntra) -> String {
    mock.authority().v2_keys_url()
}

/// A client that does not follow redirects.
pub(crate) fn no_redirect_client() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// POSTs a form and returns the status and JSON body.
pub(crate) async fn post_form(url: &str, form: &[(&str, String)]) -> (u16, Value) {
    let r = reqwest::Client::new().post(url).form(form).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}
