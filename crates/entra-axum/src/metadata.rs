//! RFC 9728 OAuth 2.0 Protected Resource Metadata, and the protected resource
//! that serves it and challenges with it.

use std::fmt;
use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::response::Response;
use axum::routing::get;
use http::HeaderValue;
use http::header::{ACCESS_CONTROL_ALLOW_ORIGIN, CACHE_CONTROL, CONTENT_TYPE};
use serde::Serialize;

use crate::{BearerLayer, Error, Result};

/// The well-known path suffix of RFC 9728.
const WELL_KNOWN: &str = "/.well-known/oauth-protected-resource";

/// The metadata document of a protected resource (RFC 9728 section 2), served
/// without authentication at its well-known URL
/// ([`ResourceMetadata::well_known_url`]).
///
/// ```
/// use entra_axum::ResourceMetadata;
/// let m = ResourceMetadata::new("https://mcp.example.com/mcp")?
///     .authorization_server("https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0")
///     .scope("api://6e74172b-be56-4843-9ff4-e66a39bb12e3/access_as_user");
/// // The well-known segment goes between the host and the resource's path.
/// assert_eq!(m.well_known_url(), "https://mcp.example.com/.well-known/oauth-protected-resource/mcp");
/// assert_eq!(m.to_json()["bearer_methods_supported"], serde_json::json!(["header"]));
/// # Ok::<(), entra_axum::Error>(())
/// ```
#[derive(Clone, Serialize)]
#[non_exhaustive]
pub struct ResourceMetadata {
    /// The resource identifier: the URL clients call (`https://host/mcp`).
    pub resource: String,
    /// The authorization servers' issuer identifiers (the Entra v2 authority,
    /// `https://login.microsoftonline.com/{tenant}/v2.0`, or an OAuth facade).
    pub authorization_servers: Vec<String>,
    /// Fully qualified scopes clients may request (`api://<client-id>/access_as_user`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub scopes_supported: Vec<String>,
    /// How tokens may be presented: only `header`.
    pub bearer_methods_supported: Vec<String>,
    /// A human-readable name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_name: Option<String>,
    /// A page documenting the resource.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_documentation: Option<String>,
    #[serde(skip)]
    well_known_url: String,
}

impl fmt::Debug for ResourceMetadata {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResourceMetadata")
            .field("resource", &self.resource)
            .field("authorization_servers", &self.authorization_servers)
            .field("scopes_supported", &self.scopes_supported)
            .finish_non_exhaustive()
    }
}

impl ResourceMetadata {
    /// Metadata for the resource at `resource`: an `https` URL (plain `http` only
    /// on a loopback host) without query, fragment or credentials.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for any other URL.
    pub fn new(resource: &str) -> Result<Self> {
        let invalid = |reason: &str| Error::InvalidConfig {
            field: "resource",
            reason: format!("{reason}: {}", entra_core::shorten_untrusted(resource)),
        };
        let url = url::Url::parse(resource).map_err(|_| invalid("not a URL"))?;
        match url.scheme() {
            "https" => {}
            "http" if is_loopback(&url) => {}
            _ => return Err(invalid("must be https (http only on a loopback host)")),
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(invalid("has no host"));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(invalid("must not have a query or fragment"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(invalid("must not carry credentials"));
        }
        let path = url.path();
        if path.contains(['{', '}']) || path.split('/').any(|s| s.starts_with([':', '*'])) {
            return Err(invalid("its path cannot be routed"));
        }
        let well_known_path = well_known_path(path);
        let mut well_known = url.clone();
        well_known.set_path(&well_known_path);
        // The resource as the client knows it, without a slash added after the host.
        let resource = if path == "/" && !resource.ends_with('/') {
            url.as_str().trim_end_matches('/').to_owned()
        } else {
            url.to_string()
        };
        Ok(Self {
            resource,
            authorization_servers: Vec::new(),
            scopes_supported: Vec::new(),
            bearer_methods_supported: vec!["header".to_owned()],
            resource_name: None,
            resource_documentation: None,
            well_known_url: well_known.to_string(),
        })
    }

    /// Adds an authorization server (its issuer identifier).
    #[must_use]
    pub fn authorization_server(mut self, issuer: impl Into<String>) -> Self {
        self.authorization_servers.push(issuer.into());
        self
    }

    /// Adds a supported scope; pass it fully qualified.
    #[must_use]
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        self.scopes_supported.push(scope.into());
        self
    }

    /// Sets the human-readable name.
    #[must_use]
    pub fn resource_name(mut self, name: impl Into<String>) -> Self {
        self.resource_name = Some(name.into());
        self
    }

    /// Sets the documentation URL.
    #[must_use]
    pub fn resource_documentation(mut self, url: impl Into<String>) -> Self {
        self.resource_documentation = Some(url.into());
        self
    }

    /// The path the document is served at: the well-known suffix inserted
    /// before the resource's path (`/mcp` -> `/.well-known/oauth-protected-resource/mcp`).
    pub fn well_known_path(&self) -> &str {
        let start = self.well_known_url.find(WELL_KNOWN).unwrap_or(0);
        &self.well_known_url[start..]
    }

    /// The absolute URL of the document: the `resource_metadata` of challenges.
    pub fn well_known_url(&self) -> &str {
        &self.well_known_url
    }

    /// The document as JSON.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }

    /// A router serving the document with `GET` at [`ResourceMetadata::well_known_path`],
    /// unauthenticated, with `Access-Control-Allow-Origin: *` (browser-based MCP
    /// clients read it cross-origin) and a one-hour cache lifetime.
    pub fn router<S: Clone + Send + Sync + 'static>(&self) -> Router<S> {
        let body = Bytes::from(serde_json::to_vec(self).unwrap_or_default());
        let path = self.well_known_path().to_owned();
        Router::new().route(
            &path,
            get(move || {
                let body = body.clone();
                async move {
                    let mut r = Response::new(Body::from(body));
                    let h = r.headers_mut();
                    h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                    h.insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
                    h.insert(CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
                    r
                }
            }),
        )
    }
}

/// `/.well-known/oauth-protected-resource` followed by the resource's path, the
/// slash after the host dropped when there is no path (RFC 9728 section 3.1).
fn well_known_path(path: &str) -> String {
    if path == "/" || path.is_empty() {
        WELL_KNOWN.to_owned()
    } else {
        format!("{WELL_KNOWN}{path}")
    }
}

pub(crate) fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// A protected API or MCP endpoint: its metadata document and the bearer layer
/// whose challenges point at it. Built by [`EntraAuth::resource`](crate::EntraAuth::resource).
#[derive(Clone)]
pub struct ProtectedResource {
    metadata: Arc<ResourceMetadata>,
    layer: BearerLayer,
}

impl fmt::Debug for ProtectedResource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProtectedResource")
            .field("metadata", &self.metadata)
            .field("layer", &self.layer)
            .finish_non_exhaustive()
    }
}

