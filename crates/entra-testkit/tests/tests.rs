//! Integration tests of the mock Entra, over real HTTP on loopback.
#![allow(clippy::unwrap_used)] // Helpers outside #[test] functions unwrap too.

mod authorize;
mod binary;
mod clock;
mod common;
mod graph;
mod keys;
mod minting;
mod msal;
mod obo;
mod standalone;
mod token;
