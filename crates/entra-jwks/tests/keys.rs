//! Key handling against the mock: rotation, outages, single-flight, size and
//! timeout limits.

use std::time::Duration;

use entra_jwks::{Error, JwksError};
use entra_testkit::{JwksFault, TokenSpec};

use crate::common::setup;

#[tokio::test]
async fn key_rotation_is_followed_and_retired_keys_stop_working() {
    let s = setup().await;
    let v = s.builder().token_cache_capacity(0).build().unwrap();
    let old = s.token();
    v.validate(&old).await.unwrap();
    assert_eq!(s.mock.jwks_fetch_count(), 1);
    v.validate(&old).await.unwrap();
    assert_eq!(s.mock.jwks_fetch_count(), 1, "keys are cached");

    let old_kid = s.mock.signing_kid();
    let new_kid = s.mock.rotate_keys();
    let new = s.token();
    v.validate(&new).await.unwrap();
    assert_eq!(s.mock.jwks_fetch_count(), 2, "unknown kid fetched once");
    v.validate(&old).await.unwrap();
    assert_ne!(old_kid, new_kid);

    // The old key is retired; after the scheduled refresh its tokens are refused.
    assert!(s.mock.retire_key(&old_kid));
    s.clock.advance(Duration::from_secs(3600));
    let old = s.mock.mint(TokenSpec::access_v2(&s.alice, &s.api).kid(old_kid.clone()));
    let fresh_new = s.token();
    v.validate(&fresh_new).await.unwrap();
    let err = v.validate(&old).await.unwrap_err();
    assert!(matches!(err, Error::UnknownKeyId { .. } | Error::InvalidSignature), "{err:?}");
    assert!(err.is_unauthorized());
}

#[tokio::test]
async fn unknown_kid_refresh_is_rate_limited() {
    let s = setup().await;
    let v = s.validator();
    v.validate(&s.token()).await.unwrap();
    let ghost = s.mock.mint(TokenSpec::access_v2(&s.alice, &s.api).kid("no-such-key"));
    assert!(matches!(v.validate(&ghost).await, Err(Error::UnknownKeyId { .. })));
    assert_eq!(s.mock.jwks_fetch_count(), 2);
    for _ in 0..5 {
        assert!(matches!(v.validate(&ghost).await, Err(Error::UnknownKeyId { .. })));
    }
    assert_eq!(s.mock.jwks_fetch_count(), 2, "at most one refetch per interval");
    s.clock.advance(Duration::from_secs(300));
    assert!(matches!(v.validate(&ghost).await, Err(Error::UnknownKeyId { .. })));
    assert_eq!(s.mock.jwks_fetch_count(), 3);
}

#[tokio::test]
async fn outage_keeps_cached_keys_then_reports_transient_then_recovers() {
    let s = setup().await;
    let v = s.builder().token_cache_capacity(0).build().unwrap();
    v.refresh_keys().await.unwrap();
    s.mock.set_jwks_fault(Some(JwksFault::Status(503)));
    // Due for refresh: the refresh fails, the cached keys keep working.
    s.clock.advance(Duration::from_secs(3600 + 1));
    v.validate(&s.token()).await.unwrap();
    assert_eq!(s.mock.jwks_fetch_count(), 2);
    s.clock.advance(Duration::from_secs(3600));
    v.validate(&s.token()).await.unwrap();

    // Past the grace period the keys are no longer trusted: 503-class error.
    s.clock.advance(Duration::from_secs(24 * 3600));
    let err = v.validate(&s.token()).await.unwrap_err();
    assert!(err.is_transient() && !err.is_unauthorized(), "{err:?}");
    let Error::KeysUnavailable { source: Some(source) } = &err else { panic!("{err:?}") };
    assert!(matches!(**source, JwksError::Status { status: 503, .. }));

    // The endpoint comes back: after the retry interval keys are fetched again.
    s.mock.set_jwks_fault(None);
    s.clock.advance(Duration::from_secs(10));
    v.validate(&s.token()).await.unwrap();
}

