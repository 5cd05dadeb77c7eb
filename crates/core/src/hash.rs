//! FxHash (rustc's hasher): a small fast hasher for in-memory maps keyed by addresses and
//! interned strings. Not for attacker-chosen keys of unbounded length, and iteration order
//! must never reach an output (sort first).

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

/// The hasher.
#[derive(Default, Clone, Copy)]
pub struct FxHasher {
    hash: u64,
}

const FX_SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    #[inline]
    fn add(&mut self, w: u64) {
        self.hash = (self.hash.rotate_left(5) ^ w).wrapping_mul(FX_SEED);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(w));
        }
    }
    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(i as u64);
    }
    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(i as u64);
    }
    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    #[inline]
    fn finish(&self) -> u64 {
        self.hash
    }
}

/// `HashMap` with [`FxHasher`].
pub type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;
/// `HashSet` with [`FxHasher`].
pub type FxSet<K> = HashSet<K, BuildHasherDefault<FxHasher>>;

/// Whether `s` equals the first `s.len()` bytes of `held` (at least as long), compared by
/// 8-byte words rather than through libc's `memcmp`, whose call costs more than the compare
/// for a few dozen bytes, several times a row in ingest.
#[inline]
pub fn eq_prefix(held: &[u8], s: &[u8]) -> bool {
    let n = s.len();
    if held.len() < n {
        return false;
    }
    if n < 8 {
        return s.iter().zip(held).all(|(a, b)| a == b);
    }
    let word = |b: &[u8], i: usize| u64::from_le_bytes(b[i..i + 8].try_into().expect("8 bytes"));
    let mut i = 0;
    while i + 8 <= n {
        if word(s, i) != word(held, i) {
            return false;
        }
        i += 8;
    }
    // The tail, as the last 8 bytes (overlapping what was compared).
    i == n || word(s, n - 8) == word(held, n - 8)
}

/// A string of at most 63 bytes held inline (length in the last byte), as a map key: a lookup
/// touches one table slot instead of following a pointer to the heap. Addresses fit (Aleo 63
/// bytes, EVM 42).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct InlineKey([u8; 64]);

impl std::fmt::Debug for InlineKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.as_str())
    }
}

impl InlineKey {
    /// `None` when `s` is 64 bytes or longer.
    pub fn new(s: &str) -> Option<Self> {
        let b = s.as_bytes();
        (b.len() < 64).then(|| {
            let mut k = [0u8; 64];
            k[..b.len()].copy_from_slice(b);
            k[63] = b.len() as u8;
            InlineKey(k)
        })
    }

    /// Whether this key holds `s` (no key built).
    pub fn is(&self, s: &str) -> bool {
        s.len() == self.0[63] as usize && eq_prefix(&self.0, s.as_bytes())
    }

    pub fn as_str(&self) -> &str {
        let n = self.0[63] as usize;
        std::str::from_utf8(&self.0[..n]).expect("made from a str")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_keys_round_trip_and_refuse_long_strings() {
        for s in [
            "",
            "a",
            "aleo1wvgwnqvy46qq0zemj0k6sfp3zv0mp77rw97khvwuhac05yuwscxqmfyhwf",
        ] {
            assert_eq!(InlineKey::new(s).unwrap().as_str(), s);
        }
        assert!(InlineKey::new(&"x".repeat(64)).is_none());
        let k = InlineKey::new("ab").unwrap();
        assert!(k.is("ab") && !k.is("ab\0") && !k.is("a") && !k.is("abc") && !k.is("ba"));
        assert_ne!(InlineKey::new("ab"), InlineKey::new("ab\0"));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4096))]
        /// The word compare agrees with slice equality, for every length around the word
        /// size and differences at any byte (near pairs are generated on purpose).
        #[test]
        fn eq_prefix_and_is_agree_with_plain_compare(
            a in "[ab]{0,63}",
            flip in proptest::option::of(0usize..64),
            cut in 0usize..64,
        ) {
            let mut b = a.clone().into_bytes();
            if let Some(i) = flip.filter(|i| *i < b.len()) {
                b[i] = if b[i] == b'a' { b'b' } else { b'a' };
            }
            b.truncate(cut.max(b.len() / 2).min(b.len()));
            let b = String::from_utf8(b).unwrap();
            let k = InlineKey::new(&a).unwrap();
            proptest::prop_assert_eq!(k.is(&b), a == b);
            proptest::prop_assert_eq!(
                eq_prefix(a.as_bytes(), b.as_bytes()),
                a.as_bytes().starts_with(b.as_bytes())
            );
            proptest::prop_assert_eq!(
                eq_prefix(b.as_bytes(), a.as_bytes()),
                b.as_bytes().starts_with(a.as_bytes())
            );
        }
    }
}
