//! The sign-in client: begin, complete, refresh, logout.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use entra_core::http::HttpClient;
use entra_core::{
    Authority, ClientCredential, ClientId, Clock, Cloud, LoginStateStore, PendingLogin, Secret,
    SystemClock, Tenant,
};
use entra_jwks::Validator;
use oauth2::{CsrfToken, PkceCodeChallenge, Scope};

use crate::config::{Resolved, check_hint};
use crate::discovery::Discovery;
use crate::pkce::random_token;
use crate::tokens::{Grant, TokenRequest};
use crate::{
    CallbackParams, Config, Error, MemoryLoginStateStore, Metadata, Prompt, Result, SignedIn,
    Tokens, User, check_return_path,
};

/// The longest `state` looked up in the store; longer ones are refused at once.
const MAX_STATE_LEN: usize = 512;

/// "Sign in with Microsoft": builds authorization URLs, completes callbacks,
/// refreshes tokens and builds sign-out URLs, for one app registration.
///
/// Cheap to clone (an `Arc` inside), `Send + Sync` and without type parameters, so
/// it can sit in any framework's shared state. See the [crate docs](crate) for an
/// example.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    resolved: Resolved,
    credential: Option<ClientCredential>,
    http: HttpClient,
    clock: Arc<dyn Clock>,
    store: Arc<dyn LoginStateStore>,
    discovery: Discovery,
    validator: tokio::sync::OnceCell<Validator>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        f.debug_struct("Client")
            .field("authority", &i.resolved.authority)
            .field("client_id", &i.config.identity.client_id)
            .field("public", &i.credential.is_none())
            .field("scope", &i.resolved.scope)
            .finish_non_exhaustive()
    }
}

/// Builds a [`Client`]; see [`Client::builder`].
pub struct ClientBuilder {
    config: Config,
    http: Option<reqwest::Client>,
    clock: Option<Arc<dyn Clock>>,
    store: Option<Arc<dyn LoginStateStore>>,
    credential: Option<ClientCredential>,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder").field("config", &self.config).finish_non_exhaustive()
    }
}

impl ClientBuilder {
    /// A builder for `config`.
    pub fn new(config: Config) -> Self {
        Self { config, http: None, clock: None, store: None, credential: None }
    }

    /// The HTTP client for discovery, keys and token requests (proxies, roots,
    /// timeouts). Build it with `.redirect(reqwest::redirect::Policy::none())`.
    /// Defaults to the [`entra_core::http::HttpClient::new`] client (rustls, no
    /// redirects, 10 s connect and 30 s total timeouts, a `User-Agent`).
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// The clock for every expiry decision. Defaults to the system clock.
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Some(Arc::new(clock));
        self
    }

    /// Where pending sign-ins are kept between `begin` and `complete`. Defaults to
    /// a [`MemoryLoginStateStore`] of 10,000 entries using the client's clock.
    pub fn state_store(mut self, store: impl LoginStateStore + 'static) -> Self {
        self.store = Some(Arc::new(store));
        self
    }

    /// The client credential (a certificate or federated assertion, or a
    /// secret sent with HTTP Basic), replacing the credential of
    /// [`Config::identity`].
    /// Defaults to the configured secret, or none (a public client).
    pub fn credential(mut self, credential: ClientCredential) -> Self {
        self.credential = Some(credential);
        self
    }

    /// Checks the configuration and builds the client. Nothing is fetched yet.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a configuration that is wrong or weaker than
    /// allowed (see [`Config`]); [`Error::Http`] when the default HTTP client
    /// cannot be built; [`Error::ValidatorSetup`] when the ID token validator
    /// cannot be.
    pub fn build(self) -> Result<Client> {
        let resolved = self.config.resolve()?;
        let http = HttpClient::or_default(self.http)
            .map_err(|source| Error::Http { endpoint: "client", source })?;
        let clock: Arc<dyn Clock> = self.clock.unwrap_or_else(|| Arc::new(SystemClock));
        let store = self.store.unwrap_or_else(|| {
            Arc::new(MemoryLoginStateStore::default().with_clock(clock.clone()))
        });
        let credential = match self.credential {
            Some(credential) => Some(credential),
            None => self.config.identity.client_credential().map_err(Error::Credential)?,
        };
        let discovery = Discovery::new(
            resolved.authority.clone(),
            resolved.discovery_ttl,
            http.clone(),
            clock.clone(),
        );
        let inner = Inner {
            config: self.config,
            resolved,
            credential,
            http,
            clock,
            store,
            discovery,
            validator: tokio::sync::OnceCell::new(),
        };
        // A domain tenant learns its id from discovery, and a CIAM tenant may
        // publish its issuer on the tenant-id host: both build the validator then.
        let authority = &inner.config.identity.authority;
        if !matches!(authority.tenant(), Tenant::Domain(_)) && !authority.cloud().is_ciam() {
            let v = inner.build_validator(inner.resolved.authority.clone())?;
            let _ = inner.validator.set(v);
        }
        Ok(Client { inner: Arc::new(inner) })
    }
}

