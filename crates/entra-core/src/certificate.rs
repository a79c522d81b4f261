//! Certificate credentials: client assertions signed with the app's private key.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{KeyPair, RSA_PKCS1_SHA256, RSA_PSS_SHA256, RsaKeyPair};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use sha1::Sha1;
use sha2::{Digest, Sha256};

use crate::{ClientAssertionProvider, ClientId, Clock, Error, Secret, SystemClock};

/// Assertions issued, by (client id, token endpoint), with their `exp`.
type Issued = HashMap<(String, String), (Secret, i64)>;

/// How a certificate assertion is signed and which thumbprint names the certificate.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
#[non_exhaustive]
pub enum AssertionAlgorithm {
    /// `PS256` with the SHA-256 thumbprint in `x5t#S256`: what Entra recommends. The default.
    #[default]
    Ps256,
    /// `RS256` with the SHA-1 thumbprint in `x5t`, for older setups.
    Rs256,
}

/// A certificate credential: the app's certificate and RSA private key, producing
/// client assertions (RFC 7523) for the token endpoint.
///
/// Each assertion has `aud` = the token endpoint, `iss` = `sub` = the client id, a
/// fresh `jti`, `nbf`/`iat` = now and `exp` = now + the lifetime (10 minutes by
/// default). An assertion is reused for the same client id and token endpoint until
/// less than half of its lifetime remains, so signing happens a few times an hour,
/// not per request.
///
/// ```
/// use entra_core::{CertificateCredential, ClientAssertionProvider, ClientId};
/// # let k = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256)?;
/// # let c = rcgen::CertificateParams::new(vec!["app".into()])?.self_signed(&k)?;
/// # let (cert_pem, key_pem) = (c.pem(), k.serialize_pem());
/// let cred = CertificateCredential::from_pem(&cert_pem, &key_pem)?;
/// assert_eq!(cred.thumbprint_sha256().len(), 43);
/// # let id = ClientId::parse("6e74172b-be56-4843-9ff4-e66a39bb12e3")?;
/// # let rt = tokio::runtime::Builder::new_current_thread().build()?;
/// let assertion = rt.block_on(cred.client_assertion(&id, "https://login.example/t/oauth2/v2.0/token"))?;
/// assert_eq!(assertion.expose_secret().split('.').count(), 3);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct CertificateCredential {
    key: Arc<RsaKeyPair>,
    x5t_s256: String,
    x5t: String,
    chain: Arc<[String]>,
    algorithm: AssertionAlgorithm,
    send_x5c: bool,
    lifetime: Duration,
    clock: Arc<dyn Clock>,
    issued: Arc<Mutex<Issued>>,
}

impl CertificateCredential {
    /// A credential from a PEM certificate (the first `CERTIFICATE` block is the
    /// app's certificate; further blocks form the chain sent in `x5c`) and a PEM
    /// RSA private key (`PRIVATE KEY` PKCS#8 or `RSA PRIVATE KEY` PKCS#1,
    /// unencrypted). Both may be the same text, as in a combined `.pem` file.
    ///
    /// # Errors
    /// [`Error::InvalidCertificate`] when there is no certificate block;
    /// [`Error::InvalidPrivateKey`] when there is no usable RSA key or the key does
    /// not belong to the certificate.
    pub fn from_pem(cert_pem: &str, key_pem: &str) -> Result<Self, Error> {
        let certs = certificates(cert_pem)?;
        let key = private_key(key_pem, None)?;
        Self::from_der(certs, key)
    }

    /// As [`CertificateCredential::from_pem`], with a private key that may be
    /// encrypted (`ENCRYPTED PRIVATE KEY`: PKCS#8 with PBES2, PBKDF2 and AES-CBC,
    /// what OpenSSL 3 writes) under `password`. An unencrypted key is used as is.
    ///
    /// # Errors
    /// As [`CertificateCredential::from_pem`]; [`Error::InvalidPrivateKey`] for a
    /// wrong password or an unsupported encryption.
    pub fn from_pem_with_password(
        cert_pem: &str,
        key_pem: &str,
        password: &Secret,
    ) -> Result<Self, Error> {
        let certs = certificates(cert_pem)?;
        let key = private_key(key_pem, Some(password))?;
        Self::from_der(certs, key)
    }

