//! The `entra-demo` binary, started as a process: it answers on the URLs it
//! prints, its `curl` works, it says which Entra it runs against, it keeps
//! sessions in Redis when asked, and SIGTERM stops it cleanly.

use std::collections::BTreeMap;

use reqwest::StatusCode;
use reqwest::header::{LOCATION, SET_COOKIE};

use crate::demo_process::Demo;

/// A cookie-keeping HTTP client that does not follow redirects.
#[derive(Default)]
struct Agent {
    cookies: BTreeMap<String, String>,
}

impl Agent {
    async fn get(&mut self, url: &str) -> reqwest::Response {
        let http =
            reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let mut req = http.get(url).header("accept", "text/html");
        if !self.cookies.is_empty() {
            let jar: Vec<String> = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
            req = req.header("cookie", jar.join("; "));
        }
        let r = req.send().await.unwrap();
        for h in r.headers().get_all(SET_COOKIE) {
            let pair = h.to_str().unwrap().split(';').next().unwrap();
            let (k, v) = pair.split_once('=').unwrap();
            if v.is_empty() || h.to_str().unwrap().contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_owned(), v.to_owned());
            }
        }
        r
    }
}

fn location(r: &reqwest::Response, base: &str) -> String {
    let to = r.headers()[LOCATION].to_str().unwrap();
    if to.starts_with('/') { format!("{base}{to}") } else { to.to_owned() }
}

/// Signs in as `username` the way a person does: the web app's sign-in link,
/// the mock's account page (the link naming the user), the callback.
async fn sign_in(agent: &mut Agent, web: &str, username: &str) -> reqwest::Response {
    let r = agent.get(&format!("{web}/me")).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = agent.get(&location(&r, web)).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let page = agent.get(&location(&r, web)).await.text().await.unwrap();
    let link = page
        .split("<a ")
        .find(|a| a.contains(&format!("&lt;{username}&gt;")))
        .unwrap_or_else(|| panic!("{username} is not on the account page:\n{page}"));
    let href =
        link.split("href=\"").nth(1).unwrap().split('"').next().unwrap().replace("&amp;", "&");
    let r = agent.get(&href).await;
    assert_eq!(r.status(), StatusCode::FOUND);
    agent.get(&location(&r, web)).await
}

/// Runs the printed `curl` line in a shell, as a person pasting it would.
fn run_curl(line: &str) -> String {
    let out = std::process::Command::new("sh").args(["-c", line]).output().expect("sh runs");
    assert!(out.status.success(), "curl failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_demo_answers_on_its_printed_urls_and_its_curl_works() {
    let demo = Demo::start(&[]);
    let out = demo.output();
    assert!(out.contains("running on the embedded mock Entra"), "{out}");
    for user in ["alice@contoso.example", "many-groups@contoso.example", "mallory@fabrikam.example"]
    {
        assert!(out.contains(user), "{out}");
    }
    let http = reqwest::Client::new();

    // The web app: a home page with a sign-in link; a person signs in and sees their page.
    let home = http.get(format!("{}/", demo.web)).send().await.unwrap();
    assert_eq!(home.status(), StatusCode::OK);
    assert!(home.text().await.unwrap().contains("Sign in with Microsoft"));
    let mut agent = Agent::default();
    let r = sign_in(&mut agent, &demo.web, "alice@contoso.example").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let page = agent.get(&format!("{}/me", demo.web)).await.text().await.unwrap();
    assert!(page.contains("Alice Example") && page.contains("platform"), "{page}");
    // Failing: someone outside the allowed domains gets the refusal page.
    let r = sign_in(&mut Agent::default(), &demo.web, "mallory@fabrikam.example").await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.text().await.unwrap().contains("fabrikam.example"));

    // The MCP server: public metadata, 401 without a token, and the printed curl works.
    let metadata: serde_json::Value =
        http.get(&demo.metadata).send().await.unwrap().json().await.unwrap();
    assert_eq!(metadata["resource"], demo.mcp.as_str());
    let refused = http.post(&demo.mcp).body("{}").send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert!(refused.headers()["www-authenticate"].to_str().unwrap().contains("resource_metadata"));
    let answer = run_curl(&demo.curl);
    assert!(
        answer.contains("\"result\"") && answer.contains("de30de30-0000-4000-8000-00000000a001"),
        "{answer}"
    );
    // Failing: the same call with another token is refused.
    let tampered = demo.curl.replacen("Bearer ey", "Bearer xy", 1);
    let out = std::process::Command::new("sh")
        .args(["-c", &format!("{tampered} -o /dev/null -w '%{{http_code}}'")])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "401");

    let (status, out) = demo.stop();
    assert!(status.success(), "{status:?}\n{out}");
    assert!(out.contains("entra-demo: stopped"), "{out}");
}

