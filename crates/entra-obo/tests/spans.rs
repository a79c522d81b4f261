//! Each token request runs in a span naming the endpoint and the outcome; no
//! token, assertion or secret ever reaches the logs.

use std::io;
use std::sync::{Arc, Mutex};

use entra_testkit::Fault;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::fmt::format::FmtSpan;

use crate::support::{API_SECRET, Env};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Self;
    fn make_writer(&'a self) -> Self {
        self.clone()
    }
}

#[tokio::test(flavor = "current_thread")]
async fn spans_name_endpoint_and_outcome_and_never_a_token() {
    let env = Env::start().await;
    // One process-wide subscriber for this crate's spans: a thread-local
    // `set_default` races with the callsite-interest cache of tests running on
    // other threads, which makes the capture flaky.
    static CAPTURED: std::sync::OnceLock<Captured> = std::sync::OnceLock::new();
    let captured = CAPTURED.get_or_init(|| {
        let captured = Captured::default();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(captured.clone())
            .with_env_filter(tracing_subscriber::EnvFilter::new("entra_obo=trace"))
            .with_span_events(FmtSpan::CLOSE)
            .with_ansi(false)
            .finish();
        tracing::subscriber::set_global_default(subscriber).unwrap();
        captured
    });

    let obo = env.obo();
    let user = env.user_token(&env.alice);
    env.mock.fail_next(1, Fault::status(503));
    let token = obo.exchange_on_behalf_of(&user, "https://graph.microsoft.com").await.unwrap();
    env.mock.fail_next(1, Fault::aadsts(65001));
    let bob = env.user_token(&env.mock.add_user(entra_testkit::TestUser::new("bob@contoso.com")));
    assert!(obo.exchange_on_behalf_of(&bob, "https://graph.microsoft.com").await.is_err());

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("entra_obo.token_request"), "{logs}");
    assert!(logs.contains(&format!("/{}/oauth2/v2.0/token", env.mock.tenant_id())), "{logs}");
    assert!(logs.contains("outcome=\"unavailable\""), "{logs}");
    assert!(logs.contains("outcome=\"ok\""), "{logs}");
    assert!(logs.contains("outcome=\"consent_required\""), "{logs}");
    assert!(logs.contains("status=503"), "{logs}");
    for secret in [
        user.raw().expose_secret(),
        bob.raw().expose_secret(),
        token.secret.expose_secret(),
        API_SECRET,
    ] {
        assert!(!logs.contains(secret));
    }
    assert!(!logs.contains("eyJ"), "{logs}");
}
