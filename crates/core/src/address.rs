//! Wallet addresses: Aleo and EVM.
//!
//! Aleo: bech32m (BIP-350), hrp `aleo`, 63 characters, 32-byte payload that is the
//! little-endian x-coordinate of a point on Edwards-BLS12-377 (x below the field modulus,
//! and (1 + x²)/(1 − 3021·x²) a square). EVM: `0x` (or PostgreSQL's `\x`) + 40 hex digits;
//! all-lowercase or all-uppercase is taken as is, mixed case must pass EIP-55.
//!
//! Every rejection carries a stable rule code (`AddressError::rule`) used in quarantine
//! files and API errors.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use ark_ed_on_bls12_377::Fq;
use ark_ff::{BigInt, Field, PrimeField, Zero};
use bech32::primitives::decode::{CheckedHrpstring, CheckedHrpstringError};
use bech32::{Bech32, Bech32m, Hrp};

/// The Edwards-BLS12-377 `d` coefficient (a = -1).
const EDWARDS_D: u64 = 3021;
/// Human-readable part of Aleo addresses.
pub const ALEO_HRP: &str = "aleo";
/// Length of every Aleo address string.
pub const ALEO_ADDRESS_LEN: usize = 63;

/// A validated wallet address.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Address {
    /// Aleo address: the 32-byte little-endian x-coordinate of the address point.
    Aleo([u8; 32]),
    /// EVM address: 20 bytes.
    Evm([u8; 20]),
}

/// Which family an address belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AddressKind {
    Aleo,
    Evm,
}

/// Why a string is not a valid address. `rule()` gives the stable code.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    #[error("address is empty")]
    Empty,
    #[error("address is {0} characters long, over the 128 allowed")]
    TooLong(usize),
    #[error("not an Aleo (aleo1…) or EVM (0x…) address")]
    UnknownFormat,
    #[error("EVM address must be 0x followed by 40 hex digits, got {0} characters")]
    EvmLength(usize),
    #[error("EVM address has a non-hex character")]
    EvmHex,
    #[error("EVM address has mixed case but fails the EIP-55 checksum (expected {expected})")]
    Eip55 { expected: String },
    #[error("Aleo address must be {ALEO_ADDRESS_LEN} characters, got {0}")]
    AleoLength(usize),
    #[error("bech32m checksum does not match")]
    AleoChecksum,
    #[error("bech32 checksum found where Aleo requires bech32m")]
    AleoBech32NotBech32m,
    #[error("human-readable part is {0:?}, Aleo addresses use \"aleo\"")]
    AleoHrp(String),
    #[error("bech32 string is malformed: {0}")]
    AleoMalformed(String),
    #[error("Aleo address payload is {0} bytes, must be 32")]
    AleoPayloadLength(usize),
    #[error("Aleo address has non-zero padding bits (not canonical)")]
    AleoPadding,
    #[error("Aleo address x-coordinate is not below the BLS12-377 scalar field modulus")]
    AleoXAboveModulus,
    #[error("Aleo address x-coordinate is not on Edwards-BLS12-377 (no point has this x)")]
    AleoOffCurve,
    #[error("Aleo address x-coordinate is on Edwards-BLS12-377 but neither of its points is in the prime-order subgroup (snarkVM refuses it)")]
    AleoNotInSubgroup,
}

impl AddressError {
    /// Stable rule code, e.g. `address.aleo.off_curve`.
    pub fn rule(&self) -> &'static str {
        match self {
            AddressError::Empty => "address.empty",
            AddressError::TooLong(_) => "address.too_long",
            AddressError::UnknownFormat => "address.unknown_format",
            AddressError::EvmLength(_) => "address.evm.length",
            AddressError::EvmHex => "address.evm.hex",
            AddressError::Eip55 { .. } => "address.evm.eip55",
            AddressError::AleoLength(_) => "address.aleo.length",
            AddressError::AleoChecksum => "address.aleo.checksum",
            AddressError::AleoBech32NotBech32m => "address.aleo.bech32_not_bech32m",
            AddressError::AleoHrp(_) => "address.aleo.hrp",
            AddressError::AleoMalformed(_) => "address.aleo.malformed",
            AddressError::AleoPayloadLength(_) => "address.aleo.payload_length",
            AddressError::AleoPadding => "address.aleo.padding",
            AddressError::AleoXAboveModulus => "address.aleo.x_above_modulus",
            AddressError::AleoOffCurve => "address.aleo.off_curve",
            AddressError::AleoNotInSubgroup => "address.aleo.not_in_subgroup",
        }
    }
}

