//! `mock-entra`: the mock Entra ID as a server for apps in any language, and a
//! client for its control API.
//!
//! ```text
//! mock-entra [serve] [--port N] [--bind ADDR] [--tls] [--public-base-url URL]
//!            [--config FILE] [--redirect-uri URI]... [--auto-login USER]
//!            [--state-dir DIR] [--json]
//! mock-entra COMMAND [--url URL] [--ca FILE] [--FIELD VALUE]...
//! ```
//!
//! `serve` (the default) runs until Ctrl-C or SIGTERM and prints the settings to
//! give to an app: env blocks for a web app, an API or MCP server and a public
//! client. The other commands call the control API of a running mock (found
//! through `--url` / `MOCK_ENTRA_URL` and, for HTTPS, `--ca` / `MOCK_ENTRA_CA`);
//! `mock-entra help` lists them.

mod ctl;
mod serve;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime =
        match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
            Ok(r) => r,
            Err(e) => {
                eprintln!("mock-entra: cannot start the runtime: {e}");
                std::process::exit(1)
            }
        };
    let result = match args.first().map(String::as_str) {
        None => runtime.block_on(serve::run(&[])),
        Some("serve") => runtime.block_on(serve::run(&args[1..])),
        Some(a) if a.starts_with('-') && a != "-h" && a != "--help" => {
            runtime.block_on(serve::run(&args))
        }
        Some("help" | "-h" | "--help") => {
            println!("{}", serve::usage());
            println!("{}", ctl::usage());
            Ok(())
        }
        Some(command) => runtime.block_on(ctl::run(command, &args[1..])),
    };
    if let Err(e) = result {
        eprintln!("mock-entra: {e}");
        std::process::exit(1);
    }
}
