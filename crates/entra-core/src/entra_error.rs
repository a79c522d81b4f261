//! Entra's OAuth error documents, classified by AADSTS code with a remedy.

use std::fmt;

use serde::Deserialize;

use crate::Error;

/// What an Entra error means for the caller, derived from its AADSTS codes and
/// `error` field.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The user must interact again (MFA, Conditional Access); the error carries a
    /// `claims` challenge to send back to the client. AADSTS50076, 50079, 50158,
    /// 53003 and `interaction_required`.
    InteractionRequired,
    /// Consent is missing for the requested permissions (AADSTS65001).
    ConsentRequired,
    /// A scope is invalid, unknown, or mixes resources (AADSTS70011, 28000, 28003).
    InvalidScope,
    /// The client secret is wrong (AADSTS7000215).
    InvalidClientSecret,
    /// The client secret has expired (AADSTS7000222).
    ExpiredClientSecret,
    /// The client assertion (certificate or federated) was refused (AADSTS700027,
    /// 700024, 50012, 700021, 700212, 700213).
    InvalidClientAssertion,
    /// The application is not registered in the tenant (AADSTS700016, 90002).
    AppNotFound,
    /// The user is not assigned to the application (AADSTS50105).
    UserNotAssigned,
    /// The user assertion's audience is not this app (AADSTS50013).
    WrongAudience,
    /// An app-only token was used as the OBO assertion (AADSTS7000114).
    AppOnlyAssertion,
    /// The requested resource is not a known service principal (AADSTS500011).
    ResourceNotFound,
    /// The v2 endpoint rejected an RFC 8707 `resource` parameter (AADSTS901002, 9010010).
    ResourceParameterRejected,
    /// The redirect URI is not registered on the app (AADSTS50011).
    RedirectUriMismatch,
    /// The PKCE code verifier does not match the challenge (AADSTS501481).
    PkceMismatch,
    /// An authorization code, refresh token or assertion expired or was already
    /// used (AADSTS70008, 54005, 700082, 500133, 70000) or the grant is otherwise invalid.
    InvalidGrant,
    /// The request was throttled (HTTP 429, AADSTS50196).
    Throttled,
    /// A temporary problem at Entra (HTTP 5xx, `temporarily_unavailable`,
    /// `server_error`): retry later.
    Unavailable,
    /// The request was malformed (`invalid_request`).
    InvalidRequest,
    /// Anything else.
    Other,
}

impl ErrorKind {
    fn from_code(code: u32) -> Option<Self> {
        Some(match code {
            50076 | 50079 | 50158 | 53003 | 50074 | 50072 | 53000 | 53001 => {
                Self::InteractionRequired
            }
            65001 | 65004 | 90094 => Self::ConsentRequired,
            70011 | 28000 | 28002 | 28003 => Self::InvalidScope,
            7000215 => Self::InvalidClientSecret,
            7000222 => Self::ExpiredClientSecret,
            700027 | 700024 | 50012 | 700021 | 700212 | 700213 | 700211 | 5002727 => {
                Self::InvalidClientAssertion
            }
            700016 | 90002 => Self::AppNotFound,
            50105 => Self::UserNotAssigned,
            50013 => Self::WrongAudience,
            7000114 => Self::AppOnlyAssertion,
            500011 => Self::ResourceNotFound,
            901002 | 9010010 => Self::ResourceParameterRejected,
            50011 => Self::RedirectUriMismatch,
            501481 => Self::PkceMismatch,
            70008 | 54005 | 700082 | 500133 | 70000 | 50173 => Self::InvalidGrant,
            50196 => Self::Throttled,
            _ => return None,
        })
    }

    fn from_error(error: &str) -> Self {
        match error {
            "interaction_required" | "login_required" | "consent_required" => {
                Self::InteractionRequired
            }
            "invalid_scope" => Self::InvalidScope,
            "invalid_grant" => Self::InvalidGrant,
            "temporarily_unavailable" | "server_error" => Self::Unavailable,
            "invalid_request" => Self::InvalidRequest,
            "slow_down" => Self::Throttled,
            _ => Self::Other,
        }
    }