impl Address {
    /// The canonical text of this address, given the text `s` it was parsed from: `s`
    /// itself when that is already canonical (no uppercase letter, `aleo1` or `0x` prefix),
    /// which skips encoding it again (bech32m encoding was a visible cost of ingest).
    pub fn canonical_from<'s>(&self, s: &'s str) -> std::borrow::Cow<'s, str> {
        let prefix = match self {
            Address::Aleo(_) => "aleo1",
            Address::Evm(_) => "0x",
        };
        if s.starts_with(prefix) && !s.bytes().any(|c| c.is_ascii_uppercase()) {
            std::borrow::Cow::Borrowed(s)
        } else {
            std::borrow::Cow::Owned(self.to_string())
        }
    }

    /// Parse strictly. See the module docs for the rules.
    pub fn parse(s: &str) -> Result<Address, AddressError> {
        if s.is_empty() {
            return Err(AddressError::Empty);
        }
        if s.len() > 128 {
            return Err(AddressError::TooLong(s.len()));
        }
        let b = s.as_bytes();
        if b.len() >= 2
            && (b[0] == b'0' && (b[1] == b'x' || b[1] == b'X') || b[0] == b'\\' && b[1] == b'x')
        {
            return parse_evm(&s[2..]).map(Address::Evm);
        }
        if let Some(pos) = s.rfind('1') {
            let hrp = &s[..pos];
            if !hrp.is_empty() && hrp.bytes().all(|c| c.is_ascii_alphanumeric()) {
                return parse_aleo(s).map(Address::Aleo);
            }
        }
        Err(AddressError::UnknownFormat)
    }

    /// Parse an address that was already validated (e.g. read back from `events.parquet`,
    /// which holds only canonical, checked addresses): same decoding, but the Aleo curve
    /// check — the costly part — is skipped. Never use it on untrusted input.
    pub fn parse_trusted(s: &str) -> Result<Address, AddressError> {
        let b = s.as_bytes();
        if b.len() == 63 && s.starts_with("aleo1") {
            let checked =
                CheckedHrpstring::new::<Bech32m>(s).map_err(|_| AddressError::AleoChecksum)?;
            let mut x = [0u8; 32];
            let mut n = 0;
            for (i, byte) in checked.byte_iter().enumerate() {
                if i >= 32 {
                    return Err(AddressError::AleoPayloadLength(i + 1));
                }
                x[i] = byte;
                n = i + 1;
            }
            if n != 32 {
                return Err(AddressError::AleoPayloadLength(n));
            }
            return Ok(Address::Aleo(x));
        }
        Address::parse(s)
    }

    pub fn kind(&self) -> AddressKind {
        match self {
            Address::Aleo(_) => AddressKind::Aleo,
            Address::Evm(_) => AddressKind::Evm,
        }
    }

    pub fn is_aleo(&self) -> bool {
        matches!(self, Address::Aleo(_))
    }

    /// Raw payload bytes (32 for Aleo, 20 for EVM).
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Address::Aleo(b) => b,
            Address::Evm(b) => b,
        }
    }

    /// Build an Aleo address from an x-coordinate, checking it like `parse` would.
    pub fn aleo_from_x(x_le: [u8; 32]) -> Result<Address, AddressError> {
        check_aleo_x(&x_le)?;
        Ok(Address::Aleo(x_le))
    }

    /// The EIP-55 mixed-case form of an EVM address (`None` for Aleo).
    pub fn to_checksum(&self) -> Option<String> {
        match self {
            Address::Evm(b) => Some(format!("0x{}", eip55(&hex::encode(b)))),
            Address::Aleo(_) => None,
        }
    }
}

impl FromStr for Address {
    type Err = AddressError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Address::parse(s)
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Address::Evm(b) => write!(f, "0x{}", hex::encode(b)),
            Address::Aleo(b) => {
                let hrp = Hrp::parse_unchecked(ALEO_HRP);
                let s = bech32::encode::<Bech32m>(hrp, b).map_err(|_| fmt::Error)?;
                f.write_str(&s)
            }
        }
    }
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Address({self})")
    }
}

