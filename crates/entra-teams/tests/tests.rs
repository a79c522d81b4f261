//! Integration tests of entra-teams.
