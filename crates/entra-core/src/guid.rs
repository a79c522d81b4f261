//! GUID-shaped identifiers: tenant ids and client ids.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::Error;

/// Parses a GUID in the `8-4-4-4-12` hexadecimal form (braces not accepted) and
/// returns it in lowercase.
pub(crate) fn parse_guid(input: &str) -> Option<String> {
    let bytes = input.as_bytes();
    if bytes.len() != 36 {
        return None;
    }
    for (i, b) in bytes.iter().enumerate() {
        let ok = match i {
            8 | 13 | 18 | 23 => *b == b'-',
            _ => b.is_ascii_hexdigit(),
        };
        if !ok {
            return None;
        }
    }
    Some(input.to_ascii_lowercase())
}

macro_rules! guid_newtype {
    ($(#[$meta:meta])* $name:ident, $what:literal, $variant:ident) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(String);

        impl $name {
            /// Parses a GUID (`8-4-4-4-12` hex digits, any case); stored in lowercase.
            ///
            /// # Errors
            /// Returns an error when `input` is not a GUID.
            pub fn parse(input: &str) -> Result<Self, Error> {
                parse_guid(input.trim())
                    .map(Self)
                    .ok_or_else(|| Error::$variant { value: crate::error::shorten(input) })
            }

            /// The GUID in lowercase hyphenated form.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self.0)
            }
        }

        impl FromStr for $name {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self, Error> {
                Self::parse(s)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Self::parse(&s).map_err(serde::de::Error::custom)
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0.eq_ignore_ascii_case(other)
            }
        }
    };
}

guid_newtype!(
    /// A directory (tenant) id: the GUID in a token's `tid` claim.
    ///
    /// ```
    /// use entra_core::TenantId;
    /// let tid = TenantId::parse("72F988BF-86F1-41AF-91AB-2D7CD011DB47").unwrap();
    /// assert_eq!(tid.as_str(), "72f988bf-86f1-41af-91ab-2d7cd011db47");
    /// assert!(TenantId::parse("contoso.com").is_err());
    /// ```
    TenantId,
    "tenant id",
    InvalidTenantId
);

guid_newtype!(
    /// An application (client) id: the GUID of an app registration.
    ///
    /// ```
    /// use entra_core::ClientId;
    /// let id: ClientId = "6e74172b-be56-4843-9ff4-e66a39bb12e3".parse().unwrap();
    /// assert_eq!(id.to_string(), "6e74172b-be56-4843-9ff4-e66a39bb12e3");
    /// assert!("my-app".parse::<ClientId>().is_err());
    /// ```
    ClientId,
    "client id",
    InvalidClientId
);

impl TenantId {
    /// The tenant id of personal Microsoft accounts (the `consumers` tenant).
    pub const CONSUMERS: &'static str = "9188040d-6c67-4c5b-b112-36a304b66dad";

    /// Whether this is the personal Microsoft accounts tenant.
    pub fn is_consumers(&self) -> bool {
        self.0 == Self::CONSUMERS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guid_shapes() {
        assert!(parse_guid("00000000-0000-0000-0000-000000000000").is_some());
        assert!(parse_guid("{00000000-0000-0000-0000-000000000000}").is_none());
        assert!(parse_guid("0000000000000000000000000000000000000").is_none());
        assert!(parse_guid("g0000000-0000-0000-0000-000000000000").is_none());
        assert!(parse_guid("").is_none());
        assert!(parse_guid("00000000-0000-0000-0000-0000000000é").is_none());
    }
}
