//! `TeamSync` with `GraphGroupSource` over wiremock: overage goes to the
//! configured Graph, never to `_claim_sources`.

use std::time::{Duration, SystemTime};

use entra_core::{AccessToken, Cloud, Secret};
use entra_teams::{Config, GraphGroupSource, GroupsOrigin, TeamSync};
use entra_testkit::doubles::StaticExchanger;
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::{G_ENG, token};

/// An exchanger that hands out a fixed Graph token.
fn fixed_token() -> StaticExchanger {
    let expires = SystemTime::now() + Duration::from_secs(3600);
    StaticExchanger::issuing(AccessToken::new(Secret::new("graph-token"), expires, vec![]))
}

#[tokio::test]
async fn claim_sources_endpoint_is_never_called() {
    let graph = MockServer::start().await;
    let claim_source = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1.0/me/getMemberObjects"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"value": [G_ENG]})))
        .expect(1)
        .mount(&graph)
        .await;
    let cloud = Cloud::custom(&graph.uri(), &graph.uri()).unwrap();
    let source = GraphGroupSource::builder(fixed_token(), &cloud).build().unwrap();
    let config =
        Config::from_json(&format!(r#"{{"rules": [{{"group_id": "{G_ENG}", "teams": "eng"}}]}}"#))
            .unwrap();
    let sync = TeamSync::builder(config).group_source(source).build().unwrap();
    let endpoint = format!(
        "{}/72f988bf-86f1-41af-91ab-2d7cd011db47/users/x/getMemberObjects",
        claim_source.uri()
    );
    let t = token(json!({
        "_claim_names": {"groups": "src1"},
        "_claim_sources": {"src1": {"endpoint": endpoint}}
    }));
    let mapping = sync.resolve(&t).await.unwrap();
    assert_eq!(mapping.groups, GroupsOrigin::GroupSource);
    assert!(mapping.teams.contains("eng"));
    assert!(claim_source.received_requests().await.unwrap().is_empty());
}
