//! rmcp's own client over streamable HTTP against the `mcp-server` example, on
//! loopback, with the mocked Entra (token endpoint, keys, Microsoft Graph) and
//! an Entra-protected downstream API of our own.

use std::future::IntoFuture as _;

use axum::routing::get;
use axum::{Json, Router};
use base64::Engine as _;
use entra_axum::{Caller, EntraAuth};
use entra_core::{ClientCredential, Secret};
use entra_obo::Api;
use entra_testkit::{Fault, MockEntra, TestApp, TestUser};
use mcp_server::Settings;
use rmcp::ServiceExt as _;
use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::service::{RoleClient, RunningService};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use serde_json::{Value, json};

const CLAIMS: &str = r#"{"access_token":{"acrs":{"essential":true,"value":"c1"}}}"#;
const GROUP: &str = "5e7e5e7e-0000-4000-8000-00000000f001";

struct World {
    mock: MockEntra,
    /// The MCP server's app registration.
    server: TestApp,
    /// The downstream API's app registration (`api://<id>`).
    orders: TestApp,
    alice: TestUser,
    /// `http://127.0.0.1:PORT/mcp`
    url: String,
}

async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(axum::serve(listener, app).into_future());
    base
}

/// The downstream API: accepts tokens for the orders app with its `read`
/// scope, and answers with the caller's identity.
async fn orders_api(mock: &MockEntra, orders: &TestApp) -> String {
    async fn list(caller: Caller) -> Json<Value> {
        Json(json!({ "owner": caller.object_id(), "orders": [{ "id": 1, "item": "tea" }] }))
    }
    let auth = EntraAuth::builder(mock.authority(), orders.client_id.clone()).build().unwrap();
    let app = Router::new().route("/orders", get(list)).layer(auth.bearer().require_scope("read"));
    serve(app).await
}

async fn world() -> World {
    let mock = MockEntra::start().await;
    let server = mock.register_app(
        TestApp::new("mcp-server").secret("server-secret").expose_scope("access_as_user"),
    );
    let orders = mock.register_app(TestApp::new("orders").expose_scope("read"));
    mock.grant_consent(&server.client_id, "https://graph.microsoft.com", &["User.Read"]);
    mock.grant_consent(&server.client_id, &orders.app_id_uri(), &["read"]);
    let alice =
        mock.add_user(TestUser::new("alice@contoso.com").name("Alice Smith").groups([GROUP]));

    let orders_base = orders_api(&mock, &orders).await;
    let auth = EntraAuth::builder(mock.authority(), server.client_id.clone())
        .credential(ClientCredential::secret(Secret::new("server-secret")))
        .build()
        .unwrap();
    let teams = entra_teams::Config::from_json(&format!(
        r#"{{"rules": [{{"group_id": "{GROUP}", "teams": ["platform"], "role": "developer"}}]}}"#
    ))
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/mcp", listener.local_addr().unwrap());
    let settings = Settings::new(&url)
        .teams(teams)
        .api(Api::new(&orders_base, orders.app_id_uri().as_str()).unwrap());
    let app = mcp_server::router(&auth, settings).unwrap();
    tokio::spawn(axum::serve(listener, app).into_future());
    World { mock, server, orders, alice, url }
}

impl World {
    fn token(&self) -> String {
        self.mock.access_token(&self.alice, &self.server)
    }

    async fn client(&self, token: Option<&str>) -> Result<RunningService<RoleClient, ()>, String> {
        let mut config = StreamableHttpClientTransportConfig::with_uri(self.url.as_str());
        if let Some(token) = token {
            config = config.auth_header(token);
        }
        let transport = StreamableHttpClientTransport::from_config(config);
        ().serve(transport).await.map_err(|e| format!("{e:?}"))
    }

    /// The OBO requests the mock received for `resource` (`{resource}/.default`).
    fn obo_requests(&self, resource: &str) -> usize {
        let scope = format!("{resource}/.default");
        self.mock
            .token_requests()
            .iter()
            .filter(|r| r.form_value("requested_token_use") == Some("on_behalf_of"))
            .filter(|r| r.form_value("scope") == Some(scope.as_str()))
            .count()
    }

