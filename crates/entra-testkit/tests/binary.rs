//! The `mock-entra` binary driven from another process: its printed settings, the
//! control API over HTTP, the control commands of the binary, and its memory.

use std::io::BufRead as _;
use std::process::{Child, Command, Stdio};

use serde_json::{Value, json};

use crate::common::{decode_with_jwks, peek};

/// A `mock-entra serve` child process, killed on drop.
struct Served {
    child: Child,
    settings: Value,
    client: reqwest::Client,
    _dir: TempDir,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A directory removed on drop.
struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_mock-entra")
}

/// Starts the binary on a free port and reads its settings line.
fn serve(extra: &[&str]) -> Served {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("mock-entra-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut child = Command::new(bin())
        .args(["serve", "--port", "0", "--json", "--state-dir"])
        .arg(&dir)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let settings: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line:?}"));
    let mut client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none());
    if let Some(ca) = settings["ca_file"].as_str() {
        let pem = std::fs::read(ca).unwrap();
        client = client.tls_certs_only([reqwest::Certificate::from_pem(&pem).unwrap()]);
    }
    Served { child, settings, client: client.build().unwrap(), _dir: TempDir(dir) }
}

impl Served {
    fn s(&self, key: &str) -> String {
        self.settings[key].as_str().unwrap_or_default().to_owned()
    }

