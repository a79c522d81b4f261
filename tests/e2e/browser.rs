//! A real headless Chromium, driven through chromedriver (WebDriver), signs in
//! to the demo's web app on the mock's account page, sees the user page with
//! teams (also for the user with 250 groups), signs out, and is refused with a
//! readable page for an account outside the allowed domains. Screenshots go to
//! `target/e2e/`.
//!
//! fantoccini rather than chromiumoxide: it speaks WebDriver over the hyper
//! the workspace already builds, and compiles in a fraction of the time of
//! chromiumoxide's generated CDP bindings (this matters on small CI machines).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};

use crate::demo_process::{Demo, target_dir};

/// Set to `1` to skip the browser test (it says so) where Chromium cannot run.
const SKIP: &str = "ENTRA_SKIP_BROWSER";

/// The first of `names` found on `PATH` (or as an absolute path).
fn find(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    names.iter().find_map(|name| {
        let direct = Path::new(name);
        if direct.is_absolute() {
            return direct.is_file().then(|| direct.to_owned());
        }
        std::env::split_paths(&path).map(|dir| dir.join(name)).find(|p| p.is_file())
    })
}

/// chromedriver on a free loopback port, stopped on drop.
struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    async fn start(binary: &Path) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new(binary)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        // Built first, so that a failed start still stops the child (Drop).
        let driver = Self { child, url: format!("http://127.0.0.1:{port}") };
        // A readiness wait (not a timed assertion): chromedriver answers /status once up.
        for _ in 0..200 {
            if let Ok(r) = reqwest::get(format!("{}/status", driver.url)).await
                && r.status().is_success()
            {
                return driver;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("chromedriver did not start on {}", driver.url);
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn connect(driver: &Driver, chromium: &Path, profile: &Path) -> Client {
    let args = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1100,800",
    ]
    .map(str::to_owned)
    .into_iter()
    .chain([format!("--user-data-dir={}", profile.display())])
    .collect::<Vec<_>>();
    let capabilities = serde_json::json!({
        "browserName": "chrome",
        "goog:chromeOptions": {"binary": chromium, "args": args}
    });
    let serde_json::Value::Object(capabilities) = capabilities else { unreachable!() };
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    ClientBuilder::new(connector)
        .capabilities(capabilities)
        .connect(&driver.url)
        .await
        .expect("a chromium session through chromedriver")
}

/// Saves a screenshot of the page as `target/e2e/<name>.png`.
async fn shot(browser: &Client, name: &str) {
    let dir = target_dir().join("e2e");
    std::fs::create_dir_all(&dir).unwrap();
    let png = browser.screenshot().await.unwrap();
    std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
}

async fn text(browser: &Client, css: &str) -> String {
    browser.wait().for_element(Locator::Css(css)).await.unwrap().text().await.unwrap()
}

/// On the mock's account page, picks the account named `username`.
async fn pick(browser: &Client, username: &str) {
    let links = browser.find_all(Locator::Css("#users a.user")).await.unwrap();
    for link in links {
        if link.text().await.unwrap().contains(username) {
            link.click().await.unwrap();
            return;
        }
    }
    panic!("{username} is not on the mock's account page");
}

async fn sign_out(browser: &Client, web: &str) {
    browser.find(Locator::Id("sign-out")).await.unwrap().click().await.unwrap();
    // Entra's sign-out sends the browser back to the app's home page.
    browser.wait().for_element(Locator::Id("sign-in")).await.unwrap();
    assert_eq!(browser.current_url().await.unwrap().as_str(), format!("{web}/"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_person_signs_in_sees_their_teams_signs_out_and_outsiders_are_refused() {
    if std::env::var(SKIP).is_ok_and(|v| v == "1") {
        eprintln!("browser test skipped: {SKIP}=1");
        return;
    }
    let chromium = find(&["chromium", "chromium-browser", "google-chrome"]).unwrap_or_else(|| {
        panic!("Chromium is not installed: `apt-get install -y chromium chromium-driver` (Debian), or set {SKIP}=1 to skip this test")
    });
    let chromedriver = find(&["chromedriver"]).unwrap_or_else(|| {
        panic!("chromedriver is not installed: `apt-get install -y chromium-driver` (Debian), or set {SKIP}=1 to skip this test")
    });
    let demo = Demo::start(&[]);
    let web = demo.web.clone();
    let driver = Driver::start(&chromedriver).await;
    let profile = target_dir().join("e2e").join(format!("chromium-profile-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&profile);
    let browser = connect(&driver, &chromium, &profile).await;

    // Home, then the mock's account page.
    browser.goto(&format!("{web}/")).await.unwrap();
    shot(&browser, "01-home").await;
    browser.find(Locator::Id("sign-in")).await.unwrap().click().await.unwrap();
    browser.wait().for_element(Locator::Css("#users a.user")).await.unwrap();
    shot(&browser, "02-pick-an-account").await;

    // Alice: her page with name, email, identity and team.
    pick(&browser, "alice@contoso.example").await;
    assert_eq!(text(&browser, "#name").await, "Alice Example");
    assert_eq!(text(&browser, "#email").await, "alice@contoso.example");
    assert_eq!(text(&browser, "#oid").await, "de30de30-0000-4000-8000-00000000a001");
    assert_eq!(text(&browser, "#teams").await, "platform");
    assert_eq!(text(&browser, "#role").await, "developer");
    shot(&browser, "03-alice").await;

    // Sign out: the session is gone, /me sends the browser to sign in again.
    sign_out(&browser, &web).await;
    shot(&browser, "04-signed-out").await;
    browser.goto(&format!("{web}/me")).await.unwrap();
    browser.wait().for_element(Locator::Css("#users a.user")).await.unwrap();
    assert!(browser.title().await.unwrap().contains("Pick an account"));

    // The user in 250 groups: teams through Microsoft Graph.
    pick(&browser, "many-groups@contoso.example").await;
    assert_eq!(text(&browser, "#name").await, "Morgan Manygroups");
    let teams = text(&browser, "#teams").await;
    assert!(teams.contains("data-platform") && teams.contains("analytics"), "{teams}");
    assert!(text(&browser, "#groups").await.contains("Microsoft Graph"));
    shot(&browser, "05-many-groups").await;
    sign_out(&browser, &web).await;

    // Outside the allowed domains: a readable refusal, and no session.
    browser.find(Locator::Id("sign-in")).await.unwrap().click().await.unwrap();
    browser.wait().for_element(Locator::Css("#users a.user")).await.unwrap();
    pick(&browser, "mallory@fabrikam.example").await;
    let refusal = text(&browser, "#refusal").await;
    assert!(
        refusal.contains("fabrikam.example") && refusal.contains("contoso.example"),
        "{refusal}"
    );
    assert!(browser.title().await.unwrap().contains("cannot sign in"));
    shot(&browser, "06-refused").await;
    browser.goto(&format!("{web}/")).await.unwrap();
    browser.wait().for_element(Locator::Id("sign-in")).await.unwrap();

    browser.close().await.unwrap();
    drop(driver);
    let _ = std::fs::remove_dir_all(&profile);
    let (status, out) = demo.stop();
    assert!(status.success(), "{out}");
}
