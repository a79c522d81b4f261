//! Settings that weaken the facade's protections, for tests and unusual
//! deployments. Each one is named for what it gives up.

use std::net::IpAddr;
use std::sync::Arc;

use crate::FacadeBuilder;
use crate::cimd::AddressPolicy;

/// Also fetches Client ID Metadata Documents from the addresses `allow`
/// accepts, beside public ones: by default a document host resolving to a
/// loopback, private or link-local address is refused, since fetching it would
/// let anyone make this server call its own network (SSRF). Use it for a test
/// server on loopback, or a document host inside a private network you trust.
pub fn allow_metadata_document_addresses(
    builder: FacadeBuilder,
    allow: impl Fn(IpAddr) -> bool + Send + Sync + 'static,
) -> FacadeBuilder {
    let mut builder = builder;
    builder.address_policy = AddressPolicy::AlsoAllow(Arc::new(allow));
    builder
}