    /// A credential from a combined PEM text holding both the certificate and the
    /// private key (what Azure Key Vault and `openssl pkcs12 -nodes` produce).
    ///
    /// # Errors
    /// As [`CertificateCredential::from_pem`].
    pub fn from_combined_pem(pem: &str) -> Result<Self, Error> {
        Self::from_pem(pem, pem)
    }

    fn from_der(certs: Vec<Vec<u8>>, key: RsaKeyPair) -> Result<Self, Error> {
        let leaf = certs
            .first()
            .ok_or(Error::InvalidCertificate { reason: "no CERTIFICATE block found" })?;
        if leaf.first() != Some(&0x30) {
            return Err(Error::InvalidCertificate { reason: "not a DER certificate" });
        }
        // The certificate's SubjectPublicKeyInfo holds the RSAPublicKey DER of its
        // key verbatim: a key that is not found there belongs to another certificate.
        let public = key.public_key().as_ref();
        if !leaf.windows(public.len()).any(|w| w == public) {
            return Err(Error::InvalidPrivateKey {
                reason: "the private key does not belong to the certificate",
            });
        }
        Ok(Self {
            x5t_s256: URL_SAFE_NO_PAD.encode(Sha256::digest(leaf)),
            x5t: URL_SAFE_NO_PAD.encode(Sha1::digest(leaf)),
            chain: certs.iter().map(|c| STANDARD.encode(c)).collect(),
            key: Arc::new(key),
            algorithm: AssertionAlgorithm::Ps256,
            send_x5c: false,
            lifetime: Duration::from_secs(600),
            clock: Arc::new(SystemClock),
            issued: Arc::default(),
        })
    }

    /// Changes a setting; assertions issued under the old settings are forgotten.
    fn with(mut self, f: impl FnOnce(&mut Self)) -> Self {
        f(&mut self);
        self.issued = Arc::default();
        self
    }

    /// Signs with `algorithm`. Defaults to [`AssertionAlgorithm::Ps256`].
    pub fn algorithm(self, algorithm: AssertionAlgorithm) -> Self {
        self.with(|i| i.algorithm = algorithm)
    }

    /// Sends the certificate chain in the `x5c` header, for subject name + issuer
    /// authentication. Defaults to `false`.
    pub fn send_x5c(self, send: bool) -> Self {
        self.with(|i| i.send_x5c = send)
    }

    /// The lifetime of each assertion, clamped to 5-10 minutes (the range Entra
    /// expects; an assertion is reused while more than half of it remains, so every
    /// assertion handed out has at least 2.5 minutes left). Defaults to 10 minutes.
    pub fn lifetime(self, lifetime: Duration) -> Self {
        let lifetime = lifetime.clamp(Duration::from_secs(300), Duration::from_secs(600));
        self.with(|i| i.lifetime = lifetime)
    }

    /// The clock for `iat`, `nbf`, `exp` and reuse decisions. Defaults to [`SystemClock`].
    pub fn clock(self, clock: impl Clock + 'static) -> Self {
        self.with(|i| i.clock = Arc::new(clock))
    }

    /// base64url(SHA-256 of the certificate DER): the `x5t#S256` header value.
    pub fn thumbprint_sha256(&self) -> &str {
        &self.x5t_s256
    }

    /// base64url(SHA-1 of the certificate DER): the legacy `x5t` header value.
    pub fn thumbprint_sha1(&self) -> &str {
        &self.x5t
    }

