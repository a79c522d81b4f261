//! The signed-in user and the result of a completed sign-in.

use std::fmt;

use entra_core::{EntraClaims, Groups, IdentityKey, TenantId};

use crate::domains::domain_of;
use crate::{AllowedDomains, Error, Result, Tokens};

/// What the ID token says about the user's groups.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum UserGroups {
    /// The groups (object ids, or names for on-premises groups when configured).
    Listed(Vec<String>),
    /// The user has more groups than fit in a token (over 200): resolve them
    /// through Microsoft Graph (entra-teams does).
    Overage,
    /// The app registration does not emit a groups claim.
    Absent,
}

/// A signed-in user, from a validated ID token.
///
/// Key users by [`User::key`] (tenant id + object id). `email` and `username` are
/// mutable and, in another tenant, chosen by its administrators: display them,
/// never key accounts by them. `Debug` prints only the key.
#[derive(Clone)]
pub struct User {
    key: IdentityKey,
    name: Option<String>,
    email: Option<String>,
    email_verified: bool,
    username: Option<String>,
    sign_in_name: Option<String>,
    groups: UserGroups,
    roles: Vec<String>,
    claims: EntraClaims,
}

impl User {
    /// Builds the user from validated ID token claims.
    ///
    /// # Errors
    /// [`Error::MissingIdentity`] when `tid` or `oid` is missing.
    pub(crate) fn from_claims(claims: EntraClaims) -> Result<Self> {
        let key = claims.identity_key().ok_or(Error::MissingIdentity)?;
        let groups = match claims.groups() {
            Groups::Listed(g) => UserGroups::Listed(g.to_vec()),
            Groups::Overage => UserGroups::Overage,
            _ => UserGroups::Absent,
        };
        Ok(Self {
            key,
            name: claims.name.clone(),
            email: claims.email.clone(),
            email_verified: claims.extra.get("xms_edov") == Some(&serde_json::Value::Bool(true)),
            sign_in_name: claims.preferred_username.clone().or_else(|| claims.upn.clone()),
            username: claims
                .preferred_username
                .clone()
                .or_else(|| claims.upn.clone())
                .or_else(|| claims.unique_name.clone()),
            groups,
            roles: claims.roles.clone(),
            claims,
        })
    }

    /// The stable identity: (`tid`, `oid`).
    pub fn key(&self) -> &IdentityKey {
        &self.key
    }

    /// The user's tenant.
    pub fn tenant_id(&self) -> &TenantId {
        &self.key.tid
    }

    /// The user's object id in their tenant.
    pub fn object_id(&self) -> &str {
        &self.key.oid
    }

    /// The display name (`name`, needs the `profile` scope).
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The `email` claim (needs the `email` scope; mutable). In another tenant
    /// it is whatever that tenant's administrators typed: display it, do not
    /// trust its domain (see [`User::verified_email`]).
    pub fn email(&self) -> Option<&str> {
        self.email.as_deref()
    }

    /// The `email` claim, only when the ID token carries Entra's `xms_edov`
    /// optional claim set to `true` ("email domain owner verified": the domain
    /// of the address is verified by the user's tenant). `None` otherwise.
    pub fn verified_email(&self) -> Option<&str> {
        self.email.as_deref().filter(|_| self.email_verified)
    }

    /// The sign-in name: `preferred_username` (v2), else `upn` or `unique_name`
    /// (mutable).
    pub fn username(&self) -> Option<&str> {
        self.username.as_deref()
    }

    /// The address checked first against the allowed domains: the sign-in name
    /// (`preferred_username`, else `upn`), whose domain Entra only lets a tenant
    /// give its users when it has verified that domain. [`User::verified_email`]
    /// is checked too; the unverified `email` never is.
    pub fn address(&self) -> Option<&str> {
        self.sign_in_name.as_deref()
    }

    /// The groups, or the overage marker.
    pub fn groups(&self) -> &UserGroups {
        &self.groups
    }

    /// The app roles assigned to the user.
    pub fn roles(&self) -> &[String] {
        &self.roles
    }

