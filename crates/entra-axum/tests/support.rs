//! A server on loopback and a small cookie-keeping browser.

use std::collections::BTreeMap;

use axum::Router;
use reqwest::header::{HeaderMap, SET_COOKIE};

/// Binds 127.0.0.1:0 first, so the app can be built knowing its own URL.
pub(crate) async fn bind() -> (tokio::net::TcpListener, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    (listener, base)
}

pub(crate) fn serve(listener: tokio::net::TcpListener, app: Router) {
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
}

pub(crate) fn http() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// Keeps cookies by name (all on one host, paths ignored), as a browser would.
#[derive(Clone, Default, Debug)]
pub(crate) struct Browser {
    pub(crate) cookies: BTreeMap<String, String>,
}

impl Browser {
    pub(crate) fn cookie_header(&self) -> String {
        self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    pub(crate) fn absorb(&mut self, headers: &HeaderMap) {
        for h in headers.get_all(SET_COOKIE) {
            let h = h.to_str().unwrap();
            let (pair, attrs) = h.split_once(';').unwrap_or((h, ""));
            let (k, v) = pair.split_once('=').unwrap();
            let gone = attrs.to_ascii_lowercase().contains("max-age=0") || v.is_empty();
            if gone {
                self.cookies.remove(k.trim());
            } else {
                self.cookies.insert(k.trim().to_owned(), v.to_owned());
            }
        }
    }

    pub(crate) async fn get(&mut self, url: &str, accept: &str) -> reqwest::Response {
        let mut req = http().get(url).header("accept", accept);
        if !self.cookies.is_empty() {
            req = req.header("cookie", self.cookie_header());
        }
        let r = req.send().await.unwrap();
        self.absorb(r.headers());
        r
    }

    pub(crate) async fn post_form(
        &mut self,
        url: &str,
        form: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut req = http().post(url).form(form);
        if !self.cookies.is_empty() {
            req = req.header("cookie", self.cookie_header());
        }
        let r = req.send().await.unwrap();
        self.absorb(r.headers());
        r
    }
}

pub(crate) fn location(r: &reqwest::Response) -> String {
    r.headers()["location"].to_str().unwrap().to_owned()
}
