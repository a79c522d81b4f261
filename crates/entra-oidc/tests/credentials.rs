//! The code exchange with each kind of client credential: secret in the body
//! (the default, tested in `login`), secret with HTTP Basic, certificate
//! assertion.

use std::time::{SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use entra_core::{ClientAssertionProvider, ClientCredential, ClientId, Secret};
use entra_oidc::{Client, Config, LoginOptions};
use entra_testkit::jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use entra_testkit::{TestApp, TestCertificate};

use crate::support::{CompleteOwn as _, Env, REDIRECT, authorize};

/// A certificate credential as entra-obo builds it: PS256 with `x5t#S256`.
#[derive(Debug)]
struct CertificateAssertion(TestCertificate);

#[async_trait]
impl ClientAssertionProvider for CertificateAssertion {
    async fn client_assertion(
        &self,
        client_id: &ClientId,
        token_endpoint: &str,
    ) -> Result<Secret, entra_core::Error> {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
        let mut header = Header::new(Algorithm::PS256);
        header.x5t_s256 = Some(self.0.x5t_s256());
        let claims = serde_json::json!({
            "aud": token_endpoint, "iss": client_id.as_str(), "sub": client_id.as_str(),
            "jti": format!("jti-{now}"), "nbf": now, "iat": now, "exp": now + 600,
        });
        let key = EncodingKey::from_rsa_pem(self.0.key_pem().as_bytes()).unwrap();
        Ok(Secret::new(encode(&header, &claims, &key).unwrap()))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificate_credential() {
    let env = Env::start().await;
    let cert = TestCertificate::generate("CN=web-cert");
    let app = env
        .mock
        .register_app(TestApp::new("web-cert").certificate(cert.clone()).redirect_uri(REDIRECT));
    let mut config = Config::new(env.mock.authority(), app.client_id.clone());
    config.redirect_uri = Some(REDIRECT.into());
    let client = Client::builder(config)
        .clock(env.clock.clone())
        .credential(ClientCredential::assertion(CertificateAssertion(cert)))
        .build()
        .unwrap();
    assert!(!client.is_public());
    let login =
        client.begin_with(LoginOptions::new("/").login_hint(&env.alice.username)).await.unwrap();
    let signed_in = client.complete_own(&authorize(login.url()).await).await.unwrap();
    assert_eq!(signed_in.user().tenant_id(), &env.alice.tid);
    let r = env.mock.token_requests().pop().unwrap();
    assert_eq!(
        r.form_value("client_assertion_type"),
        Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
    );
    assert!(r.form_value("client_assertion").is_some() && r.form_value("client_secret").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secret_with_http_basic() {
    let env = Env::start().await;
    let client = Client::builder(env.config())
        .clock(env.clock.clone())
        .credential(ClientCredential::secret_basic(Secret::new(crate::support::SECRET)))
        .build()
        .unwrap();
    let login =
        client.begin_with(LoginOptions::new("/").login_hint(&env.alice.username)).await.unwrap();
    client.complete_own(&authorize(login.url()).await).await.unwrap();
    let r = env.mock.token_requests().pop().unwrap();
    assert!(r.header("authorization").unwrap().starts_with("Basic "));
    assert!(r.form_value("client_secret").is_none());
    // oauth2 built the grant; the HTTP layer added its client-request-id.
    assert_eq!(r.form_value("grant_type"), Some("authorization_code"));
    assert!(r.form_value("code_verifier").is_some_and(|v| v.len() == 43));
    assert_eq!(r.header("client-request-id").map(str::len), Some(36));
}
