//! A protected MCP-like server with the facade, the mocked Entra behind it, and
//! a scripted browser.

use std::future::IntoFuture as _;

use axum::Router;
use axum::routing::post;
use entra_axum::{Caller, EntraAuth, Error as AxumError};
use entra_core::{ClientCredential, Secret};
use entra_mcp::{Facade, FacadeBuilder};
use entra_testkit::{MockEntra, TestApp, TestUser};
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};

pub(crate) const LOOPBACK_REDIRECT: &str = "http://127.0.0.1/callback";

pub(crate) struct Server {
    /// Kept alive for the test's duration.
    pub(crate) _mock: MockEntra,
    pub(crate) base: String,
    pub(crate) user: TestUser,
    pub(crate) http: reqwest::Client,
}

/// A tool: who called, and a Graph token on their behalf.
async fn tool(caller: Caller) -> Result<String, AxumError> {
    let graph = caller.on_behalf_of("https://graph.microsoft.com").await?;
    Ok(format!("{} graph:{}", caller.object_id(), graph.scopes.join(" ")))
}

impl Server {
    /// Starts the mock and a server whose facade is built by `configure`.
    pub(crate) async fn start_with(configure: impl FnOnce(FacadeBuilder) -> FacadeBuilder) -> Self {
        let mock = MockEntra::start().await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let api = mock.register_app(
            TestApp::new("mcp-server")
                .secret("s3cret")
                .expose_scope("access_as_user")
                .redirect_uri(format!("{base}/oauth/callback")),
        );
        mock.grant_consent(&api.client_id, "https://graph.microsoft.com", &["User.Read"]);
        let user = mock.add_user(TestUser::new("alice@contoso.com").name("Alice"));
        mock.set_auto_login(Some(&user));
        let credential = ClientCredential::secret(Secret::new("s3cret"));
        let auth = EntraAuth::builder(mock.authority(), api.client_id.clone())
            .credential(credential.clone())
            .build()
            .unwrap();
        let mcp = auth.resource(&format!("{base}/mcp"), ["access_as_user"]).unwrap();
        let facade =
            configure(Facade::builder(&auth, &mcp).credential(credential)).build().unwrap();
        let app = Router::new()
            .route("/mcp", post(tool))
            .layer(mcp.bearer().require_scope("access_as_user"))
            .merge(mcp.metadata_router())
            .layer(facade);
        tokio::spawn(axum::serve(listener, app).into_future());
        let http =
            reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Self { _mock: mock, base, user, http }
    }

    pub(crate) async fn start() -> Self {
        Self::start_with(|b| b).await
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Registers a client with `redirect_uris`; returns its id.
    pub(crate) async fn register(&self, redirect_uris: &[&str]) -> String {
        let r = self
            .http
            .post(self.url("/oauth/register"))
            .json(&serde_json::json!({ "client_name": "Test client", "redirect_uris": redirect_uris }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        let body: serde_json::Value = r.json().await.unwrap();
        body["client_id"].as_str().unwrap().to_owned()
    }
}

/// What a client sends to `/oauth/authorize`.
pub(crate) struct AuthRequest {
    pub(crate) client_id: String,
    pub(crate) redirect_uri: String,
    pub(crate) verifier: String,
    pub(crate) state: String,
}

impl AuthRequest {
    pub(crate) fn new(client_id: &str, redirect_uri: &str) -> Self {
        Self {
            client_id: client_id.to_owned(),
            redirect_uri: redirect_uri.to_owned(),
            verifier: "v".repeat(43) + "erifier-of-the-client",
            state: "client-state-1".to_owned(),
        }
    }

    pub(crate) fn challenge(&self) -> String {
        use base64::Engine as _;
        let digest =
            aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, self.verifier.as_bytes());
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest)
    }

    pub(crate) fn query(&self) -> String {
        let challenge = self.challenge();
        url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs([
                ("response_type", "code"),
                ("client_id", &self.client_id),
                ("redirect_uri", &self.redirect_uri),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
                ("state", &self.state),
                ("scope", "offline_access"),
            ])
            .finish()
    }
}

pub(crate) fn location(r: &reqwest::Response) -> String {
    r.headers()[LOCATION].to_str().unwrap().to_owned()
}

/// The `name=value` of the cookie `name` set by `r`.
pub(crate) fn set_cookie(r: &reqwest::Response, name: &str) -> String {
    r.headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok()?.split(';').next())
        .find(|c| c.starts_with(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no cookie {name}"))
        .to_owned()
}

/// The value of the hidden form field `name` in a consent page.
pub(crate) fn field(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).unwrap_or_else(|| panic!("no field {name}")) + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

/// A consent page: its transaction, CSRF token and cookie.
pub(crate) struct Consent {
    pub(crate) html: String,
    pub(crate) txn: String,
    pub(crate) csrf: String,
    pub(crate) cookie: String,
}

impl Server {
    pub(crate) async fn consent_page(&self, request: &AuthRequest) -> Consent {
        let r = self
            .http
            .get(format!("{}?{}", self.url("/oauth/authorize"), request.query()))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{:?}", r.headers());
        let cookie = set_cookie(&r, "mcp-consent");
        let html = r.text().await.unwrap();
        Consent { txn: field(&html, "txn"), csrf: field(&html, "csrf_token"), cookie, html }
    }

    /// Approves, signs in at the mock (auto-login) and returns the redirect to
    /// the client (`redirect_uri?code=...&state=...&iss=...`).
    pub(crate) async fn approve(&self, consent: &Consent) -> String {
        let r = self
            .http
            .post(self.url("/oauth/consent"))
            .header(COOKIE, &consent.cookie)
            .form(&[
                ("txn", &consent.txn),
                ("csrf_token", &consent.csrf),
                ("decision", &"approve".into()),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        let state_cookie = set_cookie(&r, "mcp-state");
        let entra = self.http.get(location(&r)).send().await.unwrap();
        assert_eq!(entra.status(), 302, "the mock signs the user in");
        let callback =
            self.http.get(location(&entra)).header(COOKIE, state_cookie).send().await.unwrap();
        assert_eq!(callback.status(), 303);
        location(&callback)
    }

    /// The whole browser part: a code for `request`.
    pub(crate) async fn code_for(&self, request: &AuthRequest) -> String {
        let consent = self.consent_page(request).await;
        self.code_for_consent(request, &consent).await
    }

    /// The browser part after the consent page.
    pub(crate) async fn code_for_consent(
        &self,
        request: &AuthRequest,
        consent: &Consent,
    ) -> String {
        let back = self.approve(consent).await;
        let url = url::Url::parse(&back).unwrap();
        let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(q["state"], request.state);
        assert_eq!(q["iss"], self.base);
        q["code"].clone()
    }

    pub(crate) async fn redeem(
        &self,
        request: &AuthRequest,
        code: &str,
        verifier: &str,
    ) -> reqwest::Response {
        self.http
            .post(self.url("/oauth/token"))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("client_id", &request.client_id),
                ("redirect_uri", &request.redirect_uri),
                ("code_verifier", verifier),
            ])
            .send()
            .await
            .unwrap()
    }

    pub(crate) async fn refresh(&self, client_id: &str, handle: &str) -> reqwest::Response {
        self.http
            .post(self.url("/oauth/token"))
            .form(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", handle),
                ("client_id", client_id),
            ])
            .send()
            .await
            .unwrap()
    }
}

pub(crate) async fn error_of(r: reqwest::Response) -> (u16, String) {
    let status = r.status().as_u16();
    let body: serde_json::Value = r.json().await.unwrap();
    (status, body["error"].as_str().unwrap_or_default().to_owned())
}
