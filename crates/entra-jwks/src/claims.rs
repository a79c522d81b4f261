//! A one-pass parser for [`EntraClaims`].
//!
//! The derived `Deserialize` of `EntraClaims` collects unknown claims with
//! `#[serde(flatten)]`, which buffers the whole object before building the struct.
//! This visitor fills the fields directly, refuses duplicate claims (a JSON object
//! with two `aud` members is not a token Entra signed), and puts everything else in
//! [`EntraClaims::extra`]. The tests check it agrees with the derived impl.

use std::collections::BTreeMap;
use std::fmt;

use entra_core::{Audience, ClaimSource, EntraClaims};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, Visitor};

/// Parses a claims object.
pub(crate) fn parse_claims(json: &[u8]) -> Result<EntraClaims, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(json);
    let claims = ClaimsSeed.deserialize(&mut de)?;
    de.end()?;
    Ok(claims)
}

struct ClaimsSeed;

impl<'de> DeserializeSeed<'de> for ClaimsSeed {
    type Value = EntraClaims;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<EntraClaims, D::Error> {
        d.deserialize_map(ClaimsVisitor)
    }
}

struct ClaimsVisitor;

/// Sets `slot` once; a second occurrence of the claim is an error.
fn once<T, E: de::Error>(slot: &mut Option<T>, value: T, name: &'static str) -> Result<(), E> {
    if slot.is_some() {
        return Err(E::duplicate_field(name));
    }
    *slot = Some(value);
    Ok(())
}

impl<'de> Visitor<'de> for ClaimsVisitor {
    type Value = EntraClaims;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object of claims")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<EntraClaims, A::Error> {
        let mut c = EntraClaims::default();
        // Fields whose "absent" value is not `None` need their own seen flags.
        let (mut aud, mut roles, mut wids) = (None::<Audience>, None, None);
        while let Some(key) = map.next_key::<Key>()? {
            macro_rules! opt {
                ($field:ident, $name:literal) => {{
                    let v = map.next_value()?;
                    if c.$field.is_some() {
                        return Err(de::Error::duplicate_field($name));
                    }
                    c.$field = v;
                    // `null` leaves the field `None`, as the derived impl does; a
                    // second `null` is then not detected, which is harmless.
                }};
            }
            match key {
                Key::Ver => opt!(ver, "ver"),
                Key::Iss => opt!(iss, "iss"),
                Key::Aud => once(&mut aud, map.next_value()?, "aud")?,
                Key::Tid => opt!(tid, "tid"),
                Key::Oid => opt!(oid, "oid"),
                Key::Sub => opt!(sub, "sub"),
                Key::Azp => opt!(azp, "azp"),
                Key::Azpacr => opt!(azpacr, "azpacr"),
                Key::Appid => opt!(appid, "appid"),
                Key::Appidacr => opt!(appidacr, "appidacr"),
                Key::Scp => opt!(scp, "scp"),
                Key::Roles => once(&mut roles, map.next_value::<Vec<String>>()?, "roles")?,
                Key::Groups => opt!(groups, "groups"),
                Key::Wids => once(&mut wids, map.next_value::<Vec<String>>()?, "wids")?,
                Key::Idtyp => opt!(idtyp, "idtyp"),
                Key::Email => opt!(email, "email"),
                Key::PreferredUsername => opt!(preferred_username, "preferred_username"),
                Key::Upn => opt!(upn, "upn"),
                Key::UniqueName => opt!(unique_name, "unique_name"),
                Key::Name => opt!(name, "name"),
                Key::Nonce => opt!(nonce, "nonce"),
                Key::Exp => opt!(exp, "exp"),
                Key::Nbf => opt!(nbf, "nbf"),
                Key::Iat => opt!(iat, "iat"),
                Key::Uti => opt!(uti, "uti"),
                Key::ClaimNames => {
                    let v: Option<BTreeMap<String, String>> = map.next_value()?;
                    if c.claim_names.is_some() {
                        return Err(de::Error::duplicate_field("_claim_names"));
                    }
                    c.claim_names = v;
                }
                Key::ClaimSources => {
                    let v: Option<BTreeMap<String, ClaimSource>> = map.next_value()?;
                    if c.claim_sources.is_some() {
                        return Err(de::Error::duplicate_field("_claim_sources"));
                    }
                    c.claim_sources = v;
                }
                Key::Hasgroups => opt!(hasgroups, "hasgroups"),
                Key::Other(name) => {
                    let value: serde_json::Value = map.next_value()?;
                    if c.extra.contains_key(&name) {
                        return Err(de::Error::custom("duplicate claim"));
                    }
                    c.extra.insert(name, value);
                }
            }
        }
        c.aud = aud.unwrap_or_default();
        c.roles = roles.unwrap_or_default();
        c.wids = wids.unwrap_or_default();
        Ok(c)
    }
}

