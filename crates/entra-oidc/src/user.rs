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
    username: Option<String>,
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

    /// The `email` claim (needs the `email` scope; mutable).
    pub fn email(&self) -> Option<&str> {
        self.email.as_deref()
    }

    /// The sign-in name: `preferred_username` (v2), else `upn` or `unique_name`
    /// (mutable).
    pub fn username(&self) -> Option<&str> {
        self.username.as_deref()
    }

    /// The address checked against the allowed domains: `email`, else the
    /// sign-in name.
    pub fn address(&self) -> Option<&str> {
        self.email().or(self.username())
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

    /// Every claim of the validated ID token.
    pub fn claims(&self) -> &EntraClaims {
        &self.claims
    }

    /// Refuses the user when `domains` is not empty and their address is not in it.
    pub(crate) fn check_domain(&self, domains: &AllowedDomains) -> Result<()> {
        if domains.is_empty() {
            return Ok(());
        }
        match self.address() {
            Some(a) if domains.allows(a) => Ok(()),
            Some(a) => Err(Error::DomainNotAllowed { domain: domain_of(a) }),
            None => Err(Error::DomainNotAllowed { domain: None }),
        }
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

    #[test]
    fn domain_check_uses_email_then_username() {
        let domains = AllowedDomains::new(["acme.com"]).unwrap();
        let ok = User::from_claims(claims(serde_json::json!({
            "tid": TID, "oid": "a", "email": "alice@ACME.com", "preferred_username": "alice@acme.onmicrosoft.com"
        })))
        .unwrap();
        ok.check_domain(&domains).unwrap();
        let by_upn = User::from_claims(claims(
            serde_json::json!({"tid": TID, "oid": "a", "preferred_username": "bob@acme.com"}),
        ))
        .unwrap();
        by_upn.check_domain(&domains).unwrap();
        for (addr, expected) in [
            ("m@evil-acme.com", Some("evil-acme.com")),
            ("m@acme.com.evil.io", Some("acme.com.evil.io")),
        ] {
            let u = User::from_claims(claims(
                serde_json::json!({"tid": TID, "oid": "a", "email": addr}),
            ))
            .unwrap();
            match u.check_domain(&domains) {
                Err(Error::DomainNotAllowed { domain }) => assert_eq!(domain.as_deref(), expected),
                other => panic!("{addr}: {other:?}"),
            }
        }
        let none = User::from_claims(claims(serde_json::json!({"tid": TID, "oid": "a"}))).unwrap();
        assert!(matches!(
            none.check_domain(&domains),
            Err(Error::DomainNotAllowed { domain: None })
        ));
        none.check_domain(&AllowedDomains::any()).unwrap();
    }
}