    async fn control(&self, method: &str, path: &str, body: Value) -> (u16, Value) {
        let url = format!("{}{path}", self.s("control"));
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let r = self.client.request(method, url).json(&body).send().await.unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    async fn ok(&self, method: &str, path: &str, body: Value) -> Value {
        let (status, v) = self.control(method, path, body).await;
        assert_eq!(status, 200, "{method} {path}: {v}");
        v
    }

    async fn token(&self, form: &[(&str, &str)]) -> reqwest::Response {
        let url = format!("{}/oauth2/v2.0/token", self.s("authority"));
        self.client.post(url).form(form).send().await.unwrap()
    }

    /// Runs a control command of the binary against this mock.
    fn command(&self, args: &[&str]) -> (bool, String, String) {
        let out = Command::new(bin())
            .args(args)
            .env("MOCK_ENTRA_URL", self.s("uri"))
            .env("MOCK_ENTRA_CA", self.settings["ca_file"].as_str().unwrap_or(""))
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}

#[tokio::test]
async fn settings_give_complete_env_blocks() {
    let m = serve(&[]);
    let env = &m.settings["env"];
    let web = &env["web_app"];
    for k in [
        "ENTRA_AUTHORITY",
        "ENTRA_TENANT_ID",
        "ENTRA_CLIENT_ID",
        "ENTRA_CLIENT_SECRET",
        "ENTRA_REDIRECT_URI",
        "ENTRA_POST_LOGOUT_REDIRECT_URI",
        "ENTRA_SCOPES",
    ] {
        assert!(web[k].as_str().is_some_and(|v| !v.is_empty()), "web app lacks {k}: {web}");
    }
    assert_eq!(web["ENTRA_REDIRECT_URI"], "http://localhost:3000/callback");
    let api = &env["api"];
    assert_eq!(api["ENTRA_AUDIENCES"], "api://5e7e5e7e-0000-4000-8000-0000000000a2");
    assert_eq!(api["ENTRA_SCOPES"], "https://graph.microsoft.com/.default");
    let public = &env["public_client"];
    assert!(public.get("ENTRA_CLIENT_SECRET").is_none());
    assert_eq!(public["ENTRA_REDIRECT_URI"], "http://localhost");
    // The authority in the env blocks serves discovery.
    let doc: Value = m
        .client
        .get(format!(
            "{}/v2.0/.well-known/openid-configuration",
            web["ENTRA_AUTHORITY"].as_str().unwrap()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["issuer"], format!("{}/v2.0", web["ENTRA_AUTHORITY"].as_str().unwrap()));

    // The env block's web app completes a sign-in with the printed values.
    let (ok, stdout, _) = m.command(&["auto-login", "--user", "alice"]);
    assert!(ok, "{stdout}");
    let mut authorize =
        url::Url::parse(&format!("{}/oauth2/v2.0/authorize", m.s("authority"))).unwrap();
    authorize
        .query_pairs_mut()
        .append_pair("client_id", web["ENTRA_CLIENT_ID"].as_str().unwrap())
        .append_pair("response_type", "code")
        .append_pair("redirect_uri", web["ENTRA_REDIRECT_URI"].as_str().unwrap())
        .append_pair("scope", web["ENTRA_SCOPES"].as_str().unwrap());
    let r = m.client.get(authorize.as_str()).send().await.unwrap();
    let location = url::Url::parse(r.headers()["location"].to_str().unwrap()).unwrap();
    let code = location.query_pairs().find(|(k, _)| k == "code").unwrap().1.into_owned();
    let r = m
        .token(&[
            ("grant_type", "authorization_code"),
            ("client_id", web["ENTRA_CLIENT_ID"].as_str().unwrap()),
            ("client_secret", web["ENTRA_CLIENT_SECRET"].as_str().unwrap()),
            ("code", &code),
            ("redirect_uri", web["ENTRA_REDIRECT_URI"].as_str().unwrap()),
        ])
        .await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        peek(body["id_token"].as_str().unwrap())["preferred_username"],
        "alice@contoso.example"
    );
    assert!(body["refresh_token"].is_string());
}

#[tokio::test]
async fn config_file_seeds_the_directory() {
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("seed-{}.toml", uuid::Uuid::new_v4()));
    std::fs::write(
        &path,
        r#"
        auto_login = "carol"
        [[tenants]]
        domains = ["fabrikam.example"]
        [[apps]]
        name = "orders-api"
        certificate = true
        scopes = ["access_as_user"]
        [[users]]
        username = "carol@fabrikam.example"
        tenant = "fabrikam.example"
        random_groups = 201
        [[consents]]
        client_id = "orders-api"
        resource = "https://graph.microsoft.com"
        scopes = ["User.Read"]
        "#,
    )
    .unwrap();
    let m = serve(&["--config", path.to_str().unwrap()]);
    let _ = std::fs::remove_file(&path);
    let app = &m.settings["seeded"]["apps"][0];
    let key = std::fs::read_to_string(app["certificate"]["key_file"].as_str().unwrap()).unwrap();
    assert!(key.contains("PRIVATE KEY"));
    assert!(!m.settings.to_string().contains("PRIVATE KEY"), "keys stay in files");
    let users = m.ok("GET", "/users", Value::Null).await;
    let carol =
        users.as_array().unwrap().iter().find(|u| u["username"] == "carol@fabrikam.example");
    assert_eq!(carol.unwrap()["groups"].as_array().unwrap().len(), 201);
    let token = m.ok("POST", "/tokens", json!({"user": "carol", "api": "orders-api"})).await;
    assert_eq!(token["claims"]["aud"], app["client_id"]);
    assert!(token["claims"].get("groups").is_none(), "201 groups: overage");

    // A seed file with a mistake stops the binary with the reason.
    let bad = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("seed-{}.json", uuid::Uuid::new_v4()));
    std::fs::write(&bad, r#"{"users": [{"username": "x@y", "colour": "red"}]}"#).unwrap();
    let out = Command::new(bin())
        .args(["serve", "--port", "0", "--config", bad.to_str().unwrap()])
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&bad);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("colour"));
}

