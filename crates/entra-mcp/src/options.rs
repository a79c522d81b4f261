//! The facade's limits and lifetimes, with secure defaults and caps.

use std::time::Duration;

/// Limits and lifetimes of the facade. Every field has a secure default; the
/// builder caps values that would switch a protection off in effect.
///
/// ```
/// use entra_mcp::Limits;
/// let mut limits = Limits::default();
/// limits.registrations_per_minute = 5;
/// assert_eq!(limits.code_ttl.as_secs(), 60);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// The largest registration request (and Client ID Metadata Document)
    /// read, in bytes (capped at 64 KiB). Defaults to `8192`.
    pub max_metadata_bytes: usize,
    /// The most redirect URIs one client may register (capped at 20). Defaults
    /// to `5`.
    pub max_redirect_uris: usize,
    /// Registrations accepted per minute, across all callers (capped at
    /// 10,000). Defaults to `30`.
    pub registrations_per_minute: u64,
    /// Registrations accepted per [`Limits::client_ttl`] (the quota of live
    /// registrations). Defaults to `10000`.
    pub max_clients: u64,
    /// How long a dynamic registration lives without being used to sign in
    /// (each sign-in renews it). Defaults to 30 days.
    pub client_ttl: Duration,
    /// How long the consent page and the Entra sign-in may take (capped at
    /// 30 minutes). Defaults to 10 minutes.
    pub authorization_ttl: Duration,
    /// How long an authorization code may wait for redemption (capped at 10
    /// minutes). Defaults to 60 seconds.
    pub code_ttl: Duration,
    /// How long a refresh handle lives unused; each use rotates it. Defaults to
    /// 30 days.
    pub refresh_ttl: Duration,
    /// How long a fetched Client ID Metadata Document is cached (capped at one
    /// day). Defaults to 10 minutes.
    pub metadata_document_ttl: Duration,
    /// How long fetching a Client ID Metadata Document may take (capped at 30
    /// seconds). Defaults to 5 seconds.
    pub metadata_document_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_metadata_bytes: 8192,
            max_redirect_uris: 5,
            registrations_per_minute: 30,
            max_clients: 10_000,
            client_ttl: Duration::from_secs(30 * 86_400),
            authorization_ttl: Duration::from_secs(600),
            code_ttl: Duration::from_secs(60),
            refresh_ttl: Duration::from_secs(30 * 86_400),
            metadata_document_ttl: Duration::from_secs(600),
            metadata_document_timeout: Duration::from_secs(5),
        }
    }
}

impl Limits {
    /// The limits with every cap applied.
    pub(crate) fn capped(mut self) -> Self {
        self.max_metadata_bytes = self.max_metadata_bytes.clamp(512, 64 * 1024);
        self.max_redirect_uris = self.max_redirect_uris.clamp(1, 20);
        self.registrations_per_minute = self.registrations_per_minute.clamp(1, 10_000);
        self.max_clients = self.max_clients.max(1);
        self.client_ttl = self.client_ttl.max(Duration::from_secs(60));
        self.authorization_ttl =
            self.authorization_ttl.clamp(Duration::from_secs(30), Duration::from_secs(1800));
        self.code_ttl = self.code_ttl.clamp(Duration::from_secs(5), Duration::from_secs(600));
        self.refresh_ttl = self.refresh_ttl.max(Duration::from_secs(60));
        self.metadata_document_ttl = self.metadata_document_ttl.min(Duration::from_secs(86_400));
        self.metadata_document_timeout = self
            .metadata_document_timeout
            .clamp(Duration::from_millis(100), Duration::from_secs(30));
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_apply() {
        let huge = Limits {
            max_metadata_bytes: usize::MAX,
            code_ttl: Duration::from_secs(86_400),
            authorization_ttl: Duration::ZERO,
            ..Limits::default()
        }
        .capped();
        assert_eq!(huge.max_metadata_bytes, 64 * 1024);
        assert_eq!(huge.code_ttl, Duration::from_secs(600));
        assert_eq!(huge.authorization_ttl, Duration::from_secs(30));
        assert_eq!(Limits::default().capped(), Limits::default());
    }
}
