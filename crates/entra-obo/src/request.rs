//! One OBO token request: the form, the retries and the answer.

use std::hash::BuildHasher;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use entra_core::http::{HttpError, HttpErrorKind, TokenRequest, TokenResponse};
use entra_core::{AccessToken, Secret};
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
    let mut request = TokenRequest::new(token_url)
        .param("grant_type", JWT_BEARER)
        .param("client_id", inner.client_id.as_str())
        .param("assertion", assertion.expose_secret())
        .param("scope", scopes.scope_param())
        .param("requested_token_use", "on_behalf_of");
    if let Some(claims) = inner.claims_param(claims) {
        request = request.param("claims", &claims);
    }
    let request = request
        .client_auth(&auth)
        .timeout(inner.retry.request_timeout)
        .limit(inner.retry.max_response_size);

    let policy = inner.retry;
    // Waits and the budget run on the clock seam: tests with a manual clock
    // spend no real time on retries.
    let started = inner.clock.now();
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
        let result = request.send(&inner.http, inner.clock.now()).instrument(span.clone()).await;
        span.record("status", result.as_ref().map_or_else(HttpError::status, |_| Some(200)));
        let (error, wait) = match classify(inner, result, scopes) {
            Attempt::Done(result) => {
                span.record("outcome", outcome(&result));
                return result;
            }
            Attempt::Retry { error, wait } => (error, wait),
        };
        span.record("outcome", outcome_of(&error));
        let wait = wait.unwrap_or_else(|| policy.backoff(attempt));
        let elapsed = inner.clock.now().duration_since(started).unwrap_or_default();
        if attempt >= policy.max_attempts || elapsed.saturating_add(wait) > policy.budget {
            return Err(error);
        }
        tracing::debug!(parent: &span, wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX), "retrying token request");
        inner.clock.sleep(wait).await;
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

/// What one answer of the token endpoint (from the HTTP layer, which parsed
/// the token response or Entra's error document) means for the exchange.
fn classify(
    inner: &Inner,
    result: std::result::Result<TokenResponse, HttpError>,
    scopes: &Scopes,
) -> Attempt {
    let e = match result {
        Ok(response) => return Attempt::Done(issued(inner, response, scopes)),
        Err(e) => e,
    };
    if matches!(e.kind(), HttpErrorKind::Transport | HttpErrorKind::Timeout) {
        tracing::warn!(error = %e, "token request failed on the network");
        return Attempt::Retry { error: Error::Transport(Arc::new(e)), wait: None };
    }
    let invalid = |status, reason| Attempt::Done(Err(Error::InvalidResponse { status, reason }));
    match e.into_kind() {
        // The default client follows no redirect; a host client that does would
        // have followed it already. Never resend the form somewhere else.
        HttpErrorKind::Redirected { status } => {
            invalid(status, "the token endpoint redirected (redirects are not followed)")
        }
        HttpErrorKind::TooLarge { status, .. } => {
            invalid(status, "the response body is larger than the limit")
        }
        HttpErrorKind::InvalidBody { status, reason } => invalid(status, reason),
        HttpErrorKind::Status { status: 429, retry_after } => Attempt::Retry {
            error: Error::Throttled { retry_after, response: None },
            wait: retry_after,
        },
        HttpErrorKind::Status { status, retry_after } if status >= 500 => Attempt::Retry {
            error: Error::Unavailable { status, response: None },
            wait: retry_after,
        },
        HttpErrorKind::Status { status, .. } => invalid(status, "not an Entra error document"),
        HttpErrorKind::Entra { status: 429, retry_after, response } => Attempt::Retry {
            error: Error::Throttled { retry_after, response: Some(response) },
            wait: retry_after,
        },
        HttpErrorKind::Entra { status, retry_after, response } if status >= 500 => {
            if response.kind().is_transient() {
                let error = Error::Unavailable { status, response: Some(response) };
                Attempt::Retry { error, wait: retry_after }
            } else {
                Attempt::Done(Err(Error::from_entra(status, *response)))
            }
        }
        HttpErrorKind::Entra { status, response, .. } => {
            let e = Error::from_entra(status, *response);
            tracing::debug!(aadsts = ?e.aadsts(), "entra refused the exchange");
            Attempt::Done(Err(e))
        }
        _ => Attempt::Done(Err(Error::Config {
            reason: "the token request could not be built (check the token endpoint url)".into(),
        })),
    }
}

/// The issued token: `expires_in` is required here (the cache needs it).
fn issued(inner: &Inner, response: TokenResponse, scopes: &Scopes) -> Result<Issued> {
    let invalid = |reason| Error::InvalidResponse { status: 200, reason };
    let expires_in = response.expires_in.ok_or_else(|| invalid("no expires_in"))?;
    let granted = match response.scope.as_deref() {
        Some(_) => response.scopes(),
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
    Ok(Issued { token: AccessToken::new(response.access_token, expires_at, granted), expires_in })
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
}