#[tokio::test]
async fn control_api_mints_tokens_with_any_claims() {
    let m = serve(&["--tls"]);
    assert!(m.s("uri").starts_with("https://127.0.0.1:"));
    let api = m.settings["api"]["client_id"].as_str().unwrap().to_owned();
    let minted = m
        .ok(
            "POST",
            "/tokens",
            json!({"user": "alice", "claims": {"acrs": ["c1"], "xms_cc": ["cp1"]}, "without": ["name"]}),
        )
        .await;
    let token = minted["token"].as_str().unwrap();
    let jwks_url = format!("{}/discovery/v2.0/keys", m.s("authority"));
    let keys: Value = m.client.get(&jwks_url).send().await.unwrap().json().await.unwrap();
    let kid = jsonwebtoken::decode_header(token).unwrap().kid.unwrap();
    let jwk = keys["keys"].as_array().unwrap().iter().find(|k| k["kid"] == kid.as_str()).unwrap();
    let key = jsonwebtoken::DecodingKey::from_rsa_components(
        jwk["n"].as_str().unwrap(),
        jwk["e"].as_str().unwrap(),
    )
    .unwrap();
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    v.set_audience(&[&api]);
    v.set_issuer(&[format!("{}/v2.0", m.s("authority"))]);
    let claims = jsonwebtoken::decode::<Value>(token, &key, &v).unwrap().claims;
    assert_eq!(claims["acrs"], json!(["c1"]));
    assert!(claims.get("name").is_none());
    assert_eq!(claims["preferred_username"], "alice@contoso.example");
    assert_eq!(minted["claims"]["oid"], claims["oid"]);

    // ID, app-only and Graph tokens.
    let id = m.ok("POST", "/tokens", json!({"kind": "id", "user": "bob", "nonce": "n1"})).await;
    assert_eq!(id["claims"]["nonce"], "n1");
    assert!(id["claims"]["sid"].is_string() && id["claims"]["login_hint"].is_string());
    let app = m.ok("POST", "/tokens", json!({"kind": "app"})).await;
    assert_eq!(app["claims"]["idtyp"], "app");
    assert_eq!(app["claims"]["roles"], json!(["Data.Read"]));
    let graph = m.ok("POST", "/tokens", json!({"kind": "graph", "user": "alice"})).await;
    assert_eq!(graph["claims"]["aud"], "https://graph.microsoft.com");
    let expired = m.ok("POST", "/tokens", json!({"user": "alice", "expired": true})).await;
    assert!(expired["claims"]["exp"].as_i64().unwrap() < claims["iat"].as_i64().unwrap());

    // Refusals name what is wrong.
    let (status, e) = m.control("POST", "/tokens", json!({"user": "nobody"})).await;
    assert_eq!(status, 400);
    assert!(e["error_description"].as_str().unwrap().contains("nobody"), "{e}");
    let (status, _) = m.control("POST", "/tokens", json!({"user": "alice", "colour": "red"})).await;
    assert_eq!(status, 400);
    let (status, _) = m.control("POST", "/tokens", json!({"kind": "access"})).await;
    assert_eq!(status, 400, "an access token needs a user");
    let (status, _) = m.control("GET", "/nothing-here", Value::Null).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn control_api_builds_a_directory_and_injects_faults() {
    let served = serve(&[]);
    let m = &served;
    let tenant = m.ok("POST", "/tenants", json!({"domains": ["fabrikam.example"]})).await;
    let tid = tenant["tenant_id"].as_str().unwrap().to_owned();
    let carol = m
        .ok(
            "POST",
            "/users",
            json!({"username": "carol@fabrikam.example", "tenant": "fabrikam.example", "groups": ["g1"]}),
        )
        .await;
    assert_eq!(carol["tenant_id"], tid.as_str());
    let carol =
        m.ok("POST", "/groups", json!({"user": "carol", "groups": ["g2"], "count": 3})).await;
    assert_eq!(carol["groups"].as_array().unwrap().len(), 5);
    let app = m
        .ok(
            "POST",
            "/apps",
            json!({"name": "mcp-server", "secret": "s3", "scopes": ["access_as_user"]}),
        )
        .await;
    let app_id = app["client_id"].as_str().unwrap().to_owned();
    let obo = |assertion: String| {
        let app_id = app_id.clone();
        async move {
            m.token(&[
                ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                ("client_id", &app_id),
                ("client_secret", "s3"),
                ("assertion", &assertion),
                ("scope", "https://graph.microsoft.com/.default openid offline_access"),
                ("requested_token_use", "on_behalf_of"),
                ("client_info", "1"),
            ])
            .await
        }
    };
    let mint = || async {
        m.ok("POST", "/tokens", json!({"user": "alice", "api": "mcp-server"})).await["token"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    // No consent yet: AADSTS65001.
    let r = obo(mint().await).await;
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["error_codes"][0], 65001);
    m.ok(
        "POST",
        "/consents",
        json!({"client_id": app_id, "resource": "https://graph.microsoft.com", "scopes": ["User.Read"]}),
    )
    .await;
    let r = obo(mint().await).await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body["scope"],
        "User.Read https://graph.microsoft.com/.default offline_access openid"
    );
    assert!(body["id_token"].is_string() && body["client_info"].is_string());
    assert!(body["refresh_token"].is_string());
    assert_eq!(body["ext_expires_in"], body["expires_in"]);

    // AADSTS error with a claims challenge, then throttling, then an outage.
    let challenge = json!({"access_token": {"acrs": {"essential": true, "value": "c1"}}});
    m.ok("POST", "/faults", json!({"aadsts": 50076, "claims": challenge})).await;
    m.ok("POST", "/faults", json!({"retry_after": 7})).await;
    m.ok("POST", "/faults", json!({"status": 503, "delay_ms": 20})).await;
    let r = obo(mint().await).await;
    assert_eq!(r.status(), 400);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["suberror"], "basic_action");
    assert_eq!(serde_json::from_str::<Value>(e["claims"].as_str().unwrap()).unwrap(), challenge);
    let r = obo(mint().await).await;
    assert_eq!((r.status().as_u16(), r.headers()["retry-after"].to_str().unwrap()), (429, "7"));
    assert_eq!(obo(mint().await).await.status(), 503);
    assert_eq!(obo(mint().await).await.status(), 200);
    // A fault for one user only, until cleared.
    m.ok("POST", "/faults", json!({"user": "alice", "aadsts": 50105})).await;
    assert_eq!(obo(mint().await).await.status(), 400);
    m.ok("DELETE", "/faults", Value::Null).await;
    assert_eq!(obo(mint().await).await.status(), 200);
    let (status, _) = m.control("POST", "/faults", json!({"aadsts": 1, "status": 500})).await;
    assert_eq!(status, 400, "one kind of fault at a time");

    // The record holds the token requests, not the control calls.
    let rec = m.ok("GET", "/requests", Value::Null).await;
    let reqs = rec["requests"].as_array().unwrap();
    assert!(!reqs.is_empty());
    assert!(reqs.iter().all(|r| !r["path"].as_str().unwrap().starts_with("/_mock")));
    assert!(reqs.iter().any(|r| r["form"].to_string().contains("on_behalf_of")));
    m.ok("DELETE", "/requests", Value::Null).await;
    assert!(m.ok("GET", "/requests", Value::Null).await["requests"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn control_api_rotates_keys_and_breaks_jwks() {
    let m = serve(&[]);
    let jwks_url = format!("{}/discovery/v2.0/keys", m.s("authority"));
    let kids = |v: &Value| -> Vec<String> {
        v["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap().to_owned())
            .collect()
    };
    let before: Value = m.client.get(&jwks_url).send().await.unwrap().json().await.unwrap();
    let old = kids(&before)[0].clone();
    let rotated = m.ok("POST", "/keys/rotate", Value::Null).await;
    let new = rotated["kid"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    let token = m.ok("POST", "/tokens", json!({"user": "alice"})).await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(jsonwebtoken::decode_header(&token).unwrap().kid.as_deref(), Some(new.as_str()));
    let after: Value = m.client.get(&jwks_url).send().await.unwrap().json().await.unwrap();
    assert_eq!(kids(&after), vec![old.clone(), new.clone()]);
    assert_eq!(m.ok("POST", "/keys/retire", json!({"kid": old})).await["retired"], true);
    let api = m.settings["api"]["client_id"].as_str().unwrap();
    let iss = format!("{}/v2.0", m.s("authority"));
    assert!(decode_with_jwks(&token, &jwks_url, api, &iss).await.is_ok());

    m.ok("PUT", "/keys/fault", json!({"status": 503})).await;
    assert_eq!(m.client.get(&jwks_url).send().await.unwrap().status(), 503);
    m.ok("DELETE", "/keys/fault", Value::Null).await;
    assert_eq!(m.client.get(&jwks_url).send().await.unwrap().status(), 200);
    m.ok("PUT", "/discovery/fault", json!({"garbage": true})).await;
    let doc = m
        .client
        .get(format!("{}/v2.0/.well-known/openid-configuration", m.s("authority")))
        .send()
        .await
        .unwrap();
    assert!(doc.json::<Value>().await.is_err());
    let (status, _) =
        m.control("PUT", "/keys/fault", json!({"status": 503, "garbage": true})).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn cli_commands_drive_a_running_mock() {
    let m = serve(&["--tls"]);
    let (ok, token, err) = m.command(&["mint", "--user", "alice", "--claim", "acrs=[\"c1\"]"]);
    assert!(ok, "{err}");
    let claims = peek(token.trim());
    assert_eq!(claims["acrs"], json!(["c1"]));
    let (ok, out, err) = m.command(&[
        "add-user",
        "--username",
        "dave@contoso.example",
        "--group",
        "g1",
        "--group",
        "g2",
    ]);
    assert!(ok, "{err}");
    assert_eq!(serde_json::from_str::<Value>(&out).unwrap()["groups"], json!(["g1", "g2"]));
    let (ok, out, err) = m.command(&[
        "add-app",
        "--name",
        "cli-app",
        "--public-client",
        "--redirect-uri",
        "http://localhost",
    ]);
    assert!(ok, "{err}");
    assert_eq!(serde_json::from_str::<Value>(&out).unwrap()["public_client"], true);
    let (ok, _, err) = m.command(&["fault", "--status", "503", "--count", "2"]);
    assert!(ok, "{err}");
    let form = [("grant_type", "client_credentials")];
    assert_eq!(m.token(&form).await.status(), 503);
    assert_eq!(m.token(&form).await.status(), 503);
    assert_eq!(m.token(&form).await.status(), 400, "faults used up: a plain refusal");
    let (ok, out, _) = m.command(&["requests", "--path-suffix", "/token"]);
    assert!(ok);
    assert_eq!(
        serde_json::from_str::<Value>(&out).unwrap()["requests"].as_array().unwrap().len(),
        3
    );
    // Mistakes are reported with the reason and a failing exit status.
    let (ok, _, err) = m.command(&["mint", "--user", "nobody"]);
    assert!(!ok && err.contains("nobody"), "{err}");
    let (ok, _, err) = m.command(&["no-such-command"]);
    assert!(!ok && err.contains("unknown command"), "{err}");
    let out = Command::new(bin())
        .args(["settings", "--url", &m.s("uri")])
        .env_remove("MOCK_ENTRA_CA")
        .output()
        .unwrap();
    assert!(!out.status.success(), "HTTPS without the CA is refused");
}

/// Resident memory of a process, in bytes (Linux).
#[cfg(target_os = "linux")]
fn rss(pid: u32) -> usize {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kb: usize = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap();
    kb * 1024
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn large_bodies_get_413_and_memory_stays_bounded() {
    let m = serve(&[]);
    let url = format!("{}/oauth2/v2.0/token", m.s("authority"));
    let big = vec![b'a'; 5 << 20];
    // Warm up, then measure.
    let _ = m.client.post(&url).body(big.clone()).send().await.unwrap();
    let before = rss(m.child.id());
    for _ in 0..40 {
        let r = m
            .client
            .post(&url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(big.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 413);
    }
    let after = rss(m.child.id());
    // 200 MB went in; the mock kept none of it.
    assert!(after < before + (32 << 20), "RSS grew from {before} to {after}");
    let rec = m.ok("GET", "/requests", Value::Null).await;
    assert_eq!(rec["requests"].as_array().unwrap().len(), 41);
    assert!(rec["recorded_bytes"].as_u64().unwrap() < 1 << 20);
    assert!(
        rec["requests"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["body_len"] == 5 << 20 && r["body"] == "")
    );
}
