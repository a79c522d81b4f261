//! `check`: ok, problems and could-not-check, through the library and the binary
//! (exit codes 0, 1, 2), with and without an On-Behalf-Of try.

use std::sync::Arc;

use entra_core::{ManualClock, Secret};
use entra_doctor::{CheckOptions, CheckReport, Outcome, Progress, Status, run_check};
use entra_testkit::{Fault, MockEntra, TestCertificate, TestUser};

use crate::common::{config, json, run, vars};

async fn check(vars: Vec<(String, String)>, options: CheckOptions) -> CheckReport {
    let mut seen = Vec::new();
    let report = run_check(&config(vars), &options, &mut |p: Progress<'_>| {
        if let Progress::Started { step, .. } = p {
            seen.push(step);
        }
    })
    .await
    .unwrap();
    if report.steps.iter().any(|s| s.name == "discovery") {
        assert!(seen.contains(&"discovery"), "progress for network steps: {seen:?}");
    }
    report
}

/// 4096-01-01 00:00:00 UTC, the end date of rcgen's (and so the test kit's) certificates.
const END_4096: u64 = 67_090_118_400;

fn step<'a>(r: &'a CheckReport, name: &str) -> &'a entra_doctor::Step {
    r.steps.iter().find(|s| s.name == name).unwrap_or_else(|| panic!("no step {name}: {r}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn healthy_configuration() {
    let mock = MockEntra::start().await;
    let api = mock.default_api();
    let env = vars(
        &mock,
        &api,
        &[
            ("ENTRA_CLIENT_SECRET", "mock-api-secret"),
            ("ENTRA_REDIRECT_URI", "http://localhost/callback"),
        ],
    );
    let r = check(env.clone(), CheckOptions::new()).await;
    assert_eq!(r.outcome, Outcome::Ok, "{r}");
    for name in [
        "configuration",
        "client_id",
        "authority",
        "redirect_uri",
        "credential",
        "validator",
        "discovery",
        "keys",
    ] {
        assert_eq!(step(&r, name).status, Status::Ok, "{name}: {r}");
    }
    assert!(step(&r, "discovery").millis.is_some() && step(&r, "keys").millis.is_some());
    // The secret is never shown, in text or JSON.
    assert!(!r.to_string().contains("mock-api-secret"));
    assert!(!serde_json::to_string(&r).unwrap().contains("mock-api-secret"));

    let out = run(&["check"], &env, None).await;
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("Result: ok"), "{out:?}");
    assert!(
        out.stderr.contains("[discovery] GET ") && out.stderr.contains("[keys] ok in"),
        "{out:?}"
    );
    let out = run(&["check", "--json"], &env, None).await;
    let doc = json(&out);
    // The same settings from a --config file, with an empty environment.
    let dir = std::env::temp_dir().join(format!("entra-doctor-cfg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("app.json");
    let settings = serde_json::json!({
        "authority": mock.authority().to_string(),
        "client_id": api.client_id.to_string(),
        "client_secret": "mock-api-secret",
        "redirect_uri": "http://localhost/callback",
    });
    std::fs::write(&file, settings.to_string()).unwrap();
    let from_file = run(&["check", "--config", file.to_str().unwrap()], &[], None).await;
    assert_eq!(from_file.code, 0, "{from_file:?}");
    assert!(from_file.stdout.contains("client_id in "), "{from_file:?}");
    std::fs::write(&file, r#"{"client_idd": "typo"}"#).unwrap();
    let typo = run(&["check", "--config", file.to_str().unwrap()], &[], None).await;
    assert_eq!(typo.code, 2, "{typo:?}");
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!((doc["outcome"].as_str(), doc["exit_code"].as_u64()), (Some("ok"), Some(0)));
    assert!(doc["steps"].as_array().unwrap().iter().any(|s| s["name"] == "keys"));
    assert!(!out.stdout.contains("mock-api-secret"));
}

#[tokio::test(flavor = "multi_thread")]
async fn problems_found() {
    let mock = MockEntra::start().await;
    let api = mock.default_api();
    let tenant = mock.tenant_id().to_string();
    let env = vars(
        &mock,
        &api,
        &[
            // The secret's ID instead of its value, an http redirect URI, and a
            // tenant that disagrees with the authority.
            ("ENTRA_CLIENT_SECRET", "6e74172b-be56-4843-9ff4-e66a39bb12e3"),
            ("ENTRA_REDIRECT_URI", "http://app.example.com/callback"),
            ("ENTRA_TENANT_ID", "11111111-2222-3333-4444-555555555555"),
        ],
    );
    let r = check(env.clone(), CheckOptions::new()).await;
    assert_eq!(r.outcome, Outcome::Problems, "{r}");
    assert!(step(&r, "credential").remedy.as_deref().unwrap().contains("AADSTS7000215"));
    assert!(step(&r, "redirect_uri").detail.contains("http only for localhost"));
    assert!(step(&r, "authority").detail.contains(&tenant), "{r}");
    let out = run(&["check"], &env, None).await;
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stdout.contains("PROBLEM") && out.stdout.contains("problem(s) found"));

    // A multi-tenant authority without a tenant list, and a client id that is an
    // App ID URI.
    let organizations = mock.authority_for(entra_core::Tenant::Organizations).to_string();
    let r = check(
        vec![
            ("ENTRA_AUTHORITY".into(), organizations.clone()),
            ("ENTRA_CLIENT_ID".into(), format!("api://{}", api.client_id)),
        ],
        CheckOptions::new(),
    )
    .await;
    assert_eq!(step(&r, "client_id").status, Status::Problem);
    assert!(step(&r, "client_id").detail.contains("App ID URI"));
    let r = check(
        vec![
            ("ENTRA_AUTHORITY".into(), organizations),
            ("ENTRA_CLIENT_ID".into(), api.client_id.to_string()),
        ],
        CheckOptions::new(),
    )
    .await;
    assert_eq!(step(&r, "validator").status, Status::Problem);
    assert!(step(&r, "validator").remedy.as_deref().unwrap().contains("ENTRA_ALLOWED_TENANTS"));
    // An unknown tenant: discovery answers with an Entra error, explained.
    let unknown = format!("{}/{}", mock.uri(), "contoso.example");
    let r = check(
        vec![
            ("ENTRA_AUTHORITY".into(), unknown),
            ("ENTRA_CLIENT_ID".into(), api.client_id.to_string()),
            ("ENTRA_ALLOWED_TENANTS".into(), "*".into()),
        ],
        CheckOptions::new(),
    )
    .await;
    assert_eq!(step(&r, "discovery").status, Status::Problem, "{r}");
}

#[tokio::test(flavor = "multi_thread")]
async fn certificate_dates() {
    let mock = MockEntra::start().await;
    let api = mock.default_api();
    let cert = TestCertificate::generate("CN=doctor-test");
    let dir = std::env::temp_dir().join(format!("entra-doctor-cert-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("app.pem");
    std::fs::write(&path, format!("{}{}", cert.cert_pem(), cert.key_pem())).unwrap();
    let path_text = path.display().to_string();
    let env = vars(&mock, &api, &[("ENTRA_CLIENT_CERTIFICATE_PATH", &path_text)]);
    let r = check(env.clone(), CheckOptions::new()).await;
    let credential = step(&r, "credential");
    assert_eq!(credential.status, Status::Ok, "{r}");
    assert!(
        credential.detail.contains("SHA-1 thumbprint")
            && credential.detail.contains("CN=doctor-test")
    );
    // The same certificate, judged by a clock past its end date (rcgen's default: 4096-01-01).
    let after_end = ManualClock::at_unix(END_4096 + 100 * 86_400);
    let r = check(env.clone(), CheckOptions::new().clock(Arc::new(after_end))).await;
    assert_eq!(step(&r, "credential").status, Status::Problem, "{r}");
    assert!(step(&r, "credential").detail.contains("expired"));
    // Ten days before its end date: a warning.
    let near_end = ManualClock::at_unix(END_4096 - 10 * 86_400);
    let r = check(env, CheckOptions::new().clock(Arc::new(near_end))).await;
    assert_eq!(step(&r, "credential").status, Status::Warning, "{r}");
    // A key that is not the certificate's.
    let other = TestCertificate::generate("CN=other");
    std::fs::write(&path, format!("{}{}", cert.cert_pem(), other.key_pem())).unwrap();
    let r = check(
        vars(&mock, &api, &[("ENTRA_CLIENT_CERTIFICATE_PATH", &path_text)]),
        CheckOptions::new(),
    )
    .await;
    assert_eq!(step(&r, "credential").status, Status::Problem, "{r}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn could_not_check() {
    // No configuration at all.
    let out = run(&["check"], &[], None).await;
    assert_eq!(out.code, 2, "{out:?}");
    // An authority nobody listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let env = vec![
        (
            "ENTRA_AUTHORITY".to_owned(),
            format!("http://127.0.0.1:{port}/72f988bf-86f1-41af-91ab-2d7cd011db47"),
        ),
        ("ENTRA_CLIENT_ID".to_owned(), "6e74172b-be56-4843-9ff4-e66a39bb12e3".to_owned()),
        ("ENTRA_CLIENT_SECRET".to_owned(), "s3cret~value".to_owned()),
    ];
    let r = check(env.clone(), CheckOptions::new()).await;
    assert_eq!(r.outcome, Outcome::CouldNotCheck, "{r}");
    assert_eq!(step(&r, "discovery").status, Status::NotChecked);
    assert_eq!(step(&r, "keys").status, Status::NotChecked);
    let out = run(&["check", "--json"], &env, None).await;
    assert_eq!(out.code, 2, "{out:?}");
    assert_eq!(json(&out)["outcome"], "could_not_check");
}

fn token_file(token: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!(
        "entra-doctor-obo-{}-{}",
        std::process::id(),
        uuid_like()
    ));
    std::fs::write(&path, token).unwrap();
    path
}

fn uuid_like() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()
}

#[tokio::test(flavor = "multi_thread")]
async fn on_behalf_of() {
    let mock = MockEntra::start().await;
    let api = mock.default_api();
    mock.grant_consent(&api.client_id, "https://graph.microsoft.com", &["User.Read"]);
    let alice = mock.add_user(TestUser::new("alice@contoso.com"));
    let user_token = mock.access_token(&alice, &api);
    let env = vars(&mock, &api, &[("ENTRA_CLIENT_SECRET", "mock-api-secret")]);

    let ok = check(env.clone(), CheckOptions::new().obo(Secret::new(user_token.clone()))).await;
    assert_eq!(step(&ok, "obo").status, Status::Ok, "{ok}");
    assert!(step(&ok, "obo").detail.contains("Entra issued a token"));

    // Entra refuses: consent missing. The answer is explained.
    mock.fail_next(1, Fault::aadsts(65001));
    let r = check(env.clone(), CheckOptions::new().obo(Secret::new(user_token.clone()))).await;
    let obo = step(&r, "obo");
    assert_eq!(obo.status, Status::Problem, "{r}");
    let explained = obo.entra_error.as_ref().unwrap();
    assert_eq!(explained.codes, [65001]);
    assert!(explained.trace_id.is_some());
    assert!(obo.remedy.as_deref().unwrap().contains("admin consent"));

    // App-only token: refused before any request.
    let app = mock.app_token(&mock.default_client(), &api);
    let r = check(env.clone(), CheckOptions::new().obo(Secret::new(app))).await;
    assert!(step(&r, "obo").remedy.as_deref().unwrap().contains("AADSTS7000114"), "{r}");

    // A Graph token: the validator refuses it, and Entra would too.
    let graph = mock.graph_token(&alice);
    let r = check(env.clone(), CheckOptions::new().obo(Secret::new(graph.clone()))).await;
    assert!(step(&r, "obo").detail.contains("AADSTS50013"), "{r}");

    // Through the binary: exit codes 0 and 1.
    let good = token_file(&user_token);
    let out = run(&["check", "--obo", good.to_str().unwrap()], &env, None).await;
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stderr.contains("[obo] POST "), "{out:?}");
    let bad = token_file(&graph);
    let out = run(&["check", "--json", "--obo", bad.to_str().unwrap()], &env, None).await;
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(json(&out)["outcome"], "problems");
    for p in [good, bad] {
        std::fs::remove_file(p).unwrap();
    }
}
