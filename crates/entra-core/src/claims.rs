//! Typed claims of Entra v1 and v2 access tokens and ID tokens.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{TenantId, TokenVersion};

/// The application id of Microsoft Graph, as it appears in `aud` of Graph tokens.
pub const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";

/// The `aud` claim: one audience or several.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum Audience {
    /// A single audience (what Entra sends).
    One(String),
    /// Several audiences.
    Many(Vec<String>),
}

impl Audience {
    /// The audiences.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        let slice: &[String] = match self {
            Self::One(a) => std::slice::from_ref(a),
            Self::Many(v) => v,
        };
        slice.iter().map(String::as_str)
    }

    /// Whether `aud` is one of the audiences (exact comparison).
    pub fn contains(&self, aud: &str) -> bool {
        self.iter().any(|a| a == aud)
    }
}

impl Default for Audience {
    fn default() -> Self {
        Self::Many(Vec::new())
    }
}

impl fmt::Debug for Audience {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// One entry of `_claim_sources`: where Entra says the overflowing claim lives.
/// The endpoint is a legacy Azure AD Graph URL: never call it (use Microsoft Graph).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Debug, Default)]
#[non_exhaustive]
pub struct ClaimSource {
    /// The legacy endpoint, kept for diagnostics only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
}

/// The claims of an Entra token, v1 or v2, access or ID token.
///
/// Every claim Entra documents for these tokens has a field; anything else lands in
/// [`EntraClaims::extra`]. Use the accessors ([`EntraClaims::identity_key`],
/// [`EntraClaims::caller_app_id`], [`EntraClaims::scopes`],
/// [`EntraClaims::groups`], [`EntraClaims::is_app_only`]) rather than the raw
/// fields: they hide the differences between v1 and v2.
///
/// `Debug` prints only non-personal routing claims (`ver`, `tid`, `aud`, `exp`);
/// the full claim set is never logged by this crate.
#[derive(Clone, PartialEq, Serialize, Deserialize, Default)]
#[non_exhaustive]
pub struct EntraClaims {
    /// Token version, `"1.0"` or `"2.0"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ver: Option<String>,
    /// Issuer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// Audience: client id (v2) or App ID URI (often v1).
    #[serde(default)]
    pub aud: Audience,
    /// Tenant id of the user (or the app, for app-only tokens).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tid: Option<String>,
    /// Object id of the user or service principal: immutable, with `tid` the identity key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oid: Option<String>,
    /// Subject: pairwise per application, not a global user id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    /// v2: application id of the client that requested the token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub azp: Option<String>,
    /// v2: how the client authenticated (`0` public, `1` secret, `2` certificate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub azpacr: Option<String>,
    /// v1: application id of the client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appid: Option<String>,
    /// v1: how the client authenticated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appidacr: Option<String>,
    /// Delegated scopes, space-separated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scp: Option<String>,
    /// App roles (application permissions, or the user's assigned app roles).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
    /// Group object ids (or names for on-prem groups when configured). `None` when
    /// absent, which with [`EntraClaims::claim_names`] or `hasgroups` means overage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<String>>,
    /// Directory role template ids.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub wids: Vec<String>,
    /// `app` for app-only tokens, `user` for delegated ones (optional claim).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idtyp: Option<String>,
    /// Email address (mutable: never a key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// v2 sign-in name (mutable: never a key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_username: Option<String>,
    /// v1 user principal name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upn: Option<String>,
    /// v1 display form of the user name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unique_name: Option<String>,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// ID tokens: the nonce sent with the authorization request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// Expiry, seconds since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    /// Not before, seconds since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    /// Issued at, seconds since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    /// Unique token identifier (Entra's `uti`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uti: Option<String>,
    /// Overage: which claims were moved out of the token (`{"groups": "src1"}`).
    #[serde(rename = "_claim_names", default, skip_serializing_if = "Option::is_none")]
    pub claim_names: Option<BTreeMap<String, String>>,
    /// Overage: where the moved claims live (legacy endpoints; not to be called).
    #[serde(rename = "_claim_sources", default, skip_serializing_if = "Option::is_none")]
    pub claim_sources: Option<BTreeMap<String, ClaimSource>>,
    /// Implicit-flow overage marker.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hasgroups: Option<bool>,
    /// Every other claim.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl fmt::Debug for EntraClaims {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EntraClaims")
            .field("ver", &self.ver)
            .field("tid", &self.tid)
            .field("aud", &self.aud)
            .field("exp", &self.exp)
            .finish_non_exhaustive()
    }
}

