//! `EntraAuth`: one value holding validation, On-Behalf-Of and sign-in for an
//! app registration, handing out the layers and routes.

use std::fmt;
use std::sync::Arc;

use entra_core::{
    Authority, ClientCredential, ClientId, Clock, SystemClock, TokenExchanger, TokenValidator,
};
use entra_jwks::TenantPolicy;

use crate::metadata::{ProtectedResource, ResourceMetadata};
use crate::{BearerLayer, Error, Result};

#[cfg(feature = "sign-in")]
use crate::signin::SignIn;

/// Microsoft Entra ID for an axum app: validation of incoming tokens, On-Behalf-Of
/// for downstream calls, and "Sign in with Microsoft", for one app registration.
///
/// Cheap to clone (an `Arc` inside) and without type parameters. Build it with
/// [`EntraAuth::from_env`] / [`EntraAuth::api_from_env`] or
/// [`EntraAuth::builder`], then take what the app needs:
///
/// - an API or MCP server: [`EntraAuth::resource`] (metadata + bearer layer) or
///   [`EntraAuth::bearer`];
/// - a web app: [`EntraAuth::sign_in_routes`] and [`EntraAuth::session_layer`],
///   and the [`User`](crate::User) extractor in handlers.
#[derive(Clone)]
pub struct EntraAuth {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) authority: Authority,
    pub(crate) client_id: ClientId,
    pub(crate) app_id_uri: String,
    pub(crate) validator: Arc<dyn TokenValidator>,
    pub(crate) exchanger: Option<Arc<dyn TokenExchanger>>,
    #[cfg(feature = "sign-in")]
    pub(crate) clock: Arc<dyn Clock>,
    #[cfg(feature = "sign-in")]
    pub(crate) sign_in: Option<SignIn>,
}

impl fmt::Debug for EntraAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        let mut d = f.debug_struct("EntraAuth");
        d.field("authority", &i.authority)
            .field("client_id", &i.client_id)
            .field("exchanger", &i.exchanger.is_some());
        #[cfg(feature = "sign-in")]
        d.field("sign_in", &i.sign_in.is_some());
        d.finish_non_exhaustive()
    }
}

impl EntraAuth {
    /// A builder for the app `client_id` at `authority`.
    pub fn builder(authority: Authority, client_id: ClientId) -> EntraAuthBuilder {
        EntraAuthBuilder::new(authority, client_id)
    }

    /// The authority.
    pub fn authority(&self) -> &Authority {
        &self.inner.authority
    }

    /// The application (client) id.
    pub fn client_id(&self) -> &ClientId {
        &self.inner.client_id
    }

    /// The App ID URI that qualifies scope names (`api://<client-id>` by default).
    pub fn app_id_uri(&self) -> &str {
        &self.inner.app_id_uri
    }

    /// The token validator.
    pub fn validator(&self) -> &Arc<dyn TokenValidator> {
        &self.inner.validator
    }

    /// The On-Behalf-Of exchanger, when a client credential is configured.
    pub fn exchanger(&self) -> Option<&Arc<dyn TokenExchanger>> {
        self.inner.exchanger.as_ref()
    }

    /// `scope` fully qualified with the App ID URI (`access_as_user` ->
    /// `api://<client-id>/access_as_user`); a scope that is already a URI is kept.
    pub fn qualified_scope(&self, scope: &str) -> String {
        if scope.contains("://") || scope.contains('/') {
            scope.to_owned()
        } else {
            format!("{}/{scope}", self.inner.app_id_uri.trim_end_matches('/'))
        }
    }

    /// A bearer layer over this app's validator and exchanger, with realm `api`
    /// and `insufficient_scope` challenges naming fully qualified scopes. Its
    /// challenges carry no `resource_metadata`: prefer [`EntraAuth::resource`].
    pub fn bearer(&self) -> BearerLayer {
        let mut layer = BearerLayer::new(self.inner.validator.clone())
            .scope_prefix(format!("{}/", self.inner.app_id_uri.trim_end_matches('/')));
        if let Some(x) = &self.inner.exchanger {
            layer = layer.exchanger(x.clone());
        }
        layer
    }

    /// The protected resource at `resource` (the URL clients call, such as
    /// `https://mcp.example.com/mcp`): its RFC 9728 metadata, naming the Entra v2
    /// authority (`{authority}/v2.0`) as authorization server, the fully
    /// qualified `scopes`, `bearer_methods_supported: ["header"]` and
    /// `resource_name`, and a bearer layer whose challenges point at it.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a resource URL that is not `https` (or http
    /// on loopback), or that has a query or fragment.
    pub fn resource<I, S>(&self, resource: &str, scopes: I) -> Result<ProtectedResource>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut metadata = ResourceMetadata::new(resource)?
            .authorization_server(format!("{}/v2.0", self.inner.authority.base_url()))
            .resource_name(resource_name(resource));
        for s in scopes {
            metadata = metadata.scope(self.qualified_scope(s.as_ref()));
        }
        Ok(ProtectedResource::new(metadata, self.bearer()))
    }

    /// As [`EntraAuth::resource`], with metadata built by the caller (another
    /// authorization server such as an OAuth facade, a name, documentation).
    pub fn resource_with(&self, metadata: ResourceMetadata) -> ProtectedResource {
        ProtectedResource::new(metadata, self.bearer())
    }

    #[cfg(feature = "sign-in")]
    pub(crate) fn now(&self) -> i64 {
        self.inner.clock.unix_now()
    }
}

