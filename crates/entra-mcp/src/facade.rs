//! `Facade`: the authorization server in front of Entra, its builder, routes and
//! layer.

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::Router;
use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use entra_axum::{EntraAuth, ProtectedResource, ResourceMetadata};
use entra_core::{ClientCredential, Clock, SecretStore, SystemClock, env};
use http::header::{
    ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN,
    ACCESS_CONTROL_MAX_AGE,
};
use http::{HeaderMap, HeaderValue, Request};
use tower_service::Service;

use crate::cimd::{AddressPolicy, MetadataDocuments};
use crate::records::Logins;
use crate::{Error, Limits, MemoryStore, Result, authorize, metadata, registration, token};

/// The facade's route paths, under its issuer.
pub(crate) const AUTHORIZE: &str = "/oauth/authorize";
pub(crate) const CONSENT: &str = "/oauth/consent";
pub(crate) const CALLBACK: &str = "/oauth/callback";
pub(crate) const TOKEN: &str = "/oauth/token";
pub(crate) const REGISTER: &str = "/oauth/register";

/// An OAuth 2.1 authorization server in front of Entra for MCP clients that
/// need to register themselves (RFC 7591, or Client ID Metadata Documents):
/// it registers them locally, asks the user's consent, signs the user in at
/// Entra with the server's own app registration, and hands the client the
/// Entra access token for the server's API, so the bearer layer and
/// On-Behalf-Of work unchanged.
///
/// Cheap to clone. Switch it on with one line: as a layer around the app
/// (`.layer(Facade::from_env(&auth, &mcp)?)`), which answers the facade's
/// routes and serves the resource's metadata naming the facade, and passes
/// every other request on. [`Facade::router`] is the same routes as a router.
/// The facade owns every path under `/oauth/` and the two metadata paths; the
/// app's own routes there are not reached. See the [crate docs](crate) for an
/// example and the security rules.
#[derive(Clone)]
pub struct Facade {
    pub(crate) inner: Arc<Inner>,
    router: Router,
}

pub(crate) struct Inner {
    pub(crate) issuer: String,
    pub(crate) resource: ResourceMetadata,
    /// The scopes offered (fully qualified), without `offline_access`.
    pub(crate) scopes: Vec<String>,
    pub(crate) sign_in: entra_oidc::Client,
    pub(crate) store: Arc<dyn SecretStore>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) limits: Limits,
    pub(crate) https_origins: Vec<String>,
    pub(crate) documents: Option<MetadataDocuments>,
    pub(crate) secure_cookies: bool,
}

impl fmt::Debug for Facade {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        f.debug_struct("Facade")
            .field("issuer", &i.issuer)
            .field("resource", &i.resource.resource)
            .field("scopes", &i.scopes)
            .field("store", &i.store)
            .finish_non_exhaustive()
    }
}

impl Facade {
    /// A builder for the facade of `resource` (built by
    /// [`EntraAuth::resource`]) of the app `auth`.
    pub fn builder(auth: &EntraAuth, resource: &ProtectedResource) -> FacadeBuilder {
        FacadeBuilder::new(auth, resource)
    }

    /// The facade of `resource`, with the client credential read from the
    /// environment (`ENTRA_CLIENT_SECRET`, a certificate or a federated token
    /// file: the names of `docs/configuration.md`) and every other setting at
    /// its default.
    ///
    /// # Errors
    /// [`Error::MissingConfig`] when no client credential is set;
    /// [`Error::InvalidConfig`] for one that cannot be loaded; as
    /// [`FacadeBuilder::build`].
    pub fn from_env(auth: &EntraAuth, resource: &ProtectedResource) -> Result<Self> {
        FacadeBuilder::from_env(auth, resource)?.build()
    }

    /// The issuer identifier (the authorization server's URL).
    pub fn issuer(&self) -> &str {
        &self.inner.issuer
    }

    /// The protected-resource metadata served, naming this facade.
    pub fn resource_metadata(&self) -> &ResourceMetadata {
        &self.inner.resource
    }

