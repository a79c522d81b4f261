//! End-to-end tests across crates: MCP clients against the MCP server example.

// Helpers outside `#[test]` functions unwrap too: a failed set-up is a failed test.
#![allow(clippy::unwrap_used)]

mod facade;
mod mcp;
