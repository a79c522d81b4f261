//! Running the real validator with the app's configuration, and turning its
//! refusal into the change to make.

use std::fmt;
use std::sync::Arc;

use entra_core::{Clock, Tenant, TokenVersion};
use entra_jwks::{AcceptedVersions, Error as Refusal, Validator};
use serde::Serialize;

use crate::config::{Config, Setting};
use crate::jwt::Unverified;
use crate::report::{chain, line, list};
use entra_core::words;

/// The validator's verdict on a token.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Validation {
    /// The validator was not run.
    NotRun {
        /// Why.
        reason: String,
    },
    /// The validator accepts the token.
    Accepted {
        /// The token's (verified) tenant.
        tenant: String,
        /// The checks that passed.
        checks: String,
    },
    /// The validator refuses the token.
    Refused {
        /// The rule that refused it (`expired`, `invalid_audience`, ...).
        rule: &'static str,
        /// The validator's error.
        error: String,
        /// What to change.
        advice: String,
    },
    /// The validator could not decide: the configuration is unusable or the keys
    /// could not be fetched.
    CouldNotCheck {
        /// What stood in the way (`config`, `keys_unavailable`, ...).
        rule: &'static str,
        /// The error.
        error: String,
        /// What to change.
        advice: String,
    },
}

impl Validation {
    /// Whether the validator accepts the token.
    pub fn is_accepted(&self) -> bool {
        matches!(self, Self::Accepted { .. })
    }
}

impl fmt::Display for Validation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Validation with the app's configuration")?;
        match self {
            Self::NotRun { reason } => line(f, "not run", reason),
            Self::Accepted { tenant, checks } => {
                line(f, "ACCEPTED", format_args!("tenant {tenant}"))?;
                line(f, "checks", checks)
            }
            Self::Refused { rule, error, advice } => {
                line(f, "REFUSED", format_args!("rule `{rule}`: {error}"))?;
                line(f, "change", advice)
            }
            Self::CouldNotCheck { rule, error, advice } => {
                line(f, "NOT CHECKED", format_args!("`{rule}`: {error}"))?;
                line(f, "change", advice)
            }
        }
    }
}

/// Validates `token` with the validator `config` describes (entra-jwks, the
/// same rules the app applies; keys fetched from the authority), and says which
/// rule refuses it and what to change.
///
/// An empty configuration gives [`Validation::NotRun`].
pub async fn validate_token(token: &str, config: &Config, clock: Arc<dyn Clock>) -> Validation {
    if config.is_empty() {
        return Validation::NotRun {
            reason: format!(
                "no configuration: set {} and {} (or {}), or pass --config <file>, to run the validator",
                Setting::TenantId.env_name(),
                Setting::ClientId.env_name(),
                Setting::Authority.env_name()
            ),
        };
    }
    let validator = match config.validator(clock.clone()) {
        Err(e) => {
            return Validation::CouldNotCheck {
                rule: "config",
                error: chain(&e),
                advice: "fix the setting named above".into(),
            };
        }
        Ok(Err(e)) => {
            return Validation::CouldNotCheck {
                rule: rule(&e),
                error: chain(&e),
                advice: builder_advice(&e),
            };
        }
        Ok(Ok(v)) => v,
    };
    let token = crate::jwt::strip_bearer(token.trim());
    match validator.validate(token).await {
        Ok(valid) => Validation::Accepted {
            tenant: valid.claims().tid.clone().unwrap_or_default(),
            checks: "signature, expiry, version, issuer, tenant, audience and permissions".into(),
        },
        Err(e) => {
            let decoded = Unverified::decode(token).ok();
            let advice = advise(&e, decoded.as_ref(), &validator);
            if e.is_transient() {
                Validation::CouldNotCheck { rule: rule(&e), error: chain(&e), advice }
            } else {
                Validation::Refused { rule: rule(&e), error: chain(&e), advice }
            }
        }
    }
}

/// A stable name for the validator rule behind `e`.
pub(crate) fn rule(e: &Refusal) -> &'static str {
    match e {
        Refusal::TokenTooLarge { .. } => "token_too_large",
        Refusal::Malformed { .. } => "malformed",
        Refusal::AlgorithmNotAllowed { .. } => "algorithm_not_allowed",
        Refusal::ForGraph => "for_graph",
        Refusal::MissingKeyId => "missing_kid",
        Refusal::UnknownKeyId { .. } => "unknown_kid",
        Refusal::KeysUnavailable { .. } => "keys_unavailable",
        Refusal::KeyMismatch { .. } => "key_mismatch",
        Refusal::InvalidSignature => "invalid_signature",
        Refusal::MissingClaim { .. } => "missing_claim",
        Refusal::Expired { .. } => "expired",
        Refusal::NotYetValid { .. } => "not_yet_valid",
        Refusal::VersionNotAccepted { .. } => "version_not_accepted",
        Refusal::InvalidIssuer(_) => "invalid_issuer",
        Refusal::KeyIssuerMismatch(_) => "key_issuer_mismatch",
        Refusal::TenantNotAllowed { .. } => "tenant_not_allowed",
        Refusal::InvalidAudience => "invalid_audience",
        Refusal::NotAnAccessToken => "not_an_access_token",
        Refusal::NoPermissions => "no_permissions",
        Refusal::InsufficientPermissions => "insufficient_permissions",
        Refusal::AppOnlyNotAllowed => "app_only_not_allowed",
        Refusal::NonceMismatch => "nonce_mismatch",
        Refusal::Config { .. } => "config",
        Refusal::HttpClient(_) => "http_client",
        Refusal::TenantPolicyRequired { .. } => "tenant_policy_required",
        _ => "other",
    }
}

