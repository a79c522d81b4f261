//! Text for people: times in words, UTC dates and HTML-escaped text, for
//! messages a person reads (reports, command-line output, pages): the one
//! place they are formatted.
//!
//! ```
//! use entra_core::words;
//! assert_eq!(words::expiry(1_700_003_600, 1_700_000_000), "expires in 1 hour");
//! assert_eq!(words::utc(1_700_000_000), "2023-11-14 22:13:20 UTC");
//! ```

/// `90` -> `1 minute`, `7200` -> `2 hours`: the largest unit that fits, rounded down.
pub fn duration(secs: i64) -> String {
    let secs = secs.unsigned_abs();
    let (n, unit) = match secs {
        0..60 => (secs, "second"),
        60..3600 => (secs / 60, "minute"),
        3600..172_800 => (secs / 3600, "hour"),
        _ => (secs / 86_400, "day"),
    };
    if n == 1 { format!("1 {unit}") } else { format!("{n} {unit}s") }
}

/// `expires in 59 minutes` or `expired 2 hours ago`.
pub fn expiry(exp: i64, now: i64) -> String {
    if exp > now {
        format!("expires in {}", duration(exp.saturating_sub(now)))
    } else {
        format!("expired {} ago", duration(now.saturating_sub(exp)))
    }
}

/// `2 minutes ago` or `in 3 hours`.
pub fn relative(at: i64, now: i64) -> String {
    if at > now {
        format!("in {}", duration(at.saturating_sub(now)))
    } else {
        format!("{} ago", duration(now.saturating_sub(at)))
    }
}

/// `2023-11-14 22:13:20 UTC`.
pub fn utc(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC", secs / 3600, (secs / 60) % 60, secs % 60)
}

/// An error and its sources, joined with `: ` (`cannot read the file: permission
/// denied`), for a message a person reads.
///
/// ```
/// #[derive(Debug, thiserror::Error)]
/// #[error("cannot read the file")]
/// struct ReadFailed(#[source] std::io::Error);
///
/// let e = ReadFailed(std::io::Error::other("permission denied"));
/// assert_eq!(entra_core::words::error_with_sources(&e), "cannot read the file: permission denied");
/// ```
pub fn error_with_sources(error: &(dyn std::error::Error + 'static)) -> String {
    let mut out = error.to_string();
    let mut next = error.source();
    while let Some(source) = next {
        out.push_str(": ");
        out.push_str(&source.to_string());
        next = source.source();
    }
    out
}

/// `text` with HTML's special characters escaped (`&`, `<`, `>`, `"`, `'`), for
/// text and attribute values of a page (names and emails come from the identity
/// provider; client names from whoever registered them).
///
/// ```
/// assert_eq!(entra_core::words::escape_html(r#"<a href="x">O'Neil & co</a>"#),
///     "&lt;a href=&quot;x&quot;&gt;O&#39;Neil &amp; co&lt;/a&gt;");
/// ```
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words() {
        assert_eq!(duration(0), "0 seconds");
        assert_eq!(duration(1), "1 second");
        assert_eq!(duration(119), "1 minute");
        assert_eq!(duration(-7200), "2 hours");
        assert_eq!(duration(200_000), "2 days");
        assert_eq!(expiry(100, 40), "expires in 1 minute");
        assert_eq!(expiry(100, 3700), "expired 1 hour ago");
        assert_eq!(relative(0, 120), "2 minutes ago");
        assert!(relative(i64::MAX, i64::MIN).starts_with("in "));
        assert!(utc(i64::MAX).contains("UTC") && utc(i64::MIN).contains("UTC"));
    }

    #[test]
    fn dates() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(1_700_000_000), "2023-11-14 22:13:20 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00:00 UTC");
    }
}
