//! The MCP server of `examples/mcp-server`, on the app registration of its
//! variables, with its token cache in Redis when one is configured.

use std::sync::Arc;

use axum::Router;
use entra_axum::EntraAuth;
use entra_core::AppIdentity;

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
pub(crate) async fn router(
    vars: &AppVars,
    url: &str,
    teams: entra_teams::Config,
) -> Result<Router, String> {
    let lookup = |n: &str| vars.get(n);
    let fail = |e: &dyn std::fmt::Display| format!("the MCP server cannot start: {e}");
    let mut builder = EntraAuth::builder_from_vars(lookup, false).map_err(|e| fail(&e))?;
    if let Some(config) = entra_redis::RedisConfig::from_lookup(lookup).map_err(|e| fail(&e))? {
        let redis = entra_redis::Connection::connect(config).await.map_err(|e| fail(&e))?;
        let identity = AppIdentity::from_lookup(lookup).map_err(|e| fail(&e))?;
        let credential = identity
            .client_credential()
            .map_err(|e| fail(&e))?
            .ok_or_else(|| fail(&"a client credential is needed for On-Behalf-Of"))?;
        let obo = entra_obo::Obo::builder(identity.authority, identity.client_id, credential)
            .cache(entra_redis::TokenCache::new(&redis))
            .build()
            .map_err(|e| fail(&e))?;
        builder = builder.exchanger(Arc::new(obo));
    }
    let auth = builder.build().map_err(|e| fail(&e))?;
    mcp_server::router(&auth, mcp_server::Settings::new(url).teams(teams)).map_err(|e| fail(&e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_is_at_the_path_inserted_well_known_url() {
        assert_eq!(
            metadata_url("http://127.0.0.1:8000/mcp"),
            "http://127.0.0.1:8000/.well-known/oauth-protected-resource/mcp"
        );
        assert_eq!(metadata_url("not a url"), "not a url");
    }
}