    /// A raw `tools/call` with `token`, to look at the HTTP answer itself.
    async fn raw_call(&self, token: Option<&str>, tool: &str) -> reqwest::Response {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": tool, "arguments": {}}});
        let mut request = reqwest::Client::new()
            .post(&self.url)
            .header("accept", "application/json, text/event-stream")
            .json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.unwrap()
    }
}

fn call(tool: &'static str, arguments: Value) -> CallToolRequestParams {
    let params = CallToolRequestParams::new(tool);
    match arguments {
        Value::Object(map) => params.with_arguments(map),
        _ => params,
    }
}

fn structured(result: &CallToolResult) -> &Value {
    assert_eq!(result.is_error, Some(false), "{result:?}");
    result.structured_content.as_ref().unwrap()
}

fn metadata_url(world: &World) -> String {
    let base = world.url.trim_end_matches("/mcp");
    format!("{base}/.well-known/oauth-protected-resource/mcp")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_token_the_client_gets_401_with_resource_metadata() {
    let w = world().await;
    // Failing: no token, at the HTTP level and for rmcp's client.
    let refused = w.raw_call(None, "whoami").await;
    assert_eq!(refused.status(), 401);
    let challenge = refused.headers()["www-authenticate"].to_str().unwrap().to_owned();
    assert!(
        challenge.contains(&format!(r#"resource_metadata="{}""#, metadata_url(&w))),
        "{challenge}"
    );
    let e = w.client(None).await.unwrap_err();
    assert!(e.contains("401") || e.to_lowercase().contains("auth"), "{e}");
    // A token for another app is refused too.
    let other = w.mock.access_token(&w.alice, &w.orders);
    assert_eq!(w.raw_call(Some(&other), "whoami").await.status(), 401);
    // The metadata the challenge points at names the authority and the scope.
    let metadata: Value = reqwest::get(metadata_url(&w)).await.unwrap().json().await.unwrap();
    assert_eq!(metadata["resource"], w.url);
    assert_eq!(
        metadata["authorization_servers"][0],
        format!("{}/v2.0", w.mock.authority().base_url())
    );
    assert_eq!(
        metadata["scopes_supported"][0],
        format!("api://{}/access_as_user", w.server.client_id)
    );
    // Passing: with the user's token, the client initializes and lists the tools.
    let client = w.client(Some(&w.token())).await.unwrap();
    let mut tools: Vec<String> =
        client.list_all_tools().await.unwrap().into_iter().map(|t| t.name.into_owned()).collect();
    tools.sort();
    assert_eq!(tools, ["call_api", "my_profile", "my_teams", "whoami"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_tool_answers_as_the_user() {
    let w = world().await;
    let client = w.client(Some(&w.token())).await.unwrap();

    let me = client.call_tool(call("whoami", json!({}))).await.unwrap();
    let me = structured(&me);
    assert_eq!(me["object_id"], w.alice.oid.as_str());
    assert_eq!(me["tenant_id"], w.mock.tenant_id().as_str());
    assert_eq!(me["scopes"], json!(["access_as_user"]));
    assert_eq!(me["app_only"], false);

    let profile = client.call_tool(call("my_profile", json!({}))).await.unwrap();
    assert_eq!(structured(&profile)["displayName"], "Alice Smith");
    assert_eq!(structured(&profile)["id"], w.alice.oid.as_str());

    let teams = client.call_tool(call("my_teams", json!({}))).await.unwrap();
    assert_eq!(structured(&teams)["teams"], json!(["platform"]));
    assert_eq!(structured(&teams)["role"], "developer");

    // The API named by its managed resource identifier: `api://<id>/.default` is requested.
    let resource = w.orders.app_id_uri();
    let orders = client
        .call_tool(call("call_api", json!({ "resource": resource, "path": "/orders" })))
        .await
        .unwrap();
    assert_eq!(structured(&orders)["owner"], w.alice.oid.as_str());
    assert_eq!(w.obo_requests(&resource), 1);

    // Failing: an API that is not configured, and a path leaving the API.
    let unknown = client
        .call_tool(call("call_api", json!({ "resource": "api://elsewhere", "path": "/orders" })))
        .await
        .unwrap();
    assert_eq!(unknown.is_error, Some(true));
    assert_eq!(unknown.structured_content.unwrap()["error"], "unknown_api");
    let escape = client
        .call_tool(call("call_api", json!({ "resource": resource, "path": "//evil.example/x" })))
        .await
        .unwrap();
    assert_eq!(escape.is_error, Some(true));
    assert_eq!(escape.structured_content.unwrap()["error"], "invalid_api_url");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_profile_calls_make_one_obo_request() {
    let w = world().await;
    let client = w.client(Some(&w.token())).await.unwrap();
    for _ in 0..20 {
        let profile = client.call_tool(call("my_profile", json!({}))).await.unwrap();
        assert_eq!(structured(&profile)["id"], w.alice.oid.as_str());
    }
    let graph = w.mock.cloud().graph_base().to_owned();
    assert_eq!(w.obo_requests(&graph), 1);
    assert_eq!(w.mock.count("/v1.0/me"), 20);
    // Another user is another cache entry: one more request.
    let bob = w.mock.add_user(TestUser::new("bob@contoso.com"));
    let client = w.client(Some(&w.mock.access_token(&bob, &w.server))).await.unwrap();
    client.call_tool(call("my_profile", json!({}))).await.unwrap();
    assert_eq!(w.obo_requests(&graph), 2);
}

fn assert_claims_challenge(header: &str) {
    let b64 = base64::engine::general_purpose::STANDARD.encode(CLAIMS);
    assert!(header.starts_with("Bearer "), "{header}");
    assert!(header.contains(r#"error="insufficient_claims""#), "{header}");
    assert!(header.contains(&format!(r#"claims="{b64}""#)), "{header}");
    assert!(header.contains("resource_metadata="), "{header}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conditional_access_at_obo_is_an_http_401_with_the_claims() {
    let w = world().await;
    let token = w.token();
    let client = w.client(Some(&token)).await.unwrap();

    // AADSTS50076 with a claims challenge at the OBO exchange.
    w.mock.fail_next(1, Fault::aadsts(50076).claims(CLAIMS));
    let raw = w.raw_call(Some(&token), "my_profile").await;
    assert_eq!(raw.status(), 401);
    assert_claims_challenge(raw.headers()["www-authenticate"].to_str().unwrap());

    // The same through rmcp's client: a transport-level 401 carrying the challenge.
    w.mock.fail_next(1, Fault::aadsts(50076).claims(CLAIMS));
    let e = client.call_tool(call("my_profile", json!({}))).await.unwrap_err();
    assert!(e.is_authorization_required(), "{e:?}");
    assert_claims_challenge(e.auth_challenge().unwrap());

    // Passing: once Entra issues again, the same client's call answers.
    let profile = client.call_tool(call("my_profile", json!({}))).await.unwrap();
    assert_eq!(structured(&profile)["id"], w.alice.oid.as_str());
    // A tool that makes no OBO call is not affected by a queued fault.
    w.mock.fail_next(1, Fault::aadsts(50076).claims(CLAIMS));
    assert_eq!(w.raw_call(Some(&token), "whoami").await.status(), 200);
    w.mock.clear_faults();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cae_challenge_from_graph_is_retried_once_then_an_http_401() {
    let w = world().await;
    let client = w.client(Some(&w.token())).await.unwrap();
    client.call_tool(call("my_profile", json!({}))).await.unwrap();

    // Passing: one challenge; the server renews its Graph token with the claims.
    w.mock.fail_graph_next(1, Fault::aadsts(50076).claims(CLAIMS));
    let profile = client.call_tool(call("my_profile", json!({}))).await.unwrap();
    assert_eq!(structured(&profile)["id"], w.alice.oid.as_str());
    let with_claims = |w: &World| {
        w.mock.token_requests().iter().filter(|r| r.form_value("claims") == Some(CLAIMS)).count()
    };
    assert_eq!(with_claims(&w), 1);

    // Failing: Graph still asks after the renewal: the client gets the 401.
    w.mock.fail_graph_next(2, Fault::aadsts(50076).claims(CLAIMS));
    let e = client.call_tool(call("my_profile", json!({}))).await.unwrap_err();
    assert!(e.is_authorization_required(), "{e:?}");
    assert_claims_challenge(e.auth_challenge().unwrap());
    assert_eq!(with_claims(&w), 2);
}
