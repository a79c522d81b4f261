//! `Downstream` (feature `downstream`): calls to Microsoft Graph of the mock as
//! the user, over real HTTP, with its continuous access evaluation retry.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use entra_core::{AccessToken, Secret, TokenExchanger};
use entra_obo::{Api, Downstream, Error};
use entra_testkit::doubles::StaticExchanger;
use entra_testkit::{Fault, TestApp};
use serde_json::{Value, json};

use crate::support::{Env, claims_of};

const CLAIMS: &str = r#"{"access_token":{"nbf":{"essential":true,"value":"1700000000"}}}"#;

fn downstream(env: &Env) -> Downstream {
    Downstream::from_obo(&env.obo()).build().unwrap()
}

fn graph_requests(env: &Env) -> Vec<entra_testkit::RecordedRequest> {
    env.mock.requests().into_iter().filter(|r| r.path.starts_with("/v1.0/")).collect()
}

#[tokio::test]
async fn calls_graph_of_the_cloud_as_the_user_with_a_cached_token() {
    let env = Env::start().await;
    let d = downstream(&env);
    let user = env.user_token(&env.alice);
    assert_eq!(d.graph().base_url(), env.mock.cloud().graph_base());
    for _ in 0..3 {
        let me: Value = d.get(&user, d.graph(), "/v1.0/me").await.unwrap();
        assert_eq!(me["id"], env.alice.oid.as_str());
        assert_eq!(me["displayName"], "Alice");
    }
    // One exchange for the Graph resource of the cloud, then the cache.
    let tokens = env.token_requests();
    assert_eq!(tokens.len(), 1);
    let scope = format!("{}/.default", env.mock.cloud().graph_base());
    assert_eq!(tokens[0].form_value("scope"), Some(scope.as_str()));
    // Graph received the OBO token (for Graph), never the user's own token.
    let calls = graph_requests(&env);
    assert_eq!(calls.len(), 3);
    let bearer = calls[0].header("authorization").unwrap().strip_prefix("Bearer ").unwrap();
    assert_ne!(bearer, user.raw().expose_secret());
    assert!(
        env.mock.cloud().graph_base() == claims_of(bearer)["aud"]
            || claims_of(bearer)["aud"] == "https://graph.microsoft.com"
    );
}

#[tokio::test]
async fn posts_json_and_reads_json() {
    let env = Env::start().await;
    let d = downstream(&env);
    let alice =
        env.mock.add_user(entra_testkit::TestUser::new("g@contoso.com").with_random_groups(3));
    let user = env.user_token(&alice);
    let body = json!({ "securityEnabledOnly": true });
    let groups: Value = d.post(&user, d.graph(), "/v1.0/me/getMemberObjects", &body).await.unwrap();
    assert_eq!(groups["value"].as_array().unwrap().len(), 3);
    let sent = graph_requests(&env).pop().unwrap();
    assert_eq!(sent.method, "POST");
    assert_eq!(sent.header("content-type"), Some("application/json"));
    assert_eq!(serde_json::from_slice::<Value>(&sent.body).unwrap(), body);
}

