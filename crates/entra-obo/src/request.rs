//! One OBO token request: the form, the retries and the answer.

use std::hash::BuildHasher;
use std::time::{Duration, Instant, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use entra_core::{AccessToken, EntraErrorResponse, Secret};
use reqwest::StatusCode;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use serde::Deserialize;
use tracing::Instrument;

use crate::obo::Inner;
use crate::{Error, Result, Scopes};

/// The OBO grant type.
pub(crate) const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// How often and how long failed requests are retried.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RetryPolicy {
    pub(crate) max_attempts: u32,
    pub(crate) initial_backoff: Duration,
    pub(crate) max_backoff: Duration,
    pub(crate) budget: Duration,
    pub(crate) request_timeout: Duration,
    pub(crate) max_response_size: usize,
}

/// The longest `expires_in` accepted: Entra issues at most about 28 hours (some
/// configurable lifetimes); anything beyond 48 hours is not a real token response.
pub(crate) const MAX_EXPIRES_IN: Duration = Duration::from_secs(48 * 60 * 60);

/// The longest `Retry-After` kept (longer ones are capped to it; any wait beyond
/// the retry budget ends the retries anyway).
const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(8),
            budget: Duration::from_secs(30),
            request_timeout: Duration::from_secs(10),
            max_response_size: 64 * 1024,
        }
    }
}

impl RetryPolicy {
    /// Exponential backoff with jitter for retry number `retry` (1-based).
    fn backoff(&self, retry: u32) -> Duration {
        let exp = self.initial_backoff.saturating_mul(1 << retry.saturating_sub(1).min(16));
        let full = exp.min(self.max_backoff);
        let half = full / 2;
        let jitter = std::collections::hash_map::RandomState::new().hash_one(retry);
        let nanos = u64::try_from(half.as_nanos()).unwrap_or(u64::MAX).max(1);
        half + Duration::from_nanos(jitter % nanos)
    }
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: Secret,
    #[serde(default)]
    expires_in: Option<NumberOrString>,
    #[serde(default)]
    scope: Option<String>,
}

/// Entra sends `expires_in` as a number; v1 endpoints and some proxies as a string.
#[derive(Deserialize)]
#[serde(untagged)]
enum NumberOrString {
    Number(u64),
    String(String),
}

impl NumberOrString {
    fn secs(&self) -> Option<u64> {
        match self {
            Self::Number(n) => Some(*n),
            Self::String(s) => s.trim().parse().ok(),
        }
    }
}

/// A token and its lifetime as the endpoint stated it.
pub(crate) struct Issued {
    pub(crate) token: AccessToken,
    pub(crate) expires_in: Duration,
}

/// What one attempt produced.
enum Attempt {
    Done(Result<Issued>),
    Retry { error: Error, wait: Option<Duration> },
}

/// Sends the OBO request for `assertion` to `token_url`, retrying 429, 5xx and
/// network failures within the policy.
pub(crate) async fn exchange(
    inner: &Inner,
    token_url: &str,
    assertion: &Secret,
    scopes: &Scopes,
    claims: Option<&str>,
) -> Result<Issued> {
    let auth = inner
        .credential
        .authenticate(&inner.client_id, token_url)
        .await
        .map_err(|e| Error::Credential(e.into()))?;
    let mut form: Vec<(&str, &str)> = vec![
        ("grant_type", JWT_BEARER),
        ("client_id", inner.client_id.as_str()),
        ("assertion", assertion.expose_secret()),
        ("scope", scopes.scope_param()),
        ("requested_token_use", "on_behalf_of"),
    ];
    if let Some(claims) = claims {
        form.push(("claims", claims));
    }
    form.extend(auth.form_fields());
    let body = Secret::new(serde_urlencoded::to_string(&form).map_err(|_| Error::Config {
        reason: "the token request could not be form-encoded".into(),
    })?);
    let basic = match auth.basic() {
        Some((user, password)) => {
            let enc =
                |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
            let mut value = HeaderValue::try_from(format!(
                "Basic {}",
                STANDARD.encode(format!("{}:{}", enc(user), enc(password)))
            ))
            .map_err(|_| Error::Config {
                reason: "the client secret cannot be sent in a header".into(),
            })?;
            value.set_sensitive(true);
            Some(value)
        }
        None => None,
    };

    let policy = inner.retry;
    let started = Instant::now();
    let mut attempt = 0;
    loop {
        attempt += 1;
        let span = tracing::info_span!(
            "entra_obo.token_request",
            endpoint = %token_url,
            attempt,
            status = tracing::field::Empty,
            outcome = tracing::field::Empty,
        );
        let result = send_once(inner, token_url, &body, basic.as_ref(), scopes)
            .instrument(span.clone())
            .await;
        let (error, wait) = match result {
            Attempt::Done(result) => {
                span.record("outcome", outcome(&result));
                return result;
            }
            Attempt::Retry { error, wait } => (error, wait),
        };
        span.record("outcome", outcome_of(&error));
        let wait = wait.unwrap_or_else(|| policy.backoff(attempt));
        let elapsed = started.elapsed();
        if attempt >= policy.max_attempts || elapsed.saturating_add(wait) > policy.budget {
            return Err(error);
        }
        tracing::debug!(parent: &span, wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX), "retrying token request");
        tokio::time::sleep(wait).await;
    }
}

