//! The one public entry point: the MCP endpoint behind the bearer layer, and its
//! RFC 9728 metadata.

use std::sync::Arc;

use axum::Router;
use entra_axum::EntraAuth;
use entra_obo::Downstream;
use entra_teams::{GraphGroupSource, TeamSync};
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};

use crate::caller::answer_challenges;
use crate::server::{McpServer, Shared};
use crate::{Error, Settings};

/// The MCP server of `auth`'s app registration, published at
/// [`Settings::resource_url`]: the streamable HTTP endpoint at that URL's path,
/// behind entra-axum's bearer layer (requiring [`Settings::scope`]), and its
/// protected-resource metadata at the RFC 9728 well-known path. Merge it into
/// your app, or serve it alone.
///
/// `auth` needs a client credential: the tools call Microsoft Graph and other
/// APIs On-Behalf-Of the caller, through `auth`'s exchanger (one token cache).
///
/// # Errors
/// [`Error::ResourceUrl`] and [`Error::Resource`] for a resource URL that is
/// not absolute `https` (or `http` on loopback) with a path;
/// [`Error::NoExchanger`] without a client credential; [`Error::Teams`] for an
/// invalid teams configuration; [`Error::Downstream`].
pub fn router(auth: &EntraAuth, settings: Settings) -> Result<Router, Error> {
    let url = url::Url::parse(&settings.resource_url)
        .map_err(|_| Error::ResourceUrl { reason: "not an absolute url" })?;
    let path = url.path().to_owned();
    if path == "/" || !path.starts_with('/') {
        return Err(Error::ResourceUrl { reason: "the url needs a path, such as /mcp" });
    }
    let resource =
        auth.resource(&settings.resource_url, [&settings.scope]).map_err(Error::Resource)?;
    let exchanger = auth.exchanger().cloned().ok_or(Error::NoExchanger)?;
    let cloud = auth.authority().cloud();
    let downstream =
        Downstream::builder(exchanger.clone(), cloud).build().map_err(Error::Downstream)?;
    let groups = GraphGroupSource::builder(exchanger, cloud)
        .config(&settings.teams.graph)
        .build()
        .map_err(Error::Teams)?;
    let teams =
        TeamSync::builder(settings.teams).group_source(groups).build().map_err(Error::Teams)?;
    let server = McpServer::new(Arc::new(Shared { downstream, teams, apis: settings.apis }));

    // Stateless with JSON responses: each POST is answered once its tool has
    // finished, so a claims challenge can still become the HTTP status.
    let mut hosts = vec!["localhost".to_owned(), "127.0.0.1".to_owned(), "::1".to_owned()];
    hosts.extend(url.host_str().map(str::to_owned));
    let config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_allowed_hosts(hosts);
    let mcp = StreamableHttpService::new(
        move || Ok(server.clone()),
        Arc::new(NeverSessionManager::default()),
        config,
    );
    Ok(Router::new()
        .route_service(&path, mcp)
        .layer(axum::middleware::from_fn(answer_challenges))
        .layer(resource.bearer().require_scope(&settings.scope))
        .merge(resource.metadata_router()))
}