#[tokio::test(flavor = "multi_thread")]
async fn with_real_entra_settings_the_demo_says_so() {
    let demo = Demo::start(&[
        ("ENTRA_TENANT_ID", "72f988bf-86f1-41af-91ab-2d7cd011db47"),
        ("ENTRA_CLIENT_ID", "6e74172b-be56-4843-9ff4-e66a39bb12e3"),
        ("ENTRA_CLIENT_SECRET", "not-a-real-secret"),
        ("ENTRA_REDIRECT_URI", "http://localhost:0/callback"),
    ]);
    let out = demo.output();
    assert!(out.contains("REAL Microsoft Entra ID") && out.contains("not the mock"), "{out}");
    assert!(!out.contains("embedded mock Entra"), "{out}");
    assert!(!out.contains("not-a-real-secret"), "{out}");
    // It serves; signing in would go to login.microsoftonline.com (not followed here).
    let home = reqwest::get(format!("{}/", demo.web)).await.unwrap();
    assert_eq!(home.status(), StatusCode::OK);
    let (status, _) = demo.stop();
    assert!(status.success());
}

#[tokio::test(flavor = "multi_thread")]
async fn with_a_redis_url_sessions_live_in_redis() {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
    let prefix = format!("e2e-demo:{}:{}:", std::process::id(), nanos.as_nanos());
    let demo = Demo::start(&[
        ("ENTRA_REDIS_URL", "redis://127.0.0.1:6379"),
        ("ENTRA_REDIS_PREFIX", &prefix),
    ]);
    assert!(demo.output().contains("Redis at redis://127.0.0.1:6379"), "{}", demo.output());
    let redis = redis::Client::open("redis://127.0.0.1:6379").unwrap();
    let mut conn = redis.get_multiplexed_async_connection().await.unwrap();
    let keys = |conn: &mut redis::aio::MultiplexedConnection| {
        let mut conn = conn.clone();
        let pattern = format!("{prefix}*");
        async move {
            let keys: Vec<String> =
                redis::cmd("KEYS").arg(&pattern).query_async(&mut conn).await.unwrap();
            keys
        }
    };
    assert!(keys(&mut conn).await.is_empty());

    let mut agent = Agent::default();
    let r = sign_in(&mut agent, &demo.web, "many-groups@contoso.example").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let page = agent.get(&format!("{}/me", demo.web)).await.text().await.unwrap();
    assert!(page.contains("data-platform") && page.contains("Microsoft Graph"), "{page}");
    let stored = keys(&mut conn).await;
    assert!(!stored.is_empty(), "the session and the Graph token are in Redis");

    // Failing: with the Redis entries gone, the same cookie has no session.
    let _: () = redis::cmd("DEL").arg(&stored).query_async(&mut conn).await.unwrap();
    let r = agent.get(&format!("{}/me", demo.web)).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "sent to sign in again");

    let (status, _) = demo.stop();
    assert!(status.success());
    let left = keys(&mut conn).await;
    if !left.is_empty() {
        let _: () = redis::cmd("DEL").arg(&left).query_async(&mut conn).await.unwrap();
    }
}
