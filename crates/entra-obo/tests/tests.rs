//! Integration tests of entra-obo against the mocked Entra (entra-testkit) over HTTP.

// Helpers outside `#[test]` functions unwrap too: a failed set-up is a failed test.
#![allow(clippy::unwrap_used)]

mod cache;
#[cfg(feature = "downstream")]
mod downstream;
mod errors;
mod exchange;
mod hostile;
mod retry;
mod spans;
mod support;
mod thread_cache;
