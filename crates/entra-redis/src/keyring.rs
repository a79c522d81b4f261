//! Encryption at rest: a keyring of AES-256-GCM keys with ids, and the envelope
//! every value is stored in.
//!
//! An envelope is `[1][id length][key id][12-byte nonce][ciphertext][16-byte tag]`.
//! The associated data binds it to the key id, the kind of value and the full
//! Redis key it is stored under, so a value edited in place, copied under another
//! key or written by another kind of store does not open. Each configured key is
//! expanded with HKDF-SHA256 into one AES key per kind of value, so the
//! configured bytes never encrypt anything themselves.

use std::fmt;
use std::sync::Arc;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::hkdf::{HKDF_SHA256, Salt};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use entra_core::Secret;
use zeroize::Zeroizing;

use crate::{Error, Result};

/// The length of a key: AES-256.
pub const KEY_LEN: usize = 32;
/// The longest key id.
const MAX_ID_LEN: usize = 32;
/// The envelope format version.
const VERSION: u8 = 1;
/// The GCM tag length.
const TAG_LEN: usize = 16;

/// What a value is; each kind has its own derived key and associated data.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Purpose {
    /// A [`crate::TokenCache`] entry.
    Token,
    /// A [`crate::LoginStateStore`] entry.
    Login,
    /// A session record.
    #[cfg_attr(not(feature = "sessions"), allow(dead_code))]
    Session,
    /// A [`crate::SecretStore`] entry.
    Secret,
}

impl Purpose {
    fn name(self) -> &'static str {
        match self {
            Self::Token => "token",
            Self::Login => "login",
            Self::Session => "session",
            Self::Secret => "secret",
        }
    }

    /// The largest envelope accepted for this kind of value.
    pub(crate) fn max_len(self) -> usize {
        match self {
            Self::Token | Self::Login | Self::Secret => 64 * 1024,
            Self::Session => 1024 * 1024,
        }
    }
}

/// Why a stored value was refused. Refused values are deleted by the stores.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Refusal {
    /// Not an envelope of this crate (or larger than allowed).
    Malformed,
    /// Sealed with a key id that is not in the keyring.
    UnknownKey,
    /// The tag does not verify: edited, moved to another key, or another kind.
    Forged,
}

impl Refusal {
    /// A stable name for logs.
    pub(crate) fn code(self) -> &'static str {
        match self {
            Self::Malformed => "malformed_value",
            Self::UnknownKey => "unknown_key_id",
            Self::Forged => "forged_value",
        }
    }
}

/// The AES-256-GCM keys that encrypt stored values: one current key that seals
/// new values, and older keys that still open values sealed before a rotation.
///
/// Every value carries the id of the key that sealed it, so rotating keys loses
/// no entry: add the new key to every replica as a previous key, then make it the
/// current one, then drop the old key once the longest TTL has passed (see
/// `docs/deploying-replicas.md`). A value sealed with an id the keyring does not
/// hold is refused and deleted.
///
/// `Debug` shows the key ids only.
///
/// ```
/// use entra_core::Secret;
/// use entra_redis::Keyring;
///
/// // `openssl rand -base64 32` makes a key; the first entry is the current one.
/// let keys = Keyring::parse(&Secret::new(
///     "2025-06:q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=,2025-01:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
/// ))?;
/// assert_eq!(keys.current_id(), "2025-06");
/// assert_eq!(keys.ids().collect::<Vec<_>>(), ["2025-06", "2025-01"]);
/// assert!(!format!("{keys:?}").contains("q83v"));
/// # Ok::<(), entra_redis::Error>(())
/// ```
#[derive(Clone)]
pub struct Keyring(Vec<Arc<Key>>);

struct Key {
    id: String,
    token: LessSafeKey,
    login: LessSafeKey,
    session: LessSafeKey,
    secret: LessSafeKey,
}

