//! `cargo run -p entra-demo`: in one process on loopback, with no Azure tenant,
//! the embedded mock Entra (seeded users, groups and consent), the SSO web app
//! (`examples/sso-web`) and the MCP server (`examples/mcp-server`). It prints
//! what to open, the users to pick and a ready `curl` for the MCP server;
//! Ctrl-C stops everything.
//!
//! With `ENTRA_TENANT_ID`, `ENTRA_CLIENT_ID`, `ENTRA_CLIENT_SECRET` and
//! `ENTRA_REDIRECT_URI` set, the same apps run against real Entra instead (one
//! app registration for both). With `ENTRA_REDIS_URL` set, sessions, pending
//! sign-ins and the On-Behalf-Of token cache go to Redis.
//!
//! Options: `--web-port N` (default 3000), `--mcp-port N` (default 8000),
//! `--mock-port N` (default 8400); `0` picks a free port.

mod mcp;
mod mock;
mod vars;

use std::process::ExitCode;

use entra_core::env;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::vars::AppVars;

const USAGE: &str =
    "usage: entra-demo [--web-port N] [--mcp-port N] [--mock-port N]   (0 = any free port)";

/// The command-line options.
struct Options {
    web_port: u16,
    mcp_port: u16,
    mock_port: u16,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut o = Options { web_port: 3000, mcp_port: 8000, mock_port: 8400 };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let port = match it.next().map(|v| v.parse::<u16>()) {
            Some(Ok(p)) => p,
            _ => return Err(format!("{arg} needs a port number\n{USAGE}")),
        };
        match arg.as_str() {
            "--web-port" => o.web_port = port,
            "--mcp-port" => o.mcp_port = port,
            "--mock-port" => o.mock_port = port,
            _ => return Err(format!("unknown option {arg}\n{USAGE}")),
        }
    }
    Ok(o)
}

/// What runs: the settings of the two apps, and the mock when there is one.
pub(crate) struct Plan {
    pub(crate) web: AppVars,
    pub(crate) mcp: AppVars,
    pub(crate) teams: entra_teams::Config,
    pub(crate) mock: Option<mock::Demo>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt().with_env_filter(filter).init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    match run(&args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("entra-demo: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn bind(port: u16) -> Result<(TcpListener, String), String> {
    let listener = TcpListener::bind(("127.0.0.1", port))
        .await
        .map_err(|e| format!("cannot listen on 127.0.0.1:{port}: {e} (choose another port)"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    Ok((listener, format!("http://{addr}")))
}

async fn run(args: &[String]) -> Result<(), String> {
    let o = parse(args)?;
    let real = vars::real_entra_configured();
    // Real Entra: the web app listens where its registered redirect URI points.
    let web_port = match &real {
        Some(redirect) => vars::port_of(redirect)?,
        None => o.web_port,
    };
    let (web_listener, web_base) = bind(web_port).await?;
    let (mcp_listener, mcp_base) = bind(o.mcp_port).await?;
    let mcp_url = format!("{mcp_base}/mcp");
    let plan = match &real {
        Some(_) => vars::real_plan()?,
        None => mock::start(o.mock_port, &web_base).await?,
    };
    let redis = vars::redis_note(&plan.web);

    let web_auth = sso_web::auth_builder(&|n| plan.web.get(n))
        .await
        .map_err(|e| e.report())?
        .build()
        .map_err(|e| format!("the web app cannot start: {e}"))?;
    let web_app = sso_web::app(&web_auth);
    let mcp_app = mcp::router(&plan.mcp, &mcp_url, plan.teams.clone()).await?;

    match &plan.mock {
        Some(demo) => demo.print(&web_base, &mcp_url, &redis),
        None => print_real(&web_base, &mcp_url, &redis),
    }

    let (stop_tx, stop_rx) = watch::channel(false);
    let stopped = |mut rx: watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stop| *stop).await;
    };
    let web = tokio::spawn(
        axum::serve(web_listener, web_app)
            .with_graceful_shutdown(stopped(stop_rx.clone()))
            .into_future(),
    );
    let mcp = tokio::spawn(
        axum::serve(mcp_listener, mcp_app).with_graceful_shutdown(stopped(stop_rx)).into_future(),
    );
    wait_for_stop().await;
    println!("entra-demo: stopping");
    let _ = stop_tx.send(true);
    for (name, task) in [("web app", web), ("MCP server", mcp)] {
        match task.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("entra-demo: the {name} failed: {e}"),
            Err(e) => eprintln!("entra-demo: the {name} failed: {e}"),
        }
    }
    drop(plan);
    println!("entra-demo: stopped");
    Ok(())
}

fn print_real(web: &str, mcp_url: &str, redis: &str) {
    let tenant = vars::process(&env::TENANT_ID).unwrap_or_default();
    let client = vars::process(&env::CLIENT_ID).unwrap_or_default();
    println!(
        "entra-demo: running against REAL Microsoft Entra ID (tenant {tenant}, app {client}), \
         not the mock. Ctrl-C stops everything.\n\n  \
         SSO web app   {web}/\n  \
         MCP server    {mcp_url}\n  \
         MCP metadata  {metadata}\n\n\
         Sign in with an account of your tenant. {redis}\n\n\
         Call the MCP server with an access token for api://{client}/access_as_user, for example:\n  \
         curl -s {mcp_url} -H \"Authorization: Bearer $TOKEN\" -H 'Content-Type: application/json' \
         -H 'Accept: application/json, text/event-stream' -d '{}'\n",
        mcp::WHOAMI_CALL,
        metadata = mcp::metadata_url(mcp_url),
    );
}

/// Ctrl-C, or SIGTERM (`kill PID`) on Unix.
async fn wait_for_stop() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
