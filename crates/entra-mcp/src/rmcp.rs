//! rmcp helpers: the caller of a tool call, from the HTTP request that carried
//! it.

use entra_axum::Caller;
use futures_util::FutureExt as _;
use rmcp::handler::server::common::{AsRequestContext, FromContextPart};
use rmcp::service::{RequestContext, RoleServer};

/// The validated caller of an rmcp tool call, as a tool parameter; it
/// dereferences to [`Caller`]:
///
/// ```
/// use entra_mcp::{McpCaller, tool_error};
/// use rmcp::model::{CallToolResult, ContentBlock};
/// use rmcp::{ErrorData, tool, tool_router};
///
/// #[derive(Clone)]
/// struct Tools;
///
/// #[tool_router(server_handler)]
/// impl Tools {
///     #[tool(description = "Who am I, and what may I do in Graph as me?")]
///     async fn whoami(&self, caller: McpCaller) -> Result<CallToolResult, ErrorData> {
///         let graph = caller.on_behalf_of("https://graph.microsoft.com").await.map_err(tool_error)?;
///         let text = format!("{}: {}", caller.key(), graph.scopes.join(" "));
///         Ok(CallToolResult::success(vec![ContentBlock::text(text)]))
///     }
/// }
/// ```
///
/// It needs rmcp's streamable HTTP server (which hands the HTTP request to the
/// tool) under an entra-axum bearer layer; otherwise the call fails with an
/// `invalid_request` error naming what is missing. The [`Caller`] holds the
/// validated token ([`Caller::token`]) and On-Behalf-Of ([`Caller::on_behalf_of`]).
#[derive(Clone, Debug)]
pub struct McpCaller(pub Caller);

impl std::ops::Deref for McpCaller {
    type Target = Caller;

    fn deref(&self) -> &Caller {
        &self.0
    }
}

/// The caller of the tool call in `ctx`; see [`McpCaller`].
///
/// # Errors
/// An rmcp `invalid_request` error when the request did not come over HTTP, or
/// not through a bearer layer, or has no authenticated caller.
pub fn caller(ctx: &RequestContext<RoleServer>) -> Result<Caller, rmcp::ErrorData> {
    let missing = |what: &str| rmcp::ErrorData::invalid_request(what.to_owned(), None);
    let parts = ctx
        .extensions
        .get::<http::request::Parts>()
        .ok_or_else(|| missing("the tool call did not come over streamable HTTP"))?;
    let mut parts = parts.clone();
    // The extractor finishes without awaiting anything.
    let extracted =
        <Caller as axum::extract::FromRequestParts<()>>::from_request_parts(&mut parts, &())
            .now_or_never();
    match extracted {
        Some(Ok(caller)) => Ok(caller),
        _ => Err(missing("the tool call has no authenticated caller (no bearer layer?)")),
    }
}

impl<C: AsRequestContext> FromContextPart<C> for McpCaller {
    fn from_context_part(context: &mut C) -> Result<Self, rmcp::ErrorData> {
        caller(context.as_request_context()).map(McpCaller)
    }
}

/// An entra-axum error (On-Behalf-Of, a scope check) as an rmcp tool error,
/// with its stable code in `data` and no token or claim in the message.
pub fn tool_error(e: entra_axum::Error) -> rmcp::ErrorData {
    let data = serde_json::json!({ "code": e.code() });
    rmcp::ErrorData::internal_error(e.to_string(), Some(data))
}
