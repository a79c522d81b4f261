//! Integration tests: entra-jwks against the mocked Entra of entra-testkit, over
//! HTTP on loopback. Every rule has a passing and a failing case.

#![allow(clippy::unwrap_used)] // Helpers outside #[test] functions unwrap too.

mod common;
mod keys;
mod rules;
mod v1_keys;
