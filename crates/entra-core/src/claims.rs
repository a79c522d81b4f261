//! Typed claims of Entra v1 and v2 access tokens and ID tokens.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::ser::{self, SerializeMap, Serializer};
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

/// Declares [`EntraClaims`] and its serde impls from one list of claims (see the
/// list below).
macro_rules! entra_claims {
    ($( $field:ident = $json:literal : $ty:ty, $doc:literal; )*) => {
        /// The claims of an Entra token, v1 or v2, access or ID token.
        ///
        /// Every claim Entra documents for these tokens has a field; anything else
        /// lands in [`EntraClaims::extra`]. Use the accessors
        /// ([`EntraClaims::identity_key`], [`EntraClaims::caller_app_id`],
        /// [`EntraClaims::scopes`], [`EntraClaims::groups`],
        /// [`EntraClaims::is_app_only`]) rather than the raw fields: they hide the
        /// differences between v1 and v2.
        ///
        /// Parsing reads the JSON object in one pass and refuses an object that
        /// names a claim twice (`{"aud":"a","aud":"b"}` is not a token Entra
        /// signed), whichever way it is parsed (`serde_json::from_slice`,
        /// `from_str`, `from_value`). Absent claims (`None`, empty lists) are left
        /// out when serializing, so serializing and parsing again gives the same
        /// claims.
        ///
        /// `Debug` prints only non-personal routing claims (`ver`, `tid`, `aud`,
        /// `exp`); the full claim set is never logged by this crate.
        #[derive(Clone, PartialEq, Default)]
        #[non_exhaustive]
        pub struct EntraClaims {
            $( #[doc = $doc] pub $field: $ty, )*
            /// Every other claim, by name. A name that is also a field above is
            /// refused when serializing.
            pub extra: serde_json::Map<String, serde_json::Value>,
        }

        /// The claims that have a field, in declaration order.
        #[allow(non_camel_case_types)]
        #[derive(Clone, Copy)]
        enum Field {
            $( $field, )*
        }

        impl Field {
            /// The field named `name` in JSON.
            fn from_json(name: &str) -> Option<Self> {
                match name {
                    $( $json => Some(Self::$field), )*
                    _ => None,
                }
            }

            /// The JSON name.
            fn json_name(self) -> &'static str {
                match self {
                    $( Self::$field => $json, )*
                }
            }

            /// A bit of its own in the set of claims seen while parsing.
            fn bit(self) -> u128 {
                1 << (self as u32)
            }
        }

        const _: () = assert!([$( $json ),*].len() <= 128, "the seen-set holds 128 claims");

        impl Serialize for EntraClaims {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let present = 0 $( + usize::from(!self.$field.is_absent()) )*;
                let mut map = serializer.serialize_map(Some(present + self.extra.len()))?;
                $(
                    if !self.$field.is_absent() {
                        map.serialize_entry($json, &self.$field)?;
                    }
                )*
                for (name, value) in &self.extra {
                    if let Some(field) = Field::from_json(name) {
                        return Err(ser::Error::custom(format_args!(
                            "claim `{}` is both a field and in `extra`",
                            field.json_name()
                        )));
                    }
                    map.serialize_entry(name, value)?;
                }
                map.end()
            }
        }

        impl<'de> Visitor<'de> for ClaimsVisitor {
            type Value = EntraClaims;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object of claims")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<EntraClaims, A::Error> {
                let mut claims = EntraClaims::default();
                let mut seen = 0u128;
                while let Some(key) = map.next_key::<Key>()? {
                    match key {
                        Key::Field(field) => {
                            if seen & field.bit() != 0 {
                                return Err(de::Error::duplicate_field(field.json_name()));
                            }
                            seen |= field.bit();
                            match field {
                                $( Field::$field => claims.$field = map.next_value()?, )*
                            }
                        }
                        Key::Other(name) => {
                            let value = map.next_value()?;
                            if claims.extra.contains_key(&name) {
                                return Err(de::Error::custom(format_args!(
                                    "duplicate claim `{}`",
                                    crate::shorten_untrusted(&name)
                                )));
                            }
                            claims.extra.insert(name, value);
                        }
                    }
                }
                Ok(claims)
            }
        }
    };
}

