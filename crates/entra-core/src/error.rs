//! The error type of this crate.

/// Errors from parsing and checking the shared vocabulary types.
///
/// Each variant has a stable [`Error::code`] and one class: a refused token
/// ([`Error::is_unauthorized`]), a dependency that may recover
/// ([`Error::is_transient`]), or a configuration to fix ([`Error::is_config`]);
/// "other" is an upstream fault.
///
/// | Variant | `code()` | Class |
/// |---|---|---|
/// | [`InvalidTenantId`](Error::InvalidTenantId) | `invalid_tenant_id` | config |
/// | [`InvalidClientId`](Error::InvalidClientId) | `invalid_client_id` | config |
/// | [`InvalidTenant`](Error::InvalidTenant) | `invalid_tenant` | config |
/// | [`InvalidCloud`](Error::InvalidCloud) | `invalid_cloud` | config |
/// | [`B2cNotSupported`](Error::B2cNotSupported) | `b2c_not_supported` | config |
/// | [`InvalidAuthority`](Error::InvalidAuthority) | `invalid_authority` | config |
/// | [`MissingTenantId`](Error::MissingTenantId) | `missing_tenant_id` | unauthorized |
/// | [`IssuerMismatch`](Error::IssuerMismatch) | `issuer_mismatch` | unauthorized |
/// | [`TenantNotAllowed`](Error::TenantNotAllowed) | `tenant_not_allowed` | unauthorized |
/// | [`InvalidErrorResponse`](Error::InvalidErrorResponse) | `invalid_error_response` | other |
/// | [`InvalidCertificate`](Error::InvalidCertificate) | `invalid_certificate` | config |
/// | [`InvalidPrivateKey`](Error::InvalidPrivateKey) | `invalid_private_key` | config |
/// | [`AssertionUnavailable`](Error::AssertionUnavailable) | `assertion_unavailable` | transient |
/// | [`Empty`](Error::Empty) | `empty_value` | config |
/// | [`MissingEnv`](Error::MissingEnv) | `missing_env` | config |
/// | [`InvalidEnv`](Error::InvalidEnv) | `invalid_env` | config |
/// | [`CredentialFile`](Error::CredentialFile) | `credential_file` | config |
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
    /// An Azure AD B2C host (`*.b2clogin.com`) was given as a cloud or authority. B2C
    /// has user-flow policies and its own issuers, which this workspace does not
    /// implement; Entra External ID (`*.ciamlogin.com`) is supported.
    #[error(
        "{value:?} is an Azure AD B2C host (b2clogin.com): B2C is not supported; use Entra ID or Entra External ID (ciamlogin.com)"
    )]
    B2cNotSupported {
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

impl Error {
    /// The one place each variant gets its code and class: no wildcard arm, so a
    /// new variant must be classified here.
    fn classify(&self) -> (&'static str, crate::ErrorClass) {
        use crate::ErrorClass::{Config, Other, Transient, Unauthorized};
        match self {
            Self::InvalidTenantId { .. } => ("invalid_tenant_id", Config),
            Self::InvalidClientId { .. } => ("invalid_client_id", Config),
            Self::InvalidTenant { .. } => ("invalid_tenant", Config),
            Self::InvalidCloud { .. } => ("invalid_cloud", Config),
            Self::B2cNotSupported { .. } => ("b2c_not_supported", Config),
            Self::InvalidAuthority { .. } => ("invalid_authority", Config),
            Self::MissingTenantId => ("missing_tenant_id", Unauthorized),
            Self::IssuerMismatch { .. } => ("issuer_mismatch", Unauthorized),
            Self::TenantNotAllowed { .. } => ("tenant_not_allowed", Unauthorized),
            Self::InvalidErrorResponse(_) => ("invalid_error_response", Other),
            Self::InvalidCertificate { .. } => ("invalid_certificate", Config),
            Self::InvalidPrivateKey { .. } => ("invalid_private_key", Config),
            Self::AssertionUnavailable { .. } => ("assertion_unavailable", Transient),
            Self::Empty { .. } => ("empty_value", Config),
            Self::MissingEnv { .. } => ("missing_env", Config),
            Self::InvalidEnv { .. } => ("invalid_env", Config),
            Self::CredentialFile { .. } => ("credential_file", Config),
        }
    }
}

crate::auth_error!(Error);

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
    fn codes_are_unique_snake_case_and_stable() {
        let errors = [
            Error::InvalidTenantId { value: String::new() },
            Error::InvalidClientId { value: String::new() },
            Error::InvalidTenant { value: String::new() },
            Error::InvalidCloud { value: String::new() },
            Error::B2cNotSupported { value: String::new() },
            Error::InvalidAuthority { value: String::new() },
            Error::MissingTenantId,
            Error::IssuerMismatch { expected: String::new(), actual: String::new() },
            Error::TenantNotAllowed {
                tenant: crate::TenantId::parse("72f988bf-86f1-41af-91ab-2d7cd011db47").unwrap(),
            },
            Error::InvalidErrorResponse(serde_json::from_str::<u8>("x").unwrap_err()),
            Error::InvalidCertificate { reason: "" },
            Error::InvalidPrivateKey { reason: "" },
            Error::AssertionUnavailable { reason: "", source: None },
            Error::Empty { what: "" },
            Error::MissingEnv { vars: &[] },
            Error::InvalidEnv { name: "", reason: String::new() },
            Error::CredentialFile {
                what: "",
                path: std::path::PathBuf::new(),
                source: std::io::Error::other("x"),
            },
        ];
        let codes: Vec<&str> = errors.iter().map(Error::code).collect();
        assert_eq!(
            codes,
            [
                "invalid_tenant_id",
                "invalid_client_id",
                "invalid_tenant",
                "invalid_cloud",
                "b2c_not_supported",
                "invalid_authority",
                "missing_tenant_id",
                "issuer_mismatch",
                "tenant_not_allowed",
                "invalid_error_response",
                "invalid_certificate",
                "invalid_private_key",
                "assertion_unavailable",
                "empty_value",
                "missing_env",
                "invalid_env",
                "credential_file",
            ]
        );
        crate::seams::assert_codes_well_formed(&codes);
        for e in &errors {
            let classes = [e.is_unauthorized(), e.is_transient(), e.is_config()];
            assert!(classes.iter().filter(|c| **c).count() <= 1, "{e:?}");
        }
    }

    #[test]
    fn shorten_cuts_on_char_boundary() {
        let long = "é".repeat(100);
        let s = shorten(&long);
        assert!(s.len() <= 67);
        assert!(s.ends_with("..."));
        assert_eq!(shorten("abc"), "abc");
    }
}
