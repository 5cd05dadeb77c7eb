//! snarkVM's `hash.psd2` (Leo: `Poseidon2::hash_to_field`), bit for bit.
//!
//! An Aleo program hashes a value `v` with `hash.psd2 v into r as field`. snarkVM computes it as
//! [`hash_many`] (domain `"AleoPoseidon2"`) over `to_fields(v)`: the value's little-endian bits
//! with type tags ([`Value::write_bits`]), then one terminus `1` bit, packed into 252-bit
//! little-endian chunks ([`Value::to_fields`]). The permutation is [`crate::poseidon::permute`]:
//! its round constants and MDS are snarkVM's own (`Fr::default_poseidon_parameters::<2>()`; the
//! unit tests pin snarkVM's vectors), so there is one Poseidon in fairdrop.
//!
//! Encoding of `to_bits_le` (snarkVM `console/program/src/data/plaintext/to_bits.rs`):
//! - literal: `[0, 0]`, variant (u8: address 0, boolean 1, field 2, u8 9, u16 10, u32 11,
//!   u64 12, u128 13), size in bits (u16: address / field 253, boolean 1, uN N), the value's
//!   bits (an address contributes its x-coordinate);
//! - struct: `[0, 1]`, member count (u8), then per member in declaration order: 8·len(name)
//!   (u8), the name's ASCII bytes (LSB first), the member's bit length (u16), its bits;
//! - array: `[1, 0]`, length (u32), then per element its bit length (u16) and its bits.

use ark_bls12_377::Fr;
use ark_ff::{BigInt, PrimeField, Zero};

use crate::poseidon::permute;

/// The domain of the network's `Poseidon2` instance (`hash.psd2` in programs).
pub const DOMAIN: &str = "AleoPoseidon2";

/// A domain separator as snarkVM makes one: the ASCII bytes read as a little-endian integer.
pub fn domain(s: &str) -> Fr {
    Fr::from_le_bytes_mod_order(s.as_bytes())
}

/// snarkVM's `Poseidon::hash_many(input, 1)` at rate 2: the sponge (state `[capacity, rate0,
/// rate1]`, all zero) absorbs `[domain, len(input), input…]` two at a time, permuting between
/// blocks, then permutes once and returns lane 1.
pub fn hash_many(domain: Fr, input: &[Fr]) -> Fr {
    let mut state = [Fr::zero(); 3];
    state[1] = domain;
    state[2] = Fr::from(input.len() as u64);
    for block in input.chunks(2) {
        permute(&mut state);
        for (i, x) in block.iter().enumerate() {
            state[1 + i] += x;
        }
    }
    permute(&mut state);
    state[1]
}

/// [`hash_many`] of many inputs of the same length `k` (`flat` holds them one after another),
/// hashed side by side with [`crate::poseidon::many::permute_many`]. The first block,
/// `[domain, k]`, is the same for all of them: its permutation is done once.
pub fn hash_many_batch(domain: Fr, k: usize, flat: &[Fr]) -> Vec<Fr> {
    let mut init = [Fr::zero(), domain, Fr::from(k as u64)];
    let n = flat.len().checked_div(k).unwrap_or(0);
    if k == 0 {
        permute(&mut init);
        return Vec::new();
    }
    permute(&mut init);
    let mut states = vec![init; n];
    for b in 0..k.div_ceil(2) {
        for (i, s) in states.iter_mut().enumerate() {
            s[1] += flat[i * k + 2 * b];
            if 2 * b + 1 < k {
                s[2] += flat[i * k + 2 * b + 1];
            }
        }
        crate::poseidon::many::permute_many(&mut states);
    }
    states.iter().map(|s| s[1]).collect()
}

/// The three fields of `to_fields([left, right])` (a `[field; 2]` array).
fn node_fields(left: &Fr, right: &Fr, out: &mut Vec<Fr>) {
    let mut b = Bits::with_capacity(573);
    b.push(0b01, 2);
    b.push(2, 32);
    for f in [left, right] {
        b.push(279, 16);
        b.push(0, 2);
        b.push(2, 8);
        b.push(253, 16);
        b.push_words(&fe_words(f), 253);
    }
    b.push(1, 1);
    out.extend(b.to_fields());
}

