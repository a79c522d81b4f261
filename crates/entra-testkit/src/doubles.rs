//! Test doubles for the seams of `entra-core`.

/// Checks a crate's list of error codes: each is unique and a non-empty
/// `snake_case` word list (`token_expired`), as every `code()` must be.
///
/// # Panics
/// When a code is repeated or is not `snake_case`: this is an assertion for tests.
pub fn assert_error_codes(codes: &[&str]) {
    let mut seen = std::collections::HashSet::new();
    for code in codes {
        assert!(seen.insert(*code), "duplicate error code {code:?}");
        assert!(is_snake_case(code), "error code {code:?} is not snake_case");
    }
}

fn is_snake_case(code: &str) -> bool {
    code.starts_with(|c: char| c.is_ascii_lowercase())
        && !code.ends_with('_')
        && !code.contains("__")
        && code.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}
