//! Retries: 429 with Retry-After, 5xx with backoff, bounded attempts and budget,
//! request timeouts.

use std::time::Duration;

use entra_core::Clock as _;
use entra_obo::Error;
use entra_testkit::Fault;

use crate::support::Env;

const GRAPH: &str = "https://graph.microsoft.com";

#[tokio::test]
async fn throttling_is_retried_after_retry_after() {
    let env = Env::start().await;
    let obo = env.obo();
    let user = env.user_token(&env.alice);
    env.mock.fail_next(1, Fault::throttled(30));
    let before = env.clock.now();
    obo.exchange_on_behalf_of(&user, GRAPH).await.unwrap();
    assert_eq!(env.token_requests().len(), 2);
    // Retry-After was honoured on the clock seam: the manual clock moved exactly
    // 30 seconds, and the test spent no real time waiting.
    assert_eq!(env.clock.now().duration_since(before).unwrap(), Duration::from_secs(30));
}

#[tokio::test]
async fn a_retry_after_beyond_the_budget_ends_at_once() {
    let env = Env::start().await;
    let obo = env.obo();
    let user = env.user_token(&env.alice);
    env.mock.fail_next(1, Fault::throttled(120));
    let e = obo.exchange_on_behalf_of(&user, GRAPH).await.unwrap_err();
    assert!(matches!(e, Error::Throttled { .. }), "{e}");
    assert_eq!(e.retry_after(), Some(Duration::from_secs(120)));
    assert!(e.is_transient() && !e.is_unauthorized());
    assert!(e.to_string().contains("retry after 120s"), "{e}");
    assert_eq!(env.token_requests().len(), 1);
}

#[tokio::test]
async fn server_errors_are_retried_with_backoff_then_given_up() {
    let env = Env::start().await;
    let obo = env.obo();
    let user = env.user_token(&env.alice);
    env.mock.fail_next(2, Fault::status(503));
    obo.exchange_on_behalf_of(&user, GRAPH).await.unwrap();
    assert_eq!(env.token_requests().len(), 3);

    env.mock.clear_requests();
    let other = env.user_token(&env.mock.add_user(entra_testkit::TestUser::new("bob@contoso.com")));
    env.mock.fail_next(5, Fault::status(500));
    let e = obo.exchange_on_behalf_of(&other, GRAPH).await.unwrap_err();
    assert!(matches!(e, Error::Unavailable { status: 500, .. }), "{e}");
    assert!(e.is_transient());
    assert_eq!(env.token_requests().len(), 3, "default: 3 attempts");

    env.mock.clear_faults();
    env.mock.clear_requests();
    let once = env.builder().max_attempts(1).build().unwrap();
    env.mock.fail_next(1, Fault::status(502));
    assert!(once.exchange_on_behalf_of(&other, GRAPH).await.is_err());
    assert_eq!(env.token_requests().len(), 1);
}

#[tokio::test]
async fn requests_time_out_and_are_retried() {
    let env = Env::start().await;
    let obo = env.builder().request_timeout(Duration::from_millis(200)).build().unwrap();
    let user = env.user_token(&env.alice);
    env.mock.fail_next(1, Fault::delay(Duration::from_secs(5)));
    obo.exchange_on_behalf_of(&user, GRAPH).await.unwrap();
    assert_eq!(env.token_requests().len(), 2);

    let once =
        env.builder().request_timeout(Duration::from_millis(200)).max_attempts(1).build().unwrap();
    let bob = env.user_token(&env.mock.add_user(entra_testkit::TestUser::new("bob@contoso.com")));
    env.mock.fail_next(1, Fault::delay(Duration::from_secs(5)));
    let e = once.exchange_on_behalf_of(&bob, GRAPH).await.unwrap_err();
    assert!(matches!(e, Error::Transport(_)), "{e}");
    assert!(e.is_transient());
}
