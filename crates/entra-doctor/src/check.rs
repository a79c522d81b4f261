//! `entra-doctor check`: the configuration, discovery, keys, credential and
//! optionally an On-Behalf-Of exchange, each step timed and judged.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use entra_core::{Authority, Clock, Secret, SystemClock, Tenant};
use entra_jwks::{AcceptedVersions, JwksError, Validator};
use serde::Serialize;

use crate::aadsts::{self, ErrorReport};
use crate::config::{Config, Setting};
use crate::report::{chain, list};
use crate::{Error, Result, credential, obo};

/// How a step came out.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Status {
    /// Fine.
    Ok,
    /// Works, but worth changing.
    Warning,
    /// Wrong: something must change.
    Problem,
    /// Could not be checked (no configuration, network unreachable).
    NotChecked,
    /// Not applicable (a setting not used).
    Skipped,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Ok => "ok",
            Self::Warning => "warning",
            Self::Problem => "PROBLEM",
            Self::NotChecked => "NOT CHECKED",
            Self::Skipped => "skipped",
        })
    }
}

/// One step of a check.
#[derive(Clone, Debug, Serialize)]
#[non_exhaustive]
pub struct Step {
    /// The step (`client_id`, `discovery`, `keys`, `obo`, ...).
    pub name: &'static str,
    /// How it came out.
    pub status: Status,
    /// What was found.
    pub detail: String,
    /// What to change, when something should.
    pub remedy: Option<String>,
    /// How long its network request took, in milliseconds.
    pub millis: Option<u64>,
    /// Entra's error, explained, when Entra answered with one.
    pub entra_error: Option<ErrorReport>,
}

impl Step {
    pub(crate) fn new(
        name: &'static str,
        status: Status,
        detail: String,
        remedy: Option<String>,
    ) -> Self {
        Self { name, status, detail, remedy, millis: None, entra_error: None }
    }

    pub(crate) fn timed(mut self, started: Instant) -> Self {
        self.millis = Some(u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX));
        self
    }
}

/// The overall verdict, which is also the exit code of `entra-doctor check`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Outcome {
    /// Nothing wrong found (exit code 0).
    Ok,
    /// At least one problem (exit code 1).
    Problems,
    /// Nothing wrong found, but some steps could not be checked (exit code 2).
    CouldNotCheck,
}

impl Outcome {
    /// 0, 1 or 2.
    pub fn exit_code(self) -> u8 {
        match self {
            Self::Ok => 0,
            Self::Problems => 1,
            Self::CouldNotCheck => 2,
        }
    }
}

/// The result of [`run_check`].
#[derive(Clone, Debug, Serialize)]
#[non_exhaustive]
pub struct CheckReport {
    /// Where the configuration was read.
    pub origin: String,
    /// The steps, in order.
    pub steps: Vec<Step>,
    /// The verdict.
    pub outcome: Outcome,
    /// The exit code for the verdict.
    pub exit_code: u8,
}

/// What [`run_check`] reports while it runs, for a progress display.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub enum Progress<'a> {
    /// A network step starts.
    Started {
        /// The step.
        step: &'static str,
        /// What it does (`GET <url>`).
        detail: &'a str,
    },
    /// A network step ended.
    Finished {
        /// The step.
        step: &'static str,
        /// How it came out.
        status: Status,
        /// How long it took.
        millis: u64,
    },
}

/// Options of [`run_check`].
#[derive(Clone)]
#[must_use]
pub struct CheckOptions {
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) obo_token: Option<Secret>,
    pub(crate) obo_target: Option<String>,
    pub(crate) timeout: Duration,
}

impl fmt::Debug for CheckOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CheckOptions")
            .field("obo", &self.obo_token.is_some())
            .field("obo_target", &self.obo_target)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Default for CheckOptions {
    fn default() -> Self {
        Self::new()
    }
}

impl CheckOptions {
    /// No OBO try, the system clock, 10 second timeouts.
    pub fn new() -> Self {
        Self {
            clock: Arc::new(SystemClock),
            obo_token: None,
            obo_target: None,
            timeout: Duration::from_secs(10),
        }
    }

    /// The clock expiry is judged against. Defaults to the system clock.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Also try an On-Behalf-Of exchange of this user token. Defaults to none.
    pub fn obo(mut self, user_token: Secret) -> Self {
        self.obo_token = Some(user_token);
        self
    }

    /// What the OBO try asks for: a resource (`https://graph.microsoft.com`,
    /// `api://...`) or a scope. Defaults to the cloud's Microsoft Graph.
    pub fn obo_target(mut self, target: impl Into<String>) -> Self {
        self.obo_target = Some(target.into());
        self
    }