// The one list of claims. Each line declares a field of [`EntraClaims`]: its Rust
// name, its JSON name, its type and its docs. The struct, its `Deserialize` (one
// pass, duplicates refused), its `Serialize` and the claim-name matcher are all
// generated from this list: adding a claim is adding a line here.
//
// Types: `Option<T>` (absent is `None`), `Vec<T>` (absent is empty) or
// [`Audience`] (absent is no audience); absent claims are not serialized.
entra_claims! {
    ver = "ver": Option<String>, "Token version, `\"1.0\"` or `\"2.0\"`.";
    iss = "iss": Option<String>, "Issuer.";
    aud = "aud": Audience, "Audience: client id (v2) or App ID URI (often v1).";
    tid = "tid": Option<String>, "Tenant id of the user (or the app, for app-only tokens).";
    oid = "oid": Option<String>, "Object id of the user or service principal: immutable, with `tid` the identity key.";
    sub = "sub": Option<String>, "Subject: pairwise per application, not a global user id.";
    azp = "azp": Option<String>, "v2: application id of the client that requested the token.";
    azpacr = "azpacr": Option<String>, "v2: how the client authenticated (`0` public, `1` secret, `2` certificate).";
    appid = "appid": Option<String>, "v1: application id of the client.";
    appidacr = "appidacr": Option<String>, "v1: how the client authenticated.";
    scp = "scp": Option<String>, "Delegated scopes, space-separated.";
    roles = "roles": Vec<String>, "App roles (application permissions, or the user's assigned app roles).";
    groups = "groups": Option<Vec<String>>, "Group object ids (or names for on-prem groups when configured). `None` when absent, which with [`EntraClaims::claim_names`] or `hasgroups` means overage.";
    wids = "wids": Vec<String>, "Directory role template ids.";
    idtyp = "idtyp": Option<String>, "`app` for app-only tokens, `user` for delegated ones (optional claim).";
    email = "email": Option<String>, "Email address (mutable: never a key).";
    preferred_username = "preferred_username": Option<String>, "v2 sign-in name (mutable: never a key).";
    upn = "upn": Option<String>, "v1 user principal name.";
    unique_name = "unique_name": Option<String>, "v1 display form of the user name.";
    name = "name": Option<String>, "Display name.";
    nonce = "nonce": Option<String>, "ID tokens: the nonce sent with the authorization request.";
    sid = "sid": Option<String>, "ID tokens: the session id (optional claim `sid`), which identifies the user's sign-in session for front-channel and back-channel logout.";
    login_hint = "login_hint": Option<String>, "ID tokens: an opaque, reliable login hint for the account (optional claim `login_hint`), to send as `login_hint` on a later sign-in or `logout_hint` at sign-out.";
    exp = "exp": Option<i64>, "Expiry, seconds since the epoch.";
    nbf = "nbf": Option<i64>, "Not before, seconds since the epoch.";
    iat = "iat": Option<i64>, "Issued at, seconds since the epoch.";
    uti = "uti": Option<String>, "Unique token identifier (Entra's `uti`).";
    claim_names = "_claim_names": Option<BTreeMap<String, String>>, "Overage: which claims were moved out of the token (`{\"groups\": \"src1\"}`).";
    claim_sources = "_claim_sources": Option<BTreeMap<String, ClaimSource>>, "Overage: where the moved claims live (legacy endpoints; not to be called).";
    hasgroups = "hasgroups": Option<bool>, "Implicit-flow overage marker.";
}

/// How an absent claim looks in its field, so that it is not serialized.
trait ClaimValue {
    fn is_absent(&self) -> bool;
}

impl<T> ClaimValue for Option<T> {
    fn is_absent(&self) -> bool {
        self.is_none()
    }
}

impl<T> ClaimValue for Vec<T> {
    fn is_absent(&self) -> bool {
        self.is_empty()
    }
}

impl ClaimValue for Audience {
    fn is_absent(&self) -> bool {
        self.iter().next().is_none()
    }
}

impl<'de> Deserialize<'de> for EntraClaims {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(ClaimsVisitor)
    }
}

