//! `mock-entra serve`: runs the mock with fixed ids, seeded apps and users, and
//! prints what an app needs to use it.

use std::net::TcpListener;
use std::path::PathBuf;

use entra_core::env::{self, EnvVar};
use entra_core::{ClientId, TenantId};
use entra_testkit::{MockEntra, TestUser};
use serde_json::{Value, json};

/// The usage text, with the variable names of the one env table.
pub(crate) fn usage() -> String {
    USAGE.replace("{port_var}", env::MOCK_PORT.name)
}

const USAGE: &str = "\
usage: mock-entra [serve] [OPTIONS]
  --port N               port (else {port_var}, else 8400; 0 = any free port)
  --bind ADDR            address to listen on (default 127.0.0.1; 0.0.0.0 in a container)
  --tls                  serve HTTPS with a CA generated at start (its path is printed)
  --public-base-url URL  the origin published in discovery, issuers and links
                         (behind a proxy, or from a container)
  --config FILE          seed the directory from a JSON or TOML file (.toml)
  --redirect-uri URI     redirect URI of the web app (repeatable; default: common
                         localhost callbacks)
  --auto-login USER      sign this user in without showing the account page
  --state-dir DIR        where the CA and generated certificates are written
                         (default: a new directory under the system temp dir)
  --json                 print the settings as one JSON line (for scripts)";

const TENANT: &str = "5e7e5e7e-0000-4000-8000-000000000001";
const APP: &str = "5e7e5e7e-0000-4000-8000-0000000000a1";
const API: &str = "5e7e5e7e-0000-4000-8000-0000000000a2";
const PUBLIC: &str = "5e7e5e7e-0000-4000-8000-0000000000a3";
const DOMAIN: &str = "contoso.example";
const GLOBAL_ADMIN_ROLE: &str = "62e90394-69f5-4237-9190-012177145e10";

struct Options {
    port: u16,
    bind: String,
    tls: bool,
    public_base_url: Option<String>,
    config: Option<PathBuf>,
    redirect_uris: Vec<String>,
    auto_login: Option<String>,
    state_dir: Option<PathBuf>,
    json: bool,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        port: env::process_env(env::MOCK_PORT.name)
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or(8400),
        bind: "127.0.0.1".into(),
        tls: false,
        public_base_url: None,
        config: None,
        redirect_uris: Vec::new(),
        auto_login: None,
        state_dir: None,
        json: false,
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value =
            || it.next().cloned().ok_or_else(|| format!("{arg} needs a value\n{}", usage()));
        match arg.as_str() {
            "--port" | "-p" => {
                o.port = value()?.parse().map_err(|_| format!("--port: not a port\n{}", usage()))?
            }
            "--bind" => o.bind = value()?,
            "--tls" => o.tls = true,
            "--public-base-url" => o.public_base_url = Some(value()?),
            "--config" => o.config = Some(value()?.into()),
            "--redirect-uri" => o.redirect_uris.push(value()?),
            "--auto-login" => o.auto_login = Some(value()?),
            "--state-dir" => o.state_dir = Some(value()?.into()),
            "--json" => o.json = true,
            other => return Err(format!("unknown option {other}\n{}", usage())),
        }
    }
    if o.redirect_uris.is_empty() {
        o.redirect_uris = [
            "http://localhost:3000/callback",
            "http://localhost:3000/auth/callback",
            "http://localhost:8080/callback",
            "http://localhost:8080/login/oauth2/code/azure",
            "http://localhost:5000/signin-oidc",
        ]
        .map(str::to_owned)
        .to_vec();
    }
    Ok(o)
}

fn id<T>(s: &str, f: fn(&str) -> Result<T, entra_core::Error>) -> Result<T, String> {
    f(s).map_err(|e| format!("bad built-in id {s}: {e}"))
}

/// Registers the fixed directory: three apps, their consents, four users.
fn seed(mock: &MockEntra, o: &Options) -> Vec<TestUser> {
    let mut web = mock.default_client();
    for uri in &o.redirect_uris {
        web = web.redirect_uri(uri.clone());
        // Sign-out may return to the site root of any redirect URI.
        if let Ok(u) = url::Url::parse(uri) {
            web = web.post_logout_redirect_uri(format!("{}/", u.origin().ascii_serialization()));
        }
    }
    let web = mock.register_app(web);
    let api = mock.default_api();
    // The API calls Graph on behalf of its users; the web app may use app roles too.
    mock.grant_consent(
        &api.client_id,
        "https://graph.microsoft.com",
        &["User.Read", "GroupMember.Read.All"],
    );
    mock.grant_consent(&web.client_id, &api.app_id_uri(), &["Data.Read"]);
    let group = |n: u8| format!("5e7e5e7e-0000-4000-8000-0000000000f{n}");
    vec![
        mock.add_user(
            TestUser::new(format!("alice@{DOMAIN}"))
                .oid("5e7e5e7e-0000-4000-8000-00000000a11c")
                .name("Alice Example")
                .groups([group(1)]),
        ),
        mock.add_user(
            TestUser::new(format!("bob@{DOMAIN}"))
                .oid("5e7e5e7e-0000-4000-8000-000000000b0b")
                .name("Bob Example")
                .groups([group(2)]),
        ),
        mock.add_user(
            TestUser::new(format!("admin@{DOMAIN}"))
                .oid("5e7e5e7e-0000-4000-8000-00000000ad31")
                .name("Admin Example")
                .roles(["Admin"])
                .wids([GLOBAL_ADMIN_ROLE])
                .groups([group(1), group(2)]),
        ),
        mock.add_user(
            TestUser::new(format!("many-groups@{DOMAIN}"))
                .oid("5e7e5e7e-0000-4000-8000-0000000000ff")
                .name("Many Groups")
                .with_random_groups(250),
        ),
    ]
}