impl serde::Serialize for Address {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Address {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Address::parse(&s).map_err(serde::de::Error::custom)
    }
}

fn parse_evm(hex_part: &str) -> Result<[u8; 20], AddressError> {
    // Length counts the full string including the 2-character prefix.
    if hex_part.len() != 40 {
        return Err(AddressError::EvmLength(hex_part.len() + 2));
    }
    let hb = hex_part.as_bytes();
    if !hb.iter().all(|c| c.is_ascii_hexdigit()) {
        return Err(AddressError::EvmHex);
    }
    let has_lower = hb.iter().any(|c| c.is_ascii_lowercase());
    let has_upper = hb.iter().any(|c| c.is_ascii_uppercase());
    let lower = hex_part.to_ascii_lowercase();
    if has_lower && has_upper {
        let expected = eip55(&lower);
        if expected != hex_part {
            return Err(AddressError::Eip55 {
                expected: format!("0x{expected}"),
            });
        }
    }
    let mut out = [0u8; 20];
    hex::decode_to_slice(&lower, &mut out).map_err(|_| AddressError::EvmHex)?;
    Ok(out)
}

/// EIP-55 checksum casing of 40 lowercase hex digits.
pub fn eip55(lower_hex: &str) -> String {
    use tiny_keccak::{Hasher, Keccak};
    let mut k = Keccak::v256();
    k.update(lower_hex.as_bytes());
    let mut h = [0u8; 32];
    k.finalize(&mut h);
    lower_hex
        .bytes()
        .enumerate()
        .map(|(i, c)| {
            let nibble = if i % 2 == 0 {
                h[i / 2] >> 4
            } else {
                h[i / 2] & 0x0f
            };
            if c.is_ascii_alphabetic() && nibble >= 8 {
                c.to_ascii_uppercase() as char
            } else {
                c as char
            }
        })
        .collect()
}

/// The bech32 alphabet: a symbol's 5-bit value is its index.
const BECH32_CHARSET: &[u8; 32] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";

fn parse_aleo(s: &str) -> Result<[u8; 32], AddressError> {
    let has_lower = s.bytes().any(|c| c.is_ascii_lowercase());
    let has_upper = s.bytes().any(|c| c.is_ascii_uppercase());
    if has_lower && has_upper {
        return Err(AddressError::AleoMalformed("mixed case".into()));
    }
    let lower = s.to_ascii_lowercase();
    let checked = match CheckedHrpstring::new::<Bech32m>(&lower) {
        Ok(c) => c,
        Err(CheckedHrpstringError::Checksum(_)) => {
            if CheckedHrpstring::new::<Bech32>(&lower).is_ok() {
                return Err(AddressError::AleoBech32NotBech32m);
            }
            // A wrong-length string with a bad checksum is reported by its length first
            // when it carries the Aleo prefix, as that is the more useful message.
            if lower.starts_with("aleo1") && lower.len() != ALEO_ADDRESS_LEN {
                return Err(AddressError::AleoLength(lower.len()));
            }
            return Err(AddressError::AleoChecksum);
        }
        Err(e) => return Err(AddressError::AleoMalformed(e.to_string())),
    };
    if checked.hrp().to_lowercase() != ALEO_HRP {
        return Err(AddressError::AleoHrp(checked.hrp().to_lowercase()));
    }
    let bytes: Vec<u8> = checked.byte_iter().collect();
    if bytes.len() != 32 {
        return Err(AddressError::AleoPayloadLength(bytes.len()));
    }
    if lower.len() != ALEO_ADDRESS_LEN {
        return Err(AddressError::AleoLength(lower.len()));
    }
    let mut x = [0u8; 32];
    x.copy_from_slice(&bytes);
    // Non-zero padding bits would give a second spelling of the same address. 32 bytes are
    // 52 five-bit symbols, the last carrying 1 data bit and 4 padding bits: those must be
    // zero. (Re-encoding the payload and comparing, as this did first, costs a second
    // checksum and two allocations per distinct address.)
    let last = lower.as_bytes()[ALEO_ADDRESS_LEN - 7];
    let sym = BECH32_CHARSET
        .iter()
        .position(|&c| c == last)
        .ok_or_else(|| AddressError::AleoMalformed("not a bech32 character".into()))?;
    if sym & 0x0f != 0 {
        return Err(AddressError::AleoPadding);
    }
    check_aleo_x(&x)?;
    Ok(x)
}

