//! Return paths: where the browser goes after sign-in. Only local paths are
//! accepted, so that a link to `/login?return_to=...` cannot send a freshly
//! signed-in user to another site (an open redirect).

use crate::{Error, Result};

/// The longest return path accepted, in bytes.
const MAX_LEN: usize = 2048;

/// How many rounds of percent-decoding are inspected: enough to see through
/// double and triple encoding (`%252f`), after which the input is refused.
const DECODE_ROUNDS: usize = 4;

/// Checks that `path` is a local path that is safe to redirect to after sign-in,
/// and returns it unchanged.
///
/// Accepted: a path starting with a single `/`, made of printable ASCII (other
/// characters percent-encoded), optionally with a query and fragment, such as
/// `/`, `/dashboard?tab=teams#top`.
///
/// Refused: absolute URLs (`https://evil.example`), scheme-relative `//host`,
/// anything without a leading `/` (`javascript:...`, `evil.example`), any
/// backslash (`/\evil.example`, which browsers read as `//`), control characters
/// and whitespace (browsers drop tabs and newlines, turning `/\t/evil` into
/// `//evil`), and encoded forms of these (`/%2f%2fevil`, `/%5cevil`, `%2F`,
/// `%252f`, `%09`), since a later decoding step may otherwise turn them into one.
///
/// ```
/// use entra_oidc::check_return_path;
/// assert_eq!(check_return_path("/teams?id=7#top").unwrap(), "/teams?id=7#top");
/// for bad in ["https://evil.example", "//evil.example", "/\\evil.example", "/%2f%2fevil.example",
///             "/%5cevil.example", "javascript:alert(1)", "/\t/evil.example", ""] {
///     assert!(check_return_path(bad).is_err(), "{bad:?}");
/// }
/// ```
///
/// # Errors
/// [`Error::InvalidReturnPath`] naming the rule that refused the path.
pub fn check_return_path(path: &str) -> Result<&str> {
    let refuse = |reason| Err(Error::InvalidReturnPath { reason });
    if path.is_empty() {
        return refuse("it is empty");
    }
    if path.len() > MAX_LEN {
        return refuse("it is too long");
    }
    if !path.bytes().all(|b| b.is_ascii_graphic()) {
        return refuse("it contains whitespace, control or non-ascii characters");
    }
    let mut current = path.to_owned();
    for _ in 0..DECODE_ROUNDS {
        check_plain(&current)?;
        match percent_decode_once(&current) {
            Some(next) if next == current => return Ok(path),
            Some(next) => current = next,
            None => return refuse("it contains an invalid percent-encoding"),
        }
    }
    refuse("it is encoded too many times")
}

/// The rules applied to the path and to each decoded form of it.
fn check_plain(path: &str) -> Result<()> {
    let refuse = |reason| Err(Error::InvalidReturnPath { reason });
    if !path.starts_with('/') {
        return refuse("it is not a local path starting with `/`");
    }
    if path.starts_with("//") {
        return refuse("it starts with `//`, which names another host");
    }
    if path.contains('\\') {
        return refuse("it contains a backslash");
    }
    if path.chars().any(char::is_control) {
        return refuse("it contains encoded control characters");
    }
    let lower = path.to_ascii_lowercase();
    // An encoded slash or backslash anywhere is refused: some frameworks decode
    // it again before redirecting.
    if lower.contains("%2f") || lower.contains("%5c") {
        return refuse("it contains an encoded slash or backslash");
    }
    Ok(())
}

/// Decodes `%XX` sequences once; `None` for a malformed escape or a result that
/// is not UTF-8.
fn percent_decode_once(input: &str) -> Option<String> {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hi = hex(*bytes.get(i + 1)?)?;
            let lo = hex(*bytes.get(i + 2)?)?;
            out.push(hi * 16 + lo);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_paths_pass() {
        for ok in [
            "/",
            "/dashboard",
            "/teams/7?tab=members&sort=name#top",
            "/search?q=caf%C3%A9",
            "/a%20b",
            "/@evil.example",
            "/javascript:alert(1)",
            "/.well-known/x",
        ] {
            assert_eq!(check_return_path(ok).unwrap(), ok, "{ok:?}");
        }
    }

    #[test]
    fn open_redirect_shapes_fail() {
        for bad in [
            "",
            "dashboard",
            "https://evil.example/",
            "http://evil.example",
            "HTTPS://evil.example",
            "//evil.example",
            "///evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "\\/evil.example",
            "/%2f%2fevil.example",
            "/%2F%2Fevil.example",
            "%2f%2fevil.example",
            "/%5cevil.example",
            "/%5Cevil.example",
            "/%252f%252fevil.example",
            "/%25252f%25252fevil.example",
            "/x%2fy",
            "javascript:alert(1)",
            "JavaScript:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "/\t/evil.example",
            "/\n/evil.example",
            "/%09/evil.example",
            "/%0d%0aSet-Cookie:x=y",
            "/%00",
            "/ /evil.example",
            "/caf\u{e9}",
            "/\u{ff0f}evil.example",
            "/%zz",
            "/%",
            "/%c3",
        ] {
            assert!(
                matches!(check_return_path(bad), Err(Error::InvalidReturnPath { .. })),
                "{bad:?} was accepted"
            );
        }
        assert!(check_return_path(&format!("/{}", "a".repeat(MAX_LEN))).is_err());
    }
}
