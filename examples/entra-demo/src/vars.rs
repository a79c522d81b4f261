//! The settings each app reads, as variables of the workspace's one table
//! (`entra_core::env`): set by the demo for the mock, or the process
//! environment for real Entra. Redis settings always come from the process.

use std::collections::HashMap;

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine as _;
use entra_core::env::{self, EnvVar, Vars};

use crate::Plan;

/// The Redis variables, read from the process environment in both modes.
const REDIS: [&EnvVar; 4] =
    [&env::REDIS_URL, &env::REDIS_KEYS, &env::REDIS_PREFIX, &env::REDIS_TIMEOUT_MS];

/// The variables of one app.
pub(crate) struct AppVars {
    set: HashMap<&'static str, String>,
    /// Whether every other variable comes from the process (real Entra).
    process: bool,
}

impl AppVars {
    /// Variables set by the demo (the mock's apps), plus Redis from the process.
    pub(crate) fn new() -> Self {
        let mut vars = Self { set: HashMap::new(), process: false };
        vars.add_redis_key();
        vars
    }

    /// The process environment (real Entra).
    fn from_process() -> Self {
        let mut vars = Self { set: HashMap::new(), process: true };
        vars.add_redis_key();
        vars
    }

    pub(crate) fn set(&mut self, var: &EnvVar, value: impl Into<String>) {
        self.set.insert(var.name, value.into());
    }

    pub(crate) fn get(&self, name: &str) -> Option<String> {
        if let Some(v) = self.set.get(name) {
            return Some(v.clone());
        }
        let redis = REDIS.iter().any(|v| v.names().any(|n| n == name));
        (self.process || redis).then(|| env::process_env(name)).flatten()
    }

    /// With a Redis URL and no keys, a key for this run only (sessions do not
    /// survive a restart of the demo; real deployments set the keys).
    fn add_redis_key(&mut self) {
        let lookup = |n: &str| self.get(n);
        let vars = Vars::new(&lookup);
        if vars.text(&env::REDIS_URL).is_none() || vars.text(&env::REDIS_KEYS).is_some() {
            return;
        }
        let mut key = [0u8; 32];
        if SystemRandom::new().fill(&mut key).is_ok() {
            let text = base64::engine::general_purpose::STANDARD.encode(key);
            self.set(&env::REDIS_KEYS, format!("demo:{text}"));
        }
    }
}

/// One variable from the process environment (its canonical name or an alias).
pub(crate) fn process(var: &EnvVar) -> Option<String> {
    Vars::new(&env::process_env).text(var)
}

/// The redirect URI when the process environment configures real Entra
/// (tenant or authority, client id, client secret, redirect URI).
pub(crate) fn real_entra_configured() -> Option<String> {
    let tenant = process(&env::TENANT_ID).or_else(|| process(&env::AUTHORITY));
    let app = process(&env::CLIENT_ID).zip(process(&env::CLIENT_SECRET));
    tenant.and(app).and_then(|_| process(&env::REDIRECT_URI))
}

/// The port of a loopback redirect URI (`http://localhost:3000/callback`).
pub(crate) fn port_of(redirect: &str) -> Result<u16, String> {
    let url = url::Url::parse(redirect)
        .map_err(|_| format!("{} is not a URL: {redirect}", env::REDIRECT_URI.name))?;
    let local = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    match (local, url.port_or_known_default()) {
        (true, Some(port)) => Ok(port),
        _ => Err(format!(
            "{} must point at this machine (http://localhost:PORT/callback) for the demo",
            env::REDIRECT_URI.name
        )),
    }
}

/// Both apps on the app registration of the process environment.
pub(crate) fn real_plan() -> Result<Plan, String> {
    let teams = entra_teams::Config::from_env().map_err(|e| format!("teams settings: {e}"))?;
    Ok(Plan { web: AppVars::from_process(), mcp: AppVars::from_process(), teams, mock: None })
}

/// Where sessions go, for the start-up print.
pub(crate) fn redis_note(vars: &AppVars) -> String {
    let lookup = |n: &str| vars.get(n);
    match entra_redis::RedisConfig::from_lookup(lookup) {
        Ok(Some(config)) => format!(
            "Sessions, sign-in state and the token cache: Redis at {} (key prefix {:?}).",
            config.redacted_url(),
            config_prefix(&lookup)
        ),
        Ok(None) => "Sessions and the token cache: in memory.".to_owned(),
        Err(e) => format!("Redis settings: {e}"),
    }
}

fn config_prefix(lookup: &dyn Fn(&str) -> Option<String>) -> String {
    Vars::new(lookup).text(&env::REDIS_PREFIX).unwrap_or_else(|| "entra:".to_owned())
}