    /// The facade's routes: both metadata documents (RFC 8414 and its OpenID
    /// alias), the resource's RFC 9728 document naming the facade, and
    /// `/oauth/register`, `/oauth/authorize`, `/oauth/consent`,
    /// `/oauth/callback`, `/oauth/token`. Merge it instead of the resource's
    /// own metadata router (or use the facade as a layer).
    pub fn router<S: Clone + Send + Sync + 'static>(&self) -> Router<S> {
        self.router.clone().with_state(())
    }

    /// Whether `path` is one of the facade's routes.
    fn owns(&self, path: &str) -> bool {
        path.starts_with("/oauth/")
            || metadata::PATHS.contains(&path)
            || path == self.inner.resource.well_known_path()
    }
}

fn routes(i: &Arc<Inner>) -> Router {
    let doc = metadata::document(i);
    let mut router = Router::<Arc<Inner>>::new();
    for path in metadata::PATHS {
        let doc = doc.clone();
        router = router.route(path, get(move || async move { metadata::respond(doc.clone()) }));
    }
    router
        .merge(i.resource.router::<Arc<Inner>>())
        .route(REGISTER, post(register_route).options(preflight))
        .route(AUTHORIZE, get(authorize_route))
        .route(CONSENT, post(consent_route))
        .route(CALLBACK, get(callback_route))
        .route(TOKEN, post(token_route).options(preflight))
        .with_state(i.clone())
}

async fn register_route(State(f): State<Arc<Inner>>, body: Body) -> Response {
    cross_origin(registration::register(&f, body).await.into_response())
}

/// Registration and token requests come from browser-based clients too: any
/// origin may call them (they use no cookies or ambient credentials).
fn cross_origin(mut r: Response) -> Response {
    r.headers_mut().insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    r
}

/// The CORS preflight of the registration and token endpoints.
async fn preflight() -> Response {
    let mut r = cross_origin(Response::new(Body::empty()));
    *r.status_mut() = http::StatusCode::NO_CONTENT;
    let h = r.headers_mut();
    h.insert(ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("POST"));
    h.insert(ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static("content-type"));
    h.insert(ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("3600"));
    r
}

async fn authorize_route(State(f): State<Arc<Inner>>, RawQuery(q): RawQuery) -> Response {
    authorize::authorize(&f, q.as_deref().unwrap_or("")).await
}

async fn consent_route(State(f): State<Arc<Inner>>, headers: HeaderMap, body: Body) -> Response {
    authorize::consent(&f, &headers, body).await
}

async fn callback_route(
    State(f): State<Arc<Inner>>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    authorize::callback(&f, &headers, q.as_deref().unwrap_or("")).await
}

async fn token_route(State(f): State<Arc<Inner>>, headers: HeaderMap, body: Body) -> Response {
    cross_origin(token::token(&f, &headers, body).await.into_response())
}

/// Builds a [`Facade`]; see [`Facade::builder`].
#[must_use]
pub struct FacadeBuilder {
    auth: EntraAuth,
    resource: ResourceMetadata,
    credential: Option<ClientCredential>,
    issuer: Option<String>,
    store: Option<Arc<dyn SecretStore>>,
    clock: Option<Arc<dyn Clock>>,
    limits: Limits,
    https_origins: Vec<String>,
    documents: bool,
    pub(crate) address_policy: AddressPolicy,
    pub(crate) roots: Vec<reqwest::Certificate>,
    http: Option<reqwest::Client>,
}

impl fmt::Debug for FacadeBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FacadeBuilder")
            .field("resource", &self.resource.resource)
            .field("issuer", &self.issuer)
            .field("https_origins", &self.https_origins)
            .finish_non_exhaustive()
    }
}

impl FacadeBuilder {
    /// A builder for the facade of `resource` of the app `auth`; every option
    /// at its default.
    pub fn new(auth: &EntraAuth, resource: &ProtectedResource) -> Self {
        Self {
            auth: auth.clone(),
            resource: resource.metadata().clone(),
            credential: None,
            issuer: None,
            store: None,
            clock: None,
            limits: Limits::default(),
            https_origins: Vec::new(),
            documents: true,
            address_policy: AddressPolicy::PublicOnly,
            roots: Vec::new(),
            http: None,
        }
    }

