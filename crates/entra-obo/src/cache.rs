//! How tokens are stored in any [`entra_core::TokenCache`] (the default one is
//! [`entra_core::MemoryTokenCache`]).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use entra_core::{AccessToken, Secret};

/// Stores a token as `"<expires at, unix seconds>\n<scopes>\n<token>"`: any
/// [`entra_core::TokenCache`] (Redis included) holds strings.
pub(crate) fn encode(token: &AccessToken) -> Secret {
    let exp = token.expires_at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    Secret::new(format!("{exp}\n{}\n{}", token.scopes.join(" "), token.secret.expose_secret()))
}

/// Reads back what [`encode`] stored; `None` for anything else.
pub(crate) fn decode(stored: &Secret) -> Option<AccessToken> {
    let mut parts = stored.expose_secret().splitn(3, '\n');
    let exp: u64 = parts.next()?.parse().ok()?;
    let scopes = parts.next()?.split_ascii_whitespace().map(str::to_owned).collect();
    let token = parts.next().filter(|t| !t.is_empty())?;
    let expires_at = UNIX_EPOCH.checked_add(Duration::from_secs(exp))?;
    Some(AccessToken::new(Secret::new(token), expires_at, scopes))
}

/// Whether `token` is still usable at `now`, keeping `skew` in reserve.
pub(crate) fn usable(token: &AccessToken, now: SystemTime, skew: Duration) -> bool {
    token.expires_at.checked_sub(skew).is_some_and(|t| t > now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_decode_round_trip() {
        let t = AccessToken::new(
            Secret::new("eyJ.a.b"),
            UNIX_EPOCH + Duration::from_secs(1_700_003_600),
            vec!["User.Read".into(), "Mail.Read".into()],
        );
        let back = decode(&encode(&t)).unwrap();
        assert_eq!(back.secret, t.secret);
        assert_eq!(back.expires_at, t.expires_at);
        assert_eq!(back.scopes, t.scopes);
        for bad in ["", "x\ny\nz", "1\n", "1\ns\n", "18446744073709551615\ns\nt", "-1\ns\nt"] {
            assert!(decode(&Secret::new(bad)).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn usable_keeps_the_skew_in_reserve() {
        let now = UNIX_EPOCH + Duration::from_secs(1_000_000);
        let t = |secs| AccessToken::new(Secret::new("t"), now + Duration::from_secs(secs), vec![]);
        let skew = Duration::from_secs(300);
        assert!(usable(&t(301), now, skew));
        assert!(!usable(&t(300), now, skew));
        assert!(!usable(&AccessToken::new(Secret::new("t"), UNIX_EPOCH, vec![]), now, skew));
    }
}
