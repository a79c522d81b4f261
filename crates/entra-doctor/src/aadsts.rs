//! `entra-doctor error`: what an AADSTS code, an Entra error document or an
//! error redirect means, why it happens, and what to do.
//!
//! Meanings, causes and remedies come from the one AADSTS table in
//! `entra_core` ([`EntraErrorResponse`], [`ErrorKind`]); this module only reads
//! the input and lays the answer out.

use std::fmt;

use entra_core::{EntraErrorResponse, ErrorKind};
use serde::Serialize;

use crate::report::line;
use crate::{Error, Result};

/// The longest input read.
const MAX_INPUT: usize = 64 * 1024;

/// What the input was.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorInput {
    /// A bare code: `50076` or `AADSTS50076`.
    Code,
    /// An error document from the token endpoint (JSON).
    Json,
    /// A redirect (or its query string) carrying `error=`.
    RedirectUrl,
    /// Any other text naming an AADSTS code (an error description, an error page).
    Text,
}

/// Everything `entra-doctor error` tells about an Entra error.
#[derive(Clone, Debug, Serialize)]
#[non_exhaustive]
pub struct ErrorReport {
    /// What the input was.
    pub input: ErrorInput,
    /// The AADSTS codes.
    pub codes: Vec<u32>,
    /// The OAuth `error` (`invalid_grant`, ...), when given.
    pub error: Option<String>,
    /// The `suberror`, when given.
    pub suberror: Option<String>,
    /// The classification (`interaction_required`, `consent_required`, ...).
    pub kind: String,
    /// What Entra means.
    pub meaning: String,
    /// The usual cause.
    pub cause: String,
    /// What to do.
    pub remedy: String,
    /// Whether the same request may succeed later (throttling, outages).
    pub retry_may_succeed: bool,
    /// Entra's own description, without the trace lines.
    pub description: Option<String>,
    /// Entra's trace id: quote it in a support request.
    pub trace_id: Option<String>,
    /// Entra's correlation id: quote it in a support request.
    pub correlation_id: Option<String>,
    /// When it happened, as Entra wrote it.
    pub timestamp: Option<String>,
    /// The claims challenge (JSON) to send back to the client, when Entra gave one.
    pub claims_challenge: Option<String>,
    /// The `WWW-Authenticate` value that carries the challenge to the client.
    pub www_authenticate: Option<String>,
    /// For a redirect: where Entra sent the browser (no query), to compare with
    /// the registered redirect URIs.
    pub redirect_uri: Option<String>,
}

/// Explains an Entra error given as a code (`50076`, `AADSTS50076`), a token
/// endpoint's JSON error document, a redirect URL (or query string) with
/// `error=`, or any text naming `AADSTSnnnnn`.
///
/// ```
/// let report = entra_doctor::explain_error("AADSTS65001").unwrap();
/// assert_eq!(report.kind, "consent_required");
/// assert!(report.remedy.contains("admin consent"));
/// ```
///
/// # Errors
/// [`Error::NotAnEntraError`] when the input is none of these;
/// [`Error::TooLarge`] above 64 KiB.
pub fn explain_error(input: &str) -> Result<ErrorReport> {
    if input.len() > MAX_INPUT {
        return Err(Error::TooLarge { len: input.len(), max: MAX_INPUT });
    }
    let text = input.trim();
    let (form, response, redirect_uri) = if let Some(code) = bare_code(text) {
        let mut e = EntraErrorResponse::default();
        e.error_codes = vec![code];
        (ErrorInput::Code, e, None)
    } else if text.starts_with('{') {
        let e = EntraErrorResponse::parse(text.as_bytes()).map_err(|_| Error::NotAnEntraError {
            reason: "this JSON is not an error document (it has no string `error` member)",
        })?;
        (ErrorInput::Json, e, None)
    } else if let Some((e, uri)) = from_redirect(text) {
        (ErrorInput::RedirectUrl, e, uri)
    } else if text.contains("AADSTS") {
        let e = EntraErrorResponse::from_callback("", Some(text));
        if e.aadsts().is_none() {
            return Err(not_error());
        }
        (ErrorInput::Text, e, None)
    } else {
        return Err(not_error());
    };
    Ok(report(form, response, redirect_uri))
}

fn not_error() -> Error {
    Error::NotAnEntraError {
        reason: "give an AADSTS code (50076), an error JSON document, a redirect URL with `error=`, or a text with AADSTSnnnnn",
    }
}

/// `50076`, `AADSTS50076`, `aadsts 50076`.
fn bare_code(text: &str) -> Option<u32> {
    let digits = match text.get(..6) {
        Some(p) if p.eq_ignore_ascii_case("aadsts") => text[6..].trim_start_matches([' ', ':']),
        _ => text,
    };
    let digits = digits.trim_end_matches(':');
    if (4..=9).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) {
        digits.parse().ok()
    } else {
        None
    }
}

