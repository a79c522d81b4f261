//! Decrypts an encrypted PKCS#8 private key (`ENCRYPTED PRIVATE KEY`, RFC 5958)
//! protected with PBES2 (RFC 8018): PBKDF2 with HMAC-SHA-1, -256, -384 or -512,
//! and AES-128, -192 or -256 in CBC mode. This is what `openssl pkcs8 -topk8`,
//! `openssl genpkey -aes256` and `openssl pkcs12 -nocerts` (OpenSSL 3) write.

use std::num::NonZeroU32;

use aws_lc_rs::cipher::{
    AES_128, AES_192, AES_256, DecryptionContext, PaddedBlockDecryptingKey, UnboundCipherKey,
};
use aws_lc_rs::iv::FixedLength;
use aws_lc_rs::pbkdf2;
use zeroize::Zeroizing;

const SEQUENCE: u8 = 0x30;
const OCTET_STRING: u8 = 0x04;
const INTEGER: u8 = 0x02;
const OID: u8 = 0x06;

const PBES2: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05, 0x0d];
const PBKDF2: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05, 0x0c];
const HMAC_PREFIX: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x02];
const AES_CBC_PREFIX: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01];

/// More PBKDF2 iterations than this are refused (a hostile file could otherwise
/// make start-up spin for hours). OpenSSL writes 2048; OWASP suggests 600 000.
const MAX_ITERATIONS: u32 = 10_000_000;

/// A DER reader over definite-length encodings.
struct Der<'a>(&'a [u8]);

impl<'a> Der<'a> {
    /// The contents of the next element, which must have `tag`.
    fn read(&mut self, tag: u8) -> Result<&'a [u8], &'static str> {
        const BAD: &str = "the encrypted private key is not valid DER";
        let (&t, rest) = self.0.split_first().ok_or(BAD)?;
        if t != tag {
            return Err(BAD);
        }
        let (&first, mut rest) = rest.split_first().ok_or(BAD)?;
        let len = if first < 0x80 {
            usize::from(first)
        } else {
            let n = usize::from(first & 0x7f);
            if n == 0 || n > 4 || rest.len() < n {
                return Err(BAD);
            }
            let (bytes, after) = rest.split_at(n);
            rest = after;
            bytes.iter().fold(0usize, |acc, b| (acc << 8) | usize::from(*b))
        };
        if rest.len() < len {
            return Err(BAD);
        }
        let (contents, after) = rest.split_at(len);
        self.0 = after;
        Ok(contents)
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn peek(&self) -> Option<u8> {
        self.0.first().copied()
    }
}

/// The PKCS#8 `PrivateKeyInfo` DER inside `der` (an `EncryptedPrivateKeyInfo`),
/// decrypted with `password`.
pub(crate) fn decrypt(der: &[u8], password: &[u8]) -> Result<Zeroizing<Vec<u8>>, &'static str> {
    let mut outer = Der(der);
    let mut info = Der(outer.read(SEQUENCE)?);
    let mut algorithm = Der(info.read(SEQUENCE)?);
    let encrypted = info.read(OCTET_STRING)?;
    if algorithm.read(OID)? != PBES2 {
        return Err("only PBES2 encrypted private keys are supported");
    }
    let mut params = Der(algorithm.read(SEQUENCE)?);

    let mut kdf = Der(params.read(SEQUENCE)?);
    if kdf.read(OID)? != PBKDF2 {
        return Err("only PBKDF2 key derivation is supported");
    }
    let mut kdf_params = Der(kdf.read(SEQUENCE)?);
    let salt = kdf_params.read(OCTET_STRING)?;
    let iterations = unsigned(kdf_params.read(INTEGER)?)?;
    let key_length = if kdf_params.peek() == Some(INTEGER) {
        Some(unsigned(kdf_params.read(INTEGER)?)?)
    } else {
        None
    };
    let prf = if kdf_params.is_empty() {
        pbkdf2::PBKDF2_HMAC_SHA1 // the default of RFC 8018
    } else {
        let mut prf = Der(kdf_params.read(SEQUENCE)?);
        match prf.read(OID)?.strip_prefix(HMAC_PREFIX) {
            Some([0x07]) => pbkdf2::PBKDF2_HMAC_SHA1,
            Some([0x09]) => pbkdf2::PBKDF2_HMAC_SHA256,
            Some([0x0a]) => pbkdf2::PBKDF2_HMAC_SHA384,
            Some([0x0b]) => pbkdf2::PBKDF2_HMAC_SHA512,
            _ => return Err("unsupported PBKDF2 pseudo-random function"),
        }
    };