/// Advice when the validator cannot even be built from the configuration.
pub(crate) fn builder_advice(e: &Refusal) -> String {
    match e {
        Refusal::TenantPolicyRequired { .. } => format!(
            "the authority accepts many tenants (`organizations`, `common` or a domain): list the tenant ids allowed in {}, or `*` to accept every tenant",
            Setting::AllowedTenants.display()
        ),
        Refusal::Config { reason } => format!("fix the configuration: {reason}"),
        _ => "fix the configuration".into(),
    }
}

/// What to change so that the validator accepts the token (or why it must not).
pub(crate) fn advise(e: &Refusal, t: Option<&Unverified>, v: &Validator) -> String {
    let client_id = v.client_id().as_str();
    let claims = t.map(Unverified::claims);
    let auds: Vec<String> =
        claims.map(|c| c.aud.iter().map(str::to_owned).collect()).unwrap_or_default();
    match e {
        Refusal::ForGraph => format!(
            "audience is Graph: the client asked for the wrong scope: it requested a Microsoft Graph permission (such as User.Read) instead of this API's scope (`api://{client_id}/<scope>` or `{client_id}/.default`); only Graph can validate Graph tokens"
        ),
        Refusal::VersionNotAccepted { version } => match (version.as_str(), v.options().versions) {
            ("1.0", _) => format!(
                "v1 token: the API's accessTokenAcceptedVersion is null (or 1), so Entra issues it v1 tokens; accept v1 ({}=both) or set accessTokenAcceptedVersion to 2 in the API's app manifest",
                Setting::AcceptedVersions.display()
            ),
            ("2.0", AcceptedVersions::V1) => format!(
                "v2 token, but only v1 is accepted: set {} to `2` or `both`",
                Setting::AcceptedVersions.display()
            ),
            _ => "`ver` is neither 1.0 nor 2.0: this is not an Entra access token".into(),
        },
        Refusal::InvalidAudience => audience_advice(&auds, v),
        Refusal::Expired { exp, now } => format!(
            "{}: the client must send a fresh token (MSAL's silent token call renews it); if fresh tokens look expired, check this machine's clock",
            words::expiry(*exp, *now)
        ),
        Refusal::NotYetValid { nbf, now } => format!(
            "not valid for another {}: this machine's clock is behind (or the issuer's is ahead); synchronize it",
            words::duration(nbf.saturating_sub(*now))
        ),
        Refusal::InvalidIssuer(source) => issuer_advice(source, claims, v),
        Refusal::KeyIssuerMismatch(_) => "the signing key publishes another issuer than the token's: the token was signed for another tenant or cloud; check the authority".into(),
        Refusal::TenantNotAllowed { tenant } => {
            if *v.authority().tenant() == Tenant::Organizations && tenant.is_consumers() {
                "a personal Microsoft account token: the `organizations` authority accepts work and school accounts only (use `common` to accept personal accounts too)".into()
            } else {
                format!(
                    "issuer tenant {tenant} not allowed: add it to {} (or `*` to accept every tenant)",
                    Setting::AllowedTenants.display()
                )
            }
        }
        Refusal::UnknownKeyId { kid } => format!(
            "no key with kid {kid:?} at {}: the token was signed by another authority or cloud (check {} and {}), by the app's own signing key (claims mapping needs the `?appid=` keys), or by a key retired long ago",
            v.keys_urls().join(" and "),
            Setting::Authority.env_name(),
            Setting::Cloud.env_name()
        ),
        Refusal::InvalidSignature => "the signature does not verify with the published key of that kid: the token was altered, or signed by someone other than this authority".into(),
        Refusal::AlgorithmNotAllowed { alg } => format!(
            "`alg` {alg} is not accepted: Entra signs access tokens with RS256; HMAC and `none` are never accepted"
        ),
        Refusal::MissingKeyId => "the header names no key (`kid`): not a token signed by Entra".into(),
        Refusal::KeyMismatch { .. } => "the published key with this kid cannot verify this algorithm: the token was not signed by Entra with that key".into(),
        Refusal::MissingClaim { claim } => format!(
            "no valid `{claim}` claim: Entra tokens always carry it; this token was not issued by Entra, or was altered"
        ),
        Refusal::NotAnAccessToken => "this is an ID token (no `azp`/`appid`): send the access token requested for this API's scope, not the ID token of the sign-in".into(),
        Refusal::NoPermissions => "the token carries neither `scp` nor `roles`: for a daemon, assign one of the API's app roles to the client app and grant admin consent; for a user, the client must request one of the API's scopes".into(),
        Refusal::InsufficientPermissions => {
            let has_scp = claims.map(|c| c.scopes().into_iter().map(str::to_owned).collect::<Vec<_>>()).unwrap_or_default();
            let has_roles = claims.map(|c| c.roles.clone()).unwrap_or_default();
            let o = v.options();
            let want = |m: &Option<entra_jwks::Match>| match m {
                Some(entra_jwks::Match::AnyOf(x)) => format!("any of {}", list(x)),
                Some(entra_jwks::Match::AllOf(x)) => format!("all of {}", list(x)),
                _ => "(no rule)".into(),
            };
            format!(
                "the API requires scopes {} / roles {} ({} / {}); the token has scopes {} and roles {}: the client must request the scope, or the app role must be assigned",
                want(&o.required_scopes),
                want(&o.required_roles),
                Setting::RequiredScopes.env_name(),
                Setting::RequiredRoles.env_name(),
                list(&has_scp),
                list(&has_roles)
            )
        }
        Refusal::AppOnlyNotAllowed => "an app-only (client credentials) token, and this API accepts user tokens only".into(),
        Refusal::KeysUnavailable { .. } => format!(
            "the signing keys could not be fetched from {}: check the network (proxy, firewall) and the authority; `entra-doctor check` times each step",
            v.keys_urls().join(" and ")
        ),
        Refusal::TokenTooLarge { .. } => "the token is larger than the validator reads: tokens over 16 KiB are not Entra access tokens (group overage keeps them small)".into(),
        Refusal::Malformed { reason } => format!("the token is malformed ({reason}): send the token exactly as received, without quotes or line breaks"),
        other => builder_advice(other),
    }
}

