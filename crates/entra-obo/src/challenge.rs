//! The `WWW-Authenticate` claims challenge a server sends back to its client.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// A claims challenge: what a resource server answers (with HTTP 401) when
/// Entra needs the user to satisfy a Conditional Access policy or MFA, so that the
/// client can get a new token carrying the requested claims.
///
/// ```
/// use entra_obo::ClaimsChallenge;
/// let claims = r#"{"access_token":{"acrs":{"essential":true,"value":"c1"}}}"#;
/// let header = ClaimsChallenge::new(claims)
///     .authorization_uri("https://login.microsoftonline.com/common/oauth2/authorize")
///     .header_value();
/// assert_eq!(
///     header,
///     "Bearer authorization_uri=\"https://login.microsoftonline.com/common/oauth2/authorize\", \
///      error=\"insufficient_claims\", \
///      claims=\"eyJhY2Nlc3NfdG9rZW4iOnsiYWNycyI6eyJlc3NlbnRpYWwiOnRydWUsInZhbHVlIjoiYzEifX19\""
/// );
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct ClaimsChallenge {
    claims: String,
    realm: Option<String>,
    authorization_uri: Option<String>,
    error_description: Option<String>,
}

impl ClaimsChallenge {
    /// A challenge for `claims` (the JSON text Entra returned in its error).
    pub fn new(claims: impl Into<String>) -> Self {
        Self {
            claims: claims.into(),
            realm: None,
            authorization_uri: None,
            error_description: None,
        }
    }

    /// Adds `realm="..."`. Defaults to none.
    pub fn realm(mut self, realm: impl Into<String>) -> Self {
        self.realm = Some(realm.into());
        self
    }

    /// Adds `authorization_uri="..."`, where the client signs the user in again.
    /// Defaults to none.
    pub fn authorization_uri(mut self, uri: impl Into<String>) -> Self {
        self.authorization_uri = Some(uri.into());
        self
    }

    /// Adds `error_description="..."`. Defaults to none.
    pub fn error_description(mut self, description: impl Into<String>) -> Self {
        self.error_description = Some(description.into());
        self
    }

    /// The claims JSON.
    pub fn claims(&self) -> &str {
        &self.claims
    }

    /// The claims JSON, base64-encoded as the header carries it.
    pub fn claims_base64(&self) -> String {
        STANDARD.encode(self.claims.as_bytes())
    }

    /// The `WWW-Authenticate` header value:
    /// `Bearer [realm="...", ][authorization_uri="...", ]error="insufficient_claims", claims="<base64>"`.
    pub fn header_value(&self) -> String {
        let mut out = String::from("Bearer ");
        let mut param = |name: &str, value: &str| {
            if !out.ends_with(' ') {
                out.push_str(", ");
            }
            out.push_str(name);
            out.push_str("=\"");
            for c in value.chars().filter(|c| !c.is_control()) {
                if c == '"' || c == '\\' {
                    out.push('\\');
                }
                out.push(c);
            }
            out.push('"');
        };
        if let Some(realm) = &self.realm {
            param("realm", realm);
        }
        if let Some(uri) = &self.authorization_uri {
            param("authorization_uri", uri);
        }
        param("error", "insufficient_claims");
        if let Some(d) = &self.error_description {
            param("error_description", d);
        }
        param("claims", &self.claims_base64());
        out
    }

    /// Reads the `claims` parameter of a downstream API's `WWW-Authenticate`
    /// header (for example Microsoft Graph's continuous access evaluation
    /// challenge), to pass to [`crate::Obo::exchange_with_claims`]. `None` when
    /// the header has no `claims` or it is not base64 of UTF-8.
    pub fn from_header_value(header: &str) -> Option<Self> {
        let start = header.find("claims=\"")? + "claims=\"".len();
        let value = &header[start..];
        let end = value.find('"')?;
        let bytes = STANDARD.decode(value[..end].trim()).ok()?;
        String::from_utf8(bytes).ok().map(Self::new)
    }
}

impl fmt::Debug for ClaimsChallenge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClaimsChallenge")
            .field("realm", &self.realm)
            .field("authorization_uri", &self.authorization_uri)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trip_and_quoting() {
        let c = ClaimsChallenge::new(r#"{"access_token":{"nbf":{"essential":true,"value":"1"}}}"#)
            .realm("a \"quoted\" realm")
            .error_description("step up");
        let h = c.header_value();
        assert!(
            h.starts_with("Bearer realm=\"a \\\"quoted\\\" realm\", error=\"insufficient_claims\""),
            "{h}"
        );
        assert!(h.contains("error_description=\"step up\""));
        assert_eq!(ClaimsChallenge::from_header_value(&h).unwrap().claims(), c.claims());
        assert!(ClaimsChallenge::from_header_value("Bearer error=\"invalid_token\"").is_none());
        assert!(ClaimsChallenge::from_header_value("Bearer claims=\"%%%\"").is_none());
        assert!(!format!("{c:?}").contains("nbf"));
    }
}
