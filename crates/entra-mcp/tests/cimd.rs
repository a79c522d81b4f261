//! Client ID Metadata Documents: fetched over https from public addresses only.

use std::convert::Infallible;
use std::sync::Arc;

use http_body_util::Full;
use hyper::body::Bytes;
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair, SanType};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::support::{AuthRequest, LOOPBACK_REDIRECT, Server, error_of};

/// An https server on loopback answering every GET with `body`; returns its
/// port and the CA (PEM) that signed its certificate for `localhost`.
async fn document_server(body: impl Fn(u16) -> String + Send + Sync + 'static) -> (u16, String) {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, ca_key);
    let leaf_key = KeyPair::generate().unwrap();
    let mut leaf = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    leaf.subject_alt_names.push(SanType::IpAddress("127.0.0.1".parse().unwrap()));
    leaf.use_authority_key_identifier_extension = true;
    let leaf_cert = leaf.signed_by(&leaf_key, &issuer).unwrap();
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf_cert.der().clone(), CertificateDer::from(ca_cert.der().to_vec())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der())),
        )
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let body = Arc::new(body);
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            let body = body.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else { return };
                let service = hyper::service::service_fn(move |_req| {
                    let text = body(port);
                    async move {
                        Ok::<_, Infallible>(hyper::Response::new(Full::new(Bytes::from(text))))
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    (port, ca_cert.pem())
}

fn document(port: u16, redirect: &str) -> String {
    serde_json::json!({
        "client_id": format!("https://localhost:{port}/client.json"),
        "client_name": "Documented client",
        "redirect_uris": [redirect],
    })
    .to_string()
}

async fn authorize(s: &Server, request: &AuthRequest) -> reqwest::Response {
    s.http.get(format!("{}?{}", s.url("/oauth/authorize"), request.query())).send().await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_document_on_a_private_address_is_never_fetched() {
    let (port, ca) = document_server(|p| document(p, LOOPBACK_REDIRECT)).await;
    let root = reqwest::Certificate::from_pem(ca.as_bytes()).unwrap();
    // The default policy, even trusting the document server's CA.
    let s = Server::start_with(move |b| b.metadata_document_root(root)).await;
    for client_id in [
        format!("https://localhost:{port}/client.json"),
        format!("https://127.0.0.1:{port}/client.json"),
        "https://169.254.169.254/latest/meta-data".to_owned(),
        "https://10.0.0.1/client.json".to_owned(),
        "https://[::1]/client.json".to_owned(),
        "https://[::ffff:127.0.0.1]/client.json".to_owned(),
    ] {
        let r = authorize(&s, &AuthRequest::new(&client_id, LOOPBACK_REDIRECT)).await;
        assert_eq!(error_of(r).await, (400, "invalid_client".into()), "{client_id}");
    }
    // Plain http and a root path are not document URLs at all.
    for client_id in ["http://localhost/client.json", "https://example.com/"] {
        let r = authorize(&s, &AuthRequest::new(client_id, LOOPBACK_REDIRECT)).await;
        assert_eq!(error_of(r).await, (400, "invalid_client".into()), "{client_id}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_document_client_signs_in_when_its_address_is_allowed() {
    let (port, ca) = document_server(|p| document(p, LOOPBACK_REDIRECT)).await;
    let root = reqwest::Certificate::from_pem(ca.as_bytes()).unwrap();
    let s = Server::start_with(move |b| {
        entra_mcp::dangerous::allow_metadata_document_addresses(
            b.metadata_document_root(root),
            |ip| ip.is_loopback(),
        )
    })
    .await;
    let client_id = format!("https://localhost:{port}/client.json");
    let request = AuthRequest::new(&client_id, LOOPBACK_REDIRECT);
    let consent = s.consent_page(&request).await;
    assert!(consent.html.contains("Documented client"));
    assert!(consent.html.contains(&format!("published at {client_id}")));
    let code = s.code_for_consent(&request, &consent).await;
    assert_eq!(s.redeem(&request, &code, &request.verifier).await.status(), 200);
    // A redirect URI the document does not list is refused.
    let other = AuthRequest::new(&client_id, "http://127.0.0.1/other");
    assert_eq!(error_of(authorize(&s, &other).await).await, (400, "invalid_request".into()));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_document_must_name_itself_and_fit() {
    let (wrong_id, ca1) = document_server(|_| document(1, LOOPBACK_REDIRECT)).await;
    let (huge, ca2) = document_server(|p| {
        let mut d: serde_json::Value =
            serde_json::from_str(&document(p, LOOPBACK_REDIRECT)).unwrap();
        d["padding"] = serde_json::Value::from("x".repeat(10_000));
        d.to_string()
    })
    .await;
    let (bad_uri, ca3) = document_server(|p| document(p, "https://evil.example/cb")).await;
    let roots: Vec<_> = [ca1, ca2, ca3]
        .iter()
        .map(|pem| reqwest::Certificate::from_pem(pem.as_bytes()).unwrap())
        .collect();
    let s = Server::start_with(move |mut b| {
        for r in roots {
            b = b.metadata_document_root(r);
        }
        entra_mcp::dangerous::allow_metadata_document_addresses(b, |ip| ip.is_loopback())
    })
    .await;
    for port in [wrong_id, huge] {
        let client_id = format!("https://localhost:{port}/client.json");
        let r = authorize(&s, &AuthRequest::new(&client_id, LOOPBACK_REDIRECT)).await;
        assert_eq!(error_of(r).await, (400, "invalid_client".into()), "{port}");
    }
    let client_id = format!("https://localhost:{bad_uri}/client.json");
    let r = authorize(&s, &AuthRequest::new(&client_id, "https://evil.example/cb")).await;
    assert_eq!(error_of(r).await, (400, "invalid_redirect_uri".into()));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_document_is_cached_for_its_lifetime() {
    let hits = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = hits.clone();
    let (port, ca) = document_server(move |p| {
        counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        document(p, LOOPBACK_REDIRECT)
    })
    .await;
    let root = reqwest::Certificate::from_pem(ca.as_bytes()).unwrap();
    let clock = entra_core::ManualClock::starting_now();
    let c = clock.clone();
    let s = Server::start_with(move |b| {
        entra_mcp::dangerous::allow_metadata_document_addresses(
            b.metadata_document_root(root).clock(c),
            |ip| ip.is_loopback(),
        )
    })
    .await;
    let request =
        AuthRequest::new(&format!("https://localhost:{port}/client.json"), LOOPBACK_REDIRECT);
    s.consent_page(&request).await;
    s.consent_page(&request).await;
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 1, "fetched once");
    clock.advance(std::time::Duration::from_secs(601));
    s.consent_page(&request).await;
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 2, "fetched again after 10 minutes");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_document_server_that_never_answers_is_given_up() {
    // Accepts connections and never speaks TLS.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((tcp, _)) = listener.accept().await {
            held.push(tcp);
        }
    });
    let mut limits = entra_mcp::Limits::default();
    limits.metadata_document_timeout = std::time::Duration::from_millis(200);
    let s = Server::start_with(move |b| {
        entra_mcp::dangerous::allow_metadata_document_addresses(b.limits(limits), |ip| {
            ip.is_loopback()
        })
    })
    .await;
    let request =
        AuthRequest::new(&format!("https://localhost:{port}/client.json"), LOOPBACK_REDIRECT);
    assert_eq!(error_of(authorize(&s, &request).await).await, (400, "invalid_client".into()));
}
