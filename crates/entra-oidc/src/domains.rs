//! Allowed email domains (`SSO_TRUSTED_DOMAINS`, "Allowed Email Domains").

use std::fmt;

use crate::{Error, Result};

/// A list of email domains allowed to sign in; empty means every domain.
///
/// Matching is exact on the part after the last `@`, ignoring ASCII case only:
/// `alice@ACME.com` matches `acme.com`, while `alice@evil-acme.com`,
/// `alice@acme.com.evil.io` and `alice@sub.acme.com` do not. List subdomains
/// explicitly. Domains are ASCII: an address whose domain has any other
/// character never matches (so `alice@\u{212A}ontoso.com`, with a Kelvin sign
/// that Unicode lowercases to `k`, does not match `kontoso.com`), and an
/// internationalized domain must be listed in its `xn--` form.
///
/// Which address of the user is matched is decided by
/// [`Config::allowed_domains`](crate::Config::allowed_domains): the sign-in
/// name, and `email` only when Entra marks its domain as verified.
///
/// ```
/// use entra_oidc::AllowedDomains;
/// let domains = AllowedDomains::parse_list(r#"["acme.com", "Acme-Subsidiary.com"]"#)?;
/// assert!(domains.allows("Alice@ACME.com"));
/// assert!(domains.allows("bob@acme-subsidiary.com"));
/// assert!(!domains.allows("mallory@evil-acme.com"));
/// assert!(!domains.allows("mallory@acme.com.evil.io"));
/// # Ok::<(), entra_oidc::Error>(())
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct AllowedDomains(Vec<String>);

impl AllowedDomains {
    /// Every domain is allowed (no restriction).
    pub fn any() -> Self {
        Self(Vec::new())
    }

    /// The given domains. Each is trimmed, lowercased (ASCII), and may start with
    /// `@`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a value that is not an ASCII domain name
    /// (empty, spaces, a wildcard, a URL, an email address, a non-ASCII
    /// character: write internationalized domains in their `xn--` form).
    pub fn new<I, S>(domains: I) -> Result<Self>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut out = Vec::new();
        for d in domains {
            let d = normalize(d.as_ref())?;
            if !out.contains(&d) {
                out.push(d);
            }
        }
        Ok(Self(out))
    }

    /// Parses the forms gateways use: a comma- or whitespace-separated list
    /// (`acme.com, acme-subsidiary.com`) or a JSON-style list
    /// (`["acme.com","acme-subsidiary.com"]`). An empty string allows every domain.
    ///
    /// # Errors
    /// As [`AllowedDomains::new`].
    pub fn parse_list(input: &str) -> Result<Self> {
        let trimmed = input.trim();
        let inner = trimmed.strip_prefix('[').and_then(|s| s.strip_suffix(']')).unwrap_or(trimmed);
        Self::new(
            inner
                .split(|c: char| c == ',' || c == ';' || c.is_whitespace())
                .map(|s| s.trim().trim_matches(|c| c == '"' || c == '\''))
                .filter(|s| !s.is_empty()),
        )
    }

    /// Whether no restriction applies.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The domains, lowercase.
    pub fn domains(&self) -> &[String] {
        &self.0
    }

    /// Whether `address` (an email address or user principal name) is in an
    /// allowed domain, comparing its whole domain. Always true when the list is
    /// empty; never true for a domain with a non-ASCII character or longer than
    /// 253 bytes (no domain name is).
    pub fn allows(&self, address: &str) -> bool {
        self.is_empty() || domain_of(address).is_some_and(|d| d.is_ascii() && self.0.contains(&d))
    }
}

impl fmt::Debug for AllowedDomains {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("AllowedDomains").field(&self.0).finish()
    }
}

/// The longest domain name, in bytes (RFC 1035, without the trailing dot).
const MAX_DOMAIN_LEN: usize = 253;

/// The domain of an address, whole and ASCII-lowercased: the part after the
/// last `@`, without a trailing dot. `None` when there is no `@`, nothing after
/// it, or more than 253 bytes (no domain name is longer, so such an address
/// matches nothing). Non-ASCII characters are kept as they are (never Unicode
/// case-folded), so such a domain matches no allowed domain.
pub(crate) fn domain_of(address: &str) -> Option<String> {
    let (_, domain) = address.trim().rsplit_once('@')?;
    let domain = domain.strip_suffix('.').unwrap_or(domain);
    if domain.is_empty() || domain.len() > MAX_DOMAIN_LEN {
        return None;
    }
    Some(domain.to_ascii_lowercase())
}

