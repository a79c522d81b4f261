//! The bearer layer, its challenges and the protected-resource metadata.

use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use entra_axum::{Caller, EntraAuth, Error};
use entra_core::{ClientCredential, Secret, ValidatedToken};
use entra_testkit::{Fault, JwksFault, MockEntra, TestUser, TokenSpec};
use reqwest::StatusCode;

use crate::support::{bind, http, serve};

async fn whoami(caller: Caller) -> String {
    format!("{}|{:?}", caller.object_id(), caller.kind())
}

async fn graph(caller: Caller) -> Result<String, Error> {
    let token = caller.on_behalf_of("https://graph.microsoft.com").await?;
    Ok(format!("graph token, {} scopes", token.scopes.len()))
}

/// The validated token, read from the request extensions as any tower service
/// (rmcp's included) can read it.
async fn token(axum::Extension(token): axum::Extension<ValidatedToken>) -> String {
    token.claims().oid.clone().unwrap_or_default()
}

async fn maybe(caller: Option<Caller>) -> String {
    caller.map_or_else(|| "anonymous".to_owned(), |c| c.object_id().to_owned())
}

struct Api {
    mock: MockEntra,
    base: String,
    alice: TestUser,
}

impl Api {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn realm_and_metadata(&self) -> String {
        format!(
            r#"realm="{b}/mcp", resource_metadata="{b}/.well-known/oauth-protected-resource/mcp""#,
            b = self.base
        )
    }

    async fn get(&self, path: &str, auth: Option<&str>) -> reqwest::Response {
        let mut r = http().get(self.url(path));
        if let Some(a) = auth {
            r = r.header("authorization", a);
        }
        r.send().await.unwrap()
    }
}

/// The API's `EntraAuth` on the mock: with the mock's client secret (and so an
/// On-Behalf-Of exchanger) or with no credential.
fn auth(mock: &MockEntra, with_credential: bool) -> EntraAuth {
    let builder = EntraAuth::builder(mock.authority(), mock.default_api().client_id);
    let builder = if with_credential {
        builder.credential(ClientCredential::secret(Secret::new("mock-api-secret")))
    } else {
        builder
    };
    builder.build().unwrap()
}

async fn api() -> Api {
    let mock = MockEntra::start().await;
    let api = mock.default_api();
    mock.grant_consent(&api.client_id, "https://graph.microsoft.com", &["User.Read"]);
    let alice = mock.add_user(TestUser::new("alice@contoso.com").name("Alice"));
    let auth = auth(&mock, true);
    let (listener, base) = bind().await;
    let mcp = auth.resource(&format!("{base}/mcp"), ["access_as_user"]).unwrap();
    let app = Router::new()
        .route("/mcp", get(whoami))
        .route("/mcp/graph", get(graph))
        .route("/mcp/token", get(token))
        .layer(mcp.bearer().require_scope("access_as_user"))
        .route("/mcp/app", get(whoami).layer(mcp.bearer().require_role("Data.Read")))
        .route("/mcp/optional", get(maybe).layer(mcp.bearer().optional()))
        .merge(mcp.metadata_router());
    serve(listener, app);
    Api { mock, base, alice }
}

