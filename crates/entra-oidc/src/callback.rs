//! The parameters Entra sends back to the redirect URI.

use std::fmt;

use entra_core::{EntraErrorResponse, Secret};
use serde::Deserialize;

use crate::{Error, Result};

/// The largest query string or form body accepted, in bytes. Real callbacks are a
/// few kilobytes at most.
const MAX_INPUT: usize = 16 * 1024;

/// The longest `error` value honoured. OAuth error codes are short
/// (`access_denied`, `interaction_required`, ...).
const MAX_ERROR_LEN: usize = 64;

/// The longest `error_description` kept (and logged), in characters.
pub(crate) const MAX_DESCRIPTION_LEN: usize = 256;

/// Whether `c` is in the character set RFC 6749 allows in `error` and
/// `error_description` (`%x20-21 / %x23-5B / %x5D-7E`: printable ASCII without
/// `"` and `\`).
fn is_oauth_error_char(c: char) -> bool {
    matches!(c, '\x20'..='\x21' | '\x23'..='\x5B' | '\x5D'..='\x7E')
}

/// Whether `error` is a well-formed OAuth error code: not empty, at most
/// [`MAX_ERROR_LEN`] bytes, RFC 6749 characters only.
fn is_valid_error_code(error: &str) -> bool {
    !error.is_empty() && error.len() <= MAX_ERROR_LEN && error.chars().all(is_oauth_error_char)
}

/// `description` cut to [`MAX_DESCRIPTION_LEN`] characters, with every character
/// outside the RFC 6749 set (line breaks, quotes, non-ASCII) replaced by a space,
/// so that it is safe to log.
pub(crate) fn sanitize_description(description: &str) -> String {
    description
        .chars()
        .take(MAX_DESCRIPTION_LEN)
        .map(|c| if is_oauth_error_char(c) { c } else { ' ' })
        .collect()
}

/// What Entra sent to the redirect URI: a `code` and `state` on success, an
/// `error` (with `error_description`) and `state` on failure.
///
/// Build it from the query string (`response_mode=query`, the default) with
/// [`CallbackParams::from_query`], from the POST body (`response_mode=form_post`)
/// with [`CallbackParams::from_form`], or let a framework deserialize it (it
/// implements [`Deserialize`]). Unknown parameters such as `session_state` are
/// ignored. `Debug` never prints the code.
///
/// ```
/// use entra_oidc::CallbackParams;
/// let p = CallbackParams::from_query("code=0.AXo...&state=abc&session_state=x")?;
/// assert_eq!(p.state.as_deref(), Some("abc"));
/// assert!(p.code.is_some() && p.error.is_none());
/// assert!(!format!("{p:?}").contains("AXo"));
/// # Ok::<(), entra_oidc::Error>(())
/// ```
#[derive(Clone, Default, Deserialize)]
#[non_exhaustive]
pub struct CallbackParams {
    /// The authorization code. Never log it.
    #[serde(default)]
    pub code: Option<Secret>,
    /// The `state` sent with the authorization request.
    #[serde(default)]
    pub state: Option<String>,
    /// The OAuth error code, when the sign-in failed (`access_denied`, ...).
    /// Untrusted input: anyone can put it in a URL. See
    /// [`CallbackParams::entra_error`].
    #[serde(default)]
    pub error: Option<String>,
    /// Entra's description of the error, starting with `AADSTSnnnnn:`
    /// (untrusted input, like `error`).
    #[serde(default)]
    pub error_description: Option<String>,
    /// The issuer of the authorization response (RFC 9207), when the
    /// authority sends one; [`Client::complete`](crate::Client::complete)
    /// compares it with the expected issuer before redeeming the code.
    #[serde(default)]
    pub iss: Option<String>,
}

impl CallbackParams {
    /// A successful callback (mostly for tests and custom transports).
    pub fn new(code: impl Into<Secret>, state: impl Into<String>) -> Self {
        Self { code: Some(code.into()), state: Some(state.into()), ..Self::default() }
    }

    /// Parses a query string (with or without the leading `?`).
    ///
    /// # Errors
    /// [`Error::InvalidCallback`] when the input is too large, is not
    /// `application/x-www-form-urlencoded`, or repeats a parameter (a sign of
    /// parameter pollution).
    pub fn from_query(query: &str) -> Result<Self> {
        Self::parse(query.strip_prefix('?').unwrap_or(query).as_bytes())
    }

    /// Parses a `form_post` body (`application/x-www-form-urlencoded`).
    ///
    /// # Errors
    /// As [`CallbackParams::from_query`].
    pub fn from_form(body: &[u8]) -> Result<Self> {
        Self::parse(body)
    }

    /// Parses the query of a full callback URL, such as the `Location` header
    /// of Entra's redirect.
    ///
    /// # Errors
    /// As [`CallbackParams::from_query`]; also when `url` is not a URL.
    pub fn from_url(url: &str) -> Result<Self> {
        let parsed = url::Url::parse(url)
            .map_err(|_| Error::InvalidCallback { reason: "the callback url is not a url" })?;
        Self::from_query(parsed.query().unwrap_or(""))
    }

