//! The control commands: each one is a call to the control API of a running mock,
//! and each `--field value` a field of its JSON body.

use entra_core::env;
use serde_json::{Map, Value, json};

/// The usage text, with the variable names of the one env table.
pub(crate) fn usage() -> String {
    USAGE.replace("{url_var}", env::MOCK_URL.name).replace("{ca_var}", env::MOCK_CA.name)
}

const USAGE: &str = "\
usage: mock-entra COMMAND [--url URL] [--ca FILE] [--FIELD VALUE]... [--json '{...}']
  The mock is found at --url, else {url_var}, else http://127.0.0.1:8400;
  for HTTPS its CA is --ca, else {ca_var}. Each --field-name value becomes
  the JSON field field_name of the request (see docs/testing-with-mock-entra.md).
commands (control API path in brackets):
  settings                      where the mock is, its apps and users   [GET /_mock]
  mint --user U [--kind access|id|app|graph|custom] [--api A] [--client C]
       [--scope S]... [--claim NAME=JSON]... [--without NAME]... [--expired]
       [--tenant T] [--version 1|2] [--nonce N] [--print-claims]        [POST /_mock/tokens]
  add-tenant [--tenant-id GUID] [--domain D]...                         [POST /_mock/tenants]
  add-user --username U [--name N] [--group G]... [--random-groups N]
       [--role R]... [--tenant T]                                       [POST /_mock/users]
  users                                                                 [GET /_mock/users]
  add-groups --user U [--group G]... [--count N]                        [POST /_mock/groups]
  add-app --name N [--secret S] [--certificate] [--public-client]
       [--redirect-uri URI]... [--scope S]... [--app-role R]...
       [--front-channel-logout-url URL] [--token-version 1|2]           [POST /_mock/apps]
  apps                                                                  [GET /_mock/apps]
  grant-consent --client-id C --resource R --scope S...                 [POST /_mock/consents]
  revoke-consent --client-id C --resource R                             [DELETE /_mock/consents]
  seed --file FILE.json|FILE.toml                                       [POST /_mock/seed]
  fault [--target token|graph] [--count N] [--user U]
       (--aadsts CODE [--claims JSON] [--error E] [--suberror S] [--description D]
        | --retry-after SECS | --status 5xx) [--delay-ms MS]            [POST /_mock/faults]
  clear-faults                                                          [DELETE /_mock/faults]
  rotate-keys                                                           [POST /_mock/keys/rotate]
  retire-key --kid KID                                                  [POST /_mock/keys/retire]
  jwks-outage (--status N | --delay-ms MS | --garbage)                  [PUT /_mock/keys/fault]
  jwks-restore                                                          [DELETE /_mock/keys/fault]
  discovery-outage / discovery-restore                                  [PUT|DELETE /_mock/discovery/fault]
  requests [--path-suffix /token]                                       [GET /_mock/requests]
  clear-requests                                                        [DELETE /_mock/requests]
  auto-login [--user U]   (no user: show the account page again)        [PUT /_mock/auto-login]
  logout (--user U | --sid SID) [--client-id C]                         [POST /_mock/logout]
  revoke-refresh-tokens --user U                                        [POST /_mock/revoke-refresh-tokens]
  graph-page-size [--size N]                                            [PUT /_mock/graph/page-size]";

/// (command, method, path)
const COMMANDS: [(&str, &str, &str); 25] = [
    ("settings", "GET", ""),
    ("mint", "POST", "/tokens"),
    ("add-tenant", "POST", "/tenants"),
    ("add-user", "POST", "/users"),
    ("users", "GET", "/users"),
    ("add-groups", "POST", "/groups"),
    ("add-app", "POST", "/apps"),
    ("apps", "GET", "/apps"),
    ("grant-consent", "POST", "/consents"),
    ("revoke-consent", "DELETE", "/consents"),
    ("seed", "POST", "/seed"),
    ("fault", "POST", "/faults"),
    ("clear-faults", "DELETE", "/faults"),
    ("rotate-keys", "POST", "/keys/rotate"),
    ("retire-key", "POST", "/keys/retire"),
    ("jwks-outage", "PUT", "/keys/fault"),
    ("jwks-restore", "DELETE", "/keys/fault"),
    ("discovery-outage", "PUT", "/discovery/fault"),
    ("discovery-restore", "DELETE", "/discovery/fault"),
    ("requests", "GET", "/requests"),
    ("clear-requests", "DELETE", "/requests"),
    ("auto-login", "PUT", "/auto-login"),
    ("logout", "POST", "/logout"),
    ("revoke-refresh-tokens", "POST", "/revoke-refresh-tokens"),
    ("graph-page-size", "PUT", "/graph/page-size"),
];

