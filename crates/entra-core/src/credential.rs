//! How a confidential client proves who it is at the token endpoint. Shared by
//! the code exchange (entra-oidc) and On-Behalf-Of (entra-obo).

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;

use crate::{ClientId, Error, Secret};

/// The `client_assertion_type` for JWT client assertions.
pub const CLIENT_ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Produces client assertions: signed JWTs that authenticate the app instead of a
/// secret (a certificate credential, or a federated token such as a Kubernetes
/// workload identity token).
///
/// Implementations must return an assertion valid for at least a minute more,
/// whose `aud` is `token_endpoint` when they sign it themselves, and must never
/// log it.
#[async_trait]
pub trait ClientAssertionProvider: Send + Sync + fmt::Debug {
    /// An assertion for `client_id` at `token_endpoint`.
    async fn client_assertion(
        &self,
        client_id: &ClientId,
        token_endpoint: &str,
    ) -> Result<Secret, Error>;
}

#[async_trait]
impl<T: ClientAssertionProvider + ?Sized> ClientAssertionProvider for Arc<T> {
    async fn client_assertion(
        &self,
        client_id: &ClientId,
        token_endpoint: &str,
    ) -> Result<Secret, Error> {
        (**self).client_assertion(client_id, token_endpoint).await
    }
}

#[async_trait]
impl<T: ClientAssertionProvider + ?Sized> ClientAssertionProvider for Box<T> {
    async fn client_assertion(
        &self,
        client_id: &ClientId,
        token_endpoint: &str,
    ) -> Result<Secret, Error> {
        (**self).client_assertion(client_id, token_endpoint).await
    }
}

/// Where a client secret goes in the token request.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
#[non_exhaustive]
pub enum SecretPlacement {
    /// `client_secret` in the form body (`client_secret_post`). The default.
    #[default]
    Body,
    /// HTTP Basic authentication (`client_secret_basic`).
    Basic,
}

/// A confidential client's credential.
///
/// ```
/// use entra_core::{ClientCredential, ClientId, Secret};
/// # tokio_test_block_on(async {
/// let cred = ClientCredential::secret(Secret::new("value"));
/// let id = ClientId::parse("6e74172b-be56-4843-9ff4-e66a39bb12e3").unwrap();
/// let auth = cred.authenticate(&id, "https://login.microsoftonline.com/x/oauth2/v2.0/token").await.unwrap();
/// assert_eq!(auth.form_fields()[0].0, "client_secret");
/// assert!(auth.basic().is_none());
/// # });
/// # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
/// # }
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub enum ClientCredential {
    /// A client secret.
    Secret {
        /// The secret value (not its id).
        secret: Secret,
        /// Body or HTTP Basic.
        placement: SecretPlacement,
    },
    /// A client assertion from a provider (certificate or federated credential).
    Assertion(Arc<dyn ClientAssertionProvider>),
}

impl fmt::Debug for ClientCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Secret { placement, .. } => f
                .debug_struct("ClientCredential::Secret")
                .field("placement", placement)
                .finish_non_exhaustive(),
            Self::Assertion(p) => f.debug_tuple("ClientCredential::Assertion").field(p).finish(),
        }
    }
}

impl ClientCredential {
    /// A client secret sent in the form body.
    pub fn secret(secret: Secret) -> Self {
        Self::Secret { secret, placement: SecretPlacement::Body }
    }

    /// A client secret sent with HTTP Basic authentication.
    pub fn secret_basic(secret: Secret) -> Self {
        Self::Secret { secret, placement: SecretPlacement::Basic }
    }

    /// A client assertion provider (see [`ClientAssertionProvider`]).
    pub fn assertion(provider: impl ClientAssertionProvider + 'static) -> Self {
        Self::Assertion(Arc::new(provider))
    }

    /// The authentication to add to a token request for `client_id` at
    /// `token_endpoint`.
    ///
    /// # Errors
    /// [`Error::Empty`] for an empty secret; the provider's error for an assertion.
    pub async fn authenticate(
        &self,
        client_id: &ClientId,
        token_endpoint: &str,
    ) -> Result<ClientAuth, Error> {
        match self {
            Self::Secret { secret, .. } if secret.is_empty() => {
                Err(Error::Empty { what: "client secret" })
            }
            Self::Secret { secret, placement: SecretPlacement::Body } => {
                Ok(ClientAuth { form: vec![("client_secret", secret.clone())], basic: None })
            }
            Self::Secret { secret, placement: SecretPlacement::Basic } => Ok(ClientAuth {
                form: Vec::new(),
                basic: Some((client_id.to_string(), secret.clone())),
            }),
            Self::Assertion(p) => {
                let assertion = p.client_assertion(client_id, token_endpoint).await?;
                Ok(ClientAuth {
                    form: vec![
                        ("client_assertion_type", Secret::new(CLIENT_ASSERTION_TYPE)),
                        ("client_assertion", assertion),
                    ],
                    basic: None,
                })
            }
        }
    }
}

/// The client authentication for one token request: form fields to add and, for
/// `client_secret_basic`, the HTTP Basic user and password (the client id and
/// secret; the caller form-urlencodes both before base64, as RFC 6749 2.3.1 says).
#[derive(Clone)]
pub struct ClientAuth {
    form: Vec<(&'static str, Secret)>,
    basic: Option<(String, Secret)>,
}

impl ClientAuth {
    /// Form fields to add (`client_secret`, or `client_assertion_type` and
    /// `client_assertion`). Values are secrets: never log them.
    pub fn form_fields(&self) -> Vec<(&'static str, &str)> {
        self.form.iter().map(|(k, v)| (*k, v.expose_secret())).collect()
    }

    /// HTTP Basic user name and password, when the secret goes in the header.
    pub fn basic(&self) -> Option<(&str, &str)> {
        self.basic.as_ref().map(|(u, p)| (u.as_str(), p.expose_secret()))
    }
}

impl fmt::Debug for ClientAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fields: Vec<&str> = self.form.iter().map(|(k, _)| *k).collect();
        f.debug_struct("ClientAuth")
            .field("fields", &fields)
            .field("basic", &self.basic.is_some())
            .finish_non_exhaustive()
    }
}