impl Key {
    fn new(id: &str, material: &[u8]) -> Result<Self> {
        check_id(id)?;
        if material.len() != KEY_LEN {
            return Err(keys_error(format!(
                "key {id:?} has {} bytes, AES-256 needs {KEY_LEN}",
                material.len()
            )));
        }
        if material.iter().all(|b| *b == material[0]) {
            return Err(keys_error(format!("key {id:?} is one repeated byte, not a random key")));
        }
        let prk = Salt::new(HKDF_SHA256, b"entra-redis/1").extract(material);
        let derive = |purpose: Purpose| -> Result<LessSafeKey> {
            let info = [purpose.name().as_bytes()];
            let okm = prk
                .expand(&info, &AES_256_GCM)
                .map_err(|_| keys_error(format!("cannot derive the keys of {id:?}")))?;
            Ok(LessSafeKey::new(UnboundKey::from(okm)))
        };
        Ok(Self {
            id: id.to_owned(),
            token: derive(Purpose::Token)?,
            login: derive(Purpose::Login)?,
            session: derive(Purpose::Session)?,
            secret: derive(Purpose::Secret)?,
        })
    }

    fn for_purpose(&self, purpose: Purpose) -> &LessSafeKey {
        match purpose {
            Purpose::Token => &self.token,
            Purpose::Login => &self.login,
            Purpose::Session => &self.session,
            Purpose::Secret => &self.secret,
        }
    }
}

fn keys_error(reason: String) -> Error {
    Error::InvalidKeys { reason }
}

fn check_id(id: &str) -> Result<()> {
    let ok = !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(keys_error(format!(
            "key id {:?} must be 1 to {MAX_ID_LEN} characters of A-Z, a-z, 0-9, '-', '_', '.'",
            entra_core::shorten_untrusted(id)
        )))
    }
}

impl Keyring {
    /// A keyring whose current key is `key` (32 random bytes) named `id` (1 to 32
    /// characters of `A-Z a-z 0-9 - _ .`).
    ///
    /// # Errors
    /// [`Error::InvalidKeys`] for a malformed id, a key that is not 32 bytes, or
    /// one repeated byte.
    pub fn new(id: &str, key: &[u8]) -> Result<Self> {
        Ok(Self(vec![Arc::new(Key::new(id, key)?)]))
    }

    /// Adds an older key that opens values sealed with it but seals nothing.
    ///
    /// # Errors
    /// As [`Keyring::new`], and [`Error::InvalidKeys`] when the id is already in
    /// the keyring.
    pub fn with_previous(mut self, id: &str, key: &[u8]) -> Result<Self> {
        if self.0.iter().any(|k| k.id == id) {
            return Err(keys_error(format!("key id {id:?} appears twice")));
        }
        self.0.push(Arc::new(Key::new(id, key)?));
        Ok(self)
    }

    /// Parses `id:base64key[,id:base64key...]`: the first key is the current one,
    /// the others open older values. Keys are 32 bytes in standard or URL-safe
    /// base64, padded or not (`openssl rand -base64 32`). Spaces around entries
    /// are ignored.
    ///
    /// # Errors
    /// [`Error::InvalidKeys`], naming the entry by its position or id, never
    /// showing key material.
    pub fn parse(text: &Secret) -> Result<Self> {
        let mut ring: Option<Self> = None;
        for (i, entry) in text.expose_secret().split(',').map(str::trim).enumerate() {
            let Some((id, encoded)) = entry.split_once(':') else {
                return Err(keys_error(format!("entry {} is not `id:base64key`", i + 1)));
            };
            let (id, encoded) = (id.trim(), encoded.trim());
            let material = decode_key(encoded)
                .ok_or_else(|| keys_error(format!("key {id:?} is not valid base64")))?;
            ring = Some(match ring {
                None => Self::new(id, &material)?,
                Some(r) => r.with_previous(id, &material)?,
            });
        }
        ring.ok_or_else(|| keys_error("no key".into()))
    }

    /// The id of the key that seals new values.
    pub fn current_id(&self) -> &str {
        self.0.first().map_or("", |k| k.id.as_str())
    }

