//! Shared helpers: configurations pointing at a mock, and running the binary.

use std::io::Write as _;
use std::process::{Command, Stdio};

use entra_doctor::Config;
use entra_testkit::{MockEntra, TestApp};

/// The settings of `api` at the mock, with `extra` variables added or replacing them.
pub(crate) fn vars(
    mock: &MockEntra,
    api: &TestApp,
    extra: &[(&str, &str)],
) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> =
        extra.iter().map(|(k, val)| ((*k).to_owned(), (*val).to_owned())).collect();
    for (k, val) in [
        ("ENTRA_AUTHORITY", mock.authority().to_string()),
        ("ENTRA_CLIENT_ID", api.client_id.to_string()),
    ] {
        if !v.iter().any(|(name, _)| name == k) {
            v.push((k.to_owned(), val));
        }
    }
    v
}

/// A configuration read from `vars` as if they were the environment.
pub(crate) fn config(vars: Vec<(String, String)>) -> Config {
    Config::from_lookup(move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
}

/// The output of one run of the binary.
#[derive(Debug)]
pub(crate) struct Run {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

/// Runs `entra-doctor` with only `vars` in its environment (the mock keeps
/// serving on the test runtime's other threads meanwhile).
pub(crate) async fn run(args: &[&str], vars: &[(String, String)], stdin: Option<&str>) -> Run {
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    let vars = vars.to_vec();
    let stdin = stdin.map(str::to_owned);
    tokio::task::spawn_blocking(move || {
        let mut child = Command::new(env!("CARGO_BIN_EXE_entra-doctor"))
            .args(&args)
            .env_clear()
            .envs(vars)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        if let Some(input) = stdin {
            child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
        }
        drop(child.stdin.take());
        let out = child.wait_with_output().unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    })
    .await
    .unwrap()
}

/// The JSON document a `--json` run printed.
pub(crate) fn json(run: &Run) -> serde_json::Value {
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {run:?}"))
}
