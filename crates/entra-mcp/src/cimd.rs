//! Client ID Metadata Documents: an `https` client id whose JSON document names
//! the client and its redirect URIs, fetched with SSRF protections.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use url::{Host, Url};

use crate::facade::Inner;
use crate::records::ClientRecord;
use crate::registration::{check_client_metadata, clean_name};
use crate::{Error, Limits, Result};

/// Which resolved addresses a document may be fetched from.
#[derive(Clone, Default)]
pub(crate) enum AddressPolicy {
    /// Public unicast addresses only (the default).
    #[default]
    PublicOnly,
    /// Public addresses, and those the host's predicate allows (only through
    /// [`crate::dangerous`]).
    AlsoAllow(Arc<dyn Fn(IpAddr) -> bool + Send + Sync>),
}

impl AddressPolicy {
    fn allows(&self, ip: IpAddr) -> bool {
        is_public(ip)
            || match self {
                Self::PublicOnly => false,
                Self::AlsoAllow(allow) => allow(ip),
            }
    }
}

/// The fetcher of metadata documents.
#[derive(Clone)]
pub(crate) struct MetadataDocuments {
    policy: AddressPolicy,
    roots: Vec<reqwest::Certificate>,
    timeout: Duration,
    max_bytes: usize,
}

impl fmt::Debug for MetadataDocuments {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MetadataDocuments").field("timeout", &self.timeout).finish_non_exhaustive()
    }
}

/// The document fields the facade reads.
#[derive(Deserialize)]
struct Document {
    client_id: String,
    client_name: Option<String>,
    redirect_uris: Option<Vec<String>>,
    grant_types: Option<Vec<String>>,
    response_types: Option<Vec<String>>,
}

impl MetadataDocuments {
    pub(crate) fn new(
        policy: AddressPolicy,
        roots: Vec<reqwest::Certificate>,
        limits: &Limits,
    ) -> Result<Self> {
        Ok(Self {
            policy,
            roots,
            timeout: limits.metadata_document_timeout,
            max_bytes: limits.max_metadata_bytes,
        })
    }

    /// Fetches and checks the document of `client_id`.
    pub(crate) async fn fetch(&self, inner: &Inner, client_id: &str) -> Result<ClientRecord> {
        let url = check_url(client_id)?;
        let addr = tokio::time::timeout(self.timeout, self.resolve(&url))
            .await
            .map_err(|_| Error::ClientMetadataDocument("resolving the host timed out"))??;
        let body = tokio::time::timeout(self.timeout, self.get(&url, addr))
            .await
            .map_err(|_| Error::ClientMetadataDocument("fetching the document timed out"))??;
        let doc: Document = serde_json::from_slice(&body)
            .map_err(|_| Error::ClientMetadataDocument("the document is not client metadata"))?;
        if doc.client_id != client_id {
            return Err(Error::ClientMetadataDocument("the document names another client_id"));
        }
        let redirect_uris = doc.redirect_uris.unwrap_or_default();
        check_client_metadata(
            inner,
            &redirect_uris,
            doc.grant_types.as_deref(),
            doc.response_types.as_deref(),
        )?;
        Ok(ClientRecord {
            client_id: client_id.to_owned(),
            client_name: doc.client_name.as_deref().and_then(clean_name),
            redirect_uris,
            metadata_document: true,
        })
    }

    /// The one address the document is fetched from: every address the host
    /// resolves to must be allowed (so that a name answering with a public and
    /// a private address cannot pick one later), and the first is used.
    async fn resolve(&self, url: &Url) -> Result<SocketAddr> {
        let port = url.port_or_known_default().unwrap_or(443);
        let addrs: Vec<SocketAddr> = match url.host() {
            Some(Host::Ipv4(ip)) => vec![SocketAddr::new(IpAddr::V4(ip), port)],
            Some(Host::Ipv6(ip)) => vec![SocketAddr::new(IpAddr::V6(ip), port)],
            Some(Host::Domain(d)) => tokio::net::lookup_host((d, port))
                .await
                .map_err(|_| Error::ClientMetadataDocument("the host does not resolve"))?
                .collect(),
            None => return Err(Error::ClientMetadataDocument("the client id has no host")),
        };
        if addrs.is_empty() {
            return Err(Error::ClientMetadataDocument("the host does not resolve"));
        }
        if addrs.iter().any(|a| !self.policy.allows(a.ip())) {
            tracing::warn!("a client metadata document host resolves to a non-public address");
            return Err(Error::ForbiddenAddress);
        }
        Ok(addrs[0])
    }