fn audience_advice(auds: &[String], v: &Validator) -> String {
    let client_id = v.client_id().as_str();
    let accepted = std::iter::once(client_id.to_owned())
        .chain(v.options().audiences.iter().cloned())
        .collect::<Vec<_>>();
    let app_id_uri = auds.iter().find(|a| {
        a.starts_with("api://") || a.ends_with(&format!("/{client_id}")) || a.contains(client_id)
    });
    if let Some(uri) = app_id_uri {
        return format!(
            "audience is this API's App ID URI `{uri}` (v1 tokens, and clients asking for `{uri}/<scope>`, carry it): add it to {}",
            Setting::Audiences.display()
        );
    }
    let shown = list(auds);
    if auds.iter().any(|a| entra_core::ClientId::parse(a).is_ok()) {
        return format!(
            "audience is another application ({shown}), not this API ({client_id}): the client asked for the wrong scope; it must request `api://{client_id}/<scope>` or `{client_id}/.default`"
        );
    }
    format!(
        "audience {shown} is not this API (accepted: {}): if it is this API's App ID URI, add it to {}; otherwise the client requested a token for another resource",
        list(&accepted),
        Setting::Audiences.display()
    )
}

fn issuer_advice(
    source: &entra_core::Error,
    claims: Option<&entra_core::EntraClaims>,
    v: &Validator,
) -> String {
    let authority = v.authority();
    let tid = claims.and_then(|c| c.tid.as_deref()).unwrap_or("");
    let iss = claims.and_then(|c| c.iss.as_deref()).unwrap_or("");
    if let Tenant::Id(api_tenant) = authority.tenant()
        && !tid.is_empty()
        && !tid.eq_ignore_ascii_case(api_tenant.as_str())
    {
        return format!(
            "the token is from tenant {tid}, the API's authority is tenant {api_tenant}: the user signed in to another tenant; make the API multi-tenant ({} ending in /organizations, with {}) or have the client request the token from tenant {api_tenant}",
            Setting::Authority.env_name(),
            Setting::AllowedTenants.env_name()
        );
    }
    let login = authority.cloud().login_base();
    let expected_v1 = claims.and_then(|c| c.version()) == Some(TokenVersion::V1);
    if !iss.is_empty() && !expected_v1 && !iss.starts_with(login) {
        return format!(
            "the token comes from another cloud or authority (issuer host differs from {login}): check {} and {}",
            Setting::Authority.env_name(),
            Setting::Cloud.env_name()
        );
    }
    format!(
        "{}: the token's `iss` does not match the authority {authority}; check {} (tenant and cloud)",
        chain(source),
        Setting::Authority.display()
    )
}