    let mut scheme = Der(params.read(SEQUENCE)?);
    let (cipher, key_len) = match scheme.read(OID)?.strip_prefix(AES_CBC_PREFIX) {
        Some([0x02]) => (&AES_128, 16),
        Some([0x16]) => (&AES_192, 24),
        Some([0x2a]) => (&AES_256, 32),
        _ => return Err("only AES-CBC encrypted private keys are supported"),
    };
    let iv: [u8; 16] = scheme
        .read(OCTET_STRING)?
        .try_into()
        .map_err(|_| "the encrypted private key has a malformed IV")?;
    if key_length.is_some_and(|l| l != key_len as u64) {
        return Err("the encrypted private key has a malformed key length");
    }
    let iterations = u32::try_from(iterations)
        .ok()
        .filter(|n| *n <= MAX_ITERATIONS)
        .and_then(NonZeroU32::new)
        .ok_or("the encrypted private key has an unusable PBKDF2 iteration count")?;
    if salt.len() > 1024 {
        return Err("the encrypted private key has an unusable PBKDF2 salt");
    }

    let mut key = Zeroizing::new([0u8; 32]);
    pbkdf2::derive(prf, iterations, salt, password, &mut key[..key_len]);
    let key = UnboundCipherKey::new(cipher, &key[..key_len])
        .and_then(PaddedBlockDecryptingKey::cbc_pkcs7)
        .map_err(|_| "cannot set up AES-CBC")?;
    let mut buffer = Zeroizing::new(encrypted.to_vec());
    let plain = key
        .decrypt(&mut buffer, DecryptionContext::Iv128(FixedLength::from(iv)))
        .map_err(|_| "wrong password, or a damaged encrypted private key")?;
    let plain = Zeroizing::new(plain.to_vec());
    // A wrong password almost always fails the padding check; when it does not,
    // the result is not a DER sequence (checked again by the key parser).
    if Der(&plain).read(SEQUENCE).is_err() {
        return Err("wrong password, or a damaged encrypted private key");
    }
    Ok(plain)
}

/// A non-negative DER INTEGER of at most 8 bytes (plus a leading zero).
fn unsigned(bytes: &[u8]) -> Result<u64, &'static str> {
    let bytes = match bytes {
        [0, rest @ ..] if !rest.is_empty() => rest,
        [b, ..] if *b >= 0x80 => return Err("negative integer in the encrypted private key"),
        _ => bytes,
    };
    if bytes.is_empty() || bytes.len() > 8 {
        return Err("the encrypted private key is not valid DER");
    }
    Ok(bytes.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_reader_refuses_truncated_and_oversized_lengths() {
        assert!(Der(&[0x30]).read(SEQUENCE).is_err());
        assert!(Der(&[0x30, 0x05, 0x00]).read(SEQUENCE).is_err());
        assert!(Der(&[0x30, 0x85, 1, 1, 1, 1, 1]).read(SEQUENCE).is_err());
        assert!(Der(&[0x30, 0x80]).read(SEQUENCE).is_err());
        assert!(Der(&[0x04, 0x00]).read(SEQUENCE).is_err());
        assert_eq!(Der(&[0x30, 0x81, 0x01, 0xaa]).read(SEQUENCE), Ok(&[0xaa][..]));
    }

    #[test]
    fn integers() {
        assert_eq!(unsigned(&[0x08, 0x00]), Ok(2048));
        assert_eq!(unsigned(&[0x00, 0x80]), Ok(128));
        assert!(unsigned(&[0x80]).is_err());
        assert!(unsigned(&[]).is_err());
        assert!(unsigned(&[1; 9]).is_err());
    }

    #[test]
    fn garbage_is_refused_without_panicking() {
        for input in [&b""[..], b"\x30\x00", b"\x30\x03\x30\x01\x00", &[0xff; 64]] {
            assert!(decrypt(input, b"pw").is_err());
        }
    }
}
