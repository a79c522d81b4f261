//! The embedded mock Entra and its directory: one tenant, the web app and the
//! MCP server's API, consent, groups, and users to sign in as.

use entra_core::env;
use entra_core::{ClientId, TenantId};
use entra_testkit::{MockEntra, TestApp, TestUser};

use crate::Plan;
use crate::mcp::WHOAMI_CALL;
use crate::vars::AppVars;

const TENANT: &str = "de30de30-0000-4000-8000-000000000001";
const WEB_APP: &str = "de30de30-0000-4000-8000-0000000000a1";
const MCP_API: &str = "de30de30-0000-4000-8000-0000000000a2";
const CLIENT: &str = "de30de30-0000-4000-8000-0000000000a3";
const PUBLIC: &str = "de30de30-0000-4000-8000-0000000000a4";
const WEB_SECRET: &str = "demo-web-secret";
const DOMAIN: &str = "contoso.example";
const GRAPH: &str = "https://graph.microsoft.com";
const GRAPH_SCOPES: [&str; 2] = ["User.Read", "GroupMember.Read.All"];

/// The group ids of the directory: a readable pattern, numbered.
fn group(n: u32) -> String {
    format!("de30de30-0000-4000-8000-{n:012x}")
}

/// The mock and what the demo prints about it.
pub(crate) struct Demo {
    mock: MockEntra,
    users: Vec<(TestUser, &'static str)>,
    api: TestApp,
}

fn id<T>(s: &str, f: fn(&str) -> Result<T, entra_core::Error>) -> Result<T, String> {
    f(s).map_err(|e| format!("bad built-in id {s}: {e}"))
}

/// Starts the mock on `port` of 127.0.0.1, seeds it for the web app at `web`,
/// and returns the settings of both apps.
pub(crate) async fn start(port: u16, web: &str) -> Result<Plan, String> {
    let listener = std::net::TcpListener::bind(("127.0.0.1", port))
        .map_err(|e| format!("cannot listen on 127.0.0.1:{port} for the mock Entra: {e}"))?;
    let mock = MockEntra::builder()
        .listener(listener)
        .tenant_id(id(TENANT, TenantId::parse)?)
        .seeded_client_ids(
            id(CLIENT, ClientId::parse)?,
            id(MCP_API, ClientId::parse)?,
            id(PUBLIC, ClientId::parse)?,
        )
        .start()
        .await
        .map_err(|e| format!("the mock Entra cannot start: {}", e.to_string_with_sources()))?;
    mock.add_domain(&mock.tenant_id(), DOMAIN);

    // The web app signs users in and asks for its own API scope, so that it can
    // call Microsoft Graph on their behalf (group overage).
    let web_app = mock.register_app(
        TestApp::new("Team Portal (sso-web)")
            .client_id(id(WEB_APP, ClientId::parse)?)
            .secret(WEB_SECRET)
            .redirect_uri(format!("{web}/callback"))
            .post_logout_redirect_uri(format!("{web}/"))
            .front_channel_logout_url(format!("{web}/logout/frontchannel"))
            .expose_scope("access_as_user")
            .app_role("Admin"),
    );
    let api = mock.default_api();
    mock.grant_consent(&web_app.client_id, GRAPH, &GRAPH_SCOPES);
    mock.grant_consent(&api.client_id, GRAPH, &GRAPH_SCOPES);
    // MCP clients (a confidential and a public one) may call the MCP server's API.
    for client in [mock.default_client(), mock.default_public_client()] {
        mock.grant_consent(&client.client_id, &api.app_id_uri(), &["access_as_user"]);
    }

    let users = seed_users(&mock);
    let teams = teams_config()?;
    let teams_json = serde_json::to_string(&teams).map_err(|e| e.to_string())?;

    let mut web_vars = AppVars::new();
    web_vars.set(&env::AUTHORITY, mock.authority().base_url());
    web_vars.set(&env::CLIENT_ID, web_app.client_id.as_str());
    web_vars.set(&env::CLIENT_SECRET, WEB_SECRET);
    web_vars.set(&env::REDIRECT_URI, format!("{web}/callback"));
    web_vars.set(&env::POST_LOGOUT_REDIRECT_URI, format!("{web}/"));
    web_vars.set(&env::API_SCOPE, format!("{}/access_as_user", web_app.app_id_uri()));
    web_vars.set(&env::ALLOWED_DOMAINS, DOMAIN);
    web_vars.set(&env::TEAMS_CONFIG, teams_json);

    let mut mcp_vars = AppVars::new();
    mcp_vars.set(&env::AUTHORITY, mock.authority().base_url());
    mcp_vars.set(&env::CLIENT_ID, api.client_id.as_str());
    mcp_vars.set(
        &env::CLIENT_SECRET,
        api.client_secret().map(|s| s.expose_secret().to_owned()).unwrap_or_default(),
    );
    Ok(Plan { web: web_vars, mcp: mcp_vars, teams, mock: Some(Demo { mock, users, api }) })
}

/// The users, each with what the demo shows about them.
fn seed_users(mock: &MockEntra) -> Vec<(TestUser, &'static str)> {
    let user = |name: &str, display: &str, n: u32| {
        TestUser::new(format!("{name}@{DOMAIN}"))
            .name(display)
            .oid(format!("de30de30-0000-4000-8000-00000000a{n:03x}"))
    };
    // 250 groups: more than an ID token carries (200), so Graph is asked.
    let many: Vec<String> = (1000..1250).map(group).collect();
    let users = [
        (user("alice", "Alice Example", 1).groups([group(1)]), "team platform, role developer"),
        (user("bob", "Bob Example", 2).groups([group(2)]), "team support, role viewer"),
        (
            user("admin", "Ada Admin", 3).roles(["Admin"]).groups([group(1), group(2)]),
            "app role Admin: admin, teams platform and support",
        ),
        (
            user("many-groups", "Morgan Manygroups", 4).groups(many),
            "250 groups: teams come through Microsoft Graph",
        ),
        (
            TestUser::new("mallory@fabrikam.example")
                .name("Mallory Outsider")
                .oid("de30de30-0000-4000-8000-00000000fab1"),
            "outside the allowed domains: refused",
        ),
    ];
    users.into_iter().map(|(u, note)| (mock.add_user(u), note)).collect()
}

/// Groups to teams and roles, and an app role to admin.
fn teams_config() -> Result<entra_teams::Config, String> {
    let json = serde_json::json!({
        "rules": [
            {"group_id": group(1), "teams": ["platform"], "role": "developer"},
            {"group_id": group(2), "teams": ["support"], "role": "viewer"},
            {"group_id": group(1200), "teams": ["data-platform", "analytics"], "role": "developer"},
            {"app_role": "Admin", "role": "admin", "admin": true}
        ],
        "default_role": "viewer",
        "role_precedence": ["admin", "developer", "viewer"]
    });
    entra_teams::Config::from_json(&json.to_string()).map_err(|e| format!("teams: {e}"))
}

impl Demo {
    /// The start-up print: what to open, who to pick, a ready `curl`.
    pub(crate) fn print(&self, web: &str, mcp_url: &str, redis: &str) {
        let mut users = String::new();
        for (u, note) in &self.users {
            users.push_str(&format!("  {:<30} {:<20} {note}\n", u.username, u.name));
        }
        let alice = &self.users[0].0;
        let token = self.mock.access_token(alice, &self.api);
        let metadata = crate::mcp::metadata_url(mcp_url);
        println!(
            "entra-demo: running on the embedded mock Entra (no Azure tenant). Ctrl-C stops everything.\n\n  \
             SSO web app   {web}/\n  \
             MCP server    {mcp_url}\n  \
             MCP metadata  {metadata}\n  \
             mock Entra    {authority}\n\n\
             Open the web app and sign in as one of these users (the mock's sign-in page lists them):\n\
             {users}\n\
             {redis}\n\n\
             Call the MCP server as {name} (a fresh token, valid for one hour):\n  \
             curl -s {mcp_url} -H 'Authorization: Bearer {token}' -H 'Content-Type: application/json' \
             -H 'Accept: application/json, text/event-stream' -d '{call}'\n",
            authority = self.mock.authority().base_url(),
            name = alice.name,
            call = WHOAMI_CALL,
        );
    }
}