    /// Whether the user has app role `role`.
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }

    /// The ID token's `sid` claim: Entra's id for the user's sign-in session
    /// (an optional claim; add `sid` to the ID token in the app registration's
    /// Token configuration). Entra's front-channel logout request names the
    /// session that ended by this `sid` (with `iss`): keep it beside the app's
    /// own session so that request can end the right one. `None` when absent.
    pub fn sid(&self) -> Option<&str> {
        self.claims.sid.as_deref()
    }

    /// The ID token's `login_hint` claim: an opaque hint for this account (an
    /// optional claim; add `login_hint` in Token configuration). Send it as
    /// `logout_hint` at sign-out ([`Client::logout_url`](crate::Client::logout_url))
    /// to skip the account picker, or as `login_hint` at a later sign-in.
    /// `None` when absent.
    pub fn login_hint(&self) -> Option<&str> {
        self.claims.login_hint.as_deref()
    }

    /// Every claim of the validated ID token.
    pub fn claims(&self) -> &EntraClaims {
        &self.claims
    }

    /// Refuses the user when `domains` is not empty and neither the sign-in name
    /// ([`User::address`]) nor the verified email ([`User::verified_email`]) is
    /// in it. The `email` claim alone is never enough: in a multi-tenant app
    /// another tenant's administrator can set it to any address.
    pub(crate) fn check_domain(&self, domains: &AllowedDomains) -> Result<()> {
        if domains.is_empty() {
            return Ok(());
        }
        let candidates = [self.address(), self.verified_email()];
        if candidates.iter().flatten().any(|a| domains.allows(a)) {
            return Ok(());
        }
        let domain = candidates.iter().flatten().find_map(|a| domain_of(a));
        Err(Error::DomainNotAllowed { domain })
    }
}

impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User").field("key", &self.key).finish_non_exhaustive()
    }
}

/// A completed sign-in: who signed in, their tokens, and the local path to send
/// the browser to.
#[derive(Clone)]
pub struct SignedIn {
    user: User,
    tokens: Tokens,
    return_to: String,
}

impl SignedIn {
    pub(crate) fn new(user: User, tokens: Tokens, return_to: String) -> Self {
        Self { user, tokens, return_to }
    }

    /// The user.
    pub fn user(&self) -> &User {
        &self.user
    }

    /// The tokens.
    pub fn tokens(&self) -> &Tokens {
        &self.tokens
    }

    /// The local path given to `begin`, checked again on the way back.
    pub fn return_to(&self) -> &str {
        &self.return_to
    }

    /// Splits into user, tokens and return path.
    pub fn into_parts(self) -> (User, Tokens, String) {
        (self.user, self.tokens, self.return_to)
    }
}

