//! Integration tests against the mocked Entra of entra-testkit, over HTTP on
//! loopback.

// Helpers outside `#[test]` functions unwrap too (clippy.toml allows it in tests).
#![allow(clippy::unwrap_used)]

mod support;

mod callback_errors;
mod configuration;
mod credentials;
mod discovery;
mod domains;
mod id_token;
mod login;
mod loopback;
mod multi_tenant;
mod refusals;
