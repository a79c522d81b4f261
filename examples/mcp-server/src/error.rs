//! The error of setting the server up.

/// Why [`router`](crate::router) could not build the MCP server.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The protected resource (its URL, its metadata) or the bearer layer could
    /// not be set up.
    #[error("cannot set up the protected resource")]
    Resource(#[source] entra_axum::Error),
    /// The app has no client credential, so it cannot call Microsoft Graph or
    /// other APIs on behalf of users.
    #[error(
        "no token exchanger: set a client credential (a secret, a certificate or a federated token file)"
    )]
    NoExchanger,
    /// The downstream-API client could not be built.
    #[error("cannot build the downstream api client")]
    Downstream(#[source] entra_obo::Error),
    /// The teams configuration or its Microsoft Graph group source is invalid.
    #[error("invalid teams configuration")]
    Teams(#[source] entra_teams::Error),
    /// The resource URL is not an absolute `http(s)` URL with a path.
    #[error("invalid resource url: {reason}")]
    ResourceUrl {
        /// What is wrong.
        reason: &'static str,
    },
}

impl Error {
    /// A stable code for logs: `resource`, `no_exchanger`, `downstream`,
    /// `teams` or `resource_url`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Resource(_) => "resource",
            Self::NoExchanger => "no_exchanger",
            Self::Downstream(_) => "downstream",
            Self::Teams(_) => "teams",
            Self::ResourceUrl { .. } => "resource_url",
        }
    }
}