fn outcome(result: &Result<Issued>) -> &'static str {
    match result {
        Ok(_) => "ok",
        Err(e) => outcome_of(e),
    }
}

fn outcome_of(e: &Error) -> &'static str {
    match e {
        Error::InteractionRequired { .. } => "interaction_required",
        Error::ConsentRequired { .. } => "consent_required",
        Error::InvalidScope { .. } => "invalid_scope",
        Error::InvalidClientCredential { .. } => "invalid_client",
        Error::WrongAudience { .. } => "wrong_audience",
        Error::AppOnlyToken { .. } => "app_only_token",
        Error::Throttled { .. } => "throttled",
        Error::Unavailable { .. } => "unavailable",
        Error::Transport(_) => "transport_error",
        Error::InvalidResponse { .. } => "invalid_response",
        _ => "refused",
    }
}

async fn send_once(
    inner: &Inner,
    token_url: &str,
    body: &Secret,
    basic: Option<&HeaderValue>,
    scopes: &Scopes,
) -> Attempt {
    let mut request = inner
        .http
        .post(token_url)
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(ACCEPT, "application/json")
        .timeout(inner.retry.request_timeout)
        .body(body.expose_secret().to_owned());
    if let Some(value) = basic {
        request = request.header(AUTHORIZATION, value.clone());
    }
    let response = match request.send().await {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(error = %e, "token request failed on the network");
            return Attempt::Retry { error: Error::Transport(e.into()), wait: None };
        }
    };
    let status = response.status();
    tracing::Span::current().record("status", status.as_u16());
    let retry_after =
        response.headers().get(RETRY_AFTER).and_then(|v| parse_retry_after(v, inner.clock.now()));
    if status.is_redirection() {
        // The default client follows no redirect; a host client that does would
        // have followed it already. Never resend the form somewhere else.
        return Attempt::Done(Err(Error::InvalidResponse {
            status: status.as_u16(),
            reason: "the token endpoint redirected (redirects are not followed)",
        }));
    }
    let bytes = match read_capped(response, inner.retry.max_response_size).await {
        Ok(Some(b)) => b,
        Ok(None) => {
            return Attempt::Done(Err(Error::InvalidResponse {
                status: status.as_u16(),
                reason: "the response body is larger than the limit",
            }));
        }
        Err(e) => return Attempt::Retry { error: Error::Transport(e.into()), wait: None },
    };
    if status.is_success() {
        return Attempt::Done(parse_token(inner, status, &bytes, scopes));
    }
    let entra = EntraErrorResponse::parse(&bytes).ok();
    let boxed = |r: Option<EntraErrorResponse>| r.map(Box::new);
    if status == StatusCode::TOO_MANY_REQUESTS {
        return Attempt::Retry {
            error: Error::Throttled { retry_after, response: boxed(entra) },
            wait: retry_after,
        };
    }
    if status.is_server_error() {
        let error = match entra {
            Some(r) if !r.kind().is_transient() => Error::from_entra(status.as_u16(), r),
            response => Error::Unavailable { status: status.as_u16(), response: boxed(response) },
        };
        return if error.is_transient() {
            Attempt::Retry { error, wait: retry_after }
        } else {
            Attempt::Done(Err(error))
        };
    }
    Attempt::Done(Err(match entra {
        Some(r) => {
            let e = Error::from_entra(status.as_u16(), r);
            tracing::debug!(aadsts = ?e.aadsts(), "entra refused the exchange");
            e
        }
        None => Error::InvalidResponse {
            status: status.as_u16(),
            reason: "not an Entra error document",
        },
    }))
}

