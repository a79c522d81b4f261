//! rmcp's own OAuth client (discovery, dynamic registration, PKCE) connects to a
//! small rmcp streamable-HTTP server protected by entra-axum and the facade,
//! against the mocked Entra, and calls a tool that uses On-Behalf-Of.

use std::future::IntoFuture as _;
use std::sync::Arc;

use axum::Router;
use entra_axum::EntraAuth;
use entra_core::{ClientCredential, Secret};
use entra_mcp::{Facade, McpCaller, tool_error};
use entra_testkit::{MockEntra, TestApp, TestUser};
use rmcp::model::{CallToolRequestParams, CallToolResult, ContentBlock};
use rmcp::transport::auth::{AuthClient, AuthorizationRequest, OAuthState};
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::{
    StreamableHttpClientTransport, StreamableHttpServerConfig, StreamableHttpService,
};
use rmcp::{ErrorData, ServiceExt as _, tool, tool_router};

use crate::support::{field, location, set_cookie};

#[derive(Clone)]
struct Tools;

#[tool_router(server_handler)]
impl Tools {
    #[tool(description = "Who is calling, and their Graph scopes")]
    async fn whoami(&self, McpCaller(caller): McpCaller) -> Result<CallToolResult, ErrorData> {
        let graph = caller.on_behalf_of("https://graph.microsoft.com").await.map_err(tool_error)?;
        let text = format!("{} graph:{}", caller.object_id(), graph.scopes.join(" "));
        Ok(CallToolResult::success(vec![ContentBlock::text(text)]))
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn rmcp_oauth_client_registers_signs_in_and_calls_a_tool_with_obo() {
    let mock = MockEntra::start().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let api = mock.register_app(
        TestApp::new("rmcp-server")
            .secret("s3cret")
            .expose_scope("access_as_user")
            .redirect_uri(format!("{base}/oauth/callback")),
    );
    mock.grant_consent(&api.client_id, "https://graph.microsoft.com", &["User.Read"]);
    let alice = mock.add_user(TestUser::new("alice@contoso.com"));
    mock.set_auto_login(Some(&alice));
    let credential = ClientCredential::secret(Secret::new("s3cret"));
    let auth = EntraAuth::builder(mock.authority(), api.client_id.clone())
        .credential(credential.clone())
        .build()
        .unwrap();

    let mcp = auth.resource(&format!("{base}/mcp"), ["access_as_user"]).unwrap();
    let service = StreamableHttpService::new(
        || Ok(Tools),
        Arc::new(LocalSessionManager::default()),
        StreamableHttpServerConfig::default(),
    );
    let app = Router::new()
        .route_service("/mcp", service)
        .layer(mcp.bearer().require_scope("access_as_user"))
        .merge(mcp.metadata_router())
        .layer(Facade::builder(&auth, &mcp).credential(credential).build().unwrap());
    tokio::spawn(axum::serve(listener, app).into_future());

    // rmcp's client: discovery from the server URL, registration, PKCE.
    let mut oauth = OAuthState::new(format!("{base}/mcp"), None).await.unwrap();
    let redirect_uri = "http://127.0.0.1:8765/callback";
    oauth
        .start_authorization(
            AuthorizationRequest::new(redirect_uri).with_client_name("rmcp test client"),
        )
        .await
        .unwrap();
    let authorize_url = oauth.get_authorization_url().await.unwrap();
    assert!(authorize_url.starts_with(&format!("{base}/oauth/authorize?")), "{authorize_url}");

    // The browser: the consent page, approve, the mock signs alice in.
    let browser =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let page = browser.get(&authorize_url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let consent_cookie = set_cookie(&page, "mcp-consent");
    let html = page.text().await.unwrap();
    assert!(html.contains("rmcp test client") && html.contains("127.0.0.1"));
    let r = browser
        .post(format!("{base}/oauth/consent"))
        .header("cookie", consent_cookie)
        .form(&[
            ("txn", field(&html, "txn")),
            ("csrf_token", field(&html, "csrf_token")),
            ("decision", "approve".into()),
        ])
        .send()
        .await
        .unwrap();
    let state_cookie = set_cookie(&r, "mcp-state");
    let entra = browser.get(location(&r)).send().await.unwrap();
    let back = browser.get(location(&entra)).header("cookie", state_cookie).send().await.unwrap();
    let to_client = location(&back);
    assert!(to_client.starts_with(redirect_uri), "{to_client}");

    // The client redeems the code (PKCE, iss checked) and connects.
    oauth.handle_callback_url(&to_client).await.unwrap();
    let manager = oauth.into_authorization_manager().unwrap();
    let transport = StreamableHttpClientTransport::with_client(
        AuthClient::new(reqwest::Client::default(), manager),
        StreamableHttpClientTransportConfig::with_uri(format!("{base}/mcp")),
    );
    let client = ().serve(transport).await.unwrap();
    let result = client.call_tool(CallToolRequestParams::new("whoami")).await.unwrap();
    let text = result.content[0].as_text().unwrap().text.clone();
    assert!(text.starts_with(&alice.oid), "{text}");
    assert!(text.contains("User.Read"), "{text}");
    client.cancel().await.unwrap();
}
