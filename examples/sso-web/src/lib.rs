//! A small web app with "Sign in with Microsoft" on entra-axum: a page showing
//! the signed-in user ((tid, oid), name, email), their teams and roles from
//! entra-teams (group overage resolved through Microsoft Graph), sign-out, and
//! a readable page for accounts outside the allowed email domains.
//!
//! # Example
//!
//! The whole `main.rs` of the example (the settings come from the environment,
//! see [`auth_builder`]):
//!
//! ```no_run
//! # #[tokio::main]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let auth = sso_web::auth_from_env().await?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! axum::serve(listener, sso_web::app(&auth)).await?;
//! # Ok(()) }
//! ```
//!
//! `cargo run -p entra-demo` runs it against the embedded mock Entra.
//!
//! # Crate features
//!
//! None.
//!
//! # Security
//!
//! Everything that matters is entra-axum's: the state cookie binds the sign-in
//! to the browser, the session id rotates at sign-in, tokens stay in the
//! session store, sign-out needs the session's CSRF token. The pages escape
//! every value that comes from the identity provider.

mod pages;
mod setup;

pub use pages::app;
pub use setup::{Error, auth_builder, auth_from_env};
