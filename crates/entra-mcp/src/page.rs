//! The consent page: names the client, its redirect host and the scopes.

use axum::body::Body;
use axum::response::Response;
use http::HeaderValue;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, X_FRAME_OPTIONS};

use crate::facade::CONSENT;
use crate::records::{ClientRecord, PendingAuthorization};
use crate::redirect::host_of;

pub(crate) use entra_core::words::escape_html as escape;

/// The consent page of `pending`, carrying the transaction id and the CSRF
/// token in its form. Framing is refused and nothing is cached.
pub(crate) fn consent(
    pending: &PendingAuthorization,
    client: &ClientRecord,
    txn: &str,
    csrf: &str,
) -> Response {
    let name = pending.client_name.as_deref().unwrap_or("An unnamed application");
    let kind = if client.metadata_document {
        format!("whose metadata is published at {}", escape(&client.client_id))
    } else {
        "registered itself (its name is not verified)".to_owned()
    };
    let host = host_of(&pending.redirect_uri);
    let scopes: String =
        pending.scopes.iter().map(|s| format!("<li><code>{}</code></li>", escape(s))).collect();
    let html = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width\"><title>Allow access?</title></head><body>\
<h1>Allow <strong>{name}</strong> to act as you?</h1>\
<p>The application <strong>{name}</strong> {kind} wants to call this server with your identity.</p>\
<p>After you approve and sign in with Microsoft, you will be sent back to <strong>{host}</strong>.</p>\
<p>It asks for:</p><ul>{scopes}</ul>\
<p>Only approve if you started this from an application you trust.</p>\
<form method=\"post\" action=\"{CONSENT}\">\
<input type=\"hidden\" name=\"txn\" value=\"{txn}\">\
<input type=\"hidden\" name=\"csrf_token\" value=\"{csrf}\">\
<button type=\"submit\" name=\"decision\" value=\"approve\">Approve</button> \
<button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button>\
</form></body></html>",
        name = escape(name),
        host = escape(&host),
        txn = escape(txn),
        csrf = escape(csrf),
    );
    let mut r = Response::new(Body::from(html));
    let h = r.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        "content-security-policy",
        HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'; base-uri 'none'"),
    );
    h.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_escaped() {
        assert_eq!(escape("<script>\"'&"), "&lt;script&gt;&quot;&#39;&amp;");
    }
}
