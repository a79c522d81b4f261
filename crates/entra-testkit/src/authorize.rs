//! The authorize endpoint (sign-in page or non-interactive redirect) and logout.

use crate::server::{After, Request, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::TestUser;
use crate::fault::{FaultKind, code_defaults};
use crate::router::{Segment, html_reply};
use crate::state::{PendingCode, State};

/// Lifetime of authorization codes, in seconds (Entra: about 10 minutes).
const CODE_LIFETIME: i64 = 600;

use entra_core::words::escape_html as escape;

fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{t}</title></head>\
         <body style=\"font-family:sans-serif;max-width:40em;margin:3em auto\"><h1>{t}</h1>{body}</body></html>",
        t = escape(title)
    )
}

fn error_page(s: &State, code: u32, text: &str) -> Response {
    let (error, _, _) = code_defaults(code);
    let _ = s;
    html_reply(
        400,
        page(
            "Sorry, but we're having trouble signing you in.",
            &format!(
                "<p id=\"error\" data-error=\"{}\">AADSTS{code}: {}</p>",
                escape(error),
                escape(text)
            ),
        ),
    )
}

fn with_params(base: &str, sep: char, params: &[(&str, &str)]) -> String {
    let encoded = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params.iter().filter(|(_, v)| !v.is_empty()))
        .finish();
    if encoded.is_empty() {
        return base.to_owned();
    }
    let joiner = if sep == '?' && base.contains('?') { '&' } else { sep };
    format!("{base}{joiner}{encoded}")
}

/// Sends `params` back to the client: query redirect, fragment redirect or form post.
fn respond_to_client(redirect_uri: &str, mode: &str, params: &[(&str, &str)]) -> Response {
    match mode {
        "form_post" => {
            let inputs: String = params
                .iter()
                .filter(|(_, v)| !v.is_empty())
                .map(|(k, v)| {
                    format!(
                        "<input type=\"hidden\" name=\"{}\" value=\"{}\"/>",
                        escape(k),
                        escape(v)
                    )
                })
                .collect();
            html_reply(
                200,
                format!(
                    "<!DOCTYPE html><html><head><title>Working...</title></head>\
                     <body onload=\"document.forms[0].submit()\">\
                     <form method=\"POST\" name=\"hiddenform\" action=\"{}\">{inputs}\
                     <noscript><p>Script is disabled. Click Submit to continue.</p>\
                     <input type=\"submit\" value=\"Submit\"/></noscript></form></body></html>",
                    escape(redirect_uri)
                ),
            )
        }
        "fragment" => Response::new(302)
            .insert_header("location", with_params(redirect_uri, '#', params).as_str()),
        _ => Response::new(302)
            .insert_header("location", with_params(redirect_uri, '?', params).as_str()),
    }
}

fn error_to_client(
    redirect_uri: &str,
    mode: &str,
    state: &str,
    error: &str,
    code: u32,
    text: &str,
) -> Response {
    let description = format!("AADSTS{code}: {text}");
    respond_to_client(
        redirect_uri,
        mode,
        &[("error", error), ("error_description", &description), ("state", state)],
    )
}

