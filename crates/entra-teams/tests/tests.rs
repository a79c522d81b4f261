//! Integration tests of entra-teams: the whole flow (token -> groups -> mapping ->
//! reconciliation), and overage resolved through the mocked Entra of
//! entra-testkit (On-Behalf-Of with entra-obo, then Microsoft Graph).

// Helpers outside `#[test]` functions unwrap too: a failing setup is a failing test.
#![allow(clippy::unwrap_used)]

mod common;
#[cfg(feature = "graph")]
mod graph;
#[cfg(feature = "graph")]
mod obo;
mod sync;