    /// Timeout of each network request. Defaults to 10 seconds.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
}

/// Checks the configuration and, over the network, the authority's discovery
/// document and keys (and an OBO exchange when asked). Secrets are never part of
/// the report.
///
/// # Errors
/// [`Error::HttpClient`] when no HTTP client can be built; every other failure
/// is a step of the report.
pub async fn run_check(
    config: &Config,
    options: &CheckOptions,
    progress: &mut (dyn FnMut(Progress<'_>) + Send),
) -> Result<CheckReport> {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(options.timeout)
        .build()
        .map_err(Error::HttpClient)?;
    let now = options.clock.unix_now();
    let mut steps = Vec::new();
    if config.is_empty() {
        steps.push(Step::new(
            "configuration",
            Status::NotChecked,
            format!("no configuration found in the {}", config.origin),
            Some(format!(
                "set {}, {} (and a credential), or pass --config <file.json>",
                Setting::TenantId.display(),
                Setting::ClientId.display()
            )),
        ));
        return Ok(finish(config, steps));
    }
    steps.push(Step::new("configuration", Status::Ok, settings_summary(config), None));
    steps.push(client_id_step(config));
    let authority = config.authority();
    steps.push(authority_step(config, authority.as_ref()));
    steps.push(redirect_step(config));
    steps.push(credential::check(config, now));
    let validator = match config.validator(options.clock.clone()) {
        Err(e) => {
            steps.push(Step::new("validator", Status::Skipped, format!("not built: {e}"), None));
            None
        }
        Ok(Err(e)) => {
            steps.push(Step::new(
                "validator",
                Status::Problem,
                chain(&e),
                Some(crate::validate::builder_advice(&e)),
            ));
            None
        }
        Ok(Ok(v)) => {
            steps.push(validator_step(&v));
            Some(v)
        }
    };
    if let Ok(authority) = &authority {
        steps.push(discovery_step(&http, authority, progress).await);
    }
    if let Some(v) = &validator {
        steps.push(keys_step(v, progress).await);
    }
    if let Some(token) = &options.obo_token {
        steps.push(obo::step(config, validator.as_ref(), token, options, progress).await);
    }
    Ok(finish(config, steps))
}

fn finish(config: &Config, steps: Vec<Step>) -> CheckReport {
    let outcome = if steps.iter().any(|s| s.status == Status::Problem) {
        Outcome::Problems
    } else if steps.iter().any(|s| s.status == Status::NotChecked) {
        Outcome::CouldNotCheck
    } else {
        Outcome::Ok
    };
    CheckReport { origin: config.origin.clone(), steps, outcome, exit_code: outcome.exit_code() }
}

fn settings_summary(config: &Config) -> String {
    let mut set: Vec<String> = [
        Setting::Authority,
        Setting::TenantId,
        Setting::Cloud,
        Setting::ClientId,
        Setting::ClientCertificatePath,
        Setting::FederatedTokenFile,
        Setting::RedirectUri,
        Setting::Audiences,
        Setting::AllowedTenants,
        Setting::AcceptedVersions,
        Setting::RequiredScopes,
        Setting::RequiredRoles,
    ]
    .iter()
    .filter_map(|s| config.raw(*s).map(|v| v.from.clone()))
    .collect();
    if let Some(s) = config.client_secret() {
        set.push(format!("{} (value not shown)", s.from));
    }
    format!("read from the {}: {}", config.origin, list(&set))
}

fn client_id_step(config: &Config) -> Step {
    match config.client_id() {
        Err(e) => Step::new(
            "client_id",
            Status::Problem,
            e.to_string(),
            Some(format!("set {}", Setting::ClientId.display())),
        ),
        Ok(id) => {
            let same_as_tenant = config
                .raw(Setting::TenantId)
                .is_some_and(|t| t.value.eq_ignore_ascii_case(id.as_str()));
            if same_as_tenant {
                Step::new(
                    "client_id",
                    Status::Problem,
                    format!("client id {id} equals the tenant id"),
                    Some("the client id is the Application (client) ID of the app registration, not the Directory (tenant) ID".into()),
                )
            } else {
                Step::new("client_id", Status::Ok, format!("{id} is a GUID"), None)
            }
        }
    }
}

fn authority_step(config: &Config, authority: std::result::Result<&Authority, &Error>) -> Step {
    let authority = match authority {
        Err(e) => return Step::new("authority", Status::Problem, e.to_string(), None),
        Ok(a) => a,
    };
    let tenant = authority.tenant();
    let what = match tenant {
        Tenant::Id(_) => "single tenant",
        Tenant::Domain(_) => "single tenant, named by a domain",
        Tenant::Organizations => "multi-tenant, work and school accounts",
        Tenant::Common => "multi-tenant, work, school and personal accounts",
        Tenant::Consumers => "personal Microsoft accounts only",
        _ => "other",
    };
    let detail = format!("{authority} ({what})");
    if let (Some(a), Some(t)) = (config.raw(Setting::Authority), config.raw(Setting::TenantId))
        && !t.value.eq_ignore_ascii_case(tenant.as_segment())
    {
        return Step::new(
            "authority",
            Status::Problem,
            format!(
                "{detail}: {} names tenant {}, but {} says {}",
                a.from,
                tenant.as_segment(),
                t.from,
                t.value
            ),
            Some(format!(
                "keep one of them: {} wins, and the other misleads whoever reads the configuration",
                a.from
            )),
        );
    }
    if let (Some(a), Ok(Some(cloud))) = (config.raw(Setting::Authority), config.cloud())
        && !cloud.login_base().eq_ignore_ascii_case(authority.cloud().login_base())
    {
        return Step::new(
            "authority",
            Status::Problem,
            format!("{detail}: {} is in {}, but the cloud setting says {}", a.from, authority.cloud().login_base(), cloud.login_base()),
            Some("make the cloud and the authority agree (tokens of one cloud are never valid in another)".into()),
        );
    }
    if *tenant == Tenant::Consumers {
        return Step::new(
            "authority",
            Status::Warning,
            detail,
            Some("`consumers` signs in personal accounts only; use `common` to accept work and school accounts too".into()),
        );
    }
    Step::new("authority", Status::Ok, detail, None)
}

fn redirect_step(config: &Config) -> Step {
    let Some(raw) = config.raw(Setting::RedirectUri) else {
        return Step::new(
            "redirect_uri",
            Status::Skipped,
            "not set (only browser sign-in needs one)".into(),
            None,
        );
    };
    let problem = |why: &str| {
        Step::new(
            "redirect_uri",
            Status::Problem,
            format!("{} (from {}) {why}", raw.value, raw.from),
            Some("register the exact same URI under Authentication > Redirect URIs; Entra compares scheme, host, port and path (AADSTS50011)".into()),
        )
    };
    let Ok(url) = url::Url::parse(&raw.value) else {
        return problem("is not an absolute URL");
    };
    let host = url.host_str().unwrap_or("");
    let loopback = host == "localhost" || host == "127.0.0.1" || host == "[::1]";
    if raw.value.contains('*') {
        return problem("contains a wildcard, which Entra does not accept for web apps");
    }
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        "http" => return problem("uses http: Entra accepts http only for localhost"),
        _ if host.is_empty() => {
            return problem("has no host");
        }
        _ => {}
    }
    if url.fragment().is_some() {
        return problem("has a fragment (#...), which redirect URIs must not have");
    }
    if raw.value.len() > 256 {
        return problem("is longer than the 256 characters Entra accepts");
    }
    Step::new("redirect_uri", Status::Ok, format!("{} (from {})", raw.value, raw.from), None)
}

fn validator_step(v: &Validator) -> Step {
    let o = v.options();
    let audiences: Vec<String> =
        std::iter::once(v.client_id().to_string()).chain(o.audiences.iter().cloned()).collect();
    let tenants = match &o.tenants {
        entra_jwks::TenantPolicy::Only(t) => {
            list(&t.iter().map(ToString::to_string).collect::<Vec<_>>())
        }
        _ => "any tenant".into(),
    };
    Step::new(
        "validator",
        Status::Ok,
        format!(
            "accepts {} tokens for audiences {} from {}",
            match o.versions {
                AcceptedVersions::V1 => "v1",
                AcceptedVersions::V2 => "v2",
                _ => "v1 and v2",
            },
            list(&audiences),
            tenants
        ),
        None,
    )
}

async fn discovery_step(
    http: &reqwest::Client,
    authority: &Authority,
    progress: &mut (dyn FnMut(Progress<'_>) + Send),
) -> Step {
    let url = authority.v2_discovery_url();
    progress(Progress::Started { step: "discovery", detail: &format!("GET {url}") });
    let started = Instant::now();
    let step = discovery(http, authority, &url).await.timed(started);
    progress(Progress::Finished {
        step: "discovery",
        status: step.status,
        millis: step.millis.unwrap_or(0),
    });
    step
}

async fn discovery(http: &reqwest::Client, authority: &Authority, url: &str) -> Step {
    let step = |status, detail: String, remedy: Option<String>| {
        Step::new("discovery", status, detail, remedy)
    };
    let response = match http.get(url).send().await {
        Ok(r) => r,
        Err(e) => {
            return step(
                Status::NotChecked,
                format!("GET {url} failed: {}", chain(&e)),
                Some("check the network (proxy, firewall, DNS) and the authority's host".into()),
            );
        }
    };
    let status = response.status().as_u16();
    let body = match read_capped(response, 256 * 1024).await {
        Ok(b) => b,
        Err(why) => return step(Status::NotChecked, format!("GET {url}: {why}"), None),
    };
    if status != 200 {
        let mut s = step(
            Status::Problem,
            format!("GET {url} answered HTTP {status}"),
            Some("check the tenant id or domain and the cloud".into()),
        );
        if let Ok(report) = aadsts::explain_error(&String::from_utf8_lossy(&body)) {
            s.remedy = Some(report.remedy.clone());
            s.detail = format!("{}: {}", s.detail, report.meaning);
            s.entra_error = Some(report);
        }
        if status >= 500 {
            s.status = Status::NotChecked;
        }
        return s;
    }
    let Ok(doc) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return step(
            Status::Problem,
            format!("GET {url}: not a JSON document"),
            Some("the authority is not an Entra endpoint: check its URL".into()),
        );
    };
    let field = |name: &str| doc.get(name).and_then(serde_json::Value::as_str).unwrap_or("");
    let issuer = field("issuer");
    let mut mismatches = Vec::new();
    if let Some(expected) = authority.v2_issuer()
        && issuer != expected.as_str()
    {
        mismatches.push(format!("issuer is {issuer}, expected {}", expected.as_str()));
    }
    if matches!(authority.tenant(), Tenant::Id(_))
        && field("token_endpoint") != authority.token_url()
    {
        mismatches.push(format!(
            "token_endpoint is {}, expected {}",
            field("token_endpoint"),
            authority.token_url()
        ));
    }
    if matches!(authority.tenant(), Tenant::Id(_)) && field("jwks_uri") != authority.v2_keys_url() {
        mismatches.push(format!(
            "jwks_uri is {}, expected {}",
            field("jwks_uri"),
            authority.v2_keys_url()
        ));
    }
    if !mismatches.is_empty() {
        return step(
            Status::Problem,
            format!("GET {url}: {}", mismatches.join("; ")),
            Some("the authority answers for another tenant or cloud than configured: check the authority, tenant and cloud settings".into()),
        );
    }
    let mut detail = format!("GET {url}: issuer {issuer}");
    if let Tenant::Domain(d) = authority.tenant() {
        detail.push_str(&format!(" (the domain {d} is this tenant)"));
    }
    step(Status::Ok, detail, None)
}

async fn read_capped(
    mut response: reqwest::Response,
    max: usize,
) -> std::result::Result<Vec<u8>, String> {
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > max {
                    return Err(format!("the answer is larger than {max} bytes"));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(e) => return Err(format!("reading the answer failed: {}", chain(&e))),
        }
    }
}

async fn keys_step(v: &Validator, progress: &mut (dyn FnMut(Progress<'_>) + Send)) -> Step {
    let urls = v.keys_urls().join(" and ");
    progress(Progress::Started { step: "keys", detail: &format!("GET {urls}") });
    let started = Instant::now();
    let step = match v.refresh_keys().await {
        Ok(()) => Step::new("keys", Status::Ok, format!("GET {urls}: signing keys fetched and parsed"), None),
        Err(e) => {
            let network = matches!(
                &e,
                entra_jwks::Error::KeysUnavailable { source: Some(s) } if matches!(s.as_ref(), JwksError::Request { .. })
            );
            let status = if network { Status::NotChecked } else { Status::Problem };
            Step::new(
                "keys",
                status,
                format!("GET {urls}: {}", chain(&e)),
                Some(if network {
                    "check the network (proxy, firewall, DNS)".into()
                } else {
                    "the keys endpoint did not serve usable keys: check the authority (tenant and cloud)".into()
                }),
            )
        }
    }
    .timed(started);
    progress(Progress::Finished {
        step: "keys",
        status: step.status,
        millis: step.millis.unwrap_or(0),
    });
    step
}

impl fmt::Display for CheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Configuration check ({})", self.origin)?;
        for s in &self.steps {
            let time = s.millis.map(|m| format!(" [{m} ms]")).unwrap_or_default();
            writeln!(f, "  {:<12}{:<15}{}{time}", s.status.to_string(), s.name, s.detail)?;
            if let Some(r) = &s.remedy {
                writeln!(f, "  {:<27}change: {r}", "")?;
            }
            if let Some(e) = &s.entra_error {
                for l in e.to_string().lines() {
                    writeln!(f, "  {:<27}{l}", "")?;
                }
            }
        }
        let problems = self.steps.iter().filter(|s| s.status == Status::Problem).count();
        match self.outcome {
            Outcome::Ok => writeln!(f, "Result: ok"),
            Outcome::Problems => writeln!(f, "Result: {problems} problem(s) found"),
            Outcome::CouldNotCheck => writeln!(f, "Result: could not check everything"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TID: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    const CID: &str = "6e74172b-be56-4843-9ff4-e66a39bb12e3";

    fn config(vars: &[(&'static str, &'static str)]) -> Config {
        let vars = vars.to_vec();
        Config::from_lookup(move |n| {
            vars.iter().find(|(k, _)| *k == n).map(|(_, v)| (*v).to_owned())
        })
    }

    fn redirect(uri: &'static str) -> Status {
        redirect_step(&config(&[("ENTRA_REDIRECT_URI", uri)])).status
    }

    #[test]
    fn redirect_uri_forms() {
        assert_eq!(redirect("https://app.example.com/auth/callback"), Status::Ok);
        assert_eq!(redirect("http://localhost:3000/callback"), Status::Ok);
        assert_eq!(redirect("http://127.0.0.1:8080/cb"), Status::Ok);
        assert_eq!(redirect("http://app.example.com/callback"), Status::Problem);
        assert_eq!(redirect("https://*.example.com/callback"), Status::Problem);
        assert_eq!(redirect("https://app.example.com/cb#frag"), Status::Problem);
        assert_eq!(redirect("/callback"), Status::Problem);
        assert_eq!(redirect_step(&config(&[])).status, Status::Skipped);
        let long: &'static str =
            Box::leak(format!("https://a.example/{}", "x".repeat(300)).into_boxed_str());
        assert_eq!(redirect(long), Status::Problem);
    }

    #[test]
    fn authority_consistency() {
        let check = |vars: &[(&'static str, &'static str)]| {
            let c = config(vars);
            authority_step(&c, c.authority().as_ref()).status
        };
        assert_eq!(check(&[("ENTRA_TENANT_ID", TID)]), Status::Ok);
        let authority = "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47";
        assert_eq!(check(&[("ENTRA_AUTHORITY", authority), ("ENTRA_TENANT_ID", TID)]), Status::Ok);
        assert_eq!(
            check(&[("ENTRA_AUTHORITY", authority), ("ENTRA_TENANT_ID", CID)]),
            Status::Problem
        );
        assert_eq!(check(&[("ENTRA_AUTHORITY", authority), ("ENTRA_CLOUD", "public")]), Status::Ok);
        assert_eq!(
            check(&[("ENTRA_AUTHORITY", authority), ("ENTRA_CLOUD", "usgovernment")]),
            Status::Problem
        );
        assert_eq!(check(&[("ENTRA_TENANT_ID", "consumers")]), Status::Warning);
        assert_eq!(check(&[("ENTRA_TENANT_ID", "not a tenant!")]), Status::Problem);
    }

    #[test]
    fn client_id_shapes() {
        let status = |vars: &[(&'static str, &'static str)]| client_id_step(&config(vars)).status;
        assert_eq!(status(&[("ENTRA_CLIENT_ID", CID)]), Status::Ok);
        assert_eq!(status(&[("ENTRA_CLIENT_ID", "my-app")]), Status::Problem);
        assert_eq!(status(&[("ENTRA_CLIENT_ID", TID), ("ENTRA_TENANT_ID", TID)]), Status::Problem);
        assert_eq!(status(&[]), Status::Problem);
    }

    #[test]
    fn outcome_and_exit_codes() {
        let step = |s| Step::new("x", s, String::new(), None);
        let c = config(&[]);
        assert_eq!(finish(&c, vec![step(Status::Ok), step(Status::Warning)]).exit_code, 0);
        assert_eq!(finish(&c, vec![step(Status::Ok), step(Status::NotChecked)]).exit_code, 2);
        assert_eq!(finish(&c, vec![step(Status::NotChecked), step(Status::Problem)]).exit_code, 1);
    }
}
