//! `error`: codes, JSON documents and redirects, for every AADSTS code the mock
//! answers with.

use entra_doctor::{ErrorInput, explain_error};
use entra_testkit::{Fault, MockEntra, TestUser};

use crate::common::{json, run};

/// Every AADSTS code the mock's token and authorize endpoints produce, with the
/// classification the doctor must give it.
const MOCK_CODES: &[(u32, &str)] = &[
    (50076, "interaction_required"),
    (50079, "interaction_required"),
    (53003, "interaction_required"),
    (50058, "interaction_required"),
    (65001, "consent_required"),
    (50013, "wrong_audience"),
    (500133, "invalid_grant"),
    (7000114, "app_only_assertion"),
    (501481, "pkce_mismatch"),
    (50148, "pkce_mismatch"),
    (54005, "invalid_grant"),
    (70000, "invalid_grant"),
    (70008, "invalid_grant"),
    (9002313, "invalid_grant"),
    (50105, "user_not_assigned"),
    (70011, "invalid_scope"),
    (28000, "invalid_scope"),
    (28003, "invalid_scope"),
    (1002012, "invalid_scope"),
    (90014, "invalid_request"),
    (900144, "invalid_request"),
    (70003, "invalid_request"),
    (50027, "invalid_request"),
    (700054, "invalid_request"),
    (500011, "resource_not_found"),
    (9010010, "resource_parameter_rejected"),
    (50011, "redirect_uri_mismatch"),
    (700016, "app_not_found"),
    (90002, "app_not_found"),
    (7000215, "invalid_client_secret"),
    (7000222, "expired_client_secret"),
    (7000218, "missing_client_credential"),
    (700027, "invalid_client_assertion"),
    (700024, "invalid_client_assertion"),
    (700021, "invalid_client_assertion"),
    (700023, "invalid_client_assertion"),
    (700025, "other"),
    (50126, "invalid_grant"),
];