    /// The ids of all keys, the current one first.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|k| k.id.as_str())
    }

    /// Encrypts `plaintext` with the current key, bound to `purpose` and the
    /// Redis key `redis_key`.
    pub(crate) fn seal(
        &self,
        purpose: Purpose,
        redis_key: &str,
        plaintext: &[u8],
    ) -> Result<Vec<u8>> {
        let key = self.0.first().ok_or(Error::Encrypt)?;
        let id = key.id.as_bytes();
        let mut nonce = [0u8; NONCE_LEN];
        aws_lc_rs::rand::fill(&mut nonce).map_err(|_| Error::Encrypt)?;
        let header_len = 2 + id.len() + NONCE_LEN;
        let len = header_len + plaintext.len() + TAG_LEN;
        if len > purpose.max_len() {
            return Err(Error::ValueTooLarge { len, max: purpose.max_len() });
        }
        let mut out = Vec::with_capacity(len);
        out.push(VERSION);
        out.push(u8::try_from(id.len()).map_err(|_| Error::Encrypt)?);
        out.extend_from_slice(id);
        out.extend_from_slice(&nonce);
        let mut body = Zeroizing::new(Vec::with_capacity(plaintext.len() + TAG_LEN));
        body.extend_from_slice(plaintext);
        key.for_purpose(purpose)
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(associated_data(purpose, &key.id, redis_key)),
                &mut *body,
            )
            .map_err(|_| Error::Encrypt)?;
        out.extend_from_slice(&body);
        Ok(out)
    }

    /// Decrypts an envelope stored under `redis_key` for `purpose`.
    pub(crate) fn open(
        &self,
        purpose: Purpose,
        redis_key: &str,
        envelope: &[u8],
    ) -> std::result::Result<Zeroizing<Vec<u8>>, Refusal> {
        if envelope.len() > purpose.max_len() {
            return Err(Refusal::Malformed);
        }
        let [version, id_len, rest @ ..] = envelope else {
            return Err(Refusal::Malformed);
        };
        let id_len = usize::from(*id_len);
        if *version != VERSION || id_len == 0 || rest.len() < id_len + NONCE_LEN + TAG_LEN {
            return Err(Refusal::Malformed);
        }
        let (id, rest) = rest.split_at(id_len);
        let (nonce, sealed) = rest.split_at(NONCE_LEN);
        let id = std::str::from_utf8(id).map_err(|_| Refusal::Malformed)?;
        let key = self.0.iter().find(|k| k.id == id).ok_or(Refusal::UnknownKey)?;
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| Refusal::Malformed)?;
        let mut body = Zeroizing::new(sealed.to_vec());
        let len = key
            .for_purpose(purpose)
            .open_in_place(nonce, Aad::from(associated_data(purpose, id, redis_key)), &mut body)
            .map_err(|_| Refusal::Forged)?
            .len();
        body.truncate(len);
        Ok(body)
    }
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyring")
            .field("current", &self.current_id())
            .field("ids", &self.ids().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

fn decode_key(encoded: &str) -> Option<Zeroizing<Vec<u8>>> {
    [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD]
        .iter()
        .find_map(|engine| engine.decode(encoded).ok())
        .map(Zeroizing::new)
}

/// `entra-redis/1 \0 <purpose> \0 <key id> \0 <redis key>`.
fn associated_data(purpose: Purpose, id: &str, redis_key: &str) -> Vec<u8> {
    let mut aad = Vec::with_capacity(16 + purpose.name().len() + id.len() + redis_key.len());
    aad.extend_from_slice(b"entra-redis/1\0");
    aad.extend_from_slice(purpose.name().as_bytes());
    aad.push(0);
    aad.extend_from_slice(id.as_bytes());
    aad.push(0);
    aad.extend_from_slice(redis_key.as_bytes());
    aad
}

#[cfg(test)]
mod tests {
    use super::*;

    const K1: [u8; 32] = *b"0123456789abcdef0123456789abcdef";
    const K2: [u8; 32] = *b"fedcba9876543210fedcba9876543210";

    #[test]
    fn seal_open_round_trip_and_binding() {
        let ring = Keyring::new("k1", &K1).unwrap();
        let sealed = ring.seal(Purpose::Token, "entra:token:a", b"eyJ.secret").unwrap();
        assert!(!sealed.windows(6).any(|w| w == b"secret"));
        assert_eq!(&*ring.open(Purpose::Token, "entra:token:a", &sealed).unwrap(), b"eyJ.secret");
        // Another Redis key, another kind of value: refused.
        assert_eq!(ring.open(Purpose::Token, "entra:token:b", &sealed), Err(Refusal::Forged));
        assert_eq!(ring.open(Purpose::Login, "entra:token:a", &sealed), Err(Refusal::Forged));
        // Any one byte changed: refused.
        for i in 0..sealed.len() {
            let mut edited = sealed.clone();
            edited[i] ^= 0x01;
            assert!(ring.open(Purpose::Token, "entra:token:a", &edited).is_err(), "byte {i}");
        }
        // Cut short, empty, oversized: malformed.
        for bad in [&sealed[..sealed.len() - 17], &[][..], &[1u8, 0][..]] {
            assert!(ring.open(Purpose::Token, "entra:token:a", bad).is_err());
        }
        let huge = vec![1u8; Purpose::Token.max_len() + 1];
        assert_eq!(ring.open(Purpose::Token, "k", &huge), Err(Refusal::Malformed));
        assert_eq!(ring.seal(Purpose::Token, "k", &huge).unwrap_err().code(), "value_too_large");
        assert!(ring.seal(Purpose::Session, "k", &huge).is_ok());
        // Two seals of the same value differ (random nonce).
        assert_ne!(sealed, ring.seal(Purpose::Token, "entra:token:a", b"eyJ.secret").unwrap());
    }

    #[test]
    fn rotation_keeps_old_values_and_refuses_unknown_ids() {
        let old = Keyring::new("k1", &K1).unwrap();
        let sealed_old = old.seal(Purpose::Login, "x", b"v").unwrap();
        let rotated = Keyring::new("k2", &K2).unwrap().with_previous("k1", &K1).unwrap();
        assert_eq!(&*rotated.open(Purpose::Login, "x", &sealed_old).unwrap(), b"v");
        let sealed_new = rotated.seal(Purpose::Login, "x", b"v").unwrap();
        assert_eq!(sealed_new[2..4], *b"k2");
        // The old keyring does not know k2; a keyring with another k1 refuses.
        assert_eq!(old.open(Purpose::Login, "x", &sealed_new), Err(Refusal::UnknownKey));
        let foreign = Keyring::new("k1", &K2).unwrap();
        assert_eq!(foreign.open(Purpose::Login, "x", &sealed_old), Err(Refusal::Forged));
    }

    #[test]
    fn parse_accepts_base64_variants_and_refuses_garbage() {
        let std = STANDARD.encode(K1);
        let url = URL_SAFE_NO_PAD.encode(K2);
        let ring = Keyring::parse(&Secret::new(format!(" new:{url} , old:{std} "))).unwrap();
        assert_eq!(ring.ids().collect::<Vec<_>>(), ["new", "old"]);
        let cases = [
            ("", "not `id:base64key`"),
            ("k1", "not `id:base64key`"),
            (&*format!("k1:{std},k1:{url}"), "appears twice"),
            ("k1:not base64!", "not valid base64"),
            ("k1:AAEC", "has 3 bytes"),
            (&*format!(":{std}"), "key id"),
            (&*format!("bad id:{std}"), "key id"),
            (&*format!("{}:{std}", "x".repeat(33)), "key id"),
            (&*format!("z:{}", STANDARD.encode([7u8; 32])), "repeated byte"),
        ];
        for (text, want) in cases {
            let err = Keyring::parse(&Secret::new(text)).unwrap_err();
            assert!(err.to_string().contains(want), "{text:?}: {err}");
            assert!(err.is_config());
            assert!(!err.to_string().contains(&std[..8]), "{err}");
        }
    }

    #[test]
    fn debug_shows_ids_only() {
        let ring = Keyring::new("k1", &K1).unwrap().with_previous("k0", &K2).unwrap();
        assert_eq!(format!("{ring:?}"), r#"Keyring { current: "k1", ids: ["k1", "k0"], .. }"#);
    }
}