#[tokio::test]
async fn cold_start_failures_are_transient() {
    let s = setup().await;
    s.mock.set_jwks_fault(Some(JwksFault::Garbage));
    let v = s.validator();
    let err = v.validate(&s.token()).await.unwrap_err();
    assert!(err.is_transient(), "{err:?}");
    assert!(v.refresh_keys().await.unwrap_err().is_transient());

    s.mock.set_jwks_fault(Some(JwksFault::Delay(Duration::from_secs(5))));
    let slow = s.builder().jwks_timeout(Duration::from_millis(100)).build().unwrap();
    let err = slow.validate(&s.token()).await.unwrap_err();
    let Error::KeysUnavailable { source: Some(source) } = &err else { panic!("{err:?}") };
    assert!(matches!(**source, JwksError::Request { .. }), "{source:?}");

    s.mock.set_jwks_fault(None);
    s.clock.advance(Duration::from_secs(10));
    v.validate(&s.token()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_validations_with_a_new_kid_fetch_once() {
    let s = setup().await;
    let v = s.builder().token_cache_capacity(0).build().unwrap();
    v.validate(&s.token()).await.unwrap();
    assert_eq!(s.mock.jwks_fetch_count(), 1);
    s.mock.rotate_keys();
    let tokens: Vec<String> = (0..1000).map(|_| s.token()).collect();
    let tasks: Vec<_> = tokens
        .into_iter()
        .map(|t| {
            let v = v.clone();
            tokio::spawn(async move { v.validate(&t).await.map(|_| ()) })
        })
        .collect();
    for task in futures_util::future::join_all(tasks).await {
        task.unwrap().unwrap();
    }
    assert_eq!(s.mock.jwks_fetch_count(), 2, "exactly one JWKS fetch for the new kid");
    let key_requests = s.mock.requests().iter().filter(|r| r.path.ends_with("/keys")).count();
    assert_eq!(key_requests, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_validations_on_a_cold_validator_fetch_once() {
    let s = setup().await;
    let v = s.validator();
    let token = s.token();
    let tasks: Vec<_> = (0..1000)
        .map(|_| {
            let (v, t) = (v.clone(), token.clone());
            tokio::spawn(async move { v.validate(&t).await.map(|_| ()) })
        })
        .collect();
    for task in futures_util::future::join_all(tasks).await {
        task.unwrap().unwrap();
    }
    assert_eq!(s.mock.jwks_fetch_count(), 1);
}

#[tokio::test]
async fn oversized_jwks_is_refused() {
    let s = setup().await;
    let v = s.validator();
    s.mock.set_jwks_fault(Some(JwksFault::Oversized(300 * 1024)));
    let err = v.refresh_keys().await.unwrap_err();
    let Error::KeysUnavailable { source: Some(source) } = &err else { panic!("{err:?}") };
    assert!(matches!(**source, JwksError::TooLarge { .. }));
    assert!(err.is_transient());
    // The same document without the padding is within the limit.
    s.mock.set_jwks_fault(None);
    let v = s.validator();
    v.refresh_keys().await.unwrap();
}

#[tokio::test]
async fn key_with_its_own_matching_issuer_is_accepted() {
    let s = setup().await;
    let kid = s.mock.signing_kid();
    s.mock.set_key_issuer(&kid, Some(&s.mock.v2_issuer(&s.mock.tenant_id())));
    s.validator().validate(&s.token()).await.unwrap();
}

#[tokio::test]
async fn key_whose_issuer_differs_from_the_token_issuer_is_refused() {
    let s = setup().await;
    let kid = s.mock.signing_kid();
    let other = s.mock.add_tenant();
    // The key belongs to another tenant; the token claims the default tenant.
    s.mock.set_key_issuer(&kid, Some(&s.mock.v2_issuer(&other)));
    let err = s.validator().validate(&s.token()).await.unwrap_err();
    assert!(matches!(err, Error::KeyIssuerMismatch(_)), "{err:?}");
    assert!(err.is_unauthorized());
}

#[tokio::test]
async fn templated_key_issuer_is_resolved_with_the_token_tid() {
    let s = setup().await;
    let kid = s.mock.signing_kid();
    let template = format!("{}/{{tenantid}}/v2.0", s.mock.uri());
    s.mock.set_key_issuer(&kid, Some(&template));
    s.validator().validate(&s.token()).await.unwrap();
    // A template for another host never matches.
    s.mock.set_key_issuer(&kid, Some("https://login.example/{tenantid}/v2.0"));
    let err = s
        .builder()
        .token_cache_capacity(0)
        .build()
        .unwrap()
        .validate(&s.token())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::KeyIssuerMismatch(_)), "{err:?}");
}