    fn sign(&self, client_id: &ClientId, token_endpoint: &str, now: i64) -> Result<String, Error> {
        let i = self;
        let mut header = serde_json::Map::new();
        let (alg, encoding): (_, &'static dyn aws_lc_rs::signature::RsaEncoding) = match i.algorithm
        {
            AssertionAlgorithm::Ps256 => ("PS256", &RSA_PSS_SHA256),
            AssertionAlgorithm::Rs256 => ("RS256", &RSA_PKCS1_SHA256),
        };
        header.insert("alg".into(), alg.into());
        header.insert("typ".into(), "JWT".into());
        match i.algorithm {
            AssertionAlgorithm::Ps256 => {
                header.insert("x5t#S256".into(), i.x5t_s256.clone().into())
            }
            AssertionAlgorithm::Rs256 => header.insert("x5t".into(), i.x5t.clone().into()),
        };
        if i.send_x5c {
            header.insert("x5c".into(), i.chain[..].into());
        }
        let lifetime = i64::try_from(i.lifetime.as_secs()).unwrap_or(600);
        let claims = serde_json::json!({
            "aud": token_endpoint,
            "iss": client_id.as_str(),
            "sub": client_id.as_str(),
            "jti": uuid::Uuid::new_v4().to_string(),
            "nbf": now,
            "iat": now,
            "exp": now + lifetime,
        });
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(serde_json::Value::Object(header).to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let mut signature = vec![0; i.key.public_modulus_len()];
        i.key
            .sign(encoding, &SystemRandom::new(), signing_input.as_bytes(), &mut signature)
            .map_err(|_| Error::InvalidPrivateKey { reason: "signing failed" })?;
        Ok(format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature)))
    }
}

/// How many (client id, token endpoint) assertions a credential keeps for reuse.
const MAX_ISSUED: usize = 1024;

#[async_trait]
impl ClientAssertionProvider for CertificateCredential {
    async fn client_assertion(
        &self,
        client_id: &ClientId,
        token_endpoint: &str,
    ) -> Result<Secret, Error> {
        let now = self.clock.unix_now();
        let half = i64::try_from(self.lifetime.as_secs() / 2).unwrap_or(300);
        let key = (client_id.as_str().to_owned(), token_endpoint.to_owned());
        let mut issued = self.issued.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((assertion, exp)) = issued.get(&key)
            && *exp - now > half
        {
            return Ok(assertion.clone());
        }
        let lifetime = i64::try_from(self.lifetime.as_secs()).unwrap_or(600);
        let assertion = Secret::new(self.sign(client_id, token_endpoint, now)?);
        // Bounded: a credential serves a handful of endpoints (one per tenant).
        if issued.len() >= MAX_ISSUED {
            issued.retain(|_, (_, exp)| *exp > now);
            while issued.len() >= MAX_ISSUED {
                let oldest = issued.iter().min_by_key(|(_, (_, exp))| *exp).map(|(k, _)| k.clone());
                match oldest {
                    Some(k) => issued.remove(&k),
                    None => break,
                };
            }
        }
        issued.insert(key, (assertion.clone(), now + lifetime));
        Ok(assertion)
    }
}

impl fmt::Debug for CertificateCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertificateCredential")
            .field("x5t#S256", &self.x5t_s256)
            .field("algorithm", &self.algorithm)
            .field("send_x5c", &self.send_x5c)
            .field("lifetime", &self.lifetime)
            .finish_non_exhaustive()
    }
}

/// The DER of every `CERTIFICATE` block of `cert_pem`, in order.
fn certificates(cert_pem: &str) -> Result<Vec<Vec<u8>>, Error> {
    Ok(pem::parse_many(cert_pem.as_bytes())
        .map_err(|_| Error::InvalidCertificate { reason: "not valid PEM" })?
        .into_iter()
        .filter(|p| p.tag() == "CERTIFICATE")
        .map(pem::Pem::into_contents)
        .collect())
}

/// Parses an RSA private key (PKCS#8 or PKCS#1, or PKCS#8 encrypted under
/// `password`) from PEM text that may hold other blocks too.
fn private_key(pem_text: &str, password: Option<&Secret>) -> Result<RsaKeyPair, Error> {
    let blocks = pem::parse_many(pem_text.as_bytes())
        .map_err(|_| Error::InvalidPrivateKey { reason: "not valid PEM" })?;
    for block in &blocks {
        let parsed = match block.tag() {
            "PRIVATE KEY" => RsaKeyPair::from_pkcs8(block.contents()),
            "RSA PRIVATE KEY" => RsaKeyPair::from_der(block.contents()),
            "ENCRYPTED PRIVATE KEY" => {
                let password = password.ok_or(Error::InvalidPrivateKey {
                    reason: "the private key is encrypted and no password is configured",
                })?;
                let der =
                    crate::pkcs8::decrypt(block.contents(), password.expose_secret().as_bytes())
                        .map_err(|reason| Error::InvalidPrivateKey { reason })?;
                RsaKeyPair::from_pkcs8(&der)
            }
            _ => continue,
        };
        return parsed.map_err(|_| Error::InvalidPrivateKey {
            reason: "not an RSA private key of 2048 bits or more",
        });
    }
    Err(Error::InvalidPrivateKey { reason: "no PRIVATE KEY block found" })
}

