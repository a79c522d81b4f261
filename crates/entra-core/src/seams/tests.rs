//! Tests of the seam traits, their blanket impls and their errors.

use super::*;
use crate::EntraClaims;

#[derive(Debug, thiserror::Error)]
#[error("throttled")]
struct Throttled;

impl AuthError for Throttled {
    fn is_unauthorized(&self) -> bool {
        false
    }
    fn is_transient(&self) -> bool {
        true
    }
    fn is_config(&self) -> bool {
        false
    }
    fn code(&self) -> &'static str {
        "throttled"
    }
    fn retry_after(&self) -> Option<Duration> {
        Some(Duration::from_secs(7))
    }
}

#[derive(Debug, thiserror::Error)]
#[error("interaction required")]
struct Challenge(#[source] Throttled);

impl AuthError for Challenge {
    fn is_unauthorized(&self) -> bool {
        true
    }
    fn is_transient(&self) -> bool {
        false
    }
    fn is_config(&self) -> bool {
        false
    }
    fn code(&self) -> &'static str {
        "interaction_required"
    }
    fn claims_challenge(&self) -> Option<&str> {
        Some(r#"{"access_token":{"acrs":{"essential":true,"value":"c1"}}}"#)
    }
}

/// Accepts the token `"good"` only.
struct OneToken;

#[async_trait]
impl TokenValidator for OneToken {
    async fn validate(&self, token: &str) -> Result<ValidatedToken, SeamError> {
        if token != "good" {
            return Err(SeamError::new(Challenge(Throttled)));
        }
        let claims: EntraClaims =
            serde_json::from_str(r#"{"oid":"00000000-0000-0000-0000-0000000000aa"}"#)
                .map_err(|_| SeamError::new(Throttled))?;
        Ok(crate::dangerous::assume_validated(Secret::new(token), claims))
    }

    /// "good" is always at hand.
    fn validate_cached(&self, token: &[u8]) -> Option<Result<ValidatedToken, SeamError>> {
        (token == b"good").then(|| {
            let claims = EntraClaims::default();
            Ok(crate::dangerous::assume_validated(Secret::new("good"), claims))
        })
    }
}

/// Each wrapper answers with the validator's own `validate_cached`, not the
/// trait's default (`None`).
#[test]
fn every_wrapper_forwards_the_answer_at_hand() {
    let shared: Arc<dyn TokenValidator> = Arc::new(OneToken);
    let boxed: Box<dyn TokenValidator> = Box::new(OneToken);
    let wrappers: [&dyn TokenValidator; 5] =
        [&&OneToken, &Box::new(OneToken), &Arc::new(OneToken), &shared, &boxed];
    for wrapper in wrappers {
        assert!(wrapper.validate_cached(b"good").is_some_and(|answer| answer.is_ok()));
        assert!(wrapper.validate_cached(b"bad").is_none());
    }
}

/// Always throttled.
struct Busy;

#[async_trait]
impl TokenExchanger for Busy {
    async fn exchange(&self, _: &ValidatedToken, _: &Target) -> Result<AccessToken, SeamError> {
        Err(SeamError::new(Throttled))
    }
}

/// What a host keeps in its shared state: no type parameters.
#[derive(Clone)]
struct AppState {
    validator: Arc<dyn TokenValidator>,
    exchanger: Arc<dyn TokenExchanger>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seams_are_object_safe_and_shared_across_tasks() {
    let state = AppState { validator: Arc::new(OneToken), exchanger: Arc::new(Busy) };
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let state = state.clone();
            tokio::spawn(async move {
                let token = if i % 2 == 0 { "good" } else { "bad" };
                match state.validator.validate(token).await {
                    Ok(user) => {
                        let e = state
                            .exchanger
                            .exchange(&user, &Target::from("https://graph.microsoft.com"))
                            .await
                            .unwrap_err();
                        (e.code(), e.is_transient(), e.retry_after())
                    }
                    Err(e) => (e.code(), e.is_transient(), e.retry_after()),
                }
            })
        })
        .collect();
    for (i, task) in tasks.into_iter().enumerate() {
        let got = task.await.unwrap();
        if i % 2 == 0 {
            assert_eq!(got, ("throttled", true, Some(Duration::from_secs(7))));
        } else {
            assert_eq!(got, ("interaction_required", false, None));
        }
    }
    // The blanket impls: a reference and a box are seams too.
    let by_ref: &dyn TokenValidator = &*state.validator;
    assert!(by_ref.validate("good").await.is_ok());
    let boxed: Box<dyn TokenValidator> = Box::new(OneToken);
    assert!(boxed.validate("bad").await.is_err());
}

/// Answers a claims challenge with a token naming the claims it was sent.
struct Stepping;

#[async_trait]
impl TokenExchanger for Stepping {
    async fn exchange(&self, _: &ValidatedToken, _: &Target) -> Result<AccessToken, SeamError> {
        Err(SeamError::new(Throttled))
    }
    async fn exchange_with_claims(
        &self,
        _: &ValidatedToken,
        _: &Target,
        claims: &str,
    ) -> Result<AccessToken, SeamError> {
        Ok(AccessToken::new(Secret::new(claims), std::time::SystemTime::UNIX_EPOCH, vec![]))
    }
}

#[tokio::test]
async fn claims_reach_the_exchanger_or_go_back_to_the_client() {
    let user = OneToken.validate("good").await.unwrap();
    let target = Target::from("api://orders");
    let claims = r#"{"access_token":{"nbf":{"essential":true,"value":"1"}}}"#;
    // The default: the challenge comes back, for the client to answer.
    let busy: Arc<dyn TokenExchanger> = Arc::new(Busy);
    let e = busy.exchange_with_claims(&user, &target, claims).await.unwrap_err();
    assert_eq!((e.code(), e.is_unauthorized()), ("insufficient_claims", true));
    assert_eq!(e.claims_challenge(), Some(claims));
    assert!(!format!("{e:?}").contains("nbf"));
    // The blanket impls pass the claims on to an exchanger that sends them.
    let stepping: Arc<dyn TokenExchanger> = Arc::new(Stepping);
    for x in [&stepping as &dyn TokenExchanger, &Box::new(Stepping) as &dyn TokenExchanger] {
        let token = x.exchange_with_claims(&user, &target, claims).await.unwrap();
        assert_eq!(token.secret.expose_secret(), claims);
    }
}

#[test]
fn seam_error_delegates_to_the_inner_error() {
    use std::error::Error as _;

    let e = SeamError::new(Challenge(Throttled));
    assert_eq!(e.to_string(), "interaction required");
    assert_eq!(format!("{e:?}"), "Challenge(Throttled)");
    assert!(e.source().is_some_and(|s| s.is::<Throttled>()));
    assert!(e.is_unauthorized() && !e.is_transient() && !e.is_config());
    assert_eq!(e.code(), "interaction_required");
    assert!(e.claims_challenge().is_some_and(|c| c.contains("acrs")));
    assert!(e.downcast_ref::<Challenge>().is_some());
    assert!(e.downcast_ref::<Throttled>().is_none());

    // Erasing twice does not nest.
    let twice = SeamError::new(SeamError::new(Throttled));
    assert!(twice.downcast_ref::<Throttled>().is_some());
    assert!(twice.get_ref().is_transient());
    assert!(twice.downcast::<Throttled>().is_ok());
    let e = SeamError::new(Throttled);
    let e = e.downcast::<Challenge>().unwrap_err();
    assert_eq!(e.into_inner().code(), "throttled");
}
