//! Two replicas of a web app (two axum servers with entra-axum's sign-in routes,
//! each with its own connection, one Redis) behind an imaginary load balancer: a
//! sign-in begun on A completes on B, and sessions are valid on both.

use std::collections::BTreeMap;

use axum::Router;
use axum::routing::get;
use entra_axum::{EntraAuth, User};
use entra_core::{ManualClock, Secret};
use entra_redis::{LoginStateStore, SessionStore};
use entra_testkit::{MockEntra, TestApp, TestUser};
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, SET_COOKIE};

use crate::support::Prefix;

const HTML: &str = "text/html";
const JSON: &str = "application/json";

async fn me(user: User) -> String {
    format!("{}|{}", user.name().unwrap_or(""), user.csrf_token())
}

async fn touch(session: tower_sessions::Session) -> &'static str {
    session.insert("visited", true).await.unwrap();
    "ok"
}

async fn visited(session: tower_sessions::Session) -> String {
    format!("{:?}", session.get::<bool>("visited").await.unwrap())
}

/// One browser: cookies by name, sent to both replicas (they share one public
/// host behind the load balancer).
#[derive(Default)]
struct Browser {
    cookies: BTreeMap<String, String>,
}

impl Browser {
    fn absorb(&mut self, headers: &HeaderMap) {
        for h in headers.get_all(SET_COOKIE) {
            let h = h.to_str().unwrap();
            let (pair, attrs) = h.split_once(';').unwrap_or((h, ""));
            let (k, v) = pair.split_once('=').unwrap();
            if attrs.to_ascii_lowercase().contains("max-age=0") || v.is_empty() {
                self.cookies.remove(k.trim());
            } else {
                self.cookies.insert(k.trim().to_owned(), v.to_owned());
            }
        }
    }

    async fn send(&mut self, req: reqwest::RequestBuilder) -> reqwest::Response {
        let cookie = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>();
        let req = if cookie.is_empty() { req } else { req.header("cookie", cookie.join("; ")) };
        let r = req.send().await.unwrap();
        self.absorb(r.headers());
        r
    }

    async fn get(&mut self, url: &str, accept: &str) -> reqwest::Response {
        self.send(http().get(url).header("accept", accept)).await
    }
}

fn http() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

fn location(r: &reqwest::Response) -> String {
    r.headers()["location"].to_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_in_begun_on_a_completes_on_b_and_sessions_are_shared() {
    let clock = ManualClock::starting_now();
    let mock = MockEntra::builder().clock(clock.clone()).start().await.unwrap();
    let listener_a = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let listener_b = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let a = format!("http://{}", listener_a.local_addr().unwrap());
    let b = format!("http://{}", listener_b.local_addr().unwrap());
    // The public URL of the app (the load balancer's); here it is A's address,
    // and the test plays the balancer by sending some requests to B instead.
    let public = a.clone();
    let app = mock.register_app(
        TestApp::new("web")
            .secret("s3cret")
            .redirect_uri(format!("{public}/callback"))
            .post_logout_redirect_uri(format!("{public}/")),
    );
    let alice = mock.add_user(TestUser::new("alice@contoso.com").name("Alice"));
    mock.set_auto_login(Some(&alice));

    let p = Prefix::new();
    for listener in [listener_a, listener_b] {
        let redis = p.connect().await;
        let mut config = entra_oidc::Config::new(mock.authority(), app.client_id.clone());
        config.identity.credential =
            Some(entra_core::CredentialConfig::secret(Secret::new("s3cret")));
        config.redirect_uri = Some(format!("{public}/callback"));
        config.post_logout_redirect_uri = Some(format!("{public}/"));
        let auth = EntraAuth::builder(mock.authority(), app.client_id.clone())
            .clock(clock.clone())
            .sign_in(config)
            .session_store(SessionStore::new(&redis))
            .login_state_store(LoginStateStore::new(&redis))
            .build()
            .unwrap();
        let router = Router::new()
            .route("/me", get(me))
            .route("/touch", get(touch))
            .route("/visited", get(visited))
            .merge(auth.sign_in_routes())
            .layer(auth.session_layer());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    }

    // A session created on A is valid on B.
    let mut browser = Browser::default();
    assert_eq!(browser.get(&format!("{a}/touch"), HTML).await.status(), StatusCode::OK);
    let r = browser.get(&format!("{b}/visited"), HTML).await;
    assert_eq!(r.text().await.unwrap(), "Some(true)");
    let session_keys = p.keys();
    assert_eq!(session_keys.len(), 1, "{session_keys:?}");
    assert!(session_keys[0].contains(":session:"));

    // A sign-in begun on A ...
    let r = browser.get(&format!("{a}/login?return_to=/me"), HTML).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(p.keys().iter().filter(|k| k.contains(":login:")).count(), 1);
    let r = browser.get(&location(&r), HTML).await;
    assert_eq!(r.status(), StatusCode::FOUND, "{:?}", r.text().await);
    let callback = location(&r);
    assert!(callback.starts_with(&format!("{public}/callback?")), "{callback}");
    // ... whose callback the balancer sends to B, completes on B.
    let on_b = callback.replacen(&a, &b, 1);
    let r = browser.get(&on_b, HTML).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{:?}", r.text().await);
    assert_eq!(location(&r), "/me");
    assert_eq!(p.keys().iter().filter(|k| k.contains(":login:")).count(), 0, "taken");

    // The signed-in session (created on B, with a new id) is valid on both.
    let mut csrf = String::new();
    for replica in [&a, &b] {
        let r = browser.get(&format!("{replica}/me"), JSON).await;
        assert_eq!(r.status(), StatusCode::OK, "{replica}");
        let body = r.text().await.unwrap();
        let (name, token) = body.split_once('|').unwrap();
        assert_eq!(name, "Alice");
        csrf = token.to_owned();
    }
    // The pre-sign-in session is gone: its id rotated at sign-in.
    let sessions: Vec<String> = p.keys().into_iter().filter(|k| k.contains(":session:")).collect();
    assert_eq!(sessions.len(), 1);
    assert_ne!(sessions[0], session_keys[0]);

    // Replaying the callback on A fails: the sign-in was taken on B.
    let mut replay = Browser { cookies: browser.cookies.clone() };
    replay.cookies.remove("entra.session");
    let r = replay.get(&callback, HTML).await;
    assert!(r.status().is_client_error(), "{}", r.status());

    // Signing out on B ends the session on A too, even for a cookie kept from
    // before the sign-out.
    let kept = Browser { cookies: browser.cookies.clone() };
    let r = browser.send(http().post(format!("{b}/logout")).form(&[("csrf_token", &csrf)])).await;
    assert!(r.status().is_redirection(), "{}", r.status());
    let mut kept = kept;
    let r = kept.get(&format!("{a}/me"), JSON).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}
