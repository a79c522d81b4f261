//! Integration tests against the Redis on 127.0.0.1:6379 (each test under its
//! own key prefix, deleted afterwards) and, for outages, a private
//! `redis-server` that the test kills and restarts.

// Test code: a failed set-up should stop the test loudly.
#![allow(clippy::unwrap_used)]

mod cache;
mod facade;
mod login;
mod obo;
mod outage;
#[cfg(feature = "sessions")]
mod replicas;
mod secret;
#[cfg(feature = "sessions")]
mod session;
mod support;