/// The stable identity of a user or service principal: (`tid`, `oid`).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct IdentityKey {
    /// Tenant id.
    pub tid: TenantId,
    /// Object id, lowercase.
    pub oid: String,
}

impl fmt::Display for IdentityKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.tid, self.oid)
    }
}

/// What a token says about the user's groups.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum Groups<'a> {
    /// The token lists the groups (possibly none).
    Listed(&'a [String]),
    /// Group overage: the list was left out; resolve it through Microsoft Graph.
    Overage,
    /// The token carries no group information (the app does not emit groups).
    Absent,
}

impl EntraClaims {
    /// The token version from `ver`.
    pub fn version(&self) -> Option<TokenVersion> {
        match self.ver.as_deref() {
            Some("1.0") => Some(TokenVersion::V1),
            Some("2.0") => Some(TokenVersion::V2),
            _ => None,
        }
    }

    /// The stable identity (`tid`, `oid`); `None` when either is missing or `tid`
    /// is not a GUID. Never key users by `email` or `preferred_username`.
    pub fn identity_key(&self) -> Option<IdentityKey> {
        let tid = TenantId::parse(self.tid.as_deref()?).ok()?;
        let oid = self.oid.as_deref()?.to_ascii_lowercase();
        Some(IdentityKey { tid, oid })
    }

    /// The tenant id, when present and a GUID.
    pub fn tenant_id(&self) -> Option<TenantId> {
        TenantId::parse(self.tid.as_deref()?).ok()
    }

    /// The client application that obtained the token: `azp` (v2) or `appid` (v1).
    pub fn caller_app_id(&self) -> Option<&str> {
        self.azp.as_deref().or(self.appid.as_deref())
    }

    /// The delegated scopes from `scp`.
    pub fn scopes(&self) -> BTreeSet<&str> {
        self.scp.as_deref().unwrap_or("").split_ascii_whitespace().collect()
    }