/// A redirect URL (error in the query or the fragment), or a bare query string.
fn from_redirect(text: &str) -> Option<(EntraErrorResponse, Option<String>)> {
    let (params, uri) = match url::Url::parse(text) {
        Ok(u) if u.has_host() => {
            let mut pairs: Vec<(String, String)> = u.query_pairs().into_owned().collect();
            if let Some(fragment) = u.fragment() {
                pairs.extend(url::form_urlencoded::parse(fragment.as_bytes()).into_owned());
            }
            let mut base = u.clone();
            base.set_query(None);
            base.set_fragment(None);
            (pairs, Some(base.to_string()))
        }
        _ => {
            let q = text.trim_start_matches(['?', '#']);
            if !q.contains("error=") {
                return None;
            }
            (url::form_urlencoded::parse(q.as_bytes()).into_owned().collect(), None)
        }
    };
    let get = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let error = get("error")?;
    let mut e = EntraErrorResponse::from_callback(&error, get("error_description").as_deref());
    e.trace_id = get("trace_id");
    e.correlation_id = get("correlation_id");
    e.suberror = get("suberror");
    e.claims = get("claims");
    Some((e, uri))
}

pub(crate) fn report(
    input: ErrorInput,
    e: EntraErrorResponse,
    redirect_uri: Option<String>,
) -> ErrorReport {
    let kind = e.kind();
    let description = e.error_description.as_deref().map(clean_description);
    let meaning = e
        .meaning()
        .map(str::to_owned)
        .or_else(|| description.clone().filter(|d| !d.is_empty()))
        .or_else(|| oauth_meaning(&e.error).map(str::to_owned))
        .unwrap_or_else(|| "an error this tool does not know".to_owned());
    let from_text = |label| e.error_description.as_deref().and_then(|d| labelled(d, label));
    let codes = if e.error_codes.is_empty() {
        e.aadsts().into_iter().collect()
    } else {
        e.error_codes.clone()
    };
    let www_authenticate =
        e.claims.as_deref().map(|c| entra_obo::ClaimsChallenge::new(c).header_value());
    let mut cause = kind.cause().to_owned();
    if let Some(s) = e.suberror.as_deref().and_then(suberror_meaning) {
        cause = format!("{cause} (suberror: {s})");
    }
    let mut remedy = kind.remedy().to_owned();
    if kind == ErrorKind::RedirectUriMismatch
        && let Some(uri) = &redirect_uri
    {
        remedy = format!("{remedy}; this redirect went to {uri}");
    }
    ErrorReport {
        input,
        codes,
        error: Some(e.error.clone()).filter(|s| !s.is_empty()),
        suberror: e.suberror.clone(),
        kind: snake(&format!("{kind:?}")),
        meaning,
        cause,
        remedy,
        retry_may_succeed: kind.is_transient(),
        description,
        trace_id: e.trace_id.clone().or_else(|| from_text("Trace ID:")),
        correlation_id: e.correlation_id.clone().or_else(|| from_text("Correlation ID:")),
        timestamp: e.timestamp.clone().or_else(|| from_text("Timestamp:")),
        claims_challenge: e.claims.clone(),
        www_authenticate,
        redirect_uri,
    }
}

/// The description without its `AADSTSnnnn: ` prefix and trace lines.
fn clean_description(d: &str) -> String {
    const MAX_CHARS: usize = 400;
    let d = d.split("Trace ID:").next().unwrap_or(d).trim();
    let d = match d.strip_prefix("AADSTS") {
        Some(rest) => {
            rest.trim_start_matches(|c: char| c.is_ascii_digit()).trim_start_matches(':').trim()
        }
        None => d,
    };
    let mut out: String = d.chars().take(MAX_CHARS).collect();
    if d.chars().nth(MAX_CHARS).is_some() {
        out.push_str("...");
    }
    out
}

/// The value after `label` in Entra's description (`Trace ID: <guid>`).
fn labelled(text: &str, label: &str) -> Option<String> {
    let start = text.find(label)? + label.len();
    let rest = text[start..].trim_start();
    let value: String = if label == "Timestamp:" {
        rest.chars().take_while(|c| !matches!(c, '\r' | '\n' | '"' | '<')).take(40).collect()
    } else {
        rest.chars().take_while(|c| c.is_ascii_hexdigit() || *c == '-').take(40).collect()
    };
    let value = value.trim().to_owned();
    (!value.is_empty()).then_some(value)
}

fn snake(camel: &str) -> String {
    let mut out = String::new();
    for (i, c) in camel.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// The OAuth 2.0 / OpenID Connect error names (RFC 6749, OpenID Connect Core).
fn oauth_meaning(error: &str) -> Option<&'static str> {
    Some(match error {
        "access_denied" => "the user or an administrator declined, or the sign-in was cancelled",
        "invalid_request" => "the request is missing a parameter or is malformed",
        "invalid_client" => "client authentication failed",
        "invalid_grant" => "the code, refresh token or assertion is invalid, expired or revoked",
        "unauthorized_client" => "the client is not allowed to use this grant type or is unknown",
        "unsupported_grant_type" | "unsupported_response_type" => {
            "the grant or response type is not supported"
        }
        "invalid_scope" => "the requested scope is invalid or unknown",
        "invalid_resource" => "the requested resource is unknown",
        "interaction_required" => "the user must interact (MFA, consent, Conditional Access)",
        "login_required" => "the user must sign in: no session for a silent request",
        "consent_required" => "the user must consent",
        "temporarily_unavailable" | "server_error" => "a temporary failure at the server",
        _ => return None,
    })
}

