//! `entra-doctor token`: what a token says, decoded without trusting it.

use std::fmt;
use std::sync::Arc;

use entra_core::{Clock, EntraClaims, Groups, SystemClock, TokenVersion};
use serde::Serialize;

use crate::Result;
use crate::jwt::Unverified;
use crate::report::{Finding, Severity, line, list};
use crate::validate::Validation;
use entra_core::words;

/// What a personal claim shows when `--show-pii` is off.
pub const HIDDEN: &str = "[hidden; --show-pii shows it]";

/// Options of a token explanation.
#[derive(Clone)]
#[must_use]
pub struct TokenOptions {
    pub(crate) show_pii: bool,
    pub(crate) clock: Arc<dyn Clock>,
}

impl fmt::Debug for TokenOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenOptions").field("show_pii", &self.show_pii).finish_non_exhaustive()
    }
}

impl Default for TokenOptions {
    fn default() -> Self {
        Self::new()
    }
}

impl TokenOptions {
    /// Personal claims hidden, the system clock.
    pub fn new() -> Self {
        Self { show_pii: false, clock: Arc::new(SystemClock) }
    }

    /// Whether names and e-mail addresses are shown. Defaults to `false`.
    pub fn show_pii(mut self, show: bool) -> Self {
        self.show_pii = show;
        self
    }

    /// The clock expiry is judged against. Defaults to the system clock.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }
}

/// What kind of token it is.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TokenKind {
    /// An access token (it names the caller app in `azp` or `appid`).
    AccessToken,
    /// An ID token (no caller app; proves a sign-in to the client app).
    IdToken,
}

/// Who the token speaks for.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Subject {
    /// A user, through an app (delegated permissions in `scp`).
    Delegated,
    /// An application acting as itself (client credentials; app roles in `roles`).
    AppOnly,
}

/// What the token says about groups.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
#[non_exhaustive]
pub enum GroupsInfo {
    /// The token lists this many groups.
    Listed {
        /// How many.
        count: usize,
    },
    /// Group overage: Entra left the groups out; resolve them through Microsoft Graph.
    Overage,
    /// No group information (the app does not emit groups).
    Absent,
}

/// Everything `entra-doctor token` tells about a token. Built by
/// [`explain_token`]; [`TokenReport::validation`] is filled by
/// [`crate::validate_token`] when a configuration is known.
///
/// Personal claims (name, e-mail, user names) hold [`HIDDEN`] unless
/// [`TokenOptions::show_pii`] was set. The signature is never part of it.
#[derive(Clone, Debug, Serialize)]
#[non_exhaustive]
pub struct TokenReport {
    /// Access or ID token.
    pub kind: TokenKind,
    /// `ver`: `1.0` or `2.0`.
    pub version: Option<String>,
    /// Header `alg`.
    pub algorithm: String,
    /// Header `kid` (or `x5t`).
    pub key_id: Option<String>,
    /// `iss`.
    pub issuer: Option<String>,
    /// `tid`.
    pub tenant: Option<String>,
    /// `aud`.
    pub audiences: Vec<String>,
    /// `azp` (v2) or `appid` (v1): the client app that asked for the token.
    pub caller_app: Option<String>,
    /// How the caller app authenticated (`azpacr` / `appidacr`).
    pub caller_authentication: Option<&'static str>,
    /// Delegated or app-only.
    pub subject: Subject,
    /// `oid`: with `tid`, the stable identity key.
    pub object_id: Option<String>,
    /// `name` (personal).
    pub name: Option<String>,
    /// `preferred_username`, `upn` or `unique_name` (personal).
    pub username: Option<String>,
    /// `email` (personal).
    pub email: Option<String>,
    /// Whether personal claims were hidden.
    pub personal_claims_hidden: bool,
    /// `scp`, split.
    pub scopes: Vec<String>,
    /// `roles`.
    pub roles: Vec<String>,
    /// How many directory roles (`wids`) the user holds.
    pub directory_roles: usize,
    /// Groups, overage or none.
    pub groups: GroupsInfo,
    /// `iat`.
    pub issued_at: Option<i64>,
    /// `nbf`.
    pub not_before: Option<i64>,
    /// `exp`.
    pub expires_at: Option<i64>,
    /// Expiry in words, against the clock (`expires in 59 minutes`).
    pub expiry: Option<String>,
    /// Whether the token is for Microsoft Graph (header `nonce` or Graph audience).
    pub for_graph: bool,
    /// Names of the claims not shown above.
    pub other_claims: Vec<String>,
    /// What the doctor noticed without any configuration.
    pub findings: Vec<Finding>,
    /// The real validator's verdict under the app's configuration.
    pub validation: Validation,
}