enum Key {
    Ver,
    Iss,
    Aud,
    Tid,
    Oid,
    Sub,
    Azp,
    Azpacr,
    Appid,
    Appidacr,
    Scp,
    Roles,
    Groups,
    Wids,
    Idtyp,
    Email,
    PreferredUsername,
    Upn,
    UniqueName,
    Name,
    Nonce,
    Exp,
    Nbf,
    Iat,
    Uti,
    ClaimNames,
    ClaimSources,
    Hasgroups,
    Other(String),
}

impl<'de> de::Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_identifier(KeyVisitor)
    }
}

struct KeyVisitor;

impl Visitor<'_> for KeyVisitor {
    type Value = Key;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a claim name")
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Key, E> {
        Ok(match s {
            "ver" => Key::Ver,
            "iss" => Key::Iss,
            "aud" => Key::Aud,
            "tid" => Key::Tid,
            "oid" => Key::Oid,
            "sub" => Key::Sub,
            "azp" => Key::Azp,
            "azpacr" => Key::Azpacr,
            "appid" => Key::Appid,
            "appidacr" => Key::Appidacr,
            "scp" => Key::Scp,
            "roles" => Key::Roles,
            "groups" => Key::Groups,
            "wids" => Key::Wids,
            "idtyp" => Key::Idtyp,
            "email" => Key::Email,
            "preferred_username" => Key::PreferredUsername,
            "upn" => Key::Upn,
            "unique_name" => Key::UniqueName,
            "name" => Key::Name,
            "nonce" => Key::Nonce,
            "exp" => Key::Exp,
            "nbf" => Key::Nbf,
            "iat" => Key::Iat,
            "uti" => Key::Uti,
            "_claim_names" => Key::ClaimNames,
            "_claim_sources" => Key::ClaimSources,
            "hasgroups" => Key::Hasgroups,
            other => Key::Other(other.to_owned()),
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn both(v: &serde_json::Value) -> (EntraClaims, EntraClaims) {
        let bytes = serde_json::to_vec(v).unwrap();
        (parse_claims(&bytes).unwrap(), serde_json::from_slice(&bytes).unwrap())
    }

    #[test]
    fn agrees_with_the_derived_impl() {
        let full = json!({
            "ver": "2.0", "iss": "https://login.microsoftonline.com/t/v2.0", "aud": ["a", "b"],
            "tid": "t", "oid": "o", "sub": "s", "azp": "z", "azpacr": "1", "appid": "ap",
            "appidacr": "2", "scp": "x y", "roles": ["r"], "groups": ["g1", "g2"], "wids": ["w"],
            "idtyp": "user", "email": "e@x", "preferred_username": "p", "upn": "u",
            "unique_name": "un", "name": "N", "nonce": "n", "exp": 3, "nbf": 1, "iat": 1,
            "uti": "ut", "_claim_names": {"groups": "src1"},
            "_claim_sources": {"src1": {"endpoint": "https://graph.windows.net/x"}},
            "hasgroups": true, "custom": {"nested": [1, 2]}, "amr": ["pwd"],
            "na\\u006de2": "escaped key"
        });
        let (ours, derived) = both(&full);
        assert!(ours == derived);
        assert!(ours.extra.contains_key("custom") && ours.extra.contains_key("na\\u006de2"));
        for v in [json!({}), json!({"aud": "one", "roles": [], "groups": null, "ver": null})] {
            let (ours, derived) = both(&v);
            assert!(ours == derived, "{v}");
        }
        // Every field name the derived impl writes is known to this parser.
        let round = serde_json::to_value(&derived).unwrap();
        let ours = parse_claims(&serde_json::to_vec(&round).unwrap()).unwrap();
        assert!(ours == derived);
        let known = serde_json::to_value(both(&full).1).unwrap();
        let reparsed = parse_claims(&serde_json::to_vec(&known).unwrap()).unwrap();
        assert_eq!(reparsed.extra.len(), 3, "only the unknown claims land in extra");
    }

    #[test]
    fn refuses_duplicates_and_non_objects() {
        for bad in [
            r#"{"aud":"a","aud":"b"}"#,
            r#"{"tid":"a","tid":"b"}"#,
            r#"{"x":1,"x":2}"#,
            r#"{"roles":[],"roles":["Admin"]}"#,
            r#"[]"#,
            r#"{"exp":"soon"}"#,
            r#"{"aud":5}"#,
            r#"{} trailing"#,
        ] {
            assert!(parse_claims(bad.as_bytes()).is_err(), "{bad}");
        }
    }
}