/// The body, or `None` when it is (or announces to be) longer than `limit` bytes.
async fn read_capped(
    mut response: reqwest::Response,
    limit: usize,
) -> std::result::Result<Option<Vec<u8>>, reqwest::Error> {
    let announced = response.content_length().unwrap_or(0);
    if usize::try_from(announced).map_or(true, |n| n > limit) {
        return Ok(None);
    }
    let mut body = Vec::with_capacity(usize::try_from(announced).unwrap_or(0));
    while let Some(chunk) = response.chunk().await? {
        if chunk.len() > limit.saturating_sub(body.len()) {
            return Ok(None);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Some(body))
}

fn parse_token(inner: &Inner, status: StatusCode, bytes: &[u8], scopes: &Scopes) -> Result<Issued> {
    let invalid = |reason| Error::InvalidResponse { status: status.as_u16(), reason };
    let parsed: TokenResponse =
        serde_json::from_slice(bytes).map_err(|_| invalid("not a token response"))?;
    if parsed.access_token.is_empty() {
        return Err(invalid("empty access_token"));
    }
    let secs = parsed
        .expires_in
        .as_ref()
        .and_then(NumberOrString::secs)
        .ok_or_else(|| invalid("no expires_in"))?;
    let expires_in = Duration::from_secs(secs);
    if expires_in > MAX_EXPIRES_IN {
        return Err(invalid("expires_in is longer than 48 hours"));
    }
    let granted = match parsed.scope {
        Some(s) => s.split_ascii_whitespace().map(str::to_owned).collect(),
        None => scopes.as_slice().to_vec(),
    };
    // Whole seconds (rounded down), as the cache stores them.
    let expires_at = inner
        .clock
        .now()
        .checked_add(expires_in)
        .ok_or_else(|| invalid("expires_in out of range"))?;
    let expires_at = expires_at
        .duration_since(UNIX_EPOCH)
        .map_or(expires_at, |d| UNIX_EPOCH + Duration::from_secs(d.as_secs()));
    Ok(Issued { token: AccessToken::new(parsed.access_token, expires_at, granted), expires_in })
}

/// `Retry-After` as delay-seconds or as an HTTP date (RFC 9110 10.2.3), capped to
/// a day (a wait beyond the retry budget ends the retries at once); a date in the
/// past means "now".
fn parse_retry_after(value: &HeaderValue, now: std::time::SystemTime) -> Option<Duration> {
    let text = value.to_str().ok()?.trim();
    let wait = match text.parse::<u64>() {
        Ok(secs) => Duration::from_secs(secs),
        Err(_) => {
            let at = httpdate::parse_http_date(text).ok()?;
            at.duration_since(now).unwrap_or(Duration::ZERO)
        }
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let p = RetryPolicy {
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(400),
            ..RetryPolicy::default()
        };
        for retry in 1..20 {
            let d = p.backoff(retry);
            let full = Duration::from_millis(100 * (1 << (retry - 1).min(16)))
                .min(Duration::from_millis(400));
            assert!(d >= full / 2 && d <= full, "{retry}: {d:?}");
        }
    }

    #[test]
    fn retry_after_seconds_or_http_date() {
        // 2015-10-21T07:28:00Z
        let now = UNIX_EPOCH + Duration::from_secs(1_445_412_480);
        let parse = |v: &'static str| parse_retry_after(&HeaderValue::from_static(v), now);
        assert_eq!(parse("7"), Some(Duration::from_secs(7)));
        assert_eq!(parse("Wed, 21 Oct 2015 07:28:30 GMT"), Some(Duration::from_secs(30)));
        assert_eq!(parse("Wed, 21 Oct 2015 07:27:00 GMT"), Some(Duration::ZERO));
        assert_eq!(parse("Thu, 01 Jan 2099 00:00:00 GMT"), Some(MAX_RETRY_AFTER));
        assert_eq!(parse("18446744073709551615"), Some(MAX_RETRY_AFTER));
        assert_eq!(parse("soon"), None);
        assert_eq!(parse("-5"), None);
    }

    #[test]
    fn expires_in_number_or_string() {
        let t: TokenResponse =
            serde_json::from_str(r#"{"access_token":"a","expires_in":"3599"}"#).unwrap();
        assert_eq!(t.expires_in.unwrap().secs(), Some(3599));
        let t: TokenResponse =
            serde_json::from_str(r#"{"access_token":"a","expires_in":10}"#).unwrap();
        assert_eq!(t.expires_in.unwrap().secs(), Some(10));
    }
}