/// Writes `text` to `dir/name` and returns the path.
fn write(dir: &std::path::Path, name: &str, text: &str) -> Result<String, String> {
    let path = dir.join(name);
    std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(path.display().to_string())
}

pub(crate) async fn run(args: &[String]) -> Result<(), String> {
    let o = parse(args)?;
    let listener = TcpListener::bind((o.bind.as_str(), o.port))
        .map_err(|e| format!("cannot listen on {}:{}: {e}", o.bind, o.port))?;
    let mut builder = MockEntra::builder()
        .listener(listener)
        .tenant_id(id(TENANT, TenantId::parse)?)
        .seeded_client_ids(
            id(APP, ClientId::parse)?,
            id(API, ClientId::parse)?,
            id(PUBLIC, ClientId::parse)?,
        )
        .tls(o.tls);
    if let Some(u) = &o.public_base_url {
        builder = builder.public_base_url(u.clone());
    }
    let mock = builder.start().await.map_err(|e| e.to_string_with_sources())?;
    let users = seed(&mock, &o);

    let dir = match &o.state_dir {
        Some(d) => d.clone(),
        None => std::env::temp_dir().join(format!("mock-entra-{}", std::process::id())),
    };
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let ca_path = match mock.ca_pem() {
        Some(pem) => Some(write(&dir, "ca.pem", pem)?),
        None => None,
    };
    let mut seeded = json!({"apps": [], "users": []});
    if let Some(path) = &o.config {
        let mut added = mock.apply_config(path).map_err(|e| e.to_string_with_sources())?;
        // Generated certificates (with their keys) go to files, not to the screen.
        for app in added["apps"].as_array_mut().into_iter().flatten() {
            let cid = app["client_id"].as_str().unwrap_or_default().to_owned();
            if let Some(cert) = app.get_mut("certificate").filter(|c| c.is_object()) {
                let c = write(
                    &dir,
                    &format!("{cid}.cert.pem"),
                    cert["cert_pem"].as_str().unwrap_or(""),
                )?;
                let k =
                    write(&dir, &format!("{cid}.key.pem"), cert["key_pem"].as_str().unwrap_or(""))?;
                *cert = json!({"cert_file": c, "key_file": k, "x5t_s256": cert["x5t_s256"]});
            }
        }
        seeded = json!({"apps": added["apps"], "users": added["users"]});
    }
    if let Some(name) = &o.auto_login {
        let user = mock
            .find_user(name)
            .or_else(|| mock.find_user(&format!("{name}@{DOMAIN}")))
            .ok_or_else(|| format!("no user named {name}"))?;
        mock.set_auto_login(Some(&user));
    }

    let mut settings = settings(&mock, &o, &users, ca_path.as_deref(), &dir);
    settings["seeded"] = seeded;
    if o.json {
        println!("{settings}");
    } else {
        print_human(&settings, &o);
    }
    wait_for_stop().await;
    if !o.json {
        println!("stopping");
    }
    Ok(())
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

fn settings(
    mock: &MockEntra,
    o: &Options,
    users: &[TestUser],
    ca: Option<&str>,
    dir: &std::path::Path,
) -> Value {
    let web = mock.default_client();
    let api = mock.default_api();
    let public = mock.default_public_client();
    let authority = mock.authority().to_string();
    let tid = mock.tenant_id();
    let secret =
        |a: &entra_testkit::TestApp| a.client_secret().map(|s| s.expose_secret().to_owned());
    let redirect = o.redirect_uris.first().cloned().unwrap_or_default();
    let post_logout = url::Url::parse(&redirect)
        .map(|u| format!("{}/", u.origin().ascii_serialization()))
        .unwrap_or_default();
    let env_web = env_block(&[
        (&env::AUTHORITY, json!(authority)),
        (&env::TENANT_ID, json!(tid)),
        (&env::CLIENT_ID, json!(web.client_id)),
        (&env::CLIENT_SECRET, json!(secret(&web))),
        (&env::REDIRECT_URI, json!(redirect)),
        (&env::POST_LOGOUT_REDIRECT_URI, json!(post_logout)),
        (&env::SCOPES, json!("openid profile email offline_access")),
    ]);
    let env_api = env_block(&[
        (&env::AUTHORITY, json!(authority)),
        (&env::TENANT_ID, json!(tid)),
        (&env::CLIENT_ID, json!(api.client_id)),
        (&env::CLIENT_SECRET, json!(secret(&api))),
        (&env::AUDIENCES, json!(api.app_id_uri())),
        (&env::SCOPES, json!("https://graph.microsoft.com/.default")),
    ]);
    let env_public = env_block(&[
        (&env::AUTHORITY, json!(authority)),
        (&env::TENANT_ID, json!(tid)),
        (&env::CLIENT_ID, json!(public.client_id)),
        (&env::REDIRECT_URI, json!("http://localhost")),
        (&env::SCOPES, json!(api.qualified_scopes().join(" "))),
    ]);
    json!({
        "uri": mock.uri(),
        "local_uri": mock.local_uri(),
        "pid": std::process::id(),
        "authority": authority,
        "discovery": mock.authority().v2_discovery_url(),
        "tenant_id": tid,
        "graph": mock.cloud().graph_base(),
        "ca_file": ca,
        "state_dir": dir.display().to_string(),
        "control": format!("{}/_mock", mock.uri()),
        "web_app": {"client_id": web.client_id, "client_secret": secret(&web), "redirect_uris": web.redirect_uris()},
        "api": {"client_id": api.client_id, "client_secret": secret(&api), "app_id_uri": api.app_id_uri(),
                "scopes": api.qualified_scopes()},
        "public_client": {"client_id": public.client_id, "redirect_uris": public.redirect_uris()},
        "users": users.iter().map(|u| json!({
            "username": u.username, "oid": u.oid, "groups": u.groups.len(), "login_hint": u.login_hint(),
        })).collect::<Vec<_>>(),
        "env": {"web_app": env_web, "api": env_api, "public_client": env_public},
    })
}

/// The order in which env blocks list their variables (names from the one env
/// table of `entra_core::env`).
const ENV_ORDER: [&EnvVar; 8] = [
    &env::AUTHORITY,
    &env::TENANT_ID,
    &env::CLIENT_ID,
    &env::CLIENT_SECRET,
    &env::REDIRECT_URI,
    &env::POST_LOGOUT_REDIRECT_URI,
    &env::AUDIENCES,
    &env::SCOPES,
];

/// An env block: each variable's canonical name and its value.
fn env_block(pairs: &[(&EnvVar, Value)]) -> Value {
    Value::Object(pairs.iter().map(|(var, value)| (var.name.to_owned(), value.clone())).collect())
}

fn print_env(title: &str, env: &Value, note: Option<String>) {
    println!("# {title}");
    for k in ENV_ORDER.map(|var| var.name) {
        let Some(v) = env.get(k) else { continue };
        let v = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
        if v.contains(' ') {
            println!("export {k}=\"{v}\"");
        } else {
            println!("export {k}={v}");
        }
    }
    if let Some(n) = note {
        println!("# {n}");
    }
    println!();
}

fn print_human(s: &Value, o: &Options) {
    let str_of = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    println!(
        "mock Entra ID listening on {} (published as {})",
        str_of(&s["local_uri"]),
        str_of(&s["uri"])
    );
    println!();
    println!("authority:        {}", str_of(&s["authority"]));
    println!("v2 discovery:     {}", str_of(&s["discovery"]));
    println!(
        "multi-tenant:     {}/organizations (issuer {}/{{tenantid}}/v2.0)",
        str_of(&s["uri"]),
        str_of(&s["uri"])
    );
    println!("Microsoft Graph:  {}/v1.0", str_of(&s["graph"]));
    println!(
        "control API:      {}  (or the mock-entra commands: mock-entra help)",
        str_of(&s["control"])
    );
    if let Some(ca) = s["ca_file"].as_str() {
        println!(
            "TLS CA:           {ca}  (trust it: Python verify=, SSL_CERT_FILE, NODE_EXTRA_CA_CERTS)"
        );
    }
    println!();
    println!("users (pick one on the sign-in page, or pass login_hint=USERNAME):");
    for u in s["users"].as_array().into_iter().flatten() {
        println!(
            "  {:<32} oid {}  groups {}",
            str_of(&u["username"]),
            str_of(&u["oid"]),
            u["groups"]
        );
    }
    println!();
    let env = &s["env"];
    let others = (o.redirect_uris.len() > 1)
        .then(|| format!("also registered: {}", o.redirect_uris[1..].join(" ")));
    print_env(
        "web app: signs users in (confidential client, authorization code + PKCE)",
        &env["web_app"],
        others,
    );
    print_env(
        "API or MCP server: validates access tokens for its App ID URI, calls Graph on behalf of users",
        &env["api"],
        None,
    );
    print_env(
        "public client: CLI or desktop app, no secret, loopback redirect on any port",
        &env["public_client"],
        None,
    );
    println!("# control the mock from another shell");
    println!("export {}={}", env::MOCK_URL.name, str_of(&s["uri"]));
    if let Some(ca) = s["ca_file"].as_str() {
        println!("export {}={ca}", env::MOCK_CA.name);
    }
    println!("# for example: TOKEN=$(mock-entra mint --user alice)");
    println!();
    println!("press Ctrl-C to stop");
}