    /// GET over https from the pinned address: no proxy, no redirects, bounded.
    async fn get(&self, url: &Url, addr: SocketAddr) -> Result<Vec<u8>> {
        let fail = |_| Error::ClientMetadataDocument("the document cannot be fetched");
        let mut builder = reqwest::Client::builder()
            .https_only(true)
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(self.timeout)
            .tls_certs_merge(self.roots.iter().cloned());
        if let Some(Host::Domain(d)) = url.host() {
            builder = builder.resolve(d, addr);
        }
        let client = builder.build().map_err(fail)?;
        let mut response = client
            .get(url.clone())
            .header(http::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(fail)?;
        if response.status() != reqwest::StatusCode::OK {
            return Err(Error::ClientMetadataDocument("the document URL does not answer 200"));
        }
        if response.content_length().is_some_and(|n| n > self.max_bytes as u64) {
            return Err(Error::ClientMetadataDocument("the document is too large"));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(fail)? {
            if body.len() + chunk.len() > self.max_bytes {
                return Err(Error::ClientMetadataDocument("the document is too large"));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

/// A client id that may name a document: `https`, a host, a path other than
/// `/`, no credentials, no fragment.
fn check_url(client_id: &str) -> Result<Url> {
    let url = Url::parse(client_id)
        .map_err(|_| Error::ClientMetadataDocument("the client id is not a URL"))?;
    if url.scheme() != "https" {
        return Err(Error::ClientMetadataDocument("the client id must be an https URL"));
    }
    if url.host().is_none() || url.path() == "/" {
        return Err(Error::ClientMetadataDocument("the client id needs a host and a path"));
    }
    if url.fragment().is_some() || !url.username().is_empty() || url.password().is_some() {
        return Err(Error::ClientMetadataDocument("the client id has a fragment or credentials"));
    }
    Ok(url)
}

/// Whether `ip` is a public unicast address: not loopback, private, link-local,
/// shared, documentation, benchmarking, multicast, reserved or unspecified, and
/// for IPv6 also not unique-local, site-local, or an IPv4 address embedded
/// (mapped, NAT64, 6to4) that is not public itself.
pub(crate) fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_multicast()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (b == 18 || b == 19))
        || a >= 240)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let s = ip.segments();
    let embedded = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    // NAT64 (64:ff9b::/96) and 6to4 (2002::/16) carry an IPv4 address.
    if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
        return is_public_v4(embedded(s[6], s[7]));
    }
    if s[0] == 0x2002 {
        return is_public_v4(embedded(s[1], s[2]));
    }
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (s[0] & 0xfe00) == 0xfc00
        || (s[0] & 0xffc0) == 0xfe80
        || (s[0] & 0xffc0) == 0xfec0
        || (s[0] == 0x2001 && s[1] == 0x0db8)
        || (s[0] == 0x2001 && s[1] == 0)
        || s[0..6] == [0, 0, 0, 0, 0, 0])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_pass() {
        for public in ["20.190.151.68", "8.8.8.8", "2603:1036::1", "2002:0808:0808::1"] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "198.18.0.1",
            "192.0.0.8",
            "240.0.0.1",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "fec0::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:0001::1",
            "2001:db8::1",
            "2001:0::1",
            "::127.0.0.1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
    }

    #[test]
    fn client_id_urls() {
        assert!(check_url("https://app.example.com/client.json").is_ok());
        for bad in [
            "http://app.example.com/client.json",
            "https://app.example.com/",
            "https://app.example.com",
            "https://u:p@app.example.com/c",
            "https://app.example.com/c#f",
            "file:///etc/passwd",
        ] {
            assert!(matches!(check_url(bad), Err(Error::ClientMetadataDocument(_))), "{bad}");
        }
    }

    #[test]
    fn the_policy_only_widens() {
        let loopback = "127.0.0.1".parse().unwrap();
        assert!(!AddressPolicy::PublicOnly.allows(loopback));
        let widened = AddressPolicy::AlsoAllow(Arc::new(|ip: IpAddr| ip.is_loopback()));
        assert!(widened.allows(loopback));
        assert!(widened.allows("8.8.8.8".parse().unwrap()));
        assert!(!widened.allows("10.0.0.1".parse().unwrap()));
    }
}
