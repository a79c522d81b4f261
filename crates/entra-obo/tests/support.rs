//! Shared set-up: a mock, a middle-tier API app with a secret, a user token.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use entra_core::{Authority, ClientCredential, EntraClaims, ManualClock, Secret, ValidatedToken};
use entra_obo::{Obo, OboBuilder};
use entra_testkit::{MockEntra, RecordedRequest, TestApp, TestUser};

pub(crate) const API_SECRET: &str = "api-secret~with+special&chars=";

/// Wraps a token *without* verifying it: only for tokens no validator would pass
/// (no `tid`), to check the exchanger's own defences. Everything else goes
/// through [`MockEntra::verify_token`].
pub(crate) fn unverified(token: &str) -> ValidatedToken {
    let payload = token.split('.').nth(1).unwrap();
    let claims: EntraClaims =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    entra_core::dangerous::assume_validated(Secret::new(token), claims)
}

pub(crate) struct Env {
    pub(crate) mock: MockEntra,
    pub(crate) clock: ManualClock,
    /// The middle-tier app (the MCP server) that receives user tokens and does OBO.
    pub(crate) api: TestApp,
    /// A downstream API the middle tier calls as the user.
    pub(crate) downstream: TestApp,
    pub(crate) alice: TestUser,
}

impl Env {
    pub(crate) async fn start() -> Self {
        let clock = ManualClock::starting_now();
        let mock = MockEntra::builder().clock(clock.clone()).start().await.unwrap();
        let api = mock.register_app(
            TestApp::new("mcp-server").secret(API_SECRET).expose_scope("access_as_user"),
        );
        let downstream =
            mock.register_app(TestApp::new("crm").expose_scope("read").expose_scope("write"));
        mock.grant_consent(
            &api.client_id,
            "https://graph.microsoft.com",
            &["User.Read", "Mail.Read"],
        );
        mock.grant_consent(&api.client_id, &downstream.app_id_uri(), &["read", "write"]);
        let alice = mock.add_user(TestUser::new("alice@contoso.com").name("Alice"));
        Self { mock, clock, api, downstream, alice }
    }

    /// A user token for the middle-tier app.
    pub(crate) fn user_token(&self, user: &TestUser) -> ValidatedToken {
        self.mock.validated_token(user, &self.api)
    }

    pub(crate) fn builder_with(
        &self,
        authority: Authority,
        credential: ClientCredential,
    ) -> OboBuilder {
        Obo::builder(authority, self.api.client_id.clone(), credential)
            .clock(self.clock.clone())
            .backoff(Duration::from_millis(5), Duration::from_millis(20))
    }

    pub(crate) fn builder(&self) -> OboBuilder {
        self.builder_with(self.mock.authority(), ClientCredential::secret(Secret::new(API_SECRET)))
    }

    pub(crate) fn obo(&self) -> Obo {
        self.builder().build().unwrap()
    }

    pub(crate) fn token_requests(&self) -> Vec<RecordedRequest> {
        self.mock.token_requests()
    }
}

/// The claims of a token issued by the mock.
pub(crate) fn claims_of(token: &str) -> serde_json::Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}
