//! Overage resolved over HTTP against the mocked Entra of entra-testkit: the user
//! token is validated by entra-jwks, exchanged On-Behalf-Of by entra-obo for a
//! Graph token, and the groups come from the mock's `getMemberObjects`.

use std::time::Duration;

use entra_core::{ClientCredential, Secret, ValidatedToken};
use entra_jwks::Validator;
use entra_obo::Obo;
use entra_teams::{
    Config, Error, GraphGroupSource, GroupSource, GroupsOrigin, MembershipSource, MemoryDirectory,
    TeamSync,
};
use entra_testkit::{Fault, MockEntra, TestApp, TestUser};

const SECRET: &str = "teams-api-secret";

struct Setup {
    mock: MockEntra,
    api: TestApp,
    alice: TestUser,
}

/// A mock Entra with an API app (`access_as_user`) that has `graph_scopes`
/// consented for Microsoft Graph, and Alice in 250 groups.
async fn setup(graph_scopes: &[&str]) -> Setup {
    let mock = MockEntra::start().await;
    let api =
        mock.register_app(TestApp::new("teams-api").secret(SECRET).expose_scope("access_as_user"));
    if !graph_scopes.is_empty() {
        mock.grant_consent(&api.client_id, "https://graph.microsoft.com", graph_scopes);
    }
    let alice = mock.add_user(TestUser::new("alice@contoso.com").with_random_groups(250));
    Setup { mock, api, alice }
}

impl Setup {
    async fn user_token(&self) -> ValidatedToken {
        let raw = self.mock.access_token(&self.alice, &self.api);
        let validator =
            Validator::builder(self.mock.authority(), self.api.client_id.clone()).build().unwrap();
        validator.validate(&raw).await.unwrap()
    }

    fn obo(&self) -> Obo {
        Obo::builder(
            self.mock.authority(),
            self.api.client_id.clone(),
            ClientCredential::secret(Secret::new(SECRET)),
        )
        .max_attempts(1)
        .build()
        .unwrap()
    }

    fn source(&self) -> GraphGroupSource<Obo> {
        GraphGroupSource::builder(self.obo(), &self.mock.cloud()).build().unwrap()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_with_250_groups_is_resolved_through_graph_via_obo() {
    let s = setup(&["GroupMember.Read.All"]).await;
    let token = s.user_token().await;
    assert!(token.claims().groups.is_none(), "250 groups cause overage");
    assert!(token.claims().claim_names.is_some());

    let g = &s.alice.groups;
    let config = Config::from_json(&format!(
        r#"{{
            "rules": [
                {{"group_id": "{}", "teams": ["first"]}},
                {{"group_id": "{}", "teams": ["last"], "role": "developer"}},
                {{"group_id": "00000000-0000-4000-8000-00000000dead", "teams": ["never"]}}
            ],
            "admin_groups": ["{}"],
            "default_role": "viewer",
            "create_missing_teams": true
        }}"#,
        g[0].to_uppercase(),
        g[249],
        g[100]
    ))
    .unwrap();
    let sync = TeamSync::builder(config).group_source(s.source()).build().unwrap();
    let dir = MemoryDirectory::new();
    let user = token.claims().identity_key().unwrap();
    dir.add_member(&user, "hand-made", MembershipSource::Manual);
    s.mock.clear_requests();

    let out = sync.sync(&token, &dir).await.unwrap();
    assert_eq!(out.mapping.groups, GroupsOrigin::GroupSource);
    assert_eq!(out.mapping.teams.iter().collect::<Vec<_>>(), ["first", "last"]);
    assert_eq!(out.mapping.role.as_deref(), Some("developer"));
    assert!(out.mapping.admin);
    assert_eq!(out.mapping.matched.len(), 3);
    assert_eq!(out.plan.kept_manual.iter().collect::<Vec<_>>(), ["hand-made"]);
    assert_eq!(dir.members_of(&user).len(), 3);