    /// As [`FacadeBuilder::new`], with the client credential read from the
    /// environment.
    ///
    /// # Errors
    /// [`Error::MissingConfig`] naming `ENTRA_CLIENT_SECRET` when no credential
    /// is set; [`Error::InvalidConfig`] when it cannot be loaded.
    pub fn from_env(auth: &EntraAuth, resource: &ProtectedResource) -> Result<Self> {
        Self::from_vars(auth, resource, env::process_env)
    }

    /// As [`FacadeBuilder::from_env`], reading variables through `lookup`.
    ///
    /// # Errors
    /// As [`FacadeBuilder::from_env`].
    pub fn from_vars(
        auth: &EntraAuth,
        resource: &ProtectedResource,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self> {
        let invalid = |e: entra_core::Error| Error::InvalidConfig {
            field: "environment",
            reason: e.to_string(),
        };
        let identity = entra_core::AppIdentity::from_lookup(lookup).map_err(|e| match e {
            entra_core::Error::MissingEnv { .. } => {
                Error::MissingConfig { name: env::CLIENT_SECRET.name }
            }
            other => invalid(other),
        })?;
        let credential = identity
            .client_credential()
            .map_err(invalid)?
            .ok_or(Error::MissingConfig { name: env::CLIENT_SECRET.name })?;
        Ok(Self::new(auth, resource).credential(credential))
    }

    /// The app's client credential, for redeeming sign-in codes and refreshing
    /// at Entra. Required (set by [`FacadeBuilder::from_env`]).
    pub fn credential(mut self, credential: ClientCredential) -> Self {
        self.credential = Some(credential);
        self
    }

    /// The issuer identifier: the facade's origin (`https://mcp.example.com`;
    /// plain `http` only on a loopback host), without path, query or fragment. Its
    /// `/oauth/callback` must be a redirect URI of the app registration.
    /// Defaults to the resource's origin (`https://mcp.example.com` for
    /// `https://mcp.example.com/mcp`).
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// Where registrations, pending authorizations and Entra sign-ins, codes and
    /// refresh handles are kept; share it (`entra_redis::SecretStore`) between
    /// replicas. Defaults to a [`MemoryStore`] (one process only).
    pub fn store(mut self, store: impl SecretStore + 'static) -> Self {
        self.store = Some(Arc::new(store));
        self
    }

    /// The clock for every lifetime. Defaults to the system clock.
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Some(Arc::new(clock));
        self
    }

    /// Limits and lifetimes (capped; see [`Limits`]). Defaults to
    /// [`Limits::default`].
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Allows clients to register `https` redirect URIs of `origin`
    /// (`https://claude.ai`), for hosted clients. Defaults to none: loopback
    /// redirect URIs only.
    pub fn allow_https_redirect_origin(mut self, origin: impl Into<String>) -> Self {
        self.https_origins.push(origin.into());
        self
    }

    /// Whether clients may use a Client ID Metadata Document (an `https` client
    /// id) instead of registering. Defaults to `true`.
    pub fn client_metadata_documents(mut self, on: bool) -> Self {
        self.documents = on;
        self
    }

    /// An extra root certificate trusted when fetching Client ID Metadata
    /// Documents (a corporate CA). Defaults to the platform's web roots only.
    pub fn metadata_document_root(mut self, root: reqwest::Certificate) -> Self {
        self.roots.push(root);
        self
    }

