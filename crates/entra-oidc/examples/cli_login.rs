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
//!
//! The browser tab says "Signed in" only once the code is redeemed and the ID
//! token accepted; a failure is printed here with what Entra's AADSTS code means
//! and what to do about it.

use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use entra_oidc::{Client, Config, Error, LoginOptions, LoopbackListener};

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{}", explain(&e));
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Error> {
    let client = Client::new(Config::from_env()?)?;
    let listener = LoopbackListener::bind_first(&[53100, 53101, 8080]).await?;
    let login = client.begin_loopback(listener, LoginOptions::default()).await?;
    // Opening a browser is the host's job; printing the link always works.
    println!("Open this link to sign in:\n\n  {}\n", login.url());
    let signed_in = login.finish().await?;
    let user = signed_in.user();
    println!("Signed in: {} ({})", user.username().unwrap_or("unknown"), user.key());
    if let Some(token) = signed_in.tokens().access_token() {
        println!(
            "Access token for {}, {}",
            token.scopes.join(" "),
            expiry_in_words(token.expires_at, SystemTime::now())
        );
    }
    Ok(())
}

/// The error for a person: what failed, and for Entra's own errors the AADSTS
/// code, what it means and what to do.
fn explain(e: &Error) -> String {
    let mut out = format!("Sign-in failed: {e} ({})", e.code());
    if let Some(entra) = e.entra_error() {
        if let Some(code) = entra.aadsts() {
            out.push_str(&format!("\n  Entra error: AADSTS{code}"));
        }
        if let Some(meaning) = entra.meaning() {
            out.push_str(&format!("\n  Meaning: {meaning}"));
        }
        out.push_str(&format!("\n  What to do: {}", entra.remedy()));
    } else if e.is_transient() {
        out.push_str("\n  What to do: Entra or the network is unavailable; try again shortly");
    } else if e.is_config() {
        out.push_str("\n  What to do: check the configuration named above");
    }
    out
}

/// "valid for 59 minutes (until 14:03:07 UTC)", or "expired 2 minutes ago".
fn expiry_in_words(expires_at: SystemTime, now: SystemTime) -> String {
    let clock = expires_at
        .duration_since(UNIX_EPOCH)
        .map(|d| {
            let s = d.as_secs() % 86_400;
            format!("{:02}:{:02}:{:02} UTC", s / 3600, s / 60 % 60, s % 60)
        })
        .unwrap_or_else(|_| "an unknown time".to_owned());
    match expires_at.duration_since(now) {
        Ok(left) => format!("valid for {} (until {clock})", span(left)),
        Err(past) => format!("expired {} ago (at {clock})", span(past.duration())),
    }
}

/// A duration in the largest whole unit: "59 minutes", "1 hour", "30 seconds".
fn span(d: Duration) -> String {
    let secs = d.as_secs();
    let (n, unit) = match secs {
        0..60 => (secs, "second"),
        60..3600 => (secs / 60, "minute"),
        3600..86_400 => (secs / 3600, "hour"),
        _ => (secs / 86_400, "day"),
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_in_words() {
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let later = now + Duration::from_secs(3599);
        assert_eq!(expiry_in_words(later, now), "valid for 59 minutes (until 23:13:19 UTC)");
        assert_eq!(span(Duration::from_secs(3600)), "1 hour");
        assert_eq!(span(Duration::from_secs(1)), "1 second");
        let earlier = now - Duration::from_secs(120);
        assert_eq!(expiry_in_words(earlier, now), "expired 2 minutes ago (at 22:11:20 UTC)");
    }

    #[test]
    fn errors_with_their_aadsts_meaning_and_remedy() {
        let entra = entra_core::EntraErrorResponse::from_callback(
            "access_denied",
            Some("AADSTS65004: User declined to consent to access the app."),
        );
        let text = explain(&Error::Authorization(Box::new(entra)));
        assert!(text.contains("AADSTS65004"), "{text}");
        assert!(text.contains("Meaning: the user declined"), "{text}");
        assert!(text.contains("What to do: the user chose not to consent"), "{text}");
        assert!(!text.contains("EntraErrorResponse {"), "no Debug dump: {text}");
        let text = explain(&Error::LoopbackTimeout);
        assert!(text.starts_with("Sign-in failed: no sign-in callback"), "{text}");
    }
}