/// Check that `x_le` is a field element below r with a point on Edwards-BLS12-377.
pub fn check_aleo_x(x_le: &[u8; 32]) -> Result<(), AddressError> {
    let mut limbs = [0u64; 4];
    for (i, limb) in limbs.iter_mut().enumerate() {
        *limb = u64::from_le_bytes(x_le[i * 8..i * 8 + 8].try_into().expect("8 bytes"));
    }
    let x = Fq::from_bigint(BigInt::new(limbs)).ok_or(AddressError::AleoXAboveModulus)?;
    let x2 = x.square();
    let num = Fq::ONE + x2;
    let den = Fq::ONE - Fq::from(EDWARDS_D) * x2;
    if den.is_zero() {
        return Err(AddressError::AleoOffCurve);
    }
    // y² = num / den is a square iff num · den is (den ≠ 0). The Jacobi symbol modulo the
    // prime r is the Legendre symbol, and the binary algorithm takes about a third of the
    // time of Euler's criterion (a 253-bit exponentiation): ingest checks every distinct
    // address, 1.7M of them in the 1M-wallet world.
    if jacobi((num * den).into_bigint().0, Fq::MODULUS.0) < 0 {
        return Err(AddressError::AleoOffCurve);
    }
    // snarkVM takes, of the two points (x, ±y), the one in the prime-order subgroup, and
    // refuses the address if there is none. The curve's group is Z/4 × Z/r (a = -1 is a
    // square, so (√-1, 0) of order 4 is rational), (x, -y) = -((x, y) + (0, -1)), so one of
    // the two is in the subgroup iff (x, y) ∈ 2E, and E/2E ≅ Z/2 is detected by a quadratic
    // character: through the Montgomery map u = (1+y)/(1-y), u is a square iff
    // 1 - y² = -x²(1 + d y²) is, and 1 + d y² = (1 + d) / (1 - d x²). Hence: valid iff
    // 1 - d x² is a square (half of the on-curve x). tests/aleo_subgroup.rs checks this against
    // arkworks' scalar multiplication by the group order.
    if jacobi(den.into_bigint().0, Fq::MODULUS.0) < 0 {
        return Err(AddressError::AleoNotInSubgroup);
    }
    Ok(())
}

/// Jacobi symbol (a / n) for odd n > a ≥ 0, by the binary algorithm (limbs little-endian).
fn jacobi(mut a: [u64; 4], mut n: [u64; 4]) -> i32 {
    let mut t = 1;
    loop {
        if a[2] | a[3] | n[2] | n[3] == 0 {
            let (a, n) = (
                a[0] as u128 | (a[1] as u128) << 64,
                n[0] as u128 | (n[1] as u128) << 64,
            );
            return t * jacobi_u128(a, n);
        }
        if a == [0; 4] {
            return 0; // n > 1 here, so gcd(a, n) = n > 1
        }
        let z = limbs_trailing_zeros(&a);
        limbs_shr(&mut a, z);
        if z & 1 == 1 && matches!(n[0] & 7, 3 | 5) {
            t = -t;
        }
        // a and n odd: reciprocity, then a - n (even) with a ≥ n.
        if limbs_lt(&a, &n) {
            std::mem::swap(&mut a, &mut n);
            if a[0] & 3 == 3 && n[0] & 3 == 3 {
                t = -t;
            }
        }
        limbs_sub(&mut a, &n);
    }
}

fn jacobi_u128(mut a: u128, mut n: u128) -> i32 {
    let mut t = 1;
    while a != 0 {
        if (a | n) >> 64 == 0 {
            return t * jacobi_u64(a as u64, n as u64);
        }
        let z = a.trailing_zeros();
        a >>= z;
        if z & 1 == 1 && matches!(n & 7, 3 | 5) {
            t = -t;
        }
        if a < n {
            std::mem::swap(&mut a, &mut n);
            if a & 3 == 3 && n & 3 == 3 {
                t = -t;
            }
        }
        a -= n;
    }
    if n == 1 {
        t
    } else {
        0
    }
}

