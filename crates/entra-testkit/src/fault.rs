//! Programmable failures and Entra-shaped error bodies.

use std::time::Duration;

use serde_json::{Value, json};

/// A failure of the keys endpoints, set with
/// [`MockEntra::set_jwks_fault`](crate::MockEntra::set_jwks_fault) (or of the
/// discovery endpoints, with
/// [`MockEntra::set_discovery_fault`](crate::MockEntra::set_discovery_fault)).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum JwksFault {
    /// Answer with this HTTP status (and an empty JSON object).
    Status(u16),
    /// Answer correctly, after this delay.
    Delay(Duration),
    /// Answer 200 with a body that is not JSON.
    Garbage,
    /// Answer 200 with a valid document padded to at least this many bytes (for
    /// testing a client's response size cap).
    Oversized(usize),
}

/// The `issuer` that the v1 keys endpoint (`/{tenant}/discovery/keys`) puts on
/// each key, set with
/// [`MockEntraBuilder::v1_key_issuer`](crate::MockEntraBuilder::v1_key_issuer) or
/// [`MockEntra::set_v1_key_issuer`](crate::MockEntra::set_v1_key_issuer). The v2
/// keys endpoint always publishes one (the tenant's v2 issuer, or the
/// `{tenantid}` template for `common` and `organizations`). Entra signs v1 and
/// v2 tokens with the same keys, so a validator must accept a v1 token whatever
/// its key says here.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum V1KeyIssuer {
    /// The v1 issuer of the tenant asked (`https://sts.windows.net/{tid}/` in
    /// the public cloud, the `{tenantid}` template for `common`). The default.
    #[default]
    V1,
    /// The v2 issuer template with `{tenantid}` (`{login}/{tenantid}/v2.0`), as
    /// the v2 keys endpoint publishes it for multi-tenant metadata.
    V2Template,
    /// No `issuer` on the keys.
    None,
}

impl V1KeyIssuer {
    /// Parses `v1`, `v2` or `none` (the control API's values).
    pub(crate) fn parse(name: &str) -> Option<Self> {
        match name {
            "v1" => Some(Self::V1),
            "v2" => Some(Self::V2Template),
            "none" => Some(Self::None),
            _ => None,
        }
    }

    /// The control API's name of this value.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::V1 => "v1",
            Self::V2Template => "v2",
            Self::None => "none",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum FaultKind {
    Aadsts {
        code: u32,
        error: Option<String>,
        description: Option<String>,
        suberror: Option<String>,
        claims: Option<String>,
        status: Option<u16>,
    },
    Status(u16),
    Throttled(u64),
    Delay,
}

/// A failure injected into the token endpoint, with
/// [`MockEntra::fail_next`](crate::MockEntra::fail_next) or
/// [`MockEntra::fail_for_user`](crate::MockEntra::fail_for_user).
///
/// ```
/// use entra_testkit::Fault;
/// // MFA required, with a claims challenge (what Conditional Access sends).
/// let mfa = Fault::aadsts(50076).claims(r#"{"access_token":{"capolids":{"essential":true,"values":["1"]}}}"#);
/// let throttled = Fault::throttled(7);
/// let down = Fault::status(503);
/// let slow = Fault::delay(std::time::Duration::from_millis(200));
/// # let _ = (mfa, throttled, down, slow);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fault {
    pub(crate) kind: FaultKind,
    pub(crate) delay: Option<Duration>,
}

impl Fault {
    /// An Entra error with this AADSTS code. The OAuth `error`, the description and
    /// the HTTP status follow what Entra sends for well-known codes (50076, 50079 and
    /// 53003 `invalid_grant` with suberror `basic_action`; 65001 consent; 7000215 bad
    /// secret; 700016 unknown app; ...), else `invalid_grant` with status 400.
    pub fn aadsts(code: u32) -> Self {
        Self {
            kind: FaultKind::Aadsts {
                code,
                error: None,
                description: None,
                suberror: None,
                claims: None,
                status: None,
            },
            delay: None,
        }
    }

    /// HTTP 429 with `Retry-After: {retry_after_secs}`.
    pub fn throttled(retry_after_secs: u64) -> Self {
        Self { kind: FaultKind::Throttled(retry_after_secs), delay: None }
    }

    /// This HTTP status (500, 503, ...) with a `temporarily_unavailable` error body.
    pub fn status(status: u16) -> Self {
        Self { kind: FaultKind::Status(status), delay: None }
    }

    /// No error, only latency: the request is answered normally after `delay`.
    pub fn delay(delay: Duration) -> Self {
        Self { kind: FaultKind::Delay, delay: Some(delay) }
    }

    /// Adds latency to this fault's response.
    #[must_use]
    pub fn with_delay(mut self, delay: Duration) -> Self {
        self.delay = Some(delay);
        self
    }

