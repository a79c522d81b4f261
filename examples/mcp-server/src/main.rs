//! `mcp-server [--bind ADDR] [--resource-url URL]`: the example server, with the
//! app registration from the environment (`ENTRA_*`, see docs/configuration.md).

use std::error::Error;

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    tracing_subscriber::fmt().with_env_filter("info").init();
    let mut bind = "127.0.0.1:8000".to_owned();
    let mut resource_url = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--bind", Some(v)) => bind = v,
            ("--resource-url", Some(v)) => resource_url = Some(v),
            _ => return Err("usage: mcp-server [--bind ADDR] [--resource-url URL]".into()),
        }
    }
    let listener = tokio::net::TcpListener::bind(&bind).await?;
    let url = resource_url.unwrap_or_else(|| {
        format!(
            "http://{}/mcp",
            listener.local_addr().unwrap_or_else(|_| ([127, 0, 0, 1], 8000).into())
        )
    });
    let auth = entra_axum::EntraAuth::api_from_env()?;
    let settings = mcp_server::Settings::new(&url).teams(entra_teams::Config::from_env()?);
    let app = mcp_server::router(&auth, settings)?;
    println!("MCP server at {url}");
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
