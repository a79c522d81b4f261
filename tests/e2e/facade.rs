//! The `mcp-server` example with its OAuth facade switched on (one setting):
//! rmcp's own OAuth client discovers it from the server URL, registers itself
//! (RFC 7591), signs the user in through the consent page and the mocked
//! Entra, redeems the code with PKCE, and calls a tool that uses On-Behalf-Of.

use std::future::IntoFuture as _;

use entra_axum::EntraAuth;
use entra_core::{ClientCredential, Secret};
use entra_testkit::{MockEntra, TestApp, TestUser};
use mcp_server::Settings;
use rmcp::ServiceExt as _;
use rmcp::model::CallToolRequestParams;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::auth::{AuthClient, AuthorizationRequest, OAuthState};
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;

fn location(r: &reqwest::Response) -> String {
    r.headers()["location"].to_str().unwrap().to_owned()
}

fn set_cookie(r: &reqwest::Response, name: &str) -> String {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok()?.split(';').next())
        .find(|c| c.starts_with(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no cookie {name}"))
        .to_owned()
}

fn field(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).unwrap_or_else(|| panic!("no field {name}")) + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_oauth_client_that_registers_itself_reaches_the_example_through_the_facade() {
    let mock = MockEntra::start().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = mock.register_app(
        TestApp::new("mcp-server")
            .secret("server-secret")
            .expose_scope("access_as_user")
            .redirect_uri(format!("{base}/oauth/callback")),
    );
    mock.grant_consent(&server.client_id, "https://graph.microsoft.com", &["User.Read"]);
    let alice = mock.add_user(TestUser::new("alice@contoso.com").name("Alice Smith"));
    mock.set_auto_login(Some(&alice));
    let credential = ClientCredential::secret(Secret::new("server-secret"));
    let auth = EntraAuth::builder(mock.authority(), server.client_id.clone())
        .credential(credential.clone())
        .build()
        .unwrap();
    let settings = Settings::new(format!("{base}/mcp")).facade(credential);
    let app = mcp_server::router(&auth, settings).unwrap();
    tokio::spawn(axum::serve(listener, app).into_future());

    // Without the facade switched on there is no authorization server here.
    let plain = mcp_server::router(&auth, Settings::new(format!("{base}/mcp"))).unwrap();
    let plain_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let plain_base = format!("http://{}", plain_listener.local_addr().unwrap());
    tokio::spawn(axum::serve(plain_listener, plain).into_future());
    let http = reqwest::Client::new();
    let r = http
        .get(format!("{plain_base}/.well-known/oauth-authorization-server"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r =
        http.get(format!("{base}/.well-known/oauth-authorization-server")).send().await.unwrap();
    assert_eq!(r.status(), 200);

    // rmcp's client: discovery from the server URL, registration, PKCE.
    let mut oauth = OAuthState::new(format!("{base}/mcp"), None).await.unwrap();
    let redirect_uri = "http://127.0.0.1:8765/callback";
    oauth
        .start_authorization(AuthorizationRequest::new(redirect_uri).with_client_name("e2e client"))
        .await
        .unwrap();
    let authorize_url = oauth.get_authorization_url().await.unwrap();
    assert!(authorize_url.starts_with(&format!("{base}/oauth/authorize?")), "{authorize_url}");

    // The browser's part: the consent page names the client; approve; the mock
    // signs Alice in; the facade sends the code to the client's loopback URI.
    let browser =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let page = browser.get(&authorize_url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let consent_cookie = set_cookie(&page, "mcp-consent");
    let html = page.text().await.unwrap();
    assert!(html.contains("e2e client"), "{html}");
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

    // The client redeems the code and calls the example's tools.
    oauth.handle_callback_url(&to_client).await.unwrap();
    let manager = oauth.into_authorization_manager().unwrap();
    let transport = StreamableHttpClientTransport::with_client(
        AuthClient::new(reqwest::Client::default(), manager),
        StreamableHttpClientTransportConfig::with_uri(format!("{base}/mcp")),
    );
    let client = ().serve(transport).await.unwrap();
    let whoami = client.call_tool(CallToolRequestParams::new("whoami")).await.unwrap();
    let who = serde_json::to_string(&whoami.structured_content).unwrap();
    assert!(who.contains(alice.oid.as_str()), "{who}");
    let profile = client.call_tool(CallToolRequestParams::new("my_profile")).await.unwrap();
    assert_eq!(profile.is_error, Some(false), "{profile:?}");
    let profile = serde_json::to_string(&profile.structured_content).unwrap();
    assert!(profile.contains("Alice Smith"), "{profile}");
    client.cancel().await.unwrap();
}