/// The claims shown by name in the report; every other claim is listed by name only.
const SHOWN: &[&str] = &[
    "ver",
    "iss",
    "tid",
    "aud",
    "azp",
    "azpacr",
    "appid",
    "appidacr",
    "idtyp",
    "oid",
    "sub",
    "name",
    "preferred_username",
    "upn",
    "unique_name",
    "email",
    "scp",
    "roles",
    "wids",
    "groups",
    "_claim_names",
    "_claim_sources",
    "hasgroups",
    "iat",
    "nbf",
    "exp",
];

/// Explains `token` without verifying it (no network, no configuration).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use entra_doctor::{TokenOptions, explain_token};
/// use entra_testkit::{MockEntra, TestUser};
/// let mock = MockEntra::start().await;
/// let alice = mock.add_user(TestUser::new("alice@contoso.com"));
/// let report = explain_token(&mock.graph_token(&alice), &TokenOptions::new()).unwrap();
/// assert!(report.for_graph);
/// assert!(!report.to_string().contains("alice@contoso.com"));
/// # }
/// ```
///
/// # Errors
/// As [`Unverified::decode`]: the input is not a JWT.
pub fn explain_token(token: &str, options: &TokenOptions) -> Result<TokenReport> {
    let t = Unverified::decode(token)?;
    let c = t.claims();
    let now = options.clock.unix_now();
    let pii = |v: Option<&str>| {
        v.map(|v| if options.show_pii { v.to_owned() } else { HIDDEN.to_owned() })
    };
    let kind =
        if c.caller_app_id().is_some() { TokenKind::AccessToken } else { TokenKind::IdToken };
    let subject = if kind == TokenKind::AccessToken && c.is_app_only() {
        Subject::AppOnly
    } else {
        Subject::Delegated
    };
    let groups = match c.groups() {
        Groups::Listed(g) => GroupsInfo::Listed { count: g.len() },
        Groups::Overage => GroupsInfo::Overage,
        _ => GroupsInfo::Absent,
    };
    let acr = c.azpacr.as_deref().or(c.appidacr.as_deref()).map(|a| match a {
        "0" => "public client (no secret)",
        "1" => "client secret",
        "2" => "certificate or federated credential",
        _ => "unknown method",
    });
    let mut report = TokenReport {
        kind,
        version: c.ver.clone(),
        algorithm: t.alg().to_owned(),
        key_id: t.header_str("kid").or(t.header_str("x5t")).map(str::to_owned),
        issuer: c.iss.clone(),
        tenant: c.tid.clone(),
        audiences: c.aud.iter().map(str::to_owned).collect(),
        caller_app: c.caller_app_id().map(str::to_owned),
        caller_authentication: acr,
        subject,
        object_id: c.oid.clone(),
        name: pii(c.name.as_deref()),
        username: pii(c
            .preferred_username
            .as_deref()
            .or(c.upn.as_deref())
            .or(c.unique_name.as_deref())),
        email: pii(c.email.as_deref()),
        personal_claims_hidden: !options.show_pii,
        scopes: c.scopes().into_iter().map(str::to_owned).collect(),
        roles: c.roles.clone(),
        directory_roles: c.wids.len(),
        groups,
        issued_at: c.iat,
        not_before: c.nbf,
        expires_at: c.exp,
        expiry: c.exp.map(|exp| words::expiry(exp, now)),
        for_graph: t.is_for_graph(),
        other_claims: t
            .claim_names()
            .iter()
            .filter(|n| !SHOWN.contains(&n.as_str()))
            .cloned()
            .collect(),
        findings: Vec::new(),
        validation: Validation::NotRun { reason: "no configuration given".into() },
    };
    report.findings = findings(&t, &report, now);
    Ok(report)
}

