//! RSA signing keys (a per-process pool), JWK rendering and test certificates.

use std::fmt;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{DecodingKey, EncodingKey};
use sha1::Digest as _;

use crate::{Error, Result};

/// One RSA key pair the mock signs with.
pub(crate) struct SigningKey {
    pub(crate) kid: String,
    pub(crate) encoding: EncodingKey,
    /// base64url modulus.
    pub(crate) n: String,
    /// base64url exponent.
    pub(crate) e: String,
    /// A self-signed certificate for the key (the `x5c` of the JWK), base64 DER.
    pub(crate) x5c: String,
    /// base64url SHA-1 of the certificate (the `x5t` of the JWK).
    pub(crate) x5t: String,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey").field("kid", &self.kid).finish_non_exhaustive()
    }
}

impl SigningKey {
    fn generate() -> Result<Self> {
        let cert = TestCertificate::generate_inner("CN=mock-entra signing key")?;
        let encoding = EncodingKey::from_rsa_pem(cert.key_pem.as_bytes()).map_err(Error::Key)?;
        Ok(Self {
            kid: cert.x5t(),
            encoding,
            n: cert.n.clone(),
            e: cert.e.clone(),
            x5c: STANDARD.encode(&cert.der),
            x5t: cert.x5t(),
        })
    }

    pub(crate) fn decoding_key(&self) -> Result<DecodingKey> {
        DecodingKey::from_rsa_components(&self.n, &self.e).map_err(Error::Key)
    }

    /// The JWK, with `issuer` when given (Entra's per-key issuer).
    pub(crate) fn jwk(&self, issuer: Option<&str>) -> serde_json::Value {
        let mut jwk = serde_json::json!({
            "kty": "RSA",
            "use": "sig",
            "kid": self.kid,
            "x5t": self.x5t,
            "n": self.n,
            "e": self.e,
            "x5c": [self.x5c],
        });
        if let (Some(iss), Some(map)) = (issuer, jwk.as_object_mut()) {
            map.insert("issuer".into(), serde_json::Value::String(iss.to_owned()));
        }
        jwk
    }
}

/// Keys generated once per process and handed out in order: generating RSA keys
/// is slow, and keys may be shared between mocks (they are test keys).
fn pool() -> &'static Mutex<Vec<Arc<SigningKey>>> {
    static POOL: OnceLock<Mutex<Vec<Arc<SigningKey>>>> = OnceLock::new();
    POOL.get_or_init(|| Mutex::new(Vec::new()))
}

/// The `index`-th key of the process-wide pool, generating it when needed.
pub(crate) fn pooled_key(index: usize) -> Result<Arc<SigningKey>> {
    let mut keys = pool().lock().unwrap_or_else(PoisonError::into_inner);
    while keys.len() <= index {
        keys.push(Arc::new(SigningKey::generate()?));
    }
    Ok(Arc::clone(&keys[index]))
}

/// A key that is never published in any JWKS (for bad-signature tests).
pub(crate) fn unpublished_key() -> Result<Arc<SigningKey>> {
    static KEY: OnceLock<Arc<SigningKey>> = OnceLock::new();
    if let Some(k) = KEY.get() {
        return Ok(Arc::clone(k));
    }
    let key = Arc::new(SigningKey::generate()?);
    Ok(Arc::clone(KEY.get_or_init(|| key)))
}

/// A self-signed RSA certificate with its private key, for apps that authenticate
/// with a client assertion (certificate credential).
///
/// ```
/// use entra_testkit::TestCertificate;
/// let cert = TestCertificate::generate("CN=my-app");
/// assert!(cert.cert_pem().starts_with("-----BEGIN CERTIFICATE-----"));
/// assert!(cert.key_pem().contains("PRIVATE KEY"));
/// assert_eq!(cert.x5t_s256().len(), 43);
/// ```
#[derive(Clone)]
pub struct TestCertificate {
    der: Vec<u8>,
    cert_pem: String,
    key_pem: String,
    n: String,
    e: String,
}

impl fmt::Debug for TestCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestCertificate")
            .field("x5t_s256", &self.x5t_s256())
            .finish_non_exhaustive()
    }
}

impl TestCertificate {
    /// Generates a 2048-bit RSA key and a self-signed certificate whose subject
    /// is `subject` (`CN=...`; other attributes are ignored).
    ///
    /// # Panics
    /// When key generation fails (it does not, with the bundled crypto backend);
    /// use [`TestCertificate::try_generate`] to get the error instead.
    pub fn generate(subject: &str) -> Self {
        match Self::try_generate(subject) {
            Ok(c) => c,
            Err(e) => panic!("entra-testkit: cannot generate a test certificate: {e}"),
        }
    }

    /// As [`TestCertificate::generate`], returning errors.
    ///
    /// # Errors
    /// [`Error::Certificate`] when the key or the certificate cannot be generated.
    pub fn try_generate(subject: &str) -> Result<Self> {
        Self::generate_inner(subject)
    }

