//! HTTP helpers: the default client and bounded response reading.

use std::time::Duration;

use crate::{Error, Result};

/// The largest response body read from Entra, in bytes.
pub(crate) const MAX_BODY: usize = 1024 * 1024;

/// The default HTTP client: rustls, no redirects (Entra's endpoints never
/// redirect a back-channel call), a 10 s connect and 30 s total timeout.
pub(crate) fn default_client() -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(30))
        .user_agent(concat!("entra-oidc/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|source| Error::Http { endpoint: "client", source })
}

/// Reads at most [`MAX_BODY`] bytes of `resp`.
pub(crate) async fn read_body(
    mut resp: reqwest::Response,
    endpoint: &'static str,
) -> Result<Vec<u8>> {
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|source| Error::Http { endpoint, source })? {
        if body.len() + chunk.len() > MAX_BODY {
            return Err(Error::InvalidResponse {
                endpoint,
                reason: "the body is too large".into(),
            });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
