//! Integration tests over real HTTP on loopback against entra-testkit's mocked Entra.

#![allow(clippy::unwrap_used)] // Helpers outside #[test] functions unwrap too.
#![cfg_attr(not(feature = "sign-in"), allow(dead_code))]

mod bearer;
#[cfg(feature = "sign-in")]
mod signin;
mod support;