impl ProtectedResource {
    /// A resource described by `metadata`, protected by `layer` (which gets the
    /// metadata URL as `resource_metadata`, and the resource as realm).
    pub fn new(metadata: ResourceMetadata, layer: BearerLayer) -> Self {
        let layer = layer
            .realm(metadata.resource.clone())
            .resource_metadata(metadata.well_known_url().to_owned());
        Self { metadata: Arc::new(metadata), layer }
    }

    /// The bearer layer for the resource's routes; add
    /// [`BearerLayer::require_scope`] for each route's requirement.
    pub fn bearer(&self) -> BearerLayer {
        self.layer.clone()
    }

    /// The metadata document.
    pub fn metadata(&self) -> &ResourceMetadata {
        &self.metadata
    }

    /// The router serving the metadata document (see [`ResourceMetadata::router`]).
    /// Merge it outside the bearer layer: it is public.
    pub fn metadata_router<S: Clone + Send + Sync + 'static>(&self) -> Router<S> {
        self.metadata.router()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_insertion() {
        for (resource, url) in [
            ("https://h/mcp", "https://h/.well-known/oauth-protected-resource/mcp"),
            ("https://h/a/b/", "https://h/.well-known/oauth-protected-resource/a/b/"),
            ("https://h", "https://h/.well-known/oauth-protected-resource"),
            ("https://h/", "https://h/.well-known/oauth-protected-resource"),
            (
                "http://127.0.0.1:8080/mcp",
                "http://127.0.0.1:8080/.well-known/oauth-protected-resource/mcp",
            ),
        ] {
            let m = ResourceMetadata::new(resource).unwrap();
            assert_eq!(m.well_known_url(), url, "{resource}");
            assert!(url.ends_with(m.well_known_path()));
        }
        assert_eq!(ResourceMetadata::new("https://h").unwrap().resource, "https://h");
        // Braces are percent-encoded by the URL parser, so they route literally.
        let m = ResourceMetadata::new("https://h/{id}").unwrap();
        assert_eq!(m.well_known_path(), "/.well-known/oauth-protected-resource/%7Bid%7D");
        assert_eq!(ResourceMetadata::new("https://h/").unwrap().resource, "https://h/");
    }

    #[test]
    fn refused_resources() {
        for bad in [
            "http://example.com/mcp",
            "ftp://h/x",
            "https://h/mcp?x=1",
            "https://h/mcp#f",
            "https://u:p@h/mcp",
            "https://h/:id",
            "not a url",
        ] {
            assert!(
                matches!(ResourceMetadata::new(bad), Err(Error::InvalidConfig { .. })),
                "{bad}"
            );
        }
    }
}
