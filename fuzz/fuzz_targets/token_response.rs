//! Token-endpoint answers through entra-core's one parser of each: success
//! bodies (`TokenResponse::parse`), Entra error bodies
//! (`EntraErrorResponse::parse` and its classification), errors built from
//! callback parameters, and `Retry-After` values. Nothing may panic, and what
//! parses keeps the documented bounds.
//!
//! Input: one byte choosing the parser, then its input.
#![no_main]

use std::time::{Duration, UNIX_EPOCH};

use entra_core::EntraErrorResponse;
use entra_core::http::{MAX_EXPIRES_IN, TokenResponse, parse_retry_after};
use libfuzzer_sys::fuzz_target;
use reqwest::header::HeaderValue;

fn check_error(e: &EntraErrorResponse) {
    let _ = (e.aadsts(), e.kind(), e.remedy(), e.meaning());
    let _ = (e.kind().is_transient(), e.kind().is_config(), e.kind().cause());
    let _ = (format!("{e}"), format!("{e:?}"));
}

fuzz_target!(|data: &[u8]| {
    let Some((&choice, body)) = data.split_first() else { return };
    match choice % 4 {
        0 => {
            if let Ok(r) = TokenResponse::parse(body) {
                assert!(!r.access_token.is_empty(), "an empty access token was accepted");
                assert!(r.token_type.eq_ignore_ascii_case("bearer"), "token type");
                assert!(r.expires_in.is_none_or(|d| d <= MAX_EXPIRES_IN), "expires_in bound");
                assert!(r.ext_expires_in.is_none_or(|d| d <= MAX_EXPIRES_IN), "ext bound");
                let _ = (r.scopes(), format!("{r:?}"));
            }
        }
        1 => {
            if let Ok(e) = EntraErrorResponse::parse(body) {
                check_error(&e);
            }
        }
        2 => {
            let text = String::from_utf8_lossy(body);
            let (error, description) = match text.split_once('\n') {
                Some((e, d)) => (e, Some(d)),
                None => (&*text, None),
            };
            check_error(&EntraErrorResponse::from_callback(error, description));
        }
        _ => {
            if let Ok(value) = HeaderValue::from_bytes(body) {
                let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
                let wait = parse_retry_after(&value, now);
                assert!(wait.is_none_or(|w| w <= Duration::from_secs(24 * 3600)), "capped");
            }
        }
    }
});