fn jacobi_u64(mut a: u64, mut n: u64) -> i32 {
    let mut t = 1;
    while a != 0 {
        let z = a.trailing_zeros();
        a >>= z;
        if z & 1 == 1 && matches!(n & 7, 3 | 5) {
            t = -t;
        }
        if a < n {
            std::mem::swap(&mut a, &mut n);
            if a & 3 == 3 && n & 3 == 3 {
                t = -t;
            }
        }
        a -= n;
    }
    if n == 1 {
        t
    } else {
        0
    }
}

fn limbs_trailing_zeros(a: &[u64; 4]) -> u32 {
    let mut z = 0;
    for &l in a {
        if l != 0 {
            return z + l.trailing_zeros();
        }
        z += 64;
    }
    z
}

fn limbs_shr(a: &mut [u64; 4], z: u32) {
    let (limbs, bits) = ((z / 64) as usize, z % 64);
    if limbs > 0 {
        for i in 0..4 {
            a[i] = if i + limbs < 4 { a[i + limbs] } else { 0 };
        }
    }
    if bits > 0 {
        for i in 0..4 {
            let hi = if i + 1 < 4 {
                a[i + 1] << (64 - bits)
            } else {
                0
            };
            a[i] = (a[i] >> bits) | hi;
        }
    }
}

fn limbs_lt(a: &[u64; 4], b: &[u64; 4]) -> bool {
    for i in (0..4).rev() {
        if a[i] != b[i] {
            return a[i] < b[i];
        }
    }
    false
}

/// a -= b, for a ≥ b.
fn limbs_sub(a: &mut [u64; 4], b: &[u64; 4]) {
    let mut borrow = false;
    for i in 0..4 {
        let (d, b1) = a[i].overflowing_sub(b[i]);
        let (d, b2) = d.overflowing_sub(borrow as u64);
        a[i] = d;
        borrow = b1 || b2;
    }
}

/// Validates each distinct address string once and remembers the verdict, so the curve
/// check runs once per wallet however many rows mention it. Memory grows with the number of
/// distinct strings seen.
#[derive(Default)]
pub struct AddressCache {
    map: HashMap<Box<str>, Result<Address, AddressError>>,
    hits: u64,
}

impl AddressCache {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn parse(&mut self, s: &str) -> Result<Address, AddressError> {
        if let Some(v) = self.map.get(s) {
            self.hits += 1;
            return v.clone();
        }
        let v = Address::parse(s);
        self.map.insert(s.into(), v.clone());
        v
    }

