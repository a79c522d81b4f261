//! Directory object ids (groups, directory role templates), compared as GUIDs.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, shorten};

/// The object id of a directory object: a group, or a directory role template
/// (`wids`). Compared as a GUID: case and surrounding braces do not matter.
///
/// ```
/// use entra_teams::ObjectId;
/// let a: ObjectId = "0F3A1B2C-0000-4000-8000-00000000ABCD".parse()?;
/// let b: ObjectId = "{0f3a1b2c-0000-4000-8000-00000000abcd}".parse()?;
/// assert_eq!(a, b);
/// assert_eq!(a.to_string(), "0f3a1b2c-0000-4000-8000-00000000abcd");
/// # Ok::<(), entra_teams::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectId(u128);

impl ObjectId {
    /// Parses a GUID in the `8-4-4-4-12` form, optionally in braces, any case.
    /// Returns `None` for anything else.
    pub fn try_parse(input: &str) -> Option<Self> {
        let s = input.trim();
        let s = s.strip_prefix('{').and_then(|r| r.strip_suffix('}')).unwrap_or(s);
        let bytes = s.as_bytes();
        if bytes.len() != 36 {
            return None;
        }
        let mut value: u128 = 0;
        for (i, b) in bytes.iter().enumerate() {
            if matches!(i, 8 | 13 | 18 | 23) {
                if *b != b'-' {
                    return None;
                }
                continue;
            }
            let digit = char::from(*b).to_digit(16)?;
            value = (value << 4) | u128::from(digit);
        }
        Some(Self(value))
    }

    /// Parses a GUID.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] (at `object id`) when `input` is not a GUID.
    pub fn parse(input: &str) -> Result<Self, Error> {
        Self::try_parse(input).ok_or_else(|| {
            Error::config(
                "object id",
                format!("{:?} is not a GUID (expected 8-4-4-4-12 hex digits)", shorten(input)),
            )
        })
    }
}

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = self.0;
        write!(
            f,
            "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            (v >> 96) as u32,
            (v >> 80) as u16,
            (v >> 64) as u16,
            (v >> 48) as u16,
            v & 0xffff_ffff_ffff
        )
    }
}

impl fmt::Debug for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ObjectId({self})")
    }
}

impl FromStr for ObjectId {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Self::parse(s)
    }
}

impl Serialize for ObjectId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ObjectId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::try_parse(&s).ok_or_else(|| {
            serde::de::Error::custom(format_args!("{:?} is not a GUID", shorten(&s)))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guids_compare_regardless_of_case_and_braces() {
        let a = ObjectId::parse("ABCDEF01-2345-6789-abcd-ef0123456789").unwrap();
        let b = ObjectId::parse(" {abcdef01-2345-6789-ABCD-EF0123456789} ").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.to_string(), "abcdef01-2345-6789-abcd-ef0123456789");
        assert_eq!(ObjectId::parse(&a.to_string()).unwrap(), a);
    }

    #[test]
    fn non_guids_are_rejected() {
        for bad in [
            "",
            "Engineering",
            "abcdef0123456789abcdef0123456789",
            "abcdef01-2345-6789-abcd-ef012345678",
            "abcdef01-2345-6789-abcd-ef012345678g",
            "abcdef01+2345-6789-abcd-ef0123456789",
            "{abcdef01-2345-6789-abcd-ef0123456789",
        ] {
            assert!(ObjectId::try_parse(bad).is_none(), "{bad}");
        }
        let err = ObjectId::parse("nope").unwrap_err().to_string();
        assert!(err.contains("not a GUID"), "{err}");
    }
}
