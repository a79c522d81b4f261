//! Shared setup: a mock Entra and a validator sharing one manual clock.

use std::sync::Arc;

use entra_core::ManualClock;
use entra_jwks::{Validator, ValidatorBuilder};
use entra_testkit::{MockEntra, TestApp, TestUser};

pub(crate) struct Setup {
    pub(crate) mock: MockEntra,
    pub(crate) clock: ManualClock,
    pub(crate) api: TestApp,
    pub(crate) alice: TestUser,
}

pub(crate) async fn setup() -> Setup {
    let clock = ManualClock::starting_now();
    let mock = MockEntra::builder().clock(clock.clone()).start().await.unwrap();
    let api = mock.register_app(
        TestApp::new("mcp-server").expose_scope("access_as_user").app_role("Tasks.Read"),
    );
    let alice = mock.add_user(TestUser::new("alice@contoso.com").name("Alice"));
    Setup { mock, clock, api, alice }
}

impl Setup {
    /// A validator for the API in the mock's default tenant.
    pub(crate) fn builder(&self) -> ValidatorBuilder {
        Validator::builder(self.mock.authority(), self.api.client_id.clone())
            .clock(Arc::new(self.clock.clone()))
            .http_client(reqwest::Client::new())
    }

    pub(crate) fn validator(&self) -> Validator {
        self.builder().build().unwrap()
    }

    pub(crate) fn token(&self) -> String {
        self.mock.access_token(&self.alice, &self.api)
    }
}
