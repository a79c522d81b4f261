//! Integration tests of the mock Entra, over real HTTP on loopback.

mod common;
mod keys;
mod minting;
