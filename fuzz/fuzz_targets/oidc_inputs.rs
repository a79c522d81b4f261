//! What a browser or a configuration hands entra-oidc: sign-in callback
//! parameters (query, form body, full URL), return paths after sign-in, and
//! allowed email domains. Properties: an accepted return path is a local path
//! that no amount of percent-decoding turns into another host, a backslash or a
//! control character; an allowed
//! address's domain is in the list; a parsed domain list parses to itself again.
//!
//! Input: one byte choosing the parser, then the text.
#![no_main]

use entra_oidc::{AllowedDomains, CallbackParams, check_return_path};
use libfuzzer_sys::fuzz_target;

/// Decodes `%XX` once (independently of the crate); `None` when malformed.
fn decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn check_path(path: &str) {
    let Ok(p) = check_return_path(path) else { return };
    assert_eq!(p, path, "returned unchanged");
    assert!(path.bytes().all(|b| b.is_ascii_graphic()), "{path:?}: whitespace or control");
    let mut current = path.to_owned();
    for _ in 0..8 {
        assert!(current.starts_with('/') && !current.starts_with("//"), "{path:?} leaves the site");
        assert!(!current.contains('\\'), "{path:?} has a backslash");
        // Decoded, a space is fine (`/my%20file`); a tab or newline (dropped by browsers) is not.
        assert!(!current.chars().any(char::is_control), "{path:?} decodes to a control character");
        match decode(&current) {
            Some(next) if next != current => current = next,
            _ => break,
        }
    }
}

fn check_callback(p: &CallbackParams) {
    if let Some(e) = p.entra_error() {
        assert!(e.error.len() <= 64, "error code length");
        let d = e.error_description.as_deref().unwrap_or("");
        assert!(d.chars().count() <= 256, "description length");
        assert!(d.chars().all(|c| matches!(c, ' '..='~') && c != '"' && c != '\\'), "{d:?}");
    }
    let _ = format!("{p:?}");
}

fuzz_target!(|data: &[u8]| {
    let Some((&choice, rest)) = data.split_first() else { return };
    let text = String::from_utf8_lossy(rest);
    match choice % 5 {
        0 => {
            if let Ok(p) = CallbackParams::from_query(&text) {
                check_callback(&p);
            }
        }
        1 => {
            if let Ok(p) = CallbackParams::from_form(rest) {
                check_callback(&p);
            }
        }
        2 => {
            if let Ok(p) = CallbackParams::from_url(&text) {
                check_callback(&p);
            }
        }
        3 => check_path(&text),
        _ => {
            // The list, then an address after a newline.
            let (list, address) = text.split_once('\n').unwrap_or((&text, "alice@contoso.com"));
            let Ok(domains) = AllowedDomains::parse_list(list) else { return };
            let again = AllowedDomains::new(domains.domains()).expect("a parsed list is valid");
            assert_eq!(again, domains, "normalizing is idempotent");
            for d in domains.domains() {
                assert!(d.is_ascii() && *d == d.to_ascii_lowercase(), "{d:?}");
                assert!(domains.allows(&format!("someone@{d}")), "{d:?} allows its own address");
            }
            if domains.allows(address) && !domains.is_empty() {
                let domain = address.trim().rsplit_once('@').map(|(_, d)| d).unwrap_or("");
                let domain = domain.strip_suffix('.').unwrap_or(domain).to_ascii_lowercase();
                assert!(domains.domains().contains(&domain), "{address:?} allowed");
            }
        }
    }
});