/// Per-sign-in options for [`Client::begin_with`].
#[derive(Clone, Debug)]
pub struct LoginOptions {
    return_to: String,
    prompt: Option<Prompt>,
    login_hint: Option<String>,
    domain_hint: Option<String>,
    redirect_uri: Option<String>,
}

impl LoginOptions {
    /// A sign-in that returns to `return_to` (a local path, checked by
    /// [`check_return_path`]).
    pub fn new(return_to: impl Into<String>) -> Self {
        Self {
            return_to: return_to.into(),
            prompt: None,
            login_hint: None,
            domain_hint: None,
            redirect_uri: None,
        }
    }

    /// The `prompt` for this sign-in. Defaults to [`Config::prompt`].
    pub fn prompt(mut self, prompt: Prompt) -> Self {
        self.prompt = Some(prompt);
        self
    }

    /// Pre-fills the account (`login_hint`, usually the user's UPN). Defaults to none.
    pub fn login_hint(mut self, hint: impl Into<String>) -> Self {
        self.login_hint = Some(hint.into());
        self
    }

    /// Skips home-realm discovery (`domain_hint`). Defaults to [`Config::domain_hint`].
    pub fn domain_hint(mut self, hint: impl Into<String>) -> Self {
        self.domain_hint = Some(hint.into());
        self
    }

    /// Used by the loopback flow: the listener's own redirect URI.
    pub(crate) fn redirect_uri(mut self, uri: String) -> Self {
        self.redirect_uri = Some(uri);
        self
    }
}

impl Default for LoginOptions {
    /// Returns to `/`.
    fn default() -> Self {
        Self::new("/")
    }
}

/// A started sign-in: send the browser to [`Login::url`].
///
/// `Debug` does not print the state.
#[derive(Clone)]
pub struct Login {
    url: String,
    state: Secret,
}

impl Login {
    /// The authorization URL to redirect the browser to (HTTP 302/303).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The `state` of this sign-in, which binds it to the browser that started
    /// it (against login CSRF): put it in a short-lived `HttpOnly`, `Secure`
    /// cookie and pass the cookie's value to [`Client::complete`], which refuses
    /// a callback carrying any other `state`.
    pub fn state(&self) -> &str {
        self.state.expose_secret()
    }
}

impl fmt::Debug for Login {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Login").finish_non_exhaustive()
    }
}

impl Inner {
    fn build_validator(&self, authority: Authority) -> Result<Validator> {
        let mut builder = Validator::builder(authority, self.config.identity.client_id.clone())
            .http_client(self.http.get_ref().clone())
            .clock(self.clock.clone())
            .algorithms(self.config.algorithms.iter().copied());
        if let Some(policy) = &self.config.identity.allowed_tenants {
            builder = builder.tenants(policy.clone());
        }
        builder.build().map_err(Error::ValidatorSetup)
    }

    /// The ID token validator; for a domain tenant it is built after discovery
    /// names the tenant id, so that the issuer is checked exactly.
    async fn validator(&self) -> Result<&Validator> {
        self.validator
            .get_or_try_init(|| async {
                let metadata = self.discovery.get().await?;
                let tid = metadata.tenant_id().ok_or_else(|| Error::InvalidResponse {
                    endpoint: "discovery",
                    reason: "the issuer names no tenant id".into(),
                })?;
                let authority = match metadata.ciam_tenant_host(&self.resolved.authority) {
                    // CIAM's tenant-id host form: issuer and keys on that host.
                    Some(base) => Authority::new(
                        Cloud::parse(&base).map_err(|_| Error::InvalidResponse {
                            endpoint: "discovery",
                            reason: "the issuer host is not a CIAM host".into(),
                        })?,
                        Tenant::Id(tid),
                    ),
                    None => self.resolved.authority.for_tenant(&tid),
                };
                self.build_validator(authority)
            })
            .await
    }