fn suberror_meaning(suberror: &str) -> Option<&'static str> {
    Some(match suberror {
        "basic_action" => "the user can fix it by signing in interactively",
        "additional_action" => {
            "the user must do something more than sign in (enroll a device, accept terms)"
        }
        "message_only" => "the user can only read a message; nothing to fix interactively",
        "bad_token" | "token_expired" => "the refresh token is invalid or expired: sign in again",
        "user_password_expired" => "the user's password expired",
        "consent_required" => "consent is missing",
        "client_mismatch" => "the token was issued to another client",
        "protection_policy_required" => "an app protection policy is required",
        _ => return None,
    })
}

impl fmt::Display for ErrorReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let codes: Vec<String> = self.codes.iter().map(|c| format!("AADSTS{c}")).collect();
        let title = match (codes.is_empty(), &self.error) {
            (false, Some(e)) => format!("{} ({e})", codes.join(", ")),
            (false, None) => codes.join(", "),
            (true, Some(e)) => e.clone(),
            (true, None) => "Entra error".into(),
        };
        writeln!(f, "{title}: {}", self.kind.replace('_', " "))?;
        line(f, "meaning", &self.meaning)?;
        line(f, "likely cause", &self.cause)?;
        line(f, "remedy", &self.remedy)?;
        line(
            f,
            "retry",
            if self.retry_may_succeed {
                "later, with backoff"
            } else {
                "no: the same request fails again"
            },
        )?;
        if let Some(s) = &self.suberror {
            line(f, "suberror", s)?;
        }
        if let (Some(d), ErrorInput::Json | ErrorInput::RedirectUrl) =
            (&self.description, self.input)
        {
            line(f, "entra says", d)?;
        }
        if let Some(u) = &self.redirect_uri {
            line(f, "redirect to", u)?;
        }
        if let Some(c) = &self.claims_challenge {
            line(f, "claims", c)?;
            if let Some(h) = &self.www_authenticate {
                line(f, "send back", format_args!("WWW-Authenticate: {h}"))?;
            }
        }
        for (label, v) in [
            ("trace id", &self.trace_id),
            ("correlation id", &self.correlation_id),
            ("timestamp", &self.timestamp),
        ] {
            if let Some(v) = v {
                line(f, label, v)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_in_every_spelling() {
        for input in ["50076", "AADSTS50076", "aadsts 50076", " AADSTS50076: "] {
            let r = explain_error(input).unwrap();
            assert_eq!(r.codes, [50076], "{input}");
            assert_eq!(r.input, ErrorInput::Code);
            assert_eq!(r.kind, "interaction_required");
        }
        assert!(explain_error("123").is_err());
        assert!(explain_error("hello").is_err());
        assert!(explain_error("{\"no\":1}").is_err());
        assert!(explain_error(&"9".repeat(MAX_INPUT + 1)).is_err());
    }

    #[test]
    fn text_with_trace_lines() {
        let text = "AADSTS50011: The redirect URI 'x' does not match.\r\nTrace ID: 0d1c5a1e-aaaa-4bbb-8ccc-000000000001\r\nCorrelation ID: 7f3b-22\r\nTimestamp: 2024-05-01 10:00:00Z";
        let r = explain_error(text).unwrap();
        assert_eq!(r.input, ErrorInput::Text);
        assert_eq!(r.kind, "redirect_uri_mismatch");
        assert_eq!(r.trace_id.as_deref(), Some("0d1c5a1e-aaaa-4bbb-8ccc-000000000001"));
        assert_eq!(r.correlation_id.as_deref(), Some("7f3b-22"));
        assert_eq!(r.timestamp.as_deref(), Some("2024-05-01 10:00:00Z"));
    }

    #[test]
    fn query_string_and_fragment() {
        let r =
            explain_error("error=access_denied&error_description=AADSTS65004%3A+declined").unwrap();
        assert_eq!(r.codes, [65004]);
        assert_eq!(r.error.as_deref(), Some("access_denied"));
        let r = explain_error("https://app.example/cb#error=login_required&state=s").unwrap();
        assert_eq!(r.kind, "interaction_required");
        assert_eq!(r.redirect_uri.as_deref(), Some("https://app.example/cb"));
        assert!(r.meaning.contains("sign in"));
    }

    #[test]
    fn snake_names() {
        assert_eq!(snake("InteractionRequired"), "interaction_required");
        assert_eq!(snake("Other"), "other");
    }
}