/// A Merkle node of the `aleo` profile: `hash.psd2 [left, right]` (Leo:
/// `Poseidon2::hash_to_field([left, right])`).
pub fn node(left: Fr, right: Fr) -> Fr {
    let mut f = Vec::with_capacity(3);
    node_fields(&left, &right, &mut f);
    hash_many(domain(DOMAIN), &f)
}

/// The parents of `level` (pairs in order; a last odd node is paired with `empty`).
pub fn nodes(level: &[Fr], empty: Fr) -> Vec<Fr> {
    let mut flat = Vec::with_capacity(level.len().div_ceil(2) * 3);
    for c in level.chunks(2) {
        node_fields(&c[0], c.get(1).unwrap_or(&empty), &mut flat);
    }
    hash_many_batch(domain(DOMAIN), 3, &flat)
}

/// `hash.psd2 v into r as field`.
pub fn hash_to_field(v: &Value) -> Fr {
    hash_many(domain(DOMAIN), &v.to_fields())
}

/// An Aleo plaintext value (the literal types fairdrop uses, structs and arrays).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// An address, by its x-coordinate (the 32-byte little-endian bech32m payload).
    Address([u8; 32]),
    Bool(bool),
    Field(Fr),
    U8(u8),
    U16(u16),
    U32(u32),
    U64(u64),
    U128(u128),
    /// Members in declaration order.
    Struct(Vec<(String, Value)>),
    Array(Vec<Value>),
}

/// A little-endian bit string.
#[derive(Clone, Debug, Default)]
pub struct Bits {
    words: Vec<u64>,
    len: usize,
}

