//! Which redirect URIs a client may register, and when one used at
//! `/authorize` matches a registered one.

use url::{Host, Url};

use crate::{Error, Result};

/// A redirect URI a client may register: `http` on a loopback host
/// (`127.0.0.1`, `[::1]`, `localhost`; any port, RFC 8252 section 7.3), or an
/// `https` URL whose origin is on `https_origins`. No fragment, no credentials.
pub(crate) fn check_registrable(uri: &str, https_origins: &[String]) -> Result<Url> {
    let url = Url::parse(uri).map_err(|_| Error::InvalidRedirectUri("not an absolute URL"))?;
    if url.fragment().is_some() {
        return Err(Error::InvalidRedirectUri("a redirect URI has no fragment"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::InvalidRedirectUri("a redirect URI carries no credentials"));
    }
    match url.scheme() {
        "http" if is_loopback(&url) => Ok(url),
        "https" if https_origins.iter().any(|o| *o == origin(&url)) => Ok(url),
        "https" => Err(Error::InvalidRedirectUri("this https origin is not allowed")),
        _ => Err(Error::InvalidRedirectUri("only loopback http or allowed https origins")),
    }
}

/// Whether `used` (at `/authorize`) matches the registered `registered`:
/// exactly, or for loopback URIs, equal except for the port.
pub(crate) fn matches(registered: &str, used: &str) -> bool {
    if registered == used {
        return true;
    }
    let (Ok(r), Ok(u)) = (Url::parse(registered), Url::parse(used)) else { return false };
    r.scheme() == "http"
        && u.scheme() == "http"
        && is_loopback(&r)
        && r.host() == u.host()
        && r.path() == u.path()
        && r.query() == u.query()
        && u.fragment().is_none()
        && u.username().is_empty()
        && u.password().is_none()
}

pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// `scheme://host[:port]` of `url`.
pub(crate) fn origin(url: &Url) -> String {
    url.origin().ascii_serialization()
}

/// The host shown on the consent page.
pub(crate) fn host_of(uri: &str) -> String {
    Url::parse(uri).ok().and_then(|u| u.host_str().map(str::to_owned)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registrable_redirect_uris() {
        let allowed = vec!["https://claude.ai".to_owned()];
        for ok in [
            "http://127.0.0.1:33418/callback",
            "http://[::1]/cb",
            "http://localhost:8080/oauth/callback?x=1",
            "https://claude.ai/api/mcp/auth_callback",
        ] {
            assert!(check_registrable(ok, &allowed).is_ok(), "{ok}");
        }
        for bad in [
            "http://example.com/cb",
            "https://evil.example/cb",
            "https://claude.ai.evil.example/cb",
            "http://127.0.0.1/cb#frag",
            "http://user:pw@127.0.0.1/cb",
            "cursor://anysphere/cb",
            "javascript:alert(1)",
            "/relative",
            "http://127.0.0.2.nip.io/cb",
        ] {
            assert!(
                matches!(check_registrable(bad, &allowed), Err(Error::InvalidRedirectUri(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn loopback_matches_any_port_others_exactly() {
        assert!(matches("http://127.0.0.1/cb", "http://127.0.0.1:5555/cb"));
        assert!(matches("http://localhost:1/cb", "http://localhost:2/cb"));
        assert!(!matches("http://127.0.0.1/cb", "http://127.0.0.1:5555/other"));
        assert!(!matches("http://127.0.0.1/cb", "http://localhost:5555/cb"));
        assert!(!matches("http://127.0.0.1/cb", "http://127.0.0.1.evil.io/cb"));
        assert!(matches("https://claude.ai/cb", "https://claude.ai/cb"));
        assert!(!matches("https://claude.ai/cb", "https://claude.ai:444/cb"));
        assert!(!matches("https://claude.ai/cb", "https://claude.ai/cb?x"));
    }
}
