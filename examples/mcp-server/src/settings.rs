//! What the server needs beyond the app registration: where it is published,
//! the scope it requires, the teams rules and the APIs `call_api` may reach.

use entra_obo::Api;

/// The settings of [`router`](crate::router).
///
/// ```
/// use mcp_server::Settings;
/// let settings = Settings::new("https://mcp.contoso.com/mcp").scope("access_as_user");
/// assert_eq!(settings.resource_url(), "https://mcp.contoso.com/mcp");
/// ```
#[derive(Clone, Debug)]
pub struct Settings {
    pub(crate) resource_url: String,
    pub(crate) scope: String,
    pub(crate) teams: entra_teams::Config,
    pub(crate) apis: Vec<Api>,
}

impl Settings {
    /// The settings of a server published at `resource_url`, the URL MCP clients
    /// call (`https://mcp.contoso.com/mcp`): its path is where the MCP endpoint
    /// is served, and it is the `resource` of the RFC 9728 metadata.
    pub fn new(resource_url: impl Into<String>) -> Self {
        Self {
            resource_url: resource_url.into(),
            scope: "access_as_user".to_owned(),
            teams: entra_teams::Config::default(),
            apis: Vec::new(),
        }
    }

    /// The delegated scope every call needs (a bare name, qualified with the
    /// app's App ID URI). Defaults to `access_as_user`.
    #[must_use]
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = scope.into();
        self
    }

    /// The rules turning groups and roles into teams, for `my_teams`; group
    /// overage is resolved through Microsoft Graph on behalf of the user.
    /// Defaults to [`entra_teams::Config::default`] (no rules).
    #[must_use]
    pub fn teams(mut self, config: entra_teams::Config) -> Self {
        self.teams = config;
        self
    }

    /// Adds a downstream API that `call_api` may call, named by its managed
    /// resource identifier (`api://<client-id>`, whose `.default` scope is
    /// requested). No other API can be reached through the tool. Defaults to
    /// none.
    #[must_use]
    pub fn api(mut self, api: Api) -> Self {
        self.apis.push(api);
        self
    }

    /// The URL MCP clients call.
    pub fn resource_url(&self) -> &str {
        &self.resource_url
    }
}