    /// The HTTP client the Entra sign-in uses (discovery, keys, tokens). Build
    /// it with `.redirect(reqwest::redirect::Policy::none())`. Defaults to
    /// entra-core's client.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// Builds the facade and its Entra sign-in client. Nothing is fetched yet.
    ///
    /// # Errors
    /// [`Error::MissingConfig`] without a credential; [`Error::InvalidConfig`]
    /// for an issuer, origin or scope that cannot be used;
    /// [`Error::SignInSetup`] when the sign-in client cannot be built.
    pub fn build(self) -> Result<Facade> {
        let credential =
            self.credential.ok_or(Error::MissingConfig { name: "FacadeBuilder::credential" })?;
        let resource_url = url::Url::parse(&self.resource.resource)
            .map_err(|_| Error::InvalidConfig { field: "resource", reason: "not a URL".into() })?;
        let issuer = match self.issuer {
            Some(i) => i.trim_end_matches('/').to_owned(),
            None => crate::redirect::origin(&resource_url),
        };
        let issuer_url = check_issuer(&issuer)?;
        let https_origins =
            self.https_origins.iter().map(|o| check_origin(o)).collect::<Result<Vec<_>>>()?;
        let scopes = self.resource.scopes_supported.clone();
        let Some(entra_scope) = scopes.first().cloned() else {
            return Err(Error::InvalidConfig {
                field: "resource",
                reason: "the resource offers no scope".into(),
            });
        };
        let clock = self.clock.unwrap_or_else(|| Arc::new(SystemClock));
        let mut config =
            entra_oidc::Config::new(self.auth.authority().clone(), self.auth.client_id().clone());
        config.redirect_uri = Some(format!("{issuer}{CALLBACK}"));
        config.api_scope = Some(entra_scope);
        config.offline_access = true;
        config.login_ttl_secs = self.limits.clone().capped().authorization_ttl.as_secs();
        let store = self
            .store
            .unwrap_or_else(|| Arc::new(MemoryStore::default().with_clock(clock.clone())));
        // The pending Entra sign-ins live in the same store as the rest.
        let mut sign_in = entra_oidc::Client::builder(config)
            .credential(credential)
            .clock(clock.clone())
            .state_store(Logins(store.clone()));
        if let Some(http) = self.http {
            sign_in = sign_in.http_client(http);
        }
        let sign_in = sign_in.build().map_err(Error::SignInSetup)?;
        let limits = self.limits.capped();
        let documents = if self.documents {
            Some(MetadataDocuments::new(self.address_policy, self.roots, &limits)?)
        } else {
            None
        };
        let mut resource = self.resource;
        resource.authorization_servers = vec![issuer.clone()];
        let secure_cookies = issuer_url.scheme() == "https";
        let inner = Inner {
            issuer,
            resource,
            scopes,
            sign_in,
            store,
            clock,
            limits,
            https_origins,
            documents,
            secure_cookies,
        };
        let inner = Arc::new(inner);
        let router = routes(&inner);
        Ok(Facade { inner, router })
    }
}

fn check_issuer(issuer: &str) -> Result<url::Url> {
    let invalid = |reason: &str| Error::InvalidConfig {
        field: "issuer",
        reason: format!("{reason}: {}", entra_core::shorten_untrusted(issuer)),
    };
    let url = url::Url::parse(issuer).map_err(|_| invalid("not a URL"))?;
    match url.scheme() {
        "https" => {}
        "http" if crate::redirect::is_loopback(&url) => {}
        _ => return Err(invalid("must be https (http only on a loopback host)")),
    }
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        return Err(invalid("must not have a query, fragment or credentials"));
    }
    if url.path() != "/" {
        return Err(invalid("must be an origin, without a path"));
    }
    Ok(url)
}

fn check_origin(origin: &str) -> Result<String> {
    let url = url::Url::parse(origin).ok().filter(|u| u.scheme() == "https" && u.host().is_some());
    let Some(url) = url else {
        return Err(Error::InvalidConfig {
            field: "allow_https_redirect_origin",
            reason: format!("not an https origin: {}", entra_core::shorten_untrusted(origin)),
        });
    };
    Ok(crate::redirect::origin(&url))
}

impl<S> tower_layer::Layer<S> for Facade {
    type Service = FacadeService<S>;

    fn layer(&self, inner: S) -> FacadeService<S> {
        FacadeService { facade: self.clone(), inner }
    }
}

/// The service of the [`Facade`] used as a layer: the facade's routes are
/// answered by the facade, every other request goes to the inner service.
#[derive(Clone, Debug)]
pub struct FacadeService<S> {
    facade: Facade,
    inner: S,
}

impl<S> Service<Request<Body>> for FacadeService<S>
where
    S: Service<Request<Body>, Response = Response> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = std::result::Result<Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<std::result::Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        if self.facade.owns(req.uri().path()) {
            let mut router = self.facade.router.clone();
            return Box::pin(async move {
                let r: std::result::Result<Response, Infallible> = router.call(req).await;
                match r {
                    Ok(r) => Ok(r),
                    Err(never) => match never {},
                }
            });
        }
        // The clone that was polled ready serves this request.
        let clone = self.inner.clone();
        let mut ready = std::mem::replace(&mut self.inner, clone);
        Box::pin(ready.call(req))
    }
}