#[cfg(test)]
mod tests {
    use aws_lc_rs::signature::{
        RSA_PKCS1_2048_8192_SHA256, RSA_PSS_2048_8192_SHA256, UnparsedPublicKey,
    };

    use super::*;
    use crate::ManualClock;

    const ENDPOINT: &str =
        "https://login.example/72f988bf-86f1-41af-91ab-2d7cd011db47/oauth2/v2.0/token";

    fn pems() -> (String, String, Vec<u8>) {
        let k = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).unwrap();
        let c = rcgen::CertificateParams::new(vec!["app".into()]).unwrap().self_signed(&k).unwrap();
        (c.pem(), k.serialize_pem(), c.der().to_vec())
    }

    fn id() -> ClientId {
        ClientId::parse("6e74172b-be56-4843-9ff4-e66a39bb12e3").unwrap()
    }

    fn part(jwt: &str, i: usize) -> serde_json::Value {
        let p = jwt.split('.').nth(i).unwrap();
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(p).unwrap()).unwrap()
    }

    fn verify(
        jwt: &str,
        public: &[u8],
        alg: &'static dyn aws_lc_rs::signature::VerificationAlgorithm,
    ) -> bool {
        let (input, sig) = jwt.rsplit_once('.').unwrap();
        let sig = URL_SAFE_NO_PAD.decode(sig).unwrap();
        UnparsedPublicKey::new(alg, public).verify(input.as_bytes(), &sig).is_ok()
    }

    #[tokio::test]
    async fn ps256_assertion_has_the_documented_shape_and_verifies() {
        let (cert, key, der) = pems();
        let clock = ManualClock::at_unix(1_700_000_000);
        let cred = CertificateCredential::from_pem(&cert, &key).unwrap().clock(clock.clone());
        let a = cred.client_assertion(&id(), ENDPOINT).await.unwrap();
        let a = a.expose_secret();
        let h = part(a, 0);
        assert_eq!(h["alg"], "PS256");
        assert_eq!(h["typ"], "JWT");
        assert_eq!(h["x5t#S256"], URL_SAFE_NO_PAD.encode(Sha256::digest(&der)));
        assert!(h.get("x5t").is_none() && h.get("x5c").is_none());
        let c = part(a, 1);
        assert_eq!(c["aud"], ENDPOINT);
        assert_eq!(c["iss"], id().as_str());
        assert_eq!(c["sub"], id().as_str());
        assert_eq!(c["iat"], 1_700_000_000);
        assert_eq!(c["nbf"], 1_700_000_000);
        assert_eq!(c["exp"], 1_700_000_600);
        assert!(uuid::Uuid::parse_str(c["jti"].as_str().unwrap()).is_ok());
        let public = cred.key.public_key().as_ref().to_vec();
        assert!(verify(a, &public, &RSA_PSS_2048_8192_SHA256));
        // Tampered claims do not verify.
        let (input, sig) = a.rsplit_once('.').unwrap();
        let forged = format!("{input}x.{sig}");
        assert!(!verify(&forged, &public, &RSA_PSS_2048_8192_SHA256));
    }

    #[tokio::test]
    async fn rs256_uses_sha1_thumbprint_and_x5c_is_optional() {
        let (cert, key, der) = pems();
        let cred = CertificateCredential::from_pem(&cert, &key)
            .unwrap()
            .algorithm(AssertionAlgorithm::Rs256)
            .send_x5c(true);
        let a = cred.client_assertion(&id(), ENDPOINT).await.unwrap();
        let h = part(a.expose_secret(), 0);
        assert_eq!(h["alg"], "RS256");
        assert_eq!(h["x5t"], URL_SAFE_NO_PAD.encode(Sha1::digest(&der)));
        assert_eq!(h["x5c"][0], STANDARD.encode(&der));
        assert!(h.get("x5t#S256").is_none());
        let public = cred.key.public_key().as_ref().to_vec();
        assert!(verify(a.expose_secret(), &public, &RSA_PKCS1_2048_8192_SHA256));
    }

    #[tokio::test]
    async fn assertion_is_reused_until_half_its_lifetime_then_renewed() {
        let (cert, key, _) = pems();
        let clock = ManualClock::at_unix(1_700_000_000);
        let cred = CertificateCredential::from_pem(&cert, &key).unwrap().clock(clock.clone());
        let first = cred.client_assertion(&id(), ENDPOINT).await.unwrap();
        clock.advance(Duration::from_secs(299));
        assert_eq!(cred.client_assertion(&id(), ENDPOINT).await.unwrap(), first);
        // Another endpoint (another tenant) gets its own assertion.
        let other =
            cred.client_assertion(&id(), "https://login.example/other/token").await.unwrap();
        assert_ne!(other, first);
        clock.advance(Duration::from_secs(2));
        let renewed = cred.client_assertion(&id(), ENDPOINT).await.unwrap();
        assert_ne!(renewed, first);
        assert_eq!(part(renewed.expose_secret(), 1)["iat"], 1_700_000_301);
    }

    #[tokio::test]
    async fn reuse_map_stays_bounded_with_many_endpoints() {
        let (cert, key, _) = pems();
        let cred = CertificateCredential::from_pem(&cert, &key)
            .unwrap()
            .clock(ManualClock::at_unix(1_700_000_000));
        for i in 0..MAX_ISSUED + 10 {
            let endpoint = format!("https://login.example/{i}/oauth2/v2.0/token");
            cred.client_assertion(&id(), &endpoint).await.unwrap();
        }
        let len = cred.issued.lock().unwrap().len();
        assert!(len <= MAX_ISSUED, "{len}");
    }

    #[test]
    fn lifetime_is_clamped_to_what_entra_expects() {
        let (cert, key, _) = pems();
        let cred = CertificateCredential::from_pem(&cert, &key).unwrap();
        assert_eq!(
            cred.clone().lifetime(Duration::from_secs(1)).lifetime,
            Duration::from_secs(300)
        );
        assert_eq!(cred.lifetime(Duration::from_secs(3600)).lifetime, Duration::from_secs(600));
    }

    #[test]
    fn combined_pem_loads() {
        let (cert, key, _) = pems();
        assert!(CertificateCredential::from_combined_pem(&format!("{key}{cert}")).is_ok());
    }

    #[test]
    fn bad_inputs_are_refused() {
        let (cert, key, _) = pems();
        let (other_cert, _, _) = pems();
        let mismatch = CertificateCredential::from_pem(&other_cert, &key).unwrap_err();
        assert!(matches!(mismatch, Error::InvalidPrivateKey { .. }), "{mismatch}");
        assert!(matches!(
            CertificateCredential::from_pem(&key, &key).unwrap_err(),
            Error::InvalidCertificate { .. }
        ));
        assert!(matches!(
            CertificateCredential::from_pem(&cert, &cert).unwrap_err(),
            Error::InvalidPrivateKey { .. }
        ));
        let encrypted =
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n";
        let e = CertificateCredential::from_pem(&cert, encrypted).unwrap_err();
        assert!(e.to_string().contains("encrypted"), "{e}");
        let garbage = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
        assert!(matches!(
            CertificateCredential::from_pem(&cert, garbage).unwrap_err(),
            Error::InvalidPrivateKey { .. }
        ));
        assert!(CertificateCredential::from_pem("", "").is_err());
    }

    #[test]
    fn debug_shows_no_key_material() {
        let (cert, key, _) = pems();
        let cred = CertificateCredential::from_pem(&cert, &key).unwrap();
        let dbg = format!("{cred:?}");
        assert!(dbg.contains(cred.thumbprint_sha256()));
        assert!(!dbg.contains("PRIVATE"));
    }
}