    fn login_ttl(&self) -> Duration {
        self.resolved.login_ttl
    }
}

impl Client {
    /// A client for `config` with the default HTTP client, clock and store; see
    /// [`Client::builder`] to change them.
    ///
    /// # Errors
    /// As [`ClientBuilder::build`].
    pub fn new(config: Config) -> Result<Self> {
        ClientBuilder::new(config).build()
    }

    /// A builder for `config`.
    pub fn builder(config: Config) -> ClientBuilder {
        ClientBuilder::new(config)
    }

    /// The configuration in force.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The authority users sign in at.
    pub fn authority(&self) -> &Authority {
        &self.inner.resolved.authority
    }

    /// The application (client) id.
    pub fn client_id(&self) -> &ClientId {
        &self.inner.config.identity.client_id
    }

    /// The scopes requested at sign-in, space-separated.
    pub fn scope(&self) -> &str {
        &self.inner.resolved.scope
    }

    /// Whether this is a public client (no credential).
    pub fn is_public(&self) -> bool {
        self.inner.credential.is_none()
    }

    /// The authority's discovery document (cached).
    ///
    /// # Errors
    /// [`Error::Http`] / [`Error::HttpStatus`] (transient) when it cannot be
    /// fetched, [`Error::InvalidJson`], [`Error::InvalidResponse`] or
    /// [`Error::DiscoveryIssuerMismatch`] when it is not the authority's.
    pub async fn metadata(&self) -> Result<Arc<Metadata>> {
        self.inner.discovery.get().await
    }

    /// Starts a sign-in that returns to `return_to`; see [`Client::begin_with`].
    ///
    /// # Errors
    /// As [`Client::begin_with`].
    pub async fn begin(&self, return_to: &str) -> Result<Login> {
        self.begin_with(LoginOptions::new(return_to)).await
    }

    /// Starts a sign-in: checks the return path, creates `state`, `nonce` and a
    /// PKCE verifier (256 random bits each), stores them for
    /// [`Config::login_ttl_secs`], and builds the authorization URL.
    ///
    /// # Errors
    /// [`Error::InvalidReturnPath`] for a return path that is not local;
    /// [`Error::NoRedirectUri`] when no redirect URI is configured;
    /// [`Error::InvalidConfig`] for a bad hint; discovery errors as
    /// [`Client::metadata`]; [`Error::Store`] when the state cannot be stored.
    pub async fn begin_with(&self, options: LoginOptions) -> Result<Login> {
        let i = &self.inner;
        check_return_path(&options.return_to)?;
        let redirect_uri = options
            .redirect_uri
            .clone()
            .or_else(|| i.resolved.redirect_uri.clone())
            .ok_or(Error::NoRedirectUri)?;
        for (field, hint) in
            [("login_hint", &options.login_hint), ("domain_hint", &options.domain_hint)]
        {
            if let Some(h) = hint {
                check_hint(h)
                    .map_err(|reason| Error::InvalidConfig { field, reason: reason.into() })?;
            }
        }
        let metadata = i.discovery.get().await?;
        let bad_endpoint = |_| Error::InvalidResponse {
            endpoint: "discovery",
            reason: "authorization_endpoint is not a url".into(),
        };
        let auth_url =
            oauth2::AuthUrl::new(metadata.authorization_endpoint.clone()).map_err(bad_endpoint)?;
        let redirect = oauth2::RedirectUrl::new(redirect_uri.clone()).map_err(|_| {
            Error::InvalidConfig { field: "redirect_uri", reason: "not a url".into() }
        })?;
        // oauth2 builds the standard parts: `state` (256 random bits), the PKCE
        // S256 challenge of a 256-bit verifier, scopes and redirect URI. The
        // OpenID Connect `nonce` is ours (oauth2 has none).
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let nonce = random_token()?;
        let client = oauth2::basic::BasicClient::new(oauth2::ClientId::new(
            i.config.identity.client_id.to_string(),
        ))
        .set_auth_uri(auth_url)
        .set_redirect_uri(redirect);
        let mut request = client
            .authorize_url(|| CsrfToken::new_random_len(32))
            .add_scopes(i.resolved.scope.split_ascii_whitespace().map(|s| Scope::new(s.into())))
            .set_pkce_challenge(challenge)
            .add_extra_param("response_mode", i.config.response_mode.as_str())
            .add_extra_param("nonce", nonce.as_str());
        if let Some(p) = options.prompt.or(i.config.prompt) {
            request = request.add_extra_param("prompt", p.as_str());
        }
        if let Some(h) = &options.login_hint {
            request = request.add_extra_param("login_hint", h.as_str());
        }
        if let Some(h) = options.domain_hint.as_ref().or(i.config.domain_hint.as_ref()) {
            request = request.add_extra_param("domain_hint", h.as_str());
        }
        let (url, state) = request.url();
        let state = state.into_secret();
        let pending = PendingLogin::new(
            Secret::new(nonce),
            Secret::new(verifier.into_secret()),
            options.return_to,
            redirect_uri,
            i.clock.unix_now(),
        );
        i.store.put(&state, pending, i.login_ttl()).await.map_err(Error::Store)?;
        tracing::debug!(authority = %i.resolved.authority, "sign-in started");
        Ok(Login { url: url.into(), state: Secret::new(state) })
    }

