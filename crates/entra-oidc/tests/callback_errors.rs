//! Error callbacks: Entra's `error` is honoured only for a callback whose `state`
//! names a pending sign-in, and only in the OAuth character set.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use entra_core::ErrorKind;
use entra_oidc::{CallbackParams, Error, LoginOptions};

use crate::support::{CompleteOwn as _, Env, authorize};

/// A tracing writer that keeps everything in memory.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

fn query(state: &str, error: &str, description: &str) -> CallbackParams {
    let q = serde_urlencoded::to_string([
        ("state", state),
        ("error", error),
        ("error_description", description),
    ])
    .unwrap();
    CallbackParams::from_query(&q).unwrap()
}

/// The log of the whole test binary (a global subscriber: a thread-local one
/// misses events whose callsites other tests registered first).
fn logs() -> Logs {
    static LOGS: OnceLock<Logs> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Logs::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::INFO)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::set_global_default(subscriber).unwrap();
        logs
    })
    .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_error_callbacks_are_unknown_state() {
    let logs = logs();
    let env = Env::start().await;
    let client = env.client(env.config());
    let options = LoginOptions::new("/after").login_hint(&env.alice.username);
    let login = client.begin_with(options).await.unwrap();

    // Failing: a forged error callback with a state no sign-in has. The attacker's
    // error kind and remedy are not reported, nothing of their text is logged.
    for state in ["junk", "", &"x".repeat(10_000)] {
        let forged = query(
            state,
            "access_denied",
            "AADSTS50105: MARKER-ATTACKER call +1-555-0100 to reactivate your account",
        );
        let err = client.complete_own(&forged).await.unwrap_err();
        // An empty state matches no browser's cookie; the others name no sign-in.
        if state.is_empty() {
            assert!(matches!(err, Error::StateMismatch), "{err:?}");
        } else {
            assert!(matches!(err, Error::UnknownState), "{state:?}: {err:?}");
        }
        assert!(err.entra_error().is_none() && err.remedy().is_none());
    }
    let mut no_state = query("s", "consent_required", "AADSTS65001: MARKER-ATTACKER");
    no_state.state = None;
    assert!(matches!(client.complete_own(&no_state).await, Err(Error::MissingState)));
    assert!(!logs.text().contains("MARKER-ATTACKER"), "{}", logs.text());

    // The forged callbacks consumed nothing: the real sign-in completes.
    let signed_in = client.complete_own(&authorize(login.url()).await).await.unwrap();
    assert_eq!(signed_in.return_to(), "/after");

    // Passing: an error for a real pending sign-in is honoured (and consumes it),
    // logged with its description cut and cleaned.
    let login = client.begin("/").await.unwrap();
    let long = format!("AADSTS50105: MARKER-REAL\r\nforged line{}", "y".repeat(5_000));
    let err = client.complete_own(&query(login.state(), "access_denied", &long)).await.unwrap_err();
    assert_eq!(err.entra_error().unwrap().kind(), ErrorKind::UserNotAssigned, "{err:?}");
    let replay = CallbackParams::new("code", login.state());
    assert!(matches!(client.complete_own(&replay).await, Err(Error::UnknownState)));
    let text = logs.text();
    let line = text
        .lines()
        .find(|l| l.contains("MARKER-REAL"))
        .unwrap_or_else(|| panic!("the refusal is logged: {text}"));
    assert!(line.contains("WARN") && line.contains("forged line"), "{line}");
    assert!(line.len() < 1_000, "the description is cut: {} bytes", line.len());
    assert!(!text.contains(&"y".repeat(300)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_error_values_are_refused() {
    let env = Env::start().await;
    let client = env.client(env.config());
    for bad in [
        "access_denied\r\nINFO forged log line",
        "access_denied\"",
        "access\\denied",
        "acc\u{e8}s_refus\u{e9}",
        &"a".repeat(65),
    ] {
        let login = client.begin("/").await.unwrap();
        let err =
            client.complete_own(&query(login.state(), bad, "AADSTS50105: x")).await.unwrap_err();
        assert!(matches!(err, Error::InvalidCallback { .. }), "{bad:?}: {err:?}");
        assert!(err.is_unauthorized() && err.entra_error().is_none());
        // The pending sign-in is consumed all the same.
        let replay = CallbackParams::new("code", login.state());
        assert!(matches!(client.complete_own(&replay).await, Err(Error::UnknownState)), "{bad:?}");
    }
    // Passing: the longest allowed code, in the allowed characters.
    let login = client.begin("/").await.unwrap();
    let code = format!("x{}", "!#[]~ ".repeat(10)).chars().take(64).collect::<String>();
    let err = client.complete_own(&query(login.state(), &code, "")).await.unwrap_err();
    assert!(matches!(err, Error::Authorization(_)), "{err:?}");
    assert_eq!(env.mock.token_requests().len(), 0);
}