    /// For an AADSTS fault: the `claims` challenge (JSON text) in the error body.
    #[must_use]
    pub fn claims(mut self, claims_json: impl Into<String>) -> Self {
        if let FaultKind::Aadsts { claims, .. } = &mut self.kind {
            *claims = Some(claims_json.into());
        }
        self
    }

    /// For an AADSTS fault: the OAuth `error` (`interaction_required`, ...).
    #[must_use]
    pub fn error(mut self, error_code: impl Into<String>) -> Self {
        if let FaultKind::Aadsts { error, .. } = &mut self.kind {
            *error = Some(error_code.into());
        }
        self
    }

    /// For an AADSTS fault: the text after `AADSTSnnnnn: ` in `error_description`.
    #[must_use]
    pub fn description(mut self, text: impl Into<String>) -> Self {
        if let FaultKind::Aadsts { description, .. } = &mut self.kind {
            *description = Some(text.into());
        }
        self
    }

    /// For an AADSTS fault: the `suberror`.
    #[must_use]
    pub fn suberror(mut self, value: impl Into<String>) -> Self {
        if let FaultKind::Aadsts { suberror, .. } = &mut self.kind {
            *suberror = Some(value.into());
        }
        self
    }

    /// For an AADSTS fault: the HTTP status. Defaults to Entra's for the code (400 or 401).
    #[must_use]
    pub fn http_status(mut self, value: u16) -> Self {
        if let FaultKind::Aadsts { status, .. } = &mut self.kind {
            *status = Some(value);
        }
        self
    }
}

/// The OAuth error, HTTP status and default description Entra uses for `code`.
pub(crate) fn code_defaults(code: u32) -> (&'static str, u16, &'static str) {
    match code {
        50076 => (
            "invalid_grant",
            400,
            "Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access the resource.",
        ),
        50079 => (
            "invalid_grant",
            400,
            "Due to a configuration change made by your administrator, or because you moved to a new location, you must enroll in multi-factor authentication to access the resource.",
        ),
        53003 => ("invalid_grant", 400, "Access has been blocked by Conditional Access policies."),
        65001 => (
            "invalid_grant",
            400,
            "The user or administrator has not consented to use the application. Send an interactive authorization request for this user and resource.",
        ),
        50013 => ("invalid_grant", 400, "Assertion failed signature validation."),
        500133 => ("invalid_grant", 400, "Assertion is not within its valid time range."),
        7000114 => (
            "invalid_grant",
            400,
            "Application is not allowed to make application on-behalf-of calls.",
        ),
        501481 => (
            "invalid_grant",
            400,
            "The Code_Verifier does not match the code_challenge supplied in the authorization request.",
        ),
        54005 => (
            "invalid_grant",
            400,
            "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.",
        ),
        70000 => {
            ("invalid_grant", 400, "The provided value for the 'code' parameter is not valid.")
        }
        70008 => (
            "invalid_grant",
            400,
            "The provided authorization code or refresh token has expired due to inactivity.",
        ),
        50105 => (
            "invalid_grant",
            400,
            "The signed in user is not assigned to a role for the application.",
        ),
        70011 => (
            "invalid_scope",
            400,
            "The provided value for the input parameter 'scope' is not valid.",
        ),
        28000 => (
            "invalid_scope",
            400,
            "Provided value for the input parameter scope is not valid because it contains more than one resource.",
        ),
        28003 => {
            ("invalid_scope", 400, "Provided value for the input parameter scope cannot be empty.")
        }
        90014 => ("invalid_request", 400, "The required field is missing from the request."),
        900144 => ("invalid_request", 400, "The request body must contain the required parameter."),
        70003 => ("unsupported_grant_type", 400, "The app requested an unsupported grant type."),
        500011 => ("invalid_resource", 400, "The resource principal was not found in the tenant."),
        9010010 => (
            "invalid_request",
            400,
            "The resource parameter is not supported on the v2 endpoints: use scopes.",
        ),
        9002313 => ("invalid_request", 400, "Invalid request. Request is malformed or invalid."),
        50011 => (
            "invalid_request",
            400,
            "The redirect URI specified in the request does not match the redirect URIs configured for the application.",
        ),
        700016 => (
            "unauthorized_client",
            400,
            "Application was not found in the directory. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.",
        ),
        7000215 => (
            "invalid_client",
            401,
            "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.",
        ),
        7000222 => ("invalid_client", 401, "The provided client secret keys are expired."),
        7000218 => (
            "invalid_client",
            401,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        ),
        700027 => ("invalid_client", 401, "Client assertion failed signature validation."),
        700024 => ("invalid_client", 401, "Client assertion is not within its valid time range."),
        700021 => (
            "invalid_client",
            401,
            "Client assertion application identifier doesn't match 'client_id' parameter.",
        ),
        700023 => {
            ("invalid_client", 401, "Client assertion audience claim does not match Realm issuer.")
        }
        50027 => ("invalid_request", 400, "Invalid JWT token. Token format not valid."),
        1002012 => (
            "invalid_scope",
            400,
            "The provided value for scope is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier.",
        ),
        90002 => ("invalid_tenant", 400, "Tenant not found."),
        700025 => (
            "invalid_client",
            401,
            "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.",
        ),
        50126 => (
            "invalid_grant",
            400,
            "Error validating credentials due to invalid username or password.",
        ),
        _ => ("invalid_grant", 400, "The request failed."),
    }
}