/// Fields that hold lists; a singular flag adds one item.
const LISTS: [(&str, &str); 10] = [
    ("scope", "scopes"),
    ("group", "groups"),
    ("role", "roles"),
    ("wid", "wids"),
    ("redirect_uri", "redirect_uris"),
    ("post_logout_redirect_uri", "post_logout_redirect_uris"),
    ("app_role", "app_roles"),
    ("domain", "domains"),
    ("without", "without"),
    ("tenant_domain", "domains"),
];

/// Flags without a value.
const SWITCHES: [&str; 7] = [
    "expired",
    "not_yet_valid",
    "certificate",
    "public_client",
    "garbage",
    "unpublished_key",
    "overage",
];

/// Fields that hold numbers.
const NUMBERS: [&str; 12] = [
    "count",
    "random_groups",
    "lifetime_secs",
    "aadsts",
    "http_status",
    "retry_after",
    "status",
    "delay_ms",
    "version",
    "token_version",
    "size",
    "oversized",
];

/// Turns `--field value` pairs into the JSON body (and the query for GETs).
fn body_of(args: &[String]) -> Result<(Map<String, Value>, Options), String> {
    let mut body = Map::new();
    let mut opts = Options::default();
    let mut it = args.iter().peekable();
    while let Some(arg) = it.next() {
        let Some(flag) = arg.strip_prefix("--") else {
            return Err(format!("unexpected argument {arg:?}: fields are --name value"));
        };
        let name = flag.replace('-', "_");
        let mut value = || it.next().cloned().ok_or_else(|| format!("--{flag} needs a value"));
        match name.as_str() {
            "url" => opts.url = Some(value()?),
            "ca" => opts.ca = Some(value()?),
            "print_claims" => opts.print_claims = true,
            "file" => {
                let path = value()?;
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| format!("cannot read {path}: {e}"))?;
                let v: Value = if path.ends_with(".toml") {
                    toml::from_str(&text).map_err(|e| format!("{path}: {e}"))?
                } else {
                    serde_json::from_str(&text).map_err(|e| format!("{path}: {e}"))?
                };
                merge(&mut body, v, "--file")?;
            }
            "json" => {
                let v: Value =
                    serde_json::from_str(&value()?).map_err(|e| format!("--json: {e}"))?;
                merge(&mut body, v, "--json")?;
            }
            "claim" => {
                let raw = value()?;
                let (k, v) = raw
                    .split_once('=')
                    .ok_or_else(|| format!("--claim {raw:?}: use NAME=VALUE"))?;
                let v = serde_json::from_str(v).unwrap_or_else(|_| json!(v));
                let claims = body.entry("claims").or_insert_with(|| json!({}));
                if let Some(m) = claims.as_object_mut() {
                    m.insert(k.to_owned(), v);
                }
            }
            "path_suffix" => opts.query.push(("path_suffix".into(), value()?)),
            n if SWITCHES.contains(&n) => {
                body.insert(n.to_owned(), json!(true));
            }
            n => {
                let raw = value()?;
                if let Some((_, list)) = LISTS.iter().find(|(one, many)| n == *one || n == *many) {
                    let entry = body.entry(*list).or_insert_with(|| json!([]));
                    if let Some(a) = entry.as_array_mut() {
                        a.push(json!(raw));
                    }
                } else if NUMBERS.contains(&n) {
                    let v: u64 = raw.parse().map_err(|_| format!("--{flag}: not a number"))?;
                    body.insert(n.to_owned(), json!(v));
                } else if n == "claims" {
                    body.insert(n.to_owned(), serde_json::from_str(&raw).unwrap_or(json!(raw)));
                } else {
                    body.insert(n.to_owned(), json!(raw));
                }
            }
        }
    }
    Ok((body, opts))
}

