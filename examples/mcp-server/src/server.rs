//! The MCP server: four tools, each a few lines over the entra-* crates.

use std::sync::Arc;

use entra_obo::{Api, Downstream};
use entra_teams::TeamSync;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, ServerCapabilities, ServerConfig};
use rmcp::{ErrorData, ServerHandler, schemars, tool, tool_handler, tool_router};
use serde_json::{Value, json};

use crate::ToolCaller;

/// What every request's server shares: built once by [`crate::router`].
pub(crate) struct Shared {
    pub(crate) downstream: Downstream,
    pub(crate) teams: TeamSync,
    pub(crate) apis: Vec<Api>,
}

/// The server rmcp runs for each request (stateless: a clone per request).
#[derive(Clone)]
pub(crate) struct McpServer {
    shared: Arc<Shared>,
    tool_router: ToolRouter<Self>,
}

/// The arguments of `call_api`.
#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
pub(crate) struct CallApi {
    /// The managed resource identifier of a configured API, such as `api://<client-id>`.
    resource: String,
    /// The path to GET, relative to the API's base URL (`/orders?top=5`).
    path: String,
}

#[tool_router]
impl McpServer {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Self { shared, tool_router: Self::tool_router() }
    }

    #[tool(description = "Who is calling: the user (or app) of the validated Entra access token.")]
    async fn whoami(&self, caller: ToolCaller) -> Result<CallToolResult, ErrorData> {
        Ok(CallToolResult::structured(json!({
            "tenant_id": caller.tenant_id().as_str(),
            "object_id": caller.object_id(),
            "name": caller.name(),
            "username": caller.username(),
            "scopes": caller.scopes(),
            "roles": caller.roles(),
            "client_app_id": caller.client_app_id(),
            "app_only": caller.is_app_only(),
        })))
    }

    #[tool(description = "The caller's Microsoft Graph profile (/v1.0/me), read on their behalf.")]
    async fn my_profile(&self, caller: ToolCaller) -> Result<CallToolResult, ErrorData> {
        let graph = self.shared.downstream.graph();
        let me = self.shared.downstream.get::<Value>(caller.token(), graph, "/v1.0/me").await;
        Ok(me.map_or_else(|e| caller.failure(e), CallToolResult::structured))
    }

    #[tool(description = "The caller's teams and role, from their groups and app roles.")]
    async fn my_teams(&self, caller: ToolCaller) -> Result<CallToolResult, ErrorData> {
        match self.shared.teams.resolve(caller.token()).await {
            Ok(mapping) => Ok(CallToolResult::structured(json!(mapping))),
            Err(e) => Ok(caller.failure(e)),
        }
    }

    #[tool(
        description = "GET a path of a configured downstream API, named by its managed resource identifier, as the caller."
    )]
    async fn call_api(
        &self,
        caller: ToolCaller,
        Parameters(args): Parameters<CallApi>,
    ) -> Result<CallToolResult, ErrorData> {
        let wanted = args.resource.trim_end_matches('/');
        let Some(api) = self.shared.apis.iter().find(|a| {
            a.resource().is_some_and(|r| r.trim_end_matches('/').eq_ignore_ascii_case(wanted))
        }) else {
            let known: Vec<_> = self.shared.apis.iter().filter_map(Api::resource).collect();
            let unknown = json!({ "error": "unknown_api", "configured": known });
            return Ok(CallToolResult::structured_error(unknown));
        };
        let answer = self.shared.downstream.get::<Value>(caller.token(), api, &args.path).await;
        Ok(answer.map_or_else(|e| caller.failure(e), CallToolResult::structured))
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for McpServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build()).with_instructions(
            "Tools act as the signed-in Microsoft Entra user: whoami, my_profile (Microsoft Graph), my_teams, call_api.",
        )
    }
}
