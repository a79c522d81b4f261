//! entra-mcp's OAuth facade on two replicas sharing one Redis: a client
//! registered on A signs in through B and redeems and refreshes on either; a
//! replayed code is caught whichever replica sees it.

use std::collections::HashMap;
use std::future::IntoFuture as _;

use axum::Router;
use axum::routing::post;
use base64::Engine as _;
use entra_axum::{Caller, EntraAuth};
use entra_core::{ClientCredential, Secret};
use entra_mcp::Facade;
use entra_redis::SecretStore;
use entra_testkit::{MockEntra, TestApp, TestUser};
use reqwest::header::{LOCATION, SET_COOKIE};

use crate::support::{Prefix, contains_piece};

const REDIRECT: &str = "http://127.0.0.1/callback";

async fn tool(caller: Caller) -> String {
    caller.object_id().to_owned()
}

fn location(r: &reqwest::Response) -> String {
    r.headers()[LOCATION].to_str().unwrap().to_owned()
}

fn cookie(r: &reqwest::Response, name: &str) -> String {
    r.headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok()?.split(';').next())
        .find(|c| c.starts_with(&format!("{name}=")))
        .unwrap()
        .to_owned()
}

fn field(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).unwrap() + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn two_replicas_share_registrations_codes_and_refresh_handles() {
    let p = Prefix::new();
    let mock = MockEntra::start().await;
    let (la, lb) = (
        tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
        tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
    );
    // The public URL is A's; the "load balancer" is this test, choosing a port.
    let public = format!("http://{}", la.local_addr().unwrap());
    let b_base = format!("http://{}", lb.local_addr().unwrap());
    let api = mock.register_app(
        TestApp::new("mcp")
            .secret("s3cret")
            .expose_scope("access_as_user")
            .redirect_uri(format!("{public}/oauth/callback")),
    );
    let user = mock.add_user(TestUser::new("alice@contoso.com"));
    mock.set_auto_login(Some(&user));
    let credential = ClientCredential::secret(Secret::new("s3cret"));
    for listener in [la, lb] {
        let auth = EntraAuth::builder(mock.authority(), api.client_id.clone())
            .credential(credential.clone())
            .build()
            .unwrap();
        let mcp = auth.resource(&format!("{public}/mcp"), ["access_as_user"]).unwrap();
        let facade = Facade::builder(&auth, &mcp)
            .credential(credential.clone())
            .store(SecretStore::new(&p.connect().await))
            .build()
            .unwrap();
        let app = Router::new()
            .route("/mcp", post(tool))
            .layer(mcp.bearer().require_scope("access_as_user"))
            .merge(mcp.metadata_router())
            .layer(facade);
        tokio::spawn(axum::serve(listener, app).into_future());
    }
    let http =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let (a, b) = (public.as_str(), b_base.as_str());

    let reg: serde_json::Value = http
        .post(format!("{a}/oauth/register"))
        .json(&serde_json::json!({ "client_name": "Replicated", "redirect_uris": [REDIRECT] }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let client_id = reg["client_id"].as_str().unwrap();
    let verifier = "replica-verifier-0123456789abcdefghijklmnopqrstuvwxyz";
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes()));
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", REDIRECT),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
            ("state", "s1"),
            ("scope", "offline_access"),
        ])
        .finish();
    // The page on B, the answer on A, the callback on B.
    let page = http.get(format!("{b}/oauth/authorize?{query}")).send().await.unwrap();
    assert_eq!(page.status(), 200, "B knows A's registration");
    let consent_cookie = cookie(&page, "mcp-consent");
    let html = page.text().await.unwrap();
    let r = http
        .post(format!("{a}/oauth/consent"))
        .header("cookie", consent_cookie)
        .form(&[
            ("txn", field(&html, "txn")),
            ("csrf_token", field(&html, "csrf_token")),
            ("decision", "approve".into()),
        ])
        .send()
        .await
        .unwrap();
    let state_cookie = cookie(&r, "mcp-state");
    let entra = http.get(location(&r)).send().await.unwrap();
    let callback = location(&entra).replace(a, b);
    let back = http.get(callback).header("cookie", state_cookie).send().await.unwrap();
    let back = url::Url::parse(&location(&back)).unwrap();
    let q: HashMap<_, _> = back.query_pairs().into_owned().collect();
    let code = q["code"].clone();

    // Nothing stored in Redis shows the code, a token or the user.
    for key in p.keys() {
        let value = p.get(&key).unwrap();
        assert!(!contains_piece(&value, &code) && !contains_piece(&value, "alice"), "{key}");
    }

    let redeem = |base: &str| {
        http.post(format!("{base}/oauth/token")).form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("client_id", client_id),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier),
        ])
    };
    let tokens: serde_json::Value = redeem(a).send().await.unwrap().json().await.unwrap();
    let access = tokens["access_token"].as_str().unwrap();
    let called = http.post(format!("{b}/mcp")).bearer_auth(access).send().await.unwrap();
    assert_eq!(called.text().await.unwrap(), user.oid);
    let handle = tokens["refresh_token"].as_str().unwrap().to_owned();
    let refresh = |base: &str, handle: &str| {
        http.post(format!("{base}/oauth/token")).form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", handle),
            ("client_id", client_id),
        ])
    };
    let r = refresh(b, &handle).send().await.unwrap();
    assert_eq!(r.status(), 200, "a handle issued on A refreshes on B");
    let rotated: serde_json::Value = r.json().await.unwrap();
    assert_eq!(refresh(a, &handle).send().await.unwrap().status(), 400, "rotated on both");

    // The code replayed on B: refused, and the rotated handle (made on B from
    // A's) is revoked too.
    let rotated = rotated["refresh_token"].as_str().unwrap();
    assert_eq!(redeem(b).send().await.unwrap().status(), 400);
    assert_eq!(refresh(a, rotated).send().await.unwrap().status(), 400);
}
