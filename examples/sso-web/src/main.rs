//! `cargo run -p sso-web [ADDRESS]`: the example app on `ADDRESS` (default
//! `127.0.0.1:3000`), configured from the environment.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt().with_env_filter("info").init();
    let auth = match sso_web::auth_from_env().await {
        Ok(auth) => auth,
        Err(e) => {
            eprintln!("sso-web: {}", e.report());
            return ExitCode::FAILURE;
        }
    };
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:3000".into());
    let listener = match tokio::net::TcpListener::bind(&addr).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("sso-web: cannot listen on {addr}: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("sso-web: open http://{addr}/");
    let stop = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    match axum::serve(listener, sso_web::app(&auth)).with_graceful_shutdown(stop).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sso-web: {e}");
            ExitCode::FAILURE
        }
    }
}