    /// Completes a sign-in from the callback parameters, bound to the browser
    /// that started it: `browser_state` is the value the host kept in a cookie
    /// from [`Login::state`] when the sign-in began, and the callback's `state`
    /// must equal it (compared in constant time; an empty `browser_state`, as
    /// when the cookie is missing, never matches). This stops login CSRF: an
    /// attacker's own callback URL, opened in a victim's browser, would otherwise
    /// sign the victim into the attacker's account.
    ///
    /// Then it consumes the pending sign-in named by `state` (so a replayed
    /// callback fails), compares an `iss` parameter with the expected issuer
    /// (RFC 9207), turns an Entra `error` into [`Error::Authorization`] (only for
    /// a callback whose `state` names a pending sign-in: a forged
    /// `?state=junk&error=...` is [`Error::UnknownState`]), redeems the code with
    /// the PKCE verifier and the client credential, validates the ID token
    /// (signature, issuer and tenant rules, `aud`, `nonce`, expiry) and checks
    /// the allowed domains.
    ///
    /// # Errors
    /// [`Error::MissingState`], [`Error::StateMismatch`] (the callback is not
    /// this browser's), [`Error::UnknownState`] (unknown, expired or
    /// replayed), [`Error::ExpiredState`], [`Error::AuthorizationIssuerMismatch`]
    /// (the `iss` parameter names another issuer, or is missing where the
    /// discovery document promises it), [`Error::Authorization`] (with the AADSTS
    /// remedy), [`Error::InvalidCallback`] (an `error` outside the RFC 6749
    /// character set or longer than 64 characters), [`Error::MissingCode`],
    /// [`Error::TokenRequest`] (for example
    /// [`entra_core::ErrorKind::PkceMismatch`]), [`Error::MissingIdToken`],
    /// [`Error::IdToken`], [`Error::MissingIdentity`], [`Error::DomainNotAllowed`],
    /// [`Error::InvalidReturnPath`]; transient: [`Error::Http`],
    /// [`Error::HttpStatus`], [`Error::Store`].
    pub async fn complete(&self, params: &CallbackParams, browser_state: &str) -> Result<SignedIn> {
        let state = params.state.as_deref().ok_or(Error::MissingState)?;
        if browser_state.is_empty()
            || !entra_core::constant_time::eq(state.as_bytes(), browser_state.as_bytes())
        {
            return Err(Error::StateMismatch);
        }
        let i = &self.inner;
        // The state comes first: an `error` is only honoured for a callback that
        // names a pending sign-in, since anyone can send a browser to the redirect
        // URI with `?state=junk&error=...`.
        let pending = if state.is_empty() || state.len() > MAX_STATE_LEN {
            None
        } else {
            i.store.take(state).await.map_err(Error::Store)?
        };
        // From here on the pending sign-in is consumed, whatever the outcome.
        let pending = pending.ok_or(Error::UnknownState)?;
        let age = i.clock.unix_now().saturating_sub(pending.created_at);
        if age < 0 || age.unsigned_abs() >= i.login_ttl().as_secs() {
            return Err(Error::ExpiredState);
        }
        // RFC 9207: the response must come from the authority it was sent to,
        // before its code or error is believed.
        let metadata = i.discovery.get().await?;
        metadata.check_response_issuer(params.iss.as_deref())?;
        if let Some(e) = params.checked_entra_error()? {
            // `error` is checked against the OAuth character set and length, and
            // the description is cut and cleaned, before either is logged.
            tracing::warn!(
                error = %e,
                description = e.error_description.as_deref().unwrap_or(""),
                "sign-in refused by entra"
            );
            return Err(Error::Authorization(Box::new(e)));
        }
        check_return_path(&pending.return_to)?;
        let code = params.code.as_ref().filter(|c| !c.is_empty()).ok_or(Error::MissingCode)?;

        let tokens = TokenRequest {
            http: &i.http,
            endpoint: &metadata.token_endpoint,
            client_id: &i.config.identity.client_id,
            credential: i.credential.as_ref(),
            scope: &i.resolved.scope,
            grant: Grant::Code {
                code,
                verifier: pending.pkce_verifier.expose_secret(),
                redirect_uri: &pending.redirect_uri,
            },
            now: i.clock.now(),
        }
        .send()
        .await?;
        let id_token = tokens.id_token().ok_or(Error::MissingIdToken)?;
        let validated = i
            .validator()
            .await?
            .validate_id_token(id_token.expose_secret(), pending.nonce.expose_secret())
            .await
            .map_err(Error::IdToken)?;
        let (claims, _) = validated.into_parts();
        let user = User::from_claims(claims)?;
        user.check_domain(&i.resolved.domains)?;
        tracing::info!(tid = %user.tenant_id(), "sign-in completed");
        Ok(SignedIn::new(user, tokens, pending.return_to))
    }

