//! `mock-entra`: runs the mock Entra ID on a local port with seeded users and apps,
//! so that an app in any language can be pointed at it.
//!
//! ```text
//! cargo run -p entra-testkit --bin mock-entra -- [--port N] [--redirect-uri URI]... [--auto-login USER] [--json]
//! ```
//!
//! The port comes from `--port`, else `MOCK_ENTRA_PORT`, else 8400; `0` picks any
//! free port. `--json` prints the settings as one JSON object (for scripts).
//! Runs until Ctrl-C.

use std::net::TcpListener;

use entra_core::{ClientId, TenantId};
use entra_testkit::{MockEntra, TestApp, TestUser};

const TENANT: &str = "5e7e5e7e-0000-4000-8000-000000000001";
const APP: &str = "5e7e5e7e-0000-4000-8000-0000000000a1";
const API: &str = "5e7e5e7e-0000-4000-8000-0000000000a2";
const APP_SECRET: &str = "mock-app-secret";
const GLOBAL_ADMIN_ROLE: &str = "62e90394-69f5-4237-9190-012177145e10";

struct Args {
    port: u16,
    redirect_uris: Vec<String>,
    auto_login: Option<String>,
    json: bool,
}

fn usage() -> ! {
    eprintln!(
        "usage: mock-entra [--port N] [--redirect-uri URI]... [--auto-login USERNAME] [--json]\n\
         port: --port, else MOCK_ENTRA_PORT, else 8400 (0 = any free port)"
    );
    std::process::exit(2)
}

fn parse_args() -> Args {
    let mut port =
        std::env::var("MOCK_ENTRA_PORT").ok().and_then(|p| p.parse().ok()).unwrap_or(8400);
    let mut redirect_uris = Vec::new();
    let mut auto_login = None;
    let mut json = false;
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--port" | "-p" => {
                port = it.next().and_then(|p| p.parse().ok()).unwrap_or_else(|| usage())
            }
            "--redirect-uri" => redirect_uris.push(it.next().unwrap_or_else(|| usage())),
            "--auto-login" => auto_login = Some(it.next().unwrap_or_else(|| usage())),
            "--json" => json = true,
            "--help" | "-h" => usage(),
            _ => usage(),
        }
    }
    if redirect_uris.is_empty() {
        redirect_uris = [
            "http://localhost:3000/callback",
            "http://localhost:3000/auth/callback",
            "http://localhost:8080/callback",
            "http://localhost:8080/login/oauth2/code/azure",
            "http://localhost:5000/signin-oidc",
        ]
        .map(str::to_owned)
        .to_vec();
    }
    Args { port, redirect_uris, auto_login, json }
}

fn parse_guid<T>(s: &str, f: fn(&str) -> Result<T, entra_core::Error>) -> T {
    match f(s) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("mock-entra: bad built-in id {s}: {e}");
            std::process::exit(1)
        }
    }
}

async fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let listener = TcpListener::bind(("127.0.0.1", args.port))?;
    let tid: TenantId = parse_guid(TENANT, TenantId::parse);
    let mock = MockEntra::builder().listener(listener).tenant_id(tid.clone()).start().await?;

    let api = mock.register_app(
        TestApp::new("mock-entra demo API")
            .client_id(parse_guid(API, ClientId::parse))
            .secret("mock-api-secret")
            .expose_scope("access_as_user")
            .app_role("Data.Read"),
    );
    let mut app = TestApp::new("mock-entra demo app")
        .client_id(parse_guid(APP, ClientId::parse))
        .secret(APP_SECRET);
    for uri in &args.redirect_uris {
        app = app.redirect_uri(uri.clone());
        // Sign-out may return to the site root of any redirect URI.
        if let Ok(u) = url::Url::parse(uri) {
            app = app.post_logout_redirect_uri(format!("{}/", u.origin().ascii_serialization()));
        }
    }
    let app = mock.register_app(app);
    mock.grant_consent(&app.client_id, &api.app_id_uri(), &["access_as_user", "Data.Read"]);
    mock.grant_consent(
        &api.client_id,
        "https://graph.microsoft.com",
        &["User.Read", "GroupMember.Read.All"],
    );
    mock.grant_consent(
        &app.client_id,
        "https://graph.microsoft.com",
        &["User.Read", "GroupMember.Read.All"],
    );

    let domain = "contoso.example";
    let users = [
        mock.add_user(
            TestUser::new(format!("alice@{domain}"))
                .oid("5e7e5e7e-0000-4000-8000-00000000a11c")
                .name("Alice Example")
                .groups(["5e7e5e7e-0000-4000-8000-0000000000f1"]),
        ),
        mock.add_user(
            TestUser::new(format!("bob@{domain}"))
                .oid("5e7e5e7e-0000-4000-8000-000000000b0b")
                .name("Bob Example")
                .groups(["5e7e5e7e-0000-4000-8000-0000000000f2"]),
        ),
        mock.add_user(
            TestUser::new(format!("admin@{domain}"))
                .oid("5e7e5e7e-0000-4000-8000-00000000ad31")
                .name("Admin Example")
                .roles(["Admin"])
                .wids([GLOBAL_ADMIN_ROLE])
                .groups([
                    "5e7e5e7e-0000-4000-8000-0000000000f1",
                    "5e7e5e7e-0000-4000-8000-0000000000f2",
                ]),
        ),
        mock.add_user(
            TestUser::new(format!("many-groups@{domain}"))
                .oid("5e7e5e7e-0000-4000-8000-0000000000ff")
                .name("Many Groups")
                .with_random_groups(250),
        ),
    ];
    if let Some(name) = &args.auto_login {
        let Some(user) =
            mock.find_user(name).or_else(|| mock.find_user(&format!("{name}@{domain}")))
        else {
            return Err(format!("no seeded user named {name}").into());
        };
        mock.set_auto_login(Some(&user));
    }

    let authority = mock.authority();
    if args.json {
        let settings = serde_json::json!({
            "uri": mock.uri(),
            "authority": authority.to_string(),
            "discovery": authority.v2_discovery_url(),
            "tenant_id": tid,
            "graph": mock.cloud().graph_base(),
            "client_id": app.client_id,
            "client_secret": APP_SECRET,
            "redirect_uris": args.redirect_uris,
            "api": {"client_id": api.client_id, "app_id_uri": api.app_id_uri(), "client_secret": "mock-api-secret"},
            "users": users.iter().map(|u| serde_json::json!({
                "username": u.username, "oid": u.oid, "groups": u.groups.len()
            })).collect::<Vec<_>>(),
        });
        println!("{settings}");
        tokio::signal::ctrl_c().await?;
        return Ok(());
    }
    println!("mock Entra ID listening on {}", mock.uri());
    println!();
    println!("authority:        {authority}");
    println!("v2 discovery:     {}", authority.v2_discovery_url());
    println!(
        "multi-tenant:     {}/organizations (issuer {}/{{tenantid}}/v2.0)",
        mock.uri(),
        mock.uri()
    );
    println!("Microsoft Graph:  {}/v1.0", mock.cloud().graph_base());
    println!("tenant id:        {tid}");
    println!();
    println!("app (web client): client id {}  secret {APP_SECRET}", app.client_id);
    for uri in &args.redirect_uris {
        println!("  redirect URI:   {uri}");
    }
    println!(
        "API:              client id {}  App ID URI {}  scope {}/access_as_user",
        api.client_id,
        api.app_id_uri(),
        api.app_id_uri()
    );
    println!("                  secret mock-api-secret (OBO to Graph is consented)");
    println!();
    println!("users (sign in by picking one on the page, or pass login_hint):");
    for u in &users {
        println!("  {:<32} oid {}  groups {}", u.username, u.oid, u.groups.len());
    }
    println!();
    println!("# environment for an app under test:");
    println!("export ENTRA_AUTHORITY={authority}");
    println!("export ENTRA_TENANT_ID={tid}");
    println!("export ENTRA_CLIENT_ID={}", app.client_id);
    println!("export ENTRA_CLIENT_SECRET={APP_SECRET}");
    println!();
    println!("press Ctrl-C to stop");
    tokio::signal::ctrl_c().await?;
    println!("stopping");
    Ok(())
}

fn main() {
    let args = parse_args();
    let runtime =
        match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
            Ok(r) => r,
            Err(e) => {
                eprintln!("mock-entra: cannot start the runtime: {e}");
                std::process::exit(1)
            }
        };
    if let Err(e) = runtime.block_on(run(args)) {
        eprintln!("mock-entra: {e}");
        std::process::exit(1);
    }
}
