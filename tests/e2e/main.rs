//! End-to-end tests across crates: a real browser against the demo's web app,
//! the demo binary as a process, MCP clients against the MCP server. See
//! tests/README.md for what they need (Chromium, chromedriver, Redis).

#![allow(clippy::unwrap_used)] // Helpers outside #[test] functions unwrap too.

mod browser;
mod demo;
mod demo_process;
mod facade;
mod mcp;
