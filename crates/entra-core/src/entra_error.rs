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
    /// 53003 (also 50072, 50074, 50058, 53000, 53001) and `interaction_required`.
    InteractionRequired,
    /// Consent is missing for the requested permissions (AADSTS65001, 90094).
    ConsentRequired,
    /// The user was shown the consent prompt and declined it (AADSTS65004).
    ConsentDeclined,
    /// A scope is invalid, unknown, or mixes resources (AADSTS70011, 28000, 28002,
    /// 28003, 1002012).
    InvalidScope,
    /// The client secret is wrong (AADSTS7000215).
    InvalidClientSecret,
    /// The client secret has expired (AADSTS7000222).
    ExpiredClientSecret,
    /// A confidential client sent no credential (AADSTS7000218).
    MissingClientCredential,
    /// The client assertion (certificate or federated) was refused (AADSTS700027,
    /// 700024, 700023, 50012, 700021, 700211, 700212, 700213, 5002727).
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
    /// The PKCE code verifier does not match the challenge (AADSTS501481, 50148).
    PkceMismatch,
    /// An authorization code, refresh token or assertion expired or was already
    /// used (AADSTS70008, 54005, 700082, 500133, 70000, 50173, 9002313) or the grant
    /// is otherwise invalid.
    InvalidGrant,
    /// The request was throttled (HTTP 429, AADSTS50196).
    Throttled,
    /// A temporary problem at Entra (HTTP 5xx, `temporarily_unavailable`,
    /// `server_error`, AADSTS90033): retry later.
    Unavailable,
    /// The request was malformed (`invalid_request`, AADSTS900144, 90014, 70003,
    /// 50027, 700054).
    InvalidRequest,
    /// Anything else.
    Other,
}

