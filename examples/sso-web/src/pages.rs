//! The app: its routes and its pages (plain HTML, no build step).

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use entra_axum::{EntraAuth, SignInRefusal, User};
use entra_core::words::escape_html as escape;

/// The app, ready to serve: `/` (home), `/me` (the signed-in user, their teams
/// and roles), the sign-in routes of entra-axum (`/login`, the callback,
/// `POST /logout`, front-channel logout), a readable page when a sign-in is
/// refused (for example an account outside the allowed domains), and sessions.
pub fn app(auth: &EntraAuth) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/me", get(me))
        .merge(auth.sign_in_routes())
        .layer(axum::middleware::map_response_with_state(auth.clone(), refused))
        .layer(auth.session_layer())
}

async fn home(user: Option<User>) -> Html<String> {
    let body = match user {
        Some(user) => format!(
            "<p>Welcome back, {}.</p><p><a class=\"button\" href=\"/me\">Your profile and teams</a></p>",
            escape(user.name().unwrap_or("there"))
        ),
        None => "<p>Sign in with your work account to see your profile, your teams and your role.</p>\
                 <p><a class=\"button\" id=\"sign-in\" href=\"/login?return_to=/me\">Sign in with Microsoft</a></p>"
            .to_owned(),
    };
    page("Welcome", &body)
}

async fn me(user: User) -> Html<String> {
    let info = user.info();
    let teams = user.teams().cloned().unwrap_or_default();
    let list = |items: Vec<String>| match items.is_empty() {
        true => "<span class=\"muted\">none</span>".to_owned(),
        false => {
            items.iter().map(|i| format!("<span class=\"tag\">{}</span>", escape(i))).collect()
        }
    };
    let groups = match &info.groups {
        Some(g) => format!("{} (from the ID token)", g.len()),
        None => "more than the token can carry: resolved through Microsoft Graph".to_owned(),
    };
    let row = |k: &str, id: &str, v: &str| format!("<tr><th>{k}</th><td id=\"{id}\">{v}</td></tr>");
    let rows = [
        row("Name", "name", &escape(user.name().unwrap_or("-"))),
        row("Email", "email", &escape(info.email.as_deref().or(user.username()).unwrap_or("-"))),
        row("Tenant (tid)", "tid", &escape(user.key().tid.as_str())),
        row("Object id (oid)", "oid", &escape(user.key().oid.as_str())),
        row("Teams", "teams", &list(teams.teams.into_iter().collect())),
        row("Role", "role", &escape(teams.role.as_deref().unwrap_or("-"))),
        row("Admin", "admin", if teams.admin { "yes" } else { "no" }),
        row("App roles", "app-roles", &list(user.roles().to_vec())),
        row("Groups", "groups", &escape(&groups)),
    ]
    .concat();
    let sign_out = format!(
        "<form method=\"post\" action=\"/logout\"><input type=\"hidden\" name=\"csrf_token\" value=\"{}\">\
         <button id=\"sign-out\" type=\"submit\">Sign out</button></form>",
        escape(user.csrf_token())
    );
    page("Your profile", &format!("<table>{rows}</table>{sign_out}"))
}

/// A refused sign-in becomes a page a person can read.
async fn refused(State(auth): State<EntraAuth>, response: Response) -> Response {
    let Some(refusal) = response.extensions().get::<SignInRefusal>() else { return response };
    let (status, body) = match refusal.code() {
        "domain_not_allowed" => {
            let allowed = auth.sign_in_client().map(|c| c.config().allowed_domains.join(", "));
            let domain = refusal.domain().unwrap_or("your organization");
            let text = format!(
                "<p id=\"refusal\">Accounts from <b>{}</b> cannot use this app. It is open to accounts of: {}.</p>",
                escape(domain),
                escape(&allowed.unwrap_or_default())
            );
            (StatusCode::FORBIDDEN, text)
        }
        code => (
            response.status(),
            format!(
                "<p id=\"refusal\">The sign-in did not complete ({}). It may have expired or been opened in another browser.</p>",
                escape(code)
            ),
        ),
    };
    let retry = "<p><a class=\"button\" href=\"/login?return_to=/me\">Sign in with another account</a> <a href=\"/\">Home</a></p>";
    let mut page = page("You cannot sign in here", &format!("{body}{retry}")).into_response();
    *page.status_mut() = status;
    page
}

fn page(title: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title} - Team Portal</title>\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><style>{STYLE}</style></head>\
         <body><header><a href=\"/\">Team Portal</a></header><main><h1>{title}</h1>{body}</main></body></html>"
    ))
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:0;background:#f4f5f7;color:#1f2328}\
header{background:#0f6cbd;padding:.8em 2em}header a{color:#fff;font-weight:600;text-decoration:none}\
main{max-width:46em;margin:2em auto;background:#fff;padding:1.5em 2em;border-radius:8px;box-shadow:0 1px 3px #0002}\
table{border-collapse:collapse;width:100%;margin-bottom:1.5em}th,td{text-align:left;padding:.45em .6em;border-bottom:1px solid #e5e7eb}\
th{width:11em;color:#57606a;font-weight:500}.tag{display:inline-block;background:#e8f1fb;color:#0f6cbd;border-radius:10px;padding:0 .6em;margin:0 .3em .2em 0}\
.muted{color:#8c959f}.button,button{background:#0f6cbd;color:#fff;border:0;border-radius:4px;padding:.5em 1em;font-size:1em;text-decoration:none;cursor:pointer}";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(escape("<b a=\"x\">&'"), "&lt;b a=&quot;x&quot;&gt;&amp;&#39;");
        assert_eq!(escape("Zoë"), "Zoë");
    }
}