    /// What a person should do about it.
    pub fn remedy(self) -> &'static str {
        match self {
            Self::InteractionRequired => {
                "the user must sign in again and satisfy the policy (MFA or Conditional Access); send the claims challenge back to the client"
            }
            Self::ConsentRequired => {
                "grant admin consent for the downstream API permissions on the middle-tier app registration (API permissions > Grant admin consent)"
            }
            Self::InvalidScope => {
                "request scopes of one resource only, as `<resource>/.default` or explicit scopes, never both, and check the scope names exposed by that API"
            }
            Self::InvalidClientSecret => {
                "use the secret's Value (not its Secret ID) from Certificates & secrets of this app registration"
            }
            Self::ExpiredClientSecret => {
                "the client secret has expired: create a new one in Certificates & secrets and update the configuration"
            }
            Self::InvalidClientAssertion => {
                "check the certificate uploaded to the app registration (thumbprint), the assertion's `aud` (the token endpoint) and its expiry, or the federated credential's issuer and subject"
            }
            Self::AppNotFound => {
                "check the client id and the tenant: the app is not registered (or not consented) in that tenant"
            }
            Self::UserNotAssigned => {
                "assign the user (or one of their groups) to the application in Enterprise applications > Users and groups, or turn off 'Assignment required'"
            }
            Self::WrongAudience => {
                "the incoming token was issued for another API (often Microsoft Graph): the client must request a token for this app's scope, such as api://<client-id>/access_as_user"
            }
            Self::AppOnlyAssertion => {
                "On-Behalf-Of needs a user's delegated token; app-only (client credentials) tokens cannot be exchanged"
            }
            Self::ResourceNotFound => {
                "the downstream resource is not known in this tenant: check its identifier and that its service principal exists (admin consent creates it)"
            }
            Self::ResourceParameterRejected => {
                "remove the `resource` parameter: v2 endpoints take the resource from the scope (`<resource>/.default`)"
            }
            Self::RedirectUriMismatch => {
                "add this exact redirect URI to the app registration (Authentication > Redirect URIs), scheme, host, port and path included"
            }
            Self::PkceMismatch => {
                "the PKCE code verifier does not match the challenge sent with the authorization request: restart the sign-in"
            }
            Self::InvalidGrant => {
                "the code, refresh token or assertion is expired, already used or revoked: sign the user in again"
            }
            Self::Throttled => {
                "Entra is throttling this client: retry after the delay it asked for and reduce the request rate (cache tokens)"
            }
            Self::Unavailable => "Entra is temporarily unavailable: retry with backoff",
            Self::InvalidRequest => {
                "the request is malformed: check the parameters and the endpoint version"
            }
            Self::Other => {
                "see the error description and the AADSTS code in Microsoft's error reference"
            }
        }
    }

    /// Whether retrying the same request later may succeed.
    pub fn is_transient(self) -> bool {
        matches!(self, Self::Throttled | Self::Unavailable)
    }

    /// Whether the app registration or the host's configuration is at fault (the
    /// client credential, the app, a scope, a resource or a redirect URI): fix the
    /// deployment; the user can do nothing about it.
    pub fn is_config(self) -> bool {
        matches!(
            self,
            Self::InvalidClientSecret
                | Self::ExpiredClientSecret
                | Self::InvalidClientAssertion
                | Self::AppNotFound
                | Self::InvalidScope
                | Self::ResourceNotFound
                | Self::ResourceParameterRejected
                | Self::RedirectUriMismatch
        )
    }
}

/// An error document returned by Entra's token or authorize endpoint.
///
/// ```
/// use entra_core::{EntraErrorResponse, ErrorKind};
/// let body = br#"{"error":"invalid_grant","error_description":"AADSTS50076: Due to a configuration change...",
///   "error_codes":[50076],"suberror":"basic_action","claims":"{\"access_token\":{\"capolids\":{\"essential\":true,\"values\":[\"1\"]}}}",
///   "trace_id":"t","correlation_id":"c"}"#;
/// let e = EntraErrorResponse::parse(body).unwrap();
/// assert_eq!(e.kind(), ErrorKind::InteractionRequired);
/// assert_eq!(e.aadsts(), Some(50076));
/// assert!(e.claims.is_some());
/// ```
#[derive(Clone, PartialEq, Eq, Deserialize, Default)]
#[non_exhaustive]
pub struct EntraErrorResponse {
    /// The OAuth error code (`invalid_grant`, `interaction_required`, ...).
    pub error: String,
    /// Human-readable description, starting with `AADSTSnnnnn:`.
    #[serde(default)]
    pub error_description: Option<String>,
    /// The AADSTS numbers.
    #[serde(default)]
    pub error_codes: Vec<u32>,
    /// Finer reason (`basic_action`, `consent_required`, ...).
    #[serde(default)]
    pub suberror: Option<String>,
    /// A claims challenge (JSON text) to pass back to the client.
    #[serde(default)]
    pub claims: Option<String>,
    /// Entra's trace id, for support requests.
    #[serde(default)]
    pub trace_id: Option<String>,
    /// Entra's correlation id, for support requests.
    #[serde(default)]
    pub correlation_id: Option<String>,
    /// When the error happened, as Entra formats it.
    #[serde(default)]
    pub timestamp: Option<String>,
}

impl EntraErrorResponse {
    /// Parses an error body (JSON).
    ///
    /// # Errors
    /// [`Error::InvalidErrorResponse`] when the body is not JSON or has no `error`.
    pub fn parse(body: &[u8]) -> Result<Self, Error> {
        serde_json::from_slice(body).map_err(Error::InvalidErrorResponse)
    }

    /// Builds an error from the `error`, `error_description` and related query
    /// parameters of an authorization callback.
    pub fn from_callback(error: &str, description: Option<&str>) -> Self {
        let error_codes = description.and_then(aadsts_in).into_iter().collect();
        Self {
            error: error.to_owned(),
            error_description: description.map(str::to_owned),
            error_codes,
            ..Self::default()
        }
    }

