//! "Sign in with Microsoft" for any Rust web app, and loopback sign-in for CLI
//! clients: Entra ID discovery, authorization code flow with PKCE, ID token
//! validation, allowed email domains, refresh and sign-out, with no web framework
//! dependency.
//!
//! # Example
//!
//! A web app's two routes, `/login` ([`Client::begin`]) and `/callback`
//! ([`Client::complete`]), run here against a mocked Entra (entra-testkit) that
//! signs the user in without showing a page. The sign-in is bound to the browser
//! that started it: `/login` puts [`Login::state`] in a cookie, and `/callback`
//! hands the cookie's value to [`Client::complete`], which refuses a callback
//! that belongs to another browser (login CSRF):
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use entra_oidc::{CallbackParams, Client, Config, LoginOptions};
//! use entra_testkit::{MockEntra, TestApp, TestUser};
//!
//! // A mocked tenant with an app registration and a user.
//! let mock = MockEntra::start().await;
//! let app = mock.register_app(
//!     TestApp::new("web").secret("s3cret").redirect_uri("http://localhost:3000/callback"),
//! );
//! mock.add_user(TestUser::new("alice@contoso.com").name("Alice"));
//!
//! // In production: `Config::from_env()?` (see `entra_core::env` for the names).
//! let mut config = Config::new(mock.authority(), app.client_id.clone());
//! config.identity.credential = Some(entra_core::CredentialConfig::secret("s3cret"));
//! config.redirect_uri = Some("http://localhost:3000/callback".into());
//! config.allowed_domains = vec!["contoso.com".into()];
//! let client = Client::new(config)?;
//!
//! // GET /login?return_to=/teams: keep `login.state()` in a short-lived
//! // `HttpOnly; Secure; SameSite=Lax` cookie, and redirect the browser to `login.url()`.
//! let login = client.begin_with(LoginOptions::new("/teams").login_hint("alice@contoso.com")).await?;
//! let state_cookie = login.state().to_owned();
//!
//! // The user signs in at Entra, which redirects the browser to the callback.
//! let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build()?;
//! let callback = browser.get(login.url()).send().await?.headers()["location"].to_str()?.to_owned();
//!
//! // GET /callback?code=...&state=...: check the callback against this browser's
//! // cookie, redeem the code and validate the ID token.
//! let params = CallbackParams::from_url(&callback)?;
//! let signed_in = client.complete(&params, &state_cookie).await?;
//! assert_eq!(signed_in.user().name(), Some("Alice"));
//! assert_eq!(signed_in.return_to(), "/teams"); // redirect there
//! let key = signed_in.user().key(); // (tid, oid): the account key
//! # let _ = key;
//! # Ok(()) }
//! ```
//!
//! Desktop and CLI apps (public clients, no secret) sign in through a loopback
//! redirect instead: see [`Client::begin_loopback`] and [`LoopbackListener`].
//!
//! # Crate features
//!
//! None: this crate has no optional features.
//!
//! # Security
//!
//! The defaults, and what cannot be turned off:
//!
//! - **PKCE, state and nonce.** Every sign-in uses PKCE with `S256` and a fresh
//!   `state` and `nonce` of 256 bits each: the verifier, its challenge and the
//!   `state` from the `oauth2` crate (a CSPRNG seeded by the operating system),
//!   the `nonce` from the operating system's generator (aws-lc-rs). There is no
//!   `plain` PKCE and no way to skip them.
//! - **Pending sign-ins are take-once.** The `state` names a pending sign-in in
//!   the [`entra_core::LoginStateStore`] (by default a [`MemoryLoginStateStore`]
//!   bounded to 10,000 entries), which expires after 10 minutes
//!   ([`Config::login_ttl_secs`]) and is consumed by the first callback, even one
//!   carrying an Entra error: a replayed or forged callback fails before any token
//!   request. The client checks the age itself too, in case a store keeps entries
//!   too long.
//! - **Sign-ins are bound to the browser.** [`Client::complete`] takes the
//!   `state` the host kept in the starting browser's cookie ([`Login::state`])
//!   and refuses a callback whose `state` differs ([`Error::StateMismatch`]), so
//!   an attacker's callback URL cannot sign a victim's browser into the
//!   attacker's account (login CSRF). There is no unbound variant.
//! - **The issuer of the authorization response** (RFC 9207): a callback that
//!   carries `iss` must name the authority's issuer (for a multi-tenant
//!   authority, its template with a GUID tenant id), or it is refused
//!   ([`Error::AuthorizationIssuerMismatch`]) before the code is redeemed; when
//!   the discovery document sets `authorization_response_iss_parameter_supported`,
//!   a callback without `iss` is refused too.
//! - **Error callbacks need a pending sign-in.** Anyone can send a browser to
//!   the redirect URI with `?state=junk&error=...`: the `state` is looked up
//!   first, and an unknown one is [`Error::UnknownState`] whatever the `error`
//!   says. Entra's `error` is honoured only for a real pending sign-in (which it
//!   consumes), only if it is at most 64 characters of the RFC 6749 set
//!   (printable ASCII without `"` and `\`); `error_description` is cut to 256
//!   characters and cleaned of other characters before it is kept or logged.
//! - **The default store can be flushed.** [`Client::begin`] needs no
//!   authentication, and the [`MemoryLoginStateStore`] drops its oldest entry
//!   when full: about 10,000 anonymous requests to the login route evict every
//!   real pending sign-in (those users see an unknown-state error and sign in
//!   again; nothing is disclosed). The bound keeps memory finite; rate-limit the
//!   login route per client address, and with several replicas use a shared
//!   store (see [`ClientBuilder::state_store`]).
//! - **ID tokens are validated by entra-jwks**: signature (an allow-list of
//!   algorithms, `RS256` unless [`Config::algorithms`] names others; keys from
//!   the authority's JWKS), `exp`/`nbf` against the [`entra_core::Clock`]
//!   (60 seconds of leeway),
//!   issuer (exact, or Entra's `{tenantid}` template with a GUID `tid`), the
//!   tenant allow-list, `aud` equal to the client id, and `nonce` equal to the one
//!   sent (compared in constant time). None of these can be switched off.
//! - **Multi-tenant is explicit.** With `common` or `organizations`, building the
//!   client fails unless [`AppIdentity::allowed_tenants`](entra_core::AppIdentity::allowed_tenants)
//!   lists the tenants or is `*` (any tenant); the issuer check applies either way.
//! - **Users are keyed by (`tid`, `oid`).** `email` and `preferred_username` are
//!   mutable and, in a multi-tenant app, chosen by other tenants' administrators:
//!   [`User::key`] is the only account key this crate offers.
//! - **Allowed domains** ([`Config::allowed_domains`]) match exactly, ignoring
//!   ASCII case only: `evil-acme.com`, `acme.com.evil.io` and `sub.acme.com` do
//!   not match `acme.com`, and a domain with any non-ASCII character (a Kelvin
//!   sign `\u{212A}` that Unicode lowercases to `k`, Cyrillic look-alikes)
//!   matches nothing. The address matched is the sign-in name
//!   (`preferred_username`, else `upn`), whose domain Entra requires the user's
//!   home tenant to have verified. The `email` claim is ignored unless the ID
//!   token carries the `xms_edov` optional claim set to `true`: in another
//!   tenant, `email` is an attribute its administrator can set to
//!   `anyone@acme.com`. Add the `xms_edov` optional claim to the app
//!   registration to match users by a verified email. A domain list filters
//!   users; it is not a tenant boundary. In a multi-tenant app, the tenant
//!   allow-list is.
//! - **No open redirects.** The return path must be a local path
//!   ([`check_return_path`]): absolute and scheme-relative URLs, backslashes,
//!   control characters and their percent-encoded forms are refused when the
//!   sign-in begins and again when it completes.
//! - **Redirect URIs** must be `https` (plain `http` only on loopback hosts),
//!   without credentials or fragment. The loopback listener binds `127.0.0.1`
//!   only, accepts nothing but a `GET /callback` carrying the expected `state`,
//!   reads at most 8 KiB within 10 seconds per connection, gives up after 5
//!   minutes, and answers a static page with `Content-Security-Policy:
//!   default-src 'none'` that reflects no input.
//! - **Secrets never print.** The client secret, codes, PKCE verifiers and tokens
//!   are [`entra_core::Secret`]s; `Debug` of every type here omits them, and
//!   tracing spans name endpoints and outcomes only.
//! - **HTTP.** Every request goes through entra-core's HTTP layer: the default
//!   client follows no redirects (and a redirect is refused even from a host
//!   client that would follow it), times out after 10 seconds connecting and 30
//!   in all, and sends a fresh `client-request-id` that every error carries;
//!   response bodies are capped at 1 MiB; the discovery document must name the
//!   configured authority's issuer, and its endpoints must be `https`. The
//!   `oauth2` crate builds the code and refresh grants and runs over that same
//!   client.
//! - **Sign-out** URLs carry `client_id` and name the user: `logout_hint` from
//!   the ID token's `login_hint` claim, else the ID token as `id_token_hint`
//!   ([`Client::logout_url_for`]); a host ends its own session for the
//!   [`User::sid`] that Entra's front-channel logout names.
//! - **Loopback sign-in** answers the browser only after the code is redeemed:
//!   "Signed in" when it worked, "Sign-in failed" otherwise.
//! - **Refresh** returns a new access token and refresh token; an ID token
//!   returned by a refresh is dropped, since Entra does not repeat the nonce in it
//!   and it cannot be validated as a sign-in. The user's identity, groups and
//!   roles stay those of the sign-in: [`Client::refresh`] does not update them.

mod callback;
mod client;
mod config;
mod discovery;
mod domains;
mod error;
mod http;
mod loopback;
mod pkce;
mod return_to;
mod state;
mod tokens;
mod user;

pub use callback::CallbackParams;
pub use client::{Client, ClientBuilder, Login, LoginOptions};
pub use config::{Config, Prompt, ResponseMode};
pub use discovery::Metadata;
pub use domains::AllowedDomains;
pub use entra_jwks::Algorithm;
pub use error::{Error, Result};
pub use loopback::{LoopbackListener, LoopbackLogin};
pub use return_to::check_return_path;
pub use state::MemoryLoginStateStore;
pub use tokens::Tokens;
pub use user::{SignedIn, User, UserGroups};
