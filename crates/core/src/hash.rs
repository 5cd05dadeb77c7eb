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

/// The 1 to 7 bytes of `rest` as a little-endian word, zero above them: from two
/// overlapping loads (copying them into a zeroed word was a `memcpy` call per string, the
/// largest cost of hashing the short strings interned on every ingested row).
#[inline]
fn tail_word(rest: &[u8]) -> u64 {
    let n = rest.len();
    debug_assert!((1..8).contains(&n));
    if n >= 4 {
        let lo = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]) as u64;
        let hi = u32::from_le_bytes([rest[n - 4], rest[n - 3], rest[n - 2], rest[n - 1]]) as u64;
        lo | hi << ((n - 4) * 8)
    } else {
        rest[0] as u64
            | (rest[n / 2] as u64) << (8 * (n / 2))
            | (rest[n - 1] as u64) << (8 * (n - 1))
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
            self.add(tail_word(rest));
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

/// A map from strings of at most 63 bytes to `u32` that can be *prefetched*: open addressing
/// with linear probing, one 64-byte cache line per key (the key inline, its length + 1 in the
/// last byte, 0 there for a free slot) and the values in a parallel array. A new table is
/// all zero bytes, so it comes from the allocator as zeroed memory and its pages cost
/// nothing until a key lands in them (see [`InlineMap::with_capacity`]).
///
/// Why not `FxMap<InlineKey, u32>`: a lookup in a table of millions of addresses is a cache
/// miss, and ingest makes one or two per row. Here the caller knows the slot from the hash
/// ([`InlineMap::hash`]) and can [`InlineMap::prefetch`] it some rows ahead, so the miss is
/// paid while earlier rows are being worked on. Keys of 64 bytes or more are not held
/// (`insert` returns `false`): callers keep a second map for those.
///
/// ```
/// use fairdrop_core::hash::InlineMap;
/// let mut m = InlineMap::default();
/// let h = InlineMap::hash("aleo1xyz");
/// m.prefetch(h);
/// assert_eq!(m.get("aleo1xyz", h), None);
/// assert!(m.insert("aleo1xyz", h, 7));
/// assert_eq!(m.get("aleo1xyz", h), Some(7));
/// ```
#[derive(Clone)]
pub struct InlineMap {
    keys: Vec<Line>,
    vals: Vec<u32>,
    /// 64 - log2(slots): the slot of a hash is its top bits (Fx mixes those best).
    shift: u32,
    len: usize,
    /// Most slots in use before growing, in eighths: 6 (3/4) for a map that grows as it
    /// goes, 7 for one sized up front ([`InlineMap::with_capacity`]).
    max_load: usize,
}

#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Line([u8; 64]);

/// The tag byte (`Line.0[63]`) of a free slot; a used one holds the key's length + 1.
const FREE: u8 = 0;

/// `n` free lines, as zeroed memory from the allocator: fresh pages from the kernel are
/// already zero, so none is written (or even mapped) until a key is stored in it.
fn zeroed_lines(n: usize) -> Vec<Line> {
    if n == 0 {
        return Vec::new();
    }
    let layout = std::alloc::Layout::array::<Line>(n).expect("table size fits in memory");
    // SAFETY: the layout is `n` `Line`s (non-zero size); all-zero bytes are a valid `Line`
    // (a plain byte array); the pointer comes from the global allocator with this very
    // layout, which is what `Vec::from_raw_parts` needs with length = capacity = `n`.
    unsafe {
        let p = std::alloc::alloc_zeroed(layout) as *mut Line;
        if p.is_null() {
            std::alloc::handle_alloc_error(layout);
        }
        Vec::from_raw_parts(p, n, n)
    }
}

impl Default for InlineMap {
    fn default() -> Self {
        Self::with_slots(16)
    }
}

impl InlineMap {
    fn with_slots(slots: usize) -> Self {
        debug_assert!(slots.is_power_of_two());
        Self {
            keys: zeroed_lines(slots),
            vals: vec![0; slots],
            shift: 64 - slots.trailing_zeros(),
            len: 0,
            max_load: 6,
        }
    }

    /// A map that holds `n` keys without growing, filled up to 7/8 (it grows past that like
    /// any other). For callers that know their key count: no doubling (whose old and new
    /// tables coexist for a moment), and about half the memory of a 3/4-full table when
    /// `n` is just past a power of two's 3/4 (1.7M addresses: 143 MB instead of 285 MB).
    pub fn with_capacity(n: usize) -> Self {
        let slots = n.saturating_mul(8).div_ceil(7).next_power_of_two().max(16);
        let mut m = Self::with_slots(slots);
        m.max_load = 7;
        m
    }

    /// The hash every other call takes: `h` passed with `s` must be `InlineMap::hash(s)`.
    #[inline]
    pub fn hash(s: &str) -> u64 {
        let mut h = FxHasher::default();
        h.write(s.as_bytes());
        h.finish()
    }

    #[inline]
    fn slot(&self, h: u64) -> usize {
        // A 16-slot table shifts by 60; `h >> 64` cannot happen (at least one slot bit).
        (h >> self.shift) as usize
    }

    /// Ask the CPU to start loading the lines a lookup of hash `h` reads first.
    #[inline]
    pub fn prefetch(&self, h: u64) {
        let i = self.slot(h);
        prefetch_line(&self.keys[i] as *const Line as *const i8);
        prefetch_line(&self.vals[i] as *const u32 as *const i8);
    }

    #[inline]
    pub fn get(&self, s: &str, h: u64) -> Option<u32> {
        let b = s.as_bytes();
        if b.len() >= 64 {
            return None;
        }
        let mask = self.keys.len() - 1;
        let mut i = self.slot(h);
        loop {
            let k = &self.keys[i].0;
            if k[63] == FREE {
                return None;
            }
            if k[63] as usize == b.len() + 1 && eq_prefix(k, b) {
                return Some(self.vals[i]);
            }
            i = (i + 1) & mask;
        }
    }

    /// Map `s` to `v`, replacing any value it had. `false` (nothing stored) when `s` is 64
    /// bytes or longer.
    pub fn insert(&mut self, s: &str, h: u64, v: u32) -> bool {
        let b = s.as_bytes();
        if b.len() >= 64 {
            return false;
        }
        // At most 3/4 (or 7/8) full: linear probing's chains stay short.
        if (self.len + 1) * 8 > self.keys.len() * self.max_load {
            self.grow();
        }
        let mask = self.keys.len() - 1;
        let mut i = self.slot(h);
        loop {
            let k = &mut self.keys[i].0;
            if k[63] == FREE {
                k[..b.len()].copy_from_slice(b);
                k[b.len()..63].fill(0);
                k[63] = b.len() as u8 + 1;
                self.vals[i] = v;
                self.len += 1;
                return true;
            }
            if k[63] as usize == b.len() + 1 && eq_prefix(k, b) {
                self.vals[i] = v;
                return true;
            }
            i = (i + 1) & mask;
        }
    }

    fn grow(&mut self) {
        let mut bigger = Self::with_slots(self.keys.len() * 2);
        bigger.max_load = self.max_load;
        let old = std::mem::replace(self, bigger);
        for (k, v) in old.keys.iter().zip(old.vals) {
            let n = k.0[63];
            if n != FREE {
                let s = std::str::from_utf8(&k.0[..n as usize - 1]).expect("stored from a str");
                self.insert(s, Self::hash(s), v);
            }
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// A map from 64-bit keys (usually hashes) to `u32` that can be prefetched, like
/// [`InlineMap`] for strings: open addressing with linear probing over 16-byte entries (four
/// to a cache line), at most 3/4 full. Key 0 marks a free entry, so the key 0 itself is held
/// beside the table.
///
/// ```
/// use fairdrop_core::hash::U64Map;
/// let mut m = U64Map::default();
/// m.prefetch(42);
/// assert_eq!(m.get(42), None);
/// m.insert(42, 7);
/// assert_eq!(m.get(42), Some(7));
/// ```
#[derive(Clone)]
pub struct U64Map {
    entries: Vec<(u64, u32)>,
    zero: Option<u32>,
    shift: u32,
    len: usize,
}

impl Default for U64Map {
    fn default() -> Self {
        Self::with_slots(16)
    }
}

impl U64Map {
    fn with_slots(slots: usize) -> Self {
        Self {
            entries: vec![(0, 0); slots],
            zero: None,
            shift: 64 - slots.trailing_zeros(),
            len: 0,
        }
    }

    #[inline]
    fn pos(&self, k: u64) -> usize {
        // Keys may be hashes whose low bits are weak: take the top bits of a multiply.
        (k.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> self.shift) as usize
    }

    /// Ask the CPU to start loading the line a lookup of `k` reads first.
    #[inline]
    pub fn prefetch(&self, k: u64) {
        prefetch_line(&self.entries[self.pos(k)] as *const (u64, u32) as *const i8);
    }

    #[inline]
    pub fn get(&self, k: u64) -> Option<u32> {
        if k == 0 {
            return self.zero;
        }
        let mask = self.entries.len() - 1;
        let mut i = self.pos(k);
        loop {
            let (key, v) = self.entries[i];
            if key == k {
                return Some(v);
            }
            if key == 0 {
                return None;
            }
            i = (i + 1) & mask;
        }
    }

    /// Map `k` to `v`, replacing any value it had.
    pub fn insert(&mut self, k: u64, v: u32) {
        if k == 0 {
            self.len += usize::from(self.zero.is_none());
            self.zero = Some(v);
            return;
        }
        if (self.len + 1) * 4 > self.entries.len() * 3 {
            let mut bigger = Self::with_slots(self.entries.len() * 2);
            bigger.zero = self.zero;
            bigger.len = usize::from(self.zero.is_some());
            for &(key, val) in &self.entries {
                if key != 0 {
                    bigger.insert(key, val);
                }
            }
            *self = bigger;
        }
        let mask = self.entries.len() - 1;
        let mut i = self.pos(k);
        loop {
            let e = &mut self.entries[i];
            if e.0 == k {
                e.1 = v;
                return;
            }
            if e.0 == 0 {
                *e = (k, v);
                self.len += 1;
                return;
            }
            i = (i + 1) & mask;
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// Ask the CPU to start loading the cache line holding `x` (a hint: it never faults).
#[inline]
pub fn prefetch<T>(x: &T) {
    prefetch_line(x as *const T as *const i8);
}

/// Ask the CPU to start loading every cache line `x` spans (a record larger than a line,
/// read at a random place).
#[inline]
pub fn prefetch_all<T>(x: &T) {
    let p = x as *const T as *const i8;
    let first = p as usize & !63;
    let last = p as usize + std::mem::size_of::<T>().max(1) - 1;
    let mut line = first;
    while line <= last {
        // A prefetch never dereferences; every line asked for holds a byte of `x`.
        prefetch_line(p.wrapping_add(line.max(p as usize) - p as usize));
        line += 64;
    }
}

#[inline]
fn prefetch_line(p: *const i8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is only a hint; it never faults, whatever the address.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p)
    };
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

#[cfg(test)]
mod tail_tests {
    /// The tail word is the bytes zero-padded, as copying them into a zeroed word gave:
    /// hashes, and so every table's layout, are unchanged.
    #[test]
    fn tail_word_is_zero_padded_bytes() {
        let bytes: Vec<u8> = (1..=7u8).map(|i| i.wrapping_mul(37) ^ 0xa5).collect();
        for n in 1..8 {
            let mut w = [0u8; 8];
            w[..n].copy_from_slice(&bytes[..n]);
            assert_eq!(
                super::tail_word(&bytes[..n]),
                u64::from_le_bytes(w),
                "{n} bytes"
            );
            let ff = vec![0xffu8; n];
            let mut w = [0u8; 8];
            w[..n].copy_from_slice(&ff);
            assert_eq!(
                super::tail_word(&ff),
                u64::from_le_bytes(w),
                "{n} bytes of 0xff"
            );
        }
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

    #[test]
    fn with_capacity_holds_n_keys_without_growing() {
        for n in [0usize, 1, 13, 14, 100, 1000, 1_700_176] {
            let m = InlineMap::with_capacity(n);
            let slots = m.keys.len();
            assert!(n * 8 <= slots * 7, "n = {n}: {slots} slots");
            assert!(
                slots == 16 || n * 8 > slots / 2 * 7,
                "n = {n}: {slots} slots is not the least"
            );
        }
        // 1.7M addresses fit 2^21 slots (143 MB) instead of the 2^22 a growing map ends at.
        assert_eq!(InlineMap::with_capacity(1_700_176).keys.len(), 1 << 21);
        let mut m = InlineMap::with_capacity(100);
        let slots = m.keys.len();
        for i in 0..100u32 {
            let k = format!("aleo1{i}");
            m.insert(&k, InlineMap::hash(&k), i);
        }
        assert_eq!(m.keys.len(), slots);
        assert_eq!(m.get("aleo17", InlineMap::hash("aleo17")), Some(7));
    }

    proptest::proptest! {
        /// `U64Map` agrees with a `HashMap`; keys from a small range (0 included) collide
        /// and repeat, and large ones cross growth.
        #[test]
        fn u64_map_agrees_with_hashmap(
            ops in proptest::collection::vec(
                (proptest::prop_oneof![0u64..40, proptest::prelude::any::<u64>()],
                 proptest::prelude::any::<u32>(), proptest::prelude::any::<bool>()),
                0..600),
        ) {
            use proptest::prelude::*;
            let mut m = U64Map::default();
            let mut want = std::collections::HashMap::<u64, u32>::new();
            for (k, v, ins) in &ops {
                m.prefetch(*k);
                if *ins {
                    m.insert(*k, *v);
                    want.insert(*k, *v);
                }
                prop_assert_eq!(m.get(*k), want.get(k).copied());
            }
            prop_assert_eq!(m.len(), want.len());
            for (k, v) in &want {
                prop_assert_eq!(m.get(*k), Some(*v));
            }
        }
    }

    proptest::proptest! {
        /// The map agrees with a `HashMap` under any mix of inserts and lookups. Short keys
        /// from a two-letter alphabet share prefixes and collide in small tables, so probe
        /// chains, wrap-around and growth are all crossed; long keys are refused.
        #[test]
        fn inline_map_agrees_with_hashmap(
            ops in proptest::collection::vec(("[ab]{0,70}", proptest::prelude::any::<u32>(), proptest::prelude::any::<bool>()), 0..400),
            sized in proptest::option::of(0usize..300),
        ) {
            use proptest::prelude::*;
            // Default (3/4 full, growing) or sized up front (7/8 full, growing past it).
            let mut m = sized.map(InlineMap::with_capacity).unwrap_or_default();
            let mut want = std::collections::HashMap::<String, u32>::new();
            for (k, v, ins) in &ops {
                let h = InlineMap::hash(k);
                m.prefetch(h);
                if *ins {
                    prop_assert_eq!(m.insert(k, h, *v), k.len() < 64);
                    if k.len() < 64 {
                        want.insert(k.clone(), *v);
                    }
                }
                prop_assert_eq!(m.get(k, h), want.get(k.as_str()).copied());
            }
            prop_assert_eq!(m.len(), want.len());
            for (k, v) in &want {
                prop_assert_eq!(m.get(k, InlineMap::hash(k)), Some(*v));
            }
        }
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