fn merge(body: &mut Map<String, Value>, v: Value, what: &str) -> Result<(), String> {
    match v {
        Value::Object(m) => {
            body.extend(m);
            Ok(())
        }
        _ => Err(format!("{what}: expected a JSON object")),
    }
}

#[derive(Default)]
struct Options {
    url: Option<String>,
    ca: Option<String>,
    print_claims: bool,
    query: Vec<(String, String)>,
}

pub(crate) async fn run(command: &str, args: &[String]) -> Result<(), String> {
    let Some((_, method, path)) = COMMANDS.iter().find(|(c, _, _)| *c == command) else {
        return Err(format!("unknown command {command:?}: see mock-entra help"));
    };
    let (body, opts) = body_of(args)?;
    let base = opts
        .url
        .or_else(|| env::process_env(env::MOCK_URL.name))
        .unwrap_or_else(|| "http://127.0.0.1:8400".into());
    let ca = opts.ca.or_else(|| env::process_env(env::MOCK_CA.name)).filter(|c| !c.is_empty());
    let mut client = reqwest::Client::builder().timeout(std::time::Duration::from_secs(60));
    if let Some(path) = &ca {
        let pem = std::fs::read(path).map_err(|e| format!("cannot read the CA {path}: {e}"))?;
        let cert = reqwest::Certificate::from_pem(&pem).map_err(|e| format!("{path}: {e}"))?;
        client = client.tls_certs_only([cert]);
    } else if base.starts_with("https:") {
        return Err(format!(
            "the mock serves HTTPS: give its CA with --ca or {}",
            env::MOCK_CA.name
        ));
    }
    let client = client.build().map_err(|e| e.to_string())?;
    let url = format!("{}/_mock{path}", base.trim_end_matches('/'));
    let method = reqwest::Method::from_bytes(method.as_bytes()).map_err(|e| e.to_string())?;
    let mut req = client.request(method.clone(), &url).query(&opts.query);
    if method != reqwest::Method::GET {
        req = req.json(&Value::Object(body));
    }
    let resp = req.send().await.map_err(|e| format!("cannot reach the mock at {url}: {e}"))?;
    let status = resp.status();
    let text = resp.text().await.map_err(|e| e.to_string())?;
    if !status.is_success() {
        return Err(format!("{status}: {text}"));
    }
    let v: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    match (command, v.get("token")) {
        ("mint", Some(Value::String(t))) if !opts.print_claims => println!("{t}"),
        _ => println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default()),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn flags_become_typed_json_fields() {
        let (b, o) = body_of(&args(&[
            "--user",
            "alice",
            "--scope",
            "a",
            "--scope",
            "b",
            "--claim",
            "acrs=[\"c1\"]",
            "--claim",
            "x=plain",
            "--expired",
            "--count",
            "3",
            "--url",
            "http://h",
            "--json",
            "{\"kind\":\"id\"}",
        ]))
        .unwrap();
        assert_eq!(b["user"], "alice");
        assert_eq!(b["scopes"], json!(["a", "b"]));
        assert_eq!(b["claims"], json!({"acrs": ["c1"], "x": "plain"}));
        assert_eq!(b["expired"], true);
        assert_eq!(b["count"], 3);
        assert_eq!(b["kind"], "id");
        assert_eq!(o.url.as_deref(), Some("http://h"));
        assert!(body_of(&args(&["--count", "many"])).is_err());
        assert!(body_of(&args(&["loose"])).is_err());
        assert!(body_of(&args(&["--user"])).is_err());
    }
}
