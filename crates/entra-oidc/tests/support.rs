//! Shared set-up: a mock Entra, a web client registered there, and helpers that
//! play the browser.

use entra_core::{CredentialConfig, LoginStateStore, ManualClock};
use entra_oidc::{CallbackParams, Client, Config, SignedIn};
use entra_testkit::{MockEntra, TestApp, TestUser};

pub(crate) const REDIRECT: &str = "http://localhost:3000/auth/callback";
pub(crate) const SECRET: &str = "web-secret~value";

/// A mock, a registered web app, a user, a clock shared by both sides.
pub(crate) struct Env {
    pub(crate) mock: MockEntra,
    pub(crate) app: TestApp,
    pub(crate) alice: TestUser,
    pub(crate) clock: ManualClock,
}

impl Env {
    pub(crate) async fn start() -> Self {
        let clock = ManualClock::starting_now();
        let mock = MockEntra::builder().clock(clock.clone()).start().await.unwrap();
        let app = mock.register_app(
            TestApp::new("web-app")
                .secret(SECRET)
                .redirect_uri(REDIRECT)
                .post_logout_redirect_uri("http://localhost:3000/"),
        );
        let api = mock.default_api();
        mock.grant_consent(&app.client_id, &api.app_id_uri(), &["access_as_user"]);
        let alice =
            mock.add_user(TestUser::new("alice@contoso.com").name("Alice").roles(["Admin"]));
        Self { mock, app, alice, clock }
    }

    /// The web app's configuration at the mock's default tenant.
    pub(crate) fn config(&self) -> Config {
        let mut c = Config::new(self.mock.authority(), self.app.client_id.clone());
        c.identity.credential = Some(CredentialConfig::secret(SECRET));
        c.redirect_uri = Some(REDIRECT.into());
        c
    }

    pub(crate) fn client(&self, config: Config) -> Client {
        Client::builder(config).clock(self.clock.clone()).build().unwrap()
    }

    pub(crate) fn client_with_store(
        &self,
        config: Config,
        store: impl LoginStateStore + 'static,
    ) -> Client {
        Client::builder(config).clock(self.clock.clone()).state_store(store).build().unwrap()
    }
}

/// Completes a sign-in as the browser that carries the callback's own `state`
/// in its cookie: for tests about what comes after the browser check.
pub(crate) trait CompleteOwn {
    async fn complete_own(&self, params: &CallbackParams) -> entra_oidc::Result<SignedIn>;
}

impl CompleteOwn for Client {
    async fn complete_own(&self, params: &CallbackParams) -> entra_oidc::Result<SignedIn> {
        let cookie = params.state.clone().unwrap_or_default();
        self.complete(params, &cookie).await
    }
}

/// A reqwest client that, like a test harness playing the browser, does not
/// follow redirects.
pub(crate) fn browser() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// Follows the authorization URL non-interactively and returns the `Location`
/// Entra redirects to.
pub(crate) async fn authorize_location(url: &str) -> String {
    let resp = browser().get(url).send().await.unwrap();
    assert_eq!(resp.status(), 302, "authorize did not redirect: {}", resp.text().await.unwrap());
    resp.headers()["location"].to_str().unwrap().to_owned()
}

/// Follows the authorization URL and parses the callback from the redirect.
pub(crate) async fn authorize(url: &str) -> CallbackParams {
    CallbackParams::from_url(&authorize_location(url).await).unwrap()
}

/// The name/value pairs of the hidden inputs of a `form_post` page, as the
/// browser would POST them.
pub(crate) fn form_post_body(html: &str) -> String {
    let mut pairs = Vec::new();
    for input in html.split("<input").skip(1) {
        let attr = |name: &str| {
            let start = input.find(&format!("{name}=\""))? + name.len() + 2;
            let end = input[start..].find('"')? + start;
            Some(
                input[start..end]
                    .replace("&amp;", "&")
                    .replace("&quot;", "\"")
                    .replace("&#39;", "'"),
            )
        };
        if let (Some(n), Some(v)) = (attr("name"), attr("value")) {
            pairs.push((n, v));
        }
    }
    serde_urlencoded::to_string(pairs).unwrap()
}

/// Decodes the claims of a JWT without checking anything (for assertions only).
pub(crate) fn jwt_claims(token: &str) -> serde_json::Value {
    use base64::Engine as _;
    let payload = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap();
    serde_json::from_slice(&bytes).unwrap()
}