pub(crate) fn authorize(s: &mut State, req: &Request, segment: &Segment, v1: bool) -> Response {
    let mut params: Vec<(String, String)> =
        req.url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    if v1 && !params.iter().any(|(k, v)| k == "scope" && !v.is_empty()) {
        // The v1 endpoint signs in with OpenID Connect for `resource`.
        let mut scope = "openid".to_owned();
        if let Some((_, r)) = params.iter().find(|(k, v)| k == "resource" && !v.is_empty()) {
            scope = format!("{scope} {}", crate::token::v1_resource_scope(r));
        }
        params.retain(|(k, _)| k != "scope");
        params.push(("scope".into(), scope));
    }
    let get = |name: &str| {
        params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or_default()
    };
    let client_id = get("client_id");
    let Some(app) = s.app(client_id).cloned() else {
        return error_page(
            s,
            700016,
            &format!(
                "Application with identifier '{}' was not found in the directory.",
                client_id.chars().take(80).collect::<String>()
            ),
        );
    };
    let redirect_uri = match get("redirect_uri") {
        "" => app.redirect_uris.first().cloned().unwrap_or_default(),
        r => r.to_owned(),
    };
    if !app.accepts_redirect_uri(&redirect_uri) {
        return error_page(
            s,
            50011,
            &format!(
                "The redirect URI '{}' specified in the request does not match the redirect URIs configured for the application '{}'.",
                redirect_uri.chars().take(200).collect::<String>(),
                app.client_id
            ),
        );
    }
    let mode = match get("response_mode") {
        "" => "query",
        m => m,
    };
    let state = get("state");
    if !get("response_type").split_ascii_whitespace().any(|t| t == "code") {
        return error_to_client(
            &redirect_uri,
            mode,
            state,
            "unsupported_response_type",
            700054,
            "response_type 'code' is required by the mock.",
        );
    }
    if get("scope").is_empty() {
        return error_to_client(
            &redirect_uri,
            mode,
            state,
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'scope'.",
        );
    }
    let challenge = match (get("code_challenge"), get("code_challenge_method")) {
        ("", _) => None,
        (c, "" | "plain") => Some((c.to_owned(), "plain".to_owned())),
        (c, "S256") => Some((c.to_owned(), "S256".to_owned())),
        (_, _) => {
            return error_to_client(
                &redirect_uri,
                mode,
                state,
                "invalid_request",
                50148,
                "The code_challenge_method is not supported: use S256.",
            );
        }
    };
    // Who signs in: the page's choice, the login hint, or the auto-login user.
    let in_tenant = |u: &TestUser| match segment {
        Segment::Tenant(t) => u.tid == *t,
        Segment::Multi(_) => true,
    };
    let chosen = match get("mock_user") {
        "" => None,
        oid => s.user(oid).cloned(),
    };
    let hinted = match get("login_hint") {
        "" => None,
        hint => s
            .user_by_name(hint)
            .or_else(|| TestUser::oid_of_login_hint(hint).and_then(|oid| s.user(&oid)))
            .cloned(),
    };
    let auto = s.auto_login.as_deref().and_then(|oid| s.user(oid)).cloned();
    let user = chosen.or(hinted).or(if get("prompt") == "select_account" { None } else { auto });
    let Some(user) = user.filter(|u| in_tenant(u)) else {
        if get("prompt") == "none" {
            return error_to_client(
                &redirect_uri,
                mode,
                state,
                "login_required",
                50058,
                "A silent sign-in request was sent but no user is signed in.",
            );
        }
        return sign_in_page(s, req, &params, &in_tenant);
    };
    if let Some(f) = s.user_faults.get(&user.oid.to_ascii_lowercase())
        && let FaultKind::Aadsts { code, error, description, .. } = &f.kind
    {
        let (default_error, _, default_text) = code_defaults(*code);
        return error_to_client(
            &redirect_uri,
            mode,
            state,
            error.as_deref().unwrap_or(default_error),
            *code,
            description.as_deref().unwrap_or(default_text),
        );
    }
    let code = format!("1.mock-code.{}", URL_SAFE_NO_PAD.encode(uuid::Uuid::new_v4().as_bytes()));
    s.codes.insert(
        code.clone(),
        PendingCode {
            client_id: app.client_id.clone(),
            redirect_uri: redirect_uri.clone(),
            user_oid: user.oid.clone(),
            scope: get("scope").to_owned(),
            nonce: Some(get("nonce").to_owned()).filter(|n| !n.is_empty()),
            challenge,
            expires_at: s.now() + CODE_LIFETIME,
            redeemed: false,
            client_info: get("client_info") == "1",
        },
    );
    s.join_session(&user, &app.client_id);
    let info = if get("client_info") == "1" { client_info(&user) } else { String::new() };
    respond_to_client(
        &redirect_uri,
        mode,
        &[("code", &code), ("client_info", &info), ("state", state)],
    )
}

