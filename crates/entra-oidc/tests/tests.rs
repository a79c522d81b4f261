//! Integration tests against the mocked Entra of entra-testkit, over HTTP on
//! loopback.

mod support;

mod login;
mod loopback;
mod multi_tenant;
mod refusals;