impl fmt::Debug for SignedIn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignedIn")
            .field("user", &self.user)
            .field("tokens", &self.tokens)
            .field("return_to", &self.return_to)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TID: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";

    fn claims(v: serde_json::Value) -> EntraClaims {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn user_from_claims() {
        let u = User::from_claims(claims(serde_json::json!({
            "tid": TID, "oid": "AAAA", "name": "Alice", "preferred_username": "alice@acme.com",
            "groups": ["g1"], "roles": ["Admin"]
        })))
        .unwrap();
        assert_eq!(u.object_id(), "aaaa");
        assert_eq!(u.address(), Some("alice@acme.com"));
        assert_eq!(u.groups(), &UserGroups::Listed(vec!["g1".into()]));
        assert!(u.has_role("Admin") && !u.has_role("admin"));
        assert!(!format!("{u:?}").contains("alice"));
        assert_eq!((u.sid(), u.login_hint()), (None, None));
        let with_session = User::from_claims(claims(serde_json::json!({
            "tid": TID, "oid": "a", "sid": "00b5-sess", "login_hint": "O.aGludA"
        })))
        .unwrap();
        assert_eq!(with_session.sid(), Some("00b5-sess"));
        assert_eq!(with_session.login_hint(), Some("O.aGludA"));
        assert!(!format!("{with_session:?}").contains("aGludA"));

        let over = User::from_claims(claims(serde_json::json!({
            "tid": TID, "oid": "b", "_claim_names": {"groups": "src1"}
        })))
        .unwrap();
        assert_eq!(over.groups(), &UserGroups::Overage);
        assert!(matches!(
            User::from_claims(claims(serde_json::json!({"oid": "b"}))),
            Err(Error::MissingIdentity)
        ));
    }

    fn user(v: serde_json::Value) -> User {
        let mut base = serde_json::json!({"tid": TID, "oid": "a"});
        base.as_object_mut().unwrap().extend(v.as_object().unwrap().clone());
        User::from_claims(claims(base)).unwrap()
    }

    fn refused_domain(u: &User, domains: &AllowedDomains) -> Option<String> {
        match u.check_domain(domains) {
            Err(Error::DomainNotAllowed { domain }) => domain,
            other => panic!("expected a refusal: {other:?}"),
        }
    }

    #[test]
    fn domain_check_uses_the_sign_in_name() {
        let domains = AllowedDomains::new(["acme.com"]).unwrap();
        // Passing: preferred_username, else upn (v1 claims).
        let u = user(serde_json::json!({"preferred_username": "Bob@ACME.com"}));
        assert_eq!(u.address(), Some("Bob@ACME.com"));
        u.check_domain(&domains).unwrap();
        user(serde_json::json!({"upn": "bob@acme.com"})).check_domain(&domains).unwrap();
        // The unverified email of an acme user does not get in the way.
        user(serde_json::json!({"preferred_username": "bob@acme.com", "email": "bob@gmail.com"}))
            .check_domain(&domains)
            .unwrap();

        // Failing: look-alike domains, non-ASCII case folding, no sign-in name.
        for (name, expected) in [
            ("m@evil-acme.com", Some("evil-acme.com")),
            ("m@acme.com.evil.io", Some("acme.com.evil.io")),
            ("m@\u{212A}cme.com", Some("\u{212A}cme.com")),
        ] {
            let u = user(serde_json::json!({"preferred_username": name}));
            assert_eq!(refused_domain(&u, &domains).as_deref(), expected, "{name}");
        }
        let kelvin = AllowedDomains::new(["kontoso.com"]).unwrap();
        let u = user(serde_json::json!({"preferred_username": "m@\u{212A}ontoso.com"}));
        assert!(refused_domain(&u, &kelvin).is_some());
        // unique_name alone is not a sign-in name for this check.
        let u = user(serde_json::json!({"unique_name": "m@acme.com"}));
        assert_eq!(refused_domain(&u, &domains), None);
        let none = user(serde_json::json!({}));
        assert_eq!(refused_domain(&none, &domains), None);
        none.check_domain(&AllowedDomains::any()).unwrap();
    }

    #[test]
    fn email_counts_only_when_its_domain_owner_is_verified() {
        let domains = AllowedDomains::new(["acme.com"]).unwrap();
        // Failing: another tenant's admin set the mail attribute to an acme address.
        let forged = serde_json::json!({
            "preferred_username": "mallory@attacker.onmicrosoft.com", "email": "x@acme.com"
        });
        let u = user(forged.clone());
        assert_eq!(u.email(), Some("x@acme.com"));
        assert_eq!(u.verified_email(), None);
        assert_eq!(refused_domain(&u, &domains).as_deref(), Some("attacker.onmicrosoft.com"));
        // xms_edov must be the JSON boolean true.
        for edov in [
            serde_json::json!(false),
            serde_json::json!("true"),
            serde_json::json!(1),
            serde_json::json!("1"),
            serde_json::Value::Null,
        ] {
            let mut c = forged.clone();
            c["xms_edov"] = edov.clone();
            assert!(refused_domain(&user(c), &domains).is_some(), "xms_edov = {edov}");
        }
        // Failing even when verified: the verified email is in another domain, or
        // uses a non-ASCII look-alike.
        for email in ["x@evil-acme.com", "x@\u{212A}cme.com"] {
            let u = user(serde_json::json!({
                "preferred_username": "m@attacker.example", "email": email, "xms_edov": true
            }));
            assert!(refused_domain(&u, &domains).is_some(), "{email}");
        }

        // Passing: the same address with xms_edov = true.
        let mut verified = forged;
        verified["xms_edov"] = serde_json::json!(true);
        let u = user(verified);
        assert_eq!(u.verified_email(), Some("x@acme.com"));
        u.check_domain(&domains).unwrap();
        // A verified email and no sign-in name.
        user(serde_json::json!({"email": "x@ACME.com", "xms_edov": true}))
            .check_domain(&domains)
            .unwrap();
    }
}