fn findings(t: &Unverified, r: &TokenReport, now: i64) -> Vec<Finding> {
    let c: &EntraClaims = t.claims();
    let mut out = Vec::new();
    let mut add = |s, code, m: String| out.push(Finding::new(s, code, m));
    let alg = t.alg();
    if alg == "none" || alg.starts_with("HS") {
        add(
            Severity::Problem,
            "forbidden_algorithm",
            format!(
                "`alg` is {alg}: Entra never issues such tokens and validators must refuse them"
            ),
        );
    } else if alg != "RS256" {
        add(
            Severity::Warning,
            "unusual_algorithm",
            format!(
                "`alg` is {alg}: Entra signs its tokens with RS256, so this token likely comes from elsewhere"
            ),
        );
    }
    if r.for_graph {
        add(
            Severity::Problem,
            "graph_token",
            "audience is Microsoft Graph: only Graph can validate this token (its header carries a `nonce`); if an API received it, the client asked for the wrong scope: it must request the API's own scope (`api://<api client id>/<scope>`), not a Graph permission such as User.Read".into(),
        );
    }
    if r.kind == TokenKind::IdToken {
        add(
            Severity::Warning,
            "id_token",
            "this is an ID token (no `azp`/`appid`): it proves a sign-in to the client app; an API must receive an access token requested for its scope".into(),
        );
    }
    match (c.exp, c.nbf) {
        (None, _) => add(
            Severity::Problem,
            "no_expiry",
            "no `exp` claim: Entra tokens always expire; this one is not from Entra or was altered"
                .into(),
        ),
        (Some(exp), _) if exp <= now => add(
            Severity::Problem,
            "expired",
            format!(
                "{} (at {}): the client must send a fresh token (MSAL's silent token call renews it); if fresh tokens look expired, check this machine's clock",
                words::expiry(exp, now),
                words::utc(exp)
            ),
        ),
        (_, Some(nbf)) if nbf > now => add(
            Severity::Problem,
            "not_yet_valid",
            format!(
                "not valid before {} ({}): this machine's clock is behind, or the issuer's is ahead",
                words::utc(nbf),
                words::relative(nbf, now)
            ),
        ),
        _ => {}
    }
    if r.kind == TokenKind::AccessToken && !r.for_graph {
        if r.scopes.is_empty() && r.roles.is_empty() {
            add(
                Severity::Problem,
                "no_permissions",
                "neither `scp` nor `roles`: the token grants nothing; a daemon needs one of the API's app roles assigned (with admin consent), a user's client must request one of the API's scopes".into(),
            );
        }
        if r.subject == Subject::AppOnly {
            add(
                Severity::Info,
                "app_only",
                format!(
                    "app-only token (client credentials) with roles {}: no user is involved, and it cannot be exchanged On-Behalf-Of (AADSTS7000114)",
                    list(&r.roles)
                ),
            );
        }
    }
    match c.version() {
        Some(TokenVersion::V1) if r.kind == TokenKind::AccessToken && !r.for_graph => add(
            Severity::Info,
            "v1_token",
            "v1 token: Entra issues v1 access tokens to an API whose manifest has `accessTokenAcceptedVersion` null or 1; a v2-only validator refuses it (accept v1, or set accessTokenAcceptedVersion to 2)".into(),
        ),
        None => add(
            Severity::Warning,
            "no_version",
            format!("`ver` is {:?}: Entra tokens say 1.0 or 2.0", c.ver.as_deref().unwrap_or("")),
        ),
        _ => {}
    }
    if r.groups == GroupsInfo::Overage {
        add(
            Severity::Info,
            "group_overage",
            "group overage: the user is in more groups than fit in a token (200), so `groups` is left out; resolve them through Microsoft Graph (POST /me/getMemberObjects), never through the legacy `_claim_sources` endpoint; app roles never overflow".into(),
        );
    }
    match (c.tid.as_deref(), c.tenant_id()) {
        (None, _) => add(
            Severity::Warning,
            "no_tenant",
            "no `tid` claim: the issuer cannot be checked against a tenant".into(),
        ),
        (Some(tid), None) => add(
            Severity::Problem,
            "bad_tenant",
            format!(
                "`tid` {:?} is not a GUID: not an Entra token",
                entra_core::shorten_untrusted(tid)
            ),
        ),
        _ => {}
    }
    if c.oid.is_none() {
        add(
            Severity::Warning,
            "no_object_id",
            "no `oid` claim: the user cannot be keyed by (tid, oid); never key users by e-mail or user name, which are mutable".into(),
        );
    }
    out
}