fn resource_name(resource: &str) -> String {
    url::Url::parse(resource).ok().and_then(|u| u.host_str().map(str::to_owned)).unwrap_or_default()
}

/// Builds an [`EntraAuth`]; see [`EntraAuth::builder`].
#[must_use]
pub struct EntraAuthBuilder {
    pub(crate) authority: Authority,
    pub(crate) client_id: ClientId,
    audiences: Vec<String>,
    app_id_uri: Option<String>,
    tenants: Option<TenantPolicy>,
    validator: Option<Arc<dyn TokenValidator>>,
    exchanger: Option<Arc<dyn TokenExchanger>>,
    pub(crate) credential: Option<ClientCredential>,
    pub(crate) clock: Arc<dyn Clock>,
    #[cfg(feature = "sign-in")]
    pub(crate) sign_in: crate::signin::SignInOptions,
}

impl fmt::Debug for EntraAuthBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EntraAuthBuilder")
            .field("authority", &self.authority)
            .field("client_id", &self.client_id)
            .field("audiences", &self.audiences)
            .finish_non_exhaustive()
    }
}

impl EntraAuthBuilder {
    /// A builder for the app `client_id` at `authority`, with every option at its
    /// default.
    pub fn new(authority: Authority, client_id: ClientId) -> Self {
        Self {
            authority,
            client_id,
            audiences: Vec::new(),
            app_id_uri: None,
            tenants: None,
            validator: None,
            exchanger: None,
            credential: None,
            clock: Arc::new(SystemClock),
            #[cfg(feature = "sign-in")]
            sign_in: crate::signin::SignInOptions::default(),
        }
    }

    /// Accepts `aud` beside the client id and the App ID URI. Defaults to none.
    pub fn audience(mut self, aud: impl Into<String>) -> Self {
        self.audiences.push(aud.into());
        self
    }

    /// The App ID URI (an accepted audience, and the prefix of qualified scopes).
    /// Defaults to `api://<client-id>`.
    pub fn app_id_uri(mut self, uri: impl Into<String>) -> Self {
        self.app_id_uri = Some(uri.into());
        self
    }

    /// The tenants whose tokens are accepted, required for a multi-tenant
    /// authority (`organizations`, `common`). Defaults to the authority's tenant.
    pub fn tenants(mut self, policy: TenantPolicy) -> Self {
        self.tenants = Some(policy);
        self
    }

    /// Validates with `validator` instead of the default `entra_jwks::Validator`.
    /// Defaults to an `entra_jwks::Validator` for the authority and audiences.
    pub fn validator(mut self, validator: Arc<dyn TokenValidator>) -> Self {
        self.validator = Some(validator);
        self
    }

    /// Exchanges with `exchanger` instead of the default `entra_obo::Obo`.
    /// Defaults to an `entra_obo::Obo` when a credential is set, else none.
    pub fn exchanger(mut self, exchanger: Arc<dyn TokenExchanger>) -> Self {
        self.exchanger = Some(exchanger);
        self
    }

    /// The app's client credential, for On-Behalf-Of and for redeeming sign-in
    /// codes. Defaults to none.
    pub fn credential(mut self, credential: ClientCredential) -> Self {
        self.credential = Some(credential);
        self
    }

    /// The clock for every expiry decision (validation, OBO cache, refresh).
    /// Defaults to the system clock.
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Builds the validator, the exchanger and (when configured) the sign-in client.
    ///
    /// # Errors
    /// [`Error::ValidatorSetup`] (for example a multi-tenant authority without
    /// [`EntraAuthBuilder::tenants`]), [`Error::OboSetup`],
    /// [`Error::SignInSetup`], [`Error::InvalidConfig`].
    pub fn build(self) -> Result<EntraAuth> {
        #[cfg(feature = "sign-in")]
        self.check_paths()?;
        let app_id_uri =
            self.app_id_uri.clone().unwrap_or_else(|| format!("api://{}", self.client_id));
        let validator = match self.validator {
            Some(v) => v,
            None => {
                let mut b =
                    entra_jwks::Validator::builder(self.authority.clone(), self.client_id.clone())
                        .audiences(
                            std::iter::once(app_id_uri.clone())
                                .chain(self.audiences.iter().cloned()),
                        )
                        .clock(self.clock.clone());
                if let Some(policy) = self.tenants.clone() {
                    b = b.tenants(policy);
                }
                Arc::new(b.build().map_err(Error::ValidatorSetup)?)
            }
        };
        let exchanger = match (self.exchanger, &self.credential) {
            (Some(x), _) => Some(x),
            (None, Some(credential)) => {
                let obo = entra_obo::Obo::builder(
                    self.authority.clone(),
                    self.client_id.clone(),
                    credential.clone(),
                )
                .clock(self.clock.clone())
                .build()
                .map_err(Error::OboSetup)?;
                Some(Arc::new(obo) as Arc<dyn TokenExchanger>)
            }
            (None, None) => None,
        };
        #[cfg(feature = "sign-in")]
        let sign_in = self.sign_in.build(self.credential.as_ref(), &self.clock)?;
        Ok(EntraAuth {
            inner: Arc::new(Inner {
                authority: self.authority,
                client_id: self.client_id,
                app_id_uri,
                validator,
                exchanger,
                #[cfg(feature = "sign-in")]
                clock: self.clock,
                #[cfg(feature = "sign-in")]
                sign_in,
            }),
        })
    }
}

/// How long before expiry the signed-in user's access token is refreshed.
#[cfg(feature = "sign-in")]
pub(crate) const DEFAULT_REFRESH_BEFORE: std::time::Duration = std::time::Duration::from_secs(300);