/// Default suberror for a code.
fn code_suberror(code: u32) -> Option<&'static str> {
    match code {
        50076 | 50079 | 53003 => Some("basic_action"),
        65001 => Some("consent_required"),
        _ => None,
    }
}

/// An Entra error response: status, body.
#[derive(Clone, Debug)]
pub(crate) struct ErrorReply {
    pub(crate) status: u16,
    pub(crate) body: Value,
    pub(crate) retry_after: Option<u64>,
}

/// Builds an error body for `code` with a specific description (or the default).
pub(crate) fn aadsts_reply(code: u32, description: Option<String>, now: i64) -> ErrorReply {
    fault_reply(
        &FaultKind::Aadsts {
            code,
            error: None,
            description,
            suberror: None,
            claims: None,
            status: None,
        },
        now,
    )
    .unwrap_or_else(|| ErrorReply { status: 400, body: json!({}), retry_after: None })
}

/// The response of a fault, or `None` for a pure delay.
pub(crate) fn fault_reply(kind: &FaultKind, now: i64) -> Option<ErrorReply> {
    let trace = uuid::Uuid::new_v4().to_string();
    let correlation = uuid::Uuid::new_v4().to_string();
    let ts = timestamp(now);
    let body = |error: &str, code: u32, text: &str| {
        json!({
            "error": error,
            "error_description": format!(
                "AADSTS{code}: {text} Trace ID: {trace} Correlation ID: {correlation} Timestamp: {ts}"
            ),
            "error_codes": [code],
            "timestamp": ts,
            "trace_id": trace,
            "correlation_id": correlation,
            "error_uri": format!("https://login.microsoftonline.com/error?code={code}"),
        })
    };
    match kind {
        FaultKind::Delay => None,
        FaultKind::Throttled(secs) => Some(ErrorReply {
            status: 429,
            body: body("temporarily_unavailable", 50196, "The server is throttling requests."),
            retry_after: Some(*secs),
        }),
        FaultKind::Status(status) => Some(ErrorReply {
            status: *status,
            body: body("temporarily_unavailable", 90033, "A transient error has occurred."),
            retry_after: None,
        }),
        FaultKind::Aadsts { code, error, description, suberror, claims, status } => {
            let (default_error, default_status, default_text) = code_defaults(*code);
            let mut b = body(
                error.as_deref().unwrap_or(default_error),
                *code,
                description.as_deref().unwrap_or(default_text),
            );
            if let Some(map) = b.as_object_mut() {
                if let Some(s) = suberror.as_deref().or(code_suberror(*code)) {
                    map.insert("suberror".into(), json!(s));
                }
                if let Some(c) = claims {
                    map.insert("claims".into(), json!(c));
                }
            }
            Some(ErrorReply {
                status: status.unwrap_or(default_status),
                body: b,
                retry_after: None,
            })
        }
    }
}

/// `YYYY-MM-DD hh:mm:ssZ`, as Entra formats `timestamp`.
pub(crate) fn timestamp(unix: i64) -> String {
    let utc = entra_core::words::utc(unix);
    format!("{}Z", utc.strip_suffix(" UTC").unwrap_or(&utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        assert_eq!(timestamp(0), "1970-01-01 00:00:00Z");
        assert_eq!(timestamp(1_700_000_000), "2023-11-14 22:13:20Z");
        assert_eq!(timestamp(951_782_400), "2000-02-29 00:00:00Z");
    }

    #[test]
    fn aadsts_body_shape() {
        let f = Fault::aadsts(50076).claims("{}");
        let r = fault_reply(&f.kind, 0).unwrap();
        assert_eq!(r.status, 400);
        assert_eq!(r.body["error"], "invalid_grant");
        assert_eq!(r.body["error_codes"][0], 50076);
        assert_eq!(r.body["suberror"], "basic_action");
        assert_eq!(r.body["claims"], "{}");
        assert!(r.body["error_description"].as_str().unwrap().starts_with("AADSTS50076: "));
        let core = entra_core::EntraErrorResponse::parse(r.body.to_string().as_bytes()).unwrap();
        assert_eq!(core.aadsts(), Some(50076));
        assert!(fault_reply(&Fault::delay(Duration::from_millis(1)).kind, 0).is_none());
        assert_eq!(fault_reply(&Fault::throttled(3).kind, 0).unwrap().retry_after, Some(3));
    }
}
