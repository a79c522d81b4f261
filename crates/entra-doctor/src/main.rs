//! `entra-doctor`: explains an Entra token, an AADSTS error, or the app's
//! configuration. See the `entra_doctor` library for what each command reports.

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand};
use entra_core::{Secret, SystemClock, words};
use entra_doctor::{
    CheckOptions, Config, Progress, Severity, TokenOptions, Validation, explain_error,
    explain_token, run_check, validate_token,
};
use serde::Serialize;

/// Explains Microsoft Entra ID tokens, AADSTS errors and app configurations.
///
/// The app's settings come from the environment (ENTRA_TENANT_ID, ENTRA_CLIENT_ID,
/// ENTRA_CLIENT_SECRET, ENTRA_AUTHORITY, ENTRA_CLOUD, ENTRA_REDIRECT_URI,
/// ENTRA_AUDIENCES, ENTRA_ALLOWED_TENANTS, ENTRA_ACCEPTED_VERSIONS,
/// ENTRA_CLIENT_CERTIFICATE_PATH, with SSO_ENTRA_* and AZURE_* aliases) or from
/// --config.
#[derive(Parser)]
#[command(name = "entra-doctor", version)]
struct Cli {
    /// Read the app's settings from this JSON file instead of the environment.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Print one JSON document instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Decode a token without trusting it and, with the app's settings, run the
    /// real validator. Exit code 0: fine, 1: refused or problems, 2: not a token
    /// or not checkable.
    Token {
        /// The token, or `-` to read it from standard input (keeps it out of the
        /// shell history).
        token: String,
        /// Show names and e-mail addresses (hidden by default).
        #[arg(long)]
        show_pii: bool,
    },
    /// Explain an AADSTS code, an Entra error JSON document, or a redirect URL
    /// carrying `error=` (`-` reads standard input). Exit code 0: explained,
    /// 2: not understood.
    Error {
        /// `50076`, `AADSTS50076`, `{"error":...}`, `https://app/callback?error=...`, or `-`.
        input: String,
    },
    /// Check the configuration, the authority's discovery document and keys,
    /// and the credential. Exit code 0: ok, 1: problems found, 2: could not check.
    Check {
        /// Also exchange this user token (a file holding the access token the
        /// API received) On-Behalf-Of, and explain the result.
        #[arg(long, value_name = "TOKEN_FILE")]
        obo: Option<PathBuf>,
        /// What the On-Behalf-Of try asks for: a resource or scopes. Defaults to
        /// Microsoft Graph of the configured cloud.
        #[arg(long, value_name = "RESOURCE_OR_SCOPES")]
        obo_target: Option<String>,
        /// Timeout of each network request, in seconds.
        #[arg(long, default_value_t = 10, value_name = "SECONDS")]
        timeout: u64,
    },
}

#[derive(Serialize)]
struct Failure<'a> {
    error: &'a str,
    message: String,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => return fail(cli.json, "runtime", &e.to_string()),
    };
    runtime.block_on(run(cli))
}

async fn run(cli: Cli) -> ExitCode {
    let json = cli.json;
    let config = match &cli.config {
        Some(path) => match Config::from_file(path) {
            Ok(c) => c,
            Err(e) => return fail(json, e.code(), &words::error_with_sources(&e)),
        },
        None => Config::from_env(),
    };
    match cli.command {
        Command::Token { token, show_pii } => token_command(&config, &token, show_pii, json).await,
        Command::Error { input } => {
            let input = match read_arg(&input) {
                Ok(i) => i,
                Err(e) => return fail(json, "read_failed", &e),
            };
            match explain_error(&input) {
                Ok(report) => {
                    print(json, &report);
                    ExitCode::SUCCESS
                }
                Err(e) => fail(json, e.code(), &words::error_with_sources(&e)),
            }
        }
        Command::Check { obo, obo_target, timeout } => {
            check_command(&config, obo.as_deref(), obo_target, timeout, json).await
        }
    }
}

async fn token_command(config: &Config, token: &str, show_pii: bool, json: bool) -> ExitCode {
    let token = match read_arg(token) {
        Ok(t) => Secret::new(t),
        Err(e) => return fail(json, "read_failed", &e),
    };
    let options = TokenOptions::new().show_pii(show_pii);
    let mut report = match explain_token(token.expose_secret(), &options) {
        Ok(r) => r,
        Err(e) => return fail(json, e.code(), &words::error_with_sources(&e)),
    };
    report.validation = validate_token(token.expose_secret(), config, Arc::new(SystemClock)).await;
    print(json, &report);
    let problem = report.findings.iter().any(|f| f.severity == Severity::Problem);
    match &report.validation {
        Validation::Refused { .. } => ExitCode::from(1),
        Validation::CouldNotCheck { .. } => ExitCode::from(2),
        _ if problem => ExitCode::from(1),
        _ => ExitCode::SUCCESS,
    }
}

async fn check_command(
    config: &Config,
    obo: Option<&Path>,
    obo_target: Option<String>,
    timeout: u64,
    json: bool,
) -> ExitCode {
    let mut options = CheckOptions::new().timeout(Duration::from_secs(timeout.max(1)));
    if let Some(path) = obo {
        match std::fs::read_to_string(path) {
            Ok(t) => options = options.obo(Secret::new(t)),
            Err(e) => {
                return fail(json, "read_failed", &format!("cannot read {}: {e}", path.display()));
            }
        }
    }
    if let Some(t) = obo_target {
        options = options.obo_target(t);
    }
    let mut progress = |p: Progress<'_>| {
        let mut err = std::io::stderr().lock();
        let _ = match p {
            Progress::Started { step, detail } => writeln!(err, "[{step}] {detail} ..."),
            Progress::Finished { step, status, millis } => {
                writeln!(err, "[{step}] {status} in {millis} ms")
            }
            _ => Ok(()),
        };
    };
    match run_check(config, &options, &mut progress).await {
        Ok(report) => {
            print(json, &report);
            ExitCode::from(report.exit_code)
        }
        Err(e) => fail(json, e.code(), &words::error_with_sources(&e)),
    }
}

/// The argument itself, or standard input for `-` (at most 64 KiB).
fn read_arg(arg: &str) -> Result<String, String> {
    if arg != "-" {
        return Ok(arg.to_owned());
    }
    let mut text = String::new();
    std::io::stdin()
        .take(64 * 1024 + 1)
        .read_to_string(&mut text)
        .map_err(|e| format!("cannot read standard input: {e}"))?;
    Ok(text)
}

fn print<T: Serialize + std::fmt::Display>(json: bool, value: &T) {
    let mut out = std::io::stdout().lock();
    let _ = if json {
        match serde_json::to_string_pretty(value) {
            Ok(s) => writeln!(out, "{s}"),
            Err(e) => writeln!(out, "{{\"error\":\"json\",\"message\":\"{e}\"}}"),
        }
    } else {
        write!(out, "{value}")
    };
}

fn fail(json: bool, code: &str, message: &str) -> ExitCode {
    if json {
        let doc = Failure { error: code, message: message.to_owned() };
        if let Ok(s) = serde_json::to_string_pretty(&doc) {
            println!("{s}");
        }
    } else {
        eprintln!("entra-doctor: {message}");
    }
    ExitCode::from(2)
}
