//! How tokens are stored in any [`entra_core::TokenCache`] (the default one is
//! [`entra_core::MemoryTokenCache`]).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use entra_core::{AccessToken, IdentityKey, Secret};

/// Stores a token as `"<expires at, unix seconds>\n<tid> <oid>\n<scopes>\n<token>"`:
/// any [`entra_core::TokenCache`] (Redis included) holds strings, and the user
/// the token was issued for travels with it.
pub(crate) fn encode(token: &AccessToken, user: &IdentityKey) -> Secret {
    let exp = token.expires_at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    Secret::new(format!(
        "{exp}\n{} {}\n{}\n{}",
        user.tid,
        user.oid,
        token.scopes.join(" "),
        token.secret.expose_secret()
    ))
}

/// Reads back what [`encode`] stored for `user`; `None` for anything else,
/// including a token stored for another user.
pub(crate) fn decode(stored: &Secret, user: &IdentityKey) -> Option<AccessToken> {
    let mut parts = stored.expose_secret().splitn(4, '\n');
    let exp: u64 = parts.next()?.parse().ok()?;
    let (tid, oid) = parts.next()?.split_once(' ')?;
    if tid != user.tid.as_str() || oid != user.oid {
        return None;
    }
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

    fn user_in(tid: &str, oid: &str) -> IdentityKey {
        let claims: entra_core::EntraClaims =
            serde_json::from_value(serde_json::json!({"tid": tid, "oid": oid})).unwrap();
        claims.identity_key().unwrap()
    }

    fn user(oid: &str) -> IdentityKey {
        user_in("72f988bf-86f1-41af-91ab-2d7cd011db47", oid)
    }

    #[test]
    fn encode_decode_round_trip() {
        let t = AccessToken::new(
            Secret::new("eyJ.a.b"),
            UNIX_EPOCH + Duration::from_secs(1_700_003_600),
            vec!["User.Read".into(), "Mail.Read".into()],
        );
        let alice = user("00000000-0000-0000-0000-0000000000aa");
        let back = decode(&encode(&t, &alice), &alice).unwrap();
        assert_eq!(back.secret, t.secret);
        assert_eq!(back.expires_at, t.expires_at);
        assert_eq!(back.scopes, t.scopes);
        for bad in ["", "x\ny\nz", "1\n", "1\ns\n", "18446744073709551615\ns\nt", "-1\ns\nt"] {
            assert!(decode(&Secret::new(bad), &alice).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn a_token_stored_for_one_user_never_answers_another() {
        let t =
            AccessToken::new(Secret::new("eyJ.a.b"), UNIX_EPOCH + Duration::from_secs(9), vec![]);
        let alice = user("00000000-0000-0000-0000-0000000000aa");
        let bob = user("00000000-0000-0000-0000-0000000000bb");
        let stored = encode(&t, &alice);
        assert!(decode(&stored, &alice).is_some());
        assert!(decode(&stored, &bob).is_none());
        let other_tenant = user_in("11111111-1111-1111-1111-111111111111", &alice.oid);
        assert!(decode(&stored, &other_tenant).is_none());
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