    /// Redeems a refresh token (granted when [`Config::offline_access`] is set) for
    /// a new access token and, usually, a new refresh token: keep the new one.
    ///
    /// **The user's identity is not refreshed.** The returned [`Tokens`] never
    /// hold an ID token, even when Entra sends one: the ID token validator
    /// requires the sign-in's `nonce`, and Entra does not repeat it on refresh,
    /// so a refreshed ID token cannot be validated here and is dropped. The
    /// [`User`] (name, email, groups, roles) from [`Client::complete`] stays the
    /// identity of the session; changes made in Entra since then (a new role, a
    /// removed group) are seen only at the next sign-in. A refresh that Entra
    /// refuses (revoked, disabled or blocked user) still fails.
    ///
    /// # Errors
    /// [`Error::TokenRequest`] (for example an expired or revoked refresh token,
    /// [`entra_core::ErrorKind::InvalidGrant`], or Conditional Access
    /// [`entra_core::ErrorKind::InteractionRequired`]: sign the user in again);
    /// transient: [`Error::Http`], [`Error::HttpStatus`].
    pub async fn refresh(&self, refresh_token: &Secret) -> Result<Tokens> {
        let i = &self.inner;
        if refresh_token.is_empty() {
            return Err(Error::InvalidConfig {
                field: "refresh_token",
                reason: "must not be empty".into(),
            });
        }
        let metadata = i.discovery.get().await?;
        let tokens = TokenRequest {
            http: &i.http,
            endpoint: &metadata.token_endpoint,
            client_id: &i.config.identity.client_id,
            credential: i.credential.as_ref(),
            scope: &i.resolved.scope,
            grant: Grant::Refresh { refresh_token },
            now: i.clock.now(),
        }
        .send()
        .await?;
        let (_, access, refresh) = tokens.into_parts();
        Ok(Tokens::from_parts(None, access, refresh))
    }

