//! "Sign in with Microsoft" for any Rust web app, and loopback sign-in for CLI
//! clients: Entra ID discovery, authorization code flow with PKCE, ID token
//! validation, allowed email domains, refresh and sign-out, framework-agnostic.
//!
//! # Example
//!
//! ```no_run
//! # async fn run() -> entra_oidc::Result<()> {
//! use entra_oidc::{CallbackParams, Client, Config};
//!
//! let client = Client::new(Config::from_env()?)?;
//! // GET /login?return_to=/teams
//! let login = client.begin("/teams").await?;
//! // redirect the browser to login.url(); Entra sends it back to the redirect URI:
//! # let query = "";
//! let signed_in = client.complete(&CallbackParams::from_query(query)?).await?;
//! println!("{} signed in", signed_in.user().key());
//! // redirect to signed_in.return_to()
//! # Ok(()) }
//! ```
//!
//! # Crate features
//!
//! None: this crate has no optional features.
//!
//! # Security
//!
//! See the list of defaults below.

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
pub use error::{Error, Result};
pub use loopback::{LoopbackListener, LoopbackLogin};
pub use return_to::check_return_path;
pub use state::MemoryLoginStateStore;
pub use tokens::Tokens;
pub use user::{SignedIn, User, UserGroups};