/// The AADSTS codes this crate knows: code, classification, and what Entra means
/// by it (in our words). The one table of AADSTS codes in the workspace: add a code
/// here and [`EntraErrorResponse::kind`], [`EntraErrorResponse::meaning`] and
/// every crate's error mapping pick it up.
#[rustfmt::skip]
const CODES: &[(u32, ErrorKind, &str)] = {
    use ErrorKind::*;
    &[
        (50076, InteractionRequired, "multi-factor authentication is required to access the resource (a Conditional Access policy or a change of location asks for it)"),
        (50079, InteractionRequired, "the user must register for multi-factor authentication before accessing the resource"),
        (50158, InteractionRequired, "an external security challenge (a Conditional Access custom control or third-party MFA) was not satisfied"),
        (50074, InteractionRequired, "strong authentication is required and the user did not complete the MFA challenge"),
        (50072, InteractionRequired, "the user must enroll in second-factor authentication (interactive sign-in needed)"),
        (53000, InteractionRequired, "a Conditional Access policy requires a compliant (managed) device, and this device is not compliant"),
        (53001, InteractionRequired, "a Conditional Access policy requires a domain-joined device"),
        (53003, InteractionRequired, "access was blocked by Conditional Access policies"),
        (50058, InteractionRequired, "a silent sign-in (`prompt=none`) was requested but no user is signed in"),
        (65001, ConsentRequired, "the user or an administrator has not consented to the application using the requested permissions"),
        (65004, ConsentDeclined, "the user declined to consent to the application's permissions"),
        (90094, ConsentRequired, "the requested permissions need an administrator's consent"),
        (70011, InvalidScope, "the `scope` value is not valid: an unknown scope, or `.default` mixed with other scopes"),
        (28000, InvalidScope, "the `scope` value names more than one resource"),
        (28002, InvalidScope, "the `scope` value is not valid for requesting an access token"),
        (28003, InvalidScope, "the `scope` value is empty"),
        (1002012, InvalidScope, "a client credentials request must ask for exactly one `{resource}/.default` scope"),
        (7000215, InvalidClientSecret, "an invalid client secret was sent (often the secret's ID instead of its value)"),
        (7000222, ExpiredClientSecret, "the client secret has expired"),
        (7000218, MissingClientCredential, "the request carried neither `client_secret` nor `client_assertion`, and the app is a confidential client"),
        (700027, InvalidClientAssertion, "the client assertion failed signature validation (its certificate is not registered on the app, or the key does not match it)"),
        (700024, InvalidClientAssertion, "the client assertion is not within its valid time range (expired or not yet valid; check the clock)"),
        (700023, InvalidClientAssertion, "the client assertion's audience (`aud`) is not the token endpoint of the tenant"),
        (50012, InvalidClientAssertion, "client authentication failed: the client assertion's signature, issuer or audience was refused"),
        (700021, InvalidClientAssertion, "the client assertion's issuer/subject is not the `client_id` of the request"),
        (700211, InvalidClientAssertion, "no federated identity credential of the app matches the assertion's issuer"),
        (700212, InvalidClientAssertion, "no federated identity credential of the app matches the assertion's audience"),
        (700213, InvalidClientAssertion, "no federated identity credential of the app matches the assertion's subject"),
        (5002727, InvalidClientAssertion, "the client assertion is not a valid JWT of the expected type"),
        (700016, AppNotFound, "the application (client id) was not found in the tenant: not registered there, or never consented to in it"),
        (90002, AppNotFound, "the tenant was not found (wrong tenant id or domain, or the tenant has no active subscription)"),
        (50105, UserNotAssigned, "the signed-in user is not assigned to a role of the application, which requires assignment"),
        (50013, WrongAudience, "the assertion (the user's token) was refused: its audience, signature or issuer is not valid for this app"),
        (7000114, AppOnlyAssertion, "the assertion is an app-only token; an application cannot make on-behalf-of calls for itself"),
        (500011, ResourceNotFound, "the resource principal (the downstream API) was not found in the tenant"),
        (901002, ResourceParameterRejected, "the `resource` request parameter is not supported on this endpoint"),
        (9010010, ResourceParameterRejected, "the `resource` parameter is not supported on v2 endpoints, or does not match the requested scopes"),
        (50011, RedirectUriMismatch, "the redirect URI of the request does not match any redirect URI registered for the application"),
        (501481, PkceMismatch, "the PKCE code verifier does not match the code challenge of the authorization request"),
        (50148, PkceMismatch, "the PKCE code verifier or challenge method does not fit the authorization request"),
        (70008, InvalidGrant, "the authorization code or refresh token has expired (or expired through inactivity)"),
        (54005, InvalidGrant, "the authorization code was already redeemed"),
        (700082, InvalidGrant, "the refresh token has expired through inactivity"),
        (500133, InvalidGrant, "the assertion (the user's token) is not within its valid time range: it has expired"),
        (70000, InvalidGrant, "the grant (authorization code or assertion) is not valid, or was issued to another client"),
        (50173, InvalidGrant, "the grant has expired because it was revoked (password change or sessions revoked)"),
        (9002313, InvalidGrant, "the request is malformed or the grant (for example a refresh token) is not valid"),
        (50196, Throttled, "the server stopped a loop of repeated requests from this client"),
        (90033, Unavailable, "a transient error occurred at Entra"),
        (900144, InvalidRequest, "the request body is missing a required parameter"),
        (90014, InvalidRequest, "a required field is missing from the request"),
        (70003, InvalidRequest, "the grant type is not supported"),
        (50027, InvalidRequest, "the JWT in the request (an assertion) is not a well-formed token"),
        (700054, InvalidRequest, "the requested `response_type` is not enabled for the application (for example `id_token` without the implicit grant)"),
        (700025, Other, "the app is a public client, so the request must not carry `client_secret` or `client_assertion`"),
        (50126, Other, "the user name or password is invalid"),
    ]
};

