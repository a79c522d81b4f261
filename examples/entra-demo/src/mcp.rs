//! Where the MCP server (`examples/mcp-server`) is mounted.

use axum::Router;

use crate::vars::AppVars;

/// The JSON-RPC body of the printed `curl`: the `whoami` tool.
pub(crate) const WHOAMI_CALL: &str =
    r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami","arguments":{}}}"#;

/// The RFC 9728 metadata URL of the resource `url` (`http://host/mcp` ->
/// `http://host/.well-known/oauth-protected-resource/mcp`).
pub(crate) fn metadata_url(url: &str) -> String {
    match url.split_once("://").and_then(|(scheme, rest)| Some((scheme, rest.split_once('/')?))) {
        Some((scheme, (host, path))) => {
            format!("{scheme}://{host}/.well-known/oauth-protected-resource/{path}")
        }
        None => url.to_owned(),
    }
}

/// The MCP server for the app registration of `vars`, published at `url`.
///
/// The MCP server crate is not in this branch yet: this mounts nothing.
pub(crate) async fn router(
    vars: &AppVars,
    url: &str,
    teams: entra_teams::Config,
) -> Result<Router, String> {
    let _ = (vars, url, teams);
    Ok(Router::new())
}
