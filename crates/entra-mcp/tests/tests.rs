//! Integration tests of entra-mcp: the facade on a real axum server against the
//! mocked Entra, driven over HTTP by a scripted browser and by rmcp's own OAuth
//! client.

// Test code: a failed set-up should stop the test loudly.
#![allow(clippy::unwrap_used)]

mod attacks;
mod cimd;
mod config;
mod flow;
mod registration;
#[cfg(feature = "rmcp")]
mod rmcp_client;
mod support;
