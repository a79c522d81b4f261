//! Signs a user in from a terminal, as a desktop or CLI app (a public client)
//! does: a loopback redirect on `127.0.0.1`, PKCE, and an access token for an API.
//!
//! Register a "Mobile and desktop applications" redirect URI
//! `http://127.0.0.1:53100/callback` on the app, then run:
//!
//! ```text
//! ENTRA_CLIENT_ID=<app id> ENTRA_TENANT_ID=<tenant id> \
//! ENTRA_API_SCOPE=api://<mcp server app id>/access_as_user \
//! cargo run -p entra-oidc --example cli_login
//! ```

use entra_oidc::{Client, Config, LoginOptions, LoopbackListener};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let client = Client::new(Config::from_env()?)?;
    let listener = LoopbackListener::bind_first(&[53100, 53101, 8080]).await?;
    let login = client.begin_loopback(listener, LoginOptions::default()).await?;
    // Opening a browser is the host's job; printing the link always works.
    println!("Open this link to sign in:\n\n  {}\n", login.url());
    let signed_in = login.finish().await?;
    let user = signed_in.user();
    println!("Signed in: {} ({})", user.username().unwrap_or("unknown"), user.key());
    if let Some(token) = signed_in.tokens().access_token() {
        println!("Access token for {:?}, valid until {:?}", token.scopes, token.expires_at);
    }
    Ok(())
}
