//! The error type of this crate.

use std::error::Error as StdError;
use std::path::PathBuf;
use std::time::Duration;

use entra_core::{AuthError, SeamError};

/// The Microsoft Graph permission that lets an app read the signed-in user's group
/// memberships (delegated), named in [`Error::GraphForbidden`].
pub const GROUP_MEMBER_READ_ALL: &str = "GroupMember.Read.All";

/// Everything that can go wrong while mapping, resolving groups or reconciling.
///
/// Every variant has a stable [`Error::code`] and one class:
/// [`Error::is_unauthorized`] (the user's token is the problem),
/// [`Error::is_transient`] (a dependency failed: retry later),
/// [`Error::is_config`] (fix the deployment), or "other" (Microsoft Graph
/// answered something unusable, or a bound was hit).
///
/// | Variant | `code()` | Class |
/// |---|---|---|
/// | [`InvalidConfig`](Error::InvalidConfig) | `invalid_config` | config |
/// | [`ConfigJson`](Error::ConfigJson) | `config_json` | config |
/// | [`ConfigFile`](Error::ConfigFile) | `config_file` | config |
/// | [`GroupOverage`](Error::GroupOverage) | `group_overage_unresolved` | config |
/// | [`TenantNotAllowed`](Error::TenantNotAllowed) | `tenant_not_allowed` | unauthorized |
/// | [`GroupNamesOnOverage`](Error::GroupNamesOnOverage) | `group_names_on_overage` | config |
/// | [`MissingIdentity`](Error::MissingIdentity) | `missing_identity` | unauthorized |
/// | [`GraphToken`](Error::GraphToken) | `graph_token_failed` | as the exchanger's error |
/// | [`GraphForbidden`](Error::GraphForbidden) | `graph_forbidden` | config |
/// | [`GraphUnavailable`](Error::GraphUnavailable) | `graph_unavailable` | transient |
/// | [`GraphStatus`](Error::GraphStatus) | `graph_status` | other |
/// | [`GraphRequest`](Error::GraphRequest) | `graph_request` | transient (network, timeout), else other |
/// | [`GraphResponse`](Error::GraphResponse) | `graph_response_invalid` | other |
/// | [`GraphResponseTooLarge`](Error::GraphResponseTooLarge) | `graph_response_too_large` | other |
/// | [`ForeignNextLink`](Error::ForeignNextLink) | `foreign_next_link` | other |
/// | [`TooManyGroups`](Error::TooManyGroups) | `too_many_groups` | other |
/// | [`TooManyPages`](Error::TooManyPages) | `too_many_pages` | other |
/// | [`Directory`](Error::Directory) | `directory_failed` | transient |
/// | [`GroupSource`](Error::GroupSource) | `group_source_failed` | transient |
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A setting is invalid. `at` names the setting (`rules[2].group_id`,
    /// `SSO_ENTRA_GRAPH_API_TIMEOUT`), `reason` says what is expected.
    #[error("invalid configuration at {at}: {reason}")]
    InvalidConfig {
        /// The setting: a path in the configuration or an environment variable.
        at: String,
        /// What is wrong and what is expected.
        reason: String,
    },
    /// A setting holding JSON could not be parsed; the source has line and column.
    #[error("invalid configuration in {at}: not the expected JSON")]
    ConfigJson {
        /// The setting: an environment variable or a file.
        at: String,
        /// The parser's error.
        #[source]
        source: serde_json::Error,
    },
    /// A configuration file could not be read.
    #[error("cannot read configuration file {path:?}")]
    ConfigFile {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The token's group list is incomplete (group overage: `_claim_names.groups`
    /// or `hasgroups`) and no [`crate::GroupSource`] is configured to resolve it.
    /// Mapping a partial list would remove memberships, so this fails closed.
    #[error(
        "the token's group list is incomplete (group overage) and no group source is configured to resolve it"
    )]
    GroupOverage,
    /// [`crate::Config::tenants`] is set and the token's tenant (`tid`) is not in
    /// it, or the token has no `tid`. App roles, directory role ids (`wids`) and
    /// group names are only meaningful inside the tenants the host trusts, so the
    /// mapping refuses the token rather than match them.
    #[error(
        "the token's tenant{} is not in the configured `tenants` allow-list",
        tenant.as_ref().map(|t| format!(" {t}")).unwrap_or_else(|| " (no tid)".to_owned())
    )]
    TenantNotAllowed {
        /// The token's tenant, if it had a valid `tid`.
        tenant: Option<entra_core::TenantId>,
    },
    /// The token had group overage and the configuration matches groups by name
    /// (`group_name` rules, or `admin_groups` entries that are not GUIDs). The
    /// group source (Microsoft Graph `getMemberObjects`) returns group object ids
    /// only, so name rules would silently stop matching and reconciliation would
    /// remove memberships and drop admin rights: this fails closed instead. Fix
    /// the configuration: match those groups by object id (`group_id`), or keep
    /// users under the overage limit of the token.
    #[error(
        "the token's groups overflowed and were resolved as object ids, but the configuration matches groups by name: use `group_id` rules (object ids) instead of `group_name` rules and named `admin_groups`"
    )]
    GroupNamesOnOverage,
    /// The token has no usable identity key (`tid` GUID and `oid`).
    #[error("the token has no usable identity (tid and oid)")]
    MissingIdentity,
    /// Obtaining a Microsoft Graph token on behalf of the user (OBO) failed. The
    /// exchanger's error is the source, as the [`SeamError`] the exchanger
    /// returned (get its own type back with [`SeamError::downcast_ref`]); its
    /// class, claims challenge and `Retry-After` are passed through.
    #[error("could not obtain a microsoft graph token on behalf of the user")]
    GraphToken {
        /// The exchanger's error.
        #[source]
        source: SeamError,
    },
    /// Microsoft Graph refused the group lookup (401 or 403): the app lacks the
    /// permission or admin consent.
    #[error(
        "microsoft graph refused to list the user's groups (HTTP {status}{}): grant the app the delegated Microsoft Graph permission {permission} and grant admin consent for the tenant",
        code.as_deref().map(|c| format!(", {c}")).unwrap_or_default()
    )]
    GraphForbidden {
        /// The HTTP status (401 or 403).
        status: u16,
        /// Graph's error code (`Authorization_RequestDenied`), if any.
        code: Option<String>,
        /// The permission to grant: [`GROUP_MEMBER_READ_ALL`].
        permission: &'static str,
    },
    /// Microsoft Graph is throttling (429) or failing (5xx).
    #[error("microsoft graph is unavailable (HTTP {status})")]
    GraphUnavailable {
        /// The HTTP status.
        status: u16,
        /// The `Retry-After` Graph asked for, if any.
        retry_after: Option<Duration>,
    },
    /// Microsoft Graph answered with another unexpected status.
    #[error(
        "microsoft graph rejected the group lookup (HTTP {status}{})",
        code.as_deref().map(|c| format!(", {c}")).unwrap_or_default()
    )]
    GraphStatus {
        /// The HTTP status.
        status: u16,
        /// Graph's error code, if any.
        code: Option<String>,
    },
    /// The request to Microsoft Graph failed (connection, timeout).
    #[cfg(feature = "graph")]
    #[cfg_attr(docsrs, doc(cfg(feature = "graph")))]
    #[error("request to microsoft graph failed")]
    GraphRequest(#[source] entra_core::http::HttpError),
    /// Microsoft Graph's answer was not a list of object ids.
    #[error("microsoft graph returned an unexpected group list")]
    GraphResponse(#[source] serde_json::Error),
    /// A Microsoft Graph response body was larger than the configured cap
    /// ([`crate::GraphConfig::max_response_bytes`]); reading stopped there.
    #[error("a microsoft graph response was larger than {limit} bytes, the configured maximum")]
    GraphResponseTooLarge {
        /// The cap, in bytes.
        limit: usize,
    },
    /// Microsoft Graph returned an `@odata.nextLink` outside the configured Graph
    /// host; it is not followed (the Graph token would leak).
    #[error("microsoft graph returned a next-page link outside the configured graph host")]
    ForeignNextLink,
    /// The user has more groups than the configured cap. A truncated list would
    /// drop memberships, so this fails instead.
    #[error("the user belongs to more than {limit} groups, the configured maximum")]
    TooManyGroups {
        /// The cap.
        limit: usize,
    },
    /// Microsoft Graph returned more pages than the configured bound.
    #[error("microsoft graph returned more than {limit} pages of groups")]
    TooManyPages {
        /// The bound.
        limit: usize,
    },
    /// The host's [`crate::TeamDirectory`] failed.
    #[error("the team directory failed")]
    Directory(#[source] Box<dyn StdError + Send + Sync>),
    /// A [`crate::GroupSource`] implemented by the host failed.
    #[error("the group source failed")]
    GroupSource(#[source] Box<dyn StdError + Send + Sync>),
}

impl Error {
    /// Wraps an error of the host's team directory.
    pub fn directory(source: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        Self::Directory(source.into())
    }

    /// Wraps an error of a host's group source.
    pub fn group_source(source: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        Self::GroupSource(source.into())
    }

    /// Wraps an error of a [`entra_core::TokenExchanger`], keeping its class.
    pub fn graph_token(source: impl AuthError) -> Self {
        Self::GraphToken { source: SeamError::new(source) }
    }

    pub(crate) fn config(at: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::InvalidConfig { at: at.into(), reason: reason.into() }
    }

    /// The delay Microsoft Graph or the exchanger asked for, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::GraphUnavailable { retry_after, .. } => *retry_after,
            Self::GraphToken { source } => source.retry_after(),
            _ => None,
        }
    }

    /// The claims challenge of the exchanger's error, passed across the seams.
    fn seam_claims_challenge(&self) -> Option<&str> {
        match self {
            Self::GraphToken { source } => source.claims_challenge(),
            _ => None,
        }
    }

    /// The one place each variant gets its code and class: no wildcard arm, so a
    /// new variant must be classified here.
    fn classify(&self) -> (&'static str, entra_core::ErrorClass) {
        use entra_core::ErrorClass::{Config, Other, Transient, Unauthorized};
        match self {
            Self::InvalidConfig { .. } => ("invalid_config", Config),
            Self::ConfigJson { .. } => ("config_json", Config),
            Self::ConfigFile { .. } => ("config_file", Config),
            Self::GroupOverage => ("group_overage_unresolved", Config),
            Self::TenantNotAllowed { .. } => ("tenant_not_allowed", Unauthorized),
            Self::GroupNamesOnOverage => ("group_names_on_overage", Config),
            Self::MissingIdentity => ("missing_identity", Unauthorized),
            Self::GraphToken { source } => {
                ("graph_token_failed", entra_core::ErrorClass::of(source))
            }
            Self::GraphForbidden { .. } => ("graph_forbidden", Config),
            Self::GraphUnavailable { .. } => ("graph_unavailable", Transient),
            Self::GraphStatus { .. } => ("graph_status", Other),
            #[cfg(feature = "graph")]
            Self::GraphRequest(e) => {
                ("graph_request", if e.is_transient() { Transient } else { Other })
            }
            Self::GraphResponse(_) => ("graph_response_invalid", Other),
            Self::GraphResponseTooLarge { .. } => ("graph_response_too_large", Other),
            Self::ForeignNextLink => ("foreign_next_link", Other),
            Self::TooManyGroups { .. } => ("too_many_groups", Other),
            Self::TooManyPages { .. } => ("too_many_pages", Other),
            Self::Directory(_) => ("directory_failed", Transient),
            Self::GroupSource(_) => ("group_source_failed", Transient),
        }
    }
}

entra_core::auth_error!(
    Error,
    claims_challenge = Error::seam_claims_challenge,
    retry_after = Error::retry_after
);

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

pub(crate) use entra_core::shorten_untrusted as shorten;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forbidden_names_the_permission() {
        let e = Error::GraphForbidden {
            status: 403,
            code: Some("Authorization_RequestDenied".into()),
            permission: GROUP_MEMBER_READ_ALL,
        };
        let s = e.to_string();
        assert!(s.contains("GroupMember.Read.All"), "{s}");
        assert!(s.contains("admin consent"), "{s}");
        assert!(s.contains("403, Authorization_RequestDenied"), "{s}");
        assert!(!e.is_transient() && !e.is_unauthorized() && e.is_config());
    }

    fn json() -> serde_json::Error {
        serde_json::from_str::<u8>("x").unwrap_err()
    }

    #[test]
    fn codes_are_unique_snake_case_and_stable() {
        // `GraphRequest` needs an `entra_core::http::HttpError`, which cannot be built here; its
        // code is `graph_request` (see the table).
        let errors = [
            Error::InvalidConfig { at: String::new(), reason: String::new() },
            Error::ConfigJson { at: String::new(), source: json() },
            Error::ConfigFile { path: PathBuf::new(), source: std::io::Error::other("x") },
            Error::GroupOverage,
            Error::TenantNotAllowed { tenant: None },
            Error::GroupNamesOnOverage,
            Error::MissingIdentity,
            Error::graph_token(entra_core::Error::MissingTenantId),
            Error::GraphForbidden { status: 403, code: None, permission: GROUP_MEMBER_READ_ALL },
            Error::GraphUnavailable { status: 503, retry_after: None },
            Error::GraphStatus { status: 400, code: None },
            Error::GraphResponse(json()),
            Error::GraphResponseTooLarge { limit: 1 },
            Error::ForeignNextLink,
            Error::TooManyGroups { limit: 1 },
            Error::TooManyPages { limit: 1 },
            Error::directory("down"),
            Error::group_source("down"),
        ];
        let codes: Vec<&str> = errors.iter().map(Error::code).collect();
        assert_eq!(
            codes,
            [
                "invalid_config",
                "config_json",
                "config_file",
                "group_overage_unresolved",
                "tenant_not_allowed",
                "group_names_on_overage",
                "missing_identity",
                "graph_token_failed",
                "graph_forbidden",
                "graph_unavailable",
                "graph_status",
                "graph_response_invalid",
                "graph_response_too_large",
                "foreign_next_link",
                "too_many_groups",
                "too_many_pages",
                "directory_failed",
                "group_source_failed",
            ]
        );
        entra_testkit::doubles::assert_error_codes(&codes);
        for e in &errors {
            let classes = [e.is_unauthorized(), e.is_transient(), e.is_config()];
            assert!(classes.iter().filter(|c| **c).count() <= 1, "{e:?}");
        }
    }

    #[test]
    fn graph_token_keeps_the_exchangers_class() {
        let e = Error::graph_token(entra_core::Error::MissingTenantId);
        assert!(e.is_unauthorized() && !e.is_transient());
        let e = Error::graph_token(entra_core::Error::Empty { what: "secret" });
        assert!(e.is_config());
        assert!(std::error::Error::source(&e).is_some());
    }

    #[test]
    fn shorten_cuts_long_input() {
        assert_eq!(shorten("abc"), "abc");
        assert!(shorten(&"é".repeat(100)).ends_with("..."));
    }
}
