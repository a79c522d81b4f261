//! Integration tests over real HTTP on loopback against entra-testkit's mocked Entra.

mod bearer;
#[cfg(feature = "sign-in")]
mod signin;
mod support;