impl ErrorKind {
    fn from_code(code: u32) -> Option<Self> {
        CODES
            .iter()
            .find(|(c, _, _)| *c == code)
            .map(|(_, kind, _)| *kind)
            .filter(|kind| *kind != Self::Other)
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
                "the user must sign in again interactively and satisfy the policy (MFA, a compliant device, an allowed location); send the claims challenge back to the client. A policy that blocks access outright (AADSTS53003) needs the tenant administrator: the sign-in logs name the policy"
            }
            Self::ConsentRequired => {
                "send the user through an interactive sign-in so they can consent, or have an administrator grant admin consent (API permissions > Grant admin consent); for On-Behalf-Of, consent goes on the middle-tier app for the downstream API"
            }
            Self::ConsentDeclined => {
                "the user chose not to consent: explain why the app needs these permissions and let them sign in again to accept the consent prompt"
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
            Self::MissingClientCredential => {
                "the app registration is a confidential client: send its client secret or a certificate (or federated) client assertion with the request"
            }
            Self::InvalidClientAssertion => {
                "check the certificate uploaded to the app registration (thumbprint), the assertion's `aud` (the token endpoint) and its expiry, or the federated credential's issuer and subject"
            }
            Self::AppNotFound => {
                "check the client id, the tenant id or domain, and the cloud: the app is not registered (or not consented) in that tenant, or no such tenant exists there"
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

    /// The usual cause of this kind of failure, in one sentence.
    pub fn cause(self) -> &'static str {
        match self {
            Self::InteractionRequired => {
                "a Conditional Access policy (MFA, device, location) applies to the resource and the user's sign-in does not satisfy it; a server-side exchange such as On-Behalf-Of cannot prompt the user"
            }
            Self::ConsentDeclined => {
                "the user saw the consent prompt and cancelled it (or closed it), so no permission was granted"
            }
            Self::ConsentRequired => {
                "the permissions were never consented for this app in the user's tenant (multi-tenant apps need consent in each customer tenant), or a scope was added after consent"
            }
            Self::InvalidScope => {
                "the request names scopes of two resources, mixes `.default` with explicit scopes, or names a scope the API does not expose"
            }
            Self::InvalidClientSecret => {
                "the configured secret is the secret's ID (a GUID) rather than its value, or belongs to another app registration"
            }
            Self::ExpiredClientSecret => "the client secret's end date has passed",
            Self::MissingClientCredential => {
                "the application sends no client secret or certificate: the credential is missing from its configuration"
            }
            Self::InvalidClientAssertion => {
                "the certificate is not (or no longer) uploaded to the app registration, the assertion's audience or lifetime is wrong, or a federated credential's issuer/subject does not match"
            }
            Self::AppNotFound => {
                "the client id or the tenant is wrong, or the app is registered in another tenant and was never consented in this one"
            }
            Self::UserNotAssigned => {
                "the enterprise application has 'Assignment required' on and this user (or their groups) is not assigned"
            }
            Self::WrongAudience => {
                "the client requested a token for another resource (often Microsoft Graph) instead of this API's scope, so the token's `aud` is not this app"
            }
            Self::AppOnlyAssertion => {
                "a daemon's client-credentials token was passed where a user's delegated token is needed"
            }
            Self::ResourceNotFound => {
                "the resource identifier (App ID URI or client id) is misspelled, or the API has no service principal in this tenant"
            }
            Self::ResourceParameterRejected => {
                "v1-style code sends `resource` to a v2 endpoint, which takes the resource from the scope"
            }
            Self::RedirectUriMismatch => {
                "the app sends a redirect URI (scheme, host, port or path) that differs from every URI registered, often http vs https or a missing path"
            }
            Self::PkceMismatch => {
                "the code verifier of the sign-in was lost or mixed up with another sign-in (state kept per browser, several tabs)"
            }
            Self::InvalidGrant => {
                "the code, refresh token or assertion was used twice, is too old, or was revoked"
            }
            Self::Throttled => {
                "too many requests from this client in a short time (tokens not cached, or a retry loop)"
            }
            Self::Unavailable => "a transient failure at Entra",
            Self::InvalidRequest => {
                "a required parameter is missing or the request was sent to the wrong endpoint version"
            }
            Self::Other => "not classified by this crate",
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
    /// A page describing the error (RFC 6749 `error_uri`), when Entra sends one.
    #[serde(default)]
    pub error_uri: Option<String>,
    /// The `client-request-id` this client sent with the request that failed (a
    /// fresh UUID per request), filled in by the HTTP layer, not by Entra. Give it
    /// with [`EntraErrorResponse::correlation_id`] and `trace_id` in a support case.
    #[serde(skip)]
    pub client_request_id: Option<String>,
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

    /// What Entra means by the first AADSTS code this crate knows, in one
    /// sentence; `None` when no code is known.
    ///
    /// ```
    /// use entra_core::EntraErrorResponse;
    /// let mut e = EntraErrorResponse::default();
    /// e.error_codes = vec![50011];
    /// assert!(e.meaning().unwrap().contains("redirect URI"));
    /// ```
    pub fn meaning(&self) -> Option<&'static str> {
        self.error_codes
            .iter()
            .copied()
            .chain(self.error_description.as_deref().and_then(aadsts_in))
            .find_map(|code| CODES.iter().find(|(c, _, _)| *c == code).map(|(_, _, m)| *m))
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
            .field("error_uri", &self.error_uri)
            .field("client_request_id", &self.client_request_id)
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
        // The ids a support case needs; they are Entra's or ours, never a secret.
        let ids = [
            ("trace id", &self.trace_id),
            ("correlation id", &self.correlation_id),
            ("client-request-id", &self.client_request_id),
        ];
        let mut first = true;
        for (name, value) in ids {
            if let Some(value) = value {
                f.write_str(if first { " [" } else { ", " })?;
                write!(f, "{name} {}", crate::shorten_untrusted(value))?;
                first = false;
            }
        }
        if !first {
            f.write_str("]")?;
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
        assert_eq!(kind_of(&[90094], "invalid_grant"), ErrorKind::ConsentRequired);
        assert_eq!(kind_of(&[65004], "access_denied"), ErrorKind::ConsentDeclined);
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
    fn table_is_consistent() {
        for (i, (code, kind, meaning)) in CODES.iter().enumerate() {
            assert!(!meaning.is_empty() && !meaning.ends_with('.'), "{code}");
            assert!(CODES[i + 1..].iter().all(|(c, _, _)| c != code), "duplicate {code}");
            let e = EntraErrorResponse { error_codes: vec![*code], ..Default::default() };
            assert_eq!(e.meaning(), Some(*meaning));
            if *kind != ErrorKind::Other {
                assert_eq!(e.kind(), *kind, "{code}");
            }
            assert!(!kind.cause().is_empty() && !kind.remedy().is_empty());
        }
        assert_eq!(kind_of(&[7000218], "invalid_client"), ErrorKind::MissingClientCredential);
        assert_eq!(kind_of(&[700023], "invalid_client"), ErrorKind::InvalidClientAssertion);
        assert_eq!(kind_of(&[9002313], "invalid_request"), ErrorKind::InvalidGrant);
        assert_eq!(kind_of(&[1002012], "invalid_scope"), ErrorKind::InvalidScope);
        assert_eq!(kind_of(&[90033], "temporarily_unavailable"), ErrorKind::Unavailable);
        assert_eq!(kind_of(&[700025], "invalid_client"), ErrorKind::Other);
        let unknown = EntraErrorResponse { error_codes: vec![99999], ..Default::default() };
        assert_eq!(unknown.meaning(), None);
    }

    /// The literal remedies of the entries checked against Microsoft's error
    /// reference (what Entra says each code means and what fixes it).
    #[test]
    fn remedies_match_the_error_reference() {
        // AADSTS65004 UserDeclinedConsent: the user declined; nothing for an
        // administrator to grant.
        let declined = EntraErrorResponse::from_callback(
            "access_denied",
            Some("AADSTS65004: User declined to consent to access the app."),
        );
        assert_eq!(declined.kind(), ErrorKind::ConsentDeclined);
        assert_eq!(
            declined.remedy(),
            "the user chose not to consent: explain why the app needs these permissions and let them sign in again to accept the consent prompt"
        );
        assert!(!declined.remedy().contains("admin"));
        assert!(!declined.kind().is_config() && !declined.kind().is_transient());
        // AADSTS65001 DelegationDoesNotExist: an interactive request lets the user
        // consent; an administrator can consent for everyone.
        assert_eq!(
            ErrorKind::ConsentRequired.remedy(),
            "send the user through an interactive sign-in so they can consent, or have an administrator grant admin consent (API permissions > Grant admin consent); for On-Behalf-Of, consent goes on the middle-tier app for the downstream API"
        );
        // AADSTS53003 BlockedByConditionalAccess: signing in again does not lift a block.
        assert!(ErrorKind::InteractionRequired.remedy().contains("AADSTS53003"));
        // AADSTS90002 InvalidTenantName: the tenant itself may not exist.
        assert_eq!(
            ErrorKind::AppNotFound.remedy(),
            "check the client id, the tenant id or domain, and the cloud: the app is not registered (or not consented) in that tenant, or no such tenant exists there"
        );
        assert_eq!(kind_of(&[90002], "invalid_request"), ErrorKind::AppNotFound);
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
    fn keeps_error_uri_and_prints_the_support_ids() {
        let mut e = EntraErrorResponse::parse(
            br#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.",
                "error_codes":[7000215],"trace_id":"t-1","correlation_id":"c-2",
                "error_uri":"https://login.microsoftonline.com/error?code=7000215"}"#,
        )
        .unwrap();
        assert_eq!(
            e.error_uri.as_deref(),
            Some("https://login.microsoftonline.com/error?code=7000215")
        );
        assert!(e.client_request_id.is_none(), "only the HTTP layer sets it");
        e.client_request_id = Some("r-3".into());
        let s = e.to_string();
        assert!(s.ends_with("[trace id t-1, correlation id c-2, client-request-id r-3]"), "{s}");
        let bare = EntraErrorResponse { error: "x".into(), ..Default::default() };
        assert!(!bare.to_string().contains('['), "{bare}");
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