impl fmt::Display for TokenReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            TokenKind::AccessToken => "access token",
            TokenKind::IdToken => "ID token",
        };
        let version = self.version.as_deref().unwrap_or("?");
        writeln!(f, "Token (decoded without verifying; the signature is not shown)")?;
        line(f, "kind", format_args!("{kind}, v{version}"))?;
        line(
            f,
            "header",
            format_args!(
                "alg {}, kid {}",
                self.algorithm,
                self.key_id.as_deref().unwrap_or("(none)")
            ),
        )?;
        let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "(none)".into());
        line(f, "issuer", opt(&self.issuer))?;
        line(f, "tenant", opt(&self.tenant))?;
        line(f, "audience", list(&self.audiences))?;
        if self.for_graph {
            line(f, "graph token", "yes: only Microsoft Graph can validate it")?;
        }
        if let Some(app) = &self.caller_app {
            let how = self.caller_authentication.map(|a| format!(" ({a})")).unwrap_or_default();
            line(f, "caller app", format_args!("{app}{how}"))?;
        }
        let subject = match self.subject {
            Subject::Delegated => "delegated (a user, through the caller app)",
            Subject::AppOnly => "app-only (the caller app acting as itself)",
        };
        line(f, "acting for", subject)?;
        line(f, "object id", opt(&self.object_id))?;
        for (label, v) in
            [("name", &self.name), ("username", &self.username), ("email", &self.email)]
        {
            if let Some(v) = v {
                line(f, label, v)?;
            }
        }
        line(f, "scopes", list(&self.scopes))?;
        line(f, "roles", list(&self.roles))?;
        if self.directory_roles > 0 {
            line(f, "dir. roles", self.directory_roles)?;
        }
        let groups = match self.groups {
            GroupsInfo::Listed { count } => format!("{count} listed"),
            GroupsInfo::Overage => {
                "overage: not in the token, resolve through Microsoft Graph".into()
            }
            GroupsInfo::Absent => "(none)".into(),
        };
        line(f, "groups", groups)?;
        if let Some(iat) = self.issued_at {
            line(f, "issued", words::utc(iat))?;
        }
        if let (Some(exp), Some(when)) = (self.expires_at, &self.expiry) {
            line(f, "expiry", format_args!("{when} ({})", words::utc(exp)))?;
        }
        if !self.other_claims.is_empty() {
            line(f, "other claims", self.other_claims.join(", "))?;
        }
        if !self.findings.is_empty() {
            writeln!(f, "Findings")?;
            for finding in &self.findings {
                writeln!(f, "  {finding}")?;
            }
        }
        write!(f, "{}", self.validation)
    }
}