fn normalize(input: &str) -> Result<String> {
    let s = input.trim();
    let s = s.strip_prefix('@').unwrap_or(s);
    let s = s.strip_suffix('.').unwrap_or(s).to_ascii_lowercase();
    let bad = |reason: &str| Error::InvalidConfig {
        field: "allowed_domains",
        reason: format!("{reason}: {:?}", shorten(input)),
    };
    if s.is_empty() {
        return Err(bad("empty domain"));
    }
    if !s.is_ascii() {
        return Err(bad("not an ascii domain name (write it in its xn-- form)"));
    }
    if s.len() > MAX_DOMAIN_LEN || !s.contains('.') {
        return Err(bad("not a domain name"));
    }
    let labels_ok = s.split('.').all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    });
    if !labels_ok {
        return Err(bad("not a domain name (no wildcards, urls or addresses)"));
    }
    Ok(s)
}

use entra_core::shorten_untrusted as shorten;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_case_insensitive_match() {
        let d = AllowedDomains::new(["acme.com"]).unwrap();
        assert!(d.allows("alice@acme.com"));
        assert!(d.allows("ALICE@ACME.COM"));
        assert!(d.allows("alice@acme.com."));
        assert!(d.allows("  alice@acme.com "));
        assert!(d.allows("alice_contoso.com#EXT#@acme.com"));
        for bad in [
            "alice@evil-acme.com",
            "alice@acme.com.evil.io",
            "alice@sub.acme.com",
            "alice@acme.co",
            "alice@acmeXcom",
            "acme.com",
            "alice@",
            "",
            "alice@acme.com@evil.io",
        ] {
            assert!(!d.allows(bad), "{bad:?}");
        }
    }

    #[test]
    fn ascii_case_folding_only() {
        let d = AllowedDomains::new(["kontoso.com", "xn--bcher-kva.example"]).unwrap();
        // Passing: ASCII case differences, the punycode form.
        assert!(d.allows("alice@KONTOSO.com"));
        assert!(d.allows("alice@Kontoso.COM"));
        assert!(d.allows("alice@XN--BCHER-KVA.example"));
        // Failing: characters that Unicode lowercases to ASCII letters, and other
        // non-ASCII look-alikes.
        for bad in [
            "alice@\u{212A}ontoso.com",  // KELVIN SIGN, lowercases to 'k'
            "alice@kontoso.co\u{041C}",  // CYRILLIC CAPITAL EM
            "alice@\u{043A}ontoso.com",  // CYRILLIC SMALL KA
            "alice@kontos\u{3BF}.com",   // GREEK SMALL OMICRON
            "alice@kontoso\u{FF0E}com",  // FULLWIDTH FULL STOP
            "alice@b\u{FC}cher.example", // the Unicode form of the listed punycode
        ] {
            assert!(!d.allows(bad), "{bad:?}");
        }
        assert_eq!(domain_of("a@\u{212A}ONTOSO.com").as_deref(), Some("\u{212A}ontoso.com"));
        assert_eq!(domain_of(&format!("a@{}", "x".repeat(1000))), None);
    }

    #[test]
    fn long_addresses_are_compared_whole() {
        // A listed domain of the longest legal length (253 bytes).
        let label = "a".repeat(63);
        let longest = format!("{label}.{label}.{label}.{}.com", "b".repeat(57));
        assert_eq!(longest.len(), 253);
        let d = AllowedDomains::new([longest.as_str()]).unwrap();
        // Passing: the listed domain itself, in any ASCII case.
        assert!(d.allows(&format!("alice@{longest}")));
        assert!(d.allows(&format!("alice@{}", longest.to_ascii_uppercase())));
        // Failing: the listed domain followed by more characters. Cut to 253
        // characters, these used to compare equal to it.
        for tail in ["x", ".evil.example", &".x".repeat(500)] {
            let address = format!("mallory@{longest}{tail}");
            assert!(!d.allows(&address), "{tail:?}");
            assert_eq!(domain_of(&address), None, "{tail:?}");
        }
        // An over-long domain is refused as a configured domain too.
        assert!(AllowedDomains::new([format!("{longest}x")]).is_err());
    }

    #[test]
    fn empty_list_allows_all() {
        assert!(AllowedDomains::any().allows("x@y.z"));
        assert!(AllowedDomains::parse_list("").unwrap().is_empty());
        assert!(AllowedDomains::parse_list("[]").unwrap().is_empty());
    }

    #[test]
    fn list_forms() {
        for input in [
            "acme.com, acme-subsidiary.com",
            r#"["acme.com","acme-subsidiary.com"]"#,
            "['acme.com', 'acme-subsidiary.com']",
            "acme.com acme-subsidiary.com",
            "@ACME.com;acme-subsidiary.com",
        ] {
            let d = AllowedDomains::parse_list(input).unwrap();
            assert_eq!(d.domains(), ["acme.com", "acme-subsidiary.com"], "{input}");
        }
    }

    #[test]
    fn bad_domains_are_config_errors() {
        for bad in [
            "*.acme.com",
            "acme",
            "https://acme.com",
            "a@acme.com",
            "-acme.com",
            "ac me.com",
            "\u{212A}ontoso.com",
            "b\u{FC}cher.example",
        ] {
            assert!(
                matches!(AllowedDomains::new([bad]), Err(Error::InvalidConfig { .. })),
                "{bad}"
            );
        }
    }
}
