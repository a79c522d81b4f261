//! Decoding a JWT without trusting it: header and claims only, strictly, and
//! never the signature.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use entra_core::EntraClaims;
use serde_json::{Map, Value};

use crate::{Error, Result};

/// The longest input read as a token (Entra tokens with 200 groups are about 10 KiB).
pub const MAX_TOKEN_BYTES: usize = 64 * 1024;

/// A token's header and claims, decoded but **not verified**: anyone can write
/// such a token. Use it to explain, never to authorize.
///
/// `Debug` shows only routing claims (as [`EntraClaims`] does); the signature is
/// never kept.
#[derive(Clone)]
pub struct Unverified {
    pub(crate) header: Map<String, Value>,
    pub(crate) claims: EntraClaims,
    pub(crate) claim_names: Vec<String>,
}

impl std::fmt::Debug for Unverified {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Unverified")
            .field("alg", &self.alg())
            .field("claims", &self.claims)
            .finish_non_exhaustive()
    }
}

impl Unverified {
    /// Splits and decodes `token` (surrounding whitespace and a `Bearer ` prefix
    /// are ignored). The signature part must be present and base64url, but it is
    /// neither decoded further nor kept.
    ///
    /// # Errors
    /// [`Error::TooLarge`] above [`MAX_TOKEN_BYTES`]; [`Error::Encrypted`] for a
    /// five-part JWE; [`Error::NotAJwt`] for anything else that is not three
    /// unpadded base64url parts with a JSON object header (with `alg`) and JSON
    /// object claims of the Entra types.
    pub fn decode(token: &str) -> Result<Self> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(Error::TooLarge { len: token.len(), max: MAX_TOKEN_BYTES });
        }
        let token = token.trim();
        let token = strip_bearer(token);
        let not = |reason| Error::NotAJwt { reason };
        if token.is_empty() {
            return Err(not("the input is empty"));
        }
        let parts: Vec<&str> = token.split('.').collect();
        match parts.len() {
            3 => {}
            5 => return Err(Error::Encrypted),
            1 => {
                return Err(not(
                    "no `.` separators: an opaque token (tokens for personal Microsoft accounts and some Microsoft APIs are not JWTs), a code, or a secret",
                ));
            }
            _ => return Err(not("a JWT has three parts separated by `.`")),
        }
        for part in &parts {
            if !part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
                return Err(not(
                    "a part holds characters outside base64url (padding `=`, `+`, `/`, spaces or quotes)",
                ));
            }
        }
        let (h64, p64, s64) = (parts[0], parts[1], parts[2]);
        if s64.is_empty() {
            return Err(not("the signature part is empty (an unsigned `alg: none` token)"));
        }
        let header = object(h64).ok_or(not("the header is not base64url-encoded JSON object"))?;
        if !header.get("alg").is_some_and(Value::is_string) {
            return Err(not("the header has no `alg`"));
        }
        let claims_map =
            object(p64).ok_or(not("the payload is not a base64url-encoded JSON object"))?;
        let claim_names = claims_map.keys().cloned().collect();
        let claims: EntraClaims =
            serde_json::from_value(Value::Object(claims_map)).map_err(|_| {
                not("a standard claim has the wrong JSON type (for example `aud` or `exp`)")
            })?;
        Ok(Self { header, claims, claim_names })
    }

    /// The claims. Not verified.
    pub fn claims(&self) -> &EntraClaims {
        &self.claims
    }

    /// The header's `alg`.
    pub fn alg(&self) -> &str {
        self.header_str("alg").unwrap_or("")
    }

    /// A string member of the header (`typ`, `kid`, `x5t`).
    pub fn header_str(&self, name: &str) -> Option<&str> {
        self.header.get(name).and_then(Value::as_str)
    }

    /// Whether the header carries a `nonce`: Entra adds one to tokens for
    /// Microsoft Graph, which only Graph can verify.
    pub fn header_has_nonce(&self) -> bool {
        self.header.contains_key("nonce")
    }

    /// The names of every claim, sorted (their values are not kept here).
    pub fn claim_names(&self) -> &[String] {
        &self.claim_names
    }

    /// Whether the token is for Microsoft Graph (header `nonce`, or `aud` naming Graph).
    pub fn is_for_graph(&self) -> bool {
        self.header_has_nonce() || self.claims.is_for_graph()
    }
}

/// `token` without a leading `Bearer ` (any case).
pub(crate) fn strip_bearer(token: &str) -> &str {
    match token.get(..7) {
        Some(p) if p.eq_ignore_ascii_case("bearer ") => token[7..].trim_start(),
        _ => token,
    }
}

fn object(part: &str) -> Option<Map<String, Value>> {
    let bytes = URL_SAFE_NO_PAD.decode(part).ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &str) -> String {
        URL_SAFE_NO_PAD.encode(s)
    }

    fn jwt(header: &str, claims: &str) -> String {
        format!("{}.{}.c2ln", b64(header), b64(claims))
    }

    #[test]
    fn decodes_header_and_claims() {
        let t = jwt(
            r#"{"alg":"RS256","kid":"k1","nonce":"n"}"#,
            r#"{"ver":"2.0","aud":"a","tid":"t","x":1}"#,
        );
        let u = Unverified::decode(&format!("  Bearer {t}\n")).unwrap();
        assert_eq!(u.alg(), "RS256");
        assert_eq!(u.header_str("kid"), Some("k1"));
        assert!(u.header_has_nonce() && u.is_for_graph());
        assert_eq!(u.claims().ver.as_deref(), Some("2.0"));
        assert_eq!(u.claim_names(), ["aud", "tid", "ver", "x"]);
    }

    #[test]
    fn refuses_garbage_with_a_reason() {
        let ok_h = b64(r#"{"alg":"RS256"}"#);
        let ok_c = b64(r#"{"aud":"a"}"#);
        let cases = [
            String::new(),
            "opaque".to_owned(),
            "a.b".to_owned(),
            format!("{ok_h}.{ok_c}."),
            format!("{ok_h}=.{ok_c}.sig"),
            format!("{}.{ok_c}.sig", b64("[1]")),
            format!("{}.{ok_c}.sig", b64(r#"{"typ":"JWT"}"#)),
            format!("{ok_h}.{}.sig", b64(r#"{"aud":5}"#)),
            format!("{ok_h}.{}.sig", b64("not json")),
            format!("{ok_h}.{ok_c}.s ig"),
        ];
        for c in &cases {
            let e = Unverified::decode(c).unwrap_err();
            assert_eq!(e.code(), "not_a_jwt", "{c}");
        }
        assert!(matches!(Unverified::decode("a.b.c.d.e"), Err(Error::Encrypted)));
        let big = "a".repeat(MAX_TOKEN_BYTES + 1);
        assert!(matches!(Unverified::decode(&big), Err(Error::TooLarge { .. })));
    }

    #[test]
    fn debug_shows_no_personal_claims() {
        let t = jwt(r#"{"alg":"RS256"}"#, r#"{"upn":"alice@contoso.com","tid":"t"}"#);
        let u = Unverified::decode(&t).unwrap();
        assert!(!format!("{u:?}").contains("alice"));
    }
}