fn sign_in_page(
    s: &State,
    req: &Request,
    params: &[(String, String)],
    in_tenant: &dyn Fn(&TestUser) -> bool,
) -> Response {
    let base: Vec<(String, String)> =
        params.iter().filter(|(k, _)| k != "mock_user").cloned().collect();
    let mut items = String::new();
    for u in s.users.iter().filter(|u| in_tenant(u)) {
        let mut q = base.clone();
        q.push(("mock_user".into(), u.oid.clone()));
        let query = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(q).finish();
        let href = format!("{}{}?{query}", s.uri, req.url.path());
        items.push_str(&format!(
            "<li><a class=\"user\" data-oid=\"{}\" href=\"{}\">{} &lt;{}&gt;</a></li>",
            escape(&u.oid),
            escape(&href),
            escape(&u.name),
            escape(&u.username)
        ));
    }
    if items.is_empty() {
        items.push_str("<li>No test users in this tenant: add some with MockEntra::add_user.</li>");
    }
    html_reply(200, page("Pick an account (mock Entra)", &format!("<ul id=\"users\">{items}</ul>")))
}

/// `client_info` as Entra sends it: base64url JSON with the user's object id
/// (`uid`) and home tenant (`utid`).
pub(crate) fn client_info(user: &TestUser) -> String {
    let json = serde_json::json!({"uid": user.oid, "utid": user.tid});
    URL_SAFE_NO_PAD.encode(json.to_string())
}

/// The user a sign-out names: `logout_hint` (an ID token's `login_hint`), or the
/// `sid` of an `id_token_hint` (read without checking its signature, as only the
/// session matters).
fn signing_out(s: &State, get: &dyn Fn(&str) -> String) -> Option<TestUser> {
    let hint = get("logout_hint");
    if let Some(u) = TestUser::oid_of_login_hint(&hint).and_then(|oid| s.user(&oid)) {
        return Some(u.clone());
    }
    let id_token = get("id_token_hint");
    let claims = id_token.split('.').nth(1).and_then(|p| URL_SAFE_NO_PAD.decode(p).ok())?;
    let claims: serde_json::Value = serde_json::from_slice(&claims).ok()?;
    s.user_by_sid(claims["sid"].as_str()?).cloned()
}

pub(crate) fn logout(s: &mut State, req: &Request) -> Response {
    let get = |name: &str| {
        req.url
            .query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    let signed_out = || {
        html_reply(
            200,
            page(
                "You signed out of your account",
                "<p>It's a good idea to close all browser windows.</p>",
            ),
        )
    };
    // Front-channel logout of every app of the session, before answering.
    let calls = match signing_out(s, &get) {
        Some(user) => s.end_session(&user, None),
        None => Vec::new(),
    };
    let then = |r: Response| {
        if calls.is_empty() {
            r
        } else {
            r.then(After::Call { urls: calls.clone(), report: false })
        }
    };
    let target = get("post_logout_redirect_uri");
    if target.is_empty() {
        return then(signed_out());
    }
    // Like Entra, redirect only to a URI registered for the app (`client_id`, when
    // sent) or, without `client_id`, for any app; else show the signed-out page.
    let client_id = get("client_id");
    let registered = s
        .apps
        .iter()
        .filter(|a| client_id.is_empty() || a.client_id.as_str().eq_ignore_ascii_case(&client_id))
        .any(|a| a.post_logout_redirect_uris.contains(&target) || a.accepts_redirect_uri(&target));
    if !registered {
        return then(signed_out());
    }
    let state = get("state");
    then(
        Response::new(302)
            .insert_header("location", with_params(&target, '?', &[("state", &state)]).as_str()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_and_redirect_params() {
        assert_eq!(escape("<a href=\"x\">&'"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
        assert_eq!(
            with_params("http://h/cb", '?', &[("code", "c d"), ("state", "")]),
            "http://h/cb?code=c+d"
        );
        assert_eq!(with_params("http://h/cb?x=1", '?', &[("code", "c")]), "http://h/cb?x=1&code=c");
        assert_eq!(with_params("http://h/cb", '#', &[("code", "c")]), "http://h/cb#code=c");
        assert_eq!(with_params("http://h/cb", '?', &[("state", "")]), "http://h/cb");
    }
}