    fn generate_inner(subject: &str) -> Result<Self> {
        let cert_err = |e: rcgen::Error| Error::Certificate(e.to_string());
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).map_err(cert_err)?;
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).map_err(cert_err)?;
        let cn = subject.trim().strip_prefix("CN=").unwrap_or(subject.trim());
        let cn = cn.split(',').next().unwrap_or(cn);
        let mut dn = rcgen::DistinguishedName::new();
        dn.push(rcgen::DnType::CommonName, cn);
        params.distinguished_name = dn;
        let cert = params.self_signed(&key).map_err(cert_err)?;
        let (n, e) = rsa_components(key.public_key_raw())
            .ok_or_else(|| Error::Certificate("unexpected RSA public key encoding".into()))?;
        Ok(Self {
            der: cert.der().to_vec(),
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            n: URL_SAFE_NO_PAD.encode(n),
            e: URL_SAFE_NO_PAD.encode(e),
        })
    }

    /// The certificate, PEM.
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// The private key, PKCS#8 PEM (what `jsonwebtoken::EncodingKey::from_rsa_pem` takes).
    pub fn key_pem(&self) -> &str {
        &self.key_pem
    }

    /// The certificate, DER.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// base64url(SHA-256(DER)): the `x5t#S256` header of a PS256 client assertion.
    pub fn x5t_s256(&self) -> String {
        URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(&self.der))
    }

    /// base64url(SHA-1(DER)): the legacy `x5t` header of an RS256 client assertion.
    pub fn x5t(&self) -> String {
        URL_SAFE_NO_PAD.encode(sha1::Sha1::digest(&self.der))
    }

    /// A client assertion for `client_id` signed with this certificate's key, as
    /// certificate credentials send it: header `alg: PS256`, `typ: JWT`,
    /// `x5t#S256`; claims `aud` = `audience` (the token endpoint URL), `iss` = `sub` =
    /// the client id, a fresh `jti`, `nbf` = `iat` = `now_unix`, `exp` ten minutes later.
    ///
    /// # Errors
    /// [`Error::Key`] when signing fails.
    pub fn client_assertion(
        &self,
        client_id: &entra_core::ClientId,
        audience: &str,
        now_unix: i64,
    ) -> Result<String> {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::PS256);
        header.x5t_s256 = Some(self.x5t_s256());
        let claims = serde_json::json!({
            "aud": audience,
            "iss": client_id,
            "sub": client_id,
            "jti": uuid::Uuid::new_v4().to_string(),
            "nbf": now_unix,
            "iat": now_unix,
            "exp": now_unix + 600,
        });
        let key = EncodingKey::from_rsa_pem(self.key_pem.as_bytes()).map_err(Error::Key)?;
        jsonwebtoken::encode(&header, &claims, &key).map_err(Error::Key)
    }

    /// The public key, for verifying signatures made with [`TestCertificate::key_pem`].
    pub(crate) fn decoding_key(&self) -> Result<DecodingKey> {
        DecodingKey::from_rsa_components(&self.n, &self.e).map_err(Error::Key)
    }
}

/// Reads one DER element: returns (tag, content, rest).
fn der_element(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, mut rest) = rest.split_first()?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let (len_bytes, after) = rest.split_at(count);
        rest = after;
        len_bytes.iter().fold(0usize, |acc, b| (acc << 8) | usize::from(*b))
    };
    if rest.len() < len {
        return None;
    }
    let (content, rest) = rest.split_at(len);
    Some((tag, content, rest))
}

/// Splits a PKCS#1 `RSAPublicKey` (SEQUENCE { n INTEGER, e INTEGER }) into its
/// unsigned big-endian modulus and exponent.
fn rsa_components(der: &[u8]) -> Option<(&[u8], &[u8])> {
    let (tag, seq, _) = der_element(der)?;
    if tag != 0x30 {
        return None;
    }
    let (tag_n, n, rest) = der_element(seq)?;
    let (tag_e, e, _) = der_element(rest)?;
    if tag_n != 0x02 || tag_e != 0x02 {
        return None;
    }
    let trim = |v: &[u8]| -> usize { v.iter().take_while(|b| **b == 0).count() };
    Some((&n[trim(n)..], &e[trim(e)..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_parsing() {
        // SEQUENCE { INTEGER 0x00c1, INTEGER 0x010001 }
        let der = [0x30, 0x09, 0x02, 0x02, 0x00, 0xc1, 0x02, 0x03, 0x01, 0x00, 0x01];
        let (n, e) = rsa_components(&der).unwrap();
        assert_eq!(n, &[0xc1]);
        assert_eq!(e, &[1, 0, 1]);
        assert!(rsa_components(&der[..5]).is_none());
        assert!(rsa_components(&[]).is_none());
    }

    #[test]
    fn certificate_thumbprints_differ() {
        let c = TestCertificate::generate("CN=x");
        assert_ne!(c.x5t(), c.x5t_s256());
        assert_eq!(c.x5t().len(), 27);
        assert!(format!("{c:?}").contains("x5t_s256"));
        assert!(!format!("{c:?}").contains("PRIVATE"));
    }
}