impl Bits {
    pub fn with_capacity(bits: usize) -> Bits {
        Bits {
            words: Vec::with_capacity(bits / 64 + 1),
            len: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Append the low `n` bits of `v` (n ≤ 64), least significant first.
    pub fn push(&mut self, v: u64, n: u32) {
        if n == 0 {
            return;
        }
        let v = if n == 64 { v } else { v & ((1u64 << n) - 1) };
        let off = (self.len % 64) as u32;
        if off == 0 {
            self.words.push(v);
        } else {
            *self.words.last_mut().expect("a word") |= v << off;
            if off + n > 64 {
                self.words.push(v >> (64 - off));
            }
        }
        self.len += n as usize;
    }

    /// Append `n` bits of a 4-word little-endian integer.
    pub fn push_words(&mut self, w: &[u64; 4], n: u32) {
        let mut left = n;
        for x in w {
            if left == 0 {
                break;
            }
            let k = left.min(64);
            self.push(*x, k);
            left -= k;
        }
    }

    /// Bits `start..start + n` (n ≤ 64) as an integer; bits past the end read as 0.
    fn get(&self, start: usize, n: u32) -> u64 {
        if n == 0 || start >= self.len {
            return 0;
        }
        let w = start / 64;
        let off = (start % 64) as u32;
        let mut v = self.words[w] >> off;
        if off > 0 && off + n > 64 && w + 1 < self.words.len() {
            v |= self.words[w + 1] << (64 - off);
        }
        let avail = (self.len - start).min(n as usize) as u32;
        if avail < 64 {
            v &= (1u64 << avail) - 1;
        }
        v
    }

    /// Packed into field elements of 252 bits each (snarkVM's `size_in_data_bits`).
    pub fn to_fields(&self) -> Vec<Fr> {
        (0..self.len.div_ceil(252))
            .map(|c| {
                let s = c * 252;
                let w = [
                    self.get(s, 64),
                    self.get(s + 64, 64),
                    self.get(s + 128, 64),
                    self.get(s + 192, 60),
                ];
                Fr::from_bigint(BigInt(w)).expect("252 bits are below the modulus")
            })
            .collect()
    }
}

fn fe_words(f: &Fr) -> [u64; 4] {
    f.into_bigint().0
}

impl Value {
    /// snarkVM's literal variant number and size in bits, for literals.
    fn literal(&self) -> Option<(u8, u16)> {
        Some(match self {
            Value::Address(_) => (0, 253),
            Value::Bool(_) => (1, 1),
            Value::Field(_) => (2, 253),
            Value::U8(_) => (9, 8),
            Value::U16(_) => (10, 16),
            Value::U32(_) => (11, 32),
            Value::U64(_) => (12, 64),
            Value::U128(_) => (13, 128),
            Value::Struct(_) | Value::Array(_) => return None,
        })
    }

    /// Length of `to_bits_le` (without the terminus).
    pub fn bit_len(&self) -> usize {
        match self {
            Value::Struct(m) => {
                10 + m
                    .iter()
                    .map(|(n, v)| 8 + 8 * n.len() + 16 + v.bit_len())
                    .sum::<usize>()
            }
            Value::Array(a) => 34 + a.iter().map(|v| 16 + v.bit_len()).sum::<usize>(),
            lit => 26 + lit.literal().expect("a literal").1 as usize,
        }
    }

    /// snarkVM's `to_bits_le`, appended to `out`.
    pub fn write_bits(&self, out: &mut Bits) {
        match self {
            Value::Struct(members) => {
                out.push(0b10, 2);
                out.push(members.len() as u64, 8);
                for (name, v) in members {
                    out.push(8 * name.len() as u64, 8);
                    for b in name.bytes() {
                        out.push(b as u64, 8);
                    }
                    out.push(v.bit_len() as u64, 16);
                    v.write_bits(out);
                }
            }
            Value::Array(items) => {
                out.push(0b01, 2);
                out.push(items.len() as u64, 32);
                for v in items {
                    out.push(v.bit_len() as u64, 16);
                    v.write_bits(out);
                }
            }
            lit => {
                let (variant, size) = lit.literal().expect("a literal");
                out.push(0, 2);
                out.push(variant as u64, 8);
                out.push(size as u64, 16);
                match lit {
                    Value::Address(x) => {
                        let mut w = [0u64; 4];
                        for (i, c) in x.chunks(8).enumerate() {
                            w[i] = u64::from_le_bytes(c.try_into().expect("8 bytes"));
                        }
                        out.push_words(&w, 253);
                    }
                    Value::Bool(b) => out.push(*b as u64, 1),
                    Value::Field(f) => out.push_words(&fe_words(f), 253),
                    Value::U8(v) => out.push(*v as u64, 8),
                    Value::U16(v) => out.push(*v as u64, 16),
                    Value::U32(v) => out.push(*v as u64, 32),
                    Value::U64(v) => out.push(*v, 64),
                    Value::U128(v) => {
                        out.push(*v as u64, 64);
                        out.push((*v >> 64) as u64, 64);
                    }
                    Value::Struct(_) | Value::Array(_) => unreachable!("not a literal"),
                }
            }
        }
    }

    /// snarkVM's `Plaintext::to_fields`: the bits, a terminus `1`, 252 bits per element.
    pub fn to_fields(&self) -> Vec<Fr> {
        let mut bits = Bits::with_capacity(self.bit_len() + 1);
        self.write_bits(&mut bits);
        bits.push(1, 1);
        bits.to_fields()
    }

    /// The value as Aleo plaintext (`1field`, `aleo1…`, `{ a: 1u32, b: 2u64 }`, `[1field, 2field]`),
    /// as program inputs are written.
    pub fn to_plaintext(&self) -> String {
        match self {
            Value::Address(x) => fairdrop_core::Address::Aleo(*x).to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Field(f) => format!("{}field", f.into_bigint()),
            Value::U8(v) => format!("{v}u8"),
            Value::U16(v) => format!("{v}u16"),
            Value::U32(v) => format!("{v}u32"),
            Value::U64(v) => format!("{v}u64"),
            Value::U128(v) => format!("{v}u128"),
            Value::Struct(m) => {
                let parts: Vec<String> = m
                    .iter()
                    .map(|(n, v)| format!("{n}: {}", v.to_plaintext()))
                    .collect();
                format!("{{ {} }}", parts.join(", "))
            }
            Value::Array(a) => {
                let parts: Vec<String> = a.iter().map(Value::to_plaintext).collect();
                format!("[{}]", parts.join(", "))
            }
        }
    }
}

/// A field element as Aleo plaintext: decimal digits + `field`.
pub fn field_plaintext(f: &Fr) -> String {
    format!("{}field", f.into_bigint())
}

/// Parse `123field` (decimal, below the modulus).
pub fn parse_field_plaintext(s: &str) -> Option<Fr> {
    let d = s.strip_suffix("field")?;
    if d.is_empty() || d.len() > 77 || !d.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: num_bigint_lite::Big = num_bigint_lite::parse(d)?;
    let f = Fr::from_bigint(BigInt(n))?;
    // Reject non-canonical spellings such as leading zeros.
    (f.into_bigint().to_string() == d).then_some(f)
}

/// Decimal → 4 × u64, without an arbitrary-precision crate (77 digits at most).
mod num_bigint_lite {
    pub type Big = [u64; 4];

    pub fn parse(d: &str) -> Option<Big> {
        let mut w = [0u64; 4];
        for b in d.bytes() {
            let mut carry = (b - b'0') as u128;
            for x in w.iter_mut() {
                let v = (*x as u128) * 10 + carry;
                *x = v as u64;
                carry = v >> 64;
            }
            if carry != 0 {
                return None;
            }
        }
        Some(w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ff::BigInteger;
    use std::str::FromStr;

    fn dec(f: &Fr) -> String {
        f.into_bigint().to_string()
    }

    fn a() -> [u8; 32] {
        match fairdrop_core::Address::parse(
            "aleo1rhgdu77hgyqd3xjj8ucu3jj9r2krwz6mnzyd80gncr5fxcwlh5rsvzp9px",
        )
        .unwrap()
        {
            fairdrop_core::Address::Aleo(x) => x,
            _ => unreachable!(),
        }
    }

    /// Every vector of `shared/spec/aleo.md` ("snarkVM's own hashes"), produced by snarkVM.
    #[test]
    fn snarkvm_vectors() {
        let one = Fr::from(1u64);
        let two = Fr::from(2u64);
        assert_eq!(
            dec(&hash_many(domain("AleoPoseidon2"), &[one, two])),
            "331654914538502470743870876231218532880590298544129720907024905288306182975"
        );
        assert_eq!(
            dec(&hash_many(domain("Poseidon2"), &[Fr::zero(), one])),
            "1264503312579512465189393860390753485466098990459556420139454725533509612591"
        );
        let f: Vec<String> = Value::U64(100).to_fields().iter().map(dec).collect();
        assert_eq!(f, ["1237940039285380281610076208"]);
        let f: Vec<String> = Value::Field(one).to_fields().iter().map(dec).collect();
        assert_eq!(f, ["67367944", "134217728"]);
        let x = Fr::from_le_bytes_mod_order(&a());
        assert_eq!(
            dec(&x),
            "3501665755452795161867664882580888971213780722176652848275908626939553697821"
        );
        let cases = [
            (
                Value::Field(one),
                "1233384812208229564144027666290041444092776764619915012081242850804081583609",
            ),
            (
                Value::U64(100),
                "2879390050654101370339950990983081462395924667152640991693129731635973445866",
            ),
            (
                Value::Array(vec![Value::Field(one), Value::Field(two)]),
                "8085516913590109898022980884661934867530560444243763469531308072539092821241",
            ),
            (
                Value::Array(vec![
                    Value::Field(Fr::from(3u64)),
                    Value::Field(Fr::from(4u64)),
                ]),
                "4813443042327867644832516665306790978073558182410151484031726872489623698218",
            ),
            (
                Value::Struct(vec![
                    ("addr".into(), Value::Address(a())),
                    ("amount".into(), Value::U64(100)),
                ]),
                "3083710785772665343787136263440366645225998171356685760834033518188255382353",
            ),
        ];
        for (v, want) in cases {
            assert_eq!(dec(&hash_to_field(&v)), want, "{}", v.to_plaintext());
        }
    }

    #[test]
    fn fast_paths_equal_the_generic_encoding() {
        let xs: Vec<Fr> = (0..37u64)
            .map(|i| Fr::from(i * 7919) - Fr::from(3u64))
            .collect();
        for c in xs.chunks(2) {
            let r = *c.get(1).unwrap_or(&Fr::zero());
            let generic = hash_to_field(&Value::Array(vec![Value::Field(c[0]), Value::Field(r)]));
            assert_eq!(node(c[0], r), generic);
        }
        let batch = nodes(&xs, Fr::zero());
        let one: Vec<Fr> = xs
            .chunks(2)
            .map(|c| node(c[0], *c.get(1).unwrap_or(&Fr::zero())))
            .collect();
        assert_eq!(batch, one);
        for k in 1..6 {
            let flat: Vec<Fr> = xs[..k * 5].to_vec();
            let b = hash_many_batch(domain(DOMAIN), k, &flat);
            let s: Vec<Fr> = flat
                .chunks(k)
                .map(|c| hash_many(domain(DOMAIN), c))
                .collect();
            assert_eq!(b, s, "k={k}");
        }
    }

    #[test]
    fn bit_lengths_match_what_is_written() {
        let v = Value::Struct(vec![
            ("a".into(), Value::U128(u128::MAX)),
            (
                "bb".into(),
                Value::Array(vec![Value::Bool(true), Value::U8(7)]),
            ),
            ("c".into(), Value::Field(-Fr::from(1u64))),
            ("d".into(), Value::U16(3)),
            ("e".into(), Value::U32(9)),
        ]);
        let mut b = Bits::default();
        v.write_bits(&mut b);
        assert_eq!(b.len(), v.bit_len());
        // A terminus is appended and the chunks hold every bit.
        assert_eq!(v.to_fields().len(), (v.bit_len() + 1).div_ceil(252));
    }

    #[test]
    fn bits_pack_like_a_bool_vector() {
        // Reference: snarkVM's chunks of a Vec<bool>.
        let mut bools = Vec::new();
        let mut b = Bits::default();
        let mut s = 0x9e3779b97f4a7c15u64;
        for i in 0..200 {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let n = (i % 65) as u32;
            b.push(s, n);
            for k in 0..n {
                bools.push((s >> k) & 1 == 1);
            }
        }
        let want: Vec<Fr> = bools
            .chunks(252)
            .map(|c| Fr::from_bigint(BigInt::from_bits_le(c)).unwrap())
            .collect();
        assert_eq!(b.to_fields(), want);
    }

    #[test]
    fn plaintext_round_trip() {
        let f = -Fr::from(5u64);
        let s = field_plaintext(&f);
        assert_eq!(parse_field_plaintext(&s), Some(f));
        assert_eq!(parse_field_plaintext("0field"), Some(Fr::zero()));
        for bad in ["01field", "field", "1", "-1field", "1 field"] {
            assert_eq!(parse_field_plaintext(bad), None, "{bad}");
        }
        let r = "8444461749428370424248824938781546531375899335154063827935233455917409239041field";
        assert_eq!(parse_field_plaintext(r), None);
        assert_eq!(
            Value::Struct(vec![
                ("a".into(), Value::U32(1)),
                (
                    "b".into(),
                    Value::Array(vec![Value::Field(Fr::from_str("2").unwrap())])
                )
            ])
            .to_plaintext(),
            "{ a: 1u32, b: [2field] }"
        );
    }
}
