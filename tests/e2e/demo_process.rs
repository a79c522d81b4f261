//! The `entra-demo` binary as a child process: built with cargo, started on
//! free ports, read from its start-up print, stopped with SIGTERM.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The target directory this test binary was built in (`<target>/debug/deps/e2e-*`).
pub(crate) fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    exe.ancestors().nth(3).expect("the test binary lives in <target>/<profile>/deps").to_owned()
}

/// Builds the demo (a no-op when it is fresh) and returns its path.
fn demo_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let profile_dir = exe.ancestors().nth(2).expect("<target>/<profile>").to_owned();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .args(["build", "--quiet", "-p", "entra-demo", "--bin", "entra-demo"])
        .env("CARGO_TARGET_DIR", target_dir())
        .status()
        .expect("cargo runs");
    assert!(status.success(), "cargo build -p entra-demo failed");
    profile_dir.join(format!("entra-demo{}", std::env::consts::EXE_SUFFIX))
}

/// A running demo and what it printed.
pub(crate) struct Demo {
    child: Child,
    reader: Option<std::thread::JoinHandle<()>>,
    lines: Arc<Mutex<Vec<String>>>,
    /// The SSO web app's base URL (no trailing slash).
    pub(crate) web: String,
    /// The MCP server's URL.
    pub(crate) mcp: String,
    /// The MCP server's protected-resource metadata URL.
    pub(crate) metadata: String,
    /// The printed `curl` command line.
    pub(crate) curl: String,
}

/// The first URL on the printed line that starts with `label`.
fn url_after(lines: &[String], label: &str) -> String {
    let line = lines
        .iter()
        .find(|l| l.trim_start().starts_with(label))
        .unwrap_or_else(|| panic!("the demo printed no {label:?} line:\n{}", lines.join("\n")));
    let url = line.split_whitespace().find(|w| w.starts_with("http://")).expect("a URL");
    url.trim_end_matches('/').to_owned()
}

impl Demo {
    /// Starts the demo on free ports with only `env` (plus `PATH`) in its
    /// environment, and waits for its start-up print.
    pub(crate) fn start(env: &[(&str, &str)]) -> Self {
        let mut command = Command::new(demo_binary());
        command
            .args(["--web-port", "0", "--mcp-port", "0", "--mock-port", "0"])
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (k, v) in env {
            command.env(k, v);
        }
        let mut child = command.spawn().expect("the demo starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let (ready_tx, ready_rx) = mpsc::channel();
        let seen = lines.clone();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let is_curl = line.trim_start().starts_with("curl ");
                seen.lock().unwrap().push(line);
                if is_curl {
                    let _ = ready_tx.send(());
                }
            }
        });
        // A readiness wait, not a timed assertion: the demo prints once it serves.
        if ready_rx.recv_timeout(Duration::from_secs(120)).is_err() {
            let _ = child.kill();
            panic!(
                "the demo did not print its start-up lines:\n{}",
                lines.lock().unwrap().join("\n")
            );
        }
        let printed = lines.lock().unwrap().clone();
        // Built before parsing, so that a failed parse still stops the child (Drop).
        let mut demo = Self {
            child,
            reader: Some(reader),
            lines,
            web: String::new(),
            mcp: String::new(),
            metadata: String::new(),
            curl: String::new(),
        };
        demo.web = url_after(&printed, "SSO web app");
        demo.mcp = url_after(&printed, "MCP server");
        demo.metadata = url_after(&printed, "MCP metadata");
        let curl = printed.iter().find(|l| l.trim_start().starts_with("curl ")).unwrap();
        demo.curl = curl.trim().to_owned();
        demo
    }

    /// Everything printed so far.
    pub(crate) fn output(&self) -> String {
        self.lines.lock().unwrap().join("\n")
    }

    /// Sends SIGTERM (what Ctrl-C does, for a process without a terminal) and
    /// waits for the exit.
    pub(crate) fn stop(mut self) -> (ExitStatus, String) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().expect("kill runs");
        assert!(sent.success());
        let status = self.child.wait().expect("the demo exits");
        // The pipe is closed: the reader has seen every line.
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
        (status, self.output())
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