    // One OBO exchange for the cloud's Graph, one getMemberObjects, nothing else
    // (in particular not the `_claim_sources` endpoint).
    let token_requests = s.mock.token_requests();
    assert_eq!(token_requests.len(), 1);
    let form = &token_requests[0].form;
    let field = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    assert_eq!(field("grant_type"), Some("urn:ietf:params:oauth:grant-type:jwt-bearer"));
    assert_eq!(field("requested_token_use"), Some("on_behalf_of"));
    assert_eq!(field("scope"), Some(format!("{}/.default", s.mock.uri()).as_str()));
    assert_eq!(s.mock.count("/v1.0/me/getMemberObjects"), 1);
    assert_eq!(s.mock.requests().len(), 2, "only the token endpoint and Graph");

    // Within the cache TTL, the same user costs no request at all.
    let again = sync.resolve(&token).await.unwrap();
    assert_eq!(again.teams, out.mapping.teams);
    assert_eq!(s.mock.requests().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paged_answers_are_followed() {
    let s = setup(&["GroupMember.Read.All"]).await;
    s.mock.set_graph_page_size(Some(100));
    let token = s.user_token().await;
    let groups = s.source().groups(&token).await.unwrap();
    assert_eq!(groups.len(), 250);
    let mut want: Vec<String> = s.alice.groups.iter().map(|g| g.to_ascii_lowercase()).collect();
    want.sort();
    assert_eq!(groups, want);
    assert_eq!(s.mock.count("getMemberObjects"), 3);

    // A bound of 2 pages refuses the third.
    let bounded = GraphGroupSource::builder(s.obo(), &s.mock.cloud()).max_pages(2).build().unwrap();
    let err = bounded.groups(&token).await.unwrap_err();
    assert!(matches!(err, Error::TooManyPages { limit: 2 }), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graph_refusing_names_the_permission_to_grant() {
    // Consent for Graph exists, but only for a scope that cannot read memberships.
    let s = setup(&["Mail.Read"]).await;
    let token = s.user_token().await;
    let err = s.source().groups(&token).await.unwrap_err();
    assert!(matches!(err, Error::GraphForbidden { status: 403, .. }), "{err}");
    let text = err.to_string();
    assert!(text.contains("GroupMember.Read.All") && text.contains("admin consent"), "{text}");
    assert!(!err.is_transient());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn obo_refusal_is_wrapped_with_its_source() {
    // No consent for Graph at all: Entra refuses the exchange (AADSTS65001).
    let s = setup(&[]).await;
    let token = s.user_token().await;
    let err = s.source().groups(&token).await.unwrap_err();
    assert!(matches!(err, Error::GraphToken { .. }), "{err}");
    assert!(!err.is_transient());
    let source = std::error::Error::source(&err).unwrap();
    let obo = source.downcast_ref::<entra_obo::Error>().expect("entra_obo::Error as source");
    assert_eq!(obo.aadsts(), Some(65001));
    assert_eq!(s.mock.count("getMemberObjects"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outages_are_transient() {
    let s = setup(&["GroupMember.Read.All"]).await;
    let token = s.user_token().await;

    s.mock.fail_graph_next(1, Fault::throttled(3));
    let err = s.source().groups(&token).await.unwrap_err();
    assert!(
        matches!(err, Error::GraphUnavailable { status: 429, retry_after: Some(d) } if d == Duration::from_secs(3)),
        "{err}"
    );
    assert!(err.is_transient());

    s.mock.fail_next(1, Fault::status(503));
    let err = s.source().groups(&token).await.unwrap_err();
    assert!(matches!(err, Error::GraphToken { .. }) && err.is_transient(), "{err}");
    assert!(err.is_transient());

    // Errors are not cached: the next attempt succeeds.
    assert_eq!(s.source().groups(&token).await.unwrap().len(), 250);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_first_requests_cost_one_exchange_and_one_graph_call() {
    let s = setup(&["GroupMember.Read.All"]).await;
    let token = s.user_token().await;
    let source = std::sync::Arc::new(s.source());
    s.mock.clear_requests();
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (source, token) = (source.clone(), token.clone());
            tokio::spawn(async move { source.groups(&token).await })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap().unwrap().len(), 250);
    }
    assert_eq!(s.mock.token_requests().len(), 1);
    assert_eq!(s.mock.count("getMemberObjects"), 1);
}
