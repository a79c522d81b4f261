//! Integration tests over real HTTP on loopback against entra-testkit's mocked Entra.

#![allow(clippy::unwrap_used)] // Helpers outside #[test] functions unwrap too.

mod bearer;
#[cfg(feature = "sign-in")]
mod signin;
mod support;
