//! Real [`ValidatedToken`]s for tests: tokens minted by the mock and verified
//! against its keys, so that no test needs to build a trusted token from claims.

use entra_core::{EntraClaims, Secret, TenantId, ValidatedToken, dangerous};
use jsonwebtoken::{Algorithm, Validation};

use crate::{Error, MockEntra, Result, TestApp, TestUser};

impl MockEntra {
    /// A delegated access token of `user` for `api` ([`MockEntra::access_token`]),
    /// verified against the mock's keys: a real [`ValidatedToken`], as an API
    /// validating with `entra-jwks` would hold after checking the bearer token.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use entra_testkit::{MockEntra, TestUser};
    ///
    /// let mock = MockEntra::start().await;
    /// let alice = mock.add_user(TestUser::new("alice@contoso.com"));
    /// let user = mock.validated_token(&alice, &mock.default_api());
    /// assert_eq!(user.claims().oid.as_deref(), Some(alice.oid.as_str()));
    /// assert!(user.claims().has_scope("access_as_user"));
    /// # }
    /// ```
    ///
    /// # Panics
    /// When the token cannot be minted or does not verify (only after every key was
    /// retired with [`MockEntra::retire_key`]); [`MockEntra::verify_token`] returns
    /// the error instead.
    pub fn validated_token(&self, user: &TestUser, api: &TestApp) -> ValidatedToken {
        let token = self.access_token(user, api);
        match self.verify_token(&token) {
            Ok(validated) => validated,
            Err(e) => panic!("entra-testkit: the minted token does not verify: {e}"),
        }
    }

    /// Verifies a token the way an API of this mock would, and wraps it as a
    /// [`ValidatedToken`]: a published key of the mock signed it (RS256 or PS256),
    /// its `iss` is the v1 or v2 issuer of a mock tenant named by its `tid`, its
    /// `aud` is an app registered in the mock (client id or App ID URI), it is not
    /// a Microsoft Graph token, and `exp`/`nbf` hold on the mock's clock (no
    /// leeway). The claims are parsed by [`EntraClaims`]' parser.
    ///
    /// Use it with [`MockEntra::mint`] for tokens of any [`crate::TokenSpec`].
    ///
    /// # Errors
    /// [`Error::TokenRefused`] naming the first check that failed.
    pub fn verify_token(&self, token: &str) -> Result<ValidatedToken> {
        let refused = |reason| Error::TokenRefused { reason };
        let header = jsonwebtoken::decode_header(token).map_err(|_| refused("malformed header"))?;
        if !matches!(header.alg, Algorithm::RS256 | Algorithm::PS256) {
            return Err(refused("not signed with RS256 or PS256"));
        }
        if header.nonce.is_some() {
            return Err(refused("a Microsoft Graph token (header nonce)"));
        }
        let kid = header.kid.ok_or(refused("no kid"))?;
        let (key, now) = self.with(|s| (s.keys.iter().find(|k| k.kid == kid).cloned(), s.now()));
        let key = key.ok_or(refused("no published key has its kid"))?;
        let mut rules = Validation::new(header.alg);
        rules.validate_exp = false;
        rules.validate_aud = false;
        rules.required_spec_claims.clear();
        let decoding = key.decoding_key()?;
        let payload: serde_json::Value = jsonwebtoken::decode(token, &decoding, &rules)
            .map_err(|_| refused("invalid signature"))?
            .claims;
        let claims: EntraClaims =
            serde_json::from_value(payload).map_err(|_| refused("claims are not Entra claims"))?;
        let tid = claims.tid.as_deref().and_then(|t| TenantId::parse(t).ok());
        let iss = claims.iss.as_deref().unwrap_or_default();
        let issuer_ok = self.with(|s| {
            tid.as_ref().is_some_and(|t| {
                s.is_tenant(t.as_str())
                    && (iss == s.cloud.v2_issuer(t) || iss == s.cloud.v1_issuer(t))
            })
        });
        if !issuer_ok {
            return Err(refused("issuer is not a tenant of the mock"));
        }
        if claims.is_for_graph() {
            return Err(refused("a Microsoft Graph token"));
        }
        let audience_ok = self.with(|s| {
            claims.aud.iter().any(|aud| {
                s.apps.iter().any(|app| {
                    app.client_id.as_str().eq_ignore_ascii_case(aud) || app.app_id_uri() == aud
                })
            })
        });
        if !audience_ok {
            return Err(refused("audience is not an app of the mock"));
        }
        if claims.exp.is_none_or(|exp| exp <= now) {
            return Err(refused("expired"));
        }
        if claims.nbf.is_some_and(|nbf| nbf > now) {
            return Err(refused("not valid yet"));
        }
        Ok(dangerous::assume_validated(Secret::new(token), claims))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use entra_core::ManualClock;

    use crate::{MockEntra, TestApp, TestUser, TokenSpec};

    #[tokio::test]
    async fn verifies_what_the_mock_signed_and_nothing_else() {
        let clock = ManualClock::starting_now();
        let mock = MockEntra::builder().clock(clock.clone()).start().await.unwrap();
        let alice = mock.add_user(TestUser::new("alice@contoso.com"));
        let api = mock.default_api();
        let user = mock.validated_token(&alice, &api);
        assert_eq!(user.claims().tid.as_deref(), Some(mock.tenant_id().as_str()));
        assert_eq!(user.raw().expose_secret().split('.').count(), 3);

        let v1 = mock.verify_token(&mock.mint(TokenSpec::access_v1(&alice, &api))).unwrap();
        assert_eq!(v1.claims().ver.as_deref(), Some("1.0"));

        let refused = |token: &str| mock.verify_token(token).unwrap_err().to_string();
        assert!(refused("not-a-token").contains("malformed"));
        assert!(refused(&mock.graph_token(&alice)).contains("Graph"));
        let token = mock.access_token(&alice, &api);
        let (rest, sig) = token.rsplit_once('.').unwrap();
        let flipped = if sig.starts_with('A') { "B" } else { "A" };
        assert!(refused(&format!("{rest}.{flipped}{}", &sig[1..])).contains("signature"));
        let stranger = TestApp::new("unregistered");
        assert!(refused(&mock.mint(TokenSpec::access(&alice, &stranger))).contains("audience"));
        clock.advance(Duration::from_secs(2 * 3600));
        assert!(refused(&token).contains("expired"));
        let e = mock.verify_token(&token).unwrap_err();
        assert!(e.is_unauthorized() && e.code() == "token_refused");
    }
}
