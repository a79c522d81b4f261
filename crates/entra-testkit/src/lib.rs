//! A mocked Microsoft Entra ID on loopback for integration tests: discovery,
//! JWKS with rotation, token minting, the token endpoint (authorization code with
//! PKCE, refresh, client credentials, on-behalf-of), the authorize and logout
//! endpoints, Microsoft Graph, fault injection and request recording; over HTTP or
//! HTTPS, in process or as the `mock-entra` server with a control API for tests
//! in any language (see `docs/testing-with-mock-entra.md` in the repository).
//!
//! # Example
//!
//! Start a mock, mint a token, fetch the JWKS over HTTP, and validate the token
//! with a plain `jsonwebtoken::decode`:
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use entra_testkit::{MockEntra, TestApp, TestUser};
//! use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
//!
//! let mock = MockEntra::start().await;
//! let api = mock.register_app(TestApp::new("my-api").expose_scope("access_as_user"));
//! let alice = mock.add_user(TestUser::new("alice@contoso.com").name("Alice"));
//! let token = mock.access_token(&alice, &api);
//!
//! let jwks: serde_json::Value =
//!     reqwest::get(mock.authority().v2_keys_url()).await?.json().await?;
//! let kid = decode_header(&token)?.kid.unwrap();
//! let jwk = jwks["keys"].as_array().unwrap().iter().find(|k| k["kid"] == kid.as_str()).unwrap();
//! let key = DecodingKey::from_rsa_components(
//!     jwk["n"].as_str().unwrap(),
//!     jwk["e"].as_str().unwrap(),
//! )?;
//! let mut validation = Validation::new(Algorithm::RS256);
//! validation.set_audience(&[api.client_id.as_str()]);
//! validation.set_issuer(&[mock.v2_issuer(&mock.tenant_id())]);
//! let claims = decode::<serde_json::Value>(&token, &key, &validation)?.claims;
//! assert_eq!(claims["oid"], alice.oid.as_str());
//! assert_eq!(claims["scp"], "access_as_user");
//! # Ok(())
//! # }
//! ```
//!
//! # What the mock serves
//!
//! All paths are under [`MockEntra::uri`]; `{tenant}` is a tenant id of the mock,
//! `common` or `organizations`.
//!
//! | Path | |
//! |---|---|
//! | `GET /{tenant}/v2.0/.well-known/openid-configuration` | v2 discovery; `common`/`organizations` publish the `{tenantid}` issuer |
//! | `GET /{tenant}/.well-known/openid-configuration` | v1 discovery |
//! | `GET /{tenant}/discovery/v2.0/keys`, `/{tenant}/discovery/keys` | JWKS; each key has its `issuer` (`?appid=` ignored) |
//! | `POST /{tenant}/oauth2/v2.0/token` | `authorization_code`, `refresh_token`, `client_credentials`, OBO `jwt-bearer` |
//! | `GET /{tenant}/oauth2/v2.0/authorize` | sign-in page, or straight redirect with `login_hint` / auto-login |
//! | `GET /{tenant}/oauth2/v2.0/logout` | redirect to a registered `post_logout_redirect_uri`, else a page |
//! | `GET /{tenant}/oauth2/authorize`, `POST /{tenant}/oauth2/token` | v1 endpoints: `resource` becomes `{resource}/.default` |
//! | `OPTIONS` anything | CORS preflight (JSON answers allow any origin) |
//! | `/_mock/...` | the control API (below) |
//! | `GET /v1.0/me`, `POST /v1.0/me/getMemberObjects`, `POST /v1.0/users/{id}/getMemberObjects` | Microsoft Graph (see below) |
//!
//! Every response of the token endpoint is Entra-shaped: success bodies carry
//! `token_type`, `scope` (the granted permissions, `{resource}/.default` when it
//! was asked for, and the OpenID Connect scopes), `expires_in`, `ext_expires_in`,
//! `access_token`, plus `id_token` when `openid` was asked for, `client_info`
//! (base64url `{"uid","utid"}`) when `client_info=1` was sent, and
//! `refresh_token` when `offline_access` was asked for, for the authorization
//! code, refresh and on-behalf-of grants alike (what MSAL's account cache needs);
//! errors carry `error`, `error_description` (`AADSTSnnnnn: ...`), `error_codes`,
//! `timestamp`, `trace_id`, `correlation_id`, and `suberror`/`claims` when set.
//!
//! ID tokens carry `sid` (the user's session) and `login_hint`
//! ([`TestUser::login_hint`]). The logout endpoint takes `logout_hint` or
//! `id_token_hint`, ends that session and calls the front-channel logout URL
//! ([`TestApp::front_channel_logout_url`]) of each app that signed the user in
//! during it, with `sid` and `iss`, before answering.
//!
//! ## Seeded directory
//!
//! [`MockEntra::start`] creates one tenant ([`MockEntra::tenant_id`]) and three
//! apps: [`MockEntra::default_client`] (a confidential web client, secret
//! `mock-client-secret`, redirect URI `http://localhost/callback`, the `azp` of
//! minted tokens), [`MockEntra::default_api`] (secret `mock-api-secret`, scope
//! `access_as_user`, app role `Data.Read`) and
//! [`MockEntra::default_public_client`] (no secret, redirect URIs
//! `http://localhost` and `http://127.0.0.1`). The clients have consent for the
//! API and for Graph (`User.Read`, and `GroupMember.Read.All` for the web client).
//! Loopback redirect URIs match whatever the port, as Entra does for native
//! clients. Users are added by tests ([`MockEntra::add_user`]);
//! [`TestUser::with_random_groups`] makes overage users. A JSON or TOML file can
//! seed more ([`MockEntra::apply_config`]).
//!
//! ## Token endpoint checks
//!
//! | Check | Error |
//! |---|---|
//! | unknown `client_id` | `unauthorized_client`, AADSTS700016 |
//! | wrong client secret (body or HTTP Basic) | `invalid_client` (401), AADSTS7000215 |
//! | no credential for a confidential client | `invalid_client`, AADSTS7000218 |
//! | client assertion: unknown thumbprint (`x5t#S256` for PS256, `x5t` for RS256) or bad signature | AADSTS700027 |
//! | client assertion: `aud` not a token endpoint of the mock | AADSTS700023 |
//! | client assertion: `iss`/`sub` not the client id | AADSTS700021 |
//! | client assertion: expired or not yet valid | AADSTS700024 |
//! | code: unknown / other client / redeemed / expired | AADSTS70000 / 70000 / 54005 / 70008 |
//! | code: `redirect_uri` differs from the authorize request | AADSTS50011 |
//! | PKCE: missing or wrong `code_verifier` | `invalid_grant`, AADSTS501481 |
//! | refresh token unknown or revoked | `invalid_grant`, AADSTS9002313 |
//! | OBO: `requested_token_use` missing or not `on_behalf_of` | AADSTS900144 |
//! | OBO: `resource` parameter | AADSTS9010010 |
//! | scopes of more than one resource | `invalid_scope`, AADSTS28000 |
//! | OBO: blank `scope` / no `scope` | AADSTS28003 / AADSTS900144 |
//! | `.default` mixed with other scopes, or a scope the API does not expose | `invalid_scope`, AADSTS70011 |
//! | resource unknown to the mock | `invalid_resource`, AADSTS500011 |
//! | OBO assertion: unknown key, bad signature, foreign issuer | AADSTS50013 |
//! | OBO assertion: expired | AADSTS500133 |
//! | OBO assertion: `aud` is not the caller's client id or App ID URI | AADSTS50013 |
//! | OBO assertion: app-only (`idtyp: app`, or no `scp`) | AADSTS7000114 |
//! | OBO: no consent for the resource or a requested scope ([`MockEntra::grant_consent`]) | AADSTS65001, suberror `consent_required` |
//! | client credentials without a single `{resource}/.default` | `invalid_scope`, AADSTS1002012 |
//!
//! OBO issues a token for the same user (`oid`, `tid`): `aud` is the resource
//! (the API's client id, or its App ID URI for v1 APIs; `https://graph.microsoft.com`
//! for Graph, with a header `nonce`), `scp` the consented scopes for `.default` or
//! the requested ones. Tokens always carry the user's home tenant, whatever tenant
//! segment (`common`, another tenant) the request used.
//!
//! ## Microsoft Graph permissions
//!
//! Graph accepts only RS256 tokens signed by a published mock key, with `aud`
//! `https://graph.microsoft.com`, `00000003-0000-0000-c000-000000000000` or the
//! mock's own Graph base, unexpired, from a mock tenant (else 401
//! `InvalidAuthenticationToken`). Then (else 403 `Authorization_RequestDenied`):
//! - `GET /v1.0/me`: delegated, `scp` with one of `User.Read`, `User.ReadBasic.All`,
//!   `User.Read.All`, `User.ReadWrite`, `User.ReadWrite.All`, `Directory.Read.All`;
//! - `POST /v1.0/me/getMemberObjects`: delegated, `scp` with one of `User.Read`,
//!   `User.ReadBasic.All`, `User.Read.All`, `GroupMember.Read.All`, `Group.Read.All`,
//!   `Directory.Read.All`, `Directory.ReadWrite.All`;
//! - `POST /v1.0/users/{id}/getMemberObjects`: app-only with one of `User.Read.All`,
//!   `GroupMember.Read.All`, `Group.Read.All`, `Directory.Read.All`,
//!   `Directory.ReadWrite.All` in `roles`, or delegated with a directory-wide scope
//!   (or the caller's own id). Every group of a test user counts as security-enabled.
//!   [`MockEntra::set_graph_page_size`] pages the answer behind `@odata.nextLink`
//!   (fetched with GET, same token checks); [`MockEntra::fail_graph_next`] injects
//!   429 / 5xx / latency.
//!
//! ## Validated tokens and seam doubles
//!
//! [`MockEntra::validated_token`] mints an access token and verifies it against
//! the mock's keys, issuers and apps ([`MockEntra::verify_token`] for any minted
//! token): a real `ValidatedToken` for code that sits behind a validator (OBO,
//! team mapping, handlers). The [`doubles`] module has stand-ins for the seams of
//! `entra-core`: a static validator and exchanger, a recording token cache, and
//! failing or tampering stores.
//!
//! ## HTTPS, public base URL, limits
//!
//! [`MockEntraBuilder::tls`] serves HTTPS with a CA generated at start
//! ([`MockEntra::ca_pem`], [`MockEntra::http_client`]), for clients that insist
//! on `https` (MSAL). [`MockEntraBuilder::public_base_url`] sets the origin that
//! discovery, issuers and endpoints publish, for a mock behind a proxy or in a
//! container. Request bodies over [`DEFAULT_MAX_BODY_BYTES`] get 413, and the
//! request record is a ring buffer bounded in count and bytes ([`RecordLimits`]).
//!
//! ## Control API
//!
//! Under `/_mock` (not recorded), JSON in and out, so that a test in another
//! process can drive the mock: `GET /_mock` (settings), `POST /_mock/tokens`
//! (mint any token with any claim), `POST /_mock/tenants`, `/users`, `/groups`,
//! `/apps`, `/consents` (and `DELETE`), `/seed`, `POST`/`DELETE /_mock/faults`
//! (AADSTS codes with `claims`, 429 with `Retry-After`, 5xx, latency),
//! `POST /_mock/keys/rotate`, `/keys/retire`, `PUT /_mock/keys/v1-issuer`
//! (`{"issuer": "v1" | "v2" | "none"}`, see [`V1KeyIssuer`]), `PUT`/`DELETE /_mock/keys/fault` and
//! `/discovery/fault` (outages), `GET`/`DELETE /_mock/requests`,
//! `PUT /_mock/auto-login`, `POST /_mock/logout` (front-channel logout),
//! `POST /_mock/revoke-refresh-tokens`, `PUT /_mock/graph/page-size`. The fields
//! are those of the seed file; `docs/testing-with-mock-entra.md` lists them all.
//!
//! ## Standalone server
//!
//! `cargo run -p entra-testkit --bin mock-entra -- --tls` serves a mock with fixed
//! tenant and client ids, seeded users (alice, bob, an admin, a user with 250
//! groups) and prints env blocks for a web app, an API or MCP server and a public
//! client; `mock-entra mint --user alice` and the other commands of the binary call
//! the control API of a running mock.
//!
//! # Crate features
//!
//! None: this crate has no optional features.
//!
//! # Security
//!
//! This crate is for tests only: its keys are generated per process, its secrets
//! are in its docs, it listens on loopback (plain HTTP unless TLS is asked for,
//! with a CA generated per process), and its control API lets anyone who reaches
//! it mint tokens. Never point production code at it, and never expose it beyond
//! the test machine. The mock does check what Entra checks (client
//! authentication, PKCE, assertion signatures, audiences, consent), so that code
//! under test meets realistic refusals.

mod authorize;
mod control;
pub mod doubles;
mod error;
mod fault;
mod graph;
mod issue;
mod keys;
mod mint;
mod mock;
mod model;
mod obo;
mod record;
mod remote;
mod router;
mod seed;
mod server;
mod state;
mod tls;
mod token;
mod verify;

pub use error::{Error, Result};
pub use fault::{Fault, JwksFault, V1KeyIssuer};
pub use keys::TestCertificate;
pub use mint::{GROUP_OVERAGE_LIMIT, TokenSpec};
pub use mock::{DEFAULT_MAX_BODY_BYTES, MockEntra, MockEntraBuilder};
pub use model::{TestApp, TestUser};
pub use record::{RecordLimits, RecordedRequest};

/// Re-exported for [`TokenSpec::algorithm`] and client assertions.
pub use jsonwebtoken;