    /// Distinct strings validated so far.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Lookups answered from the cache.
    pub fn hits(&self) -> u64 {
        self.hits
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn euler(v: Fq) -> i32 {
        use ark_ff::LegendreSymbol::*;
        match v.legendre() {
            Zero => 0,
            QuadraticResidue => 1,
            QuadraticNonResidue => -1,
        }
    }

    proptest::proptest! {
        /// The binary Jacobi symbol equals Euler's criterion for any field element, including
        /// small ones (the u128 and u64 paths) and ones just below the modulus.
        #[test]
        fn jacobi_matches_legendre(bytes in proptest::array::uniform32(proptest::prelude::any::<u8>()), shift in 0u32..256, neg in proptest::prelude::any::<bool>()) {
            let mut v = Fq::from_le_bytes_mod_order(&bytes);
            let mut b = v.into_bigint().0;
            limbs_shr(&mut b, shift);
            v = Fq::from_bigint(BigInt::new(b)).expect("below r");
            if neg {
                v = -v;
            }
            proptest::prop_assert_eq!(jacobi(v.into_bigint().0, Fq::MODULUS.0), euler(v));
        }
    }

    #[test]
    fn jacobi_small_and_edge_values() {
        for k in 0u64..2000 {
            for v in [Fq::from(k), -Fq::from(k)] {
                assert_eq!(jacobi(v.into_bigint().0, Fq::MODULUS.0), euler(v), "{k}");
            }
        }
        // Known small Jacobi symbols, independent of the field.
        assert_eq!(jacobi_u64(2, 7), 1);
        assert_eq!(jacobi_u64(3, 7), -1);
        assert_eq!(jacobi_u64(6, 9), 0);
        assert_eq!(jacobi_u64(1001, 9907), -1);
        assert_eq!(jacobi_u128(19, 45), 1);
        assert_eq!(jacobi_u128(8, 21), -1);
        assert_eq!(jacobi_u128(5, 21), 1);
    }

    const VALID: [&str; 3] = [
        "aleo1wvgwnqvy46qq0zemj0k6sfp3zv0mp77rw97khvwuhac05yuwscxqmfyhwf",
        "aleo14tlamssdmg3d0p5zmljma573jghe2q9n6wz29qf36re2glcedcpqfg4add",
        "aleo1d5hg2z3ma00382pngntdp68e74zv54jdxy249qhaujhks9c72yrs33ddah",
    ];

    #[test]
    fn snarkvm_vectors_valid() {
        for v in VALID {
            let a = Address::parse(v).unwrap_or_else(|e| panic!("{v}: {e}"));
            assert_eq!(a.to_string(), v);
            assert_eq!(Address::parse(&v.to_ascii_uppercase()).unwrap(), a);
        }
    }

    #[test]
    fn snarkvm_vectors_invalid() {
        let cases = [
            (
                "aleo1wvgwnqvy46qq0zemj0k6sfp3zv0mp77rw97khvwuhac05yuwscxqmfyhwq",
                "address.aleo.checksum",
            ),
            (
                "aleo1wvgwnqvy46qq0zemj0k6sfp3zv0mp77rw97khvwuhac05yuwscxqw45mtt",
                "address.aleo.bech32_not_bech32m",
            ),
            (
                "aleb1wvgwnqvy46qq0zemj0k6sfp3zv0mp77rw97khvwuhac05yuwscxqddt8zj",
                "address.aleo.hrp",
            ),
            (
                "aleo1wvgwnqvy46qq0zemj0k6sfp3zv0mp77rw97khvwuhac05yuwsc8ghggt",
                "address.aleo.payload_length",
            ),
        ];
        for (s, rule) in cases {
            assert_eq!(Address::parse(s).unwrap_err().rule(), rule, "{s}");
        }
    }

    /// The same 32 bytes with a non-zero padding bit in the last symbol: a second spelling,
    /// refused (only the canonical one is an address).
    #[test]
    fn non_zero_padding_is_refused() {
        use bech32::primitives::iter::{ByteIterExt, Fe32IterExt};
        let ok = "aleo1wvgwnqvy46qq0zemj0k6sfp3zv0mp77rw97khvwuhac05yuwscxqmfyhwf";
        let x = match Address::parse(ok).unwrap() {
            Address::Aleo(x) => x,
            _ => unreachable!(),
        };
        let hrp = Hrp::parse_unchecked("aleo");
        let spell = |pad: u8| -> String {
            let mut fes: Vec<bech32::Fe32> = x.iter().copied().bytes_to_fes().collect();
            let last = fes.len() - 1;
            fes[last] = bech32::Fe32::try_from(fes[last].to_u8() | pad).unwrap();
            fes.into_iter()
                .with_checksum::<Bech32m>(&hrp)
                .chars()
                .collect()
        };
        assert_eq!(spell(0), ok);
        for pad in [1u8, 2, 4, 8, 15] {
            let s = spell(pad);
            assert_eq!(
                Address::parse(&s).unwrap_err().rule(),
                "address.aleo.padding",
                "{s}"
            );
        }
    }

    #[test]
    fn x_above_modulus_and_off_curve() {
        let above = [0xffu8; 32];
        assert_eq!(
            Address::aleo_from_x(above).unwrap_err().rule(),
            "address.aleo.x_above_modulus"
        );
        let s = bech32::encode::<Bech32m>(Hrp::parse_unchecked("aleo"), &above).unwrap();
        assert_eq!(
            Address::parse(&s).unwrap_err().rule(),
            "address.aleo.x_above_modulus"
        );
        // Find a small x with no point: about half of all x are off the curve.
        let off = (1u8..=255)
            .map(|i| {
                let mut x = [0u8; 32];
                x[0] = i;
                x
            })
            .find(|x| check_aleo_x(x).is_err())
            .expect("some small x is off the curve");
        let s = bech32::encode::<Bech32m>(Hrp::parse_unchecked("aleo"), &off).unwrap();
        assert_eq!(
            Address::parse(&s).unwrap_err().rule(),
            "address.aleo.off_curve"
        );
    }

    #[test]
    fn evm_rules() {
        let ok = "0x5C69bEe701ef814a2B6a3EDD4B1652CB9cc5aA6f";
        let a = Address::parse(ok).unwrap();
        assert_eq!(a.to_checksum().unwrap(), ok);
        assert_eq!(a.to_string(), ok.to_ascii_lowercase());
        assert_eq!(Address::parse(&ok.to_ascii_lowercase()).unwrap(), a);
        assert_eq!(
            Address::parse(&format!("0x{}", ok[2..].to_ascii_uppercase())).unwrap(),
            a
        );
        assert_eq!(
            Address::parse(&format!("\\x{}", &ok[2..].to_ascii_lowercase())).unwrap(),
            a
        );
        let bad = "0x5c69bEe701ef814a2B6a3EDD4B1652CB9cc5aA6f";
        assert_eq!(Address::parse(bad).unwrap_err().rule(), "address.evm.eip55");
        assert_eq!(
            Address::parse("0x1234").unwrap_err().rule(),
            "address.evm.length"
        );
        assert_eq!(
            Address::parse("0xzz69bee701ef814a2b6a3edd4b1652cb9cc5aa6f")
                .unwrap_err()
                .rule(),
            "address.evm.hex"
        );
        assert_eq!(
            Address::parse("hello").unwrap_err().rule(),
            "address.unknown_format"
        );
        assert_eq!(Address::parse("").unwrap_err().rule(), "address.empty");
    }

    #[test]
    fn trusted_parse_agrees_on_valid_addresses() {
        for v in VALID {
            assert_eq!(
                Address::parse_trusted(v).unwrap(),
                Address::parse(v).unwrap()
            );
        }
        let e = "0x5c69bee701ef814a2b6a3edd4b1652cb9cc5aa6f";
        assert_eq!(
            Address::parse_trusted(e).unwrap(),
            Address::parse(e).unwrap()
        );
    }

    #[test]
    fn cache_validates_once() {
        let mut c = AddressCache::new();
        for _ in 0..3 {
            c.parse(VALID[0]).unwrap();
            assert!(c.parse("0x12").is_err());
        }
        assert_eq!(c.len(), 2);
        assert_eq!(c.hits(), 4);
    }

    proptest::proptest! {
        #[test]
        fn evm_round_trip(bytes in proptest::array::uniform20(0u8..)) {
            let a = Address::Evm(bytes);
            proptest::prop_assert_eq!(Address::parse(&a.to_string()).unwrap(), a);
            proptest::prop_assert_eq!(Address::parse(&a.to_checksum().unwrap()).unwrap(), a);
            // Every accepted spelling maps to the one canonical text.
            let canon = a.to_string();
            let hex = canon[2..].to_string();
            for s in [canon.clone(), a.to_checksum().unwrap(), format!("\\x{hex}"), format!("0X{hex}"), format!("0x{}", hex.to_uppercase())] {
                if let Ok(b) = Address::parse(&s) {
                    proptest::prop_assert_eq!(b.canonical_from(&s), canon.as_str(), "{}", s);
                }
            }
        }

        #[test]
        fn aleo_canonical_from_any_case(bytes in proptest::array::uniform32(0u8..)) {
            let mut x = bytes;
            x[31] &= 0x0f;
            if let Ok(a) = Address::aleo_from_x(x) {
                let canon = a.to_string();
                for s in [canon.clone(), canon.to_uppercase()] {
                    let b = Address::parse(&s).unwrap();
                    proptest::prop_assert_eq!(b.canonical_from(&s), canon.as_str());
                }
            }
        }

        #[test]
        fn aleo_round_trip(bytes in proptest::array::uniform32(0u8..)) {
            let mut x = bytes;
            x[31] &= 0x0f; // keep below the modulus most of the time
            if let Ok(a) = Address::aleo_from_x(x) {
                let s = a.to_string();
                proptest::prop_assert_eq!(s.len(), ALEO_ADDRESS_LEN);
                proptest::prop_assert_eq!(Address::parse(&s).unwrap(), a);
            }
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,80}") {
            let _ = Address::parse(&s);
        }

        #[test]
        fn parse_never_panics_bytes(b in proptest::collection::vec(0u8.., 0..100)) {
            let s = String::from_utf8_lossy(&b);
            let _ = Address::parse(&s);
        }

        #[test]
        fn parse_never_panics_near_aleo(tail in "[qpzry9x8gf2tvdw0s3jn54khce6mua7l]{0,70}") {
            let _ = Address::parse(&format!("aleo1{tail}"));
        }
    }
}