    /// The first AADSTS code, from `error_codes` or else from the description.
    pub fn aadsts(&self) -> Option<u32> {
        self.error_codes
            .first()
            .copied()
            .or_else(|| self.error_description.as_deref().and_then(aadsts_in))
    }

    /// The classification: the first AADSTS code that has a meaning here, else the
    /// `error` field.
    pub fn kind(&self) -> ErrorKind {
        self.error_codes
            .iter()
            .copied()
            .chain(self.error_description.as_deref().and_then(aadsts_in))
            .find_map(ErrorKind::from_code)
            .unwrap_or_else(|| {
                if self.claims.is_some() {
                    ErrorKind::InteractionRequired
                } else {
                    ErrorKind::from_error(&self.error)
                }
            })
    }

    /// What a person should do about it.
    pub fn remedy(&self) -> &'static str {
        self.kind().remedy()
    }
}

/// Finds `AADSTSnnnn` in a description.
fn aadsts_in(text: &str) -> Option<u32> {
    let start = text.find("AADSTS")? + "AADSTS".len();
    let digits: String = text[start..].chars().take_while(char::is_ascii_digit).take(9).collect();
    digits.parse().ok()
}

impl fmt::Debug for EntraErrorResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EntraErrorResponse")
            .field("error", &self.error)
            .field("error_codes", &self.error_codes)
            .field("suberror", &self.suberror)
            .field("has_claims", &self.claims.is_some())
            .field("trace_id", &self.trace_id)
            .field("correlation_id", &self.correlation_id)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for EntraErrorResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.aadsts() {
            Some(code) => {
                write!(f, "entra returned {} (AADSTS{code}): {}", self.error, self.remedy())?
            }
            None => write!(f, "entra returned {}: {}", self.error, self.remedy())?,
        }
        if let Some(trace) = &self.trace_id {
            write!(f, " [trace id {trace}]")?;
        }
        Ok(())
    }
}

impl std::error::Error for EntraErrorResponse {}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind_of(codes: &[u32], error: &str) -> ErrorKind {
        EntraErrorResponse {
            error: error.into(),
            error_codes: codes.to_vec(),
            ..Default::default()
        }
        .kind()
    }

    #[test]
    fn classifies_documented_codes() {
        assert_eq!(kind_of(&[50076], "invalid_grant"), ErrorKind::InteractionRequired);
        assert_eq!(kind_of(&[50079], "invalid_grant"), ErrorKind::InteractionRequired);
        assert_eq!(kind_of(&[53003], "invalid_grant"), ErrorKind::InteractionRequired);
        assert_eq!(kind_of(&[65001], "invalid_grant"), ErrorKind::ConsentRequired);
        assert_eq!(kind_of(&[70011], "invalid_scope"), ErrorKind::InvalidScope);
        assert_eq!(kind_of(&[28000], "invalid_request"), ErrorKind::InvalidScope);
        assert_eq!(kind_of(&[28003], "invalid_request"), ErrorKind::InvalidScope);
        assert_eq!(kind_of(&[7000215], "invalid_client"), ErrorKind::InvalidClientSecret);
        assert_eq!(kind_of(&[7000222], "invalid_client"), ErrorKind::ExpiredClientSecret);
        assert_eq!(kind_of(&[700016], "unauthorized_client"), ErrorKind::AppNotFound);
        assert_eq!(kind_of(&[50105], "invalid_grant"), ErrorKind::UserNotAssigned);
        assert_eq!(kind_of(&[50013], "invalid_grant"), ErrorKind::WrongAudience);
        assert_eq!(kind_of(&[7000114], "invalid_grant"), ErrorKind::AppOnlyAssertion);
        assert_eq!(kind_of(&[500011], "invalid_resource"), ErrorKind::ResourceNotFound);
        assert_eq!(kind_of(&[901002], "invalid_request"), ErrorKind::ResourceParameterRejected);
        assert_eq!(kind_of(&[9010010], "invalid_request"), ErrorKind::ResourceParameterRejected);
        assert_eq!(kind_of(&[], "temporarily_unavailable"), ErrorKind::Unavailable);
        assert_eq!(kind_of(&[99999], "weird"), ErrorKind::Other);
    }

    #[test]
    fn code_from_description_when_no_codes() {
        let e = EntraErrorResponse::from_callback(
            "access_denied",
            Some("AADSTS65001: The user or administrator has not consented"),
        );
        assert_eq!(e.aadsts(), Some(65001));
        assert_eq!(e.kind(), ErrorKind::ConsentRequired);
        let s = e.to_string();
        assert!(s.contains("AADSTS65001") && s.contains("admin consent"), "{s}");
    }

    #[test]
    fn garbage_bodies_are_errors() {
        for body in [&b""[..], b"<html>", b"{}", b"[1]", b"{\"error\":5}", b"\xff\xfe"] {
            assert!(EntraErrorResponse::parse(body).is_err());
        }
    }

    #[test]
    fn debug_hides_claims_text() {
        let e = EntraErrorResponse {
            error: "x".into(),
            claims: Some("SECRETCLAIMS".into()),
            ..Default::default()
        };
        assert!(!format!("{e:?}").contains("SECRETCLAIMS"));
    }
}
