//! The validated token inside rmcp tool handlers, and claims challenges sent
//! back to the MCP client at the HTTP level.
//!
//! rmcp hands each tool the `http::request::Parts` of the request that carried
//! it; the bearer layer put the validated token in their extensions, and
//! [`answer_challenges`] put a [`ChallengeSlot`] there. A tool that meets a
//! Conditional Access or CAE challenge leaves it in the slot; once rmcp has
//! produced its (JSON) response, [`answer_challenges`] replaces it with
//! entra-axum's `401 WWW-Authenticate: Bearer error="insufficient_claims"`.

use std::fmt;
use std::ops::Deref;
use std::sync::{Arc, Mutex, PoisonError};

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use entra_axum::Caller;
use entra_core::{AuthError, SeamError, ValidatedToken};
use rmcp::ErrorData;
use rmcp::handler::server::common::{AsRequestContext, FromContextPart};
use rmcp::model::CallToolResult;
use serde_json::json;

/// The caller of a tool: an rmcp extractor, so a tool gets it by naming it as
/// a parameter (`async fn whoami(&self, caller: ToolCaller)`). It dereferences
/// to [`entra_axum::Caller`] (identity, scopes, roles, the validated token).
#[derive(Clone)]
pub struct ToolCaller {
    caller: Caller,
    slot: Option<ChallengeSlot>,
}

impl fmt::Debug for ToolCaller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ToolCaller").field("caller", &self.caller).finish_non_exhaustive()
    }
}

impl Deref for ToolCaller {
    type Target = Caller;
    fn deref(&self) -> &Caller {
        &self.caller
    }
}

impl<C: AsRequestContext> FromContextPart<C> for ToolCaller {
    fn from_context_part(context: &mut C) -> Result<Self, ErrorData> {
        let parts = context.as_request_context().extensions.get::<http::request::Parts>();
        let token = parts.and_then(|p| p.extensions.get::<ValidatedToken>());
        // Only reachable when the server is mounted without its bearer layer.
        let unauthenticated = || ErrorData::invalid_request("no validated bearer token", None);
        let caller = token.cloned().and_then(Caller::from_token).ok_or_else(unauthenticated)?;
        let slot = parts.and_then(|p| p.extensions.get::<ChallengeSlot>()).cloned();
        Ok(Self { caller, slot })
    }
}

impl ToolCaller {
    /// The result of a tool whose downstream call failed. A claims challenge
    /// (Conditional Access at On-Behalf-Of, CAE at the API) is handed to the
    /// HTTP layer, which answers 401 `insufficient_claims` instead of this
    /// result; any other failure is a tool error naming its stable code.
    pub fn failure(&self, error: impl AuthError) -> CallToolResult {
        let code = error.code();
        let message = if error.claims_challenge().is_some() {
            "the user must satisfy a conditional access policy: sign in again with the claims challenge"
        } else if error.is_transient() {
            "a service is temporarily unavailable; try again shortly"
        } else if error.is_unauthorized() {
            "the downstream api cannot be reached on behalf of this user"
        } else {
            "the downstream call failed"
        };
        tracing::info!(code, error = %error, "tool call failed");
        if error.claims_challenge().is_some()
            && let Some(slot) = &self.slot
        {
            slot.put(SeamError::new(error));
        }
        CallToolResult::structured_error(json!({ "error": code, "message": message }))
    }
}

/// Where a tool leaves a claims challenge for [`answer_challenges`].
#[derive(Clone, Default)]
pub(crate) struct ChallengeSlot(Arc<Mutex<Option<SeamError>>>);

impl ChallengeSlot {
    fn put(&self, error: SeamError) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(error);
    }

    fn take(&self) -> Option<SeamError> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).take()
    }
}

/// The middleware between the bearer layer and rmcp: gives each request a
/// [`ChallengeSlot`], and answers with the challenge when a tool left one.
///
/// This works because the service runs stateless with JSON responses: rmcp
/// returns the HTTP response only once the tool has finished. (With SSE the
/// status would be sent before the tool runs; the challenge then stays a
/// tool error.)
pub(crate) async fn answer_challenges(mut request: Request, next: Next) -> Response {
    let slot = ChallengeSlot::default();
    request.extensions_mut().insert(slot.clone());
    let response = next.run(request).await;
    match slot.take() {
        // entra-axum writes the 401; the bearer layer adds its realm and
        // `resource_metadata` on the way out.
        Some(challenge) => entra_axum::Error::from(challenge).into_response(),
        None => response,
    }
}