struct ClaimsVisitor;

/// A member name of the claims object.
enum Key {
    Field(Field),
    Other(String),
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_identifier(KeyVisitor)
    }
}

struct KeyVisitor;

impl Visitor<'_> for KeyVisitor {
    type Value = Key;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a claim name")
    }

    fn visit_str<E: de::Error>(self, name: &str) -> Result<Key, E> {
        Ok(Field::from_json(name).map_or_else(|| Key::Other(name.to_owned()), Key::Field))
    }

    fn visit_string<E: de::Error>(self, name: String) -> Result<Key, E> {
        Ok(Field::from_json(&name).map_or(Key::Other(name), Key::Field))
    }
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

impl IdentityKey {
    /// Whether [`EntraClaims::identity_key`] of `claims` is this key, without
    /// building it: `tid` is compared trimmed and `oid` up to ASCII case, as
    /// `identity_key` normalizes them (this key holds both in lowercase, and a
    /// `tid` equal to its GUID is a GUID).
    pub fn is_of(&self, claims: &EntraClaims) -> bool {
        claims.tid.as_deref().is_some_and(|t| t.trim().eq_ignore_ascii_case(self.tid.as_str()))
            && claims.oid.as_deref().is_some_and(|o| o.eq_ignore_ascii_case(&self.oid))
    }
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

