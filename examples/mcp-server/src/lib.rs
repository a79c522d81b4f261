//! An MCP server behind Microsoft Entra ID whose tools act as the calling user:
//! rmcp's streamable HTTP transport behind entra-axum's bearer layer, with RFC
//! 9728 protected-resource metadata, Microsoft Graph and other APIs reached
//! On-Behalf-Of the user, and Conditional Access challenges sent back to the
//! client as HTTP 401.
//!
//! # Example
//!
//! ```no_run
//! # #[tokio::main]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let auth = entra_axum::EntraAuth::api_from_env()?;
//! let app = mcp_server::router(&auth, mcp_server::Settings::new("http://localhost:8000/mcp"))?;
//! axum::serve(tokio::net::TcpListener::bind("127.0.0.1:8000").await?, app).await?;
//! # Ok(()) }
//! ```
//!
//! # Tools
//!
//! | tool | what it does |
//! |---|---|
//! | `whoami` | the identity of the validated access token |
//! | `my_profile` | Microsoft Graph `/v1.0/me`, On-Behalf-Of the caller (cached) |
//! | `my_teams` | teams and role from entra-teams (group overage through Graph) |
//! | `call_api` | GET on a configured API named by its managed resource identifier (`api://<id>`, whose `.default` scope is requested) |
//!
//! A tool reaches the caller by naming [`ToolCaller`] as a parameter.
//!
//! # How a claims challenge becomes an HTTP 401
//!
//! MCP clients answer `WWW-Authenticate: Bearer error="insufficient_claims",
//! claims="..."` on an HTTP 401, not inside a JSON-RPC result. rmcp writes the
//! HTTP response itself, so the server runs its streamable HTTP service
//! stateless with JSON responses (rmcp then answers a POST only after the tool
//! has finished), a middleware gives each request a slot, a tool that meets a
//! challenge (AADSTS50076 at On-Behalf-Of, or a CAE 401 from the API after one
//! retry with the claims) leaves it there, and the middleware replaces rmcp's
//! response with entra-axum's 401, which the bearer layer completes with its
//! realm and `resource_metadata`.
//!
//! # Security
//!
//! - Every MCP request needs a valid token for this app with the configured
//!   scope; the metadata is public.
//! - `call_api` reaches only the APIs given to [`Settings::api`], never a URL
//!   taken from the tool's arguments, and only under their base URL.
//! - rmcp refuses `Host` headers other than loopback and the resource URL's host.

mod caller;
mod error;
mod router;
mod server;
mod settings;

pub use caller::ToolCaller;
pub use error::Error;
pub use router::router;
pub use settings::Settings;
