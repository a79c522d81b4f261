//! The error type of this crate.

/// Errors from parsing and checking the shared vocabulary types.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A tenant id was not a GUID.
    #[error(
        "invalid tenant id {value:?}: expected a GUID such as 72f988bf-86f1-41af-91ab-2d7cd011db47"
    )]
    InvalidTenantId {
        /// The rejected input (shortened).
        value: String,
    },
    /// A client id was not a GUID.
    #[error(
        "invalid client id {value:?}: expected the application (client) id GUID of the app registration"
    )]
    InvalidClientId {
        /// The rejected input (shortened).
        value: String,
    },
    /// A tenant was neither a GUID, a domain name, nor one of `common`, `organizations`, `consumers`.
    #[error(
        "invalid tenant {value:?}: expected a tenant GUID, a verified domain (contoso.com), `common`, `organizations` or `consumers`"
    )]
    InvalidTenant {
        /// The rejected input (shortened).
        value: String,
    },
    /// A cloud name or host was not understood.
    #[error(
        "invalid cloud {value:?}: expected `public`, `usgovernment`, `china` or an https base URL"
    )]
    InvalidCloud {
        /// The rejected input (shortened).
        value: String,
    },
    /// An authority URL could not be split into cloud and tenant.
    #[error("invalid authority {value:?}: expected `https://<login host>/<tenant>`")]
    InvalidAuthority {
        /// The rejected input (shortened).
        value: String,
    },
    /// A token had no `tid` claim, so its issuer cannot be checked against a template.
    #[error("token has no `tid` claim, so its issuer cannot be checked")]
    MissingTenantId,
    /// The token's `iss` is not the issuer expected for its tenant.
    #[error("token issuer {actual:?} does not match the expected issuer {expected:?}")]
    IssuerMismatch {
        /// The issuer the rules expected (after `{{tenantid}}` substitution).
        expected: String,
        /// The token's `iss` (shortened).
        actual: String,
    },
    /// The token's tenant is not allowed by the configured tenant rules.
    #[error("tenant {tenant} is not allowed to sign in to this application")]
    TenantNotAllowed {
        /// The token's tenant.
        tenant: crate::TenantId,
    },
    /// A response body from Entra was not an OAuth error document.
    #[error("response is not an Entra error document")]
    InvalidErrorResponse(#[source] serde_json::Error),
    /// A certificate for a certificate credential could not be used.
    #[error("invalid certificate: {reason}")]
    InvalidCertificate {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A private key for a certificate credential could not be used.
    #[error("invalid private key: {reason}")]
    InvalidPrivateKey {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A client assertion (federated token) could not be obtained.
    #[error("client assertion unavailable: {reason}")]
    AssertionUnavailable {
        /// Why.
        reason: &'static str,
        /// The underlying failure (file system, callback).
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// A secret was empty.
    #[error("{what} must not be empty")]
    Empty {
        /// What was empty.
        what: &'static str,
    },
    /// A required environment variable is not set. Names every variable (and its
    /// aliases) that would satisfy the requirement.
    #[error("missing configuration: set {}", crate::env::one_of(vars))]
    MissingEnv {
        /// The variables, any one of which is required.
        vars: &'static [crate::env::EnvVar],
    },
    /// An environment variable holds a value that cannot be used. The reason
    /// never contains a secret's value.
    #[error("environment variable {name}: {reason}")]
    InvalidEnv {
        /// The name that was read (the canonical name or an alias).
        name: &'static str,
        /// What is wrong and what is expected.
        reason: String,
    },
    /// A credential file (certificate, private key) could not be read.
    #[error("cannot read the {what} file {}", path.display())]
    CredentialFile {
        /// What the file holds.
        what: &'static str,
        /// The file.
        path: std::path::PathBuf,
        /// The file system error.
        #[source]
        source: std::io::Error,
    },
}

/// Shortens untrusted text (a claim, a URL, a configuration value) before it is
/// placed in an error message or a log line: at most 64 bytes, cut on a character
/// boundary, with `...` appended when cut. A token pasted where a short value was
/// expected then never ends up whole in logs.
///
/// ```
/// use entra_core::shorten_untrusted;
/// assert_eq!(shorten_untrusted("contoso.com"), "contoso.com");
/// assert_eq!(shorten_untrusted(&"x".repeat(1000)).len(), 67);
/// ```
pub fn shorten_untrusted(input: &str) -> String {
    const MAX: usize = 64;
    if input.len() <= MAX {
        return input.to_owned();
    }
    let mut end = MAX;
    while !input.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &input[..end])
}

pub(crate) use shorten_untrusted as shorten;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shorten_cuts_on_char_boundary() {
        let long = "é".repeat(100);
        let s = shorten(&long);
        assert!(s.len() <= 67);
        assert!(s.ends_with("..."));
        assert_eq!(shorten("abc"), "abc");
    }
}