fn www(r: &reqwest::Response) -> String {
    r.headers()["www-authenticate"].to_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn valid_token_passes_and_missing_credentials_get_a_bare_challenge() {
    let t = api().await;
    let token = t.mock.access_token(&t.alice, &t.mock.default_api());

    let r = t.get("/mcp", Some(&format!("Bearer {token}"))).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.text().await.unwrap(), format!("{}|Delegated", t.alice.oid));
    // The scheme is case-insensitive.
    let r = t.get("/mcp", Some(&format!("bEARER {token}"))).await;
    assert_eq!(r.status(), StatusCode::OK);
    // The validated token is in the request extensions for any service.
    let r = t.get("/mcp/token", Some(&format!("Bearer {token}"))).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.text().await.unwrap(), t.alice.oid);

    // No credentials: 401 without `error`.
    let r = t.get("/mcp", None).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(www(&r), format!("Bearer {}", t.realm_and_metadata()));
    // Another scheme is no bearer credentials at all.
    let r = t.get("/mcp", Some("Basic dXNlcjpwYXNz")).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(www(&r), format!("Bearer {}", t.realm_and_metadata()));
    // A token in the query string is not read.
    let r = http().get(t.url(&format!("/mcp?access_token={token}"))).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(www(&r), format!("Bearer {}", t.realm_and_metadata()));
    // ... nor one in a form body.
    let r = http()
        .get(t.url("/mcp"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("access_token={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread")]
async fn refused_tokens_get_invalid_token() {
    let t = api().await;
    let api = t.mock.default_api();
    let expired = t.mock.mint(TokenSpec::access(&t.alice, &api).expired());
    let graph = t.mock.graph_token(&t.alice);
    for token in [expired, graph, "abc.def.ghi".to_owned()] {
        let r = t.get("/mcp", Some(&format!("Bearer {token}"))).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        let h = www(&r);
        assert!(
            h.starts_with(&format!(
                r#"Bearer realm="{}/mcp", error="invalid_token", error_description=""#,
                t.base
            )),
            "{h}"
        );
        assert!(h.ends_with(&format!(
            r#"resource_metadata="{}/.well-known/oauth-protected-resource/mcp""#,
            t.base
        )));
        assert!(!h.contains(&token), "the token is never echoed");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn doubled_oversize_and_malformed_headers_get_401_never_500() {
    let t = api().await;
    let token = t.mock.access_token(&t.alice, &t.mock.default_api());
    let expect = |desc: &str| {
        format!(
            r#"Bearer realm="{b}/mcp", error="invalid_token", error_description="{desc}", resource_metadata="{b}/.well-known/oauth-protected-resource/mcp""#,
            b = t.base
        )
    };
    // Two Authorization headers, even both valid.
    let r = http()
        .get(t.url("/mcp"))
        .header("authorization", format!("Bearer {token}"))
        .header("authorization", format!("Bearer {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(www(&r), expect("more than one Authorization header"));
    // Over 16 KiB.
    let big = format!("Bearer {}", "a".repeat(17 * 1024));
    let r = t.get("/mcp", Some(&big)).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(www(&r), expect("the Authorization header is too large"));
    // Malformed values.
    for bad in ["Bearer", "Bearer ", "Bearer a b", "Bearer a,b=c", "Bearer =="] {
        let r = t.get("/mcp", Some(bad)).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{bad:?}");
        assert_eq!(www(&r), expect("the bearer token is malformed"), "{bad:?}");
    }
    let r = http()
        .get(t.url("/mcp"))
        .header(
            "authorization",
            reqwest::header::HeaderValue::from_bytes(b"Bearer \xff\xfe").unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(www(&r), expect("the Authorization header is malformed"));
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_scope_or_role_gets_403_insufficient_scope() {
    let t = api().await;
    let api = t.mock.default_api();
    let app_only = t.mock.app_token(&t.mock.default_client(), &api);
    // Failing: an app-only token (roles, no scp) on a route requiring a scope.
    let r = t.get("/mcp", Some(&format!("Bearer {app_only}"))).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        www(&r),
        format!(
            r#"Bearer realm="{b}/mcp", error="insufficient_scope", scope="api://{id}/access_as_user", error_description="the access token does not grant the required permissions", resource_metadata="{b}/.well-known/oauth-protected-resource/mcp""#,
            b = t.base,
            id = api.client_id
        )
    );
    // Passing: the same token on a route requiring its role.
    let r = t.get("/mcp/app", Some(&format!("Bearer {app_only}"))).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().ends_with("|AppOnly"));
    // Failing: a user token without the role; no scope to name.
    let user = t.mock.access_token(&t.alice, &api);
    let r = t.get("/mcp/app", Some(&format!("Bearer {user}"))).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(www(&r).starts_with(&format!(
        r#"Bearer realm="{}/mcp", error="insufficient_scope", error_description="#,
        t.base
    )));
}

#[tokio::test(flavor = "multi_thread")]
async fn optional_layer_admits_anonymous_but_refuses_bad_tokens() {
    let t = api().await;
    let r = t.get("/mcp/optional", None).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.text().await.unwrap(), "anonymous");
    let token = t.mock.access_token(&t.alice, &t.mock.default_api());
    let r = t.get("/mcp/optional", Some(&format!("Bearer {token}"))).await;
    assert_eq!(r.text().await.unwrap(), t.alice.oid);
    let r = t.get("/mcp/optional", Some("Bearer not.a.token")).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread")]
async fn keys_unavailable_is_503_with_retry_after_never_401() {
    let t = api().await;
    t.mock.set_jwks_fault(Some(JwksFault::Status(500)));
    let token = t.mock.access_token(&t.alice, &t.mock.default_api());
    let r = t.get("/mcp", Some(&format!("Bearer {token}"))).await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    let after: u64 = r.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=300).contains(&after));
    assert!(r.headers().get("www-authenticate").is_none());
    // Passing once the keys are back.
    t.mock.set_jwks_fault(None);
    let mut status = StatusCode::SERVICE_UNAVAILABLE;
    for _ in 0..3 {
        status = t.get("/mcp", Some(&format!("Bearer {token}"))).await.status();
        if status == StatusCode::OK {
            break;
        }
    }
    let _ = status;
}

#[tokio::test(flavor = "multi_thread")]
async fn obo_claims_challenge_becomes_insufficient_claims() {
    let t = api().await;
    let token = t.mock.access_token(&t.alice, &t.mock.default_api());
    // Passing: OBO to Graph as Alice.
    let r = t.get("/mcp/graph", Some(&format!("Bearer {token}"))).await;
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
    // Conditional Access asks for MFA: the claims go back to the client.
    let claims = r#"{"access_token":{"acrs":{"essential":true,"value":"c1"}}}"#;
    t.mock.fail_next(1, Fault::aadsts(50076).claims(claims));
    let token2 = t.mock.access_token(&t.alice, &t.mock.default_api());
    let r = t.get("/mcp/graph", Some(&format!("Bearer {token2}"))).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(claims);
    assert_eq!(
        www(&r),
        format!(
            r#"Bearer realm="{b}/mcp", error="insufficient_claims", claims="{b64}", resource_metadata="{b}/.well-known/oauth-protected-resource/mcp""#,
            b = t.base
        )
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn metadata_is_public_and_path_inserted() {
    let t = api().await;
    let api = t.mock.default_api();
    let r = http().get(t.url("/.well-known/oauth-protected-resource/mcp")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
    let doc: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        doc,
        serde_json::json!({
            "resource": format!("{}/mcp", t.base),
            "authorization_servers": [format!("{}/{}/v2.0", t.mock.uri(), t.mock.tenant_id())],
            "scopes_supported": [format!("api://{}/access_as_user", api.client_id)],
            "bearer_methods_supported": ["header"],
            "resource_name": "127.0.0.1",
        })
    );
    // Not at the root well-known path: the resource has a path.
    let r = http().get(t.url("/.well-known/oauth-protected-resource")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

/// The layer classifies any validator's errors through the `AuthError` methods
/// alone: transient (with its `Retry-After`), configuration, permissions.
#[tokio::test(flavor = "multi_thread")]
async fn any_validator_errors_are_classified_by_their_methods() {
    use entra_axum::BearerLayer;
    use entra_testkit::doubles::{StaticError, StaticExchanger, StaticValidator};

    let mock = MockEntra::start().await;
    let alice = mock.add_user(TestUser::new("alice@contoso.com"));
    let cases: [(StaticError, u16, Option<&str>); 4] = [
        (
            StaticError::transient("keys_unavailable")
                .with_retry_after(std::time::Duration::from_secs(42)),
            503,
            None,
        ),
        (StaticError::config("invalid_config"), 500, None),
        (
            StaticError::unauthorized("insufficient_permissions"),
            403,
            Some(
                r#"Bearer realm="api", error="insufficient_scope", error_description="the access token does not grant the required permissions""#,
            ),
        ),
        (
            StaticError::unauthorized("token_expired"),
            401,
            Some(
                r#"Bearer realm="api", error="invalid_token", error_description="the access token expired""#,
            ),
        ),
    ];
    for (error, status, header) in cases {
        let layer = BearerLayer::new(Arc::new(StaticValidator::refusing(error)));
        let (listener, base) = bind().await;
        serve(listener, Router::new().route("/", get(whoami)).layer(layer));
        let r = http().get(format!("{base}/")).bearer_auth("t").send().await.unwrap();
        assert_eq!(r.status().as_u16(), status);
        assert_eq!(r.headers().get("www-authenticate").map(|v| v.to_str().unwrap()), header);
        if status == 503 {
            assert_eq!(r.headers()["retry-after"], "42");
        }
    }
    // A handler's exchange error: a claims challenge, or a transient failure.
    let user = mock.validated_token(&alice, &mock.default_api());
    for (error, status) in [
        (StaticError::unauthorized("interaction_required").with_claims_challenge("{}"), 401),
        (StaticError::transient("temporarily_unavailable"), 503),
        (StaticError::unauthorized("consent_required"), 403),
    ] {
        let layer = BearerLayer::new(Arc::new(StaticValidator::accepting(user.clone())))
            .exchanger(Arc::new(StaticExchanger::refusing(error)));
        let (listener, base) = bind().await;
        serve(listener, Router::new().route("/", get(graph)).layer(layer));
        let r = http().get(format!("{base}/")).bearer_auth("t").send().await.unwrap();
        assert_eq!(r.status().as_u16(), status);
        if status == 401 {
            assert_eq!(
                r.headers()["www-authenticate"],
                r#"Bearer realm="api", error="insufficient_claims", claims="e30=""#
            );
        }
    }
}

/// A validator with an answer at hand (`validate_cached`) is taken at its word,
/// for acceptance and refusal alike; without one, `validate` decides.
#[tokio::test(flavor = "multi_thread")]
async fn the_validators_cached_answer_decides_before_validate() {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use async_trait::async_trait;
    use entra_axum::BearerLayer;
    use entra_core::{SeamError, TokenValidator};
    use entra_testkit::doubles::StaticError;

    /// Answers `validate_cached` with `cached` (when set) and `validate` with
    /// `validated`, counting the calls of `validate`.
    struct TwoAnswers {
        cached: Option<bool>,
        validated: bool,
        user: ValidatedToken,
        validate_calls: AtomicUsize,
    }
    impl TwoAnswers {
        fn answer(&self, accept: bool) -> Result<ValidatedToken, SeamError> {
            if accept {
                Ok(self.user.clone())
            } else {
                Err(SeamError::new(StaticError::unauthorized("token_expired")))
            }
        }
    }
    #[async_trait]
    impl TokenValidator for TwoAnswers {
        async fn validate(&self, _token: &str) -> Result<ValidatedToken, SeamError> {
            self.validate_calls.fetch_add(1, Ordering::SeqCst);
            self.answer(self.validated)
        }
        fn validate_cached(&self, _token: &[u8]) -> Option<Result<ValidatedToken, SeamError>> {
            self.cached.map(|accept| self.answer(accept))
        }
    }

    let mock = MockEntra::start().await;
    let alice = mock.add_user(TestUser::new("alice@contoso.com"));
    let user = mock.validated_token(&alice, &mock.default_api());
    // (token, cached answer, validate's answer) -> status, calls of `validate`.
    // A token that is not a token68 is refused as malformed before `validate`,
    // whatever the cached answer, except an acceptance: that one vouches for
    // the syntax (the seam's contract allows it only for token68 bytes, so the
    // last row shows the check being skipped, not a contract kept).
    for (token, cached, validated, status, calls) in [
        ("t", Some(true), false, 200, 0),
        ("t", Some(false), true, 401, 0),
        ("t", None, true, 200, 1),
        ("t", None, false, 401, 1),
        ("a,b", None, true, 401, 0),
        ("a,b", Some(false), true, 401, 0),
        ("a,b", Some(true), false, 200, 0),
    ] {
        let validator = Arc::new(TwoAnswers {
            cached,
            validated,
            user: user.clone(),
            validate_calls: AtomicUsize::new(0),
        });
        let layer = BearerLayer::new(validator.clone());
        let (listener, base) = bind().await;
        serve(listener, Router::new().route("/", get(whoami)).layer(layer));
        let r = http().get(format!("{base}/")).bearer_auth(token).send().await.unwrap();
        assert_eq!(r.status().as_u16(), status, "{token} {cached:?} {validated}");
        if token == "a,b" && status == 401 {
            assert!(www(&r).contains("the bearer token is malformed"), "{}", www(&r));
        }
        assert_eq!(
            validator.validate_calls.load(Ordering::SeqCst),
            calls,
            "{token} {cached:?} {validated}"
        );
    }
}

/// A layer with no exchanger puts only the validated token in the request
/// extensions: what the extractors answer from behind it still carries the
/// layer's realm and metadata URL (completed by the layer on the way out), and
/// On-Behalf-Of is a configuration error, not a panic or a 401.
#[tokio::test(flavor = "multi_thread")]
async fn behind_a_layer_without_exchanger_refusals_carry_the_layers_challenge() {
    let mock = MockEntra::start().await;
    let api = mock.default_api();
    mock.grant_consent(&api.client_id, "https://graph.microsoft.com", &["User.Read"]);
    let alice = mock.add_user(TestUser::new("alice@contoso.com"));
    // No client credential: no exchanger.
    let (auth, with_obo) = (auth(&mock, false), auth(&mock, true));
    let (listener, base) = bind().await;
    let mcp = auth.resource(&format!("{base}/mcp"), ["access_as_user"]).unwrap();
    let obo = with_obo.resource(&format!("{base}/mcp"), ["access_as_user"]).unwrap();
    let app = Router::new()
        .route("/mcp", get(whoami))
        .route("/mcp/graph", get(graph))
        .layer(mcp.bearer())
        .route("/mcp/required", get(whoami).layer(mcp.bearer().optional()))
        .route("/mcp/optional", get(maybe).layer(mcp.bearer().optional()))
        // The outer layer has an exchanger, the inner one has none.
        .route(
            "/mcp/nested",
            get(graph).layer::<_, std::convert::Infallible>(mcp.bearer()).layer(obo.bearer()),
        )
        .route("/mcp/outer", get(graph).layer(obo.bearer()));
    serve(listener, app);
    let t = Api { mock, base, alice };
    let challenge = |rest: &str| {
        format!("Bearer realm=\"{}/mcp\"{rest}, {}", t.base, {
            let m = t.realm_and_metadata();
            m[m.find("resource_metadata").unwrap()..].to_owned()
        })
    };
    let token = t.mock.access_token(&t.alice, &api);
    let r = t.get("/mcp", Some(&format!("Bearer {token}"))).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.text().await.unwrap(), format!("{}|Delegated", t.alice.oid));

    // A valid token without `oid`: the Caller extractor refuses it.
    let no_oid = t.mock.mint(TokenSpec::access(&t.alice, &api).without("oid"));
    let r = t.get("/mcp", Some(&format!("Bearer {no_oid}"))).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        www(&r),
        challenge(
            r#", error="invalid_token", error_description="the access token has no tid and oid""#
        )
    );

    // An optional layer lets a request without credentials through; a handler
    // that requires the Caller answers the layer's bare challenge.
    let r = t.get("/mcp/required", None).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(www(&r), challenge(""));
    let r = t.get("/mcp/optional", None).await;
    assert_eq!(r.text().await.unwrap(), "anonymous");

    // On-Behalf-Of with no exchanger: a 500 naming nothing secret.
    let r = t.get("/mcp/graph", Some(&format!("Bearer {token}"))).await;
    assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(r.text().await.unwrap(), "internal error");
    // Behind nested layers the innermost decides: the outer layer's exchanger
    // is not lent to the inner layer's callers.
    let r = t.get("/mcp/outer", Some(&format!("Bearer {token}"))).await;
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
    let r = t.get("/mcp/nested", Some(&format!("Bearer {token}"))).await;
    assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
}