    /// The URL to send the browser to for signing out of Entra: the
    /// end-session endpoint with `client_id`, [`Config::post_logout_redirect_uri`]
    /// and, when given, `logout_hint` (the `login_hint` optional claim of the ID
    /// token, [`User::login_hint`], which skips the account picker). Clear the
    /// app's own session first. With a [`SignedIn`] at hand,
    /// [`Client::logout_url_for`] picks the hint itself.
    ///
    /// # Errors
    /// Discovery errors as [`Client::metadata`].
    pub async fn logout_url(&self, logout_hint: Option<&str>) -> Result<String> {
        self.end_session_url(logout_hint.map(|h| ("logout_hint", h))).await
    }

    /// The sign-out URL for `signed_in`, as [`Client::logout_url`]: with
    /// `logout_hint` from the ID token's `login_hint` claim when it has one, else
    /// with the ID token itself as `id_token_hint` (OpenID Connect RP-Initiated
    /// Logout), so that Entra knows whose session ends and may redirect back
    /// without asking.
    ///
    /// # Errors
    /// Discovery errors as [`Client::metadata`].
    pub async fn logout_url_for(&self, signed_in: &SignedIn) -> Result<String> {
        let hint = match (signed_in.user().login_hint(), signed_in.tokens().id_token()) {
            (Some(h), _) if check_hint(h).is_ok() => Some(("logout_hint", h)),
            (_, Some(id)) => Some(("id_token_hint", id.expose_secret())),
            _ => None,
        };
        self.end_session_url(hint).await
    }

    async fn end_session_url(&self, hint: Option<(&str, &str)>) -> Result<String> {
        let i = &self.inner;
        let metadata = i.discovery.get().await?;
        let endpoint = metadata
            .end_session_endpoint
            .clone()
            .unwrap_or_else(|| i.resolved.authority.logout_url());
        let mut url = url::Url::parse(&endpoint).map_err(|_| Error::InvalidResponse {
            endpoint: "discovery",
            reason: "end_session_endpoint is not a url".into(),
        })?;
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("client_id", i.config.identity.client_id.as_str());
            if let Some(uri) = &i.resolved.post_logout_redirect_uri {
                q.append_pair("post_logout_redirect_uri", uri);
            }
            match hint {
                Some(("logout_hint", h)) if check_hint(h).is_err() => {}
                Some((name, value)) => {
                    q.append_pair(name, value);
                }
                None => {}
            }
        }
        Ok(url.into())
    }
}

#[cfg(test)]
mod tests {
    use entra_core::{Cloud, TenantId};

    use super::*;

    fn config() -> Config {
        let tid = TenantId::parse("72f988bf-86f1-41af-91ab-2d7cd011db47").unwrap();
        Config::new(
            Authority::new(
                Cloud::custom("http://127.0.0.1:9", "http://127.0.0.1:9").unwrap(),
                tid.into(),
            ),
            ClientId::parse("6e74172b-be56-4843-9ff4-e66a39bb12e3").unwrap(),
        )
    }

    #[test]
    fn client_fits_in_shared_state() {
        fn shareable<T: Clone + Send + Sync + 'static>() {}
        shareable::<Client>();
        shareable::<Login>();
        shareable::<SignedIn>();
    }

    #[tokio::test]
    async fn refusals_before_any_network_call() {
        let client = Client::new(config()).unwrap();
        assert!(client.is_public());
        assert!(matches!(client.begin("/").await, Err(Error::NoRedirectUri)));
        let mut c = config();
        c.redirect_uri = Some("http://localhost/cb".into());
        let client = Client::new(c).unwrap();
        assert!(matches!(client.begin("//evil").await, Err(Error::InvalidReturnPath { .. })));
        let bad_hint = LoginOptions::new("/").login_hint("a\r\nb");
        assert!(matches!(
            client.begin_with(bad_hint).await,
            Err(Error::InvalidConfig { field: "login_hint", .. })
        ));
        assert!(client.refresh(&Secret::new("")).await.is_err());
        let mut c = config();
        c.identity.credential = Some(entra_core::CredentialConfig::secret("hunter2"));
        let client = Client::new(c).unwrap();
        assert!(!client.is_public());
        let printed = format!("{client:?} {:?}", client.config());
        assert!(!printed.contains("hunter2"), "{printed}");
    }
}