#[tokio::test]
async fn a_cae_challenge_renews_the_token_with_its_claims_once() {
    let env = Env::start().await;
    let d = downstream(&env);
    let user = env.user_token(&env.alice);
    d.get::<Value>(&user, d.graph(), "/v1.0/me").await.unwrap();
    env.mock.clear_requests();

    // Passing: one challenge, answered by one exchange with the claims.
    env.mock.fail_graph_next(1, Fault::aadsts(50076).claims(CLAIMS));
    let me: Value = d.get(&user, d.graph(), "/v1.0/me").await.unwrap();
    assert_eq!(me["id"], env.alice.oid.as_str());
    let tokens = env.token_requests();
    assert_eq!(tokens.len(), 1, "the cached token is refused, so one exchange with the claims");
    assert_eq!(tokens[0].form_value("claims"), Some(CLAIMS));
    assert_eq!(graph_requests(&env).len(), 2);
    // The refused token left the cache (a token obtained with claims is never
    // cached): the next call exchanges again, without claims.
    env.mock.clear_requests();
    d.get::<Value>(&user, d.graph(), "/v1.0/me").await.unwrap();
    let tokens = env.token_requests();
    assert_eq!(tokens.len(), 1);
    assert_eq!(tokens[0].form_value("claims"), None);

    // Failing: the API asks again after the renewal; the challenge goes back,
    // after exactly one renewal and one retry.
    env.mock.clear_requests();
    env.mock.fail_graph_next(2, Fault::aadsts(50076).claims(CLAIMS));
    let e = d.get::<Value>(&user, d.graph(), "/v1.0/me").await.unwrap_err();
    assert!(matches!(e, Error::ApiClaimsChallenge { .. }), "{e:?}");
    assert_eq!((e.code(), e.is_unauthorized()), ("insufficient_claims", true));
    assert_eq!(e.claims(), Some(CLAIMS));
    let header = e.claims_challenge().unwrap().header_value();
    assert!(header.starts_with(r#"Bearer error="insufficient_claims", claims=""#), "{header}");
    assert_eq!(env.token_requests().len(), 1);
    assert_eq!(graph_requests(&env).len(), 2);
    assert!(!format!("{e:?} {e}").contains("nbf"));
}

#[tokio::test]
async fn a_401_without_claims_is_not_retried() {
    let env = Env::start().await;
    let d = downstream(&env);
    let user = env.user_token(&env.alice);
    env.mock.fail_graph_next(1, Fault::aadsts(50076));
    let e = d.get::<Value>(&user, d.graph(), "/v1.0/me").await.unwrap_err();
    match &e {
        Error::ApiStatus { status: 401, error_code, .. } => {
            assert_eq!(error_code.as_deref(), Some("InvalidAuthenticationToken"));
        }
        other => panic!("{other:?}"),
    }
    assert!(e.is_unauthorized() && e.claims().is_none());
    assert_eq!((env.token_requests().len(), graph_requests(&env).len()), (1, 1));
}

#[tokio::test]
async fn conditional_access_at_the_exchange_is_surfaced_without_calling_the_api() {
    let env = Env::start().await;
    let d = downstream(&env);
    let user = env.user_token(&env.alice);
    env.mock.fail_next(1, Fault::aadsts(50076).claims(CLAIMS));
    let e = d.get::<Value>(&user, d.graph(), "/v1.0/me").await.unwrap_err();
    assert!(matches!(e, Error::InteractionRequired { .. }), "{e:?}");
    assert_eq!(e.claims(), Some(CLAIMS));
    assert_eq!(e.aadsts(), Some(50076));
    assert!(graph_requests(&env).is_empty());
}

#[tokio::test]
async fn error_statuses_are_typed() {
    let env = Env::start().await;
    // An app consented for Mail.Read only: Graph refuses /me with 403.
    let narrow = env.mock.register_app(
        TestApp::new("narrow").secret("narrow-secret").expose_scope("access_as_user"),
    );
    env.mock.grant_consent(&narrow.client_id, "https://graph.microsoft.com", &["Mail.Read"]);
    let obo = entra_obo::Obo::builder(
        env.mock.authority(),
        narrow.client_id.clone(),
        entra_core::ClientCredential::secret(Secret::new("narrow-secret")),
    )
    .build()
    .unwrap();
    let d = Downstream::from_obo(&obo).build().unwrap();
    let user = env.mock.validated_token(&env.alice, &narrow);
    let e = d.get::<Value>(&user, d.graph(), "/v1.0/me").await.unwrap_err();
    match &e {
        Error::ApiStatus { status: 403, error_code, .. } => {
            assert_eq!(error_code.as_deref(), Some("Authorization_RequestDenied"));
        }
        other => panic!("{other:?}"),
    }
    assert!(e.is_unauthorized());

    // Throttled: transient, with the API's Retry-After.
    let d = downstream(&env);
    let user = env.user_token(&env.alice);
    env.mock.fail_graph_next(1, Fault::throttled(7));
    let e = d.get::<Value>(&user, d.graph(), "/v1.0/me").await.unwrap_err();
    assert_eq!((e.code(), e.is_transient()), ("api_error_status", true));
    assert_eq!(e.retry_after(), Some(Duration::from_secs(7)));
    // A path Graph does not serve: 400, neither class.
    let e = d.get::<Value>(&user, d.graph(), "/v1.0/nothing").await.unwrap_err();
    assert!(matches!(e, Error::ApiStatus { status: 400, .. }), "{e:?}");
    assert!(!e.is_unauthorized() && !e.is_transient() && !e.is_config());
}

#[tokio::test]
async fn bodies_are_bounded_and_typed() {
    let env = Env::start().await;
    let user = env.user_token(&env.alice);
    // Passing at the default limit, failing under a limit smaller than /me.
    let d = downstream(&env);
    assert!(d.get::<Value>(&user, d.graph(), "/v1.0/me").await.is_ok());
    let small = Downstream::from_obo(&env.obo()).max_response_size(64).build().unwrap();
    let e = small.get::<Value>(&user, small.graph(), "/v1.0/me").await.unwrap_err();
    assert_eq!(e.code(), "api_request_failed", "{e:?}");
    let Error::ApiRequest(http) = &e else { panic!("{e:?}") };
    assert_eq!(http.code(), "http_body_too_large");
    // JSON of another shape than asked for.
    let e = d.get::<Vec<String>>(&user, d.graph(), "/v1.0/me").await.unwrap_err();
    assert!(matches!(e, Error::ApiBody { status: 200 }), "{e:?}");
}

#[tokio::test]
async fn calls_never_leave_the_base_url() {
    let env = Env::start().await;
    let d = downstream(&env);
    let user = env.user_token(&env.alice);
    for path in [
        "https://evil.example/v1.0/me",
        "//evil.example/v1.0/me",
        "/v1.0/../../x",
        "/v1.0/%2e%2e/x",
    ] {
        let e = d.get::<Value>(&user, d.graph(), path).await.unwrap_err();
        assert_eq!(e.code(), "invalid_api_url", "{path}");
    }
    // Refused before any exchange or call.
    assert!(env.mock.requests().is_empty());
    // An API of one's own is checked when it is named.
    assert!(Api::new("http://orders.example", "api://orders").is_err());
    let local =
        Api::new(&format!("{}/v1.0", env.mock.uri()), env.mock.cloud().graph_base()).unwrap();
    let me: Value = d.get(&user, &local, "me").await.unwrap();
    assert_eq!(me["id"], env.alice.oid.as_str());
}

#[tokio::test]
async fn another_exchanger_gets_the_claims_or_passes_the_challenge_on() {
    let env = Env::start().await;
    let graph = Secret::new(env.mock.graph_token(&env.alice));
    let expires = SystemTime::now() + Duration::from_secs(3600);
    let token = AccessToken::new(graph, expires, vec!["User.Read".into()]);
    let exchanger = Arc::new(StaticExchanger::issuing(token));
    let d = Downstream::builder(exchanger.clone() as Arc<dyn TokenExchanger>, &env.mock.cloud())
        .build()
        .unwrap();
    let user = env.user_token(&env.alice);
    let me: Value = d.get(&user, d.graph(), "/v1.0/me").await.unwrap();
    assert_eq!(me["id"], env.alice.oid.as_str());
    // This exchanger cannot send claims: the challenge goes back to the client at once.
    env.mock.clear_requests();
    env.mock.fail_graph_next(1, Fault::aadsts(50076).claims(CLAIMS));
    let e = d.get::<Value>(&user, d.graph(), "/v1.0/me").await.unwrap_err();
    assert!(matches!(e, Error::Exchanger(_)), "{e:?}");
    assert_eq!(
        (e.code(), e.is_unauthorized(), e.claims()),
        ("insufficient_claims", true, Some(CLAIMS))
    );
    assert_eq!(graph_requests(&env).len(), 1);
    assert_eq!(exchanger.calls(), 2);
}