    /// Whether `aud` names Microsoft Graph (its app id or any Graph host, in any
    /// letter case), in which case only Graph can validate the token.
    pub fn is_for_graph(&self) -> bool {
        const GRAPH: [&str; 6] = [
            GRAPH_APP_ID,
            "https://graph.microsoft.com",
            "https://graph.microsoft.us",
            "https://dod-graph.microsoft.us",
            "https://microsoftgraph.chinacloudapi.cn",
            "https://graph.windows.net",
        ];
        self.aud.iter().any(|a| {
            let a = a.trim_end_matches('/');
            GRAPH.iter().any(|g| a.eq_ignore_ascii_case(g))
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

    /// `IdentityKey::is_of` answers exactly when `identity_key` gives that key.
    #[test]
    fn is_of_agrees_with_identity_key() {
        let key =
            EntraClaims { tid: Some(TID.into()), oid: Some("o-1".into()), ..Default::default() }
                .identity_key()
                .unwrap();
        let upper = format!(" {} ", TID.to_ascii_uppercase());
        let cases = [
            (Some(TID), Some("o-1")),
            (Some(upper.as_str()), Some("O-1")),
            (Some(TID), Some("o-2")),
            (Some("00000000-0000-0000-0000-000000000001"), Some("o-1")),
            (Some(&TID[..35]), Some("o-1")),
            (Some("contoso.com"), Some("o-1")),
            (None, Some("o-1")),
            (Some(TID), None),
        ];
        for (tid, oid) in cases {
            let c = EntraClaims {
                tid: tid.map(str::to_owned),
                oid: oid.map(str::to_owned),
                ..Default::default()
            };
            assert_eq!(key.is_of(&c), c.identity_key().as_ref() == Some(&key), "{tid:?} {oid:?}");
        }
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
        // Hosts and GUIDs are case-insensitive: these name Graph too (found by the
        // oracle of the signed-claims fuzz target; a validator accepted such a token when
        // its other audience was the API's).
        for aud in ["00000003-0000-0000-C000-000000000000", "HTTPS://GRAPH.MICROSOFT.COM/"] {
            let c: EntraClaims =
                serde_json::from_value(serde_json::json!({ "aud": ["api://mine", aud] })).unwrap();
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

    fn full() -> serde_json::Value {
        serde_json::json!({
            "ver": "2.0", "iss": "https://login.microsoftonline.com/t/v2.0", "aud": ["a", "b"],
            "tid": "t", "oid": "o", "sub": "s", "azp": "z", "azpacr": "1", "appid": "ap",
            "appidacr": "2", "scp": "x y", "roles": ["r"], "groups": ["g1", "g2"], "wids": ["w"],
            "idtyp": "user", "email": "e@x", "preferred_username": "p", "upn": "u",
            "unique_name": "un", "name": "N", "nonce": "n", "sid": "sess", "login_hint": "hint",
            "exp": 3, "nbf": 1, "iat": 1, "uti": "ut", "_claim_names": {"groups": "src1"},
            "_claim_sources": {"src1": {"endpoint": "https://graph.windows.net/x"}},
            "hasgroups": true, "custom": {"nested": [1, 2]}, "amr": ["pwd"],
            "na\\u006de2": "escaped key"
        })
    }

    #[test]
    fn every_field_is_read_and_the_rest_is_kept() {
        let text = full().to_string();
        let c: EntraClaims = serde_json::from_str(&text).unwrap();
        assert_eq!(c.aud, Audience::Many(vec!["a".into(), "b".into()]));
        assert_eq!((c.sid.as_deref(), c.login_hint.as_deref()), (Some("sess"), Some("hint")));
        assert_eq!(c.claim_names.as_ref().unwrap()["groups"], "src1");
        assert_eq!(
            c.claim_sources.as_ref().unwrap()["src1"].endpoint.as_deref().unwrap().len(),
            27
        );
        assert_eq!(c.hasgroups, Some(true));
        // Only the claims without a field land in `extra`.
        let extra: Vec<&str> = c.extra.keys().map(String::as_str).collect();
        assert_eq!(extra, ["amr", "custom", "na\\u006de2"]);
        // Bytes, text and a `Value` parse alike.
        assert!(c == serde_json::from_slice::<EntraClaims>(text.as_bytes()).unwrap());
        assert!(c == serde_json::from_value::<EntraClaims>(full()).unwrap());
    }

    #[test]
    fn serializing_then_parsing_is_the_identity() {
        let c: EntraClaims = serde_json::from_value(full()).unwrap();
        let text = serde_json::to_string(&c).unwrap();
        let again: EntraClaims = serde_json::from_str(&text).unwrap();
        assert!(again == c);
        assert_eq!(serde_json::to_string(&again).unwrap(), text);
        // Through a `Value` too, and for the empty claim set.
        assert!(
            serde_json::from_value::<EntraClaims>(serde_json::to_value(&c).unwrap()).unwrap() == c
        );
        let empty = EntraClaims::default();
        assert_eq!(serde_json::to_string(&empty).unwrap(), "{}");
        assert!(serde_json::from_str::<EntraClaims>("{}").unwrap() == empty);
        // Absent claims are not written: `null`, `[]` and missing read the same.
        let sparse: EntraClaims =
            serde_json::from_str(r#"{"ver":null,"roles":[],"aud":"one"}"#).unwrap();
        assert_eq!(serde_json::to_string(&sparse).unwrap(), r#"{"aud":"one"}"#);
    }

    #[test]
    fn a_field_name_in_extra_is_refused_when_serializing() {
        let mut c = EntraClaims::default();
        c.extra.insert("tid".into(), serde_json::json!("other"));
        let e = serde_json::to_string(&c).unwrap_err();
        assert!(e.to_string().contains("`tid`"), "{e}");
    }

    #[test]
    fn refuses_duplicates_and_non_objects() {
        for bad in [
            r#"{"aud":"a","aud":"b"}"#,
            r#"{"tid":"a","tid":"b"}"#,
            r#"{"tid":null,"tid":"b"}"#,
            r#"{"groups":null,"groups":null}"#,
            r#"{"x":1,"x":2}"#,
            r#"{"roles":[],"roles":["Admin"]}"#,
            r#"{"sid":"a","s\u0069d":"b"}"#,
            r#"[]"#,
            r#""claims""#,
            r#"{"exp":"soon"}"#,
            r#"{"aud":5}"#,
            r#"{"roles":null}"#,
            r#"{} trailing"#,
            r#"{"aud":"a""#,
        ] {
            assert!(serde_json::from_str::<EntraClaims>(bad).is_err(), "{bad}");
            assert!(serde_json::from_slice::<EntraClaims>(bad.as_bytes()).is_err(), "{bad}");
        }
        let e = serde_json::from_str::<EntraClaims>(r#"{"aud":"a","aud":"b"}"#).unwrap_err();
        assert!(e.to_string().contains("duplicate field `aud`"), "{e}");
    }
}
