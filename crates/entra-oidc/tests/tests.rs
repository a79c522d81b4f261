//! Integration tests against the mocked Entra of entra-testkit.