async fn token_endpoint_error(mock: &MockEntra, fault: Fault) -> String {
    mock.fail_next(1, fault);
    let response = reqwest::Client::new()
        .post(mock.token_url())
        .form(&[("grant_type", "client_credentials"), ("client_id", "x")])
        .send()
        .await
        .unwrap();
    assert!(!response.status().is_success());
    response.text().await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_mock_code_as_an_error_document() {
    let mock = MockEntra::start().await;
    for (code, kind) in MOCK_CODES {
        let body = token_endpoint_error(&mock, Fault::aadsts(*code)).await;
        let doc: serde_json::Value = serde_json::from_str(&body).unwrap();
        let r = explain_error(&body).unwrap();
        assert_eq!(r.input, ErrorInput::Json);
        assert_eq!(r.codes, [*code]);
        assert_eq!(r.kind, *kind, "AADSTS{code}");
        assert!(!r.meaning.is_empty() && r.meaning != "an error this tool does not know", "{code}");
        assert!(!r.cause.is_empty() && !r.remedy.is_empty());
        assert_eq!(r.trace_id.as_deref(), doc["trace_id"].as_str(), "{code}");
        assert_eq!(r.correlation_id.as_deref(), doc["correlation_id"].as_str(), "{code}");
        assert_eq!(r.timestamp.as_deref(), doc["timestamp"].as_str());
        assert_eq!(r.error.as_deref(), doc["error"].as_str());
        // The same code alone gets the same meaning and remedy.
        // The same code alone gets the same meaning, and the same remedy unless
        // the table leaves the classification to the `error` field.
        let bare = explain_error(&code.to_string()).unwrap();
        assert_eq!(bare.meaning, r.meaning, "{code}");
        if !matches!(code, 700025 | 50126) {
            assert_eq!((bare.kind.as_str(), bare.remedy.as_str()), (*kind, r.remedy.as_str()));
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn throttling_and_outages_are_retriable() {
    let mock = MockEntra::start().await;
    let r = explain_error(&token_endpoint_error(&mock, Fault::throttled(3)).await).unwrap();
    assert_eq!((r.codes.as_slice(), r.kind.as_str()), (&[50196][..], "throttled"));
    assert!(r.retry_may_succeed);
    let r = explain_error(&token_endpoint_error(&mock, Fault::status(503)).await).unwrap();
    assert_eq!((r.codes.as_slice(), r.kind.as_str()), (&[90033][..], "unavailable"));
    assert!(r.retry_may_succeed);
    assert!(!explain_error("50076").unwrap().retry_may_succeed);
}

#[tokio::test(flavor = "multi_thread")]
async fn claims_challenge_is_carried_back() {
    let mock = MockEntra::start().await;
    let claims = r#"{"access_token":{"capolids":{"essential":true,"values":["1"]}}}"#;
    let body = token_endpoint_error(&mock, Fault::aadsts(50076).claims(claims)).await;
    let r = explain_error(&body).unwrap();
    assert_eq!(r.suberror.as_deref(), Some("basic_action"));
    assert_eq!(r.claims_challenge.as_deref(), Some(claims));
    let header = r.www_authenticate.unwrap();
    assert!(header.starts_with(r#"Bearer error="insufficient_claims", claims=""#), "{header}");
    assert!(r.cause.contains("suberror: the user can fix it by signing in interactively"));
}

#[tokio::test(flavor = "multi_thread")]
async fn natural_refusal_wrong_secret() {
    let mock = MockEntra::start().await;
    let api = mock.default_api();
    let body = reqwest::Client::new()
        .post(mock.token_url())
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", api.client_id.as_str()),
            ("client_secret", "not-the-secret"),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let r = explain_error(&body).unwrap();
    assert_eq!(r.codes, [7000215]);
    assert!(r.remedy.contains("Value (not its Secret ID)"), "{}", r.remedy);
}

/// The `Location` of the mock's authorize answer for these parameters.
async fn authorize_redirect(mock: &MockEntra, params: &[(&str, &str)]) -> String {
    let client =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let response = client.get(mock.authority().authorize_url()).query(params).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 302);
    response.headers()["location"].to_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn redirect_urls_with_error() {
    let mock = MockEntra::start().await;
    let client = mock.default_client();
    let alice = mock.add_user(TestUser::new("alice@contoso.com"));
    mock.fail_for_user(&alice.oid, Fault::aadsts(50105));
    let base = [
        ("client_id", client.client_id.as_str()),
        ("response_type", "code"),
        ("redirect_uri", "http://localhost/callback"),
        ("scope", "openid"),
        ("state", "s1"),
    ];
    let mut params = base.to_vec();
    params.push(("login_hint", "alice@contoso.com"));
    let location = authorize_redirect(&mock, &params).await;
    let r = explain_error(&location).unwrap();
    assert_eq!(r.input, ErrorInput::RedirectUrl);
    assert_eq!(r.codes, [50105]);
    assert_eq!(r.kind, "user_not_assigned");
    assert_eq!(r.redirect_uri.as_deref(), Some("http://localhost/callback"));
    assert!(r.remedy.contains("Users and groups"));

    // A silent sign-in without a session, answered in the fragment.
    let mut params = base.to_vec();
    params.extend([("prompt", "none"), ("response_mode", "fragment")]);
    let location = authorize_redirect(&mock, &params).await;
    assert!(location.contains('#'), "{location}");
    let r = explain_error(&location).unwrap();
    assert_eq!((r.codes.as_slice(), r.error.as_deref()), (&[50058][..], Some("login_required")));

    // The error page of an unregistered redirect URI, pasted as text.
    let page = reqwest::Client::new()
        .get(mock.authority().authorize_url())
        .query(&[
            ("client_id", client.client_id.as_str()),
            ("redirect_uri", "https://evil.example/cb"),
            ("response_type", "code"),
            ("scope", "openid"),
        ])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let r = explain_error(&page).unwrap();
    assert_eq!(r.input, ErrorInput::Text);
    assert_eq!((r.codes.as_slice(), r.kind.as_str()), (&[50011][..], "redirect_uri_mismatch"));
}

#[tokio::test(flavor = "multi_thread")]
async fn binary_error_command() {
    let out = run(&["error", "50076"], &[], None).await;
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.starts_with("AADSTS50076: interaction required"), "{out:?}");
    for needle in [
        "meaning",
        "multi-factor authentication",
        "likely cause",
        "Conditional Access",
        "remedy",
        "claims challenge",
    ] {
        assert!(out.stdout.contains(needle), "{needle}: {}", out.stdout);
    }
    let out = run(&["--json", "error", "-"], &[], Some("AADSTS65001")).await;
    assert_eq!(out.code, 0);
    let doc = json(&out);
    assert_eq!(doc["kind"], "consent_required");
    assert_eq!(doc["codes"][0], 65001);
    let out = run(&["error", "hello"], &[], None).await;
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("not an Entra error"));
}