    /// Whether `scp` contains `scope`.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scp.as_deref().unwrap_or("").split_ascii_whitespace().any(|s| s == scope)
    }

    /// The app roles.
    pub fn roles(&self) -> &[String] {
        &self.roles
    }

    /// Whether `roles` contains `role`.
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }

    /// The groups, or the overage marker when Entra left them out
    /// (`_claim_names.groups` or `hasgroups: true`).
    pub fn groups(&self) -> Groups<'_> {
        if let Some(g) = &self.groups {
            return Groups::Listed(g);
        }
        let named = self.claim_names.as_ref().is_some_and(|n| n.contains_key("groups"));
        if named || self.hasgroups == Some(true) { Groups::Overage } else { Groups::Absent }
    }

    /// Whether this access token was issued to an application acting as itself
    /// (client credentials): `idtyp` is `app`; or, without the `idtyp` optional
    /// claim, the token has no `scp` and its `sub` is its `oid` (an app-only token's
    /// subject is the service principal itself, while a user's `sub` is pairwise).
    /// Meaningful for access tokens only.
    pub fn is_app_only(&self) -> bool {
        match self.idtyp.as_deref() {
            Some("app") => true,
            Some("user") => false,
            _ => self.scp.is_none() && self.sub.is_some() && self.sub == self.oid,
        }
    }

    /// Whether `aud` names Microsoft Graph (its app id or any Graph host), in which
    /// case only Graph can validate the token.
    pub fn is_for_graph(&self) -> bool {
        self.aud.iter().any(|a| {
            let a = a.trim_end_matches('/');
            a == GRAPH_APP_ID
                || a == "https://graph.microsoft.com"
                || a == "https://graph.microsoft.us"
                || a == "https://dod-graph.microsoft.us"
                || a == "https://microsoftgraph.chinacloudapi.cn"
                || a == "https://graph.windows.net"
        })
    }

    /// A display-friendly sign-in name: `preferred_username`, `upn`, `email` or
    /// `unique_name`, whichever comes first. Mutable: never a key.
    pub fn username(&self) -> Option<&str> {
        self.preferred_username
            .as_deref()
            .or(self.upn.as_deref())
            .or(self.email.as_deref())
            .or(self.unique_name.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TID: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";

    #[test]
    fn v2_access_token() {
        let c: EntraClaims = serde_json::from_value(serde_json::json!({
            "ver": "2.0", "iss": format!("https://login.microsoftonline.com/{TID}/v2.0"),
            "aud": "6e74172b-be56-4843-9ff4-e66a39bb12e3", "tid": TID,
            "oid": "A1B2C3D4-0000-0000-0000-000000000001", "sub": "pairwise",
            "azp": "11111111-0000-0000-0000-000000000000", "scp": "access_as_user User.Read",
            "groups": ["g1", "g2"], "exp": 2, "nbf": 1, "iat": 1, "custom": {"x": 1}
        }))
        .unwrap();
        assert_eq!(c.version(), Some(TokenVersion::V2));
        let key = c.identity_key().unwrap();
        assert_eq!(key.oid, "a1b2c3d4-0000-0000-0000-000000000001");
        assert_eq!(c.caller_app_id(), Some("11111111-0000-0000-0000-000000000000"));
        assert!(c.has_scope("access_as_user"));
        assert!(!c.has_scope("access_as"));
        assert_eq!(c.scopes().len(), 2);
        assert!(matches!(c.groups(), Groups::Listed(g) if g.len() == 2));
        assert!(!c.is_app_only());
        assert!(c.extra.contains_key("custom"));
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("access_as_user") && !dbg.contains("a1b2c3d4"));
    }

    #[test]
    fn v1_app_only_and_overage() {
        let c: EntraClaims = serde_json::from_value(serde_json::json!({
            "ver": "1.0", "aud": ["api://x", "other"], "tid": TID, "oid": "o", "sub": "o", "appid": "app1",
            "roles": ["Tasks.ReadWrite.All"], "_claim_names": {"groups": "src1"},
            "_claim_sources": {"src1": {"endpoint": "https://graph.windows.net/x/users/y/getMemberObjects"}}
        }))
        .unwrap();
        assert_eq!(c.version(), Some(TokenVersion::V1));
        assert!(c.aud.contains("api://x"));
        assert_eq!(c.caller_app_id(), Some("app1"));
        assert!(c.is_app_only());
        assert!(c.has_role("Tasks.ReadWrite.All"));
        assert_eq!(c.groups(), Groups::Overage);
    }

    #[test]
    fn hasgroups_and_absent() {
        let c: EntraClaims = serde_json::from_str(r#"{"hasgroups":true,"idtyp":"user"}"#).unwrap();
        assert_eq!(c.groups(), Groups::Overage);
        assert!(!c.is_app_only());
        let c: EntraClaims = serde_json::from_str("{}").unwrap();
        assert_eq!(c.groups(), Groups::Absent);
        assert!(!c.is_app_only());
        // A user's ID token: no `scp`, but a pairwise `sub`: not app-only.
        let c: EntraClaims =
            serde_json::from_str(r#"{"oid":"o1","sub":"pairwise","roles":["Admin"]}"#).unwrap();
        assert!(!c.is_app_only());
        assert!(c.identity_key().is_none());
    }

    #[test]
    fn graph_audience() {
        for aud in [GRAPH_APP_ID, "https://graph.microsoft.com", "https://graph.microsoft.com/"] {
            let c: EntraClaims = serde_json::from_value(serde_json::json!({ "aud": aud })).unwrap();
            assert!(c.is_for_graph(), "{aud}");
        }
        let c: EntraClaims =
            serde_json::from_value(serde_json::json!({ "aud": "api://mine" })).unwrap();
        assert!(!c.is_for_graph());
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(serde_json::from_str::<EntraClaims>(r#"{"aud": 5}"#).is_err());
        assert!(serde_json::from_str::<EntraClaims>(r#"{"exp": "soon"}"#).is_err());
        assert!(serde_json::from_str::<EntraClaims>("[]").is_err());
    }
}
