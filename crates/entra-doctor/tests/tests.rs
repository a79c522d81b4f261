//! Integration tests of entra-doctor against the mocked Entra of entra-testkit,
//! over loopback HTTP.

#![allow(clippy::unwrap_used)]

mod common;

mod check;
mod errors;
mod token;