    fn parse(input: &[u8]) -> Result<Self> {
        if input.len() > MAX_INPUT {
            return Err(Error::InvalidCallback { reason: "the parameters are too large" });
        }
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(input).map_err(|_| {
            Error::InvalidCallback { reason: "the parameters are not form-urlencoded" }
        })?;
        let mut out = Self::default();
        for (name, value) in pairs {
            let duplicate = match name.as_str() {
                "code" => out.code.replace(Secret::new(value)).is_some(),
                "state" => out.state.replace(value).is_some(),
                "error" => out.error.replace(value).is_some(),
                "error_description" => out.error_description.replace(value).is_some(),
                "iss" => out.iss.replace(value).is_some(),
                _ => false,
            };
            if duplicate {
                return Err(Error::InvalidCallback { reason: "a parameter is repeated" });
            }
        }
        Ok(out)
    }

    /// Entra's error, when the callback carries a well-formed one: an `error` of
    /// at most 64 characters from the RFC 6749 set (printable ASCII without `"`
    /// and `\`), with `error_description` cut to 256 characters and stripped of
    /// characters outside that set. `None` when there is no `error` or it is
    /// malformed.
    ///
    /// Anyone can send a browser to the redirect URI with an `error`: only trust
    /// it for a callback whose `state` names a pending sign-in, as
    /// [`Client::complete`](crate::Client::complete) does.
    pub fn entra_error(&self) -> Option<EntraErrorResponse> {
        self.checked_entra_error().ok().flatten()
    }

    /// Entra's error, checked as in [`CallbackParams::entra_error`].
    ///
    /// # Errors
    /// [`Error::InvalidCallback`] when `error` is present but malformed.
    pub(crate) fn checked_entra_error(&self) -> Result<Option<EntraErrorResponse>> {
        let Some(error) = self.error.as_deref() else {
            return Ok(None);
        };
        if !is_valid_error_code(error) {
            return Err(Error::InvalidCallback { reason: "the error parameter is malformed" });
        }
        let description = self.error_description.as_deref().map(sanitize_description);
        Ok(Some(EntraErrorResponse::from_callback(error, description.as_deref())))
    }
}

impl fmt::Debug for CallbackParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbackParams")
            .field("has_code", &self.code.is_some())
            .field("has_state", &self.state.is_some())
            .field("error", &self.error.as_deref().filter(|e| is_valid_error_code(e)))
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use entra_core::ErrorKind;

    use super::*;

    #[test]
    fn query_form_and_url() {
        let q = CallbackParams::from_query("?code=c%2B1&state=s").unwrap();
        assert_eq!(q.code.unwrap().expose_secret(), "c+1");
        let f = CallbackParams::from_form(b"code=c&state=s&session_state=z").unwrap();
        assert_eq!(f.state.as_deref(), Some("s"));
        let u = CallbackParams::from_url("http://127.0.0.1:9/callback?code=c&state=s").unwrap();
        assert_eq!(u.state.as_deref(), Some("s"));
        assert!(CallbackParams::from_url("not a url").is_err());
    }

    #[test]
    fn error_callback_has_remedy() {
        let p = CallbackParams::from_query(
            "error=access_denied&error_description=AADSTS50105%3A+user+not+assigned&state=s",
        )
        .unwrap();
        let e = p.entra_error().unwrap();
        assert_eq!(e.kind(), ErrorKind::UserNotAssigned);
        assert!(e.remedy().contains("assign"));
    }

    #[test]
    fn error_values_outside_the_oauth_charset_are_refused() {
        // Passing: Entra's codes and a long description (cut, line breaks blanked).
        let long = format!("AADSTS50105: {}", "x".repeat(2000));
        let p = CallbackParams {
            error: Some("interaction_required".into()),
            error_description: Some(format!("{long}\r\nTrace ID: 1")),
            ..CallbackParams::default()
        };
        let e = p.checked_entra_error().unwrap().unwrap();
        assert_eq!(e.kind(), ErrorKind::UserNotAssigned);
        let d = e.error_description.as_deref().unwrap();
        assert_eq!(d.chars().count(), MAX_DESCRIPTION_LEN);
        assert!(d.chars().all(is_oauth_error_char), "{d:?}");
        assert!(CallbackParams::default().checked_entra_error().unwrap().is_none());

        // Failing: control characters, quotes, backslashes, non-ASCII, too long, empty.
        for bad in [
            "access_denied\r\nfake log line",
            "access_denied\u{1b}[31m",
            "say \"hi\"",
            "a\\b",
            "acc\u{e8}s",
            "",
            &"a".repeat(MAX_ERROR_LEN + 1),
        ] {
            let p = CallbackParams { error: Some(bad.into()), ..CallbackParams::default() };
            assert!(
                matches!(p.checked_entra_error(), Err(Error::InvalidCallback { .. })),
                "{bad:?}"
            );
            assert!(p.entra_error().is_none(), "{bad:?}");
            assert!(!format!("{p:?}").contains("fake log"), "{bad:?}");
        }
        let ok = CallbackParams { error: Some("a".repeat(MAX_ERROR_LEN)), ..Default::default() };
        assert!(ok.entra_error().is_some());
    }

    #[test]
    fn refuses_repeats_and_huge_input() {
        for bad in ["code=a&code=b", "state=a&state=b", "error=x&error=y", "iss=a&iss=b"] {
            assert!(matches!(CallbackParams::from_query(bad), Err(Error::InvalidCallback { .. })));
        }
        let huge = format!("code={}", "a".repeat(MAX_INPUT));
        assert!(CallbackParams::from_query(&huge).is_err());
    }

    #[test]
    fn deserializes_from_serde() {
        let p: CallbackParams = serde_urlencoded::from_str("code=c&state=s").unwrap();
        assert!(p.code.is_some());
        assert!(!format!("{p:?}").contains("\"c\""));
    }
}
