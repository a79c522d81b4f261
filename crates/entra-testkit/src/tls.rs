//! TLS for the mock: a certificate authority generated at start, a server
//! certificate it signs for `127.0.0.1`, `::1`, `localhost` (and the host of a
//! public base URL), and the rustls server configuration.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::{Error, Result};

/// The generated CA and server certificate of a mock served over HTTPS.
#[derive(Clone)]
pub(crate) struct Tls {
    /// The CA certificate, PEM: what clients must trust.
    pub(crate) ca_pem: String,
    pub(crate) config: Arc<rustls::ServerConfig>,
}

impl fmt::Debug for Tls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tls").finish_non_exhaustive()
    }
}

fn cert_err(e: impl fmt::Display) -> Error {
    Error::Certificate(e.to_string())
}

impl Tls {
    /// A fresh CA and a server certificate for the loopback names and `extra_host`
    /// (a DNS name or an IP address). Keys are ECDSA P-256 (fast to generate).
    pub(crate) fn generate(extra_host: Option<&str>) -> Result<Self> {
        let ca_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(cert_err)?;
        let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(cert_err)?;
        ca.distinguished_name.push(DnType::CommonName, "mock-entra test CA");
        ca.distinguished_name.push(DnType::OrganizationName, "entra-testkit");
        ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_cert = ca.self_signed(&ca_key).map_err(cert_err)?;
        let issuer = Issuer::new(ca, ca_key);

        let mut names = vec!["localhost".to_owned(), "127.0.0.1".to_owned(), "::1".to_owned()];
        if let Some(h) = extra_host.map(|h| h.trim_start_matches('[').trim_end_matches(']'))
            && !h.is_empty()
            && !names.iter().any(|n| n.eq_ignore_ascii_case(h))
        {
            names.push(h.to_owned());
        }
        let leaf_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(cert_err)?;
        let mut leaf = CertificateParams::new(Vec::<String>::new()).map_err(cert_err)?;
        for n in &names {
            let san = match n.parse::<IpAddr>() {
                Ok(ip) => SanType::IpAddress(ip),
                Err(_) => SanType::DnsName(n.clone().try_into().map_err(cert_err)?),
            };
            leaf.subject_alt_names.push(san);
        }
        leaf.distinguished_name.push(DnType::CommonName, "mock-entra");
        leaf.is_ca = IsCa::ExplicitNoCa;
        leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        leaf.use_authority_key_identifier_extension = true;
        let leaf_cert = leaf.signed_by(&leaf_key, &issuer).map_err(cert_err)?;

        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
        let chain = vec![leaf_cert.der().clone(), CertificateDer::from(ca_cert.der().to_vec())];
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(cert_err)?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(cert_err)?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Self { ca_pem: ca_cert.pem(), config: Arc::new(config) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generates_a_ca_and_a_loopback_certificate() {
        let tls = Tls::generate(Some("mock.example")).unwrap();
        assert!(tls.ca_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert_eq!(tls.config.alpn_protocols, vec![b"http/1.1".to_vec()]);
        assert!(format!("{tls:?}").starts_with("Tls"));
    }
}
